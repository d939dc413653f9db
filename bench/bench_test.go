package bench

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// The benchmarks. Names are Benchmark{Read,Write,Middleware}/shape=S/lib=L,
// which benchstat can pivot (-col /lib) and cmd/report parses. Every
// benchmark reports "cookie-bytes": the length of the Cookie header the
// browser sends back for the session. BENCHMARKS.md describes what each
// op includes.

func forEach(b *testing.B, libs []string, f func(b *testing.B, shape Shape, lib string)) {
	for _, shape := range Shapes() {
		for _, lib := range libs {
			b.Run("shape="+shape.Name+"/lib="+lib, func(b *testing.B) { f(b, shape, lib) })
		}
	}
}

func newCase(b *testing.B, lib string, shape Shape) Case {
	c, err := NewCase(lib, shape)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkRead: Cookie header to session to one key, no write.
func BenchmarkRead(b *testing.B) {
	forEach(b, Libraries, func(b *testing.B, shape Shape, lib string) {
		c := newCase(b, lib, shape)
		h := c.Header()
		if _, err := c.Read(h); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Read(h); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(h)), "cookie-bytes")
	})
}

// BenchmarkWrite: the session's state with one key set to Set-Cookie lines.
// A case that keeps its state in a form a write consumes (sealed: a loaded
// Session, which Save commits) prepares it in batches with the timer
// stopped. lib=sealed-load-write is sealed with no preparation: the load
// is part of the op.
func BenchmarkWrite(b *testing.B) {
	libs := append([]string{LibSealed, LibSealedLoadWrite}, Libraries[1:]...)
	forEach(b, libs, func(b *testing.B, shape Shape, lib string) {
		var c Case
		var p preparer
		if lib == LibSealedLoadWrite {
			c = newCase(b, LibSealed, shape)
		} else {
			c = newCase(b, lib, shape)
			p, _ = c.(preparer)
		}
		emails := [2]string{"grace.hopper@example.com", "alan.m.turing@example.io"}
		lines, err := c.Write(emails[0])
		if err != nil {
			b.Fatal(err)
		}
		size := len(HeaderFromLines(lines))
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if p != nil && i%writeBatch == 0 {
				b.StopTimer()
				if err := p.Prepare(min(writeBatch, b.N-i)); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			if _, err := c.Write(emails[i&1]); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(size), "cookie-bytes")
	})
}

// writeBatch is how many writes are prepared at a time: enough that the
// stopped timer costs nothing measurable, few enough that the prepared
// state of the large shape (64 x 8 KiB) stays in the CPU's L2 cache, as a
// request's own state would.
const writeBatch = 64

// preparer is a Case whose Write consumes state Prepare makes ready.
type preparer interface {
	Prepare(n int) error
}

// BenchmarkMiddleware: one GET through the library's handler (see
// NewHandler) with the session's Cookie header, into an
// httptest.ResponseRecorder.
func BenchmarkMiddleware(b *testing.B) {
	forEach(b, MiddlewareLibraries, func(b *testing.B, shape Shape, lib string) {
		h, header, err := NewHandler(lib, shape)
		if err != nil {
			b.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		if header != "" {
			req.Header.Set("Cookie", header)
		}
		serve := func() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK || rec.Body.String() != Email {
				b.Fatalf("status %d, body %q", rec.Code, rec.Body.String())
			}
		}
		serve()
		b.ReportAllocs()
		for b.Loop() {
			serve()
		}
		b.ReportMetric(float64(len(header)), "cookie-bytes")
	})
}
