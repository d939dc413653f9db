// Command basic is the sealed demo: a tiny server-rendered site whose
// session lives entirely in an encrypted cookie. It shows a visit counter,
// login with a session ID change and a "remember me" choice
// (Session.SetPersistent), flash messages, logout, and "log out
// everywhere" with an in-memory revocation list.
//
// The page explains itself. Below the site it shows the session cookies
// the request carried and those the browser holds once the response has
// replaced them: each chunk with its size, and what they hold (key id,
// subject, values, flashes, when the session was created and sealed, when
// it expires if idle and at the latest, whether the cookie outlives the
// browser), opened with the demo's own key by sealed's internal/inspect,
// the code behind "sealed inspect", which only code in the sealed
// repository can import. A line says what the Manager made of the cookies,
// as Options.Observer reported it: opened, rejected and why, expired or
// revoked. It shows sizes only, never a cookie's value.
//
// Any name logs in: there is no password. To watch "log out everywhere",
// log in with the same name in two browsers (or a normal and a private
// window), press the button in one and reload the other.
//
// Run it from the repository root with no configuration:
//
//	go -C examples run ./basic
//
// and open http://127.0.0.1:8080. Flags and environment:
//
//	-addr HOST:PORT  where to listen (default 127.0.0.1:8080, or
//	                 127.0.0.1:$PORT when PORT is set)
//	-cookies MODE    secure, insecure or auto (default: $SEALED_COOKIES,
//	                 else auto); see below
//	SEALED_KEYS      a JWK Set (make one with "sealed keygen"); without it
//	                 a development key is generated at startup, so sessions
//	                 do not survive a restart.
//
// The demo serves plain http. With -cookies auto it sets
// Options.AllowInsecure (a cookie "session" without Secure) only when it
// listens on a loopback address, so that it works in a browser on the
// same machine; on any other address it uses sealed's production defaults:
// the cookie "__Host-session" with the Secure attribute, which a browser
// sends over https only. -cookies secure forces those, for a TLS-terminating
// proxy in front of a loopback address:
//
//	go -C examples run ./basic -addr 127.0.0.1:9000 -cookies secure
//
// -cookies insecure forces plain-http cookies on any address.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"

	"github.com/sealedgo/sealed"
	"github.com/sealedgo/sealed/examples/internal/demo"
)

// keysEnv names the environment variable that may hold the keys.
const keysEnv = "SEALED_KEYS"

// config is what main gathers from flags and the environment.
type config struct {
	Addr string
	// Insecure sets Options.AllowInsecure: cookies for plain http.
	Insecure bool
	// Keys seals the sessions. Nil means: generate a development key.
	Keys   *sealed.Keyring
	Logger *slog.Logger
}

func main() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	cfg, err := parseConfig(os.Args[1:], os.Getenv, logger)
	demo.Check("basic", 2, err)
	a, err := newServer(cfg)
	demo.Check("basic", 1, err)
	ln, err := net.Listen("tcp", cfg.Addr)
	demo.Check("basic", 1, err)
	fmt.Printf("sealed demo listening on %s (%s)\n", baseURL(ln.Addr()), demo.Describe(cfg.Insecure))
	demo.Check("basic", 1, http.Serve(ln, a))
}

// parseConfig reads the flags in args and the environment through getenv.
func parseConfig(args []string, getenv func(string) string, logger *slog.Logger) (config, error) {
	defAddr := "127.0.0.1:8080"
	if p := getenv("PORT"); p != "" {
		// Stay on loopback: the demo uses plain http and, by default, a
		// throwaway key. Pass -addr :PORT to listen on every interface.
		defAddr = net.JoinHostPort("127.0.0.1", p)
	}
	fs := flag.NewFlagSet("basic", flag.ContinueOnError)
	addr := fs.String("addr", defAddr, "`HOST:PORT` to listen on")
	cookies, err := demo.ParseFlags(fs, args, getenv)
	if err != nil {
		return config{}, err
	}
	cfg := config{Addr: *addr, Insecure: cookies.Insecure(*addr), Logger: logger}
	if v := getenv(keysEnv); v != "" {
		k, err := sealed.ParseKeyring([]byte(v))
		if err != nil {
			return config{}, fmt.Errorf("%s: %w", keysEnv, err)
		}
		cfg.Keys = k
	}
	return cfg, nil
}

