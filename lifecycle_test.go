package sealed_test

// Tests of the session lifecycle as ordinary handler code meets it: each
// test reproduces one finding of the lifecycle issue (logout that shows a
// flash, an error handler that uses the session, calls after the response
// started, decrypted memory reaching user code, caching, configuration
// extremes, budgets, hijack and panic, purposes, revocation clocks) and
// asserts what must happen instead. Helpers are prefixed lc.

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealedgo/sealed"
)

func lcKeys(t testing.TB) *sealed.Keyring {
	t.Helper()
	k, err := sealed.NewKeyring(sealed.GenerateKey("k1"))
	require.NoError(t, err)
	return k
}

func lcManager(t testing.TB, keys *sealed.Keyring, opts sealed.Options) *sealed.Manager {
	t.Helper()
	opts.AllowInsecure = true // httptest servers speak plain http
	m, err := sealed.New(keys, &opts)
	require.NoError(t, err)
	return m
}

// lcClient is a browser: a cookie jar against one test server.
type lcClient struct {
	t   *testing.T
	c   *http.Client
	srv *httptest.Server
}

func lcServe(t *testing.T, m *sealed.Manager, h http.HandlerFunc) *lcClient {
	t.Helper()
	srv := httptest.NewServer(m.Middleware(h))
	t.Cleanup(srv.Close)
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &lcClient{t: t, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}, srv: srv}
}

// get requests path with the jar's cookies, or, when cookies is not nil,
// with exactly those (a copy an attacker kept) and without the jar.
func (c *lcClient) get(path string, cookies []*http.Cookie) (*http.Response, string) {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.srv.URL+path, nil)
	require.NoError(c.t, err)
	client := c.c
	if cookies != nil {
		client = &http.Client{}
		for _, k := range cookies {
			req.AddCookie(k)
		}
	}
	res, err := client.Do(req)
	require.NoError(c.t, err)
	body, err := io.ReadAll(res.Body)
	require.NoError(c.t, err)
	res.Body.Close()
	return res, string(body)
}

func (c *lcClient) cookies() []*http.Cookie {
	u, _ := url.Parse(c.srv.URL)
	return c.c.Jar.Cookies(u)
}

// lcLogger logs at debug level into l (lockedBuffer, revocation_test.go).
func lcLogger(l *lockedBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// lcApp is a small site: /login?u=NAME, /whoami, and /logout, whose
// steps (after the log-out itself) the test chooses.
func lcApp(t *testing.T, m *sealed.Manager, logout func(s *sealed.Session) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, err := m.Session(r)
		if err != nil {
			return
		}
		switch r.URL.Path {
		case "/login":
			if err := errors.Join(s.CycleID(), s.SetSubject(r.URL.Query().Get("u"))); err != nil {
				t.Errorf("login: %v", err)
			}
		case "/whoami":
			io.WriteString(w, s.Subject())
		case "/logout":
			if err := logout(s); err != nil {
				t.Errorf("logout: %v", err)
			}
		}
	}
}

