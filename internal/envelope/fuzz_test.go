package envelope

// The fuzz targets of the envelope layer. Their seed corpora are in
// testdata/fuzz/<Target>/, written by fuzz/gencorpus.go; run them with
// fuzz/run.sh. Identifiers start with fz so as not to collide with the
// package's other test files.

import (
	"bytes"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"math"
	"testing"

	"github.com/sealedgo/sealed/internal/b64"
	"github.com/sealedgo/sealed/internal/fuzzseed"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/chacha20poly1305"
)

// fzDecode decodes a sealed value as the cookie layer does, into a buffer
// with b.Room() bytes in front.
func fzDecode(b *Binding, value string) ([]byte, bool) {
	room := b.Room()
	buf := make([]byte, room+b64.DecodedLen(len(value)))
	n, ok := b64.Decode(buf[room:], value)
	return buf[:room+n], ok
}

// ---------------------------------------------------------------------------
// Reference opener, written from SPEC.md ("Sealing and opening / Opening")
// alone, with the failures in the order SPEC.md checks them, named as
// Failure.String names them ("encoding" for a value that is not strict
// unpadded base64url, which the cookie layer refuses before this one).

const (
	fzRefOverhead = 53
	fzRefMaxPlain = 98304
)

func fzRefKid4(id string) []byte {
	h := sha256.Sum256([]byte("github.com/sealedgo/sealed v1 key id " + id))
	return h[:4]
}

func fzRefAlphabet(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func fzRefOpen(ids []string, secrets [][]byte, name, purpose, s string) (pt []byte, keyID string, iat uint64, reason string) {
	if !fzRefAlphabet(s) {
		return nil, "", 0, "encoding"
	}
	env, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, "", 0, "encoding"
	}
	if len(env) < fzRefOverhead || len(env) > fzRefMaxPlain+fzRefOverhead {
		return nil, "", 0, "short"
	}
	if env[0] != 0x01 {
		return nil, "", 0, "suite"
	}
	k := -1
	for i, id := range ids {
		if bytes.Equal(fzRefKid4(id), env[1:5]) {
			k = i
			break
		}
	}
	if k < 0 {
		return nil, "", 0, "key-id"
	}
	iat = binary.BigEndian.Uint64(env[5:13])
	if iat > math.MaxInt64 {
		return nil, "", 0, "time"
	}
	sk, err := hkdf.Key(sha256.New, secrets[k], nil, "github.com/sealedgo/sealed v1 xchacha20poly1305 purpose "+purpose, 32)
	if err != nil {
		panic(err)
	}
	aead, err := chacha20poly1305.NewX(sk)
	if err != nil {
		panic(err)
	}
	ad := append([]byte(nil), env[:37]...)
	ad = binary.BigEndian.AppendUint32(ad, uint32(len(name)))
	ad = append(ad, name...)
	ad = binary.BigEndian.AppendUint32(ad, uint32(len(purpose)))
	ad = append(ad, purpose...)
	pt, err = aead.Open(nil, env[13:37], env[37:], ad)
	if err != nil {
		return nil, "", 0, "auth"
	}
	return pt, ids[k], iat, ""
}

// ---------------------------------------------------------------------------

// FuzzOpen feeds arbitrary sealed values, cookie names and purposes to
// Binding.Open, after decoding them as the cookie layer does. It must never
// panic, and the outcome must match the reference opener written from
// SPEC.md: the same values open, to the same plaintext (decrypted in place
// in the buffer), key and issued-at, and the others fail for the same
// reason.
func FuzzOpen(f *testing.F) {
	fuzzseed.RequireCorpus(f)
	ids, secrets := fuzzseed.GoldenKeys(f)
	ring, err := NewRing(ids, secrets)
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, value, name, purpose string) {
		rpt, rkey, riat, reason := fzRefOpen(ids, secrets, name, purpose, value)
		b, err := Bind(name, purpose)
		require.NoError(t, err)
		buf, ok := fzDecode(b, value)
		if !ok {
			require.Equal(t, "encoding", reason, "b64.Decode refuses a value the reference decodes")
			return
		}
		require.NotEqual(t, "encoding", reason, "b64.Decode accepts a value that is not strict unpadded base64url")

		pt, info, fail := b.Open(ring, buf)
		if fail != OK {
			require.Equal(t, reason, fail.String(), "Open and the reference disagree on why the value does not open")
			require.Nil(t, pt)
			require.Equal(t, Opened{}, info)
			return
		}
		require.Empty(t, reason, "Open accepts a value the reference rejects")
		require.True(t, bytes.Equal(rpt, pt), "plaintext differs from the reference")
		require.Equal(t, rkey, info.Key.ID())
		require.Equal(t, rkey == ids[0], info.Primary)
		require.Equal(t, int64(riat), info.IssuedAt)
		if len(pt) > 0 {
			// Decrypted in place: the plaintext lies within the buffer.
			require.Same(t, &buf[b.Room()+HeaderSize], &pt[0], "the plaintext is not where the ciphertext was")
		}
	})
}

