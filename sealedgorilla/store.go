// Package sealedgorilla is a gorilla/sessions Store backed by sealed: the
// sessions.Store interface that gorilla/sessions, gin-contrib/sessions and
// echo-contrib/session code is written against, with the session kept in
// sealed's encrypted, chunked cookies instead of one securecookie cookie.
//
//	store, err := sealedgorilla.NewStore(keys, nil)
//	...
//	session, err := store.Get(r, "app") // only ErrUnavailable is an error
//	session.Values["user"] = user       // any gob-registered type, any key
//	err = session.Save(r, w)            // before the response is written
//
// What changes for code written against sessions.CookieStore:
//
//   - A session may grow past 4 KB: it is split across the cookies NAME,
//     NAME.1, ... within Options.Budget of the sealed options, and a
//     session over the budget fails Save with a *sealed.TooLargeError
//     instead of vanishing.
//   - A cookie that is forged, garbled, expired or sealed under a retired
//     key gives a new, empty session and no error.
//   - A value whose type gob cannot encode (not registered with
//     gob.Register) fails Save with an error that names its type.
//   - How long a session lives is sealed's IdleTimeout and AbsoluteTimeout
//     (default 24 hours and 7 days), checked inside the seal, not
//     sessions.Options.MaxAge. MaxAge only chooses: below zero deletes the
//     session, zero gives a cookie that ends with the browser session, above
//     zero a persistent one. A session read back keeps that choice (its
//     Options.MaxAge is 0 when its cookie is a browser-session one).
//   - Cookies are always HttpOnly: nothing in them is readable by scripts
//     anyway, so Options.HttpOnly is not consulted.
//   - Save writes nothing when the values are what the client already
//     holds, except to push the idle deadline back now and then. It adds
//     Vary: Cookie, and Cache-Control: no-cache="Set-Cookie" when it sets
//     cookies, as sealed's middleware does, so that shared caches keep
//     each user's cookies to that user.
//   - A session named NAME also owns the cookies NAME.1, NAME.2, ...: give
//     no other session such a name.
//   - Store.Options defaults to Path "/", MaxAge 30 days, Secure and
//     SameSite Lax (sessions.NewCookieStore: SameSite None).
//   - Migration moves users over from a sessions.CookieStore without
//     logging them out (see StoreOptions.Migrate).
//
// For a new application, sealed's own API (sealed.Manager, sealed.Get) is
// simpler and stores typed values without gob; ImportHook moves users of a
// CookieStore over to it.
package sealedgorilla

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"sync"

	"github.com/gorilla/sessions"

	"github.com/sealedgo/sealed"
)

// valuesKey is the sealed key under which a gorilla session's Values are
// stored, gob-encoded as one map, so that any key type and any registered
// value type survive the round trip as gorilla allows them.
const valuesKey = "gorilla"

// StoreOptions configures a Store. The zero value means sealed's defaults
// and no migration.
type StoreOptions struct {
	// Sealed is the configuration of every session's sealed.Manager:
	// timeouts, budget, purpose, revocation list, logger, observer.
	// The cookie's identity comes from the session instead (its name is
	// the cookie name; Path, Domain, Secure, SameSite and Partitioned
	// come from its sessions.Options), so CookieName, Path, Domain,
	// AllowInsecure, SameSite and Partitioned must be left zero, as must
	// Import (use Migrate) and ErrorHandler (the Store has no middleware:
	// errors are returned by Get and Save). NewStore refuses them rather
	// than ignore them.
	Sealed sealed.Options
	// Migrate, when set, reads the cookies of the sessions.CookieStore the
	// application used before, so that users logged in before the switch
	// stay logged in. Keep it only as long as old cookies can still be
	// valid (their MaxAge), then remove it.
	Migrate *Migration
}

// Store is a sessions.Store whose sessions live in sealed cookies. Create
// it with NewStore; it is safe for concurrent use.
type Store struct {
	// Options is the default configuration of new sessions, copied into
	// each one, as with sessions.CookieStore. NewStore sets Path "/",
	// MaxAge 30 days, Secure and SameSite Lax. Set Secure to false for
	// plain-http development. Change it before serving; a nil Options
	// means those defaults.
	Options *sessions.Options

	keys     sealed.KeySource
	base     sealed.Options
	logger   *slog.Logger
	migrate  *migrator
	managers sync.Map // scope -> *sealed.Manager
}

// scope is what tells one session's cookies from another's: one Manager
// serves each.
type scope struct {
	name, path, domain  string
	secure, partitioned bool
	sameSite            http.SameSite
}

