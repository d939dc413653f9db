package sealedfiber_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealedgo/sealed"
	"github.com/sealedgo/sealed/internal/adaptertest"
	"github.com/sealedgo/sealed/sealedfiber"
	"github.com/sealedgo/sealed/sealedtest"
)

// site is a small app under sealedfiber.Middleware, after the given
// handlers:
//
//	GET  /          who is logged in, and the flashes
//	POST /login     logs ?user= in, redirects to / (303)
//	POST /logout    logs out, 204
//	POST /touch     sets a value and sends nothing
//	POST /blob      stores ?n= random characters, answers JSON
//	GET  /blob      the stored blob's length and hash
//	GET  /private   behind a guard that redirects to / with a flash
//	GET  /forbidden sets a flash, then returns a 403 error
//	GET  /static    never asks for the session
func site(m *sealed.Manager, cfg fiber.Config, before ...fiber.Handler) *fiber.App {
	return siteWith(sealedfiber.Middleware(m), cfg, before...)
}

// siteWith is site under the given sealedfiber middleware.
func siteWith(mw fiber.Handler, cfg fiber.Config, before ...fiber.Handler) *fiber.App {
	cfg.DisableStartupMessage = true
	app := fiber.New(cfg)
	for _, h := range before {
		app.Use(h)
	}
	app.Use(mw)
	app.Get("/", func(c *fiber.Ctx) error {
		s, err := sealedfiber.Session(c)
		if err != nil {
			return nil
		}
		user, _, _ := sealed.Get[string](s, "user")
		flashes, err := s.Flashes()
		if err != nil {
			return err
		}
		return c.SendString(fmt.Sprintf("user=%s flashes=%s", user, strings.Join(flashes, ",")))
	})
	app.Post("/login", func(c *fiber.Ctx) error {
		s, err := sealedfiber.Session(c)
		if err != nil {
			return nil
		}
		user := c.Query("user")
		if err := errors.Join(s.CycleID(), s.SetSubject(user), s.Set("user", user), s.AddFlash("welcome "+user)); err != nil {
			return err
		}
		return c.Redirect("/", http.StatusSeeOther)
	})
	app.Post("/logout", func(c *fiber.Ctx) error {
		s, err := sealedfiber.Session(c)
		if err != nil {
			return err // returned, not ignored: the answer is still 503
		}
		if err := s.Invalidate(); err != nil {
			return err
		}
		return c.SendStatus(http.StatusNoContent)
	})
	app.Post("/touch", func(c *fiber.Ctx) error {
		s, err := sealedfiber.Session(c)
		if err != nil {
			return nil
		}
		return s.Set("touched", true)
	})
	app.Post("/blob", func(c *fiber.Ctx) error {
		s, err := sealedfiber.Session(c)
		if err != nil {
			return nil
		}
		n, _ := strconv.Atoi(c.Query("n"))
		if err := s.Set("blob", adaptertest.Blob(n)); err != nil {
			return err
		}
		c.Set(fiber.HeaderETag, `"handler"`)
		return c.JSON(fiber.Map{"n": n})
	})
	app.Get("/blob", func(c *fiber.Ctx) error {
		s, err := sealedfiber.Session(c)
		if err != nil {
			return nil
		}
		v, _, _ := sealed.Get[string](s, "blob")
		sum := sha256.Sum256([]byte(v))
		return c.SendString(fmt.Sprintf("%d %s", len(v), hex.EncodeToString(sum[:])))
	})
	guard := func(c *fiber.Ctx) error {
		s, err := sealedfiber.Session(c)
		if err != nil {
			return nil
		}
		if !s.Has("user") {
			if err := s.AddFlash("please log in"); err != nil {
				return err
			}
			return c.Redirect("/", http.StatusFound)
		}
		return c.Next()
	}
	app.Get("/private", guard, func(c *fiber.Ctx) error { return c.SendString("secret") })
	app.Get("/forbidden", func(c *fiber.Ctx) error {
		s, err := sealedfiber.Session(c)
		if err != nil {
			return nil
		}
		if err := s.AddFlash("that was forbidden"); err != nil {
			return err
		}
		return fiber.NewError(http.StatusForbidden, "no")
	})
	app.Get("/static", func(c *fiber.Ctx) error { return c.SendString("static") })
	return app
}