// Item 1: a logout page that shows its "logged out" flash, or that does
// anything else after Invalidate, still logs out: the response expires or
// replaces the old cookie, and a copy of it no longer opens.
func TestLogoutIsNeverUndone(t *testing.T) {
	steps := map[string]func(s *sealed.Session) error{
		"Invalidate": func(s *sealed.Session) error { return s.Invalidate() },
		"Invalidate AddFlash Flashes": func(s *sealed.Session) error {
			if err := errors.Join(s.Invalidate(), s.AddFlash("You are logged out")); err != nil {
				return err
			}
			_, err := s.Flashes()
			return err
		},
		"Invalidate CycleID": func(s *sealed.Session) error { return errors.Join(s.Invalidate(), s.CycleID()) },
		"Invalidate Set RemoveRaw": func(s *sealed.Session) error {
			err := errors.Join(s.Invalidate(), s.Set("t", 1))
			_, _, rerr := s.RemoveRaw("t")
			return errors.Join(err, rerr)
		},
		"Invalidate AddFlash": func(s *sealed.Session) error {
			return errors.Join(s.Invalidate(), s.AddFlash("You are logged out"))
		},
		"Invalidate SetSubject(other)": func(s *sealed.Session) error {
			return errors.Join(s.Invalidate(), s.SetSubject("mallory"))
		},
	}
	for name, logout := range steps {
		t.Run(name, func(t *testing.T) {
			m := lcManager(t, lcKeys(t), sealed.Options{Revocation: sealed.NewMemoryRevocationList()})
			c := lcServe(t, m, lcApp(t, m, logout))
			c.get("/login?u=alice", nil)
			_, who := c.get("/whoami", nil)
			require.Equal(t, "alice", who)
			kept := c.cookies()

			res, _ := c.get("/logout", nil)
			assert.NotEmpty(t, res.Header.Values("Set-Cookie"), "the logout response must replace or expire the session cookie")
			_, who = c.get("/whoami", nil)
			assert.NotEqual(t, "alice", who, "the browser is logged out")
			_, who = c.get("/whoami", kept)
			assert.Empty(t, who, "a copy of the cookie from before the logout must not open")
		})
	}
}

// Item 2: an ErrorHandler that uses the session (to log its ID, say), or
// calls Commit, finishes: user code never runs under the library's lock.
func TestErrorHandlerMayUseTheSession(t *testing.T) {
	for _, trigger := range []string{"load unavailable", "save too large"} {
		t.Run(trigger, func(t *testing.T) {
			list := &lcDownList{MemoryRevocationList: sealed.NewMemoryRevocationList()}
			var m *sealed.Manager
			var seen atomic.Value // the handler's goroutine writes it
			m = lcManager(t, lcKeys(t), sealed.Options{
				Revocation: list,
				Budget:     sealed.Budget{MaxBytes: 256, MaxChunks: 1},
				Logger:     lcLogger(&lockedBuffer{}),
				ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
					s, _ := m.Session(r)
					if s != nil {
						_ = s.ID()
					}
					seen.Store(errors.Join(m.Commit(r)))
					http.Error(w, "sorry", http.StatusServiceUnavailable)
				},
			})
			c := lcServe(t, m, func(w http.ResponseWriter, r *http.Request) {
				s, err := m.Session(r)
				if err != nil {
					return
				}
				if r.URL.Path == "/big" {
					s.Set("big", strings.Repeat("x", 1000))
				} else {
					s.Set("n", 1)
				}
			})
			c.get("/", nil)
			path := "/big"
			if trigger == "load unavailable" {
				list.down = true
				path = "/"
			}
			done := make(chan *http.Response, 1)
			go func() { res, _ := c.get(path, nil); done <- res }()
			select {
			case res := <-done:
				assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
				err, _ := seen.Load().(error)
				assert.Error(t, err, "Commit inside the error handler returns the error it answers")
			case <-time.After(10 * time.Second):
				t.Fatal("the request hangs: the error handler was called under a lock")
			}
		})
	}
}

// lcDownList is an in-memory list whose lookups can fail.
type lcDownList struct {
	*sealed.MemoryRevocationList
	down bool
}

func (l *lcDownList) Revoked(ctx context.Context, id, subject string, created time.Time) (bool, error) {
	if l.down {
		return false, errors.New("backend down")
	}
	return l.MemoryRevocationList.Revoked(ctx, id, subject, created)
}

