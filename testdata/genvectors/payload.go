package main

import (
	"bytes"
	"fmt"
	"math"
	"sort"
	"strings"
)

// payloadVector is a file of payload/.
type payloadVector struct {
	Name         string       `json:"name"`
	Comment      string       `json:"comment"`
	PlaintextHex string       `json:"plaintext_hex"`
	Expect       string       `json:"expect"`
	Rule         string       `json:"rule,omitempty"`
	Session      *sessionJSON `json:"session,omitempty"`
}

// sessionJSON is what a positive payload vector holds.
type sessionJSON struct {
	IDHex     string      `json:"id_hex"`
	CreatedMs uint64      `json:"created_ms"`
	Subject   string      `json:"subject"`
	Values    []valueJSON `json:"values"`
	Flashes   []string    `json:"flashes"`
	Flags     uint64      `json:"flags"`
}

type valueJSON struct {
	Key     string `json:"key"`
	CBORHex string `json:"cbor_hex"`
	Expect  string `json:"expect"`
	Rule    string `json:"rule,omitempty"`
}

// pvalue is one session value: its key, the wrapped item, and the value
// rule a reader refuses it under ("" when it decodes).
type pvalue struct {
	key     string
	item    []byte
	refused string
}

// state is a session payload as data.
type state struct {
	id      []byte
	created uint64
	subject string
	values  []pvalue
	flashes []string
	flags   uint64
}

// parts is a payload's encoding field by field, so that a negative vector
// can replace one of them with faulty bytes.
type parts struct {
	arr, id, created, subject, values, flashes, flags, tail []byte
}

func (p parts) join() []byte {
	return cat(p.arr, p.id, p.created, p.subject, p.values, p.flashes, p.flags, p.tail)
}

// encodeValues is the values map, keys in the order given.
func encodeValues(vs []pvalue) []byte {
	kv := make([][]byte, 0, 2*len(vs))
	for _, v := range vs {
		kv = append(kv, cText(v.key), cBytes(v.item))
	}
	return cMap(kv...)
}

func encodeFlashes(fs []string) []byte {
	items := make([][]byte, len(fs))
	for i, f := range fs {
		items[i] = cText(f)
	}
	return cArray(items...)
}

// parts encodes s as SPEC.md's writers must, keys in the order of s.
func (s state) parts() parts {
	p := parts{
		arr:     head(mArray, 5),
		id:      cBytes(s.id),
		created: cUint(s.created),
		subject: cText(s.subject),
		values:  encodeValues(s.values),
		flashes: encodeFlashes(s.flashes),
	}
	if s.flags != 0 {
		p.arr = head(mArray, 6)
		p.flags = cUint(s.flags)
	}
	return p
}

func (s state) encode() []byte { return s.parts().join() }

// json is the session a reader gets from s.
func (s state) json() *sessionJSON {
	j := &sessionJSON{
		IDHex: hexOf(s.id), CreatedMs: s.created, Subject: s.subject,
		Values: []valueJSON{}, Flashes: append([]string{}, s.flashes...), Flags: s.flags,
	}
	for _, v := range s.values {
		vj := valueJSON{Key: v.key, CBORHex: hexOf(v.item), Expect: "ok"}
		if v.refused != "" {
			vj.Expect, vj.Rule = "refused", v.refused
		}
		j.Values = append(j.Values, vj)
	}
	return j
}

// check panics when s is not a state writers may write (apart from its
// values' content, which the refused vectors break on purpose).
func (s state) check() {
	if len(s.id) != 16 || s.created > math.MaxInt64 || !validUTF8(s.subject) || s.flags > 1 {
		panic("state breaks a payload rule")
	}
	for i, v := range s.values {
		if !validUTF8(v.key) || (i > 0 && !keyLess(s.values[i-1].key, v.key)) {
			panic(fmt.Sprintf("state: key %q out of order", v.key))
		}
	}
	for _, f := range s.flashes {
		if !validUTF8(f) {
			panic("state: flash is not UTF-8")
		}
	}
}

// sortValues puts vs in the payload's key order.
func sortValues(vs []pvalue) []pvalue {
	vs = append([]pvalue{}, vs...)
	sort.Slice(vs, func(i, j int) bool { return keyLess(vs[i].key, vs[j].key) })
	return vs
}

// The fixed fields of the payload vectors.
var (
	payloadID      = derived("payload/id", 16)
	payloadCreated = uint64(1795391700000) // 2026-11-22T23:55:00Z
)

