package sealed

import (
	"context"
	"encoding/hex"
	"math"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newClockedList returns a list that runs on clock, as if created at its
// current time.
func newClockedList(clock *fakeClock) *MemoryRevocationList {
	l := NewMemoryRevocationList()
	l.now = clock.now
	l.epoch = clock.now()
	return l
}

func TestMemoryRevocationListSweepsExpired(t *testing.T) {
	ctx := t.Context()
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	l := newClockedList(clock)

	// A burst of logouts, all ending within the hour.
	const burst = 10 * minSweep
	for i := range burst {
		require.NoError(t, l.Revoke(ctx, "a"+strconv.Itoa(i), time.Hour))
	}
	require.NoError(t, l.RevokeSubject(ctx, "alice", clock.now(), time.Hour))
	assert.Equal(t, burst+1, l.Len())

	// After the hour, reads ignore the entries at once...
	clock.advance(time.Hour + time.Second)
	r, err := l.Revoked(ctx, "a1", "alice", clock.now().Add(-2*time.Hour))
	require.NoError(t, err)
	assert.False(t, r)

	// ...and the writes that follow sweep them: the list holds only what
	// is still live, well before it could double.
	for i := range minSweep {
		require.NoError(t, l.Revoke(ctx, "b"+strconv.Itoa(i), time.Hour))
	}
	assert.LessOrEqual(t, l.Len(), minSweep, "expired entries swept")

	// A slow trickle of writes that never doubles the list still sweeps
	// once sweepEvery has passed.
	clock.advance(2 * time.Hour)
	require.NoError(t, l.Revoke(ctx, "c", time.Hour))
	assert.Equal(t, 1, l.Len())
}

func TestMemoryRevocationListNeverShortens(t *testing.T) {
	ctx := t.Context()
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	l := newClockedList(clock)
	start := clock.now()

	require.NoError(t, l.Revoke(ctx, "id", 2*time.Hour))
	require.NoError(t, l.Revoke(ctx, "id", time.Hour))
	require.NoError(t, l.Revoke(ctx, "id", 0), "a ttl of zero neither records nor removes")
	// The later before comes with the shorter ttl; neither is lost.
	require.NoError(t, l.RevokeSubject(ctx, "alice", start, 2*time.Hour))
	require.NoError(t, l.RevokeSubject(ctx, "alice", start.Add(time.Minute), time.Hour))

	clock.advance(90 * time.Minute)
	r, err := l.Revoked(ctx, "id", "", start)
	require.NoError(t, err)
	assert.True(t, r, "ID entry keeps the longer ttl")
	r, err = l.Revoked(ctx, "other", "alice", start.Add(30*time.Second))
	require.NoError(t, err)
	assert.True(t, r, "subject entry keeps the later before and the longer ttl")

	// Each ttl counts from its own call: revoking again later extends the
	// entry past the first call's deadline.
	require.NoError(t, l.Revoke(ctx, "id", time.Hour))
	require.NoError(t, l.RevokeSubject(ctx, "alice", start, time.Hour))
	clock.advance(time.Hour - time.Second) // 2h29m59s after start
	r, err = l.Revoked(ctx, "id", "alice", start.Add(30*time.Second))
	require.NoError(t, err)
	assert.True(t, r, "extended by the later call")
	clock.advance(2 * time.Second)
	r, err = l.Revoked(ctx, "id", "alice", start.Add(30*time.Second))
	require.NoError(t, err)
	assert.False(t, r, "expired at the later call's deadline")
}

// Lifetimes count on the list's clock alone; before and created are only
// compared with each other. A Manager whose clock is decades off the
// list's (Options.Now in the past or the future) still revokes, for as
// long as the ttl says. With absolute expiry instants, such a Manager's
// revocations were recorded as already expired (or as lasting decades).
func TestMemoryRevocationListTTLOnOwnClock(t *testing.T) {
	ctx := t.Context()
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	for _, managerNow := range []time.Time{
		time.Date(2001, 9, 9, 1, 46, 40, 0, time.UTC),
		time.Date(2150, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		l := newClockedList(clock)
		start := clock.now()
		require.NoError(t, l.Revoke(ctx, "id", time.Hour))
		require.NoError(t, l.RevokeSubject(ctx, "alice", managerNow, time.Hour))

		check := func(want bool, what string) {
			t.Helper()
			r, err := l.Revoked(ctx, "id", "", managerNow)
			require.NoError(t, err)
			assert.Equal(t, want, r, "%s: ID (manager at %v)", what, managerNow)
			r, err = l.Revoked(ctx, "other", "alice", managerNow.Add(-time.Millisecond))
			require.NoError(t, err)
			assert.Equal(t, want, r, "%s: subject (manager at %v)", what, managerNow)
		}
		check(true, "just revoked")
		r, err := l.Revoked(ctx, "other", "alice", managerNow)
		require.NoError(t, err)
		assert.False(t, r, "created at before is not revoked (manager at %v)", managerNow)
		clock.advance(start.Add(time.Hour - time.Nanosecond).Sub(clock.now()))
		check(true, "a nanosecond before the ttl ends")
		clock.advance(time.Nanosecond)
		check(false, "once the ttl has passed")
	}
}

func TestMemoryRevocationListNonPositiveTTL(t *testing.T) {
	ctx := t.Context()
	l := NewMemoryRevocationList()
	now := time.Now()
	for _, ttl := range []time.Duration{0, -time.Nanosecond, -time.Hour, math.MinInt64} {
		require.NoError(t, l.Revoke(ctx, "id", ttl), "ttl %v", ttl)
		require.NoError(t, l.RevokeSubject(ctx, "alice", now, ttl), "ttl %v", ttl)
	}
	assert.Zero(t, l.Len(), "nothing recorded")
	r, err := l.Revoked(ctx, "id", "alice", now.Add(-time.Hour))
	require.NoError(t, err)
	assert.False(t, r)
}

// A ttl too long to add to the clock saturates: the entry never expires,
// instead of wrapping to a deadline in the past.
func TestMemoryRevocationListHugeTTL(t *testing.T) {
	ctx := t.Context()
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	l := newClockedList(clock)
	clock.advance(time.Hour) // a positive tick, so that now+ttl overflows
	start := clock.now()
	require.NoError(t, l.Revoke(ctx, "id", math.MaxInt64))
	require.NoError(t, l.RevokeSubject(ctx, "alice", start, math.MaxInt64))
	clock.advance(100 * 365 * 24 * time.Hour)
	r, err := l.Revoked(ctx, "id", "", start)
	require.NoError(t, err)
	assert.True(t, r, "ID")
	r, err = l.Revoked(ctx, "other", "alice", start.Add(-time.Millisecond))
	require.NoError(t, err)
	assert.True(t, r, "subject")
}

func TestMemoryRevocationListRejectsEmpty(t *testing.T) {
	l := NewMemoryRevocationList()
	assert.Error(t, l.Revoke(context.Background(), "", time.Hour))
	assert.Error(t, l.RevokeSubject(context.Background(), "", time.Now(), time.Hour))
	assert.Zero(t, l.Len())
}

// The in-memory list never blocks, so its calls go without the per-call
// deadline (a timer and a context per request); every other list, even one
// built on it, gets one (see TestRevocationTimeoutBoundsEveryCall).
func TestMemoryRevocationListCallsHaveNoDeadline(t *testing.T) {
	m := testManager(t, &Options{Revocation: NewMemoryRevocationList()})
	parent := context.Background()
	ctx, cancel := m.revocationContext(parent)
	defer cancel()
	assert.Equal(t, parent, ctx)

	type wrapper struct{ *MemoryRevocationList }
	m = testManager(t, &Options{Revocation: wrapper{NewMemoryRevocationList()}})
	ctx, cancel = m.revocationContext(parent)
	defer cancel()
	_, ok := ctx.Deadline()
	assert.True(t, ok, "a type embedding the in-memory list keeps the deadline")
}

// revokedID, the Manager's allocation-free lookup, answers as Revoked does
// for every kind of entry: by ID, by subject on both sides of before, and
// once entries have expired; and it refuses a done context the same way.
func TestMemoryRevocationListRevokedIDAgrees(t *testing.T) {
	ctx := t.Context()
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	l := newClockedList(clock)
	start := clock.now()
	revokedID, otherID := newID(), newID()
	require.NoError(t, l.Revoke(ctx, hex.EncodeToString(revokedID[:]), time.Hour))
	require.NoError(t, l.RevokeSubject(ctx, "alice", start, time.Hour))

	check := func(id [16]byte, subject string, created time.Time, want bool) {
		t.Helper()
		got, err := l.Revoked(ctx, hex.EncodeToString(id[:]), subject, created)
		require.NoError(t, err)
		require.Equal(t, want, got, "Revoked")
		got, err = l.revokedID(ctx, &id, subject, created.UnixMilli())
		require.NoError(t, err)
		assert.Equal(t, want, got, "revokedID(%x, %q, %v)", id, subject, created)
	}
	check(revokedID, "", start, true)
	check(revokedID, "bob", start, true)
	check(otherID, "", start.Add(-time.Minute), false)
	check(otherID, "alice", start.Add(-time.Millisecond), true)
	check(otherID, "alice", start, false)
	check(otherID, "bob", start.Add(-time.Minute), false)
	clock.advance(time.Hour + time.Second)
	check(revokedID, "alice", start.Add(-time.Minute), false)

	done, cancel := context.WithCancel(ctx)
	cancel()
	_, err := l.revokedID(done, &revokedID, "", start.UnixMilli())
	assert.ErrorIs(t, err, context.Canceled)
}
