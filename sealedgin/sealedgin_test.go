package sealedgin_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealedgo/sealed"
	"github.com/sealedgo/sealed/internal/adaptertest"
	"github.com/sealedgo/sealed/sealedgin"
)

// session is what a handler calls to get the session: sealedgin.Session
// under the native middleware, m.Session(c.Request) under m.Middleware
// wrapping the whole engine.
type session func(c *gin.Context) (*sealed.Session, error)

// routes registers a small site on r:
//
//	GET  /          who is logged in, and the flashes
//	POST /login     logs ?user= in, redirects to / (303, no body)
//	POST /logout    logs out, 204 with no body
//	POST /touch     sets a value and writes nothing
//	POST /blob      stores ?n= random characters, answers JSON
//	GET  /blob      the stored blob's length and hash
//	GET  /private   behind a guard that redirects to / with a flash
func routes(r gin.IRouter, sess session) {
	r.GET("/", func(c *gin.Context) {
		s, err := sess(c)
		if err != nil {
			return
		}
		user, _, _ := sealed.Get[string](s, "user")
		flashes, err := s.Flashes()
		if err != nil {
			c.String(http.StatusInternalServerError, "flashes: %v", err)
			return
		}
		c.String(http.StatusOK, "user=%s flashes=%s", user, strings.Join(flashes, ","))
	})
	r.POST("/login", func(c *gin.Context) {
		s, err := sess(c)
		if err != nil {
			return
		}
		user := c.Query("user")
		if err := errors.Join(s.CycleID(), s.SetSubject(user), s.Set("user", user), s.AddFlash("welcome "+user)); err != nil {
			c.String(http.StatusInternalServerError, "login failed")
			return
		}
		c.Redirect(http.StatusSeeOther, "/")
	})
	r.POST("/logout", func(c *gin.Context) {
		s, err := sess(c)
		if err != nil {
			return
		}
		if err := s.Invalidate(); err != nil {
			c.String(http.StatusInternalServerError, "logout failed")
			return
		}
		c.Status(http.StatusNoContent)
	})
	r.POST("/touch", func(c *gin.Context) {
		if s, err := sess(c); err == nil {
			_ = s.Set("touched", true)
		}
	})
	r.POST("/blob", func(c *gin.Context) {
		s, err := sess(c)
		if err != nil {
			return
		}
		n, _ := strconv.Atoi(c.Query("n"))
		if err := s.Set("blob", adaptertest.Blob(n)); err != nil {
			c.String(http.StatusInternalServerError, "set: %v", err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"n": n})
	})
	r.GET("/blob", func(c *gin.Context) {
		s, err := sess(c)
		if err != nil {
			return
		}
		v, _, _ := sealed.Get[string](s, "blob")
		sum := sha256.Sum256([]byte(v))
		c.String(http.StatusOK, "%d %s", len(v), hex.EncodeToString(sum[:]))
	})
	guard := func(c *gin.Context) {
		s, err := sess(c)
		if err != nil {
			c.Abort()
			return
		}
		if !s.Has("user") {
			_ = s.AddFlash("please log in")
			c.Redirect(http.StatusFound, "/")
			c.Abort()
			return
		}
		c.Next()
	}
	r.GET("/private", guard, func(c *gin.Context) { c.String(http.StatusOK, "secret") })
}

// nativeSite is routes under sealedgin.Middleware.
func nativeSite(m *sealed.Manager, before ...gin.HandlerFunc) *gin.Engine {
	r := gin.New()
	r.Use(before...)
	r.Use(sealedgin.Middleware(m))
	routes(r, sealedgin.Session)
	return r
}

// wrappedSite is routes in an engine wrapped whole by m.Middleware, with
// no Gin middleware for sessions.
func wrappedSite(m *sealed.Manager) http.Handler {
	r := gin.New()
	routes(r, func(c *gin.Context) (*sealed.Session, error) { return m.Session(c.Request) })
	return m.Middleware(r)
}

