package cookie

// The fuzz target of the cookie layer. Its seed corpus is in
// testdata/fuzz/FuzzChunks/, written by fuzz/gencorpus.go; run it with
// fuzz/run.sh. Identifiers start with fz so as not to collide with the
// package's other test files.

import (
	"bytes"
	"encoding/base64"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/sealedgo/sealed/internal/envelope"
	"github.com/sealedgo/sealed/internal/fuzzseed"
	"github.com/stretchr/testify/require"
)

// fzName is the session cookie's name in every jar here, the one a secure
// Manager uses by default.
const fzName = "__Host-session"

// fzJar returns a jar configured as a secure Manager configures it, with
// budget b.
func fzJar(tb testing.TB, b Budget) *Jar {
	tb.Helper()
	j, err := New(Config{
		Name: fzName, Path: "/", Secure: true, SameSite: http.SameSiteLaxMode, Budget: b,
		MaxAge: 400 * 24 * 3600, MaxDecoded: envelope.MaxSize,
	})
	require.NoError(tb, err)
	return j
}

// The budgets of the jars: wide splits the pool's values into many small
// chunks and reads up to 32, with no bound on the response; narrow is the
// default budget, whose response side binds (one chunk, deletions left
// out); large is BudgetLarge, whose request side binds. The writing half
// uses narrow and large. gencorpus.go uses wide too.
var (
	fzWide   = Budget{MaxBytes: 1 << 20, MaxChunks: MaxChunks, MaxLineBytes: 512}
	fzNarrow = Budget{MaxBytes: 6144, MaxChunks: 8, MaxLineBytes: MaxLine, MaxResponseBytes: 4096, ReservedResponseBytes: 1024}
	fzLarge  = Budget{MaxBytes: 15360, MaxChunks: 8, MaxLineBytes: MaxLine, MaxResponseBytes: 32768, ReservedResponseBytes: 4096}
)

// fzChunkNames is the alphabet of cookie names FuzzChunks draws from: the
// session cookie (index 0), its chunks 1 to 40 (31 is the highest there
// can be), then names that look like chunks but are not. gencorpus.go
// writes seeds with these indexes; append, never reorder.
func fzChunkNames(name string) []string {
	names := []string{name}
	for i := 1; i <= 40; i++ {
		names = append(names, name+"."+strconv.Itoa(i))
	}
	return append(names,
		name+".01", // 41
		name+".0",
		name+".",
		name+".1x",
		name+".+1",
		name+".-1",
		name+"..1",
		name+".1.1",
		name+" ",
		"x"+name,
		strings.ToLower(name),
		"other", // 52
		"",
	)
}

// fzPoolSizes are the lengths of the envelopes in FuzzChunks' pool, as
// large as sessions of 0 to 8000 bytes of values. Each is written by the
// wide jar into many chunks; seeds refer to those chunks by (envelope,
// chunk) index instead of carrying kilobytes of text, which keeps inputs
// small and minimization fast. gencorpus.go uses the same list.
var fzPoolSizes = []int{130, 240, 3150, 6150, 8150}

// fzPoolEnv is pool envelope i: fixed bytes, as the layer does not open
// what it reads.
func fzPoolEnv(i int) []byte {
	env := make([]byte, fzPoolSizes[i])
	for j := range env {
		env[j] = byte(j*7 + i)
	}
	return env
}

// fzMakePool returns the cookie values of each pool envelope, in chunk
// order.
func fzMakePool(tb testing.TB, j *Jar) [][]string {
	tb.Helper()
	pool := make([][]string, len(fzPoolSizes))
	for i := range fzPoolSizes {
		lines, _, tl := j.Write(fzPoolEnv(i), 86400, 0)
		require.Nil(tb, tl)
		for k, line := range lines {
			name, value, _ := strings.Cut(fzPairOf(line), "=")
			require.Equal(tb, fuzzseed.RefChunkName(fzName, k), name)
			pool[i] = append(pool[i], value)
		}
	}
	return pool
}

func fzPairOf(line string) string {
	pair, _, _ := strings.Cut(line, ";")
	return pair
}

// fzDecodeCookies reads a cookie list from fuzz input, as records of four
// bytes [name, kind, a, b] and, for a literal, the value: name chooses from
// names (modulo); an even kind is a literal of a<<8|b bytes (cut short at
// the end of the input), an odd kind is chunk b of pool envelope a (both
// modulo).
func fzDecodeCookies(data []byte, names []string, pool [][]string) []fuzzseed.Cookie {
	var out []fuzzseed.Cookie
	for len(data) >= 4 {
		name, kind, a, b := names[int(data[0])%len(names)], data[1], data[2], data[3]
		data = data[4:]
		if kind%2 == 1 {
			chunks := pool[int(a)%len(pool)]
			out = append(out, fuzzseed.Cookie{Name: name, Value: chunks[int(b)%len(chunks)]})
			continue
		}
		n := min(int(a)<<8|int(b), len(data))
		out = append(out, fuzzseed.Cookie{Name: name, Value: string(data[:n])})
		data = data[n:]
	}
	return out
}

