package sealed

import "github.com/sealedgo/sealed/internal/inspect"

func init() {
	inspect.OfManager = func(v any, cookieHeader ...string) (*inspect.Inspection, error) {
		m := v.(*Manager)
		ring := m.keys.Current()
		if ring == nil {
			return nil, inspect.ErrInvalid
		}
		return inspect.Inspect(inspect.Config{
			Ring: ring.ring, Jar: m.jar, Bind: m.bind,
			Idle: m.idle, Absolute: m.absolute, Now: m.now(),
		}, cookieHeader...)
	}
}
