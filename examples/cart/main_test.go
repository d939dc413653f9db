package main

import (
	"crypto/rand"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

type shopper struct {
	t    *testing.T
	base string
	c    *http.Client
	jar  *cookiejar.Jar
	// maxHeader is the largest response header seen, in bytes.
	maxHeader int
}

// headerBytes is the size of resp's header as the server sent it: the
// status line, each "Name: value" line and the CRLFs, the blank line
// included. It is what nginx must fit in proxy_buffer_size.
func headerBytes(resp *http.Response) int {
	n := len(resp.Proto) + 1 + len(resp.Status) + 2 + 2
	for k, vs := range resp.Header {
		for _, v := range vs {
			n += len(k) + 2 + len(v) + 2
		}
	}
	return n
}

func newShopper(t *testing.T, budget string) *shopper {
	t.Helper()
	h, err := newServer(config{BudgetName: budget, Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{
		Jar: jar,
		// Look at each response itself, Set-Cookie lines included.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &shopper{t: t, base: srv.URL, c: c, jar: jar}
}

// do sends a request and checks every Set-Cookie line of the response.
func (s *shopper) do(req *http.Request) (*http.Response, string) {
	s.t.Helper()
	resp, err := s.c.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, l := range resp.Header.Values("Set-Cookie") {
		if len(l) > 4096 {
			s.t.Fatalf("%s %s: a Set-Cookie line of %d bytes, over 4096", req.Method, req.URL.Path, len(l))
		}
	}
	if n := headerBytes(resp); n > s.maxHeader {
		s.maxHeader = n
	}
	return resp, string(body)
}

func (s *shopper) post(path string, form url.Values) (*http.Response, string) {
	s.t.Helper()
	req, _ := http.NewRequest("POST", s.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return s.do(req)
}

func (s *shopper) home() string {
	s.t.Helper()
	req, _ := http.NewRequest("GET", s.base+"/", nil)
	resp, body := s.do(req)
	if resp.StatusCode != 200 {
		s.t.Fatalf("GET /: %d %s", resp.StatusCode, body)
	}
	if n := len(resp.Header.Values("Set-Cookie")); n != 0 {
		s.t.Fatalf("GET / only reads the cart, but set %d cookies", n)
	}
	return body
}

func field(t *testing.T, body, id string) int {
	t.Helper()
	m := regexp.MustCompile(`<span id="` + id + `">(\d+)</span>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no %s in page:\n%s", id, body)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// note is a gift message that does not compress or repeat.
func note() string {
	var b strings.Builder
	for b.Len() < 300 {
		b.WriteString(rand.Text())
	}
	return b.String()
}

// fill adds items until the cart is full and returns how many fitted and
// the largest number of cookies the session took.
func (s *shopper) fill() (added, maxCookies int) {
	s.t.Helper()
	for i := 0; ; i++ {
		if i == 100 {
			s.t.Fatal("the cart never filled up")
		}
		resp, body := s.post("/add", url.Values{"sku": {"tea"}, "note": {note()}})
		switch resp.StatusCode {
		case http.StatusSeeOther:
			added++
			maxCookies = max(maxCookies, field(s.t, s.home(), "cookies"))
			continue
		case http.StatusConflict:
			if !strings.Contains(body, "cart is full") {
				s.t.Fatalf("409 without the full message:\n%s", body)
			}
			if got := field(s.t, body, "lines"); got != added {
				s.t.Fatalf("full page shows %d lines, want the %d that fitted", got, added)
			}
			return added, maxCookies
		default:
			s.t.Fatalf("add: %d %s", resp.StatusCode, body)
		}
	}
}

// The default budget fits a default nginx: one cookie, and every response
// header within its 4096-byte proxy_buffer_size.
func TestDefaultBudgetFitsDefaultNginx(t *testing.T) {
	s := newShopper(t, "")
	added, maxCookies := s.fill()
	t.Logf("default budget: %d lines fitted, in up to %d cookies; largest response header %d bytes", added, maxCookies, s.maxHeader)
	if added < 2 {
		t.Fatalf("only %d items fitted", added)
	}
	if maxCookies != 1 {
		t.Fatalf("the session took %d cookies; the default budget leaves room for one", maxCookies)
	}
	if s.maxHeader > 4096 {
		t.Fatalf("a response header of %d bytes, over nginx's default proxy_buffer_size of 4096", s.maxHeader)
	}
	// The cart filled up on the response side: within one line (some
	// 450 bytes) of the 3072 bytes the budget leaves Set-Cookie.
	if s.maxHeader < 2560 {
		t.Fatalf("the largest response header was %d bytes: the cart never came near the budget", s.maxHeader)
	}
}

func TestCartFillsUp(t *testing.T) {
	s := newShopper(t, "nginx8k")
	added, maxCookies := s.fill()
	t.Logf("BudgetNginx8k: %d lines fitted, in up to %d cookies; largest response header %d bytes", added, maxCookies, s.maxHeader)
	if s.maxHeader > 8192 {
		t.Fatalf("a response header of %d bytes, over proxy_buffer_size 8k", s.maxHeader)
	}
	if added < 5 {
		t.Fatalf("only %d items fitted", added)
	}
	if maxCookies < 2 {
		t.Fatalf("the session never took more than %d cookie; want it chunked", maxCookies)
	}

	// The previous cart is intact on the next request.
	body := s.home()
	if got := field(t, body, "lines"); got != added {
		t.Fatalf("after the full cart: %d lines, want %d", got, added)
	}
	if strings.Contains(body, "cart is full") {
		t.Fatal("the full message outlived its request")
	}
	if b := field(t, body, "bytes"); b > 7168 {
		t.Fatalf("the session takes %d bytes of the Cookie header, over BudgetNginx8k", b)
	}

	// Still full for any new line.
	resp, _ := s.post("/add", url.Values{"sku": {"mug"}, "note": {note()}})
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("a new line in a full cart: %d, want 409", resp.StatusCode)
	}

	// Emptying the cart shrinks the session to one cookie and expires the
	// other chunks.
	resp, _ = s.post("/clear", nil)
	var expired int
	for _, c := range resp.Cookies() {
		if c.MaxAge < 0 {
			expired++
		}
	}
	if expired == 0 {
		t.Fatal("emptying the cart expired no chunk")
	}
	body = s.home()
	if field(t, body, "lines") != 0 || field(t, body, "cookies") != 1 {
		t.Fatalf("after emptying: %d lines in %d cookies, want 0 in 1", field(t, body, "lines"), field(t, body, "cookies"))
	}
}

// TestFullCartSaysByHowMuch checks that the refusal gives the overshoot
// from the *sealed.TooLargeError: more than nothing, and no more than the
// refused line adds to the cookie, since the cart before it fitted.
func TestFullCartSaysByHowMuch(t *testing.T) {
	for _, budget := range []string{"default", "nginx8k"} {
		t.Run(budget, func(t *testing.T) { testFullCartSaysByHowMuch(t, budget) })
	}
}

func testFullCartSaysByHowMuch(t *testing.T, budget string) {
	s := newShopper(t, budget)
	s.fill()
	before := field(t, s.home(), "bytes")

	n := note()
	resp, body := s.post("/add", url.Values{"sku": {"mug"}, "note": {n}})
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("a new line in a full cart: %d, want 409", resp.StatusCode)
	}
	over := field(t, body, "over")
	if !strings.Contains(body, "it would need <span id=\"over\">"+strconv.Itoa(over)+"</span> more bytes of cookie") {
		t.Fatalf("the full message does not say by how much:\n%s", body)
	}
	t.Logf("a line with a %d-byte note: the cart %d bytes too large", len(n), over)
	// The line is its note and some 20 bytes of CBOR, base64-encoded
	// (4/3), plus at most a new chunk: in the Cookie header its name, "="
	// and "; ", in the response a whole Set-Cookie line with attributes.
	most := (len(n)+20)*4/3 + 160
	if over <= 0 || over > most {
		t.Fatalf("the cart is %d bytes too large, want 1 to %d for a %d-byte note", over, most, len(n))
	}
	if after := field(t, s.home(), "bytes"); after != before {
		t.Fatalf("the refused line changed the cookie from %d to %d bytes", before, after)
	}
}

func TestLargeBudgetTakesMoreChunks(t *testing.T) {
	s := newShopper(t, "large")
	added, maxCookies := s.fill()
	t.Logf("BudgetLarge: %d lines fitted, in up to %d cookies", added, maxCookies)
	if maxCookies < 4 {
		t.Fatalf("BudgetLarge: at most %d cookies for %d items; want 4 or more", maxCookies, added)
	}
}

func TestSameLineGrowsQuantity(t *testing.T) {
	s := newShopper(t, "default")
	for range 3 {
		if resp, body := s.post("/add", url.Values{"sku": {"cake"}, "note": {"happy birthday"}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("add: %d %s", resp.StatusCode, body)
		}
	}
	body := s.home()
	if field(t, body, "lines") != 1 || !strings.Contains(body, "3 × Lemon drizzle cake") {
		t.Fatalf("three identical adds:\n%s", body)
	}
}

// Removing lines shrinks the session back to one cookie, and the response
// that does so expires the chunk no longer needed.
func TestRemoveShrinks(t *testing.T) {
	s := newShopper(t, "nginx8k")
	for field(t, s.home(), "cookies") < 2 {
		if resp, body := s.post("/add", url.Values{"sku": {"tea"}, "note": {note()}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("add: %d %s", resp.StatusCode, body)
		}
	}
	lines := field(t, s.home(), "lines")
	var expired []string
	for field(t, s.home(), "cookies") > 1 {
		resp, body := s.post("/remove", url.Values{"line": {"0"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("remove: %d %s", resp.StatusCode, body)
		}
		for _, c := range resp.Cookies() {
			if c.MaxAge < 0 {
				expired = append(expired, c.Name)
			}
		}
		lines--
	}
	if !slices.Equal(expired, []string{"session.1"}) {
		t.Fatalf("shrinking to one cookie expired %q, want session.1", expired)
	}
	if got := field(t, s.home(), "lines"); got != lines || lines < 1 {
		t.Fatalf("after removing: %d lines, want %d (at least 1)", got, lines)
	}
	if resp, _ := s.post("/remove", url.Values{"line": {"x"}}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("remove line x: %d, want 400", resp.StatusCode)
	}
	if resp, _ := s.post("/remove", url.Values{"line": {"99"}}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("remove a line that is not there: %d, want 303", resp.StatusCode)
	}
	if got := field(t, s.home(), "lines"); got != lines {
		t.Fatalf("removing a line that is not there left %d lines, want %d", got, lines)
	}
}

func TestParseConfig(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	cfg, err := parseConfig(nil, env(nil))
	if err != nil || cfg.Addr != "127.0.0.1:8082" || cfg.BudgetName != "default" || !cfg.Insecure {
		t.Fatalf("defaults: %+v, %v", cfg, err)
	}
	cfg, err = parseConfig([]string{"-budget", "nginx8k", "-cookies", "secure"}, env(nil))
	if err != nil || cfg.BudgetName != "nginx8k" || cfg.Insecure {
		t.Fatalf("-budget nginx8k -cookies secure: %+v, %v", cfg, err)
	}
	cfg, err = parseConfig([]string{"-addr", ":8082"}, env(nil))
	if err != nil || cfg.Insecure {
		t.Fatalf("-addr :8082 (every interface): %+v, %v; want the secure cookies", cfg, err)
	}
	cfg, err = parseConfig(nil, env(map[string]string{"SEALED_COOKIES": "secure"}))
	if err != nil || cfg.Insecure {
		t.Fatalf("SEALED_COOKIES=secure: %+v, %v", cfg, err)
	}
	for _, args := range [][]string{{"-budget", "nginx"}, {"-budget", "huge"}, {"-cookies", "on"}, {"extra"}} {
		if _, err := parseConfig(args, env(nil)); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
}

// With the production settings the session is "__Host-session" (and
// "__Host-session.1", ...), Secure, and the page finds its chunks.
func TestSecureCookies(t *testing.T) {
	h, err := newServer(config{BudgetName: "nginx8k"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	c := srv.Client()
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	s := &shopper{t: t, base: srv.URL, c: c, jar: jar}
	for field(t, s.home(), "cookies") < 2 {
		resp, body := s.post("/add", url.Values{"sku": {"tea"}, "note": {note()}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("add: %d %s", resp.StatusCode, body)
		}
		for _, ck := range resp.Cookies() {
			if !strings.HasPrefix(ck.Name, "__Host-session") || !ck.Secure {
				t.Fatalf("cookie %s (Secure %v), want __Host-session... with Secure", ck.Name, ck.Secure)
			}
		}
	}
}

func TestBadInput(t *testing.T) {
	s := newShopper(t, "")
	if resp, _ := s.post("/add", url.Values{"sku": {"piano"}}); resp.StatusCode != 400 {
		t.Errorf("unknown product: %d", resp.StatusCode)
	}
	if resp, _ := s.post("/add", url.Values{"sku": {"tea"}, "note": {strings.Repeat("x", maxNote+1)}}); resp.StatusCode != 400 {
		t.Errorf("long note: %d", resp.StatusCode)
	}
	if _, err := newServer(config{BudgetName: "huge"}); err == nil {
		t.Error("unknown budget: no error")
	}
}
