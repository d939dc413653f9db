package sealed_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealedgo/sealed"
)

// These tests drive revocation end to end through the harness
// (harness_test.go): a browser with a cookie jar, and an attacker who kept
// a copy of the browser's cookies.

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
	return mux
}

// serveRevocation serves revocationApp for a Manager with opts.
func serveRevocation(t *testing.T, opts sealed.Options) *site {
	t.Helper()
	m := newManager(t, nil, opts)
	return serve(t, m, revocationApp(m))
}

// post sends POST path (its query is the form) and wants a 200.
func (c *client) post(path string) string {
	c.t.Helper()
	res, body := c.do(http.MethodPost, path, "")
	require.Equal(c.t, http.StatusOK, res.StatusCode, "POST %s: %s", path, body)
	return body
}

func (c *client) login(user string) { c.post("/login?user=" + url.QueryEscape(user)) }

func (c *client) whoami() string {
	c.t.Helper()
	res, body := c.get("/whoami")
	require.Equal(c.t, http.StatusOK, res.StatusCode, body)
	return body
}

func TestRevocationInvalidateRefusesReplay(t *testing.T) {
	srv := serveRevocation(t, sealed.Options{Revocation: sealed.NewMemoryRevocationList()})

	b := srv.client(t)
	b.login("alice")
	require.Equal(t, "alice", b.whoami())
	stolen := b.cookies()
	res, body := srv.replay(t, "/whoami", stolen)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "alice", body, "before logout the copy works, as any cookie does")

	b.post("/logout")
	assert.Equal(t, "anonymous", b.whoami(), "the browser's cookies were expired")

	res, body = srv.replay(t, "/whoami", stolen)
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "anonymous", body, "the copy saved before logout opens a fresh, empty session")
	assert.Equal(t, names(stolen), srv.expired(res), "a revoked session's cookies are expired")
}

func TestRevocationCycleIDRefusesOldCookie(t *testing.T) {
	srv := serveRevocation(t, sealed.Options{Revocation: sealed.NewMemoryRevocationList()})

	b := srv.client(t)
	b.login("alice")
	old := b.cookies()
	b.post("/cycle")
	fresh := b.cookies()
	require.NotEqual(t, old[0].Value, fresh[0].Value, "CycleID re-sealed the cookie")

	_, body := srv.replay(t, "/whoami", old)
	assert.Equal(t, "anonymous", body, "the cookie from before CycleID is refused")
	_, body = srv.replay(t, "/whoami", fresh)
	assert.Equal(t, "alice", body, "the cookie after CycleID works")
	assert.Equal(t, "alice", b.whoami())

	// The cookie an anonymous visitor held before logging in is refused
	// too: login cycles the ID, which is the point of cycling it.
	v := srv.client(t)
	v.post("/cart?item=book")
	anon := v.cookies()
	v.login("bob")
	_, body = srv.replay(t, "/whoami", anon)
	assert.Equal(t, "anonymous", body)
	assert.Equal(t, "bob", v.whoami())
}

func TestRevocationRevokeSubject(t *testing.T) {
	clock := sealed.NewClock(time.Time{})
	srv := serveRevocation(t, sealed.Options{Revocation: sealed.NewMemoryRevocationList(), Now: clock.Now})

	phone, laptop, other := srv.client(t), srv.client(t), srv.client(t)
	phone.login("alice")
	laptop.login("alice")
	other.login("bob")
	stolen := laptop.cookies()

	// "Log out everywhere" in the very millisecond of the logins: sessions
	// created up to and including the call's millisecond are ended.
	require.NoError(t, srv.m.RevokeSubject(t.Context(), "alice"))

	assert.Equal(t, "anonymous", phone.whoami())
	assert.Equal(t, "anonymous", laptop.whoami())
	_, body := srv.replay(t, "/whoami", stolen)
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

	require.ErrorContains(t, srv.m.RevokeSubject(t.Context(), ""), "empty subject")
}

