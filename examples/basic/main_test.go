package main

import (
	"fmt"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sealedgo/sealed"
	"github.com/sealedgo/sealed/examples/internal/demo"
	"github.com/sealedgo/sealed/examples/internal/testkeys"
)

// browser is one client with its own cookie jar.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
	jar  *cookiejar.Jar
}

func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, base: base, c: &http.Client{Jar: jar}, jar: jar}
}

func (b *browser) do(req *http.Request) (int, string) {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

func (b *browser) get(path string) string {
	b.t.Helper()
	req, _ := http.NewRequest("GET", b.base+path, nil)
	code, body := b.do(req)
	if code != http.StatusOK {
		b.t.Fatalf("GET %s: %d %s", path, code, body)
	}
	return body
}

func (b *browser) post(path string, form url.Values, header http.Header) (int, string) {
	b.t.Helper()
	req, _ := http.NewRequest("POST", b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header[k] = v
	}
	return b.do(req) // redirects are followed: the body is the home page
}

var (
	visitsRe = regexp.MustCompile(`<span id="visits">(\d+)</span>`)
	userRe   = regexp.MustCompile(`<span id="user">([^<]*)</span>`)
	flashRe  = regexp.MustCompile(`<p class="flash"><strong>([^<]*)</strong></p>`)
)

// flashes returns the flash messages the page shows (not those in its
// view of the cookies), unescaped.
func flashes(body string) []string {
	var out []string
	for _, m := range flashRe.FindAllStringSubmatch(body, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}

func visits(t *testing.T, body string) string {
	t.Helper()
	m := visitsRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no visit counter in page:\n%s", body)
	}
	return m[1]
}

func user(body string) string {
	if m := userRe.FindStringSubmatch(body); m != nil {
		return m[1]
	}
	return ""
}

// startServer serves the demo over plain http, with the cookie settings
// for it (-cookies insecure).
func startServer(t *testing.T) string {
	t.Helper()
	_, base := startApp(t, config{})
	return base
}

// startApp serves the demo configured by cfg over plain http (Insecure is
// set, and a Logger that discards when none is given) and returns it, for
// its Manager, and its URL.
func startApp(t *testing.T, cfg config) (*app, string) {
	t.Helper()
	cfg.Insecure = true
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	a, err := newServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	return a, srv.URL
}

func TestDemo(t *testing.T) {
	base := startServer(t)
	b := newBrowser(t, base)

	if v := visits(t, b.get("/")); v != "1" {
		t.Fatalf("first visit: counter %s, want 1", v)
	}
	if v := visits(t, b.get("/")); v != "2" {
		t.Fatalf("second visit: counter %s, want 2", v)
	}

	code, body := b.post("/login", url.Values{"name": {"alice"}}, nil)
	if code != http.StatusOK {
		t.Fatalf("login: %d %s", code, body)
	}
	if u := user(body); u != "alice" {
		t.Fatalf("after login: user %q, want alice", u)
	}
	if f := flashes(body); !slices.Equal(f, []string{"welcome, alice"}) {
		t.Fatalf("after login: flashes %q, want the welcome:\n%s", f, body)
	}
	if v := visits(t, body); v != "3" {
		t.Fatalf("after login: counter %s, want 3 (state survives CycleID)", v)
	}
	// A flash is shown once.
	body = b.get("/")
	if f := flashes(body); len(f) != 0 || strings.Contains(body, "welcome, alice") {
		t.Fatalf("the welcome flash was shown twice (flashes %q)", f)
	}
	if u := user(body); u != "alice" {
		t.Fatalf("still logged in: user %q, want alice", u)
	}

	// Keep a copy of the logged-in cookie, as an attacker might.
	u, _ := url.Parse(base)
	stolen := b.jar.Cookies(u)
	if len(stolen) == 0 {
		t.Fatal("no session cookie in the jar")
	}

	code, body = b.post("/logout", nil, nil)
	if code != http.StatusOK {
		t.Fatalf("logout: %d %s", code, body)
	}
	if f := flashes(body); !slices.Equal(f, []string{"logged out"}) {
		t.Fatalf("after logout: flashes %q, want logged out:\n%s", f, body)
	}
	if u := user(body); u != "" {
		t.Fatalf("after logout: user %q, want none", u)
	}
	if v := visits(t, body); v != "1" {
		t.Fatalf("after logout: counter %s, want 1 (a new session)", v)
	}

	// Replaying the pre-logout cookie gets a fresh session: the in-memory
	// revocation list refuses its ID.
	replay := newBrowser(t, base)
	replay.jar.SetCookies(u, stolen)
	body = replay.get("/")
	if got := user(body); got != "" {
		t.Fatalf("replayed pre-logout cookie is still logged in as %q", got)
	}
	if v := visits(t, body); v != "1" {
		t.Fatalf("replayed pre-logout cookie: counter %s, want 1 (fresh session)", v)
	}
}

func TestLoginCyclesID(t *testing.T) {
	base := startServer(t)
	u, _ := url.Parse(base)
	b := newBrowser(t, base)
	b.get("/")
	before := b.jar.Cookies(u)
	b.post("/login", url.Values{"name": {"bob"}}, nil)

	// The anonymous cookie from before login no longer opens: its ID was
	// replaced and revoked.
	old := newBrowser(t, base)
	old.jar.SetCookies(u, before)
	if v := visits(t, old.get("/")); v != "1" {
		t.Fatalf("pre-login cookie: counter %s, want 1 (fresh session)", v)
	}
}

func TestLogoutEverywhere(t *testing.T) {
	base := startServer(t)
	laptop, phone := newBrowser(t, base), newBrowser(t, base)
	for _, d := range []*browser{laptop, phone} {
		if code, body := d.post("/login", url.Values{"name": {"carol"}}, nil); code != 200 || user(body) != "carol" {
			t.Fatalf("login: %d %s", code, body)
		}
	}
	// RevokeSubject ends the sessions created in an earlier millisecond
	// than the call: let the clock move past the logins.
	time.Sleep(2 * time.Millisecond)
	code, body := laptop.post("/logout-everywhere", nil, nil)
	if f := flashes(body); code != http.StatusOK || !slices.Equal(f, []string{"logged out everywhere"}) {
		t.Fatalf("logout-everywhere: %d, flashes %q:\n%s", code, f, body)
	}
	body = phone.get("/")
	if u := user(body); u != "" {
		t.Fatalf("the other device is still logged in as %q", u)
	}
	// Its page says why: the cookie it sent still opens, as carol's
	// session, but the revocation list refuses it.
	sent := panelOf(t, body, "sent")
	if st := status(sent); !strings.HasPrefix(st, "Revoked:") {
		t.Fatalf("the other device's page says %q, want Revoked", st)
	}
	if s, h := dd(sent, "subject"), dd(panelOf(t, body, "held"), "subject"); s != "carol" || h != "none (anonymous)" {
		t.Fatalf("the other device's page: subject %q sent, %q held; want carol, none", s, h)
	}
	if u := user(laptop.get("/")); u != "" {
		t.Fatalf("this device is still logged in as %q", u)
	}
}

func TestCrossOriginPOSTRefused(t *testing.T) {
	base := startServer(t)
	b := newBrowser(t, base)
	code, _ := b.post("/login", url.Values{"name": {"mallory"}}, http.Header{"Sec-Fetch-Site": {"cross-site"}})
	if code != http.StatusForbidden {
		t.Fatalf("cross-site POST: %d, want 403", code)
	}
	code, _ = b.post("/login", url.Values{"name": {"mallory"}}, http.Header{"Origin": {"https://evil.example"}})
	if code != http.StatusForbidden {
		t.Fatalf("POST with a foreign Origin: %d, want 403", code)
	}
	// A same-origin form post, as a browser sends it, is let through.
	code, body := b.post("/login", url.Values{"name": {"dave"}}, http.Header{"Sec-Fetch-Site": {"same-origin"}})
	if code != http.StatusOK || user(body) != "dave" {
		t.Fatalf("same-origin POST: %d %s", code, body)
	}
}

func TestBadLogin(t *testing.T) {
	base := startServer(t)
	b := newBrowser(t, base)
	for _, name := range []string{"", "   ", strings.Repeat("x", demo.MaxNameLen+1)} {
		if code, _ := b.post("/login", url.Values{"name": {name}}, nil); code != http.StatusBadRequest {
			t.Errorf("login %q: %d, want 400", name, code)
		}
	}
}

func TestParseConfig(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	cfg, err := parseConfig(nil, env(nil), nil)
	if err != nil || cfg.Addr != "127.0.0.1:8080" || cfg.Keys != nil || !cfg.Insecure {
		t.Fatalf("defaults: %+v, %v", cfg, err)
	}
	cfg, err = parseConfig(nil, env(map[string]string{"PORT": "9000"}), nil)
	if err != nil || cfg.Addr != "127.0.0.1:9000" {
		t.Fatalf("PORT: %+v, %v", cfg, err)
	}
	cfg, err = parseConfig([]string{"-addr", ":7000"}, env(map[string]string{"PORT": "9000"}), nil)
	if err != nil || cfg.Addr != ":7000" || cfg.Insecure {
		t.Fatalf("-addr :7000 (every interface): %+v, %v; want the secure cookies", cfg, err)
	}
	key := sealed.GenerateKey("k1")
	cfg, err = parseConfig(nil, env(map[string]string{keysEnv: string(testkeys.JWKSet(t, key))}), nil)
	if err != nil || cfg.Keys == nil {
		t.Fatalf("%s: %+v, %v", keysEnv, cfg, err)
	}
	// The keys in force are the ones given: a session sealed under key
	// opens under cfg.Keys.
	if !testkeys.Opens(t, testkeys.Ring(t, key), cfg.Keys) {
		t.Fatalf("%s: a session sealed under the configured key does not open", keysEnv)
	}
	if _, err := parseConfig(nil, env(map[string]string{keysEnv: "{}"}), nil); err == nil {
		t.Fatalf("%s={}: no error", keysEnv)
	}
}

func TestParseConfigCookies(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		env      string
		insecure bool
	}{
		{nil, "", true},
		{[]string{"-cookies", "secure"}, "", false},
		{nil, "secure", false},
		{[]string{"-cookies", "insecure"}, "secure", true},
		{[]string{"-addr", "[::1]:0"}, "", true},
		{[]string{"-addr", "0.0.0.0:0"}, "", false},
		{[]string{"-addr", "0.0.0.0:0", "-cookies", "insecure"}, "", true},
		{[]string{"-addr", "0.0.0.0:0"}, "insecure", true},
	} {
		cfg, err := parseConfig(tc.args, func(k string) string {
			if k == "SEALED_COOKIES" {
				return tc.env
			}
			return ""
		}, nil)
		if err != nil || cfg.Insecure != tc.insecure {
			t.Errorf("%q SEALED_COOKIES=%q: Insecure %v, %v; want %v", tc.args, tc.env, cfg.Insecure, err, tc.insecure)
		}
	}
	if _, err := parseConfig([]string{"-cookies", "maybe"}, func(string) string { return "" }, nil); err == nil {
		t.Error("-cookies maybe: no error")
	}
	if _, err := parseConfig(nil, func(k string) string { return map[string]string{"SEALED_COOKIES": "yes"}[k] }, nil); err == nil {
		t.Error("SEALED_COOKIES=yes: no error")
	}
}

