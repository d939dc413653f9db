package sealed_test

// The session's cookies as a Manager writes and reads them. The cookie
// layer's own tests (chunk planning, parsing, attributes) are in
// internal/cookie.

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/sealedgo/sealed"
	"github.com/sealedgo/sealed/internal/b64"
	"github.com/sealedgo/sealed/internal/envelope"
	"github.com/sealedgo/sealed/internal/fuzzseed"
	"github.com/sealedgo/sealed/internal/payload"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func ckNew(t testing.TB, m *sealed.Manager) *sealed.Session {
	t.Helper()
	s, err := m.Load(context.Background())
	require.NoError(t, err)
	require.True(t, s.IsNew())
	return s
}

// Every emitted line is exactly what (*http.Cookie).String() writes for the
// same cookie, passes Valid, and fits 4096 bytes even with a long Domain and
// Path; the lines together fit the budget's room for Set-Cookie headers.
func TestLinesMeasuredOnSerializedCookie(t *testing.T) {
	ctx := context.Background()
	label := strings.Repeat("d", 63)
	domain := strings.Join([]string{label, label, label, "example.com"}, ".")
	for _, tc := range []struct {
		o        *sealed.Options
		size     int // bytes of randomness, twice as many hex digits
		minLines int
	}{
		{nil, 1000, 1}, // the default budget: one chunk of about 3 KiB
		{&sealed.Options{Budget: sealed.BudgetNginx8k()}, 2000, 2},
		{&sealed.Options{AllowInsecure: true, SameSite: http.SameSiteStrictMode, Budget: sealed.BudgetNginx8k()}, 2000, 2},
		{&sealed.Options{Domain: domain, Path: "/" + strings.Repeat("p", 900), Partitioned: true, SameSite: http.SameSiteNoneMode, Budget: sealed.BudgetLarge()}, 2000, 2},
	} {
		m := sealed.NewTestManager(t, nil, tc.o)
		b := sealed.Budget{MaxResponseBytes: 4096, ReservedResponseBytes: 1024}
		if tc.o != nil {
			b = tc.o.Budget
		}
		s := ckNew(t, m)
		require.NoError(t, s.Set("big", e2eHex(tc.size)))
		lines, err := m.Save(ctx, s)
		require.NoError(t, err)
		require.GreaterOrEqual(t, len(lines), tc.minLines)
		resp := 0
		for i, line := range lines {
			assert.LessOrEqual(t, len(line), 4096)
			c, err := http.ParseSetCookie(line)
			require.NoError(t, err)
			assert.NoError(t, c.Valid())
			assert.Equal(t, line, c.String(), "line %d", i)
			assert.True(t, c.HttpOnly)
			resp += len("Set-Cookie: ") + len(line) + len("\r\n")
		}
		assert.LessOrEqual(t, resp, b.MaxResponseBytes-b.ReservedResponseBytes)
		loaded, err := m.Load(ctx, cookiePairs(lines)...)
		require.NoError(t, err)
		assert.False(t, loaded.IsNew())
		got, ok, err := sealed.Get[string](loaded, "big")
		require.NoError(t, err)
		assert.True(t, ok)
		assert.Len(t, got, 2*tc.size)
	}
}

// When a session shrinks, chunks the client holds beyond the new count are
// expired.
func TestShrinkExpiresStaleChunks(t *testing.T) {
	ctx := context.Background()
	m := sealed.NewTestManager(t, nil, &sealed.Options{Budget: sealed.BudgetLarge(), Now: sealed.NewClock(time.Time{}).Now})
	s := ckNew(t, m)
	require.NoError(t, s.Set("big", e2eHex(4500)))
	big, err := m.Save(ctx, s)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(big), 3)

	s, err = m.Load(ctx, cookiePairs(big)...)
	require.NoError(t, err)
	require.False(t, s.IsNew())
	_, _, err = sealed.Remove[cbor.RawMessage](s, "big")
	require.NoError(t, err)
	require.NoError(t, s.Set("small", 1))
	out, err := m.Save(ctx, s)
	require.NoError(t, err)
	require.Len(t, out, len(big))
	first, err := http.ParseSetCookie(out[0])
	require.NoError(t, err)
	assert.Equal(t, "__Host-session", first.Name)
	assert.Positive(t, first.MaxAge)
	for i, line := range out[1:] {
		c, err := http.ParseSetCookie(line)
		require.NoError(t, err)
		assert.Equal(t, "__Host-session."+strconv.Itoa(i+1), c.Name)
		assert.Equal(t, -1, c.MaxAge, "stale chunk %s must be expired", c.Name)
		assert.Contains(t, line, "Max-Age=0")
	}
	s, err = m.Load(ctx, cookiePairs(out)...)
	require.NoError(t, err)
	assert.False(t, s.IsNew())
	assert.Equal(t, []string{"small"}, s.Keys())
}

