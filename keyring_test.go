package sealed

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewKeyringRejects(t *testing.T) {
	good := GenerateKey("good")
	cases := []struct {
		name string
		keys []Key
		want string // substring of the error; names the key
	}{
		{"empty ring", nil, "no keys"},
		{"empty id", []Key{{ID: "", Secret: good.Secret}}, "key 0: empty id"},
		{"short secret", []Key{good, {ID: "short", Secret: make([]byte, 31)}}, `key "short": secret is 31 bytes, want 32`},
		{"long secret", []Key{{ID: "long", Secret: make([]byte, 33)}}, `key "long": secret is 33 bytes`},
		{"zero secret", []Key{{ID: "zero", Secret: make([]byte, 32)}}, `key "zero": secret is all zeros`},
		{"duplicate id", []Key{good, GenerateKey("good")}, `duplicate key id "good"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewKeyring(c.keys...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

// Two distinct ids whose derived 4-byte key ids collide are rejected. The
// colliding pair is found by brute force (about 2^16 ids by the birthday
// bound), so the test exercises the real derivation.
func TestNewKeyringRejectsKeyIDCollision(t *testing.T) {
	seen := map[[KeyIDSize]byte]string{}
	var a, b string
	for i := 0; ; i++ {
		id := fmt.Sprintf("k%d", i)
		kid := keyIDOf(id)
		if prev, ok := seen[kid]; ok {
			a, b = prev, id
			break
		}
		seen[kid] = id
	}
	_, err := NewKeyring(GenerateKey(a), GenerateKey(b))
	require.Error(t, err)
	assert.Contains(t, err.Error(), fmt.Sprintf("%q and %q", a, b))
}

func TestKeyringCopiesSecrets(t *testing.T) {
	k := GenerateKey("k")
	r, err := NewKeyring(k)
	require.NoError(t, err)
	s, err := r.Seal("c", "p", time.Now(), []byte("x"))
	require.NoError(t, err)
	for i := range k.Secret {
		k.Secret[i] = 0xff // the caller reuses its buffer
	}
	_, _, err = r.Open("c", "p", s)
	assert.NoError(t, err)
}

func TestJWKSetRoundTrip(t *testing.T) {
	keys := []Key{GenerateKey("2026-11"), GenerateKey("2026-05")}
	doc, err := MarshalJWKSet(keys)
	require.NoError(t, err)
	assert.Contains(t, string(doc), `"kty": "oct"`)
	got, err := ParseJWKSet(doc)
	require.NoError(t, err)
	require.Len(t, got, 2)
	for i := range keys {
		assert.Equal(t, keys[i].ID, got[i].ID)
		assert.True(t, bytes.Equal(keys[i].Secret, got[i].Secret))
	}
	r, err := ParseKeyring(doc)
	require.NoError(t, err)
	assert.Equal(t, []string{"2026-11", "2026-05"}, r.IDs())
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
			_, err := ParseJWKSet([]byte(c.doc))
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			assert.NotContains(t, err.Error(), k32, "errors must not echo secrets")
		})
	}
}

func TestKeyringFromFileAndEnv(t *testing.T) {
	doc, err := MarshalJWKSet([]Key{GenerateKey("file-key")})
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "keys.json")
	require.NoError(t, os.WriteFile(path, doc, 0o600))

	r, err := KeyringFromFile(path)
	require.NoError(t, err)
	assert.Equal(t, []string{"file-key"}, r.IDs())

	t.Setenv("SEALED_TEST_KEYS", string(doc))
	r, err = KeyringFromEnv("SEALED_TEST_KEYS")
	require.NoError(t, err)
	assert.Equal(t, []string{"file-key"}, r.IDs())

	_, err = KeyringFromEnv("SEALED_TEST_KEYS_UNSET")
	assert.ErrorContains(t, err, "SEALED_TEST_KEYS_UNSET is not set")
	_, err = KeyringFromFile(filepath.Join(t.TempDir(), "missing.json"))
	assert.Error(t, err)
	t.Setenv("SEALED_TEST_KEYS", `{"keys":[]}`)
	_, err = KeyringFromEnv("SEALED_TEST_KEYS")
	assert.ErrorContains(t, err, "SEALED_TEST_KEYS")
}

// Rotation by file: reload keeps the old ring in force when the new file is
// broken, and values sealed before a good reload still open after it.
func TestRotatingKeyringReloadFile(t *testing.T) {
	old, next := GenerateKey("old"), GenerateKey("next")
	path := filepath.Join(t.TempDir(), "keys.json")
	write := func(doc string) { require.NoError(t, os.WriteFile(path, []byte(doc), 0o600)) }
	doc1, _ := MarshalJWKSet([]Key{old})
	write(string(doc1))
	r1, err := KeyringFromFile(path)
	require.NoError(t, err)
	h, err := NewRotatingKeyring(r1)
	require.NoError(t, err)
	s, err := h.Current().Seal("c", "p", time.Now(), []byte("v"))
	require.NoError(t, err)

	write(`{"keys": [`) // a half-written file
	require.Error(t, h.ReloadFile(path))
	assert.Same(t, r1, h.Current())

	doc2, _ := MarshalJWKSet([]Key{next, old})
	write(string(doc2))
	require.NoError(t, h.ReloadFile(path))
	assert.Equal(t, []string{"next", "old"}, h.Current().IDs())
	_, info, err := h.Current().Open("c", "p", s)
	require.NoError(t, err)
	assert.Equal(t, "old", info.KeyID)
	assert.False(t, info.Primary, "opened under a retired key; the session layer re-seals")

	_, err = NewRotatingKeyring(nil)
	assert.Error(t, err)
}

func TestDerivedCipherCacheBounded(t *testing.T) {
	r := testRing(t, "k")
	for i := 0; i < 3*maxCachedPurposes; i++ {
		p := strings.Repeat("p", i+1)
		s, err := r.Seal("c", p, time.Now(), []byte("x"))
		require.NoError(t, err)
		_, _, err = r.Open("c", p, s)
		require.NoError(t, err)
	}
	assert.LessOrEqual(t, len(*r.keys[0].derived.Load()), maxCachedPurposes)
}