// With the production settings the demo sets "__Host-session" with
// Secure, which a client keeps and sends over https: the session works
// behind TLS.
func TestSecureCookies(t *testing.T) {
	h, err := newServer(config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	b := newBrowser(t, srv.URL)
	b.c.Transport = srv.Client().Transport
	resp, err := b.c.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	lines := resp.Header.Values("Set-Cookie")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "__Host-session=") || !strings.Contains(lines[0], "; Secure") {
		// Names and flags only: cookie values stay out of the logs.
		var got []string
		for _, c := range resp.Cookies() {
			got = append(got, fmt.Sprintf("%s (Secure %v)", c.Name, c.Secure))
		}
		t.Fatalf("Set-Cookie: %d lines %q, want one __Host-session line with Secure", len(lines), got)
	}
	if v := visits(t, b.get("/")); v != "2" {
		t.Fatalf("second visit over https: counter %s, want 2", v)
	}
}

func TestBaseURL(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1:8080": "http://127.0.0.1:8080",
		"[::]:8080":      "http://localhost:8080",
		"0.0.0.0:80":     "http://localhost:80",
	} {
		a, err := net.ResolveTCPAddr("tcp", in)
		if err != nil {
			t.Fatal(err)
		}
		if got := baseURL(a); got != want {
			t.Errorf("baseURL(%s) = %s, want %s", in, got, want)
		}
	}
}

