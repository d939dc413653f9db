package sealed

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealedgo/sealed/internal/inspect"
)

// The demo's view reports a session expired exactly when its Manager
// refuses it: past the idle timeout by more than the clock skew.
func TestInspectOfManagerAppliesClockSkew(t *testing.T) {
	c := NewClock(time.Time{})
	m := NewTestManager(t, nil, &Options{AllowInsecure: true, Now: c.Now, IdleTimeout: time.Hour, ClockSkew: 5 * time.Minute})
	header := savedHeader(t, m, map[string]any{"n": 3})
	for _, after := range []time.Duration{time.Hour + time.Minute, time.Hour + 5*time.Minute, time.Hour + 5*time.Minute + time.Millisecond} {
		c.Set(Epoch.Add(after))
		in, err := inspect.OfManager(m, header)
		require.NoError(t, err)
		s, err := m.Load(t.Context(), header)
		require.NoError(t, err)
		assert.Equal(t, s.IsNew(), in.Expired, "at +%v", after)
		assert.Equal(t, after > time.Hour+5*time.Minute, in.Expired, "at +%v", after)
	}
}
