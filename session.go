package sealed

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"
	"unicode/utf8"
)

// ErrCommitted is returned by a mutation made after the session was saved:
// after the middleware wrote the response headers, or after Manager.Save.
// It is a programmer error; the change is not stored, and the middleware
// also logs it.
var ErrCommitted = errors.New("sealed: session modified after it was saved")

// Session is one user's session state: an ID, a creation time, an optional
// subject and a map from string keys to CBOR-encoded values, plus flash
// messages. Values are decoded only when read (Get) and only the key read.
//
// A Session belongs to one request. Its methods are safe for concurrent
// use by the goroutines serving that request.
type Session struct {
	mu sync.Mutex
	m  *Manager

	d decoded
	// rb is the pooled buffer a loaded session's values point into, with
	// room for its index (see readBuf). nil for a new session.
	rb *readBuf
	// released is set by Release: rb went back to the pool and the values
	// are gone.
	released bool

	isNew     bool      // no valid session came with the request
	issuedAt  time.Time // when the incoming cookie was sealed (zero if new)
	oldKey    bool      // the incoming cookie opened under a non-primary key
	changed   bool      // state differs from what the client holds
	committed bool      // saved; further mutations are errors

	// revoke lists IDs to revoke when the session is saved: the ID a
	// CycleID replaced, or the ID an Invalidate ended.
	revoke []revocation
	// ended is set by Invalidate: the client's cookies are expired unless
	// the session is written to again (which starts a new one).
	ended bool

	// chunks seen in the request, so that stale ones can be expired.
	present chunkMask
	// stale is set when the request's session opened but was expired or
	// revoked; its cookies are then expired even if nothing is written.
	stale bool
	// orig is the payload the request carried (nil for a new session).
	// changed says the state may differ from it; save compares the bytes,
	// so a change undone before the response costs no write.
	orig []byte
}

type revocation struct {
	id      [16]byte
	created int64 // Unix ms, for the entry's lifetime
}

func newID() (id [16]byte) {
	rand.Read(id[:])
	return id
}

// reset makes s a brand-new, empty session. s.mu must be held (or s not
// yet shared).
func (s *Session) reset(now time.Time) {
	s.d = decoded{id: newID(), created: now.UnixMilli()}
	s.orig = nil
	s.dropBuf()
	s.isNew = true
	s.issuedAt = time.Time{}
	s.oldKey = false
}

// dropBuf gives the session's read buffer back to the pool. Nothing of s
// may point into it any more: the caller has replaced d.entries and orig.
func (s *Session) dropBuf() {
	if s.rb != nil {
		clear(s.rb.entries[:])
		putReadBuf(s.rb)
		s.rb = nil
	}
}

// ErrReleased is returned by Get and Remove for a session that was
// released: used after its request ended.
var ErrReleased = errors.New("sealed: session used after it was released")

// Release ends the session's use and lets a later request reuse the
// memory it was decoded into. The middleware calls it when the request
// ends, after saving; callers of Manager.Load or LoadHeader may call it
// once they have saved the session or no longer need it. Calling it is
// optional: an unreleased session is garbage collected as usual.
//
// After Release the session is committed and holds no values: Get and
// Remove return ErrReleased, Has reports false, Keys and GetRaw return
// nothing, and changes return ErrCommitted. Its ID, subject and creation
// time still read as before. Release is safe to call more than once.
func (s *Session) Release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.released {
		return
	}
	s.released = true
	s.committed = true
	s.d.entries = nil
	s.orig = nil
	s.dropBuf()
}

// ID returns the session ID as 32 lowercase hex digits. The ID is what a
// revocation list stores; treat it as an identifier, not a secret, but
// keep it out of logs like any other session content.
func (s *Session) ID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return hex.EncodeToString(s.d.id[:])
}

// CreatedAt returns when the session was created (or last given a new
// subject), to the millisecond. It survives CycleID and re-sealing; the
// absolute timeout counts from it.
func (s *Session) CreatedAt() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return time.UnixMilli(s.d.created)
}

// IsNew reports whether the session was created by this request: no valid
// session cookie came with it (none, or one that was expired, revoked,
// forged or garbled).
func (s *Session) IsNew() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.isNew
}

// Subject returns the subject set with SetSubject, or "".
func (s *Session) Subject() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.d.subject
}

// SetSubject records whom the session belongs to, typically the user ID at
// login. With a revocation list, Manager.RevokeSubject ends every session
// of a subject ("log out everywhere").
//
// Changing the subject restarts the session's creation time, and so its
// absolute timeout: a login begins a new authenticated session. It also
// keeps "log out everywhere" from ending a login made after it from a
// session that was browsing anonymously before it.
func (s *Session) SetSubject(subject string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mutable("SetSubject") != nil || s.d.subject == subject {
		return
	}
	s.restartIfEnded()
	s.d.subject = subject
	s.d.created = s.m.now().UnixMilli()
	s.changed = true
}

