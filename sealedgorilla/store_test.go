package sealedgorilla_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/sessions"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealedgo/sealed"
	"github.com/sealedgo/sealed/internal/adaptertest"
	"github.com/sealedgo/sealed/sealedgorilla"
	"github.com/sealedgo/sealed/sealedtest"
)

// A plain gorilla/sessions application on a sealed Store: login with a
// struct and a non-string key, a flash read once, a session grown past one
// cookie, logout.
func TestStoreLoginFlashGrowLogout(t *testing.T) {
	var ev events
	st := newStore(t, newKeys(t), &sealedgorilla.StoreOptions{Sealed: sealed.Options{
		Budget: sealed.BudgetNginx8k(), Observer: ev.observe,
	}})
	b := newSite(t, app(st)).browser(t)

	r := b.get("/me")
	assert.Equal(t, "user= roles=[] answer=<nil> new=true flashes=[]", r.body)
	assert.Empty(t, r.cookies, "reading an empty session writes nothing")

	r = b.get("/login?user=ada")
	require.Equal(t, http.StatusOK, r.code, r.body)
	require.Equal(t, []string{"app"}, names(r.cookies))
	l := line(r.cookies, "app")
	for _, attr := range []string{"Path=/", "Max-Age=", "HttpOnly", "Secure", "SameSite=Lax"} {
		assert.Contains(t, l, attr)
	}
	assert.Contains(t, r.header.Values("Vary"), "Cookie")
	assert.Contains(t, r.header.Values("Cache-Control"), `no-cache="Set-Cookie"`)

	r = b.get("/me")
	assert.Equal(t, "user=ada roles=[admin] answer=answer new=false flashes=[welcome ada]", r.body)
	assert.Len(t, r.cookies, 1, "reading the flash removes it: saved")
	r = b.get("/me")
	assert.Equal(t, "user=ada roles=[admin] answer=answer new=false flashes=[]", r.body, "a flash is read once")
	assert.Empty(t, r.cookies)

	r = b.get("/grow?n=4500")
	require.Equal(t, http.StatusOK, r.code, r.body)
	assert.Equal(t, []string{"app", "app.1"}, names(r.cookies))
	jar := b.cookies("/")
	assert.Len(t, jar, 2)
	r = b.get("/me")
	assert.Equal(t, "user=ada roles=[admin] answer=answer new=false flashes=[]", r.body)

	ev.take()
	r = b.get("/logout")
	require.Equal(t, http.StatusOK, r.code, r.body)
	assert.Equal(t, []string{"app", "app.1"}, names(r.cookies))
	for _, l := range r.cookies {
		assert.Contains(t, l, "Max-Age=0", "every chunk is expired")
	}
	assert.Equal(t, []string{"load:opened", "load:opened", "save:expired"}, ev.take())
	assert.Empty(t, b.cookies("/"), "the browser dropped every cookie")
	assert.Equal(t, "user= roles=[] answer=<nil> new=true flashes=[]", b.get("/me").body)
}

// Logout revokes the session's ID when a revocation list is configured: a
// copy of the cookie taken before logout no longer opens.
func TestStoreLogoutRevokes(t *testing.T) {
	st := newStore(t, newKeys(t), &sealedgorilla.StoreOptions{Sealed: sealed.Options{Revocation: sealed.NewMemoryRevocationList()}})
	s := newSite(t, app(st))
	b := s.browser(t)
	b.get("/login?user=ada")
	stolen := b.cookies("/")["app"]
	require.NotEmpty(t, stolen)
	b.get("/logout")

	thief := s.browser(t)
	thief.set("/", &http.Cookie{Name: "app", Value: stolen, Path: "/"})
	assert.Equal(t, "user= roles=[] answer=<nil> new=true flashes=[]", thief.get("/me").body)
}

