// Package proxytest starts real reverse proxies (nginx, Apache httpd,
// HAProxy, Caddy) in front of an upstream for a test, each on a free
// 127.0.0.1 port with its own minimal configuration in t.TempDir(): never a
// system service, never a config under /etc. Each uses the server's
// default limits unless the directives passed say otherwise, and is
// stopped when the test ends.
//
// A test that needs a program calls [Need] (the starters call it too): the
// test is skipped when the program is not installed, and fails instead
// when the environment has CI=true, so that CI cannot pass by skipping.
package proxytest

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Proxy is a running reverse proxy.
type Proxy struct {
	// Name says which server it is ("nginx", "nginx-tls", "apache",
	// "haproxy", "caddy").
	Name string
	// URL is where it listens: http://127.0.0.1:port, or https:// for
	// [NginxTLS].
	URL string
	// Certificate is the self-signed certificate of a TLS proxy (for
	// 127.0.0.1, ::1 and localhost), nil otherwise.
	Certificate *x509.Certificate

	logs []string // files whose contents ErrorLog returns
}

// ErrorLog returns what the server has logged so far: its error log and
// whatever it wrote to stdout and stderr. Servers quote requests there
// (nginx the start of a header line it refused), so it may hold cookie
// values: assert on it, and do not log it whole. When a test fails, the
// log is written to the test output with long tokens redacted.
func (p *Proxy) ErrorLog() string {
	var b strings.Builder
	for _, name := range p.logs {
		data, err := os.ReadFile(name)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(&b, "(%v)\n", err)
		}
		b.Write(data)
	}
	return b.String()
}

// Client returns an HTTP client for the proxy: it trusts the proxy's
// certificate (if any), keeps no connections between requests (each
// request meets the proxy afresh, as a failed one may have closed it) and
// does not follow redirects.
func (p *Proxy) Client() *http.Client {
	tr := &http.Transport{DisableKeepAlives: true, Proxy: nil}
	if p.Certificate != nil {
		pool := x509.NewCertPool()
		pool.AddCert(p.Certificate)
		tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	}
	return &http.Client{
		Transport:     tr,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Need skips t unless every program is installed (on PATH, or in /usr/sbin
// or /sbin, where Debian puts nginx, apache2 and haproxy), and fails it
// instead when CI=true.
func Need(t testing.TB, programs ...string) {
	t.Helper()
	for _, p := range programs {
		if _, err := lookPath(p); err != nil {
			missing(t, fmt.Sprintf("%s is not installed (%v)", p, err))
		}
	}
}

func missing(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s, and CI=true requires this test to run", msg)
	}
	t.Skip(msg + "; skipping")
}

// lookPath finds program on PATH, then in the sbin directories that a
// user's PATH may lack.
func lookPath(program string) (string, error) {
	path, err := exec.LookPath(program)
	if err == nil {
		return path, nil
	}
	if !strings.Contains(program, "/") {
		for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/local/sbin"} {
			candidate := filepath.Join(dir, program)
			if fi, err := os.Stat(candidate); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
				return candidate, nil
			}
		}
	}
	return "", err
}

// upstreamAddr returns host:port of an upstream given as a URL
// ("http://127.0.0.1:8080") or as host:port.
func upstreamAddr(t testing.TB, upstream string) string {
	t.Helper()
	if !strings.Contains(upstream, "://") {
		upstream = "http://" + upstream
	}
	u, err := url.Parse(upstream)
	if err != nil || u.Host == "" || u.Scheme != "http" {
		t.Fatalf("proxytest: upstream %q: want http://host:port", upstream)
	}
	if u.Port() == "" {
		u.Host = net.JoinHostPort(u.Hostname(), "80")
	}
	return u.Host
}

// server describes how to start one proxy on a port.
type server struct {
	name   string
	binary string
	// setup writes the configuration for port and the upstream up
	// (host:port) into dir and returns the command's arguments and the log
	// files (besides stdout and stderr).
	setup func(dir string, port int, up string) (args, logs []string, err error)
	// env, if not nil, returns extra environment for the server run in
	// dir.
	env func(dir string) []string
	tls *x509.Certificate
}

// start runs s on a free port as a proxy to upstream (see [upstreamAddr])
// and waits until it accepts connections. Like [Need], it skips t when
// s.binary is not installed. Another process may take the probed port
// before the server binds it, so a start that fails that way is retried
// on a new port.
func start(t testing.TB, upstream string, s server) *Proxy {
	t.Helper()
	bin, err := lookPath(s.binary)
	if err != nil {
		missing(t, fmt.Sprintf("%s is not installed (%v)", s.binary, err))
	}
	up := upstreamAddr(t, upstream)
	var last error
	for attempt := range 3 {
		dir := filepath.Join(t.TempDir(), s.name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		port, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		args, logs, err := s.setup(dir, port, up)
		if err != nil {
			t.Fatalf("proxytest: %s: %v", s.name, err)
		}
		var env []string
		if s.env != nil {
			env = s.env(dir)
		}
		p, err := run(t, s, bin, dir, port, args, logs, env)
		if err == nil {
			return p
		}
		last = err
		if !strings.Contains(strings.ToLower(err.Error()), "in use") || attempt == 2 {
			break
		}
	}
	t.Fatalf("proxytest: %v", last)
	return nil
}

const startTimeout = 20 * time.Second

func run(t testing.TB, s server, bin, dir string, port int, args, logs, env []string) (*Proxy, error) {
	out := filepath.Join(dir, "output.log")
	f, err := os.Create(out)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = append(os.Environ(), env...)
	ownGroup(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", s.name, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()

	scheme := "http"
	if s.tls != nil {
		scheme = "https"
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	p := &Proxy{Name: s.name, URL: scheme + "://" + addr, Certificate: s.tls, logs: append(logs, out)}
	stop := func() {
		select {
		case <-exited:
			return
		default:
		}
		signalGroup(cmd, false)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			signalGroup(cmd, true)
			<-exited
		}
	}

	deadline := time.Now().Add(startTimeout)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		select {
		case <-exited:
			return nil, fmt.Errorf("%s exited at start (%v); its log:\n%s", s.name, cmd.ProcessState, redact(p.ErrorLog()))
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("%s did not accept connections on %s within %v; its log:\n%s", s.name, addr, startTimeout, redact(p.ErrorLog()))
		}
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("%s log (long tokens redacted):\n%s", s.name, redact(p.ErrorLog()))
		}
	})
	return p, nil
}

// tokens are runs of characters that could be a cookie value, a key or a
// session (base64url and hex runs of 24 characters or more).
var tokens = regexp.MustCompile(`[A-Za-z0-9_=-]{24,}`)

// redact replaces long tokens in a log with their length, so that a log
// shown for a failed test carries no cookie value.
func redact(log string) string {
	return tokens.ReplaceAllStringFunc(log, func(s string) string { return fmt.Sprintf("[%d bytes]", len(s)) })
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// writeFile writes a configuration file into dir.
func writeFile(dir, name, content string) (string, error) {
	path := filepath.Join(dir, name)
	return path, os.WriteFile(path, []byte(content), 0o644)
}

// indent prefixes each line of directives with tabs, for readable configs.
func indent(directives, prefix string) string {
	var b bytes.Buffer
	for line := range strings.SplitSeq(strings.TrimSpace(directives), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		b.WriteString(prefix + strings.TrimSpace(line) + "\n")
	}
	return b.String()
}
