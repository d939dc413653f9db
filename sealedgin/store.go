package sealedgin

import (
	"net/http"

	"github.com/gin-contrib/sessions"
	gsessions "github.com/gorilla/sessions"

	"github.com/sealedgo/sealed"
	"github.com/sealedgo/sealed/sealedgorilla"
)

// Store is a gin-contrib/sessions Store whose sessions live in sealed
// cookies: a drop-in for cookie.NewStore in applications written against
// gin-contrib/sessions (sessions.Sessions, sessions.Default). It is a
// [sealedgorilla.Store] with the Options method that gin-contrib's Store
// interface adds, and everything said there holds: a session over 4 KB is
// split across cookies, a bad cookie is a fresh session, a value of an
// unregistered gob type fails Save naming the type, and
// StoreOptions.Migrate keeps the users of a cookie.NewStore logged in
// across the switch.
//
// New code can use [Middleware] and sealed's own API instead.
type Store struct {
	gorilla *sealedgorilla.Store
}

var _ sessions.Store = (*Store)(nil)

// NewStore returns a Store that seals with keys; opts and errors are those
// of [sealedgorilla.NewStore].
func NewStore(keys sealed.KeySource, opts *sealedgorilla.StoreOptions) (*Store, error) {
	st, err := sealedgorilla.NewStore(keys, opts)
	if err != nil {
		return nil, err
	}
	return &Store{gorilla: st}, nil
}

// Options replaces the default options of new sessions, as cookie.Store's
// does; call it before serving. HttpOnly is not consulted (sealed cookies
// are always HttpOnly), and MaxAge only chooses between deleting (< 0), a
// browser-session cookie (0) and a persistent one (> 0): the session's
// lifetime is the sealed IdleTimeout and AbsoluteTimeout.
func (s *Store) Options(o sessions.Options) { s.gorilla.Options = o.ToGorillaOptions() }

// Get is [sealedgorilla.Store.Get].
func (s *Store) Get(r *http.Request, name string) (*gsessions.Session, error) {
	return s.gorilla.Get(r, name)
}

// New is [sealedgorilla.Store.New].
func (s *Store) New(r *http.Request, name string) (*gsessions.Session, error) {
	return s.gorilla.New(r, name)
}

// Save is [sealedgorilla.Store.Save].
func (s *Store) Save(r *http.Request, w http.ResponseWriter, session *gsessions.Session) error {
	return s.gorilla.Save(r, w, session)
}