// Item 3: calls that cannot take effect because the response started say
// so; none is dropped silently.
func TestMutationsAfterResponseStartedReturnErrCommitted(t *testing.T) {
	calls := map[string]func(s *sealed.Session) error{
		"Set":        func(s *sealed.Session) error { return s.Set("k", 1) },
		"SetSubject": func(s *sealed.Session) error { return s.SetSubject("bob") },
		"Clear":      func(s *sealed.Session) error { return s.Clear() },
		"CycleID":    func(s *sealed.Session) error { return s.CycleID() },
		"Invalidate": func(s *sealed.Session) error { return s.Invalidate() },
		"AddFlash":   func(s *sealed.Session) error { return s.AddFlash("hi") },
		"Flashes":    func(s *sealed.Session) error { _, err := s.Flashes(); return err },
		"Remove":     func(s *sealed.Session) error { _, _, err := sealed.Remove[int](s, "n"); return err },
		"RemoveRaw":  func(s *sealed.Session) error { _, _, err := s.RemoveRaw("n"); return err },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			logs := &lockedBuffer{}
			m := lcManager(t, lcKeys(t), sealed.Options{Logger: lcLogger(logs)})
			got := make(chan error, 1)
			c := lcServe(t, m, func(w http.ResponseWriter, r *http.Request) {
				s, _ := m.Session(r)
				if r.URL.Path == "/setup" {
					s.SetSubject("alice")
					s.Set("n", 1)
					s.AddFlash("pending")
					return
				}
				http.Redirect(w, r, "/", http.StatusSeeOther) // the response starts
				got <- call(s)
			})
			c.get("/setup", nil)
			c.get("/", nil)
			assert.ErrorIs(t, <-got, sealed.ErrCommitted)
			assert.Contains(t, logs.String(), "level=ERROR")
		})
	}
}

// keeper is a value type whose UnmarshalCBOR keeps its input, as
// json.RawMessage does, and optionally calls back into the session.
type keeper struct {
	raw []byte
}

var keeperHook func()

func (k *keeper) UnmarshalCBOR(b []byte) error {
	k.raw = b
	if keeperHook != nil {
		keeperHook()
	}
	return nil
}

// Item 4: the bytes a user's Unmarshaler sees are its own: not the
// session's, not a pooled buffer's, and still intact after the request
// ended and others ran. A session kept past its request still reads.
func TestDecryptedBytesNeverReachUserCodeAliased(t *testing.T) {
	m := lcManager(t, lcKeys(t), sealed.Options{})
	var kept []*keeper
	var keptSessions []*sealed.Session
	var mu sync.Mutex
	h := func(w http.ResponseWriter, r *http.Request) {
		s, _ := m.Session(r)
		if v := r.URL.Query().Get("set"); v != "" {
			s.Set("secret", v)
			return
		}
		k, ok, err := sealed.Get[keeper](s, "secret")
		if !ok || err != nil {
			t.Errorf("Get: %v %v", ok, err)
			return
		}
		mu.Lock()
		kept = append(kept, &k)
		keptSessions = append(keptSessions, s)
		mu.Unlock()
	}
	c := lcServe(t, m, h)
	other := lcServe(t, m, h)

	c.get("/?set=alice-secret-0123456789", nil)
	c.get("/", nil)
	other.get("/?set=bob-secret-abcdefghijk", nil)
	for range 20 {
		other.get("/", nil) // other sessions' reads reuse whatever was pooled
	}
	want, err := cbor.Marshal("alice-secret-0123456789")
	require.NoError(t, err)
	mu.Lock() // the handlers are done; the lock orders their writes before these reads
	defer mu.Unlock()
	assert.Equal(t, want, kept[0].raw, "what an Unmarshaler kept must not change after its request")

	// Scribbling over what it kept does not change the session.
	for i := range kept[0].raw {
		kept[0].raw[i] = 'Z'
	}
	v, ok, err := sealed.Get[string](keptSessions[0], "secret")
	assert.True(t, ok)
	assert.NoError(t, err, "a session kept past its request still reads")
	assert.Equal(t, "alice-secret-0123456789", v)

	// An Unmarshaler may call the session it is decoded from.
	s := keptSessions[0]
	keeperHook = func() { s.Has("secret") }
	defer func() { keeperHook = nil }()
	done := make(chan struct{})
	go func() { sealed.Get[keeper](s, "secret"); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Get holds the session's lock while user code runs")
	}
}

