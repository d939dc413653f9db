package redisrevoke

import (
	"math"
	"testing"
	"time"
)

// px rounds up, never down: an entry must not expire before its ttl, and
// a ttl under a millisecond must still store something rather than nothing
// (or PX 0, which Redis refuses).
func TestPXRoundsUp(t *testing.T) {
	for _, c := range []struct {
		ttl, want time.Duration
	}{
		{math.MinInt64, 0},
		{-time.Hour, 0},
		{-time.Nanosecond, 0},
		{0, 0},
		{time.Nanosecond, time.Millisecond},
		{999 * time.Microsecond, time.Millisecond},
		{time.Millisecond, time.Millisecond},
		{time.Millisecond + time.Nanosecond, 2 * time.Millisecond},
		{time.Hour, time.Hour},
		{time.Hour + 1500*time.Microsecond, time.Hour + 2*time.Millisecond},
		{math.MaxInt64, (math.MaxInt64 - time.Millisecond).Truncate(time.Millisecond) + time.Millisecond},
	} {
		got := px(c.ttl)
		if got != c.want {
			t.Errorf("px(%v) = %v, want %v", c.ttl, got, c.want)
		}
		if got%time.Millisecond != 0 || got < 0 {
			t.Errorf("px(%v) = %v: not a whole, non-negative number of milliseconds", c.ttl, got)
		}
	}
}
