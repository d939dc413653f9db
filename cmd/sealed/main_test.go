package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealedgo/sealed"
	"github.com/sealedgo/sealed/internal/inspect"
	"github.com/sealedgo/sealed/internal/jwk"
)

type result struct {
	code           int
	stdout, stderr string
}

// sh runs the command line with the given stdin and environment.
func sh(t *testing.T, stdin string, env map[string]string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errb, func(k string) string { return env[k] })
	return result{code, out.String(), errb.String()}
}

var kidPattern = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ-[0-9a-f]{4}$`)

// writeKeys writes a JWK Set of keys with the given ids to a new file with
// mode 0600 and returns its path and the keys.
func writeKeys(t *testing.T, ids ...string) (string, []jwk.Key) {
	t.Helper()
	keys := make([]jwk.Key, len(ids))
	for i, id := range ids {
		keys[i] = generateKey(id)
	}
	data, err := jwk.Marshal(keys)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "keys.json")
	require.NoError(t, os.WriteFile(path, data, 0o600))
	require.NoError(t, os.Chmod(path, 0o600))
	return path, keys
}

// readIDs returns the key ids of the JWK Set at path, in order, after
// checking that the application would accept it.
func readIDs(t *testing.T, path string) []string {
	t.Helper()
	return ids(t, mustRead(t, path))
}

func ids(t *testing.T, jwks []byte) []string {
	t.Helper()
	_, err := sealed.ParseKeyring(jwks)
	require.NoError(t, err)
	keys, err := jwk.Parse(jwks)
	require.NoError(t, err)
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.ID
	}
	return ids
}

// secrets returns the "k" member of every key, as it appears in a JWK Set.
func secrets(t *testing.T, keys []jwk.Key) []string {
	t.Helper()
	data, err := jwk.Marshal(keys)
	require.NoError(t, err)
	var set struct {
		Keys []struct{ K string }
	}
	require.NoError(t, json.Unmarshal(data, &set))
	var ks []string
	for _, k := range set.Keys {
		require.NotEmpty(t, k.K)
		ks = append(ks, k.K)
	}
	return ks
}

func assertNoSecrets(t *testing.T, r result, ks []string) {
	t.Helper()
	for _, k := range ks {
		assert.NotContains(t, r.stdout, k)
		assert.NotContains(t, r.stderr, k)
	}
}

func ago(d time.Duration) string { return newKID(time.Now().Add(-d)) }

const day = 24 * time.Hour

func TestKeygen(t *testing.T) {
	t.Parallel()
	r := sh(t, "", nil, "keygen")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Empty(t, r.stderr)
	got := ids(t, []byte(r.stdout))
	require.Len(t, got, 1)
	assert.Regexp(t, kidPattern, got[0])
	created, ok := kidTime(got[0])
	require.True(t, ok)
	assert.WithinDuration(t, time.Now(), created, time.Minute)

	r2 := sh(t, "", nil, "keygen")
	assert.NotEqual(t, r.stdout, r2.stdout)

	r = sh(t, "", nil, "keygen", "--kid", "blue")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, []string{"blue"}, ids(t, []byte(r.stdout)))
}

func TestRotateAddsPrimary(t *testing.T) {
	t.Parallel()
	path, keys := writeKeys(t, "old")
	r := sh(t, "", nil, "rotate", path)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Empty(t, r.stdout)
	ids := readIDs(t, path)
	require.Len(t, ids, 2)
	assert.Regexp(t, kidPattern, ids[0])
	assert.Equal(t, "old", ids[1])
	assert.Contains(t, r.stderr, "new primary: "+ids[0])
	assert.Contains(t, r.stderr, "kept:        old")
	assert.Contains(t, r.stderr, "dropped:     (none)")

	// The old secret is carried over unchanged.
	after, err := jwk.Parse(mustRead(t, path))
	require.NoError(t, err)
	assert.Equal(t, keys[0], after[1])

	// Flags may follow FILE.
	r = sh(t, "", nil, "rotate", path, "--kid", "third")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, []string{"third", ids[0], "old"}, readIDs(t, path))
	assertNoSecrets(t, r, secrets(t, after))

	// An explicit kid that is already there is a usage error.
	r = sh(t, "", nil, "rotate", "--kid", "old", path)
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "duplicate")
	assert.Equal(t, []string{"third", ids[0], "old"}, readIDs(t, path))
}

func TestRotateKeep(t *testing.T) {
	t.Parallel()
	path, keys := writeKeys(t, "a", "b", "c", "d")
	r := sh(t, "", nil, "rotate", "--keep", "3", "--kid", "new", path)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, []string{"new", "a", "b"}, readIDs(t, path))
	assert.Contains(t, r.stderr, "dropped:     c, d")
	assertNoSecrets(t, r, secrets(t, keys))

	// --keep 2 keeps the new key and the previous primary.
	r = sh(t, "", nil, "rotate", "--keep", "2", "--kid", "newer", path)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, []string{"newer", "new"}, readIDs(t, path))

	// --keep 1 would drop the previous primary: refused, file untouched.
	before := mustRead(t, path)
	for _, n := range []string{"1", "-1", "x"} {
		r = sh(t, "", nil, "rotate", "--keep", n, path)
		assert.Equal(t, 2, r.code, n)
		assert.True(t, strings.HasPrefix(r.stderr, "sealed: "), r.stderr)
		assert.Equal(t, 1, strings.Count(r.stderr, "\n"), r.stderr)
	}
	assert.Equal(t, before, mustRead(t, path))
}

func TestRotateMaxAge(t *testing.T) {
	t.Parallel()
	primary := ago(90 * day) // old, but the primary: must survive
	recent := ago(10 * day)
	stale := ago(40 * day)
	staler := ago(400 * day)
	path, keys := writeKeys(t, primary, recent, "legacy", stale, staler)

	r := sh(t, "", nil, "rotate", "--max-age", "30d", path)
	require.Equal(t, 0, r.code, r.stderr)
	ids := readIDs(t, path)
	require.Len(t, ids, 4)
	assert.Equal(t, []string{primary, recent, "legacy"}, ids[1:])
	assert.Contains(t, r.stderr, "dropped:     "+stale+", "+staler)
	assert.Contains(t, r.stderr, `"legacy" has no creation time`)
	assert.Contains(t, r.stderr, primary+`" is older than --max-age but is kept`)
	assertNoSecrets(t, r, secrets(t, keys))

	// Go durations work too, and --keep applies after --max-age.
	h2, h1 := ago(2*time.Hour), ago(time.Hour)
	path, _ = writeKeys(t, "p", stale, h2, h1)
	r = sh(t, "", nil, "rotate", "--max-age", "720h", "--keep", "3", "--kid", "n", path)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, []string{"n", "p", h2}, readIDs(t, path))
	assert.Contains(t, r.stderr, "dropped:     "+stale+", "+h1)

	for _, bad := range []string{"0", "-5h", "soon", "d", "30x"} {
		r = sh(t, "", nil, "rotate", "--max-age", bad, path)
		assert.Equal(t, 2, r.code, bad)
	}
}

