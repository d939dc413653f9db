package sealed

import (
	"context"
	"encoding/hex"
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

func TestMemoryRevocationListSweepsExpired(t *testing.T) {
	ctx := t.Context()
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	l := NewMemoryRevocationList()
	l.now = clock.now
	l.lastSweep = clock.now().UnixNano()

	// A burst of logouts, all ending within the hour.
	const burst = 10 * minSweep
	for i := range burst {
		require.NoError(t, l.Revoke(ctx, "a"+strconv.Itoa(i), clock.now().Add(time.Hour)))
	}
	require.NoError(t, l.RevokeSubject(ctx, "alice", clock.now(), clock.now().Add(time.Hour)))
	assert.Equal(t, burst+1, l.Len())

	// After the hour, reads ignore the entries at once...
	clock.advance(time.Hour + time.Second)
	r, err := l.Revoked(ctx, "a1", "alice", clock.now().Add(-2*time.Hour))
	require.NoError(t, err)
	assert.False(t, r)

	// ...and the writes that follow sweep them: the list holds only what
	// is still live, well before it could double.
	for i := range minSweep {
		require.NoError(t, l.Revoke(ctx, "b"+strconv.Itoa(i), clock.now().Add(time.Hour)))
	}
	assert.LessOrEqual(t, l.Len(), minSweep, "expired entries swept")

	// A slow trickle of writes that never doubles the list still sweeps
	// once sweepEvery has passed.
	clock.advance(2 * time.Hour)
	require.NoError(t, l.Revoke(ctx, "c", clock.now().Add(time.Hour)))
	assert.Equal(t, 1, l.Len())
}

func TestMemoryRevocationListNeverShortens(t *testing.T) {
	ctx := t.Context()
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	l := NewMemoryRevocationList()
	l.now = clock.now
	start := clock.now()

	require.NoError(t, l.Revoke(ctx, "id", start.Add(2*time.Hour)))
	require.NoError(t, l.Revoke(ctx, "id", start.Add(time.Hour)))
	// The later before comes with the shorter until; neither is lost.
	require.NoError(t, l.RevokeSubject(ctx, "alice", start, start.Add(2*time.Hour)))
	require.NoError(t, l.RevokeSubject(ctx, "alice", start.Add(time.Minute), start.Add(time.Hour)))

	clock.advance(90 * time.Minute)
	r, err := l.Revoked(ctx, "id", "", start)
	require.NoError(t, err)
	assert.True(t, r, "ID entry keeps the later until")
	r, err = l.Revoked(ctx, "other", "alice", start.Add(30*time.Second))
	require.NoError(t, err)
	assert.True(t, r, "subject entry keeps the later before and the later until")
}

func TestMemoryRevocationListRejectsEmpty(t *testing.T) {
	l := NewMemoryRevocationList()
	until := time.Now().Add(time.Hour)
	assert.Error(t, l.Revoke(context.Background(), "", until))
	assert.Error(t, l.RevokeSubject(context.Background(), "", time.Now(), until))
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
	l := NewMemoryRevocationList()
	l.now = clock.now
	start := clock.now()
	revokedID, otherID := newID(), newID()
	require.NoError(t, l.Revoke(ctx, hex.EncodeToString(revokedID[:]), start.Add(time.Hour)))
	require.NoError(t, l.RevokeSubject(ctx, "alice", start, start.Add(time.Hour)))

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
