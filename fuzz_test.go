package sealed_test

// The fuzz targets of the whole library, through its public API: the
// layers below are fuzzed in their own packages (internal/*/fuzz_test.go).
// Seed corpora are in testdata/fuzz/<Target>/, written by
// fuzz/gencorpus.go; run them with fuzz/run.sh. Identifiers start with fz
// so as not to collide with the package's other test files.

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/fxamacker/cbor/v2"
	"github.com/sealedgo/sealed"
	"github.com/sealedgo/sealed/internal/cookie"
	"github.com/sealedgo/sealed/internal/envelope"
	"github.com/sealedgo/sealed/internal/fuzzseed"
	"github.com/sealedgo/sealed/internal/payload"
	"github.com/stretchr/testify/require"
)

// The cookie name and purpose of a secure Manager with default options.
const (
	fzCookieName = "__Host-session"
	fzPurpose    = "session"
)

// fzKeys returns the golden vectors' keys (fuzzseed.GoldenKeys), the
// primary first: the keys gencorpus.go seals the seeds with.
func fzKeys(tb testing.TB) []sealed.Key {
	tb.Helper()
	ids, secrets := fuzzseed.GoldenKeys(tb)
	keys := make([]sealed.Key, len(ids))
	for i := range ids {
		keys[i] = sealed.Key{ID: ids[i], Secret: secrets[i]}
	}
	return keys
}

// fzManager returns a secure manager whose clock stands still at now.
func fzManager(tb testing.TB, ring *sealed.Keyring, o sealed.Options, now time.Time) *sealed.Manager {
	tb.Helper()
	o.Now = func() time.Time { return now }
	return sealed.NewTestManager(tb, ring, &o)
}

// fzSetCookies checks Set-Cookie lines (each at most 4096 bytes, as SPEC.md
// requires) and returns the cookies a browser would then send: every one
// that is not expired.
func fzSetCookies(t *testing.T, lines []string) []*http.Cookie {
	t.Helper()
	var out []*http.Cookie
	for _, line := range lines {
		require.LessOrEqual(t, len(line), 4096, "Set-Cookie line over 4096 bytes")
		c, err := http.ParseSetCookie(line)
		require.NoError(t, err, "Set-Cookie line %q", line)
		if c.MaxAge < 0 {
			continue
		}
		require.Positive(t, c.MaxAge)
		out = append(out, c)
	}
	return out
}

// fzFlashes reads and removes s's flash messages, which a session not yet
// saved always gives.
func fzFlashes(t *testing.T, s *sealed.Session) []string {
	t.Helper()
	fl, err := s.Flashes()
	require.NoError(t, err)
	return fl
}

// fzState is what a session holds, to compare sessions with.
type fzState struct {
	id      string
	created int64 // Unix ms
	subject string
	keys    []string
	raw     [][]byte // encoded values, in key order
	bad     []bool   // whether each value breaks the value rules (Get fails)
}

func fzStateOf(t testing.TB, s *sealed.Session) fzState {
	t.Helper()
	st := fzState{id: s.ID(), created: s.CreatedAt().UnixMilli(), subject: s.Subject(), keys: s.Keys()}
	for _, k := range st.keys {
		raw, ok, err := sealed.Get[cbor.RawMessage](s, k)
		require.True(t, ok, "key %q listed but absent", k)
		st.raw = append(st.raw, raw)
		st.bad = append(st.bad, err != nil)
	}
	return st
}

// fzParsed is the state a parsed payload holds, as a session shows it.
func fzParsed(st *payload.State) fzState {
	out := fzState{id: hex.EncodeToString(st.ID[:]), created: st.Created, subject: st.Subject, keys: []string{}}
	for _, e := range st.Entries {
		out.keys = append(out.keys, string(e.Key))
		out.raw = append(out.raw, e.Val)
		out.bad = append(out.bad, !payload.CheckValue(e.Val))
	}
	return out
}

func fzRequireState(t *testing.T, want fzState, s *sealed.Session) {
	t.Helper()
	got := fzStateOf(t, s)
	require.Equal(t, want.id, got.id)
	require.Equal(t, want.created, got.created)
	require.Equal(t, want.subject, got.subject)
	require.Equal(t, len(want.keys), len(got.keys), "keys %q, want %q", got.keys, want.keys)
	for i := range want.keys {
		require.Equal(t, want.keys[i], got.keys[i])
		require.Equal(t, want.bad[i], got.bad[i], "Get[cbor.RawMessage] of key %q: error=%v, want %v", want.keys[i], got.bad[i], want.bad[i])
		if !want.bad[i] {
			require.Equal(t, want.raw[i], got.raw[i], "value of key %q", want.keys[i])
		}
	}
}