// The load test's routes: /whoami reads the session and writes none;
// /bare, its baseline, answers as /whoami does without a session, whatever
// the request's cookies; /healthz answers "ok".
func TestLoadTestRoutes(t *testing.T) {
	base := startServer(t)
	b := newBrowser(t, base)
	check := func(path, want string) {
		t.Helper()
		resp, err := b.c.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != want {
			t.Fatalf("GET %s: %d %q, want %q", path, resp.StatusCode, body, want)
		}
		if n := len(resp.Header.Values("Set-Cookie")); n != 0 {
			t.Fatalf("GET %s set %d cookies, want none", path, n)
		}
		if path != "/healthz" {
			if ct := resp.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
				t.Fatalf("GET %s: Content-Type %q", path, ct)
			}
		}
	}
	check("/healthz", "ok\n")
	check("/whoami", "anonymous\n")
	check("/bare", "anonymous\n")
	b.post("/login", url.Values{"name": {"ivy"}}, nil)
	check("/whoami", "ivy\n")
	check("/bare", "anonymous\n")

	// /bare sits behind the cross-origin protection, as /whoami does.
	code, _ := b.post("/bare", nil, http.Header{"Sec-Fetch-Site": {"cross-site"}})
	if code != http.StatusForbidden {
		t.Fatalf("cross-site POST /bare: %d, want 403", code)
	}
}

