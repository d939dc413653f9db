package sealed

import (
	"bytes"
	"encoding/base64"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// stdlibDecode is the reference: encoding/base64's strict unpadded
// base64url decoder, with line breaks refused (it skips them).
func stdlibDecode(src string) ([]byte, bool) {
	if strings.ContainsAny(src, "\r\n") {
		return nil, false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(src)
	return b, err == nil
}

func checkDecode(t testing.TB, src string) {
	t.Helper()
	want, wantOK := stdlibDecode(src)
	// Room for exactly the decoded length, as open gives it, so that a
	// store past the end would panic.
	dst := make([]byte, b64DecodedLen(len(src)))
	n, ok := decodeB64(dst, src)
	if ok != wantOK {
		t.Fatalf("decodeB64(%q): ok=%v, encoding/base64 says %v", src, ok, wantOK)
	}
	if ok && !bytes.Equal(dst[:n], want) {
		t.Fatalf("decodeB64(%q) = %x, want %x", src, dst[:n], want)
	}
}

func checkEncode(t testing.TB, src []byte) {
	t.Helper()
	dst := make([]byte, b64EncodedLen(len(src)))
	encodeB64(dst, src)
	if want := base64.RawURLEncoding.EncodeToString(src); string(dst) != want {
		t.Fatalf("encodeB64(%x) = %q, want %q", src, dst, want)
	}
	if b64EncodedLen(len(src)) != base64.RawURLEncoding.EncodedLen(len(src)) || b64DecodedLen(len(dst)) != len(src) {
		t.Fatalf("lengths disagree with encoding/base64 for %d bytes", len(src))
	}
}

// Every string of up to three characters over the alphabet and a set of
// foreign bytes, and every string of four over a smaller set.
func TestB64ExhaustiveShort(t *testing.T) {
	chars := b64Alphabet + "=\r\n +/.\x00\x80\xff"
	var rec func(prefix string, n int, set string)
	rec = func(prefix string, n int, set string) {
		checkDecode(t, prefix)
		if n == 0 {
			return
		}
		for i := 0; i < len(set); i++ {
			rec(prefix+set[i:i+1], n-1, set)
		}
	}
	rec("", 3, chars)
	rec("", 4, "AB_-Qw=\n")
	for n := 0; n <= 64; n++ {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i*37 + n)
		}
		checkEncode(t, b)
		checkDecode(t, base64.RawURLEncoding.EncodeToString(b))
	}
}

// Random valid encodings of every length up to 2000 bytes, each also with
// one byte replaced by random values at random places.
func TestB64RandomDifferential(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 0; n <= 2000; n++ {
		src := make([]byte, n)
		for i := range src {
			src[i] = byte(rng.Uint32())
		}
		checkEncode(t, src)
		enc := base64.RawURLEncoding.EncodeToString(src)
		checkDecode(t, enc)
		if len(enc) == 0 {
			continue
		}
		for k := 0; k < 8; k++ {
			m := []byte(enc)
			m[rng.IntN(len(m))] = byte(rng.Uint32())
			checkDecode(t, string(m))
		}
		m := []byte(enc)
		m[len(m)-1] = b64Alphabet[rng.IntN(64)] // trailing bits, mostly
		checkDecode(t, string(m))
	}
}

func FuzzB64(f *testing.F) {
	for _, s := range []string{"", "A", "AA", "AB", "AAA", "AAB", "AAAA", "QUJDRA", "QUJD\nRA", "QUJDRA==", "-_-_", "abcdefgh12345678"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkDecode(t, string(b))
		checkEncode(t, b)
	})
}

func benchSizes(b *testing.B, f func(b *testing.B, src []byte, enc string)) {
	for _, n := range []int{225, 1080, 7260} { // the decoded sizes of the bench shapes' cookies
		src := make([]byte, n)
		for i := range src {
			src[i] = byte(i * 7)
		}
		enc := base64.RawURLEncoding.EncodeToString(src)
		b.Run("chars="+strconv.Itoa(len(enc)), func(b *testing.B) {
			b.SetBytes(int64(len(enc)))
			f(b, src, enc)
		})
	}
}

func BenchmarkB64Decode(b *testing.B) {
	benchSizes(b, func(b *testing.B, src []byte, enc string) {
		dst := make([]byte, len(src))
		b.Run("impl=sealed", func(b *testing.B) {
			for b.Loop() {
				decodeB64(dst, enc)
			}
		})
		b.Run("impl=stdlib", func(b *testing.B) {
			encb := []byte(enc)
			for b.Loop() {
				base64.RawURLEncoding.Strict().Decode(dst, encb)
			}
		})
	})
}

func BenchmarkB64Encode(b *testing.B) {
	benchSizes(b, func(b *testing.B, src []byte, enc string) {
		dst := make([]byte, len(enc))
		b.Run("impl=sealed", func(b *testing.B) {
			for b.Loop() {
				encodeB64(dst, src)
			}
		})
		b.Run("impl=stdlib", func(b *testing.B) {
			for b.Loop() {
				base64.RawURLEncoding.Encode(dst, src)
			}
		})
	})
}
