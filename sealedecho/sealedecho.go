// Package sealedecho runs sealed sessions as Echo (v4) middleware.
//
//	m, err := sealed.New(keys, nil)
//	e := echo.New()
//	e.Use(sealedecho.Middleware(m))
//	e.GET("/", func(c echo.Context) error {
//		s, err := sealedecho.Session(c)
//		if err != nil {
//			return err // sealed.ErrUnavailable: the middleware has answered 503
//		}
//		n, _, _ := sealed.Get[int](s, "visits")
//		s.Set("visits", n+1)
//		return c.String(http.StatusOK, fmt.Sprint("visit ", n+1))
//	})
//
// The middleware is [sealed.Manager.Middleware] around the rest of the
// chain, so sessions behave as they do under net/http: loaded when a
// handler first asks, saved just before the response starts, and refusing
// changes with [sealed.ErrCommitted] after that.
//
// A handler's error is rendered by e.HTTPErrorHandler after the
// middleware has returned, and so after the session was saved: the
// session's cookies go out with the error page, and the error handler can
// read the session but not change it. Change the session before
// returning the error. If the session could not be saved, the manager's
// error handler has answered already (503 or 500) and c.Response().Committed
// is set, so Echo's default error handler stays silent.
//
// echo.WrapMiddleware(m.Middleware) works too, with m.Session(c.Request())
// in the handlers; this package adds [Session] and [Commit] that find the
// manager themselves, and keeps one echo.Response whose Status and Size are
// those sent, also when the manager's error handler answered.
package sealedecho

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sealedgo/sealed"
)

// managerKey is the echo.Context key under which Middleware leaves its
// manager for Session and Commit.
const managerKey = "github.com/sealedgo/sealed/sealedecho.Manager"

// Middleware returns Echo middleware that loads and saves m's sessions for
// the handlers after it. It panics if m is nil, at setup rather than on
// the first request.
func Middleware(m *sealed.Manager) echo.MiddlewareFunc {
	if m == nil {
		panic("sealedecho: Middleware: nil *sealed.Manager")
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			outer := c.Response()
			// Also after a panic, so that middleware.Recover answers
			// through the response the middleware before saw.
			defer c.SetResponse(outer)
			c.Set(managerKey, m)
			var err error
			// The manager writes to outer, so what outer records (status,
			// size, committed) is what was sent, the error handler's
			// answer included; the handlers write to a Response of their
			// own over the manager's writer, which saves the session first.
			m.Middleware(http.HandlerFunc(func(sw http.ResponseWriter, r *http.Request) {
				// r carries the session state in its context. It stays in
				// c for the rest of the request, so that the error handler
				// can still read the session.
				c.SetRequest(r)
				c.SetResponse(echo.NewResponse(sw, c.Echo()))
				err = next(c)
			})).ServeHTTP(outer, c.Request())
			return err
		}
	}
}

// Session returns the request's session, loading it on first use. It
// returns [sealed.ErrNoMiddleware] when c did not pass through
// [Middleware], and [sealed.ErrUnavailable] when the revocation list could
// not be asked: the middleware then answers 503 itself, so the handler
// may return the error, which Echo's default error handler then ignores.
func Session(c echo.Context) (*sealed.Session, error) {
	m, ok := c.Get(managerKey).(*sealed.Manager)
	if !ok {
		return nil, sealed.ErrNoMiddleware
	}
	return m.Session(c.Request())
}

// Commit saves the session before the response is written and returns the
// error, for handlers that want to react to [sealed.ErrTooLarge] rather
// than let the error handler answer; see [sealed.Manager.Commit].
func Commit(c echo.Context) error {
	m, ok := c.Get(managerKey).(*sealed.Manager)
	if !ok {
		return sealed.ErrNoMiddleware
	}
	return m.Commit(c.Request())
}
