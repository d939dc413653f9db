package sealed

// The runners of the conformance kit's top layers (testdata/vectors/times/
// and sessions/; the kit's README defines the fields): the time rules, and
// whole sessions from Cookie header to values, read through Manager.Load.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealedgo/sealed/internal/fuzzseed"
	"github.com/sealedgo/sealed/internal/payload"
)

type kitKey struct {
	KID    string `json:"kid"`
	Secret string `json:"secret_hex"`
}

func kitKeyring(t *testing.T, keys []kitKey) *Keyring {
	t.Helper()
	require.NotEmpty(t, keys, "keys")
	ks := make([]Key, len(keys))
	for i, k := range keys {
		ks[i] = Key{ID: k.KID, Secret: fuzzseed.Hex(t, "secret_hex", k.Secret)}
	}
	ring, err := NewKeyring(ks...)
	require.NoError(t, err)
	return ring
}

// kitReader is the configuration of a vector's reader.
type kitReader struct {
	name, purpose        string
	idle, absolute, skew int64 // ms
	maxChunks, maxBytes  int
	now                  int64 // Unix ms
	logger               *slog.Logger
	observer             func(context.Context, Event)
}

// kitManager returns a Manager configured as r says, through Options.
// Options cannot say 0 for a duration (that is the default) nor go past
// its bounds, which a vector may do: the manager's durations are then set
// after New, exactly. The response side of the budget is wide: these
// managers only read.
func kitManager(t *testing.T, ring *Keyring, r kitReader) *Manager {
	t.Helper()
	require.GreaterOrEqual(t, r.maxBytes, 0, "max_bytes")
	maxBytes := r.maxBytes
	if maxBytes == 0 {
		maxBytes = 1 << 20 // no budget
	}
	require.GreaterOrEqual(t, maxBytes, 256, "max_bytes: Options.Budget.MaxBytes takes 256 or more")
	opt := func(ms int64, most time.Duration) time.Duration {
		if d := time.Duration(ms) * time.Millisecond; ms > 0 && d <= most {
			return d
		}
		return 0
	}
	now := time.UnixMilli(r.now)
	m, err := New(ring, &Options{
		CookieName: r.name, Purpose: r.purpose,
		IdleTimeout: opt(r.idle, maxLifetime), AbsoluteTimeout: opt(r.absolute, maxLifetime), ClockSkew: opt(r.skew, maxClockSkew),
		Budget: Budget{MaxBytes: maxBytes, MaxChunks: r.maxChunks, MaxLineBytes: 4096, MaxResponseBytes: 1 << 20, ReservedResponseBytes: 1024},
		Now:    func() time.Time { return now },
		Logger: r.logger, Observer: r.observer,
	})
	require.NoError(t, err)
	for _, d := range []int64{r.idle, r.absolute, r.skew} {
		require.True(t, d >= 0 && d <= math.MaxInt64/int64(time.Millisecond), "duration of %d ms", d)
	}
	m.idle, m.absolute, m.skew = time.Duration(r.idle)*time.Millisecond, time.Duration(r.absolute)*time.Millisecond, time.Duration(r.skew)*time.Millisecond
	return m
}

// kitRecorder records what a manager reports of its loads: the observer's
// events and the reasons of its debug log lines.
type kitRecorder struct {
	mu      sync.Mutex
	events  []Event
	reasons []string
}

func (k *kitRecorder) observe(_ context.Context, e Event) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.events = append(k.events, e)
}

func (k *kitRecorder) Enabled(context.Context, slog.Level) bool { return true }

func (k *kitRecorder) Handle(_ context.Context, r slog.Record) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "reason" {
			k.reasons = append(k.reasons, a.Value.String())
		}
		return true
	})
	return nil
}

func (k *kitRecorder) WithAttrs([]slog.Attr) slog.Handler { return k }
func (k *kitRecorder) WithGroup(string) slog.Handler      { return k }

// last returns the last load's event and debug reason ("" if none).
func (k *kitRecorder) last(t *testing.T) (Event, string) {
	t.Helper()
	k.mu.Lock()
	defer k.mu.Unlock()
	require.NotEmpty(t, k.events, "no load observed")
	reason := ""
	if len(k.reasons) > 0 {
		reason = k.reasons[len(k.reasons)-1]
	}
	return k.events[len(k.events)-1], reason
}

// kitTimeReasons is, for each rule of the times layer, the reason
// checkTimes gives and the observer's outcome and reason.
var kitTimeReasons = map[string]struct{ check, outcome, reason string }{
	"future":               {"issued in the future", "rejected", "time"},
	"created-after-issued": {"created after issued", "rejected", "time"},
	"idle":                 {"idle timeout", "expired", "idle"},
	"absolute":             {"absolute timeout", "expired", "absolute"},
}

