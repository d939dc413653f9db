package sealed

import (
	"context"
	"time"
)

// Event is what [Options].Observer is told about one load, one save or
// one call to the revocation list. Its strings come from the fixed sets
// below, so they make good metric labels; no field holds a key, a cookie
// value or session contents.
type Event struct {
	// Op is "load", "save" or "revocation".
	Op string
	// Outcome, for a load: "opened"; "new" (no session cookie);
	// "imported" (none opened, and Options.Import filled the new session);
	// "rejected" (cookies that did not open, Reason says why); "expired"
	// (Reason "idle" or "absolute"); "revoked"; or "failed" (the
	// revocation list could not be asked, Err says why).
	//
	// For a save: "written"; "unchanged" (nothing to write); "expired"
	// (the client's cookies deleted, after Invalidate); "too large" (Err
	// is a [*TooLargeError]: the save failed, or a renewal was skipped and
	// the request served as it was); or "failed" (Err says why).
	//
	// For a revocation call: "ok" or "error".
	Outcome string
	// Reason, for a rejected load, is the class of the failure: "cookie"
	// (the cookies do not form one sealed value: chunks missing or
	// doubled, over the budget, not base64), "format" (not a sealed value
	// of this version), "key" (sealed under a key id the keyring does not
	// hold), "auth" (forged, altered, or sealed for another purpose or
	// cookie name), "payload" (authentic but not a valid session: a writer
	// bug) or "time" (issued in the future, beyond ClockSkew). For an
	// expired load, "idle" or "absolute". For a revocation call, the
	// method: "Revoked", "Revoke" or "RevokeSubject".
	Reason string
	// KeyID is the id of the key an opened session was sealed under, and
	// OldKey reports that it is not the primary key. Once no load reports
	// OldKey for an old key (for longer than IdleTimeout), the key can
	// leave the keyring without logging anyone out.
	KeyID  string
	OldKey bool
	// Bytes and Chunks, for a save that wrote, are the size of the
	// Set-Cookie values written and the number of chunk cookies among
	// them.
	Bytes, Chunks int
	// Duration is how long a revocation call took.
	Duration time.Duration
	// Err is the error of a failed load, save or revocation call.
	Err error
}

// observe hands ev to the observer, if there is one and ev happened. It is
// called with no lock held.
func (m *Manager) observe(ctx context.Context, ev *Event) {
	if m.observer != nil && ev.Outcome != "" {
		m.observer(ctx, *ev)
	}
}

// callStart is when a revocation call starts, for its Duration; it reads
// no clock when nobody observes.
func (m *Manager) callStart() time.Time {
	if m.observer == nil {
		return time.Time{}
	}
	return time.Now()
}

// observeCall reports a revocation call that started at start.
func (m *Manager) observeCall(ctx context.Context, method string, start time.Time, err error) {
	if m.observer == nil {
		return
	}
	ev := Event{Op: "revocation", Outcome: "ok", Reason: method, Duration: time.Since(start), Err: err}
	if err != nil {
		ev.Outcome = "error"
	}
	m.observer(ctx, ev)
}
