package sealed

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
)

// ctxKey finds a manager's per-request state in a request context. It holds
// the manager so that two managers (two session cookies) never mix.
type ctxKey struct{ m *Manager }

// errReplaced is what a handler's Write returns after the session error
// handler has answered the request instead.
var errReplaced = errors.New("sealed: response replaced by the session error handler")

// Middleware loads and saves sessions around next, in the usual
// func(http.Handler) http.Handler shape:
//
//   - Loading is lazy: nothing is parsed or decrypted unless the handler
//     calls Manager.Session.
//   - Cookies are written just before the first WriteHeader, Write or
//     Flush, or when the handler returns, and only when the session needs
//     writing (see the package documentation). A handler that flushes
//     early keeps its session.
//   - The writer passed to next implements http.Flusher and
//     http.Hijacker and has Unwrap, so http.ResponseController works.
//   - Responses that set session cookies get "Vary: Cookie" and
//     `Cache-Control: no-cache="Set-Cookie"`.
//   - If the session cannot be loaded or saved, Options.ErrorHandler
//     answers instead (by default 503 or 500), and the client's cookies are
//     left as they were.
//   - When the handler returns, the session is released (Session.Release):
//     a goroutine that keeps it past the request reads ErrReleased.
func (m *Manager) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &sessionWriter{ResponseWriter: w, m: m}
		sw.ctx = requestContext{Context: r.Context(), sw: sw}
		sw.r = r.WithContext(&sw.ctx)
		next.ServeHTTP(sw, sw.r)
		sw.commit(true)
		sw.release()
	})
}

// release ends the session's use when the request ends, so that the next
// request reuses the buffer it was decoded into (see Session.Release).
// Without it every request allocated a new one.
func (sw *sessionWriter) release() {
	sw.mu.Lock()
	sess := sw.sess
	sw.mu.Unlock()
	if sess != nil {
		sess.Release()
	}
}

// sessionWriter is the per-request state, the ResponseWriter handed to
// the handler and the request's context, in one allocation.
type sessionWriter struct {
	http.ResponseWriter
	m   *Manager
	r   *http.Request
	ctx requestContext

	mu        sync.Mutex
	loaded    bool
	sess      *Session
	loadErr   error
	committed bool // cookies decided; the session is read-only from here
	replaced  bool // the error handler answered; drop the handler's output
}

// requestContext is the context of a request inside the middleware: its
// parent plus the manager's state under ctxKey, which is what
// context.WithValue would make, without an allocation of its own since it
// lives in the sessionWriter. Deadline, Done and Err are the parent's, so
// contexts derived from it find the parent's cancellation as usual.
type requestContext struct {
	context.Context
	sw *sessionWriter
}

func (c *requestContext) Value(key any) any {
	if k, ok := key.(ctxKey); ok && k.m == c.sw.m {
		return c.sw
	}
	return c.Context.Value(key)
}

func (c *requestContext) String() string {
	return fmt.Sprint(c.Context) + ".WithValue(sealed session)"
}

func (m *Manager) state(r *http.Request) *sessionWriter {
	sw, _ := r.Context().Value(ctxKey{m}).(*sessionWriter)
	return sw
}

// Session returns the request's session, loading it on first use. It
// returns ErrNoMiddleware if r did not pass through m.Middleware, and
// ErrUnavailable if the revocation list could not be asked (the middleware
// then answers 503 on its own; the handler should just return).
func (m *Manager) Session(r *http.Request) (*Session, error) {
	sw := m.state(r)
	if sw == nil {
		return nil, ErrNoMiddleware
	}
	sw.mu.Lock()
	defer sw.mu.Unlock()
	if !sw.loaded {
		var cs chunkSet
		for _, line := range sw.r.Header["Cookie"] {
			cs.addHeader(m.name, line)
		}
		sw.sess, sw.loadErr = m.load(sw.r.Context(), &cs)
		sw.loaded = true
		if sw.committed && sw.sess != nil {
			sw.sess.mu.Lock()
			sw.sess.committed = true // loaded after the headers went out
			sw.sess.mu.Unlock()
		}
	}
	return sw.sess, sw.loadErr
}

// Commit saves the session now, before the response is written, and
// returns the error instead of passing it to the error handler: the way to
// react to ErrTooLarge (tell the user, undo the change). On error the
// session stays open for changes and is saved again when the response
// starts. After a successful Commit, changes are refused with
// ErrCommitted. Calling Commit again does nothing.
func (m *Manager) Commit(r *http.Request) error {
	sw := m.state(r)
	if sw == nil {
		return ErrNoMiddleware
	}
	return sw.commit(false)
}

