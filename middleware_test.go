package sealed_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sealedgo/sealed"
)

// BenchmarkMiddlewareRead is one GET through the middleware whose handler
// reads one key of a small logged-in session and writes it, as the basic
// example's /whoami does: the per-request cost of a read-only session,
// without the network. The bench module's BenchmarkMiddleware is the same
// without a revocation list; this one adds the in-memory list, and with it
// a lookup under the RevocationTimeout deadline.
func BenchmarkMiddlewareRead(b *testing.B) {
	var seen atomic.Int64
	counting := func(context.Context, sealed.Event) { seen.Add(1) }
	for _, tc := range []struct {
		name string
		list func() sealed.RevocationList
		obs  func(context.Context, sealed.Event)
	}{
		{"list=none", func() sealed.RevocationList { return nil }, nil},
		{"list=memory", func() sealed.RevocationList { return sealed.NewMemoryRevocationList() }, nil},
		// The cost of Options.Observer: set, and so told of the load, the
		// lookup and the save of every request.
		{"list=none,observer", func() sealed.RevocationList { return nil }, counting},
		{"list=memory,observer", func() sealed.RevocationList { return sealed.NewMemoryRevocationList() }, counting},
	} {
		b.Run(tc.name, func(b *testing.B) {
			m := newManager(b, nil, sealed.Options{Revocation: tc.list(), Observer: tc.obs})
			s, err := m.Load(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			s.SetSubject("ada")
			if err := s.Set("user", "ada"); err != nil {
				b.Fatal(err)
			}
			lines, err := m.Save(context.Background(), s)
			if err != nil {
				b.Fatal(err)
			}
			pair, _, _ := strings.Cut(lines[0], ";")

			h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s, err := m.Session(r)
				if err != nil {
					return
				}
				user, _, _ := sealed.Get[string](s, "user")
				io.WriteString(w, user)
			}))
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.Header.Set("Cookie", pair)
			serve := func() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK || rec.Body.String() != "ada" || rec.Header().Get("Set-Cookie") != "" {
					b.Fatalf("status %d, body %q, Set-Cookie %q", rec.Code, rec.Body.String(), rec.Header().Get("Set-Cookie"))
				}
			}
			serve()
			b.ReportAllocs()
			for b.Loop() {
				serve()
			}
		})
	}
}

// The request context the middleware hands on answers for its own manager
// only, and for everything else as its parent does: values set before the
// middleware, another manager's state, the parent's deadline and its
// cancellation, with its cause, reaching contexts derived from it.
func TestMiddlewareRequestContext(t *testing.T) {
	named := func(name string) *sealed.Manager { return newManager(t, nil, sealed.Options{CookieName: name}) }
	outer, inner, absent := named("outer"), named("inner"), named("absent")
	type userKey struct{}
	deadline := time.Now().Add(time.Hour)
	cause := errors.New("client went away")
	parent, cancelParent := context.WithCancelCause(context.WithValue(context.Background(), userKey{}, "v"))
	parent, cancelDeadline := context.WithDeadline(parent, deadline)
	defer cancelDeadline()

	ran := false
	h := outer.Middleware(inner.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ran = true
		ctx := r.Context()
		if got := ctx.Value(userKey{}); got != "v" {
			t.Errorf("value set before the middleware: %v", got)
		}
		if d, ok := ctx.Deadline(); !ok || !d.Equal(deadline) {
			t.Errorf("deadline %v %v, want %v", d, ok, deadline)
		}
		so, err := outer.Session(r)
		if err != nil {
			t.Fatal(err)
		}
		si, err := inner.Session(r)
		if err != nil {
			t.Fatal(err)
		}
		if so == si {
			t.Error("two managers share one session")
		}
		if err := so.Set("k", "o"); err != nil {
			t.Fatal(err)
		}
		if err := si.Set("k", "i"); err != nil {
			t.Fatal(err)
		}
		if _, err := absent.Session(r); !errors.Is(err, sealed.ErrNoMiddleware) {
			t.Errorf("manager without its middleware: %v, want ErrNoMiddleware", err)
		}

		derived, cancel := context.WithCancel(ctx)
		defer cancel()
		cancelParent(cause)
		<-derived.Done()
		if got := context.Cause(derived); got != cause {
			t.Errorf("cause seen through the request context: %v, want %v", got, cause)
		}
		if ctx.Err() == nil {
			t.Error("request context not cancelled with its parent")
		}
		io.WriteString(w, "ok")
	})))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequestWithContext(parent, http.MethodGet, "/", nil))
	if !ran {
		t.Fatal("handler not called")
	}
	var names []string
	for _, c := range rec.Result().Cookies() {
		names = append(names, c.Name)
	}
	if len(names) != 2 || names[0] == names[1] {
		t.Errorf("cookies set: %v, want one from each manager", names)
	}
	if _, err := outer.Session(httptest.NewRequest(http.MethodGet, "/", nil)); !errors.Is(err, sealed.ErrNoMiddleware) {
		t.Errorf("request outside the middleware: %v, want ErrNoMiddleware", err)
	}
}

