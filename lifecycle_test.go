package sealed_test

// Tests of the session lifecycle as ordinary handler code meets it: each
// test reproduces one finding of the lifecycle issue (logout that shows a
// flash, an error handler that uses the session, calls after the response
// started, decrypted memory reaching user code, caching, configuration
// extremes, budgets, hijack and panic, purposes, revocation clocks) and
// asserts what must happen instead, through the harness (harness_test.go).

import (
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
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

// lifecycleApp is a small site: /login?u=NAME, /whoami, and /logout, whose
// steps (after the log-out itself) the test chooses.
func lifecycleApp(t *testing.T, m *sealed.Manager, logout func(s *sealed.Session) error) http.HandlerFunc {
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
		"Invalidate Set Remove": func(s *sealed.Session) error {
			err := errors.Join(s.Invalidate(), s.Set("t", 1))
			_, _, rerr := sealed.Remove[cbor.RawMessage](s, "t")
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
			m := newManager(t, nil, sealed.Options{Revocation: sealed.NewMemoryRevocationList()})
			srv := serve(t, m, lifecycleApp(t, m, logout))
			c := srv.client(t)
			c.get("/login?u=alice")
			_, who := c.get("/whoami")
			require.Equal(t, "alice", who)
			kept := c.cookies()

			res, _ := c.get("/logout")
			assert.NotEmpty(t, res.Header.Values("Set-Cookie"), "the logout response must replace or expire the session cookie")
			_, who = c.get("/whoami")
			assert.NotEqual(t, "alice", who, "the browser is logged out")
			_, who = srv.replay(t, "/whoami", kept)
			assert.Empty(t, who, "a copy of the cookie from before the logout must not open")
		})
	}
}

// Item 2: an ErrorHandler that uses the session (to log its ID, say), or
// calls Commit, finishes: user code never runs under the library's lock.
func TestErrorHandlerMayUseTheSession(t *testing.T) {
	for _, trigger := range []string{"load unavailable", "save too large"} {
		t.Run(trigger, func(t *testing.T) {
			list := newFaultyList()
			var m *sealed.Manager
			var seen atomic.Value // the handler's goroutine writes it
			m = newManager(t, nil, sealed.Options{
				Revocation: list,
				Budget:     sealed.Budget{MaxBytes: 256, MaxChunks: 1},
				ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
					s, _ := m.Session(r)
					if s != nil {
						_ = s.ID()
					}
					seen.Store(errors.Join(m.Commit(r)))
					http.Error(w, "sorry", http.StatusServiceUnavailable)
				},
			})
			c := serve(t, m, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s, err := m.Session(r)
				if err != nil {
					return
				}
				if r.URL.Path == "/big" {
					s.Set("big", strings.Repeat("x", 1000))
				} else {
					s.Set("n", 1)
				}
			})).client(t)
			c.get("/")
			path := "/big"
			if trigger == "load unavailable" {
				list.down.Store(true)
				path = "/"
			}
			done := make(chan *http.Response, 1)
			go func() { res, _ := c.get(path); done <- res }()
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
		"Remove raw": func(s *sealed.Session) error { _, _, err := sealed.Remove[cbor.RawMessage](s, "n"); return err },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			logs := &sealed.LogBuffer{}
			m := newManager(t, nil, sealed.Options{Logger: logs.Logger()})
			got := make(chan error, 1)
			c := serve(t, m, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s, _ := m.Session(r)
				if r.URL.Path == "/setup" {
					s.SetSubject("alice")
					s.Set("n", 1)
					s.AddFlash("pending")
					return
				}
				http.Redirect(w, r, "/", http.StatusSeeOther) // the response starts
				got <- call(s)
			})).client(t)
			c.get("/setup")
			c.get("/")
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
	m := newManager(t, nil, sealed.Options{})
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
	srv := serve(t, m, http.HandlerFunc(h))
	c, other := srv.client(t), srv.client(t) // two browsers, two sessions

	c.get("/?set=alice-secret-0123456789")
	c.get("/")
	other.get("/?set=bob-secret-abcdefghijk")
	for range 20 {
		other.get("/") // other sessions' reads reuse whatever was pooled
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
	m := newManager(t, nil, sealed.Options{Budget: sealed.Budget{MaxBytes: 256, MaxChunks: 1}})
	c := serve(t, m, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
	})).client(t)
	c.get("/login")
	res, body := c.get("/hello")
	require.Equal(t, "Hello, alice", body)
	assert.Empty(t, res.Header.Values("Set-Cookie"), "a read-only request writes no cookie")
	assert.Contains(t, res.Header.Values("Vary"), "Cookie")

	res, _ = c.get("/static")
	assert.NotContains(t, res.Header.Values("Vary"), "Cookie", "a handler that never loads the session does not vary on it")

	res, _ = c.get("/big")
	assert.Equal(t, http.StatusInternalServerError, res.StatusCode)
	assert.Equal(t, []string{"no-store"}, res.Header.Values("Cache-Control"))
}

