package sealedgin_test

import (
	"encoding/gob"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gin-contrib/sessions"
	"github.com/gin-contrib/sessions/cookie"
	"github.com/gin-gonic/gin"
	"github.com/gorilla/securecookie"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealedgo/sealed"
	"github.com/sealedgo/sealed/sealedgin"
	"github.com/sealedgo/sealed/sealedgorilla"
)

// ginUser is a gob-registered struct, as gin-contrib/sessions users store.
type ginUser struct{ Name string }

func init() { gob.Register(ginUser{}) }

// storeApp is a gin-contrib/sessions application; it runs unchanged on
// cookie.NewStore and on sealedgin.NewStore.
func storeApp(store sessions.Store) *gin.Engine {
	r := gin.New()
	r.Use(sessions.Sessions("app", store))
	save := func(c *gin.Context, s sessions.Session) bool {
		if err := s.Save(); err != nil {
			c.String(http.StatusInternalServerError, "save: %v", err)
			return false
		}
		return true
	}
	r.GET("/login", func(c *gin.Context) {
		s := sessions.Default(c)
		s.Set("user", ginUser{Name: c.Query("user")})
		s.Set(7, "seven") // a non-string key
		s.AddFlash("welcome")
		if save(c, s) {
			c.String(http.StatusOK, "ok")
		}
	})
	r.GET("/me", func(c *gin.Context) {
		s := sessions.Default(c)
		flashes := s.Flashes()
		if len(flashes) > 0 && !save(c, s) {
			return
		}
		u, _ := s.Get("user").(ginUser)
		c.String(http.StatusOK, "user=%s seven=%v flashes=%v", u.Name, s.Get(7), flashes)
	})
	r.GET("/grow", func(c *gin.Context) {
		s := sessions.Default(c)
		s.Set("big", strings.Repeat("x", 4500))
		if save(c, s) {
			c.String(http.StatusOK, "ok")
		}
	})
	r.GET("/odd", func(c *gin.Context) {
		s := sessions.Default(c)
		s.Set("odd", struct{ N int }{1}) // never registered
		if save(c, s) {
			c.String(http.StatusOK, "ok")
		}
	})
	r.GET("/logout", func(c *gin.Context) {
		s := sessions.Default(c)
		s.Clear()
		s.Options(sessions.Options{MaxAge: -1})
		if save(c, s) {
			c.String(http.StatusOK, "ok")
		}
	})
	return r
}

// storeSite is an httptest TLS server whose handler can be swapped, and a
// browser with a cookie jar for it.
type storeSite struct {
	srv *httptest.Server
	h   atomic.Pointer[http.Handler]
	c   *http.Client
	jar *cookiejar.Jar
}

func newStoreSite(t *testing.T, h http.Handler) *storeSite {
	s := &storeSite{}
	s.handle(h)
	s.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		(*s.h.Load()).ServeHTTP(w, r)
	}))
	t.Cleanup(s.srv.Close)
	var err error
	s.jar, err = cookiejar.New(nil)
	require.NoError(t, err)
	s.c = s.srv.Client()
	s.c.Jar = s.jar
	return s
}

func (s *storeSite) handle(h http.Handler) { s.h.Store(&h) }

func (s *storeSite) get(t *testing.T, path string) (body string, setCookie []string) {
	t.Helper()
	resp, err := s.c.Get(s.srv.URL + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b), resp.Header.Values("Set-Cookie")
}

func (s *storeSite) cookies(t *testing.T) []string {
	u, err := url.Parse(s.srv.URL)
	require.NoError(t, err)
	var out []string
	for _, c := range s.jar.Cookies(u) {
		out = append(out, c.Name)
	}
	return out
}

func newSealedStore(t *testing.T, o *sealedgorilla.StoreOptions) *sealedgin.Store {
	t.Helper()
	keys, err := sealed.NewKeyring(sealed.GenerateKey("k1"))
	require.NoError(t, err)
	st, err := sealedgin.NewStore(keys, o)
	require.NoError(t, err)
	return st
}

