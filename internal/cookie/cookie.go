// Package cookie is the cookie layer (SPEC.md, "Chunked cookies"): it
// finds a session's chunks in Cookie headers and decodes them into one
// buffer, and it plans the chunks of a sealed value and writes their
// Set-Cookie lines, attributes included, within a Budget.
//
// A value that does not fit one cookie is split across NAME, NAME.1, ...,
// NAME.(n-1). When n > 1 the first cookie's value starts with the decimal n
// and a '.', which is outside the base64url alphabet and so cannot be
// confused with data. Every chunk but the last holds a multiple of 4
// characters, so each chunk decodes on its own, straight into the buffer.
package cookie

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"sync/atomic"
	"unsafe"

	"github.com/sealedgo/sealed/internal/b64"
)

// MaxChunks is the most cookies one session may span.
const MaxChunks = 32

// MaxLine is the largest Set-Cookie line (name, value and attributes,
// without the "Set-Cookie: " header name) a chunk may need. Browsers keep
// cookies of up to 4096 bytes of name and value (RFC 6265 section 6.1;
// Chromium measured), and a Google Front End drops every Set-Cookie of a
// response once one line exceeds 4096 bytes with its attributes.
const MaxLine = 4096

// Budget bounds the cookies of one session in both directions; every
// field is set.
type Budget struct {
	MaxBytes     int // what the session adds to a request's Cookie header
	MaxChunks    int // cookies, at most MaxChunks
	MaxLineBytes int // each Set-Cookie line as serialized, at most MaxLine
	// MaxResponseBytes and ReservedResponseBytes bound a response's
	// header: its Set-Cookie headers ("Set-Cookie: " line CRLF) may take
	// MaxResponseBytes-ReservedResponseBytes. A MaxResponseBytes of 0
	// means no bound, for callers that only read (the root package always
	// sets one).
	MaxResponseBytes      int
	ReservedResponseBytes int
}

// headerOverhead is what a Set-Cookie line costs in a response header
// besides itself: "Set-Cookie: " and CRLF.
const headerOverhead = len("Set-Cookie: ") + len("\r\n")

// Config is a session cookie's name, attributes and budget. The error
// texts of New name the Options fields they come from.
type Config struct {
	Name, Path, Domain string
	Secure             bool
	SameSite           http.SameSite
	Partitioned        bool
	Budget             Budget
	// MaxAge is the longest Max-Age a line may carry, in seconds.
	MaxAge int
	// MaxDecoded is the longest value Read decodes, in bytes.
	MaxDecoded int
}

// Jar writes and reads the cookies of one configuration. It is safe for
// concurrent use.
type Jar struct {
	c          Config
	names      []string // the cookie name of each chunk the budget allows
	maxEncoded int
	delAttrs   string // the attributes of a deletion
	// attrs caches the serialized attributes for the last Max-Age used:
	// nearly every save uses the idle timeout's.
	attrs atomic.Pointer[cachedAttrs]
}

type cachedAttrs struct {
	maxAge int
	s      string
}

// New checks c and returns its Jar.
func New(c Config) (*Jar, error) {
	if err := validate(&c); err != nil {
		return nil, err
	}
	j := &Jar{c: c, maxEncoded: b64.EncodedLen(c.MaxDecoded)}
	// The longest line without a value: the last possible chunk's name and
	// the attributes with the largest Max-Age. Leave room for real data.
	worst := len(chunkName(c.Name, c.Budget.MaxChunks-1)) + 1 + len(j.serialize(c.MaxAge))
	if worst > c.Budget.MaxLineBytes-256 {
		return nil, fmt.Errorf("sealed: Options.CookieName, Path and Domain take %d bytes of each %d-byte Set-Cookie line, leaving too little for the session", worst, c.Budget.MaxLineBytes)
	}
	// Likewise for the response: one Set-Cookie header must hold a session.
	if one := headerOverhead + len(c.Name) + 1 + len(j.serialize(c.MaxAge)); one > j.responseRoom()-256 {
		return nil, fmt.Errorf("sealed: Options.CookieName, Path and Domain take %d bytes of the %d bytes of Set-Cookie headers that Options.Budget.MaxResponseBytes leaves after ReservedResponseBytes, leaving too little for the session", one, j.responseRoom())
	}
	j.delAttrs = j.serialize(-1)
	j.names = make([]string, c.Budget.MaxChunks)
	for i := range j.names {
		j.names[i] = chunkName(c.Name, i)
	}
	return j, nil
}

