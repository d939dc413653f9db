package sealed

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
	"unsafe"
)

// Envelope format version 1. SPEC.md is normative; these constants mirror it.
const (
	// suiteV1 fixes XChaCha20-Poly1305 sealing, HKDF-SHA-256 key derivation
	// and a CBOR payload. There is no negotiation: an envelope whose first
	// byte is anything else does not open.
	suiteV1 = 0x01

	// KeyIDSize is the length of the key id carried in every envelope. It is
	// derived from the configured key id string (see SPEC.md), fixed in size
	// so that parsing needs no length field.
	KeyIDSize = 4

	nonceSize = 24 // XChaCha20-Poly1305 extended nonce
	tagSize   = 16 // Poly1305 tag

	// headerSize is suite (1) + key id (4) + issued-at (8) + nonce (24).
	headerSize = 1 + KeyIDSize + 8 + nonceSize

	// Overhead is how many bytes sealing adds to a plaintext before base64:
	// the 37-byte header and the 16-byte tag.
	Overhead = headerSize + tagSize
)

// maxSealedLen is the length of the longest sealed value: a plaintext of
// MaxPayloadBytes (the format's limit, shared with the session payload)
// plus the overhead, in base64.
var maxSealedLen = b64EncodedLen(MaxPayloadBytes + Overhead)

// ErrInvalid is the one error returned for every sealed value that does not
// open: bad base64, unknown suite, unknown key id, short input, a time out of
// range or failed authentication. The reason is deliberately not exposed;
// telling an attacker which check failed only helps the attacker.
var ErrInvalid = errors.New("sealed: invalid sealed value")

// failure is the reason an envelope did not open. Only this package (its
// tests and its debug log lines) sees it; callers get ErrInvalid.
type failure uint8

const (
	openOK       failure = iota
	failEncoding         // not strict unpadded base64url
	failShort            // shorter than the fixed overhead
	failSuite            // unknown suite byte
	failKeyID            // no key in the ring has this key id
	failTime             // issued-at does not fit a signed 64-bit Unix time
	failAuth             // authentication failed
	failTooLarge         // longer than the largest envelope the format allows, checked before decoding
)

var failureNames = [...]string{
	openOK:       "ok",
	failEncoding: "encoding",
	failShort:    "short",
	failSuite:    "suite",
	failKeyID:    "key-id",
	failTime:     "time",
	failAuth:     "auth",
	failTooLarge: "too-large",
}

func (f failure) String() string {
	if int(f) < len(failureNames) {
		return failureNames[f]
	}
	return fmt.Sprintf("failure(%d)", uint8(f))
}

// b64 is encoding/base64's form of the one encoding of a sealed value:
// base64url without padding, strict, so that trailing bits must be zero.
// The tests check decodeB64 and encodeB64 (b64.go), which the package
// uses, against it.
var b64 = base64.RawURLEncoding.Strict()

// b64EncodedLen is the length of the unpadded encoding of n bytes.
func b64EncodedLen(n int) int { return (n*8 + 5) / 6 }

// b64DecodedLen is the length of the bytes that n characters decode to.
func b64DecodedLen(n int) int { return n * 6 / 8 }

// Opened describes how a sealed value was opened.
type Opened struct {
	// KeyID is the configured id of the key that opened the value.
	KeyID string
	// Primary reports whether that key is the ring's primary key. A value
	// opened under an older key should be sealed again under the primary,
	// which the session layer does on its own.
	Primary bool
	// IssuedAt is the authenticated time the value was sealed, to the second.
	IssuedAt time.Time
}

// adSuffix is the part of the associated data that follows the header: the
// cookie name and the purpose, each behind a 4-byte big-endian length, so
// that no (name, purpose) pair can be confused with another.
func adSuffix(name, purpose string) []byte {
	b := make([]byte, 0, 8+len(name)+len(purpose))
	b = binary.BigEndian.AppendUint32(b, uint32(len(name)))
	b = append(b, name...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(purpose)))
	return append(b, purpose...)
}

func checkADInputs(name, purpose string) error {
	if uint64(len(name)) > math.MaxUint32 || uint64(len(purpose)) > math.MaxUint32 {
		return errors.New("sealed: cookie name or purpose longer than 2^32-1 bytes")
	}
	return nil
}

// Seal encrypts plaintext under the ring's primary key and returns the sealed
// value as unpadded base64url. The value opens only with the same cookie name
// and purpose. issuedAt is stored, authenticated, to the second; the session
// layer uses it for idle expiry. The nonce is always drawn from crypto/rand.
func (k *Keyring) Seal(name, purpose string, issuedAt time.Time, plaintext []byte) (string, error) {
	if err := checkADInputs(name, purpose); err != nil {
		return "", err
	}
	if issuedAt.Unix() < 0 {
		return "", errors.New("sealed: issuedAt is before 1970")
	}
	if len(plaintext) > MaxPayloadBytes {
		return "", fmt.Errorf("sealed: plaintext is %d bytes, the format allows at most %d", len(plaintext), MaxPayloadBytes)
	}
	return k.seal(adSuffix(name, purpose), purpose, uint64(issuedAt.Unix()), plaintext), nil
}

