package jwk

import (
	"encoding/hex"
	"testing"

	"github.com/sealedgo/sealed/internal/envelope"
	"github.com/sealedgo/sealed/internal/fuzzseed"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// jwkVector is a file of testdata/vectors/jwk/ (the kit's README defines
// the fields).
type jwkVector struct {
	JWKS   *string `json:"jwks"`
	Expect string  `json:"expect"`
	Rule   string  `json:"rule"`
	Keys   []struct {
		KID    string `json:"kid"`
		Secret string `json:"secret_hex"`
		KID4   string `json:"kid4_hex"`
	} `json:"keys"`
}

// jwkRules are the rules of the jwk layer.
var jwkRules = map[string]bool{
	"json": true, "duplicate-member": true, "non-empty": true, "kty": true, "kid": true,
	"k-encoding": true, "length": true, "entropy": true, "unique": true, "kid4": true,
}

// TestJWKVectors runs every vector of testdata/vectors/jwk/: Parse must
// read a positive one's keys, in order, with their secrets and the 4-byte
// key ids the envelope carries, and refuse a negative one, without
// repeating any secret of the document in its error.
func TestJWKVectors(t *testing.T) {
	for _, f := range fuzzseed.Vectors(t, "jwk") {
		var v jwkVector
		f.Decode(t, &v)
		t.Run(f.Name, func(t *testing.T) {
			require.NotNil(t, v.JWKS, "jwks")
			keys, err := Parse([]byte(*v.JWKS))
			switch v.Expect {
			case "ok":
				require.Empty(t, v.Rule, "a positive vector breaks no rule")
				require.NoError(t, err)
				require.NotEmpty(t, v.Keys, "a positive vector lists its keys")
				require.Len(t, keys, len(v.Keys))
				for i, want := range v.Keys {
					assert.Equal(t, want.KID, keys[i].ID, "key %d", i)
					assert.Equal(t, fuzzseed.Hex(t, "secret_hex", want.Secret), keys[i].Secret, "key %d", i)
					kid4 := envelope.KeyID(keys[i].ID)
					assert.Equal(t, want.KID4, hex.EncodeToString(kid4[:]), "key %d: kid4_hex", i)
				}
				ring, err := Ring(keys)
				require.NoError(t, err)
				assert.Equal(t, v.Keys[0].KID, ring[0].ID(), "the first key is the primary")
			case "invalid":
				require.True(t, jwkRules[v.Rule], "unknown rule %q", v.Rule)
				require.Error(t, err, "Parse accepts a set that breaks rule %s", v.Rule)
				assert.Nil(t, keys)
				for _, secret := range fzSecretsIn([]byte(*v.JWKS)) {
					assert.NotContains(t, err.Error(), secret, "the error repeats secret material")
				}
			}
		})
	}
}
