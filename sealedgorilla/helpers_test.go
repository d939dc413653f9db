package sealedgorilla_test

import (
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gorilla/sessions"
	"github.com/stretchr/testify/require"

	"github.com/sealedgo/sealed"
	"github.com/sealedgo/sealed/sealedgorilla"
)

// User is a gob-registered struct stored in sessions, as applications do.
type User struct {
	Name  string
	Roles []string
}

func init() { gob.Register(User{}) }

// app is a small gorilla/sessions application written against the
// sessions.Store interface, so the same code runs on a CookieStore before
// the switch and on a sealedgorilla.Store after it. Routes are chosen by
// the last path segment, so the app also works under a path prefix.
func app(store sessions.Store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := store.Get(r, "app")
		if err != nil {
			http.Error(w, "get: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		q := r.URL.Query()
		var body string
		switch path.Base(r.URL.Path) {
		case "login":
			name := q.Get("user")
			s.Values["user"] = User{Name: name, Roles: []string{"admin"}}
			s.Values[42] = "answer" // a non-string key, as gorilla allows
			s.AddFlash("welcome " + name)
		case "me":
			flashes := s.Flashes()
			u, _ := s.Values["user"].(User)
			body = fmt.Sprintf("user=%s roles=%v answer=%v new=%v flashes=%v", u.Name, u.Roles, s.Values[42], s.IsNew, flashes)
			if len(flashes) == 0 {
				_, _ = io.WriteString(w, body)
				return
			}
		case "grow":
			n, _ := strconv.Atoi(q.Get("n"))
			s.Values["big"] = strings.Repeat("x", n)
		case "many":
			for i := range 8 {
				s.Values[fmt.Sprint("k", i)] = i
			}
		case "logout":
			s.Options.MaxAge = -1
		case "browser":
			s.Options.MaxAge = 0
		case "peek":
			// Save without a change.
		default:
			http.NotFound(w, r)
			return
		}
		if err := s.Save(r, w); err != nil {
			code := http.StatusInternalServerError
			if errors.Is(err, sealed.ErrTooLarge) {
				code = http.StatusRequestEntityTooLarge
			}
			http.Error(w, "save: "+err.Error(), code)
			return
		}
		if body == "" {
			body = "ok"
		}
		_, _ = io.WriteString(w, body)
	})
}

// site is an httptest TLS server whose handler can be swapped, so that one
// browser (cookie jar, same origin) sees the application before and after
// the switch.
type site struct {
	srv *httptest.Server
	h   atomic.Pointer[http.Handler]
}

func newSite(t *testing.T, h http.Handler) *site {
	s := &site{}
	s.handle(h)
	s.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		(*s.h.Load()).ServeHTTP(w, r)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *site) handle(h http.Handler) { s.h.Store(&h) }

type browser struct {
	t    *testing.T
	c    *http.Client
	jar  *cookiejar.Jar
	base *url.URL
}

func (s *site) browser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	c := s.srv.Client()
	c.Jar = jar
	base, err := url.Parse(s.srv.URL)
	require.NoError(t, err)
	return &browser{t: t, c: c, jar: jar, base: base}
}

type reply struct {
	code    int
	body    string
	cookies []string // the response's Set-Cookie lines
	header  http.Header
}

func (b *browser) get(p string) reply {
	b.t.Helper()
	resp, err := b.c.Get(b.base.String() + p)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(b.t, err)
	return reply{code: resp.StatusCode, body: string(body), cookies: resp.Header.Values("Set-Cookie"), header: resp.Header}
}

// cookies returns what the browser would send to p: name -> value.
func (b *browser) cookies(p string) map[string]string {
	u := b.base.ResolveReference(&url.URL{Path: p})
	out := map[string]string{}
	for _, c := range b.jar.Cookies(u) {
		out[c.Name] = c.Value
	}
	return out
}

func (b *browser) set(p string, c *http.Cookie) {
	b.jar.SetCookies(b.base.ResolveReference(&url.URL{Path: p}), []*http.Cookie{c})
}

// names returns the cookie names of Set-Cookie lines.
func names(lines []string) []string {
	var out []string
	for _, l := range lines {
		n, _, _ := strings.Cut(l, "=")
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

func line(lines []string, name string) string {
	for _, l := range lines {
		if strings.HasPrefix(l, name+"=") {
			return l
		}
	}
	return ""
}

func newKeys(t *testing.T) *sealed.Keyring {
	t.Helper()
	k, err := sealed.NewKeyring(sealed.GenerateKey("k1"))
	require.NoError(t, err)
	return k
}

func newStore(t *testing.T, keys sealed.KeySource, o *sealedgorilla.StoreOptions) *sealedgorilla.Store {
	t.Helper()
	st, err := sealedgorilla.NewStore(keys, o)
	require.NoError(t, err)
	return st
}

// events records what sealed's Observer is told, as "op:outcome".
type events struct {
	mu  sync.Mutex
	got []string
}

func (e *events) observe(_ context.Context, ev sealed.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.got = append(e.got, ev.Op+":"+ev.Outcome)
}

func (e *events) take() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := e.got
	e.got = nil
	return out
}
