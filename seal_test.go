package sealed

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/chacha20poly1305"
)

type vectorKey struct {
	KID    string `json:"kid"`
	Secret string `json:"secret_hex"`
}

type goldenVector struct {
	Name       string      `json:"name"`
	Keys       []vectorKey `json:"keys"`
	CookieName string      `json:"cookie_name"`
	Purpose    string      `json:"purpose"`
	Sealed     string      `json:"sealed"`
	Expect     string      `json:"expect"`
	Failure    string      `json:"failure"`
	OpenedBy   string      `json:"opened_by"`
	IssuedAt   uint64      `json:"issued_at"`
	NonceHex   string      `json:"nonce_hex"`
	Plaintext  string      `json:"plaintext_hex"`
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	require.NoError(t, err)
	return b
}

func loadVectors(t testing.TB) []goldenVector {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "vectors", "*.json"))
	require.NoError(t, err)
	var vs []goldenVector
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		var v goldenVector
		require.NoError(t, json.Unmarshal(data, &v), f)
		vs = append(vs, v)
	}
	return vs
}

func (v goldenVector) ring(t testing.TB) *Keyring {
	t.Helper()
	keys := make([]Key, len(v.Keys))
	for i, k := range v.Keys {
		keys[i] = Key{ID: k.KID, Secret: mustHex(t, k.Secret)}
	}
	r, err := NewKeyring(keys...)
	require.NoError(t, err)
	return r
}

// TestGoldenVectors opens every vector in testdata/vectors (written by the
// independent implementation in testdata/genvectors.go) and checks the
// outcome, including the failure class of each negative vector. For each
// positive vector it also seals the plaintext again with the vector's fixed
// nonce and clock and requires the same string, byte for byte.
func TestGoldenVectors(t *testing.T) {
	vs := loadVectors(t)
	neg := 0
	for _, v := range vs {
		if v.Expect == "invalid" {
			neg++
		}
	}
	require.GreaterOrEqual(t, len(vs), 10, "too few golden vectors")
	require.GreaterOrEqual(t, neg, 6, "too few negative vectors")

	for _, v := range vs {
		t.Run(v.Name, func(t *testing.T) {
			ring := v.ring(t)
			pt, info, f := ring.open([]string{v.Sealed}, v.Purpose, adSuffix(v.CookieName, v.Purpose), nil)
			_, _, pubErr := ring.Open(v.CookieName, v.Purpose, v.Sealed)
			switch v.Expect {
			case "ok":
				require.Equal(t, openOK, f)
				require.NoError(t, pubErr)
				assert.Equal(t, mustHex(t, v.Plaintext), append([]byte{}, pt...))
				assert.Equal(t, v.OpenedBy, info.KeyID)
				assert.Equal(t, v.OpenedBy == v.Keys[0].KID, info.Primary)
				assert.Equal(t, int64(v.IssuedAt), info.IssuedAt.Unix())

				key := ring.keys[0]
				for _, k := range ring.keys {
					if k.id == v.OpenedBy {
						key = k
					}
				}
				var nonce [nonceSize]byte
				copy(nonce[:], mustHex(t, v.NonceHex))
				again := ring.appendSealed(nil, key, v.Purpose, adSuffix(v.CookieName, v.Purpose), v.IssuedAt, &nonce, mustHex(t, v.Plaintext))
				assert.Equal(t, v.Sealed, string(again), "sealing does not reproduce the vector")
			case "invalid":
				require.NotEmpty(t, v.Failure, "negative vector must name its failure class")
				assert.Equal(t, v.Failure, f.String())
				assert.ErrorIs(t, pubErr, ErrInvalid)
				assert.Equal(t, ErrInvalid, pubErr, "the public error must be the bare sentinel")
			default:
				t.Fatalf("unknown expectation %q", v.Expect)
			}
		})
	}
}

