package main

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
)

// jwkVector is a file of jwk/.
type jwkVector struct {
	Name    string    `json:"name"`
	Comment string    `json:"comment"`
	JWKS    string    `json:"jwks"`
	Expect  string    `json:"expect"`
	Rule    string    `json:"rule,omitempty"`
	Keys    []jwkJSON `json:"keys,omitempty"`
}

type jwkJSON struct {
	KID       string `json:"kid"`
	SecretHex string `json:"secret_hex"`
	KID4Hex   string `json:"kid4_hex"`
}

// jsonText is s as a JSON string, non-ASCII characters written as is.
func jsonText(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		panic(err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// oct is a key object with the members given as raw JSON texts, in order.
func oct(members ...string) string {
	return "{" + strings.Join(members, ",") + "}"
}

func member(name, rawValue string) string { return jsonText(name) + ":" + rawValue }

// set is a JWK Set of the given raw key objects.
func set(keys ...string) string {
	return `{"keys":[` + strings.Join(keys, ",") + `]}`
}

// kKey is a conventional oct key object.
func kKey(kid string, secret []byte) string {
	return oct(member("kty", `"oct"`), member("kid", jsonText(kid)), member("k", jsonText(b64.EncodeToString(secret))))
}

// kid4Collision finds two ids "c-<i>" and "c-<j>" with equal kid4 by a
// birthday search (about 2^16 tries for a 4-byte digest).
func kid4Collision() (string, string) {
	seen := map[uint32]string{}
	for i := 0; ; i++ {
		id := fmt.Sprintf("c-%d", i)
		d := binary.BigEndian.Uint32(kid4(id))
		if prev, ok := seen[d]; ok {
			return prev, id
		}
		seen[d] = id
	}
}

func jwkVectors() []any {
	sa, sb := derived("jwk/a", 32), derived("jwk/b", 32)
	var vs []jwkVector
	ok := func(name, comment, jwks string, keys ...jwkJSON) {
		vs = append(vs, jwkVector{Name: name, Comment: comment, JWKS: jwks, Expect: "ok", Keys: keys})
	}
	bad := func(name, comment, rule, jwks string) {
		vs = append(vs, jwkVector{Name: name, Comment: comment, JWKS: jwks, Expect: "invalid", Rule: rule})
	}
	want := func(kid string, secret []byte) jwkJSON {
		return jwkJSON{KID: kid, SecretHex: hexOf(secret), KID4Hex: hexOf(kid4(kid))}
	}
	ka := kKey("2026-11-primary", sa)
	kb := kKey("2026-05-retired", sb)
	kA := member("k", jsonText(b64.EncodeToString(sa)))
	kty, kidA := member("kty", `"oct"`), member("kid", `"2026-11-primary"`)
	withK := func(k string) string { return set(oct(kty, kidA, member("k", jsonText(k)))) }
	withKRaw := func(rawK string) string { return set(oct(kty, kidA, member("k", rawK))) }

	// Valid sets.
	ok("ok-one-key", "one oct key", set(ka), want("2026-11-primary", sa))
	ok("ok-two-keys", "two keys, pretty-printed: the array's order is the priority, the first is the primary",
		"{\n  \"keys\": [\n    "+ka+",\n    "+kb+"\n  ]\n}\n", want("2026-11-primary", sa), want("2026-05-retired", sb))
	ok("ok-extra-members-ignored", "members other than kty, kid and k (use, alg, key_ops, a private one) and other top-level members are ignored",
		`{"note":"rotated 2026-11","keys":[`+oct(kty, member("use", `"enc"`), kidA, member("alg", `"dir"`), member("key_ops", `["encrypt","decrypt"]`), kA, member("x-meta", `{"owner":"ops","n":[1,2]}`))+`]}`,
		want("2026-11-primary", sa))
	ok("ok-kid-non-ascii", "a kid with non-ASCII characters, written as UTF-8", set(kKey("clé-2026-ü", sa)), want("clé-2026-ü", sa))
	ok("ok-kid-escapes", "kids written with JSON escapes: \\u00e9 and a surrogate pair (U+1F511) are Unicode scalar values",
		set(oct(kty, member("kid", `"caf\u00e9"`), kA), oct(kty, member("kid", `"key-\ud83d\udd11"`), member("k", jsonText(b64.EncodeToString(sb))))),
		want("café", sa), want("key-\U0001F511", sb))

	// Rule json.
	bad("bad-json-not-json", "not JSON", "json", `keys: [`+ka+`]`)
	bad("bad-json-truncated", "JSON cut short", "json", set(ka)[:20])
	bad("bad-json-trailing-data", "a second value after the set", "json", set(ka)+` {}`)
	bad("bad-json-top-level-array", "an array of keys instead of a set", "json", `[`+ka+`]`)
	bad("bad-json-keys-object", "keys is an object, not an array", "json", `{"keys":`+ka+`}`)
	bad("bad-json-keys-missing", "no keys member", "json", `{"note":"empty"}`)
	bad("bad-json-key-not-object", "a member of keys is a string", "json", `{"keys":["`+b64.EncodeToString(sa)+`"]}`)

	// Rule duplicate-member.
	bad("bad-duplicate-k", "the k member twice in a key (the second a valid secret too)", "duplicate-member",
		set(oct(kty, kidA, kA, member("k", jsonText(b64.EncodeToString(sb))))))
	bad("bad-duplicate-kid", "the kid member twice in a key", "duplicate-member", set(oct(kty, kidA, member("kid", `"other"`), kA)))
	bad("bad-duplicate-kty", "the kty member twice in a key, both oct", "duplicate-member", set(oct(kty, kty, kidA, kA)))
	bad("bad-duplicate-k-escaped", "k twice, once written \"\\u006b\": member names are compared after unescaping", "duplicate-member",
		set(oct(kty, kidA, kA, `"\u006b":`+jsonText(b64.EncodeToString(sb)))))
	bad("bad-duplicate-keys", "the top-level keys member twice", "duplicate-member", `{"keys":[`+ka+`],"keys":[`+kb+`]}`)

	// Rule non-empty.
	bad("bad-non-empty", "an empty keys array", "non-empty", `{"keys":[]}`)

	// Rule kty.
	rsaN := b64.EncodeToString(append([]byte{0xc5}, derived("jwk/rsa", 255)...))
	bad("bad-kty-rsa", "an RSA public key: other key types are rejected, not skipped", "kty",
		set(ka, oct(member("kty", `"RSA"`), member("kid", `"rsa-1"`), member("n", jsonText(rsaN)), member("e", `"AQAB"`))))
	bad("bad-kty-missing", "a key without kty", "kty", set(oct(kidA, kA)))
	bad("bad-kty-uppercase", "kty \"OCT\": kty values are case-sensitive", "kty", set(oct(member("kty", `"OCT"`), kidA, kA)))

	// Rule kid.
	bad("bad-kid-missing", "a key without kid", "kid", set(oct(kty, kA)))
	bad("bad-kid-empty", "kid is the empty string", "kid", set(oct(kty, member("kid", `""`), kA)))
	bad("bad-kid-lone-high-surrogate", "kid \"\\ud800\": a lone surrogate is not a Unicode scalar value (a JSON decoder may turn it into U+FFFD silently)", "kid",
		set(oct(kty, member("kid", `"\ud800"`), kA)))
	bad("bad-kid-lone-low-surrogate", "kid \"k\\udc00\": a lone low surrogate", "kid", set(oct(kty, member("kid", `"k\udc00"`), kA)))
	bad("bad-kid-unpaired-high-surrogate", "kid \"\\ud800\\u0041\": a high surrogate followed by no low one", "kid",
		set(oct(kty, member("kid", `"\ud800\u0041"`), kA)))
	bad("bad-kid-number", "kid is a number, not a string", "kid", set(oct(kty, member("kid", `7`), kA)))

	// Rule k-encoding.
	enc := b64.EncodeToString(sa)
	bad("bad-k-embedded-newline", "k with an escaped newline (\\n) after 20 characters", "k-encoding", withKRaw(`"`+enc[:20]+`\n`+enc[20:]+`"`))
	bad("bad-k-padding", "k with '=' padding", "k-encoding", withK(base64.URLEncoding.EncodeToString(sa)))
	spare := []byte(enc)
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	spare[len(spare)-1] = alphabet[strings.IndexByte(alphabet, spare[len(spare)-1])|1]
	bad("bad-k-spare-bits", "k whose last character has a non-zero spare bit (43 characters leave 2)", "k-encoding", withK(string(spare)))
	std := base64.RawStdEncoding.EncodeToString(sa)
	if !strings.ContainsAny(std, "+/") {
		panic("jwk secret has no + or / in the standard alphabet")
	}
	bad("bad-k-std-alphabet", "k in the standard alphabet ('+' or '/')", "k-encoding", withK(std))
	bad("bad-k-length-mod-4-is-1", "k of 45 characters (1 mod 4)", "k-encoding", withK(enc+"AA"))
	bad("bad-k-space", "k with a space inside", "k-encoding", withK(enc[:20]+" "+enc[20:]))

	// Rule length.
	bad("bad-length-31", "a 31-byte secret", "length", withK(b64.EncodeToString(sa[:31])))
	bad("bad-length-33", "a 33-byte secret", "length", withK(b64.EncodeToString(append(append([]byte{}, sa...), 0x01))))
	bad("bad-length-empty", "k is the empty string", "length", withK(""))

	// Rule entropy.
	bad("bad-entropy", "32 zero bytes", "entropy", withK(b64.EncodeToString(make([]byte, 32))))

	// Rule unique.
	bad("bad-unique", "the same kid twice, with different secrets", "unique", set(ka, kKey("2026-11-primary", sb)))

	// Rule kid4.
	c1, c2 := kid4Collision()
	bad("bad-kid4", fmt.Sprintf("ids %q and %q differ but share kid4 %s", c1, c2, hexOf(kid4(c1))), "kid4", set(kKey(c1, sa), kKey(c2, sb)))

	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = v
	}
	return out
}
