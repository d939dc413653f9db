package sealedecho_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealedgo/sealed"
	"github.com/sealedgo/sealed/internal/adaptertest"
	"github.com/sealedgo/sealed/sealedecho"
)

// session is what a handler calls to get the session: sealedecho.Session
// under the native middleware, m.Session(c.Request()) under
// echo.WrapMiddleware(m.Middleware).
type session func(c echo.Context) (*sealed.Session, error)

// routes registers a small site on e:
//
//	GET  /          who is logged in, and the flashes
//	POST /login     logs ?user= in, redirects to / (303, no body)
//	POST /logout    logs out, 204 with no body
//	POST /touch     sets a value and writes nothing
//	POST /blob      stores ?n= random characters, answers JSON
//	GET  /blob      the stored blob's length and hash
//	GET  /private   behind a guard that redirects to / with a flash
//	GET  /forbidden sets a value, then returns a 403 error
func routes(e *echo.Echo, sess session) {
	e.GET("/", func(c echo.Context) error {
		s, err := sess(c)
		if err != nil {
			return err
		}
		user, _, _ := sealed.Get[string](s, "user")
		flashes, err := s.Flashes()
		if err != nil {
			return err
		}
		return c.String(http.StatusOK, fmt.Sprintf("user=%s flashes=%s", user, strings.Join(flashes, ",")))
	})
	e.POST("/login", func(c echo.Context) error {
		s, err := sess(c)
		if err != nil {
			return err
		}
		user := c.QueryParam("user")
		if err := errors.Join(s.CycleID(), s.SetSubject(user), s.Set("user", user), s.AddFlash("welcome "+user)); err != nil {
			return err
		}
		return c.Redirect(http.StatusSeeOther, "/")
	})
	e.POST("/logout", func(c echo.Context) error {
		s, err := sess(c)
		if err != nil {
			return err
		}
		if err := s.Invalidate(); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	})
	e.POST("/touch", func(c echo.Context) error {
		s, err := sess(c)
		if err != nil {
			return err
		}
		return s.Set("touched", true)
	})
	e.POST("/blob", func(c echo.Context) error {
		s, err := sess(c)
		if err != nil {
			return err
		}
		n, _ := strconv.Atoi(c.QueryParam("n"))
		if err := s.Set("blob", adaptertest.Blob(n)); err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]int{"n": n})
	})
	e.GET("/blob", func(c echo.Context) error {
		s, err := sess(c)
		if err != nil {
			return err
		}
		v, _, _ := sealed.Get[string](s, "blob")
		sum := sha256.Sum256([]byte(v))
		return c.String(http.StatusOK, fmt.Sprintf("%d %s", len(v), hex.EncodeToString(sum[:])))
	})
	guard := func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			s, err := sess(c)
			if err != nil {
				return err
			}
			if !s.Has("user") {
				if err := s.AddFlash("please log in"); err != nil {
					return err
				}
				return c.Redirect(http.StatusFound, "/")
			}
			return next(c)
		}
	}
	e.GET("/private", func(c echo.Context) error { return c.String(http.StatusOK, "secret") }, guard)
	e.GET("/forbidden", func(c echo.Context) error {
		s, err := sess(c)
		if err != nil {
			return err
		}
		if err := s.AddFlash("that was forbidden"); err != nil {
			return err
		}
		return echo.NewHTTPError(http.StatusForbidden, "no")
	})
}

// nativeSite is routes under sealedecho.Middleware, after the given
// middleware.
func nativeSite(m *sealed.Manager, before ...echo.MiddlewareFunc) *echo.Echo {
	e := echo.New()
	e.Use(before...)
	e.Use(sealedecho.Middleware(m))
	routes(e, sealedecho.Session)
	return e
}

// wrappedSite is routes under echo.WrapMiddleware(m.Middleware).
func wrappedSite(m *sealed.Manager, before ...echo.MiddlewareFunc) *echo.Echo {
	e := echo.New()
	e.Use(before...)
	e.Use(echo.WrapMiddleware(m.Middleware))
	routes(e, func(c echo.Context) (*sealed.Session, error) { return m.Session(c.Request()) })
	return e
}

var sites = map[string]func(*sealed.Manager, ...echo.MiddlewareFunc) *echo.Echo{
	"native":         nativeSite,
	"WrapMiddleware": wrappedSite,
}

