package sealedfiber_test

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealedgo/sealed"
)

// newManager is a Manager whose cookies work over the plain-http test
// servers: the cookie is named "session".
func newManager(t *testing.T, opts sealed.Options) *sealed.Manager {
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

// browser is a client with a cookie jar that does not follow redirects,
// so that each response's cookies and status can be checked.
type browser struct {
	t    *testing.T
	c    *http.Client
	base *url.URL
}

// serve serves app on a loopback listener until the test ends.
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

func newBrowser(t *testing.T, app *fiber.App) *browser {
	t.Helper()
	base := serve(t, app)
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &browser{t: t, base: base, c: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// reply is a response with its body read.
type reply struct {
	*http.Response
	body string
}

func (b *browser) do(method, path string, cookie ...string) reply {
	b.t.Helper()
	req, err := http.NewRequest(method, b.base.String()+path, nil)
	require.NoError(b.t, err)
	for _, c := range cookie {
		req.Header.Add("Cookie", c)
	}
	resp, err := b.c.Do(req)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(b.t, err)
	return reply{resp, string(body)}
}

func (b *browser) get(path string) reply  { b.t.Helper(); return b.do(http.MethodGet, path) }
func (b *browser) post(path string) reply { b.t.Helper(); return b.do(http.MethodPost, path) }

// jar returns the cookies the browser holds, by name.
func (b *browser) jar() map[string]string {
	out := map[string]string{}
	for _, c := range b.c.Jar.Cookies(b.base) {
		out[c.Name] = c.Value
	}
	return out
}

// sessionLines returns the response's Set-Cookie lines for the session
// cookie and its chunks.
func sessionLines(r reply) []string {
	var out []string
	for _, l := range r.Header.Values("Set-Cookie") {
		if strings.HasPrefix(l, "session=") || strings.HasPrefix(l, "session.") {
			out = append(out, l)
		}
	}
	return out
}

// blob is n characters that do not compress, so that their size in the
// cookie is predictable.
func blob(n int) string {
	var sb strings.Builder
	for sb.Len() < n {
		sb.WriteString(rand.Text())
	}
	return sb.String()[:n]
}

// flakyList is a revocation list that can be taken down.
type flakyList struct {
	sealed.RevocationList
	down atomic.Bool
}

var errDown = errors.New("revocation backend down")

func newFlakyList() *flakyList { return &flakyList{RevocationList: sealed.NewMemoryRevocationList()} }

func (f *flakyList) Revoke(ctx context.Context, id string, ttl time.Duration) error {
	if f.down.Load() {
		return errDown
	}
	return f.RevocationList.Revoke(ctx, id, ttl)
}

func (f *flakyList) RevokeSubject(ctx context.Context, subject string, before time.Time, ttl time.Duration) error {
	if f.down.Load() {
		return errDown
	}
	return f.RevocationList.RevokeSubject(ctx, subject, before, ttl)
}

func (f *flakyList) Revoked(ctx context.Context, id, subject string, created time.Time) (bool, error) {
	if f.down.Load() {
		return false, errDown
	}
	return f.RevocationList.Revoked(ctx, id, subject, created)
}
