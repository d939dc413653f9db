package sealed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sealedgo/sealed/internal/b64"
	"github.com/sealedgo/sealed/internal/cookie"
	"github.com/sealedgo/sealed/internal/defaults"
	"github.com/sealedgo/sealed/internal/envelope"
	"github.com/sealedgo/sealed/internal/payload"
)

// Bounds on Options (the timeouts' is defaults.MaxLifetime). They also
// keep every sum of durations far from overflowing.
const (
	maxLifetime          = defaults.MaxLifetime
	maxClockSkew         = defaults.MaxClockSkew
	maxRevocationTimeout = time.Minute
	maxPurposeLen        = 255
)

// Defaults for Options fields left at their zero value.
const (
	defaultPurpose         = defaults.Purpose
	defaultIdleTimeout     = defaults.IdleTimeout
	defaultAbsoluteTimeout = defaults.AbsoluteTimeout
	defaultClockSkew       = defaults.ClockSkew
	defaultRenewFraction   = 0.25
	defaultRevocationWait  = time.Second
)

// ErrUnavailable is returned, wrapping the backend's error, when the
// [RevocationList] cannot be asked or told in time. By default the request
// then fails closed: the middleware answers 503 and leaves the client's
// cookies as they were.
var ErrUnavailable = errors.New("sealed: revocation list unavailable")

// ErrNoMiddleware is returned by [Manager.Session] and [Manager.Commit]
// for a request that did not pass through that manager's Middleware.
var ErrNoMiddleware = errors.New("sealed: request did not pass through the session middleware")

// Options configures a [Manager]. The zero value of every field is safe
// and means the default given with it; New(keys, nil) uses all defaults.
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
	// Purpose is bound into every seal: a session sealed for one purpose
	// never opens under another. Give each application or environment that
	// shares keys its own ("shop-staging", "shop-production"). Default
	// "session"; at most 255 bytes of UTF-8.
	Purpose string

	// IdleTimeout ends a session not sealed again for this long. Default
	// 24h; at most 400 days, the longest lifetime browsers give a cookie.
	IdleTimeout time.Duration
	// AbsoluteTimeout ends a session this long after it was created,
	// however active. Default 7 days; at most 400 days.
	AbsoluteTimeout time.Duration
	// ClockSkew is the tolerance applied to both timeouts, to times in the
	// future and to a login right after "log out everywhere", for fleets
	// whose clocks disagree. Default 1 minute; at most 1 hour.
	ClockSkew time.Duration
	// RenewFraction is how much of IdleTimeout passes before an unchanged
	// session is sealed again to push its idle deadline back. Default
	// 0.25; must be in (0, 1].
	RenewFraction float64

	// Budget bounds the session's cookies. Default: the zero [Budget],
	// whose fields document their defaults; presets such as [BudgetNginx8k]
	// fit particular front ends.
	Budget Budget

	// Revocation, when set, makes [Session.Invalidate] and
	// [Session.CycleID] revoke the old session ID for real and lets
	// [Manager.RevokeSubject] end every session of a subject, at the cost
	// of one lookup per request that reads a session. Default nil: none.
	Revocation RevocationList
	// RevocationFailOpen treats sessions as not revoked when the
	// revocation list cannot be asked, and logs a warning each time.
	// Default false: fail closed ([ErrUnavailable], and a 503 from the
	// middleware).
	RevocationFailOpen bool
	// RevocationTimeout bounds each call to the revocation list.
	// Default 1 second; at most 1 minute.
	RevocationTimeout time.Duration

	// ErrorHandler answers, in the middleware and before any header is
	// written, when the session cannot be loaded ([ErrUnavailable]) or
	// saved ([ErrTooLarge], ...). What it writes replaces the handler's
	// response, with "Cache-Control: no-store". It runs with no lock held
	// and may call [Manager.Session] or [Manager.Commit]. Default: 503 for
	// ErrUnavailable, 500 otherwise. Errors are logged either way.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
	// Logger receives errors, warnings and debug lines (why a cookie was
	// rejected), never keys, cookie values or session contents. Default
	// slog.Default().
	Logger *slog.Logger
	// Now is the clock, for timeouts and for the lifetimes of revocation
	// entries. Default time.Now.
	Now func() time.Time

	// Observer, when set, is told the outcome of every load and save and
	// of every call to the revocation list ([Event]), for metrics and
	// traces, with the request's context. It runs with no lock held, on
	// the request's goroutine, so it should be quick. Default nil: none.
	Observer func(ctx context.Context, e Event)
	// Import, when set, moves users over from another session mechanism
	// without logging them out. It is offered the new session of a
	// request whose cookies hold no session that opens (none, or one that
	// was rejected; not one that expired or was revoked), with the
	// request's Cookie header values, and fills it from the old cookie
	// (Set, SetSubject, ...). It returns the old cookies to delete: their
	// Name, Path and Domain. The session's first save then writes the new
	// session and those deletions together, or, if it fails, neither; a
	// cookie with the session cookie's own name, Path and Domain is
	// overwritten by it instead. (One of the same name in another scope
	// is deleted: the browser would send both, and a doubled session
	// cookie never opens.) The deletions are small and come out of
	// Budget.ReservedResponseBytes. It runs with no lock held. Default
	// nil; github.com/sealedgo/sealed/sealedgorilla has one for
	// gorilla/securecookie cookies.
	Import func(ctx context.Context, cookieHeader []string, s *Session) (expire []*http.Cookie)
}