// Item 5: a personalized page that only reads the session varies on
// Cookie, and the error handler's answer is never cacheable.
func TestCachingHeaders(t *testing.T) {
	m := lcManager(t, lcKeys(t), sealed.Options{Budget: sealed.Budget{MaxBytes: 256, MaxChunks: 1}, Logger: lcLogger(&lockedBuffer{})})
	c := lcServe(t, m, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/static" {
			io.WriteString(w, "no session here")
			return
		}
		s, _ := m.Session(r)
		switch r.URL.Path {
		case "/login":
			s.SetSubject("alice")
		case "/hello":
			w.Header().Set("Cache-Control", "public, max-age=3600")
			io.WriteString(w, "Hello, "+s.Subject())
		case "/big":
			s.Set("big", strings.Repeat("x", 1000))
			w.Header().Set("Cache-Control", "public, max-age=3600")
			io.WriteString(w, "cached?")
		}
	})
	c.get("/login", nil)
	res, body := c.get("/hello", nil)
	require.Equal(t, "Hello, alice", body)
	assert.Empty(t, res.Header.Values("Set-Cookie"), "a read-only request writes no cookie")
	assert.Contains(t, res.Header.Values("Vary"), "Cookie")

	res, _ = c.get("/static", nil)
	assert.NotContains(t, res.Header.Values("Vary"), "Cookie", "a handler that never loads the session does not vary on it")

	res, _ = c.get("/big", nil)
	assert.Equal(t, http.StatusInternalServerError, res.StatusCode)
	assert.Equal(t, []string{"no-store"}, res.Header.Values("Cache-Control"))
}

// Item 6: configuration extremes fail in New, naming the field; the
// extremes that are allowed work.
func TestConfigurationExtremes(t *testing.T) {
	keys := lcKeys(t)
	for field, opts := range map[string]sealed.Options{
		"IdleTimeout":       {IdleTimeout: math.MaxInt64},
		"AbsoluteTimeout":   {AbsoluteTimeout: math.MaxInt64},
		"ClockSkew":         {ClockSkew: math.MaxInt64},
		"RevocationTimeout": {RevocationTimeout: math.MaxInt64},
		"Purpose":           {Purpose: strings.Repeat("p", 256)},
	} {
		_, err := sealed.New(keys, &opts)
		if assert.Error(t, err, field) {
			assert.Contains(t, err.Error(), field)
		}
	}
	_, err := sealed.New(&sealed.Keyring{}, nil)
	assert.Error(t, err, "a zero Keyring has no key")

	// The longest timeouts browsers allow: a session opens again.
	long := 400 * 24 * time.Hour
	m := lcManager(t, keys, sealed.Options{IdleTimeout: long, AbsoluteTimeout: long})
	s, err := m.Load(t.Context(), nil)
	require.NoError(t, err)
	require.NoError(t, s.Set("k", 1))
	cs, err := m.Save(t.Context(), s)
	require.NoError(t, err)
	again, err := m.Load(t.Context(), cs)
	require.NoError(t, err)
	assert.False(t, again.IsNew(), "a session under 400-day timeouts must open")
	assert.Contains(t, cs[0].String(), "Max-Age=34560000")

	// Not valid UTF-8: said so.
	err = s.Set("k", "\xff")
	if assert.Error(t, err) {
		assert.Contains(t, err.Error(), "UTF-8")
		assert.NotContains(t, err.Error(), "nests")
	}

	// A cyclic value: an error, not a crash.
	type node struct{ Next *node }
	n := &node{}
	n.Next = n
	assert.Error(t, s.Set("cycle", n))
	loop := map[string]any{}
	loop["self"] = loop
	assert.Error(t, s.Set("loop", loop))
}

