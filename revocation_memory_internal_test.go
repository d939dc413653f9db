package sealed

import (
	"context"
	"math"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMemoryRevocationListSweepsExpired(t *testing.T) {
	ctx := t.Context()
	clock := NewClock(time.Time{})
	l := clockedList(clock)

	// A burst of logouts, all ending within the hour.
	const burst = 10 * minSweep
	for i := range burst {
		require.NoError(t, l.Revoke(ctx, "a"+strconv.Itoa(i), time.Hour))
	}
	require.NoError(t, l.RevokeSubject(ctx, "alice", clock.Now(), time.Hour))
	assert.Equal(t, burst+1, l.Len())

	// After the hour, reads ignore the entries at once...
	clock.Advance(time.Hour + time.Second)
	r, err := l.Revoked(ctx, "a1", "alice", clock.Now().Add(-2*time.Hour))
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
	clock.Advance(2 * time.Hour)
	require.NoError(t, l.Revoke(ctx, "c", time.Hour))
	assert.Equal(t, 1, l.Len())
}

func TestMemoryRevocationListNeverShortens(t *testing.T) {
	ctx := t.Context()
	clock := NewClock(time.Time{})
	l := clockedList(clock)
	start := clock.Now()

	require.NoError(t, l.Revoke(ctx, "id", 2*time.Hour))
	require.NoError(t, l.Revoke(ctx, "id", time.Hour))
	require.NoError(t, l.Revoke(ctx, "id", 0), "a ttl of zero neither records nor removes")
	// The later before comes with the shorter ttl; neither is lost.
	require.NoError(t, l.RevokeSubject(ctx, "alice", start, 2*time.Hour))
	require.NoError(t, l.RevokeSubject(ctx, "alice", start.Add(time.Minute), time.Hour))

	clock.Advance(90 * time.Minute)
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
	clock.Advance(time.Hour - time.Second) // 2h29m59s after start
	r, err = l.Revoked(ctx, "id", "alice", start.Add(30*time.Second))
	require.NoError(t, err)
	assert.True(t, r, "extended by the later call")
	clock.Advance(2 * time.Second)
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
	clock := NewClock(time.Time{})
	for _, managerNow := range []time.Time{
		time.Date(2001, 9, 9, 1, 46, 40, 0, time.UTC),
		time.Date(2150, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		l := clockedList(clock)
		start := clock.Now()
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
		clock.Advance(start.Add(time.Hour - time.Nanosecond).Sub(clock.Now()))
		check(true, "a nanosecond before the ttl ends")
		clock.Advance(time.Nanosecond)
		check(false, "once the ttl has passed")
	}
}

func TestMemoryRevocationListNonPositiveTTL(t *testing.T) {
	ctx := t.Context()
	l := NewMemoryRevocationList().(*memoryList)
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
	clock := NewClock(time.Time{})
	l := clockedList(clock)
	clock.Advance(time.Hour) // a positive tick, so that now+ttl overflows
	start := clock.Now()
	require.NoError(t, l.Revoke(ctx, "id", math.MaxInt64))
	require.NoError(t, l.RevokeSubject(ctx, "alice", start, math.MaxInt64))
	clock.Advance(100 * 365 * 24 * time.Hour)
	r, err := l.Revoked(ctx, "id", "", start)
	require.NoError(t, err)
	assert.True(t, r, "ID")
	r, err = l.Revoked(ctx, "other", "alice", start.Add(-time.Millisecond))
	require.NoError(t, err)
	assert.True(t, r, "subject")
}

func TestMemoryRevocationListRejectsEmpty(t *testing.T) {
	l := NewMemoryRevocationList().(*memoryList)
	assert.Error(t, l.Revoke(context.Background(), "", time.Hour))
	assert.Error(t, l.RevokeSubject(context.Background(), "", time.Now(), time.Hour))
	assert.Zero(t, l.Len())
}

// The Manager treats every list alike, the in-memory one included: each
// call (Revoked, Revoke, RevokeSubject) gets a deadline RevocationTimeout
// away. The calls are watched through a list that delegates to the
// in-memory one.
func TestRevocationCallsHaveDeadline(t *testing.T) {
	const wait = 3 * time.Second
	rec := &deadlineList{RevocationList: NewMemoryRevocationList()}
	m := NewTestManager(t, nil, &Options{Revocation: rec, RevocationTimeout: wait})
	ctx := t.Context()

	start := time.Now()
	s := newSession(t, m)
	require.NoError(t, s.SetSubject("alice")) // a login: looked up once before it is sealed
	lines, err := m.Save(ctx, s)
	require.NoError(t, err)
	s = load(t, m, lines) // looked up
	require.False(t, s.IsNew())
	require.NoError(t, s.Invalidate())
	_, err = m.Save(ctx, s) // revokes the ID
	require.NoError(t, err)
	require.NoError(t, m.RevokeSubject(ctx, "alice"))
	end := time.Now()

	rec.mu.Lock()
	defer rec.mu.Unlock()
	assert.Equal(t, []string{"Revoked", "Revoked", "Revoke", "RevokeSubject"}, rec.calls)
	require.Len(t, rec.deadlines, len(rec.calls))
	for i, d := range rec.deadlines {
		if assert.False(t, d.IsZero(), "%s has no deadline", rec.calls[i]) {
			assert.False(t, d.Before(start.Add(wait)) || d.After(end.Add(wait)), "%s: deadline %v, want RevocationTimeout after the call", rec.calls[i], d)
		}
	}
}

// deadlineList records each call's name and deadline (zero for none).
type deadlineList struct {
	RevocationList
	mu        sync.Mutex
	calls     []string
	deadlines []time.Time
}

func (l *deadlineList) note(ctx context.Context, call string) {
	d, _ := ctx.Deadline()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, call)
	l.deadlines = append(l.deadlines, d)
}

func (l *deadlineList) Revoke(ctx context.Context, id string, ttl time.Duration) error {
	l.note(ctx, "Revoke")
	return l.RevocationList.Revoke(ctx, id, ttl)
}

func (l *deadlineList) RevokeSubject(ctx context.Context, subject string, before time.Time, ttl time.Duration) error {
	l.note(ctx, "RevokeSubject")
	return l.RevocationList.RevokeSubject(ctx, subject, before, ttl)
}

func (l *deadlineList) Revoked(ctx context.Context, id, subject string, created time.Time) (bool, error) {
	l.note(ctx, "Revoked")
	return l.RevocationList.Revoked(ctx, id, subject, created)
}