// The login, flash and logout flow, under the native middleware and under
// m.Middleware wrapping the engine.
func TestLoginFlashLogout(t *testing.T) {
	for name, site := range map[string]func(*sealed.Manager) http.Handler{
		"native":  func(m *sealed.Manager) http.Handler { return nativeSite(m) },
		"wrapped": wrappedSite,
	} {
		t.Run(name, func(t *testing.T) {
			m := adaptertest.NewManager(t, sealed.Options{Revocation: sealed.NewMemoryRevocationList()})
			b := adaptertest.NewBrowser(t, site(m))

			r := b.Get("/")
			assert.Equal(t, "user= flashes=", r.Body)
			assert.Empty(t, r.Header.Values("Set-Cookie"), "a session only read is not written")
			assert.Equal(t, "Cookie", r.Header.Get("Vary"))

			r = b.Get("/private")
			assert.Equal(t, http.StatusFound, r.StatusCode, "the guard's redirect writes a body")
			assert.NotEmpty(t, adaptertest.SessionLines(r, "session"), "the guard's flash is saved before the redirect's body")
			assert.Equal(t, "user= flashes=please log in", b.Get("/").Body)

			r = b.Post("/login?user=ann")
			assert.Equal(t, http.StatusSeeOther, r.StatusCode)
			assert.NotEmpty(t, adaptertest.SessionLines(r, "session"), "a redirect with no body carries the cookie")
			assert.Contains(t, r.Header.Get("Cache-Control"), `no-cache="Set-Cookie"`)
			old := b.Jar()["session"]
			require.NotEmpty(t, old)

			assert.Equal(t, "user=ann flashes=welcome ann", b.Get("/").Body)
			assert.Equal(t, "user=ann flashes=", b.Get("/").Body, "a flash is read once")
			assert.Equal(t, "secret", b.Get("/private").Body)

			r = b.Post("/logout")
			assert.Equal(t, http.StatusNoContent, r.StatusCode)
			assert.NotEmpty(t, adaptertest.SessionLines(r, "session"), "a status with no body carries the expiry")
			assert.NotContains(t, b.Jar(), "session", "logout expires the cookie")
			assert.Equal(t, "user= flashes=", b.Get("/").Body)

			// The logged-out cookie, replayed, opens nothing: the
			// revocation list has its ID.
			r = b.Do(http.MethodGet, "/", "session="+old)
			assert.Equal(t, "user= flashes=", r.Body)
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

	r = b.Get("/blob")
	assert.True(t, strings.HasPrefix(r.Body, "6000 "), r.Body)

	b.Post("/blob?n=10")
	jar = b.Jar()
	assert.Contains(t, jar, "session")
	assert.NotContains(t, jar, "session.1", "the chunk no longer needed is deleted")
	assert.True(t, strings.HasPrefix(b.Get("/blob").Body, "10 "))
}

// Under the default budget (one cookie, to fit a default nginx) the same
// session is too large: the error handler answers 500 and the client
// keeps its previous cookies. Commit lets a handler react instead.
func TestTooLarge(t *testing.T) {
	m := adaptertest.NewManager(t, sealed.Options{})
	r := nativeSite(m)
	r.POST("/careful", func(c *gin.Context) {
		s, err := sealedgin.Session(c)
		if err != nil {
			return
		}
		_ = s.Set("blob", adaptertest.Blob(6000))
		if err := sealedgin.Commit(c); errors.Is(err, sealed.ErrTooLarge) {
			_, _, _ = sealed.Remove[string](s, "blob")
			_ = s.AddFlash("that was too much")
			c.String(http.StatusRequestEntityTooLarge, "too large")
			return
		}
		c.String(http.StatusOK, "stored")
	})
	b := adaptertest.NewBrowser(t, r)
	b.Post("/blob?n=10")
	before := b.Jar()
	require.Contains(t, before, "session")

	res := b.Post("/blob?n=6000")
	assert.Equal(t, http.StatusInternalServerError, res.StatusCode)
	assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
	assert.Empty(t, adaptertest.SessionLines(res, "session"))
	assert.Equal(t, before, b.Jar(), "a failed save leaves the cookies as they were")

	res = b.Post("/careful")
	assert.Equal(t, http.StatusRequestEntityTooLarge, res.StatusCode)
	assert.NotEmpty(t, adaptertest.SessionLines(res, "session"), "the session without the blob is saved")
	assert.Equal(t, "user= flashes=that was too much", b.Get("/").Body)
}

// A forged or garbled cookie gives a fresh session, never an error.
func TestForgedCookie(t *testing.T) {
	m := adaptertest.NewManager(t, sealed.Options{})
	b := adaptertest.NewBrowser(t, nativeSite(m))
	for _, c := range []string{"session=forged", "session=" + strings.Repeat("A", 300), "session=x; session.1=y"} {
		r := b.Do(http.MethodGet, "/", c)
		assert.Equal(t, http.StatusOK, r.StatusCode, c)
		assert.Equal(t, "user= flashes=", r.Body, c)
	}
	// A real cookie from another key set is forged too.
	other := adaptertest.NewBrowser(t, nativeSite(adaptertest.NewManager(t, sealed.Options{})))
	other.Post("/login?user=mallory")
	r := b.Do(http.MethodGet, "/", "session="+other.Jar()["session"])
	assert.Equal(t, "user= flashes=", r.Body)
}

// The native writer writes the session before the response starts,
// whatever starts it, and refuses changes afterwards.
func TestCommitPoints(t *testing.T) {
	m := adaptertest.NewManager(t, sealed.Options{})
	late := make(chan error, 1)
	r := nativeSite(m)
	set := func(c *gin.Context) *sealed.Session {
		s, err := sealedgin.Session(c)
		if assert.NoError(t, err) {
			assert.NoError(t, s.Set("k", c.FullPath()), c.FullPath())
		}
		return s
	}
	r.GET("/string", func(c *gin.Context) {
		s := set(c)
		c.String(http.StatusOK, "hello")
		late <- s.Set("after", 1)
	})
	r.GET("/status-then-set", func(c *gin.Context) {
		c.Status(http.StatusCreated) // only recorded, as in Gin
		set(c)
	})
	r.GET("/abort", func(c *gin.Context) {
		set(c)
		c.AbortWithStatus(http.StatusUnauthorized)
	})
	r.GET("/json", func(c *gin.Context) {
		set(c)
		c.JSON(http.StatusAccepted, gin.H{"ok": true})
	})
	r.GET("/flush", func(c *gin.Context) {
		s := set(c)
		c.Writer.Flush()
		late <- s.Set("after", 1)
		_, _ = c.Writer.WriteString("streamed")
	})
	r.GET("/write-string", func(c *gin.Context) {
		s := set(c)
		_, _ = c.Writer.WriteString("direct")
		late <- s.Set("after", 1)
	})
	r.GET("/nothing", func(c *gin.Context) { set(c) })
	b := adaptertest.NewBrowser(t, r)

	cases := []struct {
		path   string
		status int
		body   string
		late   bool // the handler reports a change made after the start
	}{
		{"/string", http.StatusOK, "hello", true},
		{"/status-then-set", http.StatusCreated, "", false},
		{"/abort", http.StatusUnauthorized, "", false},
		{"/json", http.StatusAccepted, `{"ok":true}`, false},
		{"/flush", http.StatusOK, "streamed", true},
		{"/write-string", http.StatusOK, "direct", true},
		{"/nothing", http.StatusOK, "", false},
	}
	for _, tc := range cases {
		res := b.Get(tc.path)
		assert.Equal(t, tc.status, res.StatusCode, tc.path)
		assert.Equal(t, tc.body, res.Body, tc.path)
		assert.NotEmpty(t, adaptertest.SessionLines(res, "session"), tc.path)
		assert.Equal(t, "Cookie", res.Header.Get("Vary"), tc.path)
		if tc.late {
			assert.ErrorIs(t, <-late, sealed.ErrCommitted, tc.path)
		}
	}
}

// A change after c.String is refused with ErrCommitted and not written,
// under the native middleware and under a wrapped engine.
func TestChangeAfterWriteIsCommitted(t *testing.T) {
	for name, wrap := range map[string]bool{"native": false, "wrapped": true} {
		t.Run(name, func(t *testing.T) {
			m := adaptertest.NewManager(t, sealed.Options{})
			errs := make(chan error, 1)
			r := gin.New()
			sess := sealedgin.Session
			if wrap {
				sess = func(c *gin.Context) (*sealed.Session, error) { return m.Session(c.Request) }
			} else {
				r.Use(sealedgin.Middleware(m))
			}
			r.GET("/", func(c *gin.Context) {
				s, err := sess(c)
				if !assert.NoError(t, err) {
					return
				}
				c.String(http.StatusOK, "written")
				errs <- s.Set("late", 1)
			})
			var h http.Handler = r
			if wrap {
				h = m.Middleware(r)
			}
			res := adaptertest.NewBrowser(t, h).Get("/")
			assert.Equal(t, "written", res.Body)
			assert.Empty(t, adaptertest.SessionLines(res, "session"))
			assert.ErrorIs(t, <-errs, sealed.ErrCommitted)
		})
	}
}

// With the revocation list down, a request that carries a session gets
// 503 from the core error handler, uncacheable and with no cookies, and
// its cookies survive: after the outage the user is still logged in.
func TestRevocationDown(t *testing.T) {
	list := adaptertest.NewFlakyList()
	m := adaptertest.NewManager(t, sealed.Options{Revocation: list})
	var statuses []int
	logger := func(c *gin.Context) {
		c.Next()
		statuses = append(statuses, c.Writer.Status())
	}
	r := nativeSite(m, logger)
	r.GET("/ignore", func(c *gin.Context) {
		_, _ = sealedgin.Session(c) // error ignored: the answer is still 503
		c.JSON(http.StatusOK, gin.H{"ok": true})
	})
	b := adaptertest.NewBrowser(t, r)
	b.Post("/login?user=ann")
	b.Get("/")
	before := b.Jar()

	list.SetDown(true)
	for _, path := range []string{"/", "/ignore"} {
		res := b.Get(path)
		assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode, path)
		assert.Equal(t, "no-store", res.Header.Get("Cache-Control"), path)
		assert.Empty(t, res.Header.Values("Set-Cookie"), path)
		assert.NotContains(t, res.Body, "ok", path)
	}
	res := b.Post("/logout")
	assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode, "a logout that cannot be recorded fails")
	assert.Equal(t, before, b.Jar())

	list.SetDown(false)
	assert.Equal(t, "user=ann flashes=", b.Get("/").Body)
	assert.Equal(t, []int{303, 200, 503, 503, 503, 200}, statuses, "middleware before sees the status sent")
}

// An error handler that only sets a status still decides it: a status the
// handler sets after its output was dropped does not replace it.
func TestStatusOnlyErrorHandler(t *testing.T) {
	list := adaptertest.NewFlakyList()
	m := adaptertest.NewManager(t, sealed.Options{Revocation: list, ErrorHandler: func(w http.ResponseWriter, _ *http.Request, _ error) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}})
	r := nativeSite(m)
	r.GET("/late-status", func(c *gin.Context) {
		_, _ = sealedgin.Session(c)
		c.String(http.StatusOK, "dropped")
		c.Status(http.StatusAccepted)
	})
	b := adaptertest.NewBrowser(t, r)
	b.Post("/login?user=ann")
	list.SetDown(true)
	res := b.Get("/late-status")
	assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
	assert.Empty(t, res.Body)
	assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
}

