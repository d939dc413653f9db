package main

// What the page shows about its own cookies: the session cookies this
// request carried and those the browser holds after the response, each
// opened with the Manager's keys by internal/inspect (the code behind
// "sealed inspect"), and what the Manager made of them, as its Observer
// reported it. Only sizes of cookie values are shown, never the values.

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sealedgo/sealed"
	"github.com/sealedgo/sealed/examples/internal/demo"
	"github.com/sealedgo/sealed/internal/inspect"
)

// verdict collects what the Manager's Observer reports about one
// request's session: how its cookies were loaded and how it was saved.
// Observer calls come on the request's goroutine, one after the other.
type verdict struct {
	load, save sealed.Event
}

type verdictKey struct{}

// withVerdict gives each request a verdict for the Observer to fill.
func withVerdict(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := context.WithValue(r.Context(), verdictKey{}, new(verdict))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// observe is the Manager's Observer: it records loads and saves in the
// request's verdict, if it has one.
func observe(ctx context.Context, e sealed.Event) {
	v, ok := ctx.Value(verdictKey{}).(*verdict)
	if !ok {
		return
	}
	switch e.Op {
	case "load":
		v.load = e
	case "save":
		v.save = e
	}
}

// panel is one side of the page's cookie view.
type panel struct {
	ID, Title string
	// Status says what the server made of these cookies.
	Status string
	Chunks []chunk
	// Bytes is how much of the Cookie header the session takes.
	Bytes int
	// Opened is what the cookies hold, or nil when they do not open.
	Opened *opened
}

type chunk struct {
	Name  string
	Bytes int // name=value, as in the Cookie header
	Note  string
}

// opened is an inspect.Inspection made readable.
type opened struct {
	ID, KeyID, Subject                              string
	PrimaryKey, Persistent                          bool
	Created, Issued, IdleDeadline, AbsoluteDeadline string
	Values                                          []value
	Flashes                                         []string
}

type value struct{ Key, JSON string }

// cookieView shows the session cookies r carried and those the browser
// holds once it has the response, whose Set-Cookie lines must already be
// in w's header (Manager.Commit).
func (a *app) cookieView(w http.ResponseWriter, r *http.Request) [2]panel {
	v, _ := r.Context().Value(verdictKey{}).(*verdict)
	if v == nil {
		v = new(verdict)
	}
	now := time.Now()

	sent := demo.SessionCookies(r.Cookies(), a.cookieName)
	req := panel{ID: "sent", Title: "Sent by your browser with this request", Status: loadStatus(v.load)}
	req.Chunks, req.Bytes = chunks(sent, nil)
	if len(sent) > 0 {
		req.Opened = a.open(sent, now)
	}

	// The browser's cookies after this response: those it sent, replaced
	// or removed by the response's Set-Cookie lines.
	held := slices.Clone(sent)
	set := map[string]*http.Cookie{}
	for _, line := range w.Header().Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			continue
		}
		if _, ok := demo.ChunkIndex(c.Name, a.cookieName); !ok {
			continue
		}
		held = slices.DeleteFunc(held, func(h *http.Cookie) bool { return h.Name == c.Name })
		if c.MaxAge >= 0 {
			held = append(held, c)
			set[c.Name] = c
		}
	}
	held = demo.SessionCookies(held, a.cookieName)
	after := panel{ID: "held", Title: "Held by your browser after this response", Status: saveStatus(v.save)}
	after.Chunks, after.Bytes = chunks(held, set)
	if len(held) > 0 {
		after.Opened = a.open(held, now)
	}
	return [2]panel{req, after}
}

// chunks lists cookies with their sizes; set holds those the response
// sets, for their Max-Age.
func chunks(cookies []*http.Cookie, set map[string]*http.Cookie) (list []chunk, total int) {
	for i, c := range cookies {
		ch := chunk{Name: c.Name, Bytes: len(c.Name) + 1 + len(c.Value)}
		if set != nil {
			switch sc := set[c.Name]; {
			case sc == nil:
				ch.Note = "kept as sent"
			case sc.MaxAge > 0:
				ch.Note = fmt.Sprintf("set by this response, Max-Age %d s (%s)", sc.MaxAge, human(time.Duration(sc.MaxAge)*time.Second))
			default:
				ch.Note = "set by this response, no Max-Age"
			}
		}
		if i > 0 {
			total += len("; ")
		}
		total += ch.Bytes
		list = append(list, ch)
	}
	return list, total
}

