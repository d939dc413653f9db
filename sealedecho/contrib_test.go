package sealedecho_test

import (
	"encoding/gob"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gorilla/sessions"
	echosession "github.com/labstack/echo-contrib/session"
	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealedgo/sealed"
	"github.com/sealedgo/sealed/sealedgorilla"
)

// contribUser is a gob-registered struct, as echo-contrib/session users
// store.
type contribUser struct{ Name string }

func init() { gob.Register(contribUser{}) }

// contribApp is an echo-contrib/session application: echo-contrib takes
// any gorilla sessions.Store, so a sealedgorilla.Store drops in.
func contribApp(store sessions.Store) *echo.Echo {
	e := echo.New()
	e.Use(echosession.Middleware(store))
	get := func(c echo.Context) (*sessions.Session, error) { return echosession.Get("app", c) }
	save := func(c echo.Context, s *sessions.Session) error {
		if err := s.Save(c.Request(), c.Response()); err != nil {
			return echo.NewHTTPError(http.StatusInternalServerError, "save: "+err.Error())
		}
		return nil
	}
	e.GET("/login", func(c echo.Context) error {
		s, err := get(c)
		if err != nil {
			return err
		}
		s.Values["user"] = contribUser{Name: c.QueryParam("user")}
		s.AddFlash("welcome")
		if err := save(c, s); err != nil {
			return err
		}
		return c.String(http.StatusOK, "ok")
	})
	e.GET("/me", func(c echo.Context) error {
		s, err := get(c)
		if err != nil {
			return err
		}
		flashes := s.Flashes()
		if len(flashes) > 0 {
			if err := save(c, s); err != nil {
				return err
			}
		}
		u, _ := s.Values["user"].(contribUser)
		return c.String(http.StatusOK, fmt.Sprintf("user=%s flashes=%v", u.Name, flashes))
	})
	e.GET("/grow", func(c echo.Context) error {
		s, err := get(c)
		if err != nil {
			return err
		}
		s.Values["big"] = strings.Repeat("x", 4500)
		if err := save(c, s); err != nil {
			return err
		}
		return c.String(http.StatusOK, "ok")
	})
	e.GET("/logout", func(c echo.Context) error {
		s, err := get(c)
		if err != nil {
			return err
		}
		s.Options.MaxAge = -1
		if err := save(c, s); err != nil {
			return err
		}
		return c.String(http.StatusOK, "ok")
	})
	return e
}

func TestContribLoginFlashGrowLogout(t *testing.T) {
	keys, err := sealed.NewKeyring(sealed.GenerateKey("k1"))
	require.NoError(t, err)
	store, err := sealedgorilla.NewStore(keys, &sealedgorilla.StoreOptions{Sealed: sealed.Options{Budget: sealed.BudgetNginx8k()}})
	require.NoError(t, err)
	srv := httptest.NewTLSServer(contribApp(store))
	t.Cleanup(srv.Close)
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	client := srv.Client()
	client.Jar = jar
	base, err := url.Parse(srv.URL)
	require.NoError(t, err)
	get := func(path string) (string, []string) {
		t.Helper()
		resp, err := client.Get(srv.URL + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, string(b))
		return string(b), resp.Header.Values("Set-Cookie")
	}
	cookieNames := func() []string {
		var out []string
		for _, c := range jar.Cookies(base) {
			out = append(out, c.Name)
		}
		return out
	}

	body, _ := get("/me")
	assert.Equal(t, "user= flashes=[]", body)
	_, lines := get("/login?user=ada")
	require.Len(t, lines, 1)
	assert.True(t, strings.HasPrefix(lines[0], "app="), lines[0])
	body, _ = get("/me")
	assert.Equal(t, "user=ada flashes=[welcome]", body)
	body, _ = get("/me")
	assert.Equal(t, "user=ada flashes=[]", body, "a flash is read once")

	_, lines = get("/grow")
	assert.Len(t, lines, 2)
	assert.ElementsMatch(t, []string{"app", "app.1"}, cookieNames(), "past one cookie")
	body, _ = get("/me")
	assert.Equal(t, "user=ada flashes=[]", body)

	get("/logout")
	assert.Empty(t, cookieNames(), "every chunk deleted")
	body, _ = get("/me")
	assert.Equal(t, "user= flashes=[]", body)
}
