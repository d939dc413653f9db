package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealedgo/sealed"
)

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	h, err := newServer(true, reg, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	c := &http.Client{Jar: jar}
	get := func(path, cookie string) string {
		req, err := http.NewRequest("GET", srv.URL+path, nil)
		require.NoError(t, err)
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		resp, err := c.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return string(b)
	}
	assert.Equal(t, "visit 1; see /metrics\n", get("/", ""))
	assert.Equal(t, "visit 2; see /metrics\n", get("/", ""))
	c.Jar = nil
	get("/", "session=forged")

	body := get("/metrics", "")
	for _, want := range []string{
		`sealed_session_loads_total{outcome="new",reason=""} 1`,
		`sealed_session_loads_total{outcome="opened",reason=""} 1`,
		`sealed_session_loads_total{outcome="rejected",reason="cookie"} 1`,
		`sealed_session_saves_total{outcome="written"} 3`,
		`sealed_session_cookie_bytes_count 3`,
		`sealed_revocation_call_seconds_count{method="Revoked",outcome="ok"} 1`,
	} {
		assert.Contains(t, body, want)
	}
	assert.NotContains(t, body, "sealed_session_old_key_loads_total{", "one key: nothing opened under an old one")
	n, err := testutil.GatherAndCount(reg, "sealed_session_loads_total")
	require.NoError(t, err)
	assert.Equal(t, 3, n, "three label sets")
	assert.False(t, strings.Contains(body, "forged"), "no cookie value in the metrics")
}

// What the rotation runbook watches: opens under a non-primary key, by key.
func TestOldKeyCounter(t *testing.T) {
	reg := prometheus.NewRegistry()
	obs := observer(reg)
	obs(t.Context(), sealed.Event{Op: "load", Outcome: "opened", KeyID: "2026-10", OldKey: true})
	obs(t.Context(), sealed.Event{Op: "load", Outcome: "opened", KeyID: "2026-11"})
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP sealed_session_old_key_loads_total Sessions opened under a key that is not the primary.
# TYPE sealed_session_old_key_loads_total counter
sealed_session_old_key_loads_total{key_id="2026-10"} 1
`), "sealed_session_old_key_loads_total"))
}