// open inspects cookies with the Manager's own keys and timeouts. It
// reports what they hold whether or not the Manager accepts them (an
// expired or revoked session still opens here).
func (a *app) open(cookies []*http.Cookie, now time.Time) *opened {
	pairs := make([]string, len(cookies))
	for i, c := range cookies {
		pairs[i] = c.Name + "=" + c.Value
	}
	in, err := inspect.OfManager(a.m, strings.Join(pairs, "; "))
	if err != nil {
		return nil
	}
	o := &opened{
		ID: in.ID, KeyID: in.KeyID, Subject: in.Subject,
		PrimaryKey: in.PrimaryKey, Persistent: !in.BrowserSession,
		Created:          when(in.CreatedAt, now),
		Issued:           when(in.IssuedAt, now),
		IdleDeadline:     when(in.IdleDeadline, now),
		AbsoluteDeadline: when(in.AbsoluteDeadline, now),
		Flashes:          in.Flashes,
	}
	if len(o.ID) > 8 {
		o.ID = o.ID[:8] + "…"
	}
	for _, k := range slices.Sorted(maps.Keys(in.Values)) {
		// As JSON, unescaped: the template escapes for HTML.
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(in.Values[k]); err != nil {
			b.Reset()
			b.WriteString("?")
		}
		o.Values = append(o.Values, value{k, strings.TrimSuffix(b.String(), "\n")})
	}
	return o
}

// loadStatus says in words what the Manager made of the request's cookies.
func loadStatus(e sealed.Event) string {
	switch e.Outcome {
	case "new":
		return "No session cookie: a new session starts."
	case "opened":
		if e.OldKey {
			return "Opened: this is your session. It was sealed under an older key; this response seals it again under the primary one."
		}
		return "Opened: this is your session."
	case "expired":
		return "Expired (" + e.Reason + " timeout): refused, a new session starts and this response deletes the old cookies."
	case "revoked":
		return "Revoked: this session was logged out, in this browser or by \"log out everywhere\" in another. It still decrypts (below), but the server's revocation list refuses it: a new session starts."
	case "rejected":
		why := map[string]string{
			"cookie":  "the cookies do not form one sealed value",
			"format":  "not a sealed value of this version",
			"key":     "sealed under a key this server does not have (without SEALED_KEYS the demo makes a new key each time it starts)",
			"auth":    "forged or altered",
			"payload": "authentic, but not a valid session",
			"time":    "issued in the future",
		}[e.Reason]
		if why == "" {
			why = e.Reason
		}
		return "Rejected: " + why + ". Ignored, without an error page: a new session starts."
	}
	return "Not loaded."
}

// saveStatus says in words what the response does with the cookies.
func saveStatus(e sealed.Event) string {
	switch e.Outcome {
	case "written":
		n := "1 cookie"
		if e.Chunks != 1 {
			n = fmt.Sprintf("%d cookies", e.Chunks)
		}
		return fmt.Sprintf("This response sets %s: %d bytes of Set-Cookie, attributes included. Here they are opened as the next request will open them.", n, e.Bytes)
	case "unchanged":
		return "This response sets no cookie: the browser keeps what it sent."
	case "expired":
		return "This response deletes the session cookies."
	}
	return "Not saved."
}

// when shows t in UTC and how far it is from now.
func when(t, now time.Time) string {
	s := t.UTC().Format("2006-01-02 15:04:05 UTC")
	switch d := t.Sub(now); {
	case d > time.Second:
		return s + ", in " + human(d)
	case d < -time.Second:
		return s + ", " + human(-d) + " ago"
	}
	return s + ", now"
}

