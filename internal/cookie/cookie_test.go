package cookie

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sealedgo/sealed/internal/b64"
	"github.com/sealedgo/sealed/internal/envelope"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestChunkIndex(t *testing.T) {
	for name, want := range map[string]int{
		"s": 0, "s.1": 1, "s.9": 9, "s.10": 10, "s.31": 31,
		"s.0": -1, "s.01": -1, "s.32": -1, "s.100": -1, "s.": -1, "s.a": -1, "sx": -1, "t": -1, "s.1.1": -1, "": -1,
	} {
		assert.Equal(t, want, chunkIndex("s", name), name)
	}
}

func testJar(t testing.TB, c Config) *Jar {
	t.Helper()
	if c.Name == "" {
		c.Name = "s"
	}
	if c.Path == "" {
		c.Path = "/"
	}
	if c.SameSite == 0 {
		c.SameSite = http.SameSiteLaxMode
	}
	if c.Budget == (Budget{}) {
		c.Budget = Budget{MaxBytes: 6144, MaxChunks: 8, MaxLineBytes: MaxLine}
	}
	if c.MaxAge == 0 {
		c.MaxAge = 400 * 24 * 3600
	}
	if c.MaxDecoded == 0 {
		c.MaxDecoded = envelope.MaxSize
	}
	j, err := New(c)
	require.NoError(t, err)
	return j
}

// pairOf returns the "name=value" of a Set-Cookie line, what a browser
// sends back.
func pairOf(line string) string {
	pair, _, _ := strings.Cut(line, ";")
	return pair
}

// Splitting into lines then reassembling is the identity, chunk indexes
// sort numerically (name.10 after name.9), and every line fits and is what
// its parts say.
func TestSplitJoinIdentity(t *testing.T) {
	j := testJar(t, Config{Budget: Budget{MaxBytes: 64 << 10, MaxChunks: 16, MaxLineBytes: 512}})
	const attrs = "; Path=/; Max-Age=86400; HttpOnly; SameSite=Lax"
	for _, k := range []int{53, 75, 300, 336, 337, 338, 339, 340, 750, 3000, 4500} {
		env := make([]byte, k)
		rand.Read(env)
		sealed := base64.RawURLEncoding.EncodeToString(env)
		out, tl := j.Write(env, 86400, 0)
		require.Nil(t, tl, "k=%d", k)
		var cs chunkSet
		var pairs []string
		// Present them in reverse: order in the header does not matter.
		for i := len(out) - 1; i >= 0; i-- {
			line := out[i]
			assert.LessOrEqual(t, len(line), 512)
			name, rest, ok := strings.Cut(line, "=")
			require.True(t, ok)
			assert.Equal(t, chunkName("s", i), name)
			value, ok := strings.CutSuffix(rest, attrs)
			require.True(t, ok, "line %d ends with the attributes: %q", i, line)
			cs.add("s", name, value)
			pairs = append(pairs, pairOf(line))
		}
		pieces, ok := cs.pieces(16, nil)
		require.True(t, ok, "k=%d", k)
		assert.Equal(t, sealed, strings.Join(pieces, ""), "k=%d", k)
		if k > 4000 {
			assert.Greater(t, len(out), 10, "the test must reach two-digit indexes")
		}

		// Read decodes the chunks back, behind the room asked for.
		buf, present, reason := j.Read(pairs, 7)
		require.Empty(t, reason, "k=%d", k)
		assert.Equal(t, Mask(1<<len(out)-1), present)
		assert.Equal(t, env, buf[7:], "k=%d", k)
		assert.Equal(t, len(out), j.Chunks([]string{strings.Join(pairs, "; ")}))
	}
}

func TestSplitTooLarge(t *testing.T) {
	j := testJar(t, Config{Budget: Budget{MaxBytes: 4096, MaxChunks: 8, MaxLineBytes: 4096}})
	_, tl := j.plan(5000, 60)
	if assert.NotNil(t, tl) {
		assert.Equal(t, 5000+len("2.")+len("s=; s.1="), tl.Bytes, "two chunks of 5000 characters")
		assert.LessOrEqual(t, tl.Limit, 4096)
		assert.Greater(t, tl.Limit, 4096-16, "the largest session that fits is within a quantum or two of MaxBytes")
	}
	j = testJar(t, Config{Budget: Budget{MaxBytes: 64000, MaxChunks: 1, MaxLineBytes: 4096}})
	_, tl = j.plan(5000, 60)
	assert.NotNil(t, tl)

	// Write writes nothing for a value that does not fit.
	lines, tl := j.Write(make([]byte, 4000), 60, 0b11)
	assert.NotNil(t, tl)
	assert.Nil(t, lines)
}

// Write follows the chunks with deletions of the chunks the client holds
// beyond them; Expire deletes every chunk it is given.
func TestWriteExpiresStaleChunks(t *testing.T) {
	j := testJar(t, Config{})
	const del = "=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"
	lines, tl := j.Write([]byte("small"), 60, 0b1011)
	require.Nil(t, tl)
	require.Len(t, lines, 3)
	assert.Equal(t, "s=c21hbGw; Path=/; Max-Age=60; HttpOnly; SameSite=Lax", lines[0])
	assert.Equal(t, []string{"s.1" + del, "s.3" + del}, lines[1:])
	assert.Equal(t, []string{"s" + del, "s.2" + del, "s.31" + del}, j.Expire(1|1<<2|1<<31))
	assert.Empty(t, j.Expire(0))
}

