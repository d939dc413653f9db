package sealed

import (
	"crypto/rand"
	"errors"
	"sync/atomic"

	"github.com/sealedgo/sealed/internal/envelope"
	"github.com/sealedgo/sealed/internal/jwk"
)

// Key is one configured secret and its id. The id is public (a 4-byte
// derivation of it travels in every cookie, naming the key that opens it);
// the secret is not, and this package never logs or prints it.
type Key struct {
	ID     string
	Secret []byte // exactly 32 bytes
}

// GenerateKey returns a key with the given id and a fresh 32-byte secret
// from crypto/rand. For configuration that lasts, generate a JWK Set with
// cmd/sealed (sealed keygen) and load it with [ParseKeyring].
func GenerateKey(id string) Key {
	secret := make([]byte, envelope.SecretSize)
	rand.Read(secret)
	return Key{ID: id, Secret: secret}
}

// Keyring is an immutable, ordered set of keys. The first key is the
// primary: it seals. Every key opens, picked by the key id in the cookie,
// never by trying each. Rotate with a new Keyring that has the new key
// first and the old ones after it (see [RotatingKeyring]).
//
// A Keyring is safe for concurrent use.
type Keyring struct {
	ring envelope.Ring
}

// NewKeyring returns a ring whose first key is the primary. It rejects an
// empty ring, an empty id, a secret that is not exactly 32 bytes or is all
// zeros, a duplicate id, and two ids whose 4-byte key ids collide; each
// error names the key. Secrets are copied.
func NewKeyring(keys ...Key) (*Keyring, error) {
	ids := make([]string, len(keys))
	secrets := make([][]byte, len(keys))
	for i, k := range keys {
		ids[i], secrets[i] = k.ID, k.Secret
	}
	r, err := envelope.NewRing(ids, secrets)
	if err != nil {
		return nil, err
	}
	return &Keyring{ring: r}, nil
}

// ParseKeyring reads a JWK Set of symmetric ("oct") keys, each with a
// "kid", in order (the first is the primary), as cmd/sealed writes it, and
// validates it as [NewKeyring] does. It reads strictly, so that a key set
// means the same to every implementation (SPEC.md, "Keyring"): a repeated
// member, a key of another type, a kid that is not Unicode text or a "k"
// that is not strict unpadded base64url is an error naming the key.
func ParseKeyring(jwks []byte) (*Keyring, error) {
	keys, err := jwk.Parse(jwks)
	if err != nil {
		return nil, err
	}
	r, err := jwk.Ring(keys)
	if err != nil {
		return nil, err
	}
	return &Keyring{ring: r}, nil
}

// Current returns k itself, so that a fixed *Keyring is a [KeySource].
func (k *Keyring) Current() *Keyring { return k }

// KeySource supplies the keyring in force: a fixed [*Keyring], or a
// [*RotatingKeyring] that can be swapped. Current is called once per load
// and save, so it must be cheap and safe for concurrent use.
type KeySource interface {
	Current() *Keyring
}

// RotatingKeyring holds a keyring that can be replaced while requests are
// in flight. A request that began under the old ring finishes under it;
// the next one sees the new ring. Rotation logs nobody out as long as the
// new ring still holds the keys that sealed the cookies in use (see "Key
// rotation" in the package documentation).
type RotatingKeyring struct {
	p atomic.Pointer[Keyring]
}

// NewRotatingKeyring returns a holder for k, which must not be nil.
func NewRotatingKeyring(k *Keyring) (*RotatingKeyring, error) {
	if k == nil {
		return nil, errors.New("sealed: NewRotatingKeyring: nil keyring")
	}
	r := &RotatingKeyring{}
	if err := r.Swap(k); err != nil {
		return nil, err
	}
	return r, nil
}

// Current returns the keyring in force.
func (r *RotatingKeyring) Current() *Keyring { return r.p.Load() }

// Swap puts k in force. A nil k changes nothing and is an error.
func (r *RotatingKeyring) Swap(k *Keyring) error {
	if k == nil {
		return errors.New("sealed: RotatingKeyring.Swap: nil keyring")
	}
	if len(k.ring) == 0 {
		return errors.New("sealed: RotatingKeyring.Swap: the keyring holds no key")
	}
	r.p.Store(k)
	return nil
}
