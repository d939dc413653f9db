package inspect

// The fuzz target of inspection. Its seed corpus is in
// testdata/fuzz/FuzzInspect/, written by fuzz/gencorpus.go; run it with
// fuzz/run.sh. Identifiers start with fz so as not to collide with the
// package's other test files.

import (
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sealedgo/sealed/internal/cookie"
	"github.com/sealedgo/sealed/internal/envelope"
	"github.com/sealedgo/sealed/internal/fuzzseed"
	"github.com/sealedgo/sealed/internal/payload"
	"github.com/stretchr/testify/require"
)

// FuzzInspect treats the input as a decrypted session payload: it is
// sealed under the primary key for the default cookie name and purpose,
// written as chunk cookies, and inspected as cmd/sealed does, with the
// longest timeouts a Manager allows. Inspect must never panic; it must
// refuse with the bare ErrInvalid exactly the payloads Parse refuses, those
// over the format's size, and those whose deadlines JSON cannot print
// (years past 9999). What it shows must be what the payload holds, with
// the deadlines, key and chunk count it was sealed with, every value the
// rules refuse shown as its bytes; and it must marshal to JSON.
func FuzzInspect(f *testing.F) {
	fuzzseed.RequireCorpus(f)
	ring, err := envelope.NewRing(fuzzseed.GoldenKeys(f))
	require.NoError(f, err)
	bind, err := envelope.Bind("__Host-session", "session")
	require.NoError(f, err)
	jar, err := cookie.New(cookie.Config{
		Name: "__Host-session", Path: "/", Secure: true, SameSite: http.SameSiteLaxMode,
		Budget: cookie.Budget{MaxBytes: 1 << 20, MaxChunks: cookie.MaxChunks, MaxLineBytes: cookie.MaxLine},
		MaxAge: 400 * 24 * 3600, MaxDecoded: envelope.MaxSize,
	})
	require.NoError(f, err)
	issued := time.Unix(1795392000, 0).UTC()
	c := Config{Ring: ring, Jar: jar, Bind: bind, Idle: 24 * time.Hour, Absolute: 400 * 24 * time.Hour, Now: issued.Add(time.Hour)}

	f.Fuzz(func(t *testing.T, pt []byte) {
		room := bind.Room()
		buf := make([]byte, room+len(pt)+envelope.TagSize)
		copy(buf[room:], pt)
		env := bind.Seal(buf, ring[0], uint64(issued.Unix()), len(pt))
		lines, _, tl := jar.Write(env, 86400, 0)
		if tl != nil {
			require.Greater(t, len(pt), 64<<10, "a payload of %d bytes does not fit 32 cookies", len(pt))
			return
		}
		pairs := make([]string, len(lines))
		for i, l := range lines {
			pairs[i], _, _ = strings.Cut(l, ";")
		}
		header := strings.Join(pairs, "; ")

		var st payload.State
		parsed := payload.Parse(pt, &st) == nil
		created := time.UnixMilli(st.Created).UTC()
		want := len(pt) <= envelope.MaxPlaintext && parsed && created.Add(c.Absolute).Year() <= 9999

		in, err := Inspect(c, header)
		if !want {
			if err != ErrInvalid { // the bare sentinel, never a wrapper
				t.Fatalf("Inspect returned %#v, want exactly ErrInvalid", err)
			}
			require.Nil(t, in)
			return
		}
		require.NoError(t, err, "Inspect refuses a well-formed, printable payload")
		_, err = json.Marshal(in)
		require.NoError(t, err, "an Inspection does not marshal to JSON")

		require.Equal(t, hex.EncodeToString(st.ID[:]), in.ID)
		require.Equal(t, st.Subject, in.Subject)
		require.Equal(t, created, in.CreatedAt)
		require.Equal(t, issued, in.IssuedAt)
		require.Equal(t, issued.Add(c.Idle), in.IdleDeadline)
		require.Equal(t, created.Add(c.Absolute), in.AbsoluteDeadline)
		require.Equal(t, c.Now.After(in.IdleDeadline) || c.Now.After(in.AbsoluteDeadline), in.Expired)
		require.Equal(t, ring[0].ID(), in.KeyID)
		require.True(t, in.PrimaryKey)
		require.Equal(t, len(lines), in.Chunks)
		require.Len(t, in.Values, len(st.Entries))
		for _, e := range st.Entries {
			v, ok := in.Values[string(e.Key)]
			require.True(t, ok, "key %q not shown", e.Key)
			if !payload.CheckValue(e.Val) {
				require.Equal(t, "malformed value h'"+hex.EncodeToString(e.Val)+"'", v)
			}
		}
		require.Equal(t, st.Flashes, in.Flashes)
	})
}
