package payload

import (
	"math"
	"math/big"
	"math/rand/v2"
	"os"
	"os/exec"
	"reflect"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type encNode struct {
	Name string
	Next *encNode
}

type encHolder struct{ V any }

type encLeaf struct {
	N    int
	Kids []*encLeaf
}

type encPair struct{ A, B *encLeaf }

// Fields the encoder does not write may hold anything.
type encSkipped struct {
	X       int
	Hidden  *encSkipped `cbor:"-"`
	JSONOff *encSkipped `json:"-"`
	private *encSkipped
}

// A cbor tag overrides the json one: this field is written.
type encRenamed struct {
	P *encRenamed `cbor:"p" json:"-"`
}

// The encoder calls MarshalCBOR and MarshalBinary and does not look inside.
type encSelfMarshal struct{ Loop *encSelfMarshal }

func (encSelfMarshal) MarshalCBOR() ([]byte, error) { return []byte{0xf6}, nil }

type encBinary struct{ Loop *encBinary }

func (*encBinary) MarshalBinary() ([]byte, error) { return []byte("b"), nil }

// encMode does not call MarshalText: the encoder walks the fields.
type encText struct{ Loop *encText }

func (*encText) MarshalText() ([]byte, error) { return []byte("t"), nil }

// An unexported embedded struct stands for its exported fields.
type encInner struct{ Back *encOuter }
type encOuter struct{ *encInner }

// The encoder ignores an embedded struct of a type already expanded above.
type encSelfEmbed struct {
	*encSelfEmbed
	X int
}

// encCyclicValues are values whose encoding never ends.
func encCyclicValues() map[string]any {
	n := &encNode{Name: "a"}
	n.Next = &encNode{Name: "b", Next: n}

	m := map[string]any{"a": 1}
	m["self"] = m

	deep := map[string]any{}
	deep["x"] = []any{map[string]any{"y": deep}}

	s := make([]any, 2)
	s[1] = s

	shorter := make([]any, 2)
	shorter[0] = shorter[:1]

	h := &encHolder{}
	h.V = []any{"x", h}

	direct := &encHolder{}
	direct.V = direct

	var p any
	p = &p

	o := &encOuter{encInner: &encInner{}}
	o.Back = o

	r := &encRenamed{}
	r.P = r

	tm := &encText{}
	tm.Loop = tm

	key := &encNode{}
	key.Next = key

	tag := &cbor.Tag{Number: 1}
	tag.Content = tag

	return map[string]any{
		"pointer struct":         n,
		"map[string]any":         m,
		"map through slice":      deep,
		"[]any":                  s,
		"shorter slice of it":    shorter,
		"through interface":      h,
		"interface field":        direct,
		"interface pointer":      &p,
		"embedded unexported":    o,
		"cbor tag over json tag": r,
		"TextMarshaler":          tm,
		"map key":                map[*encNode]int{key: 1},
		"cbor.Tag content":       tag,
		"value in interface":     encHolder{V: n},
	}
}

func TestEncodableRefusesCycles(t *testing.T) {
	for name, v := range encCyclicValues() {
		t.Run(name, func(t *testing.T) {
			err := checkEncodable(v)
			require.ErrorIs(t, err, errCyclic)
			assert.Contains(t, err.Error(), "cyclic")
		})
	}
}

// The refused values are the ones that would kill the process: each one
// crashes the encoder in a child process (with a small stack, so the
// overflow comes fast).
func TestEncodableRefusedValuesCrashTheEncoder(t *testing.T) {
	if name := os.Getenv("SEALED_ENCODE_CRASH"); name != "" {
		debug.SetMaxStack(1 << 20)
		_, _ = encMode.Marshal(encCyclicValues()[name])
		os.Exit(0)
	}
	if testing.Short() {
		t.Skip("starts child processes")
	}
	for _, name := range []string{"pointer struct", "map[string]any", "embedded unexported", "TextMarshaler", "map key"} {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestEncodableRefusedValuesCrashTheEncoder$")
			cmd.Env = append(os.Environ(), "SEALED_ENCODE_CRASH="+name)
			out, err := cmd.CombinedOutput()
			require.Error(t, err, "the encoder finished")
			assert.Contains(t, string(out), "stack overflow")
		})
	}
}