func TestTooLargeWritesNothing(t *testing.T) {
	ctx := context.Background()
	m := sealed.NewTestManager(t, nil, &sealed.Options{Now: sealed.NewClock(time.Time{}).Now})
	s := ckNew(t, m)
	require.NoError(t, s.Set("ok", "small"))
	first, err := m.Save(ctx, s)
	require.NoError(t, err)

	s, err = m.Load(ctx, cookiePairs(first)...)
	require.NoError(t, err)
	require.False(t, s.IsNew())
	require.NoError(t, s.CycleID())
	require.NoError(t, s.Set("huge", e2eHex(10000)))
	out, err := m.Save(ctx, s)
	assert.ErrorIs(t, err, sealed.ErrTooLarge)
	assert.Nil(t, out)
	// The default budget's numbers: one chunk whose Set-Cookie header
	// takes all 3072 bytes the response leaves it (4096 - 1024), and its
	// 3003 bytes of Cookie header.
	assert.Contains(t, err.Error(), "the budget allows 3003 and 3072")
	var tl *sealed.TooLargeError
	if assert.True(t, errors.As(err, &tl)) {
		assert.Equal(t, 3003, tl.Limit)
		assert.Equal(t, 3072, tl.ResponseLimit)
		assert.Greater(t, tl.Bytes, 20000)
		assert.Greater(t, tl.ResponseBytes, tl.Bytes, "each line adds its attributes and header name")
	}

	// The session can still be fixed and saved.
	_, _, err = sealed.Remove[cbor.RawMessage](s, "huge")
	require.NoError(t, err)
	out, err = m.Save(ctx, s)
	require.NoError(t, err)
	require.Len(t, out, 1)
}

// Values are opaque to the payload walk: a cookie whose payload holds a
// malformed value opens, and the value is refused when it is read, by
// every path that decodes it. Set refuses the same bytes. The cookie is
// sealed here with the Manager's key, as only a key holder could.
func TestMalformedValueRefusedWhenRead(t *testing.T) {
	ctx := context.Background()
	key := sealed.GenerateKey("k1")
	keys, err := sealed.NewKeyring(key)
	require.NoError(t, err)
	m := sealed.NewTestManager(t, keys, &sealed.Options{AllowInsecure: true, CookieName: "sid", Purpose: "forge", Now: sealed.NewClock(time.Time{}).Now})
	ring, err := envelope.NewRing([]string{key.ID}, [][]byte{key.Secret})
	require.NoError(t, err)
	bind, err := envelope.Bind("sid", "forge")
	require.NoError(t, err)
	forge := func(val []byte) string {
		st := payload.State{ID: [16]byte{1}, Created: sealed.Epoch.UnixMilli(), Entries: []payload.Entry{{Key: []byte("a"), Val: val}}}
		pt := payload.Append(nil, &st)
		buf := make([]byte, bind.Room()+len(pt)+envelope.TagSize)
		copy(buf[bind.Room():], pt)
		env := bind.Seal(buf, ring[0], uint64(sealed.Epoch.Unix()), len(pt))
		enc := make([]byte, b64.EncodedLen(len(env)))
		b64.Encode(enc, env)
		return "sid=" + string(enc)
	}

	cases := fuzzseed.MalformedValues(payload.MaxDepth)
	for name, h := range cases {
		t.Run(name, func(t *testing.T) {
			val, err := hex.DecodeString(strings.ReplaceAll(h, " ", ""))
			require.NoError(t, err)
			s, err := m.Load(ctx, forge(val))
			require.NoError(t, err)
			require.False(t, s.IsNew(), "the walk does not look inside values")
			const malformed = "malformed value"
			_, ok, err := sealed.Get[any](s, "a")
			assert.True(t, ok)
			assert.ErrorContains(t, err, malformed)
			_, _, err = sealed.Get[string](s, "a")
			assert.ErrorContains(t, err, malformed)
			_, _, err = sealed.Get[int](s, "a")
			assert.ErrorContains(t, err, malformed)
			_, _, err = sealed.Get[bool](s, "a")
			assert.ErrorContains(t, err, malformed)
			_, ok, err = sealed.Remove[any](s, "a")
			assert.True(t, ok)
			assert.ErrorContains(t, err, malformed)
			if len(val) > 0 { // an empty RawMessage encodes as null
				assert.Error(t, s.Set("b", cbor.RawMessage(val)), "Set stores only what Get can read")
			}
		})
	}
}

