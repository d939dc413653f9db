package proxytest_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealedgo/sealed/frontends/proxytest"
)

// Each starter brings up its server in front of an upstream, which answers
// through it; the server is gone when the test ends.
func TestStarters(t *testing.T) {
	t.Parallel()
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Upstream", "yes")
		io.WriteString(w, "hello from upstream "+r.URL.Path)
	}))
	t.Cleanup(upstream.Close)

	for _, tc := range []struct {
		name  string
		start func(testing.TB, string, string) *proxytest.Proxy
		https bool
	}{
		{"nginx", proxytest.Nginx, false},
		{"nginx-tls", proxytest.NginxTLS, true},
		{"apache", proxytest.Apache, false},
		{"haproxy", proxytest.HAProxy, false},
		{"caddy", proxytest.Caddy, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := tc.start(t, upstream.URL, "")
			assert.Equal(t, tc.name, p.Name)
			assert.Equal(t, tc.https, strings.HasPrefix(p.URL, "https://127.0.0.1:"), p.URL)
			assert.Equal(t, tc.https, p.Certificate != nil)
			resp, err := p.Client().Get(p.URL + "/some/path")
			require.NoError(t, err)
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, "yes", resp.Header.Get("X-Upstream"))
			assert.Equal(t, "hello from upstream /some/path", string(body))
		})
	}
}

// Directives reach the configuration: an nginx told to answer by itself
// never asks the upstream.
func TestNginxDirectives(t *testing.T) {
	t.Parallel()
	asked := make(chan struct{}, 1)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked <- struct{}{}
	}))
	t.Cleanup(upstream.Close)
	// A bad directive makes nginx refuse to start; a good one that limits
	// the request body to 1 byte makes it answer 413 itself.
	p := proxytest.Nginx(t, upstream.URL, "client_max_body_size 1;")
	resp, err := p.Client().Post(p.URL+"/", "text/plain", strings.NewReader("more than one byte"))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
	assert.Empty(t, asked)
	assert.Contains(t, p.ErrorLog(), "client intended to send too large body")
}
