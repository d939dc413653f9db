package bench

import (
	"context"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unsafe"

	"github.com/go-jose/go-jose/v4"
	"github.com/gorilla/securecookie"
	"github.com/sealedgo/sealed"
	"github.com/sealedgo/sealed/internal/b64"
	"github.com/sealedgo/sealed/internal/envelope"
	"golang.org/x/crypto/chacha20poly1305"
)

// Library names, as they appear in benchmark names and in BENCHMARKS.md.
const (
	LibSealed = "sealed"
	LibSCJSON = "securecookie-json"
	LibSCGob  = "securecookie-gob"
	LibJWE    = "jwe"
	LibLimit  = "limit"
	// LibSealedLoadWrite is sealed's whole read-modify-write in one op:
	// Load, Set, Save. Not a target; it shows what a
	// request that changes the session costs, load included.
	LibSealedLoadWrite = "sealed-load-write"
	sessionPurp        = "session" // sealed's purpose for session cookies (SPEC.md)
	sealedKeyID        = "bench"
)

// Libraries lists the libraries in the order of the tables and the chart.
var Libraries = []string{LibSealed, LibLimit, LibSCJSON, LibSCGob, LibJWE}

// Case is one library set up for one shape.
type Case interface {
	// Header is the Cookie header a browser sends back with the session.
	Header() string
	// Read is the read path: Cookie header to session to the "email" key.
	// The limit has no keys; it returns the opened plaintext, which aliases
	// a buffer reused by the next call.
	Read(header string) (string, error)
	// Write is the write path: the session's state, with "email" set to
	// email, to Set-Cookie lines. The limit seals its fixed payload and
	// ignores email. The lines may alias buffers reused by the next call.
	Write(email string) ([]string, error)
}

// key returns a fixed 32-byte key for a label. Benchmarks need stable
// inputs, not secrets.
func key(label string) []byte {
	k := sha256.Sum256([]byte("github.com/sealedgo/sealed/bench " + label))
	return k[:]
}

// NewCase sets up lib for shape.
func NewCase(lib string, shape Shape) (Case, error) {
	switch lib {
	case LibSealed:
		return newSealedCase(shape)
	case LibLimit:
		return newLimitCase(shape)
	case LibSCJSON:
		return newSCCase(shape, securecookie.JSONEncoder{})
	case LibSCGob:
		return newSCCase(shape, securecookie.GobEncoder{})
	case LibJWE:
		return newJWECase(shape)
	}
	return nil, fmt.Errorf("unknown library %q", lib)
}

// HeaderFromLines turns Set-Cookie lines into the Cookie header a browser
// sends back: each line's name=value, joined by "; ". Expired cookies
// (Max-Age=0) are left out.
func HeaderFromLines(lines []string) string {
	var pairs []string
	for _, l := range lines {
		pair, attrs, _ := strings.Cut(l, ";")
		if strings.Contains(attrs, "Max-Age=0") {
			continue
		}
		pairs = append(pairs, pair)
	}
	return strings.Join(pairs, "; ")
}

// cookieValue finds name's value in a Cookie header without allocating.
// The peers use it on the read path, so that they pay no more for the
// header than sealed's own parser does.
func cookieValue(header, name string) (string, bool) {
	for header != "" {
		var pair string
		pair, header, _ = strings.Cut(header, ";")
		pair = strings.TrimLeft(pair, " ")
		if k, v, ok := strings.Cut(pair, "="); ok && k == name {
			return v, true
		}
	}
	return "", false
}

// peer is embedded in the peers' cases: the Cookie header of the shape's
// session, from the case's first Write.
type peer struct {
	header string
}

func (p *peer) Header() string { return p.header }

// start sets p's header from the lines of c's first Write (c embeds p).
// The lines may alias c's buffers, hence the copy.
func (p *peer) start(c Case, email string) error {
	lines, err := c.Write(email)
	if err != nil {
		return err
	}
	p.header = strings.Clone(HeaderFromLines(lines))
	return nil
}

