package sealed_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealedgo/sealed"
)

// These tests drive revocation end to end: a real Manager and Middleware
// behind an httptest server, a browser with a cookie jar, and an attacker
// who kept a copy of the browser's cookies.

// testClock is a settable clock, so that "created before" is decided by
// the test and not by how many milliseconds a request happens to take.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock { return &testClock{t: time.Now()} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newRevocationManager(t *testing.T, opts sealed.Options) *sealed.Manager {
	t.Helper()
	keys, err := sealed.NewKeyring(sealed.GenerateKey("k1"))
	require.NoError(t, err)
	opts.AllowInsecure = true // httptest servers speak plain http
	m, err := sealed.New(keys, &opts)
	require.NoError(t, err)
	return m
}

// revocationApp is a minimal site: log in (cycling the ID, as one should),
// log out, cycle the ID, and say who is logged in.
func revocationApp(m *sealed.Manager) http.Handler {
	mux := http.NewServeMux()
	// session returns the request's session, or nil when it could not be
	// loaded: the middleware then answers 503 itself.
	session := func(r *http.Request) *sealed.Session {
		sess, err := m.Session(r)
		if err != nil {
			return nil
		}
		return sess
	}
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		sess := session(r)
		if sess == nil {
			return
		}
		user := r.FormValue("user")
		sess.CycleID()
		sess.SetSubject(user)
		if err := sess.Set("user", user); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		io.WriteString(w, "ok")
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		if sess := session(r); sess != nil {
			sess.Invalidate()
			io.WriteString(w, "bye")
		}
	})
	mux.HandleFunc("POST /cycle", func(w http.ResponseWriter, r *http.Request) {
		if sess := session(r); sess != nil {
			sess.CycleID()
			io.WriteString(w, "cycled")
		}
	})
	mux.HandleFunc("POST /cart", func(w http.ResponseWriter, r *http.Request) {
		if sess := session(r); sess != nil {
			_ = sess.Set("cart", r.FormValue("item"))
			io.WriteString(w, "added")
		}
	})
	mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
		sess := session(r)
		if sess == nil {
			return
		}
		user, ok, err := sealed.Get[string](sess, "user")
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if !ok {
			user = "anonymous"
		}
		io.WriteString(w, user)
	})
	return m.Middleware(mux)
}

// browser is an HTTP client with a cookie jar.
type browser struct {
	t    *testing.T
	c    *http.Client
	base *url.URL
}

func newBrowser(t *testing.T, srv *httptest.Server) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	return &browser{t: t, c: &http.Client{Jar: jar}, base: u}
}

// cookies returns a copy of what the browser holds for the site: what an
// attacker (or a backup, or a second device) could have kept.
func (b *browser) cookies() []*http.Cookie { return b.c.Jar.Cookies(b.base) }

func (b *browser) post(path string, form url.Values) string {
	b.t.Helper()
	res, err := b.c.PostForm(b.base.String()+path, form)
	require.NoError(b.t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(b.t, err)
	require.Equal(b.t, http.StatusOK, res.StatusCode, "POST %s: %s", path, body)
	return string(body)
}

func (b *browser) login(user string) { b.post("/login", url.Values{"user": {user}}) }

func (b *browser) whoami() string {
	b.t.Helper()
	status, body, _ := fetch(b.t, b.c, http.MethodGet, b.base.String()+"/whoami", nil)
	require.Equal(b.t, http.StatusOK, status, body)
	return body
}

// fetch sends one request carrying exactly cookies (plus whatever client's
// jar adds) and returns the status, body and Set-Cookie lines.
func fetch(t *testing.T, client *http.Client, method, target string, cookies []*http.Cookie) (int, string, []string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, target, nil)
	require.NoError(t, err)
	for _, c := range cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	res, err := client.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, string(body), res.Header.Values("Set-Cookie")
}

// replay sends a saved copy of cookies, from a client without a jar.
func replay(t *testing.T, srv *httptest.Server, cookies []*http.Cookie) (int, string, []string) {
	t.Helper()
	require.NotEmpty(t, cookies, "nothing to replay")
	return fetch(t, http.DefaultClient, http.MethodGet, srv.URL+"/whoami", cookies)
}

