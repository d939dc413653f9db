package sealed_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/sealedgo/sealed"
)

// devKeys returns a keyring with one fresh key. Real applications load
// their keys (ParseKeyring, from a file or the environment) so that
// sessions survive a restart and every server shares them.
func devKeys() *sealed.Keyring {
	keys, err := sealed.NewKeyring(sealed.GenerateKey("example"))
	if err != nil {
		panic(err)
	}
	return keys
}

func ExampleNew() {
	keys := devKeys()

	// nil options: secure defaults (Secure, HttpOnly, SameSite=Lax, the
	// __Host- prefix, 24h idle and 7 days absolute timeouts).
	m, err := sealed.New(keys, nil)
	if err != nil {
		panic(err)
	}

	// Local development over plain http: no Secure, so no __Host- prefix.
	dev, err := sealed.New(keys, &sealed.Options{AllowInsecure: true})
	if err != nil {
		panic(err)
	}

	// The cookie each writes for a session, without its value.
	for _, m := range []*sealed.Manager{m, dev} {
		s, _ := m.Load(context.Background())
		s.Set("visits", 1)
		lines, _ := m.Save(context.Background(), s)
		name, _, _ := strings.Cut(lines[0], "=")
		_, attrs, _ := strings.Cut(lines[0], ";")
		fmt.Printf("%s:%s\n", name, attrs)
	}

	// Misconfiguration is an error that names the field.
	_, err = sealed.New(keys, &sealed.Options{RenewFraction: 2})
	fmt.Println(err)
	// Output:
	// __Host-session: Path=/; Max-Age=86400; HttpOnly; Secure; SameSite=Lax
	// session: Path=/; Max-Age=86400; HttpOnly; SameSite=Lax
	// sealed: Options.RenewFraction is 2, want a value in (0, 1]
}

func ExampleManager_Middleware() {
	m, err := sealed.New(devKeys(), nil)
	if err != nil {
		panic(err)
	}
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := m.Session(r)
		if err != nil {
			return // the middleware has answered (503)
		}
		n, _, _ := sealed.Get[int](s, "visits")
		n++
		if err := s.Set("visits", n); err != nil {
			http.Error(w, "session", http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "visit %d", n)
	})
	h := m.Middleware(app)

	// Three requests from one browser, each sending back the cookies the
	// previous response set.
	var cookies []*http.Cookie
	for range 3 {
		req := httptest.NewRequest("GET", "https://example.com/", nil)
		for _, c := range cookies {
			req.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		resp := rec.Result()
		body, _ := io.ReadAll(resp.Body)
		if set := resp.Cookies(); len(set) > 0 {
			cookies = set
		}
		fmt.Printf("%s (%d cookie set)\n", body, len(resp.Cookies()))
	}
	// Output:
	// visit 1 (1 cookie set)
	// visit 2 (1 cookie set)
	// visit 3 (1 cookie set)
}

func ExampleGet() {
	m, err := sealed.New(devKeys(), nil)
	if err != nil {
		panic(err)
	}
	s, err := m.Load(context.Background()) // no cookie: a new, empty session
	if err != nil {
		panic(err)
	}
	type prefs struct {
		Theme string
		Langs []string
	}
	if err := s.Set("prefs", prefs{Theme: "dark", Langs: []string{"en", "fr"}}); err != nil {
		panic(err)
	}

	p, ok, err := sealed.Get[prefs](s, "prefs")
	fmt.Println(p.Theme, p.Langs, ok, err)

	// A missing key is not an error.
	_, ok, err = sealed.Get[int](s, "visits")
	fmt.Println(ok, err)

	// A value that does not decode as the type asked for is.
	_, ok, err = sealed.Get[int](s, "prefs")
	fmt.Println(ok, err != nil)
	// Output:
	// dark [en fr] true <nil>
	// false <nil>
	// true true
}

func ExampleSession_CycleID() {
	ctx := context.Background()
	m, err := sealed.New(devKeys(), &sealed.Options{
		// With a revocation list, the ID that CycleID replaces is revoked.
		Revocation: sealed.NewMemoryRevocationList(),
	})
	if err != nil {
		panic(err)
	}

	// An anonymous visit starts a session.
	s, _ := m.Load(ctx)
	s.Set("cart", []string{"tea"})
	beforeLogin, _ := m.Save(ctx, s)

	// At login, the same session gets a new ID: an ID planted or seen
	// before login (session fixation) is worthless after it.
	s, _ = m.Load(ctx, cookiePairs(beforeLogin)...)
	oldID := s.ID()
	s.CycleID()
	s.SetSubject("user-42")
	afterLogin, _ := m.Save(ctx, s)
	fmt.Println("ID changed:", s.ID() != oldID)

	// The state came along.
	s, _ = m.Load(ctx, cookiePairs(afterLogin)...)
	cart, _, _ := sealed.Get[[]string](s, "cart")
	fmt.Println("logged in as", s.Subject(), "with cart", cart)

	// The pre-login cookie no longer opens a session.
	s, _ = m.Load(ctx, cookiePairs(beforeLogin)...)
	fmt.Println("pre-login cookie gives a new session:", s.IsNew())
	// Output:
	// ID changed: true
	// logged in as user-42 with cart [tea]
	// pre-login cookie gives a new session: true
}