func validate(c *Config) error {
	b := c.Budget
	switch {
	case b.MaxChunks < 1 || b.MaxChunks > MaxChunks:
		return fmt.Errorf("sealed: Options.Budget.MaxChunks is %d, want 1 to %d", b.MaxChunks, MaxChunks)
	case b.MaxLineBytes < 512 || b.MaxLineBytes > MaxLine:
		return fmt.Errorf("sealed: Options.Budget.MaxLineBytes is %d, want 512 to %d", b.MaxLineBytes, MaxLine)
	case b.MaxBytes < 256:
		return fmt.Errorf("sealed: Options.Budget.MaxBytes is %d, want at least 256", b.MaxBytes)
	case b.ReservedResponseBytes < 0:
		return fmt.Errorf("sealed: Options.Budget.ReservedResponseBytes is %d, want 0 or more", b.ReservedResponseBytes)
	case b.MaxResponseBytes != 0 && b.MaxResponseBytes-b.ReservedResponseBytes < 512:
		return fmt.Errorf("sealed: Options.Budget.MaxResponseBytes (%d) leaves %d bytes for Set-Cookie headers after ReservedResponseBytes (%d), want at least 512", b.MaxResponseBytes, b.MaxResponseBytes-b.ReservedResponseBytes, b.ReservedResponseBytes)
	}
	hc := http.Cookie{Name: c.Name, Value: "x", Path: c.Path, Domain: c.Domain, Secure: c.Secure, Partitioned: c.Partitioned, SameSite: c.SameSite}
	if err := hc.Valid(); err != nil {
		return fmt.Errorf("sealed: Options (CookieName %q, Path %q, Domain %q): %w", c.Name, c.Path, c.Domain, err)
	}
	if !strings.HasPrefix(c.Path, "/") {
		return fmt.Errorf("sealed: Options.Path %q must start with /", c.Path)
	}
	if strings.HasPrefix(c.Name, "__Host-") && (!c.Secure || c.Path != "/" || c.Domain != "") {
		return fmt.Errorf("sealed: Options.CookieName %q: the __Host- prefix needs Secure (no AllowInsecure), Path \"/\" and no Domain", c.Name)
	}
	if strings.HasPrefix(c.Name, "__Secure-") && !c.Secure {
		return fmt.Errorf("sealed: Options.CookieName %q: the __Secure- prefix needs Secure (no AllowInsecure)", c.Name)
	}
	if c.SameSite == http.SameSiteNoneMode && !c.Secure {
		return errors.New("sealed: Options.SameSite None needs Secure (no AllowInsecure)")
	}
	if c.SameSite < http.SameSiteDefaultMode || c.SameSite > http.SameSiteNoneMode {
		return fmt.Errorf("sealed: Options.SameSite %d is not a known mode", c.SameSite)
	}
	return nil
}

// Name returns the session cookie's name (of its first chunk).
func (j *Jar) Name() string { return j.c.Name }

// Mask has bit i set when the request carried chunk i.
type Mask uint32

// Read finds the session's chunks in Cookie header values (each one line,
// "a=1; b=2", or one "name=value" pair) and decodes them into a new buffer
// after room bytes of working space for the envelope layer. present says
// which chunks the request carried, whether or not they decode. A non-empty
// reason says why there is no value (for a debug log line); with no chunk
// at all, reason is empty too and buf is nil.
func (j *Jar) Read(headers []string, room int) (buf []byte, present Mask, reason string) {
	var pbuf [MaxChunks]string
	pieces, n, present, reason := j.join(headers, pbuf[:0])
	switch {
	case present == 0 || reason != "":
		return nil, present, reason
	case n%4 == 1:
		return nil, present, "encoding"
	}
	buf = make([]byte, room+b64.DecodedLen(n))
	at := room
	for _, p := range pieces {
		m, ok := b64.Decode(buf[at:], p)
		if !ok {
			return nil, present, "encoding"
		}
		at += m
	}
	return buf[:at], present, ""
}

