//go:build ignore

// genvectors writes the golden vectors in testdata/vectors/. It is a second,
// deliberately independent implementation of the envelope in SPEC.md: it
// does not import the sealed package, only the primitives SPEC.md names, so
// the vector test checks the library against the specification rather than
// against itself. Keys, nonces and clocks are fixed so the output is stable.
// The tests that read the vectors are in internal/envelope (opening and
// sealing) and internal/cookie (the encoding failures). Run it from the
// repository root:
//
//	go run testdata/genvectors.go
package main

import (
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/chacha20poly1305"
)

const (
	keyIDLabel   = "github.com/sealedgo/sealed v1 key id "
	sealKeyLabel = "github.com/sealedgo/sealed v1 xchacha20poly1305 purpose "
)

type key struct {
	KID    string `json:"kid"`
	Secret string `json:"secret_hex"`
}

type vector struct {
	Name       string `json:"name"`
	Comment    string `json:"comment"`
	Keys       []key  `json:"keys"`
	CookieName string `json:"cookie_name"`
	Purpose    string `json:"purpose"`
	Sealed     string `json:"sealed"`
	Expect     string `json:"expect"` // "ok" or "invalid"
	Failure    string `json:"failure,omitempty"`
	// For "ok" vectors: what opening yields, and what sealing reproduces.
	OpenedBy  string `json:"opened_by,omitempty"`
	IssuedAt  uint64 `json:"issued_at,omitempty"`
	NonceHex  string `json:"nonce_hex,omitempty"`
	Plaintext string `json:"plaintext_hex,omitempty"`
}

var (
	k1 = key{KID: "2026-11-primary", Secret: strings.Repeat("0123456789abcdef", 4)}
	k0 = key{KID: "2026-05-retired", Secret: strings.Repeat("fedcba9876543210", 4)}
	kx = key{KID: "not-in-the-ring", Secret: strings.Repeat("a5", 32)}
	// same kid as k1, other secret: the key id matches, authentication fails.
	k1bad = key{KID: "2026-11-primary", Secret: strings.Repeat("5a", 32)}

	ring  = []key{k1, k0}
	nonce = mustHex("000102030405060708090a0b0c0d0e0f1011121314151617")
	iat   = uint64(1795392000) // 2026-11-23T00:00:00Z
	name  = "__Host-session"
	purp  = "session"
	// A small deterministic-CBOR payload: {"n": 1, "user": "adam"} (14 bytes,
	// so the envelope length leaves spare bits for the non-canonical vector).
	payload = mustHex("a2616e016475736572646164616d")
)

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func kidOf(id string) []byte {
	h := sha256.Sum256([]byte(keyIDLabel + id))
	return h[:4]
}

func lp(s string) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(s))), s...)
}

// sealRaw follows SPEC.md section "Envelope" step by step.
func sealRaw(k key, suite byte, cookieName, purpose string, issuedAt uint64, pt []byte) []byte {
	sk, err := hkdf.Key(sha256.New, mustHex(k.Secret), nil, sealKeyLabel+purpose, 32)
	if err != nil {
		panic(err)
	}
	aead, err := chacha20poly1305.NewX(sk)
	if err != nil {
		panic(err)
	}
	hdr := []byte{suite}
	hdr = append(hdr, kidOf(k.KID)...)
	hdr = binary.BigEndian.AppendUint64(hdr, issuedAt)
	hdr = append(hdr, nonce...)
	ad := append(append(append([]byte{}, hdr...), lp(cookieName)...), lp(purpose)...)
	return aead.Seal(hdr, nonce, pt, ad)
}

var enc = base64.RawURLEncoding

