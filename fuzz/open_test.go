package fuzz_test

import (
	"bytes"
	"encoding/base64"
	"testing"

	"github.com/sealedgo/sealed"
	"github.com/stretchr/testify/require"
)

// FuzzOpen feeds arbitrary strings, cookie names and purposes to
// Keyring.Open. It must never panic, every failure must be the bare
// sealed.ErrInvalid, and the outcome must match the reference opener
// written from SPEC.md: the same values open, to the same plaintext, key
// and issued-at.
func FuzzOpen(f *testing.F) {
	requireCorpus(f)
	keys := testKeys(f)
	ring := testRing(f, keys)
	f.Fuzz(func(t *testing.T, value, name, purpose string) {
		pt, info, err := ring.Open(name, purpose, value)
		rpt, rkey, riat, rok := refOpen(keys, name, purpose, value)
		if err != nil {
			if err != sealed.ErrInvalid { // the bare sentinel, never a wrapper
				t.Fatalf("Open returned %#v, want exactly sealed.ErrInvalid", err)
			}
			require.Nil(t, pt)
			require.Equal(t, sealed.Opened{}, info)
			require.False(t, rok, "the reference opens this value but Open does not")
			return
		}
		require.True(t, rok, "Open accepts a value the reference rejects")
		require.True(t, bytes.Equal(rpt, pt), "plaintext differs from the reference")
		require.Equal(t, rkey, info.KeyID)
		require.Equal(t, rkey == keys[0].ID, info.Primary)
		require.Equal(t, int64(riat), info.IssuedAt.Unix())
		require.Zero(t, info.IssuedAt.Nanosecond())
	})
}

// FuzzCanonicalEnvelope checks, for every value that opens, that it is the
// one encoding of its envelope (strict unpadded base64url, alphabet only,
// decode then encode is the identity), that the envelope carries the key id
// and issued-at Open reports, that opening is repeatable, and that one
// single-byte change (substitution, insertion or deletion at a position and
// with a byte chosen by the input) makes it fail.
func FuzzCanonicalEnvelope(f *testing.F) {
	requireCorpus(f)
	keys := testKeys(f)
	ring := testRing(f, keys)
	strict := base64.RawURLEncoding.Strict()
	f.Fuzz(func(t *testing.T, name, purpose, value string, pos uint32, b byte) {
		pt, info, err := ring.Open(name, purpose, value)
		if err != nil {
			return
		}
		pt = bytes.Clone(pt)
		require.True(t, refAlphabet(value), "an opened value holds a byte outside the base64url alphabet")
		env, err := strict.DecodeString(value)
		require.NoError(t, err, "an opened value is not strict unpadded base64url")
		require.Equal(t, value, base64.RawURLEncoding.EncodeToString(env), "an opened value is not the canonical encoding of its bytes")
		require.Len(t, env, len(pt)+sealed.Overhead)
		require.Equal(t, byte(0x01), env[0])
		require.Equal(t, refKid4(info.KeyID), env[1:5])
		require.Equal(t, uint64(info.IssuedAt.Unix()), uint64(env[5])<<56|uint64(env[6])<<48|uint64(env[7])<<40|uint64(env[8])<<32|uint64(env[9])<<24|uint64(env[10])<<16|uint64(env[11])<<8|uint64(env[12]))

		pt2, info2, err := ring.Open(name, purpose, value)
		require.NoError(t, err, "a value opened once does not open again")
		require.Equal(t, pt, pt2)
		require.Equal(t, info, info2)

		// One single-byte mutation per input.
		i := int(pos % uint32(len(value)+1))
		var mutated string
		switch (pos >> 29) % 3 {
		case 0: // substitute
			if i == len(value) {
				i--
			}
			c := b
			if c == value[i] {
				c ^= 0x01
			}
			mutated = value[:i] + string([]byte{c}) + value[i+1:]
		case 1: // insert
			mutated = value[:i] + string([]byte{b}) + value[i:]
		default: // delete
			if i == len(value) {
				i--
			}
			mutated = value[:i] + value[i+1:]
		}
		if got, _, err := ring.Open(name, purpose, mutated); err == nil {
			t.Fatalf("a one-byte mutation still opens: %q -> %q (plaintext %x)", value, mutated, got)
		}
	})
}