func TestParseAge(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{
		"30d": 30 * day, "1d12h": 36 * time.Hour, "720h": 720 * time.Hour, "90m": 90 * time.Minute,
	} {
		got, err := parseAge(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
}

func TestRotateAtomic(t *testing.T) {
	t.Parallel()
	path, _ := writeKeys(t, "a")
	r := sh(t, "", nil, "rotate", path)
	require.Equal(t, 0, r.code, r.stderr)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

	require.NoError(t, os.Chmod(path, 0o640))
	r = sh(t, "", nil, "rotate", path)
	require.Equal(t, 0, r.code, r.stderr)
	fi, err = os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o640), fi.Mode().Perm())

	// Only the key file is left in the directory: no temporary files.
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	assert.Len(t, entries, 1)

	// A symbolic link is followed and kept.
	link := filepath.Join(t.TempDir(), "link.json")
	require.NoError(t, os.Symlink(path, link))
	r = sh(t, "", nil, "rotate", "--kid", "via-link", link)
	require.Equal(t, 0, r.code, r.stderr)
	lfi, err := os.Lstat(link)
	require.NoError(t, err)
	assert.NotZero(t, lfi.Mode()&os.ModeSymlink)
	assert.Equal(t, "via-link", readIDs(t, path)[0])
}

func TestRotateBrokenFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, content := range map[string]string{
		"syntax.json":  `{"keys": [`,
		"empty.json":   `{"keys": []}`,
		"short.json":   `{"keys": [{"kty": "oct", "kid": "a", "k": "c2hvcnQ"}]}`,
		"nokid.json":   `{"keys": [{"kty": "oct", "k": "ataY5rMn5pJ7b-hxAh4H09lVrTQINEJT87MF40tdzCg"}]}`,
		"garbage.json": "SECRET-LOOKING-GARBAGE",
	} {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
		r := sh(t, "", nil, "rotate", path)
		assert.Equal(t, 1, r.code, name)
		assert.True(t, strings.HasPrefix(r.stderr, "sealed: rotate: "+path), r.stderr)
		assert.Equal(t, 1, strings.Count(r.stderr, "\n"), r.stderr)
		assert.NotContains(t, r.stderr, "ataY5rMn")
		assert.NotContains(t, r.stderr, "GARBAGE")
		assert.Equal(t, content, string(mustRead(t, path)), name)
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 5)

	r := sh(t, "", nil, "rotate", filepath.Join(dir, "missing.json"))
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "no such file")
}

