// Package frontends holds the project's tests against real reverse
// proxies, started by the tests themselves on 127.0.0.1 (see package
// proxytest): nginx with its default configuration and with
// `proxy_buffer_size 8k; proxy_buffers 8 8k;`, Apache httpd with
// mod_proxy_http, HAProxy and Caddy, each with its defaults.
//
// They measure where each front end's own limits lie in both directions
// (the largest Cookie request header and the largest response header it
// passes, and what it answers past them), and drive each sealed Budget
// preset to its limit through each front end: the largest session the
// preset allows is set (2xx, every Set-Cookie line intact) and read back
// (2xx), one byte more is refused by sealed with ErrTooLarge, never by the
// proxy. Where a preset does not fit a front end, the tests assert what
// the front end does instead.
//
// Run them with
//
//	go -C frontends test -race -count=1 ./...
//
// They need the Debian packages nginx, apache2, haproxy and caddy; a test
// whose server is missing is skipped, except under CI=true, where it fails.
// The package has no code of its own besides this comment.
package frontends
