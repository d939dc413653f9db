package sealed

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/sealedgo/sealed/internal/payload"
)

// RevocationList is a server-side list of ended sessions. Without one, a
// copy of a cookie taken before logout or CycleID replays until it
// expires; with one, the old ID is refused.
//
// The interface uses plain types only, so a backend in another module
// (github.com/sealedgo/sealed/redisrevoke) satisfies it without importing
// this package; github.com/sealedgo/sealed/revoketest is its conformance
// suite. Every method must be safe for concurrent use and respect ctx's
// deadline (Options.RevocationTimeout). Lifetimes are durations that the
// Manager computes on its clock and the backend counts down on its own,
// so clocks that disagree shorten nothing; the only instants are creation
// times, which come from Manager clocks alike.
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

// errNoRevocation is returned by RevokeSubject on a Manager configured
// without a revocation list.
var errNoRevocation = errors.New("sealed: RevokeSubject: no revocation list configured (Options.Revocation)")

func (m *Manager) isRevoked(ctx context.Context, d *payload.State) (bool, error) {
	cctx, cancel := context.WithTimeout(ctx, m.revWait)
	defer cancel()
	start := m.callStart()
	revoked, err := m.revocation.Revoked(cctx, hex.EncodeToString(d.ID[:]), d.Subject, time.UnixMilli(d.Created))
	m.observeCall(ctx, "Revoked", start, err)
	return revoked, err
}

// entryTTL is how long a revocation entry must live: until a session
// created at created (Unix ms) reaches its absolute timeout, with the skew,
// on the Manager's clock.
func (m *Manager) entryTTL(created int64) time.Duration {
	return m.absoluteLeft(m.now(), created) + m.skew
}

// revokeAll revokes the IDs a CycleID or Invalidate left behind.
func (m *Manager) revokeAll(ctx context.Context, revs []revocation) error {
	cctx, cancel := context.WithTimeout(ctx, m.revWait)
	defer cancel()
	for _, r := range revs {
		start := m.callStart()
		err := m.revocation.Revoke(cctx, hex.EncodeToString(r.id[:]), m.entryTTL(r.created))
		m.observeCall(ctx, "Revoke", start, err)
		if err != nil {
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
func (m *Manager) loginRevoked(ctx context.Context, d *payload.State) (bool, error) {
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
// within ClockSkew, is not affected. It needs [Options].Revocation.
func (m *Manager) RevokeSubject(ctx context.Context, subject string) error {
	if m.revocation == nil {
		return errNoRevocation
	}
	if subject == "" {
		return errors.New("sealed: RevokeSubject: empty subject")
	}
	// Creation times have millisecond resolution and a session is revoked
	// when created < before: revoke through the end of the current
	// millisecond. A login in that same millisecond, or on a server whose
	// clock lags, is let through by loginRevoked.
	before := m.now().UnixMilli() + 1
	cctx, cancel := context.WithTimeout(ctx, m.revWait)
	defer cancel()
	start := m.callStart()
	err := m.revocation.RevokeSubject(cctx, subject, time.UnixMilli(before), m.entryTTL(before))
	m.observeCall(ctx, "RevokeSubject", start, err)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return nil
}
