package sealed

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOptionsValidationNamesTheField(t *testing.T) {
	cases := []struct {
		opts Options
		want string
	}{
		{Options{IdleTimeout: -time.Second}, "Options.IdleTimeout"},
		{Options{AbsoluteTimeout: -1}, "Options.AbsoluteTimeout"},
		{Options{ClockSkew: -1}, "Options.ClockSkew"},
		{Options{RevocationTimeout: -1}, "Options.RevocationTimeout"},
		{Options{RenewFraction: 1.5}, "Options.RenewFraction"},
		{Options{RenewFraction: -0.1}, "Options.RenewFraction"},
		{Options{Budget: Budget{MaxChunks: 40}}, "Options.Budget.MaxChunks"},
		{Options{Budget: Budget{MaxLineBytes: 5000}}, "Options.Budget.MaxLineBytes"},
		{Options{Budget: Budget{MaxBytes: 10}}, "Options.Budget.MaxBytes"},
		{Options{CookieName: "bad name"}, "CookieName"},
		{Options{CookieName: "__Host-s", AllowInsecure: true}, "Options.CookieName"},
		{Options{CookieName: "__Host-s", Domain: "example.com"}, "Options.CookieName"},
		{Options{CookieName: "__Host-s", Path: "/app"}, "Options.CookieName"},
		{Options{CookieName: "__Secure-s", AllowInsecure: true}, "Options.CookieName"},
		{Options{SameSite: http.SameSiteNoneMode, AllowInsecure: true}, "Options.SameSite"},
		{Options{SameSite: 9}, "Options.SameSite"},
		{Options{Path: "app"}, "Options.Path"},
		{Options{Path: "/" + strings.Repeat("p", 3900)}, "Options.CookieName, Path and Domain"},
	}
	for _, c := range cases {
		_, err := New(testRing(t, "k"), &c.opts)
		if assert.Error(t, err, "%+v", c.opts) {
			assert.Contains(t, err.Error(), c.want)
		}
	}
	_, err := New(nil, nil)
	assert.ErrorContains(t, err, "keys is nil")
}

func TestDefaults(t *testing.T) {
	m, err := New(testRing(t, "k"), nil)
	require.NoError(t, err)
	assert.Equal(t, "__Host-session", m.CookieName())
	assert.Equal(t, DefaultIdleTimeout, m.idle)
	assert.Equal(t, DefaultAbsoluteTimeout, m.absolute)
	assert.Equal(t, DefaultBudget, m.budget)
	assert.Equal(t, "; Path=/; Max-Age=86400; HttpOnly; Secure; SameSite=Lax", m.cookieAttrs(86400))

	m, err = New(testRing(t, "k"), &Options{AllowInsecure: true})
	require.NoError(t, err)
	assert.Equal(t, "session", m.CookieName())
	assert.NotContains(t, m.cookieAttrs(1), "Secure")

	m, err = New(testRing(t, "k"), &Options{Path: "/app"})
	require.NoError(t, err)
	assert.Equal(t, "__Secure-session", m.CookieName())
}

// saved is a session sealed at the clock's current time.
func saved(t *testing.T, m *Manager, set map[string]any) []*http.Cookie {
	t.Helper()
	s := newSession(t, m)
	for k, v := range set {
		require.NoError(t, s.Set(k, v))
	}
	out, err := m.Save(context.Background(), s)
	require.NoError(t, err)
	require.NotEmpty(t, out)
	return out
}

func load(t *testing.T, m *Manager, cs []*http.Cookie) *Session {
	t.Helper()
	s, err := m.Load(context.Background(), cs)
	require.NoError(t, err)
	return s
}

func TestIdleTimeoutWithSkew(t *testing.T) {
	c := newClock()
	m := testManager(t, &Options{Now: c.Now, IdleTimeout: time.Hour, ClockSkew: time.Minute})
	cs := saved(t, m, map[string]any{"k": 1})
	c.Advance(time.Hour + time.Minute - time.Second)
	assert.False(t, load(t, m, cs).IsNew(), "within idle timeout plus skew")
	c.Advance(2 * time.Second)
	assert.True(t, load(t, m, cs).IsNew(), "past idle timeout plus skew")
}

