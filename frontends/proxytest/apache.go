package proxytest

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"testing"
)

// moduleDirs are where distributions put Apache httpd's modules.
var moduleDirs = []string{
	"/usr/lib/apache2/modules", // Debian, Ubuntu
	"/usr/lib64/httpd/modules", // Fedora, RHEL
	"/usr/lib/httpd/modules",
	"/usr/libexec/apache2", // Alpine, macOS
	"/usr/local/apache2/modules",
}

// Apache starts Apache httpd (apache2, or httpd) with mod_proxy and
// mod_proxy_http as a reverse proxy to upstream (http://host:port) on a
// free 127.0.0.1 port, with a configuration of its own in t.TempDir():
// ServerRoot, PidFile, ErrorLog and Mutex there, the event MPM,
// ProxyPass to upstream, and directives (extra server-level lines such as
// "LimitRequestFieldSize 16380"; "" keeps every default). It runs with
// -DFOREGROUND and is stopped when the test ends.
func Apache(t testing.TB, upstream, directives string) *Proxy {
	t.Helper()
	bin := "apache2"
	if _, err := lookPath(bin); err != nil {
		if _, err := lookPath("httpd"); err == nil {
			bin = "httpd"
		}
	}
	Need(t, bin)
	modules := ""
	for _, dir := range moduleDirs {
		if _, err := os.Stat(filepath.Join(dir, "mod_proxy_http.so")); err == nil {
			modules = dir
			break
		}
	}
	if modules == "" {
		missing(t, fmt.Sprintf("mod_proxy_http.so not found in %v", moduleDirs))
	}
	for _, m := range []string{"mod_mpm_event.so", "mod_authz_core.so", "mod_proxy.so"} {
		if _, err := os.Stat(filepath.Join(modules, m)); err != nil {
			missing(t, fmt.Sprintf("Apache module %s not found in %s", m, modules))
		}
	}
	// Started as root, httpd's children switch to User and Group, which
	// then must exist; as anyone else the directives are ignored.
	runAs := ""
	if os.Geteuid() == 0 {
		uid, gid := "65534", "65534"
		if u, err := user.Lookup("nobody"); err == nil {
			uid, gid = u.Uid, u.Gid
		}
		runAs = fmt.Sprintf("User #%s\nGroup #%s\n", uid, gid)
	}
	s := server{name: "apache", binary: bin}
	s.setup = func(dir string, port int, up string) (args, logs []string, err error) {
		errorLog := filepath.Join(dir, "error.log")
		conf := fmt.Sprintf(`# Written by proxytest: httpd's defaults except the paths and the lines after ProxyPass.
ServerRoot "%[1]s"
DefaultRuntimeDir "%[1]s"
PidFile "%[1]s/httpd.pid"
ErrorLog "%[2]s"
Mutex file:%[1]s default
Listen 127.0.0.1:%[3]d
ServerName 127.0.0.1
%[4]sLoadModule mpm_event_module %[5]s/mod_mpm_event.so
LoadModule authz_core_module %[5]s/mod_authz_core.so
LoadModule proxy_module %[5]s/mod_proxy.so
LoadModule proxy_http_module %[5]s/mod_proxy_http.so
ProxyPass "/" "http://%[6]s/"
%[7]s`, dir, errorLog, port, runAs, modules, up, indent(directives, ""))
		path, err := writeFile(dir, "httpd.conf", conf)
		return []string{"-f", path, "-DFOREGROUND"}, []string{errorLog}, err
	}
	return start(t, upstream, s)
}
