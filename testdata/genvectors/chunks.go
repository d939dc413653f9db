package main

import (
	"fmt"
	"strings"
)

// chunkVector is a file of chunks/.
type chunkVector struct {
	Name         string   `json:"name"`
	Comment      string   `json:"comment"`
	CookieName   string   `json:"cookie_name"`
	MaxChunks    int      `json:"max_chunks"`
	MaxBytes     int      `json:"max_bytes"`
	CookieHeader []string `json:"cookie_header"`
	Expect       string   `json:"expect"`
	Rule         string   `json:"rule,omitempty"`
	Sealed       string   `json:"sealed,omitempty"`
}

// chunkSealed is the sealed value the chunk vectors split: a real session
// (it opens under the kit's ring as __Host-session, purpose session), of a
// length that is not a multiple of 4, so that its last chunk is partial.
func chunkSealed() string {
	for n := 200; ; n++ {
		s := state{
			id: derived("chunks/id", 16), created: payloadCreated, subject: "adam",
			values: []pvalue{{key: "note", item: cText(strings.Repeat("chunked ", n/8+1)[:n])}},
		}
		text := b64.EncodeToString(seal(k1, 1, envName, envPurp, envIAT, derived("chunks/nonce", 24), s.encode()).env)
		if len(text)%4 != 0 && len(text) > 400 {
			return text
		}
	}
}

// cut splits s after each of the given lengths; the rest is the last chunk.
func cut(s string, lens ...int) []string {
	var out []string
	for _, n := range lens {
		out = append(out, s[:n])
		s = s[n:]
	}
	return append(out, s)
}

// even splits s into n chunks of equal length (a multiple of 4), the last
// taking the rest.
func even(s string, n int) []string {
	size := len(s) / n / 4 * 4
	if size == 0 || len(s)-size*(n-1) <= 0 {
		panic("value too short for the split")
	}
	lens := make([]int, n-1)
	for i := range lens {
		lens[i] = size
	}
	return cut(s, lens...)
}

// pairs is the name=value pairs of a value's chunks: NAME=n.c0, NAME.1=c1,
// ... (NAME=c0 for one chunk), the count written as given.
func pairs(name, count string, chunks []string) []string {
	if len(chunks) == 1 && count == "" {
		return []string{name + "=" + chunks[0]}
	}
	if count == "" {
		count = fmt.Sprint(len(chunks))
	}
	out := []string{name + "=" + count + "." + chunks[0]}
	for i, c := range chunks[1:] {
		out = append(out, fmt.Sprintf("%s.%d=%s", name, i+1, c))
	}
	return out
}

// line is one Cookie header value.
func line(ps ...string) string { return strings.Join(ps, "; ") }

func without(ps []string, i int) []string {
	return append(append([]string{}, ps[:i]...), ps[i+1:]...)
}