// NewStore returns a Store that seals with keys. A nil opts means all
// defaults. A bad option fails here, with an error that names it.
func NewStore(keys sealed.KeySource, opts *StoreOptions) (*Store, error) {
	var o StoreOptions
	if opts != nil {
		o = *opts
	}
	b := o.Sealed
	for _, f := range []struct {
		field, why string
		set        bool
	}{
		{"CookieName", "the session name is the cookie name", b.CookieName != ""},
		{"Path", "set it in Store.Options or the session's Options", b.Path != ""},
		{"Domain", "set it in Store.Options or the session's Options", b.Domain != ""},
		{"AllowInsecure", "set Secure to false in Store.Options", b.AllowInsecure},
		{"SameSite", "set it in Store.Options or the session's Options", b.SameSite != 0},
		{"Partitioned", "set it in Store.Options or the session's Options", b.Partitioned},
		{"Import", "use StoreOptions.Migrate", b.Import != nil},
		{"ErrorHandler", "Get and Save return the errors", b.ErrorHandler != nil},
	} {
		if f.set {
			return nil, fmt.Errorf("sealedgorilla: NewStore: StoreOptions.Sealed.%s must not be set: %s", f.field, f.why)
		}
	}
	st := &Store{
		Options: defaultOptions(),
		keys:    keys,
		base:    b,
		logger:  b.Logger,
	}
	if st.logger == nil {
		st.logger = slog.Default()
	}
	if o.Migrate != nil {
		mg, err := newMigrator(*o.Migrate, "StoreOptions.Migrate", st.logger)
		if err != nil {
			return nil, err
		}
		st.migrate = mg
	}
	// One Manager now, so that a bad sealed option fails here and not on
	// the first request.
	if _, err := st.manager("session", st.Options); err != nil {
		return nil, fmt.Errorf("sealedgorilla: NewStore: %w", err)
	}
	return st, nil
}

func defaultOptions() *sessions.Options {
	return &sessions.Options{Path: "/", MaxAge: 86400 * 30, Secure: true, SameSite: http.SameSiteLaxMode}
}

// Get returns the session named name, through the request's
// sessions.Registry: every Get of one name in one request returns the same
// *sessions.Session. Its only error is sealed.ErrUnavailable (the revocation
// list could not be asked), or a sessions.Options the cookie cannot have;
// the session is never nil even then.
func (st *Store) Get(r *http.Request, name string) (*sessions.Session, error) {
	return sessions.GetRegistry(r).Get(st, name)
}

// New returns the session named name read from the request's cookies,
// without the registry: a new, empty one (IsNew) when none opens. A
// cookie that does not open is not an error.
func (st *Store) New(r *http.Request, name string) (*sessions.Session, error) {
	session := sessions.NewSession(st, name)
	opts := st.defaults()
	session.Options = &opts
	session.IsNew = true
	m, err := st.manager(name, &opts)
	if err != nil {
		return session, err
	}
	ss, err := m.Load(r.Context(), r.Header.Values("Cookie")...)
	if err != nil {
		return session, err
	}
	session.ID = ss.ID()
	stored, ok, err := sealed.Get[[]byte](ss, valuesKey)
	if err == nil && ok {
		var values map[any]any
		if values, err = decodeValues(stored); err == nil {
			session.Values = values
		}
	}
	if err != nil {
		// Authentic, but written by a program whose types this one no
		// longer has (renamed, or not registered): start afresh.
		st.logger.Warn("sealedgorilla: session values do not decode; starting a new session (a type renamed or not gob-registered?)", "session", name, "err", err)
		return session, nil
	}
	// A session that opened, or one migrated from an old cookie, is not
	// new to the application.
	session.IsNew = ss.IsNew() && !ok
	if !session.IsNew && !ss.Persistent() {
		opts.MaxAge = 0
	}
	return session, nil
}

// Save writes session's cookies to w's header: call it before the response
// is written. It reads the request's sealed session again, so it keeps no
// state between Get and Save. Options.MaxAge < 0 ends the session
// (sealed's Invalidate: every chunk expired, the ID revoked when a
// revocation list is configured); otherwise the session's Values become
// its state. Calling Save again in the same request replaces the
// Set-Cookie lines the earlier call added for this session: the last call
// wins.
//
// On error (a value gob cannot encode, a *sealed.TooLargeError,
// sealed.ErrUnavailable) nothing is added to w's header, so the client
// keeps the cookies it has (and those of an earlier successful Save in
// this request).
func (st *Store) Save(r *http.Request, w http.ResponseWriter, session *sessions.Session) error {
	opts := session.Options
	if opts == nil {
		d := st.defaults()
		opts = &d
	}
	name := session.Name()
	m, err := st.manager(name, opts)
	if err != nil {
		return err
	}
	ctx := r.Context()
	ss, err := m.Load(ctx, r.Header.Values("Cookie")...)
	if err != nil {
		return err
	}
	if opts.MaxAge < 0 {
		err = ss.Invalidate()
	} else {
		err = fill(ss, name, session.Values, opts.MaxAge > 0)
	}
	if err != nil {
		return err
	}
	lines, err := m.Save(ctx, ss)
	if err != nil {
		return err
	}
	h := w.Header()
	dropLines(h, name)
	for _, l := range lines {
		h.Add("Set-Cookie", l)
	}
	addVary(h)
	if len(lines) > 0 && !hasValue(h, "Cache-Control", noCacheSetCookie) {
		// Shared caches must not hand these cookies to other users.
		h.Add("Cache-Control", noCacheSetCookie)
	}
	session.ID = ss.ID()
	return nil
}

const noCacheSetCookie = `no-cache="Set-Cookie"`

