package main

import (
	"encoding/base64"
	"strings"
)

// envelopeVector is a file of envelope/.
type envelopeVector struct {
	Name       string `json:"name"`
	Comment    string `json:"comment"`
	Keys       []key  `json:"keys"`
	CookieName string `json:"cookie_name"`
	Purpose    string `json:"purpose"`
	Sealed     string `json:"sealed"`
	Expect     string `json:"expect"`
	Failure    string `json:"failure,omitempty"`
	// Positive vectors only.
	OpenedBy        string  `json:"opened_by,omitempty"`
	OpenedByPrimary *bool   `json:"opened_by_primary,omitempty"`
	IssuedAtS       *uint64 `json:"issued_at_s,omitempty"`
	NonceHex        string  `json:"nonce_hex,omitempty"`
	PlaintextHex    *string `json:"plaintext_hex,omitempty"`
	SealingKeyHex   string  `json:"sealing_key_hex,omitempty"`
	ADHex           string  `json:"ad_hex,omitempty"`
}

// The envelope vectors' fixed inputs (the 24 vectors predate the kit and
// keep their bytes).
var (
	envNonce = mustHex("000102030405060708090a0b0c0d0e0f1011121314151617")
	envIAT   = uint64(1795392000) // 2026-11-23T00:00:00Z
	envName  = "__Host-session"
	envPurp  = "session"
	// A purpose whose lengths in code points (6), UTF-16 code units (7)
	// and UTF-8 bytes (17) all differ.
	nonASCIIPurpose = "ショップ-🛍"
	// A small CBOR item, {"n": 1, "user": "adam"} (14 bytes, so that the
	// envelope's length leaves spare bits for the non-canonical vector).
	// It is not a session payload: this layer does not read the plaintext.
	envPayload = mustHex("a2616e016475736572646164616d")
)

// okEnvelope is a positive vector: sealed under k, opened with ring.
func okEnvelope(name, comment string, k key, cookieName, purpose string, iat uint64, pt []byte) envelopeVector {
	s := seal(k, 1, cookieName, purpose, iat, envNonce, pt)
	primary := k.KID == ring[0].KID && k.Secret == ring[0].Secret
	ptHex := hexOf(pt)
	return envelopeVector{
		Name: name, Comment: comment, Keys: ring, CookieName: cookieName, Purpose: purpose,
		Sealed: b64.EncodeToString(s.env), Expect: "ok",
		OpenedBy: k.KID, OpenedByPrimary: &primary, IssuedAtS: &iat, NonceHex: hexOf(envNonce),
		PlaintextHex: &ptHex, SealingKeyHex: hexOf(s.key), ADHex: hexOf(s.ad),
	}
}

// badEnvelope is a negative vector opened as __Host-session, purpose
// session, with the kit's ring.
func badEnvelope(name, comment, sealedText, failure string) envelopeVector {
	return envelopeVector{
		Name: name, Comment: comment, Keys: ring, CookieName: envName, Purpose: envPurp,
		Sealed: sealedText, Expect: "invalid", Failure: failure,
	}
}