// expiresAll reports whether the Set-Cookie lines expire every cookie in
// cookies.
func expiresAll(lines []string, cookies []*http.Cookie) bool {
	expired := map[string]bool{}
	for _, l := range lines {
		if c, err := http.ParseSetCookie(l); err == nil && c.MaxAge < 0 {
			expired[c.Name] = true
		}
	}
	for _, c := range cookies {
		if !expired[c.Name] {
			return false
		}
	}
	return len(cookies) > 0
}

func TestRevocationInvalidateRefusesReplay(t *testing.T) {
	m := newRevocationManager(t, sealed.Options{Revocation: sealed.NewMemoryRevocationList()})
	srv := httptest.NewServer(revocationApp(m))
	defer srv.Close()

	b := newBrowser(t, srv)
	b.login("alice")
	require.Equal(t, "alice", b.whoami())
	stolen := b.cookies()
	status, body, _ := replay(t, srv, stolen)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "alice", body, "before logout the copy works, as any cookie does")

	b.post("/logout", nil)
	assert.Equal(t, "anonymous", b.whoami(), "the browser's cookies were expired")

	status, body, setCookies := replay(t, srv, stolen)
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "anonymous", body, "the copy saved before logout opens a fresh, empty session")
	assert.True(t, expiresAll(setCookies, stolen), "a revoked session's cookies are expired: %q", setCookies)
}

func TestRevocationCycleIDRefusesOldCookie(t *testing.T) {
	m := newRevocationManager(t, sealed.Options{Revocation: sealed.NewMemoryRevocationList()})
	srv := httptest.NewServer(revocationApp(m))
	defer srv.Close()

	b := newBrowser(t, srv)
	b.login("alice")
	old := b.cookies()
	b.post("/cycle", nil)
	fresh := b.cookies()
	require.NotEqual(t, old[0].Value, fresh[0].Value, "CycleID re-sealed the cookie")

	_, body, _ := replay(t, srv, old)
	assert.Equal(t, "anonymous", body, "the cookie from before CycleID is refused")
	_, body, _ = replay(t, srv, fresh)
	assert.Equal(t, "alice", body, "the cookie after CycleID works")
	assert.Equal(t, "alice", b.whoami())

	// The cookie an anonymous visitor held before logging in is refused
	// too: login cycles the ID, which is the point of cycling it.
	v := newBrowser(t, srv)
	v.post("/cart", url.Values{"item": {"book"}})
	anon := v.cookies()
	v.login("bob")
	_, body, _ = replay(t, srv, anon)
	assert.Equal(t, "anonymous", body)
	assert.Equal(t, "bob", v.whoami())
}

func TestRevocationRevokeSubject(t *testing.T) {
	clock := newTestClock()
	m := newRevocationManager(t, sealed.Options{Revocation: sealed.NewMemoryRevocationList(), Now: clock.Now})
	srv := httptest.NewServer(revocationApp(m))
	defer srv.Close()

	phone, laptop, other := newBrowser(t, srv), newBrowser(t, srv), newBrowser(t, srv)
	phone.login("alice")
	laptop.login("alice")
	other.login("bob")
	stolen := laptop.cookies()

	// "Log out everywhere" in the very millisecond of the logins: sessions
	// created up to and including the call's millisecond are ended.
	require.NoError(t, m.RevokeSubject(t.Context(), "alice"))

	assert.Equal(t, "anonymous", phone.whoami())
	assert.Equal(t, "anonymous", laptop.whoami())
	_, body, _ := replay(t, srv, stolen)
	assert.Equal(t, "anonymous", body, "a copy of alice's cookie is refused too")
	assert.Equal(t, "bob", other.whoami(), "other subjects are untouched")

	// Logging in again after the call gives a session that works. With a
	// real clock RevokeSubject returns only once the clock has left the
	// revoked millisecond; this fake clock is advanced by hand instead.
	clock.Advance(time.Millisecond)
	laptop.login("alice")
	assert.Equal(t, "alice", laptop.whoami())
	clock.Advance(time.Second)
	assert.Equal(t, "alice", laptop.whoami())
	assert.Equal(t, "anonymous", phone.whoami(), "the phone must log in again")

	require.ErrorContains(t, m.RevokeSubject(t.Context(), ""), "empty subject")
}

