package sealed_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sealedgo/sealed"
	"github.com/sealedgo/sealed/internal/envelope"
	"github.com/sealedgo/sealed/internal/jwk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// krSaved returns the "name=value" pairs of a session holding v="hello"
// saved by m.
func krSaved(t testing.TB, m *sealed.Manager) []string {
	t.Helper()
	ctx := context.Background()
	s, err := m.Load(ctx)
	require.NoError(t, err)
	require.NoError(t, s.Set("v", "hello"))
	lines, err := m.Save(ctx, s)
	require.NoError(t, err)
	return cookiePairs(lines)
}

// krOpens reports whether m opens the cookie pairs as a session holding
// v="hello".
func krOpens(t testing.TB, m *sealed.Manager, pairs []string) bool {
	t.Helper()
	s, err := m.Load(context.Background(), pairs...)
	require.NoError(t, err)
	if s.IsNew() {
		return false
	}
	v, ok, err := sealed.Get[string](s, "v")
	require.NoError(t, err)
	return ok && v == "hello"
}

// keyringOf is sealed.NewKeyring of keys, which must be valid. The fuzz
// targets (fuzz_test.go) use it too.
func keyringOf(t testing.TB, keys ...sealed.Key) *sealed.Keyring {
	t.Helper()
	r, err := sealed.NewKeyring(keys...)
	require.NoError(t, err)
	return r
}