// ---------------------------------------------------------------------------
// Reference reader, written from SPEC.md "Chunked cookies / Reading"
// (fuzzseed.RefJoin, shared with the root package's FuzzMiddleware), then
// the budget and the encoding.

type fzRefReadResult struct {
	ok      bool // a value was read: env
	env     []byte
	present uint32
	chunks  int    // what Chunks reports
	reason  string // as Read names it
}

// fzRefRead is the whole reading side: the chunks, the budget (no more
// than MaxBytes of value, and no more than the encoding of MaxDecoded
// bytes) and strict unpadded base64url.
func fzRefRead(lines []string, b Budget, maxDecoded int) fzRefReadResult {
	var r fzRefReadResult
	sealed, n, present, ok := fuzzseed.RefJoin(fuzzseed.RefSplitHeader(lines), fzName, b.MaxChunks)
	r.present = present
	switch {
	case present == 0:
		return r
	case !ok:
		r.reason = "chunks"
		return r
	}
	r.chunks = n
	switch {
	case len(sealed) > b.MaxBytes:
		r.reason = "over budget"
	case len(sealed) > (4*maxDecoded+2)/3:
		r.reason = "too-large"
	default:
		env, err := base64.RawURLEncoding.Strict().DecodeString(sealed)
		if err != nil || strings.ContainsAny(sealed, "\r\n") {
			r.reason = "encoding"
		} else {
			r.ok, r.env = true, env
		}
	}
	return r
}

// ---------------------------------------------------------------------------

// FuzzChunks has two halves.
//
// Reading: an arbitrary list of cookies (names from fzChunkNames, values
// arbitrary or real chunks from the pool, in any order, with duplicates),
// as one Cookie header line and as one "name=value" argument each, goes to
// Jar.Read of a jar allowing 32 chunks and of one with the default budget.
// Read must never panic and must agree with the reference reader (SPEC.md
// "Chunked cookies / Reading", then the budget and the encoding): the same
// chunks present, the same decoded envelope after the room asked for, or
// the same reason for having none; Chunks must count the same chunks.
//
// Writing: an envelope of a size taken from the input (up to 12 KiB), with
// a Max-Age and the chunks the client holds taken from the input too, is
// written under BudgetLarge and under the default budget. It must be
// written in the fewest chunks whose lines fit MaxLineBytes, and refused
// exactly when those chunks would not fit a direction: their Cookie
// header over MaxBytes, or their Set-Cookie headers ("Set-Cookie: " line
// CRLF) over MaxResponseBytes-ReservedResponseBytes; a refusal carries
// those chunks' numbers in both directions. Each line must be the
// (*http.Cookie).String() of its cookie and fit 4096 bytes, the chunks
// must carry the count and whole base64 quanta as SPEC.md says and join
// to the envelope's encoding, and the chunks the client holds beyond them
// must be expired in order as long as their deletions fit the response
// beside the chunks (the rest counted as dropped); Expire likewise. The
// chunks, shuffled (by the input's seed) and mixed with a stale chunk and
// a foreign cookie, must read back to the envelope.
func FuzzChunks(f *testing.F) {
	fuzzseed.RequireCorpus(f)
	wide, narrow, large := fzJar(f, fzWide), fzJar(f, fzNarrow), fzJar(f, fzLarge)
	names := fzChunkNames(fzName)
	pool := fzMakePool(f, wide)

	f.Fuzz(func(t *testing.T, data []byte, size uint16, seed uint64) {
		rng := rand.New(rand.NewPCG(seed, uint64(size)))
		room := rng.IntN(100)

		// Reading.
		cookies := fzDecodeCookies(data, names, pool)
		pairs := make([]string, len(cookies))
		for i, c := range cookies {
			pairs[i] = c.Name + "=" + c.Value
		}
		for _, j := range []struct {
			jar *Jar
			b   Budget
		}{{wide, fzWide}, {narrow, fzNarrow}} {
			for _, headers := range [][]string{pairs, {strings.Join(pairs, "; ")}} {
				fzRequireRead(t, j.jar, j.b, headers, room)
			}
		}

		// Writing.
		env := make([]byte, int(size)%(12<<10+1))
		for i := range env {
			env[i] = byte(rng.Uint32())
		}
		maxAge := 1 + rng.IntN(400*24*3600)
		held := Mask(rng.Uint32())
		for _, j := range []struct {
			jar *Jar
			b   Budget
		}{{large, fzLarge}, {narrow, fzNarrow}} {
			fzRequireWrite(t, j.jar, j.b, env, maxAge, held, seed, rng, room)
		}
	})
}

