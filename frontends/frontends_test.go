package frontends_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sealedgo/sealed/frontends/proxytest"
)

// frontEnd is a proxy configuration under test.
type frontEnd struct {
	name       string
	start      func(t testing.TB, upstream, directives string) *proxytest.Proxy
	directives string
}

// nginx8k is the configuration README gives for BudgetNginx8k.
const nginx8k = "proxy_buffer_size 8k;\nproxy_buffers 8 8k;"

var (
	nginxDefault = frontEnd{"nginx", proxytest.Nginx, ""}
	nginxBig     = frontEnd{"nginx-8k", proxytest.Nginx, nginx8k}
	apache       = frontEnd{"apache", proxytest.Apache, ""}
	haproxy      = frontEnd{"haproxy", proxytest.HAProxy, ""}
	caddy        = frontEnd{"caddy", proxytest.Caddy, ""}

	frontEnds = []frontEnd{nginxDefault, nginxBig, apache, haproxy, caddy}
)

// answer is what a request through a proxy got.
type answer struct {
	status int // 0: the connection ended without a response
	header http.Header
	body   string
	err    error
}

func (a answer) String() string {
	if a.status == 0 {
		return fmt.Sprintf("no response (%v)", a.err)
	}
	body := a.body
	if len(body) > 200 {
		body = body[:200] + "..."
	}
	if a.err != nil {
		return fmt.Sprintf("%d %q, then %v", a.status, body, a.err)
	}
	return fmt.Sprintf("%d %q", a.status, body)
}

// rawGet sends one GET with exactly the given header lines (after Host)
// on a connection of its own and reads the answer, so that the test knows
// every byte of the request header.
func rawGet(p *proxytest.Proxy, target string, lines ...string) answer {
	u, err := url.Parse(p.URL)
	if err != nil {
		return answer{err: err}
	}
	c, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		return answer{err: err}
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	req := requestHead(u.Host, target, lines...)
	// Read while writing: a proxy may answer and close before it has
	// read a request it refuses.
	werr := make(chan error, 1)
	go func() { _, err := io.WriteString(c, req); werr <- err }()
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		if e := <-werr; e != nil {
			err = fmt.Errorf("%w (writing: %v)", err, e)
		}
		return answer{err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: string(body), err: err}
}

// requestHead is the request header rawGet sends.
func requestHead(host, target string, lines ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\n", target, host)
	for _, l := range lines {
		b.WriteString(l + "\r\n")
	}
	b.WriteString("Connection: close\r\n\r\n")
	return b.String()
}