// Past any budget, the format's limit: a payload over 96 KiB is refused
// before it is sealed (it would not open), and nothing is written.
func TestFormatLimitBeyondAnyBudget(t *testing.T) {
	ctx := context.Background()
	m := sealed.NewTestManager(t, nil, &sealed.Options{Budget: sealed.Budget{MaxBytes: 1 << 20, MaxChunks: 32}})
	s := ckNew(t, m)
	require.NoError(t, s.Set("huge", strings.Repeat("x", envelope.MaxPlaintext)))
	out, err := m.Save(ctx, s)
	assert.Nil(t, out)
	require.ErrorIs(t, err, sealed.ErrTooLarge)
	assert.Contains(t, err.Error(), "the format allows")
	var tl *sealed.TooLargeError
	require.True(t, errors.As(err, &tl))
	assert.Equal(t, b64.EncodedLen(envelope.MaxSize), tl.Limit)
	assert.Greater(t, tl.Bytes, tl.Limit)
}

// ckMeasure is what Set-Cookie lines take in each direction: the Cookie
// header a browser sends back, and the response header ("Set-Cookie: "
// line CRLF for each, deletions included).
func ckMeasure(lines []string) (req, resp int) {
	for _, l := range lines {
		resp += len("Set-Cookie: ") + len(l) + len("\r\n")
	}
	return len(strings.Join(cookiePairs(lines), "; ")), resp
}

// The largest session that fits a budget is saved, within both of its
// directions, and one byte more is refused with ErrTooLarge, whichever
// direction binds; the error's limits are the largest session's numbers.
func TestLargestSessionFitsBothSides(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name   string
		b      sealed.Budget
		resp   bool // the response side binds, else the request side
		chunks int
	}{
		{"default", sealed.Budget{}, true, 1},
		{"nginx-8k", sealed.BudgetNginx8k(), true, 2},
		{"request", sealed.Budget{MaxBytes: 2000, MaxResponseBytes: 32768, ReservedResponseBytes: 4096}, false, 1},
		{"large", sealed.BudgetLarge(), false, 4},
	} {
		t.Run(c.name, func(t *testing.T) {
			maxBytes, room := 6144, 4096-1024 // the defaults
			if c.b.MaxBytes != 0 {
				maxBytes, room = c.b.MaxBytes, c.b.MaxResponseBytes-c.b.ReservedResponseBytes
			}
			m := sealed.NewTestManager(t, nil, &sealed.Options{Budget: c.b, Now: sealed.NewClock(time.Time{}).Now})
			save := func(n int) ([]string, error) {
				s := ckNew(t, m)
				require.NoError(t, s.Set("v", strings.Repeat("x", n))) // n bytes of payload, and 3 of header
				return m.Save(ctx, s)
			}
			// The largest n that saves: every budget here takes 256 bytes
			// and none 64 KiB.
			lo := 256 + sort.Search(64<<10-256, func(k int) bool {
				_, err := save(256 + k + 1)
				if err != nil {
					require.ErrorIs(t, err, sealed.ErrTooLarge)
				}
				return err != nil
			})
			lines, err := save(lo)
			require.NoError(t, err)
			require.Len(t, lines, c.chunks)
			req, resp := ckMeasure(lines)
			assert.LessOrEqual(t, resp, room, "Set-Cookie headers")
			assert.LessOrEqual(t, req, maxBytes, "Cookie header")
			loaded, err := m.Load(ctx, cookiePairs(lines)...)
			require.NoError(t, err)
			require.False(t, loaded.IsNew())

			out, err := save(lo + 1)
			assert.Nil(t, out)
			require.ErrorIs(t, err, sealed.ErrTooLarge)
			var tl *sealed.TooLargeError
			require.ErrorAs(t, err, &tl)
			assert.Equal(t, req, tl.Limit, "Limit: the largest session's Cookie header")
			assert.Equal(t, resp, tl.ResponseLimit, "ResponseLimit: the largest session's Set-Cookie headers")
			if c.resp {
				assert.Greater(t, tl.ResponseBytes, room)
				assert.LessOrEqual(t, tl.Bytes, maxBytes, "the request side would have fitted")
			} else {
				assert.Greater(t, tl.Bytes, maxBytes)
				assert.LessOrEqual(t, tl.ResponseBytes, room, "the response side would have fitted")
			}
		})
	}
}

