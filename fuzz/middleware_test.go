package fuzz_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sealedgo/sealed"
	"github.com/stretchr/testify/require"
)

// middlewarePoolSizes are the blob sizes of FuzzMiddleware's pool sessions
// (under the default budget: 1, 1 and 2 chunks), plus a session under the
// retired key. gencorpus.go uses the same list.
var middlewarePoolSizes = []int{0, 100, 3000}

// expandHeader replaces "$" followed by two bytes s and c with chunk c of
// pool session s (both modulo) and "$$" with "$", so that inputs can hold
// real sealed chunks without carrying them.
func expandHeader(h string, pool [][]string) string {
	if !strings.Contains(h, "$") {
		return h
	}
	var b strings.Builder
	for i := 0; i < len(h); i++ {
		switch {
		case h[i] != '$' || i+1 >= len(h):
			b.WriteByte(h[i])
		case h[i+1] == '$':
			b.WriteByte('$')
			i++
		case i+2 < len(h):
			b.WriteString(poolValue(pool, h[i+1], h[i+2]))
			i += 2
		default:
			b.WriteString(h[i:])
			i = len(h)
		}
	}
	return b.String()
}

// FuzzMiddleware sends arbitrary Cookie headers (the input, expanded with
// expandHeader and split at "\n" into several header lines) through Manager.Middleware to a handler that
// reads the session, optionally changes it (chosen by op), and answers 200.
// Nothing may panic and the status must be 200. The session must be loaded
// exactly when the reference reader finds a valid session in the header,
// and be new otherwise. Any Set-Cookie must fit 4096 bytes and come with
// Vary: Cookie; the cookies it sets must load the changed session, and an
// invalidated session must expire every chunk the client sent.
func FuzzMiddleware(f *testing.F) {
	requireCorpus(f)
	keys := testKeys(f)
	ring := testRing(f, keys)
	m := newManager(f, ring, sealed.Options{})
	name := m.CookieName()
	ctx := context.Background()
	pool := makePool(f, keys, sealed.Options{}, middlewarePoolSizes)

	f.Fuzz(func(t *testing.T, header string, op uint8) {
		header = expandHeader(header, pool)
		var lines []string
		if header != "" {
			lines = strings.Split(header, "\n")
		}
		want := refLoad(keys, refSplitHeader(lines), name, sealed.DefaultBudget.MaxChunks, 0)

		var (
			sess    *sealed.Session
			wasNew  bool
			firstID string
			sessErr error
		)
		h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s, err := m.Session(r)
			sess, sessErr = s, err
			if err != nil {
				return
			}
			wasNew, firstID = s.IsNew(), s.ID()
			require.Equal(t, !want.loaded, wasNew, "session new=%v, the reference says loaded=%v", wasNew, want.loaded)
			if !wasNew {
				requireSessionIs(t, s, want.payload)
			}
			_, _, _ = sealed.Get[string](s, "user")
			switch op % 6 {
			case 1:
				_ = s.Set("user", "fuzz")
			case 2:
				require.NoError(t, s.AddFlash("hello"))
			case 3:
				require.NoError(t, s.Invalidate())
			case 4:
				require.NoError(t, s.CycleID())
			case 5:
				_ = flashes(t, s)
			}
			w.WriteHeader(http.StatusOK)
		}))
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		if lines != nil {
			r.Header["Cookie"] = lines
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)

		require.NoError(t, sessErr)
		require.NotNil(t, sess)
		require.Less(t, rec.Code, 500, "status %d", rec.Code)
		require.Equal(t, http.StatusOK, rec.Code)

		set := rec.Result().Header.Values("Set-Cookie")
		if len(set) == 0 {
			// Nothing written: only a session nobody changed, or an empty
			// new one that was invalidated or drained.
			require.True(t, op%6 == 0 || op%6 == 5 || (wasNew && op%6 != 1 && op%6 != 2),
				"op %d on a session (new=%v) wrote no cookie", op%6, wasNew)
			return
		}
		require.Contains(t, rec.Result().Header.Values("Vary"), "Cookie")
		for _, line := range set {
			c, err := http.ParseSetCookie(line)
			require.NoError(t, err)
			require.GreaterOrEqual(t, refChunkIndex(name, c.Name), 0, "Set-Cookie for %q", c.Name)
		}
		next := setCookies(t, set)

		// Every chunk the client sent beyond the new count is expired; after
		// Invalidate (with nothing written since) that is all of them.
		kept := uint32(0)
		for _, c := range next {
			kept |= 1 << refChunkIndex(name, c.name)
		}
		expired := uint32(0)
		for _, line := range set {
			if c, _ := http.ParseSetCookie(line); c.MaxAge < 0 {
				expired |= 1 << refChunkIndex(name, c.Name)
			}
		}
		if len(next) > 0 {
			require.Equal(t, want.present&^kept, expired&want.present, "stale chunks not expired")
		} else {
			// Only expirations: the session ended (Invalidate) or there
			// was none and the client's chunks are garbage.
			require.True(t, op%6 == 3 || wasNew, "op %d expired every cookie of a live session", op%6)
			require.Equal(t, want.present, expired, "every chunk the client sent must be expired")
			return
		}

		pairs := make([]string, len(next))
		for i, c := range next {
			pairs[i] = c.name + "=" + c.value
		}
		s2, err := m.LoadHeader(ctx, strings.Join(pairs, "; "))
		require.NoError(t, err)
		require.False(t, s2.IsNew(), "the cookies the middleware set do not load")
		switch op % 6 {
		case 1:
			user, ok, err := sealed.Get[string](s2, "user")
			require.NoError(t, err)
			require.True(t, ok)
			require.Equal(t, "fuzz", user)
		case 2:
			fl := flashes(t, s2)
			require.NotEmpty(t, fl)
			require.Equal(t, "hello", fl[len(fl)-1])
		case 4:
			require.NotEqual(t, firstID, s2.ID(), "CycleID kept the ID")
		}
		if op%6 != 4 && op%6 != 3 {
			require.Equal(t, firstID, s2.ID())
		}
	})
}
