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
	"unicode/utf8"

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

// maxPurpose is the longest Options.Purpose, in bytes.
const maxPurpose = 255

const notOpen = "the cookie does not open with these keys (wrong keys, cookie name, or a damaged value)"

type inspectOpts struct {
	keys      string
	name      string
	purpose   string
	clockSkew time.Duration
	insecure  bool
}

func inspectFlags(fs *flag.FlagSet, o *inspectOpts) {
	fs.StringVar(&o.keys, "keys", "", "read the JWK Set from `FILE` (default: the "+keysEnv+" environment variable, holding the JSON itself)")
	fs.StringVar(&o.name, "name", "", "session cookie `NAME`, as in Options.CookieName (default \"__Host-session\", or \"session\" with --insecure)")
	fs.StringVar(&o.purpose, "purpose", defaults.Purpose, "`PURPOSE` bound into every sealed value, as in Options.Purpose (1 to 255 bytes)")
	fs.DurationVar(&o.clockSkew, "clock-skew", defaults.ClockSkew, "the application's Options.ClockSkew, for \"expired\": a session has expired only once it is past a deadline by more than this `DURATION` (0 to "+shortDuration(defaults.MaxClockSkew)+")")
	fs.BoolVar(&o.insecure, "insecure", false, "the application sets Options.AllowInsecure (needed for names that a __Host- or __Secure- prefix would reject without it)")
}

// shortDuration prints d as a flag value without the zero units
// time.Duration.String adds ("1h", not "1h0m0s").
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

const inspectHead = `Usage: sealed inspect [--keys FILE] [--name NAME] [--purpose PURPOSE] [--clock-skew DURATION] [--insecure] < COOKIE

Opens a session cookie and prints what it holds as JSON: id, subject,
creation and issue times, idle and absolute deadlines, whether it has
expired, the id of the key that sealed it (and whether that key is the
primary), the number of chunks, values and flashes. Expiry and revocation
are reported, not enforced. "expired" is what the application decides: a
session has expired when it is past its idle or absolute deadline by more
than --clock-skew (the application's Options.ClockSkew); the deadlines are
printed without it.

The cookie is read from stdin, never from the command line, because it is a
credential and arguments are visible to other users. Give either
  - the bare value of the session cookie (a session of one chunk), or
  - a Cookie header, with or without the leading "Cookie: ", such as
    "__Host-session=3.AbC...; __Host-session.1=...; other=x", which is
    needed for a session spread over several chunks. Several lines (several
    Cookie or Set-Cookie headers) are read together.
Input containing "=" is taken as a header.

The keys come from --keys FILE or from the environment variable
` + keysEnv + ` holding the JWK Set itself. The cookie name and the
purpose must be the application's: both are bound into every sealed value.
The timeouts are the defaults (idle 24h, absolute 7 days). Secrets are
never printed.

Exit status is 1 when the cookie does not open with these keys.
`

const inspectTail = `Examples:

	sealed inspect --keys keys.json < cookie.txt
	pbpaste | sealed inspect --keys keys.json
	SEALED_KEYS="$(cat keys.json)" sealed inspect --name session --insecure < header.txt
	sealed inspect --keys keys.json --purpose admin --clock-skew 5s < cookie.txt
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
	if o.purpose == "" || len(o.purpose) > maxPurpose || !utf8.ValidString(o.purpose) {
		return c.usageError("inspect: --purpose must be 1 to %d bytes of UTF-8", maxPurpose)
	}
	if o.clockSkew < 0 || o.clockSkew > defaults.MaxClockSkew {
		return c.usageError("inspect: --clock-skew is %v, want 0 to %v", o.clockSkew, shortDuration(defaults.MaxClockSkew))
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
	cfg, err := inspectConfig(keys, name, o.purpose, o.clockSkew, o.insecure)
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
// CookieName, Purpose, ClockSkew and AllowInsecure and every other Option
// at its default would (the same cookie attributes and timeouts), under
// any budget.
func inspectConfig(keys []jwk.Key, name, purpose string, skew time.Duration, insecure bool) (inspect.Config, error) {
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
	bind, err := envelope.Bind(name, purpose)
	if err != nil {
		return inspect.Config{}, err
	}
	return inspect.Config{
		Ring: ring, Jar: jar, Bind: bind,
		Idle: defaults.IdleTimeout, Absolute: defaults.AbsoluteTimeout, Skew: skew, Now: time.Now(),
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