// Manager loads and saves sessions. Create one with [New] and share it; it
// is safe for concurrent use.
type Manager struct {
	keys KeySource
	jar  *cookie.Jar
	bind *envelope.Binding

	idle, absolute, skew time.Duration
	renewAfter           time.Duration

	revocation RevocationList
	failOpen   bool
	revWait    time.Duration

	errorHandler func(http.ResponseWriter, *http.Request, error)
	logger       *slog.Logger
	now          func() time.Time
	observer     func(context.Context, Event)
	importer     func(context.Context, []string, *Session) []*http.Cookie
}

// New returns a [Manager] that seals with keys. A nil opts means all
// defaults ([Options]). Misconfiguration is an error that names the field.
func New(keys KeySource, opts *Options) (*Manager, error) {
	if keys == nil {
		return nil, errors.New("sealed: New: keys is nil")
	}
	if ring := keys.Current(); ring == nil || len(ring.ring) == 0 {
		return nil, errors.New("sealed: New: keys holds no key (build a Keyring with NewKeyring or ParseKeyring)")
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	m := &Manager{
		keys:       keys,
		revocation: o.Revocation,
		failOpen:   o.RevocationFailOpen,
		logger:     o.Logger,
		now:        o.Now,
		observer:   o.Observer,
		importer:   o.Import,
	}
	c := cookie.Config{
		Name: o.CookieName, Path: o.Path, Domain: o.Domain, Secure: !o.AllowInsecure,
		SameSite: o.SameSite, Partitioned: o.Partitioned,
		Budget: o.Budget.withDefaults(), MaxAge: int(maxLifetime / time.Second), MaxDecoded: envelope.MaxSize,
	}
	if c.Path == "" {
		c.Path = "/"
	}
	if c.SameSite == 0 || c.SameSite == http.SameSiteDefaultMode {
		c.SameSite = http.SameSiteLaxMode
	}
	if c.Name == "" {
		c.Name = defaults.CookieName(c.Secure, c.Path, c.Domain)
	}

	purpose := o.Purpose
	if purpose == "" {
		purpose = defaultPurpose
	}
	if len(purpose) > maxPurposeLen || !utf8.ValidString(purpose) {
		return nil, fmt.Errorf("sealed: Options.Purpose must be at most %d bytes of UTF-8", maxPurposeLen)
	}

	var err error
	if m.idle, err = durationOr("IdleTimeout", o.IdleTimeout, defaultIdleTimeout, maxLifetime); err != nil {
		return nil, err
	}
	if m.absolute, err = durationOr("AbsoluteTimeout", o.AbsoluteTimeout, defaultAbsoluteTimeout, maxLifetime); err != nil {
		return nil, err
	}
	if m.skew, err = durationOr("ClockSkew", o.ClockSkew, defaultClockSkew, maxClockSkew); err != nil {
		return nil, err
	}
	if m.revWait, err = durationOr("RevocationTimeout", o.RevocationTimeout, defaultRevocationWait, maxRevocationTimeout); err != nil {
		return nil, err
	}
	frac := o.RenewFraction
	if frac == 0 {
		frac = defaultRenewFraction
	}
	if !(frac > 0 && frac <= 1) {
		return nil, fmt.Errorf("sealed: Options.RenewFraction is %v, want a value in (0, 1]", o.RenewFraction)
	}
	m.renewAfter = time.Duration(float64(m.idle) * frac)

	if m.jar, err = cookie.New(c); err != nil {
		return nil, err
	}
	if m.bind, err = envelope.Bind(c.Name, purpose); err != nil {
		return nil, err
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
	return m, nil
}

func durationOr(field string, d, def, most time.Duration) (time.Duration, error) {
	switch {
	case d < 0 || d > most:
		return 0, fmt.Errorf("sealed: Options.%s is %v, want a positive duration of at most %v (or 0 for the default %v)", field, d, most, def)
	case d == 0:
		return def, nil
	}
	return d, nil
}

func defaultErrorHandler(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, ErrUnavailable) {
		http.Error(w, http.StatusText(http.StatusServiceUnavailable), http.StatusServiceUnavailable)
		return
	}
	http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
}

// load opens the session in the request's Cookie header values, tells
// the observer how it went, and, when no session opened, offers the fresh
// one to Options.Import. Both run with no lock held.
func (m *Manager) load(ctx context.Context, headers []string) (*Session, error) {
	ev := Event{Op: "load"}
	s, err := m.open(ctx, headers, &ev)
	if s != nil && m.importer != nil && (s.from == fromNone || s.from == fromRejected) {
		m.adopt(ctx, headers, s, &ev)
	}
	m.observe(ctx, &ev)
	return s, err
}

// open does load's work: the cookie layer finds and decodes its chunks,
// the envelope layer opens them, the payload layer indexes the state, then
// the time rules and the revocation list have their say. A missing,
// invalid, expired or revoked session gives a new empty one and no error;
// the only error is ErrUnavailable when the revocation list cannot be
// asked and the manager fails closed. ev receives the outcome.
func (m *Manager) open(ctx context.Context, headers []string, ev *Event) (*Session, error) {
	now := m.now()
	// The buffer becomes the session's own: its values point into it and
	// nothing else ever does.
	buf, present, reason := m.jar.Read(headers, m.bind.Room())
	s := &Session{m: m, present: present}
	switch {
	case present == 0:
		ev.Outcome = "new"
		return m.fresh(s, now, fromNone), nil
	case reason != "":
		return m.rejected(s, now, reason, "cookie", ev), nil
	}
	ring := m.keys.Current()
	if ring == nil {
		return m.rejected(s, now, "no keyring", "key", ev), nil
	}
	pt, info, f := m.bind.Open(ring.ring, buf)
	if f != envelope.OK {
		class := "format"
		switch f {
		case envelope.NoKey:
			class = "key"
		case envelope.BadAuth:
			class = "auth"
		}
		return m.rejected(s, now, f.String(), class, ev), nil
	}
	s.d.Entries = s.inl[:0]
	if payload.Parse(pt, &s.d) != nil {
		return m.rejected(s, now, "payload", "payload", ev), nil
	}
	if reason := m.checkTimes(now, info.IssuedAt, s.d.Created); reason != "" {
		switch reason {
		case "idle timeout", "absolute timeout":
			ev.Outcome, ev.Reason = "expired", strings.TrimSuffix(reason, " timeout")
			return m.ended(s, now, reason), nil
		}
		return m.rejected(s, now, reason, "time", ev), nil
	}
	if m.revocation != nil {
		revoked, err := m.isRevoked(ctx, &s.d)
		if err != nil {
			if !m.failOpen {
				err = fmt.Errorf("%w: %w", ErrUnavailable, err)
				ev.Outcome, ev.Err = "failed", err
				return nil, err
			}
			m.logger.Warn("sealed: revocation list unavailable; failing open as configured", "err", err)
		} else if revoked {
			ev.Outcome = "revoked"
			return m.ended(s, now, "revoked"), nil
		}
	}
	s.from = fromOpened
	s.held = true
	s.orig = pt
	s.issuedAt = info.IssuedAt
	s.oldKey = !info.Primary
	ev.Outcome, ev.KeyID, ev.OldKey = "opened", info.Key.ID(), !info.Primary
	return s, nil
}

// adopt lets Options.Import fill s, a new session, and keeps the
// deletions of the old cookies it names for s's first save.
func (m *Manager) adopt(ctx context.Context, headers []string, s *Session, ev *Event) {
	expire := m.importer(ctx, headers, s)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.empty() {
		ev.Outcome, ev.Reason = "imported", ""
	}
	for _, c := range expire {
		if c == nil || m.jar.Overwrites(c.Name, c.Path, c.Domain) {
			continue
		}
		del := http.Cookie{Name: c.Name, Path: c.Path, Domain: c.Domain, MaxAge: -1,
			Secure: c.Secure, HttpOnly: c.HttpOnly, SameSite: c.SameSite, Partitioned: c.Partitioned}
		if err := del.Valid(); err != nil {
			m.logger.Warn("sealed: Options.Import named a cookie that cannot be deleted", "err", err)
			continue
		}
		q := s.queue()
		q.imported = append(q.imported, del.String())
	}
}

// checkTimes applies the time rules to an authentic session: it returns
// why the session does not open, or "". issued is in Unix seconds, created
// in Unix milliseconds; every rule is evaluated in milliseconds (SPEC.md,
// "Time rules"). The future rule, issued*1000 > now_ms + skew_ms, compares
// seconds with the sum floored to a second, which is the same test without
// multiplying an issued-at that may be as large as 2^63-1. Each later sum
// is formed only of values already checked to be near now, so none can
// overflow.
func (m *Manager) checkTimes(now time.Time, issued, created int64) string {
	nowMs, skewMs := now.UnixMilli(), m.skew.Milliseconds()
	limit := nowMs + skewMs
	limitS := limit / 1000
	if limit%1000 < 0 {
		limitS-- // floor, for a clock before 1970
	}
	if issued > limitS {
		return "issued in the future"
	}
	issuedMs := issued * 1000 // within the skew of now: no overflow
	switch {
	case created > issuedMs+1000+skewMs:
		return "created after issued"
	case nowMs > issuedMs+(m.idle+m.skew).Milliseconds():
		return "idle timeout"
	case nowMs > created+(m.absolute+m.skew).Milliseconds():
		return "absolute timeout"
	}
	return ""
}

// fresh makes s a brand-new, empty session.
func (m *Manager) fresh(s *Session, now time.Time, from origin) *Session {
	s.from = from
	s.restart(now)
	return s
}

// rejected is fresh for a request whose cookies did not open; class is
// reason's group, for the observer.
func (m *Manager) rejected(s *Session, now time.Time, reason, class string, ev *Event) *Session {
	m.logger.Debug("sealed: session cookie rejected; starting a new session", "reason", reason)
	ev.Outcome, ev.Reason = "rejected", class
	return m.fresh(s, now, fromRejected)
}

// ended is rejected for a session that opened but is over (expired or
// revoked): its cookies are expired when the new session is saved.
func (m *Manager) ended(s *Session, now time.Time, reason string) *Session {
	m.logger.Debug("sealed: session ended; starting a new session", "reason", reason)
	return m.fresh(s, now, fromEnded)
}

// save decides what the session's response writes (Session.decide),
// performs the revocations CycleID and Invalidate queued, and returns the
// Set-Cookie lines. On error nothing has happened: no line is produced,
// nothing is revoked, and the session is open to changes again, so the
// client keeps what it has. On success the session is committed.
//
// The revocation list is called with no lock held; meanwhile the session
// is in phaseSaving and refuses changes.
func (m *Manager) save(ctx context.Context, s *Session) ([]string, error) {
	ev := Event{Op: "save"}
	out, err := m.saveLocked(ctx, s, &ev)
	switch {
	case err != nil:
		ev.Outcome, ev.Err = "failed", err
		if errors.Is(err, ErrTooLarge) {
			ev.Outcome = "too large"
		}
	case ev.Outcome == "written" && len(out) == 0:
		ev.Outcome = "unchanged"
	}
	// An Outcome left empty: already committed, which is not a save.
	m.observe(ctx, &ev)
	return out, err
}

// saveLocked is save with s.mu held (released only around calls to the
// revocation list). ev receives what was written.
func (m *Manager) saveLocked(ctx context.Context, s *Session, ev *Event) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m != m {
		return nil, errors.New("sealed: Save: session belongs to another Manager")
	}
	switch s.phase {
	case phaseCommitted:
		return nil, nil
	case phaseSaving:
		return nil, errors.New("sealed: Save: the session is being saved by another goroutine")
	}
	ev.Outcome = "written"
	now := m.now()
	act := s.decide(now)
	if act != writeNothing && act != expireAll && s.login && m.revocation != nil {
		var revoked bool
		err := m.unlocked(s, func() (err error) {
			revoked, err = m.loginRevoked(ctx, &s.d)
			return err
		})
		if err != nil {
			return nil, err
		}
		if revoked {
			s.d.Created = now.Add(m.skew).UnixMilli()
		}
	}
	var out []string
	switch act {
	case writeSession, writeUnlessSame, writeRenewal:
		var err error
		out, err = m.seal(s, now, act == writeUnlessSame)
		if err != nil {
			if act != writeRenewal || !errors.Is(err, ErrTooLarge) {
				return nil, err
			}
			// Only the idle deadline or the key asked for this write: the
			// session still opens, so serve it as it is.
			m.logger.Warn("sealed: session not renewed: it no longer fits the budget", "err", err)
			ev.Outcome, ev.Err = "too large", err
			out = nil
		}
		for _, line := range out {
			ev.Bytes += len(line)
		}
		ev.Chunks = len(out) - cookie.Deletions(out)
	case expireAll:
		ev.Outcome = "expired"
		var dropped int
		out, dropped = m.jar.Expire(s.present)
		m.droppedDeletions(dropped)
	}
	if q := s.pending; q != nil && len(q.revoke) > 0 && m.revocation != nil {
		revs := q.revoke
		if err := m.unlocked(s, func() error { return m.revokeAll(ctx, revs) }); err != nil {
			return nil, err
		}
	}
	s.phase = phaseCommitted
	// What Options.Import took the session from goes with its first save,
	// whatever that writes.
	if q := s.pending; q != nil {
		out = append(out, q.imported...)
		s.pending = nil
	}
	return out, nil
}

