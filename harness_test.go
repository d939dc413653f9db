package sealed_test

// The end-to-end harness the external tests share: a Manager's middleware
// behind a front end that rejects what nginx rejects, on an httptest
// server, and clients that keep cookies as a strict browser behind a
// Google Front End would.

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealedgo/sealed"
)

const (
	// lineLimit is both Chromium's limit on name+value and the Google
	// Front End's limit on a whole Set-Cookie line.
	lineLimit = 4096
	// nginxCookie is the longest Cookie request header line nginx's
	// default configuration lets through.
	nginxCookie = 8190
)

// newManager is a Manager for keys (fresh ones when nil) whose cookies
// work over plain http, as the test servers speak it.
func newManager(t testing.TB, keys sealed.KeySource, opts sealed.Options) *sealed.Manager {
	t.Helper()
	opts.AllowInsecure = true
	return sealed.NewTestManager(t, keys, &opts)
}

// site is one Manager's middleware around a handler, served.
type site struct {
	m     *sealed.Manager
	srv   *httptest.Server
	front *front
	name  string // the session cookie's name
}

// serve serves h behind m.Middleware on plain http. m must have
// AllowInsecure and the default cookie name, "session".
func serve(t *testing.T, m *sealed.Manager, h http.Handler) *site {
	t.Helper()
	s := &site{m: m, front: &front{next: m.Middleware(h)}, name: "session"}
	s.srv = httptest.NewServer(s.front)
	t.Cleanup(s.srv.Close)
	return s
}

// serveTLS is serve over https, for a Manager with the default cookie
// attributes: the cookie is "__Host-session".
func serveTLS(t *testing.T, m *sealed.Manager, h http.Handler) *site {
	t.Helper()
	s := &site{m: m, front: &front{next: m.Middleware(h)}, name: "__Host-session"}
	s.srv = httptest.NewTLSServer(s.front)
	t.Cleanup(s.srv.Close)
	return s
}

// front stands for nginx with its default configuration in front of the
// application: a Cookie header over 8190 bytes is answered with 400.
type front struct {
	next      http.Handler
	maxCookie atomic.Int64 // longest Cookie header seen
	rejected  atomic.Int64
}

func (f *front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := int64(len(strings.Join(r.Header["Cookie"], "; ")))
	for {
		old := f.maxCookie.Load()
		if n <= old || f.maxCookie.CompareAndSwap(old, n) {
			break
		}
	}
	if n > nginxCookie {
		f.rejected.Add(1)
		http.Error(w, "400 Bad Request: Request Header Or Cookie Too Large", http.StatusBadRequest)
		return
	}
	f.next.ServeHTTP(w, r)
}

// strictTransport is what a strict browser behind a Google Front End gets
// to see of each response's Set-Cookie lines. Like the GFE it drops every
// Set-Cookie of a response when one line is over 4096 bytes; like Chromium
// it drops a cookie whose name and value are over 4096 bytes. It records
// every line as sent by the server, and what it dropped.
type strictTransport struct {
	next http.RoundTripper

	mu      sync.Mutex
	seen    []string
	dropped []string
}

func (tr *strictTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := tr.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	lines := resp.Header["Set-Cookie"]
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.seen = append(tr.seen, lines...)
	gfeDropsAll := slices.ContainsFunc(lines, func(l string) bool { return len(l) > lineLimit })
	var kept []string
	for _, l := range lines {
		nv, _, _ := strings.Cut(l, ";")
		if gfeDropsAll || len(strings.TrimSpace(nv)) > lineLimit {
			tr.dropped = append(tr.dropped, l)
			continue
		}
		kept = append(kept, l)
	}
	if kept == nil {
		resp.Header.Del("Set-Cookie")
	} else {
		resp.Header["Set-Cookie"] = kept
	}
	return resp, nil
}

// client is a browser: a cookie jar (none for a replayed copy) behind
// strictTransport. It does not follow redirects. Use it from one
// goroutine; set t to a subtest's while it runs there.
type client struct {
	t    *testing.T
	site *site
	base *url.URL
	jar  http.CookieJar
	tr   *strictTransport
	c    *http.Client
}

// client returns a browser with an empty jar, whose every session line is
// checked once more when the test ends.
func (s *site) client(t *testing.T) *client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	c := s.newClient(t, jar)
	t.Cleanup(func() {
		c.tr.mu.Lock()
		defer c.tr.mu.Unlock()
		c.checkLines(c.tr.seen, c.tr.dropped)
	})
	return c
}

