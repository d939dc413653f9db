package redisrevoke_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The tests run against real redis-server processes that they start on
// free loopback ports and stop at the end: one shared by most tests, and
// one per test that stops, pauses or restarts its Redis.

// shared is the Redis most tests use; nil when redis-server is missing.
var shared *redisServer

// skipReason is why tests needing Redis skip, when they do.
var skipReason string

func TestMain(m *testing.M) { os.Exit(runTests(m)) }

func runTests(m *testing.M) int {
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CI") == "true" {
			fmt.Fprintln(os.Stderr, "redisrevoke: redis-server is not installed, and CI=true requires these tests to run:", err)
			return 1
		}
		skipReason = "redis-server not found in PATH (Debian: apt-get install redis-server); skipping Redis tests"
		return m.Run()
	}
	s, err := startRedis(0)
	if err != nil {
		fmt.Fprintln(os.Stderr, "redisrevoke:", err)
		return 1
	}
	defer s.stop()
	shared = s
	return m.Run()
}

// needRedis skips t when redis-server is missing (TestMain has already
// failed the run if that happens in CI).
func needRedis(t *testing.T) {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
}

// ownRedis starts a Redis for t alone, stopped when t ends.
func ownRedis(t *testing.T) *redisServer {
	t.Helper()
	needRedis(t)
	s, err := startRedis(0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.stop)
	return s
}

// redisServer is one redis-server process.
type redisServer struct {
	port int
	dir  string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has exited
}

func (s *redisServer) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// startRedis starts a server on port, or on a free port when port is 0.
// Another process may take a free port between our probe and the server's
// bind, so a failed start on a probed port is retried on a new one.
func startRedis(port int) (*redisServer, error) {
	dir, err := os.MkdirTemp("", "redisrevoke-test-")
	if err != nil {
		return nil, err
	}
	var last error
	for range 3 {
		p := port
		if p == 0 {
			if p, err = freePort(); err != nil {
				return nil, err
			}
		}
		s := &redisServer{port: p, dir: dir}
		if last = s.start(); last == nil {
			return s, nil
		}
		if port != 0 {
			break
		}
	}
	os.RemoveAll(dir)
	return nil, last
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// start runs redis-server on s.port, without persistence, and waits until
// it answers PING.
func (s *redisServer) start() error {
	cmd := exec.Command("redis-server",
		"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.dir)
	log := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = log, log
	killWithParent(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()

	deadline := time.Now().Add(10 * time.Second)
	for {
		if ping(s.addr()) == nil {
			break
		}
		select {
		case <-exited:
			return fmt.Errorf("redis-server on port %d exited at start:\n%s", s.port, log)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-exited
			return fmt.Errorf("redis-server on port %d did not answer PING within 10s:\n%s", s.port, log)
		}
	}
	s.mu.Lock()
	s.cmd, s.exited = cmd, exited
	s.mu.Unlock()
	return nil
}

// ping sends PING in the inline protocol and expects +PONG.
func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(500 * time.Millisecond))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return errors.New("unexpected PING reply " + strconv.Quote(line))
	}
	return nil
}

// kill stops the server at once, as a crash would, and waits for it.
func (s *redisServer) kill() {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Kill() // SIGKILL ends a paused process too
	<-exited
}

// restart starts the server again on the same port, empty.
func (s *redisServer) restart() error { return s.start() }

// stop kills the server and removes its directory.
func (s *redisServer) stop() {
	s.kill()
	os.RemoveAll(s.dir)
}

// pause freezes the server (SIGSTOP): connections stay open and nothing is
// answered, as with a hung host or a network partition.
func (s *redisServer) pause() { s.signal(syscall.SIGSTOP) }

// resume undoes pause.
func (s *redisServer) resume() { s.signal(syscall.SIGCONT) }

func (s *redisServer) signal(sig os.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		s.cmd.Process.Signal(sig)
	}
}