// The login, flash and logout flow, under both middlewares.
func TestLoginFlashLogout(t *testing.T) {
	for name, site := range sites {
		t.Run(name, func(t *testing.T) {
			m := adaptertest.NewManager(t, sealed.Options{Revocation: sealed.NewMemoryRevocationList()})
			b := adaptertest.NewBrowser(t, site(m))

			r := b.Get("/")
			assert.Equal(t, "user= flashes=", r.Body)
			assert.Empty(t, r.Header.Values("Set-Cookie"), "a session only read is not written")
			assert.Equal(t, "Cookie", r.Header.Get("Vary"))

			r = b.Get("/private")
			assert.Equal(t, http.StatusFound, r.StatusCode)
			assert.NotEmpty(t, adaptertest.SessionLines(r, "session"), "the guard's flash is saved with its redirect")
			assert.Equal(t, "user= flashes=please log in", b.Get("/").Body)

			r = b.Post("/login?user=ann")
			assert.Equal(t, http.StatusSeeOther, r.StatusCode)
			assert.NotEmpty(t, adaptertest.SessionLines(r, "session"))
			assert.Contains(t, r.Header.Get("Cache-Control"), `no-cache="Set-Cookie"`)
			old := b.Jar()["session"]
			require.NotEmpty(t, old)

			assert.Equal(t, "user=ann flashes=welcome ann", b.Get("/").Body)
			assert.Equal(t, "user=ann flashes=", b.Get("/").Body, "a flash is read once")
			assert.Equal(t, "secret", b.Get("/private").Body)

			r = b.Post("/touch")
			assert.Equal(t, http.StatusOK, r.StatusCode)
			assert.NotEmpty(t, adaptertest.SessionLines(r, "session"), "a handler that writes nothing saves the session")

			r = b.Post("/logout")
			assert.Equal(t, http.StatusNoContent, r.StatusCode)
			assert.NotEmpty(t, adaptertest.SessionLines(r, "session"))
			assert.NotContains(t, b.Jar(), "session", "logout expires the cookie")
			assert.Equal(t, "user= flashes=", b.Get("/").Body)

			r = b.Do(http.MethodGet, "/", "session="+old)
			assert.Equal(t, "user= flashes=", r.Body, "the logged-out cookie is revoked")
		})
	}
}

// A handler's error is rendered by Echo's error handler after the session
// was saved: the cookies go out with the error page, and the error handler
// reads the session but cannot change it.
func TestHandlerError(t *testing.T) {
	for name, site := range sites {
		t.Run(name, func(t *testing.T) {
			m := adaptertest.NewManager(t, sealed.Options{})
			e := site(m)
			changed := make(chan error, 1)
			e.HTTPErrorHandler = func(err error, c echo.Context) {
				if c.Response().Committed {
					return
				}
				s, serr := m.Session(c.Request())
				if !assert.NoError(t, serr) {
					return
				}
				changed <- s.AddFlash("from the error handler")
				e.DefaultHTTPErrorHandler(err, c)
			}
			b := adaptertest.NewBrowser(t, e)

			r := b.Get("/forbidden")
			assert.Equal(t, http.StatusForbidden, r.StatusCode)
			assert.JSONEq(t, `{"message":"no"}`, r.Body)
			assert.NotEmpty(t, adaptertest.SessionLines(r, "session"), "the error page carries the cookie")
			assert.Equal(t, "Cookie", r.Header.Get("Vary"))
			assert.ErrorIs(t, <-changed, sealed.ErrCommitted)
			assert.Equal(t, "user= flashes=that was forbidden", b.Get("/").Body)
		})
	}
}

// A session that needs two cookies is written as chunks, read back whole,
// and its extra chunk is deleted when it shrinks.
func TestGrowPastOneChunk(t *testing.T) {
	m := adaptertest.NewManager(t, sealed.Options{Budget: sealed.BudgetLarge()})
	b := adaptertest.NewBrowser(t, nativeSite(m))

	r := b.Post("/blob?n=6000")
	require.Equal(t, http.StatusOK, r.StatusCode, r.Body)
	assert.JSONEq(t, `{"n":6000}`, r.Body)
	assert.GreaterOrEqual(t, len(adaptertest.SessionLines(r, "session")), 2)
	jar := b.Jar()
	assert.Contains(t, jar, "session")
	assert.Contains(t, jar, "session.1", "6000 characters do not fit one 4 KiB cookie")
	assert.True(t, strings.HasPrefix(b.Get("/blob").Body, "6000 "))

	b.Post("/blob?n=10")
	jar = b.Jar()
	assert.Contains(t, jar, "session")
	assert.NotContains(t, jar, "session.1", "the chunk no longer needed is deleted")
	assert.True(t, strings.HasPrefix(b.Get("/blob").Body, "10 "))
}

