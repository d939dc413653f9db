package sealed

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"
	"unicode/utf8"
)

// Session is one user's session state: an ID, a creation time, an optional
// subject and a map from string keys to CBOR-encoded values, plus flash
// messages. Values are decoded only when read (Get) and only the key read.
//
// A Session belongs to one request, but owns its memory: one kept past the
// request reads as before (its changes are refused with ErrCommitted once
// it was saved). Its methods are safe for concurrent use by the goroutines
// serving that request, and none of them calls user code (an
// UnmarshalCBOR, say) with the session's lock held.
type Session struct {
	mu sync.Mutex
	m  *Manager

	d decoded
	// inl is the index storage of a session with few keys, so that a
	// load allocates no index of its own.
	inl [8]entry

	// What the request carried (see lifecycle.go).
	from     origin
	present  chunkMask // the session's chunk cookies the request carried
	issuedAt time.Time // when the incoming cookie was sealed (fromOpened)
	oldKey   bool      // the incoming cookie opened under a non-primary key
	// orig is the payload the request carried (fromOpened), which entries
	// point into. Nothing else refers to it: it is this session's alone.
	orig []byte

	// What this request did.
	phase  phase
	dirty  bool
	held   bool
	ended  bool
	login  bool
	revoke []revocation
}

type revocation struct {
	id      [16]byte
	created int64 // Unix ms, for the entry's lifetime
}

func newID() (id [16]byte) {
	rand.Read(id[:])
	return id
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
// session that was browsing anonymously before it. It returns ErrCommitted
// after the session was saved.
func (s *Session) SetSubject(subject string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.mutable("SetSubject"); err != nil {
		return err
	}
	if s.d.subject == subject {
		return nil
	}
	s.d.subject = subject
	s.d.created = s.m.now().UnixMilli()
	s.login = subject != ""
	s.dirty = true
	return nil
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
// call decodes a private copy of the stored bytes with the session
// unlocked, so the result never aliases the session and a type's own
// UnmarshalCBOR may keep its input or call the session: change the result
// and Set it back to store the change.
func Get[T any](s *Session, key string) (value T, ok bool, err error) {
	s.mu.Lock()
	i, ok := s.find(key)
	if !ok {
		s.mu.Unlock()
		return value, false, nil
	}
	val := s.d.entries[i].val
	if decodeScalar(val, &value) {
		s.mu.Unlock()
		return value, true, nil
	}
	val = slices.Clone(val)
	s.mu.Unlock()
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

// Set stores value under key, encoded as deterministic CBOR. It fails,
// saying why, if key or a text in the value is not valid UTF-8, if the
// value cannot be encoded or is cyclic, or if its encoding exceeds the
// decode limits (MaxDepth, MaxItems), so that whatever is saved can be read
// back. Setting a value equal to the stored one is not a change and causes
// no write. It returns ErrCommitted after the session was saved.
func (s *Session) Set(key string, value any) error {
	if !utf8.ValidString(key) {
		return fmt.Errorf("sealed: session key %q is not valid UTF-8", key)
	}
	if enc, ok := encodeScalar(value); ok {
		return s.set(key, enc)
	}
	// The encoder recurses without a bound: a cyclic value would end the
	// process with a stack overflow, which no recover catches.
	if err := checkEncodable(value); err != nil {
		return fmt.Errorf("sealed: session key %q: %w", key, err)
	}
	enc, err := encMode.Marshal(value)
	if err != nil {
		return fmt.Errorf("sealed: session key %q: %w", key, err)
	}
	if err := checkValueErr(enc); err != nil {
		return fmt.Errorf("sealed: session key %q: %w", key, err)
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
	i, ok := s.find(key)
	if ok {
		if string(s.d.entries[i].val) == string(enc) {
			return nil
		}
		s.d.entries[i].val = enc
	} else {
		s.d.entries = slices.Insert(s.d.entries, i, entry{key: []byte(key), val: enc})
	}
	s.dirty = true
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
	if err := s.mutable(op); err != nil {
		return nil, false, err
	}
	i, ok := s.find(key)
	if !ok {
		return nil, false, nil
	}
	raw := slices.Clone(s.d.entries[i].val)
	s.d.entries = slices.Delete(s.d.entries, i, i+1)
	s.dirty = true
	return raw, true, nil
}

// Clear removes every value, every flash message and the subject. The
// session itself (its ID and creation time) goes on. It returns
// ErrCommitted after the session was saved.
func (s *Session) Clear() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.mutable("Clear"); err != nil {
		return err
	}
	if s.empty() {
		return nil
	}
	s.d.entries = s.d.entries[:0]
	s.d.flashes = nil
	s.d.subject = ""
	s.dirty = true
	return nil
}

// CycleID gives the session a new ID and keeps its state and creation
// time. Call it when privileges change, above all at login, so that an ID
// an attacker may have planted or seen before login is worthless after it.
// With a revocation list the old ID is revoked when the session is saved,
// whatever the request does after the call. It returns ErrCommitted after
// the session was saved.
func (s *Session) CycleID() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.mutable("CycleID"); err != nil {
		return err
	}
	s.retire()
	s.d.id = newID()
	s.dirty = true
	return nil
}

// Invalidate ends the session: on save its ID is revoked (with a revocation
// list) and every session cookie the client sent is expired. The session
// is then a new, empty one with a new ID; writing to it (a "logged out"
// flash, say) saves that new session in place of the old, and nothing done
// after Invalidate brings the old one back. It returns ErrCommitted after
// the session was saved: a handler must call it before writing the
// response.
func (s *Session) Invalidate() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.mutable("Invalidate"); err != nil {
		return err
	}
	s.retire()
	s.restart(s.m.now())
	s.ended = true
	s.login = false
	s.dirty = true
	return nil
}

// restart empties s into a new session with a new ID, created at now.
func (s *Session) restart(now time.Time) {
	s.d = decoded{id: newID(), created: now.UnixMilli(), entries: s.inl[:0]}
	clear(s.inl[:])
}

// retire queues the client's ID for revocation, once. s.mu must be held.
func (s *Session) retire() {
	if s.held {
		s.revoke = append(s.revoke, revocation{id: s.d.id, created: s.d.created})
		s.held = false
	}
}

// AddFlash queues a message for the next request that reads flashes. It
// returns ErrCommitted after the session was saved.
func (s *Session) AddFlash(message string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.mutable("AddFlash"); err != nil {
		return err
	}
	s.d.flashes = append(s.d.flashes, message)
	s.dirty = true
	return nil
}

// Flashes returns the queued flash messages and removes them: each message
// is read once. When there are messages but the session was already
// saved, their removal could not be stored: it returns ErrCommitted and no
// messages, rather than show them again on the next request.
func (s *Session) Flashes() ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.d.flashes) == 0 {
		return nil, nil
	}
	if err := s.mutable("Flashes"); err != nil {
		return nil, err
	}
	f := s.d.flashes
	s.d.flashes = nil
	s.dirty = true
	return f, nil
}
