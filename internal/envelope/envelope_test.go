package envelope

import (
	"crypto/rand"
	"encoding/hex"
	"math"
	"strings"
	"testing"

	"github.com/sealedgo/sealed/internal/b64"
	"github.com/sealedgo/sealed/internal/fuzzseed"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/chacha20poly1305"
)

type vectorKey struct {
	KID    string `json:"kid"`
	Secret string `json:"secret_hex"`
}

// goldenVector is a file of testdata/vectors/envelope/ (the kit's README
// defines the fields). The positive vectors' fields are pointers, so that
// a missing one is told from a zero one.
type goldenVector struct {
	Name            string      `json:"name"`
	Keys            []vectorKey `json:"keys"`
	CookieName      string      `json:"cookie_name"`
	Purpose         string      `json:"purpose"`
	Sealed          string      `json:"sealed"`
	Expect          string      `json:"expect"`
	Failure         string      `json:"failure"`
	OpenedBy        *string     `json:"opened_by"`
	OpenedByPrimary *bool       `json:"opened_by_primary"`
	IssuedAt        *uint64     `json:"issued_at_s"`
	NonceHex        *string     `json:"nonce_hex"`
	Plaintext       *string     `json:"plaintext_hex"`
	SealingKeyHex   *string     `json:"sealing_key_hex"`
	ADHex           *string     `json:"ad_hex"`
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	require.NoError(t, err)
	return b
}

// loadVectors reads every file of testdata/vectors/envelope/ (and fails
// unless there are positive and negative ones).
func loadVectors(t testing.TB) []goldenVector {
	t.Helper()
	var vs []goldenVector
	for _, f := range fuzzseed.Vectors(t, "envelope") {
		var v goldenVector
		f.Decode(t, &v)
		vs = append(vs, v)
	}
	return vs
}

func (v goldenVector) ring(t testing.TB) Ring {
	t.Helper()
	ids := make([]string, len(v.Keys))
	secrets := make([][]byte, len(v.Keys))
	for i, k := range v.Keys {
		ids[i], secrets[i] = k.KID, mustHex(t, k.Secret)
	}
	r, err := NewRing(ids, secrets)
	require.NoError(t, err)
	return r
}

func (v goldenVector) binding(t testing.TB) *Binding {
	t.Helper()
	b, err := Bind(v.CookieName, v.Purpose)
	require.NoError(t, err)
	return b
}

// decodeSealed does what the cookie layer does to a one-chunk value before
// the envelope sees it: the length cap of cookie.Jar.Read (nothing longer
// than the largest envelope is decoded), then b64.Decode into a buffer
// with room bytes in front. reason is "" or the one Jar.Read gives.
func decodeSealed(s string, room int) (buf []byte, reason string) {
	if len(s) > b64.EncodedLen(MaxSize) {
		return nil, "too-large"
	}
	buf = make([]byte, room+b64.DecodedLen(len(s)))
	n, ok := b64.Decode(buf[room:], s)
	if !ok {
		return nil, "encoding"
	}
	return buf[:room+n], ""
}

// openSealed decodes and opens a base64 value. outcome is "ok", the
// decoding step's reason or the Failure's name, as the vectors spell them.
func openSealed(b *Binding, r Ring, s string) (pt []byte, info Opened, outcome string) {
	buf, reason := decodeSealed(s, b.Room())
	if reason != "" {
		return nil, Opened{}, reason
	}
	pt, info, f := b.Open(r, buf)
	return pt, info, f.String()
}

// sealString seals pt with the nonce given and returns it in base64.
func sealString(b *Binding, key *Key, issuedAt uint64, nonce *[NonceSize]byte, pt []byte) string {
	buf := make([]byte, b.Room()+len(pt)+TagSize)
	copy(buf[b.Room():], pt)
	env := b.seal(buf, key, issuedAt, nonce, len(pt))
	out := make([]byte, b64.EncodedLen(len(env)))
	b64.Encode(out, env)
	return string(out)
}