// Renewal pushes the idle deadline back but never the absolute one: the
// creation time survives re-sealing.
func TestAbsoluteTimeoutSurvivesRenewal(t *testing.T) {
	c := newClock()
	m := testManager(t, &Options{Now: c.Now, IdleTimeout: time.Hour, AbsoluteTimeout: 3 * time.Hour, ClockSkew: time.Second})
	cs := saved(t, m, map[string]any{"k": 1})
	created := load(t, m, cs).CreatedAt()
	for i := 0; i < 5; i++ {
		c.Advance(50 * time.Minute)
		s := load(t, m, cs)
		if i < 3 {
			require.False(t, s.IsNew(), "step %d", i)
			assert.Equal(t, created, s.CreatedAt())
			out, err := m.Save(context.Background(), s)
			require.NoError(t, err)
			require.NotEmpty(t, out, "renewal due after 50 of 60 idle minutes")
			cs = out
			continue
		}
		assert.True(t, s.IsNew(), "past the absolute timeout at step %d", i)
		return
	}
}

// Lowering a timeout in the config expires cookies sealed under the old
// one: deadlines come from the current config, not from the cookie.
func TestLoweredTimeoutExpiresOldCookies(t *testing.T) {
	c := newClock()
	ring := testRing(t, "k")
	long, err := New(ring, &Options{Now: c.Now, IdleTimeout: 24 * time.Hour})
	require.NoError(t, err)
	short, err := New(ring, &Options{Now: c.Now, IdleTimeout: time.Hour, ClockSkew: time.Second})
	require.NoError(t, err)
	cs := saved(t, long, map[string]any{"k": 1})
	c.Advance(2 * time.Hour)
	assert.False(t, load(t, long, cs).IsNew())
	assert.True(t, load(t, short, cs).IsNew())
}

func TestIssuedInTheFuture(t *testing.T) {
	c := newClock()
	ring := testRing(t, "k")
	ahead := &clock{t: c.Now().Add(2 * time.Minute)}
	slightly := &clock{t: c.Now().Add(30 * time.Second)}
	m, _ := New(ring, &Options{Now: c.Now})
	mAhead, _ := New(ring, &Options{Now: ahead.Now})
	mSlightly, _ := New(ring, &Options{Now: slightly.Now})
	assert.True(t, load(t, m, saved(t, mAhead, map[string]any{"k": 1})).IsNew(), "2 minutes ahead exceeds the 1-minute skew")
	assert.False(t, load(t, m, saved(t, mSlightly, map[string]any{"k": 1})).IsNew(), "30 seconds ahead is within skew")
}

func TestSaveOnlyIfChanged(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	m := testManager(t, &Options{Now: c.Now, IdleTimeout: time.Hour, RenewFraction: 0.5})

	// A new session nobody wrote to: no cookie.
	out, err := m.Save(ctx, newSession(t, m))
	require.NoError(t, err)
	assert.Empty(t, out)

	cs := saved(t, m, map[string]any{"k": "v"})

	// Read only: no cookie.
	s := load(t, m, cs)
	_, _, _ = Get[string](s, "k")
	_ = s.Keys()
	out, err = m.Save(ctx, s)
	require.NoError(t, err)
	assert.Empty(t, out)

	// Setting an equal value is not a change.
	s = load(t, m, cs)
	require.NoError(t, s.Set("k", "v"))
	out, _ = m.Save(ctx, s)
	assert.Empty(t, out)

	// Reading no flashes is not a change; reading some is.
	s = load(t, m, cs)
	assert.Nil(t, must(s.Flashes()))
	out, _ = m.Save(ctx, s)
	assert.Empty(t, out)

	// Renewal is throttled: nothing before half the idle window, a
	// re-seal after it, with the same ID and creation time.
	c.Advance(29 * time.Minute)
	out, _ = m.Save(ctx, load(t, m, cs))
	assert.Empty(t, out)
	c.Advance(2 * time.Minute)
	before := load(t, m, cs)
	out, err = m.Save(ctx, before)
	require.NoError(t, err)
	require.Len(t, out, 1)
	after := load(t, m, out)
	assert.Equal(t, before.ID(), after.ID())
	assert.Equal(t, before.CreatedAt(), after.CreatedAt())

	// A change is written at once.
	s = load(t, m, out)
	require.NoError(t, s.Set("k", "w"))
	out, _ = m.Save(ctx, s)
	assert.Len(t, out, 1)

	// CycleID is written even with no other change.
	s = load(t, m, out)
	s.CycleID()
	out, _ = m.Save(ctx, s)
	require.Len(t, out, 1)
	assert.NotEqual(t, s.ID(), after.ID())
}

