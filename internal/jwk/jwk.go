// Package jwk reads and writes the key configuration, a JWK Set of
// symmetric ("oct") keys in order: the first is the primary.
package jwk

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/go-jose/go-jose/v4"
	"github.com/sealedgo/sealed/internal/envelope"
)

// Key is one configured key.
type Key struct {
	ID     string
	Secret []byte
}

// Ring validates keys and returns them as an envelope ring.
func Ring(keys []Key) (envelope.Ring, error) {
	ids := make([]string, len(keys))
	secrets := make([][]byte, len(keys))
	for i, k := range keys {
		ids[i], secrets[i] = k.ID, k.Secret
	}
	return envelope.NewRing(ids, secrets)
}

// Parse reads a JWK Set of "oct" keys, each with a "kid". go-jose accepts
// keys of any length and repeated kids, so the whole set is validated as a
// ring; any other key type is an error.
func Parse(data []byte) ([]Key, error) {
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("sealed: JWK Set: %w", err)
	}
	if len(set.Keys) == 0 {
		return nil, errors.New("sealed: JWK Set: no keys")
	}
	keys := make([]Key, 0, len(set.Keys))
	for i, k := range set.Keys {
		secret, ok := k.Key.([]byte)
		if !ok {
			return nil, fmt.Errorf("sealed: JWK Set: key %d (kid %q): kty must be \"oct\"", i, k.KeyID)
		}
		if k.KeyID == "" {
			return nil, fmt.Errorf("sealed: JWK Set: key %d: missing kid", i)
		}
		keys = append(keys, Key{ID: k.KeyID, Secret: secret})
	}
	if _, err := Ring(keys); err != nil {
		return nil, err
	}
	return keys, nil
}

// Marshal encodes keys as a JWK Set, in order. The output contains the
// secrets.
func Marshal(keys []Key) ([]byte, error) {
	if _, err := Ring(keys); err != nil {
		return nil, err
	}
	set := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, len(keys))}
	for i, k := range keys {
		set.Keys[i] = jose.JSONWebKey{Key: append([]byte(nil), k.Secret...), KeyID: k.ID}
	}
	return json.MarshalIndent(set, "", "  ")
}
