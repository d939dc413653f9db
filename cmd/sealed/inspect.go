package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/sealedgo/sealed/internal/cookie"
	"github.com/sealedgo/sealed/internal/defaults"
	"github.com/sealedgo/sealed/internal/envelope"
	"github.com/sealedgo/sealed/internal/inspect"
	"github.com/sealedgo/sealed/internal/jwk"
)

// keysEnv names the environment variable that may hold the JWK Set for
// inspect instead of --keys.
const keysEnv = "SEALED_KEYS"

// maxInput bounds what inspect reads from stdin: far more than any session
// (32 chunks of at most 4 KiB) needs.
const maxInput = 1 << 20

const notOpen = "the cookie does not open with these keys (wrong keys, cookie name, or a damaged value)"

type inspectOpts struct {
	keys     string
	name     string
	insecure bool
}

func inspectFlags(fs *flag.FlagSet, o *inspectOpts) {
	fs.StringVar(&o.keys, "keys", "", "read the JWK Set from `FILE` (default: the "+keysEnv+" environment variable, holding the JSON itself)")
	fs.StringVar(&o.name, "name", "", "session cookie `NAME`, as in Options.CookieName (default \"__Host-session\", or \"session\" with --insecure)")
	fs.BoolVar(&o.insecure, "insecure", false, "the application sets Options.AllowInsecure (needed for names that a __Host- or __Secure- prefix would reject without it)")
}

const inspectHead = `Usage: sealed inspect [--keys FILE] [--name NAME] [--insecure] < COOKIE

Opens a session cookie and prints what it holds as JSON: id, subject,
creation and issue times, idle and absolute deadlines, whether it has
expired, the id of the key that sealed it (and whether that key is the
primary), the number of chunks, values and flashes. Expiry and revocation
are reported, not enforced.

The cookie is read from stdin, never from the command line, because it is a
credential and arguments are visible to other users. Give either
  - the bare value of the session cookie (a session of one chunk), or
  - a Cookie header, with or without the leading "Cookie: ", such as
    "__Host-session=3.AbC...; __Host-session.1=...; other=x", which is
    needed for a session spread over several chunks. Several lines (several
    Cookie or Set-Cookie headers) are read together.
Input containing "=" is taken as a header.

The keys come from --keys FILE or from the environment variable
` + keysEnv + ` holding the JWK Set itself. The cookie name must be the
application's: it is bound into every sealed value. Secrets are never
printed.

Exit status is 1 when the cookie does not open with these keys.
`

const inspectTail = `Examples:

	sealed inspect --keys keys.json < cookie.txt
	pbpaste | sealed inspect --keys keys.json
	SEALED_KEYS="$(cat keys.json)" sealed inspect --name session --insecure < header.txt
`

func (c *cli) inspect(o *inspectOpts, fs *flag.FlagSet, pos []string) int {
	if len(pos) > 0 {
		return c.usageError("inspect: unexpected argument; the cookie is read from stdin, never from the command line (see 'sealed inspect --help')")
	}
	if isSet(fs, "keys") && o.keys == "" {
		return c.usageError("inspect: --keys must name a file")
	}
	if isSet(fs, "name") && o.name == "" {
		return c.usageError("inspect: --name must not be empty")
	}
	name := o.name
	if name == "" {
		name = defaults.CookieName(!o.insecure, "/", "")
	}

	var keys []jwk.Key
	switch env := c.env(keysEnv); {
	case o.keys != "":
		data, err := os.ReadFile(o.keys)
		if err != nil {
			return c.fail("inspect: %v", err)
		}
		if keys, err = jwk.Parse(data); err != nil {
			return c.fail("inspect: %s: %s", o.keys, msg(err))
		}
	case env != "":
		var err error
		if keys, err = jwk.Parse([]byte(env)); err != nil {
			return c.fail("inspect: %s: %s", keysEnv, msg(err))
		}
	default:
		return c.usageError("inspect: no keys: give --keys FILE or set %s to the JWK Set", keysEnv)
	}
	cfg, err := inspectConfig(keys, name, o.insecure)
	if err != nil {
		return c.usageError("inspect: %s", msg(err))
	}

	if f, ok := c.stdin.(*os.File); ok {
		if isTerminal(f) {
			fmt.Fprintln(c.stderr, "sealed: reading the cookie from the terminal; end with Ctrl-D (see 'sealed inspect --help')")
		}
	}
	headers, err := readCookie(c.stdin, name)
	if err != nil {
		return c.fail("inspect: reading stdin: %v", err)
	}
	if len(headers) == 0 {
		return c.usageError("inspect: nothing on stdin; pipe in the cookie value or the Cookie header")
	}

	in, err := inspect.Inspect(cfg, headers...)
	if errors.Is(err, inspect.ErrInvalid) {
		return c.fail("%s", notOpen)
	}
	if err != nil {
		return c.fail("inspect: %s", msg(err))
	}
	out, err := json.MarshalIndent(in, "", "  ")
	if err != nil {
		return c.fail("inspect: cannot print the session as JSON: %v", err)
	}
	c.stdout.Write(append(out, '\n'))
	return exitOK
}

// inspectConfig opens cookies as a Manager made by sealed.New with this
// CookieName and AllowInsecure and every other Option at its default
// would (the same cookie attributes, purpose and timeouts), under any
// budget.
func inspectConfig(keys []jwk.Key, name string, insecure bool) (inspect.Config, error) {
	ring, err := jwk.Ring(keys)
	if err != nil {
		return inspect.Config{}, err
	}
	jar, err := cookie.New(cookie.Config{
		Name: name, Path: "/", Secure: !insecure, SameSite: http.SameSiteLaxMode,
		// Read-only: any budget's session opens (the response side of a
		// budget bounds only saves).
		Budget:     cookie.Budget{MaxBytes: 1 << 20, MaxChunks: cookie.MaxChunks, MaxLineBytes: cookie.MaxLine},
		MaxAge:     int(defaults.MaxLifetime / time.Second),
		MaxDecoded: envelope.MaxSize,
	})
	if err != nil {
		return inspect.Config{}, err
	}
	bind, err := envelope.Bind(name, defaults.Purpose)
	if err != nil {
		return inspect.Config{}, err
	}
	return inspect.Config{
		Ring: ring, Jar: jar, Bind: bind,
		Idle: defaults.IdleTimeout, Absolute: defaults.AbsoluteTimeout, Now: time.Now(),
	}, nil
}

// readCookie reads stdin and returns the Cookie header lines for
// inspect.Inspect. Input without "=" is the bare value of the session
// cookie's first chunk. Otherwise every line is a header: a leading
// "Cookie:" or "Set-Cookie:" is dropped (a Set-Cookie line's attributes
// are ignored, since their names are not the cookie's).
func readCookie(r io.Reader, name string) ([]string, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxInput+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxInput {
		return nil, fmt.Errorf("more than %d bytes", maxInput)
	}
	text := strings.TrimSpace(string(data))
	if text == "" {
		return nil, nil
	}
	if !strings.Contains(text, "=") {
		return []string{name + "=" + text}, nil
	}
	var headers []string
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 0, 64*1024), maxInput+1)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		for _, p := range []string{"cookie:", "set-cookie:"} {
			if len(line) >= len(p) && strings.EqualFold(line[:len(p)], p) {
				line = strings.TrimSpace(line[len(p):])
			}
		}
		if line != "" {
			headers = append(headers, line)
		}
	}
	return headers, sc.Err()
}

// isTerminal reports whether f looks like a terminal: a character device
// other than the null device.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	if err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	null, err := os.Stat(os.DevNull)
	return err != nil || !os.SameFile(st, null)
}
