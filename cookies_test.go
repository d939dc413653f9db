package sealed_test

// The session's cookies as a Manager writes and reads them. The cookie
// layer's own tests (chunk planning, parsing, attributes) are in
// internal/cookie.

import (
	"context"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/sealedgo/sealed"
	"github.com/sealedgo/sealed/internal/b64"
	"github.com/sealedgo/sealed/internal/envelope"
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
// Path.
func TestLinesMeasuredOnSerializedCookie(t *testing.T) {
	ctx := context.Background()
	label := strings.Repeat("d", 63)
	domain := strings.Join([]string{label, label, label, "example.com"}, ".")
	for _, o := range []*sealed.Options{
		nil,
		{AllowInsecure: true, SameSite: http.SameSiteStrictMode},
		{Domain: domain, Path: "/" + strings.Repeat("p", 900), Partitioned: true, SameSite: http.SameSiteNoneMode, Budget: sealed.BudgetLarge()},
	} {
		m := sealed.NewTestManager(t, nil, o)
		s := ckNew(t, m)
		require.NoError(t, s.Set("big", e2eHex(2000)))
		lines, err := m.Save(ctx, s)
		require.NoError(t, err)
		require.Greater(t, len(lines), 1)
		for i, line := range lines {
			assert.LessOrEqual(t, len(line), 4096)
			c, err := http.ParseSetCookie(line)
			require.NoError(t, err)
			assert.NoError(t, c.Valid())
			assert.Equal(t, line, c.String(), "line %d", i)
			assert.True(t, c.HttpOnly)
		}
		loaded, err := m.Load(ctx, cookiePairs(lines)...)
		require.NoError(t, err)
		assert.False(t, loaded.IsNew())
		got, ok, err := sealed.Get[string](loaded, "big")
		require.NoError(t, err)
		assert.True(t, ok)
		assert.Len(t, got, 4000)
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
	assert.Contains(t, err.Error(), "the budget allows 6144")
	var tl *sealed.TooLargeError
	if assert.True(t, errors.As(err, &tl)) {
		assert.Equal(t, 6144, tl.Limit)
		assert.Greater(t, tl.Bytes, 20000)
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

	cases := map[string]string{
		"empty":                  "",
		"two items":              "01 01",
		"indefinite value":       "9f 01 ff",
		"tag":                    "c1 01",
		"reserved ai":            "1c",
		"break":                  "ff",
		"small simple in 2 byte": "f814",
		"truncated":              "62 61",
		"huge count":             "9b 00000000ffffffff",
		"non-shortest int":       "1801",
		"non-shortest length":    "7801 61",
		"invalid utf-8 text":     "61 ff",
		"invalid utf-8 deep":     "81 a1 6161 61 ff",
		"trailing byte in text":  "61 61 00",
		"bool then byte":         "f5 00",
		"depth":                  strings.Repeat("81 ", payload.MaxDepth-1) + "01",
	}
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
