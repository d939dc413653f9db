package demo

import (
	"flag"
	"io"
	"testing"
)

func TestInsecure(t *testing.T) {
	for _, tc := range []struct {
		addr                string
		auto, secure, insec bool
	}{
		{"127.0.0.1:8080", true, false, true},
		{"127.0.0.2:0", true, false, true},
		{"[::1]:8080", true, false, true},
		{"localhost:8080", true, false, true},
		{"LOCALHOST:8080", true, false, true},
		{":8080", false, false, true},
		{"0.0.0.0:8080", false, false, true},
		{"[::]:8080", false, false, true},
		{"192.0.2.1:8080", false, false, true},
		{"example.com:443", false, false, true},
		{"", false, false, true},
	} {
		if got := CookiesAuto.Insecure(tc.addr); got != tc.auto {
			t.Errorf("auto on %q: insecure %v, want %v", tc.addr, got, tc.auto)
		}
		if got := CookiesSecure.Insecure(tc.addr); got != tc.secure {
			t.Errorf("secure on %q: insecure %v", tc.addr, got)
		}
		if got := CookiesInsecure.Insecure(tc.addr); got != tc.insec {
			t.Errorf("insecure on %q: insecure %v", tc.addr, got)
		}
	}
}

func TestCookiesFlag(t *testing.T) {
	parse := func(env string, args ...string) (Cookies, error) {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		c, err := CookiesFlag(fs, func(k string) string {
			if k == CookiesEnv {
				return env
			}
			return ""
		})
		if err != nil {
			return 0, err
		}
		if err := fs.Parse(args); err != nil {
			return 0, err
		}
		return *c, nil
	}
	for _, tc := range []struct {
		env  string
		args []string
		want Cookies
	}{
		{"", nil, CookiesAuto},
		{"secure", nil, CookiesSecure},
		{"Insecure", nil, CookiesInsecure},
		{"auto", nil, CookiesAuto},
		{"", []string{"-cookies", "secure"}, CookiesSecure},
		{"secure", []string{"-cookies", "insecure"}, CookiesInsecure},
		{"insecure", []string{"-cookies=auto"}, CookiesAuto},
	} {
		got, err := parse(tc.env, tc.args...)
		if err != nil || got != tc.want {
			t.Errorf("%s=%q %q: %v, %v; want %v", CookiesEnv, tc.env, tc.args, got, err, tc.want)
		}
	}
	if _, err := parse("yes"); err == nil {
		t.Errorf("%s=yes: no error", CookiesEnv)
	}
	if _, err := parse("", "-cookies", "on"); err == nil {
		t.Error("-cookies on: no error")
	}
}

func TestCookieName(t *testing.T) {
	if CookieName(true) != "session" || CookieName(false) != "__Host-session" {
		t.Fatalf("CookieName: %q, %q", CookieName(true), CookieName(false))
	}
}