// Under the default budget (one cookie) the same session is too large:
// 500, and the client keeps its cookies. Commit lets a handler react.
func TestTooLarge(t *testing.T) {
	m := adaptertest.NewManager(t, sealed.Options{})
	e := nativeSite(m)
	e.POST("/careful", func(c echo.Context) error {
		s, err := sealedecho.Session(c)
		if err != nil {
			return err
		}
		_ = s.Set("blob", adaptertest.Blob(6000))
		if err := sealedecho.Commit(c); errors.Is(err, sealed.ErrTooLarge) {
			_, _, _ = sealed.Remove[string](s, "blob")
			_ = s.AddFlash("that was too much")
			return c.String(http.StatusRequestEntityTooLarge, "too large")
		}
		return c.String(http.StatusOK, "stored")
	})
	b := adaptertest.NewBrowser(t, e)
	b.Post("/blob?n=10")
	before := b.Jar()
	require.Contains(t, before, "session")

	r := b.Post("/blob?n=6000")
	assert.Equal(t, http.StatusInternalServerError, r.StatusCode)
	assert.Equal(t, "no-store", r.Header.Get("Cache-Control"))
	assert.Empty(t, adaptertest.SessionLines(r, "session"))
	assert.NotContains(t, r.Body, "6000", "the handler's JSON was replaced")
	assert.Equal(t, before, b.Jar())

	r = b.Post("/careful")
	assert.Equal(t, http.StatusRequestEntityTooLarge, r.StatusCode)
	assert.NotEmpty(t, adaptertest.SessionLines(r, "session"))
	assert.Equal(t, "user= flashes=that was too much", b.Get("/").Body)
}

// A forged or garbled cookie gives a fresh session, never an error.
func TestForgedCookie(t *testing.T) {
	b := adaptertest.NewBrowser(t, nativeSite(adaptertest.NewManager(t, sealed.Options{})))
	for _, c := range []string{"session=forged", "session=" + strings.Repeat("A", 300), "session=x; session.1=y"} {
		r := b.Do(http.MethodGet, "/", c)
		assert.Equal(t, http.StatusOK, r.StatusCode, c)
		assert.Equal(t, "user= flashes=", r.Body, c)
	}
	other := adaptertest.NewBrowser(t, nativeSite(adaptertest.NewManager(t, sealed.Options{})))
	other.Post("/login?user=mallory")
	r := b.Do(http.MethodGet, "/", "session="+other.Jar()["session"])
	assert.Equal(t, "user= flashes=", r.Body, "a cookie sealed under other keys opens nothing")
}

// The session is saved before the response starts, whatever starts it,
// and changes after that are refused.
func TestCommitPoints(t *testing.T) {
	for name, site := range sites {
		t.Run(name, func(t *testing.T) {
			m := adaptertest.NewManager(t, sealed.Options{})
			e := site(m)
			late := make(chan error, 1)
			set := func(c echo.Context) *sealed.Session {
				s, err := m.Session(c.Request())
				if assert.NoError(t, err) {
					assert.NoError(t, s.Set("k", c.Path()))
				}
				return s
			}
			e.GET("/string", func(c echo.Context) error {
				s := set(c)
				err := c.String(http.StatusOK, "hello")
				late <- s.Set("after", 1)
				return err
			})
			e.GET("/json", func(c echo.Context) error {
				set(c)
				return c.JSON(http.StatusAccepted, map[string]bool{"ok": true})
			})
			e.GET("/flush", func(c echo.Context) error {
				s := set(c)
				c.Response().Flush()
				late <- s.Set("after", 1)
				_, err := c.Response().Write([]byte("streamed"))
				return err
			})
			e.GET("/nothing", func(c echo.Context) error { set(c); return nil })
			b := adaptertest.NewBrowser(t, e)
			for _, tc := range []struct {
				path   string
				status int
				body   string
				late   bool
			}{
				{"/string", http.StatusOK, "hello", true},
				{"/json", http.StatusAccepted, `{"ok":true}` + "\n", false},
				{"/flush", http.StatusOK, "streamed", true},
				{"/nothing", http.StatusOK, "", false},
			} {
				r := b.Get(tc.path)
				assert.Equal(t, tc.status, r.StatusCode, tc.path)
				assert.Equal(t, tc.body, r.Body, tc.path)
				assert.NotEmpty(t, adaptertest.SessionLines(r, "session"), tc.path)
				if tc.late {
					assert.ErrorIs(t, <-late, sealed.ErrCommitted, tc.path)
				}
			}
		})
	}
}

