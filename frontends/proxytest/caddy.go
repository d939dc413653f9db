package proxytest

import (
	"fmt"
	"path/filepath"
	"testing"
)

// Caddy starts Caddy as a reverse proxy to upstream (http://host:port) on
// a free 127.0.0.1 port, from a Caddyfile of its own: admin off, one
// plain-HTTP site bound to 127.0.0.1 with reverse_proxy, and directives
// (extra lines inside the reverse_proxy block, such as a transport; ""
// keeps every default). HOME and the XDG directories point into
// t.TempDir(), so Caddy writes nothing elsewhere. It is stopped when the
// test ends; ErrorLog returns what it printed.
func Caddy(t testing.TB, upstream, directives string) *Proxy {
	t.Helper()
	s := server{name: "caddy", binary: "caddy", env: caddyEnv}
	s.setup = func(dir string, port int, up string) (args, logs []string, err error) {
		conf := fmt.Sprintf(`# Written by proxytest: Caddy's defaults except the lines in reverse_proxy.
{
	admin off
}

http://127.0.0.1:%[1]d {
	bind 127.0.0.1
	reverse_proxy %[2]s {
%[3]s	}
}
`, port, "http://"+up, indent(directives, "\t\t"))
		path, err := writeFile(dir, "Caddyfile", conf)
		return []string{"run", "--config", path, "--adapter", "caddyfile"}, nil, err
	}
	return start(t, upstream, s)
}

// caddyEnv points HOME and the XDG directories into dir, so that Caddy
// writes nothing elsewhere.
func caddyEnv(dir string) []string {
	return []string{
		"HOME=" + dir,
		"XDG_CONFIG_HOME=" + filepath.Join(dir, "config"),
		"XDG_DATA_HOME=" + filepath.Join(dir, "data"),
	}
}
