//go:build ignore

// Command gencorpus writes the seed corpora of the fuzz targets in
// fuzz/testdata/fuzz/<Target>/, in the "go test fuzz v1" format. Run it from
// the repository root:
//
//	go run ./fuzz/gencorpus.go
//
// The seeds come from the golden vectors in testdata/vectors and from
// sessions made through the package's public API with the vectors' fixed
// keys and a fixed clock (the constants in fuzz/common_test.go), plus
// hand-made malformed inputs. Sealing draws a fresh nonce each time, so
// the sealed seeds change on every run; what they hold does not.
//
// Only files named seed-* are replaced. Other files in those directories
// are inputs the fuzzer found failing and must stay as regression tests.
package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/sealedgo/sealed"
)

// Must match fuzz/common_test.go.
const (
	fixedUnix      = 1795392000
	sessionPurpose = "session"
	vectorsDir     = "testdata/vectors"
	corpusDir      = "fuzz/testdata/fuzz"
	otherCookieSel = 52 // index of "other" in chunkNames (chunks_test.go)
)

var fixedNow = time.Unix(fixedUnix, 0)

type vector struct {
	Name string `json:"name"`
	Keys []struct {
		KID    string `json:"kid"`
		Secret string `json:"secret_hex"`
	} `json:"keys"`
	CookieName string `json:"cookie_name"`
	Purpose    string `json:"purpose"`
	Sealed     string `json:"sealed"`
	Expect     string `json:"expect"`
	Plaintext  string `json:"plaintext_hex"`
}

// seed is one corpus entry: the values of one call of the fuzz function.
type seed struct {
	label string
	args  []any
}

