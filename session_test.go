package sealed

import (
	"context"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/sealedgo/sealed/internal/payload"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGetSetTyped(t *testing.T) {
	s := newSession(t, NewTestManager(t, nil, nil))
	u := user{ID: 7, Email: "ada@example.com", Roles: []string{"admin"}}
	require.NoError(t, s.Set("user", u))
	require.NoError(t, s.Set("n", 41))

	got, ok, err := Get[user](s, "user")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, u, got)

	n, ok, err := Get[int](s, "n")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, 41, n)

	// Absent: not an error.
	_, ok, err = Get[string](s, "missing")
	assert.NoError(t, err)
	assert.False(t, ok)

	// Type mismatch: an error, not a panic.
	_, ok, err = Get[string](s, "n")
	assert.True(t, ok)
	assert.Error(t, err)
	_, _, err = Get[int](s, "user")
	assert.Error(t, err)

	// Results do not alias the session.
	got.Roles[0] = "changed"
	again, _, _ := Get[user](s, "user")
	assert.Equal(t, "admin", again.Roles[0])

	// time.Time keeps its instant exactly.
	when := time.Date(2026, 11, 23, 10, 59, 0, 123456789, time.UTC)
	require.NoError(t, s.Set("when", when))
	w, _, err := Get[time.Time](s, "when")
	require.NoError(t, err)
	assert.True(t, when.Equal(w))
}

func TestSetRejects(t *testing.T) {
	s := newSession(t, NewTestManager(t, nil, nil))
	assert.Error(t, s.Set("ch", make(chan int)), "unencodable")
	assert.Error(t, s.Set("f", func() {}), "unencodable")
	var deep any = 1
	for i := 0; i < payload.MaxDepth; i++ {
		deep = []any{deep}
	}
	assert.Error(t, s.Set("deep", deep), "deeper than the decode limit")
	assert.Error(t, s.Set("wide", make([]int, payload.MaxItems+1)), "more items than the decode limit")
	assert.False(t, s.Has("ch") || s.Has("deep") || s.Has("wide"))

	// Map keys are integers or strings (SPEC.md, key-type): a float or
	// bool key could be equal to another in a reader's map but not in
	// bytes.
	assert.ErrorContains(t, s.Set("fk", map[float64]int{1.5: 1}), "map key", "float keys")
	assert.ErrorContains(t, s.Set("bk", map[bool]int{true: 1}), "map key", "bool keys")
	assert.NoError(t, s.Set("ik", map[int]string{1: "a"}), "integer keys")
	assert.NoError(t, s.Set("bs", map[string][]byte{"a": {1}}), "text keys")
}

func TestRemoveHasKeysClear(t *testing.T) {
	s := newSession(t, NewTestManager(t, nil, nil))
	require.NoError(t, s.Set("b", "B"))
	require.NoError(t, s.Set("a", 1))
	require.NoError(t, s.Set("cc", true))
	assert.Equal(t, []string{"a", "b", "cc"}, s.Keys())

	v, ok, err := Remove[string](s, "b")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, "B", v)
	assert.False(t, s.Has("b"))

	_, ok, err = Remove[string](s, "b")
	assert.NoError(t, err)
	assert.False(t, ok)

	// Remove with the wrong type still removes, and says so.
	_, ok, err = Remove[string](s, "a")
	assert.True(t, ok)
	assert.Error(t, err)
	assert.False(t, s.Has("a"))

	raw, ok, err := Get[cbor.RawMessage](s, "cc")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, cbor.RawMessage{0xf5}, raw)
	raw[0] = 0 // a copy
	raw, ok, err = Remove[cbor.RawMessage](s, "cc")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, cbor.RawMessage{0xf5}, raw)

	require.NoError(t, s.Set("x", 1))
	s.SetSubject("u1")
	s.AddFlash("hello")
	id := s.ID()
	s.Clear()
	assert.Empty(t, s.Keys())
	assert.Empty(t, s.Subject())
	assert.Nil(t, must(s.Flashes()))
	assert.Equal(t, id, s.ID(), "Clear keeps the session")
}

