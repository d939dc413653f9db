package sealed

import (
	"github.com/sealedgo/sealed/internal/adapt"
	"github.com/sealedgo/sealed/internal/inspect"
)

// The repository's own tools reach what they need beyond the API through
// internal packages: the demo's view of a Manager's cookies, and the
// adapters' way to close a session whose response went out without it.
func init() {
	inspect.OfManager = func(v any, cookieHeader ...string) (*inspect.Inspection, error) {
		m := v.(*Manager)
		ring := m.keys.Current()
		if ring == nil {
			return nil, inspect.ErrInvalid
		}
		return inspect.Inspect(inspect.Config{
			Ring: ring.ring, Jar: m.jar, Bind: m.bind,
			Idle: m.idle, Absolute: m.absolute, Skew: m.skew, Now: m.now(),
		}, cookieHeader...)
	}
	adapt.Close = func(v any) { v.(*Session).markCommitted() }
}