// withRoom returns env copied behind room bytes, as Open takes it.
func withRoom(b *Binding, env []byte) []byte {
	return append(make([]byte, b.Room(), b.Room()+len(env)), env...)
}

// TestGoldenVectors opens every vector in testdata/vectors/envelope/
// (written by the independent implementation in testdata/genvectors) and
// checks the outcome, including the failure class of each negative
// vector: those of the encoding ("encoding", "too-large") are found by the
// decoding step, the others by Open. For each positive vector it checks
// the key that opens it (and whether it is the primary), the issued-at and
// the plaintext; the intermediate values (the derived sealing key, the
// associated data) against the package's own; and seals the plaintext
// again with the vector's fixed nonce and clock, requiring the same
// string, byte for byte.
func TestGoldenVectors(t *testing.T) {
	for _, v := range loadVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			require.NotEmpty(t, v.Keys, "a vector needs a keyring")
			ring, bind := v.ring(t), v.binding(t)
			pt, info, outcome := openSealed(bind, ring, v.Sealed)
			switch v.Expect {
			case "ok":
				for field, p := range map[string]bool{
					"opened_by": v.OpenedBy == nil, "opened_by_primary": v.OpenedByPrimary == nil,
					"issued_at_s": v.IssuedAt == nil, "nonce_hex": v.NonceHex == nil, "plaintext_hex": v.Plaintext == nil,
					"sealing_key_hex": v.SealingKeyHex == nil, "ad_hex": v.ADHex == nil,
				} {
					require.False(t, p, "a positive vector needs %s", field)
				}
				require.Empty(t, v.Failure, "a positive vector has no failure class")
				require.Equal(t, "ok", outcome)
				assert.Equal(t, mustHex(t, *v.Plaintext), append([]byte{}, pt...))
				assert.Equal(t, *v.OpenedBy, info.Key.ID())
				assert.Equal(t, *v.OpenedByPrimary, info.Primary, "opened_by_primary")
				assert.Equal(t, *v.OpenedBy == v.Keys[0].KID, *v.OpenedByPrimary, "opened_by_primary: the first key is the primary")
				require.LessOrEqual(t, *v.IssuedAt, uint64(math.MaxInt64))
				assert.Equal(t, int64(*v.IssuedAt), info.IssuedAt)

				var key *Key
				for _, k := range ring {
					if k.ID() == *v.OpenedBy {
						key = k
					}
				}
				require.NotNil(t, key)

				// The intermediate values: the key HKDF derives for the
				// purpose, and header || binding as associated data.
				sealingKey := mustHex(t, *v.SealingKeyHex)
				assert.Equal(t, hex.EncodeToString(key.sealKey(v.Purpose)), *v.SealingKeyHex, "sealing_key_hex")
				env, reason := decodeSealed(v.Sealed, 0)
				require.Empty(t, reason)
				ad := mustHex(t, *v.ADHex)
				assert.Equal(t, hex.EncodeToString(append(append([]byte{}, env[:HeaderSize]...), bind.suffix...)), *v.ADHex, "ad_hex")
				// And they are what seals the vector: its nonce (from the
				// header), its key and its associated data open it.
				aead, err := chacha20poly1305.NewX(sealingKey)
				require.NoError(t, err)
				nonce := mustHex(t, *v.NonceHex)
				require.Len(t, nonce, NonceSize)
				assert.Equal(t, nonce, env[1+KeyIDSize+8:HeaderSize], "nonce_hex is the header's nonce")
				opened, err := aead.Open(nil, nonce, env[HeaderSize:], ad)
				require.NoError(t, err, "sealing_key_hex and ad_hex do not open the vector")
				assert.Equal(t, mustHex(t, *v.Plaintext), append([]byte{}, opened...))

				var n [NonceSize]byte
				copy(n[:], nonce)
				again := sealString(bind, key, *v.IssuedAt, &n, mustHex(t, *v.Plaintext))
				assert.Equal(t, v.Sealed, again, "sealing does not reproduce the vector")
			case "invalid":
				require.NotEmpty(t, v.Failure, "negative vector must name its failure class")
				require.Contains(t, []string{"too-large", "encoding", "short", "suite", "key-id", "time", "auth"}, v.Failure)
				assert.Equal(t, v.Failure, outcome)
			default:
				t.Fatalf("unknown expectation %q", v.Expect)
			}
		})
	}
}