// ---------------------------------------------------------------------------
// Reference rules. The reader of SPEC.md "Chunked cookies / Reading", for
// the middleware's requests, is fuzzseed.RefJoin, shared with
// internal/cookie's FuzzChunks.

// fzRefTimesOK applies SPEC.md's "Times" rules for a value sealed at iat
// and read at now with the given timeouts and a skew of one minute (the
// default).
func fzRefTimesOK(createdMs int64, iat, now time.Time, idle, absolute time.Duration) bool {
	const skew = time.Minute
	created := time.UnixMilli(createdMs)
	return !iat.After(now.Add(skew)) &&
		!created.After(iat.Add(time.Second+skew)) &&
		!now.After(iat.Add(idle+skew)) &&
		!now.After(created.Add(absolute+skew))
}

// ---------------------------------------------------------------------------
// Pool of real sessions. FuzzMiddleware refers to their chunks by
// (session, chunk) index instead of carrying kilobytes of sealed text in
// every input, which keeps inputs small and minimization fast.
// gencorpus.go makes the same sessions to learn their chunk counts.

// fzPoolSizes are the blob sizes of the pool sessions (under
// fzMiddlewareBudget: 1, 1 and 2 chunks), plus one of the second size
// under the retired key. gencorpus.go uses the same list.
var fzPoolSizes = []int{0, 100, 3000}

// fzMiddlewareBudget is the budget of FuzzMiddleware's manager and pool:
// one that allows two chunks (the default holds one), and whose response
// room holds every deletion a request can ask for (32 of them) beside the
// largest pool session. gencorpus.go uses the same.
var fzMiddlewareBudget = sealed.BudgetNginx8k()

// fzPoolFill fills pool session i, whose blob value has size bytes.
// gencorpus.go fills its sessions the same way.
func fzPoolFill(s *sealed.Session, i, size int) error {
	if err := errors.Join(s.SetSubject("user-"+strconv.Itoa(i)), s.AddFlash("hello")); err != nil {
		return err
	}
	if err := s.Set("user", "alice"); err != nil {
		return err
	}
	blob := make([]byte, size)
	for j := range blob {
		blob[j] = byte(j*7 + i)
	}
	return s.Set("blob", blob)
}

type fzPoolSession struct {
	chunks []string // cookie values, in chunk order
	state  fzState
}

// fzMakePool seals the pool sessions under keys at now, the last under
// the ring with the retired key first, so that it opens under a
// non-primary key.
func fzMakePool(tb testing.TB, keys []sealed.Key, now time.Time) []fzPoolSession {
	tb.Helper()
	ctx := context.Background()
	var pool []fzPoolSession
	for i, size := range append(append([]int(nil), fzPoolSizes...), fzPoolSizes[1]) {
		ring := keyringOf(tb, keys...)
		if i == len(fzPoolSizes) {
			ring = keyringOf(tb, keys[1], keys[0])
		}
		m := fzManager(tb, ring, sealed.Options{Budget: fzMiddlewareBudget}, now)
		s, err := m.Load(ctx)
		require.NoError(tb, err)
		require.NoError(tb, fzPoolFill(s, i, size))
		st := fzStateOf(tb, s)
		lines, err := m.Save(ctx, s)
		require.NoError(tb, err)
		p := fzPoolSession{state: st}
		for j, line := range lines {
			c, err := http.ParseSetCookie(line)
			require.NoError(tb, err)
			require.Equal(tb, fuzzseed.RefChunkName(fzCookieName, j), c.Name)
			p.chunks = append(p.chunks, c.Value)
		}
		pool = append(pool, p)
	}
	return pool
}

// fzExpandHeader replaces "$" followed by two bytes s and c with chunk c
// of pool session s (both modulo) and "$$" with "$", so that inputs can
// hold real sealed chunks without carrying them.
func fzExpandHeader(h string, pool []fzPoolSession) string {
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
			chunks := pool[int(h[i+1])%len(pool)].chunks
			b.WriteString(chunks[int(h[i+2])%len(chunks)])
			i += 2
		default:
			b.WriteString(h[i:])
			i = len(h)
		}
	}
	return b.String()
}

// ---------------------------------------------------------------------------