func (st *Store) defaults() sessions.Options {
	if st.Options == nil {
		return *defaultOptions()
	}
	return *st.Options
}

// manager returns the Manager of the session named name with options o,
// made on first use.
func (st *Store) manager(name string, o *sessions.Options) (*sealed.Manager, error) {
	sc := scope{name: name, path: o.Path, domain: strings.TrimPrefix(o.Domain, "."),
		secure: o.Secure, partitioned: o.Partitioned, sameSite: o.SameSite}
	if sc.path == "" {
		sc.path = "/"
	}
	if m, ok := st.managers.Load(sc); ok {
		return m.(*sealed.Manager), nil
	}
	so := st.base
	so.CookieName, so.Path, so.Domain = sc.name, sc.path, sc.domain
	so.AllowInsecure, so.SameSite, so.Partitioned = !sc.secure, sc.sameSite, sc.partitioned
	if st.migrate != nil {
		so.Import = st.migrate.storeImport(name)
	}
	m, err := sealed.New(st.keys, &so)
	if err != nil {
		return nil, fmt.Errorf("sealedgorilla: session %q: %w", name, err)
	}
	actual, _ := st.managers.LoadOrStore(sc, m)
	return actual.(*sealed.Manager), nil
}

// fill makes values the state of ss and applies the persistence choice.
func fill(ss *sealed.Session, name string, values map[any]any, persistent bool) error {
	if len(values) == 0 {
		// Nothing to keep: a new session stays unwritten.
		if _, _, err := sealed.Remove[[]byte](ss, valuesKey); err != nil {
			return err
		}
	} else {
		enc, err := encodeValues(name, values)
		if err != nil {
			return err
		}
		// gob writes a map in random order, so equal values rarely give
		// equal bytes: compare the values, so that an unchanged session
		// writes no cookie.
		old, ok, _ := sealed.Get[[]byte](ss, valuesKey)
		if !ok || !sameValues(old, values) {
			if err := ss.Set(valuesKey, enc); err != nil {
				return err
			}
		}
	}
	return ss.SetPersistent(persistent)
}

func sameValues(stored []byte, values map[any]any) bool {
	old, err := decodeValues(stored)
	return err == nil && reflect.DeepEqual(old, values)
}

func decodeValues(b []byte) (map[any]any, error) {
	values := make(map[any]any)
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&values); err != nil {
		return nil, err
	}
	return values, nil
}

// encodeValues gob-encodes values; when that fails it finds the entry at
// fault, so that the error names a type to register.
func encodeValues(name string, values map[any]any) ([]byte, error) {
	var buf bytes.Buffer
	err := gob.NewEncoder(&buf).Encode(values)
	if err == nil {
		return buf.Bytes(), nil
	}
	for k, v := range values {
		if gob.NewEncoder(&bytes.Buffer{}).Encode(map[any]any{k: v}) == nil {
			continue
		}
		what, culprit := "value", v
		if gob.NewEncoder(&bytes.Buffer{}).Encode(map[any]any{k: true}) != nil {
			what, culprit = "key", k
		}
		key := fmt.Sprintf("a key of type %T", k)
		if s, ok := k.(string); ok {
			key = fmt.Sprintf("key %q", s)
		}
		return nil, fmt.Errorf("sealedgorilla: session %q not saved: the %s of type %T under %s cannot be gob-encoded (register the type with gob.Register at start-up): %w", name, what, culprit, key, err)
	}
	return nil, fmt.Errorf("sealedgorilla: session %q not saved: its values cannot be gob-encoded: %w", name, err)
}

// dropLines removes the Set-Cookie lines of the session named name (its
// chunks NAME, NAME.1, ...) from h, which an earlier Save in this request
// added.
func dropLines(h http.Header, name string) {
	lines := h["Set-Cookie"]
	kept := lines[:0:0]
	for _, l := range lines {
		n, _, _ := strings.Cut(l, "=")
		if !owned(name, strings.TrimSpace(n)) {
			kept = append(kept, l)
		}
	}
	if len(kept) == len(lines) {
		return
	}
	if len(kept) == 0 {
		delete(h, "Set-Cookie")
		return
	}
	h["Set-Cookie"] = kept
}

// owned reports whether cookie n is one of the chunks of session name.
func owned(name, n string) bool {
	rest, ok := strings.CutPrefix(n, name)
	if !ok {
		return false
	}
	if rest == "" {
		return true
	}
	digits, ok := strings.CutPrefix(rest, ".")
	if !ok || digits == "" || digits[0] == '0' || len(digits) > 2 {
		return false
	}
	return strings.Trim(digits, "0123456789") == ""
}

func addVary(h http.Header) {
	for _, v := range h.Values("Vary") {
		for f := range strings.SplitSeq(v, ",") {
			if f = strings.TrimSpace(f); f == "*" || http.CanonicalHeaderKey(f) == "Cookie" {
				return
			}
		}
	}
	h.Add("Vary", "Cookie")
}

func hasValue(h http.Header, key, value string) bool {
	for _, v := range h.Values(key) {
		if v == value {
			return true
		}
	}
	return false
}