// seal seals under the primary key with a fresh nonce from crypto/rand.
// The string shares the bytes appendSealed just allocated, which nothing
// else refers to or writes, rather than copying a value of up to 128 KiB.
func (k *Keyring) seal(suffix []byte, purpose string, issuedAt uint64, plaintext []byte) string {
	var nonce [nonceSize]byte
	rand.Read(nonce[:]) // never fails since Go 1.24; it crashes the program instead
	b := k.appendSealed(nil, k.keys[0], purpose, suffix, issuedAt, &nonce, plaintext)
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// appendSealed seals plaintext with key and appends the base64url form to
// dst. It takes the nonce as an argument only so that the golden vector tests
// can fix it; every production caller passes fresh crypto/rand bytes.
func (k *Keyring) appendSealed(dst []byte, key *ringKey, purpose string, suffix []byte, issuedAt uint64, nonce *[nonceSize]byte, plaintext []byte) []byte {
	pre := headerSize + len(suffix)
	buf := make([]byte, pre+len(plaintext)+tagSize)
	copy(buf[pre:], plaintext)
	env := sealInPlace(buf, key, purpose, suffix, issuedAt, nonce, len(plaintext))
	n, l := len(dst), b64EncodedLen(len(env))
	dst = slices.Grow(dst, l)[:n+l]
	encodeB64(dst[n:], env)
	return dst
}

// sealInPlace seals the plaintext at buf[pre:pre+ptLen], where pre is
// headerSize+len(suffix), and returns the envelope header || ciphertext ||
// tag, which lies within buf (len(buf) must be at least pre+ptLen+tagSize).
// While sealing, buf starts with header || suffix so that the associated
// data is contiguous and the ciphertext replaces the plaintext in place;
// afterwards the header is copied over the end of the suffix, right before
// the ciphertext. Saving a session builds its payload at buf[pre:] and so
// copies the plaintext nowhere.
func sealInPlace(buf []byte, key *ringKey, purpose string, suffix []byte, issuedAt uint64, nonce *[nonceSize]byte, ptLen int) []byte {
	s := len(suffix)
	pre := headerSize + s
	buf[0] = suiteV1
	copy(buf[1:], key.kid[:])
	binary.BigEndian.PutUint64(buf[1+KeyIDSize:], issuedAt)
	copy(buf[1+KeyIDSize+8:], nonce[:])
	copy(buf[headerSize:], suffix)
	pt := buf[pre : pre+ptLen]
	ct := key.aead(purpose).Seal(pt[:0], nonce[:], pt, buf[:pre])
	copy(buf[s:s+headerSize], buf[:headerSize])
	return buf[s : pre+len(ct)]
}

// Open authenticates and decrypts a sealed value made by Seal with the same
// cookie name and purpose, choosing the key by the envelope's key id. Every
// failure returns ErrInvalid.
func (k *Keyring) Open(name, purpose, sealed string) ([]byte, Opened, error) {
	if checkADInputs(name, purpose) != nil {
		return nil, Opened{}, ErrInvalid
	}
	pt, info, f := k.open([]string{sealed}, purpose, adSuffix(name, purpose), nil)
	if f != openOK {
		return nil, Opened{}, ErrInvalid
	}
	return pt, info, nil
}

// openBufLen is the length of the buffer open needs for pieces: a copy of
// the header, the suffix and the decoded envelope. It is -1 when the pieces
// are longer than the longest sealed value, which open refuses unread.
func openBufLen(pieces []string, suffixLen int) int {
	encLen := 0
	for _, p := range pieces {
		encLen += len(p)
	}
	if encLen > maxSealedLen {
		return -1
	}
	return headerSize + suffixLen + b64DecodedLen(encLen)
}

// open decodes the concatenation of pieces (each piece but the last a whole
// number of base64 quanta, which the chunk layer guarantees) and opens it.
// It works in buf, allocating one when buf is shorter than openBufLen: a
// copy of the header, the suffix and the decoded envelope, so that the
// associated data is contiguous and decryption happens in place. The
// plaintext it returns points into that buffer.
func (k *Keyring) open(pieces []string, purpose string, suffix []byte, buf []byte) ([]byte, Opened, failure) {
	encLen := 0
	for _, p := range pieces {
		encLen += len(p)
	}
	// The cap comes first: nothing longer than the largest envelope the
	// format allows is scanned, decoded or decrypted.
	if encLen > maxSealedLen {
		return nil, Opened{}, failTooLarge
	}
	for i, p := range pieces {
		if i < len(pieces)-1 && len(p)%4 != 0 {
			return nil, Opened{}, failEncoding
		}
	}
	if encLen%4 == 1 {
		return nil, Opened{}, failEncoding
	}
	decLen := b64DecodedLen(encLen)
	pre := headerSize + len(suffix)
	if len(buf) < pre+decLen {
		buf = make([]byte, pre+decLen)
	}
	n := pre
	for _, p := range pieces {
		m, ok := decodeB64(buf[n:], p)
		if !ok {
			return nil, Opened{}, failEncoding
		}
		n += m
	}
	env := buf[pre:n]
	if len(env) < Overhead {
		return nil, Opened{}, failShort
	}
	if env[0] != suiteV1 {
		return nil, Opened{}, failSuite
	}
	key := k.byKeyID(env[1 : 1+KeyIDSize])
	if key == nil {
		return nil, Opened{}, failKeyID
	}
	iat := binary.BigEndian.Uint64(env[1+KeyIDSize:])
	if iat > math.MaxInt64 {
		return nil, Opened{}, failTime
	}
	copy(buf, env[:headerSize])
	copy(buf[headerSize:], suffix)
	nonce := env[1+KeyIDSize+8 : headerSize]
	ct := env[headerSize:]
	pt, err := key.aead(purpose).Open(ct[:0], nonce, ct, buf[:pre])
	if err != nil {
		return nil, Opened{}, failAuth
	}
	return pt, Opened{KeyID: key.id, Primary: key == k.keys[0], IssuedAt: time.Unix(int64(iat), 0)}, openOK
}
