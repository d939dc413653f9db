package jwk

import (
	"bytes"
	"crypto/rand"
	"testing"

	"github.com/sealedgo/sealed/internal/envelope"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newKey(id string) Key {
	secret := make([]byte, envelope.SecretSize)
	rand.Read(secret)
	return Key{ID: id, Secret: secret}
}

func TestJWKSetRoundTrip(t *testing.T) {
	keys := []Key{newKey("2026-11"), newKey("2026-05")}
	doc, err := Marshal(keys)
	require.NoError(t, err)
	assert.Contains(t, string(doc), `"kty": "oct"`)
	got, err := Parse(doc)
	require.NoError(t, err)
	require.Len(t, got, 2)
	for i := range keys {
		assert.Equal(t, keys[i].ID, got[i].ID)
		assert.True(t, bytes.Equal(keys[i].Secret, got[i].Secret))
	}
	r, err := Ring(got)
	require.NoError(t, err)
	require.Len(t, r, 2)
	assert.Equal(t, "2026-11", r[0].ID(), "the first key is the primary")
	assert.Equal(t, "2026-05", r[1].ID())

	// Marshal validates as Parse does: it writes no set Parse would refuse.
	_, err = Marshal([]Key{newKey("a"), newKey("a")})
	assert.ErrorContains(t, err, `duplicate key id "a"`)
	_, err = Marshal(nil)
	assert.ErrorContains(t, err, "no keys")
}

func TestParseJWKSetRejects(t *testing.T) {
	k32 := "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8" // 32 bytes
	k16 := "AAECAwQFBgcICQoLDA0ODw"                      // 16 bytes
	cases := []struct{ name, doc, want string }{
		{"not json", `{`, "JWK Set"},
		{"no keys", `{"keys":[]}`, "no keys"},
		{"missing kid", `{"keys":[{"kty":"oct","k":"` + k32 + `"}]}`, "key 0: missing kid"},
		{"short key", `{"keys":[{"kty":"oct","kid":"a","k":"` + k16 + `"}]}`, `key "a": secret is 16 bytes, want 32`},
		{"duplicate kid", `{"keys":[{"kty":"oct","kid":"a","k":"` + k32 + `"},{"kty":"oct","kid":"a","k":"` + k32 + `"}]}`, `duplicate key id "a"`},
		{"not oct", `{"keys":[{"kty":"EC","kid":"e","crv":"P-256","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"}]}`, `kid "e"): kty must be "oct"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.doc))
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			assert.NotContains(t, err.Error(), k32, "errors must not echo secrets")
		})
	}
}
