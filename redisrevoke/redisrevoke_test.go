package redisrevoke_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealedgo/sealed"
	"github.com/sealedgo/sealed/redisrevoke"
	"github.com/sealedgo/sealed/revoketest"
)

var _ sealed.RevocationList = (*redisrevoke.List)(nil)

// newClient returns a client for addr configured as the package
// documentation asks: context deadlines honoured on the wire.
func newClient(t *testing.T, addr string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{
		Addr:                  addr,
		ContextTimeoutEnabled: true,
		DisableIdentity:       true, // CLIENT SETINFO needs Redis 7.2
	})
	t.Cleanup(func() { c.Close() })
	return c
}

// connectFunc returns a new client of one Redis deployment, closed when t
// ends.
type connectFunc func(t *testing.T) redis.UniversalClient

// onEachBackend runs f, in parallel, against the shared single Redis and
// against the shared cluster (through a redis.ClusterClient).
func onEachBackend(t *testing.T, f func(t *testing.T, connect connectFunc)) {
	t.Run("single", func(t *testing.T) {
		t.Parallel()
		needRedis(t)
		f(t, func(t *testing.T) redis.UniversalClient { return newClient(t, shared.addr()) })
	})
	t.Run("cluster", func(t *testing.T) {
		t.Parallel()
		f(t, sharedCluster(t).client)
	})
}

// uniquePrefix keeps tests sharing one Redis out of each other's keys.
func uniquePrefix() string {
	b := make([]byte, 6)
	rand.Read(b)
	return "test:" + hex.EncodeToString(b) + ":"
}

func TestConformance(t *testing.T) {
	needRedis(t)
	client := newClient(t, shared.addr())
	revoketest.Run(t, func(*testing.T) sealed.RevocationList {
		return redisrevoke.New(client, &redisrevoke.Options{Prefix: uniquePrefix()})
	})
}

func TestDefaultPrefix(t *testing.T) { onEachBackend(t, testDefaultPrefix) }

func testDefaultPrefix(t *testing.T, connect connectFunc) {
	client := connect(t)
	l := redisrevoke.New(client, nil)
	id := randomID()
	require.NoError(t, l.Revoke(t.Context(), id, time.Minute))
	n, err := client.Exists(t.Context(), "sealed:revoked:id:"+id).Result()
	require.NoError(t, err)
	assert.EqualValues(t, 1, n)
	require.NoError(t, client.Del(t.Context(), "sealed:revoked:id:"+id).Err())
}

func randomID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// site is one server of the fleet: a Manager with its own Redis client and
// a minimal app behind its middleware.
type site struct {
	m   *sealed.Manager
	srv *httptest.Server
}

func newSite(t *testing.T, keys *sealed.Keyring, list *redisrevoke.List, opts sealed.Options) *site {
	t.Helper()
	opts.AllowInsecure = true // httptest servers speak plain http
	opts.Revocation = list
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	m, err := sealed.New(keys, &opts)
	require.NoError(t, err)
	srv := httptest.NewServer(app(m))
	t.Cleanup(srv.Close)
	return &site{m: m, srv: srv}
}

// fleet returns two servers of one application: the same keys, each its
// own Redis client, one key prefix.
func fleet(t *testing.T, connect connectFunc) (*site, *site) {
	t.Helper()
	keys, prefix := newKeys(t), uniquePrefix()
	server := func() *site {
		return newSite(t, keys, redisrevoke.New(connect(t), &redisrevoke.Options{Prefix: prefix}), sealed.Options{})
	}
	return server(), server()
}

func newKeys(t *testing.T) *sealed.Keyring {
	t.Helper()
	keys, err := sealed.NewKeyring(sealed.GenerateKey("k1"))
	require.NoError(t, err)
	return keys
}