// A visitor who was browsing anonymously before "log out everywhere" and
// logs in after it should stay logged in.
func TestRevocationRevokeSubjectThenLoginFromOlderSession(t *testing.T) {
	clock := newTestClock()
	m := newRevocationManager(t, sealed.Options{Revocation: sealed.NewMemoryRevocationList(), Now: clock.Now})
	srv := httptest.NewServer(revocationApp(m))
	defer srv.Close()

	b := newBrowser(t, srv)
	b.post("/cart", url.Values{"item": {"book"}})
	clock.Advance(time.Second)
	require.NoError(t, m.RevokeSubject(t.Context(), "alice"))
	clock.Advance(time.Second)
	b.login("alice")
	assert.Equal(t, "alice", b.whoami())
}

func TestRevocationWithoutListReplayPossible(t *testing.T) {
	m := newRevocationManager(t, sealed.Options{})
	srv := httptest.NewServer(revocationApp(m))
	defer srv.Close()

	b := newBrowser(t, srv)
	b.login("alice")
	stolen := b.cookies()

	res, err := b.c.PostForm(srv.URL+"/logout", nil)
	require.NoError(t, err)
	res.Body.Close()
	assert.True(t, expiresAll(res.Header.Values("Set-Cookie"), stolen), "logout expires the cookies: %q", res.Header.Values("Set-Cookie"))
	assert.Equal(t, "anonymous", b.whoami(), "an honest browser is logged out")

	// Documented limit of stateless sessions: without a revocation list
	// nothing remembers the logout, so a copy taken before it still works
	// until it times out.
	_, body, _ := replay(t, srv, stolen)
	assert.Equal(t, "alice", body)

	assert.ErrorIs(t, m.RevokeSubject(t.Context(), "alice"), sealed.ErrNoRevocation)
}

// flakyList is a MemoryRevocationList that can be switched off, for the
// core module's tests of fail-closed and fail-open; redisrevoke tests the
// same against a real Redis that is stopped.
type flakyList struct {
	*sealed.MemoryRevocationList
	down atomic.Bool
}

var errDown = errors.New("backend down")

func (f *flakyList) Revoke(ctx context.Context, id string, ttl time.Duration) error {
	if f.down.Load() {
		return errDown
	}
	return f.MemoryRevocationList.Revoke(ctx, id, ttl)
}

func (f *flakyList) Revoked(ctx context.Context, id, subject string, created time.Time) (bool, error) {
	if f.down.Load() {
		return false, errDown
	}
	return f.MemoryRevocationList.Revoked(ctx, id, subject, created)
}

// lockedBuffer is a log sink the server's goroutines and the test share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestRevocationUnavailable(t *testing.T) {
	for _, failOpen := range []bool{false, true} {
		t.Run(fmt.Sprintf("FailOpen=%v", failOpen), func(t *testing.T) {
			list := &flakyList{MemoryRevocationList: sealed.NewMemoryRevocationList()}
			logs := &lockedBuffer{}
			var hookErr atomic.Value
			m := newRevocationManager(t, sealed.Options{
				Revocation:         list,
				RevocationFailOpen: failOpen,
				Logger:             slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
				ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
					hookErr.Store(err)
					http.Error(w, "try again", http.StatusServiceUnavailable)
				},
			})
			srv := httptest.NewServer(revocationApp(m))
			defer srv.Close()

			b := newBrowser(t, srv)
			b.login("alice")
			held := b.cookies()
			list.down.Store(true)

			status, body, setCookies := fetch(t, b.c, http.MethodGet, srv.URL+"/whoami", nil)
			if failOpen {
				assert.Equal(t, http.StatusOK, status)
				assert.Equal(t, "alice", body)
				assert.Contains(t, logs.String(), "level=WARN")
				assert.Contains(t, logs.String(), "failing open")
			} else {
				assert.Equal(t, http.StatusServiceUnavailable, status)
				err, _ := hookErr.Load().(error)
				assert.ErrorIs(t, err, sealed.ErrUnavailable)
			}
			assert.Empty(t, setCookies)

			// A logout that cannot be recorded fails either way: the
			// client keeps its cookies and can try again, rather than
			// believing it logged out while a copy still works.
			res, err := b.c.PostForm(srv.URL+"/logout", nil)
			require.NoError(t, err)
			res.Body.Close()
			assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
			assert.Empty(t, res.Header.Values("Set-Cookie"))
			assert.Equal(t, held, b.cookies(), "client cookies untouched")

			list.down.Store(false)
			assert.Equal(t, "alice", b.whoami(), "recovered")
			for _, c := range held {
				assert.NotContains(t, logs.String(), c.Value, "cookie values stay out of logs")
			}
		})
	}
}

