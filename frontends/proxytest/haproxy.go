package proxytest

import (
	"fmt"
	"testing"
)

// HAProxy starts HAProxy in HTTP mode as a reverse proxy to upstream
// (http://host:port) on a free 127.0.0.1 port: one frontend, one backend
// with one server, the timeouts HAProxy warns without, and directives
// (extra lines of the global section such as "tune.bufsize 32768"; ""
// keeps every default). It runs in the foreground and is stopped when the
// test ends. HAProxy logs nothing by default; ErrorLog returns what it
// printed.
func HAProxy(t testing.TB, upstream, directives string) *Proxy {
	t.Helper()
	s := server{name: "haproxy", binary: "haproxy"}
	s.setup = func(dir string, port int, up string) (args, logs []string, err error) {
		conf := fmt.Sprintf(`# Written by proxytest: HAProxy's defaults except mode http, the timeouts and the global lines.
global
%[1]s
defaults
	mode http
	timeout connect 10s
	timeout client 60s
	timeout server 60s

frontend proxytest
	bind 127.0.0.1:%[2]d
	default_backend upstream

backend upstream
	server upstream %[3]s
`, indent(directives, "\t"), port, up)
		path, err := writeFile(dir, "haproxy.cfg", conf)
		return []string{"-f", path}, nil, err
	}
	return start(t, upstream, s)
}