func app(m *sealed.Manager) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		sess, err := m.Session(r)
		if err != nil {
			return // the middleware answers 503
		}
		user := r.FormValue("user")
		if err := errors.Join(sess.CycleID(), sess.SetSubject(user), sess.Set("user", user)); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		io.WriteString(w, "ok")
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		if sess, err := m.Session(r); err == nil {
			if err := sess.Invalidate(); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			io.WriteString(w, "bye")
		}
	})
	// A logout page that renders its own "logged out" flash.
	mux.HandleFunc("POST /logout-flash", func(w http.ResponseWriter, r *http.Request) {
		if sess, err := m.Session(r); err == nil {
			err := errors.Join(sess.Invalidate(), sess.AddFlash("You are logged out"))
			fl, ferr := sess.Flashes()
			if err := errors.Join(err, ferr); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			io.WriteString(w, fl[0])
		}
	})
	mux.HandleFunc("POST /cycle", func(w http.ResponseWriter, r *http.Request) {
		if sess, err := m.Session(r); err == nil {
			if err := sess.CycleID(); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			io.WriteString(w, "cycled")
		}
	})
	mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
		sess, err := m.Session(r)
		if err != nil {
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
	// Test-only: the ID and creation time, to find the Redis key.
	mux.HandleFunc("GET /info", func(w http.ResponseWriter, r *http.Request) {
		if sess, err := m.Session(r); err == nil {
			fmt.Fprintf(w, "%s %d", sess.ID(), sess.CreatedAt().UnixMilli())
		}
	})
	return m.Middleware(mux)
}

// browser is a client with a cookie jar; its cookies go to every site on
// 127.0.0.1 whatever the port, as a browser's do.
type browser struct {
	t *testing.T
	c *http.Client
}

func newBrowser(t *testing.T) *browser {
	b, err := newBrowserE()
	require.NoError(t, err)
	b.t = t
	return b
}

func newBrowserE() (*browser, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	return &browser{c: &http.Client{Jar: jar, Timeout: 10 * time.Second}}, nil
}

type response struct {
	status     int
	body       string
	setCookies []string
	took       time.Duration
}

func (b *browser) do(method string, s *site, path string, form url.Values, extra ...*http.Cookie) response {
	b.t.Helper()
	r, err := b.try(method, s, path, form, extra...)
	require.NoError(b.t, err)
	return r
}

