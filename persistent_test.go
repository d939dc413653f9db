package sealed

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A session saved with SetPersistent(false) has browser-session cookies,
// and keeps them through renewals, rotation and CycleID, while the
// timeouts sealed inside it still end it.
func TestSetPersistentBrowserSessionCookies(t *testing.T) {
	ctx := context.Background()
	clock := NewClock(time.Time{})
	k1, k2 := GenerateKey("k1"), GenerateKey("k2")
	rot := must(NewRotatingKeyring(must(NewKeyring(k1))))
	m := NewTestManager(t, rot, &Options{Now: clock.Now, IdleTimeout: time.Hour, AbsoluteTimeout: 3 * time.Hour})

	s := newSession(t, m)
	assert.True(t, s.Persistent(), "new sessions are persistent")
	require.NoError(t, s.Set("user", "ada"))
	require.NoError(t, s.SetPersistent(false))
	assert.False(t, s.Persistent())
	lines, err := m.Save(ctx, s)
	require.NoError(t, err)
	requireBrowserSession(t, lines, true)

	// A renewal (over a quarter of the idle timeout later) keeps it.
	clock.Advance(20 * time.Minute)
	s = load(t, m, lines)
	assert.False(t, s.IsNew())
	assert.False(t, s.Persistent())
	renewed, err := m.Save(ctx, s)
	require.NoError(t, err)
	require.NotEmpty(t, renewed, "a renewal was due")
	requireBrowserSession(t, renewed, true)

	// So does re-sealing under a new primary key, and CycleID.
	require.NoError(t, rot.Swap(must(NewKeyring(k2, k1))))
	s = load(t, m, renewed)
	require.False(t, s.IsNew(), "opens under the old key")
	require.NoError(t, s.CycleID())
	cycled, err := m.Save(ctx, s)
	require.NoError(t, err)
	requireBrowserSession(t, cycled, true)

	// Idle timeout still applies: the cookie lives as long as the browser,
	// the session does not.
	clock.Advance(time.Hour + 2*time.Minute)
	assert.True(t, load(t, m, cycled).IsNew(), "the idle timeout ends a browser-session session")
}

func TestSetPersistentRoundTripAndInvalidate(t *testing.T) {
	ctx := context.Background()
	m := NewTestManager(t, nil, nil)
	s := newSession(t, m)
	require.NoError(t, s.Set("a", 1))
	require.NoError(t, s.SetPersistent(false))
	lines, err := m.Save(ctx, s)
	require.NoError(t, err)

	// Back to persistent ("remember me" ticked at the next login): a change,
	// written with a Max-Age.
	s = load(t, m, lines)
	require.NoError(t, s.SetPersistent(true))
	back, err := m.Save(ctx, s)
	require.NoError(t, err)
	require.NotEmpty(t, back)
	requireBrowserSession(t, back, false)

	// Setting what is already there is no change: nothing to write.
	s = load(t, m, back)
	require.NoError(t, s.SetPersistent(true))
	none, err := m.Save(ctx, s)
	require.NoError(t, err)
	assert.Empty(t, none)

	// Invalidate's new session is persistent again.
	s = load(t, m, lines)
	require.NoError(t, s.Invalidate())
	assert.True(t, s.Persistent())
	require.NoError(t, s.Set("b", 2))
	fresh, err := m.Save(ctx, s)
	require.NoError(t, err)
	requireBrowserSession(t, fresh, false)

	// After the save, the choice is refused like any change.
	assert.ErrorIs(t, s.SetPersistent(false), ErrCommitted)
}

// requireBrowserSession checks that every chunk line (not the deletions)
// has no Max-Age or Expires when want, and a positive Max-Age otherwise.
func requireBrowserSession(t *testing.T, lines []string, want bool) {
	t.Helper()
	n := 0
	for _, c := range parseLines(t, lines) {
		if c.MaxAge < 0 {
			continue
		}
		n++
		if want {
			assert.Zero(t, c.MaxAge, "browser-session cookie %s has a Max-Age", c.Name)
			assert.True(t, c.Expires.IsZero(), "browser-session cookie %s has an Expires", c.Name)
		} else {
			assert.Positive(t, c.MaxAge, "persistent cookie %s", c.Name)
		}
	}
	require.Positive(t, n, "no session cookie written")
}