func TestStoreLoginFlashGrowLogout(t *testing.T) {
	st := newSealedStore(t, &sealedgorilla.StoreOptions{Sealed: sealed.Options{Budget: sealed.BudgetNginx8k()}})
	s := newStoreSite(t, storeApp(st))

	body, _ := s.get(t, "/me")
	assert.Equal(t, "user= seven=<nil> flashes=[]", body)
	body, lines := s.get(t, "/login?user=ada")
	assert.Equal(t, "ok", body)
	require.Len(t, lines, 1)
	assert.True(t, strings.HasPrefix(lines[0], "app="), lines[0])
	body, _ = s.get(t, "/me")
	assert.Equal(t, "user=ada seven=seven flashes=[welcome]", body)
	body, _ = s.get(t, "/me")
	assert.Equal(t, "user=ada seven=seven flashes=[]", body, "a flash is read once")

	body, lines = s.get(t, "/grow")
	assert.Equal(t, "ok", body)
	assert.Len(t, lines, 2, "past one cookie: app and app.1")
	assert.ElementsMatch(t, []string{"app", "app.1"}, s.cookies(t))
	body, _ = s.get(t, "/me")
	assert.Equal(t, "user=ada seven=seven flashes=[]", body)

	body, _ = s.get(t, "/logout")
	assert.Equal(t, "ok", body)
	assert.Empty(t, s.cookies(t), "every chunk deleted")
	body, _ = s.get(t, "/me")
	assert.Equal(t, "user= seven=<nil> flashes=[]", body)
}

// Options replaces the defaults, as cookie.Store's does: MaxAge 0 gives a
// browser-session cookie.
func TestStoreOptions(t *testing.T) {
	st := newSealedStore(t, nil)
	st.Options(sessions.Options{Path: "/", MaxAge: 0, Secure: true, SameSite: http.SameSiteStrictMode})
	s := newStoreSite(t, storeApp(st))
	_, lines := s.get(t, "/login?user=ada")
	require.Len(t, lines, 1)
	assert.NotContains(t, lines[0], "Max-Age")
	assert.Contains(t, lines[0], "SameSite=Strict")
	assert.Contains(t, lines[0], "HttpOnly")
}

// A value of a type gob does not know fails Save with an error naming it
// (gin-contrib/sessions#39, #134, #179), and nothing is written.
func TestStoreUnregisteredType(t *testing.T) {
	s := newStoreSite(t, storeApp(newSealedStore(t, nil)))
	s.get(t, "/login?user=ada")
	body, lines := s.get(t, "/odd")
	assert.Contains(t, body, "struct { N int }")
	assert.Contains(t, body, "gob.Register")
	assert.Empty(t, lines)
	body, _ = s.get(t, "/me")
	assert.Contains(t, body, "user=ada")
}

// Users of cookie.NewStore stay logged in across the switch.
func TestStoreMigrateFromCookieStore(t *testing.T) {
	hash, block := securecookie.GenerateRandomKey(32), securecookie.GenerateRandomKey(32)
	s := newStoreSite(t, storeApp(cookie.NewStore(hash, block)))
	s.get(t, "/login?user=ada")
	require.Equal(t, []string{"app"}, s.cookies(t))

	s.handle(storeApp(newSealedStore(t, &sealedgorilla.StoreOptions{
		Migrate: &sealedgorilla.Migration{KeyPairs: [][]byte{hash, block}},
	})))
	body, lines := s.get(t, "/me")
	assert.Equal(t, "user=ada seven=seven flashes=[welcome]", body)
	require.Len(t, lines, 1, "the sealed cookie overwrites the old one")
	body, _ = s.get(t, "/me")
	assert.Equal(t, "user=ada seven=seven flashes=[]", body)
}

func ExampleNewStore() {
	keys, err := sealed.NewKeyring(sealed.GenerateKey("k1")) // in production: sealed.ParseKeyring
	if err != nil {
		panic(err)
	}
	store, err := sealedgin.NewStore(keys, nil) // was: cookie.NewStore([]byte("secret"))
	if err != nil {
		panic(err)
	}
	r := gin.New()
	r.Use(sessions.Sessions("app", store))
	r.GET("/", func(c *gin.Context) {
		s := sessions.Default(c)
		n, _ := s.Get("visits").(int)
		s.Set("visits", n+1)
		if err := s.Save(); err != nil {
			c.String(http.StatusInternalServerError, "%v", err)
			return
		}
		c.String(http.StatusOK, "visit %d", n+1)
	})
	_ = r.Run(":8080")
}