func TestLoginFlashLogout(t *testing.T) {
	m := adaptertest.NewManager(t, sealed.Options{Revocation: sealed.NewMemoryRevocationList()})
	b := newBrowser(t, site(m, fiber.Config{}))

	r := b.Get("/static")
	assert.Empty(t, r.Header.Values("Vary"), "a response that never asked for the session does not vary on it")
	r = b.Get("/")
	assert.Equal(t, "user= flashes=", r.Body)
	assert.Empty(t, r.Header.Values("Set-Cookie"), "a session only read is not written")
	assert.Equal(t, "Cookie", r.Header.Get("Vary"))

	r = b.Get("/private")
	assert.Equal(t, http.StatusFound, r.StatusCode)
	assert.NotEmpty(t, adaptertest.SessionLines(r, "session"))
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
	assert.NotEmpty(t, adaptertest.SessionLines(b.Post("/touch"), "session"), "a handler that sends nothing saves the session")

	r = b.Post("/logout")
	assert.Equal(t, http.StatusNoContent, r.StatusCode)
	assert.NotEmpty(t, adaptertest.SessionLines(r, "session"))
	assert.NotContains(t, b.Jar(), "session", "logout expires the cookie")
	assert.Equal(t, "user= flashes=", b.Get("/").Body)

	r = b.Do(http.MethodGet, "/", "session="+old)
	assert.Equal(t, "user= flashes=", r.Body, "the logged-out cookie is revoked")
}

// app.Test, with the cookies carried by hand, as a Fiber user's own tests
// would: the Set-Cookie lines of one response become the next request's
// Cookie header.
func TestAppTest(t *testing.T) {
	m := adaptertest.NewManager(t, sealed.Options{})
	app := site(m, fiber.Config{})
	send := func(method, path string, cookies []*http.Cookie) (*http.Response, string) {
		req := httptest.NewRequest(method, path, nil)
		for _, c := range cookies {
			req.AddCookie(c)
		}
		res, err := app.Test(req, -1)
		require.NoError(t, err)
		body, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return res, string(body)
	}
	res, _ := send(http.MethodPost, "/login?user=bob", nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	cookies := res.Cookies()
	require.NotEmpty(t, cookies)
	_, body := send(http.MethodGet, "/", cookies)
	assert.Equal(t, "user=bob flashes=welcome bob", body)
}

// A handler's error is rendered by the app's ErrorHandler after the
// session was saved: the cookies go out with the error page, and the
// error handler reads the session (loaded before or not) but cannot
// change it.
func TestHandlerError(t *testing.T) {
	m := adaptertest.NewManager(t, sealed.Options{})
	changed := make(chan error, 1)
	app := site(m, fiber.Config{ErrorHandler: func(c *fiber.Ctx, err error) error {
		s, serr := sealedfiber.Session(c)
		if !assert.NoError(t, serr) {
			return serr
		}
		changed <- s.AddFlash("from the error handler")
		return fiber.DefaultErrorHandler(c, err)
	}})
	app.Get("/fails", func(*fiber.Ctx) error { return errors.New("handler failed") })
	b := newBrowser(t, app)

	r := b.Get("/forbidden")
	assert.Equal(t, http.StatusForbidden, r.StatusCode)
	assert.Equal(t, "no", r.Body)
	assert.NotEmpty(t, adaptertest.SessionLines(r, "session"), "the error page carries the cookie")
	assert.ErrorIs(t, <-changed, sealed.ErrCommitted)

	r = b.Get("/fails")
	assert.Equal(t, http.StatusInternalServerError, r.StatusCode)
	assert.Empty(t, adaptertest.SessionLines(r, "session"))
	assert.ErrorIs(t, <-changed, sealed.ErrCommitted, "a session first loaded after the save is read-only")

	assert.Equal(t, "user= flashes=that was forbidden", b.Get("/").Body)
}

// A session that needs two cookies is written as chunks and read back
// whole: from separate Cookie headers, from one, and after another
// middleware had fasthttp parse the cookies (which merges the headers).
// The extra chunk is deleted when the session shrinks.
func TestGrowPastOneChunk(t *testing.T) {
	m := adaptertest.NewManager(t, sealed.Options{Budget: sealed.BudgetLarge()})
	parse := func(c *fiber.Ctx) error {
		if c.Query("parse") != "" {
			_ = c.Cookies("session") // fasthttp collects (and merges) the cookies
		}
		return c.Next()
	}
	// fasthttp's default 4 KiB read buffer holds the whole request
	// header, too small for these cookies: the README says to raise it.
	small := newBrowser(t, site(m, fiber.Config{}))
	small.Post("/blob?n=6000")
	require.Contains(t, small.Jar(), "session.1")
	assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, small.Get("/blob").StatusCode)

	b := newBrowser(t, site(m, fiber.Config{ReadBufferSize: 16 << 10}, parse))

	r := b.Post("/blob?n=6000")
	require.Equal(t, http.StatusOK, r.StatusCode, r.Body)
	assert.JSONEq(t, `{"n":6000}`, r.Body)
	assert.GreaterOrEqual(t, len(adaptertest.SessionLines(r, "session")), 2)
	jar := b.Jar()
	require.Contains(t, jar, "session")
	require.Contains(t, jar, "session.1", "6000 characters do not fit one 4 KiB cookie")
	want := b.Get("/blob").Body
	assert.True(t, strings.HasPrefix(want, "6000 "), want)

	// The same cookies sent by hand, outside the jar: in one Cookie
	// header, or one header per cookie.
	var pairs []string
	for name, value := range jar {
		pairs = append(pairs, name+"="+value)
	}
	anon := b.WithoutJar()
	for _, parsed := range []string{"", "?parse=1"} {
		one := anon.Do(http.MethodGet, "/blob"+parsed, strings.Join(pairs, "; "))
		assert.Equal(t, want, one.Body, "one Cookie header"+parsed)
		each := anon.Do(http.MethodGet, "/blob"+parsed, pairs...)
		assert.Equal(t, want, each.Body, "a Cookie header for each"+parsed)
	}

	b.Post("/blob?n=10")
	jar = b.Jar()
	assert.Contains(t, jar, "session")
	assert.NotContains(t, jar, "session.1", "the chunk no longer needed is deleted")
	assert.True(t, strings.HasPrefix(b.Get("/blob").Body, "10 "))
}

