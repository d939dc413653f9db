// Package sealedfiber runs sealed sessions as Fiber (v2) middleware.
//
//	m, err := sealed.New(keys, nil)
//	app := fiber.New()
//	app.Use(sealedfiber.Middleware(m))
//	app.Get("/", func(c *fiber.Ctx) error {
//		s, err := sealedfiber.Session(c)
//		if err != nil {
//			return nil // sealed.ErrUnavailable: the middleware answers 503
//		}
//		n, _, _ := sealed.Get[int](s, "visits")
//		s.Set("visits", n+1)
//		return c.SendString(fmt.Sprint("visit ", n+1))
//	})
//
// Fiber runs on fasthttp, not net/http, so this middleware is built on
// [sealed.Manager.Load] and [sealed.Manager.Save] instead of the core
// middleware, and follows it: the session is loaded only when a handler
// asks for it, and saved when the handlers after the middleware return
// (fasthttp sends nothing before that), after which its changes return
// [sealed.ErrCommitted]. Responses whose handlers loaded the session get
// "Vary: Cookie"; those that set cookies also get
// `Cache-Control: no-cache="Set-Cookie"`.
//
// When the session cannot be loaded or saved (sealed.ErrUnavailable, the
// revocation list being down; sealed.ErrTooLarge), the middleware logs the
// error to [Config].Logger (the Manager does not expose
// sealed.Options.Logger) and lets Config.ErrorHandler answer in place of
// the handler's response: by default 503 or 500. That answer gets "Cache-Control:
// no-store" and none of the session's cookies, so the client keeps the
// ones it has. The default returns nil, so that the app's ErrorHandler
// does not overwrite that answer. Options.Observer sees the failure too.
// sealed.Options.ErrorHandler, written for net/http, applies only to
// [sealed.Manager.Middleware]; under Fiber, set Config.ErrorHandler.
//
// fasthttp reads the whole request header into Config.ReadBufferSize,
// 4096 bytes by default: leave room for the session's cookies, 8 KiB with
// the zero [sealed.Budget], 16 KiB with BudgetNginx8k or
// BudgetAPIGatewayHTTP, 32 KiB with BudgetLarge. A request over it gets
// 431 before any handler runs.
//
// A handler's error is rendered by the app's ErrorHandler after the
// middleware has returned, and so after the session was saved: the
// cookies go out with the error page, and the error handler can read the
// session but not change it.
package sealedfiber

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/gofiber/fiber/v2"

	"github.com/sealedgo/sealed"
	"github.com/sealedgo/sealed/internal/adapt"
)

// localsKey is the c.Locals key of the request's session state. An
// unexported type, so no other package can overwrite it.
type localsKey struct{}

// Config tunes [Middleware]. The zero value gives the defaults.
type Config struct {
	// ErrorHandler answers when the session cannot be loaded
	// (sealed.ErrUnavailable) or saved (sealed.ErrTooLarge, ...), the
	// Fiber counterpart of sealed.Options.ErrorHandler, which Fiber never
	// calls. It runs after the handlers, on a response cleared for it:
	// empty body, status 503 for ErrUnavailable and 500 otherwise, the
	// handler's Content-Type, ETag, Location and other headers that
	// described its answer dropped. What it writes goes out with
	// "Cache-Control: no-store" and without the session's cookies. An
	// error it returns is passed on, for the app's ErrorHandler to render.
	// It may read the session with [Session] (or get the load error);
	// changes to it return sealed.ErrCommitted, since it could not be
	// saved.
	// Default: a plain-text 503 or 500, and nil.
	ErrorHandler func(c *fiber.Ctx, err error) error
	// Logger receives one error line for each such failure, with the
	// error but never cookie values or session contents. Default
	// slog.Default(), as it is when the failure happens.
	Logger *slog.Logger
}

// state is one request's session: loaded at most once, saved once.
// Like the fiber.Ctx it belongs to, it is used from the handler's
// goroutine only; the *sealed.Session it hands out is safe to share.
type state struct {
	m      *sealed.Manager
	cfg    *Config
	loaded bool
	saved  bool // the cookies are decided: a later load is read-only
	sess   *sealed.Session
	err    error
}

// Middleware returns Fiber middleware that loads and saves m's sessions
// for the handlers after it, with at most one config, as Fiber's own
// middleware takes it. It panics if m is nil or if it is given more than
// one Config, at setup rather than on the first request: a second config
// would otherwise be ignored without a word.
func Middleware(m *sealed.Manager, config ...Config) fiber.Handler {
	if m == nil {
		panic("sealedfiber: Middleware: nil *sealed.Manager")
	}
	if len(config) > 1 {
		panic("sealedfiber: Middleware: more than one Config")
	}
	cfg := &Config{}
	if len(config) == 1 {
		*cfg = config[0] // a copy: later changes to the caller's do nothing
	}
	if cfg.ErrorHandler == nil {
		cfg.ErrorHandler = defaultErrorHandler
	}
	return func(c *fiber.Ctx) error {
		st := &state{m: m, cfg: cfg}
		c.Locals(localsKey{}, st)
		chainErr := c.Next()
		return st.finish(c, chainErr)
	}
}

