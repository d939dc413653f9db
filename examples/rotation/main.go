// Command rotation shows key rotation that logs nobody out. The server
// reads its session keys from a JWK Set file, holds them in a
// sealed.RotatingKeyring, and loads the file again on SIGHUP and whenever
// its modification time changes (checked every few seconds). A reload that
// fails (a missing, half-written or invalid file) keeps the keys in force
// and logs an error.
//
// Try it, from the repository root (cmd/sealed is the keys CLI):
//
//	(umask 077 && go run ./cmd/sealed keygen > /tmp/keys.json)
//	go -C examples run ./rotation -keys /tmp/keys.json
//
// and in another terminal:
//
//	curl -c /tmp/jar -b /tmp/jar http://127.0.0.1:8081/
//	go run ./cmd/sealed rotate /tmp/keys.json    # a new primary key
//	curl -i -c /tmp/jar -b /tmp/jar http://127.0.0.1:8081/peek
//
// Within a few seconds of the rotation the server logs "keys reloaded".
// The last request still opens the session sealed under the old key, and
// its response (a Set-Cookie on a request that changed nothing) seals it
// again under the new primary. Flags: -addr (default 127.0.0.1:8081),
// -keys FILE (required), -poll (default 3s), -cookies MODE.
//
// The example serves plain http. -cookies (default: the environment
// variable SEALED_COOKIES, else auto) picks the cookie settings: auto sets
// Options.AllowInsecure (a cookie "session" without Secure) only when the
// example listens on a loopback address, as above; on any other address,
// and always with -cookies secure (e.g. behind a TLS-terminating proxy on
// loopback), it uses sealed's production defaults: "__Host-session" with
// Secure, which clients send over https only. -cookies insecure forces
// plain-http cookies.
//
// # Runbook: rotating without logging anyone out
//
// RUNBOOK.md in this directory has the details. In short, with N instances
// that each read the key file:
//
//  1. Pre-announce: put the new key SECOND (after the current primary) in
//     every instance's file and let every instance reload. All can now
//     open what the new key will seal; all still seal with the old one.
//  2. Promote: make the new key FIRST everywhere and reload. Instances
//     seal with it; cookies sealed under the old key still open, and are
//     re-sealed under the new primary as their users come back.
//  3. Retire: once the AbsoluteTimeout (7 days by default) has passed since
//     the promotion, every session sealed under the old key has expired;
//     drop the old key ("sealed rotate --max-age" or "--keep" in the next
//     rotation, or by hand) and reload.
//
// "sealed rotate FILE" (cmd/sealed) does the promote step in one atomic
// write, keeping the old key second. With one instance, that single step
// is all there is. With several, skipping step 1 leaves a window (up to one
// poll interval) in which an instance that has not reloaded yet cannot
// open a cookie sealed by one that has, and that user starts over.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sealedgo/sealed"
	"github.com/sealedgo/sealed/examples/internal/demo"
)

// config is what main gathers from the flags.
type config struct {
	Addr     string
	KeysFile string
	// Insecure sets Options.AllowInsecure: cookies for plain http.
	Insecure bool
	Poll     time.Duration
	Logger   *slog.Logger
}

func main() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	fset := flag.NewFlagSet("rotation", flag.ExitOnError)
	cfg := config{Logger: logger}
	fset.StringVar(&cfg.Addr, "addr", "127.0.0.1:8081", "`HOST:PORT` to listen on")
	fset.StringVar(&cfg.KeysFile, "keys", "", "JWK Set `FILE` holding the session keys, primary first (required; make one with \"sealed keygen\")")
	fset.DurationVar(&cfg.Poll, "poll", 3*time.Second, "how often to check the key file for changes")
	cookies, err := demo.CookiesFlag(fset, os.Getenv)
	demo.Check("rotation", 2, err)
	fset.Parse(os.Args[1:])
	cfg.Insecure = cookies.Insecure(cfg.Addr)
	if cfg.KeysFile == "" {
		fmt.Fprintln(os.Stderr, "rotation: -keys FILE is required (make one with: sealed keygen > keys.json)")
		os.Exit(2)
	}

	s, err := newServer(cfg)
	demo.Check("rotation", 1, err)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	ticker := time.NewTicker(cfg.Poll)
	defer ticker.Stop()
	go s.watch(ctx, hup, ticker.C)

	srv := &http.Server{Addr: cfg.Addr, Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Shutdown(context.Background())
	}()
	fmt.Printf("rotation example listening on http://%s (keys from %s; send SIGHUP or change the file to reload; %s)\n", cfg.Addr, cfg.KeysFile, demo.Describe(cfg.Insecure))
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, "rotation:", err)
		os.Exit(1)
	}
}

// server serves the pages and owns the rotating keyring.
type server struct {
	keys   *sealed.RotatingKeyring
	ids    atomic.Pointer[[]string] // the key ids in force, primary first
	m      *sealed.Manager
	file   string
	logger *slog.Logger
	h      http.Handler

	mu    sync.Mutex // serialises reloads
	stamp fileStamp  // the key file as last read
}

