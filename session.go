package sealed

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/sealedgo/sealed/internal/cookie"
	"github.com/sealedgo/sealed/internal/payload"
)

// Session is one user's session state: an ID, a creation time, an optional
// subject, values under string keys and flash messages.
//
// A Session belongs to one request but owns its memory: one kept past the
// request reads as before, and refuses changes with [ErrCommitted] once it
// was saved. Its methods are safe for concurrent use, and none calls user
// code (an UnmarshalCBOR, say) with the session's lock held.
type Session struct {
	mu sync.Mutex
	m  *Manager

	d payload.State
	// inl is the index storage of a session with few keys, so that a
	// load allocates no index of its own.
	inl [8]payload.Entry

	// What the request carried (see lifecycle.go).
	from     origin
	present  cookie.Mask // the session's chunk cookies the request carried, for the cookie layer
	issuedAt int64       // when the incoming cookie was sealed, Unix seconds (fromOpened)
	// orig is the payload the request carried (fromOpened), which entries
	// point into. Nothing else refers to it: it is this session's alone.
	orig []byte

	oldKey bool // the incoming cookie opened under a non-primary key

	// What this request did.
	phase phase
	dirty bool
	held  bool
	ended bool
	login bool
	// pending is what few requests have, kept apart so that a Session,
	// which every load allocates, stays within 568 bytes: with the
	// allocator's 8-byte header, the 576-byte size class.
	pending *pending
}

type pending struct {
	revoke   []revocation // IDs to revoke when the session is saved
	imported []string     // deletions of the cookies Options.Import took the session from
}

// queue returns s.pending, made on first use. s.mu must be held.
func (s *Session) queue() *pending {
	if s.pending == nil {
		s.pending = new(pending)
	}
	return s.pending
}

type revocation struct {
	id      [16]byte
	created int64 // Unix ms, for the entry's lifetime
}

func newID() (id [16]byte) {
	rand.Read(id[:])
	return id
}

// ID returns the session ID as 32 lowercase hex digits: an identifier, not
// a secret, but keep it out of logs like any other session content.
func (s *Session) ID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return hex.EncodeToString(s.d.ID[:])
}

// CreatedAt returns when the session was created (or last given a new
// subject), to the millisecond. It survives CycleID and re-sealing; the
// absolute timeout counts from it.
func (s *Session) CreatedAt() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return time.UnixMilli(s.d.Created)
}

// Subject returns the subject set with [Session.SetSubject], or "".
func (s *Session) Subject() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.d.Subject
}

// SetSubject records whom the session belongs to, typically the user ID at
// login; [Manager.RevokeSubject] ends every session of a subject.
// Changing the subject restarts the creation time, and so the absolute
// timeout: a login begins a new authenticated session, which a "log out
// everywhere" made before it does not end. It returns [ErrCommitted] after
// the session was saved.
func (s *Session) SetSubject(subject string) error {
	return s.change("SetSubject", func() bool {
		if s.d.Subject == subject {
			return false
		}
		s.d.Subject = subject
		s.d.Created = s.m.now().UnixMilli()
		s.login = subject != ""
		return true
	})
}

// Get reads key into a T. It returns ok=false and no error when the key is
// absent, and an error when the stored value does not decode as a T. It
// decodes a private copy with the session unlocked: the result never
// aliases the session (change it and [Session.Set] it back to store the
// change). Get[cbor.RawMessage] returns the value's CBOR as stored.
func Get[T any](s *Session, key string) (value T, ok bool, err error) {
	s.mu.Lock()
	i, ok := s.d.Find(key)
	if !ok {
		s.mu.Unlock()
		return value, false, nil
	}
	val := s.d.Entries[i].Val
	if payload.DecodeScalar(val, &value) {
		s.mu.Unlock()
		return value, true, nil
	}
	val = slices.Clone(val)
	s.mu.Unlock()
	value, err = payload.Decode[T](val)
	if err != nil {
		return value, true, fmt.Errorf("sealed: session key %q: %w", key, err)
	}
	return value, true, nil
}

// Has reports whether key is set.
func (s *Session) Has(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.d.Find(key)
	return ok
}

// Keys returns the keys that are set, in storage order (shorter keys first,
// then bytewise: the CBOR deterministic order).
func (s *Session) Keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]string, len(s.d.Entries))
	for i, e := range s.d.Entries {
		keys[i] = string(e.Key)
	}
	return keys
}

// Set stores value under key, encoded as deterministic CBOR. It fails,
// saying why, if key or a text in the value is not valid UTF-8, if the
// value cannot be encoded or is cyclic, or if it nests arrays and maps
// more than 14 deep or holds more than 4096 items in one, so that whatever
// is saved can be read back. Setting the value already stored is no
// change. It returns [ErrCommitted] after the session was saved.
func (s *Session) Set(key string, value any) error {
	if !utf8.ValidString(key) {
		return fmt.Errorf("sealed: session key %q is not valid UTF-8", key)
	}
	enc, err := payload.Encode(value)
	if err != nil {
		return fmt.Errorf("sealed: session key %q: %w", key, err)
	}
	return s.set(key, enc)
}

