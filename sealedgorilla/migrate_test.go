package sealedgorilla_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealedgo/sealed"
	"github.com/sealedgo/sealed/sealedgorilla"
)

// oldKeys are an application's gorilla CookieStore keys: a hash key and a
// block key, as passed to sessions.NewCookieStore.
func oldKeys() [][]byte {
	return [][]byte{securecookie.GenerateRandomKey(32), securecookie.GenerateRandomKey(32)}
}

// loggedInBefore logs ada in on the real gorilla CookieStore made with
// pairs (its Options.Path set to oldPath), and returns the site (with that
// app still serving, under oldPath) and her browser.
func loggedInBefore(t *testing.T, pairs [][]byte, oldPath string) (*site, *browser) {
	t.Helper()
	old := sessions.NewCookieStore(pairs...)
	old.Options.Path = oldPath
	s := newSite(t, app(old))
	b := s.browser(t)
	at := strings.TrimSuffix(oldPath, "/")
	r := b.get(at + "/login?user=ada")
	require.Equal(t, http.StatusOK, r.code, r.body)
	require.Equal(t, []string{"app"}, names(r.cookies))
	require.Contains(t, r.cookies[0], "Path="+oldPath)
	require.Equal(t, "user=ada roles=[admin] answer=answer new=false flashes=[welcome ada]", b.get(at+"/me").body, "the old app works")
	b.get(at + "/login?user=ada") // the flash again, to carry it over the switch
	return s, b
}

// A user logged in on a gorilla CookieStore is still logged in, with the
// same values, after the switch; the old cookie is overwritten by the
// sealed one, and later requests open it without the old keys.
func TestMigrateKeepsUsersLoggedIn(t *testing.T) {
	pairs := oldKeys()
	s, b := loggedInBefore(t, pairs, "/")
	oldValue := b.cookies("/")["app"]

	var ev events
	st := newStore(t, newKeys(t), &sealedgorilla.StoreOptions{
		Sealed:  sealed.Options{Observer: ev.observe},
		Migrate: &sealedgorilla.Migration{KeyPairs: pairs},
	})
	s.handle(app(st))

	r := b.get("/me")
	assert.Equal(t, "user=ada roles=[admin] answer=answer new=false flashes=[welcome ada]", r.body, "same values, flash included")
	assert.Equal(t, []string{"app"}, names(r.cookies), "one line: the sealed cookie overwrites the old one")
	assert.NotContains(t, r.cookies[0], "Max-Age=0")
	assert.Equal(t, []string{"load:imported", "load:imported", "save:written"}, ev.take(), "Get and Save each read the request")

	jar := b.cookies("/")
	require.Len(t, jar, 1)
	assert.NotEqual(t, oldValue, jar["app"])
	var v map[any]any
	assert.Error(t, securecookie.DecodeMulti("app", jar["app"], &v, securecookie.CodecsFromPairs(pairs...)...), "the old keys do not open the new cookie")

	r = b.get("/me")
	assert.Equal(t, "user=ada roles=[admin] answer=answer new=false flashes=[]", r.body)
	assert.Equal(t, []string{"load:opened"}, ev.take(), "the sealed session opens: no import")

	// A new value sticks: the old cookie is gone for good.
	b.get("/grow?n=3")
	r = b.get("/me")
	assert.Equal(t, "user=ada roles=[admin] answer=answer new=false flashes=[]", r.body)
	assert.Contains(t, ev.take(), "load:opened")
}

// Old cookies under another Path are deleted in the response that writes
// their successor, or they would shadow it.
func TestMigrateOtherPath(t *testing.T) {
	pairs := oldKeys()
	// The old app lived under /old: its cookie is sent there only.
	s, b := loggedInBefore(t, pairs, "/old")
	require.Empty(t, b.cookies("/"))

	st := newStore(t, newKeys(t), &sealedgorilla.StoreOptions{
		Migrate: &sealedgorilla.Migration{KeyPairs: pairs, Path: "/old"},
	})
	s.handle(app(st))
	r := b.get("/old/me")
	assert.Contains(t, r.body, "user=ada roles=[admin]")
	require.Len(t, r.cookies, 2)
	assert.Contains(t, line(r.cookies, "app"), "Path=/;")
	var deleted bool
	for _, l := range r.cookies {
		deleted = deleted || (strings.Contains(l, "Path=/old") && strings.Contains(l, "Max-Age=0"))
	}
	assert.True(t, deleted, "the old cookie is deleted: %q", r.cookies)

	assert.Len(t, b.cookies("/old/me"), 1, "one app cookie left under /old")
	assert.Contains(t, b.get("/old/me").body, "user=ada roles=[admin]")
	assert.Contains(t, b.get("/me").body, "user=ada roles=[admin]")

	// Another Domain: a host-only old cookie, a new one for the domain.
	st = newStore(t, newKeys(t), &sealedgorilla.StoreOptions{Migrate: &sealedgorilla.Migration{KeyPairs: pairs}})
	st.Options.Domain = "example.com"
	req := httptest.NewRequest("GET", "https://www.example.com/", nil)
	req.Header.Set("Cookie", "app="+encodeOld(t, pairs, map[any]any{"user": User{Name: "bob"}}))
	sess, err := st.Get(req, "app")
	require.NoError(t, err)
	assert.Equal(t, User{Name: "bob"}, sess.Values["user"])
	rec := httptest.NewRecorder()
	require.NoError(t, sess.Save(req, rec))
	lines := rec.Header().Values("Set-Cookie")
	require.Len(t, lines, 2)
	assert.Contains(t, lines[0], "Domain=example.com")
	assert.True(t, strings.HasPrefix(lines[1], "app=; Path=/; Max-Age=0"), lines[1])
	assert.NotContains(t, lines[1], "Domain")
}