// Without net/http, as in an AWS Lambda handler behind an API Gateway HTTP
// API: the event's Cookies go to Load, and Save gives the response's
// Cookies.
func ExampleManager_Save() {
	ctx := context.Background()
	m, err := sealed.New(devKeys(), &sealed.Options{Budget: sealed.BudgetAPIGatewayHTTP()})
	if err != nil {
		panic(err)
	}
	handle := func(requestCookies []string) (responseCookies []string) {
		s, err := m.Load(ctx, requestCookies...)
		if err != nil {
			panic(err) // only ErrUnavailable, with a revocation list
		}
		n, _, _ := sealed.Get[int](s, "visits")
		s.Set("visits", n+1)
		fmt.Println("visits:", n+1)
		lines, err := m.Save(ctx, s)
		if err != nil {
			panic(err) // ErrTooLarge: nothing to send, the client keeps its cookies
		}
		return lines
	}

	lines := handle([]string{"theme=dark"}) // other cookies are ignored
	for _, l := range lines {
		name, _, _ := strings.Cut(l, "=")
		_, attrs, _ := strings.Cut(l, ";")
		fmt.Printf("%s:%s\n", name, attrs)
	}
	handle(append([]string{"theme=dark"}, cookiePairs(lines)...))
	// Output:
	// visits: 1
	// __Host-session: Path=/; Max-Age=86400; HttpOnly; Secure; SameSite=Lax
	// visits: 2
}

func ExampleParseKeyring() {
	// A JWK Set as "sealed keygen" writes it, with two keys: the first
	// seals, both open. A server reads it from a file or the environment;
	// these secrets are examples: never put real keys in source code.
	const jwks = `{
	  "keys": [
	    {"kty": "oct", "kid": "2026-11-green", "k": "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA"},
	    {"kty": "oct", "kid": "2026-05-blue", "k": "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8"}
	  ]
	}`
	keys, err := sealed.ParseKeyring([]byte(jwks))
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	m, err := sealed.New(keys, nil)
	if err != nil {
		panic(err)
	}
	s, _ := m.Load(ctx)
	s.Set("user", "ada")
	lines, _ := m.Save(ctx, s)

	// The first key sealed it: a server that has only that key opens it.
	green, err := sealed.ParseKeyring([]byte(`{"keys":[{"kty":"oct","kid":"2026-11-green","k":"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA"}]}`))
	if err != nil {
		panic(err)
	}
	mg, err := sealed.New(green, nil)
	if err != nil {
		panic(err)
	}
	s, _ = mg.Load(ctx, cookiePairs(lines)...)
	user, _, _ := sealed.Get[string](s, "user")
	fmt.Println("opened with the first key alone:", user)

	// A key of the wrong size is refused, naming it.
	_, err = sealed.ParseKeyring([]byte(`{"keys":[{"kty":"oct","kid":"short","k":"AQID"}]}`))
	fmt.Println(err)
	// Output:
	// opened with the first key alone: ada
	// sealed: keyring: key "short": secret is 3 bytes, want 32
}

func ExampleNewRotatingKeyring() {
	ctx := context.Background()
	oldKey, newKey := sealed.GenerateKey("old"), sealed.GenerateKey("new")
	ring := func(keys ...sealed.Key) *sealed.Keyring {
		r, err := sealed.NewKeyring(keys...)
		if err != nil {
			panic(err)
		}
		return r
	}

	keys, err := sealed.NewRotatingKeyring(ring(oldKey))
	if err != nil {
		panic(err)
	}
	m, err := sealed.New(keys, nil)
	if err != nil {
		panic(err)
	}

	// A session sealed under the old key.
	s, _ := m.Load(ctx)
	s.Set("user", "ada")
	sealedOld, _ := m.Save(ctx, s)

	// Promote a new key, keeping the old one to open existing cookies.
	// (In a server: ParseKeyring of the new key file, then Swap, on
	// SIGHUP or a file change.)
	keys.Swap(ring(newKey, oldKey))
	s, _ = m.Load(ctx, cookiePairs(sealedOld)...)
	user, _, _ := sealed.Get[string](s, "user")
	resealed, _ := m.Save(ctx, s) // nothing changed, but the key did
	fmt.Println("old cookie opens:", user, "- re-sealed:", len(resealed) > 0)

	// Retire the old key: the re-sealed cookie still opens.
	keys.Swap(ring(newKey))
	s, _ = m.Load(ctx, cookiePairs(resealed)...)
	user, _, _ = sealed.Get[string](s, "user")
	fmt.Println("re-sealed cookie opens:", user)
	// Output:
	// old cookie opens: ada - re-sealed: true
	// re-sealed cookie opens: ada
}
