// Package envelope is format v1's sealed envelope (SPEC.md, "Envelope"):
//
//	suite (1) || key id (4) || issued-at (8) || nonce (24) || ciphertext || tag (16)
//
// sealed with XChaCha20-Poly1305 under a key derived per purpose, with the
// header and a binding (cookie name and purpose) as associated data. It
// works on contiguous bytes and knows nothing of cookies or base64.
//
// Both directions work in place in one buffer that starts with Room bytes
// of working space, so that the associated data (header || binding) is
// contiguous with no copy of the plaintext or the ciphertext: sealing
// takes the plaintext at buf[Room:], opening the envelope at buf[Room:].
package envelope

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Format v1. SPEC.md is normative; these constants mirror it.
const (
	// Suite fixes XChaCha20-Poly1305 sealing, HKDF-SHA-256 key derivation
	// and a CBOR payload. There is no negotiation: an envelope whose first
	// byte is anything else does not open.
	Suite = 0x01
	// KeyIDSize is the length of the key id carried in every envelope,
	// derived from the configured key id string.
	KeyIDSize = 4
	// NonceSize is XChaCha20-Poly1305's extended nonce.
	NonceSize = 24
	// TagSize is the Poly1305 tag.
	TagSize = 16
	// HeaderSize is suite + key id + issued-at + nonce.
	HeaderSize = 1 + KeyIDSize + 8 + NonceSize
	// Overhead is what sealing adds to a plaintext: header and tag.
	Overhead = HeaderSize + TagSize
	// MaxPlaintext is the largest plaintext the format allows (the session
	// payload's limit).
	MaxPlaintext = 96 << 10
	// MaxSize is the size of the largest envelope.
	MaxSize = MaxPlaintext + Overhead
)

// Failure is why an envelope did not open. Callers outside the package
// show it only in debug log lines; users get one opaque error.
type Failure uint8

const (
	OK       Failure = iota
	Short            // shorter than the fixed overhead, or longer than MaxSize
	BadSuite         // unknown suite byte
	NoKey            // no key in the ring has this key id
	BadTime          // issued-at does not fit a signed 64-bit Unix time
	BadAuth          // authentication failed
)

var failureNames = [...]string{OK: "ok", Short: "short", BadSuite: "suite", NoKey: "key-id", BadTime: "time", BadAuth: "auth"}

func (f Failure) String() string {
	if int(f) < len(failureNames) {
		return failureNames[f]
	}
	return fmt.Sprintf("failure(%d)", uint8(f))
}

// Binding is what an envelope is bound to besides its key: the cookie
// name and the purpose. The purpose also selects the derived key.
type Binding struct {
	purpose string
	// suffix is the associated data after the header: the name and the
	// purpose, each behind a 4-byte big-endian length, so that no
	// (name, purpose) pair can be confused with another.
	suffix []byte
}

// Bind returns the binding for a cookie name and purpose.
func Bind(name, purpose string) (*Binding, error) {
	if uint64(len(name)) > math.MaxUint32 || uint64(len(purpose)) > math.MaxUint32 {
		return nil, errors.New("sealed: cookie name or purpose longer than 2^32-1 bytes")
	}
	b := make([]byte, 0, 8+len(name)+len(purpose))
	b = binary.BigEndian.AppendUint32(b, uint32(len(name)))
	b = append(b, name...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(purpose)))
	b = append(b, purpose...)
	return &Binding{purpose: purpose, suffix: b}, nil
}

// Room is the working space a buffer needs in front of the plaintext (to
// seal) or of the envelope (to open).
func (b *Binding) Room() int { return HeaderSize + len(b.suffix) }

// Seal seals the plaintext at buf[b.Room():b.Room()+ptLen] under key, with
// a nonce from crypto/rand, and returns the envelope, which lies within
// buf; len(buf) must be at least b.Room()+ptLen+TagSize.
func (b *Binding) Seal(buf []byte, key *Key, issuedAt uint64, ptLen int) []byte {
	var nonce [NonceSize]byte
	rand.Read(nonce[:]) // never fails since Go 1.24; it crashes the program instead
	return b.seal(buf, key, issuedAt, &nonce, ptLen)
}

// seal is Seal with the nonce given, so that the golden vector tests can
// fix it. While sealing, buf starts with header || suffix so that the
// associated data is contiguous and the ciphertext replaces the plaintext
// in place; then the header is copied over the end of the suffix, right
// before the ciphertext.
func (b *Binding) seal(buf []byte, key *Key, issuedAt uint64, nonce *[NonceSize]byte, ptLen int) []byte {
	s := len(b.suffix)
	pre := HeaderSize + s
	buf[0] = Suite
	copy(buf[1:], key.kid[:])
	binary.BigEndian.PutUint64(buf[1+KeyIDSize:], issuedAt)
	copy(buf[1+KeyIDSize+8:], nonce[:])
	copy(buf[HeaderSize:], b.suffix)
	pt := buf[pre : pre+ptLen]
	ct := key.aead(b.purpose).Seal(pt[:0], nonce[:], pt, buf[:pre])
	copy(buf[s:s+HeaderSize], buf[:HeaderSize])
	return buf[s : pre+len(ct)]
}

// Opened describes how an envelope was opened.
type Opened struct {
	// Key is the key that opened it.
	Key *Key
	// Primary reports whether Key is the ring's primary key.
	Primary bool
	// IssuedAt is the authenticated Unix time it was sealed, to the second.
	IssuedAt int64
}

// Open authenticates and decrypts the envelope at buf[b.Room():], choosing
// the key by the envelope's key id, never by trying keys. It decrypts in
// place: the plaintext points into buf.
func (b *Binding) Open(ring Ring, buf []byte) ([]byte, Opened, Failure) {
	pre := b.Room()
	if len(buf) < pre {
		return nil, Opened{}, Short
	}
	env := buf[pre:]
	if len(env) < Overhead || len(env) > MaxSize {
		return nil, Opened{}, Short
	}
	if env[0] != Suite {
		return nil, Opened{}, BadSuite
	}
	key := ring.byKeyID(env[1 : 1+KeyIDSize])
	if key == nil {
		return nil, Opened{}, NoKey
	}
	iat := binary.BigEndian.Uint64(env[1+KeyIDSize:])
	if iat > math.MaxInt64 {
		return nil, Opened{}, BadTime
	}
	copy(buf, env[:HeaderSize])
	copy(buf[HeaderSize:], b.suffix)
	nonce := env[1+KeyIDSize+8 : HeaderSize]
	ct := env[HeaderSize:]
	pt, err := key.aead(b.purpose).Open(ct[:0], nonce, ct, buf[:pre])
	if err != nil {
		return nil, Opened{}, BadAuth
	}
	return pt, Opened{Key: key, Primary: key == ring[0], IssuedAt: int64(iat)}, OK
}