// unlocked runs f with s.mu released and s in phaseSaving, for calls to the
// revocation list; then s is open to changes again, unless it was closed
// meanwhile (markCommitted). s.mu must be held.
func (m *Manager) unlocked(s *Session, f func() error) error {
	s.phase = phaseSaving
	s.mu.Unlock()
	err := f()
	s.mu.Lock()
	if s.phase == phaseSaving {
		s.phase = phaseOpen
	}
	return err
}

// seal encodes the state, seals it under the primary key and returns the
// Set-Cookie lines: the session's chunks, then deletions for the chunks
// the client holds beyond them. With unlessSame it returns none when the
// state equals what the client holds. s.mu must be held.
func (m *Manager) seal(s *Session, now time.Time, unlessSame bool) ([]string, error) {
	ring := m.keys.Current()
	if ring == nil || len(ring.ring) == 0 {
		return nil, errors.New("sealed: Save: the key source holds no key")
	}
	// The payload is built where it will be sealed, after room for the
	// envelope's working space, in pooled scratch: only the Set-Cookie
	// lines are allocated.
	room := m.bind.Room()
	wb := getScratch(room + payload.Size(&s.d) + envelope.TagSize)
	defer putScratch(wb)
	pt := payload.Append(wb.b[room:room], &s.d)
	if unlessSame && bytes.Equal(pt, s.orig) {
		// Changed and changed back (a cart restored after ErrTooLarge, a
		// Set undone by a Remove): the client holds exactly this state.
		return nil, nil
	}
	if len(pt) > envelope.MaxPlaintext {
		return nil, &TooLargeError{Bytes: b64.EncodedLen(len(pt) + envelope.Overhead), Limit: b64.EncodedLen(envelope.MaxSize), format: true}
	}
	// Set checks each value, but keys, the subject and flash messages
	// are stored as given; refuse what no reader would load back.
	if !payload.Storable(&s.d) {
		return nil, fmt.Errorf("sealed: session not saved: a key, the subject or a flash message is not valid UTF-8, or there are more than %d keys or flash messages", payload.MaxItems)
	}
	env := m.bind.Seal(wb.b, ring.ring[0], uint64(now.Unix()), len(pt))
	maxAge := 0 // a browser-session cookie: no Max-Age
	if s.d.Flags&payload.FlagBrowserSession == 0 {
		maxAge = m.maxAge(now, s.d.Created)
	}
	lines, dropped, tl := m.jar.Write(env, maxAge, s.present)
	if tl != nil {
		return nil, &TooLargeError{Bytes: tl.Bytes, Limit: tl.Limit, ResponseBytes: tl.ResponseBytes, ResponseLimit: tl.ResponseLimit}
	}
	m.droppedDeletions(dropped)
	return lines, nil
}