func envelopeVectors() []any {
	sealEnc := func(k key, suite byte, cookieName, purpose string, iat uint64, pt []byte) string {
		return b64.EncodeToString(seal(k, suite, cookieName, purpose, iat, envNonce, pt).env)
	}
	good := seal(k1, 1, envName, envPurp, envIAT, envNonce, envPayload).env
	goodStr := b64.EncodeToString(good)
	flip := func(i int, bit byte) string {
		b := append([]byte{}, good...)
		b[i] ^= bit
		return b64.EncodeToString(b)
	}
	// The value's length leaves 2 spare bits in its last character: set one.
	if len(good)%3 == 0 {
		panic("envelope payload leaves no spare bits")
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	nonCanon := []byte(goodStr)
	nonCanon[len(nonCanon)-1] = alphabet[strings.IndexByte(alphabet, nonCanon[len(nonCanon)-1])|1]
	if !strings.ContainsAny(goodStr, "-_") {
		panic("envelope vector has no - or _ for the std-alphabet vector")
	}

	// The two-fault vectors.
	tooLarge := sealEnc(k1, 1, envName, envPurp, envIAT, make([]byte, 98304+1))
	tooLargeBad := tooLarge[:1000] + "*" + tooLarge[1001:]
	shortBad := goodStr[:5] + "*" + goodStr[6:20]
	shortSuite := append([]byte{}, good[:40]...)
	shortSuite[0] = 0x02
	overflowFlipped := seal(k1, 1, envName, envPurp, 1<<63, envNonce, envPayload).env
	overflowFlipped[len(overflowFlipped)-1] ^= 0x01
	if len(tooLargeBad) <= 131143 || len(shortBad)%4 == 1 || len(shortBad)*3/4 >= 53 {
		panic("two-fault envelope vectors lost a fault")
	}

	vs := []envelopeVector{
		okEnvelope("ok-primary", "sealed and opened under the primary key", k1, envName, envPurp, envIAT, envPayload),
		okEnvelope("ok-retired-key", "sealed under a key that is no longer primary; it still opens", k0, envName, envPurp, envIAT, envPayload),
		okEnvelope("ok-empty-plaintext", "an empty plaintext gives exactly the 53-byte overhead", k1, envName, envPurp, envIAT, nil),
		okEnvelope("ok-other-purpose", "the same key under another purpose and cookie name", k1, "csrf", "csrf-token", 1, envPayload),

		badEnvelope("bad-bitflip-ciphertext", "one bit of the ciphertext flipped", flip(37, 0x01), "auth"),
		badEnvelope("bad-bitflip-tag", "one bit of the tag flipped", flip(len(good)-1, 0x80), "auth"),
		badEnvelope("bad-bitflip-issued-at", "issued-at is authenticated as associated data", flip(12, 0x01), "auth"),
		badEnvelope("bad-bitflip-nonce", "one bit of the nonce flipped", flip(20, 0x04), "auth"),
		badEnvelope("bad-wrong-cookie-name", "sealed for cookie \"other\", opened as __Host-session",
			sealEnc(k1, 1, "other", envPurp, envIAT, envPayload), "auth"),
		badEnvelope("bad-wrong-purpose", "sealed for purpose \"csrf\", opened for \"session\"",
			sealEnc(k1, 1, envName, "csrf", envIAT, envPayload), "auth"),
		badEnvelope("bad-name-purpose-boundary", "name \"__Host-sessions\" + purpose \"ession\" concatenate like the real pair; the length prefixes keep them apart",
			sealEnc(k1, 1, "__Host-sessions", "ession", envIAT, envPayload), "auth"),
		badEnvelope("bad-unknown-key-id", "sealed under a key the ring does not hold",
			sealEnc(kx, 1, envName, envPurp, envIAT, envPayload), "key-id"),
		badEnvelope("bad-same-kid-other-secret", "key id matches the primary, secret differs",
			sealEnc(k1bad, 1, envName, envPurp, envIAT, envPayload), "auth"),
		badEnvelope("bad-unknown-suite", "suite byte 0x02 is not defined; otherwise a valid envelope",
			sealEnc(k1, 2, envName, envPurp, envIAT, envPayload), "suite"),
		badEnvelope("bad-issued-at-overflow", "authentic, but issued-at is 2^63, beyond a signed Unix time",
			sealEnc(k1, 1, envName, envPurp, 1<<63, envPayload), "time"),
		badEnvelope("bad-truncated-tag", "last byte of the tag removed", b64.EncodeToString(good[:len(good)-1]), "auth"),
		badEnvelope("bad-truncated-header", "only the first 40 bytes, less than the overhead", b64.EncodeToString(good[:40]), "short"),
		badEnvelope("bad-too-large", "authentic, but its plaintext is one byte over the 98304-byte limit: refused before decoding",
			tooLarge, "too-large"),
		badEnvelope("bad-empty", "the empty string", "", "short"),
		badEnvelope("bad-noncanonical-base64", "the spare low bits of the last character are set", string(nonCanon), "encoding"),
		badEnvelope("bad-padded-base64", "padding is not allowed", base64.URLEncoding.EncodeToString(good), "encoding"),
		badEnvelope("bad-std-alphabet", "standard base64 alphabet ('+' and '/') instead of base64url",
			strings.NewReplacer("-", "+", "_", "/").Replace(goodStr), "encoding"),
		badEnvelope("bad-embedded-newline", "Go's decoder would skip the newline; the alphabet check must not",
			goodStr[:20]+"\n"+goodStr[20:], "encoding"),
		badEnvelope("bad-length-mod-4-is-1", "extra characters make a length of 1 mod 4, which no byte string encodes to",
			goodStr+strings.Repeat("A", (5-len(goodStr)%4)%4), "encoding"),

		// Two faults at once: only the order of the opening steps gives
		// the class.
		badEnvelope("bad-too-large-and-bad-character", "131144 characters (over 131143) that also hold a '*': the length is checked first, before any character is scanned",
			tooLargeBad, "too-large"),
		badEnvelope("bad-short-and-bad-character", "20 characters (15 bytes decoded, under 53) with a '*' in place of the sixth: the alphabet is checked before the decoded length",
			shortBad, "encoding"),
		badEnvelope("bad-short-and-unknown-suite", "the first 40 bytes of an envelope with the suite byte 0x02: the length is checked before the suite",
			b64.EncodeToString(shortSuite), "short"),
		badEnvelope("bad-unknown-key-id-and-issued-at-overflow", "sealed under a key the ring does not hold, with issued-at 2^63: the key id is checked before issued-at",
			sealEnc(kx, 1, envName, envPurp, 1<<63, envPayload), "key-id"),
		badEnvelope("bad-issued-at-overflow-and-bitflip-tag", "issued-at 2^63 under the primary key, and one bit of the tag flipped: issued-at is checked before authentication",
			b64.EncodeToString(overflowFlipped), "time"),
		okEnvelope("ok-non-ascii-purpose", "purpose \"ショップ-🛍\": 6 code points, 7 UTF-16 code units, 17 UTF-8 bytes; LP(purpose) and the HKDF info count the UTF-8 bytes",
			k1, envName, nonASCIIPurpose, envIAT, envPayload),
	}
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = v
	}
	return out
}
