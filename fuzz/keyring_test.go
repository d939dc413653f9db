package fuzz_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/sealedgo/sealed"
	"github.com/stretchr/testify/require"
)

// FuzzKeyringConfig feeds arbitrary documents to ParseJWKSet and
// ParseKeyring. Neither may panic and they must agree. A set that loads
// must hold only valid keys (non-empty unique ids with distinct 4-byte key
// ids, 32-byte secrets that are not all zero), and MarshalJWKSet then
// ParseJWKSet must give the same keys back. An error must not repeat any
// "k" member of the input.
func FuzzKeyringConfig(f *testing.F) {
	requireCorpus(f)
	zero := make([]byte, sealed.SecretSize)
	f.Fuzz(func(t *testing.T, doc []byte) {
		keys, err := sealed.ParseJWKSet(doc)
		ring, rerr := sealed.ParseKeyring(doc)
		if err != nil {
			require.Nil(t, keys)
			require.Error(t, rerr, "ParseKeyring accepts what ParseJWKSet refuses")
			require.Nil(t, ring)
			for _, k := range secretsIn(doc) {
				require.NotContains(t, err.Error(), k, "the error repeats secret material")
			}
			return
		}
		require.NoError(t, rerr, "ParseKeyring refuses what ParseJWKSet accepts")
		require.NotEmpty(t, keys)

		ids := make([]string, len(keys))
		kids := map[string]string{}
		for i, k := range keys {
			require.NotEmpty(t, k.ID)
			require.Len(t, k.Secret, sealed.SecretSize, "key %q", k.ID)
			require.False(t, bytes.Equal(zero, k.Secret), "key %q is all zeros", k.ID)
			kid := string(refKid4(k.ID))
			prev, dup := kids[kid]
			require.False(t, dup, "ids %q and %q share a 4-byte key id", prev, k.ID)
			kids[kid] = k.ID
			ids[i] = k.ID
		}
		require.Equal(t, ids, ring.IDs())

		out, err := sealed.MarshalJWKSet(keys)
		require.NoError(t, err)
		again, err := sealed.ParseJWKSet(out)
		require.NoError(t, err, "MarshalJWKSet output does not parse:\n%s", out)
		require.Len(t, again, len(keys))
		for i := range keys {
			require.Equal(t, keys[i].ID, again[i].ID)
			require.Equal(t, keys[i].Secret, again[i].Secret, "key %q", keys[i].ID)
		}
		out2, err := sealed.MarshalJWKSet(again)
		require.NoError(t, err)
		require.Equal(t, string(out), string(out2), "MarshalJWKSet is not stable")

		// The loaded ring seals and opens with every key it holds.
		v, err := ring.Seal("c", "p", fixedNow, []byte("x"))
		require.NoError(t, err)
		pt, info, err := ring.Open("c", "p", v)
		require.NoError(t, err)
		require.Equal(t, "x", string(pt))
		require.Equal(t, keys[0].ID, info.KeyID)
		require.True(t, info.Primary)
	})
}

// secretsIn returns the "k" members of a JWK Set document, as far as a
// lenient reading finds them, that are long enough to be recognisable and
// do not also occur in another member (an error may well name a kid that
// happens to contain the secret's text).
func secretsIn(doc []byte) []string {
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
