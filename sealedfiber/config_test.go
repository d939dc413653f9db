package sealedfiber_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealedgo/sealed"
	"github.com/sealedgo/sealed/internal/adaptertest"
	"github.com/sealedgo/sealed/sealedfiber"
)

// logBuffer collects a logger's JSON lines. The server logs from its own
// goroutines, so it has a lock of its own.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// take returns the lines logged since the last take, and the raw text.
func (l *logBuffer) take(t *testing.T) ([]map[string]any, string) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	raw := l.buf.String()
	l.buf.Reset()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(raw), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec), line)
		out = append(out, rec)
	}
	return out, raw
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

const failMsg = "sealed: session could not be loaded or saved; client cookies left unchanged"

// Each failure is one error line with the error, and nothing of the
// cookies or the session: not when the save fails, not when the load
// does.
func TestFailureLogged(t *testing.T) {
	list := adaptertest.NewFlakyList()
	m := adaptertest.NewManager(t, sealed.Options{Revocation: list})
	var logs logBuffer
	b := newBrowser(t, siteWith(sealedfiber.Middleware(m, sealedfiber.Config{Logger: logs.logger()}), fiber.Config{}))
	const user = "user-zqxj"
	b.Post("/login?user=" + user)
	b.Post("/blob?n=10")
	cookie := b.Jar()["session"]
	require.NotEmpty(t, cookie)
	lines, _ := logs.take(t)
	assert.Empty(t, lines, "nothing failed yet")

	secret := adaptertest.Blob(3000)
	r := b.Post("/blob?n=6000") // too large for the default budget
	require.Equal(t, http.StatusInternalServerError, r.StatusCode)
	lines, raw := logs.take(t)
	require.Len(t, lines, 1, raw)
	assert.Equal(t, "ERROR", lines[0]["level"])
	assert.Equal(t, failMsg, lines[0]["msg"])
	assert.Contains(t, lines[0]["err"], sealed.ErrTooLarge.Error())

	list.SetDown(true)
	r = b.Get("/")
	require.Equal(t, http.StatusServiceUnavailable, r.StatusCode)
	lines, raw2 := logs.take(t)
	require.Len(t, lines, 1, raw2)
	assert.Equal(t, "ERROR", lines[0]["level"])
	assert.Equal(t, failMsg, lines[0]["msg"])
	assert.Contains(t, lines[0]["err"], adaptertest.ErrDown.Error())

	for _, text := range []string{raw, raw2} {
		assert.NotContains(t, text, cookie, "the cookie's value")
		assert.NotContains(t, text, cookie[:16], "part of the cookie's value")
		assert.NotContains(t, text, user, "the session's subject and contents")
		assert.NotContains(t, text, secret[:16])
	}
}

// Without a Logger, failures go to slog.Default(), the one in place when
// they happen.
func TestFailureLoggedToDefault(t *testing.T) {
	m := adaptertest.NewManager(t, sealed.Options{})
	b := newBrowser(t, site(m, fiber.Config{}))
	var logs logBuffer
	prev := slog.Default()
	slog.SetDefault(logs.logger())
	t.Cleanup(func() { slog.SetDefault(prev) })

	b.Post("/blob?n=6000")
	lines, raw := logs.take(t)
	require.Len(t, lines, 1, raw)
	assert.Equal(t, "ERROR", lines[0]["level"])
	assert.Equal(t, failMsg, lines[0]["msg"])
}

