package sealed

import (
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"unsafe"
)

// Chunked cookies (SPEC.md, "Chunked cookies"). A sealed value that does not
// fit one cookie is split across NAME, NAME.1, NAME.2, ... NAME.(n-1). When
// n > 1 the first cookie's value starts with the decimal n and a '.', which
// is outside the base64url alphabet and so cannot be confused with data.
// Every chunk but the last holds a multiple of 4 characters, so each chunk
// decodes on its own, straight into one buffer.

// MaxChunksLimit is the most cookies one session may span.
const MaxChunksLimit = 32

// MaxLineLimit is the largest Set-Cookie line (name, value and attributes,
// without the "Set-Cookie: " header name) a chunk may need. Browsers keep
// cookies of up to 4096 bytes of name and value (RFC 6265 section 6.1;
// Chromium measured), and a Google Front End drops every Set-Cookie of a
// response once one line exceeds 4096 bytes with its attributes.
const MaxLineLimit = 4096

// ErrTooLarge is what a *TooLargeError unwraps to: the session does not
// fit the cookie budget. Nothing is written, so the client keeps its
// previous cookies.
var ErrTooLarge = errors.New("sealed: session too large for the cookie budget")

// TooLargeError reports a session that was not saved because its cookies
// would not fit the Budget (or, past any budget, the format's
// MaxPayloadBytes). errors.Is(err, ErrTooLarge) is true for it.
type TooLargeError struct {
	// Bytes is what the session's cookies would add to the request's
	// Cookie header ("name=value" pairs and the "; " between them).
	Bytes int
	// Limit is the most that any session may add under the budget:
	// Budget.MaxBytes, or less where MaxChunks and MaxLineBytes bind
	// first. Bytes-Limit is by how much the session is too large.
	Limit int

	format bool // the format's limit, not the budget's
}

func (e *TooLargeError) Error() string {
	if e.format {
		return fmt.Sprintf("%v: the sealed session would be %d bytes, the format allows %d", ErrTooLarge, e.Bytes, e.Limit)
	}
	return fmt.Sprintf("%v: it needs %d bytes of Cookie header, the budget allows %d", ErrTooLarge, e.Bytes, e.Limit)
}

// Unwrap returns ErrTooLarge.
func (e *TooLargeError) Unwrap() error { return ErrTooLarge }

// Budget bounds the cookies of one session. The zero value means
// DefaultBudget; zero fields take the defaults below.
type Budget struct {
	// MaxBytes caps what the session adds to a request's Cookie header:
	// every "name=value" pair plus the "; " between them.
	// Default 6144 (DefaultBudget).
	MaxBytes int
	// MaxChunks caps the number of cookies. Default 8, at most 32
	// (MaxChunksLimit). Lowering it makes existing sessions that need more
	// chunks invalid.
	MaxChunks int
	// MaxLineBytes caps each Set-Cookie line as serialized: name, value and
	// every attribute. Default and maximum 4096 (MaxLineLimit).
	MaxLineBytes int
}

// Budgets for common front ends. Each leaves room for the application's own
// cookies and other headers; a session alone never needs the whole limit.
// Every Set-Cookie line stays within 4096 bytes in all of them.
var (
	// DefaultBudget fits every front end listed here with room to spare:
	// under nginx's default 8 KiB request header line it leaves 2 KiB for
	// other cookies, and under API Gateway's 10 KiB for all headers it
	// leaves 4 KiB for the request line and every other header.
	DefaultBudget = Budget{MaxBytes: 6144, MaxChunks: 8, MaxLineBytes: MaxLineLimit}
	// BudgetNginx is for nginx with its default large_client_header_buffers
	// (8 KiB per header line; a Cookie line of 8190 bytes measured passing,
	// 8200 rejected with 400). Leaves 1 KiB for other cookies.
	BudgetNginx = Budget{MaxBytes: 7168, MaxChunks: 8, MaxLineBytes: MaxLineLimit}
	// BudgetAPIGatewayHTTP is for AWS API Gateway HTTP APIs, whose request
	// line and headers together may not exceed 10240 bytes. Leaves 2 KiB.
	BudgetAPIGatewayHTTP = Budget{MaxBytes: 8192, MaxChunks: 8, MaxLineBytes: MaxLineLimit}
	// BudgetLarge is for front ends that allow 16 KiB per header: AWS ALB
	// (64 KiB for all headers), Cloudflare (32 KiB in all) and Vercel.
	BudgetLarge = Budget{MaxBytes: 15360, MaxChunks: 8, MaxLineBytes: MaxLineLimit}
)

func (b Budget) withDefaults() Budget {
	if b.MaxBytes == 0 {
		b.MaxBytes = DefaultBudget.MaxBytes
	}
	if b.MaxChunks == 0 {
		b.MaxChunks = DefaultBudget.MaxChunks
	}
	if b.MaxLineBytes == 0 {
		b.MaxLineBytes = DefaultBudget.MaxLineBytes
	}
	return b
}