// A visitor who was browsing anonymously before "log out everywhere" and
// logs in after it should stay logged in.
func TestRevocationRevokeSubjectThenLoginFromOlderSession(t *testing.T) {
	clock := sealed.NewClock(time.Time{})
	srv := serveRevocation(t, sealed.Options{Revocation: sealed.NewMemoryRevocationList(), Now: clock.Now})

	b := srv.client(t)
	b.post("/cart?item=book")
	clock.Advance(time.Second)
	require.NoError(t, srv.m.RevokeSubject(t.Context(), "alice"))
	clock.Advance(time.Second)
	b.login("alice")
	assert.Equal(t, "alice", b.whoami())
}

func TestRevocationWithoutListReplayPossible(t *testing.T) {
	srv := serveRevocation(t, sealed.Options{})

	b := srv.client(t)
	b.login("alice")
	stolen := b.cookies()

	res, _ := b.do(http.MethodPost, "/logout", "")
	assert.Equal(t, names(stolen), srv.expired(res), "logout expires the cookies")
	assert.Equal(t, "anonymous", b.whoami(), "an honest browser is logged out")

	// Documented limit of stateless sessions: without a revocation list
	// nothing remembers the logout, so a copy taken before it still works
	// until it times out.
	_, body := srv.replay(t, "/whoami", stolen)
	assert.Equal(t, "alice", body)

	// RevokeSubject has nothing to tell: an error that says why, and not
	// the outage that a list that cannot be reached gives.
	err := srv.m.RevokeSubject(t.Context(), "alice")
	assert.ErrorContains(t, err, "no revocation list configured")
	assert.NotErrorIs(t, err, sealed.ErrUnavailable)
}

func TestRevocationUnavailable(t *testing.T) {
	for _, failOpen := range []bool{false, true} {
		t.Run(fmt.Sprintf("FailOpen=%v", failOpen), func(t *testing.T) {
			list := newFaultyList()
			logs := &sealed.LogBuffer{}
			var hookErr atomic.Value
			srv := serveRevocation(t, sealed.Options{
				Revocation:         list,
				RevocationFailOpen: failOpen,
				Logger:             logs.Logger(),
				ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
					hookErr.Store(err)
					http.Error(w, "try again", http.StatusServiceUnavailable)
				},
			})

			b := srv.client(t)
			b.login("alice")
			held := b.cookies()
			list.down.Store(true)

			res, body := b.get("/whoami")
			if failOpen {
				assert.Equal(t, http.StatusOK, res.StatusCode)
				assert.Equal(t, "alice", body)
				assert.Contains(t, logs.String(), "level=WARN")
				assert.Contains(t, logs.String(), "failing open")
			} else {
				assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
				err, _ := hookErr.Load().(error)
				assert.ErrorIs(t, err, sealed.ErrUnavailable)
			}
			assert.Empty(t, res.Header.Values("Set-Cookie"))

			// A logout that cannot be recorded fails either way: the
			// client keeps its cookies and can try again, rather than
			// believing it logged out while a copy still works.
			res, _ = b.do(http.MethodPost, "/logout", "")
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

// Every call to the revocation list carries the RevocationTimeout
// deadline, so a stalled backend costs a request that long and then a
// 503, rather than hanging it.
func TestRevocationTimeoutBoundsEveryCall(t *testing.T) {
	list := newFaultyList()
	var hookErr atomic.Pointer[error]
	srv := serveRevocation(t, sealed.Options{
		Revocation:        list,
		RevocationTimeout: 10 * time.Millisecond,
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
	b := srv.client(t)
	// Only a hang guard: a missing deadline would block until the test
	// binary's own timeout.
	b.c.Timeout = time.Minute
	b.login("alice")
	held := b.cookies()

	list.stalled.Store(true)
	res, _ := b.get("/whoami")
	assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode, "lookup (Revoked)")
	assert.Empty(t, res.Header.Values("Set-Cookie"))
	deadlineHit("lookup (Revoked)")

	res, _ = b.do(http.MethodPost, "/logout", "")
	assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode, "logout (Revoke)")
	assert.Equal(t, held, b.cookies(), "client cookies untouched")
	deadlineHit("logout (Revoke)")

	err := srv.m.RevokeSubject(t.Context(), "alice")
	assert.ErrorIs(t, err, sealed.ErrUnavailable)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "RevokeSubject")

	list.stalled.Store(false)
	assert.Equal(t, "alice", b.whoami(), "recovered")
}
