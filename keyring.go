package sealed

import (
	"bytes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"github.com/go-jose/go-jose/v4"
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

// Key is one configured secret and its id. The id is public (its 4-byte
// derivation travels in every envelope); the secret is not and is never
// logged or printed by this package.
type Key struct {
	ID     string
	Secret []byte
}

// GenerateKey returns a key with the given id and a fresh 32-byte secret
// from crypto/rand.
func GenerateKey(id string) Key {
	secret := make([]byte, SecretSize)
	rand.Read(secret)
	return Key{ID: id, Secret: secret}
}

// Keyring is an immutable, ordered set of keys. The first key is the
// primary: it seals. Every key opens. Rotate by building a new Keyring with
// the new key first and the old ones after it (see RotatingKeyring).
//
// A Keyring is safe for concurrent use.
type Keyring struct {
	keys []*ringKey
}

type ringKey struct {
	id     string
	kid    [KeyIDSize]byte
	secret [SecretSize]byte

	mu      sync.Mutex                             // serialises writers of derived
	derived atomic.Pointer[map[string]cipher.AEAD] // purpose → cipher; copy-on-write
}

// keyIDOf derives the 4-byte key id carried in envelopes from a configured
// key id string.
func keyIDOf(id string) (kid [KeyIDSize]byte) {
	h := sha256.Sum256([]byte(keyIDLabel + id))
	copy(kid[:], h[:KeyIDSize])
	return kid
}

// NewKeyring validates keys and returns a ring whose first key is the
// primary. It rejects an empty ring, an empty id, a secret that is not
// exactly 32 bytes or is all zeros, a duplicate id, and two ids whose 4-byte
// key ids collide; each error names the key. Secrets are copied.
func NewKeyring(keys ...Key) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("sealed: keyring: no keys")
	}
	r := &Keyring{keys: make([]*ringKey, 0, len(keys))}
	for i, k := range keys {
		if k.ID == "" {
			return nil, fmt.Errorf("sealed: keyring: key %d: empty id", i)
		}
		if len(k.Secret) != SecretSize {
			return nil, fmt.Errorf("sealed: keyring: key %q: secret is %d bytes, want %d", k.ID, len(k.Secret), SecretSize)
		}
		if subtle.ConstantTimeCompare(k.Secret, make([]byte, SecretSize)) == 1 {
			return nil, fmt.Errorf("sealed: keyring: key %q: secret is all zeros", k.ID)
		}
		rk := &ringKey{id: k.ID, kid: keyIDOf(k.ID)}
		copy(rk.secret[:], k.Secret)
		for _, prev := range r.keys {
			if prev.id == rk.id {
				return nil, fmt.Errorf("sealed: keyring: duplicate key id %q", k.ID)
			}
			if prev.kid == rk.kid {
				return nil, fmt.Errorf("sealed: keyring: key ids %q and %q derive the same %d-byte key id; rename one", prev.id, k.ID, KeyIDSize)
			}
		}
		r.keys = append(r.keys, rk)
	}
	return r, nil
}

// Current returns k itself, so that a fixed *Keyring is a KeySource.
func (k *Keyring) Current() *Keyring { return k }

// IDs returns the configured key ids, primary first.
func (k *Keyring) IDs() []string {
	ids := make([]string, len(k.keys))
	for i, rk := range k.keys {
		ids[i] = rk.id
	}
	return ids
}

// byKeyID picks the key for an envelope by its key id. Rings are small (a
// primary and a few retiring keys), so a scan beats a map. The key id is not
// secret, so an ordinary comparison is fine.
func (k *Keyring) byKeyID(kid []byte) *ringKey {
	for _, rk := range k.keys {
		if bytes.Equal(rk.kid[:], kid) {
			return rk
		}
	}
	return nil
}

// aead returns the cipher for purpose, derived once per key and purpose:
//
//	sealKey = HKDF-SHA-256(secret, salt = empty, info = sealKeyLabel || purpose, 32)
//
// so one configured secret serves several purposes without key reuse.
func (rk *ringKey) aead(purpose string) cipher.AEAD {
	if m := rk.derived.Load(); m != nil {
		if a, ok := (*m)[purpose]; ok {
			return a
		}
	}
	a := rk.derive(purpose)
	rk.mu.Lock()
	defer rk.mu.Unlock()
	old := rk.derived.Load()
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
	rk.derived.Store(&m)
	return a
}

func (rk *ringKey) derive(purpose string) cipher.AEAD {
	key, err := hkdf.Key(sha256.New, rk.secret[:], nil, sealKeyLabel+purpose, chacha20poly1305.KeySize)
	if err != nil {
		panic("sealed: hkdf: " + err.Error()) // only for a length beyond 255*32 bytes
	}
	a, err := chacha20poly1305.NewX(key)
	if err != nil {
		panic("sealed: chacha20poly1305: " + err.Error()) // only for a wrong key length
	}
	return a
}