// baseURL is the URL to print for a listener.
func baseURL(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return "http://" + a.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// app is the demo's handler and what its handlers share.
type app struct {
	http.Handler
	m *sealed.Manager
	// cookieName is the session cookie's name, set explicitly so that the
	// page can find its chunks among the request's cookies.
	cookieName string
	logger     *slog.Logger
}

// session returns the request's session. On error the middleware answers
// by itself (503 when the revocation list cannot be asked), so callers
// just return.
func (a *app) session(r *http.Request) (*sealed.Session, bool) {
	s, err := a.m.Session(r)
	if err != nil {
		return nil, false
	}
	return s, true
}

// newServer builds the demo's handler without listening, so that tests
// can serve it with httptest (and reach its Manager).
func newServer(cfg config) (*app, error) {
	logger := demo.Logger(cfg.Logger)
	keys := cfg.Keys
	if keys == nil {
		var err error
		keys, err = sealed.NewKeyring(sealed.GenerateKey("dev"))
		if err != nil {
			return nil, err
		}
		logger.Warn("using a generated development key: sessions will not survive a restart; set " + keysEnv + " to a JWK Set (sealed keygen) to keep them")
	} else {
		// Say where the keys came from, never the keys themselves.
		logger.Info("keys loaded", "env", keysEnv)
	}
	cookieName := demo.CookieName(cfg.Insecure)
	m, err := sealed.New(keys, &sealed.Options{
		// True only for plain http in local development (-cookies).
		// Otherwise sealed's defaults: "__Host-session", Secure.
		AllowInsecure: cfg.Insecure,
		CookieName:    cookieName, // the default for these settings
		// Tells the page what the Manager made of each request's cookies
		// (opened, rejected and why, expired, revoked) and what it wrote.
		Observer: observe,
		// SameSite is left at its default, Lax: the browser does not send
		// the cookie with cross-site POSTs. CrossOriginProtection below
		// adds the server-side check.
		//
		// One process, so an in-memory list is enough for logout and
		// "log out everywhere" to be real. It forgets on restart; a fleet
		// needs a shared list (see the revocation example).
		Revocation: sealed.NewMemoryRevocationList(),
		Logger:     logger,
	})
	if err != nil {
		return nil, err
	}
	a := &app{m: m, cookieName: cookieName, logger: logger}

	// Two routes for the load test (bench/load.sh), which measures what
	// reading a session costs: GET /whoami reads the session and writes
	// nothing; GET /bare is its baseline, routed the same way (this mux,
	// behind the same cross-origin protection) and answering the same kind
	// of response, but without the session middleware. m.Middleware wraps
	// a single handler as well as a whole mux.
	site := http.NewServeMux()
	site.Handle("GET /whoami", m.Middleware(http.HandlerFunc(a.whoami)))
	site.HandleFunc("GET /bare", bare)

	// The site's pages, all of which use the session.
	pages := http.NewServeMux()
	pages.HandleFunc("GET /{$}", a.home)
	pages.HandleFunc("POST /login", a.login)
	pages.HandleFunc("POST /logout", a.logout)
	pages.HandleFunc("POST /logout-everywhere", a.logoutEverywhere)
	site.Handle("/", withVerdict(m.Middleware(pages)))

	// CSRF defence: http.CrossOriginProtection refuses (403) state-changing
	// requests that a browser marks as cross-origin, by Sec-Fetch-Site or,
	// failing that, by an Origin that does not match the Host. Together
	// with SameSite=Lax cookies this needs no tokens in the forms.
	cop := http.NewCrossOriginProtection()

	// GET /healthz sits outside everything, for a load balancer's checks.
	root := http.NewServeMux()
	root.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok\n")
	})
	root.Handle("/", cop.Handler(site))
	a.Handler = root
	return a, nil
}

// whoami answers with the logged-in user's name, or "anonymous", and never
// changes the session: no Set-Cookie.
func (a *app) whoami(w http.ResponseWriter, r *http.Request) {
	s, ok := a.session(r)
	if !ok {
		return
	}
	user, _, _ := sealed.Get[string](s, "user")
	if user == "" {
		user = "anonymous"
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, user)
	io.WriteString(w, "\n")
}

// bare answers what whoami answers to a visitor without a session, without
// looking for one: the load test's baseline.
func bare(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "anonymous\n")
}

