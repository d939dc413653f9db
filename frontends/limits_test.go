package frontends_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealedgo/sealed/frontends/proxytest"
)

// Where each front end's own limits lie, with its defaults (and nginx
// with the configuration for BudgetNginx8k), measured by binary search
// through the running proxy to an upstream without limits of its own.

// maxProbe is the largest size probed: well past every budget.
const maxProbe = 4 << 20

// rawUpstream answers
//
//	/req: 200 "cookie N", N the length of the Cookie header it received;
//	/resp?block=X: 200 "ok" with a response header of exactly X bytes (status
//	   line, headers, the empty line), padded with Set-Cookie lines of at
//	   most padLine bytes;
//	/resp?line=X: 200 "ok" with one Set-Cookie line of X bytes (CRLF not
//	   counted) in a small header.
func rawUpstream(t testing.TB) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/req", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "cookie %d", len(strings.Join(r.Header["Cookie"], "; ")))
	})
	mux.HandleFunc("/resp", func(w http.ResponseWriter, r *http.Request) {
		var head string
		if v := r.FormValue("block"); v != "" {
			n, _ := strconv.Atoi(v)
			head = responseBlock(n)
		} else {
			n, _ := strconv.Atoi(r.FormValue("line"))
			head = responseLine(n)
		}
		c, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		buf.WriteString(head + "ok")
		if buf.Flush() != nil {
			return
		}
		// Close only once the proxy has: closing with its bytes unread
		// would reset the connection, and could lose the response.
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		io.Copy(io.Discard, c)
	})
	srv := httptest.NewUnstartedServer(mux)
	srv.Config.MaxHeaderBytes = 4 * maxProbe
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL
}

const (
	responseBase = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n"
	padLine      = 4000 // bytes of each padding line, CRLF included
	padPrefix    = len("Set-Cookie: p0000=")
	minPad       = padPrefix + 1 + 2
	minBlock     = len(responseBase) + 2 + minPad
)

// responseBlock is a response header of exactly n bytes (n >= minBlock).
func responseBlock(n int) string {
	var b strings.Builder
	b.WriteString(responseBase)
	rest := n - len(responseBase) - 2
	for i := 0; rest > 0; i++ {
		l := min(rest, padLine)
		if rest-l > 0 && rest-l < minPad {
			l = rest - minPad
		}
		fmt.Fprintf(&b, "Set-Cookie: p%04d=%s\r\n", i, strings.Repeat("x", l-minPad+1))
		rest -= l
	}
	b.WriteString("\r\n")
	return b.String()
}

// responseLine is a small response header with one Set-Cookie line of n
// bytes, CRLF not counted (n > padPrefix).
func responseLine(n int) string {
	return responseBase + "Set-Cookie: p0000=" + strings.Repeat("x", n-padPrefix) + "\r\n\r\n"
}

// limit is where a search ended: the largest size that passed, and what
// the first size over it got (status 0 with none set: nothing failed up to
// maxProbe).
type limit struct {
	largest int
	over    answer
	none    bool
}

func (l limit) String() string {
	if l.none {
		return fmt.Sprintf("no limit up to %d bytes", l.largest)
	}
	return fmt.Sprintf("%d bytes pass, %d get %v", l.largest, l.largest+1, l.over)
}

// search finds the largest n in [lo, hi] for which try passes, try(lo)
// passing, assuming that what fails once fails for every larger n.
func search(t testing.TB, lo, hi int, try func(n int) (bool, answer)) limit {
	t.Helper()
	if ok, a := try(lo); !ok {
		t.Fatalf("the smallest probe (%d bytes) fails: %v", lo, a)
	}
	if ok, _ := try(hi); ok {
		return limit{largest: hi, none: true}
	}
	var over answer
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if ok, a := try(mid); ok {
			lo = mid
		} else {
			hi, over = mid, a
		}
	}
	if over.status == 0 && over.err == nil {
		_, over = try(hi)
	}
	return limit{largest: lo, over: over}
}

// frontEndLimits are a front end's limits as measured.
type frontEndLimits struct {
	cookie limit // the Cookie header's value, in a minimal request
	block  limit // a response's whole header, in Set-Cookie lines of 4000 bytes
	line   limit // one Set-Cookie line of a response (CRLF not counted)
	// The sizes at the Cookie limit of the whole "Cookie: value" line
	// (CRLF not counted) and of the whole request header.
	cookieLine, request int
	// What a response header two bytes over the limit gets (nginx answers
	// one byte over with a cut response, two over with 502).
	blockBeyond answer
}