func TestNewKeyringRejects(t *testing.T) {
	good := sealed.GenerateKey("good")
	cases := []struct {
		name string
		keys []sealed.Key
		want string // substring of the error; names the key
	}{
		{"empty ring", nil, "no keys"},
		{"empty id", []sealed.Key{{ID: "", Secret: good.Secret}}, "key 0: empty id"},
		{"short secret", []sealed.Key{good, {ID: "short", Secret: make([]byte, 31)}}, `key "short": secret is 31 bytes, want 32`},
		{"long secret", []sealed.Key{{ID: "long", Secret: make([]byte, 33)}}, `key "long": secret is 33 bytes`},
		{"zero secret", []sealed.Key{{ID: "zero", Secret: make([]byte, 32)}}, `key "zero": secret is all zeros`},
		{"duplicate id", []sealed.Key{good, sealed.GenerateKey("good")}, `duplicate key id "good"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := sealed.NewKeyring(c.keys...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

// Two distinct ids whose derived 4-byte key ids collide are rejected. The
// colliding pair is found by brute force (about 2^16 ids by the birthday
// bound), so the test exercises the real derivation.
func TestNewKeyringRejectsKeyIDCollision(t *testing.T) {
	seen := map[[envelope.KeyIDSize]byte]string{}
	var a, b string
	for i := 0; ; i++ {
		id := fmt.Sprintf("k%d", i)
		kid := envelope.KeyID(id)
		if prev, ok := seen[kid]; ok {
			a, b = prev, id
			break
		}
		seen[kid] = id
	}
	_, err := sealed.NewKeyring(sealed.GenerateKey(a), sealed.GenerateKey(b))
	require.Error(t, err)
	assert.Contains(t, err.Error(), fmt.Sprintf("%q and %q", a, b))
}

func TestKeyringCopiesSecrets(t *testing.T) {
	k := sealed.GenerateKey("k")
	m := newManager(t, keyringOf(t, k), sealed.Options{})
	pairs := krSaved(t, m)
	for i := range k.Secret {
		k.Secret[i] = 0xff // the caller reuses its buffer
	}
	assert.True(t, krOpens(t, m, pairs))
}

// ParseKeyring takes the keys of a JWK Set in order: the first seals, all
// open.
func TestParseKeyring(t *testing.T) {
	primary, older := sealed.GenerateKey("2026-11"), sealed.GenerateKey("2026-05")
	doc, err := jwk.Marshal([]jwk.Key{{ID: primary.ID, Secret: primary.Secret}, {ID: older.ID, Secret: older.Secret}})
	require.NoError(t, err)
	parsed, err := sealed.ParseKeyring(doc)
	require.NoError(t, err)
	m := newManager(t, parsed, sealed.Options{})

	pairs := krSaved(t, m)
	assert.True(t, krOpens(t, newManager(t, keyringOf(t, primary), sealed.Options{}), pairs), "the first key seals")
	assert.False(t, krOpens(t, newManager(t, keyringOf(t, older), sealed.Options{}), pairs))
	assert.True(t, krOpens(t, m, krSaved(t, newManager(t, keyringOf(t, older), sealed.Options{}))), "every key opens")

	_, err = sealed.ParseKeyring([]byte(`{"keys":[]}`))
	assert.ErrorContains(t, err, "no keys")
}

// Rotation from a reloaded JWK Set: a set that does not parse changes
// nothing, and values sealed before a good swap still open after it, under
// the retired key, and are sealed again under the new primary.
func TestRotatingKeyringSwap(t *testing.T) {
	ctx := context.Background()
	old, next := sealed.GenerateKey("old"), sealed.GenerateKey("next")
	doc := func(keys ...sealed.Key) []byte {
		var jk []jwk.Key
		for _, k := range keys {
			jk = append(jk, jwk.Key{ID: k.ID, Secret: k.Secret})
		}
		b, err := jwk.Marshal(jk)
		require.NoError(t, err)
		return b
	}
	r1, err := sealed.ParseKeyring(doc(old))
	require.NoError(t, err)
	h, err := sealed.NewRotatingKeyring(r1)
	require.NoError(t, err)
	assert.Same(t, r1, h.Current())
	m := newManager(t, h, sealed.Options{})
	pairs := krSaved(t, m)

	_, err = sealed.ParseKeyring([]byte(`{"keys": [`)) // a half-written file
	require.Error(t, err)
	assert.Same(t, r1, h.Current())

	r2, err := sealed.ParseKeyring(doc(next, old))
	require.NoError(t, err)
	require.NoError(t, h.Swap(r2))
	assert.Same(t, r2, h.Current())
	s, err := m.Load(ctx, pairs...)
	require.NoError(t, err)
	require.False(t, s.IsNew(), "opened under a retired key")
	lines, err := m.Save(ctx, s)
	require.NoError(t, err)
	require.NotEmpty(t, lines, "a session opened under a retired key is sealed again, unchanged")
	nextOnly := newManager(t, keyringOf(t, next), sealed.Options{})
	assert.True(t, krOpens(t, nextOnly, cookiePairs(lines)), "sealed again under the new primary")
	assert.False(t, krOpens(t, nextOnly, pairs))

	_, err = sealed.NewRotatingKeyring(nil)
	assert.Error(t, err)
	assert.Error(t, h.Swap(nil))
	assert.Error(t, h.Swap(&sealed.Keyring{}), "a keyring with no key")
	assert.Same(t, r2, h.Current(), "a refused swap changes nothing")
}

// Save and load concurrently while the ring is swapped between two rings
// that share the key used for sealing: no operation may fail.
func TestConcurrentRotation(t *testing.T) {
	ctx := context.Background()
	a, b, c := sealed.GenerateKey("a"), sealed.GenerateKey("b"), sealed.GenerateKey("c")
	r1 := keyringOf(t, a, b)
	r2 := keyringOf(t, b, a, c) // b promoted, a kept for opening
	holder, err := sealed.NewRotatingKeyring(r1)
	require.NoError(t, err)
	m := newManager(t, holder, sealed.Options{})

	var failures, ops atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				// No require here: FailNow must not be called off the
				// test's goroutine.
				s, err := m.Load(ctx)
				if err == nil {
					err = s.Set("v", "hello")
				}
				var lines []string
				if err == nil {
					lines, err = m.Save(ctx, s)
				}
				if err == nil && len(lines) == 1 {
					pair, _, _ := strings.Cut(lines[0], ";")
					s, err = m.Load(ctx, pair)
				}
				if err != nil || len(lines) != 1 || s.IsNew() {
					failures.Add(1)
				} else if v, ok, err := sealed.Get[string](s, "v"); err != nil || !ok || v != "hello" {
					failures.Add(1)
				}
				ops.Add(1)
			}
		}()
	}
	// Keep swapping until both the workers and the swapper have done real
	// work, however the scheduler interleaves them: either side alone can
	// finish its share before the other runs.
	swaps := 0
	for ops.Load() < 20000 || swaps < 2000 {
		if swaps%2 == 0 {
			require.NoError(t, holder.Swap(r2))
		} else {
			require.NoError(t, holder.Swap(r1))
		}
		swaps++
		if swaps%64 == 0 {
			runtime.Gosched()
		}
	}
	close(stop)
	wg.Wait()
	assert.Zero(t, failures.Load())
}