// ParseJWKSet reads a JWK Set of symmetric ("oct") keys, each with a "kid",
// in order: the first is the primary. go-jose accepts keys of any length and
// repeated kids, so every key is validated here as NewKeyring does, and any
// other key type is an error.
func ParseJWKSet(data []byte) ([]Key, error) {
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("sealed: JWK Set: %w", err)
	}
	if len(set.Keys) == 0 {
		return nil, errors.New("sealed: JWK Set: no keys")
	}
	keys := make([]Key, 0, len(set.Keys))
	for i, jwk := range set.Keys {
		secret, ok := jwk.Key.([]byte)
		if !ok {
			return nil, fmt.Errorf("sealed: JWK Set: key %d (kid %q): kty must be \"oct\"", i, jwk.KeyID)
		}
		if jwk.KeyID == "" {
			return nil, fmt.Errorf("sealed: JWK Set: key %d: missing kid", i)
		}
		keys = append(keys, Key{ID: jwk.KeyID, Secret: secret})
	}
	// Validate the whole set now so that a bad file fails at load, naming
	// the key.
	if _, err := NewKeyring(keys...); err != nil {
		return nil, err
	}
	return keys, nil
}

// MarshalJWKSet encodes keys as a JWK Set of "oct" keys, in order. The output
// contains the secrets: write it only where secrets belong.
func MarshalJWKSet(keys []Key) ([]byte, error) {
	if _, err := NewKeyring(keys...); err != nil {
		return nil, err
	}
	set := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, len(keys))}
	for i, k := range keys {
		set.Keys[i] = jose.JSONWebKey{Key: append([]byte(nil), k.Secret...), KeyID: k.ID}
	}
	return json.MarshalIndent(set, "", "  ")
}

// ParseKeyring is ParseJWKSet followed by NewKeyring.
func ParseKeyring(jwks []byte) (*Keyring, error) {
	keys, err := ParseJWKSet(jwks)
	if err != nil {
		return nil, err
	}
	return NewKeyring(keys...)
}

// KeyringFromFile reads a JWK Set from the file at path.
func KeyringFromFile(path string) (*Keyring, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sealed: keyring file: %w", err)
	}
	k, err := ParseKeyring(data)
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return k, nil
}

// KeyringFromEnv reads a JWK Set from the environment variable name.
func KeyringFromEnv(name string) (*Keyring, error) {
	v, ok := os.LookupEnv(name)
	if !ok || v == "" {
		return nil, fmt.Errorf("sealed: keyring: environment variable %s is not set", name)
	}
	k, err := ParseKeyring([]byte(v))
	if err != nil {
		return nil, fmt.Errorf("%w (environment variable %s)", err, name)
	}
	return k, nil
}

// KeySource supplies the keyring in force. Both *Keyring (fixed) and
// *RotatingKeyring (swappable) implement it. Current is called once per
// seal or open, so it must be cheap and safe for concurrent use.
type KeySource interface {
	Current() *Keyring
}

// RotatingKeyring holds a keyring that can be replaced while requests are in
// flight: Current is a single atomic load, Swap a single atomic store. A
// request that began under the old ring finishes under it; the next one sees
// the new ring. Rotation logs nobody out as long as the new ring still holds
// the keys that sealed the cookies in use (see "Key rotation" in the package
// documentation).
type RotatingKeyring struct {
	p atomic.Pointer[Keyring]
}

// NewRotatingKeyring returns a holder for k, which must not be nil.
func NewRotatingKeyring(k *Keyring) (*RotatingKeyring, error) {
	if k == nil {
		return nil, errors.New("sealed: NewRotatingKeyring: nil keyring")
	}
	r := &RotatingKeyring{}
	r.p.Store(k)
	return r, nil
}

// Current returns the keyring in force.
func (r *RotatingKeyring) Current() *Keyring { return r.p.Load() }

// Swap puts k in force. A nil k is ignored and reported as an error.
func (r *RotatingKeyring) Swap(k *Keyring) error {
	if k == nil {
		return errors.New("sealed: RotatingKeyring.Swap: nil keyring")
	}
	r.p.Store(k)
	return nil
}

// ReloadFile reads the JWK Set at path and puts it in force. On any error the
// keyring in force stays as it was, so a half-written or broken file never
// takes sessions down.
func (r *RotatingKeyring) ReloadFile(path string) error {
	k, err := KeyringFromFile(path)
	if err != nil {
		return err
	}
	return r.Swap(k)
}