// Read refuses a value by its length before decoding it: past the budget
// ("over budget"), past the largest envelope ("too-large", all chunks
// together), and a length no encoding has ("encoding").
func TestReadRejectsBeforeDecoding(t *testing.T) {
	// A budget larger than the largest envelope, so that the format's cap
	// is reached first.
	big := Budget{MaxBytes: 1 << 20, MaxChunks: 8, MaxLineBytes: MaxLine}
	j := testJar(t, Config{Budget: big})
	maxEnc := b64.EncodedLen(envelope.MaxSize)

	// One character over the cap, and not even in the alphabet: the length
	// check must come first.
	_, present, reason := j.Read([]string{"s=" + strings.Repeat("!", maxEnc+1)}, 0)
	assert.Equal(t, "too-large", reason)
	assert.Equal(t, Mask(1), present)
	half := maxEnc / 2 &^ 3
	_, _, reason = j.Read([]string{"s=2." + strings.Repeat("A", half), "s.1=" + strings.Repeat("A", maxEnc-half+4)}, 0)
	assert.Equal(t, "too-large", reason, "the cap applies to the pieces together")
	buf, _, reason := j.Read([]string{"s=2." + strings.Repeat("A", half), "s.1=" + strings.Repeat("A", maxEnc-half)}, 3)
	assert.Empty(t, reason, "exactly the cap is decoded")
	assert.Len(t, buf, 3+envelope.MaxSize)

	_, _, reason = j.Read([]string{"s=AAAAA"}, 0)
	assert.Equal(t, "encoding", reason, "length 1 mod 4")
	_, _, reason = j.Read([]string{"s=AA!A"}, 0)
	assert.Equal(t, "encoding", reason)
	_, _, reason = j.Read([]string{"s=2.AAA", "s.1=AAAA"}, 0)
	assert.Equal(t, "chunks", reason, "a non-final piece that is not whole quanta")

	small := testJar(t, Config{Budget: Budget{MaxBytes: 300, MaxChunks: 8, MaxLineBytes: MaxLine}})
	_, _, reason = small.Read([]string{"s=" + strings.Repeat("!", 301)}, 0)
	assert.Equal(t, "over budget", reason)
	_, _, reason = small.Read([]string{"s=" + strings.Repeat("A", 300)}, 0)
	assert.Empty(t, reason)

	buf, present, reason = j.Read([]string{"a=1; b=2", "other=3"}, 0)
	assert.Nil(t, buf)
	assert.Zero(t, present)
	assert.Empty(t, reason, "no chunk is no reason")
}

// The golden vectors' values, sent as the first chunk of a Cookie header:
// Read refuses those whose failure is the encoding's ("encoding",
// "too-large") for that reason, and decodes every other one exactly as
// encoding/base64 does.
func TestGoldenVectorsRead(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "testdata", "vectors", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	strict := base64.RawURLEncoding.Strict()
	for _, f := range files {
		var v struct {
			Name       string `json:"name"`
			CookieName string `json:"cookie_name"`
			Sealed     string `json:"sealed"`
			Failure    string `json:"failure"`
		}
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(data, &v))
		t.Run(v.Name, func(t *testing.T) {
			j := testJar(t, Config{Name: v.CookieName, Secure: true, Budget: Budget{MaxBytes: 1 << 20, MaxChunks: 8, MaxLineBytes: MaxLine}})
			buf, present, reason := j.Read([]string{"a=1; " + v.CookieName + "=" + v.Sealed + "; b=2"}, 5)
			assert.Equal(t, Mask(1), present)
			switch v.Failure {
			case "encoding", "too-large":
				assert.Equal(t, v.Failure, reason)
				assert.Nil(t, buf)
			default:
				require.Empty(t, reason)
				want, err := strict.DecodeString(v.Sealed)
				require.NoError(t, err)
				assert.Equal(t, want, buf[5:])
			}
		})
	}
}

func TestPiecesRejects(t *testing.T) {
	valid := func() *chunkSet {
		var cs chunkSet
		cs.add("s", "s", "3.AAAA")
		cs.add("s", "s.1", "BBBB")
		cs.add("s", "s.2", "CC")
		return &cs
	}
	p, ok := valid().pieces(8, nil)
	require.True(t, ok)
	assert.Equal(t, []string{"AAAA", "BBBB", "CC"}, p)

	for name, mut := range map[string]func(*chunkSet){
		"missing middle":     func(cs *chunkSet) { cs.present &^= 1 << 1 },
		"missing first":      func(cs *chunkSet) { cs.present &^= 1 },
		"duplicate":          func(cs *chunkSet) { cs.add("s", "s.1", "BBBB") },
		"count leading zero": func(cs *chunkSet) { cs.vals[0] = "03.AAAA" },
		"count plus":         func(cs *chunkSet) { cs.vals[0] = "+3.AAAA" },
		"count one":          func(cs *chunkSet) { cs.vals[0] = "1.AAAA" },
		"count over budget":  func(cs *chunkSet) { cs.vals[0] = "9.AAAA" },
		"count garbage":      func(cs *chunkSet) { cs.vals[0] = "x.AAAA" },
		"ragged middle":      func(cs *chunkSet) { cs.vals[1] = "BBB" },
	} {
		cs := valid()
		mut(cs)
		_, ok := cs.pieces(8, nil)
		assert.False(t, ok, name)
	}
	// A stale chunk beyond the count is ignored.
	cs := valid()
	cs.add("s", "s.3", "DDDD")
	_, ok = cs.pieces(8, nil)
	assert.True(t, ok)
}

func TestAddHeaderParsesLikeNetHTTP(t *testing.T) {
	var cs chunkSet
	cs.addHeader("s", "a=1;s=AAAA ;  s.1=BB; s.x=9; =; junk; s.2")
	assert.Equal(t, Mask(0b11), cs.present)
	assert.Equal(t, "AAAA", cs.vals[0])
	assert.Equal(t, "BB", cs.vals[1])
}