// MaxAge 0 gives a browser-session cookie (no Max-Age, no Expires), and
// the session read back keeps that choice until a Save says otherwise.
func TestStoreMaxAgeZero(t *testing.T) {
	st := newStore(t, newKeys(t), nil)
	b := newSite(t, app(st)).browser(t)
	b.get("/login?user=ada")

	r := b.get("/browser")
	require.Len(t, r.cookies, 1)
	assert.NotContains(t, r.cookies[0], "Max-Age")
	assert.NotContains(t, r.cookies[0], "Expires")

	r = b.get("/grow?n=10") // a change, with the Options read back
	require.Len(t, r.cookies, 1)
	assert.NotContains(t, r.cookies[0], "Max-Age", "the session's Options say MaxAge 0 after a round trip")

	// An unchanged browser-session session stays one: nothing to write,
	// although the Store's default MaxAge is 30 days.
	h := app(st)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/peek", nil)
	req.Header.Set("Cookie", "app="+b.cookies("/")["app"])
	h.ServeHTTP(rec, req)
	assert.Empty(t, rec.Header().Values("Set-Cookie"))

	// A session that asks for MaxAge > 0 again is persistent again.
	req = httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Cookie", "app="+b.cookies("/")["app"])
	s, err := st.Get(req, "app")
	require.NoError(t, err)
	assert.Equal(t, 0, s.Options.MaxAge)
	s.Options.MaxAge = 3600
	rec = httptest.NewRecorder()
	require.NoError(t, s.Save(req, rec))
	lines := rec.Header().Values("Set-Cookie")
	require.Len(t, lines, 1)
	assert.Contains(t, lines[0], "Max-Age=")
}

// A forged or garbled cookie is a fresh session, not an error.
func TestStoreForgedCookie(t *testing.T) {
	st := newStore(t, newKeys(t), nil)
	other := newStore(t, newKeys(t), nil) // other keys: authentic-looking, not ours
	s := newSite(t, app(st))

	ob := newSite(t, app(other)).browser(t)
	ob.get("/login?user=mallory")
	forged := ob.cookies("/")["app"]
	require.NotEmpty(t, forged)

	for _, v := range []string{forged, "garbage", strings.Repeat("A", 3000), "%%%"} {
		b := s.browser(t)
		b.set("/", &http.Cookie{Name: "app", Value: v, Path: "/"})
		r := b.get("/me")
		assert.Equal(t, http.StatusOK, r.code)
		assert.Equal(t, "user= roles=[] answer=<nil> new=true flashes=[]", r.body)
		r = b.get("/login?user=ada")
		assert.Equal(t, http.StatusOK, r.code, "the next write replaces the bad cookie")
		assert.Contains(t, b.get("/me").body, "user=ada")
	}
}

// Get caches the session per request and name, through gorilla's
// registry; New does not.
func TestStoreRegistry(t *testing.T) {
	st := newStore(t, newKeys(t), nil)
	req := httptest.NewRequest("GET", "/", nil)
	a, err := st.Get(req, "app")
	require.NoError(t, err)
	a.Values["k"] = "v"
	again, err := st.Get(req, "app")
	require.NoError(t, err)
	assert.Same(t, a, again)
	other, err := st.Get(req, "prefs")
	require.NoError(t, err)
	assert.NotSame(t, a, other)
	fresh, err := st.New(req, "app")
	require.NoError(t, err)
	assert.NotSame(t, a, fresh)
	assert.Empty(t, fresh.Values)
	assert.True(t, fresh.IsNew)
	assert.Same(t, st, fresh.Store())
	assert.Equal(t, "app", fresh.Name())
	assert.NotSame(t, st.Options, fresh.Options, "each session has its own copy of the Options")
	assert.Equal(t, *st.Options, *fresh.Options)

	_, err = st.Get(req, "bad name")
	assert.Error(t, err, "gorilla's registry refuses an invalid cookie name")
}

