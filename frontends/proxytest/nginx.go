package proxytest

import (
	"fmt"
	"path/filepath"
	"testing"
)

// Nginx starts nginx as a reverse proxy to upstream (http://host:port) on a
// free 127.0.0.1 port. Its http block holds only proxy_pass, the paths that
// keep it inside t.TempDir() (access log and temporary files), and
// directives: extra lines of the http block, such as
//
//	proxy_buffer_size 8k;
//	proxy_buffers 8 8k;
//
// With "" every limit is nginx's default. It runs in the foreground as one
// process (master_process off), so nothing switches user, and is stopped
// when the test ends.
func Nginx(t testing.TB, upstream, directives string) *Proxy {
	t.Helper()
	return nginx(t, upstream, directives, false)
}

// NginxTLS is [Nginx] listening with TLS (https://127.0.0.1:port), with a
// certificate for 127.0.0.1, ::1 and localhost generated for the test and
// given in the Proxy's Certificate. Browsers need to be told to accept it
// (Chromium: --ignore-certificate-errors).
func NginxTLS(t testing.TB, upstream, directives string) *Proxy {
	t.Helper()
	return nginx(t, upstream, directives, true)
}

func nginx(t testing.TB, upstream, directives string, withTLS bool) *Proxy {
	t.Helper()
	Need(t, "nginx")
	s := server{name: "nginx", binary: "nginx"}
	var certFile, keyFile string
	if withTLS {
		s.name = "nginx-tls"
		dir := t.TempDir()
		var err error
		if s.tls, certFile, keyFile, err = selfSigned(dir); err != nil {
			t.Fatalf("proxytest: certificate: %v", err)
		}
	}
	s.setup = func(dir string, port int, up string) (args, logs []string, err error) {
		errorLog := filepath.Join(dir, "error.log")
		listen := fmt.Sprintf("listen 127.0.0.1:%d;", port)
		if withTLS {
			listen = fmt.Sprintf("listen 127.0.0.1:%d ssl;\n\t\tssl_certificate %s;\n\t\tssl_certificate_key %s;", port, certFile, keyFile)
		}
		conf := fmt.Sprintf(`# Written by proxytest: nginx's defaults except the paths and the lines after proxy_pass.
daemon off;
master_process off;
pid %[1]s/nginx.pid;
error_log %[2]s;
events {}
http {
	access_log %[1]s/access.log;
	client_body_temp_path %[1]s/client_body;
	proxy_temp_path %[1]s/proxy;
	fastcgi_temp_path %[1]s/fastcgi;
	uwsgi_temp_path %[1]s/uwsgi;
	scgi_temp_path %[1]s/scgi;
%[5]s	server {
		%[3]s
		location / {
			proxy_pass http://%[4]s;
		}
	}
}
`, dir, errorLog, listen, up, indent(directives, "\t"))
		path, err := writeFile(dir, "nginx.conf", conf)
		// -e: the error log before the configuration is read, which
		// would otherwise be the compiled-in /var/log/nginx/error.log.
		return []string{"-p", dir + "/", "-c", path, "-e", errorLog}, []string{errorLog}, err
	}
	return start(t, upstream, s)
}