// FuzzMiddleware sends arbitrary Cookie headers (the input, expanded with
// fzExpandHeader and split at "\n" into several header lines) through
// Manager.Middleware to a handler that reads the session, optionally
// changes it (chosen by op), and answers 200. Nothing may panic and the
// status must be 200. The session must be loaded exactly when the
// reference reader finds in the header the sealed value of a pool session
// (nothing else can open: the input cannot forge a seal), with that
// session's content, and be new otherwise. Any Set-Cookie must fit 4096
// bytes, name a chunk and come with Vary: Cookie, and all of them must fit
// the budget's room for Set-Cookie headers; the cookies it sets
// must load the changed session, and every chunk the client sent beyond
// them must be expired (all of them, after Invalidate).
func FuzzMiddleware(f *testing.F) {
	fuzzseed.RequireCorpus(f)
	keys := fzKeys(f)
	m := fzManager(f, keyringOf(f, keys...), sealed.Options{Budget: fzMiddlewareBudget}, sealed.Epoch)
	ctx := context.Background()
	pool := fzMakePool(f, keys, sealed.Epoch)
	room := fzMiddlewareBudget.MaxResponseBytes - fzMiddlewareBudget.ReservedResponseBytes
	bySealed := map[string]*fzPoolSession{}
	for i := range pool {
		p := &pool[i]
		first := p.chunks[0]
		if len(p.chunks) > 1 {
			_, first, _ = strings.Cut(first, ".")
		}
		bySealed[first+strings.Join(p.chunks[1:], "")] = p
	}

	f.Fuzz(func(t *testing.T, header string, op uint8) {
		header = fzExpandHeader(header, pool)
		var lines []string
		if header != "" {
			lines = strings.Split(header, "\n")
		}
		joined, _, present, ok := fuzzseed.RefJoin(fuzzseed.RefSplitHeader(lines), fzCookieName, 8)
		want := bySealed[joined]
		if !ok {
			want = nil
		}

		var (
			wasNew  bool
			firstID string
			served  bool
		)
		h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s, err := m.Session(r)
			require.NoError(t, err)
			served = true
			wasNew, firstID = s.IsNew(), s.ID()
			require.Equal(t, want == nil, wasNew, "session new=%v, the reference says loaded=%v", wasNew, want != nil)
			if want != nil {
				fzRequireState(t, want.state, s)
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
				_ = fzFlashes(t, s)
			}
			w.WriteHeader(http.StatusOK)
		}))
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		if lines != nil {
			r.Header["Cookie"] = lines
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)

		require.True(t, served, "the handler was not called")
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
		setBytes := 0
		for _, line := range set {
			c, err := http.ParseSetCookie(line)
			require.NoError(t, err)
			require.GreaterOrEqual(t, fuzzseed.RefChunkIndex(fzCookieName, c.Name), 0, "Set-Cookie for %q", c.Name)
			setBytes += len("Set-Cookie: ") + len(line) + len("\r\n")
		}
		require.LessOrEqual(t, setBytes, room, "Set-Cookie headers over the budget's room")
		next := fzSetCookies(t, set)

		// Every chunk the client sent beyond the new count is expired; after
		// Invalidate (with nothing written since) that is all of them.
		kept := uint32(0)
		for _, c := range next {
			kept |= 1 << fuzzseed.RefChunkIndex(fzCookieName, c.Name)
		}
		expired := uint32(0)
		for _, line := range set {
			if c, _ := http.ParseSetCookie(line); c.MaxAge < 0 {
				expired |= 1 << fuzzseed.RefChunkIndex(fzCookieName, c.Name)
			}
		}
		if len(next) > 0 {
			require.Equal(t, present&^kept, expired&present, "stale chunks not expired")
		} else {
			// Only expirations: the session ended (Invalidate) or there
			// was none and the client's chunks are garbage.
			require.True(t, op%6 == 3 || wasNew, "op %d expired every cookie of a live session", op%6)
			require.Equal(t, present, expired, "every chunk the client sent must be expired")
			return
		}

		s2, err := m.Load(ctx, cookieHeader(next))
		require.NoError(t, err)
		require.False(t, s2.IsNew(), "the cookies the middleware set do not load")
		switch op % 6 {
		case 1:
			user, ok, err := sealed.Get[string](s2, "user")
			require.NoError(t, err)
			require.True(t, ok)
			require.Equal(t, "fuzz", user)
		case 2:
			fl := fzFlashes(t, s2)
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

// fzLoadAbsolute is the longest absolute timeout Options accepts (400
// days, the browsers' cap on a cookie's lifetime), so that as few creation
// times as possible stop FuzzLoad before the payload is used; creation
// times after the seal are still refused.
const fzLoadAbsolute = 400 * 24 * time.Hour

// fzLoadBudget lets a saved session use up to 32 full-size cookies, in a
// request and in a response, so that payloads of up to about 90 KiB can go
// round the save/load cycle.
var fzLoadBudget = sealed.Budget{MaxBytes: 1 << 20, MaxChunks: 32, MaxLineBytes: 4096, MaxResponseBytes: 1 << 20}

// FuzzLoad treats the input as a decrypted session payload: it is sealed
// for the default cookie name and purpose under the primary key and loaded
// by a manager whose clock is the seal time. Load must never panic or
// fail, and must load a session exactly when the payload parses (the
// payload package fuzzes Parse against SPEC.md) and its times pass
// SPEC.md's "Times" rules, showing what the payload holds; every value
// must Get as `any` without panicking, and fail to when the value rules
// refuse it. A loaded session, renewed unchanged (by a manager whose clock
// is past the renewal point), must carry the identical payload bytes and
// load again to the same state; a second renewal must give the same bytes
// again.
func FuzzLoad(f *testing.F) {
	fuzzseed.RequireCorpus(f)
	keys := fzKeys(f)
	ring := keyringOf(f, keys...)
	opts := sealed.Options{AbsoluteTimeout: fzLoadAbsolute, Budget: fzLoadBudget}
	m := fzManager(f, ring, opts, sealed.Epoch)
	// Past RenewFraction (1/4) of the 24 h idle timeout, and within it.
	later := fzManager(f, ring, opts, sealed.Epoch.Add(7*time.Hour))
	later2 := fzManager(f, ring, opts, sealed.Epoch.Add(14*time.Hour))
	seal := fzSealer(f)
	ctx := context.Background()

	f.Fuzz(func(t *testing.T, pt []byte) {
		header := fzCookieName + "=" + base64.RawURLEncoding.EncodeToString(seal.seal(pt))
		var st payload.State
		want := payload.Parse(pt, &st) == nil &&
			fzRefTimesOK(st.Created, sealed.Epoch, sealed.Epoch, 24*time.Hour, fzLoadAbsolute)

		s, err := m.Load(ctx, header)
		require.NoError(t, err)
		loaded := !s.IsNew()
		require.Equal(t, want, loaded, "session loaded=%v, the payload and time rules say %v", loaded, want)
		if !loaded {
			return
		}
		state := fzParsed(&st)
		fzRequireState(t, state, s)
		for _, e := range st.Entries {
			_, ok, err := sealed.Get[any](s, string(e.Key)) // other decode errors are allowed
			require.True(t, ok)
			if !payload.CheckValue(e.Val) {
				require.Error(t, err, "Get decodes a value the rules refuse")
			}
		}
		require.Equal(t, st.Flashes, fzFlashes(t, s), "flashes differ")

		// First renewal, on a fresh copy whose flashes are unread.
		header2, pt2, err := seal.resave(t, later, header)
		if err != nil {
			require.ErrorIs(t, err, sealed.ErrTooLarge)
			require.Greater(t, len(pt), 64<<10, "a payload of %d bytes does not fit 32 cookies", len(pt))
			return
		}
		require.Equal(t, pt, pt2, "load then save changed the payload bytes")
		s2, err := later.Load(ctx, header2)
		require.NoError(t, err)
		require.False(t, s2.IsNew(), "a saved session does not load")
		fzRequireState(t, state, s2)
		require.Equal(t, st.Flashes, fzFlashes(t, s2), "flashes differ after a save")

		// Second renewal: stable.
		_, pt3, err := seal.resave(t, later2, header2)
		require.NoError(t, err)
		require.Equal(t, pt2, pt3, "a second renewal changed the payload bytes")
	})
}

// fzSeal seals and opens session payloads as a default secure Manager
// under the golden keys does, with the layers below the Manager.
type fzSeal struct {
	ring envelope.Ring
	bind *envelope.Binding
	jar  *cookie.Jar
}

func fzSealer(tb testing.TB) *fzSeal {
	tb.Helper()
	ring, err := envelope.NewRing(fuzzseed.GoldenKeys(tb))
	require.NoError(tb, err)
	bind, err := envelope.Bind(fzCookieName, fzPurpose)
	require.NoError(tb, err)
	jar, err := cookie.New(cookie.Config{
		Name: fzCookieName, Path: "/", Secure: true, SameSite: http.SameSiteLaxMode,
		Budget: cookie.Budget(fzLoadBudget), MaxAge: 400 * 24 * 3600, MaxDecoded: envelope.MaxSize,
	})
	require.NoError(tb, err)
	return &fzSeal{ring, bind, jar}
}

// seal returns the envelope of pt, sealed under the primary key at Epoch.
func (z *fzSeal) seal(pt []byte) []byte {
	room := z.bind.Room()
	buf := make([]byte, room+len(pt)+envelope.TagSize)
	copy(buf[room:], pt)
	return z.bind.Seal(buf, z.ring[0], uint64(sealed.Epoch.Unix()), len(pt))
}

// resave loads the session in header with m, whose clock must be past the
// session's renewal point, saves it unchanged (so it is renewed), and
// returns the Cookie header a client would send next and the payload the
// new cookies carry.
func (z *fzSeal) resave(t *testing.T, m *sealed.Manager, header string) (string, []byte, error) {
	t.Helper()
	ctx := context.Background()
	s, err := m.Load(ctx, header)
	require.NoError(t, err)
	require.False(t, s.IsNew(), "the session does not load at the renewal clock")
	lines, err := m.Save(ctx, s)
	if err != nil {
		require.Empty(t, lines)
		return "", nil, err
	}
	require.NotEmpty(t, lines, "a session past its renewal point was not renewed")
	next := cookieHeader(fzSetCookies(t, lines))
	buf, _, reason := z.jar.Read([]string{next}, z.bind.Room())
	require.Empty(t, reason, "the saved cookies do not reassemble")
	pt, info, fail := z.bind.Open(z.ring, buf)
	require.Equal(t, envelope.OK, fail, "the saved value does not open")
	require.True(t, info.Primary)
	return next, pt, nil
}

// FuzzSave stores a value of a size taken from the input (up to 12 KiB)
// under a key taken from the input, which is also the subject and a flash
// message, and saves the session under BudgetLarge. Set must refuse a key
// that is not valid UTF-8; Save may fail only with ErrTooLarge, and only
// for a large session. Every Set-Cookie must fit 4096 bytes and name the
// chunks in order, at most the budget's eight; the cookies, shuffled (by
// the input's seed) and mixed with a stale chunk and a foreign cookie,
// sent as one Cookie header and as one "name=value" argument each, must
// load back to the same session.
func FuzzSave(f *testing.F) {
	fuzzseed.RequireCorpus(f)
	keys := fzKeys(f)
	large := fzManager(f, keyringOf(f, keys...), sealed.Options{Budget: sealed.BudgetLarge()}, sealed.Epoch)
	ctx := context.Background()

	f.Fuzz(func(t *testing.T, size uint16, seed uint64, key string) {
		n := int(size) % (12<<10 + 1)
		rng := rand.New(rand.NewPCG(seed, uint64(size)))
		val := make([]byte, n)
		for i := range val {
			val[i] = byte(rng.Uint32())
		}
		s, err := large.Load(ctx)
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
		lines, err := large.Save(ctx, s)
		if err != nil {
			require.Empty(t, lines)
			require.ErrorIs(t, err, sealed.ErrTooLarge, "Save failed")
			require.Greater(t, n+3*len(key), 10<<10, "a small session does not fit BudgetLarge: %v", err)
			return
		}
		require.NotEmpty(t, lines)
		require.LessOrEqual(t, len(lines), sealed.BudgetLarge().MaxChunks)
		sent := fzSetCookies(t, lines)
		require.Len(t, sent, len(lines), "a new session's save expires a cookie")
		for i, c := range sent {
			require.Equal(t, fuzzseed.RefChunkName(fzCookieName, i), c.Name)
		}
		if seed&1 != 0 && len(lines) < 32 {
			sent = append(sent, &http.Cookie{Name: fuzzseed.RefChunkName(fzCookieName, len(lines)), Value: "c3RhbGU"})
		}
		if seed&2 != 0 {
			sent = append(sent, &http.Cookie{Name: "other", Value: "x"})
		}
		rng.Shuffle(len(sent), func(i, j int) { sent[i], sent[j] = sent[j], sent[i] })
		pairs := make([]string, len(sent))
		for i, c := range sent {
			pairs[i] = c.Name + "=" + c.Value
		}

		for _, headers := range [][]string{pairs, {cookieHeader(sent)}} {
			s2, err := large.Load(ctx, headers...)
			require.NoError(t, err)
			require.False(t, s2.IsNew(), "a saved session in %d chunks does not load back (key %q)", len(lines), key)
			require.Equal(t, s.ID(), s2.ID())
			got, ok, err := sealed.Get[[]byte](s2, key)
			require.NoError(t, err)
			require.True(t, ok)
			require.Equal(t, val, got)
			require.Equal(t, []string{key}, s2.Keys())
			require.Equal(t, key, s2.Subject())
			require.Equal(t, []string{key}, fzFlashes(t, s2))
		}
	})
}
