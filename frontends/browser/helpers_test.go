package browser_test

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"
	"github.com/sealedgo/sealed/frontends/proxytest"
)

// sessionCookie is the name the examples give the session with their
// production settings (-cookies secure); its further chunks are
// sessionCookie+".1", ".2", ...
const sessionCookie = "__Host-session"

// stepTimeout bounds one browser step (a navigation, a form post, a read
// of the jar). It is a guard against a hang, not an assertion about speed.
const stepTimeout = 20 * time.Second

// need skips the test without chromium and nginx, or fails it under
// CI=true, and returns the path of chromium.
func need(t *testing.T) string {
	t.Helper()
	proxytest.Need(t, "nginx", "chromium")
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal(err) // Need found it; cannot happen
	}
	return path
}

// buildExamples builds the examples into a temporary directory and
// returns the path of each binary by name.
func buildExamples(t *testing.T, names ...string) map[string]string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build the examples: %v", err)
	}
	dir := t.TempDir()
	args := []string{"build", "-o", dir + string(filepath.Separator)}
	if raceEnabled {
		args = append(args, "-race")
	}
	for _, n := range names {
		args = append(args, "github.com/sealedgo/sealed/examples/"+n)
	}
	cmd := exec.Command(goBin, args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	bins := make(map[string]string)
	for _, n := range names {
		bins[n] = filepath.Join(dir, n)
	}
	return bins
}

var listeningRe = regexp.MustCompile(`listening on (http://[^\s]+)`)

// startExample runs bin with args plus "-addr 127.0.0.1:0" and returns
// the URL it says it listens on. Its stderr (the example's log, which
// never holds cookie values) is shown if the test fails. It is killed
// when the test ends.
func startExample(t *testing.T, bin string, args ...string) string {
	t.Helper()
	logFile, err := os.Create(filepath.Join(t.TempDir(), "stderr.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	// The flags say everything: no SEALED_COOKIES or SEALED_KEYS from the
	// environment of the test.
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "SEALED_")
	})
	cmd.Stderr = logFile
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := listeningRe.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case urls <- m[1]:
				default:
				}
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	go func() { cmd.Wait(); close(exited) }()
	name := filepath.Base(bin)
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		logFile.Close()
		log, err := os.ReadFile(logFile.Name())
		if err != nil {
			t.Error(err)
			return
		}
		if strings.Contains(string(log), "WARNING: DATA RACE") {
			t.Errorf("%s had a data race", name)
		}
		if t.Failed() {
			t.Logf("%s log:\n%s", name, log)
		}
	})
	select {
	case u := <-urls:
		return u
	case <-exited:
		t.Fatalf("%s %q exited at start: %v", name, args, cmd.ProcessState)
	case <-time.After(stepTimeout):
		t.Fatalf("%s %q did not say where it listens within %v", name, args, stepTimeout)
	}
	return ""
}

// checkProxyLog fails t if nginx logged an error: anything at level error
// or above, an upstream that sent too big a header among them.
func checkProxyLog(t *testing.T, p *proxytest.Proxy) {
	t.Helper()
	for line := range strings.SplitSeq(p.ErrorLog(), "\n") {
		for _, level := range []string{"[error]", "[crit]", "[alert]", "[emerg]"} {
			if strings.Contains(line, level) {
				t.Errorf("nginx logged: %s", line)
			}
		}
	}
}

// document is one HTTP response for a page (a redirect included), as
// Chromium received it.
type document struct {
	method, path string
	status       int64
}

// received is what Chromium saw of one response's header as it came over
// the wire (Network.responseReceivedExtraInfo): from the proxy, so it is
// nginx's header, with the upstream's Set-Cookie lines in it.
type received struct {
	status int64
	// header is the length of the raw header text (status line, headers,
	// CRLFs).
	header int
	// setCookie counts the Set-Cookie headers as the Budget does: for
	// each line, len("Set-Cookie: ")+len(line)+2.
	setCookie, setCookies int
}

// browser is a headless Chromium with a profile of its own, one tab, and
// a record of every page response it got.
type browser struct {
	t    *testing.T
	ctx  context.Context
	base string // the origin the tests visit: the proxy's https URL
	// want5xx turns off the check that fails the test at a 5xx, for the
	// control that expects one.
	want5xx bool

	mu       sync.Mutex
	docs     []document
	received []received // since the last call of lastSetCookie
	blocked  []string   // why Chromium refused a Set-Cookie, if it did
}

