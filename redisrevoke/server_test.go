package redisrevoke_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The tests run against real redis-server processes that they start on
// free loopback ports and stop at the end: one shared by most tests, a
// Redis Cluster shared by the cluster tests (cluster_test.go), and one or
// more per test that stops, pauses, restarts or fails over its Redis.

// shared is the Redis most tests use; nil when redis-server is missing.
var shared *redisServer

// skipReason is why tests needing Redis skip, when they do.
var skipReason string

func TestMain(m *testing.M) { os.Exit(runTests(m)) }

func runTests(m *testing.M) int {
	// redis-cli creates the cluster; Sentinel is redis-server --sentinel.
	for _, prog := range []string{"redis-server", "redis-cli"} {
		if _, err := exec.LookPath(prog); err != nil {
			if os.Getenv("CI") == "true" {
				fmt.Fprintln(os.Stderr, "redisrevoke:", prog, "is not installed, and CI=true requires these tests to run:", err)
				return 1
			}
			skipReason = prog + " not found in PATH (Debian: apt-get install redis-server redis-tools); skipping Redis tests"
			return m.Run()
		}
	}
	s, err := startRedis(nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "redisrevoke:", err)
		return 1
	}
	defer s.stop()
	defer stopSharedCluster()
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

// ownRedis starts a Redis for t alone, stopped when t ends; argv as for
// startRedis.
func ownRedis(t *testing.T, argv ...string) *redisServer {
	t.Helper()
	needRedis(t)
	s, err := startRedis(func(int, string) ([]string, error) { return argv, nil })
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
	argv []string // the arguments after the config file

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has exited
}

func (s *redisServer) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// argvFunc returns the arguments that follow a server's config file,
// given the port it will listen on and its own directory, where it may
// write files. It may return a config file of its own as the first
// argument (Sentinel needs one it can rewrite).
type argvFunc func(port int, dir string) ([]string, error)

// startRedis starts a server on a free port, in a directory of its own,
// with argv's arguments after the standard ones (nil: none). Another
// process may take a free port between our probe and the server's bind,
// so a failed start is retried on a new one.
func startRedis(argv argvFunc) (*redisServer, error) {
	dir, err := os.MkdirTemp("", "redisrevoke-test-")
	if err != nil {
		return nil, err
	}
	var last error
	for range 3 {
		p, err := freePort()
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		s := &redisServer{port: p, dir: dir}
		if argv != nil {
			if s.argv, err = argv(p, dir); err != nil {
				os.RemoveAll(dir)
				return nil, err
			}
		}
		if last = s.start(); last == nil {
			return s, nil
		}
	}
	os.RemoveAll(dir)
	return nil, last
}

// freePort returns a port on 127.0.0.1 that was free a moment ago.
func freePort() (port int, err error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err == nil {
		port = l.Addr().(*net.TCPAddr).Port
		l.Close()
	}
	return port, err
}

// start runs redis-server on s.port, without persistence, and waits until
// it answers PING. It runs from a config file, empty unless s.argv names
// one first, so that CONFIG REWRITE (which Sentinel sends to a replica it
// promotes) has a file to write.
func (s *redisServer) start() error {
	args := s.argv
	conf := filepath.Join(s.dir, "redis.conf")
	if len(args) > 0 && strings.HasSuffix(args[0], ".conf") {
		conf, args = args[0], args[1:]
	} else if err := os.WriteFile(conf, nil, 0o600); err != nil {
		return err
	}
	cmd := exec.Command("redis-server", append([]string{conf,
		"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.dir,
		// A replica's first sync starts at once, not after the
		// default 5 s that waits for more replicas to join it.
		"--repl-diskless-sync-delay", "0"}, args...)...)
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