// mutable reports ErrCommitted (and logs it) when the session was already
// saved. s.mu must be held.
func (s *Session) mutable(op string) error {
	if !s.committed {
		return nil
	}
	s.m.logger.Error("sealed: session modified after it was saved; the change is lost", "op", op)
	return ErrCommitted
}

// find returns the index of key in the sorted entries, and whether it is
// there. A hand-written binary search: with slices.BinarySearchFunc and a
// comparison closure it was a third of Get on a small session.
func (s *Session) find(key string) (int, bool) {
	e := s.d.entries
	lo, hi := 0, len(e)
	for lo < hi {
		h := int(uint(lo+hi) >> 1)
		if k := e[h].key; len(k) < len(key) || (len(k) == len(key) && string(k) < key) {
			lo = h + 1
		} else {
			hi = h
		}
	}
	return lo, lo < len(e) && string(e[lo].key) == key
}

// Get reads key into a T. It returns ok=false and no error when the key is
// absent, and an error when the stored value does not decode as a T. Each
// call decodes the stored bytes afresh, so the result never aliases the
// session: change it and Set it back to store the change.
func Get[T any](s *Session, key string) (value T, ok bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.released {
		return value, false, ErrReleased
	}
	i, ok := s.find(key)
	if !ok {
		return value, false, nil
	}
	val := s.d.entries[i].val
	if decodeScalar(val, &value) {
		return value, true, nil
	}
	value, err = decodeValue[T](val)
	if err != nil {
		return value, true, fmt.Errorf("sealed: session key %q: %w", key, err)
	}
	return value, true, nil
}

// decodeValue checks an encoded value against the payload rules (the walk
// that opened the session did not look inside it) and decodes it into a T.
func decodeValue[T any](val []byte) (T, error) {
	// The decoder gets a variable of its own: passing it &value from Get
	// would move value to the heap on every call, fast path included.
	p := new(T)
	if !checkValue(val) {
		return *p, errMalformedValue
	}
	err := decMode.Unmarshal(val, p)
	return *p, err
}

// decodeScalar decodes the most common value shapes (a text string into a
// string, an integer into an int or int64, a boolean into a bool) without
// the reflection-based decoder, which costs more than the rest of a small
// session's read. It handles only well-formed exact matches of CBOR type
// and Go type whose results the general decoder would give too, and
// reports false for everything else, which then takes the general path
// (and its checks and errors).
func decodeScalar(val []byte, dst any) bool {
	w := walker{b: val}
	major, ai, arg, ok := w.head()
	if !ok {
		return false
	}
	switch p := dst.(type) {
	case *string:
		if major != 3 || uint64(len(val)-w.off) != arg || !validText(val, w.off, len(val)) {
			return false
		}
		*p = string(val[w.off:])
		return true
	case *int:
		n, ok := cborInt(major, arg)
		if !ok || w.off != len(val) || n != int64(int(n)) {
			return false
		}
		*p = int(n)
		return true
	case *int64:
		n, ok := cborInt(major, arg)
		if !ok || w.off != len(val) {
			return false
		}
		*p = n
		return true
	case *bool:
		if major != 7 || (ai != 20 && ai != 21) || len(val) != 1 {
			return false
		}
		*p = ai == 21
		return true
	}
	return false
}

// encodeScalar encodes the value shapes decodeScalar reads (a string, an
// int, an int64, a bool) without the reflection-based encoder, giving the
// bytes encMode would. Strings that are not valid UTF-8 take the general
// path, which refuses them.
func encodeScalar(value any) ([]byte, bool) {
	switch v := value.(type) {
	case string:
		if !utf8.ValidString(v) {
			return nil, false
		}
		b := make([]byte, 0, 9+len(v))
		return append(appendHead(b, 3, uint64(len(v))), v...), true
	case int:
		return appendInt(nil, int64(v)), true
	case int64:
		return appendInt(nil, v), true
	case bool:
		if v {
			return []byte{0xf5}, true
		}
		return []byte{0xf4}, true
	}
	return nil, false
}

func appendInt(b []byte, n int64) []byte {
	if n < 0 {
		return appendHead(b, 1, uint64(-(n + 1)))
	}
	return appendHead(b, 0, uint64(n))
}

// cborInt converts a major type 0 or 1 argument to an int64 if it fits.
func cborInt(major byte, arg uint64) (int64, bool) {
	if arg > math.MaxInt64 {
		return 0, false
	}
	switch major {
	case 0:
		return int64(arg), true
	case 1:
		return -1 - int64(arg), true
	}
	return 0, false
}

// GetRaw returns a copy of key's value as encoded CBOR, without decoding it.
func (s *Session) GetRaw(key string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.find(key)
	if !ok {
		return nil, false
	}
	return slices.Clone(s.d.entries[i].val), true
}

// Has reports whether key is set.
func (s *Session) Has(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.find(key)
	return ok
}

// Keys returns the keys that are set, in storage order (shorter keys first,
// then bytewise: the CBOR deterministic order).
func (s *Session) Keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]string, len(s.d.entries))
	for i, e := range s.d.entries {
		keys[i] = string(e.key)
	}
	return keys
}