// join is Read up to the decoding: it finds the session's chunks in
// headers and returns the pieces of the sealed value (appended to dst)
// and their total length n, or the reason there is none ("chunks", "over
// budget", "too-large"; "" with present 0 for no chunk at all).
func (j *Jar) join(headers []string, dst []string) (pieces []string, n int, present Mask, reason string) {
	cs := j.parse(headers)
	if cs.present == 0 {
		return nil, 0, 0, ""
	}
	pieces, ok := cs.pieces(j.c.Budget.MaxChunks, dst)
	if !ok {
		return nil, 0, cs.present, "chunks"
	}
	// Nothing larger than the budget lets a save write is decoded or
	// decrypted, so a forged cookie costs no more than a valid one.
	for _, p := range pieces {
		n += len(p)
	}
	switch {
	case n > j.c.Budget.MaxBytes:
		return nil, 0, cs.present, "over budget"
	case n > j.maxEncoded:
		return nil, 0, cs.present, "too-large"
	}
	return pieces, n, cs.present, ""
}

// Chunks returns the number of chunks of the value Read would decode from
// headers, or 0.
func (j *Jar) Chunks(headers []string) int {
	cs := j.parse(headers)
	var pbuf [MaxChunks]string
	pieces, _ := cs.pieces(j.c.Budget.MaxChunks, pbuf[:0])
	return len(pieces)
}

func (j *Jar) parse(headers []string) (cs chunkSet) {
	for _, h := range headers {
		cs.addHeader(j.c.Name, h)
	}
	return cs
}