// An old cookie that does not decode, with a bad MAC, other keys or an
// expired timestamp, gives a fresh session and no error.
func TestMigrateBadOldCookie(t *testing.T) {
	pairs := oldKeys()
	s, b := loggedInBefore(t, pairs, "/")
	good := b.cookies("/")["app"]
	raw, err := base64.URLEncoding.DecodeString(good)
	require.NoError(t, err)
	flipped := bytes.Clone(raw)
	flipped[len(flipped)/2] ^= 1

	st := newStore(t, newKeys(t), &sealedgorilla.StoreOptions{Migrate: &sealedgorilla.Migration{KeyPairs: pairs}})
	s.handle(app(st))
	const fresh = "user= roles=[] answer=<nil> new=true flashes=[]"

	_, other := loggedInBefore(t, oldKeys(), "/")
	for _, tc := range []struct {
		name, value, want string
	}{
		// The control: restamped within MaxAge, the forgery is right.
		{"restamped a day ago", restamp(t, "app", good, pairs[0], time.Now().Add(-24*time.Hour)), "user=ada"},
		{"expired timestamp", restamp(t, "app", good, pairs[0], time.Now().Add(-31*24*time.Hour)), fresh},
		{"bad MAC", base64.URLEncoding.EncodeToString(flipped), fresh},
		{"other keys", other.cookies("/")["app"], fresh},
		{"not base64", "%%%", fresh},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := s.browser(t)
			c.set("/", &http.Cookie{Name: "app", Value: tc.value, Path: "/"})
			r := c.get("/me")
			assert.Equal(t, http.StatusOK, r.code)
			assert.Contains(t, r.body, tc.want)
		})
	}
}

// restamp re-signs a securecookie value as if it had been written at at,
// to test the old store's MaxAge without waiting.
func restamp(t *testing.T, name, value string, hashKey []byte, at time.Time) string {
	t.Helper()
	raw, err := base64.URLEncoding.DecodeString(value)
	require.NoError(t, err)
	parts := bytes.SplitN(raw, []byte("|"), 3) // date|value|mac
	require.Len(t, parts, 3)
	signed := fmt.Sprintf("%s|%d|%s", name, at.Unix(), parts[1])
	mac := hmac.New(sha256.New, hashKey)
	mac.Write([]byte(signed))
	out := append([]byte(signed[len(name)+1:]+"|"), mac.Sum(nil)...)
	return base64.URLEncoding.EncodeToString(out)
}

// A migrated session that cannot be saved writes neither the new cookie nor
// anything else: the client keeps its old cookie, still imported next time.
func TestMigrateFailedSave(t *testing.T) {
	pairs := oldKeys()
	// Under another Path, so that the old cookie would be deleted too.
	s, b := loggedInBefore(t, pairs, "/old")
	st := newStore(t, newKeys(t), &sealedgorilla.StoreOptions{Migrate: &sealedgorilla.Migration{KeyPairs: pairs, Path: "/old"}})
	before := b.cookies("/old/")
	require.NotEmpty(t, before["app"])

	s.handle(app(st))
	r := b.get("/old/grow?n=20000")
	assert.Equal(t, http.StatusRequestEntityTooLarge, r.code, r.body)
	assert.Empty(t, r.cookies, "no new cookie, no deletion")
	assert.Equal(t, before, b.cookies("/old/"))
	assert.Contains(t, b.get("/old/me").body, "user=ada roles=[admin]")
}

// Logging out on the first request after the switch deletes the old
// cookie: it does not log the user back in.
func TestMigrateLogoutFirst(t *testing.T) {
	pairs := oldKeys()
	s, b := loggedInBefore(t, pairs, "/")
	st := newStore(t, newKeys(t), &sealedgorilla.StoreOptions{Migrate: &sealedgorilla.Migration{KeyPairs: pairs}})
	s.handle(app(st))
	r := b.get("/logout")
	require.Equal(t, []string{"app"}, names(r.cookies))
	assert.Contains(t, r.cookies[0], "Max-Age=0")
	assert.Empty(t, b.cookies("/"))
	assert.Contains(t, b.get("/me").body, "new=true")
}