// Set stores value under key, encoded as deterministic CBOR. It fails if
// key is not valid UTF-8, if the value cannot be encoded, or if its
// encoding exceeds the decode limits (MaxDepth, MaxItems), so that whatever
// is saved can be read back. Setting a value equal to the stored one is not
// a change and causes no write.
func (s *Session) Set(key string, value any) error {
	if !utf8.ValidString(key) {
		return fmt.Errorf("sealed: session key %q is not valid UTF-8", key)
	}
	if enc, ok := encodeScalar(value); ok {
		return s.set(key, enc)
	}
	enc, err := encMode.Marshal(value)
	if err != nil {
		return fmt.Errorf("sealed: session key %q: %w", key, err)
	}
	if !checkValue(enc) {
		return fmt.Errorf("sealed: session key %q: value nests arrays or maps deeper than %d levels or holds more than %d items", key, MaxDepth-2, MaxItems)
	}
	return s.set(key, enc)
}

// set stores an encoded value that passed checkValue.
func (s *Session) set(key string, enc []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.mutable("Set"); err != nil {
		return err
	}
	s.restartIfEnded()
	i, ok := s.find(key)
	if ok {
		if string(s.d.entries[i].val) == string(enc) {
			return nil
		}
		s.d.entries[i].val = enc
	} else {
		s.d.entries = slices.Insert(s.d.entries, i, entry{key: []byte(key), val: enc})
	}
	s.changed = true
	return nil
}

// Remove deletes key and returns the value it held, decoded as a T. The
// key is removed even when its value does not decode as a T; the error
// then says so.
func Remove[T any](s *Session, key string) (value T, ok bool, err error) {
	raw, ok, err := s.remove("Remove", key)
	if err != nil || !ok {
		return value, ok, err
	}
	if value, err = decodeValue[T](raw); err != nil {
		return value, true, fmt.Errorf("sealed: session key %q: %w", key, err)
	}
	return value, true, nil
}

// RemoveRaw deletes key and returns its value as encoded CBOR, without
// decoding it.
func (s *Session) RemoveRaw(key string) ([]byte, bool, error) {
	return s.remove("RemoveRaw", key)
}

func (s *Session) remove(op, key string) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.released {
		return nil, false, ErrReleased
	}
	if err := s.mutable(op); err != nil {
		return nil, false, err
	}
	i, ok := s.find(key)
	if !ok {
		return nil, false, nil
	}
	raw := slices.Clone(s.d.entries[i].val)
	s.d.entries = slices.Delete(s.d.entries, i, i+1)
	s.changed = true
	return raw, true, nil
}

// Clear removes every value, every flash message and the subject. The
// session itself (its ID and creation time) goes on.
func (s *Session) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mutable("Clear") != nil {
		return
	}
	if len(s.d.entries) == 0 && len(s.d.flashes) == 0 && s.d.subject == "" {
		return
	}
	s.d.entries = s.d.entries[:0]
	s.d.flashes = nil
	s.d.subject = ""
	s.changed = true
}

// CycleID gives the session a new ID and keeps its state and creation
// time. Call it when privileges change, above all at login, so that an ID
// an attacker may have planted or seen before login is worthless after it.
// With a revocation list the old ID is revoked when the session is saved.
func (s *Session) CycleID() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mutable("CycleID") != nil {
		return
	}
	s.restartIfEnded()
	if !s.isNew {
		s.revoke = append(s.revoke, revocation{id: s.d.id, created: s.d.created})
	}
	s.d.id = newID()
	s.changed = true
}

// Invalidate ends the session: on save its ID is revoked (with a revocation
// list) and every session cookie the client sent is expired. Writing to the
// session afterwards starts a new, empty one with a new ID, so a handler
// can log a user out and still leave a flash message.
func (s *Session) Invalidate() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mutable("Invalidate") != nil {
		return
	}
	if !s.isNew {
		s.revoke = append(s.revoke, revocation{id: s.d.id, created: s.d.created})
	}
	s.reset(s.m.now())
	s.ended = true
	s.changed = true
}

// restartIfEnded turns an invalidated session into a new one when it is
// written to. s.mu must be held.
func (s *Session) restartIfEnded() {
	if s.ended {
		s.ended = false
		s.d.created = s.m.now().UnixMilli()
	}
}

// AddFlash queues a message for the next request that reads flashes.
func (s *Session) AddFlash(message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mutable("AddFlash") != nil {
		return
	}
	s.restartIfEnded()
	s.d.flashes = append(s.d.flashes, message)
	s.changed = true
}

// Flashes returns the queued flash messages and removes them: each message
// is read once.
func (s *Session) Flashes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.d.flashes) == 0 {
		return nil
	}
	if s.mutable("Flashes") != nil {
		return nil
	}
	f := s.d.flashes
	s.d.flashes = nil
	s.changed = true
	return f
}

// empty reports whether the session holds nothing worth a cookie.
func (s *Session) empty() bool {
	return len(s.d.entries) == 0 && len(s.d.flashes) == 0 && s.d.subject == ""
}
