package sealed

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/fxamacker/cbor/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// savedHeader saves a session holding values (saved, in manager_test.go)
// and returns the Cookie header a browser would send back.
func savedHeader(t *testing.T, m *Manager, values map[string]any) string {
	t.Helper()
	var pairs []string
	for _, c := range saved(t, m, values) {
		pairs = append(pairs, c.Name+"="+c.Value)
	}
	return strings.Join(pairs, "; ")
}

func TestReleaseEndsTheSession(t *testing.T) {
	m := testManager(t, nil)
	ctx := context.Background()
	h := savedHeader(t, m, map[string]any{"a": "x", "b": 2})
	s, err := m.LoadHeader(ctx, h)
	require.NoError(t, err)
	require.False(t, s.IsNew())
	require.NotNil(t, s.rb, "a loaded session borrows a pooled buffer")
	id, created := s.ID(), s.CreatedAt()

	s.Release()
	assert.Nil(t, s.rb)
	_, ok, err := Get[string](s, "a")
	assert.False(t, ok)
	assert.ErrorIs(t, err, ErrReleased)
	_, ok, err = Remove[int](s, "b")
	assert.False(t, ok)
	assert.ErrorIs(t, err, ErrReleased)
	_, ok = s.GetRaw("a")
	assert.False(t, ok)
	assert.False(t, s.Has("a"))
	assert.Empty(t, s.Keys())
	assert.ErrorIs(t, s.Set("c", 1), ErrCommitted)
	assert.Equal(t, id, s.ID(), "the ID still reads")
	assert.Equal(t, created, s.CreatedAt())
	s.Release() // twice is fine

	lines, err := m.SaveLines(ctx, s)
	require.NoError(t, err)
	assert.Empty(t, lines, "a released session is committed: nothing to write")
}

// Whatever a session handed out before Release stays intact when its
// buffer is reused by the next request: Get decodes into fresh memory,
// GetRaw and Remove copy, keys and subjects are strings.
func TestReleasedBufferNeverAliasesResults(t *testing.T) {
	m := testManager(t, nil)
	ctx := context.Background()
	values := map[string]any{
		"s":   "hello",
		"b":   []byte("bytes"),
		"m":   map[string]any{"k": "v", "n": []any{"x", []byte("y")}},
		"u":   user{ID: 1, Email: "ada@example.com", Roles: []string{"admin"}},
		"raw": cbor.RawMessage{0x63, 'r', 'a', 'w'},
	}
	h := savedHeader(t, m, values)
	// Many rounds: sync.Pool may drop a buffer (always under -race, at
	// random), but most rounds reuse it.
	for round := 0; round < 50; round++ {
		s, err := m.LoadHeader(ctx, h)
		require.NoError(t, err)
		require.NoError(t, s.Set("extra", round)) // also a key outside the buffer
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
		graw, _ := s.GetRaw("s")
		removed, _, err := s.RemoveRaw("b")
		require.NoError(t, err)
		keys := s.Keys()
		s.Release()

		// Reuse every pooled buffer the way the next request would, and
		// scribble over it.
		for c := range readBufs {
			for i := 0; i < 4; i++ {
				rb := getReadBuf(1 << (c + minReadBufShift))
				for j := range rb.b {
					rb.b[j] = 0xff
				}
				defer putReadBuf(rb)
			}
		}

		assert.Equal(t, "hello", str)
		assert.Equal(t, []byte("bytes"), bs)
		assert.Equal(t, map[string]any{"k": "v", "n": []any{"x", []byte("y")}}, mp)
		assert.Equal(t, values["u"], u)
		assert.Equal(t, cbor.RawMessage{0x63, 'r', 'a', 'w'}, rm)
		assert.Equal(t, []byte{0x65, 'h', 'e', 'l', 'l', 'o'}, graw)
		assert.Equal(t, []byte{0x45, 'b', 'y', 't', 'e', 's'}, removed)
		assert.Equal(t, []string{"m", "s", "u", "raw", "extra"}, keys, "b was removed")
	}
}

// Release may race with the request's other goroutines: they see the
// session either before it (the value) or after it (ErrReleased), never a
// buffer another request is using. Run with -race.
func TestReleaseConcurrentWithReads(t *testing.T) {
	m := testManager(t, nil)
	ctx := context.Background()
	h := savedHeader(t, m, map[string]any{"a": strings.Repeat("x", 300)})
	for round := 0; round < 20; round++ {
		s, err := m.LoadHeader(ctx, h)
		require.NoError(t, err)
		var wg sync.WaitGroup
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 50; i++ {
					v, ok, err := Get[string](s, "a")
					if err != nil {
						assert.ErrorIs(t, err, ErrReleased)
						assert.False(t, ok)
						return
					}
					assert.Equal(t, strings.Repeat("x", 300), v)
				}
			}()
		}
		s.Release()
		wg.Wait()
	}
}

// A cookie that is rejected after its buffer was taken (a bad payload, an
// expired session) gives the buffer back at once; the new session holds
// none.
func TestRejectedCookieHoldsNoBuffer(t *testing.T) {
	c := newClock()
	m := testManager(t, &Options{Now: c.Now})
	h := savedHeader(t, m, map[string]any{"a": 1})
	c.Advance(DefaultIdleTimeout + 2*DefaultClockSkew)
	s, err := m.LoadHeader(context.Background(), h)
	require.NoError(t, err)
	assert.True(t, s.IsNew())
	assert.Nil(t, s.rb)
}

func TestReadBufClasses(t *testing.T) {
	for _, n := range []int{1, 511, 512, 513, 4096, 4097, 1 << 17} {
		rb := getReadBuf(n)
		assert.Len(t, rb.b, n)
		assert.GreaterOrEqual(t, cap(rb.b), max(n, 1<<minReadBufShift))
		assert.Less(t, cap(rb.b), 2*max(n, 1<<minReadBufShift), "n=%d: no more than twice the need", n)
		putReadBuf(rb)
	}
	// The largest buffer open can ask for has a class.
	assert.Less(t, readBufClass(headerSize+64+b64.DecodedLen(maxSealedLen)), len(readBufs))
}
