package sealedtest_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealedgo/sealed"
	"github.com/sealedgo/sealed/sealedtest"
)

func newManager(t *testing.T, opts *sealed.Options) *sealed.Manager {
	t.Helper()
	keys, err := sealed.NewKeyring(sealed.GenerateKey("k1"))
	require.NoError(t, err)
	m, err := sealed.New(keys, opts)
	require.NoError(t, err)
	return m
}

// An application under test: /whoami reads the session, /logout ends it,
// /cart adds an item.
func app(m *sealed.Manager) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/whoami", func(w http.ResponseWriter, r *http.Request) {
		s, err := m.Session(r)
		if err != nil {
			return
		}
		_, _ = w.Write([]byte(s.Subject()))
	})
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) {
		s, err := m.Session(r)
		if err != nil {
			return
		}
		_ = s.Invalidate()
	})
	mux.HandleFunc("/cart", func(w http.ResponseWriter, r *http.Request) {
		s, err := m.Session(r)
		if err != nil {
			return
		}
		cart, _, _ := sealed.Get[[]string](s, "cart")
		_ = s.Set("cart", append(cart, r.URL.Query().Get("add")))
	})
	return m.Middleware(mux)
}

func TestCookieAndFromResponse(t *testing.T) {
	for name, opts := range map[string]*sealed.Options{
		"defaults (secure, __Host-)": nil,
		"custom name, two chunks":    {CookieName: "app", AllowInsecure: true, Budget: sealed.BudgetNginx8k()},
	} {
		t.Run(name, func(t *testing.T) {
			m := newManager(t, opts)
			h := app(m)
			big := strings.Repeat("x", 1000)
			if opts != nil {
				big = strings.Repeat("x", 5000)
			}
			cookie := sealedtest.Cookie(t, m, func(s *sealed.Session) error {
				if err := s.SetSubject("ada"); err != nil {
					return err
				}
				return s.Set("cart", []string{big})
			})

			req := httptest.NewRequest("GET", "/whoami", nil)
			req.Header.Set("Cookie", cookie+"; theme=dark")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			assert.Equal(t, "ada", rec.Body.String())
			// Nothing written: the client keeps the request's session.
			assert.Empty(t, rec.Header().Values("Set-Cookie"))
			assert.Equal(t, "ada", sealedtest.FromResponse(t, m, req, rec.Header()).Subject())

			req = httptest.NewRequest("GET", "/cart?add=book", nil)
			req.Header.Set("Cookie", cookie)
			rec = httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			s := sealedtest.FromResponse(t, m, req, rec.Header())
			cart, ok, err := sealed.Get[[]string](s, "cart")
			require.NoError(t, err)
			require.True(t, ok)
			assert.Equal(t, []string{big, "book"}, cart)

			req = httptest.NewRequest("POST", "/logout", nil)
			req.Header.Set("Cookie", cookie)
			rec = httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			s = sealedtest.FromResponse(t, m, req, rec.Header())
			assert.True(t, s.IsNew(), "logged out")
			assert.Empty(t, s.Subject())
		})
	}
}

func TestNext(t *testing.T) {
	h := http.Header{}
	h.Add("Set-Cookie", "a=2; Path=/")
	h.Add("Set-Cookie", "b=; Path=/; Max-Age=0")
	h.Add("Set-Cookie", "c=3; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT")
	h.Add("Set-Cookie", "d=4; Path=/; Max-Age=60")
	h.Add("Set-Cookie", "not a cookie")
	assert.Equal(t, "a=2; e=5; d=4", sealedtest.Next("a=1; b=1; c=1; e=5", h))
	assert.Equal(t, "", sealedtest.Next("", http.Header{}))
	assert.Equal(t, "x=1", sealedtest.Next("x=1", nil))
}

func TestLoadBadCookieIsNew(t *testing.T) {
	m := newManager(t, nil)
	s := sealedtest.Load(t, m, "__Host-session=forged")
	assert.True(t, s.IsNew())
	assert.True(t, sealedtest.Load(t, m, "").IsNew())
}
