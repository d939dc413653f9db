package sealed

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/fxamacker/cbor/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// payloadOf builds a payload with the real encoder for the values.
func payloadOf(t testing.TB, values map[string]any, flashes ...string) []byte {
	t.Helper()
	m := testManager(t, nil)
	s := m.fresh(&Session{m: m}, m.now(), fromNone)
	s.d.subject = "user-1"
	for k, v := range values {
		require.NoError(t, s.Set(k, v))
	}
	for _, f := range flashes {
		s.AddFlash(f)
	}
	return appendPayload(nil, &s.d)
}

func TestPayloadRoundTripIsCanonical(t *testing.T) {
	pt := payloadOf(t, map[string]any{"b": 1, "aa": "x", "a": []int{1, 2}, "zz": map[string]int{"q": 1}}, "hi")
	var d decoded
	require.NoError(t, parsePayload(pt, &d))
	assert.Equal(t, "user-1", d.subject)
	assert.Equal(t, []string{"hi"}, d.flashes)
	var keys []string
	for _, e := range d.entries {
		keys = append(keys, string(e.key))
	}
	assert.Equal(t, []string{"a", "b", "aa", "zz"}, keys, "length-first, then bytewise")
	assert.Equal(t, pt, appendPayload(nil, &d), "parse then encode must give the same bytes")

	// The same state built in another order gives the same bytes.
	pt2 := payloadOf(t, map[string]any{"zz": map[string]int{"q": 1}, "aa": "x", "b": 1, "a": []int{1, 2}}, "hi")
	var d2 decoded
	require.NoError(t, parsePayload(pt2, &d2))
	d2.id, d2.created = d.id, d.created
	assert.Equal(t, pt, appendPayload(nil, &d2))
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
	var d decoded
	require.NoError(t, parsePayload(ok, &d))
	require.Len(t, d.entries, 1)
	assert.Equal(t, []byte{0x01}, d.entries[0].val, "an entry holds the wrapped item, not the wrapper")

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
	}
	for name, h := range cases {
		t.Run(name, func(t *testing.T) {
			var d decoded
			assert.Error(t, parsePayload(cborHex(t, h), &d))
		})
	}
}

// Values are opaque to the payload walk: a payload holding a malformed
// value opens, and the value is refused when it is read, by every path
// that decodes it, with errMalformedValue. Set refuses the same bytes.
func TestMalformedValueRefusedWhenRead(t *testing.T) {
	m := testManager(t, nil)
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
		"depth":                  strings.Repeat("81 ", MaxDepth-1) + "01",
	}
	for name, h := range cases {
		t.Run(name, func(t *testing.T) {
			val := cborHex(t, h)
			assert.False(t, checkValue(val))
			b := cborHex(t, hdr+" a1 6161")
			b = appendHead(b, 2, uint64(len(val)))
			b = append(append(b, val...), 0x80)
			s := &Session{m: m}
			require.NoError(t, parsePayload(b, &s.d), "the walk does not look inside values")
			_, ok, err := Get[any](s, "a")
			assert.True(t, ok)
			assert.ErrorIs(t, err, errMalformedValue)
			_, _, err = Get[string](s, "a")
			assert.ErrorIs(t, err, errMalformedValue)
			_, _, err = Get[int](s, "a")
			assert.ErrorIs(t, err, errMalformedValue)
			_, _, err = Get[bool](s, "a")
			assert.ErrorIs(t, err, errMalformedValue)
			_, ok, err = Remove[any](s, "a")
			assert.True(t, ok)
			assert.ErrorIs(t, err, errMalformedValue)
			if len(val) > 0 { // an empty RawMessage encodes as null
				assert.Error(t, s.Set("b", cbor.RawMessage(val)), "Set stores only what Get can read")
			}
		})
	}
}

func TestValueDepthAndSizeLimits(t *testing.T) {
	nest := func(n int) string { return strings.Repeat("81 ", n) + "01" }
	// A value sits at level 3 (payload array 1, values map 2), so it may
	// be MaxDepth-2 nested arrays: the innermost at level MaxDepth, holding
	// a scalar, which is not a level. One more array is level MaxDepth+1.
	assert.True(t, checkValue(cborHex(t, nest(MaxDepth-2))))
	assert.False(t, checkValue(cborHex(t, nest(MaxDepth-1))))
	empty := strings.Repeat("81 ", MaxDepth-2) + "80" // innermost array empty, at level MaxDepth+1
	assert.False(t, checkValue(cborHex(t, empty)), "an empty container is a level too")

	big := make([]byte, MaxPayloadBytes+1)
	assert.Error(t, parsePayload(big, &decoded{}))

	items := func(n int) []byte {
		b := appendHead(nil, 4, uint64(n))
		return append(b, make([]byte, n)...)
	}
	assert.True(t, checkValue(items(MaxItems)))
	assert.False(t, checkValue(items(MaxItems+1)))
	pairs := appendHead(nil, 5, MaxItems+1)
	assert.False(t, checkValue(append(pairs, make([]byte, 2*(MaxItems+1))...)))
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