// Item 6: configuration extremes fail in New, naming the field; the
// extremes that are allowed work.
func TestConfigurationExtremes(t *testing.T) {
	keys := sealed.NewTestKeys(t)
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
	m := newManager(t, keys, sealed.Options{IdleTimeout: long, AbsoluteTimeout: long})
	s, err := m.Load(t.Context())
	require.NoError(t, err)
	require.NoError(t, s.Set("k", 1))
	cs, err := m.Save(t.Context(), s)
	require.NoError(t, err)
	again, err := m.Load(t.Context(), cookiePairs(cs)...)
	require.NoError(t, err)
	assert.False(t, again.IsNew(), "a session under 400-day timeouts must open")
	assert.Contains(t, cs[0], "Max-Age=34560000")

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
	keys := sealed.NewTestKeys(t)
	// A budget that allows two chunks (the default holds one).
	m := sealed.NewTestManager(t, keys, &sealed.Options{Domain: ".example.com", Budget: sealed.BudgetNginx8k()})
	s, err := m.Load(t.Context())
	require.NoError(t, err)
	require.NoError(t, s.Set("k", strings.Repeat("v", 4000))) // two chunks
	lines, err := m.Save(t.Context(), s)
	require.NoError(t, err)
	require.Len(t, lines, 2)
	for _, l := range lines {
		c, err := http.ParseSetCookie(l)
		require.NoError(t, err)
		assert.Equal(t, c.String(), l, "Save writes what net/http writes for its cookie")
	}
	assert.Contains(t, lines[0], "; Domain=example.com;")
	attrs := func(line string) string { _, a, _ := strings.Cut(line, ";"); return a }

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
	keys := sealed.NewTestKeys(t)
	clock := sealed.NewClock(time.Time{})
	// The two differ in their line length only; both let the response
	// carry both chunks.
	wide := sealed.Budget{MaxBytes: 8000, MaxChunks: 2, MaxLineBytes: 4096, MaxResponseBytes: 16384}
	narrow := sealed.Budget{MaxBytes: 8000, MaxChunks: 2, MaxLineBytes: 2048, MaxResponseBytes: 16384}
	big := strings.Repeat("x", 5000)

	writer := newManager(t, keys, sealed.Options{Budget: wide, Now: clock.Now})
	s, _ := writer.Load(t.Context())
	require.NoError(t, s.Set("big", big))
	lines, err := writer.Save(t.Context(), s)
	require.NoError(t, err)
	require.Len(t, lines, 2)

	logs := &sealed.LogBuffer{}
	var ev events
	reader := newManager(t, keys, sealed.Options{Budget: narrow, Now: clock.Now, Logger: logs.Logger(), Observer: ev.observe})
	srv := serve(t, reader, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := reader.Session(r)
		v, _, _ := sealed.Get[string](s, "big")
		io.WriteString(w, v)
	}))
	clock.Advance(12 * time.Hour) // renewal is due
	res, body := srv.send(t, http.MethodGet, "/", strings.Join(cookiePairs(lines), "; "), "")
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, big, body, "the session opens and is served")
	assert.Empty(t, res.Header.Values("Set-Cookie"))
	assert.Contains(t, logs.String(), "not renewed")
	// The observer hears of it: sessions that can no longer be re-sealed
	// keep a retired key in use (the rotation runbook watches for them).
	got := ev.take()
	require.NotEmpty(t, got)
	last := got[len(got)-1]
	assert.Equal(t, "save:too large", outcomesOf(last))
	assert.ErrorIs(t, last.Err, sealed.ErrTooLarge)

	// A cookie longer than the budget allows is refused before it is
	// decoded or decrypted.
	small := newManager(t, keys, sealed.Options{Logger: logs.Logger()}) // the default budget: MaxBytes 6144
	s, err = small.Load(t.Context(), "session=2."+strings.Repeat("A", 4000), "session.1="+strings.Repeat("A", 4000))
	require.NoError(t, err)
	assert.True(t, s.IsNew())
	assert.Contains(t, logs.String(), "reason=\"over budget\"")
}