// Item 6: every path writes the same bytes, Domain with a leading dot
// included.
func TestOneCookieSerializer(t *testing.T) {
	keys := lcKeys(t)
	m, err := sealed.New(keys, &sealed.Options{Domain: ".example.com"})
	require.NoError(t, err)
	state := func() *sealed.Session {
		s, err := m.Load(t.Context(), nil)
		require.NoError(t, err)
		require.NoError(t, s.Set("k", strings.Repeat("v", 4000))) // two chunks
		return s
	}
	cookies, err := m.Save(t.Context(), state())
	require.NoError(t, err)
	lines, err := m.SaveLines(t.Context(), state())
	require.NoError(t, err)
	require.Len(t, lines, len(cookies))
	attrs := func(line string) string { _, a, _ := strings.Cut(line, ";"); return a }
	for i := range cookies {
		assert.Equal(t, attrs(cookies[i].String()), attrs(lines[i]), "Save and SaveLines serialize alike")
	}
	assert.Contains(t, lines[0], "; Domain=example.com;")

	rec := httptest.NewRecorder()
	m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := m.Session(r)
		s.Set("k", strings.Repeat("v", 4000))
	})).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "https://example.com/", nil))
	mw := rec.Result().Header.Values("Set-Cookie")
	require.Len(t, mw, len(lines))
	for i := range mw {
		assert.Equal(t, attrs(lines[i]), attrs(mw[i]), "the middleware serializes alike")
	}
}

// Item 7: a session sealed under a larger budget is served, never a 500,
// and reading is bounded by the budget in force.
func TestLoweredBudgetNeverFailsReads(t *testing.T) {
	keys := lcKeys(t)
	clock := &testClock{t: time.Now()}
	wide := sealed.Budget{MaxBytes: 8000, MaxChunks: 2, MaxLineBytes: 4096}
	narrow := sealed.Budget{MaxBytes: 8000, MaxChunks: 2, MaxLineBytes: 2048}
	big := strings.Repeat("x", 5000)

	writer := lcManager(t, keys, sealed.Options{Budget: wide, Now: clock.Now})
	s, _ := writer.Load(t.Context(), nil)
	require.NoError(t, s.Set("big", big))
	cookies, err := writer.Save(t.Context(), s)
	require.NoError(t, err)
	require.Len(t, cookies, 2)

	logs := &lockedBuffer{}
	reader := lcManager(t, keys, sealed.Options{Budget: narrow, Now: clock.Now, Logger: lcLogger(logs)})
	c := lcServe(t, reader, func(w http.ResponseWriter, r *http.Request) {
		s, _ := reader.Session(r)
		v, _, _ := sealed.Get[string](s, "big")
		io.WriteString(w, v)
	})
	clock.Advance(12 * time.Hour) // renewal is due
	res, body := c.get("/", cookies)
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, big, body, "the session opens and is served")
	assert.Empty(t, res.Header.Values("Set-Cookie"))
	assert.Contains(t, logs.String(), "not renewed")

	// A cookie longer than the budget allows is refused before it is
	// decoded or decrypted.
	small := lcManager(t, keys, sealed.Options{Logger: lcLogger(logs)}) // DefaultBudget: 6144 bytes
	forged := []*http.Cookie{{Name: "session", Value: "2." + strings.Repeat("A", 4000)}, {Name: "session.1", Value: strings.Repeat("A", 4000)}}
	s, err = small.Load(t.Context(), forged)
	require.NoError(t, err)
	assert.True(t, s.IsNew())
	assert.Contains(t, logs.String(), "reason=\"over budget\"")
}

// Item 7 and ErrTooLarge: the error says by how much.
func TestTooLargeErrorCarriesItsNumbers(t *testing.T) {
	m := lcManager(t, lcKeys(t), sealed.Options{})
	s, _ := m.Load(t.Context(), nil)
	require.NoError(t, s.Set("big", strings.Repeat("x", 9000)))
	_, err := m.Save(t.Context(), s)
	require.ErrorIs(t, err, sealed.ErrTooLarge)
	var tl *sealed.TooLargeError
	require.ErrorAs(t, err, &tl)
	assert.Greater(t, tl.Bytes, tl.Limit)
	assert.LessOrEqual(t, tl.Limit, sealed.DefaultBudget.MaxBytes)
	assert.Greater(t, tl.Limit, sealed.DefaultBudget.MaxBytes-200, "the limit is the largest session that fits")

	// The session is still open: undo and save.
	_, _, err = s.RemoveRaw("big")
	require.NoError(t, err)
	require.NoError(t, s.Set("small", strings.Repeat("x", 4000)))
	_, err = m.Save(t.Context(), s)
	assert.NoError(t, err)
}

