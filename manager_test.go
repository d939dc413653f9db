package sealed

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
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
		{Options{Budget: Budget{ReservedResponseBytes: -1}}, "Options.Budget.ReservedResponseBytes"},
		{Options{Budget: Budget{MaxResponseBytes: -1}}, "Options.Budget.MaxResponseBytes"},
		{Options{Budget: Budget{MaxResponseBytes: 1535}}, "Options.Budget.MaxResponseBytes"}, // 511 after the default 1024
		{Options{Budget: Budget{MaxResponseBytes: 4096, ReservedResponseBytes: 3585}}, "Options.Budget.MaxResponseBytes"},
		{Options{Budget: Budget{MaxResponseBytes: 4096, ReservedResponseBytes: 5000}}, "Options.Budget.MaxResponseBytes"},
		{Options{Domain: strings.Repeat("d.", 120) + "example.com", Budget: Budget{MaxResponseBytes: 1536}}, "Options.Budget.MaxResponseBytes"},
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
		_, err := New(NewTestKeys(t, "k"), &c.opts)
		if assert.Error(t, err, "%+v", c.opts) {
			assert.Contains(t, err.Error(), c.want)
		}
	}
	_, err := New(nil, nil)
	assert.ErrorContains(t, err, "keys is nil")

	// The smallest room for Set-Cookie headers New accepts: 512 bytes.
	for _, b := range []Budget{{MaxResponseBytes: 1536}, {MaxResponseBytes: 4096, ReservedResponseBytes: 3584}, {MaxResponseBytes: 513, ReservedResponseBytes: 1}} {
		m, err := New(NewTestKeys(t, "k"), &Options{Budget: b})
		if assert.NoError(t, err, "%+v", b) {
			assert.NotEmpty(t, saved(t, m, map[string]any{"k": 1}), "%+v", b)
		}
	}
}

func TestDefaults(t *testing.T) {
	m, err := New(NewTestKeys(t, "k"), nil)
	require.NoError(t, err)
	assert.Equal(t, "__Host-session", m.jar.Name())
	assert.Equal(t, 24*time.Hour, m.idle)
	assert.Equal(t, 7*24*time.Hour, m.absolute)
	line := saved(t, m, map[string]any{"k": 1})[0]
	_, attrs, _ := strings.Cut(line, ";")
	assert.Equal(t, " Path=/; Max-Age=86400; HttpOnly; Secure; SameSite=Lax", attrs)

	m, err = New(NewTestKeys(t, "k"), &Options{AllowInsecure: true})
	require.NoError(t, err)
	assert.Equal(t, "session", m.jar.Name())
	assert.NotContains(t, saved(t, m, map[string]any{"k": 1})[0], "Secure")

	m, err = New(NewTestKeys(t, "k"), &Options{Path: "/app"})
	require.NoError(t, err)
	assert.Equal(t, "__Secure-session", m.jar.Name())
}