func chunkVectors() []any {
	const name = "__Host-session"
	s := chunkSealed()
	var vs []chunkVector
	ok := func(n, comment string, maxChunks, maxBytes int, header []string) {
		vs = append(vs, chunkVector{Name: n, Comment: comment, CookieName: name, MaxChunks: maxChunks, MaxBytes: maxBytes, CookieHeader: header, Expect: "ok", Sealed: s})
	}
	absent := func(n, comment, rule string, maxChunks, maxBytes int, header []string) {
		vs = append(vs, chunkVector{Name: n, Comment: comment, CookieName: name, MaxChunks: maxChunks, MaxBytes: maxBytes, CookieHeader: header, Expect: "absent", Rule: rule})
	}
	two := pairs(name, "", cut(s, 200))
	three := pairs(name, "", cut(s, 132, 132))

	// Valid chunk sets.
	ok("ok-one-chunk", "one cookie: its value is the sealed value", 8, 0, []string{line(pairs(name, "", []string{s})...)})
	ok("ok-two-chunks", "NAME=2.<c0>; NAME.1=<c1>, the first chunk a multiple of 4, the last any length", 8, 0, []string{line(two...)})
	ok("ok-three-chunks", "three chunks in one header", 8, 0, []string{line(three...)})
	ok("ok-chunks-out-of-order", "three chunks in reverse order over three Cookie header values, other cookies between them", 8, 0,
		[]string{three[2], line("theme=dark", three[1]), line(three[0], "lang=en")})
	ok("ok-stale-chunks-ignored", "count 2, and stale chunks NAME.2 (empty) and NAME.3 (not a multiple of 4) from a longer value: chunks from n on are ignored", 8, 0,
		[]string{line(append(append([]string{}, two...), name+".2=", name+".3=AAAAA")...)})
	ok("ok-other-cookies", "the session cookie among cookies whose names only look alike (case differs, suffix without a dot, prefix) and a pair without '='", 8, 0,
		[]string{line("theme=dark", "__host-session=AAAA", "__Host-session2=AAAA", "x__Host-session=AAAA", "flag", pairs(name, "", []string{s})[0], "lang=en")})
	ok("ok-leading-zero-name-ignored", "NAME.01 twice and NAME.0: not session cookie names (indexes have no leading zeros), so neither a chunk nor a duplicate", 8, 0,
		[]string{line(append(append([]string{}, two...), name+".01=AAAA", name+".01=BBBB", name+".0=CCCC")...)})
	ok("ok-name-32-ignored", "NAME.32 twice: index 32 is beyond the format's 32 chunks, not a session cookie name, even with max_chunks 32", 32, 0,
		[]string{line(append(append([]string{}, two...), name+".32=AAAA", name+".32=BBBB")...)})
	ok("ok-other-suffixes-ignored", "NAME., NAME.x, NAME.-1, NAME.1a, NAME.+1 and NAME.001, each twice: not session cookie names", 8, 0,
		func() []string {
			ps := append([]string{}, two...)
			for _, suf := range []string{".", ".x", ".-1", ".1a", ".+1", ".001"} {
				ps = append(ps, name+suf+"=AAAA", name+suf+"=BBBB")
			}
			return []string{line(ps...)}
		}())
	ok("ok-eight-chunks-max-8", "8 chunks, the default maximum every reader must accept", 8, 0, []string{line(pairs(name, "", even(s, 8))...)})
	ok("ok-32-chunks-max-32", "32 chunks, the format's maximum, with a reader configured for 32", 32, 0, []string{line(pairs(name, "", even(s, 32))...)})
	ok("ok-at-budget", "one chunk whose value is exactly max_bytes long", 8, len(s), []string{line(pairs(name, "", []string{s})...)})
	ok("ok-under-budget-three-chunks", "three chunks well within max_bytes", 8, 2*len(s), []string{line(three...)})

	// Absent.
	absent("absent-missing-first", "NAME.1 and NAME.2 without NAME", "missing-first", 8, 0, []string{line(three[1:]...)})
	absent("absent-no-session-cookie", "only other cookies", "missing-first", 8, 0, []string{line("theme=dark", "lang=en")})
	absent("absent-no-cookie-header", "no Cookie header at all", "missing-first", 8, 0, []string{})
	absent("absent-name-0-not-first", "the first chunk sent as NAME.0, which is not a session cookie name", "missing-first", 8, 0,
		[]string{line(append([]string{strings.Replace(three[0], name+"=", name+".0=", 1)}, three[1:]...)...)})
	absent("absent-duplicate-first", "NAME twice with the same value", "duplicate", 8, 0, []string{line(name+"="+s, name+"="+s)})
	absent("absent-duplicate-first-two-headers", "NAME in two Cookie header values, as from two Path or Domain scopes (cookie tossing)", "duplicate", 8, 0,
		[]string{name + "=" + s, line("theme=dark", name+"=AAAA")})
	absent("absent-duplicate-chunk", "NAME.1 twice", "duplicate", 8, 0, []string{line(append(append([]string{}, three...), three[1])...)})
	absent("absent-duplicate-beyond-count", "count 2, and NAME.5 twice: a duplicate of a session cookie name, even beyond the count", "duplicate", 8, 0,
		[]string{line(append(append([]string{}, two...), name+".5=AAAA", name+".5=AAAA")...)})
	absent("absent-duplicate-31", "count 2, and NAME.31 twice: a session cookie name whatever max_chunks is", "duplicate", 8, 0,
		[]string{line(append(append([]string{}, two...), name+".31=AAAA", name+".31=BBBB")...)})
	for _, c := range []struct{ n, count, why string }{
		{"leading-zero", "02", "a leading zero"},
		{"plus-sign", "+2", "a sign"},
		{"minus-sign", "-2", "a sign"},
		{"one", "1", "below 2"},
		{"zero", "0", "below 2"},
		{"empty", "", "no digits"},
		{"letter", "a", "not a number"},
		{"trailing-letter", "2a", "not a number"},
		{"overflow", "99999999999999999999", "far beyond any count"},
	} {
		ps := pairs(name, "", cut(s, 200))
		ps[0] = name + "=" + c.count + "." + s[:200]
		absent("absent-count-"+c.n, fmt.Sprintf("count %q: %s", c.count+".", c.why), "count", 8, 0, []string{line(ps...)})
	}
	absent("absent-count-9-max-8", "9 chunks, all present, with a reader configured for 8", "count", 8, 0, []string{line(pairs(name, "", even(s, 9))...)})
	absent("absent-count-12-max-8", "12 chunks, all present, with the default maximum of 8: a writer must not exceed 8 unless every reader is configured for more", "count", 8, 0,
		[]string{line(pairs(name, "", even(s, 12))...)})
	absent("absent-count-33-max-32", "count 33, above the format's 32 (NAME.32 is not even a session cookie name)", "count", 32, 0,
		[]string{line(pairs(name, "", even(s, 33))...)})
	absent("absent-missing-middle", "count 3 without NAME.1", "missing-chunk", 8, 0, []string{line(without(three, 1)...)})
	absent("absent-missing-last", "count 3 without NAME.2", "missing-chunk", 8, 0, []string{line(without(three, 2)...)})
	absent("absent-partial-first", "count 2, the first chunk 201 characters (not a multiple of 4)", "partial", 8, 0, []string{line(pairs(name, "", cut(s, 201))...)})
	absent("absent-partial-middle", "count 3, the middle chunk 6 characters", "partial", 8, 0, []string{line(pairs(name, "", cut(s, 132, 6))...)})
	absent("absent-empty-first", "count 2, nothing after the count prefix, the whole value in NAME.1", "empty-chunk", 8, 0,
		[]string{line(name+"=2.", name+".1="+s)})
	absent("absent-empty-middle", "count 3, NAME.1 empty", "empty-chunk", 8, 0, []string{line(pairs(name, "", cut(s, 132, 0))...)})
	whole := s[:len(s)/4*4] // so that the chunks before the empty one are whole
	absent("absent-empty-last", "count 3, NAME.2 empty (the chunks before it whole)", "empty-chunk", 8, 0, []string{line(pairs(name, "", cut(whole, 132, len(whole)-132))...)})
	absent("absent-empty-single", "NAME with an empty value (one chunk, chunk 0 empty)", "empty-chunk", 8, 0, []string{name + "="})
	absent("absent-over-budget-one-chunk", "one chunk one character longer than max_bytes", "over-budget", 8, len(s)-1, []string{line(pairs(name, "", []string{s})...)})
	absent("absent-over-budget-three-chunks", "three chunks together far longer than max_bytes", "over-budget", 8, 256, []string{line(three...)})

	// Added after the vectors above, to keep their numbers: how a count is
	// read, and how a Cookie header is split into pairs.
	okSealed := func(n, comment, sealed string, header []string) {
		vs = append(vs, chunkVector{Name: n, Comment: comment, CookieName: name, MaxChunks: 8, MaxBytes: 0, CookieHeader: header, Expect: "ok", Sealed: sealed})
	}
	dotted := s[:3] + "." + s[4:8] // 8 characters, a multiple of 4, holding a '.'
	okSealed("ok-count-ends-at-first-dot", "NAME=2.<3 characters>.<4 characters>: the count ends at the first '.', so chunk 0 holds a '.' (this layer does not decode; the '.' fails the envelope's encoding later)",
		dotted+s[200:], []string{line(name+"=2."+dotted, name+".1="+s[200:])})
	for _, c := range []struct{ n, digit, why string }{
		{"arabic-indic-digit", "\u0662", "ARABIC-INDIC DIGIT TWO (U+0662)"},
		{"fullwidth-digit", "\uff12", "FULLWIDTH DIGIT TWO (U+FF12)"},
	} {
		absent("absent-count-"+c.n, fmt.Sprintf("count %q: %s is a decimal digit to Unicode, but the count is ASCII digits only", c.digit+".", c.why), "count", 8, 0,
			[]string{line(name+"="+c.digit+"."+s[:200], name+".1="+s[200:])})
	}
	ok("ok-bare-name-ignored", "a pair without '=' spelled exactly NAME, before the real NAME=<value>: a pair without '=' is not a cookie and is ignored, so it is neither the first chunk nor a duplicate", 8, 0,
		[]string{line(name, pairs(name, "", []string{s})[0])})
	absent("absent-empty-chunk-trailing-space", "count 2 and \"NAME.1= \": the pair is trimmed as a whole, so NAME.1's value is empty, not a space", "empty-chunk", 8, 0,
		[]string{line(name+"=2."+s[:200], name+".1= ")})
	ok("ok-spaces-and-tabs-around-pairs", "spaces and tabs before and after each pair (\"  a=1 ;\\tNAME=... ; NAME.1=...\\t\"): each pair is trimmed", 8, 0,
		[]string{"  a=1 ;\t" + two[0] + " ; " + two[1] + "\t"})

	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = v
	}
	return out
}