// session seals a session under keys and returns its Set-Cookie lines.
func session(t *testing.T, keys []jwk.Key, opts *sealed.Options, values map[string]any) []string {
	t.Helper()
	sk := make([]sealed.Key, len(keys))
	for i, k := range keys {
		sk[i] = sealed.Key{ID: k.ID, Secret: k.Secret}
	}
	ring, err := sealed.NewKeyring(sk...)
	require.NoError(t, err)
	m, err := sealed.New(ring, opts)
	require.NoError(t, err)
	ctx := context.Background()
	s, err := m.Load(ctx)
	require.NoError(t, err)
	for k, v := range values {
		require.NoError(t, s.Set(k, v))
	}
	require.NoError(t, s.SetSubject("user-42"))
	lines, err := m.Save(ctx, s)
	require.NoError(t, err)
	require.NotEmpty(t, lines)
	return lines
}

// pair returns the "name=value" of a Set-Cookie line.
func pair(line string) string {
	p, _, _ := strings.Cut(line, ";")
	return p
}

func value(line string) string {
	_, v, _ := strings.Cut(pair(line), "=")
	return v
}

func TestInspectRoundTrip(t *testing.T) {
	t.Parallel()
	path, keys := writeKeys(t, "primary", "older")
	ks := secrets(t, keys)
	// Seal with the second key only, so that primary_key is false.
	lines := session(t, keys[1:], nil, map[string]any{"user": "ada", "n": 3})
	require.Len(t, lines, 1)

	check := func(r result) {
		t.Helper()
		require.Equal(t, 0, r.code, r.stderr)
		assert.Empty(t, r.stderr)
		assertNoSecrets(t, r, ks)
		var in map[string]any
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &in), r.stdout)
		assert.Regexp(t, `^[0-9a-f]{32}$`, in["id"])
		assert.Equal(t, "user-42", in["subject"])
		assert.Equal(t, "older", in["key_id"])
		assert.Equal(t, false, in["primary_key"])
		assert.Equal(t, false, in["expired"])
		assert.EqualValues(t, 1, in["chunks"])
		values := in["values"].(map[string]any)
		assert.Equal(t, "ada", values["user"])
		assert.EqualValues(t, 3, values["n"])
		// The deadlines follow sealed.New's default timeouts.
		var times struct {
			Created  time.Time `json:"created_at"`
			Issued   time.Time `json:"issued_at"`
			Idle     time.Time `json:"idle_deadline"`
			Absolute time.Time `json:"absolute_deadline"`
		}
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &times))
		assert.Equal(t, times.Issued.Add(24*time.Hour), times.Idle)
		assert.Equal(t, times.Created.Add(7*24*time.Hour), times.Absolute)
	}
	check(sh(t, value(lines[0])+"\n", nil, "inspect", "--keys", path))
	check(sh(t, "Cookie: theme=dark; "+pair(lines[0])+"; lang=en\n", nil, "inspect", "--keys", path))
	check(sh(t, "cookie:"+pair(lines[0]), nil, "inspect", "--keys", path))
	check(sh(t, "Set-Cookie: "+lines[0], nil, "inspect", "--keys", path))
	// Keys from the environment; flags after nothing.
	check(sh(t, value(lines[0]), map[string]string{"SEALED_KEYS": string(mustRead(t, path))}, "inspect"))
}