// A Config.ErrorHandler answers in the middleware's place, from a cleared
// response whose status is the default one; its answer reaches the client
// with no-store and without the session's cookies, and the client keeps
// its cookies.
func TestCustomErrorHandler(t *testing.T) {
	list := adaptertest.NewFlakyList()
	m := adaptertest.NewManager(t, sealed.Options{Revocation: list})
	type call struct {
		err    error
		status int
		body   string
		etag   string
		change error // what changing the session returned
	}
	calls := make(chan call, 1)
	// The error handler runs before the answer is sent: once the client
	// has it, the call is in the channel, or it never happened.
	called := func() call {
		t.Helper()
		select {
		case c := <-calls:
			return c
		default:
			t.Fatal("the Config.ErrorHandler was not called")
			return call{}
		}
	}
	cfg := sealedfiber.Config{
		Logger: slog.New(slog.DiscardHandler),
		ErrorHandler: func(c *fiber.Ctx, err error) error {
			var change error
			if s, lerr := sealedfiber.Session(c); lerr == nil {
				change = s.AddFlash("too late")
			}
			calls <- call{err, c.Response().StatusCode(), string(c.Response().Body()), string(c.Response().Header.Peek(fiber.HeaderETag)), change}
			c.Set(fiber.HeaderCacheControl, "public, max-age=3600") // overridden
			c.Set("X-Custom", "yes")
			return c.Status(http.StatusTeapot).JSON(fiber.Map{"error": "custom"})
		},
	}
	b := newBrowser(t, siteWith(sealedfiber.Middleware(m, cfg), fiber.Config{}))
	b.Post("/login?user=ann")
	before := b.Jar()
	require.Contains(t, before, "session")

	r := b.Post("/blob?n=6000")
	got := called()
	assert.ErrorIs(t, got.err, sealed.ErrTooLarge)
	assert.Equal(t, http.StatusInternalServerError, got.status, "the default status, set before the error handler runs")
	assert.Empty(t, got.body, "the handler's body is cleared")
	assert.Empty(t, got.etag, "the handler's headers are dropped")
	assert.ErrorIs(t, got.change, sealed.ErrCommitted, "a session that could not be saved refuses changes, rather than drop them")
	assert.Equal(t, http.StatusTeapot, r.StatusCode)
	assert.JSONEq(t, `{"error":"custom"}`, r.Body)
	assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
	assert.Equal(t, "yes", r.Header.Get("X-Custom"))
	assert.Equal(t, []string{"no-store"}, r.Header.Values("Cache-Control"))
	assert.Empty(t, r.Header.Get("ETag"))
	assert.Empty(t, r.Header.Values("Set-Cookie"))
	assert.Equal(t, before, b.Jar())

	list.SetDown(true)
	r = b.Get("/")
	got = called()
	assert.ErrorIs(t, got.err, sealed.ErrUnavailable)
	assert.Equal(t, http.StatusServiceUnavailable, got.status)
	assert.Equal(t, http.StatusTeapot, r.StatusCode)
	assert.JSONEq(t, `{"error":"custom"}`, r.Body)
	assert.Equal(t, []string{"no-store"}, r.Header.Values("Cache-Control"))
	assert.Empty(t, r.Header.Values("Set-Cookie"))
	assert.Equal(t, before, b.Jar())
}

// An error the Config.ErrorHandler returns goes on to the app's
// ErrorHandler, and the answer still has no-store and no session cookies.
func TestCustomErrorHandlerError(t *testing.T) {
	m := adaptertest.NewManager(t, sealed.Options{})
	var chainErrs []error
	outer := func(c *fiber.Ctx) error {
		err := c.Next()
		chainErrs = append(chainErrs, err)
		return err
	}
	errCustom := fiber.NewError(http.StatusBadGateway, "custom failure")
	cfg := sealedfiber.Config{
		Logger:       slog.New(slog.DiscardHandler),
		ErrorHandler: func(*fiber.Ctx, error) error { return errCustom },
	}
	b := newBrowser(t, siteWith(sealedfiber.Middleware(m, cfg), fiber.Config{}, outer))
	b.Post("/blob?n=10")
	before := b.Jar()

	r := b.Post("/blob?n=6000")
	assert.Equal(t, http.StatusBadGateway, r.StatusCode)
	assert.Equal(t, "custom failure", r.Body)
	assert.Equal(t, "no-store", r.Header.Get("Cache-Control"))
	assert.Empty(t, r.Header.Values("Set-Cookie"))
	assert.Equal(t, before, b.Jar())
	require.Len(t, chainErrs, 2)
	assert.NoError(t, chainErrs[0])
	assert.True(t, errors.Is(chainErrs[1], errCustom), "the error handler's error is returned as it is")
}

// Without a Config and with the zero one, the answer is the default
// one, whatever body the handler had sent.
func TestDefaultAnswer(t *testing.T) {
	m := adaptertest.NewManager(t, sealed.Options{})
	for _, mw := range []fiber.Handler{sealedfiber.Middleware(m), sealedfiber.Middleware(m, sealedfiber.Config{})} {
		app := siteWith(mw, fiber.Config{})
		app.Post("/send", func(c *fiber.Ctx) error {
			s, err := sealedfiber.Session(c)
			if err != nil {
				return nil
			}
			if err := s.Set("blob", adaptertest.Blob(6000)); err != nil {
				return err
			}
			return c.Send([]byte("the handler's body"))
		})
		b := newBrowser(t, app)
		r := b.Post("/send")
		assert.Equal(t, http.StatusInternalServerError, r.StatusCode)
		assert.Equal(t, "Internal Server Error\n", r.Body)
		assert.Equal(t, "text/plain; charset=utf-8", r.Header.Get("Content-Type"))
		assert.Equal(t, "nosniff", r.Header.Get("X-Content-Type-Options"))
		assert.Equal(t, "no-store", r.Header.Get("Cache-Control"))
		assert.Empty(t, r.Header.Values("Set-Cookie"))
	}
}

// More than one Config is refused at setup, not half used.
func TestMoreThanOneConfig(t *testing.T) {
	m := adaptertest.NewManager(t, sealed.Options{})
	assert.PanicsWithValue(t, "sealedfiber: Middleware: more than one Config", func() {
		sealedfiber.Middleware(m, sealedfiber.Config{}, sealedfiber.Config{})
	})
	assert.NotPanics(t, func() { sealedfiber.Middleware(m, sealedfiber.Config{}) })
}