func TestCycleIDKeepsState(t *testing.T) {
	s := newSession(t, NewTestManager(t, nil, nil))
	require.NoError(t, s.Set("k", "v"))
	id, created := s.ID(), s.CreatedAt()
	s.CycleID()
	assert.NotEqual(t, id, s.ID())
	assert.Len(t, s.ID(), 32)
	assert.Equal(t, created, s.CreatedAt())
	v, _, _ := Get[string](s, "k")
	assert.Equal(t, "v", v)
}

func TestInvalidateThenWriteStartsNewSession(t *testing.T) {
	m := NewTestManager(t, nil, nil)
	s := newSession(t, m)
	require.NoError(t, s.Set("k", "v"))
	id := s.ID()
	s.Invalidate()
	assert.False(t, s.Has("k"))
	assert.NotEqual(t, id, s.ID())
	s.AddFlash("logged out")
	assert.Equal(t, []string{"logged out"}, must(s.Flashes()))
}

func TestFlashesReadOnce(t *testing.T) {
	s := newSession(t, NewTestManager(t, nil, nil))
	s.AddFlash("one")
	s.AddFlash("two")
	assert.Equal(t, []string{"one", "two"}, must(s.Flashes()))
	assert.Nil(t, must(s.Flashes()))
}

func TestMutationAfterSaveIsReported(t *testing.T) {
	var logs LogBuffer
	m := NewTestManager(t, nil, &Options{Logger: logs.Logger()})
	s := newSession(t, m)
	require.NoError(t, s.Set("k", 1))
	_, err := m.Save(context.Background(), s)
	require.NoError(t, err)

	assert.ErrorIs(t, s.Set("k", 2), ErrCommitted)
	_, _, err = Remove[int](s, "k")
	assert.ErrorIs(t, err, ErrCommitted)
	assert.ErrorIs(t, s.Clear(), ErrCommitted)
	assert.ErrorIs(t, s.CycleID(), ErrCommitted)
	assert.True(t, s.Has("k"), "Clear after save must not take effect")
	assert.Contains(t, logs.String(), "session modified after it was saved")
	assert.Contains(t, logs.String(), "op=Clear")
	assert.Contains(t, logs.String(), "op=CycleID")
}

func TestConcurrentUseWithinRequest(t *testing.T) {
	s := newSession(t, NewTestManager(t, nil, nil))
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				_ = s.Set(string(rune('a'+g)), i)
				_, _, _ = Get[int](s, string(rune('a'+(g+1)%8)))
				_ = s.Keys()
			}
		}(g)
	}
	wg.Wait()
	assert.Len(t, s.Keys(), 8)
}

// Round trip: what Save returns, Load reads back, whether the client
// sends the cookies as "name=value" pairs (as an API Gateway v2 event
// carries them) or in a Cookie header among others.
func TestLoadSaveRoundTrip(t *testing.T) {
	ctx := context.Background()
	m := NewTestManager(t, nil, nil)
	s := newSession(t, m)
	assert.True(t, s.IsNew())
	require.NoError(t, s.Set("user", "ada"))
	s.SetSubject("u-1")
	lines, err := m.Save(ctx, s)
	require.NoError(t, err)
	require.Len(t, lines, 1)
	for i, c := range parseLines(t, lines) {
		require.NoError(t, c.Valid())
		assert.Equal(t, lines[i], c.String(), "our line is what net/http would write")
	}

	s2, err := m.Load(ctx, pairsOf(t, lines)...)
	require.NoError(t, err)
	assert.False(t, s2.IsNew())
	assert.Equal(t, s.ID(), s2.ID())
	assert.Equal(t, "u-1", s2.Subject())
	v, _, _ := Get[string](s2, "user")
	assert.Equal(t, "ada", v)

	s3, err := m.Load(ctx, pairsOf(t, lines)...)
	require.NoError(t, err)
	require.NoError(t, s3.Set("n", 2))
	lines, err = m.Save(ctx, s3)
	require.NoError(t, err)
	require.Len(t, lines, 1)
	s4, err := m.Load(ctx, "theme=dark; "+pairsOf(t, lines)[0]+"; lang=en")
	require.NoError(t, err)
	n, _, _ := Get[int](s4, "n")
	assert.Equal(t, 2, n)

	// A session from another manager is refused by Save.
	other := NewTestManager(t, nil, nil)
	_, err = other.Save(ctx, s4)
	assert.Error(t, err)
}