// fzAttrs is the Set-Cookie line of c with the attributes of every jar
// here.
func fzAttrs(c *http.Cookie) string {
	c.Path, c.HttpOnly, c.Secure, c.SameSite = "/", true, true, http.SameSiteLaxMode
	return c.String()
}

// fzHeaderBytes is what a Set-Cookie line takes in a response header.
func fzHeaderBytes(line string) int { return len("Set-Cookie: ") + len(line) + len("\r\n") }

// fzRefPlan is SPEC.md's split of a value of L characters whose lines
// carry attrs bytes of attributes: the fewest chunks, up to b.MaxChunks,
// whose lines (name, "=", the count "n." on the first when n > 1, the
// chunk's characters, the attributes) fit MaxLineBytes with every chunk
// but the last a whole number of quanta, or n = 0 when none do; and what
// they take in the Cookie header and in the response's Set-Cookie
// headers.
func fzRefPlan(L, attrs int, b Budget) (n, req, resp int) {
	for n := 1; n <= b.MaxChunks; n++ {
		prefix := 0
		if n > 1 {
			prefix = len(strconv.Itoa(n)) + 1
		}
		total := 0
		for i := range n {
			c := b.MaxLineBytes - len(fuzzseed.RefChunkName(fzName, i)) - 1 - attrs
			if i == 0 {
				c -= prefix
			}
			if i < n-1 {
				c -= c % 4
			}
			total += max(c, 0)
		}
		if total < L {
			continue
		}
		req, resp = prefix+L+2*(n-1), prefix+L
		for i := range n {
			name := len(fuzzseed.RefChunkName(fzName, i)) + 1
			req += name
			resp += name + attrs + len("Set-Cookie: \r\n")
		}
		return n, req, resp
	}
	return 0, 0, 0
}

// fzRefDeletions is the deletions of the chunks held from index from on,
// in order, each while it fits what is left of room, and how many did
// not fit.
func fzRefDeletions(held Mask, from, room int) (lines []string, dropped int) {
	for i := from; i < MaxChunks; i++ {
		if held&(1<<i) == 0 {
			continue
		}
		line := fzAttrs(&http.Cookie{Name: fuzzseed.RefChunkName(fzName, i), MaxAge: -1})
		if fzHeaderBytes(line) > room {
			dropped++
			continue
		}
		room -= fzHeaderBytes(line)
		lines = append(lines, line)
	}
	return lines, dropped
}