// An old store that was rotating keys (two pairs): cookies under either
// pair move over.
func TestMigrateRotatedOldKeys(t *testing.T) {
	older, newer := oldKeys(), oldKeys()
	rotated := append(append([][]byte{}, newer...), older...)
	st := newStore(t, newKeys(t), &sealedgorilla.StoreOptions{Migrate: &sealedgorilla.Migration{KeyPairs: rotated}})
	for _, pairs := range [][][]byte{older, newer, rotated} {
		s, b := loggedInBefore(t, pairs, "/")
		s.handle(app(st))
		assert.Equal(t, "user=ada roles=[admin] answer=answer new=false flashes=[welcome ada]", b.get("/me").body)
	}
}

// convert moves an old session into sealed's own API.
func convert(values map[any]any, s *sealed.Session) error {
	u, ok := values["user"].(User)
	if !ok {
		return errors.New("no user in the old session")
	}
	return errors.Join(s.SetSubject(u.Name), s.Set("roles", u.Roles))
}

// An application moving from a CookieStore to sealed's own Manager: the
// old cookie (another name) is read once, converted, and deleted in the
// same response.
func TestImportHookNative(t *testing.T) {
	pairs := oldKeys()
	s, b := loggedInBefore(t, pairs, "/")

	hook, err := sealedgorilla.ImportHook("app", sealedgorilla.Migration{KeyPairs: pairs}, convert)
	require.NoError(t, err)
	var ev events
	m, err := sealed.New(newKeys(t), &sealed.Options{Import: hook, Observer: ev.observe})
	require.NoError(t, err)
	s.handle(m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ss, err := m.Session(r)
		if err != nil {
			return
		}
		roles, _, _ := sealed.Get[[]string](ss, "roles")
		fmt.Fprintf(w, "subject=%s roles=%v", ss.Subject(), roles)
	})))

	r := b.get("/")
	assert.Equal(t, "subject=ada roles=[admin]", r.body)
	assert.Equal(t, []string{"__Host-session", "app"}, names(r.cookies))
	assert.Contains(t, line(r.cookies, "app"), "Max-Age=0", "the old cookie is deleted in the same response")
	assert.Equal(t, []string{"load:imported", "save:written"}, ev.take())
	jar := b.cookies("/")
	assert.Len(t, jar, 1)
	assert.Contains(t, jar, "__Host-session")

	assert.Equal(t, "subject=ada roles=[admin]", b.get("/").body)
	assert.Equal(t, []string{"load:opened", "save:unchanged"}, ev.take())

	t.Run("convert fails: nothing moved, the old cookie kept", func(t *testing.T) {
		c := s.browser(t)
		c.set("/", &http.Cookie{Name: "app", Value: encodeOld(t, pairs, map[any]any{42: "no user"}), Path: "/"})
		r := c.get("/")
		assert.Equal(t, "subject= roles=[]", r.body)
		assert.Empty(t, r.cookies)
		assert.Contains(t, c.cookies("/"), "app")
	})
	t.Run("bad old cookie: deleted", func(t *testing.T) {
		c := s.browser(t)
		c.set("/", &http.Cookie{Name: "app", Value: "forged", Path: "/"})
		r := c.get("/")
		assert.Equal(t, "subject= roles=[]", r.body)
		assert.Equal(t, []string{"app"}, names(r.cookies))
		assert.Empty(t, c.cookies("/"))
	})
}

func encodeOld(t *testing.T, pairs [][]byte, values map[any]any) string {
	t.Helper()
	v, err := securecookie.EncodeMulti("app", values, securecookie.CodecsFromPairs(pairs...)...)
	require.NoError(t, err)
	return v
}

func TestImportHookValidation(t *testing.T) {
	pairs := oldKeys()
	_, err := sealedgorilla.ImportHook("app", sealedgorilla.Migration{KeyPairs: pairs}, nil)
	assert.ErrorContains(t, err, "convert")
	_, err = sealedgorilla.ImportHook("bad name", sealedgorilla.Migration{KeyPairs: pairs}, convert)
	assert.ErrorContains(t, err, "cookie name")
	_, err = sealedgorilla.ImportHook("app", sealedgorilla.Migration{}, convert)
	assert.ErrorContains(t, err, "Migration.KeyPairs")
	_, err = sealedgorilla.ImportHook("app", sealedgorilla.Migration{KeyPairs: [][]byte{pairs[0], []byte("short")}}, convert)
	assert.ErrorContains(t, err, "pair 1")

	// The old store's MaxAge is honoured as securecookie did.
	hook, err := sealedgorilla.ImportHook("app", sealedgorilla.Migration{KeyPairs: pairs, MaxAge: 3600}, convert)
	require.NoError(t, err)
	value := encodeOld(t, pairs, map[any]any{"user": User{Name: "ada"}})
	m, err := sealed.New(newKeys(t), &sealed.Options{Import: hook})
	require.NoError(t, err)
	ctx := context.Background()
	for _, tc := range []struct {
		at   time.Duration
		want string
	}{{-30 * time.Minute, "ada"}, {-2 * time.Hour, ""}} {
		ss, err := m.Load(ctx, "app="+restamp(t, "app", value, pairs[0], time.Now().Add(tc.at)))
		require.NoError(t, err)
		assert.Equal(t, tc.want, ss.Subject(), "written %v ago", -tc.at)
	}
}