// Middleware after sealedgin's reads and changes the session, before the
// handler runs and after it returns (when the handler wrote nothing).
func TestChain(t *testing.T) {
	m := adaptertest.NewManager(t, sealed.Options{})
	late := make(chan error, 2)
	r := gin.New()
	r.Use(sealedgin.Middleware(m), func(c *gin.Context) {
		s, err := sealedgin.Session(c)
		if !assert.NoError(t, err) {
			return
		}
		n, _, _ := sealed.Get[int](s, "n")
		c.Set("n", n)
		c.Next()
		late <- s.Set("n", n+1)
	})
	r.GET("/quiet", func(*gin.Context) {})
	r.GET("/loud", func(c *gin.Context) { c.String(http.StatusOK, "n=%d", c.GetInt("n")) })
	b := adaptertest.NewBrowser(t, r)

	b.Get("/quiet")
	require.NoError(t, <-late)
	b.Get("/quiet")
	require.NoError(t, <-late)
	assert.Equal(t, "n=2", b.Get("/loud").Body)
	assert.ErrorIs(t, <-late, sealed.ErrCommitted, "after the handler wrote, the session is saved")
	assert.Equal(t, "n=2", b.Get("/loud").Body)
	<-late
}

// c.Writer keeps Gin's bookkeeping: Status, Size and Written reflect what
// was sent, before and after the response starts.
func TestWriterBookkeeping(t *testing.T) {
	m := adaptertest.NewManager(t, sealed.Options{})
	type seen struct {
		status, size int
		written      bool
	}
	var got []seen
	look := func(w gin.ResponseWriter) { got = append(got, seen{w.Status(), w.Size(), w.Written()}) }
	r := gin.New()
	r.Use(sealedgin.Middleware(m))
	r.GET("/", func(c *gin.Context) {
		look(c.Writer)
		c.Status(http.StatusAccepted)
		look(c.Writer)
		s, _ := sealedgin.Session(c)
		_ = s.Set("k", 1)
		c.String(http.StatusAccepted, "hello")
		look(c.Writer)
		c.Status(http.StatusTeapot) // too late: ignored, as by Gin
		look(c.Writer)
	})
	res := adaptertest.NewBrowser(t, r).Get("/")
	assert.Equal(t, http.StatusAccepted, res.StatusCode)
	assert.NotEmpty(t, adaptertest.SessionLines(res, "session"))
	assert.Equal(t, []seen{{200, -1, false}, {202, -1, false}, {202, 5, true}, {202, 5, true}}, got)
}

