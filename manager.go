package sealed

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"math/bits"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// purpose binds sealed session values to this use of the keys; SPEC.md's
// key derivation and associated data both include it.
const purpose = "session"

// Defaults for Options fields left at their zero value.
const (
	DefaultIdleTimeout     = 24 * time.Hour
	DefaultAbsoluteTimeout = 7 * 24 * time.Hour
	DefaultClockSkew       = time.Minute
	DefaultRenewFraction   = 0.25
	DefaultRevocationWait  = time.Second
)

// ErrUnavailable is returned, wrapping the backend's error, when the
// revocation list cannot be asked or told in time. By default the request
// then fails closed: the middleware answers 503 and leaves the client's
// cookies as they were.
var ErrUnavailable = errors.New("sealed: revocation list unavailable")

// ErrNoMiddleware is returned by Manager.Session and Manager.Commit for a
// request that did not pass through that manager's Middleware.
var ErrNoMiddleware = errors.New("sealed: request did not pass through the session middleware")

// Options configures a Manager. The zero value of every field is safe and
// means the default given with it; New(keys, nil) uses all defaults.
type Options struct {
	// CookieName names the session cookie (and, with a suffix ".1", ".2",
	// ..., its further chunks). Default "__Host-session", which browsers
	// accept only with Secure, Path=/ and no Domain; "__Secure-session"
	// when Path or Domain is set; "session" with AllowInsecure.
	CookieName string
	// Path is the cookie's Path attribute. Default "/".
	Path string
	// Domain is the cookie's Domain attribute. Default none (host-only),
	// which is safer: subdomains cannot read or overwrite the cookie.
	Domain string
	// AllowInsecure drops the Secure attribute so that the session works
	// over plain http, for local development. Default false.
	AllowInsecure bool
	// SameSite is the cookie's SameSite attribute. Default Lax.
	// SameSite=None requires Secure.
	SameSite http.SameSite
	// Partitioned adds the Partitioned attribute (CHIPS), for sessions in
	// third-party iframes. Default false. Requires Secure.
	Partitioned bool

	// IdleTimeout ends a session not sealed again for this long. Default 24h.
	IdleTimeout time.Duration
	// AbsoluteTimeout ends a session this long after it was created,
	// however active. Default 7 days.
	AbsoluteTimeout time.Duration
	// ClockSkew is the tolerance applied to both timeouts and to times in
	// the future, for fleets whose clocks disagree. Default 1 minute.
	ClockSkew time.Duration
	// RenewFraction sets when an unchanged session is sealed again to
	// push its idle deadline back: once this fraction of IdleTimeout has
	// passed since it was last sealed. Default 0.25, so a session is never
	// ended by idleness in less than 75% of IdleTimeout. Must be in (0, 1].
	RenewFraction float64

	// Budget bounds the session's cookies. Default DefaultBudget.
	Budget Budget

	// Revocation, when set, makes Invalidate and CycleID revoke the old
	// session ID for real and lets RevokeSubject end every session of a
	// subject, at the cost of one lookup per request that reads a session.
	// Default nil: no revocation list (see the package documentation).
	Revocation RevocationList
	// RevocationFailOpen treats sessions as not revoked when the
	// revocation list cannot be asked, and logs a warning each time.
	// Default false: fail closed (ErrUnavailable, and a 503 from the
	// middleware).
	RevocationFailOpen bool
	// RevocationTimeout bounds each call to the revocation list.
	// Default 1 second.
	RevocationTimeout time.Duration

	// ErrorHandler is called by the middleware, before any header is
	// written, when the session cannot be loaded (ErrUnavailable) or saved
	// (ErrTooLarge, ErrUnavailable, ...). If it writes a response, the
	// handler's own response is discarded. Default: 503 for
	// ErrUnavailable, 500 otherwise. Errors are logged either way.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
	// Logger receives errors, warnings and debug lines (why a cookie was
	// rejected). It never receives keys, cookie values or session
	// contents. Default slog.Default().
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Manager loads and saves sessions. Create one with New and share it; it is
// safe for concurrent use.
type Manager struct {
	keys        KeySource
	name        string
	path        string
	domain      string
	secure      bool
	sameSite    http.SameSite
	partitioned bool

	idle, absolute, skew time.Duration
	renewAfter           time.Duration

	budget Budget

	revocation RevocationList
	failOpen   bool
	revWait    time.Duration

	errorHandler func(http.ResponseWriter, *http.Request, error)
	logger       *slog.Logger
	now          func() time.Time

	suffix []byte   // associated data after the header: LP(name) || LP(purpose)
	names  []string // the cookie name of each chunk the budget allows

	// attrs caches the serialized attributes for the last Max-Age used:
	// nearly every save uses the idle timeout's.
	attrs atomic.Pointer[cachedAttrs]
}

type cachedAttrs struct {
	maxAge int
	s      string
}

// cookieAttrsCached is cookieAttrs, from the cache when maxAge is the last
// one asked for.
func (m *Manager) cookieAttrsCached(maxAge int) string {
	if c := m.attrs.Load(); c != nil && c.maxAge == maxAge {
		return c.s
	}
	c := &cachedAttrs{maxAge: maxAge, s: m.cookieAttrs(maxAge)}
	m.attrs.Store(c)
	return c.s
}

// New returns a Manager that seals with keys. A nil opts means all
// defaults. Misconfiguration is an error that names the field.
func New(keys KeySource, opts *Options) (*Manager, error) {
	if keys == nil || keys.Current() == nil {
		return nil, errors.New("sealed: New: keys is nil")
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	m := &Manager{
		keys:        keys,
		secure:      !o.AllowInsecure,
		path:        o.Path,
		domain:      o.Domain,
		sameSite:    o.SameSite,
		partitioned: o.Partitioned,
		revocation:  o.Revocation,
		failOpen:    o.RevocationFailOpen,
		logger:      o.Logger,
		now:         o.Now,
	}
	if m.path == "" {
		m.path = "/"
	}
	if m.sameSite == 0 || m.sameSite == http.SameSiteDefaultMode {
		m.sameSite = http.SameSiteLaxMode
	}
	m.name = o.CookieName
	if m.name == "" {
		switch {
		case !m.secure:
			m.name = "session"
		case m.path == "/" && m.domain == "":
			m.name = "__Host-session"
		default:
			m.name = "__Secure-session"
		}
	}
	if err := m.validateCookie(); err != nil {
		return nil, err
	}

	var err error
	if m.idle, err = durationOr("IdleTimeout", o.IdleTimeout, DefaultIdleTimeout); err != nil {
		return nil, err
	}
	if m.absolute, err = durationOr("AbsoluteTimeout", o.AbsoluteTimeout, DefaultAbsoluteTimeout); err != nil {
		return nil, err
	}
	if m.skew, err = durationOr("ClockSkew", o.ClockSkew, DefaultClockSkew); err != nil {
		return nil, err
	}
	if m.revWait, err = durationOr("RevocationTimeout", o.RevocationTimeout, DefaultRevocationWait); err != nil {
		return nil, err
	}
	frac := o.RenewFraction
	if frac == 0 {
		frac = DefaultRenewFraction
	}
	if !(frac > 0 && frac <= 1) {
		return nil, fmt.Errorf("sealed: Options.RenewFraction is %v, want a value in (0, 1]", o.RenewFraction)
	}
	m.renewAfter = time.Duration(float64(m.idle) * frac)

	m.budget = o.Budget.withDefaults()
	if err := m.budget.validate(); err != nil {
		return nil, err
	}
	// The longest line without a value: the last possible chunk's name and
	// the attributes with the largest Max-Age. Leave room for real data.
	worst := len(chunkName(m.name, m.budget.MaxChunks-1)) + 1 + len(m.cookieAttrs(int(m.absolute/time.Second)+1))
	if worst > m.budget.MaxLineBytes-256 {
		return nil, fmt.Errorf("sealed: Options.CookieName, Path and Domain take %d bytes of each %d-byte Set-Cookie line, leaving too little for the session", worst, m.budget.MaxLineBytes)
	}

	if m.logger == nil {
		m.logger = slog.Default()
	}
	if m.now == nil {
		m.now = time.Now
	}
	m.errorHandler = o.ErrorHandler
	if m.errorHandler == nil {
		m.errorHandler = defaultErrorHandler
	}
	m.suffix = adSuffix(m.name, purpose)
	m.names = make([]string, m.budget.MaxChunks)
	for i := range m.names {
		m.names[i] = chunkName(m.name, i)
	}
	return m, nil
}

func durationOr(field string, d, def time.Duration) (time.Duration, error) {
	switch {
	case d < 0:
		return 0, fmt.Errorf("sealed: Options.%s is %v, want a positive duration (or 0 for the default %v)", field, d, def)
	case d == 0:
		return def, nil
	}
	return d, nil
}

func (m *Manager) validateCookie() error {
	c := http.Cookie{Name: m.name, Value: "x", Path: m.path, Domain: m.domain, Secure: m.secure, Partitioned: m.partitioned, SameSite: m.sameSite}
	if err := c.Valid(); err != nil {
		return fmt.Errorf("sealed: Options (CookieName %q, Path %q, Domain %q): %w", m.name, m.path, m.domain, err)
	}
	if !strings.HasPrefix(m.path, "/") {
		return fmt.Errorf("sealed: Options.Path %q must start with /", m.path)
	}
	if strings.HasPrefix(m.name, "__Host-") && (!m.secure || m.path != "/" || m.domain != "") {
		return fmt.Errorf("sealed: Options.CookieName %q: the __Host- prefix needs Secure (no AllowInsecure), Path \"/\" and no Domain", m.name)
	}
	if strings.HasPrefix(m.name, "__Secure-") && !m.secure {
		return fmt.Errorf("sealed: Options.CookieName %q: the __Secure- prefix needs Secure (no AllowInsecure)", m.name)
	}
	if m.sameSite == http.SameSiteNoneMode && !m.secure {
		return errors.New("sealed: Options.SameSite None needs Secure (no AllowInsecure)")
	}
	if m.sameSite < http.SameSiteDefaultMode || m.sameSite > http.SameSiteNoneMode {
		return fmt.Errorf("sealed: Options.SameSite %d is not a known mode", m.sameSite)
	}
	return nil
}

func defaultErrorHandler(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, ErrUnavailable) {
		http.Error(w, http.StatusText(http.StatusServiceUnavailable), http.StatusServiceUnavailable)
		return
	}
	http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
}

// CookieName returns the session cookie's name (of its first chunk).
func (m *Manager) CookieName() string { return m.name }

// load opens the session found in cs. A missing, invalid, expired or
// revoked session gives a new empty one and no error; the only error is
// ErrUnavailable when the revocation list cannot be asked and the manager
// fails closed.
func (m *Manager) load(ctx context.Context, cs *chunkSet) (*Session, error) {
	now := m.now()
	s := &Session{m: m, present: cs.present}
	if cs.present == 0 {
		s.reset(now)
		return s, nil
	}
	var buf [MaxChunksLimit]string
	pieces, ok := cs.pieces(m.budget.MaxChunks, buf[:0])
	if !ok {
		return m.rejected(s, now, "chunks"), nil
	}
	// The buffer is the session's until it is reset or released; every
	// way out below that rejects the cookie resets it.
	var dst []byte
	if n := openBufLen(pieces, len(m.suffix)); n > 0 {
		s.rb = getReadBuf(n)
		dst = s.rb.b
		s.d.entries = s.rb.entries[:0]
	}
	pt, info, f := m.keys.Current().open(pieces, purpose, m.suffix, dst)
	if f != openOK {
		return m.rejected(s, now, f.String()), nil
	}
	if parsePayload(pt, &s.d) != nil {
		return m.rejected(s, now, "payload"), nil
	}
	s.orig = pt
	created := time.UnixMilli(s.d.created)
	switch {
	case info.IssuedAt.After(now.Add(m.skew)):
		return m.rejected(s, now, "issued in the future"), nil
	case created.After(info.IssuedAt.Add(time.Second + m.skew)):
		return m.rejected(s, now, "created after issued"), nil
	case now.After(info.IssuedAt.Add(m.idle + m.skew)):
		return m.ended(s, now, "idle timeout"), nil
	case now.After(created.Add(m.absolute + m.skew)):
		return m.ended(s, now, "absolute timeout"), nil
	}
	if m.revocation != nil {
		revoked, err := m.isRevoked(ctx, s)
		if err != nil {
			if !m.failOpen {
				return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
			}
			m.logger.Warn("sealed: revocation list unavailable; failing open as configured", "err", err)
		} else if revoked {
			return m.ended(s, now, "revoked"), nil
		}
	}
	s.issuedAt = info.IssuedAt
	s.oldKey = !info.Primary
	return s, nil
}

func (m *Manager) rejected(s *Session, now time.Time, reason string) *Session {
	m.logger.Debug("sealed: session cookie rejected; starting a new session", "reason", reason)
	s.reset(now)
	return s
}

// ended is rejected for a session that opened but is over (expired or
// revoked): its cookies are expired when the new session is saved.
func (m *Manager) ended(s *Session, now time.Time, reason string) *Session {
	m.rejected(s, now, reason)
	s.stale = true
	return s
}

// outCookie is one Set-Cookie the save produces.
type outCookie struct {
	name, value string
	attrs       string // serialized attributes, starting with "; "
	maxAge      int    // seconds; -1 expires the cookie
	ln          string // the whole line, when already serialized
}

func (c outCookie) line() string {
	if c.ln != "" {
		return c.ln
	}
	return c.name + "=" + c.value + c.attrs
}

func (m *Manager) httpCookie(c outCookie) *http.Cookie {
	return &http.Cookie{
		Name: c.name, Value: c.value, Path: m.path, Domain: m.domain, MaxAge: c.maxAge,
		HttpOnly: true, Secure: m.secure, SameSite: m.sameSite, Partitioned: m.partitioned,
	}
}

// save decides whether the session must be written, and returns the
// cookies to set. On error nothing has happened: no cookie is produced and
// nothing is revoked, so the client keeps what it has. On success the
// session is committed.
func (m *Manager) save(ctx context.Context, s *Session) ([]outCookie, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m != m {
		return nil, errors.New("sealed: Save: session belongs to another Manager")
	}
	if s.committed {
		return nil, nil
	}
	now := m.now()
	var out []outCookie
	from := 0 // present chunks from this index on are expired
	switch {
	case s.empty() && s.ended:
		// Invalidated and not written to since: expire whatever the
		// client sent.
	case s.empty() && s.isNew && s.stale:
		// The request's session was expired or revoked: a verdict about
		// that session, so tell the client to drop it rather than have it
		// presented (and checked against the revocation list) on every
		// request until its Max-Age runs out.
	case s.empty() && s.isNew:
		// A new session nobody wrote to sets no cookie. That holds even
		// when the request carried a cookie that did not open: a read does
		// not delete it (if the keys were misconfigured, restoring them
		// brings those sessions back), and the next write replaces it.
		s.committed = true
		return nil, nil
	case s.changed || s.oldKey || now.Sub(s.issuedAt) >= m.renewAfter:
		// The payload is built where it will be sealed, after room for
		// the header and the associated data, in a pooled buffer: only
		// the Set-Cookie lines are allocated.
		ring := m.keys.Current()
		pre := headerSize + len(m.suffix)
		wb := getReadBuf(pre + payloadSize(&s.d) + tagSize)
		defer putReadBuf(wb)
		pt := appendPayload(wb.b[pre:pre], &s.d)
		if !s.isNew && !s.oldKey && len(s.revoke) == 0 && now.Sub(s.issuedAt) < m.renewAfter && bytes.Equal(pt, s.orig) {
			// Changed and changed back (a cart restored after ErrTooLarge,
			// a Set undone by a Remove): the client already holds exactly
			// this state, so it keeps its cookies.
			s.committed = true
			return nil, nil
		}
		if len(pt) > MaxPayloadBytes {
			return nil, fmt.Errorf("%w: the payload is %d bytes, the format allows %d", ErrTooLarge, len(pt), MaxPayloadBytes)
		}
		// Set checks each value, but keys, the subject and flash messages
		// are stored as given; refuse what no reader would load back.
		if !storable(&s.d) {
			return nil, fmt.Errorf("sealed: session not saved: a key, the subject or a flash message is not valid UTF-8, or there are more than %d keys or flash messages", MaxItems)
		}
		maxAge := m.idle
		if left := time.UnixMilli(s.d.created).Add(m.absolute).Sub(now); left < maxAge {
			maxAge = left
		}
		secs := max(int(maxAge/time.Second), 1)
		attrs := m.cookieAttrsCached(secs)
		plan, err := planChunks(b64EncodedLen(len(pt)+Overhead), m.names, m.budget, len(attrs))
		if err != nil {
			return nil, err
		}
		var nonce [nonceSize]byte
		rand.Read(nonce[:]) // never fails since Go 1.24; it crashes the program instead
		env := sealInPlace(wb.b, ring.keys[0], purpose, m.suffix, uint64(now.Unix()), &nonce, len(pt))
		out = make([]outCookie, 0, plan.n+bits.OnesCount32(uint32(s.present>>plan.n)))
		out = chunkLines(out, env, &plan, m.names, attrs, secs)
		from = plan.n
	default:
		// Read only: nothing to write, but saved all the same, so that a
		// later change is refused rather than silently lost.
		s.committed = true
		return nil, nil
	}
	if err := m.revokePending(ctx, s); err != nil {
		return nil, err
	}
	if from < MaxChunksLimit && s.present>>from != 0 {
		del := m.cookieAttrs(-1)
		for i := from; i < MaxChunksLimit; i++ {
			if s.present&(1<<i) != 0 {
				out = append(out, outCookie{name: chunkName(m.name, i), attrs: del, maxAge: -1})
			}
		}
	}
	s.committed = true
	return out, nil
}

// Load reads the session from a request's cookies, for code that has no
// http.Handler to wrap (an AWS Lambda handler, say). Like the middleware
// it never fails on bad input: a missing, invalid, expired or revoked
// session gives a new empty one. The only error is ErrUnavailable.
func (m *Manager) Load(ctx context.Context, cookies []*http.Cookie) (*Session, error) {
	var cs chunkSet
	for _, c := range cookies {
		if c != nil {
			cs.add(m.name, c.Name, c.Value)
		}
	}
	return m.load(ctx, &cs)
}

// LoadHeader is Load for raw Cookie header values: each argument is one
// header line ("a=1; b=2") or one "name=value" pair, as in the Cookies
// field of an API Gateway HTTP API (v2) event.
func (m *Manager) LoadHeader(ctx context.Context, values ...string) (*Session, error) {
	var cs chunkSet
	for _, v := range values {
		cs.addHeader(m.name, v)
	}
	return m.load(ctx, &cs)
}

// Save returns the cookies to set for s: none when nothing changed, the
// session's chunks when it did, and expired cookies for chunks the client
// no longer needs. On error (ErrTooLarge, ErrUnavailable) it returns no
// cookies and revokes nothing: send none and the client keeps its previous
// session. After a successful Save the session is committed; further
// changes are refused with ErrCommitted.
func (m *Manager) Save(ctx context.Context, s *Session) ([]*http.Cookie, error) {
	out, err := m.save(ctx, s)
	if err != nil || len(out) == 0 {
		return nil, err
	}
	cs := make([]*http.Cookie, len(out))
	for i, c := range out {
		cs[i] = m.httpCookie(c)
	}
	return cs, nil
}

// SaveLines is Save returning Set-Cookie header values, as the Cookies
// field of an API Gateway HTTP API (v2) response expects.
func (m *Manager) SaveLines(ctx context.Context, s *Session) ([]string, error) {
	out, err := m.save(ctx, s)
	if err != nil || len(out) == 0 {
		return nil, err
	}
	lines := make([]string, len(out))
	for i, c := range out {
		lines[i] = c.line()
	}
	return lines, nil
}