// Commit returns the TooLargeError with both directions' numbers before
// the response is written, the same numbers Save gives; its text names
// both. The handler can answer on its own and, after undoing, commit.
func TestTooLargeErrorThroughCommit(t *testing.T) {
	ctx := context.Background()
	clock := sealed.NewClock(time.Time{})
	m := sealed.NewTestManager(t, nil, &sealed.Options{AllowInsecure: true, Now: clock.Now})
	big := strings.Repeat("x", 5000)

	s := ckNew(t, m)
	require.NoError(t, s.Set("v", big))
	_, err := m.Save(ctx, s)
	var fromSave *sealed.TooLargeError
	require.ErrorAs(t, err, &fromSave)

	var fromCommit *sealed.TooLargeError
	var msg string
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := m.Session(r)
		require.NoError(t, err)
		require.NoError(t, s.Set("v", big))
		err = m.Commit(r)
		if !errors.As(err, &fromCommit) {
			t.Errorf("Commit: %v, want a *TooLargeError", err)
			return
		}
		msg = err.Error()
		assert.ErrorIs(t, err, sealed.ErrTooLarge)
		assert.Empty(t, w.Header().Values("Set-Cookie"), "a failed Commit wrote a cookie")
		// Undo (else the middleware's own save fails, and its error
		// handler answers), then answer or save something smaller.
		_, _, err = sealed.Remove[cbor.RawMessage](s, "v")
		require.NoError(t, err)
		if r.URL.Query().Has("small") {
			require.NoError(t, s.Set("v", "small"))
			require.NoError(t, m.Commit(r))
			return
		}
		http.Error(w, "too large", http.StatusRequestEntityTooLarge)
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", nil))
	assert.Equal(t, http.StatusRequestEntityTooLarge, rec.Code, "the handler's own answer")
	assert.Empty(t, rec.Result().Header.Values("Set-Cookie"))
	require.NotNil(t, fromCommit)
	assert.Equal(t, *fromSave, *fromCommit, "Commit and Save report alike")
	assert.Greater(t, fromCommit.ResponseBytes, fromCommit.ResponseLimit)
	assert.Greater(t, fromCommit.Bytes, fromCommit.Limit)
	for _, part := range []string{
		fmt.Sprintf("it needs %d bytes of Cookie header", fromCommit.Bytes),
		fmt.Sprintf("and %d of Set-Cookie headers", fromCommit.ResponseBytes),
		fmt.Sprintf("the budget allows %d and %d", fromCommit.Limit, fromCommit.ResponseLimit),
	} {
		assert.Contains(t, msg, part)
	}

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/?small", nil))
	assert.Equal(t, http.StatusOK, rec.Code)
	lines := rec.Result().Header.Values("Set-Cookie")
	require.Len(t, lines, 1)
	loaded, err := m.Load(ctx, cookiePairs(lines)...)
	require.NoError(t, err)
	v, _, err := sealed.Get[string](loaded, "v")
	require.NoError(t, err)
	assert.Equal(t, "small", v)
}