// peerRead is a peer's Read: find the session cookie in header and read
// its value; lib names the peer in the error.
func peerRead(c interface{ readValue(string) (string, error) }, lib, header string) (string, error) {
	v, ok := cookieValue(header, CookieName)
	if !ok {
		return "", errors.New(lib + ": no cookie")
	}
	return c.readValue(v)
}

// ---- sealed ----

type sealedCase struct {
	m      *sealed.Manager
	header string
	ready  []*sealed.Session // loaded by Prepare, consumed by Write
}

func newSealedCase(shape Shape) (*sealedCase, error) {
	keys, err := sealed.NewKeyring(sealed.Key{ID: sealedKeyID, Secret: key("sealed")})
	if err != nil {
		return nil, err
	}
	m, err := sealed.New(keys, &sealed.Options{CookieName: CookieName, Budget: shape.Budget})
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	s, err := m.Load(ctx)
	if err != nil {
		return nil, err
	}
	c := &sealedCase{m: m}
	for _, kv := range shape.Data.Fields() {
		if err := s.Set(kv.Key, kv.Value); err != nil {
			return nil, err
		}
	}
	lines, err := m.Save(ctx, s)
	if err != nil {
		return nil, err
	}
	c.header = HeaderFromLines(lines)
	return c, nil
}

func (c *sealedCase) Header() string { return c.header }

// Read: Load (parse the header, reassemble the chunks, decode,
// open, index the payload's keys, check the times) and Get[string].
func (c *sealedCase) Read(header string) (string, error) {
	s, err := c.m.Load(context.Background(), header)
	if err != nil {
		return "", err
	}
	v, ok, err := sealed.Get[string](s, "email")
	if err == nil && !ok {
		err = errors.New("sealed: no email in the session")
	}
	return v, err
}

// Prepare loads n sessions from the case's cookie for the next n Writes,
// so that a Write starts, like the peers' writes, from the session's
// state in hand. The benchmark calls it with the timer stopped.
func (c *sealedCase) Prepare(n int) error {
	for range n {
		s, err := c.m.Load(context.Background(), c.header)
		if err != nil {
			return err
		}
		c.ready = append(c.ready, s)
	}
	return nil
}

// Write: Set("email") on a session loaded from the case's cookie (by
// Prepare, or here when none is ready: lib=sealed-load-write) and
// Save.
func (c *sealedCase) Write(email string) ([]string, error) {
	var s *sealed.Session
	if n := len(c.ready); n > 0 {
		s = c.ready[n-1]
		c.ready[n-1] = nil
		c.ready = c.ready[:n-1]
	} else {
		var err error
		if s, err = c.m.Load(context.Background(), c.header); err != nil {
			return nil, err
		}
	}
	if err := s.Set("email", email); err != nil {
		return nil, err
	}
	return c.m.Save(context.Background(), s)
}

// Payload returns the plaintext sealed seals for the session in header:
// the CBOR payload, opened with the case's keys.
func (c *sealedCase) Payload(header string) ([]byte, error) {
	v, err := joinChunks(header, CookieName)
	if err != nil {
		return nil, err
	}
	ring, err := envelope.NewRing([]string{sealedKeyID}, [][]byte{key("sealed")})
	if err != nil {
		return nil, err
	}
	bind, err := envelope.Bind(CookieName, sessionPurp)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, bind.Room()+b64.DecodedLen(len(v)))
	n, ok := b64.Decode(buf[bind.Room():], v)
	if !ok {
		return nil, errors.New("sealed: the cookie is not base64url")
	}
	pt, _, f := bind.Open(ring, buf[:bind.Room()+n])
	if f != envelope.OK {
		return nil, fmt.Errorf("sealed: the cookie does not open: %v", f)
	}
	return pt, nil
}

