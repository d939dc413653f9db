package sealed_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealedgo/sealed"
)

// legacyImport reads a stand-in for an older session cookie, "legacy" with
// value "user.<name>"; anything else under that name is garbage to delete.
func legacyImport(calls *int) func(context.Context, []string, *sealed.Session) []*http.Cookie {
	return func(_ context.Context, header []string, s *sealed.Session) []*http.Cookie {
		*calls++
		r := http.Request{Header: http.Header{"Cookie": header}}
		c, err := r.Cookie("legacy")
		if err != nil {
			return nil
		}
		if user, ok := strings.CutPrefix(c.Value, "user."); ok {
			_ = s.SetSubject(user)
			_ = s.Set("user", user)
		}
		return []*http.Cookie{{Name: "legacy", Path: "/"}}
	}
}

// A user logged in under the old mechanism is still logged in after the
// switch: the first response carries the new session and deletes the old
// cookie, and later requests open the new session without asking Import.
func TestImportKeepsUsersLoggedIn(t *testing.T) {
	calls := 0
	var events events
	m := newManager(t, nil, sealed.Options{Import: legacyImport(&calls), Observer: events.observe})
	site := serve(t, m, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := m.Session(r)
		if err != nil {
			return
		}
		user, _, _ := sealed.Get[string](s, "user")
		_, _ = w.Write([]byte("user=" + user + " subject=" + s.Subject()))
	}))
	c := site.client(t)
	c.jar.SetCookies(c.base, []*http.Cookie{{Name: "legacy", Value: "user.ada", Path: "/"}})

	resp, body := c.get("/")
	assert.Equal(t, "user=ada subject=ada", body)
	assert.NotEmpty(t, site.live(resp), "the new session is written")
	var deleted bool
	for _, k := range resp.Cookies() {
		if k.Name == "legacy" {
			deleted = k.MaxAge < 0
		}
	}
	assert.True(t, deleted, "the old cookie is deleted in the same response")
	assert.Equal(t, []string{"load:imported", "save:written"}, outcomes(events.take()))

	_, body = c.get("/")
	assert.Equal(t, "user=ada subject=ada", body)
	assert.Equal(t, 1, calls, "a session that opens is not offered to Import")
	assert.Equal(t, []string{"load:opened", "save:unchanged"}, outcomes(events.take()))
	for _, k := range c.cookies() {
		assert.NotEqual(t, "legacy", k.Name, "the browser dropped the old cookie")
	}
}

func TestImportEdgeCases(t *testing.T) {
	ctx := context.Background()
	calls := 0
	clock := sealed.NewClock(time.Time{})
	list := newFaultyList()
	m := newManager(t, nil, sealed.Options{Import: legacyImport(&calls), Now: clock.Now, Revocation: list, IdleTimeout: time.Hour})
	legacy := "legacy=user.ada"

	t.Run("too large: neither the session nor the deletion", func(t *testing.T) {
		s, err := m.Load(ctx, legacy)
		require.NoError(t, err)
		assert.Equal(t, "ada", s.Subject())
		require.NoError(t, s.Set("big", strings.Repeat("x", 20000)))
		lines, err := m.Save(ctx, s)
		require.ErrorIs(t, err, sealed.ErrTooLarge)
		assert.Empty(t, lines)
		// The save can be retried once the session fits: now both go out.
		_, _, _ = sealed.Remove[string](s, "big")
		lines, err = m.Save(ctx, s)
		require.NoError(t, err)
		require.Len(t, lines, 2)
		assert.True(t, strings.HasPrefix(lines[1], "legacy=; Path=/; Max-Age=0"), lines[1])
	})

	t.Run("garbage legacy cookie: deleted, no session", func(t *testing.T) {
		s, err := m.Load(ctx, "legacy=%%%")
		require.NoError(t, err)
		assert.True(t, s.IsNew())
		assert.Empty(t, s.Subject())
		lines, err := m.Save(ctx, s)
		require.NoError(t, err)
		require.Len(t, lines, 1)
		assert.True(t, strings.HasPrefix(lines[0], "legacy=;"), lines[0])
	})

	t.Run("a rejected sealed cookie is replaced by the imported session", func(t *testing.T) {
		s, err := m.Load(ctx, "session=AAAA; "+legacy)
		require.NoError(t, err)
		assert.Equal(t, "ada", s.Subject())
	})

	// A session that opened and ended is not brought back by an old cookie
	// the client still sends: logging out must stay logged out.
	t.Run("expired or revoked: not imported", func(t *testing.T) {
		s, err := m.Load(ctx, legacy)
		require.NoError(t, err)
		lines, err := m.Save(ctx, s)
		require.NoError(t, err)
		sealedPair := cookiePairs(lines)[0]

		before := calls
		s, err = m.Load(ctx, sealedPair+"; "+legacy)
		require.NoError(t, err)
		require.False(t, s.IsNew())
		require.NoError(t, s.Invalidate())
		_, err = m.Save(ctx, s)
		require.NoError(t, err)
		s, err = m.Load(ctx, sealedPair+"; "+legacy)
		require.NoError(t, err)
		assert.True(t, s.IsNew())
		assert.Empty(t, s.Subject(), "a revoked session is not re-imported")

		s, err = m.Load(ctx, legacy)
		require.NoError(t, err)
		lines, err = m.Save(ctx, s)
		require.NoError(t, err)
		clock.Advance(2 * time.Hour)
		s, err = m.Load(ctx, cookiePairs(lines)[0]+"; "+legacy)
		require.NoError(t, err)
		assert.Empty(t, s.Subject(), "an expired session is not re-imported")
		assert.Equal(t, before+1, calls, "Import was asked only for the request with no sealed cookie")
	})
}

// A cookie Import names that is the session cookie itself is not deleted:
// the new session's cookie overwrites it. The same name in another Path
// or Domain is another cookie, which the browser would send alongside the
// new one: that one is deleted.
func TestImportSameNameIsOverwritten(t *testing.T) {
	ctx := context.Background()
	m := newManager(t, nil, sealed.Options{Import: func(_ context.Context, _ []string, s *sealed.Session) []*http.Cookie {
		_ = s.Set("from", "old")
		return []*http.Cookie{{Name: "session", Path: "/"}, {Name: "session.1", Path: "/"}, {Name: "bad name", Path: "/"}, nil,
			{Name: "session", Path: "/old"}, {Name: "session.1", Path: "/", Domain: "example.com"}}
	}})
	s, err := m.Load(ctx, "session=old-format-value")
	require.NoError(t, err)
	v, _, _ := sealed.Get[string](s, "from")
	assert.Equal(t, "old", v)
	lines, err := m.Save(ctx, s)
	require.NoError(t, err)
	require.Len(t, lines, 3, "the new session, and deletions only for its names in other scopes")
	assert.True(t, strings.HasPrefix(lines[0], "session="))
	assert.NotContains(t, lines[0], "Max-Age=0")
	assert.True(t, strings.HasPrefix(lines[1], "session=; Path=/old; Max-Age=0"), lines[1])
	assert.True(t, strings.HasPrefix(lines[2], "session.1=; Path=/; Domain=example.com; Max-Age=0"), lines[2])
}
