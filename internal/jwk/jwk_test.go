package jwk

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"strings"
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

// The strict rules of the key configuration (SPEC.md, "Keys"): "k" is
// strict unpadded base64url as sealed values are, member names are not
// repeated, a kid is Unicode text (no lone surrogate escaped in JSON,
// which encoding/json would turn into U+FFFD without a word), and only
// "oct" keys are allowed. Each error names the key and repeats no secret.
func TestParseJWKSetStrict(t *testing.T) {
	k32 := "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8" // 32 bytes
	oct := func(kid, k string) string { return `{"kty":"oct","kid":"` + kid + `","k":"` + k + `"}` }
	set := func(keys ...string) string { return `{"keys":[` + strings.Join(keys, ",") + `]}` }
	good := oct("a", k32)
	for _, c := range []struct{ name, doc, want string }{
		{"padded k", set(oct("a", k32+"=")), `key 0 (kid "a"): k is not unpadded base64url`},
		{"standard alphabet", set(oct("a", "+/"+k32[2:])), `key 0 (kid "a"): k is not unpadded base64url`},
		{"newline in k", set(oct("a", k32[:20]+`\n`+k32[20:])), `key 0 (kid "a"): k is not unpadded base64url`},
		{"carriage return in k", set(oct("a", k32[:20]+`\r`+k32[20:])), `k is not unpadded base64url`},
		{"spare bits", set(oct("a", k32[:len(k32)-1]+"9")), `k is not unpadded base64url`},
		{"length 1 mod 4", set(oct("a", k32+"AA")), `k is not unpadded base64url`},
		{"k not a string", set(`{"kty":"oct","kid":"a","k":5}`), `key 0 (kid "a"): k must be a string`},
		{"missing k", set(`{"kty":"oct","kid":"a"}`), `key 0 (kid "a"): missing k`},
		{"second key bad", set(good, oct("b", k32+"=")), `key 1 (kid "b"): k is not unpadded base64url`},
		{"duplicate k", set(`{"kty":"oct","kid":"a","k":"` + k32 + `","k":"` + k32 + `"}`), `key 0: member "k" appears twice`},
		{"duplicate kid", set(`{"kty":"oct","kid":"a","kid":"b","k":"` + k32 + `"}`), `key 0: member "kid" appears twice`},
		{"duplicate escaped name", set(`{"kty":"oct","kid":"a","\u006b":"` + k32 + `","k":"` + k32 + `"}`), `key 0: member "k" appears twice`},
		{"duplicate keys", `{"keys":[` + good + `],"keys":[` + good + `]}`, `member "keys" appears twice`},
		{"duplicate other member", set(`{"kty":"oct","kid":"a","use":"enc","use":"sig","k":"` + k32 + `"}`), `key 0: member "use" appears twice`},
		{"lone high surrogate", set(oct(`\ud800`, k32)), `key 0: kid is not Unicode text`},
		{"lone low surrogate", set(oct(`x\uDC00`, k32)), `key 0: kid is not Unicode text`},
		{"high then other", set(oct(`\ud83d\u0041`, k32)), `key 0: kid is not Unicode text`},
		{"high at end", set(oct(`a\uD83D`, k32)), `key 0: kid is not Unicode text`},
		{"invalid utf-8", set(oct("\xff", k32)), `not UTF-8`},
		{"empty kid", set(oct("", k32)), `key 0: missing kid`},
		{"kid not a string", set(`{"kty":"oct","kid":1,"k":"` + k32 + `"}`), `key 0: kid must be a string`},
		{"unknown kty", set(`{"kty":"future","kid":"a","k":"` + k32 + `"}`), `key 0 (kid "a"): kty must be "oct"`},
		{"missing kty", set(`{"kid":"a","k":"` + k32 + `"}`), `key 0 (kid "a"): kty must be "oct"`},
		{"kty case", set(`{"kty":"OCT","kid":"a","k":"` + k32 + `"}`), `kty must be "oct"`},
		{"keys not an array", `{"keys":{}}`, `"keys" must be an array`},
		{"keys null", `{"keys":null}`, `"keys" must be an array`},
		{"no keys member", `{}`, `no "keys"`},
		{"names are case-sensitive", `{"KEYS":[` + good + `]}`, `no "keys"`},
		{"key not an object", set(`"x"`), `key 0: not a JSON object`},
		{"not an object", `[]`, `not a JSON object`},
		{"trailing data", set(good) + `{}`, `after the JWK Set`},
		{"truncated", `{"keys":[` + good, `invalid JSON`},
		{"syntax", `{"keys":[` + good + `,]}`, `invalid JSON`},
		{"syntax in secret", `{"keys":[{"kty":"oct","kid":"a","k":"` + k32 + `"x}]}`, `invalid JSON at byte offset`},
	} {
		t.Run(c.name, func(t *testing.T) {
			keys, err := Parse([]byte(c.doc))
			require.Error(t, err, c.doc)
			assert.Nil(t, keys)
			assert.Contains(t, err.Error(), c.want)
			assert.True(t, strings.HasPrefix(err.Error(), "sealed: "), err.Error())
			for _, secret := range []string{k32, k32[:20], k32[20:]} {
				assert.NotContains(t, err.Error(), secret, "errors must not echo secrets")
			}
		})
	}

	// What the rules allow: escapes that JSON permits, a surrogate pair,
	// unknown members (of any JSON type) beside the three Parse reads,
	// whitespace anywhere JSON allows it.
	for _, c := range []struct{ name, doc, kid string }{
		{"surrogate pair", set(oct(`\ud83d\ude00`, k32)), "\U0001F600"},
		{"escaped text", set(oct(`a\u00e9\"\\`, k32)), "a\u00e9\"\\"},
		{"escaped k", set(`{"kty":"oct","kid":"a","k":"\u0041` + k32[1:] + `"}`), "a"},
		{"other members", `{"keys":[{"kty":"oct","kid":"a","use":5,"alg":null,"x5c":"junk","ext":{"a":1,"a":2},"k":"` + k32 + `"}],"other":[1,{"k":"x"}]}`, "a"},
		{"whitespace", " {\n \"keys\" : [ {\"kty\" :\"oct\", \"kid\":\"a\",\t\"k\": \"" + k32 + "\" } ] }\n", "a"},
	} {
		t.Run(c.name, func(t *testing.T) {
			keys, err := Parse([]byte(c.doc))
			require.NoError(t, err, c.doc)
			require.Len(t, keys, 1)
			assert.Equal(t, c.kid, keys[0].ID)
			if c.name != "escaped k" {
				assert.Equal(t, k32, base64.RawURLEncoding.EncodeToString(keys[0].Secret))
			}
		})
	}
}