// kitSeal returns the Cookie header of a session created at createdMs and
// sealed by m's primary key with issued-at issuedS, made with the layers
// themselves since no clock makes a Manager seal such times.
func kitSeal(t *testing.T, m *Manager, issuedS uint64, createdMs int64) []string {
	t.Helper()
	st := &payload.State{Created: createdMs}
	rand.Read(st.ID[:])
	room := m.bind.Room()
	buf := make([]byte, room+payload.Size(st)+16)
	pt := payload.Append(buf[room:room], st)
	env := m.bind.Seal(buf, m.keys.Current().ring[0], issuedS, len(pt))
	lines, _, tl := m.jar.Write(env, 3600, 0)
	require.Nil(t, tl)
	return pairsOf(t, lines)
}

// TestTimeVectors runs every vector of testdata/vectors/times/: a session
// issued and created at the vector's times opens, or not, on a manager
// with the vector's timeouts and skew at the vector's clock, and when it
// does not, for the vector's rule (checkTimes' reason and what the
// observer is told).
func TestTimeVectors(t *testing.T) {
	ring := NewTestKeys(t, "k")
	for _, f := range fuzzseed.Vectors(t, "times") {
		var v struct {
			Now      *int64  `json:"now_ms"`
			Skew     *int64  `json:"skew_ms"`
			Idle     *int64  `json:"idle_ms"`
			Absolute *int64  `json:"absolute_ms"`
			Issued   *uint64 `json:"issued_at_s"`
			Created  *int64  `json:"created_ms"`
			Rule     string  `json:"rule"`
		}
		f.Decode(t, &v)
		t.Run(f.Name, func(t *testing.T) {
			require.True(t, v.Now != nil && v.Skew != nil && v.Idle != nil && v.Absolute != nil && v.Issued != nil && v.Created != nil,
				"now_ms, skew_ms, idle_ms, absolute_ms, issued_at_s and created_ms are required")
			require.LessOrEqual(t, *v.Issued, uint64(math.MaxInt64), "issued_at_s past 2^63-1 is the envelope's rule")
			require.GreaterOrEqual(t, *v.Created, int64(0), "created_ms")
			var rec kitRecorder
			m := kitManager(t, ring, kitReader{
				purpose: "session", idle: *v.Idle, absolute: *v.Absolute, skew: *v.Skew,
				maxChunks: 8, now: *v.Now, logger: slog.New(&rec), observer: rec.observe,
			})
			reason := m.checkTimes(m.now(), int64(*v.Issued), *v.Created)
			s, err := m.Load(context.Background(), kitSeal(t, m, *v.Issued, *v.Created)...)
			require.NoError(t, err)
			ev, _ := rec.last(t)
			switch f.Expect {
			case "ok":
				require.Empty(t, v.Rule, "a positive vector breaks no rule")
				assert.Empty(t, reason, "checkTimes")
				assert.False(t, s.IsNew(), "the session does not open")
				assert.Equal(t, "opened", ev.Outcome)
				assert.Equal(t, *v.Created, s.CreatedAt().UnixMilli())
			case "absent":
				want, known := kitTimeReasons[v.Rule]
				require.True(t, known, "unknown rule %q", v.Rule)
				assert.Equal(t, want.check, reason, "checkTimes")
				assert.True(t, s.IsNew(), "the session opens")
				assert.Equal(t, want.outcome, ev.Outcome)
				assert.Equal(t, want.reason, ev.Reason)
			}
		})
	}
}

// kitLayerOf says which layer of the kit refused a load, from the
// observer's event and the debug log's reason, and the rule where Go
// names it as the kit does (the envelope's failure classes, the time
// rules); "" otherwise.
func kitLayerOf(ev Event, reason string) (layer, rule string) {
	switch {
	case ev.Outcome == "new":
		return "chunks", "missing-first" // no chunk 0 at all
	case ev.Outcome == "expired":
		return "times", ev.Reason
	case ev.Outcome != "rejected":
		return "", ""
	}
	switch ev.Reason {
	case "cookie":
		switch reason {
		case "encoding", "too-large":
			return "envelope", reason
		case "over budget":
			return "chunks", "over-budget"
		}
		return "chunks", ""
	case "format", "key", "auth":
		return "envelope", reason
	case "payload":
		return "payload", ""
	case "time":
		for rule, r := range kitTimeReasons {
			if r.check == reason {
				return "times", rule
			}
		}
		return "times", ""
	}
	return "", ""
}

