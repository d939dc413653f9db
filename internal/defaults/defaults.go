// Package defaults holds the Options defaults that the root package and
// cmd/sealed both need, so that `sealed inspect` opens cookies and
// reports deadlines exactly as a Manager with default options would.
package defaults

import "time"

const (
	// Purpose is the default Options.Purpose.
	Purpose = "session"
	// IdleTimeout and AbsoluteTimeout are the default timeouts.
	IdleTimeout     = 24 * time.Hour
	AbsoluteTimeout = 7 * 24 * time.Hour
	// ClockSkew is the default Options.ClockSkew, and MaxClockSkew its
	// bound: the tolerance for clocks that differ between servers, which
	// also keeps an expired session opening that long after its deadline.
	ClockSkew    = time.Minute
	MaxClockSkew = time.Hour
	// MaxLifetime bounds both timeouts: browsers cap a cookie's lifetime
	// at 400 days (RFC 6265bis, "Max-Age"), so a longer one could not be
	// kept anyway.
	MaxLifetime = 400 * 24 * time.Hour
)

// CookieName is the default Options.CookieName: a name whose prefix asks
// browsers for the most protection the attributes allow.
func CookieName(secure bool, path, domain string) string {
	switch {
	case !secure:
		return "session"
	case path == "/" && domain == "":
		return "__Host-session"
	default:
		return "__Secure-session"
	}
}
