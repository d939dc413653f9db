// Package adaptertest holds what the tests of this repository's framework
// adapters (sealedgin, sealedecho, sealedfiber, sealedgorilla) share: a
// Manager that works over plain-http test servers, a browser with a cookie
// jar, and a revocation list that can be taken down. Each adapter is its
// own module; they all reach this package through their replace of the
// core module, so one copy serves them all.
//
// It is imported only by tests; nothing the library builds depends on it.
// It imports no framework (only the standard library, testify and package
// sealed), so that the core module never downloads one.
package adaptertest

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sealedgo/sealed"
)

// NewManager is a Manager with opts whose cookies work over the
// plain-http test servers (AllowInsecure), so that unless opts names it
// the cookie is "session". Unless opts sets a Logger, it logs nothing.
func NewManager(t testing.TB, opts sealed.Options) *sealed.Manager {
	t.Helper()
	keys, err := sealed.NewKeyring(sealed.GenerateKey("k1"))
	require.NoError(t, err)
	opts.AllowInsecure = true
	if opts.Logger == nil {
		// Refused late changes are logged at error level; the tests
		// check the errors themselves.
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	m, err := sealed.New(keys, &opts)
	require.NoError(t, err)
	return m
}

// Browser is a client with a cookie jar that does not follow redirects,
// so that each response's cookies and status can be checked. A failed
// request fails the test that made the Browser.
type Browser struct {
	t    testing.TB
	c    *http.Client
	base *url.URL
}

// NewBrowser serves h on an httptest server until the test ends and
// returns a Browser for it.
func NewBrowser(t testing.TB, h http.Handler) *Browser {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	base, err := url.Parse(srv.URL)
	require.NoError(t, err)
	return BrowserAt(t, base)
}

// BrowserAt returns a Browser for a server the test runs itself, at base:
// for a framework whose application is not an http.Handler (fiber).
func BrowserAt(t testing.TB, base *url.URL) *Browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &Browser{t: t, base: base, c: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// WithoutJar returns a Browser for the same server that keeps no cookies:
// its requests carry only the Cookie headers given to Do, as a client
// sends them by hand.
func (b *Browser) WithoutJar() *Browser {
	return &Browser{t: b.t, base: b.base, c: &http.Client{CheckRedirect: b.c.CheckRedirect}}
}

// Base returns the URL of the server, for requests built by hand (Send).
func (b *Browser) Base() *url.URL { return b.base }

// Reply is a response with its body read. Body, the text, stands in for
// the Response's Body, which is read and closed.
type Reply struct {
	*http.Response
	Body string
}

// Do sends a method request for path, with one Cookie header for each of
// cookie besides what the jar holds.
func (b *Browser) Do(method, path string, cookie ...string) Reply {
	b.t.Helper()
	req, err := http.NewRequest(method, b.base.String()+path, nil)
	require.NoError(b.t, err)
	for _, c := range cookie {
		req.Header.Add("Cookie", c)
	}
	return b.Send(req)
}

// Send sends req, built by the test (headers of its own), through the
// Browser's client and jar.
func (b *Browser) Send(req *http.Request) Reply {
	b.t.Helper()
	resp, err := b.c.Do(req)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(b.t, err)
	return Reply{resp, string(body)}
}

// Get is Do with GET.
func (b *Browser) Get(path string) Reply { b.t.Helper(); return b.Do(http.MethodGet, path) }

// Post is Do with POST and no body.
func (b *Browser) Post(path string) Reply { b.t.Helper(); return b.Do(http.MethodPost, path) }

// Jar returns the cookies the Browser holds for the server, by name.
func (b *Browser) Jar() map[string]string {
	out := map[string]string{}
	if b.c.Jar == nil {
		return out
	}
	for _, c := range b.c.Jar.Cookies(b.base) {
		out[c.Name] = c.Value
	}
	return out
}

// SessionLines returns r's Set-Cookie lines for the cookie name and its
// chunks (name.1, name.2, ...), leaving out those of other cookies.
func SessionLines(r Reply, name string) []string {
	var out []string
	for _, l := range r.Header.Values("Set-Cookie") {
		if strings.HasPrefix(l, name+"=") || strings.HasPrefix(l, name+".") {
			out = append(out, l)
		}
	}
	return out
}

// Blob is n characters that do not compress, so that their size in the
// cookie is predictable.
func Blob(n int) string {
	var sb strings.Builder
	for sb.Len() < n {
		sb.WriteString(rand.Text())
	}
	return sb.String()[:n]
}

// ErrDown is what a FlakyList returns while it is down.
var ErrDown = errors.New("revocation backend down")

// FlakyList is a revocation list that can be taken down: while down each
// of its methods returns ErrDown, as an unreachable backend would.
type FlakyList struct {
	sealed.RevocationList
	down atomic.Bool
}

// NewFlakyList returns a FlakyList, up, over an in-memory list.
func NewFlakyList() *FlakyList {
	return &FlakyList{RevocationList: sealed.NewMemoryRevocationList()}
}

// SetDown takes the list down (true) or brings it back (false); what was
// revoked before stays revoked.
func (f *FlakyList) SetDown(down bool) { f.down.Store(down) }

// Revoke revokes id unless the list is down.
func (f *FlakyList) Revoke(ctx context.Context, id string, ttl time.Duration) error {
	if f.down.Load() {
		return ErrDown
	}
	return f.RevocationList.Revoke(ctx, id, ttl)
}

// RevokeSubject revokes subject's sessions unless the list is down.
func (f *FlakyList) RevokeSubject(ctx context.Context, subject string, before time.Time, ttl time.Duration) error {
	if f.down.Load() {
		return ErrDown
	}
	return f.RevocationList.RevokeSubject(ctx, subject, before, ttl)
}

// Revoked answers unless the list is down.
func (f *FlakyList) Revoked(ctx context.Context, id, subject string, created time.Time) (bool, error) {
	if f.down.Load() {
		return false, ErrDown
	}
	return f.RevocationList.Revoked(ctx, id, subject, created)
}
