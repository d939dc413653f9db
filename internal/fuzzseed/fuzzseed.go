// Package fuzzseed holds what the fuzz targets and the conformance kit's
// runners of every package of the module share: the check that a target's
// committed seed corpus is there, the golden vectors' keys the seeds are
// sealed with, the reader of the kit's files (testdata/vectors/<layer>/),
// and the reference reader of SPEC.md "Chunked cookies / Reading".
//
// It also holds MalformedValues, a table two value tests share. It is
// imported only by tests; nothing the library builds depends on it. It imports no package of the module, so
// that the internal packages' own tests (package envelope, package
// cookie, ...) can import it without a cycle.
package fuzzseed

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// module is the path of the module whose root holds testdata/vectors.
const module = "github.com/sealedgo/sealed"

// RequireCorpus fails the target when its committed seed corpus,
// testdata/fuzz/<f.Name()>/ in the package's directory, is missing or
// holds no regular file, so that a lost or renamed directory cannot leave
// a target fuzzing from nothing. It must run before f.Fuzz.
func RequireCorpus(f *testing.F) {
	f.Helper()
	dir := filepath.Join("testdata", "fuzz", f.Name())
	entries, err := os.ReadDir(dir)
	if err != nil {
		f.Fatalf("seed corpus %s: %v (run: go run ./fuzz/gencorpus.go)", dir, err)
	}
	for _, e := range entries {
		if e.Type().IsRegular() {
			return
		}
	}
	f.Fatalf("seed corpus %s has no files (run: go run ./fuzz/gencorpus.go)", dir)
}

// GoldenVector is the envelope vector whose keys seal the fuzz seeds
// (fuzz/gencorpus.go picks it by the same name).
const GoldenVector = "ok-primary"

// GoldenKeys returns the ids and secrets of the golden vectors' keys (those
// of the envelope vector named GoldenVector, in testdata/vectors/envelope/
// at the module's root), the primary first: the keys fuzz/gencorpus.go
// seals the seeds with, in the form envelope.NewRing takes.
func GoldenKeys(tb testing.TB) (ids []string, secrets [][]byte) {
	tb.Helper()
	root, err := moduleRoot()
	if err != nil {
		tb.Fatal(err)
	}
	dir := filepath.Join(root, "testdata", "vectors", "envelope")
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		tb.Fatal(err)
	}
	sort.Strings(files)
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			tb.Fatal(err)
		}
		var v struct {
			Name string `json:"name"`
			Keys []struct {
				KID    string `json:"kid"`
				Secret string `json:"secret_hex"`
			} `json:"keys"`
		}
		if err := json.Unmarshal(data, &v); err != nil {
			tb.Fatalf("%s: %v", path, err)
		}
		if v.Name != GoldenVector {
			continue
		}
		if len(v.Keys) != 2 {
			tb.Fatalf("%s: %d keys, want 2", path, len(v.Keys))
		}
		for _, k := range v.Keys {
			secret, err := hex.DecodeString(k.Secret)
			if err != nil {
				tb.Fatalf("%s: key %q: %v", path, k.KID, err)
			}
			ids, secrets = append(ids, k.KID), append(secrets, secret)
		}
		return ids, secrets
	}
	tb.Fatalf("no envelope vector named %q in %s", GoldenVector, dir)
	return nil, nil
}

// ---------------------------------------------------------------------------
// The conformance kit (testdata/vectors/README.md): one JSON file per
// vector, in a directory per layer.

// Vector is one file of the kit: the fields every file has, and the whole
// file for the layer's own fields.
type Vector struct {
	Path    string // the file, for messages
	Name    string
	Comment string
	Expect  string
	Data    []byte
}

// Decode unmarshals the vector's file into dst (unknown fields ignored, as
// the kit's README requires of readers), failing tb on an error.
func (v Vector) Decode(tb testing.TB, dst any) {
	tb.Helper()
	if err := json.Unmarshal(v.Data, dst); err != nil {
		tb.Fatalf("%s: %v", v.Path, err)
	}
}

// negative is the expect value of each layer's negative vectors.
var negative = map[string]string{
	"envelope": "invalid",
	"payload":  "invalid",
	"jwk":      "invalid",
	"chunks":   "absent",
	"times":    "absent",
	"sessions": "absent",
}

// Vectors returns the vectors of one layer of the kit, its directory
// testdata/vectors/<layer>/ at the module's root, in file name order. See
// VectorsIn.
func Vectors(tb testing.TB, layer string) []Vector {
	tb.Helper()
	neg, ok := negative[layer]
	if !ok {
		tb.Fatalf("no layer %q in the conformance kit", layer)
	}
	root, err := moduleRoot()
	if err != nil {
		tb.Fatal(err)
	}
	return VectorsIn(tb, filepath.Join(root, "testdata", "vectors", layer), neg)
}

