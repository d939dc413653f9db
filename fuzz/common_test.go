package fuzz_test

import (
	"bytes"
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sealedgo/sealed"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/chacha20poly1305"
)

// The fixed inputs every target shares with gencorpus.go. Seeds sealed by
// the generator open only under these keys and this clock, so changing any
// of them means running the generator again.
const (
	// fixedUnix is the clock of every manager here (and the issued-at of
	// the golden vectors).
	fixedUnix = 1795392000
	// cookieName is the default name of a secure manager's session cookie.
	cookieName = "__Host-session"
	// sessionPurpose is the purpose the session layer seals with (see
	// manager.go); it is not exported, so it is repeated here.
	sessionPurpose = "session"
	// keysVector is the golden vector whose keyring every target uses.
	keysVector = "../testdata/vectors/01-ok-primary.json"
)

var fixedNow = time.Unix(fixedUnix, 0)

// quiet drops the managers' log lines, which would otherwise flood the
// fuzzer's output (a rejected cookie is logged at debug level, a failed
// save at error level).
var quiet = slog.New(slog.DiscardHandler)

// requireCorpus fails the target when its committed seed corpus is missing,
// so that a lost or renamed directory cannot leave a target fuzzing from
// nothing. It must run before f.Fuzz.
func requireCorpus(f *testing.F) {
	f.Helper()
	dir := filepath.Join("testdata", "fuzz", f.Name())
	entries, err := os.ReadDir(dir)
	if err != nil {
		f.Fatalf("seed corpus %s: %v (run: go run ./fuzz/gencorpus.go)", dir, err)
	}
	n := 0
	for _, e := range entries {
		if e.Type().IsRegular() {
			n++
		}
	}
	if n == 0 {
		f.Fatalf("seed corpus %s has no files (run: go run ./fuzz/gencorpus.go)", dir)
	}
}

type vectorFile struct {
	Keys []struct {
		KID    string `json:"kid"`
		Secret string `json:"secret_hex"`
	} `json:"keys"`
}

// testKeys returns the golden vectors' keyring: the primary first, then the
// retired key.
func testKeys(tb testing.TB) []sealed.Key {
	tb.Helper()
	data, err := os.ReadFile(keysVector)
	require.NoError(tb, err)
	var v vectorFile
	require.NoError(tb, json.Unmarshal(data, &v))
	keys := make([]sealed.Key, len(v.Keys))
	for i, k := range v.Keys {
		secret, err := hex.DecodeString(k.Secret)
		require.NoError(tb, err)
		keys[i] = sealed.Key{ID: k.KID, Secret: secret}
	}
	require.NotEmpty(tb, keys)
	return keys
}

func testRing(tb testing.TB, keys []sealed.Key) *sealed.Keyring {
	tb.Helper()
	r, err := sealed.NewKeyring(keys...)
	require.NoError(tb, err)
	return r
}

func newManager(tb testing.TB, ring *sealed.Keyring, o sealed.Options) *sealed.Manager {
	tb.Helper()
	return newManagerAt(tb, ring, o, fixedNow)
}

// newManagerAt is newManager with its clock stopped at now.
func newManagerAt(tb testing.TB, ring *sealed.Keyring, o sealed.Options, now time.Time) *sealed.Manager {
	tb.Helper()
	o.Now = func() time.Time { return now }
	o.Logger = quiet
	m, err := sealed.New(ring, &o)
	require.NoError(tb, err)
	return m
}

// ---------------------------------------------------------------------------
// Reference implementation of SPEC.md, written from the document alone. The
// targets compare the package against it.

const (
	refOverhead  = 53
	refMaxPlain  = 98304
	refMaxSealed = 131143 // base64 length of refMaxPlain + refOverhead bytes
)

func refKid4(id string) []byte {
	h := sha256.Sum256([]byte("github.com/sealedgo/sealed v1 key id " + id))
	return h[:4]
}