// The zero Budget is the documented default: a manager without one
// refuses exactly what one given {6144, 8, 4096} refuses.
func TestDefaultBudget(t *testing.T) {
	assert.Equal(t, Budget{MaxBytes: 6144, MaxChunks: 8, MaxLineBytes: 4096, MaxResponseBytes: 4096, ReservedResponseBytes: 1024}, defaultBudget)
	assert.Equal(t, Budget{MaxBytes: 7168, MaxChunks: 8, MaxLineBytes: 4096, MaxResponseBytes: 8192, ReservedResponseBytes: 1024}, BudgetNginx8k())
	assert.Equal(t, Budget{MaxBytes: 8192, MaxChunks: 8, MaxLineBytes: 4096, MaxResponseBytes: 10240, ReservedResponseBytes: 2048}, BudgetAPIGatewayHTTP())
	assert.Equal(t, Budget{MaxBytes: 15360, MaxChunks: 8, MaxLineBytes: 4096, MaxResponseBytes: 32768, ReservedResponseBytes: 4096}, BudgetLarge())
	limit := func(b Budget) *TooLargeError {
		m := NewTestManager(t, nil, &Options{Budget: b})
		s := newSession(t, m)
		require.NoError(t, s.Set("big", randomHex(20000)))
		_, err := m.Save(context.Background(), s)
		var tl *TooLargeError
		require.True(t, errors.As(err, &tl), "%v", err)
		return tl
	}
	def := limit(Budget{})
	same := limit(defaultBudget)
	assert.Equal(t, [2]int{same.Limit, same.ResponseLimit}, [2]int{def.Limit, def.ResponseLimit})
	// The default binds on the response: one chunk of about 3 KiB, within
	// a quantum of the 3072 bytes of Set-Cookie headers it leaves.
	room := defaultBudget.MaxResponseBytes - defaultBudget.ReservedResponseBytes
	assert.LessOrEqual(t, def.ResponseLimit, room)
	assert.Greater(t, def.ResponseLimit, room-4, "the limit is the largest session that fits")
	assert.Less(t, def.Limit, room, "the request side is not what binds")
	// A default field is filled alone: a larger MaxBytes does not lift the
	// response bound.
	wider := limit(Budget{MaxBytes: 1 << 20})
	assert.Equal(t, [2]int{def.Limit, def.ResponseLimit}, [2]int{wider.Limit, wider.ResponseLimit})
	for _, b := range []Budget{BudgetNginx8k(), BudgetAPIGatewayHTTP(), BudgetLarge()} {
		tl := limit(b)
		assert.LessOrEqual(t, tl.Limit, b.MaxBytes, "%+v", b)
		assert.LessOrEqual(t, tl.ResponseLimit, b.MaxResponseBytes-b.ReservedResponseBytes, "%+v", b)
		assert.Greater(t, tl.Limit, def.Limit, "the limit follows the budget: %+v", b)
		assert.Greater(t, tl.ResponseLimit, def.ResponseLimit, "the limit follows the budget: %+v", b)
	}
}

func TestIdleTimeoutWithSkew(t *testing.T) {
	c := NewClock(time.Time{})
	m := NewTestManager(t, nil, &Options{Now: c.Now, IdleTimeout: time.Hour, ClockSkew: time.Minute})
	cs := saved(t, m, map[string]any{"k": 1})
	c.Advance(time.Hour + time.Minute - time.Second)
	assert.False(t, load(t, m, cs).IsNew(), "within idle timeout plus skew")
	c.Advance(2 * time.Second)
	assert.True(t, load(t, m, cs).IsNew(), "past idle timeout plus skew")
}

// Renewal pushes the idle deadline back but never the absolute one: the
// creation time survives re-sealing.
func TestAbsoluteTimeoutSurvivesRenewal(t *testing.T) {
	c := NewClock(time.Time{})
	m := NewTestManager(t, nil, &Options{Now: c.Now, IdleTimeout: time.Hour, AbsoluteTimeout: 3 * time.Hour, ClockSkew: time.Second})
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
	c := NewClock(time.Time{})
	ring := NewTestKeys(t, "k")
	long := NewTestManager(t, ring, &Options{Now: c.Now, IdleTimeout: 24 * time.Hour})
	short := NewTestManager(t, ring, &Options{Now: c.Now, IdleTimeout: time.Hour, ClockSkew: time.Second})
	cs := saved(t, long, map[string]any{"k": 1})
	c.Advance(2 * time.Hour)
	assert.False(t, load(t, long, cs).IsNew())
	assert.True(t, load(t, short, cs).IsNew())
}

func TestIssuedInTheFuture(t *testing.T) {
	c := NewClock(time.Time{})
	ring := NewTestKeys(t, "k")
	ahead := NewClock(c.Now().Add(2 * time.Minute))
	slightly := NewClock(c.Now().Add(30 * time.Second))
	m := NewTestManager(t, ring, &Options{Now: c.Now})
	mAhead := NewTestManager(t, ring, &Options{Now: ahead.Now})
	mSlightly := NewTestManager(t, ring, &Options{Now: slightly.Now})
	assert.True(t, load(t, m, saved(t, mAhead, map[string]any{"k": 1})).IsNew(), "2 minutes ahead exceeds the 1-minute skew")
	assert.False(t, load(t, m, saved(t, mSlightly, map[string]any{"k": 1})).IsNew(), "30 seconds ahead is within skew")
}