// The scalar fast path in Get must agree with the general decoder on every
// input it accepts, and leave everything else to it.
func TestDecodeScalarMatchesGeneralDecoder(t *testing.T) {
	inputs := []any{"", "héllo", 0, 1, -1, 23, 24, -25, 1 << 40, -(1 << 40), int64(math.MaxInt64), int64(math.MinInt64),
		uint64(math.MaxUint64), true, false, nil, 1.5, []byte("b"), []int{1}, map[string]int{"a": 1}}
	for _, in := range inputs {
		enc, err := payload.Encode(in)
		require.NoError(t, err)
		check := func(fast func() (any, bool), slow func() (any, error)) {
			got, ok := fast()
			want, err := slow()
			if ok {
				require.NoError(t, err, "%#v: fast path accepted what the decoder refuses", in)
				assert.Equal(t, want, got, "%#v", in)
			}
		}
		check(func() (any, bool) { var v string; ok := payload.DecodeScalar(enc, &v); return v, ok },
			func() (any, error) { return payload.Decode[string](enc) })
		check(func() (any, bool) { var v int; ok := payload.DecodeScalar(enc, &v); return v, ok },
			func() (any, error) { return payload.Decode[int](enc) })
		check(func() (any, bool) { var v int64; ok := payload.DecodeScalar(enc, &v); return v, ok },
			func() (any, error) { return payload.Decode[int64](enc) })
		check(func() (any, bool) { var v bool; ok := payload.DecodeScalar(enc, &v); return v, ok },
			func() (any, error) { return payload.Decode[bool](enc) })
	}
	var s string
	assert.True(t, payload.DecodeScalar([]byte{0x63, 'a', 'b', 'c'}, &s))
	assert.Equal(t, "abc", s)
	var n int
	assert.False(t, payload.DecodeScalar([]byte{0x63, 'a', 'b', 'c'}, &n), "a string is not an int")
	var f float64
	assert.False(t, payload.DecodeScalar([]byte{0x01}, &f), "other types take the general path")
}

// A new subject restarts the creation time (a login is a new authenticated
// session); setting the same subject again changes nothing.
func TestSetSubjectRestartsCreation(t *testing.T) {
	c := NewClock(time.Time{})
	m := NewTestManager(t, nil, &Options{Now: c.Now})
	s := newSession(t, m)
	created := s.CreatedAt()
	c.Advance(time.Hour)
	s.SetSubject("alice")
	assert.Equal(t, created.Add(time.Hour), s.CreatedAt())
	c.Advance(time.Hour)
	s.SetSubject("alice")
	assert.Equal(t, created.Add(time.Hour), s.CreatedAt(), "same subject: no change")
}

// Set accepts exactly the nesting a reader accepts: a value is at level 3
// (payload array, values map), so it may hold MaxDepth-2 levels of arrays.
func TestSetDepthBoundary(t *testing.T) {
	s := newSession(t, NewTestManager(t, nil, nil))
	nest := func(n int) any {
		var v any = 1
		for i := 0; i < n; i++ {
			v = []any{v}
		}
		return v
	}
	require.NoError(t, s.Set("ok", nest(payload.MaxDepth-2)))
	assert.Error(t, s.Set("deep", nest(payload.MaxDepth-1)))
	out, err := s.m.Save(context.Background(), s)
	require.NoError(t, err)
	back := load(t, s.m, out)
	assert.True(t, back.Has("ok"), "the deepest value Set accepts loads back")
}