var page = demo.Page("sealed demo", `<h1>sealed demo</h1>
{{range .Flashes}}<p class="flash"><strong>{{.}}</strong></p>
{{end}}<p>Visits in this session: <span id="visits">{{.Visits}}</span></p>
{{if .User}}<p>Logged in as <span id="user">{{.User}}</span>.</p>
<form method="post" action="/logout"><button>Log out</button></form>
<form method="post" action="/logout-everywhere"><button>Log out everywhere</button></form>
{{else}}<p>Not logged in. Any name logs in: there is no password, this is a demo.</p>
<form method="post" action="/login">
<label>Name <input name="name" maxlength="64" required></label>
<label><input type="checkbox" name="remember" value="1"> Remember me</label>
<button>Log in</button>
</form>
<p class="hint">Remember me makes the cookie persistent: it has a Max-Age
and survives closing the browser. Without it the cookie is a browser-session
cookie, gone when the browser closes. The idle and absolute timeouts hold
either way: they are sealed inside the cookie.</p>
{{end}}<p class="hint">To watch "log out everywhere": open this page in a
second browser (or a private window), log in with the same name in both,
press "Log out everywhere" in one, then reload the other. It is logged out
too, and its page says why.</p>

<h2>What your cookies hold</h2>
<p class="hint">The whole session is in the cookie, encrypted; the server
keeps nothing but a list of ended sessions. Here the server opens the cookies
with its own key to show what they hold: the browser sees only encrypted
bytes, and the page shows their sizes, never their values. On the left, the
cookies this request carried; on the right, what the browser holds once this
response has replaced them: this page counts the visit and removes the
flashes it shows. At login the session ID changes (CycleID) and the values
stay.</p>
<div class="panels">
{{range .Cookies}}{{template "panel" .}}{{end}}</div>
`)

type homeData struct {
	Visits  int
	User    string
	Flashes []string
	// Cookies shows the session cookies of the request and of the
	// browser after the response.
	Cookies [2]panel
}

func (a *app) home(w http.ResponseWriter, r *http.Request) {
	s, ok := a.session(r)
	if !ok {
		return
	}
	visits, _, err := sealed.Get[int](s, "visits")
	if err != nil {
		visits = 0 // a value of the wrong type: start over
	}
	visits++
	if err := s.Set("visits", visits); err != nil {
		demo.Fail(w, a.logger, "set visits", err)
		return
	}
	user, _, _ := sealed.Get[string](s, "user")
	flashes, err := s.Flashes()
	if err != nil {
		demo.Fail(w, a.logger, "read flashes", err)
		return
	}
	// Save now rather than when the page starts going out, so that the
	// page can show the cookies this response sets. Should it fail, the
	// middleware answers as it would have anyway.
	if err := a.m.Commit(r); err != nil {
		return
	}
	d := homeData{Visits: visits, User: user, Flashes: flashes, Cookies: a.cookieView(w, r)}
	demo.Render(w, a.logger, page, d)
}

func (a *app) login(w http.ResponseWriter, r *http.Request) {
	name, ok := demo.LoginName(w, r)
	if !ok {
		return
	}
	s, ok := a.session(r)
	if !ok {
		return
	}
	// Session fixation defence: the session may have been started before
	// login by someone else (a cookie planted on this browser) or seen by
	// someone else. A new ID at the moment privileges change makes any
	// earlier copy worthless; with a revocation list the old ID is revoked
	// when the response is written. SetSubject records whom the session
	// belongs to, for RevokeSubject. A login without either is refused.
	if err := errors.Join(s.CycleID(), s.SetSubject(name)); err != nil {
		demo.Fail(w, a.logger, "login", err)
		return
	}
	// "Remember me": without it, the cookies carry no Max-Age and the
	// browser drops them when it closes. The choice is sealed with the
	// session, so it holds when the cookie is renewed.
	if err := s.SetPersistent(r.PostFormValue("remember") != ""); err != nil {
		demo.Fail(w, a.logger, "remember me", err)
		return
	}
	if err := s.Set("user", name); err != nil {
		demo.Fail(w, a.logger, "set user", err)
		return
	}
	demo.Done(w, r, a.logger, "add flash", s.AddFlash("welcome, "+name))
}

func (a *app) logout(w http.ResponseWriter, r *http.Request) {
	s, ok := a.session(r)
	if !ok {
		return
	}
	// Revokes this session's ID and expires its cookies. Writing to the
	// session afterwards (the flash) starts a new, anonymous one.
	demo.Done(w, r, a.logger, "logout", errors.Join(s.Invalidate(), s.AddFlash("logged out")))
}

func (a *app) logoutEverywhere(w http.ResponseWriter, r *http.Request) {
	s, ok := a.session(r)
	if !ok {
		return
	}
	subject := s.Subject()
	if subject == "" {
		demo.Done(w, r, a.logger, "add flash", s.AddFlash("not logged in"))
		return
	}
	// Every session of this subject created until now is refused from the
	// next request on, on every device.
	if err := a.m.RevokeSubject(r.Context(), subject); err != nil {
		a.logger.Error("revoke subject", "err", err)
		http.Error(w, "could not log out everywhere; try again", http.StatusServiceUnavailable)
		return
	}
	demo.Done(w, r, a.logger, "logout everywhere", errors.Join(s.Invalidate(), s.AddFlash("logged out everywhere")))
}
