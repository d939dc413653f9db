// Package browser holds the project's real-browser test: headless
// Chromium, driven with chromedp, in front of a default-config nginx with
// TLS (started by frontends/proxytest), in front of the basic and cart
// examples run with their production cookie settings (-cookies secure:
// "__Host-session", Secure). Every assertion about cookies reads the jar
// Chromium actually holds, through the DevTools protocol.
//
// Run it with
//
//	go -C frontends/browser test -race -count=1 ./...
//
// It needs the Debian packages chromium and nginx; without them it is
// skipped, except under CI=true, where it fails. The package has no code
// of its own besides this comment: it is a test.
package browser