// A cookie sealed under a key that is no longer primary is re-sealed under
// the primary on the next request that reads it, even with no change.
func TestResealAfterRotation(t *testing.T) {
	ctx := context.Background()
	oldK, newK := GenerateKey("old"), GenerateKey("new")
	r1, _ := NewKeyring(oldK)
	r2, _ := NewKeyring(newK, oldK)
	holder, _ := NewRotatingKeyring(r1)
	m, err := New(holder, &Options{Now: newClock().Now})
	require.NoError(t, err)
	cs := saved(t, m, map[string]any{"k": 1})

	require.NoError(t, holder.Swap(r2))
	s := load(t, m, cs)
	require.False(t, s.IsNew(), "the retired key still opens")
	out, err := m.Save(ctx, s)
	require.NoError(t, err)
	require.Len(t, out, 1, "re-sealed under the new primary")
	in, err := m.Inspect(out[0].Name + "=" + out[0].Value)
	require.NoError(t, err)
	assert.Equal(t, "new", in.KeyID)
	assert.True(t, in.PrimaryKey)

	// After the re-seal, reads write nothing again.
	out2, _ := m.Save(ctx, load(t, m, out))
	assert.Empty(t, out2)
}

func TestInvalidateExpiresEveryChunk(t *testing.T) {
	ctx := context.Background()
	m := testManager(t, &Options{Budget: BudgetLarge})
	cs := saved(t, m, map[string]any{"big": randomHex(9000)})
	require.GreaterOrEqual(t, len(cs), 3)
	s := load(t, m, cs)
	s.Invalidate()
	out, err := m.Save(ctx, s)
	require.NoError(t, err)
	require.Len(t, out, len(cs))
	for i, c := range out {
		assert.Equal(t, chunkName(m.CookieName(), i), c.Name)
		assert.Equal(t, -1, c.MaxAge)
		assert.Empty(t, c.Value)
	}

	// Invalidate, then a flash: one new small cookie, stale chunks expired.
	s = load(t, m, cs)
	oldID := s.ID()
	s.Invalidate()
	s.AddFlash("bye")
	out, err = m.Save(ctx, s)
	require.NoError(t, err)
	require.Len(t, out, len(cs))
	assert.Positive(t, out[0].MaxAge)
	next := load(t, m, out[:1])
	assert.NotEqual(t, oldID, next.ID())
	assert.Equal(t, []string{"bye"}, must(next.Flashes()))
}

func TestInvalidRequestCookiesGiveFreshSession(t *testing.T) {
	m := testManager(t, nil)
	cs := saved(t, m, map[string]any{"k": 1})
	good := cs[0].Value
	flipped := []byte(good)
	flipped[len(flipped)/2] ^= 1
	for name, v := range map[string]string{
		"garbage":   "not a sealed value",
		"empty":     "",
		"flipped":   string(flipped),
		"truncated": good[:len(good)-4],
		"quoted":    `"` + good + `"`,
	} {
		s, err := m.LoadHeader(context.Background(), m.CookieName()+"="+v)
		require.NoError(t, err, name)
		assert.True(t, s.IsNew(), name)
		assert.Empty(t, s.Keys(), name)
	}
	// A cookie from a manager with other keys.
	foreign := saved(t, testManager(t, nil), map[string]any{"k": 1})
	assert.True(t, load(t, m, foreign).IsNew())
	// The same keys under another cookie name.
	renamed := *cs[0]
	other, err := New(m.keys, &Options{CookieName: "other", AllowInsecure: true})
	require.NoError(t, err)
	renamed.Name = "other"
	assert.True(t, load(t, other, []*http.Cookie{&renamed}).IsNew())
}

func TestInspect(t *testing.T) {
	m := testManager(t, nil)
	s := newSession(t, m)
	s.SetSubject("u-9")
	require.NoError(t, s.Set("user", map[string]any{"name": "ada", "roles": []string{"a"}}))
	require.NoError(t, s.Set("n", 3))
	s.AddFlash("hi")
	cs, err := m.Save(context.Background(), s)
	require.NoError(t, err)
	in, err := m.Inspect(cs[0].Name + "=" + cs[0].Value)
	require.NoError(t, err)
	assert.Equal(t, s.ID(), in.ID)
	assert.Equal(t, "u-9", in.Subject)
	assert.Equal(t, "k1", in.KeyID)
	assert.Equal(t, 1, in.Chunks)
	assert.Equal(t, []string{"hi"}, in.Flashes)
	assert.EqualValues(t, 3, in.Values["n"])
	assert.Equal(t, "ada", in.Values["user"].(map[string]any)["name"])
	assert.False(t, in.Expired)
	assert.Equal(t, in.IssuedAt.Add(DefaultIdleTimeout), in.IdleDeadline)

	// Values JSON cannot hold still inspect and marshal.
	s = newSession(t, m)
	require.NoError(t, s.Set("nan", math.NaN()))
	require.NoError(t, s.Set("inf", math.Inf(-1)))
	cs, err = m.Save(context.Background(), s)
	require.NoError(t, err)
	in, err = m.Inspect(cs[0].Name + "=" + cs[0].Value)
	require.NoError(t, err)
	assert.Equal(t, "NaN", in.Values["nan"])
	assert.Equal(t, "-Infinity", in.Values["inf"])
	_, err = json.Marshal(in)
	assert.NoError(t, err)

	_, err = m.Inspect("other=1")
	assert.ErrorIs(t, err, ErrInvalid)
	_, err = m.Inspect(m.CookieName() + "=AAAA")
	assert.ErrorIs(t, err, ErrInvalid)
}