// TestXChaCha20Poly1305KnownAnswer pins the primitive SPEC.md names to the
// published test vector of draft-irtf-cfrg-xchacha-03, Appendix A.3.1.
func TestXChaCha20Poly1305KnownAnswer(t *testing.T) {
	key := mustHex(t, "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f")
	nonce := mustHex(t, "404142434445464748494a4b4c4d4e4f5051525354555657")
	aad := mustHex(t, "50515253c0c1c2c3c4c5c6c7")
	pt := []byte("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.")
	want := "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb" +
		"731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452" +
		"2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9" +
		"21f9664c97637da9768812f615c68b13b52e" +
		"c0875924c1c7987947deafd8780acf49"
	a, err := chacha20poly1305.NewX(key)
	require.NoError(t, err)
	assert.Equal(t, want, hex.EncodeToString(a.Seal(nil, nonce, pt, aad)))
}

func testRing(t testing.TB, ids ...string) *Keyring {
	t.Helper()
	keys := make([]Key, len(ids))
	for i, id := range ids {
		keys[i] = GenerateKey(id)
	}
	r, err := NewKeyring(keys...)
	require.NoError(t, err)
	return r
}

func TestSealOpenRoundTrip(t *testing.T) {
	r := testRing(t, "k1")
	now := time.Unix(1795392000, 999)
	for _, n := range []int{0, 1, 2, 3, 100, 4096} {
		pt := []byte(strings.Repeat("x", n))
		s, err := r.Seal("c", "p", now, pt)
		require.NoError(t, err)
		assert.Equal(t, b64.EncodedLen(n+Overhead), len(s), "overhead must be exactly %d bytes", Overhead)
		got, info, err := r.Open("c", "p", s)
		require.NoError(t, err)
		assert.Equal(t, pt, append([]byte{}, got...))
		assert.Equal(t, "k1", info.KeyID)
		assert.True(t, info.Primary)
		assert.Equal(t, now.Unix(), info.IssuedAt.Unix())
	}
	_, err := r.Seal("c", "p", time.Unix(-1, 0), nil)
	assert.Error(t, err, "times before 1970 cannot be sealed")
}

// Every single-bit flip of the sealed bytes, and every single-character
// change of the sealed string, must be rejected.
func TestEveryBitFlipRejected(t *testing.T) {
	for _, v := range loadVectors(t) {
		if v.Expect != "ok" {
			continue
		}
		ring := v.ring(t)
		raw, err := b64.DecodeString(v.Sealed)
		require.NoError(t, err)
		for i := range raw {
			for bit := 0; bit < 8; bit++ {
				b := append([]byte{}, raw...)
				b[i] ^= 1 << bit
				_, _, err := ring.Open(v.CookieName, v.Purpose, b64.EncodeToString(b))
				require.ErrorIs(t, err, ErrInvalid, "%s: flip of byte %d bit %d opened", v.Name, i, bit)
			}
		}
		// Flipping a bit of the text (not of the decoded bytes) can land on a
		// non-alphabet byte or on the spare trailing bits: rejected too.
		for i := range v.Sealed {
			for bit := 0; bit < 8; bit++ {
				b := []byte(v.Sealed)
				b[i] ^= 1 << bit
				_, _, err := ring.Open(v.CookieName, v.Purpose, string(b))
				require.ErrorIs(t, err, ErrInvalid, "%s: flip of char %d bit %d opened", v.Name, i, bit)
			}
		}
	}
}

func TestNameAndPurposeBound(t *testing.T) {
	r := testRing(t, "k1")
	s, err := r.Seal("session", "login", time.Now(), []byte("state"))
	require.NoError(t, err)
	for _, c := range []struct{ name, purpose string }{
		{"Session", "login"}, {"session", "Login"}, {"login", "session"},
		{"sessio", "nlogin"}, {"sessionl", "ogin"}, {"", "sessionlogin"}, {"session", ""},
	} {
		_, _, err := r.Open(c.name, c.purpose, s)
		assert.ErrorIs(t, err, ErrInvalid, "opened as name=%q purpose=%q", c.name, c.purpose)
	}
	_, _, err = r.Open("session", "login", s)
	assert.NoError(t, err)
}