// Nothing the middleware hands out aliases fasthttp's buffers, which the
// next request on the same connection reuses: not a session kept past its
// request, nor the Cookie header values given to Options.Import.
func TestSessionOutlivesRequest(t *testing.T) {
	var imported []string // what Import was given, kept
	m := adaptertest.NewManager(t, sealed.Options{Import: func(_ context.Context, header []string, _ *sealed.Session) []*http.Cookie {
		imported = append(imported, header...)
		return nil
	}})
	kept := make(chan *sealed.Session, 1)
	app := site(m, fiber.Config{})
	app.Get("/keep", func(c *fiber.Ctx) error {
		s, err := sealedfiber.Session(c)
		if err != nil {
			return err
		}
		if c.Query("keep") != "" {
			kept <- s
		}
		return c.SendStatus(http.StatusNoContent)
	})
	b := newBrowser(t, app)
	b.Post("/login?user=" + strings.Repeat("a", 500))
	first := b.Jar()["session"]
	other := newBrowser(t, site(m, fiber.Config{}))
	other.Post("/login?user=" + strings.Repeat("z", 500))
	second := other.Jar()["session"]
	require.NotEqual(t, first, second)

	// One client, one keep-alive connection: the second request's
	// Cookie header lands in the buffers that held the first's.
	anon := b.WithoutJar()
	anon.Do(http.MethodGet, "/keep?keep=1", "session="+first)
	s := <-kept
	for range 3 {
		anon.Do(http.MethodGet, "/keep", "session="+second)
	}
	user, _, err := sealed.Get[string](s, "user")
	require.NoError(t, err)
	assert.Equal(t, strings.Repeat("a", 500), user)
	assert.ErrorIs(t, s.Set("late", 1), sealed.ErrCommitted)

	imported = nil
	anon.Do(http.MethodGet, "/keep", "legacy="+strings.Repeat("A", 100))
	anon.Do(http.MethodGet, "/keep", "legacy="+strings.Repeat("B", 100))
	assert.Equal(t, []string{"legacy=" + strings.Repeat("A", 100), "legacy=" + strings.Repeat("B", 100)}, imported)
}