// newBrowser starts Chromium for pages under base.
func newBrowser(t *testing.T, chromium, base string) *browser {
	t.Helper()
	// A home of its own too: Chromium writes an NSS database and dconf
	// files under $HOME, and the test keeps everything in its TempDir,
	// which is removed after the browser is closed (cleanups run LIFO).
	home := t.TempDir()
	profile := filepath.Join(home, "profile")
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.Env("HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
			"XDG_CACHE_HOME="+filepath.Join(home, ".cache"), "XDG_DATA_HOME="+filepath.Join(home, ".local", "share")),
		chromedp.Headless,
		chromedp.NoSandbox, // as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		// The proxy's certificate is self-signed for the test.
		chromedp.IgnoreCertErrors,
		chromedp.UserDataDir(profile),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	b := &browser{t: t, ctx: ctx, base: strings.TrimSuffix(base, "/")}
	// Start the browser with no deadline: the first Run binds its life to
	// the context it gets. Each step below has a deadline of its own.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	err := chromedp.Listen(ctx, func(ev any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			if ev.Type == network.ResourceTypeDocument && ev.RedirectResponse != nil {
				b.docs = append(b.docs, document{ev.Request.Method, path(ev.RedirectResponse.URL), ev.RedirectResponse.Status})
			}
		case *network.EventResponseReceived:
			if ev.Type == network.ResourceTypeDocument {
				b.docs = append(b.docs, document{"", path(ev.Response.URL), ev.Response.Status})
			}
		case *network.EventResponseReceivedExtraInfo:
			r := received{status: ev.StatusCode, header: len(ev.HeadersText)}
			for k, v := range ev.Headers {
				if s, ok := v.(string); ok && strings.EqualFold(k, "Set-Cookie") {
					for line := range strings.SplitSeq(s, "\n") {
						r.setCookie += len("Set-Cookie: ") + len(line) + 2
						r.setCookies++
					}
				}
			}
			b.received = append(b.received, r)
			for _, bc := range ev.BlockedCookies {
				// The reasons only: the line would hold the cookie's value.
				b.blocked = append(b.blocked, fmt.Sprint(bc.BlockedReasons))
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func path(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return u.Path
}

// step runs f with a deadline.
func (b *browser) step(what string, f func(ctx context.Context) error) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := f(ctx); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// open loads path and returns the page's HTTP status.
func (b *browser) open(path string) int64 {
	b.t.Helper()
	var status int64
	b.step("open "+path, func(ctx context.Context) error {
		resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(b.base+path))
		if err == nil {
			status = resp.Status
		}
		return err
	})
	b.noServerErrors()
	return status
}

// submit fills the fields of the first form posting to action, clicks its
// button as a user would, and returns the status of the page that loads
// at the end (after the 303 the examples answer a successful post with).
func (b *browser) submit(action string, fields map[string]string) int64 {
	b.t.Helper()
	form := fmt.Sprintf(`form[action=%q]`, action)
	var steps []chromedp.Action[chromedp.Void]
	for name, v := range fields {
		steps = append(steps, chromedp.SetValue(chromedp.CSS(fmt.Sprintf("%s [name=%q]", form, name)), v))
	}
	steps = append(steps, chromedp.Click(chromedp.CSS(form+" button")))
	var status int64
	b.step("post "+action, func(ctx context.Context) error {
		resp, err := chromedp.RunResponse(ctx, steps...)
		if err == nil {
			status = resp.Status
		}
		return err
	})
	b.noServerErrors()
	return status
}

// noServerErrors fails the test if any page response so far was a 5xx,
// the proxy's 502 among them, or if Chromium refused a Set-Cookie.
func (b *browser) noServerErrors() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.blocked) > 0 {
		b.t.Fatalf("Chromium refused Set-Cookie headers: %v", b.blocked)
	}
	if b.want5xx {
		return
	}
	for _, d := range b.docs {
		if d.status >= 500 {
			b.t.Fatalf("%s %s: HTTP %d", d.method, d.path, d.status)
		}
	}
}

func (r received) String() string {
	if r.setCookies == 0 {
		return "no Set-Cookie"
	}
	return fmt.Sprintf("HTTP %d, response header %d bytes, %d Set-Cookie headers of %d bytes", r.status, r.header, r.setCookies, r.setCookie)
}

// lastSetCookie returns, of the responses with Set-Cookie headers since
// its previous call, the one with the largest header.
func (b *browser) lastSetCookie() received {
	b.mu.Lock()
	defer b.mu.Unlock()
	var best received
	for _, r := range b.received {
		if r.setCookies > 0 && r.header >= best.header {
			best = r
		}
	}
	b.received = b.received[:0]
	return best
}

// statuses returns the statuses of the page responses so far, redirects
// included, for the log.
func (b *browser) statuses() map[int64]int {
	b.mu.Lock()
	defer b.mu.Unlock()
	m := make(map[int64]int)
	for _, d := range b.docs {
		m[d.status]++
	}
	return m
}

// text returns the text content of the element with id, or "" when the
// page has none.
func (b *browser) text(id string) string {
	b.t.Helper()
	var s string
	b.step("read #"+id, func(ctx context.Context) (err error) {
		s, err = chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`(document.getElementById(%q) || {}).textContent || ""`, id)))
		return err
	})
	return s
}

