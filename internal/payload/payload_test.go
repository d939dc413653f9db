package payload

import (
	"encoding/hex"
	"slices"
	"strings"
	"testing"

	"github.com/fxamacker/cbor/v2"
	"github.com/sealedgo/sealed/internal/fuzzseed"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stateOf builds a state as Set and AddFlash do: each value through
// Encode, the entries kept sorted with Find.
func stateOf(t testing.TB, values map[string]any, flashes ...string) *State {
	t.Helper()
	st := &State{ID: [16]byte{1, 2, 3}, Created: 1795392000123, Subject: "user-1"}
	for k, v := range values {
		enc, err := Encode(v)
		require.NoError(t, err, k)
		i, found := st.Find(k)
		require.False(t, found)
		st.Entries = slices.Insert(st.Entries, i, Entry{Key: []byte(k), Val: enc})
	}
	st.Flashes = append(st.Flashes, flashes...)
	return st
}

// payloadOf builds a payload with the real encoder for the values.
func payloadOf(t testing.TB, values map[string]any, flashes ...string) []byte {
	t.Helper()
	st := stateOf(t, values, flashes...)
	require.True(t, Storable(st))
	pt := Append(nil, st)
	assert.LessOrEqual(t, len(pt), Size(st), "Size bounds what Append writes")
	return pt
}

func TestPayloadRoundTripIsCanonical(t *testing.T) {
	pt := payloadOf(t, map[string]any{"b": 1, "aa": "x", "a": []int{1, 2}, "zz": map[string]int{"q": 1}}, "hi")
	var d State
	require.NoError(t, Parse(pt, &d))
	assert.Equal(t, "user-1", d.Subject)
	assert.Equal(t, []string{"hi"}, d.Flashes)
	var keys []string
	for _, e := range d.Entries {
		keys = append(keys, string(e.Key))
	}
	assert.Equal(t, []string{"a", "b", "aa", "zz"}, keys, "length-first, then bytewise")
	assert.Equal(t, pt, Append(nil, &d), "parse then encode must give the same bytes")

	// The same state built in another order gives the same bytes.
	pt2 := payloadOf(t, map[string]any{"zz": map[string]int{"q": 1}, "aa": "x", "b": 1, "a": []int{1, 2}}, "hi")
	var d2 State
	require.NoError(t, Parse(pt2, &d2))
	d2.ID, d2.Created = d.ID, d.Created
	assert.Equal(t, pt, Append(nil, &d2))
}

type rtRecord struct {
	Name  string         `cbor:"name"`
	Tags  []string       `cbor:"tags"`
	Score map[string]int `cbor:"score"`
}

// What Encode stores, Append writes and Parse reads back decodes to the
// value stored, through the scalar fast path and through the decoder, with
// every field of the state intact.
func TestEncodeAppendParseRoundTrip(t *testing.T) {
	rec := rtRecord{Name: "Ada", Tags: []string{"a", "é"}, Score: map[string]int{"x": -3}}
	values := map[string]any{
		"s": "text é", "e": "", "i": -1 << 40, "i64": int64(1) << 62, "t": true, "f": false,
		"rec": rec, "b": []byte{0, 1, 2}, "fl": 1.5, "nil": nil,
	}
	st := stateOf(t, values, "one", "two é")
	pt := Append(nil, st)
	var d State
	require.NoError(t, Parse(pt, &d))
	assert.Equal(t, st.ID, d.ID)
	assert.Equal(t, st.Created, d.Created)
	assert.Equal(t, st.Subject, d.Subject)
	assert.Equal(t, st.Flashes, d.Flashes)
	require.Len(t, d.Entries, len(values))
	for k := range values {
		i, ok := d.Find(k)
		require.True(t, ok, k)
		assert.True(t, CheckValue(d.Entries[i].Val), k)
	}
	val := func(k string) []byte {
		i, ok := d.Find(k)
		require.True(t, ok, k)
		return d.Entries[i].Val
	}
	var s string
	require.True(t, DecodeScalar(val("s"), &s))
	assert.Equal(t, "text é", s)
	require.True(t, DecodeScalar(val("e"), &s))
	assert.Equal(t, "", s)
	var n int
	require.True(t, DecodeScalar(val("i"), &n))
	assert.Equal(t, -1<<40, n)
	var n64 int64
	require.True(t, DecodeScalar(val("i64"), &n64))
	assert.Equal(t, int64(1)<<62, n64)
	var b bool
	require.True(t, DecodeScalar(val("t"), &b))
	assert.True(t, b)
	require.True(t, DecodeScalar(val("f"), &b))
	assert.False(t, b)

	gotRec, err := Decode[rtRecord](val("rec"))
	require.NoError(t, err)
	assert.Equal(t, rec, gotRec)
	gotBytes, err := Decode[[]byte](val("b"))
	require.NoError(t, err)
	assert.Equal(t, []byte{0, 1, 2}, gotBytes)
	gotFloat, err := Decode[float64](val("fl"))
	require.NoError(t, err)
	assert.Equal(t, 1.5, gotFloat)
	gotNil, err := Decode[any](val("nil"))
	require.NoError(t, err)
	assert.Nil(t, gotNil)
	// The decoder agrees with the fast path on the scalars.
	gotS, err := Decode[string](val("s"))
	require.NoError(t, err)
	assert.Equal(t, "text é", gotS)
	gotN, err := Decode[int](val("i"))
	require.NoError(t, err)
	assert.Equal(t, -1<<40, gotN)

	_, found := d.Find("absent")
	assert.False(t, found)
}

func cborHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	require.NoError(t, err)
	return b
}

