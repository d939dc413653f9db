package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/sealedgo/sealed"
	"github.com/sealedgo/sealed/examples/internal/testkeys"
)

// event reads a recorded API Gateway HTTP API (payload 2.0) event.
func event(t *testing.T, name string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var req events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(data, &req); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return req
}

func testHandler(t *testing.T) *handler {
	t.Helper()
	jwks := string(testkeys.JWKSet(t, sealed.GenerateKey("test")))
	h, err := newHandlerFromEnv(func(k string) string {
		if k == keysEnv {
			return jwks
		}
		return ""
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// invoke runs the handler on req as Lambda would: the response goes
// through its JSON form, as API Gateway receives it.
func invoke(t *testing.T, h *handler, req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	t.Helper()
	resp, err := h.handle(context.Background(), req)
	if err != nil {
		t.Fatalf("handler returned an error: %v", err)
	}
	data, err := json.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	var out events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func visits(t *testing.T, resp events.APIGatewayV2HTTPResponse) int {
	t.Helper()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d, body %q", resp.StatusCode, resp.Body)
	}
	var b struct{ Visits int }
	if err := json.Unmarshal([]byte(resp.Body), &b); err != nil {
		t.Fatalf("body %q: %v", resp.Body, err)
	}
	return b.Visits
}

// pairs turns Set-Cookie values into the "name=value" pairs a browser
// sends back, which API Gateway puts in the next event's cookies array.
// Expired cookies are dropped, as a browser drops them.
func pairs(lines []string) []string {
	var out []string
	for _, l := range lines {
		if c, err := http.ParseSetCookie(l); err == nil && c.MaxAge >= 0 {
			out = append(out, c.Name+"="+c.Value)
		}
	}
	return out
}

func TestRecordedEvents(t *testing.T) {
	h := testHandler(t)

	first := invoke(t, h, event(t, "get-first-visit.json"))
	if n := visits(t, first); n != 1 {
		t.Fatalf("first visit: %d, want 1", n)
	}
	if len(first.Cookies) != 1 || !strings.HasPrefix(first.Cookies[0], "__Host-session=") {
		t.Fatalf("first visit: want one __Host-session cookie, got %d lines", len(first.Cookies))
	}
	for _, attr := range []string{"; Path=/", "; HttpOnly", "; Secure", "; SameSite=Lax", "; Max-Age="} {
		if !strings.Contains(first.Cookies[0], attr) {
			t.Errorf("Set-Cookie lacks %q", attr)
		}
	}

	// The browser comes back with the session cookie next to its own.
	again := event(t, "get-return-visit.json")
	again.Cookies = append(again.Cookies, pairs(first.Cookies)...)
	second := invoke(t, h, again)
	if n := visits(t, second); n != 2 {
		t.Fatalf("second visit: %d, want 2", n)
	}
	if len(second.Cookies) == 0 {
		t.Fatal("second visit: the changed session was not written back")
	}

	third := event(t, "get-return-visit.json")
	third.Cookies = append(third.Cookies, pairs(second.Cookies)...)
	if n := visits(t, invoke(t, h, third)); n != 3 {
		t.Fatalf("third visit: %d, want 3", n)
	}

	// Reset ends the session: its cookie is expired.
	reset := event(t, "post-reset.json")
	reset.Cookies = append(reset.Cookies, pairs(second.Cookies)...)
	r := invoke(t, h, reset)
	if r.StatusCode != 200 || len(r.Cookies) != 1 || !strings.Contains(r.Cookies[0], "Max-Age=0") {
		t.Fatalf("reset: status %d, %d cookie lines, want 200 and one expired cookie", r.StatusCode, len(r.Cookies))
	}
}

func TestTamperedCookie(t *testing.T) {
	h := testHandler(t)
	first := invoke(t, h, event(t, "get-first-visit.json"))
	visits(t, first)
	pair := pairs(first.Cookies)[0]
	name, value, _ := strings.Cut(pair, "=")

	// Change one character in the middle of the sealed value.
	b := []byte(value)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	req := event(t, "get-return-visit.json")
	req.Cookies = append(req.Cookies, name+"="+string(b))
	resp := invoke(t, h, req)
	if n := visits(t, resp); n != 1 {
		t.Fatalf("tampered cookie: visits %d, want 1 (a fresh session)", n)
	}
	if len(resp.Cookies) != 1 {
		t.Fatalf("tampered cookie: want a new session cookie, got %d lines", len(resp.Cookies))
	}
}

func TestRoutes(t *testing.T) {
	h := testHandler(t)
	req := event(t, "get-first-visit.json")
	req.RawPath, req.RequestContext.HTTP.Path = "/nope", "/nope"
	if r := invoke(t, h, req); r.StatusCode != 404 || len(r.Cookies) != 0 {
		t.Errorf("unknown path: %d, %d cookies", r.StatusCode, len(r.Cookies))
	}
	req = event(t, "get-first-visit.json")
	req.RequestContext.HTTP.Method = "DELETE"
	if r := invoke(t, h, req); r.StatusCode != 405 {
		t.Errorf("DELETE /: %d, want 405", r.StatusCode)
	}
}

func TestKeysRequired(t *testing.T) {
	for name, val := range map[string]string{"unset": "", "bad": `{"keys":[]}`} {
		_, err := newHandlerFromEnv(func(k string) string {
			if k == keysEnv {
				return val
			}
			return ""
		}, nil)
		if err == nil || !strings.Contains(err.Error(), keysEnv) {
			t.Errorf("%s %s: error %v, want one naming %s", name, keysEnv, err, keysEnv)
		}
	}
}