// joinChunks reassembles a sealed value from its chunk cookies (SPEC.md,
// "Chunked cookies"), for tests and for the limit's payload.
func joinChunks(header, name string) (string, error) {
	chunks := map[int]string{}
	for header != "" {
		var pair string
		pair, header, _ = strings.Cut(header, ";")
		k, v, _ := strings.Cut(strings.TrimSpace(pair), "=")
		switch {
		case k == name:
			chunks[0] = v
		case strings.HasPrefix(k, name+"."):
			i, err := strconv.Atoi(k[len(name)+1:])
			if err != nil {
				return "", err
			}
			chunks[i] = v
		}
	}
	first, ok := chunks[0]
	if !ok {
		return "", errors.New("no session cookie")
	}
	n := 1
	if c, rest, ok := strings.Cut(first, "."); ok {
		var err error
		if n, err = strconv.Atoi(c); err != nil {
			return "", err
		}
		chunks[0] = rest
	}
	idx := make([]int, 0, len(chunks))
	for i := range chunks {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	if len(idx) != n {
		return "", fmt.Errorf("want %d chunks, have %d", n, len(idx))
	}
	var b strings.Builder
	for _, i := range idx {
		b.WriteString(chunks[i])
	}
	return b.String(), nil
}

// ---- limit: the floor ----

// limitCase is the least any library of this kind can do: XChaCha20-
// Poly1305 and unpadded base64url over the already-encoded payload (the
// very bytes sealed seals), into buffers reused across calls. No header
// or associated data, no chunking, no parsing of the payload, no times.
// The cookie is nonce || ciphertext || tag.
type limitCase struct {
	peer
	aead    cipher.AEAD
	payload []byte
	nonce   [chacha20poly1305.NonceSizeX]byte
	dec     []byte // read: decoded envelope, opened in place
	env     []byte // write: nonce || ciphertext || tag
	line    []byte // write: the Set-Cookie line
	out     [1]string
}

func newLimitCase(shape Shape) (*limitCase, error) {
	sc, err := newSealedCase(shape)
	if err != nil {
		return nil, err
	}
	pt, err := sc.Payload(sc.header)
	if err != nil {
		return nil, err
	}
	a, err := chacha20poly1305.NewX(key("limit"))
	if err != nil {
		return nil, err
	}
	envLen := len(pt) + a.NonceSize() + a.Overhead()
	encLen := base64.RawURLEncoding.EncodedLen(envLen)
	c := &limitCase{
		aead:    a,
		payload: pt,
		dec:     make([]byte, envLen),
		env:     make([]byte, 0, envLen),
		line:    make([]byte, 0, len(CookieName)+1+encLen+len(Attrs)),
	}
	if err := c.start(c, ""); err != nil {
		return nil, err
	}
	return c, nil
}

// Read: find the cookie, base64url-decode into a reused buffer, open in
// place.
func (c *limitCase) Read(header string) (string, error) { return peerRead(c, "limit", header) }

func (c *limitCase) readValue(v string) (string, error) {
	if base64.RawURLEncoding.DecodedLen(len(v)) > cap(c.dec) {
		return "", errors.New("limit: too long")
	}
	n, err := base64.RawURLEncoding.Decode(c.dec[:cap(c.dec)], unsafe.Slice(unsafe.StringData(v), len(v)))
	if err != nil {
		return "", err
	}
	ns := c.aead.NonceSize()
	if n < ns+c.aead.Overhead() {
		return "", errors.New("limit: short")
	}
	env := c.dec[:n]
	pt, err := c.aead.Open(env[ns:ns], env[:ns], env[ns:], nil)
	if err != nil {
		return "", err
	}
	return unsafe.String(unsafe.SliceData(pt), len(pt)), nil
}

// Write: a fresh random nonce, seal the payload, base64url it into the
// Set-Cookie line.
func (c *limitCase) Write(string) ([]string, error) {
	rand.Read(c.nonce[:])
	env := append(c.env[:0], c.nonce[:]...)
	env = c.aead.Seal(env, c.nonce[:], c.payload, nil)
	line := append(c.line[:0], CookieName...)
	line = append(line, '=')
	line = base64.RawURLEncoding.AppendEncode(line, env)
	line = append(line, Attrs...)
	c.env, c.line = env, line
	c.out[0] = unsafe.String(unsafe.SliceData(line), len(line))
	return c.out[:], nil
}

// ---- gorilla/securecookie ----

// scCase is gorilla/securecookie with a hash key and a block key, so that
// the value is encrypted (AES-256-CTR) and authenticated (HMAC-SHA-256),
// as sealed's is. MaxLength is lifted: securecookie neither splits values
// nor lets one over 4096 bytes through otherwise, so the large shape does
// not fit a browser cookie with it.
type scCase struct {
	peer
	sc   *securecookie.SecureCookie
	data SessionData
}

func newSCCase(shape Shape, sz securecookie.Serializer) (*scCase, error) {
	sc := securecookie.New(key("securecookie hash"), key("securecookie block")).SetSerializer(sz).MaxLength(0)
	c := &scCase{sc: sc, data: shape.Data}
	if err := c.start(c, shape.Data.Email); err != nil {
		return nil, err
	}
	return c, nil
}

// Read: find the cookie, Decode (base64, HMAC, timestamp, base64, AES-CTR,
// deserialize) into a SessionData, read Email.
func (c *scCase) Read(header string) (string, error) { return peerRead(c, "securecookie", header) }

func (c *scCase) readValue(v string) (string, error) {
	var d SessionData
	if err := c.sc.Decode(CookieName, v, &d); err != nil {
		return "", err
	}
	return d.Email, nil
}

// Write: copy the state, set Email, Encode (serialize, encrypt, HMAC,
// base64 twice), build the line.
func (c *scCase) Write(email string) ([]string, error) {
	d := c.data
	d.Email = email
	v, err := c.sc.Encode(CookieName, &d)
	if err != nil {
		return nil, err
	}
	return []string{CookieName + "=" + v + Attrs}, nil
}

// ---- go-jose compact JWE ----

// jweCase is a compact JWE with "alg":"dir" and "enc":"A256GCM" (a shared
// 256-bit key, AES-GCM) around the JSON encoding of the session.
type jweCase struct {
	peer
	key  []byte
	enc  jose.Encrypter
	data SessionData
}

func newJWECase(shape Shape) (*jweCase, error) {
	k := key("jwe")
	enc, err := jose.NewEncrypter(jose.A256GCM, jose.Recipient{Algorithm: jose.DIRECT, Key: k}, nil)
	if err != nil {
		return nil, err
	}
	c := &jweCase{key: k, enc: enc, data: shape.Data}
	if err := c.start(c, shape.Data.Email); err != nil {
		return nil, err
	}
	return c, nil
}

var (
	jweAlgs = []jose.KeyAlgorithm{jose.DIRECT}
	jweEncs = []jose.ContentEncryption{jose.A256GCM}
)

// Read: find the cookie, ParseEncrypted, Decrypt, json.Unmarshal into a
// SessionData, read Email.
func (c *jweCase) Read(header string) (string, error) { return peerRead(c, "jwe", header) }

func (c *jweCase) readValue(v string) (string, error) {
	// The call the published results measured; ParseEncryptedCompact
	// would skip a whitespace-stripping copy and speed the row up.
	//lint:ignore SA1019 kept so that jwe results stay comparable
	obj, err := jose.ParseEncrypted(v, jweAlgs, jweEncs)
	if err != nil {
		return "", err
	}
	pt, err := obj.Decrypt(c.key)
	if err != nil {
		return "", err
	}
	var d SessionData
	if err := json.Unmarshal(pt, &d); err != nil {
		return "", err
	}
	return d.Email, nil
}

// Write: copy the state, set Email, json.Marshal, Encrypt,
// CompactSerialize, build the line.
func (c *jweCase) Write(email string) ([]string, error) {
	d := c.data
	d.Email = email
	pt, err := json.Marshal(&d)
	if err != nil {
		return nil, err
	}
	obj, err := c.enc.Encrypt(pt)
	if err != nil {
		return nil, err
	}
	v, err := obj.CompactSerialize()
	if err != nil {
		return nil, err
	}
	return []string{CookieName + "=" + v + Attrs}, nil
}
