package sealed

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// RevocationList is a server-side list of ended sessions. A stateless
// cookie stays valid until it expires, so without one, logout and CycleID
// only change what an honest browser holds: a copy of the old cookie
// replays. With one, the old ID is refused.
//
// The interface uses plain types only, so a backend in another module
// (like github.com/sealedgo/sealed/redisrevoke) satisfies it by shape
// without importing this package. Every method must be safe for
// concurrent use and must respect ctx's deadline.
//
// Entry lifetimes are durations, not instants: the Manager computes them
// with its own clock (Options.Now), and a backend counts them down with
// its own (Redis's PX, the process's monotonic clock), so clocks that
// disagree can shorten or lengthen nothing. The only instants are
// creation times, and before and created come from Manager clocks alike.
type RevocationList interface {
	// Revoke marks the session ID as revoked. The entry may be dropped
	// after ttl, when the session would have expired anyway; a ttl of
	// zero or less records nothing.
	Revoke(ctx context.Context, id string, ttl time.Duration) error
	// RevokeSubject revokes every session of subject created before
	// before ("log out everywhere"). The entry may be dropped after ttl.
	// A later call with a later before replaces an earlier one; before is
	// never lowered, and the entry lives for the longer of the two ttls.
	RevokeSubject(ctx context.Context, subject string, before time.Time, ttl time.Duration) error
	// Revoked reports whether the session with this ID, subject ("" for
	// none) and creation time is revoked, by ID or by subject, in one
	// round trip.
	Revoked(ctx context.Context, id, subject string, created time.Time) (bool, error)
}

// ErrNoRevocation is returned by RevokeSubject on a Manager configured
// without a revocation list.
var ErrNoRevocation = errors.New("sealed: no revocation list configured")

func (m *Manager) isRevoked(ctx context.Context, d *decoded) (bool, error) {
	if l, ok := m.revocation.(*MemoryRevocationList); ok {
		return l.revokedID(ctx, &d.id, d.subject, d.created) // no deadline: see revocationContext
	}
	ctx, cancel := m.revocationContext(ctx)
	defer cancel()
	return m.revocation.Revoked(ctx, hex.EncodeToString(d.id[:]), d.subject, time.UnixMilli(d.created))
}

// revocationContext bounds a call to the revocation list by
// Options.RevocationTimeout. The in-memory list is the exception: its
// calls never wait for anything but its own briefly held lock, so a
// deadline could never fire, and creating one (a timer and a context) cost
// more than the lookup itself. The test is on the exact type: a type that
// embeds *MemoryRevocationList may override its methods with calls that
// do block, and keeps the deadline.
func (m *Manager) revocationContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := m.revocation.(*MemoryRevocationList); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, m.revWait)
}

// entryTTL is how long a revocation entry must live: until a session
// created at created (Unix ms) reaches its absolute timeout, with the skew,
// on the Manager's clock.
func (m *Manager) entryTTL(created int64) time.Duration {
	return m.absoluteLeft(m.now(), created) + m.skew
}

// revokeAll revokes the IDs a CycleID or Invalidate left behind.
func (m *Manager) revokeAll(ctx context.Context, revs []revocation) error {
	ctx, cancel := m.revocationContext(ctx)
	defer cancel()
	for _, r := range revs {
		if err := m.revocation.Revoke(ctx, hex.EncodeToString(r.id[:]), m.entryTTL(r.created)); err != nil {
			return fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
	}
	return nil
}

// admitLogin keeps a "log out everywhere" from ending a login made after
// it. RevokeSubject ends the sessions created before its call, by the
// clock of the server that made it; a login on a server whose clock lags
// (by less than ClockSkew) is created "before" it, and would be ended on
// its next request. So a session given a subject in this request is
// looked up once before it is first sealed: if it reads as revoked, the
// revocation came first and cannot have been meant for it, and the caller
// moves its creation time ClockSkew ahead, past the revocation. (Its ID
// is new to the list, so only its subject can match.) d is read with the
// session in phaseSaving, where nothing writes it.
func (m *Manager) loginRevoked(ctx context.Context, d *decoded) (bool, error) {
	revoked, err := m.isRevoked(ctx, d)
	if err != nil {
		if !m.failOpen {
			return false, fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		m.logger.Warn("sealed: revocation list unavailable; failing open as configured", "err", err)
		return false, nil
	}
	return revoked, nil
}

// RevokeSubject ends every existing session whose subject is subject
// ("log out everywhere"): sessions created before now are refused from the
// next request on. A login after the call, on any server whose clock is
// within ClockSkew, is not affected. It needs Options.Revocation.
func (m *Manager) RevokeSubject(ctx context.Context, subject string) error {
	if m.revocation == nil {
		return ErrNoRevocation
	}
	if subject == "" {
		return errors.New("sealed: RevokeSubject: empty subject")
	}
	// Creation times have millisecond resolution and a session is revoked
	// when created < before: revoke through the end of the current
	// millisecond. A login in that same millisecond, or on a server whose
	// clock lags, is let through by loginRevoked.
	before := m.now().UnixMilli() + 1
	ctx, cancel := m.revocationContext(ctx)
	defer cancel()
	if err := m.revocation.RevokeSubject(ctx, subject, time.UnixMilli(before), m.entryTTL(before)); err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return nil
}