func TestInspectChunksAndNames(t *testing.T) {
	t.Parallel()
	path, keys := writeKeys(t, "k")
	big := strings.Repeat("0123456789abcdef", 190) // one chunk cannot hold it
	// A budget that allows several chunks (the default holds one), whose
	// Cookie header still fits the 6144 bytes inspect reads.
	lines := session(t, keys, &sealed.Options{CookieName: "session", AllowInsecure: true, Budget: sealed.BudgetNginx8k()}, map[string]any{"user": "ada", "big": big})
	require.Greater(t, len(lines), 1)
	pairs := make([]string, len(lines))
	for i, l := range lines {
		pairs[i] = pair(l)
	}
	header := "Cookie: " + strings.Join(pairs, "; ")

	for _, args := range [][]string{
		{"inspect", "--keys", path, "--name", "session"},
		{"inspect", "--keys", path, "--name", "session", "--insecure"},
		{"inspect", "--keys", path, "--insecure"}, // default name with --insecure is "session"
	} {
		r := sh(t, header, nil, args...)
		require.Equal(t, 0, r.code, r.stderr)
		var in inspect.Inspection
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &in))
		assert.Equal(t, len(lines), in.Chunks)
		assert.Equal(t, "ada", in.Values["user"])
		assert.Equal(t, big, in.Values["big"])
		assert.Equal(t, "k", in.KeyID)
		assertNoSecrets(t, r, secrets(t, keys))
	}

	// The default name does not match this cookie.
	r := sh(t, header, nil, "inspect", "--keys", path)
	assert.Equal(t, 1, r.code)
	// A __Host- name cannot go with --insecure: usage error.
	r = sh(t, header, nil, "inspect", "--keys", path, "--name", "__Host-x", "--insecure")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "__Host-")
}

// --purpose must be the application's, as the cookie name must; and
// "expired" follows --clock-skew as the application's ClockSkew decides:
// a session past its idle deadline by half an hour has expired under the
// default minute of skew, not under an hour.
func TestInspectPurposeAndClockSkew(t *testing.T) {
	t.Parallel()
	path, keys := writeKeys(t, "k")
	lines := session(t, keys, &sealed.Options{Purpose: "admin"}, map[string]any{"user": "ada"})
	r := sh(t, value(lines[0]), nil, "inspect", "--keys", path)
	assert.Equal(t, 1, r.code, "the default purpose does not open an admin cookie")
	assert.Equal(t, "sealed: "+notOpen+"\n", r.stderr)
	r = sh(t, value(lines[0]), nil, "inspect", "--keys", path, "--purpose", "admin")
	require.Equal(t, 0, r.code, r.stderr)
	r = sh(t, value(lines[0]), nil, "inspect", "--keys", path, "--purpose", "other")
	assert.Equal(t, 1, r.code)

	issued := time.Now().Add(-24*time.Hour - 30*time.Minute).Truncate(time.Second)
	lines = session(t, keys, &sealed.Options{Now: func() time.Time { return issued }}, map[string]any{"user": "ada"})
	for _, c := range []struct {
		args    []string
		expired bool
	}{
		{nil, true},
		{[]string{"--clock-skew", "1m"}, true},
		{[]string{"--clock-skew", "0"}, true},
		{[]string{"--clock-skew", "1h"}, false},
		{[]string{"--clock-skew", "45m", "--purpose", "session"}, false},
	} {
		r := sh(t, value(lines[0]), nil, append([]string{"inspect", "--keys", path}, c.args...)...)
		require.Equal(t, 0, r.code, r.stderr)
		var in inspect.Inspection
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &in))
		assert.Equal(t, c.expired, in.Expired, "%q", c.args)
		assert.True(t, in.IdleDeadline.Equal(issued.Add(24*time.Hour)), "the deadline is printed without the skew")
	}
}

func TestInspectOddValues(t *testing.T) {
	t.Parallel()
	path, keys := writeKeys(t, "k")
	lines := session(t, keys, nil, map[string]any{"nan": math.NaN(), "inf": []any{math.Inf(-1)}})
	r := sh(t, value(lines[0]), nil, "inspect", "--keys", path)
	require.Equal(t, 0, r.code, r.stderr)
	var in inspect.Inspection
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &in))
	// Values JSON cannot hold come back in CBOR diagnostic notation
	// (inspect.Inspection guarantees it marshals).
	assert.Equal(t, "NaN", in.Values["nan"])
	assert.Equal(t, "[-Infinity]", in.Values["inf"])
}