// human shows a positive duration in its two largest units, rounded to
// the smaller one, which is left out when zero: "7d", "23h 59m", "45s".
// Days start at two, so that a day-long timeout reads "24h".
func human(d time.Duration) string {
	const day = 24 * time.Hour
	two := func(big, small time.Duration, b, s string) string {
		d := d.Round(small)
		out := fmt.Sprintf("%d%s", d/big, b)
		if rest := d % big / small; rest != 0 {
			out += fmt.Sprintf(" %d%s", rest, s)
		}
		return out
	}
	switch {
	case d >= 2*day:
		return two(day, time.Hour, "d", "h")
	case d >= time.Hour:
		return two(time.Hour, time.Minute, "h", "m")
	case d >= time.Minute:
		return two(time.Minute, time.Second, "m", "s")
	}
	return fmt.Sprintf("%ds", d.Round(time.Second)/time.Second)
}

// The page's style sheet, and the template of one panel of its cookie view.
func init() {
	template.Must(page.New("head").Parse(`<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body { font: 16px/1.45 system-ui, sans-serif; max-width: 72rem; margin: 1.5rem auto; padding: 0 1rem; color: #222; }
.flash { background: #fff6d6; border-left: 4px solid #e0b400; padding: .4rem .8rem; }
form { display: inline-block; margin: 0 .6rem .4rem 0; }
input[name=name] { width: 14rem; }
.hint { color: #555; font-size: .93rem; max-width: 48rem; }
.panels { display: flex; gap: 1rem; align-items: flex-start; }
.panel { flex: 1; min-width: 0; border: 1px solid #ccc; border-radius: 6px; padding: .2rem 1rem .8rem; }
.panel h3 { margin: .6rem 0 .3rem; font-size: 1.05rem; }
.status { font-size: .93rem; margin: .2rem 0 .6rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .15rem .8rem; font-size: .9rem; margin: .6rem 0 0; }
dt { font-weight: 600; }
dd { margin: 0; overflow-wrap: anywhere; }
dd ul { margin: 0; padding-left: 1.1rem; }
dd ul.chunks { list-style: none; padding: 0; }
code { font-size: .88rem; }
@media (max-width: 50rem) { .panels { flex-direction: column; } .panel { width: 100%; box-sizing: border-box; } }
</style>`))
	template.Must(page.New("panel").Parse(`<section class="panel" id="{{.ID}}">
<h3>{{.Title}}</h3>
<p class="status">{{.Status}}</p>
<dl>
{{if .Chunks}}<dt>cookies</dt><dd><ul class="chunks">
{{range .Chunks}}<li class="chunk"><code>{{.Name}}</code>: <span class="bytes">{{.Bytes}}</span> bytes{{with .Note}}, {{.}}{{end}}</li>
{{end}}</ul>{{if gt (len .Chunks) 1}}<span class="total">{{.Bytes}}</span> bytes of the Cookie header in all{{end}}</dd>
{{end}}{{with .Opened}}<dt>key</dt><dd class="key">{{.KeyID}} {{if .PrimaryKey}}(the primary key){{else}}(an older key, still accepted){{end}}</dd>
<dt>session ID</dt><dd class="id">{{.ID}}</dd>
<dt>subject</dt><dd class="subject">{{if .Subject}}{{.Subject}}{{else}}none (anonymous){{end}}</dd>
<dt>lifetime</dt><dd class="persistent">{{if .Persistent}}persistent: kept across browser restarts{{else}}browser session: gone when the browser closes{{end}}</dd>
<dt>created</dt><dd>{{.Created}}</dd>
<dt>sealed (issued)</dt><dd class="issued">{{.Issued}}</dd>
<dt>expires if idle</dt><dd class="idle">{{.IdleDeadline}}</dd>
<dt>ends at the latest</dt><dd class="absolute">{{.AbsoluteDeadline}}</dd>
<dt>values</dt><dd class="values">{{if .Values}}<ul>
{{range .Values}}<li><code>{{.Key}}</code> = <code class="value">{{.JSON}}</code></li>
{{end}}</ul>{{else}}none{{end}}</dd>
<dt>flashes</dt><dd class="flashes">{{if .Flashes}}<ul>
{{range .Flashes}}<li>{{.}}</li>
{{end}}</ul>{{else}}none{{end}}</dd>
{{else}}{{if .Chunks}}<dt>contents</dt><dd>they do not open with this server's keys</dd>
{{end}}{{end}}</dl>
</section>
`))
}
