package sealed

import (
	"strconv"
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
		s := &Session{m: m}
		s.reset(m.now())
		build(s)
		pt := appendPayload(nil, &s.d)
		want := parsePayload(pt, &decoded{}) == nil
		if got := storable(&s.d); got != want {
			t.Errorf("%s: storable = %v, parsePayload accepts: %v", name, got, want)
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
