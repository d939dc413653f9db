package jwk

// The fuzz target of the key configuration. Its seed corpus is in
// testdata/fuzz/FuzzKeyringConfig/, written by fuzz/gencorpus.go; run it
// with fuzz/run.sh. Identifiers start with fz so as not to collide with the
// package's other test files.

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/sealedgo/sealed/internal/envelope"
	"github.com/sealedgo/sealed/internal/fuzzseed"
	"github.com/stretchr/testify/require"
)

// FuzzKeyringConfig feeds arbitrary documents to Parse. It must not panic.
// A set that loads must read the same with encoding/json (each "k" the
// strict encoding of its secret), must hold only valid keys (non-empty unique ids with
// distinct 4-byte key ids per SPEC.md, 32-byte secrets that are not all
// zero), make a Ring of the same keys in the same order, and Marshal then
// Parse must give the same keys back, Marshal being stable. An error must
// not repeat any "k" member of the input. The ring must seal with its
// first key and open what it sealed.
func FuzzKeyringConfig(f *testing.F) {
	fuzzseed.RequireCorpus(f)
	zero := make([]byte, envelope.SecretSize)
	f.Fuzz(func(t *testing.T, doc []byte) {
		keys, err := Parse(doc)
		if err != nil {
			require.Nil(t, keys)
			for _, k := range fzSecretsIn(doc) {
				require.NotContains(t, err.Error(), k, "the error repeats secret material")
			}
			return
		}
		require.NotEmpty(t, keys)

		// What Parse accepts, encoding/json reads the same way (no member
		// twice, so no choice between values; no lone surrogate in a kid,
		// so no U+FFFD in its place), and each "k" is the one strict
		// encoding of its secret.
		lenient := fzLenientKeys(doc)
		require.Len(t, lenient, len(keys), "encoding/json reads another number of keys")
		for i, k := range keys {
			require.Equal(t, "oct", lenient[i]["kty"], "key %d", i)
			require.Equal(t, k.ID, lenient[i]["kid"], "key %d", i)
			require.Equal(t, base64.RawURLEncoding.EncodeToString(k.Secret), lenient[i]["k"], "key %q: k is not the strict encoding of its secret", k.ID)
		}

		kids := map[string]string{}
		for _, k := range keys {
			require.NotEmpty(t, k.ID)
			require.Len(t, k.Secret, envelope.SecretSize, "key %q", k.ID)
			require.False(t, bytes.Equal(zero, k.Secret), "key %q is all zeros", k.ID)
			h := sha256.Sum256([]byte("github.com/sealedgo/sealed v1 key id " + k.ID))
			kid := string(h[:4])
			prev, dup := kids[kid]
			require.False(t, dup, "ids %q and %q share a 4-byte key id", prev, k.ID)
			kids[kid] = k.ID
		}
		ring, err := Ring(keys)
		require.NoError(t, err, "Ring refuses what Parse accepts")
		require.Len(t, ring, len(keys))
		for i, k := range ring {
			require.Equal(t, keys[i].ID, k.ID())
		}

		out, err := Marshal(keys)
		require.NoError(t, err)
		again, err := Parse(out)
		require.NoError(t, err, "Marshal output does not parse")
		require.Len(t, again, len(keys))
		for i := range keys {
			require.Equal(t, keys[i].ID, again[i].ID)
			require.Equal(t, keys[i].Secret, again[i].Secret, "key %q", keys[i].ID)
		}
		out2, err := Marshal(again)
		require.NoError(t, err)
		require.Equal(t, string(out), string(out2), "Marshal is not stable")

		// The ring seals with its first key and opens with it.
		b, err := envelope.Bind("c", "p")
		require.NoError(t, err)
		buf := make([]byte, b.Room()+1+envelope.TagSize)
		buf[b.Room()] = 'x'
		env := b.Seal(buf, ring[0], 1795392000, 1)
		obuf := append(make([]byte, b.Room()), env...)
		pt, info, fail := b.Open(ring, obuf)
		require.Equal(t, envelope.OK, fail)
		require.Equal(t, "x", string(pt))
		require.Equal(t, keys[0].ID, info.Key.ID())
		require.True(t, info.Primary)
	})
}

// fzLenientKeys returns the key objects of a JWK Set as encoding/json
// reads them (names matched exactly), or nil.
func fzLenientKeys(doc []byte) []map[string]any {
	var top map[string]json.RawMessage
	if json.Unmarshal(doc, &top) != nil {
		return nil
	}
	var keys []map[string]any
	if json.Unmarshal(top["keys"], &keys) != nil {
		return nil
	}
	return keys
}

// fzSecretsIn returns the "k" members of a JWK Set document, as far as a
// lenient reading finds them, that are long enough to be recognisable and
// do not also occur in another member (an error may well name a kid that
// happens to contain the secret's text).
func fzSecretsIn(doc []byte) []string {
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if json.Unmarshal(doc, &set) != nil {
		return nil
	}
	var secrets, others []string
	for _, k := range set.Keys {
		for name, v := range k {
			s, ok := v.(string)
			switch {
			case !ok:
			case strings.EqualFold(name, "k"):
				secrets = append(secrets, s)
			default:
				others = append(others, s)
			}
		}
	}
	var out []string
	for _, s := range secrets {
		if len(s) >= 8 && !slices.ContainsFunc(others, func(o string) bool { return strings.Contains(o, s) }) {
			out = append(out, s)
		}
	}
	return out
}