// droppedDeletions logs the deletions of stale chunks that did not fit the
// response budget: the client sent more chunk cookies than any session of
// this budget has.
func (m *Manager) droppedDeletions(n int) {
	if n > 0 {
		m.logger.Debug("sealed: stale chunk cookies not expired: their deletions do not fit the response budget", "chunks", n)
	}
}

// maxAge is the cookies' Max-Age in seconds: until the idle or the
// absolute deadline, whichever comes first, and at least 1.
func (m *Manager) maxAge(now time.Time, created int64) int {
	return max(int(min(m.idle, m.absoluteLeft(now, created))/time.Second), 1)
}

// absoluteLeft is how long a session created at created (Unix ms) has
// until its absolute timeout, at now. created is never far from now (a
// session past its absolute timeout does not open), so this cannot
// overflow.
func (m *Manager) absoluteLeft(now time.Time, created int64) time.Duration {
	return time.Duration(created-now.UnixMilli())*time.Millisecond + m.absolute
}

// Load reads the session from Cookie header values, for code that has no
// http.Handler to wrap: each value is one header line ("a=1; b=2") or one
// "name=value" pair, as in an API Gateway HTTP API (v2) event. Bad input
// gives a new empty session; the only error is [ErrUnavailable].
func (m *Manager) Load(ctx context.Context, cookieHeader ...string) (*Session, error) {
	return m.load(ctx, cookieHeader)
}

// Save returns the Set-Cookie header values for s, each as
// (*http.Cookie).String() writes it: none when nothing needs writing, else
// the session's chunks and deletions of chunks the client no longer needs.
// On error ([ErrTooLarge], [ErrUnavailable]) it returns none and revokes
// nothing, so the client keeps its previous session. After a successful
// Save, changes are refused with [ErrCommitted].
func (m *Manager) Save(ctx context.Context, s *Session) ([]string, error) {
	return m.save(ctx, s)
}
