package frontends_test

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealedgo/sealed"
	"github.com/sealedgo/sealed/frontends/proxytest"
)

// Each Budget preset driven to its limit through each front end, in both
// directions: the largest session the preset allows is set through the
// proxy (the response carrying its Set-Cookie lines) and read back (the
// request carrying its cookies, with a cookie of the application's), and
// one byte more is refused by sealed itself.

type preset struct {
	name   string
	budget sealed.Budget
}

var presets = []preset{
	{"zero", sealed.Budget{}},
	{"BudgetNginx8k", sealed.BudgetNginx8k()},
	{"BudgetAPIGatewayHTTP", sealed.BudgetAPIGatewayHTTP()},
	{"BudgetLarge", sealed.BudgetLarge()},
}

// outcome is what a front end does with a preset's largest session.
type outcome struct {
	// fits: the session is set and read back through the proxy, intact.
	// The README may claim only presets that fit.
	fits bool
	// Otherwise the proxy's own status for the response that sets the
	// session (200 if it passes) and for the request that carries it, and
	// what its error log or answer says.
	save, load       int
	saveWhy, loadWhy string
}

var fit = outcome{fits: true}

// Proxy refusals, as each front end words them.
var (
	nginxTooBigHeader   = "upstream sent too big header"
	nginxCookieTooLarge = "Request Header Or Cookie Too Large"
	apacheFieldTooLong  = "Size of a request header field exceeds server limit"
	haproxyBadGateway   = "502 Bad Gateway"
	haproxyBadRequest   = "400 Bad request"
)

// want is every front end's outcome for every preset, as measured here
// (nginx 1.22, Apache 2.4, HAProxy 2.6, Caddy 2.6 as packaged by Debian
// 12). A change in any of them fails the test.
var want = map[string]map[string]outcome{
	// The default: one chunk, 3072 bytes of Set-Cookie (3241 of response
	// header in all) under nginx's 4 KiB buffer, and fits every front end.
	"zero": {
		"nginx": fit, "nginx-8k": fit, "apache": fit, "haproxy": fit, "caddy": fit,
	},
	// For nginx with proxy_buffer_size 8k: 7168 bytes of Set-Cookie (7337
	// of response header), over a default nginx's 4 KiB buffer. Its
	// Cookie header passes a default nginx: the request side was never
	// the problem.
	"BudgetNginx8k": {
		"nginx":    {save: http.StatusBadGateway, saveWhy: nginxTooBigHeader, load: http.StatusOK},
		"nginx-8k": fit, "apache": fit, "haproxy": fit, "caddy": fit,
	},
	// For API Gateway's 10 KiB of request header in all: with the
	// application's cookie its Cookie header (8570 bytes) is over the
	// 8 KiB per line of nginx and Apache, and its Set-Cookie headers
	// (8192 bytes) over nginx's 8 KiB buffer.
	"BudgetAPIGatewayHTTP": {
		"nginx":    {save: http.StatusBadGateway, saveWhy: nginxTooBigHeader, load: http.StatusBadRequest, loadWhy: nginxCookieTooLarge},
		"nginx-8k": {save: http.StatusBadGateway, saveWhy: nginxTooBigHeader, load: http.StatusBadRequest, loadWhy: nginxCookieTooLarge},
		"apache":   {save: http.StatusOK, load: http.StatusBadRequest, loadWhy: apacheFieldTooLong},
		"haproxy":  fit, "caddy": fit,
	},
	// For 16 KiB per header: of the front ends here only Caddy takes it.
	// Apache passes its Set-Cookie headers (15630 bytes: it has no limit
	// on a response's whole header) but not its Cookie header (15874
	// bytes with the application's cookie, over LimitRequestFieldSize);
	// HAProxy's 16 KiB buffer, less its 1 KiB of rewrite room, takes
	// neither.
	"BudgetLarge": {
		"nginx":    {save: http.StatusBadGateway, saveWhy: nginxTooBigHeader, load: http.StatusBadRequest, loadWhy: nginxCookieTooLarge},
		"nginx-8k": {save: http.StatusBadGateway, saveWhy: nginxTooBigHeader, load: http.StatusBadRequest, loadWhy: nginxCookieTooLarge},
		"apache":   {save: http.StatusOK, load: http.StatusBadRequest, loadWhy: apacheFieldTooLong},
		"haproxy":  {save: http.StatusBadGateway, saveWhy: haproxyBadGateway, load: http.StatusBadRequest, loadWhy: haproxyBadRequest},
		"caddy":    fit,
	},
}

func TestPresetsAtTheirLimit(t *testing.T) {
	t.Parallel()
	for _, fe := range frontEnds {
		for _, ps := range presets {
			t.Run(fe.name+"/"+ps.name, func(t *testing.T) {
				t.Parallel()
				w, ok := want[ps.name][fe.name]
				require.True(t, ok, "no expected outcome for %s behind %s", ps.name, fe.name)
				atTheLimit(t, fe, ps, w)
			})
		}
	}
}

