package cookie

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/sealedgo/sealed/internal/b64"
	"github.com/sealedgo/sealed/internal/envelope"
	"github.com/sealedgo/sealed/internal/fuzzseed"
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
		out, _, tl := j.Write(env, 86400, 0)
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
	lines, _, tl := j.Write(make([]byte, 4000), 60, 0b11)
	assert.NotNil(t, tl)
	assert.Nil(t, lines)
}

// Write follows the chunks with deletions of the chunks the client holds
// beyond them; Expire deletes every chunk it is given.
func TestWriteExpiresStaleChunks(t *testing.T) {
	j := testJar(t, Config{})
	const del = "=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"
	lines, _, tl := j.Write([]byte("small"), 60, 0b1011)
	require.Nil(t, tl)
	require.Len(t, lines, 3)
	assert.Equal(t, "s=c21hbGw; Path=/; Max-Age=60; HttpOnly; SameSite=Lax", lines[0])
	assert.Equal(t, []string{"s.1" + del, "s.3" + del}, lines[1:])
	gone, dropped := j.Expire(1 | 1<<2 | 1<<31)
	assert.Equal(t, []string{"s" + del, "s.2" + del, "s.31" + del}, gone)
	assert.Zero(t, dropped)
	gone, _ = j.Expire(0)
	assert.Empty(t, gone)
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

// The envelope vectors' values (testdata/vectors/envelope/), sent as the
// first chunk of a Cookie header: Read refuses those whose failure is the
// encoding's ("encoding", "too-large") for that reason, an empty value as
// an empty chunk ("chunks"), and decodes every other one exactly as
// encoding/base64 does.
func TestGoldenVectorsRead(t *testing.T) {
	strict := base64.RawURLEncoding.Strict()
	for _, f := range fuzzseed.Vectors(t, "envelope") {
		var v struct {
			CookieName string `json:"cookie_name"`
			Sealed     string `json:"sealed"`
			Failure    string `json:"failure"`
		}
		f.Decode(t, &v)
		t.Run(f.Name, func(t *testing.T) {
			j := testJar(t, Config{Name: v.CookieName, Secure: true, Budget: Budget{MaxBytes: 1 << 20, MaxChunks: 8, MaxLineBytes: MaxLine}})
			buf, present, reason := j.Read([]string{"a=1; " + v.CookieName + "=" + v.Sealed + "; b=2"}, 5)
			assert.Equal(t, Mask(1), present)
			switch {
			case v.Sealed == "":
				assert.Equal(t, "chunks", reason, "an empty value is an empty chunk")
				assert.Nil(t, buf)
			case v.Failure == "encoding", v.Failure == "too-large":
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
		// Empty chunks would let one sealed value be sent many ways.
		"empty first":  func(cs *chunkSet) { cs.vals[0] = "3." },
		"empty middle": func(cs *chunkSet) { cs.vals[1] = "" },
		"empty last":   func(cs *chunkSet) { cs.vals[2] = "" },
	} {
		cs := valid()
		mut(cs)
		_, ok := cs.pieces(8, nil)
		assert.False(t, ok, name)
	}
	// A stale chunk beyond the count is ignored, even an empty one.
	cs := valid()
	cs.add("s", "s.3", "DDDD")
	cs.add("s", "s.4", "")
	_, ok = cs.pieces(8, nil)
	assert.True(t, ok)

	// A lone chunk with no value is empty too.
	var one chunkSet
	one.add("s", "s", "")
	_, ok = one.pieces(8, nil)
	assert.False(t, ok, "empty single chunk")
}

// An empty chunk, one with nothing after the count, or an empty cookie
// of the session's name, is read as no session ("chunks"), not passed on
// to the envelope layer.
func TestReadRejectsEmptyChunks(t *testing.T) {
	j := testJar(t, Config{})
	for _, headers := range [][]string{
		{"s="},
		{"s=2.", "s.1=AAAA"},
		{"s=2.AAAA", "s.1="},
		{"s=3.AAAA; s.1=; s.2=AA"},
	} {
		buf, present, reason := j.Read(headers, 0)
		assert.Nil(t, buf, "%q", headers)
		assert.Equal(t, "chunks", reason, "%q", headers)
		assert.NotZero(t, present, "%q", headers)
		assert.Zero(t, j.Chunks(headers), "%q", headers)
	}
	buf, _, reason := j.Read([]string{"s=AAAA; s.1="}, 0)
	assert.Empty(t, reason, "an empty stale chunk beyond the count is ignored")
	assert.Len(t, buf, 3)
}

func TestAddHeaderParsesLikeNetHTTP(t *testing.T) {
	var cs chunkSet
	cs.addHeader("s", "a=1;s=AAAA ;  s.1=BB; s.x=9; =; junk; s.2")
	assert.Equal(t, Mask(0b11), cs.present)
	assert.Equal(t, "AAAA", cs.vals[0])
	assert.Equal(t, "BB", cs.vals[1])
}

// measured is what lines take in each direction: the Cookie header a
// browser sends back (every "name=value" of a live line, "; " between
// them) and the response header (each "Set-Cookie: " line CRLF, deletions
// included).
func measured(lines []string) (req, resp int) {
	live := 0
	for _, l := range lines {
		resp += len("Set-Cookie: ") + len(l) + len("\r\n")
		if strings.Contains(l, "; Max-Age=0") {
			continue
		}
		if live > 0 {
			req += len("; ")
		}
		req += len(pairOf(l))
		live++
	}
	return req, resp
}

// The largest value Write accepts fits both directions and one byte more
// is refused, whichever direction binds, with one chunk or several; the
// refusal's limits are the numbers of that largest value, and its Bytes
// and ResponseBytes what the refused value's fewest chunks would take.
func TestLargestValueFitsBothSides(t *testing.T) {
	for _, c := range []struct {
		name  string
		b     Budget
		resp  bool // the response side binds, else the request side
		parts int  // chunks of the largest value
	}{
		{"default", Budget{MaxBytes: 6144, MaxChunks: 8, MaxLineBytes: MaxLine, MaxResponseBytes: 4096, ReservedResponseBytes: 1024}, true, 1},
		{"nginx-8k", Budget{MaxBytes: 7168, MaxChunks: 8, MaxLineBytes: MaxLine, MaxResponseBytes: 8192, ReservedResponseBytes: 1024}, true, 2},
		{"short-lines", Budget{MaxBytes: 6144, MaxChunks: 8, MaxLineBytes: 1024, MaxResponseBytes: 4096, ReservedResponseBytes: 1024}, true, 3},
		{"request-one", Budget{MaxBytes: 2000, MaxChunks: 8, MaxLineBytes: MaxLine, MaxResponseBytes: 32768, ReservedResponseBytes: 4096}, false, 1},
		{"request-large", Budget{MaxBytes: 15360, MaxChunks: 8, MaxLineBytes: MaxLine, MaxResponseBytes: 32768, ReservedResponseBytes: 4096}, false, 4},
		// Off by one from a multiple of 4, so that the bound falls where
		// no value's encoding ends: the limits still are the largest
		// value's.
		{"response-odd", Budget{MaxBytes: 6144, MaxChunks: 8, MaxLineBytes: MaxLine, MaxResponseBytes: 4097, ReservedResponseBytes: 1024}, true, 1},
		{"request-odd", Budget{MaxBytes: 2001, MaxChunks: 8, MaxLineBytes: MaxLine, MaxResponseBytes: 32768, ReservedResponseBytes: 4096}, false, 1},
	} {
		for _, attrs := range []Config{{}, {Name: "__Host-session", Secure: true, Partitioned: true, SameSite: http.SameSiteNoneMode}, {Name: "sid", Domain: "example.com", Path: "/app"}} {
			t.Run(c.name+"/"+attrs.Name, func(t *testing.T) {
				cfg := attrs
				cfg.Budget = c.b
				j := testJar(t, cfg)
				unbounded := cfg
				unbounded.Budget = Budget{MaxBytes: 1 << 20, MaxChunks: c.b.MaxChunks, MaxLineBytes: c.b.MaxLineBytes}
				ref := testJar(t, unbounded) // splits alike, refuses nothing
				const maxAge = 86400
				fits := func(k int) bool {
					_, _, tl := j.Write(make([]byte, k), maxAge, 0)
					return tl == nil
				}
				// Acceptance grows no wider with the value: search for its end.
				require.True(t, fits(0))
				require.False(t, fits(64<<10))
				lo := sort.Search(64<<10, func(k int) bool { return !fits(k) }) - 1
				largest, _, tl := j.Write(make([]byte, lo), maxAge, 0)
				require.Nil(t, tl)
				require.Len(t, largest, c.parts)
				req, resp := measured(largest)
				room := c.b.MaxResponseBytes - c.b.ReservedResponseBytes
				assert.LessOrEqual(t, resp, room, "Set-Cookie headers")
				assert.LessOrEqual(t, req, c.b.MaxBytes, "Cookie header")
				for _, l := range largest {
					assert.LessOrEqual(t, len(l), c.b.MaxLineBytes)
				}

				_, _, tl = j.Write(make([]byte, lo+1), maxAge, 0)
				require.NotNil(t, tl, "one byte more")
				over, _, refTL := ref.Write(make([]byte, lo+1), maxAge, 0)
				require.Nil(t, refTL)
				overReq, overResp := measured(over)
				assert.Equal(t, overReq, tl.Bytes, "Bytes: the Cookie header of the refused value")
				assert.Equal(t, overResp, tl.ResponseBytes, "ResponseBytes: the Set-Cookie headers of the refused value")
				assert.Equal(t, req, tl.Limit, "Limit: the Cookie header of the largest value")
				assert.Equal(t, resp, tl.ResponseLimit, "ResponseLimit: the Set-Cookie headers of the largest value")
				if c.resp {
					assert.Greater(t, tl.ResponseBytes, room)
					assert.Greater(t, tl.ResponseBytes, tl.ResponseLimit)
					assert.LessOrEqual(t, tl.Bytes, c.b.MaxBytes, "the request side would have fitted")
				} else {
					assert.Greater(t, tl.Bytes, c.b.MaxBytes)
					assert.Greater(t, tl.Bytes, tl.Limit)
					assert.LessOrEqual(t, tl.ResponseBytes, room, "the response side would have fitted")
				}

				// The largest value still fits beside the client's stale
				// chunks: their deletions give way.
				lines, dropped, tl := j.Write(make([]byte, lo), maxAge, ^Mask(0))
				require.Nil(t, tl)
				assert.Equal(t, largest[:c.parts], lines[:c.parts])
				_, resp = measured(lines)
				assert.LessOrEqual(t, resp, room)
				assert.Equal(t, MaxChunks-c.parts, len(lines)-c.parts+dropped)
			})
		}
	}
}

// Deletions of stale chunks that do not fit the response's room for
// Set-Cookie headers are left out, the lowest chunks first kept; Write
// and Expire say how many. Without a response bound none is.
func TestDeletionsWithinTheResponse(t *testing.T) {
	const del = "=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"
	j := testJar(t, Config{Budget: Budget{MaxBytes: 6144, MaxChunks: 8, MaxLineBytes: MaxLine, MaxResponseBytes: 1536, ReservedResponseBytes: 1024}})
	const room = 512
	all := ^Mask(0)
	lines, dropped, tl := j.Write([]byte("small"), 60, all)
	require.Nil(t, tl)
	require.Greater(t, len(lines), 2)
	assert.Equal(t, "s=c21hbGw; Path=/; Max-Age=60; HttpOnly; SameSite=Lax", lines[0])
	for i, l := range lines[1:] {
		assert.Equal(t, chunkName("s", i+1)+del, l)
	}
	_, resp := measured(lines)
	assert.LessOrEqual(t, resp, room)
	next := len("Set-Cookie: ") + len(chunkName("s", len(lines))+del) + len("\r\n")
	assert.Greater(t, resp+next, room, "a deletion that fits was left out")
	assert.Equal(t, MaxChunks-1, len(lines)-1+dropped)

	gone, dropped := j.Expire(all)
	require.NotEmpty(t, gone)
	assert.Equal(t, "s"+del, gone[0], "the first chunk's deletion comes first")
	for i, l := range gone {
		assert.Equal(t, chunkName("s", i)+del, l)
	}
	_, resp = measured(gone)
	assert.LessOrEqual(t, resp, room)
	assert.Equal(t, MaxChunks, len(gone)+dropped)
	assert.Positive(t, dropped)

	// Without a response bound, everything.
	free := testJar(t, Config{})
	lines, dropped, tl = free.Write([]byte("small"), 60, all)
	require.Nil(t, tl)
	assert.Len(t, lines, MaxChunks)
	assert.Zero(t, dropped)
	gone, dropped = free.Expire(all)
	assert.Len(t, gone, MaxChunks)
	assert.Zero(t, dropped)
}

// New refuses a response room under 512 bytes, a negative reserve, and a
// name, Path and Domain that leave one Set-Cookie header too little room.
func TestNewChecksTheResponseBudget(t *testing.T) {
	base := Config{Name: "s", Path: "/", SameSite: http.SameSiteLaxMode, MaxAge: 86400, MaxDecoded: envelope.MaxSize}
	for _, c := range []struct {
		b    Budget
		want string // "" when New accepts it
	}{
		{Budget{MaxBytes: 6144, MaxChunks: 8, MaxLineBytes: MaxLine}, ""}, // no response bound
		{Budget{MaxBytes: 6144, MaxChunks: 8, MaxLineBytes: MaxLine, MaxResponseBytes: 512}, ""},
		{Budget{MaxBytes: 6144, MaxChunks: 8, MaxLineBytes: MaxLine, MaxResponseBytes: 1536, ReservedResponseBytes: 1024}, ""},
		{Budget{MaxBytes: 6144, MaxChunks: 8, MaxLineBytes: MaxLine, MaxResponseBytes: 511}, "Options.Budget.MaxResponseBytes"},
		{Budget{MaxBytes: 6144, MaxChunks: 8, MaxLineBytes: MaxLine, MaxResponseBytes: 1535, ReservedResponseBytes: 1024}, "Options.Budget.MaxResponseBytes"},
		{Budget{MaxBytes: 6144, MaxChunks: 8, MaxLineBytes: MaxLine, MaxResponseBytes: -1}, "Options.Budget.MaxResponseBytes"},
		{Budget{MaxBytes: 6144, MaxChunks: 8, MaxLineBytes: MaxLine, MaxResponseBytes: 4096, ReservedResponseBytes: -1}, "Options.Budget.ReservedResponseBytes"},
	} {
		cfg := base
		cfg.Budget = c.b
		_, err := New(cfg)
		if c.want == "" {
			assert.NoError(t, err, "%+v", c.b)
		} else if assert.Error(t, err, "%+v", c.b) {
			assert.Contains(t, err.Error(), c.want)
		}
	}
	cfg := base
	cfg.Domain = strings.Repeat("d.", 120) + "example.com"
	cfg.Budget = Budget{MaxBytes: 6144, MaxChunks: 8, MaxLineBytes: MaxLine, MaxResponseBytes: 4096}
	_, err := New(cfg)
	require.NoError(t, err)
	cfg.Budget.MaxResponseBytes = 550 // over 512, but the Domain takes most of it
	_, err = New(cfg)
	if assert.Error(t, err) {
		assert.Contains(t, err.Error(), "Options.Budget.MaxResponseBytes")
		assert.Contains(t, err.Error(), "Domain")
	}
}
