package sealed

import (
	"bytes"
	"math"
	"strconv"
	"strings"
	"testing"
)

// TestStorableMatchesParse: for sessions built through the API, save's
// storable check accepts exactly the payloads the reader's parsePayload
// accepts.
func TestStorableMatchesParse(t *testing.T) {
	m := testManager(t, nil)
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
		"before 1970":    func(s *Session) { s.d.created = -1 },
		"max keys":       func(s *Session) { setMany(s, MaxItems) },
		"too many keys":  func(s *Session) { setMany(s, MaxItems+1) },
		"max flashes":    func(s *Session) { addMany(s, MaxItems) },
		"too many flash": func(s *Session) { addMany(s, MaxItems+1) },
	}
	for name, build := range cases {
		s := m.fresh(&Session{m: m}, m.now(), fromNone)
		build(s)
		pt := appendPayload(nil, &s.d)
		want := parsePayload(pt, &decoded{}) == nil
		if got := storable(&s.d); got != want {
			t.Errorf("%s: storable = %v, parsePayload accepts: %v", name, got, want)
		}
	}
	// Keys are checked by Set, which storable counts on.
	s := m.fresh(&Session{m: m}, m.now(), fromNone)
	if err := s.Set("\xa9", 1); err == nil {
		t.Error("Set accepts a key that is not valid UTF-8")
	}
}

// encodeScalar gives exactly the bytes of the general encoder.
func TestEncodeScalarMatchesEncMode(t *testing.T) {
	for _, v := range []any{"", "a", "é", strings.Repeat("x", 23), strings.Repeat("x", 24), strings.Repeat("x", 255), strings.Repeat("x", 256), strings.Repeat("x", 70000),
		0, 1, 23, 24, 255, 256, 65535, 65536, math.MaxInt, -1, -24, -25, -256, -257, math.MinInt,
		int64(0), int64(-1), int64(math.MaxInt64), int64(math.MinInt64), true, false} {
		got, ok := encodeScalar(v)
		if !ok {
			t.Fatalf("%T %v: not encoded", v, v)
		}
		want, err := encMode.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%T %v: % x, want % x", v, v, got, want)
		}
	}
	for _, v := range []any{"\xff", 1.5, uint(1), []byte("x"), nil} {
		if _, ok := encodeScalar(v); ok {
			t.Errorf("%T %v: encoded by the fast path", v, v)
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
