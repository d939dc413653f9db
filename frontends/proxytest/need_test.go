package proxytest

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// recorder is a testing.TB that records what Need does with it.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper() {}
func (r *recorder) Skip(args ...any) {
	r.skipped = fmt.Sprint(args...)
	runtime.Goexit()
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// need runs Need in a goroutine of its own, as Skip and Fatalf end it.
func need(programs ...string) *recorder {
	r := &recorder{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Need(r, programs...)
	}()
	<-done
	return r
}

const absent = "proxytest-no-such-program"

func TestNeedSkipsLocally(t *testing.T) {
	t.Setenv("CI", "")
	r := need("sh", absent)
	assert.Contains(t, r.skipped, absent+" is not installed")
	assert.Empty(t, r.failed)

	r = need("sh")
	assert.Empty(t, r.skipped)
	assert.Empty(t, r.failed)
}

func TestNeedFailsInCI(t *testing.T) {
	t.Setenv("CI", "true")
	r := need(absent)
	assert.Contains(t, r.failed, absent+" is not installed")
	assert.Contains(t, r.failed, "CI=true")
	assert.Empty(t, r.skipped)
}

func TestLookPathFindsSbin(t *testing.T) {
	t.Setenv("PATH", "/nonexistent")
	// Debian puts nginx, apache2 and haproxy in /usr/sbin, which a
	// user's PATH may lack; sh is in /bin or /usr/bin, not found.
	_, err := lookPath("sh")
	assert.Error(t, err)
	for _, p := range []string{"nginx", "apache2", "haproxy"} {
		if path, err := lookPath(p); err == nil {
			assert.True(t, strings.HasPrefix(path, "/usr/sbin/") || strings.HasPrefix(path, "/sbin/") || strings.HasPrefix(path, "/usr/local/sbin/"), path)
		}
	}
}

func TestRedact(t *testing.T) {
	log := `client sent too long header line: "Cookie: __Host-session=2.AZY7pasAAAAAaw9JHF4yeV0KlvPH7L0X..." while reading client request headers, client: 127.0.0.1`
	got := redact(log)
	assert.NotContains(t, got, "AZY7pasAAAAAaw9JHF4yeV0KlvPH7L0X")
	assert.Contains(t, got, "client sent too long header line")
	assert.Contains(t, got, "client: 127.0.0.1")
}