// Two sessions in one request, saved together with sessions.Save.
func TestStoreTwoNames(t *testing.T) {
	st := newStore(t, newKeys(t), nil)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, err := st.Get(r, "app")
		require.NoError(t, err)
		p, err := st.Get(r, "prefs")
		require.NoError(t, err)
		if r.URL.Path == "/set" {
			a.Values["user"] = "ada"
			p.Values["theme"] = "dark"
			if err := sessions.Save(r, w); err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
		}
		fmt.Fprintf(w, "%v/%v", a.Values["user"], p.Values["theme"])
	})
	b := newSite(t, h).browser(t)
	r := b.get("/set")
	assert.Equal(t, []string{"app", "prefs"}, names(r.cookies))
	assert.Equal(t, "ada/dark", b.get("/").body)
}

// Save twice in one request: the last call's lines go out, once, with no
// stale chunk of the first.
func TestStoreSaveTwice(t *testing.T) {
	keys := newKeys(t)
	st := newStore(t, keys, &sealedgorilla.StoreOptions{Sealed: sealed.Options{Budget: sealed.BudgetNginx8k()}})
	m := manager(t, keys, sealed.BudgetNginx8k())
	for _, tc := range []struct {
		name          string
		first, second int
		want          []string
	}{
		{"big then small", 4500, 10, []string{"app"}},
		{"small then big", 10, 4500, []string{"app", "app.1"}},
		{"big then big", 4500, 4600, []string{"app", "app.1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/", nil)
			rec := httptest.NewRecorder()
			rec.Header().Add("Set-Cookie", "other=1; Path=/")
			s, err := st.Get(req, "app")
			require.NoError(t, err)
			s.Values["big"] = strings.Repeat("x", tc.first)
			require.NoError(t, s.Save(req, rec))
			s.Values["big"] = strings.Repeat("y", tc.second)
			require.NoError(t, s.Save(req, rec))
			lines := rec.Header().Values("Set-Cookie")
			assert.Equal(t, append(tc.want, "other"), names(lines), "the app's own cookie stays; one set of session lines")
			assert.Len(t, rec.Header().Values("Cache-Control"), 1)
			assert.Len(t, rec.Header().Values("Vary"), 1)
			got := sealedtest.FromResponse(t, m, req, rec.Header())
			b, ok, err := sealed.Get[[]byte](got, "gorilla")
			require.NoError(t, err)
			require.True(t, ok)
			assert.Contains(t, string(b), strings.Repeat("y", tc.second), "the last Save wins")
		})
	}
}

// manager returns a sealed Manager that reads a Store's "app" session
// (same keys, name and scope), for sealedtest.
func manager(t *testing.T, keys sealed.KeySource, budget sealed.Budget) *sealed.Manager {
	t.Helper()
	m, err := sealed.New(keys, &sealed.Options{CookieName: "app", Path: "/", Budget: budget})
	require.NoError(t, err)
	return m
}

// A value gob cannot encode fails Save with an error that names its type
// and says what to do; nothing is written.
func TestStoreUnregisteredType(t *testing.T) {
	type secret struct{ N int } // never gob.Register-ed
	st := newStore(t, newKeys(t), nil)
	for _, tc := range []struct {
		name   string
		set    func(map[any]any)
		inMsg  []string
		notMsg string
	}{
		{"value", func(v map[any]any) { v["cart"] = secret{1} }, []string{`value of type sealedgorilla_test.secret under key "cart"`, "gob.Register"}, ""},
		{"key", func(v map[any]any) { v[secret{2}] = "x" }, []string{"key of type sealedgorilla_test.secret", "gob.Register"}, ""},
		{"func", func(v map[any]any) { v["f"] = func() {} }, []string{"value of type func()"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/", nil)
			rec := httptest.NewRecorder()
			s, err := st.Get(req, "app")
			require.NoError(t, err)
			s.Values["ok"] = "fine"
			tc.set(s.Values)
			err = s.Save(req, rec)
			require.Error(t, err)
			for _, m := range tc.inMsg {
				assert.Contains(t, err.Error(), m)
			}
			assert.Empty(t, rec.Header().Values("Set-Cookie"))
		})
	}
}

