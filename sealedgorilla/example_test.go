package sealedgorilla_test

import (
	"errors"
	"log"
	"net/http"
	"os"

	"github.com/sealedgo/sealed"
	"github.com/sealedgo/sealed/sealedgorilla"
)

// The switch from a sessions.CookieStore: the same handlers, a
// sealedgorilla.Store in place of the CookieStore, and the old keys kept
// for a month so that nobody is logged out.
func ExampleNewStore() {
	keys, err := sealed.ParseKeyring([]byte(os.Getenv("SEALED_KEYS")))
	if err != nil {
		log.Fatal(err)
	}
	// Was: store := sessions.NewCookieStore(hashKey, blockKey)
	hashKey, blockKey := []byte(os.Getenv("OLD_HASH_KEY")), []byte(os.Getenv("OLD_BLOCK_KEY"))
	store, err := sealedgorilla.NewStore(keys, &sealedgorilla.StoreOptions{
		Migrate: &sealedgorilla.Migration{KeyPairs: [][]byte{hashKey, blockKey}},
	})
	if err != nil {
		log.Fatal(err)
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		session, err := store.Get(r, "session-name")
		if err != nil {
			http.Error(w, "try again", http.StatusServiceUnavailable) // revocation list down
			return
		}
		n, _ := session.Values["visits"].(int)
		session.Values["visits"] = n + 1
		if err := session.Save(r, w); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
	})
}

// The switch from a sessions.CookieStore to sealed's own API: convert maps
// the old values to the new session.
func ExampleImportHook() {
	type User struct{ ID string }
	imp, err := sealedgorilla.ImportHook("session-name",
		sealedgorilla.Migration{KeyPairs: [][]byte{[]byte(os.Getenv("OLD_HASH_KEY")), []byte(os.Getenv("OLD_BLOCK_KEY"))}},
		func(values map[any]any, s *sealed.Session) error {
			u, ok := values["user"].(User) // gob.Register(User{}) as before
			if !ok {
				return nil // not logged in: nothing to move
			}
			return errors.Join(s.SetSubject(u.ID), s.Set("user", u.ID))
		})
	if err != nil {
		log.Fatal(err)
	}
	keys, err := sealed.ParseKeyring([]byte(os.Getenv("SEALED_KEYS")))
	if err != nil {
		log.Fatal(err)
	}
	m, err := sealed.New(keys, &sealed.Options{Import: imp})
	if err != nil {
		log.Fatal(err)
	}
	http.Handle("/", m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := m.Session(r)
		if err != nil {
			return
		}
		user, _, _ := sealed.Get[string](s, "user")
		w.Write([]byte("hello " + user))
	})))
}