// A goroutine that keeps the session past its request reads it as the
// handler did; its changes are refused with ErrCommitted, since no
// response can carry them any more.
func TestMiddlewareSessionOutlivesRequest(t *testing.T) {
	m := newManager(t, nil, sealed.Options{})
	var kept *sealed.Session
	var read string
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := m.Session(r)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Set("n", "1"); err != nil {
			t.Fatal(err)
		}
		kept = s
	}))

	// First request: a new session, saved.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	lines := rec.Result().Header.Values("Set-Cookie")
	if len(lines) != 1 {
		t.Fatalf("Set-Cookie: %q", lines)
	}
	id := kept.ID()
	if v, _, err := sealed.Get[string](kept, "n"); err != nil || v != "1" {
		t.Errorf("Get after the request: %q, %v; want 1", v, err)
	}

	// Second request: the session loaded from the cookie.
	pair, _, _ := strings.Cut(lines[0], ";")
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Cookie", pair)
	h = m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := m.Session(r)
		if err != nil {
			t.Fatal(err)
		}
		kept = s
		read, _, _ = sealed.Get[string](s, "n")
	}))
	h.ServeHTTP(httptest.NewRecorder(), req)
	if read != "1" {
		t.Fatalf("read %q in the handler, want 1", read)
	}
	if kept.ID() != id {
		t.Errorf("ID after the request: %s, want %s", kept.ID(), id)
	}
	if v, _, err := sealed.Get[string](kept, "n"); err != nil || v != "1" {
		t.Errorf("Get after the request: %q, %v; want 1", v, err)
	}
	if err := kept.Set("n", "2"); !errors.Is(err, sealed.ErrCommitted) {
		t.Errorf("Set after the request: %v, want ErrCommitted", err)
	}
}

// The writer handed to the handler has WriteString, so that io.WriteString
// does not copy the string, and it behaves as Write does: the session's
// cookies go out before the first byte of the body.
func TestMiddlewareWriteString(t *testing.T) {
	m := newManager(t, nil, sealed.Options{})
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw, ok := w.(io.StringWriter)
		if !ok {
			t.Fatalf("%T has no WriteString", w)
		}
		s, err := m.Session(r)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Set("n", 1); err != nil {
			t.Fatal(err)
		}
		if n, err := sw.WriteString("body"); n != 4 || err != nil {
			t.Errorf("WriteString: %d, %v", n, err)
		}
		if err := s.Set("n", 2); !errors.Is(err, sealed.ErrCommitted) {
			t.Errorf("Set after the body started: %v, want ErrCommitted", err)
		}
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Body.String() != "body" || len(rec.Result().Cookies()) != 1 {
		t.Errorf("body %q, cookies %v", rec.Body.String(), rec.Result().Cookies())
	}
}