// A valid payload header: array(5), 16-byte id, created 1, subject "".
const hdr = "85 50 000102030405060708090a0b0c0d0e0f 01 60"

func TestParsePayloadRejects(t *testing.T) {
	ok := cborHex(t, hdr+" a1 6161 41 01 80") // {"a": <<1>>}, no flashes
	var d State
	require.NoError(t, Parse(ok, &d))
	require.Len(t, d.Entries, 1)
	assert.Equal(t, []byte{0x01}, d.Entries[0].Val, "an entry holds the wrapped item, not the wrapper")

	cases := map[string]string{
		"empty":                  "",
		"not an array":           "a0",
		"array of 4":             "84 50 000102030405060708090a0b0c0d0e0f 01 60 a0",
		"short id":               "85 4f 000102030405060708090a0b0c0d0e 01 60 a0 80",
		"negative created":       "85 50 000102030405060708090a0b0c0d0e0f 20 60 a0 80",
		"non-shortest created":   "85 50 000102030405060708090a0b0c0d0e0f 1801 60 a0 80",
		"subject not text":       "85 50 000102030405060708090a0b0c0d0e0f 01 40 a0 80",
		"invalid utf-8 subject":  "85 50 000102030405060708090a0b0c0d0e0f 01 61ff a0 80",
		"key not text":           hdr + " a1 01 41 01 80",
		"invalid utf-8 key":      hdr + " a1 61ff 41 01 80",
		"duplicate keys":         hdr + " a2 6161 41 01 6161 41 02 80",
		"unsorted keys":          hdr + " a2 6162 41 01 6161 41 02 80",
		"longer key first":       hdr + " a2 626161 41 01 6162 41 02 80",
		"indefinite map":         hdr + " bf 6161 41 01 ff 80",
		"value not wrapped":      hdr + " a1 6161 01 80",
		"value wrapped in text":  hdr + " a1 6161 61 01 80",
		"non-shortest wrapper":   hdr + " a1 6161 5801 01 80",
		"indefinite wrapper":     hdr + " a1 6161 5f 41 01 ff 80",
		"truncated wrapper":      hdr + " a1 6161 45 01 80",
		"tag around wrapper":     hdr + " a1 6161 d818 41 01 80",
		"huge map count":         hdr + " bb 00000000ffffffff 80",
		"flash not text":         hdr + " a0 81 01",
		"invalid utf-8 flash":    hdr + " a0 81 61ff",
		"trailing bytes":         hdr + " a0 80 00",
		"missing flashes":        hdr + " a0",
		"indefinite flash array": hdr + " a0 9f ff",
		"array of 7":             "87 50 000102030405060708090a0b0c0d0e0f 01 60 a0 80 01 01",
		"flags zero":             "86 50 000102030405060708090a0b0c0d0e0f 01 60 a0 80 00",
		"flags unknown bit":      "86 50 000102030405060708090a0b0c0d0e0f 01 60 a0 80 02",
		"flags not uint":         "86 50 000102030405060708090a0b0c0d0e0f 01 60 a0 80 20",
		"flags non-shortest":     "86 50 000102030405060708090a0b0c0d0e0f 01 60 a0 80 1801",
		"flags missing":          "86 50 000102030405060708090a0b0c0d0e0f 01 60 a0 80",
	}
	for name, h := range cases {
		t.Run(name, func(t *testing.T) {
			var d State
			assert.Error(t, Parse(cborHex(t, h), &d))
		})
	}
}

// Values are opaque to the payload walk: a payload holding a malformed
// value parses, and the value is refused by every path that decodes it
// (DecodeScalar, then Decode, as Get and Remove take them) with
// errMalformedValue. Encode, which Set uses, refuses the same bytes.
// The flags item is there only when a flag is set: a session without one
// encodes as it did before flags existed, and each state has one encoding.
func TestPayloadFlags(t *testing.T) {
	d := State{ID: [16]byte{1}, Created: 5}
	plain := Append(nil, &d)
	assert.Equal(t, byte(0x85), plain[0], "no flags: the five-item payload of before")

	d.Flags = FlagBrowserSession
	flagged := Append(nil, &d)
	assert.Equal(t, byte(0x86), flagged[0])
	assert.Equal(t, byte(0x01), flagged[len(flagged)-1])
	assert.LessOrEqual(t, len(flagged), Size(&d))

	var back State
	require.NoError(t, Parse(flagged, &back))
	assert.Equal(t, uint64(FlagBrowserSession), back.Flags)
	assert.Equal(t, flagged, Append(nil, &back))

	// Parsing into a State that had flags clears them.
	require.NoError(t, Parse(plain, &back))
	assert.Zero(t, back.Flags)

	d.Flags = 2
	assert.False(t, Storable(&d), "an unknown flag is not stored")
}

