package main

import (
	"errors"
	"html"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sealedgo/sealed"
	"github.com/sealedgo/sealed/examples/internal/testkeys"
	"github.com/sealedgo/sealed/sealedtest"
)

// The page's view of its cookies: two panels, "sent" (the cookies the
// request carried) and "held" (the browser's cookies after the response).

func panelOf(t *testing.T, body, id string) string {
	t.Helper()
	m := regexp.MustCompile(`(?s)<section class="panel" id="` + id + `">(.*?)</section>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no %s panel in page:\n%s", id, body)
	}
	return m[1]
}

var tagRe = regexp.MustCompile(`<[^>]*>`)

// text is the text of an HTML fragment: tags dropped, entities decoded.
func text(s string) string {
	return strings.TrimSpace(html.UnescapeString(tagRe.ReplaceAllString(s, "")))
}

// dd returns the text of the panel's <dd class="class">, or "".
func dd(panel, class string) string {
	m := regexp.MustCompile(`(?s)<dd class="` + class + `">(.*?)</dd>`).FindStringSubmatch(panel)
	if m == nil {
		return ""
	}
	return text(m[1])
}

func status(panel string) string {
	m := regexp.MustCompile(`(?s)<p class="status">(.*?)</p>`).FindStringSubmatch(panel)
	if m == nil {
		return ""
	}
	return text(m[1])
}

var valueRe = regexp.MustCompile(`<li><code>([^<]*)</code> = <code class="value">([^<]*)</code></li>`)

// values returns the panel's session values, as the JSON it shows.
func values(panel string) map[string]string {
	out := map[string]string{}
	for _, m := range valueRe.FindAllStringSubmatch(panel, -1) {
		out[html.UnescapeString(m[1])] = html.UnescapeString(m[2])
	}
	return out
}

var chunkRe = regexp.MustCompile(`<li class="chunk"><code>([^<]*)</code>: <span class="bytes">(\d+)</span> bytes([^<]*)</li>`)

// shownChunks returns the panel's cookies as "name size" and their notes.
func shownChunks(panel string) (list, notes []string) {
	for _, m := range chunkRe.FindAllStringSubmatch(panel, -1) {
		list = append(list, m[1]+" "+m[2])
		notes = append(notes, strings.TrimPrefix(html.UnescapeString(m[3]), ", "))
	}
	return list, notes
}

// sizes lists cookies as shownChunks does: name and the bytes of name=value.
func sizes(cookies []*http.Cookie) []string {
	var out []string
	for _, c := range cookies {
		out = append(out, c.Name+" "+strconv.Itoa(len(c.Name)+1+len(c.Value)))
	}
	return out
}

// noCookieValues fails the test if body shows any part of a cookie value.
func noCookieValues(t *testing.T, body string, cookies []*http.Cookie) {
	t.Helper()
	for _, c := range cookies {
		v := c.Value
		if len(v) < 40 {
			t.Fatalf("cookie %s: a %d-byte value, too short for a sealed session", c.Name, len(v))
		}
		for _, part := range []string{v, v[:20], v[len(v)/2 : len(v)/2+20], v[len(v)-20:]} {
			if strings.Contains(body, part) {
				t.Fatalf("the page shows part of the value of cookie %s", c.Name)
			}
		}
	}
}

// shownTime parses the time at the start of a deadline's text.
func shownTime(t *testing.T, s string) time.Time {
	t.Helper()
	const layout = "2006-01-02 15:04:05 UTC"
	if len(s) < len(layout) {
		t.Fatalf("no time in %q", s)
	}
	tm, err := time.Parse(layout, s[:len(layout)])
	if err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return tm
}

// After login (without "remember me"), the page lists the session
// cookies the request carried and those the browser holds afterwards,
// with their sizes, and what they hold: key id, subject, values,
// deadlines. Never a cookie's value.
func TestPageShowsCookies(t *testing.T) {
	_, base := startApp(t, config{})
	u, _ := url.Parse(base)
	b := newBrowser(t, base)
	before := time.Now()
	if code, body := b.post("/login", url.Values{"name": {"alice"}}, nil); code != 200 || user(body) != "alice" {
		t.Fatalf("login: %d %s", code, body)
	}
	after := time.Now()

	sending := b.jar.Cookies(u)
	body := b.get("/")
	holding := b.jar.Cookies(u)
	// The login's redirect counted the first visit; this is the second.
	if v := visits(t, body); v != "2" {
		t.Fatalf("visits %s, want 2", v)
	}
	sent, held := panelOf(t, body, "sent"), panelOf(t, body, "held")

	if st := status(sent); st != "Opened: this is your session." {
		t.Errorf("sent: status %q", st)
	}
	if got, _ := shownChunks(sent); len(got) == 0 || !slices.Equal(got, sizes(sending)) {
		t.Errorf("sent: cookies %q, want %q (what the request carried)", got, sizes(sending))
	}
	got, notes := shownChunks(held)
	if len(got) == 0 || !slices.Equal(got, sizes(holding)) {
		t.Errorf("held: cookies %q, want %q (what the jar holds now)", got, sizes(holding))
	}
	if !slices.Equal(notes, []string{"set by this response, no Max-Age"}) {
		t.Errorf("held: cookie notes %q", notes)
	}
	if !strings.Contains(status(held), "sets 1 cookie:") {
		t.Errorf("held: status %q", status(held))
	}
	for _, p := range []struct{ name, panel, visits string }{{"sent", sent, "1"}, {"held", held, "2"}} {
		if k := dd(p.panel, "key"); k != "dev (the primary key)" {
			t.Errorf("%s: key %q", p.name, k)
		}
		if s := dd(p.panel, "subject"); s != "alice" {
			t.Errorf("%s: subject %q", p.name, s)
		}
		if v := values(p.panel); len(v) != 2 || v["user"] != `"alice"` || v["visits"] != p.visits {
			t.Errorf("%s: values %q, want user \"alice\", visits %s", p.name, v, p.visits)
		}
		if l := dd(p.panel, "persistent"); !strings.HasPrefix(l, "browser session") {
			t.Errorf("%s: lifetime %q, want a browser session (remember me was off)", p.name, l)
		}
	}
	// The sent session was sealed by the login's redirect target (or the
	// login), and expires 24 hours after that; the absolute deadline is 7
	// days after the login.
	issued := shownTime(t, dd(sent, "issued"))
	if issued.Before(before.Truncate(time.Second)) || issued.After(after) {
		t.Errorf("sent: issued %v, want between %v and %v", issued, before, after)
	}
	if idle := shownTime(t, dd(sent, "idle")); !idle.Equal(issued.Add(24 * time.Hour)) {
		t.Errorf("sent: idle deadline %v, want issued + 24h (%v)", idle, issued.Add(24*time.Hour))
	}
	if abs := shownTime(t, dd(sent, "absolute")); abs.Before(before.Truncate(time.Second).Add(7*24*time.Hour)) || abs.After(after.Add(7*24*time.Hour)) {
		t.Errorf("sent: absolute deadline %v, want 7 days after the login", abs)
	}
	noCookieValues(t, body, append(sending, holding...))
}

// "Remember me" off gives cookies without Max-Age (browser-session
// cookies), on gives a Max-Age; the choice holds when the home page
// writes the cookie again, and the page says which it is.
func TestRememberMe(t *testing.T) {
	a, err := newServer(config{Insecure: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	for _, remember := range []bool{false, true} {
		form := url.Values{"name": {"ann"}}
		if remember {
			form.Set("remember", "1")
		}
		req := httptest.NewRequest("POST", "/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, req)
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("remember %v: login %d %s", remember, rec.Code, rec.Body)
		}
		checkMaxAge(t, "login", rec.Header(), remember)
		s := sealedtest.FromResponse(t, a.m, req, rec.Header())
		if s.Persistent() != remember || s.Subject() != "ann" {
			t.Fatalf("remember %v: the session after login: persistent %v, subject %q", remember, s.Persistent(), s.Subject())
		}

		// The home page counts the visit: the cookie is written again.
		home := httptest.NewRequest("GET", "/", nil)
		home.Header.Set("Cookie", sealedtest.Next("", rec.Header()))
		rec = httptest.NewRecorder()
		a.ServeHTTP(rec, home)
		if rec.Code != 200 {
			t.Fatalf("remember %v: home %d", remember, rec.Code)
		}
		checkMaxAge(t, "home", rec.Header(), remember)
		if s := sealedtest.FromResponse(t, a.m, home, rec.Header()); s.Persistent() != remember {
			t.Fatalf("remember %v: after the home page, persistent %v", remember, s.Persistent())
		}
		body := rec.Body.String()
		want, note := "browser session: gone when the browser closes", "set by this response, no Max-Age"
		if remember {
			want, note = "persistent: kept across browser restarts", "set by this response, Max-Age 86400 s (24h)"
		}
		for _, id := range []string{"sent", "held"} {
			if got := dd(panelOf(t, body, id), "persistent"); got != want {
				t.Errorf("remember %v: %s panel says %q, want %q", remember, id, got, want)
			}
		}
		if _, notes := shownChunks(panelOf(t, body, "held")); !slices.Equal(notes, []string{note}) {
			t.Errorf("remember %v: held cookie notes %q, want %q", remember, notes, note)
		}
	}
}

// checkMaxAge checks that h sets exactly one session cookie, with a
// Max-Age when persistent and without one (nor Expires) otherwise.
func checkMaxAge(t *testing.T, what string, h http.Header, persistent bool) {
	t.Helper()
	lines := h.Values("Set-Cookie")
	if len(lines) != 1 {
		t.Fatalf("%s: %d Set-Cookie lines, want 1", what, len(lines))
	}
	c, err := http.ParseSetCookie(lines[0])
	if err != nil {
		t.Fatal(err)
	}
	hasMaxAge := strings.Contains(lines[0], "Max-Age=")
	switch {
	case persistent && (c.MaxAge <= 0 || !hasMaxAge):
		t.Fatalf("%s with remember me: cookie %s has Max-Age %d, want a positive one", what, c.Name, c.MaxAge)
	case !persistent && (hasMaxAge || !c.Expires.IsZero()):
		t.Fatalf("%s without remember me: cookie %s has Max-Age %d, Expires %v; want neither", what, c.Name, c.MaxAge, c.Expires)
	}
}

// A request that arrives with a session in a given state (made with
// sealedtest) shows that state, and the page's changes are what the
// client holds afterwards.
func TestPageOfGivenSession(t *testing.T) {
	a, err := newServer(config{Insecure: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Cookie", sealedtest.Cookie(t, a.m, func(s *sealed.Session) error {
		return errors.Join(s.SetSubject("zoe"), s.Set("user", "zoe"), s.Set("visits", 41),
			s.Set("cart", []string{"tea", "mug"}), s.AddFlash("hello"))
	}))
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, req)
	body := rec.Body.String()
	if rec.Code != 200 || user(body) != "zoe" || visits(t, body) != "42" || !slices.Equal(flashes(body), []string{"hello"}) {
		t.Fatalf("home: %d, user %q, flashes %q:\n%s", rec.Code, user(body), flashes(body), body)
	}
	sent, held := panelOf(t, body, "sent"), panelOf(t, body, "held")
	if v := values(sent); len(v) != 3 || v["visits"] != "41" || v["cart"] != `["tea","mug"]` || v["user"] != `"zoe"` {
		t.Errorf("sent: values %q", v)
	}
	if f := dd(sent, "flashes"); f != "hello" {
		t.Errorf("sent: flashes %q, want hello", f)
	}
	if v := values(held); v["visits"] != "42" {
		t.Errorf("held: values %q, want visits 42", v)
	}
	if f := dd(held, "flashes"); f != "none" {
		t.Errorf("held: flashes %q, want none (shown once)", f)
	}

	s := sealedtest.FromResponse(t, a.m, req, rec.Header())
	n, _, err := sealed.Get[int](s, "visits")
	f, ferr := s.Flashes()
	if err != nil || ferr != nil || n != 42 || len(f) != 0 || s.Subject() != "zoe" {
		t.Fatalf("the session after the page: visits %d (%v), flashes %q (%v), subject %q", n, err, f, ferr, s.Subject())
	}
}

// Values are user-controlled: a name (or any value) with markup in it is
// shown escaped, everywhere the page shows it.
func TestPageEscapes(t *testing.T) {
	base := startServer(t)
	b := newBrowser(t, base)
	name := `<script>alert("x")</script>`
	code, body := b.post("/login", url.Values{"name": {name}}, nil)
	if code != 200 {
		t.Fatalf("login: %d %s", code, body)
	}
	if strings.Contains(body, "<script") || strings.Count(body, "&lt;script&gt;") < 6 {
		t.Fatalf("the name is not escaped everywhere:\n%s", body)
	}
	if got := html.UnescapeString(user(body)); got != name {
		t.Errorf("user %q, want %q", got, name)
	}
	if f := flashes(body); !slices.Equal(f, []string{"welcome, " + name}) {
		t.Errorf("flashes %q", f)
	}
	for _, id := range []string{"sent", "held"} {
		p := panelOf(t, body, id)
		if s := dd(p, "subject"); s != name {
			t.Errorf("%s: subject %q, want %q", id, s, name)
		}
		if v := values(p)["user"]; v != `"<script>alert(\"x\")</script>"` {
			t.Errorf("%s: user value %q", id, v)
		}
	}
}

// A forged cookie is named as such, and the page goes on with a new
// session.
func TestPageRejectedCookie(t *testing.T) {
	base := startServer(t)
	u, _ := url.Parse(base)
	b := newBrowser(t, base)
	b.post("/login", url.Values{"name": {"mallory"}}, nil)
	c := b.jar.Cookies(u)
	if len(c) != 1 {
		t.Fatalf("%d cookies after login, want 1", len(c))
	}
	// Another base64url character in the middle: still a cookie value,
	// no longer what was sealed.
	v := []byte(c[0].Value)
	if i := len(v) / 2; v[i] == 'A' {
		v[i] = 'B'
	} else {
		v[i] = 'A'
	}
	forger := newBrowser(t, base)
	forger.jar.SetCookies(u, []*http.Cookie{{Name: c[0].Name, Value: string(v)}})
	body := forger.get("/")
	sent := panelOf(t, body, "sent")
	if st := status(sent); !strings.HasPrefix(st, "Rejected: forged or altered.") {
		t.Fatalf("sent: status %q", st)
	}
	if got, _ := shownChunks(sent); len(got) != 1 || dd(sent, "key") != "" {
		t.Fatalf("sent: cookies %q, key %q; want the cookie listed and nothing opened", got, dd(sent, "key"))
	}
	if user(body) != "" || visits(t, body) != "1" || dd(panelOf(t, body, "held"), "subject") != "none (anonymous)" {
		t.Fatalf("after a forged cookie: user %q, visits %s; want a new session", user(body), visits(t, body))
	}
}

// A session sealed under an older key in the keyring shows that key, and
// the response seals it under the primary one.
func TestPageOldKey(t *testing.T) {
	old, cur := sealed.GenerateKey("old"), sealed.GenerateKey("cur")
	a, err := newServer(config{Insecure: true, Keys: testkeys.Ring(t, cur, old), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	before, err := sealed.New(testkeys.Ring(t, old), &sealed.Options{AllowInsecure: true})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Cookie", sealedtest.Cookie(t, before, func(s *sealed.Session) error { return s.Set("visits", 5) }))
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, req)
	body := rec.Body.String()
	sent, held := panelOf(t, body, "sent"), panelOf(t, body, "held")
	if k, st := dd(sent, "key"), status(sent); k != "old (an older key, still accepted)" || !strings.Contains(st, "older key") {
		t.Errorf("sent: key %q, status %q", k, st)
	}
	if k, v := dd(held, "key"), values(held)["visits"]; k != "cur (the primary key)" || v != "6" {
		t.Errorf("held: key %q, visits %q; want cur, 6", k, v)
	}
}

func TestHuman(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                                   "0s",
		400 * time.Millisecond:              "0s",
		59 * time.Second:                    "59s",
		61 * time.Second:                    "1m 1s",
		90 * time.Minute:                    "1h 30m",
		24 * time.Hour:                      "24h",
		24*time.Hour - 300*time.Millisecond: "24h",
		24*time.Hour - time.Minute:          "23h 59m",
		49 * time.Hour:                      "2d 1h",
		7 * 24 * time.Hour:                  "7d",
		7*24*time.Hour - time.Second:        "7d",
	} {
		if got := human(d); got != want {
			t.Errorf("human(%v) = %q, want %q", d, got, want)
		}
	}
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	for tm, want := range map[time.Time]string{
		now:                       "2026-05-01 12:00:00 UTC, now",
		now.Add(time.Hour):        "2026-05-01 13:00:00 UTC, in 1h",
		now.Add(-2 * time.Minute): "2026-05-01 11:58:00 UTC, 2m ago",
	} {
		if got := when(tm, now); got != want {
			t.Errorf("when(%v) = %q, want %q", tm, got, want)
		}
	}
}
