// Command revocation shows "log out everywhere" across devices and
// servers, with the revocation list kept in Redis
// (github.com/sealedgo/sealed/redisrevoke). Log in as the same name from
// two browsers (two devices); "log out everywhere" on one ends the session
// on the other at its next request, whichever server it reaches.
//
// Start a Redis, then the server, from the repository root:
//
//	redis-server --port 6379 --save '' &
//	go -C examples run ./revocation
//
// and open http://127.0.0.1:8083 in two browsers (or a normal and a
// private window). To see two servers share the list, give both the same
// keys and Redis:
//
//	export SEALED_KEYS="$(go run ./cmd/sealed keygen)"
//	go -C examples run ./revocation -addr 127.0.0.1:8083 &
//	go -C examples run ./revocation -addr 127.0.0.1:8084 &
//
// Flags and environment:
//
//	-addr HOST:PORT   where to listen (default 127.0.0.1:8083)
//	-redis ADDR       the Redis server (default 127.0.0.1:6379)
//	-cookies MODE     secure, insecure or auto (default: $SEALED_COOKIES,
//	                  else auto); see below
//	SEALED_KEYS       a JWK Set (sealed keygen); without it a development
//	                  key is generated, which one server alone can use.
//
// The example serves plain http. With -cookies auto it sets
// Options.AllowInsecure (a cookie "session" without Secure) only when it
// listens on a loopback address, for a browser on the same machine; on
// any other address, and always with -cookies secure (e.g. behind a
// TLS-terminating proxy on loopback), it uses sealed's production
// defaults: "__Host-session" with Secure, sent over https only.
//
// Every request that carries a session asks Redis once. If Redis cannot be
// asked, such requests fail closed with 503 (Options.RevocationFailOpen
// would let them through instead), and logins and logouts are refused:
// nothing is written that the list cannot back.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sealedgo/sealed"
	"github.com/sealedgo/sealed/examples/internal/demo"
	"github.com/sealedgo/sealed/redisrevoke"
)

// keysEnv names the environment variable that may hold the keys.
const keysEnv = "SEALED_KEYS"

// prefix keeps this example's entries apart from other users of the Redis.
const prefix = "sealed-example:revoked:"

// config is what main gathers from flags and the environment.
type config struct {
	Addr  string
	Redis string
	// Insecure sets Options.AllowInsecure: cookies for plain http.
	Insecure bool
	// Keys seals the sessions. Nil means: generate a development key.
	Keys   *sealed.Keyring
	Logger *slog.Logger
}

func main() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	cfg := config{Logger: logger}
	flag.StringVar(&cfg.Addr, "addr", "127.0.0.1:8083", "`HOST:PORT` to listen on")
	flag.StringVar(&cfg.Redis, "redis", "127.0.0.1:6379", "Redis server `ADDR`")
	cookies, err := demo.CookiesFlag(flag.CommandLine, os.Getenv)
	demo.Check("revocation", 2, err)
	flag.Parse()
	cfg.Insecure = cookies.Insecure(cfg.Addr)
	if v := os.Getenv(keysEnv); v != "" {
		k, err := sealed.ParseKeyring([]byte(v))
		if err != nil {
			fmt.Fprintf(os.Stderr, "revocation: %s: %v\n", keysEnv, err)
			os.Exit(2)
		}
		cfg.Keys = k
	}

	client := newRedisClient(cfg.Redis)
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	err = client.Ping(ctx).Err()
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "revocation: cannot reach Redis at %s (start one with: redis-server --port 6379 --save ''): %v\n", cfg.Redis, err)
		os.Exit(1)
	}

	h, err := newServer(cfg, client)
	demo.Check("revocation", 1, err)
	fmt.Printf("revocation example listening on http://%s (Redis at %s; %s)\n", cfg.Addr, cfg.Redis, demo.Describe(cfg.Insecure))
	srv := &http.Server{Addr: cfg.Addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	demo.Check("revocation", 1, srv.ListenAndServe())
}

// newRedisClient returns a client for addr. ContextTimeoutEnabled makes
// go-redis honour the Manager's RevocationTimeout, passed as a context
// deadline, so a hung Redis holds a request for that long at most.
func newRedisClient(addr string) *redis.Client {
	return redis.NewClient(&redis.Options{
		Addr:                  addr,
		ContextTimeoutEnabled: true,
		DialTimeout:           time.Second,
	})
}

