package fuzz_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sealedgo/sealed"
	"github.com/stretchr/testify/require"
)

// chunkNames is the alphabet of cookie names FuzzChunks draws from: the
// session cookie (index 0), its chunks 1 to 40 (31 is the highest a session
// can use), then names that look like chunks but are not. gencorpus.go
// writes seeds with these indexes; append, never reorder.
func chunkNames(name string) []string {
	names := []string{name}
	for i := 1; i <= 40; i++ {
		names = append(names, name+"."+strconv.Itoa(i))
	}
	return append(names,
		name+".01", // 41
		name+".0",
		name+".",
		name+".1x",
		name+".+1",
		name+".-1",
		name+"..1",
		name+".1.1",
		name+" ",
		"x"+name,
		strings.ToLower(name),
		"other", // 52
		"",
	)
}

// chunkPoolSizes are the blob sizes of FuzzChunks' pool sessions, split
// with chunkSeedBudget into many chunks each, plus a session under the
// retired key. gencorpus.go uses the same list.
var chunkPoolSizes = []int{0, 100, 3000, 6000, 8000}

// chunkSeedBudget splits the pool sessions: small lines, so that modest
// sessions take many chunks.
var chunkSeedBudget = sealed.Budget{MaxBytes: 1 << 20, MaxChunks: sealed.MaxChunksLimit, MaxLineBytes: 512}

// decodeCookies reads a cookie list from fuzz input, as records of four
// bytes [name, kind, a, b] and, for a literal, the value: name chooses from
// names (modulo); an even kind is a literal of a<<8|b bytes (cut short at
// the end of the input), an odd kind is chunk b of pool session a (both
// modulo).
func decodeCookies(data []byte, names []string, pool [][]string) []refCookie {
	var out []refCookie
	for len(data) >= 4 {
		name, kind, a, b := names[int(data[0])%len(names)], data[1], data[2], data[3]
		data = data[4:]
		if kind%2 == 1 {
			out = append(out, refCookie{name, poolValue(pool, a, b)})
			continue
		}
		n := min(int(a)<<8|int(b), len(data))
		out = append(out, refCookie{name, string(data[:n])})
		data = data[n:]
	}
	return out
}