// A read-only request that carried a cookie that does not open gets a fresh
// session and no Set-Cookie: a read does not delete what might open again
// once the keys are fixed. An expired session's cookies are expired.
func TestReadWithInvalidCookieWritesNothing(t *testing.T) {
	ctx := context.Background()
	m := testManager(t, nil)
	s, err := m.LoadHeader(ctx, m.CookieName()+"=garbage; "+m.CookieName()+".1=more")
	require.NoError(t, err)
	require.True(t, s.IsNew())
	_, _, _ = Get[string](s, "user")
	out, err := m.Save(ctx, s)
	require.NoError(t, err)
	assert.Empty(t, out)

	// A write replaces the invalid cookies, expiring the chunk it no
	// longer needs.
	s, err = m.LoadHeader(ctx, m.CookieName()+"=garbage; "+m.CookieName()+".1=more")
	require.NoError(t, err)
	require.NoError(t, s.Set("user", "ada"))
	out, err = m.Save(ctx, s)
	require.NoError(t, err)
	require.Len(t, out, 2)
	assert.Positive(t, out[0].MaxAge)
	assert.Equal(t, m.CookieName()+".1", out[1].Name)
	assert.Equal(t, -1, out[1].MaxAge)

	c := newClock()
	m = testManager(t, &Options{Now: c.Now, IdleTimeout: time.Hour})
	cs := saved(t, m, map[string]any{"k": 1})
	c.Advance(2 * time.Hour)
	s = load(t, m, cs)
	require.True(t, s.IsNew())
	out, err = m.Save(ctx, s)
	require.NoError(t, err)
	require.Len(t, out, 1)
	assert.Equal(t, -1, out[0].MaxAge, "the expired session's cookie is expired")
}

// A change undone before the response (Set then Remove, a value restored)
// writes nothing: the client already holds exactly this state.
func TestChangeUndoneWritesNothing(t *testing.T) {
	ctx := context.Background()
	m := testManager(t, nil)
	cs := saved(t, m, map[string]any{"cart": []string{"book"}})

	s := load(t, m, cs)
	require.NoError(t, s.Set("cart", []string{"book", "lamp"}))
	require.NoError(t, s.Set("cart", []string{"book"}))
	require.NoError(t, s.Set("tmp", 1))
	_, _, err := s.RemoveRaw("tmp")
	require.NoError(t, err)
	out, err := m.Save(ctx, s)
	require.NoError(t, err)
	assert.Empty(t, out)
	assert.ErrorIs(t, s.Set("x", 1), ErrCommitted, "the session is committed all the same")

	// A real change is still written.
	s = load(t, m, cs)
	require.NoError(t, s.Set("cart", []string{"book", "lamp"}))
	out, err = m.Save(ctx, s)
	require.NoError(t, err)
	assert.Len(t, out, 1)
}

// On the real clock, "log out everywhere" ends a login made just before it
// and spares one made just after it, however close together: creation times
// have millisecond resolution, so the boundary needs care.
func TestRevokeSubjectMillisecondBoundary(t *testing.T) {
	ctx := context.Background()
	m, err := New(testRing(t, "k"), &Options{Revocation: NewMemoryRevocationList()})
	require.NoError(t, err)
	login := func(subject string) []*http.Cookie {
		s := newSession(t, m)
		s.SetSubject(subject)
		out, err := m.Save(ctx, s)
		require.NoError(t, err)
		return out
	}
	for i := 0; i < 200; i++ {
		subject := "user-" + strconv.Itoa(i)
		before := login(subject)
		require.NoError(t, m.RevokeSubject(ctx, subject))
		after := login(subject)
		require.True(t, load(t, m, before).IsNew(), "round %d: a login before the call survived it", i)
		require.False(t, load(t, m, after).IsNew(), "round %d: a login after the call was ended", i)
	}
}
