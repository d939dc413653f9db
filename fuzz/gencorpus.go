//go:build ignore

// Command gencorpus writes the seed corpora of the fuzz targets, in the
// "go test fuzz v1" format, into <package>/testdata/fuzz/<Target>/ next to
// each target. Run it from the repository root:
//
//	go run ./fuzz/gencorpus.go
//
// The seeds come from the envelope vectors in testdata/vectors/envelope
// and from sessions made through the package's public API with the
// vectors' keys and a fixed clock (sealed.Epoch in helpers_test.go), plus
// hand-made malformed inputs. Sealing draws a fresh nonce each time, so the sealed seeds change
// on every run; what they hold does not.
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
	"errors"
	"fmt"
	"log"
	"log/slog"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/sealedgo/sealed"
	"github.com/sealedgo/sealed/internal/b64"
	"github.com/sealedgo/sealed/internal/cookie"
	"github.com/sealedgo/sealed/internal/envelope"
	"github.com/sealedgo/sealed/internal/jwk"
	"github.com/sealedgo/sealed/internal/payload"
)

// fixedUnix is the clock of every manager (sealed.Epoch) and the issued-at
// of every seal.
const (
	fixedUnix      = 1795392000
	cookieName     = "__Host-session"
	sessionPurpose = "session"
	vectorsDir     = "testdata/vectors/envelope"
	// goldenVector is the vector whose keys seal the seeds: the keys the
	// fuzz targets open them with (fuzzseed.GoldenVector).
	goldenVector = "ok-primary"
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
	keys := vectorKeys(golden(vs))
	ring, err := sealed.NewKeyring(keys...)
	check(err)
	s := newSealer(keys)

	write("internal/b64", "FuzzB64", b64Seeds(vs))
	write("internal/envelope", "FuzzOpen", openSeeds(vs, s, ring))
	write("internal/envelope", "FuzzCanonicalEnvelope", canonicalSeeds(vs, s))
	write("internal/cookie", "FuzzChunks", chunkSeeds(vs))
	pts := payloadSeeds(vs, s, ring)
	write("internal/payload", "FuzzPayload", pts)
	write("internal/payload", "FuzzPayloadOracle", append(append([]seed(nil), pts...), payloadLimitSeeds()...))
	write("internal/inspect", "FuzzInspect", pts)
	write(".", "FuzzLoad", pts)
	write("internal/payload", "FuzzScalar", scalarSeeds())
	write("internal/jwk", "FuzzKeyringConfig", keyringSeeds(keys))
	write(".", "FuzzMiddleware", middlewareSeeds(keys, vs))
	write(".", "FuzzSave", saveSeeds())
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

func must(err error) { check(err) }

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
		log.Fatal("no envelope vectors")
	}
	return vs
}