func TestMalformedValueRefusedWhenRead(t *testing.T) {
	cases := fuzzseed.MalformedValues(MaxDepth)
	for name, h := range cases {
		t.Run(name, func(t *testing.T) {
			val := cborHex(t, h)
			assert.False(t, CheckValue(val))
			b := cborHex(t, hdr+" a1 6161")
			b = appendHead(b, 2, uint64(len(val)))
			b = append(append(b, val...), 0x80)
			var d State
			require.NoError(t, Parse(b, &d), "the walk does not look inside values")
			i, ok := d.Find("a")
			require.True(t, ok)
			stored := d.Entries[i].Val
			assert.Equal(t, val, stored)

			var s string
			var n int
			var n64 int64
			var bl bool
			assert.False(t, DecodeScalar(stored, &s))
			assert.False(t, DecodeScalar(stored, &n))
			assert.False(t, DecodeScalar(stored, &n64))
			assert.False(t, DecodeScalar(stored, &bl))
			_, err := Decode[any](stored)
			assert.ErrorIs(t, err, errMalformedValue)
			_, err = Decode[string](stored)
			assert.ErrorIs(t, err, errMalformedValue)
			_, err = Decode[int](stored)
			assert.ErrorIs(t, err, errMalformedValue)
			_, err = Decode[bool](stored)
			assert.ErrorIs(t, err, errMalformedValue)
			if len(val) > 0 { // an empty RawMessage encodes as null
				_, err := Encode(cbor.RawMessage(val))
				assert.Error(t, err, "Set stores only what Get can read")
			}
		})
	}
}

func TestValueDepthAndSizeLimits(t *testing.T) {
	nest := func(n int) string { return strings.Repeat("81 ", n) + "01" }
	// A value sits at level 3 (payload array 1, values map 2), so it may
	// be MaxDepth-2 nested arrays: the innermost at level MaxDepth, holding
	// a scalar, which is not a level. One more array is level MaxDepth+1.
	assert.True(t, CheckValue(cborHex(t, nest(MaxDepth-2))))
	assert.False(t, CheckValue(cborHex(t, nest(MaxDepth-1))))
	empty := strings.Repeat("81 ", MaxDepth-2) + "80" // innermost array empty, at level MaxDepth+1
	assert.False(t, CheckValue(cborHex(t, empty)), "an empty container is a level too")

	big := make([]byte, MaxBytes+1)
	assert.Error(t, Parse(big, &State{}))

	items := func(n int) []byte {
		b := appendHead(nil, 4, uint64(n))
		return append(b, make([]byte, n)...)
	}
	assert.True(t, CheckValue(items(MaxItems)))
	assert.False(t, CheckValue(items(MaxItems+1)))
	pairs := appendHead(nil, 5, MaxItems+1)
	assert.False(t, CheckValue(append(pairs, make([]byte, 2*(MaxItems+1))...)))
}

// The strict DecMode used by Get agrees with the walker on what is refused.
func TestDecModeStrict(t *testing.T) {
	var v any
	assert.Error(t, decMode.Unmarshal(cborHex(t, "a2 6161 01 6161 02"), &v), "duplicate map keys")
	assert.Error(t, decMode.Unmarshal(cborHex(t, "c1 01"), &v), "tags")
	assert.Error(t, decMode.Unmarshal(cborHex(t, "9f 01 ff"), &v), "indefinite length")
	enc, err := encMode.Marshal(map[string]int{"b": 1, "a": 2, "aa": 3})
	require.NoError(t, err)
	assert.Equal(t, cborHex(t, "a3 6161 02 6162 01 626161 03"), enc, "core deterministic encoding")
}

func TestAppendHeadShortest(t *testing.T) {
	for _, c := range []struct {
		n    uint64
		want string
	}{{0, "00"}, {23, "17"}, {24, "1818"}, {255, "18ff"}, {256, "190100"}, {65535, "19ffff"}, {65536, "1a00010000"}, {1 << 32, "1b0000000100000000"}} {
		got := appendHead(nil, 0, c.n)
		assert.Equal(t, c.want, hex.EncodeToString(got), "n=%d", c.n)
		w := walker{b: got}
		_, _, arg, ok := w.head()
		assert.True(t, ok)
		assert.Equal(t, c.n, arg)
	}
}