// set stores an encoded value that passed payload.CheckValue.
func (s *Session) set(key string, enc []byte) error {
	return s.change("Set", func() bool {
		i, ok := s.d.Find(key)
		switch {
		case !ok:
			s.d.Entries = slices.Insert(s.d.Entries, i, payload.Entry{Key: []byte(key), Val: enc})
		case string(s.d.Entries[i].Val) == string(enc):
			return false
		default:
			s.d.Entries[i].Val = enc
		}
		return true
	})
}

// Remove deletes key and returns the value it held, decoded as a T. The
// key is removed even when its value does not decode as a T; the error
// then says so. It returns [ErrCommitted] after the session was saved.
func Remove[T any](s *Session, key string) (value T, ok bool, err error) {
	raw, ok, err := s.remove(key)
	if err != nil || !ok {
		return value, ok, err
	}
	if value, err = payload.Decode[T](raw); err != nil {
		return value, true, fmt.Errorf("sealed: session key %q: %w", key, err)
	}
	return value, true, nil
}

func (s *Session) remove(key string) (raw []byte, ok bool, err error) {
	err = s.change("Remove", func() bool {
		var i int
		if i, ok = s.d.Find(key); ok {
			raw = slices.Clone(s.d.Entries[i].Val)
			s.d.Entries = slices.Delete(s.d.Entries, i, i+1)
		}
		return ok
	})
	return raw, ok, err
}

// Clear removes every value, every flash message and the subject; the ID
// and creation time stay. It returns [ErrCommitted] after the session was
// saved.
func (s *Session) Clear() error {
	return s.change("Clear", func() bool {
		if s.empty() {
			return false
		}
		s.d.Entries = s.d.Entries[:0]
		s.d.Flashes = nil
		s.d.Subject = ""
		return true
	})
}

// SetPersistent is the "remember me" choice. A persistent session (every
// new session is one) has cookies with a Max-Age, so it survives a browser
// restart; with false its cookies carry no Max-Age or Expires and the
// browser drops them when it closes. The choice is sealed with the state,
// so it holds across renewals, key rotation and CycleID; Invalidate's new
// session is persistent again. The idle and absolute timeouts apply
// either way: they are enforced inside the seal, not by the cookie's
// lifetime. It returns [ErrCommitted] after the session was saved.
func (s *Session) SetPersistent(persistent bool) error {
	return s.change("SetPersistent", func() bool {
		flags := s.d.Flags &^ payload.FlagBrowserSession
		if !persistent {
			flags |= payload.FlagBrowserSession
		}
		changed := flags != s.d.Flags
		s.d.Flags = flags
		return changed
	})
}

// Persistent reports whether the session's cookies outlive the browser
// session ([Session.SetPersistent]).
func (s *Session) Persistent() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.d.Flags&payload.FlagBrowserSession == 0
}

// CycleID gives the session a new ID and keeps its state and creation
// time. Call it when privileges change, above all at login, so that an ID
// planted or seen before login is worthless after it. With a
// [RevocationList] the old ID is revoked when the session is saved,
// whatever the request does after the call. It returns [ErrCommitted]
// after the session was saved.
func (s *Session) CycleID() error {
	return s.change("CycleID", func() bool {
		s.retire()
		s.d.ID = newID()
		return true
	})
}

// Invalidate ends the session: on save its ID is revoked (with a
// [RevocationList]) and every session cookie the client sent is expired.
// The session is then a new, empty one with a new ID; writing to it (a
// "logged out" flash, say) saves that new session in place of the old,
// and nothing done after Invalidate brings the old one back. It returns
// [ErrCommitted] after the session was saved.
func (s *Session) Invalidate() error {
	return s.change("Invalidate", func() bool {
		s.retire()
		s.restart(s.m.now())
		s.ended = true
		s.login = false
		return true
	})
}

// restart empties s into a new session with a new ID, created at now.
func (s *Session) restart(now time.Time) {
	s.d = payload.State{ID: newID(), Created: now.UnixMilli(), Entries: s.inl[:0]}
	clear(s.inl[:])
}

// retire queues the client's ID for revocation, once. s.mu must be held.
func (s *Session) retire() {
	if s.held {
		q := s.queue()
		q.revoke = append(q.revoke, revocation{id: s.d.ID, created: s.d.Created})
		s.held = false
	}
}

// AddFlash queues a message for the next request that reads flashes. It
// returns [ErrCommitted] after the session was saved.
func (s *Session) AddFlash(message string) error {
	return s.change("AddFlash", func() bool {
		s.d.Flashes = append(s.d.Flashes, message)
		return true
	})
}

// Flashes returns the queued flash messages and removes them: each is read
// once. When there are messages but the session was already saved, their
// removal could not be stored: it returns [ErrCommitted] and no messages,
// rather than show them again on the next request.
func (s *Session) Flashes() ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.d.Flashes) == 0 {
		return nil, nil
	}
	if err := s.mutable("Flashes"); err != nil {
		return nil, err
	}
	f := s.d.Flashes
	s.d.Flashes = nil
	s.dirty = true
	return f, nil
}
