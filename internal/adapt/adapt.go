// Package adapt gives this repository's framework adapters (sealedfiber,
// ...) what they need from package sealed beyond its API, so that the API
// stays what applications use. Package sealed sets the functions at init.
package adapt

// Close closes a *sealed.Session to changes, as the net/http middleware
// does once a response went out without its cookies (a failed save, a
// session loaded too late): later changes return sealed.ErrCommitted
// instead of being dropped silently.
var Close func(session any)