// stallingList is an in-memory list behind a backend that can stall, as a
// network backend does when it is unreachable: a stalled call returns only
// when its context is done. It embeds *MemoryRevocationList, so it also
// shows that the manager treats only the in-memory list itself as unable
// to block, not every type built on it.
type stallingList struct {
	*sealed.MemoryRevocationList
	stalled atomic.Bool
}

func (l *stallingList) wait(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		return errors.New("called without a deadline")
	}
	<-ctx.Done()
	return ctx.Err()
}

func (l *stallingList) Revoke(ctx context.Context, id string, ttl time.Duration) error {
	if l.stalled.Load() {
		return l.wait(ctx)
	}
	return l.MemoryRevocationList.Revoke(ctx, id, ttl)
}

func (l *stallingList) RevokeSubject(ctx context.Context, subject string, before time.Time, ttl time.Duration) error {
	if l.stalled.Load() {
		return l.wait(ctx)
	}
	return l.MemoryRevocationList.RevokeSubject(ctx, subject, before, ttl)
}

func (l *stallingList) Revoked(ctx context.Context, id, subject string, created time.Time) (bool, error) {
	if l.stalled.Load() {
		return false, l.wait(ctx)
	}
	return l.MemoryRevocationList.Revoked(ctx, id, subject, created)
}

// Every call to a list other than the in-memory one carries the
// RevocationTimeout deadline, so a stalled backend costs a request that
// long and then a 503, rather than hanging it.
func TestRevocationTimeoutBoundsEveryCall(t *testing.T) {
	list := &stallingList{MemoryRevocationList: sealed.NewMemoryRevocationList()}
	var hookErr atomic.Pointer[error]
	m := newRevocationManager(t, sealed.Options{
		Revocation:        list,
		RevocationTimeout: 10 * time.Millisecond,
		Logger:            slog.New(slog.DiscardHandler),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			hookErr.Store(&err)
			http.Error(w, "try again", http.StatusServiceUnavailable)
		},
	})
	deadlineHit := func(what string) {
		t.Helper()
		var err error
		if p := hookErr.Swap(nil); p != nil {
			err = *p
		}
		assert.ErrorIs(t, err, sealed.ErrUnavailable, what)
		assert.ErrorIs(t, err, context.DeadlineExceeded, what)
	}
	srv := httptest.NewServer(revocationApp(m))
	defer srv.Close()
	b := newBrowser(t, srv)
	// Only a hang guard: a missing deadline would block until the test
	// binary's own timeout.
	b.c.Timeout = time.Minute
	b.login("alice")
	held := b.cookies()

	list.stalled.Store(true)
	status, _, setCookies := fetch(t, b.c, http.MethodGet, srv.URL+"/whoami", nil)
	assert.Equal(t, http.StatusServiceUnavailable, status, "lookup (Revoked)")
	assert.Empty(t, setCookies)
	deadlineHit("lookup (Revoked)")

	res, err := b.c.PostForm(srv.URL+"/logout", nil)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode, "logout (Revoke)")
	assert.Equal(t, held, b.cookies(), "client cookies untouched")
	deadlineHit("logout (Revoke)")

	err = m.RevokeSubject(t.Context(), "alice")
	assert.ErrorIs(t, err, sealed.ErrUnavailable)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "RevokeSubject")

	list.stalled.Store(false)
	assert.Equal(t, "alice", b.whoami(), "recovered")
}
