package sealed

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/fxamacker/cbor/v2"
	"github.com/sealedgo/sealed/internal/envelope"
	"github.com/sealedgo/sealed/internal/payload"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Whatever a session hands out stays intact when pooled memory is reused
// by later saves: Get decodes a private copy, Remove copies, keys
// and subjects are strings; and the session itself, kept after it was
// saved, still reads its own values.
func TestResultsNeverAliasPooledMemory(t *testing.T) {
	m := NewTestManager(t, nil, nil)
	ctx := context.Background()
	values := map[string]any{
		"s":   "hello",
		"b":   []byte("bytes"),
		"m":   map[string]any{"k": "v", "n": []any{"x", []byte("y")}},
		"u":   user{ID: 1, Email: "ada@example.com", Roles: []string{"admin"}},
		"raw": cbor.RawMessage{0x63, 'r', 'a', 'w'},
	}
	h := savedHeader(t, m, values)
	for round := 0; round < 50; round++ {
		s, err := m.Load(ctx, h)
		require.NoError(t, err)
		require.NoError(t, s.Set("extra", round)) // also a key outside the cookie's buffer
		str, _, err := Get[string](s, "s")
		require.NoError(t, err)
		bs, _, err := Get[[]byte](s, "b")
		require.NoError(t, err)
		mp, _, err := Get[map[string]any](s, "m")
		require.NoError(t, err)
		u, _, err := Get[user](s, "u")
		require.NoError(t, err)
		rm, _, err := Get[cbor.RawMessage](s, "raw")
		require.NoError(t, err)
		graw, _, err := Get[cbor.RawMessage](s, "s")
		require.NoError(t, err)
		removed, _, err := Remove[cbor.RawMessage](s, "b")
		require.NoError(t, err)
		keys := s.Keys()
		_, err = m.Save(ctx, s)
		require.NoError(t, err)

		// Reuse every pooled buffer the way the next save would, and
		// scribble over it.
		for c := range scratches {
			for i := 0; i < 4; i++ {
				sc := getScratch(1 << (c + minScratchShift))
				for j := range sc.b {
					sc.b[j] = 0xff
				}
				defer putScratch(sc)
			}
		}

		assert.Equal(t, "hello", str)
		assert.Equal(t, []byte("bytes"), bs)
		assert.Equal(t, map[string]any{"k": "v", "n": []any{"x", []byte("y")}}, mp)
		assert.Equal(t, values["u"], u)
		assert.Equal(t, cbor.RawMessage{0x63, 'r', 'a', 'w'}, rm)
		assert.Equal(t, cbor.RawMessage{0x65, 'h', 'e', 'l', 'l', 'o'}, graw)
		assert.Equal(t, cbor.RawMessage{0x45, 'b', 'y', 't', 'e', 's'}, removed)
		assert.Equal(t, []string{"m", "s", "u", "raw", "extra"}, keys, "b was removed")
		again, _, err := Get[string](s, "s")
		assert.NoError(t, err, "a saved session still reads")
		assert.Equal(t, "hello", again)
	}
}

// A save running while other goroutines of the request read the session:
// they see its values throughout. Run with -race.
func TestReadsConcurrentWithSave(t *testing.T) {
	m := NewTestManager(t, nil, nil)
	ctx := context.Background()
	h := savedHeader(t, m, map[string]any{"a": strings.Repeat("x", 300)})
	for round := 0; round < 20; round++ {
		s, err := m.Load(ctx, h)
		require.NoError(t, err)
		require.NoError(t, s.Set("b", round))
		var wg sync.WaitGroup
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 50; i++ {
					v, _, err := Get[string](s, "a")
					assert.NoError(t, err)
					assert.Equal(t, strings.Repeat("x", 300), v)
				}
			}()
		}
		_, err = m.Save(ctx, s)
		require.NoError(t, err)
		wg.Wait()
	}
}

// Scratch goes back to the pool cleared: no session's bytes outlive the
// save that wrote them there.
func TestScratchIsClearedAndSized(t *testing.T) {
	for _, n := range []int{1, 511, 512, 513, 4096, 4097, 1 << 17} {
		sc := getScratch(n)
		assert.Len(t, sc.b, n)
		assert.GreaterOrEqual(t, cap(sc.b), max(n, 1<<minScratchShift))
		assert.Less(t, cap(sc.b), 2*max(n, 1<<minScratchShift), "n=%d: no more than twice the need", n)
		for i := range sc.b {
			sc.b[i] = 0xa5
		}
		b := sc.b
		putScratch(sc)
		for i, c := range b {
			if c != 0 {
				t.Fatalf("n=%d: byte %d is %#x after putScratch", n, i, c)
			}
		}
	}
	// The largest payload a save can build has a class, even with the
	// longest purpose.
	m := NewTestManager(t, nil, &Options{Purpose: strings.Repeat("p", maxPurposeLen)})
	assert.Less(t, scratchClass(m.bind.Room()+payload.MaxBytes+envelope.TagSize), len(scratches))
}