// Item 8: a hijack that fails leaves the session to the fallback
// response; a panicking handler's session is closed to changes.
func TestFailedHijackKeepsTheSession(t *testing.T) {
	m := lcManager(t, lcKeys(t), sealed.Options{})
	rec := httptest.NewRecorder() // cannot hijack, like an HTTP/2 stream
	var setErr error
	m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := m.Session(r)
		if _, _, err := http.NewResponseController(w).Hijack(); err == nil {
			t.Fatal("the recorder hijacked")
		}
		setErr = s.Set("k", "fallback")
		io.WriteString(w, "fallback response")
	})).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	assert.NoError(t, setErr)
	assert.NotEmpty(t, rec.Result().Header.Values("Set-Cookie"))
}

func TestPanickingHandlerClosesItsSession(t *testing.T) {
	m := lcManager(t, lcKeys(t), sealed.Options{})
	var kept *sealed.Session
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kept, _ = m.Session(r)
		kept.Set("k", "v")
		panic(http.ErrAbortHandler)
	}))
	func() {
		defer func() { assert.Equal(t, http.ErrAbortHandler, recover(), "the panic goes on") }()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	}()
	require.NotNil(t, kept)
	assert.ErrorIs(t, kept.Set("k", "later"), sealed.ErrCommitted, "a change after the panic is refused, not lost silently")
	v, _, err := sealed.Get[string](kept, "k")
	assert.NoError(t, err)
	assert.Equal(t, "v", v)
}

// Item 9: applications sharing a key set do not accept each other's
// sessions when their purposes differ.
func TestPurposeSeparatesApplications(t *testing.T) {
	keys := lcKeys(t)
	staging := lcManager(t, keys, sealed.Options{Purpose: "shop-staging"})
	production := lcManager(t, keys, sealed.Options{Purpose: "shop-production"})
	production2 := lcManager(t, keys, sealed.Options{Purpose: "shop-production"})

	s, _ := staging.Load(t.Context(), nil)
	require.NoError(t, s.SetSubject("admin"))
	cookies, err := staging.Save(t.Context(), s)
	require.NoError(t, err)

	got, err := production.Load(t.Context(), cookies)
	require.NoError(t, err)
	assert.True(t, got.IsNew(), "a staging session must not open in production")
	assert.Empty(t, got.Subject())

	s, _ = production.Load(t.Context(), nil)
	require.NoError(t, s.SetSubject("alice"))
	cookies, err = production.Save(t.Context(), s)
	require.NoError(t, err)
	got, err = production2.Load(t.Context(), cookies)
	require.NoError(t, err)
	assert.Equal(t, "alice", got.Subject(), "the same purpose opens")
}

// Item 10: revocation entries live by the Manager's clock, not the
// backend's idea of the date.
func TestRevocationFollowsTheManagerClock(t *testing.T) {
	clock := &testClock{t: time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)}
	m := lcManager(t, lcKeys(t), sealed.Options{Revocation: sealed.NewMemoryRevocationList(), Now: clock.Now})
	c := lcServe(t, m, lcApp(t, m, func(s *sealed.Session) error { return s.Invalidate() }))
	c.get("/login?u=alice", nil)
	kept := c.cookies()
	c.get("/logout", nil)
	_, who := c.get("/whoami", kept)
	assert.Empty(t, who, "the logout must be recorded whatever the Manager's clock says")
}

