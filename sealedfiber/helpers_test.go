package sealedfiber_test

import (
	"net"
	"net/url"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealedgo/sealed/internal/adaptertest"
)

// serve serves app on a loopback listener until the test ends: a fiber
// app is not an http.Handler, so httptest cannot serve it.
func serve(t *testing.T, app *fiber.App) *url.URL {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- app.Listener(ln) }()
	t.Cleanup(func() {
		assert.NoError(t, app.Shutdown())
		assert.NoError(t, <-done)
	})
	base, err := url.Parse("http://" + ln.Addr().String())
	require.NoError(t, err)
	return base
}

// newBrowser serves app and returns a browser for it.
func newBrowser(t *testing.T, app *fiber.App) *adaptertest.Browser {
	t.Helper()
	return adaptertest.BrowserAt(t, serve(t, app))
}
