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
type RevocationList interface {
	// Revoke marks the session ID as revoked. The entry may be dropped
	// after until, when the session would have expired anyway.
	Revoke(ctx context.Context, id string, until time.Time) error
	// RevokeSubject revokes every session of subject created before
	// before ("log out everywhere"). The entry may be dropped after until.
	// A later call with a later before replaces an earlier one.
	RevokeSubject(ctx context.Context, subject string, before, until time.Time) error
	// Revoked reports whether the session with this ID, subject ("" for
	// none) and creation time is revoked, by ID or by subject, in one
	// round trip.
	Revoked(ctx context.Context, id, subject string, created time.Time) (bool, error)
}

// ErrNoRevocation is returned by RevokeSubject on a Manager configured
// without a revocation list.
var ErrNoRevocation = errors.New("sealed: no revocation list configured")

func (m *Manager) isRevoked(ctx context.Context, s *Session) (bool, error) {
	if l, ok := m.revocation.(*MemoryRevocationList); ok {
		return l.revokedID(ctx, &s.d.id, s.d.subject, s.d.created) // no deadline: see revocationContext
	}
	ctx, cancel := m.revocationContext(ctx)
	defer cancel()
	return m.revocation.Revoked(ctx, hex.EncodeToString(s.d.id[:]), s.d.subject, time.UnixMilli(s.d.created))
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

// revokePending revokes the IDs a CycleID or Invalidate left behind. Each
// entry lives until the session it ends would have reached its absolute
// timeout. s.mu must be held.
func (m *Manager) revokePending(ctx context.Context, s *Session) error {
	if m.revocation == nil || len(s.revoke) == 0 {
		s.revoke = nil
		return nil
	}
	ctx, cancel := m.revocationContext(ctx)
	defer cancel()
	for _, r := range s.revoke {
		until := time.UnixMilli(r.created).Add(m.absolute + m.skew)
		if err := m.revocation.Revoke(ctx, hex.EncodeToString(r.id[:]), until); err != nil {
			return fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
	}
	s.revoke = nil
	return nil
}

// RevokeSubject ends every existing session whose subject is subject
// ("log out everywhere"): sessions created before now are refused from the
// next request on. It needs Options.Revocation.
func (m *Manager) RevokeSubject(ctx context.Context, subject string) error {
	if m.revocation == nil {
		return ErrNoRevocation
	}
	if subject == "" {
		return errors.New("sealed: RevokeSubject: empty subject")
	}
	// Creation times have millisecond resolution and a session is revoked
	// when created < before. Revoke through the end of the current
	// millisecond, then wait until the clock has passed it: every session
	// created before the call is ended, and a login after it survives.
	now := m.now()
	before := time.UnixMilli(now.UnixMilli() + 1)
	ctx, cancel := m.revocationContext(ctx)
	defer cancel()
	if err := m.revocation.RevokeSubject(ctx, subject, before, before.Add(m.absolute+m.skew)); err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	// A bounded wait: an injected clock that does not move must not hang.
	for deadline := time.Now().Add(2 * time.Millisecond); m.now().Before(before) && time.Now().Before(deadline); {
		time.Sleep(100 * time.Microsecond)
	}
	return nil
}
