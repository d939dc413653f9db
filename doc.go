// Package sealed keeps web sessions entirely in the client's cookies,
// encrypted and authenticated, so that a server needs no session store.
//
// Start here: [New] makes a [Manager] from a [Keyring]; wrap your handler
// in [Manager.Middleware] and use [Manager.Session], [Get] and [Session.Set].
//
//	m, err := sealed.New(keys, nil) // nil options: secure defaults
//	http.Handle("/", m.Middleware(app))
//
//	func app(w http.ResponseWriter, r *http.Request) {
//		s, err := m.Session(r) // loaded on first use
//		n, _, _ := sealed.Get[int](s, "visits")
//		s.Set("visits", n+1)
//	}
//
// Without net/http (an AWS Lambda handler, a framework of its own),
// [Manager.Load] reads a session from Cookie header values and
// [Manager.Save] returns the Set-Cookie lines to send.
//
// # Sessions
//
// A session is a random 128-bit ID, a creation time, an optional subject
// (whom it belongs to), string keys mapped to values, and flash messages.
// Values are stored as deterministic CBOR and read back with the typed
// [Get]; only the key read is decoded, from a private copy, so nothing
// returned aliases the session. The operations follow Pavex's session API:
// [Session.Set], [Get], [Remove], [Session.Clear], [Session.CycleID] (new
// ID, same state: call it at login) and [Session.Invalidate] (end it).
//
// A change that cannot take effect returns [ErrCommitted]; nothing done
// after Invalidate or CycleID undoes them. Cookies are written only when
// needed, as OCaml Webs does: after a change, to push back the idle
// deadline, to re-seal under a new primary key, and to expire the cookies
// of a session that was expired or revoked.
//
// [Session.SetPersistent] is "remember me": false gives browser-session
// cookies, a choice sealed with the state so that renewals keep it. The
// timeouts are enforced inside the seal either way.
//
// # Frameworks, migration, tests and metrics
//
// Adapters live in their own modules, so that this one never downloads a
// framework: sealedgin, sealedecho and sealedfiber, and sealedgorilla, a
// gorilla/sessions Store (for gin-contrib/sessions and echo-contrib too).
// [Options].Import moves users from another session cookie without
// logging them out; sealedgorilla provides one for gorilla/securecookie.
// Package sealedtest makes the cookies of a session for a test request and
// reads back the session a response leaves. [Options].Observer reports
// each load, save and revocation call as an [Event], for metrics.
//
// # Security model
//
// The session is sealed with XChaCha20-Poly1305 under a key derived from a
// 32-byte secret and [Options].Purpose, with the cookie name and purpose as
// associated data; SPEC.md is the normative format, with golden vectors.
//
// Bad input never hurts: a forged, truncated, expired, revoked or garbled
// cookie yields a fresh, empty session and a debug log line, never an
// error or a reason the client can see. Keys, cookie values and session
// contents are never logged.
//
// A stateless cookie cannot be taken back: a copy stays valid until it
// expires. An optional [RevocationList] ([NewMemoryRevocationList] for one
// instance, the redisrevoke module for many) makes logout and CycleID
// real, at the cost of one lookup per request that reads a session.
//
// # Key rotation
//
// A [Keyring] holds keys in order: the first seals, all open, and the key
// that opens a cookie is picked by the key id it carries. A
// [RotatingKeyring] swaps rings while requests are in flight. Rotating
// without logging anyone out takes three deployments: add the new key
// second; move it first; drop the old one once no session opens under it
// ([Event].OldKey), or after the AbsoluteTimeout.
//
// # Cookies
//
// A session that does not fit one cookie is split across NAME, NAME.1, ...
// within a [Budget] that bounds both directions: the Cookie header of every
// request and the Set-Cookie headers of a response, which front ends such
// as nginx limit too. A session over budget is not saved
// ([*TooLargeError]), and the client keeps its previous cookies.
//
// # Layers
//
// The package is the session layer: lifecycle, locking, middleware and
// revocation. Below it, in internal packages entered once per direction:
// internal/cookie (Cookie headers to chunks, chunks to Set-Cookie lines),
// internal/b64 (the value encoding), internal/envelope (seal and open), and
// internal/payload (the CBOR payload and its values).
package sealed
