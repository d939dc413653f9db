package inspect

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sealedgo/sealed/internal/cookie"
	"github.com/sealedgo/sealed/internal/envelope"
	"github.com/sealedgo/sealed/internal/payload"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The tests seal cookies with the layers themselves, configured as a
// default Manager (and cmd/sealed) configures them.

var epoch = time.Unix(1795392000, 0).UTC()

// testConfig returns a Config for the default cookie and purpose, with keys
// "k1" (primary) and "old", at epoch.
func testConfig(t *testing.T) Config {
	t.Helper()
	secrets := make([][]byte, 2)
	for i := range secrets {
		secrets[i] = make([]byte, envelope.SecretSize)
		rand.Read(secrets[i])
	}
	ring, err := envelope.NewRing([]string{"k1", "old"}, secrets)
	require.NoError(t, err)
	jar, err := cookie.New(cookie.Config{
		Name: "__Host-session", Path: "/", Secure: true, SameSite: http.SameSiteLaxMode,
		Budget:     cookie.Budget{MaxBytes: 6144, MaxChunks: 8, MaxLineBytes: cookie.MaxLine},
		MaxAge:     int(400 * 24 * time.Hour / time.Second),
		MaxDecoded: envelope.MaxSize,
	})
	require.NoError(t, err)
	bind, err := envelope.Bind("__Host-session", "session")
	require.NoError(t, err)
	return Config{Ring: ring, Jar: jar, Bind: bind, Idle: 24 * time.Hour, Absolute: 7 * 24 * time.Hour, Now: epoch}
}

// newState returns a session created at epoch holding values.
func newState(t *testing.T, values map[string]any) *payload.State {
	t.Helper()
	st := &payload.State{Created: epoch.UnixMilli()}
	rand.Read(st.ID[:])
	for k, v := range values {
		enc, err := payload.Encode(v)
		require.NoError(t, err)
		i, _ := st.Find(k)
		st.Entries = slices.Insert(st.Entries, i, payload.Entry{Key: []byte(k), Val: enc})
	}
	return st
}

// seal seals st under key ring[k] at epoch and returns the "name=value"
// pairs a client sends back.
func seal(t *testing.T, c Config, st *payload.State, k int) []string {
	t.Helper()
	room := c.Bind.Room()
	buf := make([]byte, room+payload.Size(st)+envelope.TagSize)
	pt := payload.Append(buf[room:room], st)
	env := c.Bind.Seal(buf, c.Ring[k], uint64(epoch.Unix()), len(pt))
	lines, _, tl := c.Jar.Write(env, 86400, 0)
	require.Nil(t, tl)
	pairs := make([]string, len(lines))
	for i, l := range lines {
		pairs[i], _, _ = strings.Cut(l, ";")
	}
	return pairs
}

func TestInspect(t *testing.T) {
	c := testConfig(t)
	st := newState(t, map[string]any{
		"user": map[string]any{"name": "ada", "roles": []string{"a"}},
		"n":    3,
	})
	st.Subject = "u-9"
	st.Flashes = []string{"hi"}
	in, err := Inspect(c, seal(t, c, st, 0)...)
	require.NoError(t, err)
	assert.Equal(t, hex.EncodeToString(st.ID[:]), in.ID)
	assert.Equal(t, "u-9", in.Subject)
	assert.Equal(t, "k1", in.KeyID)
	assert.True(t, in.PrimaryKey)
	assert.Equal(t, 1, in.Chunks)
	assert.Equal(t, []string{"hi"}, in.Flashes)
	assert.EqualValues(t, 3, in.Values["n"])
	assert.Equal(t, "ada", in.Values["user"].(map[string]any)["name"])
	assert.False(t, in.Expired)
	assert.Equal(t, epoch, in.CreatedAt)
	assert.Equal(t, epoch, in.IssuedAt)
	assert.Equal(t, in.IssuedAt.Add(c.Idle), in.IdleDeadline)
	assert.Equal(t, in.CreatedAt.Add(c.Absolute), in.AbsoluteDeadline)
	assert.False(t, in.BrowserSession)

	st.Flags = payload.FlagBrowserSession
	in, err = Inspect(c, seal(t, c, st, 0)...)
	require.NoError(t, err)
	assert.True(t, in.BrowserSession)

	// Values JSON cannot hold still inspect and marshal.
	st = newState(t, map[string]any{"nan": math.NaN(), "inf": math.Inf(-1)})
	in, err = Inspect(c, seal(t, c, st, 0)...)
	require.NoError(t, err)
	assert.Equal(t, "NaN", in.Values["nan"])
	assert.Equal(t, "-Infinity", in.Values["inf"])
	_, err = json.Marshal(in)
	assert.NoError(t, err)

	_, err = Inspect(c, "other=1")
	assert.ErrorIs(t, err, ErrInvalid)
	_, err = Inspect(c, c.Jar.Name()+"=AAAA")
	assert.ErrorIs(t, err, ErrInvalid)
}

// Inspect names the key that opened the cookie and whether it is the
// primary, counts the chunks, and reports expiry without enforcing it.
func TestInspectKeyChunksExpiry(t *testing.T) {
	c := testConfig(t)
	pairs := seal(t, c, newState(t, map[string]any{"big": strings.Repeat("x", 3500)}), 1)
	require.Greater(t, len(pairs), 1)
	// Among other cookies, in one header line.
	in, err := Inspect(c, "theme=dark; "+strings.Join(pairs, "; ")+"; lang=en")
	require.NoError(t, err)
	assert.Equal(t, "old", in.KeyID)
	assert.False(t, in.PrimaryKey)
	assert.Equal(t, len(pairs), in.Chunks)
	assert.False(t, in.Expired)

	c.Now = epoch.Add(c.Idle + time.Second)
	in, err = Inspect(c, pairs...)
	require.NoError(t, err, "an expired session still inspects")
	assert.True(t, in.Expired)
}

// A session is expired only when a manager would refuse it: past a
// deadline by more than the clock skew, in milliseconds as the manager
// counts. The deadlines themselves are reported without the skew.
func TestInspectExpiryAppliesClockSkew(t *testing.T) {
	c := testConfig(t)
	c.Skew = time.Minute
	st := newState(t, nil)
	pairs := seal(t, c, st, 0)
	for _, e := range []struct {
		idle, absolute time.Duration
		after          time.Duration // of epoch, the issue and creation time
		expired        bool
	}{
		{time.Hour, 2 * time.Hour, time.Hour + 30*time.Second, false},
		{time.Hour, 2 * time.Hour, time.Hour + time.Minute, false},
		{time.Hour, 2 * time.Hour, time.Hour + time.Minute + 999*time.Microsecond, false}, // within the same millisecond
		{time.Hour, 2 * time.Hour, time.Hour + time.Minute + time.Millisecond, true},
		{3 * time.Hour, 2 * time.Hour, 2*time.Hour + time.Minute, false},
		{3 * time.Hour, 2 * time.Hour, 2*time.Hour + time.Minute + time.Millisecond, true},
	} {
		c.Idle, c.Absolute, c.Now = e.idle, e.absolute, epoch.Add(e.after)
		in, err := Inspect(c, pairs...)
		require.NoError(t, err)
		assert.Equal(t, e.expired, in.Expired, "idle %v, absolute %v, at +%v with a minute of skew", e.idle, e.absolute, e.after)
		assert.Equal(t, epoch.Add(e.idle), in.IdleDeadline)
		assert.Equal(t, epoch.Add(e.absolute), in.AbsoluteDeadline)
	}
}
