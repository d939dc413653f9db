// Package sealed keeps web sessions entirely in the client's cookies,
// encrypted and authenticated, so that a server needs no session store:
// serverless handlers and multi-region deployments get sessions with
// nothing but a key.
//
// # Overview
//
// A Manager, built by New from a keyring and Options, loads a Session from
// a request's cookies and saves it back:
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
// Without net/http (an AWS Lambda handler, say), Manager.Load and
// Manager.Save (or LoadHeader and SaveLines) do the same on plain cookie
// lists and Set-Cookie strings; Session.Release then plays the part of the
// middleware's end of request (see # Memory).
//
// # Sessions
//
// A session is a random 128-bit ID, a creation time, an optional subject
// (whom it belongs to) and a map from string keys to values. Values are
// stored as deterministic CBOR (RFC 8949 core deterministic encoding), so
// equal state gives equal bytes, and read back with the typed Get[T]. Each
// value is wrapped in a CBOR byte string, so opening a session indexes the
// keys without walking the values; a value is checked (well formed, within
// MaxDepth and MaxItems) and decoded only when its key is read.
//
// The operations follow Pavex's session API: Set, Get, Remove, GetRaw and
// RemoveRaw, Has, Keys, Clear (empty the state, keep the session), CycleID
// (new ID, same state: call it at login) and Invalidate (end the
// session). Flash messages are read once.
//
// Cookies are written only when needed, as OCaml Webs does: a request that
// only reads writes no Set-Cookie, except to push back the idle deadline
// (at most once per RenewFraction of the IdleTimeout), to re-seal a
// session opened under a retired key, or after CycleID. A new session that
// nothing was written to sets no cookie. One more exception: when the
// request's session was expired or revoked, its cookies are expired, so the
// client stops presenting a dead session on every request. A cookie that
// merely fails to open is left alone on reads (it may open again once a key
// misconfiguration is fixed) and is replaced by the next write.
//
// # Memory
//
// A loaded session decrypts its cookie into a buffer taken from a pool,
// and its values stay there, undecoded, until Get asks for one. When the
// request ends the middleware calls Session.Release, which returns the
// buffer for the next request; callers of Load and LoadHeader may do the
// same once they have saved. Nothing a session hands out points into the
// buffer (Get decodes into new memory, GetRaw copies), and a released
// session refuses to read (ErrReleased) rather than see another request's
// bytes, so a goroutine that outlives its request gets an error, never
// someone else's data. Saving builds the payload in a pooled buffer too,
// seals it in place and encodes it straight into the Set-Cookie lines,
// which are the only allocation proportional to the session's size.
//
// # Security model
//
// The session is sealed with XChaCha20-Poly1305 under a key derived with
// HKDF-SHA-256 from a 32-byte secret. The client can neither read nor
// change it, nor move it to another cookie name or purpose: the name and
// purpose are bound in as associated data. SPEC.md is the normative
// description of the format, with golden vectors in testdata/vectors.
//
// Bad input never hurts: a forged, truncated, expired, revoked or garbled
// cookie yields a fresh, empty session and a debug log line, never an
// error, a panic or a reason the client can see. Every failure to open is
// the one error ErrInvalid.
//
// Timeouts are checked against times inside the seal (when the session
// was created, and when it was last sealed), using the deadlines of the
// current configuration, with a bounded clock skew.
//
// What a stateless session cannot do on its own: take a cookie back. A
// copy of a cookie stays valid until it expires, so logout and CycleID
// change only what an honest browser holds. An optional RevocationList
// (MemoryRevocationList for one instance, the redisrevoke module for many)
// makes them real, at the cost of one lookup per request that reads a
// session. With one configured, the request fails closed when the list
// cannot be asked (ErrUnavailable, answered with 503) unless
// Options.RevocationFailOpen is set.
//
// Never logged by this package: keys, cookie values, session contents.
//
// # Key rotation
//
// A Keyring holds keys in order: the first (primary) seals, all open, and
// the key for opening is picked by the key id in the envelope, never by
// trying each key. Keys come from a JWK Set (ParseJWKSet, KeyringFromFile,
// KeyringFromEnv). A RotatingKeyring swaps the ring atomically while
// requests are in flight. Rotating without logging anyone out takes three
// deployments: add the new key second on every instance; then move it
// first; then, after the AbsoluteTimeout, drop the old one. Sessions
// opened under an old key are re-sealed under the primary as they come
// in.
//
// # Chunked cookies
//
// A sealed session that does not fit one cookie is split across NAME,
// NAME.1, NAME.2, ..., each sized so that its whole Set-Cookie line, with
// every attribute, is at most 4096 bytes: the limit of browsers and of
// front ends like Google's, measured on the serialized line rather than
// guessed. A Budget caps the total the session adds to the Cookie header;
// presets fit nginx, API Gateway and 16 KiB front ends. A session over
// budget is not saved: Save (or Manager.Commit) returns ErrTooLarge, no
// Set-Cookie is sent and the client keeps its previous cookies. When a
// session shrinks, chunks it no longer needs are expired.
package sealed