func testRing(t testing.TB, ids ...string) Ring {
	t.Helper()
	secrets := make([][]byte, len(ids))
	for i := range ids {
		secrets[i] = make([]byte, SecretSize)
		rand.Read(secrets[i])
	}
	r, err := NewRing(ids, secrets)
	require.NoError(t, err)
	return r
}

func testBind(t testing.TB, name, purpose string) *Binding {
	t.Helper()
	b, err := Bind(name, purpose)
	require.NoError(t, err)
	return b
}

// sealEnv seals pt with Seal (a random nonce) and returns the envelope.
func sealEnv(b *Binding, key *Key, issuedAt uint64, pt []byte) []byte {
	buf := make([]byte, b.Room()+len(pt)+TagSize)
	copy(buf[b.Room():], pt)
	return b.Seal(buf, key, issuedAt, len(pt))
}

func TestSealOpenRoundTrip(t *testing.T) {
	r := testRing(t, "k1", "k0")
	b := testBind(t, "c", "p")
	const iat = 1795392000
	for _, n := range []int{0, 1, 2, 3, 100, 4096} {
		pt := []byte(strings.Repeat("x", n))
		buf := make([]byte, b.Room()+n+TagSize)
		copy(buf[b.Room():], pt)
		env := b.Seal(buf, r[0], iat, n)
		assert.Len(t, env, n+Overhead, "overhead must be exactly %d bytes", Overhead)
		assert.True(t, &env[len(env)-1] == &buf[len(buf)-1], "the envelope lies within buf")

		got, info, f := b.Open(r, withRoom(b, env))
		require.Equal(t, OK, f)
		assert.Equal(t, pt, append([]byte{}, got...))
		assert.Same(t, r[0], info.Key)
		assert.Equal(t, "k1", info.Key.ID())
		assert.True(t, info.Primary)
		assert.Equal(t, int64(iat), info.IssuedAt)
	}
	// A key that no longer seals still opens, and says so.
	_, info, f := b.Open(r, withRoom(b, sealEnv(b, r[1], iat, []byte("v"))))
	require.Equal(t, OK, f)
	assert.Same(t, r[1], info.Key)
	assert.False(t, info.Primary)
}

// Every single-bit flip of the sealed bytes, and every single-character
// change of the sealed string, must be rejected.
func TestEveryBitFlipRejected(t *testing.T) {
	for _, v := range loadVectors(t) {
		if v.Expect != "ok" {
			continue
		}
		ring, bind := v.ring(t), v.binding(t)
		raw, reason := decodeSealed(v.Sealed, 0)
		require.Empty(t, reason)
		for i := range raw {
			for bit := 0; bit < 8; bit++ {
				b := append([]byte{}, raw...)
				b[i] ^= 1 << bit
				_, _, f := bind.Open(ring, withRoom(bind, b))
				require.NotEqual(t, OK, f, "%s: flip of byte %d bit %d opened", v.Name, i, bit)
			}
		}
		// Flipping a bit of the text (not of the decoded bytes) can land on a
		// non-alphabet byte or on the spare trailing bits: rejected too.
		for i := range v.Sealed {
			for bit := 0; bit < 8; bit++ {
				b := []byte(v.Sealed)
				b[i] ^= 1 << bit
				_, _, outcome := openSealed(bind, ring, string(b))
				require.NotEqual(t, "ok", outcome, "%s: flip of char %d bit %d opened", v.Name, i, bit)
			}
		}
	}
}