// reply is a response read whole.
type reply struct {
	status int
	header http.Header
	body   string
}

func get(t *testing.T, c *http.Client, url, cookie string) reply {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return reply{resp.StatusCode, resp.Header, string(body)}
}

func atTheLimit(t *testing.T, fe frontEnd, ps preset, w outcome) {
	a := newApp(t, ps.budget)
	p := fe.start(t, a.URL, fe.directives)
	c := p.Client()

	n, lines := largest(t, a.m)
	other := otherCookie + "=" + strings.Repeat("o", otherCookieBytes-len(otherCookie)-1)

	// The largest session, set through the proxy.
	set := get(t, c, fmt.Sprintf("%s/set?n=%d&id=max", p.URL, n), "")
	header := a.lastHeader()
	sent := a.sentLines("max")
	require.True(t, len(sent) > 0, "the upstream did not save the largest session (%d %q)", set.status, short(set.body))
	// Sealed's output has the same size for values of the same length:
	// the search's session and the one set through the proxy match.
	require.Equal(t, len(lines), len(sent))
	require.Equal(t, setCookieBytes(lines), setCookieBytes(sent))
	sessionCookie := cookieHeader(sent)
	require.Equal(t, len(cookieHeader(lines)), len(sessionCookie))

	// Read back, with the application's cookie after the session's.
	cookie := sessionCookie + "; " + other
	load := get(t, c, p.URL+"/get?id=load", cookie)

	// One byte more: refused by sealed, with the application's 413, and
	// nothing refused by the proxy.
	over := get(t, c, fmt.Sprintf("%s/set?n=%d&id=over", p.URL, n+1), "")
	assert.Equal(t, http.StatusRequestEntityTooLarge, over.status, "one byte over the limit")
	assert.Equal(t, tooLargeBody+"\n", over.body, "one byte over the limit: the refusal must be sealed's")
	assert.True(t, len(over.header["Set-Cookie"]) == 0, "the refusal must set no cookie: %d Set-Cookie lines", len(over.header["Set-Cookie"]))

	t.Logf("%s behind %s: largest value %d bytes in %d chunk(s); Cookie %d bytes (%d with the app's %d-byte cookie); Set-Cookie %d bytes (the whole response header %d); through the proxy: set %d, read back %d, one byte more %d",
		ps.name, fe.name, n, len(sent), len(sessionCookie), len(cookie), otherCookieBytes, setCookieBytes(sent), header, set.status, load.status, over.status)

	if w.fits {
		assert.Equal(t, http.StatusOK, set.status, "setting the largest session: %q", short(set.body))
		assert.Equal(t, "saved "+strconv.Itoa(n), set.body)
		assertSameLines(t, sent, set.header["Set-Cookie"])
		assert.Equal(t, http.StatusOK, load.status, "reading the largest session back: %q", short(load.body))
		assert.Equal(t, fmt.Sprintf("value %d, %s cookie %d", n, otherCookie, otherCookieBytes), load.body)
		got := a.gotCookie("load")
		assert.True(t, got == cookie, "the Cookie header must pass the proxy intact: %d bytes sent, %d received", len(cookie), len(got))
		return
	}
	// Where the preset does not fit, what the front end does instead.
	assert.Equal(t, w.save, set.status, "setting the largest session: %q", short(set.body))
	if w.save == http.StatusOK {
		assertSameLines(t, sent, set.header["Set-Cookie"])
	} else {
		assert.NotContains(t, set.body, "saved", "the refusal must be the proxy's")
		assertSays(t, p, set.body, w.saveWhy)
	}
	assert.Equal(t, w.load, load.status, "reading the largest session back: %q", short(load.body))
	if w.load == http.StatusOK {
		assert.Equal(t, fmt.Sprintf("value %d, %s cookie %d", n, otherCookie, otherCookieBytes), load.body)
	} else {
		assert.NotContains(t, load.body, "value", "the refusal must be the proxy's")
		assertSays(t, p, load.body, w.loadWhy)
	}
}

// short cuts a response body for a message.
func short(body string) string {
	if len(body) > 300 {
		return body[:300] + "..."
	}
	return body
}

// assertSameLines checks that the Set-Cookie lines the client got are those
// the upstream sent, without printing them: they are cookie values.
func assertSameLines(t *testing.T, sent, got []string) {
	t.Helper()
	assert.True(t, slices.Equal(sent, got), "the Set-Cookie lines must pass the proxy intact: the upstream sent %d lines (%d bytes), the client got %d (%d bytes)",
		len(sent), setCookieBytes(sent), len(got), setCookieBytes(got))
}

// assertSays checks that the proxy's answer or its error log says why.
func assertSays(t *testing.T, p *proxytest.Proxy, body, why string) {
	t.Helper()
	if why == "" {
		return
	}
	if !strings.Contains(body, why) && !strings.Contains(p.ErrorLog(), why) {
		t.Errorf("%s: neither the answer nor the error log says %q", p.Name, why)
	}
}