// FuzzCanonicalEnvelope checks, for every value that opens, that it is the
// one encoding of its one envelope: strict unpadded base64url, alphabet
// only, decode then encode the identity; that the envelope carries the key
// id and issued-at Open reports; that opening is repeatable; and that one
// change, chosen by the input, makes it fail: a substitution, insertion or
// deletion of one character of the value, and a bit flip of one byte of
// the envelope.
func FuzzCanonicalEnvelope(f *testing.F) {
	fuzzseed.RequireCorpus(f)
	ids, secrets := fuzzseed.GoldenKeys(f)
	ring, err := NewRing(ids, secrets)
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, name, purpose, value string, pos uint32, c byte) {
		b, err := Bind(name, purpose)
		require.NoError(t, err)
		open := func(v string) ([]byte, Opened, Failure) {
			buf, ok := fzDecode(b, v)
			if !ok {
				return nil, Opened{}, Short
			}
			return b.Open(ring, buf)
		}
		pt, info, fail := open(value)
		if fail != OK {
			return
		}
		pt = bytes.Clone(pt)
		require.True(t, fzRefAlphabet(value), "an opened value holds a byte outside the base64url alphabet")
		env, err := base64.RawURLEncoding.Strict().DecodeString(value)
		require.NoError(t, err, "an opened value is not strict unpadded base64url")
		enc := make([]byte, b64.EncodedLen(len(env)))
		b64.Encode(enc, env)
		require.Equal(t, value, string(enc), "an opened value is not the canonical encoding of its bytes")
		require.Len(t, env, len(pt)+Overhead)
		require.Equal(t, byte(Suite), env[0])
		kid := KeyID(info.Key.ID())
		require.Equal(t, fzRefKid4(info.Key.ID()), env[1:5])
		require.Equal(t, kid[:], env[1:5])
		require.Equal(t, uint64(info.IssuedAt), binary.BigEndian.Uint64(env[5:13]))

		pt2, info2, fail := open(value)
		require.Equal(t, OK, fail, "a value opened once does not open again")
		require.Equal(t, pt, pt2)
		require.Equal(t, info, info2)

		// One character of the value.
		i := int(pos % uint32(len(value)+1))
		var mutated string
		switch (pos >> 29) % 3 {
		case 0: // substitute
			if i == len(value) {
				i--
			}
			d := c
			if d == value[i] {
				d ^= 0x01
			}
			mutated = value[:i] + string([]byte{d}) + value[i+1:]
		case 1: // insert
			mutated = value[:i] + string([]byte{c}) + value[i:]
		default: // delete
			if i == len(value) {
				i--
			}
			mutated = value[:i] + value[i+1:]
		}
		if got, _, fail := open(mutated); fail == OK {
			t.Fatalf("a one-character change still opens: %q -> %q (plaintext %x)", value, mutated, got)
		}

		// One byte of the envelope.
		room := b.Room()
		buf := make([]byte, room+len(env))
		copy(buf[room:], env)
		buf[room+int(pos%uint32(len(env)))] ^= c | 1
		if got, _, fail := b.Open(ring, buf); fail == OK {
			t.Fatalf("an envelope with byte %d changed still opens (plaintext %x)", pos%uint32(len(env)), got)
		}
	})
}
