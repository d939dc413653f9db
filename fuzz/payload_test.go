package fuzz_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sealedgo/sealed"
	"github.com/stretchr/testify/require"
)

// payloadAbsolute is the longest absolute timeout Options accepts (400
// days, the browsers' cap on a cookie's lifetime), so that as few creation
// times as possible stop the fuzzer before the payload is used; creation
// times after the seal are still refused.
const payloadAbsolute = 400 * 24 * time.Hour

// payloadBudget lets a saved session use up to 32 full-size cookies, so that
// payloads of up to about 90 KiB can go round the save/load cycle.
var payloadBudget = sealed.Budget{MaxBytes: 1 << 20, MaxChunks: sealed.MaxChunksLimit, MaxLineBytes: sealed.MaxLineLimit}

// FuzzPayload treats the input as a decrypted session payload: it is sealed
// with the session purpose and cookie name under the test key and loaded
// with a clock equal to the seal time. Loading must never panic and must
// accept exactly the payloads the reference reader (SPEC.md "Session
// payload") accepts, with the same ID, creation time, subject, keys, raw
// values and flashes. Every value must Get as `any` without panicking.
// Inspect must agree, and its result must marshal to JSON. A loaded
// session, re-sealed unchanged (by a manager whose clock is past the
// renewal point), must carry the identical payload bytes (parse then
// encode is the identity) and load again to the same state; a second
// renewal must give the same bytes again.
func FuzzPayload(f *testing.F) {
	requireCorpus(f)
	keys := testKeys(f)
	ring := testRing(f, keys)
	opts := sealed.Options{AbsoluteTimeout: payloadAbsolute, Budget: payloadBudget}
	m := newManager(f, ring, opts)
	// Past RenewFraction (1/4) of the 24 h idle timeout, and within it.
	later := newManagerAt(f, ring, opts, fixedNow.Add(7*time.Hour))
	later2 := newManagerAt(f, ring, opts, fixedNow.Add(14*time.Hour))
	name := m.CookieName()
	ctx := context.Background()

	f.Fuzz(func(t *testing.T, payload []byte) {
		value, err := ring.Seal(name, sessionPurpose, fixedNow, payload)
		if len(payload) > sealed.MaxPayloadBytes {
			require.Error(t, err, "Seal accepts a plaintext over MaxPayloadBytes")
			return
		}
		require.NoError(t, err)
		header := name + "=" + value

		ref, wellFormed := refParsePayload(payload)
		want := wellFormed && refTimesOK(ref.created, fixedNow, fixedNow, sealed.DefaultIdleTimeout, payloadAbsolute)
		// Inspect shows any well-formed payload whose times (and
		// deadlines) JSON can print, years up to 9999, and refuses the rest.
		inspectable := wellFormed && jsonTime(time.UnixMilli(int64(ref.created)).Add(payloadAbsolute))

		in, ierr := m.Inspect(header)
		if inspectable {
			require.NoError(t, ierr, "Inspect refuses a well-formed payload")
		} else {
			require.Equal(t, sealed.ErrInvalid, ierr, "Inspect accepts a malformed or unprintable payload")
		}
		if ierr == nil {
			// What cmd/sealed prints: an Inspection always marshals.
			_, err := json.Marshal(in)
			require.NoError(t, err, "an Inspection does not marshal to JSON")
			require.NotNil(t, ref, "Inspect accepts a payload the reference rejects")
			require.Equal(t, hex.EncodeToString(ref.id[:]), in.ID)
			require.Equal(t, ref.subject, in.Subject)
			require.Equal(t, int64(ref.created), in.CreatedAt.UnixMilli())
			require.Len(t, in.Values, len(ref.keys))
			require.True(t, sameStrings(ref.flashes, in.Flashes), "Inspect flashes %q, want %q", in.Flashes, ref.flashes)
		}

		s, err := m.LoadHeader(ctx, header)
		require.NoError(t, err)
		loaded := !s.IsNew()
		require.Equal(t, want, loaded, "session loaded=%v, the reference says %v", loaded, want)
		if !loaded {
			return
		}
		require.LessOrEqual(t, len(payload), sealed.MaxPayloadBytes)
		requireSessionIs(t, s, ref)
		for i, k := range s.Keys() {
			_, ok, err := sealed.Get[any](s, k) // other decode errors are allowed
			require.True(t, ok)
			if !ref.valOK[i] {
				require.Error(t, err, "Get decodes a value the rules refuse")
			}
		}
		require.True(t, sameStrings(ref.flashes, flashes(t, s)), "flashes differ")

		// First renewal, on a fresh copy whose flashes are unread.
		header2, payload2, err := resave(t, later, keys, header)
		if err != nil {
			require.ErrorIs(t, err, sealed.ErrTooLarge)
			require.Greater(t, len(payload), 64<<10, "a payload of %d bytes does not fit 32 cookies", len(payload))
			return
		}
		require.Equal(t, payload, payload2, "load then save changed the payload bytes")
		s2, err := later.LoadHeader(ctx, header2)
		require.NoError(t, err)
		require.False(t, s2.IsNew(), "a saved session does not load")
		requireSessionIs(t, s2, ref)
		require.True(t, sameStrings(ref.flashes, flashes(t, s2)), "flashes differ after a save")

		// Second renewal: stable.
		_, payload3, err := resave(t, later2, keys, header2)
		require.NoError(t, err)
		require.Equal(t, payload2, payload3, "a second renewal changed the payload bytes")
	})
}

// resave loads the session in header with m, whose clock must be past the
// session's renewal point, saves it unchanged (so it is re-sealed), and
// returns the Cookie header a client would send next and the payload the
// new cookies carry.
func resave(t *testing.T, m *sealed.Manager, keys []sealed.Key, header string) (string, []byte, error) {
	t.Helper()
	ctx := context.Background()
	s, err := m.LoadHeader(ctx, header)
	require.NoError(t, err)
	require.False(t, s.IsNew(), "the session does not load at the renewal clock")
	lines, err := m.SaveLines(ctx, s)
	if err != nil {
		require.Empty(t, lines)
		return "", nil, err
	}
	require.NotEmpty(t, lines, "a session past its renewal point was not re-sealed")
	cookies := setCookies(t, lines)
	joined, _, ok := refJoin(cookies, m.CookieName(), sealed.MaxChunksLimit)
	require.True(t, ok, "the saved cookies do not reassemble")
	pt, _, _, ok := refOpen(keys, m.CookieName(), sessionPurpose, joined)
	require.True(t, ok, "the saved value does not open")
	pairs := make([]string, len(cookies))
	for i, c := range cookies {
		pairs[i] = c.name + "=" + c.value
	}
	return strings.Join(pairs, "; "), pt, nil
}

// setCookies checks Set-Cookie lines (each at most 4096 bytes, as SPEC.md
// requires) and returns the cookies a browser would then send: every one
// that is not expired.
func setCookies(t *testing.T, lines []string) []refCookie {
	t.Helper()
	var out []refCookie
	for _, line := range lines {
		require.LessOrEqual(t, len(line), sealed.MaxLineLimit, "Set-Cookie line over 4096 bytes")
		c, err := http.ParseSetCookie(line)
		require.NoError(t, err, "Set-Cookie line %q", line)
		if c.MaxAge < 0 {
			continue
		}
		require.Positive(t, c.MaxAge)
		out = append(out, refCookie{c.Name, c.Value})
	}
	return out
}

// jsonTime reports whether encoding/json can marshal t (RFC 3339 years
// 0 to 9999).
func jsonTime(t time.Time) bool {
	y := t.Year()
	return y >= 0 && y <= 9999
}