// fzRequireWrite is FuzzChunks' writing half for jar j of budget b.
func fzRequireWrite(t *testing.T, j *Jar, b Budget, env []byte, maxAge int, held Mask, seed uint64, rng *rand.Rand, room int) {
	t.Helper()
	respRoom := b.MaxResponseBytes - b.ReservedResponseBytes
	encoded := base64.RawURLEncoding.EncodeToString(env)
	attrsLen := len(fzAttrs(&http.Cookie{Name: "x", MaxAge: maxAge})) - len("x=")
	wantN, wantReq, wantResp := fzRefPlan(len(encoded), attrsLen, b)
	fits := wantN > 0 && wantReq <= b.MaxBytes && wantResp <= respRoom

	lines, dropped, tl := j.Write(env, maxAge, held)
	if tl != nil {
		require.Nil(t, lines)
		require.False(t, fits, "a value that fits was refused (%d chunks, %d bytes of Cookie header, %d of Set-Cookie): %+v", wantN, wantReq, wantResp, *tl)
		require.Greater(t, tl.Bytes, tl.Limit, "TooLarge within the limit")
		require.Greater(t, tl.ResponseBytes, tl.ResponseLimit, "TooLarge within the response limit")
		require.LessOrEqual(t, tl.Limit, b.MaxBytes)
		require.LessOrEqual(t, tl.ResponseLimit, respRoom)
		if wantN > 0 {
			require.Equal(t, wantReq, tl.Bytes, "Bytes: the fewest chunks' Cookie header")
			require.Equal(t, wantResp, tl.ResponseBytes, "ResponseBytes: the fewest chunks' Set-Cookie headers")
		}
		return
	}
	require.True(t, fits, "a value that does not fit was written (%d chunks, %d bytes of Cookie header, %d of Set-Cookie)", wantN, wantReq, wantResp)

	var chunks []fuzzseed.Cookie
	for len(chunks) < len(lines) {
		c, err := http.ParseSetCookie(lines[len(chunks)])
		require.NoError(t, err)
		if c.MaxAge < 0 {
			break
		}
		chunks = append(chunks, fuzzseed.Cookie{Name: c.Name, Value: c.Value})
	}
	n := len(chunks)
	require.Equal(t, wantN, n, "not the fewest chunks")
	reqBytes, respBytes := 2*(n-1), 0
	var joined strings.Builder
	for i, c := range chunks {
		line := lines[i]
		require.LessOrEqual(t, len(line), MaxLine, "Set-Cookie line over 4096 bytes")
		require.LessOrEqual(t, len(line), b.MaxLineBytes)
		require.Equal(t, fzAttrs(&http.Cookie{Name: c.Name, Value: c.Value, MaxAge: maxAge}), line)
		require.Equal(t, fuzzseed.RefChunkName(fzName, i), c.Name)
		reqBytes += len(c.Name) + 1 + len(c.Value)
		respBytes += fzHeaderBytes(line)
		v := c.Value
		if i == 0 && n > 1 {
			prefix := strconv.Itoa(n) + "."
			require.True(t, strings.HasPrefix(v, prefix), "first chunk %q... lacks the count", v[:min(8, len(v))])
			v = v[len(prefix):]
		}
		if i < n-1 {
			require.Zero(t, len(v)%4, "non-final chunk %d holds %d characters", i, len(v))
		}
		joined.WriteString(v)
	}
	require.Equal(t, wantReq, reqBytes)
	require.Equal(t, wantResp, respBytes)
	require.LessOrEqual(t, reqBytes, b.MaxBytes)
	require.LessOrEqual(t, respBytes, respRoom)
	require.Equal(t, encoded, joined.String(), "the chunks do not join to the envelope's encoding")

	// Deletions: each chunk held beyond the new ones, in order, while they
	// fit the response beside the chunks.
	deletions, wantDropped := fzRefDeletions(held, n, respRoom-respBytes)
	require.Equal(t, len(deletions), len(lines)-n, "stale chunks not expired as they should be")
	for i, line := range deletions {
		require.Equal(t, line, lines[n+i], "stale chunks not expired as they should be")
	}
	require.Equal(t, wantDropped, dropped)
	for _, line := range lines[n:] {
		respBytes += fzHeaderBytes(line)
	}
	require.LessOrEqual(t, respBytes, respRoom, "Set-Cookie headers with the deletions")
	all, allDropped := fzRefDeletions(held, 0, respRoom)
	gone, goneDropped := j.Expire(held)
	require.Equal(t, len(all), len(gone), "Expire")
	for i, line := range all {
		require.Equal(t, line, gone[i], "Expire")
	}
	require.Equal(t, allDropped, goneDropped)

	// Read back.
	sent := append([]fuzzseed.Cookie(nil), chunks...)
	if seed&1 != 0 && n < MaxChunks {
		sent = append(sent, fuzzseed.Cookie{Name: fuzzseed.RefChunkName(fzName, n), Value: "c3RhbGU"})
	}
	if seed&2 != 0 {
		sent = append(sent, fuzzseed.Cookie{Name: "other", Value: "x"})
	}
	rng.Shuffle(len(sent), func(i, j int) { sent[i], sent[j] = sent[j], sent[i] })
	var want Mask
	back := make([]string, len(sent))
	for i, c := range sent {
		back[i] = c.Name + "=" + c.Value
		if k := fuzzseed.RefChunkIndex(fzName, c.Name); k >= 0 {
			want |= 1 << k
		}
	}
	for _, headers := range [][]string{back, {strings.Join(back, "; ")}} {
		buf, present, reason := j.Read(headers, room)
		if len(env) == 0 {
			// Nothing to carry: the one chunk is empty, which reads as no
			// session (no envelope is empty).
			require.Equal(t, "chunks", reason, "an empty chunk read back")
			require.Nil(t, buf)
			require.Equal(t, want, present)
			continue
		}
		require.Empty(t, reason, "written chunks do not read back")
		require.Equal(t, want, present)
		require.Len(t, buf, room+len(env))
		require.True(t, bytes.Equal(env, buf[room:]), "written chunks read back to other bytes")
		require.Equal(t, n, j.Chunks(headers))
	}
}

func fzRequireRead(t *testing.T, j *Jar, b Budget, headers []string, room int) {
	t.Helper()
	want := fzRefRead(headers, b, envelope.MaxSize)
	buf, present, reason := j.Read(headers, room)
	require.Equal(t, want.present, uint32(present), "chunks present")
	require.Equal(t, want.reason, reason, "Read and the reference disagree (max %d chunks)", b.MaxChunks)
	require.Equal(t, want.chunks, j.Chunks(headers))
	if !want.ok {
		require.Nil(t, buf)
		return
	}
	require.Len(t, buf, room+len(want.env))
	require.True(t, bytes.Equal(want.env, buf[room:]), "Read decodes other bytes than the reference")
}