// fileStamp identifies a version of the key file cheaply.
type fileStamp struct {
	mod  time.Time
	size int64
}

func stampOf(fi fs.FileInfo) fileStamp { return fileStamp{mod: fi.ModTime(), size: fi.Size()} }

// newServer reads the key file and builds the handler, without listening.
// An unreadable or invalid key file at startup is an error: there are no
// old keys to fall back on.
func newServer(cfg config) (*server, error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	fi, err := os.Stat(cfg.KeysFile)
	if err != nil {
		return nil, err
	}
	ring, ids, err := readKeys(cfg.KeysFile)
	if err != nil {
		return nil, err
	}
	keys, err := sealed.NewRotatingKeyring(ring)
	if err != nil {
		return nil, err
	}
	m, err := sealed.New(keys, &sealed.Options{
		// True only for plain http in local development (-cookies).
		AllowInsecure: cfg.Insecure,
		Logger:        logger,
	})
	if err != nil {
		return nil, err
	}
	s := &server{keys: keys, m: m, file: cfg.KeysFile, logger: logger, stamp: stampOf(fi)}
	s.ids.Store(&ids)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.count)
	mux.HandleFunc("GET /peek", s.peek)
	s.h = m.Middleware(mux)
	// Key ids are public (each sealed cookie names its key's id); the
	// secrets are never logged.
	logger.Info("keys loaded", "file", cfg.KeysFile, "key_ids", ids)
	return s, nil
}

// readKeys reads the JWK Set in file as a keyring, with its key ids in
// order for the logs and pages.
func readKeys(file string) (*sealed.Keyring, []string, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, nil, err
	}
	ring, err := sealed.ParseKeyring(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%w (file %s)", err, file)
	}
	// ParseKeyring has checked the set; only the kids are read again.
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, nil, err
	}
	ids := make([]string, len(set.Keys))
	for i, k := range set.Keys {
		ids[i] = k.Kid
	}
	return ring, ids, nil
}

// primary is the id of the key that seals.
func (s *server) primary() string { return (*s.ids.Load())[0] }

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.h.ServeHTTP(w, r) }

// reload reads the key file and puts it in force. On error the keys in
// force stay as they were and the error is logged and returned.
func (s *server) reload() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reloadLocked()
}

func (s *server) reloadLocked() error {
	// Stat before reading: if the file changes while it is read, the next
	// poll sees a newer stamp and reads it again.
	if fi, err := os.Stat(s.file); err == nil {
		s.stamp = stampOf(fi)
	}
	ring, ids, err := readKeys(s.file)
	if err == nil {
		err = s.keys.Swap(ring)
	}
	if err != nil {
		s.logger.Error("key reload failed; keeping the keys in force", "file", s.file, "err", err, "key_ids", *s.ids.Load())
		return err
	}
	s.ids.Store(&ids)
	s.logger.Info("keys reloaded", "file", s.file, "key_ids", ids)
	return nil
}

// poll reloads the key file if it changed since it was last read. It
// reports whether it tried.
func (s *server) poll() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	fi, err := os.Stat(s.file)
	if err != nil {
		// Missing for now (mid-replacement, or deleted): log once and look
		// again on the next tick; when the file is back, its new stamp
		// triggers a reload.
		if s.stamp != (fileStamp{}) {
			s.logger.Error("key file unreadable; keeping the keys in force", "file", s.file, "err", err)
			s.stamp = fileStamp{}
		}
		return false
	}
	if stampOf(fi) == s.stamp {
		return false
	}
	s.reloadLocked()
	return true
}

// watch reloads on every value from hup (SIGHUP) and polls the file's
// stamp on every tick, until ctx ends.
func (s *server) watch(ctx context.Context, hup <-chan os.Signal, tick <-chan time.Time) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			s.reload()
		case <-tick:
			s.poll()
		}
	}
}

// count counts a visit: the session is written on every request.
func (s *server) count(w http.ResponseWriter, r *http.Request) {
	sess, err := s.m.Session(r)
	if err != nil {
		return // the middleware answers
	}
	n, _, _ := sealed.Get[int](sess, "visits")
	n++
	if err := sess.Set("visits", n); err != nil {
		http.Error(w, "cannot update the session", http.StatusInternalServerError)
		return
	}
	fmt.Fprintf(w, "visits: %d\nprimary key: %s\n", n, s.primary())
}

// peek only reads the session. Its response sets a cookie only when the
// session needs it: above all when the cookie was sealed under a key that
// is no longer the primary, which is how old sessions move to a new key.
func (s *server) peek(w http.ResponseWriter, r *http.Request) {
	sess, err := s.m.Session(r)
	if err != nil {
		return
	}
	n, _, _ := sealed.Get[int](sess, "visits")
	fmt.Fprintf(w, "visits: %d\nnew session: %t\nprimary key: %s\n", n, sess.IsNew(), s.primary())
}