// try is do for goroutines other than the test's, which must not stop the
// test: it returns the error instead.
func (b *browser) try(method string, s *site, path string, form url.Values, extra ...*http.Cookie) (response, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(b.t.Context(), method, s.srv.URL+path, body)
	if err != nil {
		return response{}, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for _, c := range extra {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	start := time.Now()
	res, err := b.c.Do(req)
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	if err != nil {
		return response{}, err
	}
	return response{res.StatusCode, string(out), res.Header.Values("Set-Cookie"), time.Since(start)}, nil
}

func (b *browser) login(s *site, user string) {
	b.t.Helper()
	r := b.do(http.MethodPost, s, "/login", url.Values{"user": {user}})
	require.Equal(b.t, http.StatusOK, r.status, r.body)
}

func (b *browser) whoami(s *site) string {
	b.t.Helper()
	r := b.do(http.MethodGet, s, "/whoami", nil)
	require.Equal(b.t, http.StatusOK, r.status, r.body)
	return r.body
}

func (b *browser) cookies(s *site) []*http.Cookie {
	u, err := url.Parse(s.srv.URL)
	require.NoError(b.t, err)
	return b.c.Jar.Cookies(u)
}

// replay sends a saved copy of cookies from a client without a jar.
func replay(t *testing.T, s *site, cookies []*http.Cookie) response {
	t.Helper()
	require.NotEmpty(t, cookies, "nothing to replay")
	r, err := tryReplay(t, s, cookies)
	require.NoError(t, err)
	return r
}

func tryReplay(t *testing.T, s *site, cookies []*http.Cookie) (response, error) {
	attacker := &browser{t: t, c: &http.Client{Timeout: 10 * time.Second}}
	return attacker.try(http.MethodGet, s, "/whoami", nil, cookies...)
}

func TestRevocationSharedAcrossManagers(t *testing.T) {
	onEachBackend(t, testRevocationSharedAcrossManagers)
}

func testRevocationSharedAcrossManagers(t *testing.T, connect connectFunc) {
	s1, s2 := fleet(t, connect)

	b := newBrowser(t)
	b.login(s1, "alice")
	stolen := b.cookies(s1)
	require.Equal(t, "alice", replay(t, s2, stolen).body, "both servers open the same cookie")

	r := b.do(http.MethodPost, s1, "/logout", nil)
	require.Equal(t, http.StatusOK, r.status)
	r = replay(t, s2, stolen)
	assert.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, "anonymous", r.body, "server 2 refuses the cookie server 1 logged out")
	assert.NotEmpty(t, r.setCookies, "and expires it")

	// "Log out everywhere" asked of server 2 ends a session that lives
	// on server 1.
	bob := newBrowser(t)
	bob.login(s1, "bob")
	time.Sleep(2 * time.Millisecond) // created strictly before the revocation
	require.NoError(t, s2.m.RevokeSubject(t.Context(), "bob"))
	assert.Equal(t, "anonymous", bob.whoami(s1))
	bob.login(s1, "bob")
	assert.Equal(t, "bob", bob.whoami(s2), "a login after the revocation works everywhere")
}

// A logout page that shows its flash logs out for real: the copy of the
// cookie taken before it is refused by every server.
func TestRevocationLogoutWithFlash(t *testing.T) { onEachBackend(t, testRevocationLogoutWithFlash) }

func testRevocationLogoutWithFlash(t *testing.T, connect connectFunc) {
	s1, s2 := fleet(t, connect)
	b := newBrowser(t)
	b.login(s1, "alice")
	stolen := b.cookies(s1)
	r := b.do(http.MethodPost, s1, "/logout-flash", nil)
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.Equal(t, "You are logged out", r.body)
	assert.NotEmpty(t, r.setCookies, "the logout replaces or expires the cookie")
	assert.Equal(t, "anonymous", b.whoami(s1))
	assert.Equal(t, "anonymous", replay(t, s2, stolen).body, "the copy from before the logout is refused")
}

func TestRevocationEntryTTL(t *testing.T) { onEachBackend(t, testRevocationEntryTTL) }

func testRevocationEntryTTL(t *testing.T, connect connectFunc) {
	const absolute, skew = time.Hour, time.Minute
	client := connect(t)
	prefix := uniquePrefix()
	s := newSite(t, newKeys(t), redisrevoke.New(client, &redisrevoke.Options{Prefix: prefix}),
		sealed.Options{AbsoluteTimeout: absolute, ClockSkew: skew})
	ctx := t.Context()

	b := newBrowser(t)
	b.login(s, "alice")
	info := strings.Fields(b.do(http.MethodGet, s, "/info", nil).body)
	require.Len(t, info, 2)
	id := info[0]
	createdMs, err := strconv.ParseInt(info[1], 10, 64)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, b.do(http.MethodPost, s, "/logout", nil).status)

	// The entry lives exactly as long as the session could have: until
	// its absolute timeout (plus skew), counted from its creation.
	left, err := client.PTTL(ctx, prefix+"id:"+id).Result()
	require.NoError(t, err)
	want := time.Until(time.UnixMilli(createdMs).Add(absolute + skew))
	assert.InDelta(t, want.Milliseconds(), left.Milliseconds(), 2000, "PTTL %v, want about %v", left, want)

	require.NoError(t, s.m.RevokeSubject(ctx, "alice"))
	left, err = client.PTTL(ctx, prefix+"sub:alice").Result()
	require.NoError(t, err)
	assert.InDelta(t, (absolute + skew).Milliseconds(), left.Milliseconds(), 2000)
	before, err := client.Get(ctx, prefix+"sub:alice").Int64()
	require.NoError(t, err)
	assert.InDelta(t, time.Now().UnixMilli(), before, 2000, "before is stored as Unix milliseconds")

	// A later RevokeSubject with a shorter lifetime raises before but
	// keeps the longer TTL.
	l := redisrevoke.New(client, &redisrevoke.Options{Prefix: prefix})
	require.NoError(t, l.RevokeSubject(ctx, "alice", time.UnixMilli(before+5), time.Minute))
	left, err = client.PTTL(ctx, prefix+"sub:alice").Result()
	require.NoError(t, err)
	assert.Greater(t, left, 59*time.Minute)
	raised, err := client.Get(ctx, prefix+"sub:alice").Int64()
	require.NoError(t, err)
	assert.Equal(t, before+5, raised)

	// Redis itself drops expired entries: the key is gone, not ignored.
	short := randomID()
	require.NoError(t, l.Revoke(ctx, short, 300*time.Millisecond))
	left, err = client.PTTL(ctx, prefix+"id:"+short).Result()
	require.NoError(t, err)
	assert.True(t, left > 200*time.Millisecond && left <= 300*time.Millisecond, "PTTL %v", left)
	time.Sleep(400 * time.Millisecond)
	n, err := client.Exists(ctx, prefix+"id:"+short).Result()
	require.NoError(t, err)
	assert.Zero(t, n)
}

