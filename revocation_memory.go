package sealed

import (
	"context"
	"errors"
	"maps"
	"math"
	"sync"
	"time"
)

// NewMemoryRevocationList returns an empty [RevocationList] held in this
// process's memory.
//
// It suits a single server, or tests: revocations made on one process are
// not seen by another, and they are lost on restart, after which a copy of
// a logged-out cookie replays again until it expires. A fleet needs a
// shared backend such as github.com/sealedgo/sealed/redisrevoke.
//
// Every entry is forgotten when its ttl, counted on the process's
// monotonic clock, runs out, so memory is bounded by the sessions still
// alive. There is no background goroutine to stop or to leak.
func NewMemoryRevocationList() RevocationList {
	return &memoryList{
		ids:      make(map[string]int64),
		subjects: make(map[string]subjectRevocation),
		sweepAt:  minSweep,
		now:      time.Now,
		epoch:    time.Now(), // lastSweep is 0: a sweep "ran" at creation
	}
}

// memoryList is the in-memory RevocationList. Expired entries are ignored
// on read at once, and removed by a sweep run on writes, when the number
// of entries has doubled since the last sweep or sweepEvery has passed. A
// sweep costs time linear in the number of entries, but the doubling makes
// that constant per write on average. Between sweeps the list holds at
// most about twice the entries that were live at the last one (or
// minSweep, whichever is more).
type memoryList struct {
	mu sync.RWMutex
	// ids maps a revoked session ID to when its entry expires (a tick).
	ids map[string]int64
	// subjects maps a subject to its revocation.
	subjects map[string]subjectRevocation

	// sweepAt is the entry count at which the next write sweeps.
	sweepAt int
	// lastSweep is when the last sweep ran (a tick).
	lastSweep int64

	// now is the clock; tests replace it. Deadlines are ticks, nanoseconds
	// since epoch: an int64 per entry rather than a time.Time, and with
	// time.Now, Sub measures them on the monotonic clock.
	now   func() time.Time
	epoch time.Time
}

type subjectRevocation struct {
	before int64 // Unix ms on the Manager's clock: sessions created earlier are revoked
	until  int64 // tick: when the entry expires
}

const (
	// minSweep keeps a small list from sweeping on every write: below
	// this many entries, memory is no concern and only sweepEvery
	// triggers a sweep.
	minSweep = 1024
	// sweepEvery bounds how long expired entries linger in a list that
	// grows too slowly to reach its doubling threshold.
	sweepEvery = time.Minute
)

// tick reads the list's clock: nanoseconds since l.epoch.
func (l *memoryList) tick() int64 { return int64(l.now().Sub(l.epoch)) }

// deadline returns the tick ttl after now, saturating rather than wrapping
// for a ttl so long it overflows: such an entry never expires.
func deadline(now int64, ttl time.Duration) int64 {
	if now > 0 && int64(ttl) > math.MaxInt64-now {
		return math.MaxInt64
	}
	return now + int64(ttl)
}

// Revoke marks id as revoked for ttl. A ttl of zero or less records
// nothing and is no error: the session has expired anyway. Revoking an ID
// again never shortens its entry.
func (l *memoryList) Revoke(ctx context.Context, id string, ttl time.Duration) error {
	now, u, ok, err := l.admit(ctx, id == "", "Revoke: empty session ID", ttl)
	if !ok {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if old, ok := l.ids[id]; !ok || old < u {
		l.ids[id] = u
	}
	l.maybeSweep(now)
	return nil
}

// RevokeSubject revokes the sessions of subject created before before, to
// the millisecond, for ttl. before is only compared with creation times,
// which come from the Manager's clock as it does, never with this list's
// clock. An earlier revocation with a later before stays in force: before
// is never lowered, and the entry keeps the later of the two deadlines, so
// that neither call's promise is cut short. A ttl of zero or less records
// nothing. An empty subject is an error: it stands for "no subject", and
// revoking it would end nothing the caller meant to end.
func (l *memoryList) RevokeSubject(ctx context.Context, subject string, before time.Time, ttl time.Duration) error {
	now, u, ok, err := l.admit(ctx, subject == "", "RevokeSubject: empty subject", ttl)
	if !ok {
		return err
	}
	b := before.UnixMilli()
	l.mu.Lock()
	defer l.mu.Unlock()
	if old, ok := l.subjects[subject]; ok && old.until > now {
		b = max(b, old.before)
		u = max(u, old.until)
	}
	l.subjects[subject] = subjectRevocation{before: b, until: u}
	l.maybeSweep(now)
	return nil
}

// admit checks a write before it takes the lock. ok is false when there
// is nothing to record: a done ctx or an empty key (empty, with why) is an
// error, a ttl of zero or less is not. Otherwise it returns the tick now
// and the entry's deadline.
func (l *memoryList) admit(ctx context.Context, empty bool, why string, ttl time.Duration) (now, until int64, ok bool, err error) {
	if err := ctx.Err(); err != nil {
		return 0, 0, false, err
	}
	if empty {
		return 0, 0, false, errors.New("sealed: memory revocation list: " + why)
	}
	if ttl <= 0 {
		return 0, 0, false, nil
	}
	now = l.tick()
	return now, deadline(now, ttl), true, nil
}

// Revoked reports whether the session is revoked by its ID, or by its
// subject because it was created in an earlier millisecond than the
// subject's before. Expired entries count as absent.
func (l *memoryList) Revoked(ctx context.Context, id, subject string, created time.Time) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	now := l.tick()
	l.mu.RLock()
	defer l.mu.RUnlock()
	u, ok := l.ids[id]
	return ok && u > now || l.subjectRevoked(subject, created.UnixMilli(), now), nil
}

// subjectRevoked reports whether the session of subject created at
// created (Unix ms) is revoked by its subject at tick now. l.mu must be
// held.
func (l *memoryList) subjectRevoked(subject string, created, now int64) bool {
	if subject == "" {
		return false
	}
	r, ok := l.subjects[subject]
	return ok && r.until > now && created < r.before
}

// Len returns the number of entries held, ID and subject entries together,
// including expired ones a sweep has not removed yet: the figure that
// measures memory use.
func (l *memoryList) Len() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return len(l.ids) + len(l.subjects)
}

// maybeSweep removes expired entries when the list has doubled since the
// last sweep or sweepEvery has passed. l.mu must be held for writing.
func (l *memoryList) maybeSweep(now int64) {
	if len(l.ids)+len(l.subjects) < l.sweepAt && now-l.lastSweep < int64(sweepEvery) {
		return
	}
	l.ids = sweepMap(l.ids, func(u int64) bool { return u > now })
	l.subjects = sweepMap(l.subjects, func(r subjectRevocation) bool { return r.until > now })
	l.sweepAt = max(2*(len(l.ids)+len(l.subjects)), minSweep)
	l.lastSweep = now
}

// sweepMap deletes the entries keep rejects. A Go map never gives back the
// memory of deleted entries, so when most entries went, the survivors move
// to a new map sized for them and the old one is left to the collector:
// otherwise one burst of logouts would hold its peak memory for good.
func sweepMap[V any](m map[string]V, keep func(V) bool) map[string]V {
	before := len(m)
	for k, v := range m {
		if !keep(v) {
			delete(m, k)
		}
	}
	if before < minSweep || len(m) > before/4 {
		return m
	}
	fresh := make(map[string]V, len(m))
	maps.Copy(fresh, m)
	return fresh
}