func (b Budget) validate() error {
	switch {
	case b.MaxChunks < 1 || b.MaxChunks > MaxChunksLimit:
		return fmt.Errorf("sealed: Options.Budget.MaxChunks is %d, want 1 to %d", b.MaxChunks, MaxChunksLimit)
	case b.MaxLineBytes < 512 || b.MaxLineBytes > MaxLineLimit:
		return fmt.Errorf("sealed: Options.Budget.MaxLineBytes is %d, want 512 to %d", b.MaxLineBytes, MaxLineLimit)
	case b.MaxBytes < 256:
		return fmt.Errorf("sealed: Options.Budget.MaxBytes is %d, want at least 256", b.MaxBytes)
	}
	return nil
}

// chunkMask has bit i set when chunk i was present in the request.
type chunkMask uint32

// chunkSet is the session's cookies as found in a request. Values are
// substrings of the request's headers: parsing allocates nothing.
type chunkSet struct {
	vals    [MaxChunksLimit]string
	present chunkMask
	dup     bool // a chunk name appeared twice
}

// chunkIndex returns the chunk index of a cookie named cname for the
// session cookie name, or -1. Index i > 0 is written in decimal without
// leading zeros, so "name.01" is not chunk 1.
func chunkIndex(name, cname string) int {
	if len(cname) < len(name) || cname[:len(name)] != name {
		return -1
	}
	rest := cname[len(name):]
	if rest == "" {
		return 0
	}
	if len(rest) < 2 || rest[0] != '.' || rest[1] == '0' || len(rest) > 3 {
		return -1
	}
	i := 0
	for _, c := range []byte(rest[1:]) {
		if c < '0' || c > '9' {
			return -1
		}
		i = i*10 + int(c-'0')
	}
	if i >= MaxChunksLimit {
		return -1
	}
	return i
}

func (cs *chunkSet) add(name, cname, val string) {
	i := chunkIndex(name, cname)
	if i < 0 {
		return
	}
	if cs.present&(1<<i) != 0 {
		cs.dup = true
	}
	cs.present |= 1 << i
	cs.vals[i] = val
}

// addHeader adds the session's chunks from one Cookie header line, splitting
// it as net/http does ("a=1; b=2", spaces trimmed) without allocating.
func (cs *chunkSet) addHeader(name, line string) {
	for line != "" {
		var part string
		part, line, _ = strings.Cut(line, ";")
		part = textproto.TrimString(part)
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			continue
		}
		cs.add(name, k, v)
	}
}

// pieces reassembles the sealed value. It fails on a missing first chunk, a
// bad or over-budget count, a missing or duplicated chunk, or a non-final
// chunk whose length is not a multiple of 4. Chunks beyond the count are
// ignored here (and expired on the next write).
func (cs *chunkSet) pieces(maxChunks int, dst []string) ([]string, bool) {
	if cs.dup || cs.present&1 == 0 {
		return nil, false
	}
	first := cs.vals[0]
	n := 1
	if dot := strings.IndexByte(first, '.'); dot >= 0 {
		c, err := strconv.Atoi(first[:dot])
		if err != nil || c < 2 || first[0] == '0' || first[0] == '+' || first[0] == '-' {
			return nil, false
		}
		n = c
		first = first[dot+1:]
	}
	if n > maxChunks {
		return nil, false
	}
	dst = append(dst, first)
	for i := 1; i < n; i++ {
		if cs.present&(1<<i) == 0 {
			return nil, false
		}
		dst = append(dst, cs.vals[i])
	}
	for _, p := range dst[:n-1] {
		if len(p)%4 != 0 {
			return nil, false
		}
	}
	return dst, true
}

// chunkName is the cookie name of chunk i.
func chunkName(name string, i int) string {
	if i == 0 {
		return name
	}
	return name + "." + strconv.Itoa(i)
}

// countPrefix[n] is the "n." that starts the first chunk of a value split
// into n > 1 chunks.
var countPrefix = func() (p [MaxChunksLimit + 1]string) {
	for n := 2; n <= MaxChunksLimit; n++ {
		p[n] = strconv.Itoa(n) + "."
	}
	return p
}()

// chunkPlan says how a sealed value is split: into n chunks, the first
// starting with prefix, chunk i holding take[i] characters of the value.
type chunkPlan struct {
	n      int
	prefix string
	take   [MaxChunksLimit]int
}