// base is the state every negative payload vector starts from: a valid
// payload with a subject, one value and one flash.
func base() state {
	return state{
		id: payloadID, created: payloadCreated, subject: "adam",
		values:  []pvalue{{key: "n", item: cUint(1)}},
		flashes: []string{"saved"},
	}
}

func okPayload(name, comment string, s state) payloadVector {
	s.check()
	return payloadVector{Name: name, Comment: comment, PlaintextHex: hexOf(s.encode()), Expect: "ok", Session: s.json()}
}

func badPayload(name, comment, rule string, pt []byte) payloadVector {
	return payloadVector{Name: name, Comment: comment, PlaintextHex: hexOf(pt), Expect: "invalid", Rule: rule}
}

// padded is base with a subject long enough to bring the payload to
// exactly size bytes.
func padded(size int) state {
	for n := size; n > 0; n-- {
		s := base()
		s.subject = strings.Repeat("a", n)
		if len(s.encode()) == size {
			return s
		}
	}
	panic("no subject gives the size")
}

// manyKeys is n values named k0000, k0001, ... (sorted: same length,
// increasing), each null.
func manyKeys(n int) []pvalue {
	vs := make([]pvalue, n)
	for i := range vs {
		vs[i] = pvalue{key: fmt.Sprintf("k%04d", i), item: []byte{0xf6}}
	}
	return vs
}

// refusedValues is base with the given values added (and sorted), each
// refused under rule unless it is named "ok".
func refusedValues(rule string, items map[string][]byte) state {
	s := base()
	for k, item := range items {
		v := pvalue{key: k, item: item, refused: rule}
		if k == "ok" {
			v.refused = ""
		}
		s.values = append(s.values, v)
	}
	s.values = sortValues(s.values)
	return s
}