// Session returns the request's session, loading it on first use. It
// returns [sealed.ErrNoMiddleware] when c did not pass through
// [Middleware], and [sealed.ErrUnavailable] when the revocation list could
// not be asked: the middleware then answers 503 itself, so the handler
// should just return nil. Call it from the handler's goroutine, as any
// method of c.
func Session(c *fiber.Ctx) (*sealed.Session, error) {
	st, ok := c.Locals(localsKey{}).(*state)
	if !ok {
		return nil, sealed.ErrNoMiddleware
	}
	if !st.loaded {
		st.loaded = true
		st.sess, st.err = st.m.Load(c.UserContext(), cookieHeaders(c)...)
		if st.saved && st.err == nil {
			// Loaded after the cookies were decided (by the app's
			// ErrorHandler, say): it is read-only, so that its changes
			// return ErrCommitted instead of being lost.
			adapt.Close(st.sess)
		}
	}
	return st.sess, st.err
}

// cookieHeaders returns the request's Cookie header lines as strings of
// their own. fasthttp reuses its buffers once the request is over, and a
// session may outlive it: nothing may alias them. fasthttp gives one line
// per Cookie header, or one merged line once something has parsed the
// cookies; Load takes either.
func cookieHeaders(c *fiber.Ctx) []string {
	raw := c.Request().Header.PeekAll(fiber.HeaderCookie)
	out := make([]string, len(raw))
	for i, v := range raw {
		out[i] = string(v) // a copy
	}
	return out
}

// finish saves the session, if a handler loaded it, into the response's
// header, or answers in the handler's place when it cannot.
func (st *state) finish(c *fiber.Ctx, chainErr error) error {
	st.saved = true
	if !st.loaded {
		return chainErr
	}
	// The handler read the session, so the response may depend on it.
	c.Vary(fiber.HeaderCookie)
	err := st.err
	var lines []string
	if err == nil {
		lines, err = st.m.Save(c.UserContext(), st.sess)
	}
	if err != nil {
		if st.sess != nil {
			// Nothing more of it can be saved: changes made from now on
			// (by the error handler, an outer middleware) return
			// ErrCommitted instead of being lost.
			adapt.Close(st.sess)
		}
		// The handler's own error, if any, is dropped with its response.
		return st.fail(c, err)
	}
	h := &c.Response().Header
	for _, l := range lines {
		h.Add(fiber.HeaderSetCookie, l)
	}
	if len(lines) > 0 {
		// Shared caches must not store these cookies for other users.
		h.Add(fiber.HeaderCacheControl, `no-cache="Set-Cookie"`)
	}
	return chainErr
}

// errorHeaders are the handler's headers that would describe the wrong
// response once the middleware answers instead; the core middleware drops
// the same ones.
var errorHeaders = []string{
	fiber.HeaderContentEncoding, fiber.HeaderContentType, fiber.HeaderETag, fiber.HeaderLastModified,
	fiber.HeaderCacheControl, fiber.HeaderExpires, fiber.HeaderLocation,
}

// fail logs err, clears the handler's response and lets the error
// handler answer in its place, uncacheable.
func (st *state) fail(c *fiber.Ctx, err error) error {
	logger := st.cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	logger.ErrorContext(c.UserContext(), "sealed: session could not be loaded or saved; client cookies left unchanged", "err", err)
	h := &c.Response().Header
	for _, k := range errorHeaders {
		h.Del(k)
	}
	// The error handler starts from an empty body: c.SendStatus, say,
	// writes its text only into an empty one.
	c.Response().ResetBody()
	c.Status(errorStatus(err))
	herr := st.cfg.ErrorHandler(c, err)
	// Set after the error handler, so that it cannot be made cacheable.
	h.Set(fiber.HeaderCacheControl, "no-store")
	return herr
}

// errorStatus is the core's default status for err: 503 when the
// revocation list is down, 500 otherwise.
func errorStatus(err error) int {
	if errors.Is(err, sealed.ErrUnavailable) {
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// defaultErrorHandler answers as the core's default does, as plain text
// with the status fail has set. It returns nil: the answer is final.
func defaultErrorHandler(c *fiber.Ctx, err error) error {
	code := errorStatus(err)
	c.Status(code)
	c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Response().SetBodyString(http.StatusText(code) + "\n")
	return nil
}
