package demo

import (
	"flag"
	"fmt"
	"net"
	"strings"
)

// CookiesEnv names the environment variable that gives the -cookies
// flag its default: "secure", "insecure" or "auto".
const CookiesEnv = "SEALED_COOKIES"

// Cookies is the value of the examples' -cookies flag: which cookie
// settings a server uses.
type Cookies int

const (
	// CookiesAuto, the default, is insecure when the server listens on a
	// loopback address (the examples serve plain http, so that is local
	// development in a browser on the same machine) and secure otherwise.
	CookiesAuto Cookies = iota
	// CookiesSecure is the production setting, sealed's defaults: the
	// cookie "__Host-session" with the Secure attribute, which browsers
	// send only over https. Use it behind a TLS-terminating proxy, also
	// when the example listens on loopback behind one.
	CookiesSecure
	// CookiesInsecure sets Options.AllowInsecure: the cookie "session"
	// without Secure, so that it works over plain http.
	CookiesInsecure
)

var cookiesNames = [...]string{CookiesAuto: "auto", CookiesSecure: "secure", CookiesInsecure: "insecure"}

func (c Cookies) String() string {
	if c < 0 || int(c) >= len(cookiesNames) {
		return fmt.Sprintf("Cookies(%d)", int(c))
	}
	return cookiesNames[c]
}

// Set parses "auto", "secure" or "insecure", for flag.Value.
func (c *Cookies) Set(s string) error {
	for i, n := range cookiesNames {
		if strings.EqualFold(s, n) {
			*c = Cookies(i)
			return nil
		}
	}
	return fmt.Errorf("%q: want secure, insecure or auto", s)
}

// CookiesFlag registers -cookies on fs. Its default comes from the
// environment variable CookiesEnv, read through getenv; an invalid value
// there is an error.
func CookiesFlag(fs *flag.FlagSet, getenv func(string) string) (*Cookies, error) {
	c := new(Cookies)
	if v := getenv(CookiesEnv); v != "" {
		if err := c.Set(v); err != nil {
			return nil, fmt.Errorf("%s: %w", CookiesEnv, err)
		}
	}
	fs.Var(c, "cookies", "cookie settings `MODE`: secure (__Host-session with Secure, for https, e.g. behind a TLS proxy), insecure (plain http) or auto (insecure on a loopback address, else secure); default $"+CookiesEnv+" or auto")
	return c, nil
}

// Insecure reports whether a server listening on addr (HOST:PORT, as
// given to net.Listen) over plain http should set Options.AllowInsecure.
// For CookiesAuto that is when HOST is a loopback address or "localhost";
// an empty or unspecified HOST (":8080", "0.0.0.0:8080") listens on every
// interface and gets the secure settings.
func (c Cookies) Insecure(addr string) bool {
	switch c {
	case CookiesSecure:
		return false
	case CookiesInsecure:
		return true
	}
	return IsLoopback(addr)
}

// IsLoopback reports whether addr (HOST:PORT or HOST) names only loopback
// addresses: "localhost", 127.0.0.0/8 or ::1.
func IsLoopback(addr string) bool {
	host := addr
	if h, _, err := net.SplitHostPort(addr); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// CookieName is the name sealed gives the session cookie by default with
// these settings: "session" when insecure, "__Host-session" otherwise.
// Examples that need the name (to count the chunks) set it explicitly
// with this value.
func CookieName(insecure bool) string {
	if insecure {
		return "session"
	}
	return "__Host-session"
}

// Describe says in a few words what the settings are, for the line an
// example prints when it starts.
func Describe(insecure bool) string {
	if insecure {
		return `cookies for plain http: "session" without Secure (AllowInsecure)`
	}
	return `production cookies: "__Host-session", Secure (browsers send it over https only)`
}