// planChunks splits a sealed value of L characters into the fewest chunks
// that fit: each Set-Cookie line (the chunk's name from names, "=", its
// value and attrsLen bytes of attributes) within b.MaxLineBytes, the
// Cookie header the browser sends back within b.MaxBytes, every chunk but
// the last a whole number of base64 quanta. It needs only the length, so a
// save learns that a session is too large before it seals anything. It
// returns a *TooLargeError when the value does not fit.
func planChunks(L int, names []string, b Budget, attrsLen int) (chunkPlan, error) {
	var p chunkPlan
	for n := 1; n <= b.MaxChunks; n++ {
		total := chunkCapacity(&p, n, names, b, attrsLen)
		if total < L {
			continue
		}
		// The fewest chunks that hold the value; check the request budget.
		if req := requestBytes(L, n, names); req > b.MaxBytes {
			return p, &TooLargeError{Bytes: req, Limit: budgetLimit(names, b, attrsLen)}
		}
		// Fill the chunks in order; the last may come out shorter, and a
		// chunk that would end the value mid-quantum before the last one
		// gives its partial quantum to the next.
		rest := L
		for i := 0; i < n; i++ {
			take := min(p.take[i], rest)
			if i < n-1 && take == rest && take%4 != 0 {
				take &^= 3
			}
			p.take[i] = take
			rest -= take
		}
		if rest != 0 {
			continue // cannot happen: total >= L
		}
		p.n, p.prefix = n, countPrefix[n]
		return p, nil
	}
	// More chunks than the budget allows: say how many bytes of Cookie
	// header they would take, lines as wide as the budget's.
	line := b.MaxLineBytes - len(names[0]) - 4 - attrsLen
	n := max((L+line-1)/line, b.MaxChunks+1)
	return p, &TooLargeError{Bytes: requestBytes(L, n, names), Limit: budgetLimit(names, b, attrsLen)}
}

// chunkCapacity fills p.take with the most characters each of n chunks
// can hold and returns their sum.
func chunkCapacity(p *chunkPlan, n int, names []string, b Budget, attrsLen int) int {
	total := 0
	for i := 0; i < n; i++ {
		c := b.MaxLineBytes - len(names[i]) - 1 - attrsLen
		if i == 0 {
			c -= len(countPrefix[n])
		}
		if i < n-1 {
			c &^= 3 // non-final chunks hold whole base64 quanta
		}
		if c < 4 {
			c = 0
		}
		p.take[i] = c
		total += c
	}
	return total
}

// requestBytes is what a sealed value of L characters in n chunks adds to
// the Cookie header: the count prefix, the value, each "name=" and the
// "; " between the pairs. names[0] is the session cookie's name; chunks
// past len(names) are named as chunkName would.
func requestBytes(L, n int, names []string) int {
	prefix := 0
	if n > 1 {
		prefix = len(strconv.Itoa(n)) + 1
	}
	req := prefix + L + 2*(n-1)
	for i := 0; i < n; i++ {
		if i < len(names) {
			req += len(names[i]) + 1
		} else {
			req += len(names[0]) + 2 + len(strconv.Itoa(i))
		}
	}
	return req
}

// budgetLimit is the Cookie header bytes of the largest session the
// budget lets a save write.
func budgetLimit(names []string, b Budget, attrsLen int) int {
	var p chunkPlan
	best, prev := 0, 0
	for n := 1; n <= b.MaxChunks; n++ {
		total := chunkCapacity(&p, n, names, b, attrsLen)
		// The values that take exactly n chunks are those longer than
		// n-1 chunks hold; the longest of them within MaxBytes.
		hi := min(total, b.MaxBytes-requestBytes(0, n, names))
		if hi > prev {
			best = max(best, requestBytes(hi, n, names))
		}
		prev = total
	}
	return best
}

// chunkLines appends to out the Set-Cookie lines that carry the envelope
// env split as p says. Each chunk's part of env is base64-encoded straight
// into its line, and all the lines share one allocation: the lines are
// what a write must allocate, and nothing else of the cookie is copied.
func chunkLines(out []outCookie, env []byte, p *chunkPlan, names []string, attrs string, maxAge int) []outCookie {
	size := len(p.prefix)
	for i := 0; i < p.n; i++ {
		size += len(names[i]) + 1 + p.take[i] + len(attrs)
	}
	// buf never grows past its capacity, so the strings below, taken as
	// each line is finished, stay valid; nothing writes to it afterwards.
	buf := make([]byte, 0, size)
	used := 0 // bytes of env encoded so far
	for i := 0; i < p.n; i++ {
		start := len(buf)
		buf = append(buf, names[i]...)
		buf = append(buf, '=')
		vstart := len(buf)
		if i == 0 {
			buf = append(buf, p.prefix...)
		}
		nb := len(env) - used // the last chunk takes the rest
		if i < p.n-1 {
			nb = p.take[i] / 4 * 3
		}
		end := len(buf) + b64EncodedLen(nb)
		encodeB64(buf[len(buf):end], env[used:used+nb])
		buf = buf[:end]
		used += nb
		vend := len(buf)
		buf = append(buf, attrs...)
		line := unsafe.String(&buf[start], len(buf)-start)
		out = append(out, outCookie{name: names[i], value: line[vstart-start : vend-start], maxAge: maxAge, ln: line})
	}
	return out
}

// cookieAttrs serializes the attributes every session cookie carries, as
// net/http does: every line the package writes is (*http.Cookie).String()
// of the cookie Save returns, byte for byte, whichever way it is sent.
// maxAge < 0 means "expire now" (Max-Age=0).
func (m *Manager) cookieAttrs(maxAge int) string {
	c := http.Cookie{
		Name: "x", Path: m.path, Domain: m.domain, MaxAge: maxAge,
		HttpOnly: true, Secure: m.secure, SameSite: m.sameSite, Partitioned: m.partitioned,
	}
	return strings.TrimPrefix(c.String(), "x=")
}