// chunkSet is the session's cookies as found in a request. Values are
// substrings of the request's headers: parsing allocates nothing.
type chunkSet struct {
	vals    [MaxChunks]string
	present Mask
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
	if i >= MaxChunks {
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
// bad or over-budget count, a missing, duplicated or empty chunk (the
// first judged after its count), or a non-final chunk whose length is not
// a multiple of 4. Empty chunks are refused because a writer never makes
// one (every chunk it writes carries part of the value), while accepting
// them would give one sealed value any number of spellings. Chunks beyond
// the count are ignored here (and expired on the next write).
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
	for i, p := range dst {
		if p == "" || (i < n-1 && len(p)%4 != 0) {
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
var countPrefix = func() (p [MaxChunks + 1]string) {
	for n := 2; n <= MaxChunks; n++ {
		p[n] = strconv.Itoa(n) + "."
	}
	return p
}()

// TooLarge reports a value whose cookies would not fit the budget, with
// the numbers of both directions.
type TooLarge struct {
	// Bytes is what the value's cookies would add to the request's Cookie
	// header ("name=value" pairs and the "; " between them); Limit is that
	// of the largest value the budget allows.
	Bytes, Limit int
	// ResponseBytes is what the value's Set-Cookie headers would take in
	// the response header; ResponseLimit is that of the largest value the
	// budget allows.
	ResponseBytes, ResponseLimit int
}

// Write returns the Set-Cookie lines that carry the envelope env, with
// Max-Age maxAge (0: none, a browser-session cookie): its chunks, then
// deletions for the chunks in present beyond them. It fails, writing
// nothing, when the chunks would not fit the budget. Deletions that would not fit the response are left out
// (dropped reports how many): a stale chunk beyond the count is ignored
// on read, while a response over the front end's limit is lost whole.
func (j *Jar) Write(env []byte, maxAge int, present Mask) (lines []string, dropped int, tl *TooLarge) {
	attrs := j.attrsFor(maxAge)
	p, tl := j.plan(b64.EncodedLen(len(env)), len(attrs))
	if tl != nil {
		return nil, 0, tl
	}
	out := make([]string, 0, p.n+popcount(present>>p.n))
	out = j.lines(out, env, &p, attrs)
	room := j.responseRoom() - j.responseBytes(p.value, p.n, len(attrs))
	out, dropped = j.expire(out, present, p.n, room)
	return out, dropped, nil
}

// Expire returns deletions for every chunk in present that fits the
// response budget, and how many did not fit.
func (j *Jar) Expire(present Mask) ([]string, int) {
	return j.expire(nil, present, 0, j.responseRoom())
}

func (j *Jar) expire(out []string, present Mask, from, room int) ([]string, int) {
	dropped := 0
	for i := from; i < MaxChunks; i++ {
		if present&(1<<i) == 0 {
			continue
		}
		line := chunkName(j.c.Name, i) + "=" + j.delAttrs
		if cost := len(line) + headerOverhead; cost <= room {
			room -= cost
			out = append(out, line)
		} else {
			dropped++
		}
	}
	return out, dropped
}

// responseRoom is what the budget leaves a save's Set-Cookie headers.
func (j *Jar) responseRoom() int {
	if j.c.Budget.MaxResponseBytes == 0 {
		return math.MaxInt / 2 // no bound, and room to subtract from
	}
	return j.c.Budget.MaxResponseBytes - j.c.Budget.ReservedResponseBytes
}

// responseBytes is what a sealed value of L characters in n chunks takes
// in the response header: each "Set-Cookie: name=value; attrs" line, its
// CRLF, and the count prefix.
func (j *Jar) responseBytes(L, n, attrsLen int) int {
	return j.requestBytes(L, n) - 2*(n-1) + n*(attrsLen+headerOverhead)
}

func popcount(m Mask) int {
	n := 0
	for ; m != 0; m &= m - 1 {
		n++
	}
	return n
}

// chunkPlan says how a sealed value is split: into n chunks, the first
// starting with prefix, chunk i holding take[i] characters of the value.
type chunkPlan struct {
	n      int
	value  int // characters of the value
	prefix string
	take   [MaxChunks]int
}

// plan splits a sealed value of L characters into the fewest chunks that
// fit: each Set-Cookie line (the chunk's name, "=", its value and attrsLen
// bytes of attributes) within MaxLineBytes, the Cookie header the browser
// sends back within MaxBytes, the Set-Cookie headers within the response
// budget, every chunk but the last a whole number of base64 quanta. More
// chunks only add names and attributes, so if the fewest do not fit the
// two totals, no plan does.
func (j *Jar) plan(L int, attrsLen int) (chunkPlan, *TooLarge) {
	var p chunkPlan
	b := j.c.Budget
	for n := 1; n <= b.MaxChunks; n++ {
		total := j.capacity(&p, n, attrsLen)
		if total < L {
			continue
		}
		req, resp := j.requestBytes(L, n), j.responseBytes(L, n, attrsLen)
		if req > b.MaxBytes || resp > j.responseRoom() {
			return p, j.tooLarge(req, resp, attrsLen)
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
		p.n, p.value, p.prefix = n, L, countPrefix[n]
		return p, nil
	}
	// More chunks than the budget allows: say how many bytes they would
	// take, lines as wide as the budget's.
	line := b.MaxLineBytes - len(j.names[0]) - 4 - attrsLen
	n := max((L+line-1)/line, b.MaxChunks+1)
	return p, j.tooLarge(j.requestBytes(L, n), j.responseBytes(L, n, attrsLen), attrsLen)
}

func (j *Jar) tooLarge(req, resp, attrsLen int) *TooLarge {
	tl := &TooLarge{Bytes: req, ResponseBytes: resp}
	tl.Limit, tl.ResponseLimit = j.limit(attrsLen)
	return tl
}

// capacity fills p.take with the most characters each of n chunks can
// hold and returns their sum.
func (j *Jar) capacity(p *chunkPlan, n int, attrsLen int) int {
	total := 0
	for i := 0; i < n; i++ {
		c := j.c.Budget.MaxLineBytes - len(j.names[i]) - 1 - attrsLen
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
// "; " between the pairs. Chunks past the budget's are named as
// chunkName would.
func (j *Jar) requestBytes(L, n int) int {
	prefix := 0
	if n > 1 {
		prefix = len(strconv.Itoa(n)) + 1
	}
	req := prefix + L + 2*(n-1)
	for i := 0; i < n; i++ {
		if i < len(j.names) {
			req += len(j.names[i]) + 1
		} else {
			req += len(j.names[0]) + 2 + len(strconv.Itoa(i))
		}
	}
	return req
}

// limit is the Cookie header bytes and the Set-Cookie header bytes of the
// largest value the budget lets a save write.
func (j *Jar) limit(attrsLen int) (req, resp int) {
	var p chunkPlan
	best, bestN, prev := 0, 0, 0
	for n := 1; n <= j.c.Budget.MaxChunks; n++ {
		total := j.capacity(&p, n, attrsLen)
		// The values that take exactly n chunks are those longer than
		// n-1 chunks hold; the longest of them within both totals. No
		// envelope encodes to a length of 1 modulo 4.
		hi := min(total, j.c.Budget.MaxBytes-j.requestBytes(0, n), j.responseRoom()-j.responseBytes(0, n, attrsLen))
		if hi%4 == 1 {
			hi--
		}
		if hi > prev && hi > best {
			best, bestN = hi, n
		}
		prev = total
	}
	if bestN == 0 {
		return 0, 0
	}
	return j.requestBytes(best, bestN), j.responseBytes(best, bestN, attrsLen)
}

// lines appends to out the Set-Cookie lines that carry env split as p
// says. Each chunk's part of env is base64-encoded straight into its line,
// and all the lines share one allocation: the lines are what a write must
// allocate, and nothing else of the cookie is copied.
func (j *Jar) lines(out []string, env []byte, p *chunkPlan, attrs string) []string {
	size := len(p.prefix)
	for i := 0; i < p.n; i++ {
		size += len(j.names[i]) + 1 + p.take[i] + len(attrs)
	}
	// buf never grows past its capacity, so the strings below, taken as
	// each line is finished, stay valid; nothing writes to it afterwards.
	buf := make([]byte, 0, size)
	used := 0 // bytes of env encoded so far
	for i := 0; i < p.n; i++ {
		start := len(buf)
		buf = append(buf, j.names[i]...)
		buf = append(buf, '=')
		if i == 0 {
			buf = append(buf, p.prefix...)
		}
		nb := len(env) - used // the last chunk takes the rest
		if i < p.n-1 {
			nb = p.take[i] / 4 * 3
		}
		end := len(buf) + b64.EncodedLen(nb)
		b64.Encode(buf[len(buf):end], env[used:used+nb])
		buf = buf[:end]
		used += nb
		buf = append(buf, attrs...)
		out = append(out, unsafe.String(&buf[start], len(buf)-start))
	}
	return out
}

// attrsFor is serialize, from the cache when maxAge is the last one asked
// for.
func (j *Jar) attrsFor(maxAge int) string {
	if c := j.attrs.Load(); c != nil && c.maxAge == maxAge {
		return c.s
	}
	c := &cachedAttrs{maxAge: maxAge, s: j.serialize(maxAge)}
	j.attrs.Store(c)
	return c.s
}

// serialize writes the attributes every session cookie carries, as
// net/http does: every line is (*http.Cookie).String() of the cookie it
// stands for, byte for byte. maxAge < 0 means "expire now" (Max-Age=0).
func (j *Jar) serialize(maxAge int) string {
	c := http.Cookie{
		Name: "x", Path: j.c.Path, Domain: j.c.Domain, MaxAge: maxAge,
		HttpOnly: true, Secure: j.c.Secure, SameSite: j.c.SameSite, Partitioned: j.c.Partitioned,
	}
	return strings.TrimPrefix(c.String(), "x=")
}

// Deletions counts the deletion lines among Set-Cookie lines of Write or
// Expire: the ones with an empty value.
func Deletions(lines []string) int {
	n := 0
	for _, l := range lines {
		if i := strings.IndexByte(l, '='); i >= 0 && (i+1 == len(l) || l[i+1] == ';') {
			n++
		}
	}
	return n
}

// Overwrites reports whether writing the session replaces a cookie with
// this name, Path and Domain: it is one of the session's chunk cookies,
// in the same scope.
func (j *Jar) Overwrites(name, path, domain string) bool {
	return path == j.c.Path && strings.TrimPrefix(domain, ".") == strings.TrimPrefix(j.c.Domain, ".") && j.owns(name)
}

// owns reports whether name is one of the session's chunk cookies.
func (j *Jar) owns(name string) bool {
	rest, ok := strings.CutPrefix(name, j.c.Name)
	if !ok {
		return false
	}
	if rest == "" {
		return true
	}
	for i := 1; i < MaxChunks; i++ {
		if rest == chunkName("", i) {
			return true
		}
	}
	return false
}