func TestNameAndPurposeBound(t *testing.T) {
	r := testRing(t, "k1")
	b := testBind(t, "session", "login")
	env := sealEnv(b, r[0], 1795392000, []byte("state"))
	for _, c := range []struct{ name, purpose string }{
		{"Session", "login"}, {"session", "Login"}, {"login", "session"},
		{"sessio", "nlogin"}, {"sessionl", "ogin"}, {"", "sessionlogin"}, {"session", ""},
	} {
		other := testBind(t, c.name, c.purpose)
		_, _, f := other.Open(r, withRoom(other, env))
		assert.Equal(t, BadAuth, f, "opened as name=%q purpose=%q", c.name, c.purpose)
	}
	_, _, f := b.Open(r, withRoom(b, env))
	assert.Equal(t, OK, f)
}

// Seal fills the nonce itself: two seals of the same plaintext under the
// same key at the same time carry different, non-zero nonces. (That
// crypto/rand does not repeat is its own business.)
func TestSealDrawsNonce(t *testing.T) {
	r := testRing(t, "k1")
	b := testBind(t, "c", "p")
	nonceOf := func(env []byte) []byte { return env[1+KeyIDSize+8 : HeaderSize] }
	e1 := sealEnv(b, r[0], 1, []byte("same"))
	e2 := sealEnv(b, r[0], 1, []byte("same"))
	assert.NotEqual(t, nonceOf(e1), nonceOf(e2))
	assert.NotEqual(t, make([]byte, NonceSize), nonceOf(e1))
	assert.NotEqual(t, e1, e2)
}

func TestOpenRejectsBadLengthsBeforeCrypto(t *testing.T) {
	r := testRing(t, "k1")
	b := testBind(t, "c", "p")

	// The largest value the format allows opens, and its base64 is exactly
	// the cap the cookie layer applies before decoding.
	env := sealEnv(b, r[0], 1, make([]byte, MaxPlaintext))
	require.Len(t, env, MaxSize)
	_, _, f := b.Open(r, withRoom(b, env))
	assert.Equal(t, OK, f, "the largest value the format allows opens")
	s, reason := decodeSealed(strings.Repeat("A", b64.EncodedLen(MaxSize)), 0)
	assert.Empty(t, reason)
	assert.Len(t, s, MaxSize)

	// One byte over, authentic: refused unread.
	_, _, f = b.Open(r, withRoom(b, sealEnv(b, r[0], 1, make([]byte, MaxPlaintext+1))))
	assert.Equal(t, Short, f)
	// One byte over, with a bad suite: the length check comes first.
	_, _, f = b.Open(r, withRoom(b, make([]byte, MaxSize+1)))
	assert.Equal(t, Short, f)

	_, _, f = b.Open(r, withRoom(b, env[:Overhead-1]))
	assert.Equal(t, Short, f, "shorter than the overhead")
	_, _, f = b.Open(r, withRoom(b, nil))
	assert.Equal(t, Short, f, "empty")
	_, _, f = b.Open(r, make([]byte, b.Room()-1))
	assert.Equal(t, Short, f, "no room for the associated data")
	// Exactly the overhead (an empty plaintext) is long enough to be tried.
	_, _, f = b.Open(r, withRoom(b, sealEnv(b, r[0], 1, nil)))
	assert.Equal(t, OK, f)
}

// The per-key cache of derived ciphers stops growing at its cap; purposes
// beyond it still seal and open.
func TestDerivedCipherCacheBounded(t *testing.T) {
	r := testRing(t, "k")
	for i := 0; i < 3*maxCachedPurposes; i++ {
		b := testBind(t, "c", strings.Repeat("p", i+1))
		_, _, f := b.Open(r, withRoom(b, sealEnv(b, r[0], 1, []byte("x"))))
		require.Equal(t, OK, f, "purpose %d", i)
	}
	assert.Len(t, *r[0].derived.Load(), maxCachedPurposes)
}