// Values that look cyclic but are not written as such by the encoder.
func TestEncodableFollowsTheEncoder(t *testing.T) {
	sk := &encSkipped{X: 1}
	sk.Hidden, sk.JSONOff, sk.private = sk, sk, sk

	sm := &encSelfMarshal{}
	sm.Loop = sm

	bm := &encBinary{}
	bm.Loop = bm

	se := &encSelfEmbed{X: 1}
	se.encSelfEmbed = se

	for name, v := range map[string]any{
		"skipped fields":   sk,
		"MarshalCBOR":      sm,
		"MarshalBinary":    bm,
		"self embedding":   se,
		"in a map":         map[string]any{"sm": sm, "bm": bm},
		"unexported value": encHolder{V: struct{ v any }{v: sk}},
	} {
		t.Run(name, func(t *testing.T) {
			require.NoError(t, checkEncodable(v))
			_, err := encMode.Marshal(v) // returns: nothing loops
			require.NoError(t, err)
		})
	}
}

func TestEncodableAcceptsSharedValues(t *testing.T) {
	shared := &encLeaf{N: 1, Kids: []*encLeaf{{N: 2}}}
	sharedMap := map[string]any{"k": []any{1, 2}}
	sharedSlice := []any{"x", sharedMap}
	// Diamonds as deep as a value may nest (a leaf and its Kids are two
	// levels): the bottom leaf is reached by 64 paths.
	diamond := &encLeaf{N: 0}
	for i := range (MaxDepth - 3) / 2 {
		diamond = &encLeaf{N: i, Kids: []*encLeaf{diamond, diamond}}
	}
	for name, v := range map[string]any{
		"two fields":      encPair{A: shared, B: shared},
		"two slots":       []*encLeaf{shared, shared, shared},
		"map twice":       map[string]any{"a": sharedMap, "b": sharedMap, "c": []any{sharedMap}},
		"slice twice":     []any{sharedSlice, sharedSlice},
		"same interface":  []any{&encHolder{V: shared}, &encHolder{V: shared}},
		"diamond":         diamond,
		"subslice beside": []any{sharedSlice[:1], sharedSlice},
	} {
		t.Run(name, func(t *testing.T) {
			require.NoError(t, checkEncodable(v))
			enc, err := encMode.Marshal(v)
			require.NoError(t, err)
			require.NoError(t, CheckValueErr(enc))
		})
	}
}

func TestEncodableDepth(t *testing.T) {
	list := func(n int) *encNode {
		var l *encNode
		for range n {
			l = &encNode{Next: l}
		}
		return l
	}
	maps := func(n int) any {
		var v any = 1
		for range n {
			v = map[string]any{"k": v}
		}
		return v
	}
	// Each node or map is a level; a value may nest MaxDepth-2. Both
	// checks agree at the boundary.
	for name, build := range map[string]func(int) any{
		"list": func(n int) any { return list(n) },
		"maps": maps,
	} {
		ok := build(MaxDepth - 2)
		require.NoError(t, checkEncodable(ok), name)
		enc, err := encMode.Marshal(ok)
		require.NoError(t, err)
		require.NoError(t, CheckValueErr(enc), name)

		deep := build(MaxDepth - 1)
		err = checkEncodable(deep)
		require.ErrorIs(t, err, faultDepth, name)
		assert.EqualError(t, err, "value nests arrays or maps deeper than 14 levels")
		enc, err = encMode.Marshal(deep)
		require.NoError(t, err)
		assert.ErrorIs(t, CheckValueErr(enc), faultDepth, name)
	}

	// Long enough to overflow the encoder's stack; refused at once.
	start := time.Now()
	assert.ErrorIs(t, checkEncodable(list(1_000_000)), faultDepth)
	assert.Less(t, time.Since(start), time.Second)

	// Pointers and interfaces without containers: no level, but the walk
	// stops somewhere.
	var chain any = 1
	for range maxWalkSteps {
		p := new(any)
		*p = chain
		chain = p
	}
	err := checkEncodable(chain)
	require.ErrorIs(t, err, errTooDeep)
	assert.EqualError(t, err, "value is cyclic or nests pointers and interfaces deeper than 64 levels")
	var short any = 1
	for range 8 {
		p := new(any)
		*p = short
		short = p
	}
	assert.NoError(t, checkEncodable(short))
}

type encPlain struct {
	ID    int
	Name  string
	Tags  []string
	Attrs map[string]string
	When  time.Time
	Data  []byte
	Grid  [3][3]float64
	Ptr   *int
	Inner struct{ A, B uint16 }
}

