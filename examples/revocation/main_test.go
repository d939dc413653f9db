package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sealedgo/sealed"
)

// redisServer is a redis-server process the test started.
type redisServer struct {
	addr string
	cmd  *exec.Cmd
	done chan struct{}
}

// startRedis runs redis-server on a free loopback port, without
// persistence, until the test ends. Without the binary the test is
// skipped, except under CI=true, where it fails.
func startRedis(t *testing.T) *redisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("redis-server is required under CI=true: %v", err)
		}
		t.Skip("redis-server not found in PATH (Debian: apt-get install redis-server)")
	}
	var lastErr error
	for range 3 { // a probed free port can be taken before redis binds it
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		s := &redisServer{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), done: make(chan struct{})}
		var out strings.Builder
		s.cmd = exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--dir", t.TempDir())
		s.cmd.Stdout, s.cmd.Stderr = &out, &out
		if err := s.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { s.cmd.Wait(); close(s.done) }()
		if lastErr = s.waitReady(); lastErr == nil {
			t.Cleanup(s.kill)
			return s
		}
		s.kill()
		lastErr = fmt.Errorf("%w\n%s", lastErr, out.String())
	}
	t.Fatalf("redis-server did not start: %v", lastErr)
	return nil
}

func (s *redisServer) waitReady() error {
	c := newRedisClient(s.addr)
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-s.done:
			return fmt.Errorf("redis-server exited at start: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redis-server did not answer PING within 10s: %v", err)
		}
	}
}

func (s *redisServer) kill() {
	s.cmd.Process.Kill()
	<-s.done
}

// device is one browser: its own cookie jar.
type device struct {
	t *testing.T
	c *http.Client
}

func newDevice(t *testing.T) *device {
	jar, _ := cookiejar.New(nil)
	return &device{t: t, c: &http.Client{Jar: jar}}
}

func (d *device) do(method, rawURL string, form url.Values) (int, string) {
	d.t.Helper()
	var resp *http.Response
	var err error
	if method == "GET" {
		resp, err = d.c.Get(rawURL)
	} else {
		resp, err = d.c.PostForm(rawURL, form)
	}
	if err != nil {
		d.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

var userRe = regexp.MustCompile(`<span id="user">([^<]*)</span>`)

// user returns whom the device is logged in as on the server at base.
func (d *device) user(base string) string {
	d.t.Helper()
	code, body := d.do("GET", base+"/", nil)
	if code != 200 {
		d.t.Fatalf("GET /: %d %s", code, body)
	}
	if m := userRe.FindStringSubmatch(body); m != nil {
		return m[1]
	}
	return ""
}

// startInstances starts n servers sharing one key set and one Redis, as a
// fleet behind a load balancer would.
func startInstances(t *testing.T, r *redisServer, n int) []string {
	t.Helper()
	keys, err := sealed.NewKeyring(sealed.GenerateKey("test"))
	if err != nil {
		t.Fatal(err)
	}
	var urls []string
	for range n {
		client := newRedisClient(r.addr)
		t.Cleanup(func() { client.Close() })
		h, err := newServer(config{Keys: keys, Insecure: true}, client)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		urls = append(urls, srv.URL)
	}
	return urls
}

func TestLogoutEverywhere(t *testing.T) {
	r := startRedis(t)
	srv := startInstances(t, r, 2)
	laptop, phone := newDevice(t), newDevice(t)

	// Both devices log in as erin, each through a different server.
	for i, d := range []*device{laptop, phone} {
		if code, body := d.do("POST", srv[i]+"/login", url.Values{"name": {"erin"}}); code != 200 {
			t.Fatalf("login: %d %s", code, body)
		}
		if u := d.user(srv[i]); u != "erin" {
			t.Fatalf("device %d after login: %q, want erin", i, u)
		}
	}
	// And someone else, who must stay logged in.
	other := newDevice(t)
	other.do("POST", srv[0]+"/login", url.Values{"name": {"frank"}})

	// RevokeSubject ends the sessions created in an earlier millisecond:
	// let the clock move past the logins.
	time.Sleep(2 * time.Millisecond)
	code, body := laptop.do("POST", srv[0]+"/logout-everywhere", nil)
	if code != 200 || !strings.Contains(body, "logged out everywhere") {
		t.Fatalf("logout-everywhere: %d %s", code, body)
	}

	// The phone is logged out, on either server.
	if u := phone.user(srv[1]); u != "" {
		t.Fatalf("phone after log out everywhere: still %q", u)
	}
	if u := laptop.user(srv[1]); u != "" {
		t.Fatalf("laptop after log out everywhere: still %q", u)
	}
	if u := other.user(srv[1]); u != "frank" {
		t.Fatalf("another user: %q, want frank still logged in", u)
	}

	// Logging in again afterwards works.
	phone.do("POST", srv[1]+"/login", url.Values{"name": {"erin"}})
	if u := phone.user(srv[0]); u != "erin" {
		t.Fatalf("phone after logging in again: %q, want erin", u)
	}
}

func TestLogoutOneDevice(t *testing.T) {
	r := startRedis(t)
	srv := startInstances(t, r, 2)
	laptop := newDevice(t)
	laptop.do("POST", srv[0]+"/login", url.Values{"name": {"gina"}})
	base, _ := url.Parse(srv[0])
	stolen := laptop.c.Jar.Cookies(base)

	code, body := laptop.do("POST", srv[0]+"/logout", nil)
	if code != 200 || !strings.Contains(body, "logged out on this device") {
		t.Fatalf("logout: %d %s", code, body)
	}
	// A copy of the cookie taken before the logout is refused by the
	// other server too: the ID is on the shared list.
	thief := newDevice(t)
	other, _ := url.Parse(srv[1])
	thief.c.Jar.SetCookies(other, stolen)
	if u := thief.user(srv[1]); u != "" {
		t.Fatalf("replayed pre-logout cookie: logged in as %q", u)
	}
}

func TestRedisDownFailsClosed(t *testing.T) {
	r := startRedis(t)
	srv := startInstances(t, r, 1)
	d := newDevice(t)
	d.do("POST", srv[0]+"/login", url.Values{"name": {"hal"}})
	if u := d.user(srv[0]); u != "hal" {
		t.Fatalf("login: %q", u)
	}
	r.kill()
	if code, _ := d.do("GET", srv[0]+"/", nil); code != http.StatusServiceUnavailable {
		t.Fatalf("with Redis down, a request with a session: %d, want 503", code)
	}
	// A visitor without a session needs no lookup.
	if code, _ := newDevice(t).do("GET", srv[0]+"/", nil); code != 200 {
		t.Fatalf("with Redis down, a request without a session: %d, want 200", code)
	}
}