func (s *site) newClient(t *testing.T, jar http.CookieJar) *client {
	base, err := url.Parse(s.srv.URL)
	require.NoError(t, err)
	tr := &strictTransport{next: s.srv.Client().Transport}
	return &client{t: t, site: s, base: base, jar: jar, tr: tr, c: &http.Client{
		Transport:     tr,
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// send sends one request with the given Cookie header (none if empty) from
// a client without a jar: a copy of cookies someone kept, or forged ones.
func (s *site) send(t *testing.T, method, path, cookie, body string) (*http.Response, string) {
	t.Helper()
	return s.newClient(t, nil).request(method, path, cookie, body)
}

// replay sends GET path with exactly the cookies given, from a client
// without a jar: what an attacker who kept a copy of them can do.
func (s *site) replay(t *testing.T, path string, cookies []*http.Cookie) (*http.Response, string) {
	t.Helper()
	require.NotEmpty(t, cookies, "nothing to replay")
	return s.send(t, http.MethodGet, path, cookieHeader(cookies), "")
}

// do sends a request with the jar's cookies and returns the response with
// its body read. It checks the response's Set-Cookie lines on the way.
func (c *client) do(method, path, body string) (*http.Response, string) {
	c.t.Helper()
	return c.request(method, path, "", body)
}

// get is do for a GET without a body.
func (c *client) get(path string) (*http.Response, string) {
	c.t.Helper()
	return c.request(http.MethodGet, path, "", "")
}

func (c *client) request(method, path, cookie, body string) (*http.Response, string) {
	c.t.Helper()
	c.tr.mu.Lock()
	n0, d0 := len(c.tr.seen), len(c.tr.dropped)
	c.tr.mu.Unlock()
	req, err := http.NewRequestWithContext(c.t.Context(), method, c.base.String()+path, strings.NewReader(body))
	require.NoError(c.t, err)
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	resp, err := c.c.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	c.tr.mu.Lock()
	seen, dropped := slices.Clone(c.tr.seen[n0:]), slices.Clone(c.tr.dropped[d0:])
	c.tr.mu.Unlock()
	c.checkLines(seen, dropped)
	return resp, string(data)
}

// checkLines fails the test if sealed produced a line a strict browser or
// a GFE would drop, or one net/http considers invalid.
func (c *client) checkLines(seen, dropped []string) {
	c.t.Helper()
	for _, l := range dropped {
		if c.site.isSession(l) {
			c.t.Errorf("the browser dropped a session cookie (%d-byte line): %.120s...", len(l), l)
		}
	}
	for _, l := range seen {
		if !c.site.isSession(l) {
			continue
		}
		if len(l) > lineLimit {
			c.t.Errorf("a GFE would drop every cookie of the response: %d-byte Set-Cookie line", len(l))
		}
		k, err := http.ParseSetCookie(l)
		if assert.NoError(c.t, err, "%.120s", l) {
			assert.NoError(c.t, k.Valid(), "%.120s", l)
		}
	}
}

// cookies returns a copy of what the browser holds for the site: what an
// attacker (or a backup, or a second device) could have kept.
func (c *client) cookies() []*http.Cookie { return c.jar.Cookies(c.base) }

// header is the Cookie header the browser would send.
func (c *client) header() string { return cookieHeader(c.cookies()) }

// session returns the session chunks the browser holds, name to value.
func (c *client) session() map[string]string {
	out := map[string]string{}
	for _, k := range c.cookies() {
		if chunk(c.site.name, k.Name) >= 0 {
			out[k.Name] = k.Value
		}
	}
	return out
}

// isSession reports whether a Set-Cookie line or cookie name is one of the
// session's chunks.
func (s *site) isSession(line string) bool {
	nv, _, _ := strings.Cut(line, ";")
	name, _, _ := strings.Cut(nv, "=")
	return chunk(s.name, strings.TrimSpace(name)) >= 0
}

// live returns the session cookies a response sets, name to value.
func (s *site) live(resp *http.Response) map[string]string {
	out := map[string]string{}
	for _, k := range resp.Cookies() {
		if chunk(s.name, k.Name) >= 0 && k.MaxAge >= 0 {
			out[k.Name] = k.Value
		}
	}
	return out
}

// expired returns the session cookies a response expires, sorted.
func (s *site) expired(resp *http.Response) []string {
	var out []string
	for _, l := range resp.Header.Values("Set-Cookie") {
		k, err := http.ParseSetCookie(l)
		if err == nil && chunk(s.name, k.Name) >= 0 && k.MaxAge < 0 && strings.Contains(l, "; Max-Age=0") {
			out = append(out, k.Name)
		}
	}
	slices.Sort(out)
	return out
}

// chunk returns which chunk of the session cookie name a cookie called
// cname is: 0 for name itself, i for name.i; -1 for none.
func chunk(name, cname string) int {
	if cname == name {
		return 0
	}
	rest, ok := strings.CutPrefix(cname, name+".")
	i, err := strconv.Atoi(rest)
	if !ok || err != nil || i < 1 || strconv.Itoa(i) != rest {
		return -1
	}
	return i
}

// cookieHeader joins cookies into a Cookie header.
func cookieHeader(cookies []*http.Cookie) string {
	parts := make([]string, len(cookies))
	for i, k := range cookies {
		parts[i] = k.Name + "=" + k.Value
	}
	return strings.Join(parts, "; ")
}

// names returns the cookies' names, sorted.
func names(cookies []*http.Cookie) []string {
	out := make([]string, len(cookies))
	for i, k := range cookies {
		out[i] = k.Name
	}
	slices.Sort(out)
	return out
}

// cookiePairs turns Set-Cookie lines into what a browser sends back: the
// "name=value" pairs of the cookies not being expired.
func cookiePairs(lines []string) []string {
	var out []string
	for _, l := range lines {
		pair, attrs, _ := strings.Cut(l, ";")
		if !strings.Contains(attrs, "Max-Age=0") {
			out = append(out, pair)
		}
	}
	return out
}

var errDown = errors.New("backend down")

// faultyList is an in-memory revocation list behind a backend that can go
// down (every call fails at once) or stall (every call returns only when
// its context is done, as an unreachable network backend does).
type faultyList struct {
	sealed.RevocationList
	down, stalled atomic.Bool
}

func newFaultyList() *faultyList {
	return &faultyList{RevocationList: sealed.NewMemoryRevocationList()}
}

func (l *faultyList) fault(ctx context.Context) error {
	switch {
	case l.down.Load():
		return errDown
	case l.stalled.Load():
		if _, ok := ctx.Deadline(); !ok {
			return errors.New("called without a deadline")
		}
		<-ctx.Done()
		return ctx.Err()
	}
	return nil
}

func (l *faultyList) Revoke(ctx context.Context, id string, ttl time.Duration) error {
	if err := l.fault(ctx); err != nil {
		return err
	}
	return l.RevocationList.Revoke(ctx, id, ttl)
}

func (l *faultyList) RevokeSubject(ctx context.Context, subject string, before time.Time, ttl time.Duration) error {
	if err := l.fault(ctx); err != nil {
		return err
	}
	return l.RevocationList.RevokeSubject(ctx, subject, before, ttl)
}

func (l *faultyList) Revoked(ctx context.Context, id, subject string, created time.Time) (bool, error) {
	if err := l.fault(ctx); err != nil {
		return false, err
	}
	return l.RevocationList.Revoked(ctx, id, subject, created)
}

// The harness itself: the strict browser drops what Chromium and a GFE
// would drop, and the front end answers 400 like nginx.
func TestHarness(t *testing.T) {
	long := strings.Repeat("x", 4100)
	srv := httptest.NewServer(&front{next: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/long-value":
			w.Header().Add("Set-Cookie", "a="+long)
		case "/long-line":
			w.Header().Add("Set-Cookie", "a=1")
			w.Header().Add("Set-Cookie", "b=2; Path=/"+long)
		case "/ok":
			w.Header().Add("Set-Cookie", "c=3; Path=/")
		}
	})})
	defer srv.Close()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	tr := &strictTransport{next: srv.Client().Transport}
	c := &http.Client{Transport: tr, Jar: jar}
	for _, path := range []string{"/long-value", "/long-line", "/ok"} {
		resp, err := c.Get(srv.URL + path)
		require.NoError(t, err)
		resp.Body.Close()
	}
	base, _ := url.Parse(srv.URL)
	cs := jar.Cookies(base)
	require.Len(t, cs, 1)
	assert.Equal(t, "c", cs[0].Name)
	assert.Len(t, tr.dropped, 3)
	assert.Len(t, tr.seen, 4)

	req, err := http.NewRequest("GET", srv.URL+"/", nil)
	require.NoError(t, err)
	req.Header.Add("Cookie", "a="+strings.Repeat("y", 4000))
	req.Header.Add("Cookie", "b="+strings.Repeat("y", 4185)) // 4002+2+4187 = 8191 bytes joined
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)

	for name, want := range map[string]int{"s": 0, "s.1": 1, "s.31": 31, "s.01": -1, "s.0": -1, "s.": -1, "s.x": -1, "t": -1, "s.-1": -1, "ss": -1} {
		assert.Equal(t, want, chunk("s", name), name)
	}
}