type app struct {
	m      *sealed.Manager
	logger *slog.Logger
}

// newServer builds the handler on client, without listening. Servers
// that share keys and a Redis share their sessions and revocations.
func newServer(cfg config, client redis.UniversalClient) (http.Handler, error) {
	logger := demo.Logger(cfg.Logger)
	keys := cfg.Keys
	if keys == nil {
		var err error
		if keys, err = sealed.NewKeyring(sealed.GenerateKey("dev")); err != nil {
			return nil, err
		}
		logger.Warn("using a generated development key: sessions will not survive a restart, nor be shared with another server; set " + keysEnv + " to a JWK Set (sealed keygen)")
	}
	m, err := sealed.New(keys, &sealed.Options{
		// True only for plain http in local development (-cookies).
		AllowInsecure: cfg.Insecure,
		Revocation:    redisrevoke.New(client, &redisrevoke.Options{Prefix: prefix}),
		// Fail closed (the default): when Redis cannot be asked, a request
		// with a session gets 503 rather than a session that may have been
		// ended.
		RevocationTimeout: 500 * time.Millisecond,
		Logger:            logger,
	})
	if err != nil {
		return nil, err
	}
	a := &app{m: m, logger: logger}
	// SameSite=Lax cookies (the default) plus an Origin / Sec-Fetch-Site
	// check on POSTs: no other site can log a user out or in (CSRF).
	return demo.Handler(m.Middleware, map[string]http.HandlerFunc{
		"GET /{$}":                a.home,
		"POST /login":             a.login,
		"POST /logout":            a.logout,
		"POST /logout-everywhere": a.logoutEverywhere,
	}), nil
}

var page = demo.Page("log out everywhere", `<h1>Log out everywhere</h1>
{{range .Flashes}}<p><strong>{{.}}</strong></p>
{{end}}{{if .User}}<p>Logged in as <span id="user">{{.User}}</span>.</p>
<form method="post" action="/logout"><button>Log out this device</button></form>
<form method="post" action="/logout-everywhere"><button>Log out everywhere</button></form>
{{else}}<p>Not logged in.</p>
{{template "login"}}
{{end}}`)

func (a *app) home(w http.ResponseWriter, r *http.Request) {
	s, err := a.m.Session(r)
	if err != nil {
		return // ErrUnavailable: the middleware answers 503
	}
	user, _, _ := sealed.Get[string](s, "user")
	flashes, err := s.Flashes()
	if err != nil {
		demo.Fail(w, a.logger, "read flashes", err)
		return
	}
	data := struct {
		User    string
		Flashes []string
	}{user, flashes}
	demo.Render(w, a.logger, page, data)
}

func (a *app) login(w http.ResponseWriter, r *http.Request) {
	name, ok := demo.LoginName(w, r)
	if !ok {
		return
	}
	s, err := a.m.Session(r)
	if err != nil {
		return
	}
	// A new ID at login, so that an ID known before it is worthless, and
	// the subject that RevokeSubject ends. A login without either is
	// refused.
	if err := errors.Join(s.CycleID(), s.SetSubject(name)); err != nil {
		demo.Fail(w, a.logger, "login", err)
		return
	}
	demo.Done(w, r, a.logger, "set user", s.Set("user", name))
}

func (a *app) logout(w http.ResponseWriter, r *http.Request) {
	s, err := a.m.Session(r)
	if err != nil {
		return
	}
	// This session's ID goes on the list in Redis when the response starts.
	demo.Done(w, r, a.logger, "logout", errors.Join(s.Invalidate(), s.AddFlash("logged out on this device")))
}

func (a *app) logoutEverywhere(w http.ResponseWriter, r *http.Request) {
	s, err := a.m.Session(r)
	if err != nil {
		return
	}
	subject := s.Subject()
	if subject == "" {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	// One entry in Redis ends every session of this subject created so
	// far, on every device and every server that shares the list.
	if err := a.m.RevokeSubject(r.Context(), subject); err != nil {
		a.logger.Error("log out everywhere", "err", err)
		code := http.StatusInternalServerError
		if errors.Is(err, sealed.ErrUnavailable) {
			code = http.StatusServiceUnavailable
		}
		http.Error(w, "could not log out everywhere; try again", code)
		return
	}
	demo.Done(w, r, a.logger, "log out everywhere", errors.Join(s.Invalidate(), s.AddFlash("logged out everywhere")))
}