// Item 10: "log out everywhere" ends the sessions before it, not a login
// after it on a server whose clock lags by less than ClockSkew, nor a
// login in the same millisecond; and it does not sleep.
func TestLoginAfterRevokeSubjectSurvives(t *testing.T) {
	list := sealed.NewMemoryRevocationList()
	keys := lcKeys(t)
	now := time.Now()
	clockA := &testClock{t: now}
	clockB := &testClock{t: now.Add(-30 * time.Second)}
	a := lcManager(t, keys, sealed.Options{Revocation: list, Now: clockA.Now})
	b := lcManager(t, keys, sealed.Options{Revocation: list, Now: clockB.Now})

	login := func(m *sealed.Manager) []*http.Cookie {
		s, _ := m.Load(t.Context(), nil)
		require.NoError(t, s.SetSubject("alice"))
		cs, err := m.Save(t.Context(), s)
		require.NoError(t, err)
		return cs
	}
	subject := func(m *sealed.Manager, cs []*http.Cookie) string {
		s, err := m.Load(t.Context(), cs)
		require.NoError(t, err)
		return s.Subject()
	}

	before := login(a)
	require.NoError(t, a.RevokeSubject(t.Context(), "alice")) // clocks frozen: a sleep would not help
	assert.Empty(t, subject(a, before), "a session from before the revocation is ended")
	afterSameMs := login(a)
	afterLagging := login(b)
	clockA.Advance(time.Second)
	clockB.Advance(time.Second)
	assert.Equal(t, "alice", subject(a, afterSameMs), "a login in the revocation's millisecond survives")
	assert.Equal(t, "alice", subject(b, afterLagging), "a login on a lagging server survives")
	assert.Equal(t, "alice", subject(a, afterLagging))
}

// An error handler that only logs leaves the handler's response as the
// handler made it: the headers set aside for the error handler's answer
// come back.
func TestSilentErrorHandlerKeepsTheHandlersResponse(t *testing.T) {
	var m *sealed.Manager
	m = lcManager(t, lcKeys(t), sealed.Options{
		Budget:       sealed.Budget{MaxBytes: 256, MaxChunks: 1},
		Logger:       lcLogger(&lockedBuffer{}),
		ErrorHandler: func(http.ResponseWriter, *http.Request, error) {},
	})
	c := lcServe(t, m, func(w http.ResponseWriter, r *http.Request) {
		s, _ := m.Session(r)
		s.Set("big", strings.Repeat("x", 1000))
		w.Header().Set("Content-Type", "text/x-handler")
		w.Header().Set("Cache-Control", "private, max-age=60")
		io.WriteString(w, "handler body")
	})
	res, body := c.get("/", nil)
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "handler body", body)
	assert.Equal(t, "text/x-handler", res.Header.Get("Content-Type"))
	assert.Equal(t, []string{"private, max-age=60"}, res.Header.Values("Cache-Control"))
	assert.Empty(t, res.Header.Values("Set-Cookie"), "the session was not saved")
}

// The lookup a login makes before its first seal fails closed like every
// other revocation call: no cookie, 503; with fail-open the login goes
// through.
func TestLoginWhileRevocationListDown(t *testing.T) {
	for _, failOpen := range []bool{false, true} {
		list := &lcDownList{MemoryRevocationList: sealed.NewMemoryRevocationList(), down: true}
		m := lcManager(t, lcKeys(t), sealed.Options{Revocation: list, RevocationFailOpen: failOpen, Logger: lcLogger(&lockedBuffer{})})
		s, err := m.Load(t.Context(), nil) // no cookie: no lookup
		require.NoError(t, err)
		require.NoError(t, s.SetSubject("alice"))
		cookies, err := m.Save(t.Context(), s)
		if failOpen {
			assert.NoError(t, err)
			assert.NotEmpty(t, cookies)
			continue
		}
		assert.ErrorIs(t, err, sealed.ErrUnavailable)
		assert.Empty(t, cookies)
		assert.NoError(t, s.Set("k", 1), "a failed save leaves the session open")
	}
}
