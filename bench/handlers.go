package bench

import (
	"io"
	"net/http"

	"github.com/sealedgo/sealed"
)

// LibBare is a handler with no session at all, the baseline of the
// middleware benchmarks.
const LibBare = "bare"

// MiddlewareLibraries lists the libraries of the middleware benchmarks.
var MiddlewareLibraries = []string{LibBare, LibSealed, LibLimit, LibSCJSON, LibSCGob, LibJWE}

// NewHandler returns, for lib, an http.Handler that reads the "email" key
// of the request's session and writes it as the body, and the Cookie
// header to send it. sealed's handler runs inside m.Middleware and reads
// with m.Session and Get; the peers have no middleware, so their handler
// takes the cookie with r.Cookie and decodes it itself, as an application
// using them would. A request without a valid session gets 401.
func NewHandler(lib string, shape Shape) (http.Handler, string, error) {
	if lib == LibBare {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, Email)
		}), "", nil
	}
	c, err := NewCase(lib, shape)
	if err != nil {
		return nil, "", err
	}
	if sc, ok := c.(*sealedCase); ok {
		m := sc.m
		return m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s, err := m.Session(r)
			if err != nil {
				return // the middleware answers
			}
			v, ok, err := sealed.Get[string](s, "email")
			if err != nil || !ok {
				http.Error(w, "no session", http.StatusUnauthorized)
				return
			}
			io.WriteString(w, v)
		})), c.Header(), nil
	}
	read := c.(interface {
		readValue(string) (string, error)
	}).readValue
	_, isLimit := c.(*limitCase)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ck, err := r.Cookie(CookieName)
		if err != nil {
			http.Error(w, "no session", http.StatusUnauthorized)
			return
		}
		v, err := read(ck.Value)
		if err != nil {
			http.Error(w, "no session", http.StatusUnauthorized)
			return
		}
		if isLimit {
			v = Email // the floor opens the payload but has no keys to read
		}
		io.WriteString(w, v)
	}), c.Header(), nil
}