func main() {
	good := sealRaw(k1, 1, name, purp, iat, payload)
	flip := func(i int, bit byte) string {
		b := append([]byte{}, good...)
		b[i] ^= bit
		return enc.EncodeToString(b)
	}
	goodStr := enc.EncodeToString(good)
	// A value whose length leaves 2 spare bits in the last character: set them.
	nonCanon := func() string {
		s := []byte(goodStr)
		if len(good)%3 == 0 {
			panic("payload length leaves no spare bits; change the payload")
		}
		const alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
		last := strings.IndexByte(alpha, s[len(s)-1])
		s[len(s)-1] = alpha[last|1]
		return string(s)
	}()

	vs := []vector{
		{Name: "ok-primary", Comment: "sealed and opened under the primary key",
			Sealed: goodStr, Expect: "ok", OpenedBy: k1.KID, IssuedAt: iat, NonceHex: hex.EncodeToString(nonce), Plaintext: hex.EncodeToString(payload)},
		{Name: "ok-retired-key", Comment: "sealed under a key that is no longer primary; it still opens",
			Sealed: enc.EncodeToString(sealRaw(k0, 1, name, purp, iat, payload)), Expect: "ok", OpenedBy: k0.KID, IssuedAt: iat, NonceHex: hex.EncodeToString(nonce), Plaintext: hex.EncodeToString(payload)},
		{Name: "ok-empty-plaintext", Comment: "an empty plaintext gives exactly the 53-byte overhead",
			Sealed: enc.EncodeToString(sealRaw(k1, 1, name, purp, iat, nil)), Expect: "ok", OpenedBy: k1.KID, IssuedAt: iat, NonceHex: hex.EncodeToString(nonce), Plaintext: ""},
		{Name: "ok-other-purpose", Comment: "the same key under another purpose and cookie name",
			CookieName: "csrf", Purpose: "csrf-token",
			Sealed: enc.EncodeToString(sealRaw(k1, 1, "csrf", "csrf-token", 1, payload)), Expect: "ok", OpenedBy: k1.KID, IssuedAt: 1, NonceHex: hex.EncodeToString(nonce), Plaintext: hex.EncodeToString(payload)},

		{Name: "bad-bitflip-ciphertext", Comment: "one bit of the ciphertext flipped", Sealed: flip(37, 0x01), Expect: "invalid", Failure: "auth"},
		{Name: "bad-bitflip-tag", Comment: "one bit of the tag flipped", Sealed: flip(len(good)-1, 0x80), Expect: "invalid", Failure: "auth"},
		{Name: "bad-bitflip-issued-at", Comment: "issued-at is authenticated as associated data", Sealed: flip(12, 0x01), Expect: "invalid", Failure: "auth"},
		{Name: "bad-bitflip-nonce", Comment: "one bit of the nonce flipped", Sealed: flip(20, 0x04), Expect: "invalid", Failure: "auth"},
		{Name: "bad-wrong-cookie-name", Comment: "sealed for cookie \"other\", opened as __Host-session",
			Sealed: enc.EncodeToString(sealRaw(k1, 1, "other", purp, iat, payload)), Expect: "invalid", Failure: "auth"},
		{Name: "bad-wrong-purpose", Comment: "sealed for purpose \"csrf\", opened for \"session\"",
			Sealed: enc.EncodeToString(sealRaw(k1, 1, name, "csrf", iat, payload)), Expect: "invalid", Failure: "auth"},
		{Name: "bad-name-purpose-boundary", Comment: "name \"__Host-sessions\" + purpose \"ession\" concatenate like the real pair; the length prefixes keep them apart",
			Sealed: enc.EncodeToString(sealRaw(k1, 1, "__Host-sessions", "ession", iat, payload)), Expect: "invalid", Failure: "auth"},
		{Name: "bad-unknown-key-id", Comment: "sealed under a key the ring does not hold",
			Sealed: enc.EncodeToString(sealRaw(kx, 1, name, purp, iat, payload)), Expect: "invalid", Failure: "key-id"},
		{Name: "bad-same-kid-other-secret", Comment: "key id matches the primary, secret differs",
			Sealed: enc.EncodeToString(sealRaw(k1bad, 1, name, purp, iat, payload)), Expect: "invalid", Failure: "auth"},
		{Name: "bad-unknown-suite", Comment: "suite byte 0x02 is not defined; otherwise a valid envelope",
			Sealed: enc.EncodeToString(sealRaw(k1, 2, name, purp, iat, payload)), Expect: "invalid", Failure: "suite"},
		{Name: "bad-issued-at-overflow", Comment: "authentic, but issued-at is 2^63, beyond a signed Unix time",
			Sealed: enc.EncodeToString(sealRaw(k1, 1, name, purp, 1<<63, payload)), Expect: "invalid", Failure: "time"},
		{Name: "bad-truncated-tag", Comment: "last byte of the tag removed", Sealed: enc.EncodeToString(good[:len(good)-1]), Expect: "invalid", Failure: "auth"},
		{Name: "bad-truncated-header", Comment: "only the first 40 bytes, less than the overhead", Sealed: enc.EncodeToString(good[:40]), Expect: "invalid", Failure: "short"},
		{Name: "bad-too-large", Comment: "authentic, but its plaintext is one byte over the 98304-byte limit: refused before decoding",
			Sealed: enc.EncodeToString(sealRaw(k1, 1, name, purp, iat, make([]byte, 98304+1))), Expect: "invalid", Failure: "too-large"},
		{Name: "bad-empty", Comment: "the empty string", Sealed: "", Expect: "invalid", Failure: "short"},
		{Name: "bad-noncanonical-base64", Comment: "the spare low bits of the last character are set", Sealed: nonCanon, Expect: "invalid", Failure: "encoding"},
		{Name: "bad-padded-base64", Comment: "padding is not allowed", Sealed: base64.URLEncoding.EncodeToString(good), Expect: "invalid", Failure: "encoding"},
		{Name: "bad-std-alphabet", Comment: "standard base64 alphabet ('+' and '/') instead of base64url", Sealed: strings.NewReplacer("-", "+", "_", "/").Replace(goodStr) + func() string {
			if !strings.ContainsAny(goodStr, "-_") {
				panic("vector has no - or _; change the payload")
			}
			return ""
		}(), Expect: "invalid", Failure: "encoding"},
		{Name: "bad-embedded-newline", Comment: "Go's decoder would skip the newline; the alphabet check must not", Sealed: goodStr[:20] + "\n" + goodStr[20:], Expect: "invalid", Failure: "encoding"},
		{Name: "bad-length-mod-4-is-1", Comment: "extra characters make a length of 1 mod 4, which no byte string encodes to", Sealed: goodStr + strings.Repeat("A", (5-len(goodStr)%4)%4), Expect: "invalid", Failure: "encoding"},
	}

	dir := filepath.Join("testdata", "vectors")
	if err := os.RemoveAll(dir); err != nil {
		log.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		log.Fatal(err)
	}
	for i, v := range vs {
		v.Keys = ring
		if v.CookieName == "" {
			v.CookieName = name
		}
		if v.Purpose == "" {
			v.Purpose = purp
		}
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			log.Fatal(err)
		}
		p := filepath.Join(dir, fmt.Sprintf("%02d-%s.json", i+1, v.Name))
		if err := os.WriteFile(p, append(b, '\n'), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Printf("wrote %d vectors to %s\n", len(vs), dir)
}