// Under the default budget (one cookie) the same session is too large:
// 500 in place of the handler's answer, its headers dropped, and the
// client keeps its cookies.
func TestTooLarge(t *testing.T) {
	m := adaptertest.NewManager(t, sealed.Options{})
	b := newBrowser(t, site(m, fiber.Config{}))
	b.Post("/blob?n=10")
	before := b.Jar()
	require.Contains(t, before, "session")

	r := b.Post("/blob?n=6000")
	assert.Equal(t, http.StatusInternalServerError, r.StatusCode)
	assert.Equal(t, "Internal Server Error\n", r.Body)
	assert.Equal(t, "no-store", r.Header.Get("Cache-Control"))
	assert.Empty(t, r.Header.Get("ETag"), "the handler's headers describe another response")
	assert.Equal(t, "text/plain; charset=utf-8", r.Header.Get("Content-Type"))
	assert.Empty(t, r.Header.Values("Set-Cookie"))
	assert.Equal(t, before, b.Jar())
}

// A forged or garbled cookie gives a fresh session, never an error.
func TestForgedCookie(t *testing.T) {
	b := newBrowser(t, site(adaptertest.NewManager(t, sealed.Options{}), fiber.Config{}))
	for _, c := range []string{"session=forged", "session=" + strings.Repeat("A", 300), "session=x; session.1=y", `session="quoted"`} {
		r := b.Do(http.MethodGet, "/", c)
		assert.Equal(t, http.StatusOK, r.StatusCode, c)
		assert.Equal(t, "user= flashes=", r.Body, c)
	}
	other := newBrowser(t, site(adaptertest.NewManager(t, sealed.Options{}), fiber.Config{}))
	other.Post("/login?user=mallory")
	r := b.Do(http.MethodGet, "/", "session="+other.Jar()["session"])
	assert.Equal(t, "user= flashes=", r.Body, "a cookie sealed under other keys opens nothing")
}

// With the revocation list down, a request that carries a session gets
// 503, uncacheable and without cookies, whether the handler returns the
// error or not; the cookies survive the outage.
func TestRevocationDown(t *testing.T) {
	list := adaptertest.NewFlakyList()
	m := adaptertest.NewManager(t, sealed.Options{Revocation: list})
	var chainErrs []error
	logger := func(c *fiber.Ctx) error {
		err := c.Next()
		chainErrs = append(chainErrs, err)
		return err
	}
	b := newBrowser(t, site(m, fiber.Config{}, logger))
	b.Post("/login?user=ann")
	before := b.Jar()

	list.SetDown(true)
	for _, path := range []string{"/", "/forbidden"} {
		r := b.Get(path)
		assert.Equal(t, http.StatusServiceUnavailable, r.StatusCode, path)
		assert.Equal(t, "Service Unavailable\n", r.Body, path)
		assert.Equal(t, "no-store", r.Header.Get("Cache-Control"), path)
		assert.Empty(t, r.Header.Values("Set-Cookie"), path)
	}
	r := b.Post("/logout")
	assert.Equal(t, http.StatusServiceUnavailable, r.StatusCode, "a logout whose handler returns the error")
	assert.Equal(t, before, b.Jar())

	list.SetDown(false)
	assert.Equal(t, "user=ann flashes=welcome ann", b.Get("/").Body)
	assert.Equal(t, []error{nil, nil, nil, nil, nil}, chainErrs, "the answer is final: no error for the ErrorHandler to render over it")
}

