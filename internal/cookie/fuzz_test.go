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
// chunks and reads up to 32; narrow is the default budget; large is
// BudgetLarge, which the writing half uses. gencorpus.go uses wide too.
var (
	fzWide   = Budget{MaxBytes: 1 << 20, MaxChunks: MaxChunks, MaxLineBytes: 512}
	fzNarrow = Budget{MaxBytes: 6144, MaxChunks: 8, MaxLineBytes: MaxLine}
	fzLarge  = Budget{MaxBytes: 15360, MaxChunks: 8, MaxLineBytes: MaxLine}
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
		lines, tl := j.Write(fzPoolEnv(i), 86400, 0)
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
// written under BudgetLarge. It may fail only when it cannot fit. Each
// line must be the (*http.Cookie).String() of its cookie and fit 4096
// bytes, the chunks must fit the budget, carry the count and whole base64
// quanta as SPEC.md says and join to the envelope's encoding, and every
// chunk the client holds beyond them must be expired. The chunks, shuffled
// (by the input's seed) and mixed with a stale chunk and a foreign cookie,
// must read back to the envelope.
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
		lines, tl := large.Write(env, maxAge, held)
		encoded := base64.RawURLEncoding.EncodeToString(env)
		if tl != nil {
			require.Nil(t, lines)
			require.Greater(t, tl.Bytes, tl.Limit, "TooLarge within the limit")
			require.LessOrEqual(t, tl.Limit, fzLarge.MaxBytes)
			// With the fewest chunks that hold it (eight always do, lines
			// being long), the value fits unless even eight chunks' names,
			// count and separators take it over MaxBytes.
			overhead := len("8.") + 2*7
			for i := range 8 {
				overhead += len(fuzzseed.RefChunkName(fzName, i)) + 1
			}
			require.Greater(t, len(encoded)+overhead, fzLarge.MaxBytes, "a value that fits was refused: %+v", *tl)
			return
		}

		attrs := func(c *http.Cookie) string {
			c.Path, c.HttpOnly, c.Secure, c.SameSite = "/", true, true, http.SameSiteLaxMode
			return c.String()
		}
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
		require.True(t, n >= 1 && n <= fzLarge.MaxChunks, "%d chunks", n)
		reqBytes := 2 * (n - 1)
		var joined strings.Builder
		for i, c := range chunks {
			line := lines[i]
			require.LessOrEqual(t, len(line), MaxLine, "Set-Cookie line over 4096 bytes")
			require.Equal(t, attrs(&http.Cookie{Name: c.Name, Value: c.Value, MaxAge: maxAge}), line)
			require.Equal(t, fuzzseed.RefChunkName(fzName, i), c.Name)
			reqBytes += len(c.Name) + 1 + len(c.Value)
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
		require.LessOrEqual(t, reqBytes, fzLarge.MaxBytes)
		require.Equal(t, encoded, joined.String(), "the chunks do not join to the envelope's encoding")

		// Deletions: each chunk held beyond the new ones, in order.
		var deletions []string
		for i := n; i < MaxChunks; i++ {
			if held&(1<<i) != 0 {
				deletions = append(deletions, attrs(&http.Cookie{Name: fuzzseed.RefChunkName(fzName, i), MaxAge: -1}))
			}
		}
		require.Equal(t, deletions, lines[n:], "stale chunks not expired as they should be")
		var all []string
		for i := range MaxChunks {
			if held&(1<<i) != 0 {
				all = append(all, attrs(&http.Cookie{Name: fuzzseed.RefChunkName(fzName, i), MaxAge: -1}))
			}
		}
		require.Equal(t, all, large.Expire(held))

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
			buf, present, reason := large.Read(headers, room)
			require.Empty(t, reason, "written chunks do not read back")
			require.Equal(t, want, present)
			require.Len(t, buf, room+len(env))
			require.True(t, bytes.Equal(env, buf[room:]), "written chunks read back to other bytes")
			require.Equal(t, n, large.Chunks(headers))
		}
	})
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
