package sealedgorilla

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gorilla/securecookie"

	"github.com/sealedgo/sealed"
)

// Migration describes the cookies that the application's old
// sessions.CookieStore (gorilla/securecookie) wrote, so that the sessions
// in them can be moved into sealed ones: "switching without logouts".
//
// A session moves over on the first Save of the request that brings its
// old cookie; until then the old cookie keeps working. While a Migration
// is configured, anyone holding an old cookie, valid for up to MaxAge
// after it was last written, can still log in with it: keep it for that
// window after the switch, then remove it (and retire the old keys).
type Migration struct {
	// KeyPairs are the old store's keys, exactly as they were passed to
	// sessions.NewCookieStore(keyPairs...): a hash key, then its block key
	// (or nil), then older pairs if the old store was rotating keys.
	KeyPairs [][]byte
	// MaxAge is the old store's MaxAge in seconds: an old cookie last
	// written longer ago is not imported, as the old store would have
	// refused it. Default 86400*30, as NewCookieStore sets.
	MaxAge int
	// Path and Domain are those of the old cookies (the old store's
	// Options.Path and Options.Domain). Default "/" and none (host-only),
	// as NewCookieStore sets. An old cookie whose name, Path and Domain
	// are the new cookie's is overwritten by it; any other is deleted in
	// the response that writes its successor.
	Path, Domain string
	// Logger receives a warning when an old session cannot be moved, and
	// a debug line for an old cookie that does not decode; never keys,
	// cookie values or session contents. Default: the Store's
	// Sealed.Logger, or slog.Default() (always, for ImportHook).
	Logger *slog.Logger
}

// migrator reads old securecookie cookies.
type migrator struct {
	codecs       []securecookie.Codec
	path, domain string
	logger       *slog.Logger
}

func newMigrator(mg Migration, field string, logger *slog.Logger) (*migrator, error) {
	if len(mg.KeyPairs) == 0 {
		return nil, fmt.Errorf("sealedgorilla: %s.KeyPairs is empty: give the keys passed to sessions.NewCookieStore", field)
	}
	maxAge := mg.MaxAge
	switch {
	case maxAge < 0:
		return nil, fmt.Errorf("sealedgorilla: %s.MaxAge is %d, want a positive number of seconds (or 0 for 30 days)", field, maxAge)
	case maxAge == 0:
		maxAge = 86400 * 30
	}
	codecs := securecookie.CodecsFromPairs(mg.KeyPairs...)
	for i, c := range codecs {
		// securecookie reports a bad key only when it is used.
		if _, err := c.Encode("probe", "probe"); err != nil {
			return nil, fmt.Errorf("sealedgorilla: %s.KeyPairs: pair %d: %w", field, i+1, err)
		}
		if sc, ok := c.(*securecookie.SecureCookie); ok {
			sc.MaxAge(maxAge)
		}
	}
	m := &migrator{codecs: codecs, path: mg.Path, domain: strings.TrimPrefix(mg.Domain, "."), logger: mg.Logger}
	if m.path == "" {
		m.path = "/"
	}
	if m.logger == nil {
		m.logger = logger
	}
	return m, nil
}

// decode returns the values of the first cookie named name in the Cookie
// header values that the old keys open, and whether any cookie of that
// name was there.
func (m *migrator) decode(name string, header []string) (values map[any]any, present bool) {
	r := http.Request{Header: http.Header{"Cookie": header}}
	var err error
	for _, c := range r.CookiesNamed(name) {
		present = true
		v := make(map[any]any)
		if err = securecookie.DecodeMulti(name, c.Value, &v, m.codecs...); err == nil {
			return v, true
		}
	}
	if present {
		m.logger.Debug("sealedgorilla: old session cookie does not decode (forged, expired, or other keys); not imported", "cookie", name, "err", err)
	}
	return nil, present
}

// storeImport is the sealed.Options.Import hook of a Store's session
// named name: the old cookie has the session's name, and its values become
// the new session's as they were.
func (m *migrator) storeImport(name string) func(context.Context, []string, *sealed.Session) []*http.Cookie {
	return m.hook(name, func(values map[any]any, s *sealed.Session) error {
		enc, err := encodeValues(name, values)
		if err != nil {
			return err
		}
		return s.Set(valuesKey, enc)
	})
}

// hook is an Options.Import hook for the old cookie named name, whose
// values fill moves into the new session. The old cookie goes with the
// new session's first save: sealed overwrites it when it has the new
// one's name, Path and Domain, and deletes it otherwise (the browser
// would send both), also when it does not decode. When fill fails, the
// new session is cleared and the old cookie kept, so that a corrected
// fill can still move it; the failure is logged.
func (m *migrator) hook(name string, fill func(map[any]any, *sealed.Session) error) func(context.Context, []string, *sealed.Session) []*http.Cookie {
	return func(_ context.Context, header []string, s *sealed.Session) []*http.Cookie {
		values, present := m.decode(name, header)
		if !present {
			return nil
		}
		expire := []*http.Cookie{{Name: name, Path: m.path, Domain: m.domain}}
		if len(values) == 0 {
			return expire
		}
		if err := fill(values, s); err != nil {
			_ = s.Clear()
			m.logger.Warn("sealedgorilla: old session not imported; the old cookie is kept", "cookie", name, "err", err)
			return nil
		}
		return expire
	}
}

// ImportHook returns a sealed.Options.Import hook for an application that
// moves from a sessions.CookieStore to sealed's own API (a sealed.Manager
// and its Middleware): when a request carries no sealed session that opens,
// the old cookie named name is decoded with old's keys and convert fills
// the new session from its values (Set, SetSubject, ...). The old cookie is
// deleted in the response that writes the new session, or, if that save
// fails, neither happens.
//
// A cookie that does not decode (forged, expired, other keys) is deleted
// and gives a new, empty session. When convert returns an error the new
// session is cleared and the old cookie kept, so that a corrected convert
// can still move it; the error is logged.
func ImportHook(name string, old Migration, convert func(values map[any]any, s *sealed.Session) error) (func(ctx context.Context, cookieHeader []string, s *sealed.Session) []*http.Cookie, error) {
	if convert == nil {
		return nil, errors.New("sealedgorilla: ImportHook: convert is nil")
	}
	if err := (&http.Cookie{Name: name}).Valid(); err != nil {
		return nil, fmt.Errorf("sealedgorilla: ImportHook: %q is not a cookie name", name)
	}
	m, err := newMigrator(old, "Migration", slog.Default())
	if err != nil {
		return nil, err
	}
	return m.hook(name, convert), nil
}
