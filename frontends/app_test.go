package frontends_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sealedgo/sealed"
	"github.com/sealedgo/sealed/sealedtest"
)

// The upstream application: sealed's middleware with one budget, and two
// handlers. GET /set?n=N&id=ID stores a value of N bytes and commits the
// session; over budget it answers 413 with tooLargeBody, which no proxy
// would write. GET /get?id=ID reads the value back.

const (
	tooLargeBody = "sealed refused the session: over the cookie budget"
	valueKey     = "v"
	// otherCookie is the application's own cookie that follow-up requests
	// carry next to the session, of otherCookieBytes ("name=value").
	otherCookie      = "app"
	otherCookieBytes = 512
)

type app struct {
	URL string
	m   *sealed.Manager

	mu   sync.Mutex
	sent map[string][]string // the Set-Cookie lines /set sent, by id
	got  map[string]string   // the Cookie header /get received, by id

	header atomic.Int64 // bytes of the last response header sent
}

func newApp(t testing.TB, budget sealed.Budget) *app {
	t.Helper()
	keys, err := sealed.NewKeyring(sealed.GenerateKey("frontends"))
	require.NoError(t, err)
	// The production cookie: __Host-session, Secure. The tests' clients
	// send the Cookie header themselves, so plain HTTP to the proxy does
	// not matter, and names and attributes count as they will in use.
	m, err := sealed.New(keys, &sealed.Options{Budget: budget})
	require.NoError(t, err)
	a := &app{m: m, sent: map[string][]string{}, got: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /set", a.set)
	mux.HandleFunc("GET /get", a.get)
	srv := httptest.NewUnstartedServer(m.Middleware(mux))
	srv.Listener = meterListener{srv.Listener, &a.header}
	srv.Start()
	t.Cleanup(srv.Close)
	a.URL = srv.URL
	return a
}

func value(n int) string { return strings.Repeat("v", n) }

func (a *app) set(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.Atoi(r.FormValue("n"))
	if err != nil {
		http.Error(w, "bad n", http.StatusBadRequest)
		return
	}
	s, err := a.m.Session(r)
	if err != nil {
		return // the middleware answers
	}
	if err := s.Set(valueKey, value(n)); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if err := a.m.Commit(r); err != nil {
		if !errors.Is(err, sealed.ErrTooLarge) {
			http.Error(w, "commit failed", http.StatusInternalServerError)
			return
		}
		// Undo the change, or the middleware would try to save it again
		// when the response starts, and answer with its error handler.
		if _, _, err := sealed.Remove[string](s, valueKey); err != nil {
			http.Error(w, "remove failed", http.StatusInternalServerError)
			return
		}
		http.Error(w, tooLargeBody, http.StatusRequestEntityTooLarge)
		return
	}
	a.mu.Lock()
	a.sent[r.FormValue("id")] = slices.Clone(w.Header()["Set-Cookie"])
	a.mu.Unlock()
	fmt.Fprintf(w, "saved %d", n)
}

func (a *app) get(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.got[r.FormValue("id")] = strings.Join(r.Header["Cookie"], "\n")
	a.mu.Unlock()
	s, err := a.m.Session(r)
	if err != nil {
		return
	}
	v, ok, err := sealed.Get[string](s, valueKey)
	if err != nil || !ok {
		http.Error(w, "no value in the session", http.StatusNotFound)
		return
	}
	other := 0
	if c, err := r.Cookie(otherCookie); err == nil {
		other = len(c.Name) + 1 + len(c.Value)
	}
	fmt.Fprintf(w, "value %d, %s cookie %d", len(v), otherCookie, other)
}

// lastHeader is the size of the response header the upstream sent last:
// status line, every header, the empty line.
func (a *app) lastHeader() int { return int(a.header.Load()) }

// meterListener measures the response headers its connections write.
type meterListener struct {
	net.Listener
	last *atomic.Int64
}

func (l meterListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &meterConn{Conn: c, last: l.last}, nil
}

// meterConn follows the responses written on a connection: header up to
// the empty line, then Content-Length bytes of body (the app's responses
// all have one), then the next header.
type meterConn struct {
	net.Conn
	last *atomic.Int64
	head []byte // the header being written
	skip int    // body bytes still to come
}

func (c *meterConn) Write(p []byte) (int, error) {
	c.scan(p)
	return c.Conn.Write(p)
}

func (c *meterConn) scan(p []byte) {
	for len(p) > 0 {
		if c.skip > 0 {
			k := min(c.skip, len(p))
			c.skip -= k
			p = p[k:]
			continue
		}
		c.head = append(c.head, p...)
		i := bytes.Index(c.head, []byte("\r\n\r\n"))
		if i < 0 {
			return
		}
		header := c.head[:i+4]
		c.last.Store(int64(len(header)))
		c.skip = 0
		for line := range strings.SplitSeq(string(header), "\r\n") {
			if name, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(name, "Content-Length") {
				c.skip, _ = strconv.Atoi(strings.TrimSpace(v))
			}
		}
		p = slices.Clone(c.head[i+4:])
		c.head = c.head[:0]
	}
}

func (a *app) sentLines(id string) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.sent[id]
}

func (a *app) gotCookie(id string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.got[id]
}

// largest finds, by binary search on the verdict of m.Save, the longest
// value of a fresh session that m saves: sealed's output for a session has
// the same size for every value of the same length. It returns the length
// and the Set-Cookie lines of that session.
func largest(t testing.TB, m *sealed.Manager) (n int, lines []string) {
	t.Helper()
	fits := func(n int) []string {
		s, err := m.Load(context.Background())
		require.NoError(t, err)
		require.NoError(t, s.Set(valueKey, value(n)))
		lines, err := m.Save(context.Background(), s)
		if errors.Is(err, sealed.ErrTooLarge) {
			return nil
		}
		require.NoError(t, err)
		require.NotEmpty(t, lines)
		return lines
	}
	lo, hi := 0, 64<<10 // fits(lo), not fits(hi): every budget is under 64 KiB
	lines = fits(lo)
	require.NotNil(t, lines, "an empty value must fit")
	require.Nil(t, fits(hi), "a 64 KiB value must not fit")
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if l := fits(mid); l != nil {
			lo, lines = mid, l
		} else {
			hi = mid
		}
	}
	return lo, lines
}

// cookieHeader is the Cookie header a browser sends for Set-Cookie lines:
// the name=value pairs in the order set, joined by "; ". Deletions
// (Max-Age=0) are left out, as a browser drops those cookies.
func cookieHeader(lines []string) string {
	return sealedtest.Next("", http.Header{"Set-Cookie": lines})
}

// setCookieBytes is what lines add to a response header, counted as the
// Budget counts them: "Set-Cookie: " + line + CRLF each.
func setCookieBytes(lines []string) int {
	n := 0
	for _, l := range lines {
		n += len("Set-Cookie: ") + len(l) + 2
	}
	return n
}
