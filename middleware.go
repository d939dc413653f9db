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
//     calls [Manager.Session].
//   - Cookies are written just before the first WriteHeader, Write or
//     Flush, or when the handler returns, and only when needed.
//   - The writer passed to next has Flush, Hijack and Unwrap, so
//     http.ResponseController works.
//   - A response whose handler loaded the session gets "Vary: Cookie"; one
//     that sets cookies also gets `Cache-Control: no-cache="Set-Cookie"`.
//   - If the session cannot be loaded or saved, [Options].ErrorHandler
//     answers instead (by default 503 or 500, with "Cache-Control:
//     no-store"), and the client's cookies are left as they were.
//   - A session kept past its request keeps its data; changes to it after
//     the response started return [ErrCommitted], also when the handler
//     panicked.
func (m *Manager) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &sessionWriter{ResponseWriter: w, m: m}
		sw.cond.L = &sw.mu
		sw.ctx = requestContext{Context: r.Context(), sw: sw}
		sw.r = r.WithContext(&sw.ctx)
		finished := false
		defer func() {
			if !finished {
				sw.abandon() // a panic: nothing more is saved
			}
		}()
		next.ServeHTTP(sw, sw.r)
		sw.commit(true)
		finished = true
	})
}

// commitState is where a response stands with its session's cookies.
type commitState uint8

const (
	stOpen       commitState = iota // headers not written; cookies undecided
	stCommitting                    // a goroutine is saving the session
	stHandling                      // the save failed; the error handler is answering
	stDone                          // cookies decided (written, or none)
)

