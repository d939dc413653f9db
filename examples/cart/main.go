// Command cart is a shopping cart kept in the session; its default budget
// fits nginx with its default configuration (one cookie of about 3 KiB),
// and -budget nginx8k needs "proxy_buffer_size 8k; proxy_buffers 8 8k;".
// It shows what happens as a session grows: within a larger Budget it
// spreads over several cookies (chunks), and when it would exceed the
// budget the application is told (a *sealed.TooLargeError) before
// anything is sent, undoes the change and says "cart is full" and by how
// many bytes. The client keeps its cart as it was.
//
// Run it from the repository root:
//
//	go -C examples run ./cart
//
// and open http://127.0.0.1:8082. Add items with long gift messages to see
// the cart fill up; with -budget nginx8k, apigw or large the session goes
// from one cookie to two and more first, and removing items shrinks it
// back (the chunks no longer needed are expired). Flags and environment:
//
//	-addr HOST:PORT   where to listen (default 127.0.0.1:8082)
//	-budget NAME      cookie budget (default "default"):
//	                  default   the zero sealed.Budget: fits a default nginx
//	                            in both directions (its 4 KiB
//	                            proxy_buffer_size for the response header)
//	                  nginx8k   sealed.BudgetNginx8k(), for nginx with
//	                            proxy_buffer_size 8k; proxy_buffers 8 8k;
//	                  apigw     sealed.BudgetAPIGatewayHTTP()
//	                  large     sealed.BudgetLarge() (ALB, Cloudflare, Vercel)
//	-cookies MODE     secure, insecure or auto (default: $SEALED_COOKIES,
//	                  else auto). auto sets Options.AllowInsecure (a cookie
//	                  "session" without Secure, for plain http) only when
//	                  the example listens on a loopback address; otherwise,
//	                  and always with secure, the cookie is "__Host-session"
//	                  with Secure, as in production. Behind a TLS-terminating
//	                  proxy on loopback, pass -cookies secure.
//
// Cookies travel with every request: real applications keep the cart on
// the server (or in a database keyed by a session value) once it is more
// than a few items. This example fills the session on purpose.
package main

import (
	"errors"
	"flag"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sealedgo/sealed"
	"github.com/sealedgo/sealed/examples/internal/demo"
)

// budgets are the presets the -budget flag can pick; "default" is the
// zero Budget, sealed's defaults.
var budgets = map[string]sealed.Budget{
	"default": {},
	"nginx8k": sealed.BudgetNginx8k(),
	"apigw":   sealed.BudgetAPIGatewayHTTP(),
	"large":   sealed.BudgetLarge(),
}

// zeroBudget spells out what the zero Budget means (see sealed.Budget), so
// that the page can show its limits.
var zeroBudget = sealed.Budget{MaxBytes: 6144, MaxChunks: 8, MaxLineBytes: 4096, MaxResponseBytes: 4096, ReservedResponseBytes: 1024}

// budgetNames lists the budgets for messages, the default first.
const budgetNames = "default, nginx8k, apigw or large"

// catalogue is what the shop sells.
var catalogue = map[string]string{
	"tea":    "Loose-leaf tea, 100 g",
	"mug":    "Stoneware mug",
	"kettle": "Gooseneck kettle",
	"cake":   "Lemon drizzle cake",
}

// maxNote bounds a gift message.
const maxNote = 500

// item is one line of the cart. Short CBOR keys keep the cookie small.
type item struct {
	SKU  string `cbor:"s"`
	Qty  int    `cbor:"q"`
	Note string `cbor:"n,omitempty"`
}

// config is what main gathers from the flags and the environment.
type config struct {
	Addr       string
	BudgetName string
	// Insecure sets Options.AllowInsecure: cookies for plain http.
	Insecure bool
	Logger   *slog.Logger
}

func main() {
	cfg, err := parseConfig(os.Args[1:], os.Getenv)
	demo.Check("cart", 2, err)
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	h, err := newServer(cfg)
	demo.Check("cart", 2, err)
	ln, err := net.Listen("tcp", cfg.Addr)
	demo.Check("cart", 1, err)
	// The address listened on, so that -addr 127.0.0.1:0 tells its port.
	fmt.Printf("cart example listening on http://%s (budget %s; %s)\n", ln.Addr(), cfg.BudgetName, demo.Describe(cfg.Insecure))
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	demo.Check("cart", 1, srv.Serve(ln))
}

