package b64

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// b64Strict is the reference decoder: encoding/base64's strict unpadded
// base64url. Strict() copies the Encoding, so it is made once.
var b64Strict = base64.RawURLEncoding.Strict()

// stdlibDecode is what Decode must do: the reference decoder, with
// line breaks refused (the reference skips them).
func stdlibDecode(src string) ([]byte, bool) {
	if strings.ContainsAny(src, "\r\n") {
		return nil, false
	}
	b, err := b64Strict.DecodeString(src)
	return b, err == nil
}

func checkDecode(t testing.TB, src string) {
	t.Helper()
	want, wantOK := stdlibDecode(src)
	// Room for exactly the decoded length, as open gives it, so that a
	// store past the end would panic.
	dst := make([]byte, DecodedLen(len(src)))
	n, ok := Decode(dst, src)
	if ok != wantOK {
		t.Fatalf("Decode(%q): ok=%v, encoding/base64 says %v", src, ok, wantOK)
	}
	if ok && !bytes.Equal(dst[:n], want) {
		t.Fatalf("Decode(%q) = %x, want %x", src, dst[:n], want)
	}
}

func checkEncode(t testing.TB, src []byte) {
	t.Helper()
	dst := make([]byte, EncodedLen(len(src)))
	Encode(dst, src)
	if want := base64.RawURLEncoding.EncodeToString(src); string(dst) != want {
		t.Fatalf("Encode(%x) = %q, want %q", src, dst, want)
	}
	if EncodedLen(len(src)) != base64.RawURLEncoding.EncodedLen(len(src)) || DecodedLen(len(dst)) != len(src) {
		t.Fatalf("lengths disagree with encoding/base64 for %d bytes", len(src))
	}
	back := make([]byte, len(src))
	if n, ok := Decode(back, string(dst)); !ok || !bytes.Equal(back[:n], src) {
		t.Fatalf("Decode(Encode(%x)) = %x, %v", src, back[:n], ok)
	}
}

// b64Foreign are bytes outside the alphabet: the neighbours of each of its
// ranges, the standard alphabet's '+' and '/', padding, whitespace, and
// the extremes.
const b64Foreign = "=\r\n \t,./:@[^`{\x7f+\x00\x80\xff"

// Every string of up to three characters over the alphabet and the foreign
// bytes, and every string of four and five over a smaller set.
func TestB64ExhaustiveShort(t *testing.T) {
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
	rec("", 3, b64Alphabet+b64Foreign)
	rec("", 5, "ABQg_-=\n")
}

// Every length modulo 4 and every count of trailing bits, with the
// expected answer written out rather than taken from encoding/base64.
func TestB64Cases(t *testing.T) {
	for _, c := range []struct {
		src  string
		want string // hex; "bad" when decoding must fail
	}{
		{"", ""},
		{"A", "bad"},
		{"AA", "00"},
		{"AQ", "01"},
		{"AB", "bad"}, // 4 unused bits: 0001
		{"AI", "bad"}, // 1000
		{"_w", "ff"},  // the last character carries only zero bits
		{"_x", "bad"}, // 0001
		{"AAA", "0000"},
		{"AAE", "0001"},
		{"AAB", "bad"}, // 2 unused bits: 01
		{"AAC", "bad"}, // 10
		{"__8", "ffff"},
		{"AAAA", "000000"},
		{"____", "ffffff"},
		{"-_-_", "fbffbf"},
		{"AAAAA", "bad"},
		{"QUJDRA", "41424344"},
		{"QUJDREVG", "414243444546"},
		{"QUJDREVGRw", "41424344454647"},
		{"QUJDREVGR0g", "4142434445464748"},
		{"QUJDREVGR0hJ", "414243444546474849"},
		{"QUJDREVGR0hJS", "bad"},
		{"QUJDREVGR0hJSk", "bad"}, // 'k' leaves 4 non-zero bits
		{"QUJDREVGR0hJSg", "4142434445464748494a"},
		{"QUJDRA==", "bad"},
		{"QUJD\nRA", "bad"},
		{"QUJD\r\nRA", "bad"},
		{"QUJDRA\n", "bad"},
		{"QUJD RA", "bad"},
		{"QUJD+A", "bad"},
		{"QUJD/A", "bad"},
		{"QUJDREVGR0hJSkt\x00", "bad"},
		{"QUJDREVGR0hJSktM\xff", "bad"},
	} {
		checkDecode(t, c.src)
		dst := make([]byte, DecodedLen(len(c.src)))
		n, ok := Decode(dst, c.src)
		got := "bad"
		if ok {
			got = hex.EncodeToString(dst[:n])
		}
		if got != c.want {
			t.Errorf("Decode(%q) = %s, want %s", c.src, got, c.want)
		}
	}
}

// Random strings of every length up to 2000 characters (valid encodings
// where the length allows one), each also with one byte set to every one
// of the 256 values at a random place, and each place checked to restore.
func TestB64RandomDifferential(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	step := 1
	if testing.Short() { // a seventh of the lengths, all of them modulo 4 and 8
		step = 7
	}
	for n := 0; n <= 2000; n += step {
		var s []byte
		if n%4 == 1 { // no valid encoding has this length
			s = make([]byte, n)
			for i := range s {
				s[i] = b64Alphabet[rng.IntN(64)]
			}
		} else {
			src := make([]byte, DecodedLen(n))
			for i := range src {
				src[i] = byte(rng.Uint32())
			}
			checkEncode(t, src)
			s = []byte(base64.RawURLEncoding.EncodeToString(src))
		}
		checkDecode(t, string(s))
		if n == 0 {
			continue
		}
		for v := 0; v < 256; v++ {
			i := rng.IntN(n)
			if v%8 == 0 {
				i = n - 1 // the trailing bits, and the end of the last step
			}
			old := s[i]
			s[i] = byte(v)
			checkDecode(t, string(s))
			s[i] = old
		}
	}
}

// The benchmarks' sizes are numbers of characters, for both directions:
// about a small, a typical and a large session cookie.
func benchSizes(b *testing.B, f func(b *testing.B, src []byte, enc string)) {
	for _, n := range []int{300, 1450, 9700} {
		src := make([]byte, DecodedLen(n))
		for i := range src {
			src[i] = byte(i * 7)
		}
		enc := base64.RawURLEncoding.EncodeToString(src)
		b.Run("n="+strconv.Itoa(len(enc)), func(b *testing.B) {
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
				Decode(dst, enc)
			}
		})
		b.Run("impl=stdlib", func(b *testing.B) {
			encb := []byte(enc)
			for b.Loop() {
				b64Strict.Decode(dst, encb)
			}
		})
	})
}

func BenchmarkB64Encode(b *testing.B) {
	benchSizes(b, func(b *testing.B, src []byte, enc string) {
		dst := make([]byte, len(enc))
		b.Run("impl=sealed", func(b *testing.B) {
			for b.Loop() {
				Encode(dst, src)
			}
		})
		b.Run("impl=stdlib", func(b *testing.B) {
			for b.Loop() {
				base64.RawURLEncoding.Encode(dst, src)
			}
		})
	})
}