func TestEncodableOrdinaryValues(t *testing.T) {
	n := 7
	for i, v := range []any{
		nil, "x", 1, int8(-1), uint64(math.MaxUint64), 1.5, true, []byte("b"),
		[]string{"a"}, map[string]int{"a": 1}, map[string]string{"a": "b"},
		time.Now(), &n, big.NewInt(5), cbor.RawMessage{0x01},
		encPlain{ID: 1, Tags: []string{"t"}, Ptr: &n},
		[]encPlain{{}, {}},
		&encPlain{},
		map[string]any{"a": []any{1, "b", map[string]any{"c": nil}}, "t": time.Now(), "p": &encPlain{}},
		[]any{nil, []any{}, map[string]any{}},
		map[string]any(nil), []any(nil), (*encNode)(nil), &encNode{Name: "one"},
		encHolder{}, encHolder{V: encHolder{V: 1}},
		map[any]any{1: "a", "b": []any{2}},
		cbor.Tag{Number: 1, Content: []any{1}},
	} {
		assert.NoError(t, checkEncodable(v), "%d: %#v", i, v)
	}
}

func TestEncodableTypeVerdicts(t *testing.T) {
	plain := []any{
		"", 0, []byte(nil), map[string]string(nil), encPlain{}, []encPlain(nil),
		time.Time{}, [4]int{}, (*int)(nil), map[int][]string(nil), struct{ T time.Time }{},
		big.Int{}, cbor.RawMessage(nil), encSelfMarshal{}, encBinary{}, &encSelfEmbed{}, encSkipped{},
	}
	for _, v := range plain {
		typ := reflect.TypeOf(v)
		assert.False(t, mayCycle(typ), "%v", typ)
		require.NoError(t, checkEncodable(v))
		verdict, ok := encVerdicts.Load(typ)
		assert.True(t, ok, "%v: verdict cached", typ)
		assert.Equal(t, false, verdict, "%v", typ)
		_, walked := encPlans.Load(typ)
		assert.False(t, walked, "%v: the walk never looked at it", typ)
	}
	for _, v := range []any{
		encNode{}, &encNode{}, []any(nil), map[string]any(nil), encHolder{}, encText{},
		encOuter{}, encPair{}, []*encLeaf(nil), map[*encNode]int(nil), cbor.Tag{},
		struct{ E error }{},
	} {
		assert.True(t, mayCycle(reflect.TypeOf(v)), "%T", v)
	}
}

// CheckValueErr says why a value is refused.
func TestCheckValueErrReasons(t *testing.T) {
	err := CheckValueErr([]byte{0x61, 0xff}) // the text string "\xff"
	require.ErrorIs(t, err, faultUTF8)
	assert.EqualError(t, err, "value holds text that is not valid UTF-8 (store binary data as []byte)")

	err = CheckValueErr(cborHex(t, strings.Repeat("81 ", MaxDepth-1)+"01"))
	require.ErrorIs(t, err, faultDepth)
	assert.EqualError(t, err, "value nests arrays or maps deeper than 14 levels")

	items := append(appendHead(nil, 4, MaxItems+1), make([]byte, MaxItems+1)...)
	err = CheckValueErr(items)
	require.ErrorIs(t, err, faultItems)
	assert.EqualError(t, err, "value has more than 4096 items in one array or map")

	for h, want := range map[string]valueFault{
		"":                          faultMalformed,
		"01":                        faultNone,
		"01 01":                     faultTrailing,
		"9f 01 ff":                  faultIndefinite,
		"5f ff":                     faultIndefinite,
		"c1 01":                     faultTag,
		"1c":                        faultMalformed,
		"ff":                        faultMalformed,
		"f814":                      faultMalformed,
		"62 61":                     faultMalformed,
		"82 01":                     faultMalformed,
		"9a ffffffff":               faultItems,
		"9b 00000000ffffffff":       faultNotShortest,
		"1801":                      faultNotShortest,
		"7801 61":                   faultNotShortest,
		"81 a1 6161 61 ff":          faultUTF8,
		"a1 6161 82 01 c1 01":       faultTag,
		"81 a2 6161 01 6162 1a0001": faultMalformed,
	} {
		err := CheckValueErr(cborHex(t, h))
		if want == faultNone {
			assert.NoError(t, err, h)
			continue
		}
		assert.ErrorIs(t, err, want, h)
		assert.False(t, CheckValue(cborHex(t, h)), h)
	}
}

