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
// lists and Set-Cookie strings.
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
// Every change returns an error when it cannot take effect: ErrCommitted
// once the response has started (or Save has run), so a logout or an ID
// cycle placed after the first write is reported, not lost. What follows
// Invalidate or CycleID in the same request never undoes them: a logout
// page that shows its "logged out" flash still revokes the old ID and
// replaces the old cookie.
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
// A loaded session decrypts its cookie into memory of its own, and its
// values stay there, undecoded, until Get asks for one; Get decodes a
// private copy, with the session unlocked, so neither the session's bytes
// nor anyone else's reach user code (an UnmarshalCBOR that keeps its
// input, say), and a session kept after its request reads as before.
// Saving builds the payload in pooled scratch, seals it in place and
// encodes it straight into the Set-Cookie lines; the scratch is cleared
// before it is reused.
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
// the one error ErrInvalid. Nothing longer than the Budget allows a save to
// write is decoded or decrypted.
//
// Options.Purpose is bound into every seal: applications or environments
// that share a key set (staging and production) give each their own, and
// none opens the others' sessions.
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
// budget is not saved: Save (or Manager.Commit) returns a *TooLargeError
// (errors.Is ErrTooLarge) that says by how much, no Set-Cookie is sent and
// the client keeps its previous cookies. A session that was saved under a
// larger budget still opens; if only its renewal is due it is served
// without one. When a session shrinks, chunks it no longer needs are
// expired.
package sealed