// body returns the page's visible text.
func (b *browser) body() string {
	b.t.Helper()
	var s string
	b.step("read the page", func(ctx context.Context) (err error) {
		s, err = chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
		return err
	})
	return s
}

// jar returns every cookie the browser holds, read with
// Storage.getCookies: the whole cookie store of the profile, not only
// what a page can see.
func (b *browser) jar() []*network.Cookie {
	b.t.Helper()
	var cookies []*network.Cookie
	b.step("read the cookie jar", func(ctx context.Context) error {
		res, err := chromedp.CallBrowser(ctx, storage.GetCookies, storage.GetCookiesParams{})
		cookies = res.Cookies
		return err
	})
	slices.SortFunc(cookies, func(a, b *network.Cookie) int { return strings.Compare(a.Name, b.Name) })
	return cookies
}

// restore replaces the jar with cookies, as they were captured: each one
// host-only for the base URL, with its attributes.
func (b *browser) restore(cookies []*network.Cookie) {
	b.t.Helper()
	params := make([]*network.CookieParam, len(cookies))
	for i, c := range cookies {
		params[i] = &network.CookieParam{
			Name: c.Name, Value: c.Value,
			// A URL rather than a Domain: host-only, as __Host- requires.
			URL:  b.base + c.Path,
			Path: c.Path, Secure: c.Secure, HTTPOnly: c.HTTPOnly, SameSite: c.SameSite,
		}
		if !c.Session {
			params[i].Expires = cdp.TimeSinceEpoch(c.Expires)
		}
	}
	b.step("restore the cookie jar", func(ctx context.Context) error {
		if _, err := chromedp.Call(ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
			return err
		}
		if len(params) == 0 {
			return nil
		}
		_, err := chromedp.Call(ctx, network.SetCookies, network.SetCookiesParams{Cookies: params})
		return err
	})
	if got := b.jar(); !sameJar(got, cookies) {
		b.t.Fatalf("the browser did not take the cookies back: it holds %s, want %s", describe(got), describe(cookies))
	}
}

// sessionChunks returns the session's cookies in the jar, in order
// (__Host-session, __Host-session.1, ...), and fails the test if any
// other cookie is there or a chunk lacks the production attributes.
func sessionChunks(t *testing.T, jar []*network.Cookie) []*network.Cookie {
	t.Helper()
	var chunks []*network.Cookie
	for _, c := range jar {
		if c.Name != sessionCookie && !strings.HasPrefix(c.Name, sessionCookie+".") {
			t.Fatalf("an unexpected cookie %q in the jar", c.Name)
		}
		if !c.Secure || !c.HTTPOnly || c.Path != "/" || c.SameSite != network.CookieSameSiteLax || c.Domain != "127.0.0.1" {
			t.Fatalf("cookie %s: Secure %v HttpOnly %v Path %q SameSite %q Domain %q; want Secure, HttpOnly, Path=/, Lax, host-only 127.0.0.1",
				c.Name, c.Secure, c.HTTPOnly, c.Path, c.SameSite, c.Domain)
		}
		chunks = append(chunks, c)
	}
	slices.SortFunc(chunks, func(a, b *network.Cookie) int {
		return cmp.Or(cmp.Compare(len(a.Name), len(b.Name)), strings.Compare(a.Name, b.Name))
	})
	for i, c := range chunks {
		want := sessionCookie
		if i > 0 {
			want = fmt.Sprintf("%s.%d", sessionCookie, i)
		}
		if c.Name != want {
			t.Fatalf("the jar holds %s: chunk %d is %s, want %s", describe(jar), i, c.Name, want)
		}
	}
	return chunks
}

// cookieHeader is what chunks add to a request's Cookie header: each
// name=value and the "; " between them.
func cookieHeader(chunks []*network.Cookie) int {
	n := 0
	for i, c := range chunks {
		if i > 0 {
			n += 2
		}
		n += len(c.Name) + 1 + len(c.Value)
	}
	return n
}

// describe names the cookies with the size of each (name and value),
// never their values.
func describe(cookies []*network.Cookie) string {
	if len(cookies) == 0 {
		return "no cookie"
	}
	parts := make([]string, len(cookies))
	for i, c := range cookies {
		parts[i] = fmt.Sprintf("%s (%d bytes)", c.Name, len(c.Name)+len(c.Value))
	}
	return strings.Join(parts, ", ")
}

// sameJar reports whether a and b hold the same names and values.
func sameJar(a, b []*network.Cookie) bool {
	if len(a) != len(b) {
		return false
	}
	m := make(map[string]string, len(a))
	for _, c := range a {
		m[c.Name] = c.Value
	}
	for _, c := range b {
		if v, ok := m[c.Name]; !ok || v != c.Value {
			return false
		}
	}
	return true
}