func payloadVectors() []any {
	const maxInt63 = uint64(math.MaxInt64)
	var vs []payloadVector
	ok := func(name, comment string, s state) { vs = append(vs, okPayload(name, comment, s)) }
	bad := func(name, comment, rule string, pt []byte) { vs = append(vs, badPayload(name, comment, rule, pt)) }

	// Valid payloads.
	ok("ok-minimal", "no subject, no values, no flashes",
		state{id: payloadID, created: payloadCreated, values: nil, flashes: nil})
	ok("ok-values", "several values, keys in order (shorter first, then bytewise), each one item wrapped in a byte string",
		state{id: payloadID, created: payloadCreated, values: []pvalue{
			{key: "n", item: cUint(1)},
			{key: "cart", item: cArray(cText("apple"), cUint(2))},
			{key: "user", item: cText("adam")},
		}})
	ok("ok-keys-utf8-order", "keys ordered by UTF-8 byte length, then bytewise on the UTF-8 bytes: \"zz\" (7a 7a) before \"é\" (c3 a9), and \"b\" before \"aa\"; a UTF-16 comparison orders them differently",
		state{id: payloadID, created: payloadCreated, values: []pvalue{
			{key: "b", item: cUint(1)},
			{key: "aa", item: cUint(2)},
			{key: "zz", item: cUint(3)},
			{key: "é", item: cUint(4)},
			{key: "日本", item: cUint(5)},
		}})
	ok("ok-flashes", "flash messages, oldest first, one of them non-ASCII",
		state{id: payloadID, created: payloadCreated, flashes: []string{"Saved.", "Welcome back, Zoë"}})
	ok("ok-subject", "a subject and a value",
		state{id: payloadID, created: payloadCreated, subject: "user-42", values: []pvalue{{key: "n", item: cUint(1)}}})
	ok("ok-flags", "flags = 1 (browser-session cookies) as the sixth item",
		state{id: payloadID, created: payloadCreated, subject: "adam", values: []pvalue{{key: "n", item: cUint(1)}}, flashes: []string{"saved"}, flags: 1})
	ok("ok-created-max", "created = 2^63-1 ms, the largest allowed",
		state{id: payloadID, created: maxInt63})
	ok("ok-created-zero", "created = 0",
		state{id: payloadID, created: 0})
	ok("ok-size-max", "exactly 98304 bytes (a long subject), the largest payload",
		padded(98304))
	flashes := make([]string, 4096)
	ok("ok-flashes-4096", "4096 flash messages (empty strings), the most allowed",
		state{id: payloadID, created: payloadCreated, flashes: flashes})

	// Values that decode.
	ok("ok-value-simple-values", "false, true, null and undefined (0xf4 to 0xf7) are accepted inside values",
		state{id: payloadID, created: payloadCreated, values: sortValues([]pvalue{
			{key: "false", item: []byte{0xf4}},
			{key: "true", item: []byte{0xf5}},
			{key: "null", item: []byte{0xf6}},
			{key: "undefined", item: []byte{0xf7}},
			{key: "in-array", item: []byte{0x84, 0xf4, 0xf5, 0xf6, 0xf7}},
		})})
	ok("ok-value-unassigned-simple", "unassigned simple values (0xe0 to 0xf3, and 0xf8 with 32 to 255) are well-formed and accepted at this layer",
		state{id: payloadID, created: payloadCreated, values: sortValues([]pvalue{
			{key: "simple-0", item: []byte{0xe0}},
			{key: "simple-19", item: []byte{0xf3}},
			{key: "simple-32", item: []byte{0xf8, 0x20}},
			{key: "simple-255", item: []byte{0xf8, 0xff}},
		})})
	ok("ok-value-floats", "1.5 as float64, float32 and float16: readers accept every width, even where a shorter one would do",
		state{id: payloadID, created: payloadCreated, values: sortValues([]pvalue{
			{key: "f64", item: mustHex("fb3ff8000000000000")},
			{key: "f32", item: mustHex("fa3fc00000")},
			{key: "f16", item: mustHex("f93e00")},
		})})
	ok("ok-value-depth-14", "14 levels of containers in a value (levels 3 to 16), of arrays and of maps",
		state{id: payloadID, created: payloadCreated, values: sortValues([]pvalue{
			{key: "arrays", item: nested(14, cUint(0))},
			{key: "maps", item: nestedMaps(14)},
		})})
	ok("ok-value-items-4096", "an array of 4096 items and a map of 4096 pairs in values, the most allowed",
		state{id: payloadID, created: payloadCreated, values: sortValues([]pvalue{
			{key: "array", item: manyItems(4096)},
			{key: "map", item: manyPairs(4096)},
		})})
	ok("ok-value-unsorted-map", "a map inside a value whose keys are not in deterministic order: writers must not write it, but no reader rule refuses it",
		state{id: payloadID, created: payloadCreated, values: []pvalue{
			{key: "m", item: cMap(cText("b"), cUint(1), cText("a"), cUint(2))},
		}})

	// Values a reader refuses to decode; the payload is valid.
	ok("ok-value-refused-heads", "values with a non-shortest head, an indefinite length, a reserved additional information, a stray break, or a two-byte simple value below 32: each refused (rule heads); the payload and the value \"ok\" are fine",
		refusedValues("heads", map[string][]byte{
			"ok":                   cUint(5),
			"nonshortest-uint":     {0x18, 0x05},
			"nonshortest-8-byte":   mustHex("1b0000000000000005"),
			"nonshortest-negative": {0x38, 0x05},
			"nonshortest-length":   {0x78, 0x01, 'a'},
			"nonshortest-nested":   {0x81, 0x18, 0x05},
			"indefinite-array":     {0x9f, 0x01, 0xff},
			"indefinite-text":      {0x7f, 0x61, 'a', 0xff},
			"indefinite-map":       {0xbf, 0x61, 'a', 0x01, 0xff},
			"reserved-ai-28":       {0x1c},
			"reserved-ai-30":       {0xfe},
			"stray-break":          {0xff},
			"simple-16":            {0xf8, 0x10},
			"simple-31":            {0xf8, 0x1f},
		}))
	ok("ok-value-refused-tags", "values holding a tag, at the top or nested: each refused (rule tags)",
		refusedValues("tags", map[string][]byte{
			"ok":            cText("2026-11-23T00:00:00Z"),
			"tag-0":         append([]byte{0xc0}, cText("2026-11-23T00:00:00Z")...),
			"tag-1":         mustHex("c11a6b038200"),
			"nested-bignum": {0x81, 0xc2, 0x41, 0x01},
			"self-describe": {0xd9, 0xd9, 0xf7, 0x01},
		}))
	ok("ok-value-refused-text", "values with text that is not valid UTF-8 (a bad byte, a surrogate encoded in UTF-8, an overlong form, in a map key): each refused (rule text)",
		refusedValues("text", map[string][]byte{
			"ok":         cText("é"),
			"bad-byte":   {0x62, 0xc3, 0x28},
			"surrogate":  {0x63, 0xed, 0xa0, 0x80},
			"overlong":   {0x62, 0xc0, 0x80},
			"in-map-key": {0xa1, 0x61, 0xff, 0x01},
		}))
	ok("ok-value-refused-depth", "15 levels of containers in a value (the deepest at level 17), of arrays and of maps: refused (rule depth)",
		refusedValues("depth", map[string][]byte{
			"ok":     nested(14, nil),
			"arrays": nested(15, nil),
			"maps":   nestedMaps(15),
		}))
	ok("ok-value-refused-items", "an array of 4097 items and a map of 4097 pairs: refused (rule items)",
		refusedValues("items", map[string][]byte{
			"ok":    cArray(cUint(1)),
			"array": manyItems(4097),
			"map":   manyPairs(4097),
		}))
	ok("ok-value-refused-duplicate-keys", "maps with a repeated key inside a value: refused (rule duplicate-keys)",
		refusedValues("duplicate-keys", map[string][]byte{
			"ok":       cMap(cText("a"), cUint(1), cText("b"), cUint(2)),
			"text-key": cMap(cText("a"), cUint(1), cText("a"), cUint(2)),
			"uint-key": cMap(cUint(1), cUint(1), cUint(1), cUint(1)),
			"nested":   cArray(cMap(cText("x"), cUint(0), cText("x"), cUint(1))),
		}))

	// Invalid payloads: rule size.
	bad("bad-size-98305", "a well-formed payload of 98305 bytes (a long subject), one over the limit", "size", padded(98305).encode())

	// Rule shape.
	p := base().parts()
	with := func(f func(p *parts)) []byte {
		q := base().parts()
		f(&q)
		return q.join()
	}
	bad("bad-shape-4-items", "an array of 4 items (no flashes)", "shape", with(func(q *parts) { q.arr, q.flashes = head(mArray, 4), nil }))
	bad("bad-shape-7-items", "an array of 7 items: flags 1 and one more", "shape", with(func(q *parts) { q.arr, q.flags, q.tail = head(mArray, 7), cUint(1), cUint(0) }))
	bad("bad-shape-not-array", "a map of the five fields instead of an array", "shape",
		cat(head(mMap, 5), cUint(0), p.id, cUint(1), p.created, cUint(2), p.subject, cUint(3), p.values, cUint(4), p.flashes))
	bad("bad-shape-trailing-bytes", "a valid payload followed by one more byte", "shape", with(func(q *parts) { q.tail = []byte{0x00} }))
	bad("bad-shape-value-not-wrapped", "the value of \"n\" is the integer itself, not a byte string holding it", "shape",
		with(func(q *parts) { q.values = cMap(cText("n"), cUint(1)) }))
	bad("bad-shape-id-15-bytes", "the ID is 15 bytes", "shape", with(func(q *parts) { q.id = cBytes(payloadID[:15]) }))
	bad("bad-shape-id-text", "the ID is a text string", "shape", with(func(q *parts) { q.id = cText("0123456789abcdef") }))
	bad("bad-shape-created-negative", "created is a negative integer (major type 1)", "shape", with(func(q *parts) { q.created = head(mNeg, 0) }))
	bad("bad-shape-subject-bytes", "the subject is a byte string", "shape", with(func(q *parts) { q.subject = cBytes([]byte("adam")) }))
	bad("bad-shape-key-not-text", "a key of values is an integer", "shape", with(func(q *parts) { q.values = cMap(cUint(1), cBytes(cUint(1))) }))
	bad("bad-shape-values-array", "values is an array", "shape", with(func(q *parts) { q.values = cArray() }))
	bad("bad-shape-flash-bytes", "a flash message is a byte string", "shape", with(func(q *parts) { q.flashes = cArray(cBytes([]byte("saved"))) }))
	bad("bad-shape-empty", "no bytes at all", "shape", nil)
	whole := p.join()
	bad("bad-shape-truncated", "a valid payload without its last byte", "shape", whole[:len(whole)-1])
	bad("bad-shape-wrapper-overruns", "the wrapper of \"n\" claims 9 bytes where the payload has fewer left", "shape",
		with(func(q *parts) { q.values = cat(head(mMap, 1), cText("n"), head(mBytes, 9), cUint(1)) }))

	// Rule created.
	bad("bad-created-2-63", "created = 2^63 ms, above 2^63-1", "created", with(func(q *parts) { q.created = cUint(1 << 63) }))
	bad("bad-created-2-64-minus-1", "created = 2^64-1 ms", "created", with(func(q *parts) { q.created = cUint(math.MaxUint64) }))

	// Rule heads.
	bad("bad-heads-array-nonshortest", "the payload array's head in two bytes (0x98 0x05)", "heads", with(func(q *parts) { q.arr = []byte{0x98, 0x05} }))
	bad("bad-heads-created-nonshortest", "created = 1000 in an 8-byte head", "heads", with(func(q *parts) { q.created = mustHex("1b00000000000003e8") }))
	bad("bad-heads-subject-nonshortest", "the subject's length in two bytes (0x78 0x04)", "heads", with(func(q *parts) { q.subject = append([]byte{0x78, 0x04}, "adam"...) }))
	bad("bad-heads-wrapper-nonshortest", "the wrapper of a value has its length in two bytes (0x58 0x01)", "heads",
		with(func(q *parts) { q.values = cat(head(mMap, 1), cText("n"), []byte{0x58, 0x01, 0x01}) }))
	bad("bad-heads-indefinite-values", "values as an indefinite-length map", "heads",
		with(func(q *parts) { q.values = cat([]byte{0xbf}, cText("n"), cBytes(cUint(1)), []byte{0xff}) }))
	bad("bad-heads-indefinite-subject", "the subject as an indefinite-length text string", "heads",
		with(func(q *parts) { q.subject = cat([]byte{0x7f}, cText("ad"), cText("am"), []byte{0xff}) }))
	bad("bad-heads-indefinite-flashes", "flashes as an indefinite-length array", "heads",
		with(func(q *parts) { q.flashes = cat([]byte{0x9f}, cText("saved"), []byte{0xff}) }))
	bad("bad-heads-reserved-ai", "created has additional information 28 (reserved)", "heads", with(func(q *parts) { q.created = []byte{0x1c} }))
	bad("bad-heads-stray-break", "a break (0xff) where the flashes belong", "heads", with(func(q *parts) { q.flashes = []byte{0xff} }))

	// Rule tags.
	bad("bad-tags-self-describe", "the payload behind the self-described CBOR tag 55799", "tags", cat([]byte{0xd9, 0xd9, 0xf7}, whole))
	bad("bad-tags-created", "created tagged as an epoch time (tag 1)", "tags", with(func(q *parts) { q.created = cat([]byte{0xc1}, cUint(payloadCreated)) }))
	bad("bad-tags-wrapper", "a value's wrapper tagged as embedded CBOR (tag 24)", "tags",
		with(func(q *parts) { q.values = cat(head(mMap, 1), cText("n"), []byte{0xd8, 0x18}, cBytes(cUint(1))) }))

	// Rule text.
	badText := func(b ...byte) []byte { return append(head(mText, uint64(len(b))), b...) }
	bad("bad-text-subject", "the subject holds the byte 0xff", "text", with(func(q *parts) { q.subject = badText('a', 0xff) }))
	bad("bad-text-subject-surrogate", "the subject holds a surrogate (U+D800) encoded in UTF-8", "text", with(func(q *parts) { q.subject = badText(0xed, 0xa0, 0x80) }))
	bad("bad-text-key", "a key holds a truncated UTF-8 sequence", "text", with(func(q *parts) { q.values = cat(head(mMap, 1), badText('n', 0xc3), cBytes(cUint(1))) }))
	bad("bad-text-key-overlong", "a key holds an overlong encoding of NUL (0xc0 0x80)", "text",
		with(func(q *parts) { q.values = cat(head(mMap, 1), badText(0xc0, 0x80), cBytes(cUint(1))) }))
	bad("bad-text-flash", "a flash message holds the byte 0x80", "text", with(func(q *parts) { q.flashes = cat(head(mArray, 1), badText(0x80)) }))

	// Rule keys.
	keys := func(ks ...string) []byte {
		vs := make([]pvalue, len(ks))
		for i, k := range ks {
			vs[i] = pvalue{key: k, item: cUint(uint64(i))}
		}
		return encodeValues(vs)
	}
	bad("bad-keys-utf16-order", "\"é\" before \"zz\": both 2 UTF-8 bytes, and 0xc3 > 0x7a (a UTF-16 comparison puts é first)", "keys",
		with(func(q *parts) { q.values = keys("é", "zz") }))
	bad("bad-keys-duplicate", "the key \"n\" twice", "keys", with(func(q *parts) { q.values = keys("n", "n") }))
	bad("bad-keys-unsorted", "\"b\" before \"a\"", "keys", with(func(q *parts) { q.values = keys("b", "a") }))
	bad("bad-keys-longer-first", "\"aa\" before \"b\": shorter keys come first", "keys", with(func(q *parts) { q.values = keys("aa", "b") }))

	// Rule items.
	bad("bad-items-4097-pairs", "values has 4097 pairs", "items", with(func(q *parts) { q.values = encodeValues(manyKeys(4097)) }))
	bad("bad-items-4097-flashes", "flashes has 4097 items", "items", with(func(q *parts) { q.flashes = encodeFlashes(make([]string, 4097)) }))

	// Rule flags.
	withFlags := func(f []byte) []byte {
		return with(func(q *parts) { q.arr, q.flags = head(mArray, 6), f })
	}
	bad("bad-flags-zero", "flags present and 0: a writer omits it", "flags", withFlags(cUint(0)))
	bad("bad-flags-bit-1", "flags = 2: bit 1 is not defined", "flags", withFlags(cUint(2)))
	bad("bad-flags-bits-0-and-1", "flags = 3: bit 1 is not defined", "flags", withFlags(cUint(3)))
	bad("bad-flags-true", "flags is true, not an unsigned integer", "flags", withFlags([]byte{0xf5}))
	bad("bad-flags-negative", "flags is -1, not an unsigned integer", "flags", withFlags(head(mNeg, 0)))

	// Added after the vectors above, to keep their numbers: values a
	// reader refuses as not well-formed, and float keys that are not
	// duplicates.
	ok("ok-value-refused-well-formed", "wrappers that hold no item (a byte string of length 0), two items (01 01), or a truncated item (a text head for 2 bytes with none or one of them, a uint16 head with one byte of two, an array of 2 with one item, a map pair without its value): each refused (rule well-formed); the payload and the value \"ok\" are fine",
		refusedValues("well-formed", map[string][]byte{
			"ok":               cUint(1),
			"empty":            {},
			"two-items":        {0x01, 0x01},
			"truncated-text":   {0x62},
			"truncated-text-1": {0x62, 'a'},
			"truncated-head":   {0x19, 0x01},
			"truncated-array":  {0x82, 0x01},
			"truncated-map":    {0xa1, 0x01},
		}))
	ok("ok-value-refused-key-type", "map keys inside a value must be integers, text or byte strings (so that equal keys are equal bytes in every language): 1.0 as float16 and float32, a float NaN, null, false, an array and a map as keys are each refused (rule key-type); keys of the three allowed types are fine",
		refusedValues("key-type", map[string][]byte{
			"ok":        cMap(cUint(1), cUint(1), cText("a"), cUint(2), mustHex("4161"), cUint(3)),
			"f16-f32":   cMap(mustHex("f93c00"), cUint(1), mustHex("fa3f800000"), cUint(2)),
			"nan":       cMap(mustHex("f97e00"), cUint(1)),
			"null":      cMap([]byte{0xf6}, cUint(1)),
			"false":     cMap([]byte{0xf4}, cUint(1)),
			"array-key": cMap(head(mArray, 0), cUint(1)),
			"map-key":   cMap(head(mMap, 0), cUint(1)),
			"in-array":  cat(head(mArray, 1), cMap(mustHex("f93e00"), cUint(1))),
		}))

	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = v
	}
	return out
}

// nestedMaps is n maps, each the value of key "a" of the one around it,
// the innermost empty.
func nestedMaps(n int) []byte {
	b := bytes.Repeat(cat(head(mMap, 1), cText("a")), n-1)
	return append(b, head(mMap, 0)...)
}

// manyItems is an array of n zeros.
func manyItems(n int) []byte {
	return append(head(mArray, uint64(n)), make([]byte, n)...)
}

// manyPairs is a map of n pairs, keys 0 to n-1 (increasing, which is also
// the deterministic order), each value 0.
func manyPairs(n int) []byte {
	b := head(mMap, uint64(n))
	for i := range n {
		b = append(append(b, cUint(uint64(i))...), 0x00)
	}
	return b
}