// The future rule is in milliseconds, like the others: a session issued
// at second S opens while S*1000 <= now_ms + skew_ms. A skew that is not
// a whole number of seconds, and a clock between seconds, must neither be
// rounded away nor make the rule stricter than it says.
func TestIssuedInTheFutureMilliseconds(t *testing.T) {
	ring := NewTestKeys(t, "k")
	at := func(d time.Duration) *Manager {
		c := NewClock(Epoch.Add(d))
		return NewTestManager(t, ring, &Options{Now: c.Now, ClockSkew: 1500 * time.Millisecond})
	}
	session := map[string]any{"k": 1}
	for _, c := range []struct {
		now, issued time.Duration // after Epoch
		opens       bool
	}{
		{600 * time.Millisecond, 2 * time.Second, true},  // 2000 <= 600+1500
		{500 * time.Millisecond, 2 * time.Second, true},  // 2000 <= 500+1500: the boundary
		{499 * time.Millisecond, 2 * time.Second, false}, // 2000 > 499+1500
		{600 * time.Millisecond, 3 * time.Second, false},
		{0, time.Second, true},
		{0, 2 * time.Second, false},
	} {
		lines := saved(t, at(c.issued), session)
		assert.Equal(t, !c.opens, load(t, at(c.now), lines).IsNew(), "issued at +%v, read at +%v with 1.5s of skew", c.issued, c.now)
		m := at(c.now)
		reason := m.checkTimes(m.now(), Epoch.Add(c.issued).Unix(), Epoch.Add(c.issued).UnixMilli())
		if c.opens {
			assert.Empty(t, reason)
		} else {
			assert.Equal(t, "issued in the future", reason)
		}
	}
	// No overflow at the far end: the largest issued-at is in the future.
	m := at(0)
	assert.Equal(t, "issued in the future", m.checkTimes(m.now(), math.MaxInt64, 0))
}

func TestSaveOnlyIfChanged(t *testing.T) {
	ctx := context.Background()
	c := NewClock(time.Time{})
	m := NewTestManager(t, nil, &Options{Now: c.Now, IdleTimeout: time.Hour, RenewFraction: 0.5})

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
	c := NewClock(time.Time{})
	m := NewTestManager(t, holder, &Options{Now: c.Now})
	cs := saved(t, m, map[string]any{"k": 1})

	require.NoError(t, holder.Swap(r2))
	s := load(t, m, cs)
	require.False(t, s.IsNew(), "the retired key still opens")
	out, err := m.Save(ctx, s)
	require.NoError(t, err)
	require.Len(t, out, 1, "re-sealed under the new primary")
	r3, _ := NewKeyring(newK)
	assert.False(t, load(t, NewTestManager(t, r3, &Options{Now: c.Now}), out).IsNew(), "sealed under the new key")

	// After the re-seal, reads write nothing again.
	out2, _ := m.Save(ctx, load(t, m, out))
	assert.Empty(t, out2)
}

func TestInvalidateExpiresEveryChunk(t *testing.T) {
	ctx := context.Background()
	m := NewTestManager(t, nil, &Options{Budget: BudgetLarge()})
	cs := saved(t, m, map[string]any{"big": randomHex(9000)})
	require.GreaterOrEqual(t, len(cs), 3)
	s := load(t, m, cs)
	s.Invalidate()
	lines, err := m.Save(ctx, s)
	require.NoError(t, err)
	out := parseLines(t, lines)
	require.Len(t, out, len(cs))
	for i, c := range out {
		name := m.jar.Name()
		if i > 0 {
			name += "." + strconv.Itoa(i)
		}
		assert.Equal(t, name, c.Name)
		assert.Equal(t, -1, c.MaxAge)
		assert.Empty(t, c.Value)
	}

	// Invalidate, then a flash: one new small cookie, stale chunks expired.
	s = load(t, m, cs)
	oldID := s.ID()
	s.Invalidate()
	s.AddFlash("bye")
	lines, err = m.Save(ctx, s)
	require.NoError(t, err)
	out = parseLines(t, lines)
	require.Len(t, out, len(cs))
	assert.Positive(t, out[0].MaxAge)
	for _, c := range out[1:] {
		assert.Equal(t, -1, c.MaxAge)
	}
	next := load(t, m, lines[:1])
	assert.NotEqual(t, oldID, next.ID())
	assert.Equal(t, []string{"bye"}, must(next.Flashes()))
}

