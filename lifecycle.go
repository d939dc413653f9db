package sealed

import (
	"errors"
	"time"
)

// A session's lifecycle, in one place.
//
// Fixed at load, from what the request carried (origin):
//
//	fromNone      no session cookie
//	fromRejected  cookies that did not open: forged, garbled, over budget,
//	              sealed under an unknown key
//	fromEnded     a session that opened but was over: expired or revoked
//	fromOpened    a live session
//
// Changed by the handler, under the session's mutex, while the phase is
// phaseOpen:
//
//	dirty   some mutation ran; save compares the encoded state with orig
//	held    the current ID is the one the client holds (fromOpened, until
//	        CycleID or Invalidate replace it); it is what they revoke
//	pending IDs to revoke when the session is saved (and the deletions
//	        Options.Import asked for)
//	ended   Invalidate ran: the client's session is over for good. Later
//	        writes fill a new session with a new ID; they never bring the
//	        old one back or cancel its revocation
//	login   SetSubject gave the session a new subject: save checks that a
//	        "log out everywhere" made just before does not end it
//
// The phase moves open → saving → committed. In phaseSaving the save is
// talking to the revocation list with no lock held; mutations are refused
// then as after the commit, and a save that fails goes back to phaseOpen
// with the session as it was. Every mutator returns ErrCommitted outside
// phaseOpen: nothing is dropped silently.
//
// What a save writes is decide's answer, and nothing else.

type origin uint8

const (
	fromNone origin = iota
	fromRejected
	fromEnded
	fromOpened
)

type phase uint8

const (
	phaseOpen phase = iota
	phaseSaving
	phaseCommitted
)

// ErrCommitted is returned by a change made after the session was saved:
// after the middleware wrote the response headers, after [Manager.Save],
// or while a save is under way. The change is not made, and it is logged
// at error level.
var ErrCommitted = errors.New("sealed: session modified after it was saved")

// action is what a save writes.
type action uint8

const (
	// writeNothing: the client's cookies stay as they are.
	writeNothing action = iota
	// writeSession: seal the state into the session's chunks and expire
	// the client's chunks beyond them.
	writeSession
	// writeUnlessSame: writeSession, unless the encoded state equals what
	// the client holds (a change undone before the response).
	writeUnlessSame
	// writeRenewal: writeSession asked for by renewal or by re-sealing
	// under the primary key only, not by a change. A session that no
	// longer fits the budget is then served and not written (logged),
	// rather than failing a read-only request.
	writeRenewal
	// expireAll: expire every chunk the client sent.
	expireAll
)

// decide returns what saving s writes at now. s.mu must be held.
//
// Pending revocations are not part of the answer: save performs them
// whatever it writes, so that no later call can drop them.
func (s *Session) decide(now time.Time) action {
	switch {
	case s.ended || s.from == fromEnded:
		// The client's session is over. A new session written to since
		// replaces its cookies; otherwise they are expired, so the client
		// stops presenting (and paying a revocation lookup for) a dead
		// session.
		if !s.empty() {
			return writeSession
		}
		if s.present != 0 {
			return expireAll
		}
		return writeNothing
	case s.from != fromOpened:
		// A new session. Nobody wrote to it: no cookie, and a cookie that
		// did not open is left alone (a key misconfiguration, once fixed,
		// brings those sessions back; the next write replaces it).
		if s.empty() {
			return writeNothing
		}
		return writeSession
	case s.oldKey || now.Sub(time.Unix(s.issuedAt, 0)) >= s.m.renewAfter:
		if s.dirty {
			return writeSession
		}
		return writeRenewal
	case s.dirty:
		return writeUnlessSame
	}
	return writeNothing
}

// mutable reports ErrCommitted (and logs it) unless the session is open to
// changes. s.mu must be held.
func (s *Session) mutable(op string) error {
	if s.phase == phaseOpen {
		return nil
	}
	s.m.logger.Error("sealed: session modified after it was saved; the change is not made", "op", op)
	return ErrCommitted
}

// change runs f, a mutation named op, under the session's lock if the
// session is open to changes; f reports whether it changed anything.
func (s *Session) change(op string, f func() bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.mutable(op); err != nil {
		return err
	}
	if f() {
		s.dirty = true
	}
	return nil
}

// markCommitted closes the session to changes when nothing more can be
// saved: the response went out without it (a failed save, a hijacked
// connection, a panic, a session loaded after the headers were sent).
func (s *Session) markCommitted() {
	s.mu.Lock()
	s.phase = phaseCommitted
	s.mu.Unlock()
}

// IsNew reports whether the session was created by this request: no live
// session cookie came with it (none, or one that was expired, revoked,
// forged or garbled), or [Session.Invalidate] ended the one that did.
func (s *Session) IsNew() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.from != fromOpened || s.ended
}

// empty reports whether the session holds nothing worth a cookie.
func (s *Session) empty() bool {
	return len(s.d.Entries) == 0 && len(s.d.Flashes) == 0 && s.d.Subject == ""
}
