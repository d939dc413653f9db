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
// For sealed it also reports lib=sealed-restore (writeRestore).
func BenchmarkWrite(b *testing.B) {
	libs := append([]string{LibSealed, LibSealedRestore}, Libraries[1:]...)
	forEach(b, libs, func(b *testing.B, shape Shape, lib string) {
		if lib == LibSealedRestore {
			writeRestore(b, shape)
			return
		}
		c := newCase(b, lib, shape)
		emails := [2]string{"grace.hopper@example.com", "alan.m.turing@example.io"}
		lines, err := c.Write(emails[0])
		if err != nil {
			b.Fatal(err)
		}
		size := len(HeaderFromLines(lines))
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := c.Write(emails[i&1]); err != nil {
				b.Fatal(err)
			}
			i++
		}
		b.ReportMetric(float64(size), "cookie-bytes")
	})
}

// writeRestore is the first half of sealed's write path alone: a new
// session and the shape's state put back (c.restore). Subtracted from
// lib=sealed it gives what Set("email") and SaveLines cost; timing the
// second half alone would need the timer stopped around every restore,
// which distorts what it measures (the restores' garbage is collected in
// the timed part, and the restored state is no longer in cache).
func writeRestore(b *testing.B, shape Shape) {
	c, err := newSealedCase(shape)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.restore(); err != nil {
			b.Fatal(err)
		}
	}
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