// TestSessionVectors runs every vector of testdata/vectors/sessions/: a
// manager configured as the vector says loads its Cookie header. A
// positive vector's session must open with its ID, creation time,
// subject, values (their encoded bytes, in storage order), flashes and
// "remember me" flag, opened by its key at its issued-at; a negative one
// must give a new session, refused by the vector's layer (and rule, where
// Go tells the rules apart).
func TestSessionVectors(t *testing.T) {
	for _, f := range fuzzseed.Vectors(t, "sessions") {
		var v struct {
			Keys       []kitKey `json:"keys"`
			CookieName string   `json:"cookie_name"`
			Purpose    *string  `json:"purpose"`
			Config     *struct {
				Idle      *int64 `json:"idle_ms"`
				Absolute  *int64 `json:"absolute_ms"`
				Skew      *int64 `json:"skew_ms"`
				MaxChunks *int   `json:"max_chunks"`
				MaxBytes  *int   `json:"max_bytes"`
			} `json:"config"`
			Now          *int64   `json:"now_ms"`
			CookieHeader []string `json:"cookie_header"`
			Layer        string   `json:"layer"`
			Rule         string   `json:"rule"`
			Session      *struct {
				ID      string  `json:"id_hex"`
				Created *int64  `json:"created_ms"`
				Subject *string `json:"subject"`
				Values  []struct {
					Key  string `json:"key"`
					CBOR string `json:"cbor_hex"`
				} `json:"values"`
				Flashes  []string `json:"flashes"`
				Flags    *uint64  `json:"flags"`
				OpenedBy string   `json:"opened_by"`
				Issued   *int64   `json:"issued_at_s"`
			} `json:"session"`
		}
		f.Decode(t, &v)
		t.Run(f.Name, func(t *testing.T) {
			c := v.Config
			require.NotNil(t, c, "config")
			require.True(t, c.Idle != nil && c.Absolute != nil && c.Skew != nil && c.MaxChunks != nil && c.MaxBytes != nil,
				"config needs idle_ms, absolute_ms, skew_ms, max_chunks and max_bytes")
			require.NotNil(t, v.Now, "now_ms")
			require.NotEmpty(t, v.CookieName, "cookie_name")
			require.NotNil(t, v.Purpose, "purpose")
			require.NotEmpty(t, *v.Purpose, "purpose: 1 to 255 bytes")
			var rec kitRecorder
			m := kitManager(t, kitKeyring(t, v.Keys), kitReader{
				name: v.CookieName, purpose: *v.Purpose,
				idle: *c.Idle, absolute: *c.Absolute, skew: *c.Skew,
				maxChunks: *c.MaxChunks, maxBytes: *c.MaxBytes, now: *v.Now,
				logger: slog.New(&rec), observer: rec.observe,
			})
			s, err := m.Load(context.Background(), v.CookieHeader...)
			require.NoError(t, err)
			ev, reason := rec.last(t)
			switch f.Expect {
			case "ok":
				require.Empty(t, v.Layer+v.Rule, "a positive vector breaks no rule")
				want := v.Session
				require.NotNil(t, want, "a positive vector describes its session")
				require.True(t, want.Created != nil && want.Subject != nil && want.Flags != nil && want.Issued != nil && want.Values != nil && want.Flashes != nil,
					"session needs created_ms, subject, values, flashes, flags and issued_at_s")
				require.False(t, s.IsNew(), "the session does not open (%s: %s)", ev.Reason, reason)
				assert.Equal(t, "opened", ev.Outcome)
				assert.Equal(t, want.ID, s.ID(), "id_hex")
				assert.Equal(t, *want.Created, s.CreatedAt().UnixMilli(), "created_ms")
				assert.Equal(t, *want.Subject, s.Subject(), "subject")
				assert.Equal(t, *want.Flags&payload.FlagBrowserSession == 0, s.Persistent(), "flags")
				assert.Equal(t, *want.Issued, s.issuedAt, "issued_at_s")
				assert.Equal(t, want.OpenedBy, ev.KeyID, "opened_by")
				assert.Equal(t, want.OpenedBy != v.Keys[0].KID, ev.OldKey, "opened by a key other than the primary")
				var keys []string
				for _, val := range want.Values {
					keys = append(keys, val.Key)
				}
				assert.Equal(t, keys, s.Keys(), "the values' keys in storage order")
				for _, val := range want.Values {
					raw, ok, err := Get[cbor.RawMessage](s, val.Key)
					require.NoError(t, err, "value %q", val.Key)
					require.True(t, ok, "value %q", val.Key)
					assert.Equal(t, val.CBOR, hex.EncodeToString(raw), "value %q", val.Key)
				}
				flashes, err := s.Flashes()
				require.NoError(t, err)
				if len(want.Flashes) == 0 {
					assert.Empty(t, flashes, "flashes")
				} else {
					assert.Equal(t, want.Flashes, flashes, "flashes")
				}
			case "absent":
				require.Contains(t, []string{"chunks", "envelope", "payload", "times"}, v.Layer, "layer")
				require.NotEmpty(t, v.Rule, "rule")
				assert.True(t, s.IsNew(), "the session opens")
				layer, rule := kitLayerOf(ev, reason)
				assert.Equal(t, v.Layer, layer, "refused by another layer (%s, %s: %s)", ev.Outcome, ev.Reason, reason)
				switch {
				case v.Layer == "chunks" && rule == "":
					// Go gives the structural rules one reason.
					assert.NotContains(t, []string{"missing-first", "over-budget"}, v.Rule, "refused for another rule (%s, %s: %s)", ev.Outcome, ev.Reason, reason)
				case rule != "":
					assert.Equal(t, v.Rule, rule, "refused for another rule (%s, %s: %s)", ev.Outcome, ev.Reason, reason)
				}
			}
		})
	}
}