// golden returns the vector named goldenVector.
func golden(vs []vector) vector {
	for _, v := range vs {
		if v.Name == goldenVector {
			return v
		}
	}
	log.Fatalf("no envelope vector named %q in %s", goldenVector, vectorsDir)
	return vector{}
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

// write replaces the seed-* files of target's corpus directory in pkg.
func write(pkg, target string, seeds []seed) {
	dir := filepath.Join(pkg, "testdata", "fuzz", target)
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
			case uint16, uint32, uint64, int64, bool:
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
	fmt.Printf("%-18s %-22s %3d seeds\n", pkg, target, len(seeds))
}

// sealer seals and opens with the layers below the Manager, as a default
// secure Manager under the golden keys does.
type sealer struct {
	ring envelope.Ring
	jar  *cookie.Jar // a budget that holds any payload, for opening
}

func newSealer(keys []sealed.Key) *sealer {
	var ids []string
	var secrets [][]byte
	for _, k := range keys {
		ids, secrets = append(ids, k.ID), append(secrets, k.Secret)
	}
	ring, err := envelope.NewRing(ids, secrets)
	check(err)
	jar, err := cookie.New(cookie.Config{
		Name: cookieName, Path: "/", Secure: true, SameSite: http.SameSiteLaxMode,
		Budget: cookie.Budget{MaxBytes: 1 << 20, MaxChunks: cookie.MaxChunks, MaxLineBytes: cookie.MaxLine},
		MaxAge: 400 * 24 * 3600, MaxDecoded: envelope.MaxSize,
	})
	check(err)
	return &sealer{ring, jar}
}

func bind(name, purpose string) *envelope.Binding {
	b, err := envelope.Bind(name, purpose)
	check(err)
	return b
}

// seal returns pt sealed for name and purpose under the primary key at
// fixedNow, encoded.
func (s *sealer) seal(name, purpose string, pt []byte) string {
	b := bind(name, purpose)
	buf := make([]byte, b.Room()+len(pt)+envelope.TagSize)
	copy(buf[b.Room():], pt)
	env := b.Seal(buf, s.ring[0], fixedUnix, len(pt))
	out := make([]byte, b64.EncodedLen(len(env)))
	b64.Encode(out, env)
	return string(out)
}

// open returns the payload of a session's Set-Cookie lines.
func (s *sealer) open(lines []string) []byte {
	var pairs []string
	for _, l := range lines {
		p, _, _ := strings.Cut(l, ";")
		pairs = append(pairs, p)
	}
	b := bind(cookieName, sessionPurpose)
	buf, _, reason := s.jar.Read(pairs, b.Room())
	if reason != "" {
		log.Fatalf("session cookies do not read: %s", reason)
	}
	pt, _, f := b.Open(s.ring, buf)
	if f != envelope.OK {
		log.Fatalf("session cookies do not open: %v", f)
	}
	return pt
}

// wideBudget lets a session take up to 32 full-size cookies in a request
// and in a response: the sessions whose payloads seed the targets may be
// larger than any preset allows.
var wideBudget = sealed.Budget{MaxBytes: 1 << 20, MaxChunks: cookie.MaxChunks, MaxResponseBytes: 1 << 20}

func manager(ring *sealed.Keyring, o sealed.Options) *sealed.Manager {
	o.Now = func() time.Time { return fixedNow }
	o.Logger = slog.New(slog.DiscardHandler)
	m, err := sealed.New(ring, &o)
	check(err)
	return m
}

// session makes a session through the public API, fills it and saves it,
// returning its Set-Cookie lines in order.
func session(m *sealed.Manager, fill func(*sealed.Session)) []string {
	s, err := m.Load(context.Background())
	check(err)
	fill(s)
	lines, err := m.Save(context.Background(), s)
	check(err)
	if len(lines) == 0 {
		log.Fatal("session saved no cookie")
	}
	return lines
}

// joined reassembles the sealed value of a session's Set-Cookie lines.
func joined(lines []string) string {
	var b strings.Builder
	for i, l := range lines {
		c, err := http.ParseSetCookie(l)
		check(err)
		v := c.Value
		if i == 0 && len(lines) > 1 {
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
		for i := 0; i < payload.MaxDepth-3; i++ {
			v = []any{v}
		}
		must(s.Set("deep", v))
		var w any = map[string]any{}
		for i := 0; i < payload.MaxDepth-3; i++ {
			w = map[string]any{"m": w}
		}
		must(s.Set("deepmap", w))
	}},
	{"widest", func(s *sealed.Session) {
		must(s.Set("wide", make([]int, payload.MaxItems)))
	}},
	{"subject-only", func(s *sealed.Session) { must(s.SetSubject("x")) }},
	{"3k", func(s *sealed.Session) { must(s.Set("blob", pseudo(3000, 1))) }},
	{"6k", func(s *sealed.Session) { must(s.Set("blob", pseudo(6000, 2))) }},
	{"10k", func(s *sealed.Session) { must(s.Set("blob", pseudo(10000, 3))) }},
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

func b64Seeds(vs []vector) []seed {
	var out []seed
	for i, s := range []string{"", "A", "AA", "AB", "AAA", "AAB", "AAAA", "QUJDRA", "QUJD\nRA", "QUJDRA==", "-_-_", "abcdefgh12345678", "QUJDREVGR0hJSktMTU5PUA"} {
		out = append(out, seed{fmt.Sprintf("case-%02d", i), []any{[]byte(s)}})
	}
	for _, v := range vs {
		if len(v.Sealed) <= 1024 { // not the over-long one
			out = append(out, seed{"vector-" + v.Name, []any{[]byte(v.Sealed)}})
		}
	}
	return out
}

func openSeeds(vs []vector, s *sealer, ring *sealed.Keyring) []seed {
	var out []seed
	for _, v := range vs {
		out = append(out, seed{"vector-" + v.Name, []any{v.Sealed, v.CookieName, v.Purpose}})
	}
	for _, n := range []int{0, 1, 2, 3, 14, 100} {
		for _, np := range [][3]string{{cookieName, sessionPurpose, "session"}, {"csrf", "csrf-token", "csrf"}, {"", "", "empty-name"}} {
			val := s.seal(np[0], np[1], pseudo(n, byte(n)))
			out = append(out, seed{fmt.Sprintf("seal-%d-%s", n, np[2]), []any{val, np[0], np[1]}})
		}
	}
	m := manager(ring, sealed.Options{Budget: wideBudget})
	for _, label := range []string{"small", "types", "3k"} {
		lines := session(m, fillNamed(label))
		out = append(out, seed{"session-" + label, []any{joined(lines), cookieName, sessionPurpose}})
	}
	for _, v := range []string{"", "A", strings.Repeat("A", 70), strings.Repeat("A", 71), strings.Repeat("_", 72), "AQ"} {
		out = append(out, seed{fmt.Sprintf("edge-%d", len(v)), []any{v, cookieName, sessionPurpose}})
	}
	return out
}

func canonicalSeeds(vs []vector, s *sealer) []seed {
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
		val := s.seal(cookieName, sessionPurpose, pseudo(n, 7))
		last := uint32(len(val) - 1)
		out = append(out,
			seed{fmt.Sprintf("seal-%d-last", n), []any{cookieName, sessionPurpose, val, last, val[last] ^ 1}},
			seed{fmt.Sprintf("seal-%d-mid", n), []any{cookieName, sessionPurpose, val, uint32(len(val) / 2), byte('=')}},
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

// payloadOf builds [id, created, subject, {entries}, [flashes]] from
// already encoded entries (key then value, each encoded).
func payloadOf(created uint64, subject string, entries []byte, nEntries int, flashes ...string) []byte {
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

// fields builds the payload array from its five fields, each encoded.
func fields(parts ...[]byte) []byte {
	return append(cbor(nil).head(4, uint64(len(parts))), bytes.Join(parts, nil)...)
}

func nested(levels int, inner []byte) []byte {
	var c cbor
	for i := 0; i < levels; i++ {
		c = c.head(4, 1)
	}
	return append(c, inner...)
}

func payloadSeeds(vs []vector, s *sealer, ring *sealed.Keyring) []seed {
	var out []seed
	m := manager(ring, sealed.Options{Budget: wideBudget})
	for _, f := range fills {
		out = append(out, seed{"session-" + f.label, []any{s.open(session(m, f.fill))}})
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
	id := append(cbor(nil).head(2, 16), "0123456789abcdef"...)
	createdEnc := cbor(nil).head(0, created)
	empty := []byte{0x60}
	noValues, noFlashes := []byte{0xa0}, []byte{0x80}
	manyFlashes := func(n int) []string { return strings.Split(strings.Repeat("x,", n-1)+"x", ",") }
	hand := []struct {
		label string
		pt    []byte
	}{
		{"ok-minimal", payloadOf(created, "", nil, 0)},
		{"ok-one-key", payloadOf(created, "s", kv("a", one), 1, "f")},
		{"ok-float16", payloadOf(created, "", kv("f", []byte{0xf9, 0x3c, 0x00}), 1)},
		{"ok-float64-one", payloadOf(created, "", kv("f", []byte{0xfb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0}), 1)},
		{"ok-simple-32", payloadOf(created, "", kv("s", []byte{0xf8, 0x20}), 1)},
		{"ok-undefined", payloadOf(created, "", kv("u", []byte{0xf7}), 1)},
		{"ok-depth-16-empty", payloadOf(created, "", kv("d", nested(13, []byte{0x80})), 1)},
		{"ok-created-zero", payloadOf(0, "", nil, 0)},
		{"ok-created-at-limit", payloadOf(created+61000, "", nil, 0)},
		{"ok-created-max", payloadOf(math.MaxInt64, "", nil, 0)},
		{"ok-inner-map-unsorted", payloadOf(created, "", kv("m", []byte{0xa2, 0x61, 'b', 1, 0x61, 'a', 2}), 1)},
		{"ok-inner-map-dup", payloadOf(created, "", kv("m", []byte{0xa2, 0x61, 'a', 1, 0x61, 'a', 2}), 1)},
		{"ok-inner-map-int-keys", payloadOf(created, "", kv("m", []byte{0xa1, 0x01, 0x02}), 1)},
		{"ok-4096-flashes", payloadOf(created, "", nil, 0, manyFlashes(4096)...)},
		{"4097-flashes", payloadOf(created, "", nil, 0, manyFlashes(4097)...)},
		{"depth-16-scalar", payloadOf(created, "", kv("d", nested(14, one)), 1)},
		{"depth-17", payloadOf(created, "", kv("d", nested(15, one)), 1)},
		{"created-future", payloadOf(created+62000, "", nil, 0)},
		{"created-huge", payloadOf(1<<63, "", nil, 0)},
		{"created-negative", fields(id, []byte{0x20}, empty, noValues, noFlashes)},
		{"created-float", fields(id, []byte{0xf9, 0x3c, 0x00}, empty, noValues, noFlashes)},
		{"simple-below-32", payloadOf(created, "", kv("s", []byte{0xf8, 0x10}), 1)},
		{"tag", payloadOf(created, "", kv("t", []byte{0xc1, 0x01}), 1)},
		{"tag-payload", append([]byte{0xc0}, payloadOf(created, "", nil, 0)...)},
		{"indefinite-array", payloadOf(created, "", kv("i", []byte{0x9f, 0x01, 0xff}), 1)},
		{"indefinite-values", fields(id, createdEnc, empty, []byte{0xbf, 0xff}, noFlashes)},
		{"indefinite-subject", fields(id, createdEnc, []byte{0x7f, 0x61, 'a', 0xff}, noValues, noFlashes)},
		{"break", payloadOf(created, "", kv("b", []byte{0xff}), 1)},
		{"reserved-ai", payloadOf(created, "", kv("r", []byte{0x1c}), 1)},
		{"non-shortest-int", payloadOf(created, "", kv("n", []byte{0x18, 0x05}), 1)},
		{"non-shortest-created", fields(id, []byte{0x1b, 0, 0, 0, 0, 0, 0, 0, 1}, empty, noValues, noFlashes)},
		{"non-shortest-subject", fields(id, createdEnc, []byte{0x78, 0x01, 'a'}, noValues, noFlashes)},
		{"non-shortest-id", fields(append([]byte{0x58, 16}, "0123456789abcdef"...), createdEnc, empty, noValues, noFlashes)},
		{"non-shortest-values", fields(id, createdEnc, empty, []byte{0xb8, 0x00}, noFlashes)},
		{"non-shortest-wrapper", payloadOf(created, "", append(cbor(nil).text("a"), 0x58, 0x01, 0x01), 1)},
		{"null-id", fields([]byte{0xf6}, createdEnc, empty, noValues, noFlashes)},
		{"null-values", fields(id, createdEnc, empty, []byte{0xf6}, noFlashes)},
		{"null-flashes", fields(id, createdEnc, empty, noValues, []byte{0xf6})},
		{"undefined-flashes", fields(id, createdEnc, empty, noValues, []byte{0xf7})},
		{"null-value", payloadOf(created, "", bare("a", []byte{0xf6}), 1)},
		{"null-subject", fields(id, createdEnc, []byte{0xf6}, noValues, noFlashes)},
		{"text-id", fields(cbor(nil).text("0123456789abcdef"), createdEnc, empty, noValues, noFlashes)},
		{"bytes-subject", fields(id, createdEnc, []byte{0x41, 'a'}, noValues, noFlashes)},
		{"bytes-key", payloadOf(created, "", append([]byte{0x41, 'a', 0x41}, one...), 1)},
		{"bytes-flash", fields(id, createdEnc, empty, noValues, []byte{0x81, 0x41, 'a'})},
		{"text-value", payloadOf(created, "", bare("a", []byte{0x61, 'x'}), 1)},
		{"unsorted-keys", payloadOf(created, "", append(kv("b", one), kv("a", one)...), 2)},
		{"length-order-keys", payloadOf(created, "", append(kv("aa", one), kv("b", one)...), 2)},
		{"dup-keys", payloadOf(created, "", append(kv("a", one), kv("a", one)...), 2)},
		{"int-key", payloadOf(created, "", []byte{0x01, 0x01}, 1)},
		{"bad-utf8-subject", payloadOf(created, "\xff", nil, 0)},
		{"bad-utf8-key", payloadOf(created, "", kv("\xc3", one), 1)},
		{"bad-utf8-value", payloadOf(created, "", kv("v", []byte{0x61, 0xff}), 1)},
		{"bad-utf8-flash", payloadOf(created, "", nil, 0, "\xed\xa0\x80")},
		{"trailing-byte", append(payloadOf(created, "", nil, 0), 0)},
		{"four-fields", cbor(nil).head(4, 4).head(2, 16)},
		{"six-fields", fields(id, createdEnc, empty, noValues, noFlashes, noFlashes)},
		{"map-not-array", cbor(nil).head(5, 0)},
		{"id-15", fields(append(cbor(nil).head(2, 15), "0123456789abcde"...), createdEnc, empty, noValues, noFlashes)},
		{"id-17", fields(append(cbor(nil).head(2, 17), "0123456789abcdefg"...), createdEnc, empty, noValues, noFlashes)},
		{"4097-items", payloadOf(created, "", kv("w", append(cbor(nil).head(4, 4097), make([]byte, 4097)...)), 1)},
		{"huge-count", payloadOf(created, "", kv("w", cbor(nil).head(4, 1<<40)), 1)},
		{"huge-string", payloadOf(created, "", kv("w", cbor(nil).head(2, 1<<62)), 1)},
		{"huge-values-count", fields(id, createdEnc, empty, cbor(nil).head(5, 1<<40), noFlashes)},
		{"value-not-wrapped", payloadOf(created, "", bare("a", one), 1)},
		{"value-wrapped-twice", payloadOf(created, "", kv("a", append(cbor(nil).head(2, 1), one...)), 1)},
		{"wrapper-truncated", payloadOf(created, "", bare("a", []byte{0x45, 0x01}), 1)},
		{"empty", nil},
	}
	for _, h := range hand {
		out = append(out, seed{"hand-" + h.label, []any{h.pt}})
	}
	return out
}

// payloadLimitSeeds are payloads at the format's limits, for the oracle,
// whose rule names them; too large to be worth a copy in every target that
// takes a payload. Printable bytes, so that the files stay near the
// payloads' sizes.
func payloadLimitSeeds() []seed {
	created := uint64(fixedUnix) * 1000
	// 64 characters in byte order, so that two-character keys sort as
	// written; each value is the item 0x30 (-17).
	const alphabet = "0123456789@ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
	keys := func(n int) []byte {
		var c cbor
		for i := 0; i < n && i < 64*64; i++ {
			c = append(c.text(string([]byte{alphabet[i/64], alphabet[i%64]})), 0x41, 0x30)
		}
		if n > 64*64 {
			c = append(c.text("000"), 0x41, 0x30)
		}
		return c
	}
	// Of a payload with no values or flashes, all but 34 bytes are the
	// subject's.
	subject := strings.Repeat("a", payload.MaxBytes-34)
	atMax, overMax := payloadOf(created, subject, nil, 0), payloadOf(created, subject+"a", nil, 0)
	if len(atMax) != payload.MaxBytes || len(overMax) != payload.MaxBytes+1 {
		log.Fatalf("limit payloads of %d and %d bytes", len(atMax), len(overMax))
	}
	return []seed{
		{"limit-4096-keys", []any{payloadOf(created, "", keys(4096), 4096)}},
		{"limit-4097-keys", []any{payloadOf(created, "", keys(4097), 4097)}},
		{"limit-max-bytes", []any{atMax}},
		{"limit-over-max-bytes", []any{overMax}},
	}
}

func scalarSeeds() []seed {
	var out []seed
	add := func(label string, val []byte, s string, i int64, b bool) {
		out = append(out, seed{label, []any{val, s, i, b}})
	}
	texts := []string{"", "a", strings.Repeat("x", 23), strings.Repeat("x", 24), strings.Repeat("y", 255), strings.Repeat("z", 256), "ünïcødé ✓", "\xff", "\xed\xa0\x80", "a\x00b"}
	ints := []int64{0, 1, 23, 24, 255, 256, 65535, 65536, 1<<32 - 1, 1 << 32, math.MaxInt64, -1, -24, -25, -256, -257, -65537, math.MinInt64}
	for i, s := range texts {
		enc := cbor(nil).text(s)
		add(fmt.Sprintf("text-%02d", i), enc, s, ints[i%len(ints)], i%2 == 0)
	}
	for i, n := range ints {
		var enc cbor
		if n < 0 {
			enc = enc.head(1, uint64(-(n + 1)))
		} else {
			enc = enc.head(0, uint64(n))
		}
		add(fmt.Sprintf("int-%02d", i), enc, texts[i%len(texts)], n, i%2 == 1)
	}
	for i, raw := range [][]byte{
		{0xf4}, {0xf5}, {0xf6}, {0xf7}, {0xf8, 0x20}, {0xf9, 0x3c, 0x00}, {0xfb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0},
		{0x18, 0x05}, {0x19, 0x00, 0x05}, {0x38, 0x05}, {0x1b, 0x80, 0, 0, 0, 0, 0, 0, 0}, {0x3b, 0x80, 0, 0, 0, 0, 0, 0, 0},
		{0x3b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, {0x78, 0x01, 'a'}, {0x61, 'a', 0x00}, {0x62, 'a'}, {0x41, 'a'},
		{0x7f, 0x61, 'a', 0xff}, {0xc1, 0x01}, {0x81, 0x01}, {0xa0}, {0xf5, 0x00}, {0x1c}, {0xff}, {},
	} {
		add(fmt.Sprintf("raw-%02d", i), raw, texts[i%len(texts)], ints[i%len(ints)], i%2 == 0)
	}
	return out
}

// The cookie layer's pool, as in internal/cookie/fuzz_test.go (fzPoolSizes,
// fzPoolEnv, fzWide): gencorpus needs its chunk counts.
var chunkPoolSizes = []int{130, 240, 3150, 6150, 8150}

func chunkPoolCounts() []int {
	j, err := cookie.New(cookie.Config{
		Name: cookieName, Path: "/", Secure: true, SameSite: http.SameSiteLaxMode,
		Budget: cookie.Budget{MaxBytes: 1 << 20, MaxChunks: cookie.MaxChunks, MaxLineBytes: 512},
		MaxAge: 400 * 24 * 3600, MaxDecoded: envelope.MaxSize,
	})
	check(err)
	var counts []int
	for i, size := range chunkPoolSizes {
		env := make([]byte, size)
		for k := range env {
			env[k] = byte(k*7 + i)
		}
		lines, _, tl := j.Write(env, 86400, 0)
		if tl != nil {
			log.Fatalf("FuzzChunks pool envelope %d does not fit", i)
		}
		counts = append(counts, len(lines))
	}
	return counts
}

// FuzzChunks records: [name, kind, a, b] then, for a literal (even kind),
// a<<8|b bytes of value; an odd kind is chunk b of pool envelope a.
func ref(name, env, chunk int) []byte {
	return []byte{byte(name), 1, byte(env), byte(chunk)}
}

func lit(name int, value string) []byte {
	if len(value) > 0xffff {
		log.Fatal("literal too long for a record")
	}
	return append([]byte{byte(name), 0, byte(len(value) >> 8), byte(len(value))}, value...)
}

// otherCookieSel is the index of "other" in fzChunkNames.
const otherCookieSel = 52

func chunkSeeds(vs []vector) []seed {
	counts := chunkPoolCounts()
	fmt.Printf("FuzzChunks pool: chunks per envelope %v\n", counts)
	var out []seed
	add := func(label string, data []byte, size uint16, sd uint64) {
		out = append(out, seed{label, []any{data, size, sd}})
	}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	sizes := []uint16{0, 100, 4000, 8000, 11000, 12288}
	for p, n := range counts {
		var inOrder, reversed []byte
		for i := 0; i < n; i++ {
			inOrder = append(inOrder, ref(i, p, i)...)
			reversed = append(ref(i, p, i), reversed...)
		}
		k := p % len(sizes)
		add(fmt.Sprintf("pool%d-in-order", p), inOrder, sizes[k], uint64(p))
		add(fmt.Sprintf("pool%d-reversed-other", p), cat(reversed, lit(otherCookieSel, "x")), sizes[(k+1)%len(sizes)], uint64(p+1))
		add(fmt.Sprintf("pool%d-dup-last", p), cat(inOrder, ref(n-1, p, n-1)), 0, 0)
		add(fmt.Sprintf("pool%d-stale", p), cat(inOrder, ref(n, p, 0), lit(40, "AAAA")), 0, 0)
		if n > 1 {
			add(fmt.Sprintf("pool%d-missing-last", p), inOrder[:4*(n-1)], 0, 0)
			add(fmt.Sprintf("pool%d-leading-zero", p), cat(inOrder[:4], ref(41, p, 1), inOrder[8:]), 0, 0)
			other := (p + 1) % len(counts)
			add(fmt.Sprintf("pool%d-mixed-generation", p), cat(inOrder[:4*(n-1)], ref(n-1, other, n-1)), 0, 0)
		}
	}
	add("vector-literal", lit(0, vs[0].Sealed), 0, 0)
	add("count-literal", cat(lit(0, "3.AAAA"), lit(1, "AAAA"), lit(2, "AA")), 1, 6)
	add("spaces-semicolons", cat(lit(0, " AAAA ; x=1"), lit(1, "AAAA\t")), 2, 3)
	add("newline", lit(0, "AA\nAA"), 0, 0)
	for i, size := range sizes {
		add(fmt.Sprintf("write-%d", size), nil, size, uint64(i)*0x9e3779b97f4a7c15)
	}
	// Envelopes that leave the default budget's response part full, so
	// that deletions of the chunks held are left out.
	for i, size := range []uint16{1500, 2200} {
		add(fmt.Sprintf("write-%d", size), nil, size, uint64(len(sizes)+i)*0x9e3779b97f4a7c15)
	}
	add("empty", nil, 0, 0)
	return out
}

// The root package's pool, as in fuzz_test.go (fzPoolSizes, fzPoolFill,
// fzMiddlewareBudget): gencorpus needs its chunk counts.
var (
	middlewarePoolSizes = []int{0, 100, 3000}
	middlewareBudget    = sealed.BudgetNginx8k()
)

func poolFill(s *sealed.Session, i, size int) {
	must(errors.Join(s.SetSubject(fmt.Sprintf("user-%d", i)), s.AddFlash("hello")))
	must(s.Set("user", "alice"))
	blob := make([]byte, size)
	for j := range blob {
		blob[j] = byte(j*7 + i)
	}
	must(s.Set("blob", blob))
}

// poolCounts returns the number of chunks of each pool session.
func poolCounts(keys []sealed.Key, sizes []int) []int {
	retired, err := sealed.NewKeyring(keys[1], keys[0])
	check(err)
	var counts []int
	for i, size := range append(append([]int(nil), sizes...), sizes[1]) {
		ring, err := sealed.NewKeyring(keys...)
		check(err)
		if i == len(sizes) {
			ring = retired
		}
		lines := session(manager(ring, sealed.Options{Budget: middlewareBudget}), func(s *sealed.Session) { poolFill(s, i, size) })
		counts = append(counts, len(lines))
	}
	return counts
}

func middlewareSeeds(keys []sealed.Key, vs []vector) []seed {
	counts := poolCounts(keys, middlewarePoolSizes)
	fmt.Printf("FuzzMiddleware pool: chunks per session %v\n", counts)
	if len(counts) != 4 || counts[2] != 2 {
		log.Fatalf("FuzzMiddleware pool: want 4 sessions, the third in 2 chunks; got %v", counts)
	}
	// "$" + session digit + chunk digit: '0'..'3' are 0..3 modulo the 4
	// sessions, and '0', '1' are chunks 0, 1 modulo 2.
	const name = cookieName
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

func saveSeeds() []seed {
	var out []seed
	sizes := []uint16{0, 100, 4000, 8000, 11000, 12288}
	keyNames := []string{"v", "", "ключ", "key", strings.Repeat("k", 40), "\x00", "\xff", strings.Repeat("é", 600)}
	for i, size := range sizes {
		for j, key := range keyNames {
			if (i+j)%2 == 0 {
				out = append(out, seed{fmt.Sprintf("size%d-key%d", size, j), []any{size, uint64(i*len(keyNames) + j), key}})
			}
		}
	}
	return out
}

func keyringSeeds(keys []sealed.Key) []seed {
	var out []seed
	add := func(label string, doc []byte) { out = append(out, seed{label, []any{doc}}) }
	jk := func(ks ...sealed.Key) []byte {
		var out []jwk.Key
		for _, k := range ks {
			out = append(out, jwk.Key{ID: k.ID, Secret: k.Secret})
		}
		doc, err := jwk.Marshal(out)
		check(err)
		return doc
	}
	add("vectors", jk(keys...))
	add("one-key", jk(keys[0]))
	add("three-keys", jk(append(append([]sealed.Key(nil), keys...), sealed.Key{ID: "2027-01-next", Secret: bytes.Repeat([]byte{0x5a}, 32)})...))

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
		kid := envelope.KeyID(id)
		if prev, ok := seen[kid]; ok {
			return prev, id
		}
		seen[kid] = id
	}
}
