package sealed

// The helpers every test in this directory shares. They are exported, so
// that the external tests (package sealed_test) see them as sealed.Clock,
// sealed.LogBuffer and so on; being in a _test.go file, they are no part
// of the package anyone imports.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Epoch is the fake clocks' default start: 2026-11-23 12:00:00 UTC, a
// whole second.
var Epoch = time.Unix(1795392000, 0).UTC()

// Clock is the fake clock: Now returns a time that moves only with
// Advance and Set. Safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a Clock at start, or at Epoch for the zero time.
func NewClock(start time.Time) *Clock {
	if start.IsZero() {
		start = Epoch
	}
	return &Clock{t: start}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock by d (back, for a negative d).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// LogBuffer collects log output from any number of goroutines.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns everything logged so far.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Logger returns a text logger into l at debug level, so that the reasons
// for rejected cookies are seen too.
func (l *LogBuffer) Logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// Quiet is a logger that drops everything.
var Quiet = slog.New(slog.DiscardHandler)

// NewTestKeys returns a keyring of fresh keys with the given ids ("k1" when
// none), the first the primary.
func NewTestKeys(t testing.TB, ids ...string) *Keyring {
	t.Helper()
	if len(ids) == 0 {
		ids = []string{"k1"}
	}
	keys := make([]Key, len(ids))
	for i, id := range ids {
		keys[i] = GenerateKey(id)
	}
	k, err := NewKeyring(keys...)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// NewTestManager returns a Manager for keys (NewTestKeys when nil) with opts
// (nil for the defaults, which need https; most tests set AllowInsecure).
// Logs are dropped unless opts sets a Logger.
func NewTestManager(t testing.TB, keys KeySource, opts *Options) *Manager {
	t.Helper()
	if keys == nil {
		keys = NewTestKeys(t)
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Logger == nil {
		o.Logger = Quiet
	}
	m, err := New(keys, &o)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// NewMemoryRevocationListAt is NewMemoryRevocationList counting its
// entries' lifetimes on now instead of the monotonic clock.
func NewMemoryRevocationListAt(now func() time.Time) RevocationList {
	l := NewMemoryRevocationList().(*memoryList)
	l.now, l.epoch = now, now()
	return l
}

// The unexported helpers below serve the internal tests (package sealed).

// must returns v, for calls whose error the test does not expect.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// randomHex returns n random hex digits: a value that takes its full size
// in a cookie.
func randomHex(n int) string {
	b := make([]byte, (n+1)/2)
	rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

// user is a struct value for sessions to hold.
type user struct {
	ID    int      `cbor:"id"`
	Email string   `cbor:"email"`
	Roles []string `cbor:"roles"`
}

// newSession returns the new session of a request that carries no cookie.
func newSession(t testing.TB, m *Manager) *Session {
	t.Helper()
	s, err := m.Load(context.Background())
	require.NoError(t, err)
	return s
}

// saved saves a new session holding set, at the manager's current time,
// and returns its Set-Cookie lines.
func saved(t testing.TB, m *Manager, set map[string]any) []string {
	t.Helper()
	s := newSession(t, m)
	for k, v := range set {
		require.NoError(t, s.Set(k, v))
	}
	lines, err := m.Save(context.Background(), s)
	require.NoError(t, err)
	require.NotEmpty(t, lines)
	return lines
}

// parseLines parses Set-Cookie lines.
func parseLines(t testing.TB, lines []string) []*http.Cookie {
	t.Helper()
	cs := make([]*http.Cookie, len(lines))
	for i, l := range lines {
		c, err := http.ParseSetCookie(l)
		require.NoError(t, err)
		cs[i] = c
	}
	return cs
}

// pairsOf returns the "name=value" pair of each Set-Cookie line, as a
// client sends them back (deletions included: a test passes only what it
// means the client to hold).
func pairsOf(t testing.TB, lines []string) []string {
	t.Helper()
	pairs := make([]string, len(lines))
	for i, c := range parseLines(t, lines) {
		pairs[i] = c.Name + "=" + c.Value
	}
	return pairs
}

// savedHeader is saved, returning the Cookie header a browser would send
// back.
func savedHeader(t testing.TB, m *Manager, set map[string]any) string {
	t.Helper()
	return strings.Join(pairsOf(t, saved(t, m, set)), "; ")
}

// load loads the session a client sends back after receiving lines.
func load(t testing.TB, m *Manager, lines []string) *Session {
	t.Helper()
	s, err := m.Load(context.Background(), pairsOf(t, lines)...)
	require.NoError(t, err)
	return s
}

// clockedList returns a memory revocation list on c.
func clockedList(c *Clock) *memoryList {
	return NewMemoryRevocationListAt(c.Now).(*memoryList)
}