// A session over the budget fails Save with a *sealed.TooLargeError and
// writes nothing: the client keeps its session.
func TestStoreTooLarge(t *testing.T) {
	st := newStore(t, newKeys(t), nil)
	b := newSite(t, app(st)).browser(t)
	b.get("/login?user=ada")
	before := b.cookies("/")

	r := b.get("/grow?n=20000")
	assert.Equal(t, http.StatusRequestEntityTooLarge, r.code)
	assert.Empty(t, r.cookies)
	assert.Equal(t, before, b.cookies("/"))
	assert.Contains(t, b.get("/me").body, "user=ada")

	req := httptest.NewRequest("GET", "/", nil)
	s, err := st.Get(req, "app")
	require.NoError(t, err)
	s.Values["big"] = strings.Repeat("x", 20000)
	err = s.Save(req, httptest.NewRecorder())
	var tl *sealed.TooLargeError
	require.ErrorAs(t, err, &tl)
	assert.Greater(t, tl.Bytes, tl.Limit)
}

// An unchanged session writes no cookie, whatever order gob wrote its map
// in; its IsNew is false.
func TestStoreUnchangedNotRewritten(t *testing.T) {
	st := newStore(t, newKeys(t), nil)
	b := newSite(t, app(st)).browser(t)
	b.get("/login?user=ada")
	b.get("/me") // reads the flash
	b.get("/many")
	for range 10 {
		r := b.get("/peek")
		assert.Empty(t, r.cookies)
		assert.Contains(t, r.header.Values("Vary"), "Cookie")
	}
	assert.Contains(t, b.get("/me").body, "new=false")
}

// Per-session Options choose the cookie's attributes, each with its own
// sealed Manager; Secure false allows plain http.
func TestStoreSessionOptions(t *testing.T) {
	st := newStore(t, newKeys(t), nil)
	req := httptest.NewRequest("GET", "/", nil)
	s, err := st.Get(req, "app")
	require.NoError(t, err)
	s.Values["k"] = "v"
	s.Options = &sessions.Options{Path: "/sub", MaxAge: 60, Secure: true, SameSite: http.SameSiteStrictMode, Partitioned: true}
	rec := httptest.NewRecorder()
	require.NoError(t, s.Save(req, rec))
	l := rec.Header().Get("Set-Cookie")
	for _, attr := range []string{"Path=/sub", "SameSite=Strict", "Partitioned", "Secure", "HttpOnly"} {
		assert.Contains(t, l, attr)
	}

	s.Options = &sessions.Options{Path: "/", Domain: "example.com", MaxAge: 60}
	rec = httptest.NewRecorder()
	require.NoError(t, s.Save(req, rec))
	l = rec.Header().Get("Set-Cookie")
	assert.Contains(t, l, "Domain=example.com")
	assert.NotContains(t, l, "Secure", "Secure false: plain-http development")

	s.Options = &sessions.Options{Path: "/", SameSite: http.SameSiteNoneMode}
	err = s.Save(req, httptest.NewRecorder())
	assert.ErrorContains(t, err, "SameSite", "SameSite=None without Secure is refused, not sent")

	// On plain http end to end.
	st.Options.Secure = false
	srv := httptest.NewServer(app(st))
	t.Cleanup(srv.Close)
	b := (&site{srv: srv}).browser(t)
	b.get("/login?user=ada")
	assert.Contains(t, b.get("/me").body, "user=ada")
}