func measure(t *testing.T, fe frontEnd) (frontEndLimits, *proxytest.Proxy) {
	up := rawUpstream(t)
	p := fe.start(t, up, fe.directives)
	host := strings.TrimPrefix(p.URL, "http://")
	var l frontEndLimits
	cookie := func(n int) string { return "Cookie: c=" + strings.Repeat("x", n-2) }
	l.cookie = search(t, 16, maxProbe, func(n int) (bool, answer) {
		a := rawGet(p, "/req", cookie(n))
		return a.status == http.StatusOK && a.body == fmt.Sprintf("cookie %d", n), a
	})
	l.cookieLine = len(cookie(l.cookie.largest))
	l.request = len(requestHead(host, "/req", cookie(l.cookie.largest)))
	resp := func(param string) func(n int) (bool, answer) {
		return func(n int) (bool, answer) {
			a := rawGet(p, "/resp?"+param+"="+strconv.Itoa(n))
			return a.status == http.StatusOK && a.body == "ok", a
		}
	}
	l.block = search(t, minBlock, maxProbe, resp("block"))
	if !l.block.none {
		_, l.blockBeyond = resp("block")(l.block.largest + 2)
	}
	l.line = search(t, padPrefix+1, maxProbe, resp("line"))
	t.Logf("%s request: Cookie value %v; at the limit the Cookie line is %d bytes, the request header %d", fe.name, l.cookie, l.cookieLine, l.request)
	if l.block.none {
		t.Logf("%s response: whole header %v", fe.name, l.block)
	} else {
		t.Logf("%s response: whole header %v; %d get %v", fe.name, l.block, l.block.largest+2, l.blockBeyond)
	}
	t.Logf("%s response: one Set-Cookie line %v (the whole header %d bytes)", fe.name, l.line, len(responseLine(l.line.largest)))
	return l, p
}

// wantLimits are a front end's limits as measured here (Debian 12's
// nginx 1.22, Apache 2.4, HAProxy 2.6, Caddy 2.6); the README's table
// quotes them.
type wantLimits struct {
	// The largest request that passes: a Cookie line of cookieLine bytes
	// (the limit is per line) or a request header of request bytes (the
	// limit is on the whole header). Past it the proxy answers reqStatus,
	// saying reqWhy in its answer or its log.
	cookieLine, request int
	reqStatus           int
	reqWhy              string
	// The largest response header that passes (0: none up to maxProbe),
	// and what the proxy answers two bytes over.
	block       int
	blockStatus int
	blockWhy    string
	// cut: a response header one byte over block gets a 200 whose body
	// is cut short, not an error (nginx, when the header fills its buffer
	// exactly).
	cut bool
	// The largest Set-Cookie line that passes (0: none up to maxProbe).
	line int
}

var wantedLimits = map[string]wantLimits{
	// large_client_header_buffers 4 8k: each request line within 8 KiB
	// with its CRLF; proxy_buffer_size 4k: the response header within
	// the buffer, and a header that fills it exactly gets a cut response.
	"nginx": {cookieLine: 8190, reqStatus: 400, reqWhy: nginxCookieTooLarge,
		block: 4095, blockStatus: 502, blockWhy: nginxTooBigHeader, line: 4010, cut: true},
	"nginx-8k": {cookieLine: 8190, reqStatus: 400, reqWhy: nginxCookieTooLarge,
		block: 8191, blockStatus: 502, blockWhy: nginxTooBigHeader, line: 8106, cut: true},
	// LimitRequestFieldSize 8190 by default, of which a Cookie line of
	// 8191 bytes passes; responses: ResponseFieldSize 8192 per line (its
	// CRLF included), no limit found on the whole header.
	"apache": {cookieLine: 8191, reqStatus: 400, reqWhy: apacheFieldTooLong,
		line: 8191},
	// tune.bufsize 16384 less tune.maxrewrite 1024, for the whole header
	// in each direction (less HAProxy's own overhead per header).
	"haproxy": {request: 15292, reqStatus: 400, reqWhy: haproxyBadRequest,
		block: 15276, blockStatus: 502, blockWhy: haproxyBadGateway, line: 15203},
	// Go's net/http server: MaxHeaderBytes 1 MiB plus its 4096 bytes of
	// slack, then 431; no limit found on responses.
	"caddy": {request: 1<<20 + 4096, reqStatus: 431, reqWhy: "431 Request Header Fields Too Large"},
}

func TestFrontEndLimits(t *testing.T) {
	t.Parallel()
	for _, fe := range frontEnds {
		t.Run(fe.name, func(t *testing.T) {
			t.Parallel()
			w, ok := wantedLimits[fe.name]
			require.True(t, ok)
			l, p := measure(t, fe)

			// Requests.
			if w.cookieLine != 0 {
				assert.Equal(t, w.cookieLine, l.cookieLine, "the largest Cookie line that passes")
			} else {
				assert.Equal(t, w.request, l.request, "the largest request header that passes")
			}
			assert.False(t, l.cookie.none)
			assert.Equal(t, w.reqStatus, l.cookie.over.status, "one byte over the request limit: %v", l.cookie.over)
			assertSays(t, p, l.cookie.over.body, w.reqWhy)

			// Responses.
			if w.block == 0 {
				assert.True(t, l.block.none, "a response header limit: %v", l.block)
			} else {
				assert.Equal(t, w.block, l.block.largest, "the largest response header that passes")
				assert.Equal(t, w.blockStatus, l.blockBeyond.status, "two bytes over the response limit: %v", l.blockBeyond)
				assertSays(t, p, l.blockBeyond.body, w.blockWhy)
				if w.cut {
					assert.Equal(t, http.StatusOK, l.block.over.status, "one byte over the response limit: %v", l.block.over)
					assert.Error(t, l.block.over.err, "one byte over the response limit, the body is cut short")
					assertSays(t, p, "", "upstream prematurely closed connection")
				} else {
					assert.Equal(t, w.blockStatus, l.block.over.status, "one byte over the response limit: %v", l.block.over)
				}
			}
			if w.line == 0 {
				assert.True(t, l.line.none, "a response header line limit: %v", l.line)
			} else {
				assert.Equal(t, w.line, l.line.largest, "the largest Set-Cookie line that passes")
			}
		})
	}
}