// A panic after a change saves nothing: gin.Recovery answers 500 without
// cookies, and the session refuses further changes.
func TestPanic(t *testing.T) {
	m := adaptertest.NewManager(t, sealed.Options{})
	held := make(chan *sealed.Session, 1)
	r := gin.New()
	r.Use(gin.CustomRecovery(func(c *gin.Context, _ any) { c.AbortWithStatus(http.StatusInternalServerError) }))
	r.Use(sealedgin.Middleware(m))
	r.GET("/", func(c *gin.Context) {
		s, _ := sealedgin.Session(c)
		_ = s.Set("k", 1)
		held <- s
		panic("boom")
	})
	res := adaptertest.NewBrowser(t, r).Get("/")
	assert.Equal(t, http.StatusInternalServerError, res.StatusCode)
	assert.Empty(t, res.Header.Values("Set-Cookie"))
	assert.ErrorIs(t, (<-held).Set("k", 2), sealed.ErrCommitted)
}

// A hijacked connection carries no cookies; the session is closed.
func TestHijack(t *testing.T) {
	m := adaptertest.NewManager(t, sealed.Options{})
	held := make(chan *sealed.Session, 1)
	r := nativeSite(m)
	r.GET("/raw", func(c *gin.Context) {
		s, _ := sealedgin.Session(c)
		_ = s.Set("k", 1)
		conn, rw, err := c.Writer.Hijack()
		if !assert.NoError(t, err) {
			return
		}
		defer conn.Close()
		_, _ = rw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nraw")
		_ = rw.Flush()
		held <- s
	})
	res := adaptertest.NewBrowser(t, r).Get("/raw")
	assert.Equal(t, "raw", res.Body)
	assert.Empty(t, res.Header.Values("Set-Cookie"))
	assert.ErrorIs(t, (<-held).Set("k", 2), sealed.ErrCommitted)
}

// Without the middleware, Session and Commit say so.
func TestNoMiddleware(t *testing.T) {
	r := gin.New()
	errs := make(chan error, 2)
	r.GET("/", func(c *gin.Context) {
		_, err := sealedgin.Session(c)
		errs <- err
		errs <- sealedgin.Commit(c)
	})
	adaptertest.NewBrowser(t, r).Get("/")
	assert.ErrorIs(t, <-errs, sealed.ErrNoMiddleware)
	assert.ErrorIs(t, <-errs, sealed.ErrNoMiddleware)
	assert.Panics(t, func() { sealedgin.Middleware(nil) })
}
