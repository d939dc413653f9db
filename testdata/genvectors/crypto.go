package main

import (
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"

	"golang.org/x/crypto/chacha20poly1305"
)

// The labels of SPEC.md, "Key ids" and "Key derivation"; each ends with a
// space.
const (
	keyIDLabel   = "github.com/sealedgo/sealed v1 key id "
	sealKeyLabel = "github.com/sealedgo/sealed v1 xchacha20poly1305 purpose "
)

// key is a keyring entry as the kit writes it.
type key struct {
	KID    string `json:"kid"`
	Secret string `json:"secret_hex"`
}

// The keys of the kit. k1 is the primary and k0 the retired key of every
// ring; kx is not in any ring; k1bad has k1's id and another secret.
var (
	k1    = key{KID: "2026-11-primary", Secret: repeatHex("0123456789abcdef", 4)}
	k0    = key{KID: "2026-05-retired", Secret: repeatHex("fedcba9876543210", 4)}
	kx    = key{KID: "not-in-the-ring", Secret: repeatHex("a5", 32)}
	k1bad = key{KID: "2026-11-primary", Secret: repeatHex("5a", 32)}
	ring  = []key{k1, k0}
)

var b64 = base64.RawURLEncoding

func repeatHex(s string, n int) string {
	out := ""
	for range n {
		out += s
	}
	return out
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func hexOf(b []byte) string { return hex.EncodeToString(b) }

// kid4 is SPEC.md's kid4(id).
func kid4(id string) []byte {
	h := sha256.Sum256([]byte(keyIDLabel + id))
	return h[:4]
}

// sealingKey derives the AEAD key of a secret for a purpose: HKDF-SHA-256
// with an empty salt.
func sealingKey(secret []byte, purpose string) []byte {
	sk, err := hkdf.Key(sha256.New, secret, nil, sealKeyLabel+purpose, 32)
	if err != nil {
		panic(err)
	}
	return sk
}

func lp(s string) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(s))), s...)
}

// sealed is one envelope and the intermediate values that made it.
type sealed struct {
	env, key, ad []byte
}

// seal follows SPEC.md, "Sealing", with the nonce and issued-at given,
// and any suite byte (for the vector that needs an unknown one).
func seal(k key, suite byte, cookieName, purpose string, iat uint64, nonce, pt []byte) sealed {
	sk := sealingKey(mustHex(k.Secret), purpose)
	aead, err := chacha20poly1305.NewX(sk)
	if err != nil {
		panic(err)
	}
	hdr := []byte{suite}
	hdr = append(hdr, kid4(k.KID)...)
	hdr = binary.BigEndian.AppendUint64(hdr, iat)
	hdr = append(hdr, nonce...)
	ad := append(append(append([]byte{}, hdr...), lp(cookieName)...), lp(purpose)...)
	return sealed{env: aead.Seal(hdr, nonce, pt, ad), key: sk, ad: ad}
}

// derived is a fixed, named pseudo-random byte string: session IDs and
// nonces of the vectors that are not pinned to older values.
func derived(label string, n int) []byte {
	var out []byte
	for i := 0; len(out) < n; i++ {
		h := sha256.Sum256(fmt.Appendf(nil, "%s#%d", label, i))
		out = append(out, h[:]...)
	}
	return out[:n]
}