// Item 7 and ErrTooLarge: the error says by how much.
func TestTooLargeErrorCarriesItsNumbers(t *testing.T) {
	m := newManager(t, nil, sealed.Options{})
	s, _ := m.Load(t.Context())
	require.NoError(t, s.Set("big", strings.Repeat("x", 9000)))
	_, err := m.Save(t.Context(), s)
	require.ErrorIs(t, err, sealed.ErrTooLarge)
	var tl *sealed.TooLargeError
	require.ErrorAs(t, err, &tl)
	assert.Greater(t, tl.Bytes, tl.Limit)
	assert.Greater(t, tl.ResponseBytes, tl.ResponseLimit)
	// The default budget binds on the response: 4096 bytes of header less
	// 1024 reserved for the rest leave 3072 for Set-Cookie headers, one
	// chunk; its Cookie header is some 70 bytes shorter (no attributes).
	const room = 4096 - 1024
	assert.LessOrEqual(t, tl.ResponseLimit, room)
	assert.Greater(t, tl.ResponseLimit, room-4, "the limit is the largest session that fits")
	assert.Less(t, tl.Limit, tl.ResponseLimit)
	assert.Greater(t, tl.Limit, room-100)

	// The session is still open: undo and save.
	_, _, err = sealed.Remove[cbor.RawMessage](s, "big")
	require.NoError(t, err)
	require.NoError(t, s.Set("small", strings.Repeat("x", 2000)))
	_, err = m.Save(t.Context(), s)
	assert.NoError(t, err)
}

// Item 8: a hijack that fails leaves the session to the fallback
// response; a panicking handler's session is closed to changes.
func TestFailedHijackKeepsTheSession(t *testing.T) {
	m := newManager(t, nil, sealed.Options{})
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
	m := newManager(t, nil, sealed.Options{})
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
	keys := sealed.NewTestKeys(t)
	staging := newManager(t, keys, sealed.Options{Purpose: "shop-staging"})
	production := newManager(t, keys, sealed.Options{Purpose: "shop-production"})
	production2 := newManager(t, keys, sealed.Options{Purpose: "shop-production"})

	s, _ := staging.Load(t.Context())
	require.NoError(t, s.SetSubject("admin"))
	cookies, err := staging.Save(t.Context(), s)
	require.NoError(t, err)

	got, err := production.Load(t.Context(), cookiePairs(cookies)...)
	require.NoError(t, err)
	assert.True(t, got.IsNew(), "a staging session must not open in production")
	assert.Empty(t, got.Subject())

	s, _ = production.Load(t.Context())
	require.NoError(t, s.SetSubject("alice"))
	cookies, err = production.Save(t.Context(), s)
	require.NoError(t, err)
	got, err = production2.Load(t.Context(), cookiePairs(cookies)...)
	require.NoError(t, err)
	assert.Equal(t, "alice", got.Subject(), "the same purpose opens")
}

// Item 10: revocation entries live by the Manager's clock, not the
// backend's idea of the date.
func TestRevocationFollowsTheManagerClock(t *testing.T) {
	clock := sealed.NewClock(time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC))
	m := newManager(t, nil, sealed.Options{Revocation: sealed.NewMemoryRevocationList(), Now: clock.Now})
	srv := serve(t, m, lifecycleApp(t, m, func(s *sealed.Session) error { return s.Invalidate() }))
	c := srv.client(t)
	c.get("/login?u=alice")
	kept := c.cookies()
	c.get("/logout")
	_, who := srv.replay(t, "/whoami", kept)
	assert.Empty(t, who, "the logout must be recorded whatever the Manager's clock says")
}

// Item 10: "log out everywhere" ends the sessions before it, not a login
// after it on a server whose clock lags by less than ClockSkew, nor a
// login in the same millisecond; and it does not sleep.
func TestLoginAfterRevokeSubjectSurvives(t *testing.T) {
	list := sealed.NewMemoryRevocationList()
	keys := sealed.NewTestKeys(t)
	clockA := sealed.NewClock(sealed.Epoch)
	clockB := sealed.NewClock(sealed.Epoch.Add(-30 * time.Second))
	a := newManager(t, keys, sealed.Options{Revocation: list, Now: clockA.Now})
	b := newManager(t, keys, sealed.Options{Revocation: list, Now: clockB.Now})

	login := func(m *sealed.Manager) []string {
		s, _ := m.Load(t.Context())
		require.NoError(t, s.SetSubject("alice"))
		cs, err := m.Save(t.Context(), s)
		require.NoError(t, err)
		return cs
	}
	subject := func(m *sealed.Manager, cs []string) string {
		s, err := m.Load(t.Context(), cookiePairs(cs)...)
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
	m := newManager(t, nil, sealed.Options{
		Budget:       sealed.Budget{MaxBytes: 256, MaxChunks: 1},
		ErrorHandler: func(http.ResponseWriter, *http.Request, error) {},
	})
	c := serve(t, m, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := m.Session(r)
		s.Set("big", strings.Repeat("x", 1000))
		w.Header().Set("Content-Type", "text/x-handler")
		w.Header().Set("Cache-Control", "private, max-age=60")
		io.WriteString(w, "handler body")
	})).client(t)
	res, body := c.get("/")
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
		list := newFaultyList()
		list.down.Store(true)
		m := newManager(t, nil, sealed.Options{Revocation: list, RevocationFailOpen: failOpen})
		s, err := m.Load(t.Context()) // no cookie: no lookup
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
