package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sealedgo/sealed"
	"github.com/sealedgo/sealed/examples/internal/testkeys"
)

var oldKey, newKey = sealed.GenerateKey("old"), sealed.GenerateKey("new")

// writeKeys writes keys to path as a JWK Set and moves its modification
// time forward, so that a poll sees a change even on a file system with
// coarse timestamps.
func writeKeys(t *testing.T, path string, keys ...sealed.Key) {
	t.Helper()
	writeFile(t, path, testkeys.JWKSet(t, keys...))
}

// inForce returns the ids of the keys in force, found by sealing and
// opening sessions: first the one of newKey and oldKey that the ring seals
// with, then the other if the ring opens a session sealed under it. It
// checks that the server shows the same ids.
func inForce(t *testing.T, s *server) []string {
	t.Helper()
	ring := s.keys.Current()
	var ids []string
	for _, k := range []sealed.Key{newKey, oldKey} {
		only := testkeys.Ring(t, k)
		if testkeys.Opens(t, ring, only) {
			ids = append([]string{k.ID}, ids...)
		} else if testkeys.Opens(t, only, ring) {
			ids = append(ids, k.ID)
		}
	}
	if got := *s.ids.Load(); !slices.Equal(got, ids) {
		t.Errorf("the server shows keys %v, the ring in force is %v", got, ids)
	}
	return ids
}

var bump time.Time

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if bump.IsZero() {
		bump = time.Now()
	}
	bump = bump.Add(time.Second)
	if err := os.Chtimes(path, bump, bump); err != nil {
		t.Fatal(err)
	}
}

// get serves one request with the given cookies and returns the body and
// the cookies the response sets.
func get(t *testing.T, s *server, path string, cookies []*http.Cookie) (string, []*http.Cookie) {
	t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	resp := rec.Result()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	return string(body), resp.Cookies()
}

func newTestServer(t *testing.T, keys ...sealed.Key) (*server, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keys.json")
	writeKeys(t, path, keys...)
	s, err := newServer(config{KeysFile: path, Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	return s, path
}

func TestRotationLogsNobodyOut(t *testing.T) {
	s, path := newTestServer(t, oldKey)

	body, sealedOld := get(t, s, "/", nil)
	if !strings.Contains(body, "visits: 1") || len(sealedOld) == 0 {
		t.Fatalf("first visit: %q, %d cookies", body, len(sealedOld))
	}

	// Promote: the new key first, the old one kept.
	writeKeys(t, path, newKey, oldKey)
	if err := s.reload(); err != nil {
		t.Fatal(err)
	}
	body, resealed := get(t, s, "/peek", sealedOld)
	if !strings.Contains(body, "visits: 1") || !strings.Contains(body, "new session: false") {
		t.Fatalf("old cookie after promotion: %q, want the session", body)
	}
	if len(resealed) == 0 {
		t.Fatal("old cookie after promotion: a read-only request did not re-seal it under the new primary")
	}

	// Retire: only the new key left. The re-sealed cookie opens.
	writeKeys(t, path, newKey)
	if err := s.reload(); err != nil {
		t.Fatal(err)
	}
	body, set := get(t, s, "/peek", resealed)
	if !strings.Contains(body, "visits: 1") || !strings.Contains(body, "new session: false") {
		t.Fatalf("re-sealed cookie after retiring the old key: %q", body)
	}
	if len(set) != 0 {
		t.Fatalf("re-sealed cookie: a read-only request set %d cookies, want none", len(set))
	}
	// A cookie that was never re-sealed is now gone: why step 3 waits for
	// the AbsoluteTimeout.
	body, _ = get(t, s, "/peek", sealedOld)
	if !strings.Contains(body, "new session: true") {
		t.Fatalf("cookie sealed only under the retired key: %q, want a new session", body)
	}
}

func TestFailedReloadKeepsKeys(t *testing.T) {
	s, path := newTestServer(t, oldKey)
	_, c := get(t, s, "/", nil)

	for name, data := range map[string]string{
		"truncated":   `{"keys":[{"kty":"oct","kid":"x",`,
		"empty set":   `{"keys":[]}`,
		"short key":   `{"keys":[{"kty":"oct","kid":"x","k":"AAEC"}]}`,
		"not a JWK":   `hello`,
		"zero length": ``,
	} {
		writeFile(t, path, []byte(data))
		if err := s.reload(); err == nil {
			t.Errorf("%s: reload succeeded", name)
		}
		if ids := inForce(t, s); len(ids) != 1 || ids[0] != "old" {
			t.Errorf("%s: keys in force %v, want [old]", name, ids)
		}
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := s.reload(); err == nil {
		t.Error("missing file: reload succeeded")
	}
	body, _ := get(t, s, "/peek", c)
	if !strings.Contains(body, "visits: 1") {
		t.Fatalf("after failed reloads: %q, want the session", body)
	}
}

func TestPollReloadsOnChange(t *testing.T) {
	s, path := newTestServer(t, oldKey)
	if s.poll() {
		t.Fatal("poll reloaded an unchanged file")
	}
	writeKeys(t, path, newKey, oldKey)
	if !s.poll() {
		t.Fatal("poll did not notice the changed file")
	}
	if ids := inForce(t, s); len(ids) != 2 || ids[0] != "new" {
		t.Fatalf("after poll: keys %v, want [new old]", ids)
	}
	if s.poll() {
		t.Fatal("poll reloaded the same file twice")
	}
	// A deleted file keeps the keys; its return is picked up.
	os.Remove(path)
	if s.poll() {
		t.Fatal("poll reloaded a missing file")
	}
	writeKeys(t, path, newKey)
	if !s.poll() {
		t.Fatal("poll did not notice the file coming back")
	}
	if ids := inForce(t, s); len(ids) != 1 || ids[0] != "new" {
		t.Fatalf("after the file came back: keys %v, want [new]", ids)
	}
}

func TestWatch(t *testing.T) {
	s, path := newTestServer(t, oldKey)
	ctx, cancel := context.WithCancel(context.Background())
	hup := make(chan os.Signal)
	tick := make(chan time.Time)
	done := make(chan struct{})
	go func() { s.watch(ctx, hup, tick); close(done) }()

	// SIGHUP reloads at once, without waiting for a tick.
	writeKeys(t, path, newKey, oldKey)
	hup <- os.Interrupt // the value does not matter
	tick <- time.Now()  // sent once watch is done with the signal
	if ids := inForce(t, s); ids[0] != "new" {
		t.Fatalf("after SIGHUP: keys %v, want new first", ids)
	}

	writeKeys(t, path, newKey)
	tick <- time.Now()
	hup <- os.Interrupt // a second send waits for the tick's reload
	if ids := inForce(t, s); len(ids) != 1 {
		t.Fatalf("after a tick: keys %v, want [new]", ids)
	}
	cancel()
	<-done
}

func TestMissingKeyFile(t *testing.T) {
	if _, err := newServer(config{KeysFile: filepath.Join(t.TempDir(), "none.json")}); err == nil {
		t.Fatal("newServer with a missing key file: no error")
	}
}