func TestNoncesDistinct(t *testing.T) {
	r := testRing(t, "k1")
	const n = 100_000
	seen := make(map[[nonceSize]byte]struct{}, n)
	now := time.Now()
	for i := 0; i < n; i++ {
		s, err := r.Seal("c", "p", now, nil)
		require.NoError(t, err)
		raw, err := b64.DecodeString(s)
		require.NoError(t, err)
		var nonce [nonceSize]byte
		copy(nonce[:], raw[1+KeyIDSize+8:headerSize])
		if _, dup := seen[nonce]; dup {
			t.Fatalf("nonce repeated after %d seals", i)
		}
		seen[nonce] = struct{}{}
	}
}

func TestOpenRejectsBadLengthsBeforeCrypto(t *testing.T) {
	r := testRing(t, "k1")
	// One character over the cap, and not even in the alphabet: the length
	// check must come first.
	_, _, f0 := r.open([]string{strings.Repeat("!", maxSealedLen+1)}, "p", nil, nil)
	assert.Equal(t, failTooLarge, f0)
	_, _, f0 = r.open([]string{strings.Repeat("A", maxSealedLen/2), strings.Repeat("A", maxSealedLen/2+4)}, "p", nil, nil)
	assert.Equal(t, failTooLarge, f0, "the cap applies to the pieces together")
	_, err := r.Seal("c", "p", time.Now(), make([]byte, MaxPayloadBytes+1))
	assert.Error(t, err, "Seal refuses what Open would refuse")
	s, err := r.Seal("c", "p", time.Now(), make([]byte, MaxPayloadBytes))
	require.NoError(t, err)
	assert.Len(t, s, maxSealedLen)
	_, _, err = r.Open("c", "p", s)
	assert.NoError(t, err, "the largest value the format allows opens")

	_, _, f := r.open([]string{strings.Repeat("A", 52)}, "p", nil, nil) // 39 bytes < overhead
	assert.Equal(t, failShort, f)
	_, _, f = r.open([]string{"abc", "d"}, "p", nil, nil) // non-final piece not a multiple of 4
	assert.Equal(t, failEncoding, f)
}

// Seal and open concurrently while the ring is swapped between two rings
// that share the key used for sealing: no operation may fail.
func TestConcurrentRotation(t *testing.T) {
	a, b, c := GenerateKey("a"), GenerateKey("b"), GenerateKey("c")
	r1, err := NewKeyring(a, b)
	require.NoError(t, err)
	r2, err := NewKeyring(b, a, c) // b promoted, a kept for opening
	require.NoError(t, err)
	holder, err := NewRotatingKeyring(r1)
	require.NoError(t, err)

	var failures, ops atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				s, err := holder.Current().Seal("c", "p", time.Now(), []byte("hello"))
				if err != nil {
					failures.Add(1)
					continue
				}
				pt, _, err := holder.Current().Open("c", "p", s)
				if err != nil || string(pt) != "hello" {
					failures.Add(1)
				}
				ops.Add(1)
			}
		}()
	}
	// Keep swapping until both the workers and the swapper have done real
	// work, however the scheduler interleaves them: either side alone can
	// finish its share before the other runs.
	swaps := 0
	for ops.Load() < 20000 || swaps < 2000 {
		if swaps%2 == 0 {
			require.NoError(t, holder.Swap(r2))
		} else {
			require.NoError(t, holder.Swap(r1))
		}
		swaps++
		if swaps%64 == 0 {
			runtime.Gosched()
		}
	}
	close(stop)
	wg.Wait()
	assert.Zero(t, failures.Load())
	assert.Error(t, holder.Swap(nil))
}