// commit writes the session's cookies into the header. With final set
// (the response is starting), errors go to the error handler; otherwise
// they are returned and nothing is committed.
func (sw *sessionWriter) commit(final bool) error {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	if sw.committed {
		return nil
	}
	if !sw.loaded {
		sw.committed = final
		return nil
	}
	err := sw.loadErr
	var out []outCookie
	if err == nil {
		out, err = sw.m.save(sw.r.Context(), sw.sess)
	}
	if err != nil {
		if !final {
			return err
		}
		sw.committed = true
		if sw.sess != nil {
			sw.sess.mu.Lock()
			sw.sess.committed = true // later changes could not be saved either
			sw.sess.mu.Unlock()
		}
		sw.fail(err)
		return err
	}
	sw.committed = true
	if len(out) > 0 {
		h := sw.ResponseWriter.Header()
		for _, c := range out {
			h.Add("Set-Cookie", c.line())
		}
		addVaryCookie(h)
		// Shared caches must not store these cookies for other users.
		h.Add("Cache-Control", `no-cache="Set-Cookie"`)
	}
	return nil
}

func addVaryCookie(h http.Header) {
	for _, v := range h.Values("Vary") {
		for _, f := range splitList(v) {
			if f == "*" || http.CanonicalHeaderKey(f) == "Cookie" {
				return
			}
		}
	}
	h.Add("Vary", "Cookie")
}

func splitList(v string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(v); i++ {
		if i == len(v) || v[i] == ',' {
			f := v[start:i]
			for len(f) > 0 && (f[0] == ' ' || f[0] == '\t') {
				f = f[1:]
			}
			for len(f) > 0 && (f[len(f)-1] == ' ' || f[len(f)-1] == '\t') {
				f = f[:len(f)-1]
			}
			out = append(out, f)
			start = i + 1
		}
	}
	return out
}

// fail logs err and lets the error handler answer. sw.mu must be held.
func (sw *sessionWriter) fail(err error) {
	sw.m.logger.Error("sealed: session could not be loaded or saved; client cookies left unchanged", "err", err)
	// Headers the handler set for its own body would describe the wrong
	// body now.
	h := sw.ResponseWriter.Header()
	for _, k := range []string{"Content-Length", "Content-Encoding", "Content-Type", "Etag", "Last-Modified"} {
		h.Del(k)
	}
	tw := &trackingWriter{ResponseWriter: sw.ResponseWriter}
	sw.m.errorHandler(tw, sw.r, err)
	sw.replaced = tw.wrote
}

// trackingWriter tells whether the error handler wrote a response.
type trackingWriter struct {
	http.ResponseWriter
	wrote bool
}

func (t *trackingWriter) WriteHeader(code int) { t.wrote = true; t.ResponseWriter.WriteHeader(code) }
func (t *trackingWriter) Write(p []byte) (int, error) {
	t.wrote = true
	return t.ResponseWriter.Write(p)
}
func (t *trackingWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }

func (sw *sessionWriter) WriteHeader(code int) {
	// 1xx informational responses (103 Early Hints) precede the real one.
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		sw.ResponseWriter.WriteHeader(code)
		return
	}
	sw.commit(true)
	if sw.replaced {
		return
	}
	sw.ResponseWriter.WriteHeader(code)
}

func (sw *sessionWriter) Write(p []byte) (int, error) {
	sw.commit(true)
	if sw.replaced {
		return 0, errReplaced
	}
	return sw.ResponseWriter.Write(p)
}

// WriteString is Write for a string. Without it, io.WriteString (and
// anything else that looks for io.StringWriter) would copy the string to
// a new []byte on every call, since the writer it is given is this one,
// not the server's, which has WriteString.
func (sw *sessionWriter) WriteString(s string) (int, error) {
	sw.commit(true)
	if sw.replaced {
		return 0, errReplaced
	}
	return io.WriteString(sw.ResponseWriter, s)
}

// Flush commits the session, then flushes. Committing first is what keeps
// the session of a handler that flushes before writing anything.
func (sw *sessionWriter) Flush() {
	sw.commit(true)
	if sw.replaced {
		return
	}
	_ = http.NewResponseController(sw.ResponseWriter).Flush()
}

// Hijack hands the connection over. No headers will be written after it,
// so the session is committed as it stands, without cookies.
func (sw *sessionWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	sw.mu.Lock()
	sw.committed = true
	if sw.sess != nil {
		sw.sess.mu.Lock()
		sw.sess.committed = true
		sw.sess.mu.Unlock()
	}
	sw.mu.Unlock()
	return http.NewResponseController(sw.ResponseWriter).Hijack()
}

// Unwrap returns the wrapped writer, for http.ResponseController.
func (sw *sessionWriter) Unwrap() http.ResponseWriter { return sw.ResponseWriter }