// The revocation list being down is the one error Get returns, with a
// session; Save fails the same way and writes nothing.
func TestStoreUnavailable(t *testing.T) {
	list := adaptertest.NewFlakyList()
	st := newStore(t, newKeys(t), &sealedgorilla.StoreOptions{Sealed: sealed.Options{Revocation: list, RevocationTimeout: time.Second}})
	b := newSite(t, app(st)).browser(t)
	b.get("/login?user=ada")
	before := b.cookies("/")

	list.SetDown(true)
	r := b.get("/me")
	assert.Equal(t, http.StatusServiceUnavailable, r.code)
	assert.Empty(t, r.cookies)

	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Cookie", "app="+before["app"])
	s, err := st.Get(req, "app")
	require.ErrorIs(t, err, sealed.ErrUnavailable)
	require.NotNil(t, s)
	rec := httptest.NewRecorder()
	require.ErrorIs(t, st.Save(req, rec, s), sealed.ErrUnavailable)
	assert.Empty(t, rec.Header().Values("Set-Cookie"))

	list.SetDown(false)
	assert.Contains(t, b.get("/me").body, "user=ada", "nobody was logged out")
}

func TestNewStoreValidation(t *testing.T) {
	keys := newKeys(t)
	for _, tc := range []struct {
		name string
		o    sealedgorilla.StoreOptions
		want string
	}{
		{"sealed option", sealedgorilla.StoreOptions{Sealed: sealed.Options{IdleTimeout: -time.Second}}, "IdleTimeout"},
		{"purpose", sealedgorilla.StoreOptions{Sealed: sealed.Options{Purpose: strings.Repeat("p", 300)}}, "Purpose"},
		{"cookie name", sealedgorilla.StoreOptions{Sealed: sealed.Options{CookieName: "x"}}, "CookieName"},
		{"path", sealedgorilla.StoreOptions{Sealed: sealed.Options{Path: "/x"}}, "Path"},
		{"insecure", sealedgorilla.StoreOptions{Sealed: sealed.Options{AllowInsecure: true}}, "AllowInsecure"},
		{"import", sealedgorilla.StoreOptions{Sealed: sealed.Options{Import: func(context.Context, []string, *sealed.Session) []*http.Cookie { return nil }}}, "Import"},
		{"error handler", sealedgorilla.StoreOptions{Sealed: sealed.Options{ErrorHandler: func(http.ResponseWriter, *http.Request, error) {}}}, "ErrorHandler"},
		{"no key pairs", sealedgorilla.StoreOptions{Migrate: &sealedgorilla.Migration{}}, "Migrate.KeyPairs"},
		{"bad block key", sealedgorilla.StoreOptions{Migrate: &sealedgorilla.Migration{KeyPairs: [][]byte{[]byte("hash"), []byte("12345")}}}, "pair 1"},
		{"no hash key", sealedgorilla.StoreOptions{Migrate: &sealedgorilla.Migration{KeyPairs: [][]byte{[]byte("hash"), nil, nil}}}, "pair 2"},
		{"max age", sealedgorilla.StoreOptions{Migrate: &sealedgorilla.Migration{KeyPairs: [][]byte{[]byte("hash")}, MaxAge: -1}}, "Migrate.MaxAge"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := sealedgorilla.NewStore(keys, &tc.o)
			assert.ErrorContains(t, err, tc.want)
		})
	}
	_, err := sealedgorilla.NewStore(nil, nil)
	assert.Error(t, err)
	st, err := sealedgorilla.NewStore(keys, nil)
	require.NoError(t, err)
	assert.Equal(t, sessions.Options{Path: "/", MaxAge: 86400 * 30, Secure: true, SameSite: http.SameSiteLaxMode}, *st.Options)
}

// Sessions of several scopes saved from many goroutines at once: one
// Manager per scope, made on first use (run with -race).
func TestStoreConcurrent(t *testing.T) {
	st := newStore(t, newKeys(t), nil)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 20 {
				req := httptest.NewRequest("GET", "/", nil)
				s, err := st.Get(req, "app")
				if !assert.NoError(t, err) {
					return
				}
				s.Options.Path = fmt.Sprint("/p", (g+i)%3)
				s.Values["n"] = i
				rec := httptest.NewRecorder()
				if !assert.NoError(t, s.Save(req, rec)) {
					return
				}
				assert.Contains(t, rec.Header().Get("Set-Cookie"), "Path="+s.Options.Path)
			}
		})
	}
	wg.Wait()
}