// FuzzChunks has two halves.
//
// Reading: an arbitrary list of cookies (names from chunkNames, values
// arbitrary or real chunks from a pool of sessions, in any order, with
// duplicates) goes to Manager.Load of a
// manager allowing 32 chunks and of one allowing the default 8. Load must
// never panic or fail, and must load a session exactly when the reference
// reader (SPEC.md "Chunked cookies / Reading", then opening and the payload
// rules) does, with the same content; otherwise the session is new.
//
// Writing: a session holding a value of a size taken from the input (up to
// 12 KiB) under a key taken from the input, which is also the subject and a
// flash message, is saved under BudgetLarge. Every Set-Cookie must fit
// 4096 bytes and the budget, and the cookies, shuffled (by the input's
// seed) and mixed with a stale chunk and a foreign cookie, must load back
// to the same session.
func FuzzChunks(f *testing.F) {
	requireCorpus(f)
	keys := testKeys(f)
	ring := testRing(f, keys)
	wide := newManager(f, ring, sealed.Options{Budget: chunkSeedBudget})
	narrow := newManager(f, ring, sealed.Options{})
	large := newManager(f, ring, sealed.Options{Budget: sealed.BudgetLarge})
	name := wide.CookieName()
	names := chunkNames(name)
	pool := makePool(f, keys, sealed.Options{Budget: chunkSeedBudget}, chunkPoolSizes)
	ctx := context.Background()

	f.Fuzz(func(t *testing.T, data []byte, size uint16, seed uint64, key string) {
		// Reading.
		cookies := decodeCookies(data, names, pool)
		hc := make([]*http.Cookie, len(cookies))
		for i, c := range cookies {
			hc[i] = &http.Cookie{Name: c.name, Value: c.value}
		}
		for _, m := range []struct {
			m         *sealed.Manager
			maxChunks int
		}{{wide, sealed.MaxChunksLimit}, {narrow, sealed.DefaultBudget.MaxChunks}} {
			s, err := m.m.Load(ctx, hc)
			require.NoError(t, err)
			require.NotNil(t, s)
			want := refLoad(keys, cookies, name, m.maxChunks, 0)
			require.Equal(t, want.loaded, !s.IsNew(), "max %d chunks: loaded=%v, the reference says %v", m.maxChunks, !s.IsNew(), want.loaded)
			if want.loaded {
				requireSessionIs(t, s, want.payload)
				require.True(t, sameStrings(want.payload.flashes, flashes(t, s)))
			}
		}

		// Writing.
		n := int(size) % (12<<10 + 1)
		rng := rand.New(rand.NewPCG(seed, uint64(size)))
		val := make([]byte, n)
		for i := range val {
			val[i] = byte(rng.Uint32())
		}
		s, err := large.Load(ctx, nil)
		require.NoError(t, err)
		require.True(t, s.IsNew())
		err = s.Set(key, val)
		if !utf8.ValidString(key) {
			require.Error(t, err, "Set accepts a key that is not valid UTF-8")
			return
		}
		require.NoError(t, err)
		require.NoError(t, s.SetSubject(key))
		require.NoError(t, s.AddFlash(key))
		out, err := large.Save(ctx, s)
		if err != nil {
			require.Empty(t, out)
			if errors.Is(err, sealed.ErrTooLarge) {
				require.Greater(t, n+3*len(key), 10<<10, "a small session does not fit BudgetLarge: %v", err)
				return
			}
			require.False(t, utf8.ValidString(key), "Save failed: %v", err)
			return
		}
		require.NotEmpty(t, out)
		require.LessOrEqual(t, len(out), sealed.BudgetLarge.MaxChunks)
		reqBytes := 2 * (len(out) - 1)
		for i, c := range out {
			require.Equal(t, chunkNameOf(name, i), c.Name)
			require.LessOrEqual(t, len(c.String()), sealed.MaxLineLimit, "Set-Cookie line over 4096 bytes")
			reqBytes += len(c.Name) + 1 + len(c.Value)
			v := c.Value
			if i == 0 && len(out) > 1 {
				prefix := strconv.Itoa(len(out)) + "."
				require.True(t, strings.HasPrefix(v, prefix), "first chunk %q... lacks the count", v[:min(8, len(v))])
				v = v[len(prefix):]
			}
			if i < len(out)-1 {
				require.Zero(t, len(v)%4, "non-final chunk %d holds %d characters", i, len(v))
			}
		}
		require.LessOrEqual(t, reqBytes, sealed.BudgetLarge.MaxBytes)

		sent := make([]*http.Cookie, 0, len(out)+2)
		for _, c := range out {
			sent = append(sent, &http.Cookie{Name: c.Name, Value: c.Value})
		}
		if seed&1 != 0 && len(out) < sealed.MaxChunksLimit {
			sent = append(sent, &http.Cookie{Name: chunkNameOf(name, len(out)), Value: "c3RhbGU"})
		}
		if seed&2 != 0 {
			sent = append(sent, &http.Cookie{Name: "other", Value: "x"})
		}
		rng.Shuffle(len(sent), func(i, j int) { sent[i], sent[j] = sent[j], sent[i] })
		pairs := make([]string, len(sent))
		for i, c := range sent {
			pairs[i] = c.Name + "=" + c.Value
		}

		for _, load := range []func() (*sealed.Session, error){
			func() (*sealed.Session, error) { return large.Load(ctx, sent) },
			func() (*sealed.Session, error) { return large.LoadHeader(ctx, strings.Join(pairs, "; ")) },
		} {
			s2, err := load()
			require.NoError(t, err)
			require.False(t, s2.IsNew(), "a saved session in %d chunks does not load back (key %q)", len(out), key)
			require.Equal(t, s.ID(), s2.ID())
			got, ok, err := sealed.Get[[]byte](s2, key)
			require.NoError(t, err)
			require.True(t, ok)
			require.Equal(t, val, got)
			require.Equal(t, []string{key}, s2.Keys())
			require.Equal(t, key, s2.Subject())
			require.Equal(t, []string{key}, flashes(t, s2))
		}
	})
}

func chunkNameOf(name string, i int) string {
	if i == 0 {
		return name
	}
	return name + "." + strconv.Itoa(i)
}