// A Manager whose clock (Options.Now) is far off Redis's still revokes,
// and its entries live as long as its sessions could have: lifetimes go to
// Redis as TTLs, which Redis counts down itself. When the list took expiry
// instants instead, a Manager a year behind stored nothing (the instant
// was already past by the wall clock), so a logout did not revoke, and one
// a year ahead stored entries for a year.
func TestRevocationManagerClockOffset(t *testing.T) {
	onEachBackend(t, testRevocationManagerClockOffset)
}

func testRevocationManagerClockOffset(t *testing.T, connect connectFunc) {
	const absolute, skew = time.Hour, time.Minute
	const year = 365 * 24 * time.Hour
	for _, offset := range []time.Duration{-year, year} {
		t.Run(offset.String(), func(t *testing.T) {
			client := connect(t)
			prefix := uniquePrefix()
			s := newSite(t, newKeys(t), redisrevoke.New(client, &redisrevoke.Options{Prefix: prefix}),
				sealed.Options{
					AbsoluteTimeout: absolute,
					ClockSkew:       skew,
					Now:             func() time.Time { return time.Now().Add(offset) },
				})
			ctx := t.Context()
			pttl := func(key string) time.Duration {
				t.Helper()
				left, err := client.PTTL(ctx, prefix+key).Result()
				require.NoError(t, err)
				return left
			}

			b := newBrowser(t)
			b.login(s, "alice")
			stolen := b.cookies(s)
			id := strings.Fields(b.do(http.MethodGet, s, "/info", nil).body)[0]
			require.Equal(t, http.StatusOK, b.do(http.MethodPost, s, "/logout", nil).status)
			assert.Equal(t, "anonymous", replay(t, s, stolen).body, "the logged-out cookie is refused")
			assert.InDelta(t, (absolute + skew).Milliseconds(), pttl("id:"+id).Milliseconds(), 2000,
				"the ID entry lives for the session's remaining lifetime")

			bob := newBrowser(t)
			bob.login(s, "bob")
			time.Sleep(2 * time.Millisecond) // created strictly before the revocation
			require.NoError(t, s.m.RevokeSubject(ctx, "bob"))
			assert.Equal(t, "anonymous", bob.whoami(s), "log out everywhere ends the session")
			assert.InDelta(t, (absolute + skew).Milliseconds(), pttl("sub:bob").Milliseconds(), 2000,
				"the subject entry lives for a session's lifetime")
			bob.login(s, "bob")
			assert.Equal(t, "bob", bob.whoami(s), "a login after the revocation works")
		})
	}
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

// hook is a middleware error hook that answers 503 and remembers the
// last error it saw.
type hook struct{ last atomic.Pointer[error] }

func (h *hook) handle(w http.ResponseWriter, r *http.Request, err error) {
	h.last.Store(&err)
	http.Error(w, "sessions are unavailable, try again", http.StatusServiceUnavailable)
}

// lastErr is the last error seen since the last reset, or nil.
func (h *hook) lastErr() error {
	if p := h.last.Load(); p != nil {
		return *p
	}
	return nil
}

func (h *hook) reset() { h.last.Store(nil) }

// outage is a site whose own Redis the test stops, pauses and restarts.
type outage struct {
	redis *redisServer
	site  *site
	logs  *lockedBuffer
	hook
}

const revocationTimeout = 300 * time.Millisecond

func newOutage(t *testing.T, failOpen bool) *outage {
	t.Helper()
	o := &outage{redis: ownRedis(t), logs: &lockedBuffer{}}
	list := redisrevoke.New(newClient(t, o.redis.addr()), nil)
	o.site = newSite(t, newKeys(t), list, sealed.Options{
		RevocationFailOpen: failOpen,
		RevocationTimeout:  revocationTimeout,
		Logger:             slog.New(slog.NewTextHandler(o.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		ErrorHandler:       o.handle,
	})
	return o
}

// assertNoSecretsLogged checks that nothing identifying the session made
// it into the logs.
func assertNoSecretsLogged(t *testing.T, logs string, id string, cookies []*http.Cookie) {
	t.Helper()
	assert.NotContains(t, logs, id, "session ID logged")
	for _, c := range cookies {
		assert.NotContains(t, logs, c.Value, "cookie value logged")
	}
}

func TestRevocationRedisDownFailsClosed(t *testing.T) {
	t.Parallel()
	o := newOutage(t, false)
	b := newBrowser(t)
	b.login(o.site, "alice")
	id := strings.Fields(b.do(http.MethodGet, o.site, "/info", nil).body)[0]
	held := b.cookies(o.site)

	start := time.Now()
	o.redis.kill()
	t.Logf("redis killed in %v", time.Since(start))

	r := b.do(http.MethodGet, o.site, "/whoami", nil)
	t.Logf("request with redis down: %d in %v", r.status, r.took)
	assert.Equal(t, http.StatusServiceUnavailable, r.status)
	assert.Contains(t, r.body, "try again", "the error hook answered")
	assert.ErrorIs(t, o.lastErr(), sealed.ErrUnavailable)
	assert.Empty(t, r.setCookies, "no Set-Cookie: the client's cookies are left alone")

	r = b.do(http.MethodPost, o.site, "/logout", nil)
	assert.Equal(t, http.StatusServiceUnavailable, r.status, "a logout that cannot be recorded fails")
	assert.Empty(t, r.setCookies)
	assert.Equal(t, held, b.cookies(o.site), "client cookies untouched")

	start = time.Now()
	require.NoError(t, o.redis.restart())
	t.Logf("redis restarted in %v", time.Since(start))
	r = b.do(http.MethodGet, o.site, "/whoami", nil)
	t.Logf("first request after restart: %d in %v", r.status, r.took)
	assert.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, "alice", r.body, "the original session works again")
	assertNoSecretsLogged(t, o.logs.String(), id, held)
}

func TestRevocationRedisDownFailOpen(t *testing.T) {
	t.Parallel()
	o := newOutage(t, true)
	b := newBrowser(t)
	b.login(o.site, "alice")
	id := strings.Fields(b.do(http.MethodGet, o.site, "/info", nil).body)[0]
	held := b.cookies(o.site)
	o.redis.kill()

	r := b.do(http.MethodGet, o.site, "/whoami", nil)
	assert.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, "alice", r.body, "served as not revoked")
	logs := o.logs.String()
	assert.Contains(t, logs, "level=WARN")
	assert.Contains(t, logs, "failing open")
	assert.Contains(t, logs, "redisrevoke: lookup")
	assert.Nil(t, o.lastErr())

	// Failing open covers lookups only: a logout still needs its
	// revocation recorded, or a copy of the cookie would replay.
	r = b.do(http.MethodPost, o.site, "/logout", nil)
	assert.Equal(t, http.StatusServiceUnavailable, r.status)
	assert.Empty(t, r.setCookies)
	assert.ErrorIs(t, o.lastErr(), sealed.ErrUnavailable)

	require.NoError(t, o.redis.restart())
	assert.Equal(t, "alice", b.whoami(o.site))
	assertNoSecretsLogged(t, o.logs.String(), id, held)
}

func TestRevocationRedisHung(t *testing.T) {
	t.Parallel()
	o := newOutage(t, false)
	b := newBrowser(t)
	b.login(o.site, "alice")

	o.redis.pause()
	r := b.do(http.MethodGet, o.site, "/whoami", nil)
	o.redis.resume()
	t.Logf("request with redis hung: %d in %v", r.status, r.took)
	assert.Equal(t, http.StatusServiceUnavailable, r.status)
	assert.Empty(t, r.setCookies)
	assert.Less(t, r.took, revocationTimeout+time.Second, "RevocationTimeout bounds the wait through the context")

	assert.Equal(t, "alice", b.whoami(o.site), "works once Redis answers again")
}

func TestRevocationConcurrentLoad(t *testing.T) { onEachBackend(t, testRevocationConcurrentLoad) }

func testRevocationConcurrentLoad(t *testing.T, connect connectFunc) {
	const workers, requests = 8, 50
	// Two servers on two clients, as in a fleet; each worker alternates.
	s1, s2 := fleet(t, connect)
	sites := []*site{s1, s2}
	start := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			if err := loadWorker(t, sites, "user"+strconv.Itoa(w), requests); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	t.Logf("%d workers x %d requests in %v", workers, requests, time.Since(start))
}

// loadWorker is one user of TestRevocationConcurrentLoad: mostly reads,
// with an ID cycle and a logout, replay check and new login now and then,
// alternating between the servers.
func loadWorker(t *testing.T, sites []*site, user string, requests int) error {
	b, err := newBrowserE()
	if err != nil {
		return err
	}
	b.t = t
	expect := func(r response, err error, what string, body string) error {
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if r.status != http.StatusOK || (body != "" && r.body != body) {
			return fmt.Errorf("%s: %d %q, want 200 %q", what, r.status, r.body, body)
		}
		return nil
	}
	login := func(s *site) error {
		r, err := b.try(http.MethodPost, s, "/login", url.Values{"user": {user}})
		return expect(r, err, "login", "ok")
	}
	if err := login(sites[0]); err != nil {
		return err
	}
	for i := range requests {
		s, other := sites[i%2], sites[(i+1)%2]
		switch {
		case i%10 == 9:
			old := b.cookies(s)
			r, err := b.try(http.MethodPost, s, "/logout", nil)
			if err := expect(r, err, "logout", "bye"); err != nil {
				return err
			}
			r, err = tryReplay(t, other, old)
			if err := expect(r, err, "replay after logout on the other server", "anonymous"); err != nil {
				return err
			}
			if err := login(s); err != nil {
				return err
			}
		case i%7 == 3:
			r, err := b.try(http.MethodPost, s, "/cycle", nil)
			if err := expect(r, err, "cycle", "cycled"); err != nil {
				return err
			}
		default:
			r, err := b.try(http.MethodGet, s, "/whoami", nil)
			if err := expect(r, err, "whoami", user); err != nil {
				return err
			}
		}
	}
	return nil
}

// WaitReplicas needs to put WAIT on the connection of the write, which
// New can only promise for the clients it knows; anything else is a
// programming error, found at startup.
func TestNewRefusesWaitReplicasItCannotHonour(t *testing.T) {
	ring := redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": "127.0.0.1:1"}})
	defer ring.Close()
	single := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer single.Close()
	assert.PanicsWithValue(t, "redisrevoke: New: WaitReplicas needs a *redis.Client or *redis.ClusterClient, not *redis.Ring",
		func() { redisrevoke.New(ring, &redisrevoke.Options{WaitReplicas: 1}) })
	assert.Panics(t, func() { redisrevoke.New(single, &redisrevoke.Options{WaitReplicas: -1}) })
	assert.Panics(t, func() { redisrevoke.New(nil, nil) })
	assert.NotPanics(t, func() { redisrevoke.New(ring, nil) }, "a ring without waiting is fine")
	assert.NotPanics(t, func() { redisrevoke.New(single, &redisrevoke.Options{WaitReplicas: 2}) })
}