// parseConfig reads the flags in args and the environment through getenv.
func parseConfig(args []string, getenv func(string) string) (config, error) {
	fs := flag.NewFlagSet("cart", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8082", "`HOST:PORT` to listen on")
	budget := fs.String("budget", "default", "cookie budget `NAME`: "+budgetNames)
	cookies, err := demo.ParseFlags(fs, args, getenv)
	if err != nil {
		return config{}, err
	}
	if _, ok := budgets[*budget]; !ok {
		return config{}, fmt.Errorf("unknown budget %q (want %s)", *budget, budgetNames)
	}
	return config{Addr: *addr, BudgetName: *budget, Insecure: cookies.Insecure(*addr)}, nil
}

type app struct {
	m *sealed.Manager
	// budget is the budget in force, the defaults spelled out, for the
	// page.
	budget     sealed.Budget
	budgetName string
	cookieName string
	logger     *slog.Logger
}

// newServer builds the handler without listening. It uses a fresh key on
// every start: the example is about size, not about keys.
func newServer(cfg config) (http.Handler, error) {
	logger := demo.Logger(cfg.Logger)
	name := cfg.BudgetName
	if name == "" {
		name = "default"
	}
	budget, ok := budgets[name]
	if !ok {
		return nil, fmt.Errorf("unknown budget %q (want %s)", name, budgetNames)
	}
	keys, err := sealed.NewKeyring(sealed.GenerateKey("dev"))
	if err != nil {
		return nil, err
	}
	logger.Warn("using a generated development key: carts do not survive a restart")
	// The cookie's name is sealed's default for these settings, set
	// explicitly so that the page can find the session's cookies.
	cookieName := demo.CookieName(cfg.Insecure)
	m, err := sealed.New(keys, &sealed.Options{
		// True only for plain http in local development (-cookies).
		AllowInsecure: cfg.Insecure,
		CookieName:    cookieName,
		Budget:        budget,
		Logger:        logger,
	})
	if err != nil {
		return nil, err
	}
	shown := budget
	if shown == (sealed.Budget{}) {
		shown = zeroBudget
	}
	a := &app{m: m, budget: shown, budgetName: name, cookieName: cookieName, logger: logger}
	// SameSite=Lax cookies plus an Origin / Sec-Fetch-Site check on POSTs
	// keep other sites from filling the cart (CSRF).
	return demo.Handler(m.Middleware, map[string]http.HandlerFunc{
		"GET /{$}":     a.home,
		"POST /add":    a.add,
		"POST /remove": a.remove,
		"POST /clear":  a.clear,
	}), nil
}

var page = template.Must(template.New("cart").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>cart</title></head>
<body>
<h1>Your cart</h1>
{{if .Full}}<p id="full"><strong>Your cart is full: it would need <span id="over">{{.Over}}</span> more bytes of cookie. The last item was not added.</strong>
(Cookie header {{.Full.Bytes}} bytes, at most {{.Full.Limit}}; Set-Cookie headers {{.Full.ResponseBytes}} bytes, at most {{.Full.ResponseLimit}}.)</p>
{{end}}<p>Lines in the cart: <span id="lines">{{len .Items}}</span></p>
<ol>
{{range $i, $it := .Items}}<li>{{$it.Qty}} × {{$it.Name}}{{if $it.Note}}, gift message: <q>{{$it.Note}}</q>{{end}}
<form method="post" action="/remove"><input type="hidden" name="line" value="{{$i}}"><button class="remove">Remove</button></form></li>
{{end}}</ol>
<p>This session arrived in <span id="cookies">{{.Cookies}}</span> cookie(s),
<span id="bytes">{{.Bytes}}</span> bytes of the Cookie header. Budget
<code>{{.BudgetName}}</code>: at most {{.Budget.MaxBytes}} bytes in
{{.Budget.MaxChunks}} cookies, each Set-Cookie line at most
{{.Budget.MaxLineBytes}} bytes, all Set-Cookie headers of a response at
most {{.SetCookieRoom}} bytes (of a {{.Budget.MaxResponseBytes}}-byte
response header).</p>
<form method="post" action="/add">
<select name="sku">{{range .Catalogue}}<option value="{{.SKU}}">{{.Name}}</option>{{end}}</select>
<label>Gift message <input name="note" maxlength="500"></label>
<button>Add to cart</button>
</form>
<form method="post" action="/clear"><button>Empty the cart</button></form>
</body>
</html>
`))

type line struct {
	Qty        int
	Name, Note string
}

type product struct{ SKU, Name string }

type pageData struct {
	// Full is why the last item was refused, or nil.
	Full *sealed.TooLargeError
	// Over is by how many bytes the refused cart was too large, in the
	// direction it overshot most: the Cookie header or the Set-Cookie
	// headers.
	Over          int
	SetCookieRoom int
	Items         []line
	Cookies       int
	Bytes         int
	BudgetName    string
	Budget        sealed.Budget
	Catalogue     []product
}

// sessionCookies counts the session's cookies in the request (NAME,
// NAME.1, NAME.2, ...) and the bytes they take in the Cookie header.
func sessionCookies(r *http.Request, name string) (n, size int) {
	for _, c := range r.Cookies() {
		if c.Name != name && !isChunk(c.Name, name) {
			continue
		}
		if n > 0 {
			size += len("; ")
		}
		n++
		size += len(c.Name) + 1 + len(c.Value)
	}
	return n, size
}

func isChunk(cname, name string) bool {
	rest, ok := strings.CutPrefix(cname, name+".")
	if !ok || rest == "" {
		return false
	}
	_, err := strconv.Atoi(rest)
	return err == nil
}

// render shows cart; full, when not nil, is why the last item was refused.
func (a *app) render(w http.ResponseWriter, r *http.Request, cart []item, full *sealed.TooLargeError) {
	d := pageData{
		Full:          full,
		BudgetName:    a.budgetName,
		Budget:        a.budget,
		SetCookieRoom: a.budget.MaxResponseBytes - a.budget.ReservedResponseBytes,
	}
	if full != nil {
		d.Over = max(full.Bytes-full.Limit, full.ResponseBytes-full.ResponseLimit)
	}
	d.Cookies, d.Bytes = sessionCookies(r, a.cookieName)
	for _, it := range cart {
		d.Items = append(d.Items, line{Qty: it.Qty, Name: catalogue[it.SKU], Note: it.Note})
	}
	for sku, name := range catalogue {
		d.Catalogue = append(d.Catalogue, product{sku, name})
	}
	sort.Slice(d.Catalogue, func(i, j int) bool { return d.Catalogue[i].SKU < d.Catalogue[j].SKU })
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if full != nil {
		w.WriteHeader(http.StatusConflict)
	}
	if err := page.Execute(w, d); err != nil {
		a.logger.Error("render", "err", err)
	}
}

// cart reads the cart; a value that does not decode is treated as empty.
func cart(s *sealed.Session) []item {
	c, _, err := sealed.Get[[]item](s, "cart")
	if err != nil {
		return nil
	}
	return c
}

func (a *app) home(w http.ResponseWriter, r *http.Request) {
	s, err := a.m.Session(r)
	if err != nil {
		return // the middleware answers
	}
	a.render(w, r, cart(s), nil)
}

func (a *app) add(w http.ResponseWriter, r *http.Request) {
	sku := r.PostFormValue("sku")
	note := strings.TrimSpace(r.PostFormValue("note"))
	if _, ok := catalogue[sku]; !ok {
		http.Error(w, "unknown product", http.StatusBadRequest)
		return
	}
	if !utf8.ValidString(note) || utf8.RuneCountInString(note) > maxNote {
		http.Error(w, "gift message: at most 500 characters", http.StatusBadRequest)
		return
	}
	s, err := a.m.Session(r)
	if err != nil {
		return
	}
	old := cart(s)
	next := slices.Clone(old)
	if i := slices.IndexFunc(next, func(it item) bool { return it.SKU == sku && it.Note == note }); i >= 0 {
		next[i].Qty++
	} else {
		next = append(next, item{SKU: sku, Qty: 1, Note: note})
	}
	if err := s.Set("cart", next); err != nil {
		demo.Fail(w, a.logger, "set cart", err)
		return
	}

	// Save now, before any byte of the response: this is the one point at
	// which a session over budget can still be handled. Commit returns the
	// error instead of handing it to the middleware's error handler.
	err = a.m.Commit(r)
	var tooLarge *sealed.TooLargeError
	switch {
	case err == nil:
		http.Redirect(w, r, "/", http.StatusSeeOther)
	case errors.As(err, &tooLarge):
		// Nothing was written. Put the previous cart back (the session
		// stays open for changes after a failed Commit) and say so, with
		// the numbers the error carries. The message goes in the page, not
		// in a flash: a flash would make the session bigger still.
		if err := s.Set("cart", old); err != nil {
			demo.Fail(w, a.logger, "restore cart", err)
			return
		}
		a.render(w, r, old, tooLarge)
	default:
		// Anything else (ErrUnavailable with a revocation list): return
		// without writing, and the middleware's error handler answers and
		// logs it, leaving the client's cookies as they were.
	}
}

// remove takes a line out of the cart. The session shrinks, and the
// middleware expires the chunks the client no longer needs.
func (a *app) remove(w http.ResponseWriter, r *http.Request) {
	i, err := strconv.Atoi(r.PostFormValue("line"))
	if err != nil || i < 0 {
		http.Error(w, "line: a line number", http.StatusBadRequest)
		return
	}
	s, err := a.m.Session(r)
	if err != nil {
		return
	}
	// A line that is gone already (a second click, another tab) is no
	// error: the cart is as asked.
	if c := cart(s); i < len(c) {
		if err := s.Set("cart", slices.Delete(c, i, i+1)); err != nil {
			demo.Fail(w, a.logger, "set cart", err)
			return
		}
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (a *app) clear(w http.ResponseWriter, r *http.Request) {
	s, err := a.m.Session(r)
	if err != nil {
		return
	}
	// The session shrinks to one cookie; the middleware expires the
	// chunks the client no longer needs.
	if _, _, err := sealed.Remove[[]item](s, "cart"); err != nil {
		a.logger.Warn("cart did not decode; removed anyway", "err", err)
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}