func main() {
	log.SetFlags(0)
	if _, err := os.Stat(vectorsDir); err != nil {
		log.Fatalf("run from the repository root: %v", err)
	}
	vs := loadVectors()
	keys := vectorKeys(vs[0])
	ring, err := sealed.NewKeyring(keys...)
	check(err)

	write("FuzzOpen", openSeeds(vs, ring))
	write("FuzzCanonicalEnvelope", canonicalSeeds(vs, ring))
	write("FuzzPayload", payloadSeeds(vs, ring))
	write("FuzzChunks", chunkSeeds(keys, vs))
	write("FuzzMiddleware", middlewareSeeds(keys, vs))
	write("FuzzKeyringConfig", keyringSeeds(keys))
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

func loadVectors() []vector {
	files, err := filepath.Glob(filepath.Join(vectorsDir, "*.json"))
	check(err)
	sort.Strings(files)
	var vs []vector
	for _, f := range files {
		data, err := os.ReadFile(f)
		check(err)
		var v vector
		check(json.Unmarshal(data, &v))
		vs = append(vs, v)
	}
	if len(vs) == 0 {
		log.Fatal("no golden vectors")
	}
	return vs
}

func vectorKeys(v vector) []sealed.Key {
	var keys []sealed.Key
	for _, k := range v.Keys {
		secret, err := hex.DecodeString(k.Secret)
		check(err)
		keys = append(keys, sealed.Key{ID: k.KID, Secret: secret})
	}
	return keys
}

// write replaces the seed-* files of target's corpus directory.
func write(target string, seeds []seed) {
	dir := filepath.Join(corpusDir, target)
	check(os.MkdirAll(dir, 0o755))
	old, err := filepath.Glob(filepath.Join(dir, "seed-*"))
	check(err)
	for _, f := range old {
		check(os.Remove(f))
	}
	seen := map[string]bool{}
	for _, s := range seeds {
		var b strings.Builder
		b.WriteString("go test fuzz v1\n")
		for _, a := range s.args {
			switch v := a.(type) {
			case string:
				fmt.Fprintf(&b, "string(%q)\n", v)
			case []byte:
				fmt.Fprintf(&b, "[]byte(%q)\n", v)
			case byte:
				fmt.Fprintf(&b, "byte(%q)\n", v)
			case uint16, uint32, uint64:
				fmt.Fprintf(&b, "%T(%v)\n", v, v)
			default:
				log.Fatalf("%s/%s: unsupported type %T", target, s.label, a)
			}
		}
		name := "seed-" + s.label
		if seen[name] {
			log.Fatalf("%s: duplicate seed label %q", target, s.label)
		}
		seen[name] = true
		check(os.WriteFile(filepath.Join(dir, name), []byte(b.String()), 0o644))
	}
	fmt.Printf("%-24s %3d seeds\n", target, len(seeds))
}

func manager(ring *sealed.Keyring, o sealed.Options) *sealed.Manager {
	o.Now = func() time.Time { return fixedNow }
	o.Logger = slog.New(slog.DiscardHandler)
	m, err := sealed.New(ring, &o)
	check(err)
	return m
}

// session makes a session through the public API, fills it and saves it,
// returning its cookies in order.
func session(m *sealed.Manager, fill func(*sealed.Session)) []*http.Cookie {
	s, err := m.Load(context.Background(), nil)
	check(err)
	fill(s)
	cs, err := m.Save(context.Background(), s)
	check(err)
	if len(cs) == 0 {
		log.Fatal("session saved no cookie")
	}
	return cs
}

// joined reassembles the sealed value of a session's cookies.
func joined(cs []*http.Cookie) string {
	var b strings.Builder
	for i, c := range cs {
		v := c.Value
		if i == 0 && len(cs) > 1 {
			_, v, _ = strings.Cut(v, ".")
		}
		b.WriteString(v)
	}
	return b.String()
}

// The sessions the seeds are made of.
var fills = []struct {
	label string
	fill  func(*sealed.Session)
}{
	{"small", func(s *sealed.Session) {
		must(s.Set("user", "alice"))
		must(s.Set("visits", 3))
	}},
	{"subject-flashes", func(s *sealed.Session) {
		must(s.SetSubject("user-42"))
		must(s.AddFlash("saved"))
		must(s.AddFlash("welcome back, ünïcødé ✓"))
	}},
	{"types", func(s *sealed.Session) {
		must(s.Set("neg", -123456789))
		must(s.Set("big", uint64(1)<<63))
		must(s.Set("pi", 3.14159))
		must(s.Set("half", float32(0.5)))
		must(s.Set("yes", true))
		must(s.Set("nil", nil))
		must(s.Set("bytes", []byte{0, 1, 2, 0xff}))
		must(s.Set("when", time.Date(2026, 11, 24, 12, 0, 0, 123456789, time.UTC)))
		must(s.Set("map", map[string]any{"b": []any{1, "x", nil}, "a": map[string]int{"z": 1}}))
		must(s.Set("list", []string{"", "a", "bb"}))
		must(s.Set("ключ", "значение"))
		must(s.Set("", "empty key"))
	}},
	{"many-keys", func(s *sealed.Session) {
		for i := 0; i < 100; i++ {
			must(s.Set(fmt.Sprintf("k%03d", i), i))
		}
	}},
	{"deepest", func(s *sealed.Session) {
		var v any = 1
		for i := 0; i < sealed.MaxDepth-3; i++ {
			v = []any{v}
		}
		must(s.Set("deep", v))
		var w any = map[string]any{}
		for i := 0; i < sealed.MaxDepth-3; i++ {
			w = map[string]any{"m": w}
		}
		must(s.Set("deepmap", w))
	}},
	{"widest", func(s *sealed.Session) {
		must(s.Set("wide", make([]int, sealed.MaxItems)))
	}},
	{"subject-only", func(s *sealed.Session) { must(s.SetSubject("x")) }},
	{"3k", func(s *sealed.Session) { must(s.Set("blob", pseudo(3000, 1))) }},
	{"6k", func(s *sealed.Session) { must(s.Set("blob", pseudo(6000, 2))) }},
	{"10k", func(s *sealed.Session) { must(s.Set("blob", pseudo(10000, 3))) }},
}

func must(err error) {
	check(err)
}

// pseudo returns n incompressible-looking bytes from a fixed seed.
func pseudo(n int, seed byte) []byte {
	out := make([]byte, 0, n+32)
	block := sha256.Sum256([]byte{seed})
	for len(out) < n {
		out = append(out, block[:]...)
		block = sha256.Sum256(block[:])
	}
	return out[:n]
}

func fillNamed(label string) func(*sealed.Session) {
	for _, f := range fills {
		if f.label == label {
			return f.fill
		}
	}
	log.Fatalf("no session %q", label)
	return nil
}

func openSeeds(vs []vector, ring *sealed.Keyring) []seed {
	var out []seed
	for _, v := range vs {
		out = append(out, seed{"vector-" + v.Name, []any{v.Sealed, v.CookieName, v.Purpose}})
	}
	for _, n := range []int{0, 1, 2, 3, 14, 100} {
		for _, np := range [][3]string{{"__Host-session", "session", "session"}, {"csrf", "csrf-token", "csrf"}, {"", "", "empty-name"}} {
			val, err := ring.Seal(np[0], np[1], fixedNow, pseudo(n, byte(n)))
			check(err)
			out = append(out, seed{fmt.Sprintf("seal-%d-%s", n, np[2]), []any{val, np[0], np[1]}})
		}
	}
	m := manager(ring, sealed.Options{})
	for _, label := range []string{"small", "types"} {
		cs := session(m, fillNamed(label))
		out = append(out, seed{"session-" + label, []any{joined(cs), m.CookieName(), sessionPurpose}})
	}
	big := session(m, fillNamed("3k"))
	out = append(out, seed{"session-3k", []any{joined(big), m.CookieName(), sessionPurpose}})
	for _, s := range []string{"", "A", strings.Repeat("A", 70), strings.Repeat("A", 71), strings.Repeat("_", 72), "AQ"} {
		out = append(out, seed{fmt.Sprintf("edge-%d", len(s)), []any{s, "__Host-session", "session"}})
	}
	return out
}

func canonicalSeeds(vs []vector, ring *sealed.Keyring) []seed {
	var out []seed
	for _, v := range vs {
		if v.Expect != "ok" {
			continue
		}
		last := uint32(len(v.Sealed) - 1)
		out = append(out,
			seed{"vector-" + v.Name + "-last", []any{v.CookieName, v.Purpose, v.Sealed, last, byte('A')}},
			seed{"vector-" + v.Name + "-insert", []any{v.CookieName, v.Purpose, v.Sealed, uint32(1<<29 | 40), byte('-')}},
			seed{"vector-" + v.Name + "-delete", []any{v.CookieName, v.Purpose, v.Sealed, uint32(2 << 29), byte(0)}},
		)
	}
	// Envelope lengths 0, 1 and 2 mod 3 give encodings with no spare bits,
	// 4 of them and 2 of them in the last character.
	for n := 0; n < 6; n++ {
		val, err := ring.Seal("__Host-session", "session", fixedNow, pseudo(n, 7))
		check(err)
		last := uint32(len(val) - 1)
		out = append(out,
			seed{fmt.Sprintf("seal-%d-last", n), []any{"__Host-session", "session", val, last, val[last] ^ 1}},
			seed{fmt.Sprintf("seal-%d-mid", n), []any{"__Host-session", "session", val, uint32(len(val) / 2), byte('=')}},
		)
	}
	return out
}

// cbor is a tiny writer for hand-made payloads.
type cbor []byte

func (c cbor) head(major byte, n uint64) cbor {
	m := major << 5
	switch {
	case n < 24:
		return append(c, m|byte(n))
	case n <= 0xff:
		return append(c, m|24, byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(c, m|25), uint16(n))
	case n <= 0xffffffff:
		return binary.BigEndian.AppendUint32(append(c, m|26), uint32(n))
	}
	return binary.BigEndian.AppendUint64(append(c, m|27), n)
}

func (c cbor) text(s string) cbor { return append(c.head(3, uint64(len(s))), s...) }

// payload builds [id, created, subject, {entries}, [flashes]] from already
// encoded entries (key then value, each encoded).
func payload(created uint64, subject string, entries []byte, nEntries int, flashes ...string) []byte {
	c := cbor(nil).head(4, 5).head(2, 16)
	c = append(c, "0123456789abcdef"...)
	c = c.head(0, created).text(subject).head(5, uint64(nEntries))
	c = append(c, entries...)
	c = c.head(4, uint64(len(flashes)))
	for _, f := range flashes {
		c = c.text(f)
	}
	return c
}

func nested(levels int, inner []byte) []byte {
	var c cbor
	for i := 0; i < levels; i++ {
		c = c.head(4, 1)
	}
	return append(c, inner...)
}

func payloadSeeds(vs []vector, ring *sealed.Keyring) []seed {
	var out []seed
	m := manager(ring, sealed.Options{Budget: sealed.Budget{MaxBytes: 1 << 20, MaxChunks: sealed.MaxChunksLimit, MaxLineBytes: sealed.MaxLineLimit}})
	for _, f := range fills {
		cs := session(m, f.fill)
		pt, _, err := ring.Open(m.CookieName(), sessionPurpose, joined(cs))
		check(err)
		out = append(out, seed{"session-" + f.label, []any{pt}})
	}
	for _, v := range vs {
		if v.Expect == "ok" {
			pt, err := hex.DecodeString(v.Plaintext)
			check(err)
			out = append(out, seed{"vector-" + v.Name, []any{pt}})
		}
	}
	created := uint64(fixedUnix) * 1000
	kv := func(k string, v []byte) []byte { return append(cbor(nil).text(k).head(2, uint64(len(v))), v...) }
	bare := func(k string, v []byte) []byte { return append(cbor(nil).text(k), v...) }
	one := []byte{0x01}
	hand := []struct {
		label string
		pt    []byte
	}{
		{"ok-minimal", payload(created, "", nil, 0)},
		{"ok-one-key", payload(created, "s", kv("a", one), 1, "f")},
		{"ok-float16", payload(created, "", kv("f", []byte{0xf9, 0x3c, 0x00}), 1)},
		{"ok-float64-one", payload(created, "", kv("f", []byte{0xfb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0}), 1)},
		{"ok-simple-32", payload(created, "", kv("s", []byte{0xf8, 0x20}), 1)},
		{"ok-undefined", payload(created, "", kv("u", []byte{0xf7}), 1)},
		{"ok-depth-16-empty", payload(created, "", kv("d", nested(13, []byte{0x80})), 1)},
		{"ok-created-zero", payload(0, "", nil, 0)},
		{"ok-created-at-limit", payload(created+61000, "", nil, 0)},
		{"ok-inner-map-unsorted", payload(created, "", kv("m", []byte{0xa2, 0x61, 'b', 1, 0x61, 'a', 2}), 1)},
		{"ok-inner-map-dup", payload(created, "", kv("m", []byte{0xa2, 0x61, 'a', 1, 0x61, 'a', 2}), 1)},
		{"ok-inner-map-int-keys", payload(created, "", kv("m", []byte{0xa1, 0x01, 0x02}), 1)},
		{"ok-4096-flashes", payload(created, "", nil, 0, strings.Split(strings.Repeat("x,", 4095)+"x", ",")...)},
		{"depth-16-scalar", payload(created, "", kv("d", nested(14, one)), 1)},
		{"depth-17", payload(created, "", kv("d", nested(15, one)), 1)},
		{"created-future", payload(created+62000, "", nil, 0)},
		{"created-huge", payload(1<<63, "", nil, 0)},
		{"simple-below-32", payload(created, "", kv("s", []byte{0xf8, 0x10}), 1)},
		{"tag", payload(created, "", kv("t", []byte{0xc1, 0x01}), 1)},
		{"indefinite-array", payload(created, "", kv("i", []byte{0x9f, 0x01, 0xff}), 1)},
		{"break", payload(created, "", kv("b", []byte{0xff}), 1)},
		{"reserved-ai", payload(created, "", kv("r", []byte{0x1c}), 1)},
		{"non-shortest-int", payload(created, "", kv("n", []byte{0x18, 0x05}), 1)},
		{"non-shortest-created", append(append(cbor(nil).head(4, 5).head(2, 16), "0123456789abcdef"...), 0x1b, 0, 0, 0, 0, 0, 0, 0, 1, 0x60, 0xa0, 0x80)},
		{"unsorted-keys", payload(created, "", append(kv("b", one), kv("a", one)...), 2)},
		{"length-order-keys", payload(created, "", append(kv("aa", one), kv("b", one)...), 2)},
		{"dup-keys", payload(created, "", append(kv("a", one), kv("a", one)...), 2)},
		{"int-key", payload(created, "", []byte{0x01, 0x01}, 1)},
		{"bad-utf8-subject", payload(created, "\xff", nil, 0)},
		{"bad-utf8-key", payload(created, "", kv("\xc3", one), 1)},
		{"bad-utf8-value", payload(created, "", kv("v", []byte{0x61, 0xff}), 1)},
		{"bad-utf8-flash", payload(created, "", nil, 0, "\xed\xa0\x80")},
		{"trailing-byte", append(payload(created, "", nil, 0), 0)},
		{"four-fields", cbor(nil).head(4, 4).head(2, 16)},
		{"id-15", append(append(cbor(nil).head(4, 5).head(2, 15), "0123456789abcde"...), 0x00, 0x60, 0xa0, 0x80)},
		{"4097-items", payload(created, "", kv("w", append(cbor(nil).head(4, 4097), make([]byte, 4097)...)), 1)},
		{"huge-count", payload(created, "", kv("w", cbor(nil).head(4, 1<<40)), 1)},
		{"huge-string", payload(created, "", kv("w", cbor(nil).head(2, 1<<62)), 1)},
		{"value-not-wrapped", payload(created, "", bare("a", one), 1)},
		{"value-wrapped-twice", payload(created, "", kv("a", append(cbor(nil).head(2, 1), one...)), 1)},
		{"wrapper-truncated", payload(created, "", bare("a", []byte{0x45, 0x01}), 1)},
		{"empty", nil},
	}
	for _, h := range hand {
		out = append(out, seed{"hand-" + h.label, []any{h.pt}})
	}
	return out
}

// Pool sessions, as in fuzz/common_test.go (poolFill, makePool) and the
// *PoolSizes lists of chunks_test.go and middleware_test.go.
var (
	chunkPoolSizes      = []int{0, 100, 3000, 6000, 8000}
	middlewarePoolSizes = []int{0, 100, 3000}
	chunkSeedBudget     = sealed.Budget{MaxBytes: 1 << 20, MaxChunks: sealed.MaxChunksLimit, MaxLineBytes: 512}
)

func poolFill(s *sealed.Session, i, size int) {
	must(s.SetSubject(fmt.Sprintf("user-%d", i)))
	must(s.AddFlash("hello"))
	must(s.Set("user", "alice"))
	blob := make([]byte, size)
	for j := range blob {
		blob[j] = byte(j*7 + i)
	}
	must(s.Set("blob", blob))
}

// poolCounts returns the number of chunks of each pool session.
func poolCounts(keys []sealed.Key, o sealed.Options, sizes []int) []int {
	retired, err := sealed.NewKeyring(keys[1], keys[0])
	check(err)
	var counts []int
	for i, size := range append(append([]int(nil), sizes...), sizes[1]) {
		ring, err := sealed.NewKeyring(keys...)
		check(err)
		if i == len(sizes) {
			ring = retired
		}
		cs := session(manager(ring, o), func(s *sealed.Session) { poolFill(s, i, size) })
		counts = append(counts, len(cs))
	}
	return counts
}

// FuzzChunks records: [name, kind, a, b] then, for a literal (even kind),
// a<<8|b bytes of value; an odd kind is chunk b of pool session a.
func ref(name, session, chunk int) []byte {
	return []byte{byte(name), 1, byte(session), byte(chunk)}
}

func lit(name int, value string) []byte {
	if len(value) > 0xffff {
		log.Fatal("literal too long for a record")
	}
	return append([]byte{byte(name), 0, byte(len(value) >> 8), byte(len(value))}, value...)
}

func chunkSeeds(keys []sealed.Key, vs []vector) []seed {
	counts := poolCounts(keys, sealed.Options{Budget: chunkSeedBudget}, chunkPoolSizes)
	fmt.Printf("FuzzChunks pool: chunks per session %v\n", counts)
	var out []seed
	add := func(label string, data []byte, size uint16, sd uint64, key string) {
		out = append(out, seed{label, []any{data, size, sd, key}})
	}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	sizes := []uint16{0, 100, 4000, 8000, 11000, 12288}
	keyNames := []string{"v", "", "ключ", "key", strings.Repeat("k", 40), "\x00"}
	for p, n := range counts {
		inOrder, reversed, dup := []byte{}, []byte{}, []byte{}
		for i := 0; i < n; i++ {
			inOrder = append(inOrder, ref(i, p, i)...)
			reversed = append(ref(i, p, i), reversed...)
		}
		dup = cat(inOrder, ref(n-1, p, n-1))
		k := p % len(sizes)
		add(fmt.Sprintf("pool%d-in-order", p), inOrder, sizes[k], uint64(p), keyNames[k])
		add(fmt.Sprintf("pool%d-reversed-other", p), cat(reversed, lit(otherCookieSel, "x")), sizes[(k+1)%len(sizes)], uint64(p+1), keyNames[(k+1)%len(keyNames)])
		add(fmt.Sprintf("pool%d-dup-last", p), dup, 0, 0, "v")
		add(fmt.Sprintf("pool%d-stale", p), cat(inOrder, ref(n, p, 0), lit(40, "AAAA")), 0, 0, "v")
		if n > 1 {
			add(fmt.Sprintf("pool%d-missing-last", p), inOrder[:4*(n-1)], 0, 0, "v")
			add(fmt.Sprintf("pool%d-leading-zero", p), cat(inOrder[:4], ref(41, p, 1), inOrder[8:]), 0, 0, "v")
			other := (p + 1) % len(counts)
			add(fmt.Sprintf("pool%d-mixed-generation", p), cat(inOrder[:4*(n-1)], ref(n-1, other, n-1)), 0, 0, "v")
		}
	}
	add("vector-literal", lit(0, vs[0].Sealed), 0, 0, "v")
	add("count-literal", cat(lit(0, "3.AAAA"), lit(1, "AAAA"), lit(2, "AA")), 1, 6, "\x00")
	add("empty", nil, 0, 0, "")
	return out
}

func middlewareSeeds(keys []sealed.Key, vs []vector) []seed {
	counts := poolCounts(keys, sealed.Options{}, middlewarePoolSizes)
	fmt.Printf("FuzzMiddleware pool: chunks per session %v\n", counts)
	if len(counts) != 4 || counts[2] != 2 {
		log.Fatalf("FuzzMiddleware pool: want 4 sessions, the third in 2 chunks; got %v", counts)
	}
	// "$" + session digit + chunk digit: '0'..'3' are 0..3 modulo the 4
	// sessions, and '0', '1' are chunks 0, 1 modulo 2.
	const name = "__Host-session"
	var out []seed
	add := func(label, header string) {
		for op := uint8(0); op < 6; op++ {
			out = append(out, seed{fmt.Sprintf("%s-op%d", label, op), []any{header, op}})
		}
	}
	add("none", "")
	add("empty-subject", name+"=$00")
	add("small", name+"=$10")
	add("retired-key", name+"=$30")
	add("small-with-others", "a=1; "+name+"=$10; b=2")
	add("two-chunks", name+"=$20; "+name+".1=$21")
	add("two-chunks-reversed", name+".1=$21; "+name+"=$20")
	add("two-chunks-two-lines", name+"=$20\n"+name+".1=$21")
	add("two-chunks-missing", name+"=$20")
	add("mixed-generation", name+"=$20; "+name+".1=$11")
	add("duplicate", name+"=$10; "+name+"=$10")
	add("quoted", name+`="$10"`)
	add("spaces", " \t"+name+"=$10 ;\t x=y ")
	add("stale-chunk", name+"=$10; "+name+".1=AAAA; "+name+".7=AAAA")
	add("dollar", name+"=$$10")
	add("vector", name+"="+vs[0].Sealed)
	return out
}

func keyringSeeds(keys []sealed.Key) []seed {
	var out []seed
	add := func(label string, doc []byte) { out = append(out, seed{label, []any{doc}}) }
	set, err := sealed.MarshalJWKSet(keys)
	check(err)
	add("vectors", set)
	one, err := sealed.MarshalJWKSet(keys[:1])
	check(err)
	add("one-key", one)
	three := append(append([]sealed.Key(nil), keys...), sealed.Key{ID: "2027-01-next", Secret: bytes.Repeat([]byte{0x5a}, 32)})
	doc, err := sealed.MarshalJWKSet(three)
	check(err)
	add("three-keys", doc)

	k := func(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
	secret := k(keys[0].Secret)
	oct := func(kid, kk string) string { return fmt.Sprintf(`{"kty":"oct","kid":%q,"k":%q}`, kid, kk) }
	setOf := func(members ...string) []byte { return []byte(`{"keys":[` + strings.Join(members, ",") + `]}`) }
	add("compact", setOf(oct("a", secret)))
	add("extra-members", []byte(`{"keys":[{"kty":"oct","kid":"a","k":"`+secret+`","alg":"A256GCM","use":"enc","key_ops":["encrypt"]}],"other":1}`))
	add("empty-set", setOf())
	add("no-keys-member", []byte(`{}`))
	add("not-json", []byte(`keys`))
	add("null", []byte(`null`))
	add("keys-null", []byte(`{"keys":null}`))
	add("keys-object", []byte(`{"keys":{}}`))
	add("empty-kid", setOf(oct("", secret)))
	add("no-kid", setOf(`{"kty":"oct","k":"`+secret+`"}`))
	add("short-secret", setOf(oct("a", k(make([]byte, 16)))))
	add("long-secret", setOf(oct("a", k(bytes.Repeat([]byte{1}, 33)))))
	add("zero-secret", setOf(oct("a", k(make([]byte, 32)))))
	add("padded-secret", setOf(oct("a", base64.URLEncoding.EncodeToString(keys[0].Secret))))
	add("std-alphabet-secret", setOf(oct("a", base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xfb, 0xff}, 16)))))
	add("dup-kid", setOf(oct("a", secret), oct("a", k(keys[1].Secret))))
	add("kty-missing", setOf(`{"kid":"a","k":"`+secret+`"}`))
	add("kty-upper", setOf(`{"kty":"OCT","kid":"a","k":"`+secret+`"}`))
	add("dup-member", []byte(`{"keys":[{"kty":"oct","kid":"a","k":"`+secret+`","k":"AAAA"}]}`))
	add("upper-keys", []byte(`{"KEYS":[`+oct("a", secret)+`]}`))
	add("unicode-kid", setOf(oct("ключ \u2028 \"q\"", secret)))
	c1, c2 := kid4Collision()
	add("kid4-collision", setOf(oct(c1, secret), oct(c2, k(keys[1].Secret))))

	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	check(err)
	ecJWK, err := json.Marshal(jose.JSONWebKey{Key: ec, KeyID: "ec"})
	check(err)
	add("ec-private", setOf(string(ecJWK)))
	ecPub, err := json.Marshal(jose.JSONWebKey{Key: &ec.PublicKey, KeyID: "ec"})
	check(err)
	add("ec-public-then-oct", setOf(string(ecPub), oct("a", secret)))
	return out
}

// kid4Collision finds two key ids whose 4-byte key ids are equal.
func kid4Collision() (string, string) {
	seen := map[[4]byte]string{}
	for i := 0; ; i++ {
		id := fmt.Sprintf("key-%d", i)
		h := sha256.Sum256([]byte("github.com/sealedgo/sealed v1 key id " + id))
		var kid [4]byte
		copy(kid[:], h[:4])
		if prev, ok := seen[kid]; ok {
			return prev, id
		}
		seen[kid] = id
	}
}
