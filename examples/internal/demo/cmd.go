package demo

import (
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
)

// Check ends the program when err is not nil: with status 0 when err is
// flag.ErrHelp (the flag package has printed the usage), and otherwise
// with status code after printing "prog: err" on stderr.
func Check(prog string, code int, err error) {
	if err == nil {
		return
	}
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	fmt.Fprintln(os.Stderr, prog+":", err)
	os.Exit(code)
}

// ParseFlags registers -cookies on fs (see [CookiesFlag]), parses args
// with fs and refuses positional arguments. It returns the -cookies
// setting.
func ParseFlags(fs *flag.FlagSet, args []string, getenv func(string) string) (Cookies, error) {
	cookies, err := CookiesFlag(fs, getenv)
	if err != nil {
		return 0, err
	}
	if err := fs.Parse(args); err != nil {
		return 0, err
	}
	if fs.NArg() > 0 {
		return 0, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	return *cookies, nil
}

// Handler serves routes (a ServeMux pattern for each handler) through
// session, the example's session middleware (m.Middleware), behind
// http.CrossOriginProtection, which refuses state-changing requests that a
// browser marks as cross-origin.
func Handler(session func(http.Handler) http.Handler, routes map[string]http.HandlerFunc) http.Handler {
	mux := http.NewServeMux()
	for pattern, h := range routes {
		mux.HandleFunc(pattern, h)
	}
	return http.NewCrossOriginProtection().Handler(session(mux))
}
