// Command cart is a shopping cart kept in the session, to show what happens
// as a session grows: it spreads over several cookies (chunks) within a
// Budget, and when it would exceed the budget the application is told
// (a *sealed.TooLargeError) before anything is sent, undoes the change
// and says "cart is full" and by how many bytes. The client keeps its cart
// as it was.
//
// Run it from the repository root:
//
//	go -C examples run ./cart
//
// and open http://127.0.0.1:8082. Add items with long gift messages to see
// the session go from one cookie to two, then fill up. Flags:
//
//	-addr HOST:PORT   where to listen (default 127.0.0.1:8082)
//	-budget NAME      cookie budget: nginx (default), apigw, large or default
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
	"net/http"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sealedgo/sealed"
	"github.com/sealedgo/sealed/examples/internal/demo"
)

// budgets are the presets the -budget flag can pick. "default" spells out
// what the zero Budget means, so that the page can show its limits.
var budgets = map[string]sealed.Budget{
	"nginx":   sealed.BudgetNginx(),
	"apigw":   sealed.BudgetAPIGatewayHTTP(),
	"large":   sealed.BudgetLarge(),
	"default": {MaxBytes: 6144, MaxChunks: 8, MaxLineBytes: 4096},
}

// cookieName is the session cookie's name, configured rather than left to
// the default so that the page can find the session's cookies.
const cookieName = "session"

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

// config is what main gathers from the flags.
type config struct {
	Addr       string
	BudgetName string
	Logger     *slog.Logger
}

func main() {
	cfg := config{Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))}
	flag.StringVar(&cfg.Addr, "addr", "127.0.0.1:8082", "`HOST:PORT` to listen on")
	flag.StringVar(&cfg.BudgetName, "budget", "nginx", "cookie budget: nginx, apigw, large or default")
	flag.Parse()
	h, err := newServer(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "cart:", err)
		os.Exit(2)
	}
	fmt.Printf("cart example listening on http://%s (budget %s)\n", cfg.Addr, cfg.BudgetName)
	if err := http.ListenAndServe(cfg.Addr, h); err != nil {
		fmt.Fprintln(os.Stderr, "cart:", err)
		os.Exit(1)
	}
}

type app struct {
	m          *sealed.Manager
	budget     sealed.Budget
	budgetName string
	logger     *slog.Logger
}

// newServer builds the handler without listening. It uses a fresh key on
// every start: the example is about size, not about keys.
func newServer(cfg config) (http.Handler, error) {
	logger := demo.Logger(cfg.Logger)
	name := cfg.BudgetName
	if name == "" {
		name = "nginx"
	}
	budget, ok := budgets[name]
	if !ok {
		return nil, fmt.Errorf("unknown budget %q (want nginx, apigw, large or default)", name)
	}
	keys, err := sealed.NewKeyring(sealed.GenerateKey("dev"))
	if err != nil {
		return nil, err
	}
	logger.Warn("using a generated development key: carts do not survive a restart")
	m, err := sealed.New(keys, &sealed.Options{
		AllowInsecure: true, // plain http on localhost; drop behind TLS
		CookieName:    cookieName,
		Budget:        budget,
		Logger:        logger,
	})
	if err != nil {
		return nil, err
	}
	a := &app{m: m, budget: budget, budgetName: name, logger: logger}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.home)
	mux.HandleFunc("POST /add", a.add)
	mux.HandleFunc("POST /clear", a.clear)
	// SameSite=Lax cookies plus an Origin / Sec-Fetch-Site check on POSTs
	// keep other sites from filling the cart (CSRF).
	return http.NewCrossOriginProtection().Handler(m.Middleware(mux)), nil
}

var page = template.Must(template.New("cart").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>cart</title></head>
<body>
<h1>Your cart</h1>
{{if .Full}}<p id="full"><strong>Your cart is full: it would need <span id="over">{{.Over}}</span> more bytes of cookie. The last item was not added.</strong></p>
{{end}}<p>Lines in the cart: <span id="lines">{{len .Items}}</span></p>
<ol>
{{range .Items}}<li>{{.Qty}} × {{.Name}}{{if .Note}}, gift message: <q>{{.Note}}</q>{{end}}</li>
{{end}}</ol>
<p>This session arrived in <span id="cookies">{{.Cookies}}</span> cookie(s),
<span id="bytes">{{.Bytes}}</span> bytes of the Cookie header. Budget
<code>{{.BudgetName}}</code>: at most {{.Budget.MaxBytes}} bytes in
{{.Budget.MaxChunks}} cookies, each Set-Cookie line at most
{{.Budget.MaxLineBytes}} bytes.</p>
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
	Full       bool
	Over       int // by how many Cookie-header bytes the refused cart was too large
	Items      []line
	Cookies    int
	Bytes      int
	BudgetName string
	Budget     sealed.Budget
	Catalogue  []product
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
	d := pageData{Full: full != nil, BudgetName: a.budgetName, Budget: a.budget}
	if full != nil {
		d.Over = full.Bytes - full.Limit
	}
	d.Cookies, d.Bytes = sessionCookies(r, cookieName)
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