// randomValue builds a Go value of the shapes sessions hold, sometimes
// nested past the limits, sometimes with invalid UTF-8.
func randomValue(r *rand.Rand, depth int) any {
	if depth > MaxDepth+1 {
		return r.Int()
	}
	switch r.IntN(16) {
	case 0:
		return nil
	case 1:
		return r.IntN(2) == 0
	case 2:
		return r.Int64() >> r.IntN(64)
	case 3:
		return -r.Int64() >> r.IntN(64)
	case 4:
		return r.Uint64()
	case 5:
		return []float64{r.Float64(), math.Inf(1), math.NaN(), 0.5, 65504, 1e300}[r.IntN(6)]
	case 6:
		b := make([]byte, r.IntN(40))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		return b
	case 7:
		return randomText(r)
	case 8:
		return time.Unix(r.Int64N(1<<34), r.Int64N(1e9)).UTC()
	case 9, 10:
		n := r.IntN(5)
		if r.IntN(200) == 0 {
			n = MaxItems + r.IntN(2) // around the item limit
		}
		s := make([]any, n)
		for i := range s {
			s[i] = randomValue(r, depth+1)
		}
		return s
	case 11, 12:
		m := map[string]any{}
		for range r.IntN(5) {
			m[randomText(r)] = randomValue(r, depth+1)
		}
		return m
	case 13:
		m := map[int64]any{}
		for range r.IntN(4) {
			m[r.Int64()>>r.IntN(64)] = randomValue(r, depth+1)
		}
		return m
	case 14:
		return &encHolder{V: randomValue(r, depth+1)}
	default:
		return encPlain{ID: r.Int(), Name: randomText(r), Tags: []string{randomText(r)}}
	}
}

func randomText(r *rand.Rand) string {
	parts := []string{"a", "key", "é", "日本", "\U0001F600", "\x00", "\xff", "\xc3", "long text of a few words "}
	var b strings.Builder
	for range r.IntN(6) {
		b.WriteString(parts[r.IntN(len(parts))])
	}
	return b.String()
}

// On encodings of random values, and on those encodings damaged,
// CheckValueErr agrees with CheckValue. (When the faults were introduced
// the verdicts were also checked against the bool walk they replaced.) On
// the undamaged ones checkEncodable refuses only by depth, and only what
// CheckValueErr refuses by depth too.
func TestCheckValueVerdictsUnchanged(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var accepted, refused int
	for i := range 600 {
		v := randomValue(r, 1+r.IntN(MaxDepth))
		encErr := checkEncodable(v)
		enc, err := encMode.Marshal(v)
		require.NoError(t, err)
		valErr := CheckValueErr(enc)
		if encErr != nil {
			require.ErrorIs(t, encErr, faultDepth, "%d", i)
			require.ErrorIs(t, valErr, faultDepth, "%d", i)
		}
		for j, b := range damaged(r, enc) {
			ok := CheckValue(b)
			require.Equal(t, ok, CheckValueErr(b) == nil, "%d/%d: %x", i, j, b)
			if ok {
				accepted++
			} else {
				refused++
			}
		}
	}
	// Both sides well exercised.
	assert.Greater(t, accepted, 500)
	assert.Greater(t, refused, 500)
	t.Logf("%d accepted, %d refused", accepted, refused)
}

// damaged returns b and a few corrupted copies of it.
func damaged(r *rand.Rand, b []byte) [][]byte {
	out := [][]byte{b}
	if len(b) == 0 {
		return out
	}
	flip := append([]byte(nil), b...)
	flip[r.IntN(len(flip))] ^= byte(1 << r.IntN(8))
	set := append([]byte(nil), b...)
	set[r.IntN(len(set))] = byte(r.IntN(256))
	out = append(out, flip, set, b[:r.IntN(len(b))], append(append([]byte(nil), b...), byte(r.IntN(256))))
	// Wrapped in an array: one level deeper.
	return append(out, append([]byte{0x81}, b...))
}

func BenchmarkCheckEncodable(b *testing.B) {
	m := map[string]any{
		"id": 12345, "name": "Grace Hopper", "email": "grace.hopper@example.com",
		"admin": true, "score": 0.75, "roles": []any{"admin", "user"},
		"city": "Zürich", "login": int64(1700000000), "theme": "dark", "lang": "en",
	}
	plain := encPlain{ID: 1, Name: "Grace", Tags: []string{"a", "b"}, Attrs: map[string]string{"k": "v"}}
	for _, c := range []struct {
		name string
		v    any
	}{{"map10", m}, {"struct", plain}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := checkEncodable(c.v); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/marshal", func(b *testing.B) { // for scale: what Set spends anyway
			b.ReportAllocs()
			for b.Loop() {
				if _, err := encMode.Marshal(c.v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCheckValue: the value walk Get runs, on a small record and a
// long text.
func BenchmarkCheckValue(b *testing.B) {
	small, err := encMode.Marshal(map[string]any{
		"name": "Grace Hopper", "email": "grace.hopper@example.com", "id": 12345,
		"roles": []any{"admin", "user"}, "city": "Zürich", "ok": true,
	})
	require.NoError(b, err)
	text, err := encMode.Marshal(strings.Repeat("lorem ipsum é ", 600))
	require.NoError(b, err)
	for _, c := range []struct {
		name string
		v    []byte
	}{{"small", small}, {"text", text}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if !CheckValue(c.v) {
					b.Fatal("refused")
				}
			}
		})
	}
}