// Handlers after the middleware read and change the session, before the
// next handler runs and after it returns; once the middleware has
// returned, changes are refused.
func TestChain(t *testing.T) {
	m := adaptertest.NewManager(t, sealed.Options{})
	late := make(chan error, 1)
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Use(func(c *fiber.Ctx) error {
		err := c.Next()
		if s, serr := sealedfiber.Session(c); serr == nil {
			late <- s.Set("outside", true)
		}
		return err
	})
	app.Use(sealedfiber.Middleware(m), func(c *fiber.Ctx) error {
		s, err := sealedfiber.Session(c)
		if err != nil {
			return nil
		}
		n, _, _ := sealed.Get[int](s, "n")
		c.Locals("n", n)
		if err := c.Next(); err != nil {
			return err
		}
		return s.Set("n", n+1)
	})
	app.Get("/", func(c *fiber.Ctx) error { return c.SendString(fmt.Sprint("n=", c.Locals("n"))) })
	b := newBrowser(t, app)
	for i := range 3 {
		assert.Equal(t, fmt.Sprint("n=", i), b.Get("/").Body)
		assert.ErrorIs(t, <-late, sealed.ErrCommitted, "outside the middleware the session is saved")
	}
}

// Without the middleware, Session says so.
func TestNoMiddleware(t *testing.T) {
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	errs := make(chan error, 1)
	app.Get("/", func(c *fiber.Ctx) error {
		_, err := sealedfiber.Session(c)
		errs <- err
		return nil
	})
	_, err := app.Test(httptest.NewRequest(http.MethodGet, "/", nil), -1)
	require.NoError(t, err)
	assert.ErrorIs(t, <-errs, sealed.ErrNoMiddleware)
	assert.Panics(t, func() { sealedfiber.Middleware(nil) })
}

// The ReadBufferSize the README gives for each budget lets the largest
// session that budget allows through, with a browser's worth of other
// headers beside it; fasthttp's default does not, past the zero Budget.
func TestReadBufferSizeForBudget(t *testing.T) {
	for _, tc := range []struct {
		name   string
		budget sealed.Budget
		buffer int
	}{
		{"zero", sealed.Budget{}, 8 << 10},
		{"nginx8k", sealed.BudgetNginx8k(), 16 << 10},
		{"apigateway", sealed.BudgetAPIGatewayHTTP(), 16 << 10},
		{"large", sealed.BudgetLarge(), 32 << 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := adaptertest.NewManager(t, sealed.Options{Budget: tc.budget})
			n, cookie := largest(t, m)
			send := func(buffer int) adaptertest.Reply {
				b := newBrowser(t, site(m, fiber.Config{ReadBufferSize: buffer}))
				req, err := http.NewRequest(http.MethodGet, b.Base().String()+"/blob", nil)
				require.NoError(t, err)
				req.Header.Set("Cookie", cookie)
				// About 1 KiB of what a browser sends besides.
				req.Header.Set("User-Agent", strings.Repeat("u", 150))
				req.Header.Set("Accept", strings.Repeat("a", 200))
				req.Header.Set("Accept-Language", strings.Repeat("l", 50))
				req.Header.Set("Referer", "http://example.test/"+strings.Repeat("r", 200))
				req.Header.Set("Sec-Ch-Ua", strings.Repeat("s", 300))
				return b.Send(req)
			}
			r := send(tc.buffer)
			require.Equal(t, http.StatusOK, r.StatusCode)
			assert.True(t, strings.HasPrefix(r.Body, strconv.Itoa(n)+" "), "the whole session arrived: %s", r.Body)
			if tc.name != "zero" {
				assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, send(0).StatusCode, "fasthttp's default buffer")
			}
		})
	}
}

// largest returns the length of the longest blob whose session m still
// saves, and that session's Cookie header.
func largest(t *testing.T, m *sealed.Manager) (int, string) {
	t.Helper()
	save := func(n int) ([]string, error) {
		s, err := m.Load(context.Background())
		require.NoError(t, err)
		require.NoError(t, s.Set("blob", strings.Repeat("x", n)))
		return m.Save(context.Background(), s)
	}
	// The first length that no longer saves, below 64 KiB, which none does.
	n := sort.Search(1<<16, func(n int) bool {
		_, err := save(n)
		if err != nil {
			require.ErrorIs(t, err, sealed.ErrTooLarge)
		}
		return err != nil
	}) - 1
	lines, err := save(n)
	require.NoError(t, err)
	return n, sealedtest.Next("", http.Header{"Set-Cookie": lines})
}
