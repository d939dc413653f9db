package bench

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// check verifies what a Case's Read returned for a session holding email:
// the email, or for the limit its payload.
func check(t *testing.T, c Case, got, email string) {
	t.Helper()
	if lc, ok := c.(*limitCase); ok {
		if !bytes.Equal([]byte(got), lc.payload) {
			t.Errorf("limit opened %d bytes, want the %d-byte payload", len(got), len(lc.payload))
		}
		return
	}
	if got != email {
		t.Errorf("read %q, want %q", got, email)
	}
}

// TestRoundTrip: every library reads back its own header, and what its
// write path produces, for every shape.
func TestRoundTrip(t *testing.T) {
	for _, shape := range Shapes() {
		for _, lib := range Libraries {
			t.Run(shape.Name+"/"+lib, func(t *testing.T) {
				c, err := NewCase(lib, shape)
				if err != nil {
					t.Fatal(err)
				}
				got, err := c.Read(c.Header())
				if err != nil {
					t.Fatalf("read: %v", err)
				}
				check(t, c, got, Email)

				const email = "grace.hopper@example.com"
				lines, err := c.Write(email)
				if err != nil {
					t.Fatalf("write: %v", err)
				}
				if len(lines) == 0 {
					t.Fatal("write produced no Set-Cookie line")
				}
				for _, l := range lines {
					if !strings.Contains(l, "; HttpOnly") || !strings.Contains(l, "; Secure") {
						t.Errorf("line lacks attributes: %.80q", l)
					}
				}
				h := HeaderFromLines(lines)
				got, err = c.Read(h)
				if err != nil {
					t.Fatalf("read after write: %v", err)
				}
				check(t, c, got, email)

				// A tampered cookie does not read as the session.
				bad := []byte(h)
				bad[len(bad)-5] ^= 1
				if got, err := c.Read(string(bad)); err == nil && got == email {
					t.Error("a tampered cookie read back as the session")
				}
			})
		}
	}
}

// TestCookieBytes: sealed's chunking stays within the shape's budget and
// costs little over the floor.
func TestCookieBytes(t *testing.T) {
	for _, shape := range Shapes() {
		s, err := NewCase(LibSealed, shape)
		if err != nil {
			t.Fatal(err)
		}
		l, err := NewCase(LibLimit, shape)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(s.Header()); n > shape.Budget.MaxBytes {
			t.Errorf("%s: sealed header %d bytes, budget %d", shape.Name, n, shape.Budget.MaxBytes)
		}
		t.Logf("%s: sealed %d, limit %d Cookie header bytes", shape.Name, len(s.Header()), len(l.Header()))
	}
}

// TestLimitAllocatesNothing: the floor reuses its buffers.
func TestLimitAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	for _, shape := range Shapes() {
		c, err := newLimitCase(shape)
		if err != nil {
			t.Fatal(err)
		}
		h := c.Header()
		if n := testing.AllocsPerRun(20, func() { c.Read(h) }); n != 0 {
			t.Errorf("%s: read allocates %v times", shape.Name, n)
		}
		if n := testing.AllocsPerRun(20, func() { c.Write("") }); n != 0 {
			t.Errorf("%s: write allocates %v times", shape.Name, n)
		}
	}
}

// TestHandlers: every middleware benchmark handler answers 200 with the
// email for its session, and 401 (or a fresh, empty sealed session) for a
// request without one.
func TestHandlers(t *testing.T) {
	for _, shape := range Shapes() {
		for _, lib := range MiddlewareLibraries {
			h, header, err := NewHandler(lib, shape)
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			if header != "" {
				req.Header.Set("Cookie", "other=1; "+header)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK || rec.Body.String() != Email {
				t.Errorf("%s/%s: status %d, body %.80q", shape.Name, lib, rec.Code, rec.Body.String())
			}
			if len(rec.Result().Cookies()) != 0 {
				t.Errorf("%s/%s: a read wrote cookies", shape.Name, lib)
			}
			if lib == LibBare {
				continue
			}
			rec = httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
			if rec.Code != http.StatusUnauthorized {
				t.Errorf("%s/%s without a cookie: status %d", shape.Name, lib, rec.Code)
			}
		}
	}
}

func TestCookieValue(t *testing.T) {
	for _, tc := range []struct {
		header, name, want string
		ok                 bool
	}{
		{"a=1; b=2", "b", "2", true},
		{"a=1;b=2", "b", "2", true},
		{"a=1; b=x=y", "b", "x=y", true},
		{"ab=1", "a", "", false},
		{"", "a", "", false},
	} {
		got, ok := cookieValue(tc.header, tc.name)
		if got != tc.want || ok != tc.ok {
			t.Errorf("cookieValue(%q, %q) = %q, %v", tc.header, tc.name, got, ok)
		}
	}
}

func TestJoinChunks(t *testing.T) {
	got, err := joinChunks("x=1; s.2=cc; s=3.aaaa; s.1=bbbb", "s")
	if err != nil || got != "aaaabbbbcc" {
		t.Errorf("joinChunks = %q, %v", got, err)
	}
	if _, err := joinChunks("s=3.aaaa; s.1=bbbb", "s"); err == nil {
		t.Error("a missing chunk joined")
	}
}