// A client that holds chunk cookies name.1 to name.31 beside a small
// session (left by a larger budget, or forged) gets no more deletions
// than fit the response's room for Set-Cookie headers: the save succeeds,
// the response stays within the budget, the chunks left are ignored, and
// the Manager says at debug level how many it did not expire. Logging out
// expires the first chunk first.
func TestStaleChunkDeletionsWithinTheResponse(t *testing.T) {
	ctx := context.Background()
	logs := &sealed.LogBuffer{}
	budget := sealed.Budget{MaxResponseBytes: 1536} // 512 bytes of Set-Cookie, beside the default 1024 reserved
	const room = 512
	m := sealed.NewTestManager(t, nil, &sealed.Options{AllowInsecure: true, Budget: budget, Logger: logs.Logger(), Now: sealed.NewClock(time.Time{}).Now})
	s := ckNew(t, m)
	require.NoError(t, s.Set("k", "v"))
	first, err := m.Save(ctx, s)
	require.NoError(t, err)
	require.Len(t, first, 1)
	header := cookiePairs(first)
	for i := 1; i < 32; i++ {
		header = append(header, "session."+strconv.Itoa(i)+"=AAAA")
	}
	cookie := strings.Join(header, "; ")

	serve := func(op string) (lines []string, dropped string) {
		t.Helper()
		before := len(logs.String())
		h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s, err := m.Session(r)
			require.NoError(t, err)
			require.False(t, s.IsNew(), "stale chunks beyond the count are ignored")
			switch op {
			case "set":
				require.NoError(t, s.Set("k", "changed"))
			case "logout":
				require.NoError(t, s.Invalidate())
			}
		}))
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set("Cookie", cookie)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		require.Equal(t, http.StatusOK, rec.Code)
		lines = rec.Result().Header.Values("Set-Cookie")
		_, resp := ckMeasure(lines)
		assert.LessOrEqual(t, resp, room, "Set-Cookie headers over the budget")
		return lines, logs.String()[before:]
	}

	lines, log := serve("set")
	require.Greater(t, len(lines), 1)
	c, err := http.ParseSetCookie(lines[0])
	require.NoError(t, err)
	assert.Equal(t, "session", c.Name)
	assert.Positive(t, c.MaxAge)
	for i, l := range lines[1:] {
		c, err := http.ParseSetCookie(l)
		require.NoError(t, err)
		assert.Equal(t, "session."+strconv.Itoa(i+1), c.Name, "the lowest chunks' deletions are kept")
		assert.Equal(t, -1, c.MaxAge)
	}
	kept := len(lines) - 1
	require.Less(t, kept, 31, "the test must leave deletions out")
	assert.Equal(t, "level=DEBUG chunks="+strconv.Itoa(31-kept), ckDroppedLine(log))
	assert.NotContains(t, log, "AAAA")
	// The new session opens beside the chunks the client still holds.
	next := cookiePairs(lines)
	for i := kept + 1; i < 32; i++ {
		next = append(next, "session."+strconv.Itoa(i)+"=AAAA")
	}
	loaded, err := m.Load(ctx, strings.Join(next, "; "))
	require.NoError(t, err)
	require.False(t, loaded.IsNew())
	v, _, err := sealed.Get[string](loaded, "k")
	require.NoError(t, err)
	assert.Equal(t, "changed", v)

	lines, log = serve("logout")
	require.NotEmpty(t, lines)
	for i, l := range lines {
		c, err := http.ParseSetCookie(l)
		require.NoError(t, err)
		assert.Equal(t, ckChunkName(i), c.Name)
		assert.Equal(t, -1, c.MaxAge, "logout writes deletions only")
	}
	assert.Equal(t, "level=DEBUG chunks="+strconv.Itoa(32-len(lines)), ckDroppedLine(log))

	// Nothing is left out when it fits: the default budget's room holds
	// all 31 deletions beside a small session.
	m = sealed.NewTestManager(t, nil, &sealed.Options{AllowInsecure: true, Logger: logs.Logger()})
	s, err = m.Load(ctx, cookie) // sealed under other keys: a fresh session
	require.NoError(t, err)
	require.True(t, s.IsNew())
	require.NoError(t, s.Set("k", "v"))
	before := len(logs.String())
	all, err := m.Save(ctx, s)
	require.NoError(t, err)
	assert.Len(t, all, 32)
	assert.NotContains(t, logs.String()[before:], "not expired")
}

// ckDroppedLine returns the level and chunk count of the one log line in
// log that reports deletions left out, or what it found instead.
func ckDroppedLine(log string) string {
	var found []string
	for _, line := range strings.Split(log, "\n") {
		if !strings.Contains(line, "stale chunk cookies not expired") {
			continue
		}
		var level, chunks string
		for _, f := range strings.Fields(line) {
			if strings.HasPrefix(f, "level=") {
				level = f
			} else if strings.HasPrefix(f, "chunks=") {
				chunks = f
			}
		}
		found = append(found, level+" "+chunks)
	}
	return strings.Join(found, " | ")
}

// ckChunkName is the name of chunk i of the cookie "session".
func ckChunkName(i int) string {
	if i == 0 {
		return "session"
	}
	return "session." + strconv.Itoa(i)
}