// VectorsIn returns the vectors (*.json) of dir in file name order. It
// fails tb unless every file is a JSON object named NN-<name>.json after
// its name field, with a comment, and an expect of "ok" or neg, and unless
// the directory holds at least one vector of each.
func VectorsIn(tb testing.TB, dir, neg string) []Vector {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		tb.Fatal(err)
	}
	sort.Strings(files)
	var out []Vector
	var pos, negs int
	names := map[string]string{}
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			tb.Fatal(err)
		}
		var common struct {
			Name    *string `json:"name"`
			Comment *string `json:"comment"`
			Expect  *string `json:"expect"`
		}
		if err := json.Unmarshal(data, &common); err != nil {
			tb.Fatalf("%s: not a JSON object: %v", path, err)
		}
		if common.Name == nil || common.Comment == nil || common.Expect == nil {
			tb.Fatalf("%s: name, comment and expect are required", path)
		}
		base := filepath.Base(path)
		num, rest, found := strings.Cut(base, "-")
		if !found || len(num) < 2 || strings.Trim(num, "0123456789") != "" || rest != *common.Name+".json" {
			tb.Fatalf("%s: want the file name NN-%s.json", path, *common.Name)
		}
		if prev, dup := names[*common.Name]; dup {
			tb.Fatalf("%s: name %q is also %s's", path, *common.Name, prev)
		}
		names[*common.Name] = base
		switch *common.Expect {
		case "ok":
			pos++
		case neg:
			negs++
		default:
			tb.Fatalf("%s: expect %q, want \"ok\" or %q", path, *common.Expect, neg)
		}
		out = append(out, Vector{Path: path, Name: *common.Name, Comment: *common.Comment, Expect: *common.Expect, Data: data})
	}
	if pos == 0 || negs == 0 {
		tb.Fatalf("%s: %d positive and %d negative vectors; the kit needs both", dir, pos, negs)
	}
	return out
}

// Hex decodes a vector's hex field, failing tb on an error. Fields ending
// _hex are lowercase.
func Hex(tb testing.TB, field, s string) []byte {
	tb.Helper()
	b, err := hex.DecodeString(s)
	if err != nil || hex.EncodeToString(b) != s {
		tb.Fatalf("%s: not lowercase hex: %q", field, s)
	}
	return b
}

// moduleRoot returns the directory of the module's go.mod: the nearest one
// at or above the working directory, which go test sets to the directory
// of the package under test, that declares the module.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for start := dir; ; {
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && declares(data, module) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", &os.PathError{Op: "find the root of module " + module, Path: start, Err: os.ErrNotExist}
		}
		dir = parent
	}
}

// declares reports whether the go.mod file data declares module path.
func declares(data []byte, path string) bool {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module"); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`) == path
		}
	}
	return false
}

// ---------------------------------------------------------------------------
// Reference reader, written from SPEC.md "Chunked cookies / Reading" alone,
// for the targets to check the cookie layer and the middleware against.

// Cookie is one name=value pair of a Cookie header, as sent.
type Cookie struct{ Name, Value string }

// RefChunkName is the cookie name of chunk i of the session cookie name.
func RefChunkName(name string, i int) string {
	if i == 0 {
		return name
	}
	return name + "." + strconv.Itoa(i)
}

// RefChunkIndex gives the chunk index of a cookie called cname: 0 for name
// itself, i for name + "." + decimal(i) with 1 <= i <= 31 and no leading
// zero, and -1 for any other name.
func RefChunkIndex(name, cname string) int {
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

// RefSplitHeader splits Cookie header lines into name=value pairs the way
// servers read them (RFC 6265 section 5.4, as net/http does): pairs
// separated by ";", optional whitespace trimmed, pairs without "="
// skipped. Unlike net/http it keeps names and values as they are (no quote
// stripping, no validation), which is what the session layer relies on.
func RefSplitHeader(lines []string) []Cookie {
	var out []Cookie
	for _, line := range lines {
		for _, part := range strings.Split(line, ";") {
			part = strings.Trim(part, " \t\r\n")
			name, value, ok := strings.Cut(part, "=")
			if ok {
				out = append(out, Cookie{name, value})
			}
		}
	}
	return out
}

// RefJoin returns the sealed value the cookies carry for the session
// cookie name, read with at most maxChunks chunks, its number of chunks,
// and which chunk indexes were present (whether or not a value was read).
// No chunk of the count may be empty (the first after its "n." prefix).
func RefJoin(cookies []Cookie, name string, maxChunks int) (sealed string, n int, present uint32, ok bool) {
	var vals [32]string
	dup := false
	for _, c := range cookies {
		i := RefChunkIndex(name, c.Name)
		if i < 0 {
			continue
		}
		if present&(1<<i) != 0 {
			dup = true
		}
		present |= 1 << i
		vals[i] = c.Value
	}
	if dup || present&1 == 0 {
		return "", 0, present, false
	}
	n, first := 1, vals[0]
	if count, rest, found := strings.Cut(first, "."); found {
		if count == "" || count[0] < '1' || count[0] > '9' || len(count) > 2 {
			return "", 0, present, false
		}
		for _, c := range []byte(count) {
			if c < '0' || c > '9' {
				return "", 0, present, false
			}
		}
		n, _ = strconv.Atoi(count)
		if n < 2 {
			return "", 0, present, false
		}
		first = rest
	}
	if n > maxChunks {
		return "", 0, present, false
	}
	parts := []string{first}
	for i := 1; i < n; i++ {
		if present&(1<<i) == 0 {
			return "", 0, present, false
		}
		parts = append(parts, vals[i])
	}
	for i, p := range parts {
		if p == "" {
			return "", 0, present, false // an empty chunk (the first after its count)
		}
		if i < n-1 && len(p)%4 != 0 {
			return "", 0, present, false
		}
	}
	return strings.Join(parts, ""), n, present, true
}

// MalformedValues are encoded session values that a payload walk accepts
// (each is the content of a value's byte string) but that every decoding
// path must refuse, by name, in hex with spaces. maxDepth is
// payload.MaxDepth, which this package cannot import.
func MalformedValues(maxDepth int) map[string]string {
	return map[string]string{
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
		"depth":                  strings.Repeat("81 ", maxDepth-1) + "01",
	}
}