// sessionWriter is the per-request state, the ResponseWriter handed to
// the handler and the request's context, in one allocation.
//
// Nothing here calls user code with a lock held: the session is saved
// (and the revocation list asked) in stCommitting, and the error handler
// runs in stHandling, with mu released; other writers wait on cond.
type sessionWriter struct {
	http.ResponseWriter
	m   *Manager
	r   *http.Request
	ctx requestContext

	// loadMu makes concurrent first calls of Manager.Session load once.
	loadMu sync.Mutex

	mu       sync.Mutex
	cond     sync.Cond // on mu: signalled when a commit or the error handler ends
	loaded   bool
	sess     *Session
	loadErr  error
	state    commitState
	err      error // the error the error handler answered
	replaced bool  // the error handler wrote: drop the handler's output
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
// returns [ErrNoMiddleware] if r did not pass through [Manager.Middleware],
// and [ErrUnavailable] if the revocation list could not be asked (the
// middleware then answers 503 on its own; the handler should just return).
func (m *Manager) Session(r *http.Request) (*Session, error) {
	sw := m.state(r)
	if sw == nil {
		return nil, ErrNoMiddleware
	}
	sw.loadMu.Lock()
	defer sw.loadMu.Unlock()
	sw.mu.Lock()
	if sw.loaded {
		defer sw.mu.Unlock()
		return sw.sess, sw.loadErr
	}
	sw.mu.Unlock()

	sess, err := m.load(sw.r.Context(), sw.r.Header["Cookie"])

	sw.mu.Lock()
	sw.sess, sw.loadErr, sw.loaded = sess, err, true
	late := sw.state != stOpen
	sw.mu.Unlock()
	if late && sess != nil {
		// Loaded after the headers went out: nothing can be saved, and
		// the response carries no Vary: Cookie.
		m.logger.Warn("sealed: session loaded after the response started; it is read-only and the response was sent without Vary: Cookie")
		sess.markCommitted()
	}
	return sess, err
}

// Commit saves the session now, before the response is written, and
// returns the error instead of passing it to the error handler: the way to
// react to [ErrTooLarge] (tell the user, undo the change). On error the
// session stays open and is saved again when the response starts; after
// success, changes are refused with [ErrCommitted]. Calling Commit again
// returns nil, or the error the error handler answered.
func (m *Manager) Commit(r *http.Request) error {
	sw := m.state(r)
	if sw == nil {
		return ErrNoMiddleware
	}
	_, err := sw.commit(false)
	return err
}

// commit writes the session's cookies into the header. With final set
// (the response is starting), errors go to the error handler, and commit
// reports whether it wrote the response instead; otherwise they are
// returned and the session stays open.
func (sw *sessionWriter) commit(final bool) (replaced bool, err error) {
	sw.mu.Lock()
	for sw.state == stCommitting || (final && sw.state == stHandling) {
		sw.cond.Wait()
	}
	if sw.state != stOpen {
		defer sw.mu.Unlock()
		return sw.replaced, sw.err
	}
	if !sw.loaded {
		if final {
			sw.state = stDone
		}
		sw.mu.Unlock()
		return false, nil
	}
	sess, err := sw.sess, sw.loadErr
	sw.state = stCommitting
	sw.mu.Unlock()

	var out []string
	if err == nil {
		out, err = sw.m.save(sw.r.Context(), sess)
	}

	sw.mu.Lock()
	defer sw.cond.Broadcast()
	if err != nil && !final {
		sw.state = stOpen
		sw.mu.Unlock()
		return false, err
	}
	h := sw.ResponseWriter.Header()
	// The handler read the session, so the response may depend on it.
	addVaryCookie(h)
	if err == nil {
		for _, line := range out {
			h.Add("Set-Cookie", line)
		}
		if len(out) > 0 {
			// Shared caches must not store these cookies for other users.
			h.Add("Cache-Control", `no-cache="Set-Cookie"`)
		}
		sw.state = stDone
		sw.mu.Unlock()
		return false, nil
	}
	sw.state, sw.err = stHandling, err
	sw.mu.Unlock()
	if sess != nil {
		sess.markCommitted() // later changes could not be saved either
	}
	replaced = sw.fail(err)
	sw.mu.Lock()
	sw.state, sw.replaced = stDone, replaced
	sw.mu.Unlock()
	return replaced, err
}

// abandon closes the session when no response of the handler's will
// carry its cookies: the connection was hijacked, or the handler (or the
// error handler) panicked.
func (sw *sessionWriter) abandon() {
	sw.mu.Lock()
	sess := sw.sess
	if sw.state != stCommitting {
		sw.state = stDone
	}
	sw.mu.Unlock()
	sw.cond.Broadcast()
	if sess != nil {
		sess.markCommitted()
	}
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

// errorHeaders are the handler's headers that would describe the wrong
// response once the error handler answers.
var errorHeaders = []string{"Content-Length", "Content-Encoding", "Content-Type", "Etag", "Last-Modified", "Cache-Control", "Expires", "Location"}

// fail logs err and lets the error handler answer, with no lock held. It
// reports whether the error handler wrote a response.
func (sw *sessionWriter) fail(err error) bool {
	sw.m.logger.Error("sealed: session could not be loaded or saved; client cookies left unchanged", "err", err)
	h := sw.ResponseWriter.Header()
	kept := make([][]string, len(errorHeaders))
	for i, k := range errorHeaders {
		kept[i] = h[k]
		delete(h, k)
	}
	tw := &trackingWriter{ResponseWriter: sw.ResponseWriter}
	sw.m.errorHandler(tw, sw.r, err)
	if !tw.wrote {
		// The error handler did not answer: the handler's response goes
		// out as it was.
		for i, k := range errorHeaders {
			if kept[i] != nil {
				h[k] = kept[i]
			}
		}
	}
	return tw.wrote
}

// trackingWriter tells whether the error handler wrote a response, and
// makes that response uncacheable whatever anyone set.
type trackingWriter struct {
	http.ResponseWriter
	wrote bool
}

func (t *trackingWriter) start() {
	if !t.wrote {
		t.wrote = true
		t.ResponseWriter.Header().Set("Cache-Control", "no-store")
	}
}

func (t *trackingWriter) WriteHeader(code int) { t.start(); t.ResponseWriter.WriteHeader(code) }
func (t *trackingWriter) Write(p []byte) (int, error) {
	t.start()
	return t.ResponseWriter.Write(p)
}
func (t *trackingWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }

func (sw *sessionWriter) WriteHeader(code int) {
	// 1xx informational responses (103 Early Hints) precede the real one.
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		sw.ResponseWriter.WriteHeader(code)
		return
	}
	if replaced, _ := sw.commit(true); replaced {
		return
	}
	sw.ResponseWriter.WriteHeader(code)
}

func (sw *sessionWriter) Write(p []byte) (int, error) {
	if replaced, _ := sw.commit(true); replaced {
		return 0, errReplaced
	}
	return sw.ResponseWriter.Write(p)
}

// WriteString is Write for a string. Without it, io.WriteString (and
// anything else that looks for io.StringWriter) would copy the string to
// a new []byte on every call, since the writer it is given is this one,
// not the server's, which has WriteString.
func (sw *sessionWriter) WriteString(s string) (int, error) {
	if replaced, _ := sw.commit(true); replaced {
		return 0, errReplaced
	}
	return io.WriteString(sw.ResponseWriter, s)
}

// Flush commits the session, then flushes. Committing first is what keeps
// the session of a handler that flushes before writing anything.
func (sw *sessionWriter) Flush() {
	if replaced, _ := sw.commit(true); replaced {
		return
	}
	_ = http.NewResponseController(sw.ResponseWriter).Flush()
}

// Hijack hands the connection over. No headers will be written after it,
// so once it succeeds the session is committed as it stands, without
// cookies. When it fails (HTTP/2, a writer that cannot), the handler's
// fallback response still saves the session.
func (sw *sessionWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(sw.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	sw.abandon()
	return conn, rw, nil
}

// Unwrap returns the wrapped writer, for http.ResponseController.
func (sw *sessionWriter) Unwrap() http.ResponseWriter { return sw.ResponseWriter }
