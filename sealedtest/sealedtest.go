// Package sealedtest helps test handlers that use sealed sessions: it makes
// the Cookie header of a session in a given state, for a test request, and
// reads back the session a recorded response leaves the client with. It
// works for any Manager configuration (cookie names, budgets, keys), since
// it goes through the Manager's own Load and Save.
//
//	req := httptest.NewRequest("GET", "/account", nil)
//	req.Header.Set("Cookie", sealedtest.Cookie(t, m, func(s *sealed.Session) error {
//		return s.SetSubject("user-1")
//	}))
//	rec := httptest.NewRecorder()
//	handler.ServeHTTP(rec, req)
//	s := sealedtest.FromResponse(t, m, req, rec.Header())
package sealedtest

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sealedgo/sealed"
)

// Cookie returns a Cookie header value holding a new session that fill
// filled, sealed by m now. It fails t if fill or the save fails.
func Cookie(t testing.TB, m *sealed.Manager, fill func(*sealed.Session) error) string {
	t.Helper()
	ctx := context.Background()
	s, err := m.Load(ctx)
	if err != nil {
		t.Fatalf("sealedtest.Cookie: %v", err)
	}
	if fill != nil {
		if err := fill(s); err != nil {
			t.Fatalf("sealedtest.Cookie: fill: %v", err)
		}
	}
	lines, err := m.Save(ctx, s)
	if err != nil {
		t.Fatalf("sealedtest.Cookie: %v", err)
	}
	return Next("", http.Header{"Set-Cookie": lines})
}

// Load returns the session m reads from a Cookie header value. A cookie
// that does not open gives a new session, as in a real request.
func Load(t testing.TB, m *sealed.Manager, cookie string) *sealed.Session {
	t.Helper()
	var header []string
	if cookie != "" {
		header = []string{cookie}
	}
	s, err := m.Load(context.Background(), header...)
	if err != nil {
		t.Fatalf("sealedtest.Load: %v", err)
	}
	return s
}

// FromResponse returns the session the client holds after the response
// with header h to request r: r's cookies updated by the response's
// Set-Cookie lines, as Next does, loaded by m. A response that wrote no
// session cookie leaves the request's session; one that expired them
// leaves a new, empty session.
func FromResponse(t testing.TB, m *sealed.Manager, r *http.Request, h http.Header) *sealed.Session {
	t.Helper()
	var cookie string
	if r != nil {
		cookie = strings.Join(r.Header.Values("Cookie"), "; ")
	}
	return Load(t, m, Next(cookie, h))
}

// Next returns the Cookie header a browser sends after receiving the
// Set-Cookie lines of h, having sent cookie: each line sets its cookie,
// or removes it when it has expired. Paths and domains are not compared;
// cookies are matched by name.
func Next(cookie string, h http.Header) string {
	type pair struct{ name, value string }
	var jar []pair
	for _, c := range parseCookie(cookie) {
		jar = append(jar, pair{c.Name, c.Value})
	}
	now := time.Now()
	for _, line := range h.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			continue // a browser ignores it too
		}
		i := 0
		for i < len(jar) && jar[i].name != c.Name {
			i++
		}
		gone := c.MaxAge < 0 || (!c.Expires.IsZero() && !c.Expires.After(now))
		switch {
		case gone && i < len(jar):
			jar = append(jar[:i], jar[i+1:]...)
		case gone:
		case i < len(jar):
			jar[i].value = c.Value
		default:
			jar = append(jar, pair{c.Name, c.Value})
		}
	}
	parts := make([]string, len(jar))
	for i, p := range jar {
		parts[i] = p.name + "=" + p.value
	}
	return strings.Join(parts, "; ")
}

func parseCookie(header string) []*http.Cookie {
	if header == "" {
		return nil
	}
	cs, err := http.ParseCookie(header)
	if err != nil {
		// Keep what parses, pair by pair, as a server would.
		for _, part := range strings.Split(header, ";") {
			if c, err := http.ParseCookie(strings.TrimSpace(part)); err == nil {
				cs = append(cs, c...)
			}
		}
	}
	return cs
}