func TestInspectWrongKeys(t *testing.T) {
	t.Parallel()
	_, keys := writeKeys(t, "k")
	other, otherKeys := writeKeys(t, "k") // same id, other secret
	lines := session(t, keys, nil, map[string]any{"user": "ada"})
	ks := append(secrets(t, keys), secrets(t, otherKeys)...)

	for _, in := range []string{
		value(lines[0]),
		"Cookie: " + pair(lines[0]),
		value(lines[0])[:40],
		"garbage",
		"Cookie: other=1",
	} {
		r := sh(t, in, nil, "inspect", "--keys", other)
		assert.Equal(t, 1, r.code, in)
		assert.Empty(t, r.stdout)
		assert.Equal(t, "sealed: "+notOpen+"\n", r.stderr)
		assertNoSecrets(t, r, ks)
	}
}

func TestInspectUsage(t *testing.T) {
	t.Parallel()
	path, _ := writeKeys(t, "k")
	for name, tc := range map[string]struct {
		stdin string
		env   map[string]string
		args  []string
		code  int
	}{
		"no keys":          {"x", nil, []string{"inspect"}, 2},
		"cookie as arg":    {"", nil, []string{"inspect", "--keys", path, "abc"}, 2},
		"empty stdin":      {"  \n", nil, []string{"inspect", "--keys", path}, 2},
		"empty name":       {"x", nil, []string{"inspect", "--keys", path, "--name", ""}, 2},
		"empty purpose":    {"x", nil, []string{"inspect", "--keys", path, "--purpose", ""}, 2},
		"long purpose":     {"x", nil, []string{"inspect", "--keys", path, "--purpose", strings.Repeat("p", 256)}, 2},
		"non-utf8 purpose": {"x", nil, []string{"inspect", "--keys", path, "--purpose", "\xff"}, 2},
		"skew over 1h":     {"x", nil, []string{"inspect", "--keys", path, "--clock-skew", "61m"}, 2},
		"negative skew":    {"x", nil, []string{"inspect", "--keys", path, "--clock-skew", "-1s"}, 2},
		"skew not a time":  {"x", nil, []string{"inspect", "--keys", path, "--clock-skew", "soon"}, 2},
		"bad flag":         {"x", nil, []string{"inspect", "--key", path}, 2},
		"missing file":     {"x", nil, []string{"inspect", "--keys", path + ".nope"}, 1},
		"bad env":          {"x", map[string]string{"SEALED_KEYS": "{"}, []string{"inspect"}, 1},
		"unknown command":  {"", nil, []string{"frobnicate"}, 2},
		"no args":          {"", nil, nil, 2},
		"keygen extra arg": {"", nil, []string{"keygen", "out.json"}, 2},
		"rotate no file":   {"", nil, []string{"rotate"}, 2},
		"rotate two files": {"", nil, []string{"rotate", path, path}, 2},
		"version arg":      {"", nil, []string{"version", "x"}, 2},
		"help unknown":     {"", nil, []string{"help", "x"}, 2},
	} {
		r := sh(t, tc.stdin, tc.env, tc.args...)
		assert.Equal(t, tc.code, r.code, name)
		assert.Empty(t, r.stdout, name)
		if tc.args != nil {
			assert.True(t, strings.HasPrefix(r.stderr, "sealed: "), name+": "+r.stderr)
			assert.Equal(t, 1, strings.Count(r.stderr, "\n"), name+": "+r.stderr)
		}
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"help"}, {"--help"}, {"-h"},
		{"keygen", "--help"}, {"rotate", "--help"}, {"inspect", "--help"}, {"version", "--help"},
		{"keygen", "-h"}, {"help", "rotate"},
	} {
		r := sh(t, "", nil, args...)
		assert.Equal(t, 0, r.code, args)
		assert.Contains(t, r.stdout, "sealed", args)
		assert.Empty(t, r.stderr, args)
		if len(args) == 2 && args[0] != "help" {
			assert.Contains(t, r.stdout, "Usage: sealed "+args[0], args)
			assert.Contains(t, r.stdout, "Example", args)
		}
	}
	r := sh(t, "", nil, "rotate", "--help")
	assert.Contains(t, r.stdout, "pre-announce")
	assert.Contains(t, r.stdout, "never drops the key that was primary")
}

func TestVersion(t *testing.T) {
	t.Parallel()
	r := sh(t, "", nil, "version")
	require.Equal(t, 0, r.code)
	assert.Regexp(t, `^sealed \S.* go\d`, r.stdout)
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return data
}