func TestInvalidRequestCookiesGiveFreshSession(t *testing.T) {
	m := NewTestManager(t, nil, nil)
	cs := parseLines(t, saved(t, m, map[string]any{"k": 1}))
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
		s, err := m.Load(context.Background(), m.jar.Name()+"="+v)
		require.NoError(t, err, name)
		assert.True(t, s.IsNew(), name)
		assert.Empty(t, s.Keys(), name)
	}
	// A cookie from a manager with other keys.
	foreign := saved(t, NewTestManager(t, nil, nil), map[string]any{"k": 1})
	assert.True(t, load(t, m, foreign).IsNew())
	// The same keys under another cookie name.
	other := NewTestManager(t, m.keys, &Options{CookieName: "other", AllowInsecure: true})
	s, err := other.Load(context.Background(), "other="+good)
	require.NoError(t, err)
	assert.True(t, s.IsNew())
}

// A read-only request that carried a cookie that does not open gets a fresh
// session and no Set-Cookie: a read does not delete what might open again
// once the keys are fixed. An expired session's cookies are expired.
func TestReadWithInvalidCookieWritesNothing(t *testing.T) {
	ctx := context.Background()
	m := NewTestManager(t, nil, nil)
	garbage := m.jar.Name() + "=garbage; " + m.jar.Name() + ".1=more"
	s, err := m.Load(ctx, garbage)
	require.NoError(t, err)
	require.True(t, s.IsNew())
	_, _, _ = Get[string](s, "user")
	out, err := m.Save(ctx, s)
	require.NoError(t, err)
	assert.Empty(t, out)

	// A write replaces the invalid cookies, expiring the chunk it no
	// longer needs.
	s, err = m.Load(ctx, garbage)
	require.NoError(t, err)
	require.NoError(t, s.Set("user", "ada"))
	lines, err := m.Save(ctx, s)
	require.NoError(t, err)
	cs := parseLines(t, lines)
	require.Len(t, cs, 2)
	assert.Positive(t, cs[0].MaxAge)
	assert.Equal(t, m.jar.Name()+".1", cs[1].Name)
	assert.Equal(t, -1, cs[1].MaxAge)

	c := NewClock(time.Time{})
	m = NewTestManager(t, nil, &Options{Now: c.Now, IdleTimeout: time.Hour})
	lines = saved(t, m, map[string]any{"k": 1})
	c.Advance(2 * time.Hour)
	s = load(t, m, lines)
	require.True(t, s.IsNew())
	lines, err = m.Save(ctx, s)
	require.NoError(t, err)
	cs = parseLines(t, lines)
	require.Len(t, cs, 1)
	assert.Equal(t, -1, cs[0].MaxAge, "the expired session's cookie is expired")
}

// A change undone before the response (Set then Remove, a value restored)
// writes nothing: the client already holds exactly this state.
func TestChangeUndoneWritesNothing(t *testing.T) {
	ctx := context.Background()
	m := NewTestManager(t, nil, nil)
	cs := saved(t, m, map[string]any{"cart": []string{"book"}})

	s := load(t, m, cs)
	require.NoError(t, s.Set("cart", []string{"book", "lamp"}))
	require.NoError(t, s.Set("cart", []string{"book"}))
	require.NoError(t, s.Set("tmp", 1))
	_, _, err := Remove[cbor.RawMessage](s, "tmp")
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
	m := NewTestManager(t, nil, &Options{Revocation: NewMemoryRevocationList()})
	login := func(subject string) []string {
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
