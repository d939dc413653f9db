// Package sealedgin runs sealed sessions as Gin middleware.
//
//	m, err := sealed.New(keys, nil)
//	r := gin.New()
//	r.Use(sealedgin.Middleware(m))
//	r.GET("/", func(c *gin.Context) {
//		s, err := sealedgin.Session(c)
//		if err != nil {
//			return // sealed.ErrUnavailable: the middleware answers 503
//		}
//		n, _, _ := sealed.Get[int](s, "visits")
//		s.Set("visits", n+1)
//		c.String(http.StatusOK, "visit %d", n+1)
//	})
//
// The middleware is [sealed.Manager.Middleware] around the rest of the
// chain, so sessions behave as they do under net/http: loaded when a
// handler first asks, saved just before the response starts, and refusing
// changes with [sealed.ErrCommitted] after that. Gin starts a response at
// the first Write, WriteString, WriteHeaderNow or Flush (c.String, c.JSON,
// c.AbortWithStatus, ...) or after the last handler returns; c.Status
// alone only records the status, as it does in Gin, so the session stays
// open after it.
//
// Wrapping the whole engine, m.Middleware(engine), works too; handlers then
// call m.Session(c.Request), since [Session] finds the manager that
// [Middleware] put in the context.
package sealedgin

import (
	"bufio"
	"io"
	"net"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/sealedgo/sealed"
)

// managerKey is the gin.Context key under which Middleware leaves its
// manager for Session and Commit. An unexported type, so no other package
// can overwrite it.
type managerKey struct{}

// Middleware returns Gin middleware that loads and saves m's sessions for
// the handlers after it. It panics if m is nil, at setup rather than on
// the first request.
func Middleware(m *sealed.Manager) gin.HandlerFunc {
	if m == nil {
		panic("sealedgin: Middleware: nil *sealed.Manager")
	}
	return func(c *gin.Context) {
		outer := c.Writer
		// Restored also after a panic, so that gin.Recovery answers
		// through Gin's own writer.
		defer func() { c.Writer = outer }()
		c.Set(managerKey{}, m)
		m.Middleware(http.HandlerFunc(func(sw http.ResponseWriter, r *http.Request) {
			// r carries the session state in its context; it stays in
			// c.Request for the rest of the request, so that middleware
			// before this one can still read the session afterwards.
			c.Request = r
			c.Writer = &writer{ResponseWriter: outer, sw: sw}
			c.Next()
		})).ServeHTTP(outer, c.Request)
	}
}

// Session returns the request's session, loading it on first use. It
// returns [sealed.ErrNoMiddleware] when c did not pass through
// [Middleware], and [sealed.ErrUnavailable] when the revocation list could
// not be asked: the middleware then answers 503 itself, so the handler
// should just return.
func Session(c *gin.Context) (*sealed.Session, error) {
	v, _ := c.Get(managerKey{})
	m, ok := v.(*sealed.Manager)
	if !ok {
		return nil, sealed.ErrNoMiddleware
	}
	return m.Session(c.Request)
}

// Commit saves the session before the response is written and returns the
// error, for handlers that want to react to [sealed.ErrTooLarge] rather
// than let the error handler answer; see [sealed.Manager.Commit].
func Commit(c *gin.Context) error {
	v, _ := c.Get(managerKey{})
	m, ok := v.(*sealed.Manager)
	if !ok {
		return sealed.ErrNoMiddleware
	}
	return m.Commit(c.Request)
}

// writer is the gin.ResponseWriter the handlers after Middleware see.
// Status, Size and Written come from Gin's writer underneath, which is
// also the writer the sealed middleware writes to; what starts the
// response goes through sw, the sealed writer, which saves the session
// first. Gin's WriteHeader only records a status, so this one does too,
// and the session is saved when Gin really sends the header.
type writer struct {
	gin.ResponseWriter                     // Gin's writer, under the sealed one
	sw                 http.ResponseWriter // the sealed middleware's writer
	started            bool                // sw was told the response starts
}

// start saves the session through the sealed writer, with the status Gin
// recorded. If saving fails, the error handler's answer goes to Gin's
// writer instead, and sw drops the handler's output from then on.
func (w *writer) start() {
	if !w.started {
		w.started = true
		w.sw.WriteHeader(w.ResponseWriter.Status())
	}
}

// WriteHeader records the status, as Gin's does. Once the response has
// started it changes nothing: the status may be the error handler's.
func (w *writer) WriteHeader(code int) {
	if !w.started {
		w.ResponseWriter.WriteHeader(code)
	}
}

func (w *writer) WriteHeaderNow() {
	w.start()
	w.ResponseWriter.WriteHeaderNow()
}

func (w *writer) Write(p []byte) (int, error) {
	w.start()
	return w.sw.Write(p)
}

func (w *writer) WriteString(s string) (int, error) {
	w.start()
	return io.WriteString(w.sw, s)
}

func (w *writer) Flush() {
	w.start()
	_ = http.NewResponseController(w.sw).Flush()
}

// Hijack hands the connection over through the sealed writer, which then
// closes the session without cookies.
func (w *writer) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(w.sw).Hijack()
	if err == nil {
		w.started = true
	}
	return conn, rw, err
}

// Unwrap returns the sealed writer, so that http.ResponseController's
// other methods reach the server's writer through it.
func (w *writer) Unwrap() http.ResponseWriter { return w.sw }