// BenchmarkLoadTestRoutes serves the load test's requests (bench/load.sh)
// in process, without the network: /bare and /whoami with the same
// logged-in Cookie header, and /healthz without it. The difference
// between /whoami and /bare is what reading the session costs, which the
// load test measures with wrk.
func BenchmarkLoadTestRoutes(b *testing.B) {
	h, err := newServer(config{Insecure: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	login := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader("name=loadtest"))
	login.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, login)
	var pairs []string
	for _, c := range rec.Result().Cookies() {
		pairs = append(pairs, c.Name+"="+c.Value)
	}
	if len(pairs) == 0 {
		b.Fatalf("login set no cookie: %d", rec.Code)
	}
	cookie := strings.Join(pairs, "; ")
	for _, tc := range []struct{ path, cookie, want string }{
		{"/healthz", "", "ok\n"},
		{"/bare", cookie, "anonymous\n"},
		{"/whoami", cookie, "loadtest\n"},
	} {
		b.Run(strings.TrimPrefix(tc.path, "/"), func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, tc.path, nil)
			if tc.cookie != "" {
				req.Header.Set("Cookie", tc.cookie)
			}
			serve := func() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK || rec.Body.String() != tc.want {
					b.Fatalf("GET %s: %d %q", tc.path, rec.Code, rec.Body.String())
				}
			}
			serve()
			b.ReportAllocs()
			for b.Loop() {
				serve()
			}
		})
	}
}
