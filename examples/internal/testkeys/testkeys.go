// Package testkeys helps the examples' tests with keys: it writes a JWK Set
// as "sealed keygen" does and checks which keyring opens which session.
package testkeys

import (
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/sealedgo/sealed"
	"github.com/sealedgo/sealed/sealedtest"
)

// JWKSet returns keys, in order, as the JSON of a JWK Set.
func JWKSet(t testing.TB, keys ...sealed.Key) []byte {
	t.Helper()
	type jwk struct {
		Kty string `json:"kty"`
		Kid string `json:"kid"`
		K   string `json:"k"`
	}
	var set struct {
		Keys []jwk `json:"keys"`
	}
	for _, k := range keys {
		set.Keys = append(set.Keys, jwk{"oct", k.ID, base64.RawURLEncoding.EncodeToString(k.Secret)})
	}
	data, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// Ring returns a keyring of keys.
func Ring(t testing.TB, keys ...sealed.Key) *sealed.Keyring {
	t.Helper()
	r, err := sealed.NewKeyring(keys...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Opens reports whether a session sealed under from opens under to (both
// with the default options of a plain-http site).
func Opens(t testing.TB, from, to sealed.KeySource) bool {
	t.Helper()
	opts := &sealed.Options{AllowInsecure: true}
	mf, err := sealed.New(from, opts)
	if err != nil {
		t.Fatal(err)
	}
	mt, err := sealed.New(to, opts)
	if err != nil {
		t.Fatal(err)
	}
	cookie := sealedtest.Cookie(t, mf, func(s *sealed.Session) error { return s.Set("n", 1) })
	n, ok, err := sealed.Get[int](sealedtest.Load(t, mt, cookie), "n")
	return err == nil && ok && n == 1
}