func refAlphabet(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// refOpen follows "Sealing and opening / Opening" step by step.
func refOpen(keys []sealed.Key, name, purpose, s string) (pt []byte, keyID string, iat uint64, ok bool) {
	if len(s) > refMaxSealed || !refAlphabet(s) || len(s)%4 == 1 || 3*len(s)/4 < refOverhead {
		return nil, "", 0, false
	}
	env, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || env[0] != 0x01 {
		return nil, "", 0, false
	}
	var key *sealed.Key
	for i := range keys {
		if bytes.Equal(refKid4(keys[i].ID), env[1:5]) {
			key = &keys[i]
			break
		}
	}
	if key == nil {
		return nil, "", 0, false
	}
	iat = binary.BigEndian.Uint64(env[5:13])
	if iat > math.MaxInt64 {
		return nil, "", 0, false
	}
	sk, err := hkdf.Key(sha256.New, key.Secret, nil, "github.com/sealedgo/sealed v1 xchacha20poly1305 purpose "+purpose, 32)
	if err != nil {
		return nil, "", 0, false
	}
	aead, err := chacha20poly1305.NewX(sk)
	if err != nil {
		return nil, "", 0, false
	}
	ad := append([]byte(nil), env[:37]...)
	ad = binary.BigEndian.AppendUint32(ad, uint32(len(name)))
	ad = append(ad, name...)
	ad = binary.BigEndian.AppendUint32(ad, uint32(len(purpose)))
	ad = append(ad, purpose...)
	pt, err = aead.Open(nil, env[13:37], env[37:], ad)
	if err != nil {
		return nil, "", 0, false
	}
	return pt, key.ID, iat, true
}

// refPayload is a session payload as SPEC.md "Session payload" describes it.
type refPayload struct {
	id      [16]byte
	created uint64 // Unix ms
	subject string
	keys    []string
	vals    [][]byte // encoded items (the wrappers' content), in key order
	valOK   []bool   // whether each item passes the rules (Get can decode it)
	flashes []string
}

type refReader struct {
	b   []byte
	off int
}

func (r *refReader) head() (major, ai byte, arg uint64, ok bool) {
	if r.off >= len(r.b) {
		return 0, 0, 0, false
	}
	major, ai = r.b[r.off]>>5, r.b[r.off]&0x1f
	r.off++
	if ai < 24 {
		return major, ai, uint64(ai), true
	}
	if ai > 27 { // reserved, indefinite length, break
		return 0, 0, 0, false
	}
	n := 1 << (ai - 24)
	if len(r.b)-r.off < n {
		return 0, 0, 0, false
	}
	for _, c := range r.b[r.off : r.off+n] {
		arg = arg<<8 | uint64(c)
	}
	r.off += n
	if major == 7 {
		// One-byte simple values below 32 are not well formed; floats of
		// any width are allowed.
		return major, ai, arg, ai != 24 || arg >= 32
	}
	var smallest uint64 = 24
	if n > 1 {
		smallest = 1 << (8 * (n / 2))
	}
	return major, ai, arg, arg >= smallest
}

func (r *refReader) str(n uint64) ([]byte, bool) {
	if n > uint64(len(r.b)-r.off) {
		return nil, false
	}
	s := r.b[r.off : r.off+int(n)]
	r.off += int(n)
	return s, true
}

func (r *refReader) text() (string, bool) {
	major, _, n, ok := r.head()
	if !ok || major != 3 {
		return "", false
	}
	s, ok := r.str(n)
	return string(s), ok && utf8.Valid(s)
}

// item reads one data item that would be a container at nesting level.
func (r *refReader) item(level int) bool {
	major, _, arg, ok := r.head()
	if !ok {
		return false
	}
	switch major {
	case 0, 1, 7:
		return true
	case 2:
		_, ok := r.str(arg)
		return ok
	case 3:
		s, ok := r.str(arg)
		return ok && utf8.Valid(s)
	case 4, 5:
		if level > 16 || arg > 4096 {
			return false
		}
		n := arg
		if major == 5 {
			n *= 2
		}
		for i := uint64(0); i < n; i++ {
			if !r.item(level + 1) {
				return false
			}
		}
		return true
	}
	return false // tags
}

func refKeyLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// refParsePayload applies every rule of the "Decoding" table: the payload's
// at once, each value's (in valOK) as a reader would when the value is read.
func refParsePayload(b []byte) (*refPayload, bool) {
	if len(b) > refMaxPlain {
		return nil, false
	}
	r := &refReader{b: b}
	p := &refPayload{}
	if major, _, n, ok := r.head(); !ok || major != 4 || n != 5 {
		return nil, false
	}
	major, _, n, ok := r.head()
	if !ok || major != 2 || n != 16 {
		return nil, false
	}
	id, ok := r.str(16)
	if !ok {
		return nil, false
	}
	copy(p.id[:], id)
	// SPEC.md: created above 2^63-1 is refused (it fits no signed time).
	if major, _, n, ok = r.head(); !ok || major != 0 || n > math.MaxInt64 {
		return nil, false
	}
	p.created = n
	if p.subject, ok = r.text(); !ok {
		return nil, false
	}
	if major, _, n, ok = r.head(); !ok || major != 5 || n > 4096 {
		return nil, false
	}
	for i := uint64(0); i < n; i++ {
		k, ok := r.text()
		if !ok || (i > 0 && !refKeyLess(p.keys[i-1], k)) {
			return nil, false
		}
		// Each value is a byte string wrapping one item; the payload rules
		// stop at the wrapper, and the item is checked when it is read.
		major, _, vn, ok := r.head()
		if !ok || major != 2 {
			return nil, false
		}
		v, ok := r.str(vn)
		if !ok {
			return nil, false
		}
		vr := &refReader{b: v}
		p.keys = append(p.keys, k)
		p.vals = append(p.vals, v)
		p.valOK = append(p.valOK, vr.item(3) && vr.off == len(v))
	}
	if major, _, n, ok = r.head(); !ok || major != 4 || n > 4096 {
		return nil, false
	}
	for i := uint64(0); i < n; i++ {
		f, ok := r.text()
		if !ok {
			return nil, false
		}
		p.flashes = append(p.flashes, f)
	}
	if r.off != len(b) {
		return nil, false
	}
	return p, true
}

// refTimesOK applies the "Times" rules for a value sealed at iat and read at
// now with the given timeouts and a skew of one minute (the default).
func refTimesOK(createdMs uint64, iat, now time.Time, idle, absolute time.Duration) bool {
	const skew = time.Minute
	if createdMs > math.MaxInt64 {
		return false
	}
	created := time.UnixMilli(int64(createdMs))
	return !iat.After(now.Add(skew)) &&
		!created.After(iat.Add(time.Second+skew)) &&
		!now.After(iat.Add(idle+skew)) &&
		!now.After(created.Add(absolute+skew))
}

type refCookie struct{ name, value string }

// refChunkIndex gives the chunk index of a cookie name: 0 for name itself,
// i for name + "." + decimal(i) with 1 <= i <= 31 and no leading zero, and
// -1 for any other name.
func refChunkIndex(name, cname string) int {
	rest, ok := strings.CutPrefix(cname, name)
	if !ok {
		return -1
	}
	if rest == "" {
		return 0
	}
	digits, ok := strings.CutPrefix(rest, ".")
	if !ok || digits == "" || len(digits) > 2 || digits[0] == '0' {
		return -1
	}
	i, err := strconv.Atoi(digits)
	if err != nil || i < 1 || i > 31 || strconv.Itoa(i) != digits {
		return -1
	}
	return i
}

// refJoin follows "Chunked cookies / Reading": it returns the sealed value
// the cookies carry, and which chunk indexes were present.
func refJoin(cookies []refCookie, name string, maxChunks int) (sealedValue string, present uint32, ok bool) {
	var vals [32]string
	dup := false
	for _, c := range cookies {
		i := refChunkIndex(name, c.name)
		if i < 0 {
			continue
		}
		if present&(1<<i) != 0 {
			dup = true
		}
		present |= 1 << i
		vals[i] = c.value
	}
	if dup || present&1 == 0 {
		return "", present, false
	}
	n, first := 1, vals[0]
	if count, rest, found := strings.Cut(first, "."); found {
		if count == "" || count[0] < '1' || count[0] > '9' || len(count) > 2 {
			return "", present, false
		}
		for _, c := range []byte(count) {
			if c < '0' || c > '9' {
				return "", present, false
			}
		}
		n, _ = strconv.Atoi(count)
		if n < 2 {
			return "", present, false
		}
		first = rest
	}
	if n > maxChunks {
		return "", present, false
	}
	parts := []string{first}
	for i := 1; i < n; i++ {
		if present&(1<<i) == 0 {
			return "", present, false
		}
		parts = append(parts, vals[i])
	}
	for _, p := range parts[:n-1] {
		if len(p)%4 != 0 {
			return "", present, false
		}
	}
	return strings.Join(parts, ""), present, true
}

// refSplitHeader splits Cookie header lines into name=value pairs the way
// servers read them (RFC 6265 section 5.4, as net/http does): pairs
// separated by ";", optional whitespace trimmed, pairs without "=" skipped.
// Unlike net/http it keeps names and values as they are (no quote
// stripping, no validation), which is what the session layer relies on.
func refSplitHeader(lines []string) []refCookie {
	var out []refCookie
	for _, line := range lines {
		for _, part := range strings.Split(line, ";") {
			part = strings.Trim(part, " \t\r\n")
			name, value, ok := strings.Cut(part, "=")
			if ok {
				out = append(out, refCookie{name, value})
			}
		}
	}
	return out
}

// refLoad is the whole reading side: join, open, parse, check the times.
// It says whether a manager with the default timeouts (or absolute, when
// non-zero) and the fixed clock must load the session.
type refOutcome struct {
	loaded  bool
	payload *refPayload
	keyID   string
	present uint32
	chunks  int
}

func refLoad(keys []sealed.Key, cookies []refCookie, name string, maxChunks int, absolute time.Duration) refOutcome {
	var o refOutcome
	joined, present, ok := refJoin(cookies, name, maxChunks)
	o.present = present
	if !ok {
		return o
	}
	pt, keyID, iat, ok := refOpen(keys, name, sessionPurpose, joined)
	if !ok {
		return o
	}
	p, ok := refParsePayload(pt)
	if !ok {
		return o
	}
	if absolute == 0 {
		absolute = sealed.DefaultAbsoluteTimeout
	}
	if !refTimesOK(p.created, time.Unix(int64(iat), 0), fixedNow, sealed.DefaultIdleTimeout, absolute) {
		return o
	}
	o.loaded, o.payload, o.keyID = true, p, keyID
	return o
}

// requireSessionIs checks a loaded session against the reference payload.
func requireSessionIs(t *testing.T, s *sealed.Session, p *refPayload) {
	t.Helper()
	require.Equal(t, hex.EncodeToString(p.id[:]), s.ID())
	require.Equal(t, int64(p.created), s.CreatedAt().UnixMilli())
	require.Equal(t, p.subject, s.Subject())
	keys := s.Keys()
	if len(p.keys) == 0 {
		require.Empty(t, keys)
	} else {
		require.Equal(t, p.keys, keys)
	}
	for i, k := range p.keys {
		raw, ok := s.GetRaw(k)
		require.True(t, ok, "key %q", k)
		require.Equal(t, p.vals[i], raw, "key %q", k)
	}
}

// flashes reads and removes s's flash messages, which a session not yet
// saved always gives.
func flashes(t *testing.T, s *sealed.Session) []string {
	t.Helper()
	fl, err := s.Flashes()
	require.NoError(t, err)
	return fl
}

func sameStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// ---------------------------------------------------------------------------
// Pools of real session chunks. FuzzChunks and FuzzMiddleware refer to them
// by (session, chunk) index instead of carrying kilobytes of sealed text in
// every input, which keeps inputs small, mutation cheap and minimization
// fast. The sessions are sealed at setup with the fixed keys and clock;
// gencorpus.go makes the same sessions (poolFill) to learn their chunk
// counts.

// poolFill fills pool session i, whose blob value has size bytes.
func poolFill(s *sealed.Session, i, size int) error {
	if err := errors.Join(s.SetSubject("user-"+strconv.Itoa(i)), s.AddFlash("hello")); err != nil {
		return err
	}
	if err := s.Set("user", "alice"); err != nil {
		return err
	}
	blob := make([]byte, size)
	for j := range blob {
		blob[j] = byte(j*7 + i)
	}
	return s.Set("blob", blob)
}

// makePool seals one session per size with o, and a last one, of the
// second size, under the ring with the retired key first, so that it
// opens under a non-primary key. It returns each session's cookie values
// in chunk order.
func makePool(tb testing.TB, keys []sealed.Key, o sealed.Options, sizes []int) [][]string {
	tb.Helper()
	ctx := context.Background()
	retired := testRing(tb, []sealed.Key{keys[1], keys[0]})
	var pool [][]string
	for i, size := range append(sizes, sizes[1]) {
		ring := testRing(tb, keys)
		if i == len(sizes) {
			ring = retired
		}
		m := newManager(tb, ring, o)
		s, err := m.Load(ctx, nil)
		require.NoError(tb, err)
		require.NoError(tb, poolFill(s, i, size))
		cs, err := m.Save(ctx, s)
		require.NoError(tb, err)
		vals := make([]string, len(cs))
		for j, c := range cs {
			require.Equal(tb, chunkNameOf(m.CookieName(), j), c.Name)
			vals[j] = c.Value
		}
		pool = append(pool, vals)
	}
	return pool
}

func poolValue(pool [][]string, s, c byte) string {
	chunks := pool[int(s)%len(pool)]
	return chunks[int(c)%len(chunks)]
}