// With the revocation list down, a request that carries a session gets
// 503 from the core error handler, with no cookies, whether the handler
// returns the error or ignores it; Echo's error handler stays silent, and
// the middleware before sees the status and size sent.
func TestRevocationDown(t *testing.T) {
	list := adaptertest.NewFlakyList()
	m := adaptertest.NewManager(t, sealed.Options{Revocation: list})
	type seen struct {
		status int
		size   int64
		err    bool
	}
	var got []seen
	logger := func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			res := c.Response() // captured before, as echo's loggers do
			err := next(c)
			got = append(got, seen{res.Status, res.Size, err != nil})
			return err
		}
	}
	e := nativeSite(m, logger)
	e.GET("/ignore", func(c echo.Context) error {
		_, _ = sealedecho.Session(c)
		return c.JSON(http.StatusOK, map[string]bool{"ok": true})
	})
	b := adaptertest.NewBrowser(t, e)
	b.Post("/login?user=ann")
	before := b.Jar()

	list.SetDown(true)
	want := http.StatusText(http.StatusServiceUnavailable) + "\n"
	for _, path := range []string{"/", "/ignore"} {
		r := b.Get(path)
		assert.Equal(t, http.StatusServiceUnavailable, r.StatusCode, path)
		assert.Equal(t, "no-store", r.Header.Get("Cache-Control"), path)
		assert.Empty(t, r.Header.Values("Set-Cookie"), path)
		assert.Equal(t, want, r.Body, path)
	}
	r := b.Post("/logout")
	assert.Equal(t, http.StatusServiceUnavailable, r.StatusCode, "a logout that cannot be recorded fails")
	assert.Equal(t, before, b.Jar())

	list.SetDown(false)
	page := "user=ann flashes=welcome ann"
	assert.Equal(t, page, b.Get("/").Body)
	n := int64(len(want))
	assert.Equal(t, []seen{{303, 0, false}, {503, n, true}, {503, n, true}, {503, n, true}, {200, int64(len(page)), false}}, got)
}

// Middleware after sealedecho's reads and changes the session, before the
// handler runs and after it returns (when the handler wrote nothing).
func TestChain(t *testing.T) {
	m := adaptertest.NewManager(t, sealed.Options{})
	late := make(chan error, 2)
	e := echo.New()
	e.Use(sealedecho.Middleware(m), func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			s, err := sealedecho.Session(c)
			if err != nil {
				return err
			}
			n, _, _ := sealed.Get[int](s, "n")
			c.Set("n", n)
			err = next(c)
			late <- s.Set("n", n+1)
			return err
		}
	})
	e.GET("/quiet", func(echo.Context) error { return nil })
	e.GET("/loud", func(c echo.Context) error { return c.String(http.StatusOK, fmt.Sprint("n=", c.Get("n"))) })
	b := adaptertest.NewBrowser(t, e)

	b.Get("/quiet")
	require.NoError(t, <-late)
	b.Get("/quiet")
	require.NoError(t, <-late)
	assert.Equal(t, "n=2", b.Get("/loud").Body)
	assert.ErrorIs(t, <-late, sealed.ErrCommitted, "after the handler wrote, the session is saved")
	assert.Equal(t, "n=2", b.Get("/loud").Body)
	<-late
}

// A panic after a change saves nothing: middleware.Recover answers 500
// without cookies, and the session refuses further changes.
func TestPanic(t *testing.T) {
	m := adaptertest.NewManager(t, sealed.Options{})
	held := make(chan *sealed.Session, 1)
	e := echo.New()
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{DisablePrintStack: true}))
	e.Use(sealedecho.Middleware(m))
	e.GET("/", func(c echo.Context) error {
		s, _ := sealedecho.Session(c)
		_ = s.Set("k", 1)
		held <- s
		panic("boom")
	})
	r := adaptertest.NewBrowser(t, e).Get("/")
	assert.Equal(t, http.StatusInternalServerError, r.StatusCode)
	assert.Empty(t, r.Header.Values("Set-Cookie"))
	assert.ErrorIs(t, (<-held).Set("k", 2), sealed.ErrCommitted)
}

// Without the middleware, Session and Commit say so.
func TestNoMiddleware(t *testing.T) {
	e := echo.New()
	errs := make(chan error, 2)
	e.GET("/", func(c echo.Context) error {
		_, err := sealedecho.Session(c)
		errs <- err
		errs <- sealedecho.Commit(c)
		return nil
	})
	adaptertest.NewBrowser(t, e).Get("/")
	assert.ErrorIs(t, <-errs, sealed.ErrNoMiddleware)
	assert.ErrorIs(t, <-errs, sealed.ErrNoMiddleware)
	assert.Panics(t, func() { sealedecho.Middleware(nil) })
}
