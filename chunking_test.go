package sealed

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func randomHex(n int) string {
	b := make([]byte, (n+1)/2)
	rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

func TestChunkIndex(t *testing.T) {
	for name, want := range map[string]int{
		"s": 0, "s.1": 1, "s.9": 9, "s.10": 10, "s.31": 31,
		"s.0": -1, "s.01": -1, "s.32": -1, "s.100": -1, "s.": -1, "s.a": -1, "sx": -1, "t": -1, "s.1.1": -1, "": -1,
	} {
		assert.Equal(t, want, chunkIndex("s", name), name)
	}
}

// Splitting into lines then reassembling is the identity, chunk indexes
// sort numerically (name.10 after name.9), and every line fits and is what
// its parts say.
func TestSplitJoinIdentity(t *testing.T) {
	b := Budget{MaxBytes: 64 << 10, MaxChunks: 16, MaxLineBytes: 512}.withDefaults()
	attrs := "; Path=/; Max-Age=86400; HttpOnly; SameSite=Lax"
	names := make([]string, b.MaxChunks)
	for i := range names {
		names[i] = chunkName("s", i)
	}
	for _, k := range []int{53, 75, 300, 336, 337, 338, 339, 340, 750, 3000, 4500} {
		env := make([]byte, k)
		rand.Read(env)
		sealed := b64.EncodeToString(env)
		plan, err := planChunks(len(sealed), names, b, len(attrs))
		require.NoError(t, err, "k=%d", k)
		out := chunkLines(nil, env, &plan, names, attrs, 86400)
		require.Len(t, out, plan.n)
		var cs chunkSet
		// Present them in reverse: order in the header does not matter.
		for i := len(out) - 1; i >= 0; i-- {
			c := out[i]
			assert.Equal(t, names[i], c.name)
			assert.Equal(t, c.name+"="+c.value+attrs, c.ln)
			assert.LessOrEqual(t, len(c.ln), b.MaxLineBytes)
			cs.add("s", c.name, c.value)
		}
		pieces, ok := cs.pieces(b.MaxChunks, nil)
		require.True(t, ok, "k=%d", k)
		assert.Equal(t, sealed, strings.Join(pieces, ""), "k=%d", k)
		if k > 4000 {
			assert.Greater(t, len(out), 10, "the test must reach two-digit indexes")
		}
	}
}

func TestSplitTooLarge(t *testing.T) {
	names := []string{"s", "s.1", "s.2", "s.3", "s.4", "s.5", "s.6", "s.7"}
	_, err := planChunks(5000, names, Budget{MaxBytes: 4096, MaxChunks: 8, MaxLineBytes: 4096}, 60)
	assert.ErrorIs(t, err, ErrTooLarge)
	var tl *TooLargeError
	if assert.ErrorAs(t, err, &tl) {
		assert.Equal(t, 5000+len("2.")+len("s=; s.1="), tl.Bytes, "two chunks of 5000 characters")
		assert.LessOrEqual(t, tl.Limit, 4096)
		assert.Greater(t, tl.Limit, 4096-16, "the largest session that fits is within a quantum or two of MaxBytes")
	}
	_, err = planChunks(5000, names, Budget{MaxBytes: 64000, MaxChunks: 1, MaxLineBytes: 4096}, 60)
	assert.ErrorIs(t, err, ErrTooLarge)
}

func TestPiecesRejects(t *testing.T) {
	valid := func() *chunkSet {
		var cs chunkSet
		cs.add("s", "s", "3.AAAA")
		cs.add("s", "s.1", "BBBB")
		cs.add("s", "s.2", "CC")
		return &cs
	}
	p, ok := valid().pieces(8, nil)
	require.True(t, ok)
	assert.Equal(t, []string{"AAAA", "BBBB", "CC"}, p)

	for name, mut := range map[string]func(*chunkSet){
		"missing middle":     func(cs *chunkSet) { cs.present &^= 1 << 1 },
		"missing first":      func(cs *chunkSet) { cs.present &^= 1 },
		"duplicate":          func(cs *chunkSet) { cs.add("s", "s.1", "BBBB") },
		"count leading zero": func(cs *chunkSet) { cs.vals[0] = "03.AAAA" },
		"count plus":         func(cs *chunkSet) { cs.vals[0] = "+3.AAAA" },
		"count one":          func(cs *chunkSet) { cs.vals[0] = "1.AAAA" },
		"count over budget":  func(cs *chunkSet) { cs.vals[0] = "9.AAAA" },
		"count garbage":      func(cs *chunkSet) { cs.vals[0] = "x.AAAA" },
		"ragged middle":      func(cs *chunkSet) { cs.vals[1] = "BBB" },
	} {
		cs := valid()
		mut(cs)
		_, ok := cs.pieces(8, nil)
		assert.False(t, ok, name)
	}
	// A stale chunk beyond the count is ignored.
	cs := valid()
	cs.add("s", "s.3", "DDDD")
	_, ok = cs.pieces(8, nil)
	assert.True(t, ok)
}

func TestAddHeaderParsesLikeNetHTTP(t *testing.T) {
	var cs chunkSet
	cs.addHeader("s", "a=1;s=AAAA ;  s.1=BB; s.x=9; =; junk; s.2")
	assert.Equal(t, chunkMask(0b11), cs.present)
	assert.Equal(t, "AAAA", cs.vals[0])
	assert.Equal(t, "BB", cs.vals[1])
}

// Every emitted line is exactly what (*http.Cookie).String() writes for the
// same cookie, passes Valid, and fits 4096 bytes even with a long Domain and
// Path.
func TestLinesMeasuredOnSerializedCookie(t *testing.T) {
	label := strings.Repeat("d", 63)
	domain := strings.Join([]string{label, label, label, "example.com"}, ".")
	for _, o := range []*Options{
		nil,
		{AllowInsecure: true, SameSite: http.SameSiteStrictMode},
		{Domain: domain, Path: "/" + strings.Repeat("p", 900), Partitioned: true, SameSite: http.SameSiteNoneMode, Budget: BudgetLarge},
	} {
		m, err := New(testRing(t, "k"), o)
		require.NoError(t, err)
		s := newSession(t, m)
		require.NoError(t, s.Set("big", randomHex(4000)))
		cookies, err := m.Save(context.Background(), s)
		require.NoError(t, err)
		require.Greater(t, len(cookies), 1)
		s2 := newSession(t, m)
		require.NoError(t, s2.Set("big", randomHex(4000)))
		lines, err := m.SaveLines(context.Background(), s2)
		require.NoError(t, err)
		for i, line := range lines {
			assert.LessOrEqual(t, len(line), MaxLineLimit)
			c, err := http.ParseSetCookie(line)
			require.NoError(t, err)
			assert.NoError(t, c.Valid())
			assert.Equal(t, line, c.String(), "line %d", i)
			assert.NoError(t, cookies[i].Valid())
			assert.LessOrEqual(t, len(cookies[i].String()), MaxLineLimit)
		}
		loaded, err := m.Load(context.Background(), cookies)
		require.NoError(t, err)
		assert.False(t, loaded.IsNew())
	}
}

// When a session shrinks, chunks the client holds beyond the new count are
// expired.
func TestShrinkExpiresStaleChunks(t *testing.T) {
	ctx := context.Background()
	m := testManager(t, &Options{Budget: BudgetLarge})
	s := newSession(t, m)
	require.NoError(t, s.Set("big", randomHex(9000)))
	big, err := m.Save(ctx, s)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(big), 3)

	s, err = m.Load(ctx, big)
	require.NoError(t, err)
	require.False(t, s.IsNew())
	_, _, err = s.RemoveRaw("big")
	require.NoError(t, err)
	require.NoError(t, s.Set("small", 1))
	out, err := m.Save(ctx, s)
	require.NoError(t, err)
	require.Len(t, out, len(big))
	assert.Equal(t, m.CookieName(), out[0].Name)
	assert.Positive(t, out[0].MaxAge)
	for _, c := range out[1:] {
		assert.Equal(t, -1, c.MaxAge, "stale chunk %s must be expired", c.Name)
		assert.Contains(t, c.String(), "Max-Age=0")
	}
}

func TestTooLargeWritesNothing(t *testing.T) {
	ctx := context.Background()
	m := testManager(t, nil)
	s := newSession(t, m)
	require.NoError(t, s.Set("ok", "small"))
	first, err := m.Save(ctx, s)
	require.NoError(t, err)

	s, err = m.Load(ctx, first)
	require.NoError(t, err)
	s.CycleID()
	require.NoError(t, s.Set("huge", randomHex(20000)))
	out, err := m.Save(ctx, s)
	assert.ErrorIs(t, err, ErrTooLarge)
	assert.Nil(t, out)
	assert.Contains(t, err.Error(), "the budget allows 6144")

	// The session can still be fixed and saved.
	_, _, err = s.RemoveRaw("huge")
	require.NoError(t, err)
	out, err = m.Save(ctx, s)
	require.NoError(t, err)
	require.Len(t, out, 1)
}
