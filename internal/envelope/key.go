package envelope

import (
	"bytes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"golang.org/x/crypto/chacha20poly1305"
)

// SecretSize is the required length of every configured secret.
const SecretSize = 32

// Labels that bind derived values to this library and format version. They
// are part of the format: changing one changes every key id and sealing key.
const (
	keyIDLabel   = "github.com/sealedgo/sealed v1 key id "
	sealKeyLabel = "github.com/sealedgo/sealed v1 xchacha20poly1305 purpose "
)

// maxCachedPurposes bounds the per-key cache of derived ciphers. Real
// applications use a handful of constant purposes; a caller passing
// arbitrary ones (a fuzzer, say) gets correct results without the cache
// growing without bound.
const maxCachedPurposes = 64

// Key is one configured secret, its id and the key id derived from it.
type Key struct {
	id     string
	kid    [KeyIDSize]byte
	secret [SecretSize]byte

	mu      sync.Mutex                             // serialises writers of derived
	derived atomic.Pointer[map[string]cipher.AEAD] // purpose → cipher; copy-on-write
}

// ID is the configured key id.
func (k *Key) ID() string { return k.id }

// KeyID derives the key id an envelope carries from a configured id.
func KeyID(id string) (kid [KeyIDSize]byte) {
	h := sha256.Sum256([]byte(keyIDLabel + id))
	copy(kid[:], h[:KeyIDSize])
	return kid
}

// Ring is an ordered set of keys: the first seals, all open.
type Ring []*Key

// NewRing validates keys, given as ids and secrets, and returns them as a
// ring. It rejects an empty ring, an empty id, a secret that is not exactly
// SecretSize bytes or is all zeros, a duplicate id, and two ids whose key
// ids collide; each error names the key. Secrets are copied.
func NewRing(ids []string, secrets [][]byte) (Ring, error) {
	if len(ids) == 0 {
		return nil, errors.New("sealed: keyring: no keys")
	}
	r := make(Ring, 0, len(ids))
	for i, id := range ids {
		secret := secrets[i]
		if id == "" {
			return nil, fmt.Errorf("sealed: keyring: key %d: empty id", i)
		}
		if len(secret) != SecretSize {
			return nil, fmt.Errorf("sealed: keyring: key %q: secret is %d bytes, want %d", id, len(secret), SecretSize)
		}
		if subtle.ConstantTimeCompare(secret, make([]byte, SecretSize)) == 1 {
			return nil, fmt.Errorf("sealed: keyring: key %q: secret is all zeros", id)
		}
		k := &Key{id: id, kid: KeyID(id)}
		copy(k.secret[:], secret)
		for _, prev := range r {
			if prev.id == k.id {
				return nil, fmt.Errorf("sealed: keyring: duplicate key id %q", id)
			}
			if prev.kid == k.kid {
				return nil, fmt.Errorf("sealed: keyring: key ids %q and %q derive the same %d-byte key id; rename one", prev.id, id, KeyIDSize)
			}
		}
		r = append(r, k)
	}
	return r, nil
}

// byKeyID picks the key for an envelope by its key id. Rings are small (a
// primary and a few retiring keys), so a scan beats a map. The key id is
// not secret, so an ordinary comparison is fine.
func (r Ring) byKeyID(kid []byte) *Key {
	for _, k := range r {
		if bytes.Equal(k.kid[:], kid) {
			return k
		}
	}
	return nil
}

// aead returns the cipher for purpose, derived once per key and purpose:
//
//	sealKey = HKDF-SHA-256(secret, salt = empty, info = sealKeyLabel || purpose, 32)
//
// so one configured secret serves several purposes without key reuse.
func (k *Key) aead(purpose string) cipher.AEAD {
	if m := k.derived.Load(); m != nil {
		if a, ok := (*m)[purpose]; ok {
			return a
		}
	}
	a := k.derive(purpose)
	k.mu.Lock()
	defer k.mu.Unlock()
	old := k.derived.Load()
	if old != nil && len(*old) >= maxCachedPurposes {
		return a
	}
	m := make(map[string]cipher.AEAD, 1)
	if old != nil {
		for p, c := range *old {
			m[p] = c
		}
	}
	m[purpose] = a
	k.derived.Store(&m)
	return a
}

func (k *Key) derive(purpose string) cipher.AEAD {
	a, err := chacha20poly1305.NewX(k.sealKey(purpose))
	if err != nil {
		panic("sealed: chacha20poly1305: " + err.Error()) // only for a wrong key length
	}
	return a
}

// sealKey is the key the cipher for purpose is made of.
func (k *Key) sealKey(purpose string) []byte {
	key, err := hkdf.Key(sha256.New, k.secret[:], nil, sealKeyLabel+purpose, chacha20poly1305.KeySize)
	if err != nil {
		panic("sealed: hkdf: " + err.Error()) // only for a length beyond 255*32 bytes
	}
	return key
}
