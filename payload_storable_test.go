package sealed

import (
	"bytes"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/sealedgo/sealed/internal/payload"
)

// TestStorableMatchesParse: for sessions built through the API, save's
// storable check accepts exactly the payloads the reader's payload.Parse
// accepts.
func TestStorableMatchesParse(t *testing.T) {
	m := NewTestManager(t, nil, nil)
	cases := map[string]func(s *Session){
		"empty": func(s *Session) {},
		"values": func(s *Session) {
			s.Set("a", 1)
			s.Set("list", []string{"x", "é"})
			s.AddFlash("hi")
			s.SetSubject("ü")
		},
		"bad key":        func(s *Session) { s.Set("\xa9", 1) },
		"bad subject":    func(s *Session) { s.SetSubject("a\xffb") },
		"bad flash":      func(s *Session) { s.AddFlash("ok"); s.AddFlash("\xc3") },
		"before 1970":    func(s *Session) { s.d.Created = -1 },
		"max keys":       func(s *Session) { setMany(s, payload.MaxItems) },
		"too many keys":  func(s *Session) { setMany(s, payload.MaxItems+1) },
		"max flashes":    func(s *Session) { addMany(s, payload.MaxItems) },
		"too many flash": func(s *Session) { addMany(s, payload.MaxItems+1) },
	}
	for name, build := range cases {
		s := m.fresh(&Session{m: m}, m.now(), fromNone)
		build(s)
		pt := payload.Append(nil, &s.d)
		want := payload.Parse(pt, &payload.State{}) == nil
		if got := payload.Storable(&s.d); got != want {
			t.Errorf("%s: storable = %v, payload.Parse accepts: %v", name, got, want)
		}
	}
	// Keys are checked by Set, which storable counts on.
	s := m.fresh(&Session{m: m}, m.now(), fromNone)
	if err := s.Set("\xa9", 1); err == nil {
		t.Error("Set accepts a key that is not valid UTF-8")
	}
}

// Set's scalar fast path gives exactly the bytes of the general encoder.
// A named type has the same CBOR encoding as its underlying type but is
// not one of the types the fast path knows, so it takes the general path.
func TestEncodeScalarMatchesEncMode(t *testing.T) {
	type (
		str   string
		num   int
		num64 int64
		flag  bool
	)
	general := func(v any) any {
		switch v := v.(type) {
		case string:
			return str(v)
		case int:
			return num(v)
		case int64:
			return num64(v)
		case bool:
			return flag(v)
		}
		panic("not a scalar")
	}
	for _, v := range []any{"", "a", "é", strings.Repeat("x", 23), strings.Repeat("x", 24), strings.Repeat("x", 255), strings.Repeat("x", 256), strings.Repeat("x", 70000),
		0, 1, 23, 24, 255, 256, 65535, 65536, math.MaxInt, -1, -24, -25, -256, -257, math.MinInt,
		int64(0), int64(-1), int64(math.MaxInt64), int64(math.MinInt64), true, false} {
		got, err := payload.Encode(v)
		if err != nil {
			t.Fatalf("%T %v: %v", v, v, err)
		}
		want, err := payload.Encode(general(v))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%T %v: % x, want % x", v, v, got, want)
		}
	}
	// A string that is not UTF-8 is refused, not encoded by the fast path.
	if _, err := payload.Encode("\xff"); err == nil {
		t.Error(`Encode("\xff") succeeded`)
	}
	// Other types keep their deterministic encodings.
	for _, c := range []struct {
		v    any
		want []byte
	}{
		{1.5, []byte{0xf9, 0x3e, 0x00}},
		{uint(1), []byte{0x01}},
		{[]byte("x"), []byte{0x41, 'x'}},
		{nil, []byte{0xf6}},
	} {
		got, err := payload.Encode(c.v)
		if err != nil || !bytes.Equal(got, c.want) {
			t.Errorf("%T %v: % x, %v; want % x", c.v, c.v, got, err, c.want)
		}
	}
}

func setMany(s *Session, n int) {
	for i := range n {
		s.Set("k"+strconv.Itoa(i), i)
	}
}

func addMany(s *Session, n int) {
	for range n {
		s.AddFlash("f")
	}
}
