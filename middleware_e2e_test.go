package sealed_test

// End-to-end tests: the harness's strict browser and front end (see
// harness_test.go) in front of a test application that uses the public
// API.

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealedgo/sealed"
)

const (
	// e2eAppError is the status the test application answers when the
	// library returned an error the test did not expect.
	e2eAppError = 598
	// skew is Options.ClockSkew's default.
	skew = time.Minute
)

// e2eHex returns 2n hex digits of fresh randomness: incompressible data.
func e2eHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// e2eState is what /dump reports about the session.
type e2eState struct {
	IsNew   bool
	ID      string
	Subject string
	Values  map[string]string
}

// e2eMux is the test application. Every value it stores is a string.
func e2eMux(m *sealed.Manager) *http.ServeMux {
	mux := http.NewServeMux()
	session := func(w http.ResponseWriter, r *http.Request) *sealed.Session {
		s, err := m.Session(r)
		if err != nil {
			http.Error(w, "test app: "+err.Error(), e2eAppError)
			return nil
		}
		return s
	}
	appErr := func(w http.ResponseWriter, err error) {
		http.Error(w, "test app: "+err.Error(), e2eAppError)
	}
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		s := session(w, r)
		if s == nil {
			return
		}
		s.SetSubject("alice")
		if err := s.Set("user", "alice"); err != nil {
			appErr(w, err)
			return
		}
		s.CycleID()
		io.WriteString(w, "ok")
	})
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) {
		s := session(w, r)
		if s == nil {
			return
		}
		s.Invalidate()
		if msg := r.URL.Query().Get("flash"); msg != "" {
			s.AddFlash(msg)
		}
		io.WriteString(w, "bye")
	})
	// /set?k=KEY stores the request body under KEY. With commit, it calls
	// Manager.Commit and reports ErrTooLarge with 413, undoing the change
	// first when undo is given too; without undo the change stays and
	// the middleware's own save fails.
	mux.HandleFunc("/set", func(w http.ResponseWriter, r *http.Request) {
		s := session(w, r)
		if s == nil {
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			appErr(w, err)
			return
		}
		q := r.URL.Query()
		k := q.Get("k")
		old, had, err := sealed.Get[string](s, k)
		if err != nil {
			appErr(w, err)
			return
		}
		if err := s.Set(k, string(body)); err != nil {
			appErr(w, err)
			return
		}
		if q.Has("commit") {
			err := m.Commit(r)
			switch {
			case errors.Is(err, sealed.ErrTooLarge):
				// Commit wrote nothing into the header.
				w.Header().Set("X-Commit-Set-Cookies", strconv.Itoa(len(w.Header().Values("Set-Cookie"))))
				if q.Has("undo") {
					if had {
						err = s.Set(k, old)
					} else {
						_, _, err = sealed.Remove[cbor.RawMessage](s, k)
					}
					if err != nil {
						appErr(w, err)
						return
					}
					http.Error(w, "too large", http.StatusRequestEntityTooLarge)
					return
				}
			case err != nil:
				appErr(w, err)
				return
			}
		}
		io.WriteString(w, "ok")
	})
	mux.HandleFunc("/remove", func(w http.ResponseWriter, r *http.Request) {
		s := session(w, r)
		if s == nil {
			return
		}
		for _, k := range r.URL.Query()["k"] {
			if _, _, err := sealed.Remove[cbor.RawMessage](s, k); err != nil {
				appErr(w, err)
				return
			}
		}
		io.WriteString(w, "ok")
	})
	mux.HandleFunc("/dump", func(w http.ResponseWriter, r *http.Request) {
		s := session(w, r)
		if s == nil {
			return
		}
		st := e2eState{IsNew: s.IsNew(), ID: s.ID(), Subject: s.Subject(), Values: map[string]string{}}
		for _, k := range s.Keys() {
			v, _, err := sealed.Get[string](s, k)
			if err != nil {
				appErr(w, err)
				return
			}
			st.Values[k] = v
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(st)
	})
	mux.HandleFunc("/noop", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "nothing to do with sessions")
	})
	// /touch makes calls that change nothing worth a cookie in a new,
	// empty session.
	mux.HandleFunc("/touch", func(w http.ResponseWriter, r *http.Request) {
		s := session(w, r)
		if s == nil {
			return
		}
		s.Clear()
		_, _ = s.Flashes()
		_, _, _ = sealed.Remove[cbor.RawMessage](s, "absent")
		s.SetSubject(s.Subject())
		io.WriteString(w, "ok")
	})
	mux.HandleFunc("/flash/add", func(w http.ResponseWriter, r *http.Request) {
		s := session(w, r)
		if s == nil {
			return
		}
		for _, msg := range r.URL.Query()["msg"] {
			s.AddFlash(msg)
		}
		io.WriteString(w, "ok")
	})
	mux.HandleFunc("/flash/read", func(w http.ResponseWriter, r *http.Request) {
		s := session(w, r)
		if s == nil {
			return
		}
		f, _ := s.Flashes()
		if f == nil {
			f = []string{}
		}
		json.NewEncoder(w).Encode(f)
	})
	// /parallel uses the request's session from several goroutines.
	mux.HandleFunc("/parallel", func(w http.ResponseWriter, r *http.Request) {
		s := session(w, r)
		if s == nil {
			return
		}
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Go(func() {
				k := "p" + strconv.Itoa(i)
				if err := s.Set(k, r.URL.Query().Get("v")); err != nil {
					errs[i] = err
					return
				}
				_, _, errs[i] = sealed.Get[string](s, "user")
				_ = s.Keys()
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			appErr(w, err)
			return
		}
		io.WriteString(w, "ok")
	})
	return mux
}

// e2eEnv is the test application on a site, with what its Manager logs.
type e2eEnv struct {
	*site
	log *sealed.LogBuffer // nil when the caller brought its own Logger
}

// newE2E starts the test application behind the nginx-like front end on a
// plain-http server, with fresh keys. extra, if not nil, registers more
// handlers.
func newE2E(t *testing.T, opts *sealed.Options, extra func(*http.ServeMux, *sealed.Manager)) *e2eEnv {
	t.Helper()
	return startE2E(t, opts, extra, false)
}

func startE2E(t *testing.T, opts *sealed.Options, extra func(*http.ServeMux, *sealed.Manager), useTLS bool) *e2eEnv {
	t.Helper()
	var o sealed.Options
	if opts != nil {
		o = *opts
	}
	env := &e2eEnv{}
	if o.Logger == nil {
		env.log = &sealed.LogBuffer{}
		o.Logger = env.log.Logger()
	}
	m := sealed.NewTestManager(t, nil, &o)
	mux := e2eMux(m)
	if extra != nil {
		extra(mux, m)
	}
	if useTLS {
		env.site = serveTLS(t, m, mux)
	} else {
		env.site = serve(t, m, mux)
	}
	return env
}

// dump returns the session state as the server sees it.
func (c *client) dump() e2eState {
	c.t.Helper()
	resp, body := c.get("/dump")
	require.Equal(c.t, http.StatusOK, resp.StatusCode, body)
	var st e2eState
	require.NoError(c.t, json.Unmarshal([]byte(body), &st))
	return st
}

func e2eKeysOf(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// e2eHeader joins name=value pairs into a Cookie header, chunk 0 first.
func e2eHeader(name string, cookies map[string]string) string {
	ks := e2eKeysOf(cookies)
	slices.SortFunc(ks, func(a, b string) int { return chunk(name, a) - chunk(name, b) })
	parts := make([]string, len(ks))
	for i, k := range ks {
		parts[i] = k + "=" + cookies[k]
	}
	return strings.Join(parts, "; ")
}

// 1. Log in, grow the session over several chunks, hit the budget, shrink,
// grow again and log out, through a strict browser and front end.
func TestE2ELifecycle(t *testing.T) {
	cases := []struct {
		name    string
		budget  sealed.Budget
		minPeak int // chunks the session must have reached
	}{
		{"nginx-8k", sealed.BudgetNginx8k(), 2},
		{"short-lines", sealed.Budget{MaxBytes: 7168, MaxChunks: 8, MaxLineBytes: 1024, MaxResponseBytes: 8192}, 5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := newE2E(t, &sealed.Options{AllowInsecure: true, Budget: tc.budget}, nil)
			b := env.client(t)
			name := env.name

			resp, body := b.do("POST", "/login", "")
			require.Equal(t, http.StatusOK, resp.StatusCode, body)
			st := b.dump()
			require.False(t, st.IsNew)
			require.Equal(t, "alice", st.Subject)
			want := map[string]string{"user": "alice"}
			require.Equal(t, want, st.Values)

			// Grow 1 KiB at a time until the budget refuses.
			peak, tooLarge := 0, false
			for i := 0; i < 32 && !tooLarge; i++ {
				k, v := fmt.Sprintf("v%02d", i), e2eHex(512)
				before := b.session()
				resp, body := b.do("POST", "/set?commit&undo&k="+k, v)
				if resp.StatusCode == http.StatusRequestEntityTooLarge {
					tooLarge = true
					assert.Equal(t, "0", resp.Header.Get("X-Commit-Set-Cookies"), "Commit must not write cookies when it fails")
					// The handler undid the change: the state is the previous one.
					assert.Equal(t, len(before), len(b.session()))
					assert.Equal(t, want, b.dump().Values)
					break
				}
				require.Equal(t, http.StatusOK, resp.StatusCode, body)
				want[k] = v
				live := env.live(resp)
				require.NotEmpty(t, live)
				assert.Equal(t, live, b.session(), "the browser keeps every chunk it was sent")
				peak = max(peak, len(live))
				st := b.dump()
				require.False(t, st.IsNew)
				require.Equal(t, want, st.Values)
			}
			require.True(t, tooLarge, "the session never hit the budget")
			require.GreaterOrEqual(t, peak, tc.minPeak)

			// Without undo the middleware's own save fails: the error
			// handler answers and the browser's cookies are untouched.
			before := b.session()
			resp, body = b.do("POST", "/set?commit&k=toomuch", e2eHex(512))
			assert.Equal(t, http.StatusInternalServerError, resp.StatusCode)
			assert.NotContains(t, body, "ok")
			assert.Empty(t, resp.Header.Values("Set-Cookie"))
			assert.Equal(t, before, b.session())
			// Nor with no Commit at all.
			resp, _ = b.do("POST", "/set?k=toomuch", e2eHex(512))
			assert.Equal(t, http.StatusInternalServerError, resp.StatusCode)
			assert.Empty(t, resp.Header.Values("Set-Cookie"))
			assert.Equal(t, before, b.session())
			require.Equal(t, want, b.dump().Values)

			// Shrink: the chunks no longer needed are expired.
			before = b.session()
			require.Greater(t, len(before), 1)
			q := url.Values{}
			for k := range want {
				if k != "user" {
					q.Add("k", k)
					delete(want, k)
				}
			}
			resp, body = b.do("POST", "/remove?"+q.Encode(), "")
			require.Equal(t, http.StatusOK, resp.StatusCode, body)
			stale := e2eKeysOf(before)
			stale = slices.DeleteFunc(stale, func(n string) bool { return n == name })
			assert.Equal(t, stale, env.expired(resp))
			assert.Equal(t, []string{name}, e2eKeysOf(b.session()))
			assert.Equal(t, want, b.dump().Values)

			// Grow over several chunks again, then log out.
			for i := range 3 {
				resp, body := b.do("POST", fmt.Sprintf("/set?k=w%d", i), e2eHex(512))
				require.Equal(t, http.StatusOK, resp.StatusCode, body)
			}
			before = b.session()
			require.Greater(t, len(before), 1)
			resp, body = b.do("POST", "/logout", "")
			require.Equal(t, http.StatusOK, resp.StatusCode, body)
			assert.Empty(t, env.live(resp))
			assert.Equal(t, e2eKeysOf(before), env.expired(resp))
			assert.Empty(t, b.session(), "a session cookie survived logout")
			resp, body = b.do("GET", "/dump", "")
			require.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Empty(t, resp.Header.Values("Set-Cookie"))
			var st2 e2eState
			require.NoError(t, json.Unmarshal([]byte(body), &st2))
			assert.True(t, st2.IsNew)
			assert.Empty(t, st2.Values)
			assert.Empty(t, st2.Subject)

			assert.Zero(t, env.front.rejected.Load(), "the front end rejected a request")
			assert.LessOrEqual(t, env.front.maxCookie.Load(), int64(tc.budget.MaxBytes))
		})
	}
}

// 2. Only changes and renewals write cookies.
func TestE2EWritesOnlyWhenNeeded(t *testing.T) {
	clk := sealed.NewClock(time.Time{})
	env := newE2E(t, &sealed.Options{AllowInsecure: true, IdleTimeout: time.Hour, Now: clk.Now}, nil)
	b := env.client(t)
	name := env.name

	// A new session nobody wrote to emits nothing.
	for _, path := range []string{"/dump", "/noop", "/touch", "/flash/read"} {
		resp, body := b.do("GET", path, "")
		require.Equal(t, http.StatusOK, resp.StatusCode, body)
		assert.Empty(t, resp.Header.Values("Set-Cookie"), path)
	}
	assert.Empty(t, b.session())

	resp, _ := b.do("POST", "/login", "")
	require.NotEmpty(t, env.live(resp))
	login := clk.Now()

	// Read-only requests and no-op writes emit nothing.
	for _, path := range []string{"/dump", "/noop", "/flash/read", "/remove?k=absent"} {
		resp, body := b.do("GET", path, "")
		require.Equal(t, http.StatusOK, resp.StatusCode, body)
		assert.Empty(t, resp.Header.Values("Set-Cookie"), path)
	}
	resp, _ = b.do("POST", "/set?k=user", "alice") // the value it already has
	assert.Empty(t, resp.Header.Values("Set-Cookie"), "setting an equal value wrote a cookie")

	// Renewal after RenewFraction (0.25) of IdleTimeout, not before.
	clk.Set(login.Add(15*time.Minute - time.Second))
	resp, _ = b.do("GET", "/dump", "")
	assert.Empty(t, resp.Header.Values("Set-Cookie"), "renewed too early")
	clk.Set(login.Add(15 * time.Minute))
	resp, _ = b.do("GET", "/dump", "")
	live := env.live(resp)
	require.Len(t, live, 1, "not renewed after a quarter of IdleTimeout")
	c := resp.Cookies()[0]
	assert.Equal(t, 3600, c.MaxAge)

	// The renewal pushed the idle deadline back: 70 minutes after login the
	// session lives on (and is renewed again).
	clk.Set(login.Add(70 * time.Minute))
	resp, body := b.do("GET", "/dump", "")
	var st e2eState
	require.NoError(t, json.Unmarshal([]byte(body), &st))
	assert.False(t, st.IsNew, "renewal did not extend the idle deadline")
	assert.Equal(t, "alice", st.Subject)
	require.Len(t, env.live(resp), 1)
	renewed := clk.Now()
	clk.Set(renewed.Add(14 * time.Minute))
	resp, _ = b.do("GET", "/dump", "")
	assert.Empty(t, resp.Header.Values("Set-Cookie"))

	// Idle past the timeout: a new session, and the dead cookie is expired.
	clk.Set(renewed.Add(time.Hour + skew + time.Second))
	resp, body = b.do("GET", "/dump", "")
	require.NoError(t, json.Unmarshal([]byte(body), &st))
	assert.True(t, st.IsNew)
	assert.Equal(t, []string{name}, env.expired(resp))
	assert.Empty(t, b.session())
}

// 3. Many concurrent requests carrying one session cookie.
func TestE2EConcurrentRequests(t *testing.T) {
	env := newE2E(t, &sealed.Options{AllowInsecure: true}, nil)
	b := env.client(t)
	resp, _ := b.do("POST", "/login", "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	cookie := b.header()
	require.NotEmpty(t, cookie)

	tr := &http.Transport{MaxIdleConnsPerHost: 16}
	t.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: tr}
	const workers, perWorker = 16, 20
	var ok atomic.Int64
	var wg sync.WaitGroup
	for g := range workers {
		wg.Go(func() {
			for i := range perWorker {
				var req *http.Request
				var err error
				switch i % 4 {
				case 0, 2:
					req, err = http.NewRequest("GET", env.srv.URL+"/dump", nil)
				case 1:
					req, err = http.NewRequest("POST", fmt.Sprintf("%s/set?k=g%02d", env.srv.URL, g), strings.NewReader(e2eHex(64)))
				case 3:
					req, err = http.NewRequest("POST", env.srv.URL+"/parallel?v="+e2eHex(8), nil)
				}
				if err != nil {
					t.Error(err)
					return
				}
				req.Header.Set("Cookie", cookie)
				resp, err := client.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusOK {
					t.Errorf("worker %d request %d: %d %s %v", g, i, resp.StatusCode, body, err)
					continue
				}
				if i%4 == 0 || i%4 == 2 {
					var st e2eState
					if err := json.Unmarshal(body, &st); err != nil || st.IsNew || st.Subject != "alice" {
						t.Errorf("worker %d request %d: session lost: %s", g, i, body)
						continue
					}
				} else if len(resp.Header.Values("Set-Cookie")) == 0 {
					t.Errorf("worker %d request %d: a write set no cookie", g, i)
					continue
				}
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int64(workers*perWorker), ok.Load())
}

// 4. A handler that changes the session and then flushes keeps it; one that
// changes it after the flush gets ErrCommitted, logged.
func TestE2EFlush(t *testing.T) {
	release := make(chan struct{})
	wait := func() {
		select {
		case <-release:
		case <-time.After(10 * time.Second):
		}
	}
	env := newE2E(t, &sealed.Options{AllowInsecure: true}, func(mux *http.ServeMux, m *sealed.Manager) {
		mux.HandleFunc("/flush-rc", func(w http.ResponseWriter, r *http.Request) {
			s, _ := m.Session(r)
			if err := s.Set("flushed", "rc"); err != nil {
				http.Error(w, err.Error(), e2eAppError)
				return
			}
			err := http.NewResponseController(w).Flush()
			wait() // the client sees the headers before the body
			fmt.Fprintf(w, "flush err: %v", err)
		})
		mux.HandleFunc("/flush-iface", func(w http.ResponseWriter, r *http.Request) {
			s, _ := m.Session(r)
			if err := s.Set("flushed", "iface"); err != nil {
				http.Error(w, err.Error(), e2eAppError)
				return
			}
			f, ok := w.(http.Flusher)
			if !ok {
				http.Error(w, "not a Flusher", e2eAppError)
				return
			}
			f.Flush()
			wait()
			io.WriteString(w, "flushed")
		})
		mux.HandleFunc("/set-after-flush", func(w http.ResponseWriter, r *http.Request) {
			s, _ := m.Session(r) // loaded before the flush
			http.NewResponseController(w).Flush()
			err := s.Set("late", "x")
			fmt.Fprintf(w, "committed=%v", errors.Is(err, sealed.ErrCommitted))
		})
		mux.HandleFunc("/load-after-flush", func(w http.ResponseWriter, r *http.Request) {
			w.(http.Flusher).Flush()
			s, err := m.Session(r) // loaded after the flush
			if err != nil {
				fmt.Fprintf(w, "session: %v", err)
				return
			}
			err = s.Set("late", "y")
			fmt.Fprintf(w, "committed=%v", errors.Is(err, sealed.ErrCommitted))
		})
	})
	b := env.client(t)

	for _, path := range []string{"/flush-rc", "/flush-iface"} {
		t.Run(path[1:], func(t *testing.T) {
			b.t = t
			req, err := http.NewRequest("GET", env.srv.URL+path, nil)
			require.NoError(t, err)
			resp, err := b.c.Do(req) // returns with the flushed headers
			require.NoError(t, err)
			defer resp.Body.Close()
			assert.Len(t, env.live(resp), 1, "the flushed headers carry the session")
			select {
			case release <- struct{}{}:
			case <-time.After(10 * time.Second):
				t.Error("the handler did not wait for the client")
			}
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			want := map[string]string{"/flush-rc": "flush err: <nil>", "/flush-iface": "flushed"}[path]
			assert.Equal(t, want, string(body))
			assert.Equal(t, strings.TrimPrefix(path, "/flush-"), b.dump().Values["flushed"])
		})
	}
	b.t = t

	for _, path := range []string{"/set-after-flush", "/load-after-flush"} {
		resp, body := b.do("GET", path, "")
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "committed=true", body, path)
		assert.Empty(t, resp.Header.Values("Set-Cookie"), path)
		assert.NotContains(t, b.dump().Values, "late")
	}
	assert.Equal(t, 2, strings.Count(env.log.String(), "session modified after it was saved"), env.log.String())
	assert.Contains(t, env.log.String(), "op=Set")
}

// 5. A long Domain and Path leave less room for the value, but every line
// still fits 4096 bytes and is valid.
func TestE2ELongDomainAndPath(t *testing.T) {
	domain := strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + ".example.com"
	path := "/" + strings.Repeat("p", 500)
	require.Greater(t, len(domain), 200)
	m := sealed.NewTestManager(t, nil, &sealed.Options{Domain: domain, Path: path, Budget: sealed.BudgetLarge()})
	const name = "__Secure-session" // the default with a Path or Domain

	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := m.Session(r)
		if err != nil {
			http.Error(w, err.Error(), e2eAppError)
			return
		}
		if r.Method == "POST" {
			body, _ := io.ReadAll(r.Body)
			if len(body) == 0 {
				_, _, err = sealed.Remove[cbor.RawMessage](s, "v")
			} else {
				err = s.Set("v", string(body))
			}
			if err != nil {
				http.Error(w, err.Error(), e2eAppError)
			}
			return
		}
		v, _, _ := sealed.Get[string](s, "v")
		io.WriteString(w, v)
	}))
	jar := map[string]string{}
	send := func(method, body string) *httptest.ResponseRecorder {
		t.Helper()
		req := httptest.NewRequest(method, "https://www."+domain+path+"/page", strings.NewReader(body))
		if len(jar) > 0 {
			req.Header.Set("Cookie", e2eHeader(name, jar))
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		for _, line := range rec.Result().Header.Values("Set-Cookie") {
			require.LessOrEqual(t, len(line), lineLimit, "Set-Cookie line")
			c, err := http.ParseSetCookie(line)
			require.NoError(t, err)
			require.NoError(t, c.Valid(), line[:100])
			require.GreaterOrEqual(t, chunk(name, c.Name), 0, c.Name)
			require.LessOrEqual(t, len(c.Name)+len(c.Value), lineLimit)
			assert.Equal(t, domain, c.Domain)
			assert.Equal(t, path, c.Path)
			assert.True(t, c.Secure && c.HttpOnly)
			if c.MaxAge < 0 {
				delete(jar, c.Name)
			} else {
				jar[c.Name] = c.Value
			}
		}
		return rec
	}
	maxChunks := 0
	for n := 0; n <= 5000; n += 97 {
		v := e2eHex(n)
		send("POST", v)
		maxChunks = max(maxChunks, len(jar))
		if n > 0 {
			require.Equal(t, v, send("GET", "").Body.String(), "value of %d bytes", len(v))
		}
	}
	assert.GreaterOrEqual(t, maxChunks, 3)
	before := len(jar)
	require.Greater(t, before, 1)
	rec := send("POST", "") // shrink to one chunk: the others are expired
	assert.Len(t, jar, 1)
	assert.Len(t, rec.Result().Header.Values("Set-Cookie"), before)
}

// 6. No cookie a client can send makes a request fail: each gives a fresh
// session, and the session's cookies the client sent are expired.
func TestE2EBadInput(t *testing.T) {
	clk := sealed.NewClock(time.Time{})
	t0 := clk.Now()
	// A budget that allows two chunks, for the cases of the second one.
	opts := &sealed.Options{AllowInsecure: true, IdleTimeout: time.Hour, AbsoluteTimeout: 3 * time.Hour, Now: clk.Now, Budget: sealed.BudgetNginx8k()}
	env := newE2E(t, opts, nil)
	name := env.name

	mint := func(env *e2eEnv, path, cookie, body string) map[string]string {
		t.Helper()
		resp, b := env.send(t, "POST", path, cookie, body)
		require.Equal(t, http.StatusOK, resp.StatusCode, b)
		live := env.live(resp)
		require.NotEmpty(t, live)
		return live
	}
	small := mint(env, "/login", "", "")
	require.Len(t, small, 1)
	gen1 := mint(env, "/set?k=big", "", e2eHex(2000))
	require.Len(t, gen1, 2)
	gen2 := mint(env, "/set?k=x", e2eHeader(name, gen1), "y")
	require.Len(t, gen2, 2)
	foreignEnv := newE2E(t, opts, nil) // same options, other keys
	foreign := mint(foreignEnv, "/login", "", "")

	dump := func(t *testing.T, cookie string) (*http.Response, e2eState) {
		t.Helper()
		resp, body := env.send(t, "GET", "/dump", cookie, "")
		require.Equal(t, http.StatusOK, resp.StatusCode, body)
		var st e2eState
		require.NoError(t, json.Unmarshal([]byte(body), &st), body)
		return resp, st
	}
	// The valid cookies work, so the failures below are the test's doing.
	for _, c := range []map[string]string{small, gen1, gen2} {
		_, st := dump(t, e2eHeader(name, c))
		require.False(t, st.IsNew)
	}

	flip := func(v string) string {
		i := len(v) / 2
		r := byte('A')
		if v[i] == 'A' {
			r = 'B'
		}
		return v[:i] + string(r) + v[i+1:]
	}
	n0, n1 := name, name+".1"
	cases := []struct {
		name, cookie string
	}{
		{"tampered", n0 + "=" + flip(small[n0])},
		{"tampered-second-chunk", n0 + "=" + gen1[n0] + "; " + n1 + "=" + flip(gen1[n1])},
		{"foreign-key", e2eHeader(name, foreign)},
		{"empty", n0 + "="},
		{"not-base64", n0 + "=!!not*base64!!"},
		{"padded", n0 + "=" + small[n0] + "=="},
		{"count-only", n0 + "=2."},
		{"count-too-big", n0 + "=99.AAAA"},
		{"count-zero-led", n0 + "=02." + strings.SplitN(gen1[n0], ".", 2)[1] + "; " + n1 + "=" + gen1[n1]},
		{"long-garbage", n0 + "=" + strings.Repeat("A", 8000)},
		{"random-printable", n0 + "=" + e2eHex(1000)},
		{"chunk-without-first", n1 + "=" + gen1[n1]},
		{"truncated", n0 + "=" + gen1[n0]},
		{"count-grown", n0 + "=3." + strings.SplitN(gen1[n0], ".", 2)[1] + "; " + n1 + "=" + gen1[n1] + "; " + name + ".2=" + gen1[n1]},
		{"duplicated-first", n0 + "=" + gen1[n0] + "; " + n0 + "=" + small[n0] + "; " + n1 + "=" + gen1[n1]},
		{"duplicated-second", e2eHeader(name, gen1) + "; " + n1 + "=" + gen1[n1]},
		{"duplicated-single", n0 + "=" + small[n0] + "; " + n0 + "=" + small[n0]},
		{"mixed-generations-1-2", n0 + "=" + gen1[n0] + "; " + n1 + "=" + gen2[n1]},
		{"mixed-generations-2-1", n0 + "=" + gen2[n0] + "; " + n1 + "=" + gen1[n1]},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, st := dump(t, c.cookie)
			assert.True(t, st.IsNew)
			assert.Empty(t, st.Values)
			assert.Empty(t, st.Subject)
			assert.Empty(t, env.live(resp), "a read-only request wrote a session")
			// Cookies that do not open are left alone on a read: they may
			// open again once a key misconfiguration is fixed, and the next
			// write replaces them. (Expired and revoked sessions, a verdict
			// rather than a failure to open, are expired: see below.)
			assert.Empty(t, env.expired(resp), "a read deleted cookies that did not open")
		})
	}

	t.Run("idle-timeout", func(t *testing.T) {
		defer clk.Set(t0)
		clk.Set(t0.Add(time.Hour + skew)) // within the skew
		_, st := dump(t, e2eHeader(name, small))
		assert.False(t, st.IsNew)
		clk.Set(t0.Add(time.Hour + skew + time.Second))
		resp, st := dump(t, e2eHeader(name, small))
		assert.True(t, st.IsNew)
		assert.Empty(t, st.Values)
		assert.Equal(t, []string{name}, env.expired(resp))
	})

	t.Run("absolute-timeout-while-renewing", func(t *testing.T) {
		defer clk.Set(t0)
		b := env.client(t)
		resp, _ := b.do("POST", "/login", "")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		for elapsed := 40 * time.Minute; elapsed <= 160*time.Minute; elapsed += 40 * time.Minute {
			clk.Set(t0.Add(elapsed))
			resp, body := b.do("GET", "/dump", "")
			var st e2eState
			require.NoError(t, json.Unmarshal([]byte(body), &st))
			require.False(t, st.IsNew, "at %v", elapsed)
			cs := resp.Cookies()
			require.Len(t, cs, 1, "renewal at %v", elapsed)
			// Max-Age never reaches past the absolute deadline.
			assert.Equal(t, int(min(time.Hour, 3*time.Hour-elapsed)/time.Second), cs[0].MaxAge)
		}
		clk.Set(t0.Add(200 * time.Minute)) // 40 minutes idle, but past 3h + skew
		st := b.dump()
		assert.True(t, st.IsNew)
		assert.Empty(t, st.Values)
		assert.Empty(t, b.session())
	})

	assert.Zero(t, env.front.rejected.Load())
	assert.NotContains(t, env.log.String(), "level=ERROR")
}

// 7. Responses that set session cookies are marked uncacheable for shared
// caches; every response whose handler read the session varies on Cookie.
func TestE2ECacheHeaders(t *testing.T) {
	env := newE2E(t, &sealed.Options{AllowInsecure: true}, func(mux *http.ServeMux, m *sealed.Manager) {
		mux.HandleFunc("/vary", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Vary", r.URL.Query().Get("v"))
			s, _ := m.Session(r)
			s.Set("k", e2eHex(4))
			io.WriteString(w, "ok")
		})
	})
	b := env.client(t)
	const cc = `no-cache="Set-Cookie"`
	marked := func(resp *http.Response) {
		t.Helper()
		require.NotEmpty(t, resp.Header.Values("Set-Cookie"))
		assert.Contains(t, resp.Header.Values("Vary"), "Cookie")
		assert.Equal(t, []string{cc}, resp.Header.Values("Cache-Control"))
	}
	unmarked := func(resp *http.Response) {
		t.Helper()
		require.Empty(t, resp.Header.Values("Set-Cookie"))
		assert.Equal(t, []string{"Cookie"}, resp.Header.Values("Vary"), "the page was built from the session")
		assert.Empty(t, resp.Header.Values("Cache-Control"))
	}
	resp, _ := b.do("GET", "/dump", "") // new, untouched
	unmarked(resp)
	resp, _ = b.do("POST", "/login", "")
	marked(resp)
	resp, _ = b.do("GET", "/dump", "")
	unmarked(resp)
	resp, _ = b.do("GET", "/noop", "")
	require.Empty(t, resp.Header.Values("Set-Cookie"))
	assert.Empty(t, resp.Header.Values("Vary"), "a handler that never reads the session does not vary on it")
	resp, _ = b.do("POST", "/logout", "") // only expiring cookies
	require.NotEmpty(t, env.expired(resp))
	marked(resp)

	resp, _ = b.do("GET", "/vary?v=Accept-Encoding", "")
	assert.Equal(t, []string{"Accept-Encoding", "Cookie"}, resp.Header.Values("Vary"))
	resp, _ = b.do("GET", "/vary?v=Origin,+cookie", "")
	assert.Equal(t, []string{"Origin, cookie"}, resp.Header.Values("Vary"), "Cookie listed twice")
	resp, _ = b.do("GET", "/vary?v=*", "")
	assert.Equal(t, []string{"*"}, resp.Header.Values("Vary"))
}

// 8. http.ResponseController reaches the real connection through the
// session writer.
func TestE2EResponseController(t *testing.T) {
	env := newE2E(t, &sealed.Options{AllowInsecure: true}, func(mux *http.ServeMux, m *sealed.Manager) {
		mux.HandleFunc("/deadline", func(w http.ResponseWriter, r *http.Request) {
			rc := http.NewResponseController(w)
			s, _ := m.Session(r)
			s.Set("d", "1")
			errs := []error{
				rc.SetWriteDeadline(time.Now().Add(10 * time.Second)),
				rc.SetReadDeadline(time.Now().Add(10 * time.Second)),
				rc.EnableFullDuplex(),
				rc.Flush(),
			}
			fmt.Fprint(w, errs)
		})
		mux.HandleFunc("/hijack", func(w http.ResponseWriter, r *http.Request) {
			s, _ := m.Session(r)
			s.Set("before", "hijack")
			conn, brw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				http.Error(w, err.Error(), e2eAppError)
				return
			}
			defer conn.Close()
			err = s.Set("after", "hijack")
			body := fmt.Sprintf("hijacked committed=%v", errors.Is(err, sealed.ErrCommitted))
			fmt.Fprintf(brw, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
			brw.Flush()
		})
	})
	b := env.client(t)
	resp, body := b.do("GET", "/deadline", "")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "[<nil> <nil> <nil> <nil>]", body)
	assert.NotEmpty(t, env.live(resp))
	assert.Equal(t, "1", b.dump().Values["d"])

	conn, err := net.Dial("tcp", env.srv.Listener.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(10*time.Second)))
	_, err = fmt.Fprintf(conn, "GET /hijack HTTP/1.1\r\nHost: %s\r\nCookie: %s\r\n\r\n", env.srv.Listener.Addr(), b.header())
	require.NoError(t, err)
	raw, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	data, err := io.ReadAll(raw.Body)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, raw.StatusCode)
	assert.Equal(t, "hijacked committed=true", string(data))
	assert.Empty(t, raw.Header.Values("Set-Cookie"))
	st := b.dump()
	assert.Equal(t, "1", st.Values["d"], "the session from before the hijack is intact")
	assert.NotContains(t, st.Values, "after")
}

// 9. A session that cannot be saved goes to Options.ErrorHandler, and the
// client's cookies are left alone.
func TestE2EErrorHandler(t *testing.T) {
	var writeErr atomic.Value
	big := func(m *sealed.Manager) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			s, _ := m.Session(r)
			if err := s.Set("big", e2eHex(512)); err != nil {
				http.Error(w, err.Error(), e2eAppError)
				return
			}
			if r.URL.Query().Has("silent") {
				return
			}
			w.Header().Set("Content-Type", "text/x-handler")
			_, err := io.WriteString(w, "handler body")
			writeErr.Store(fmt.Sprint(err))
		}
	}
	extra := func(mux *http.ServeMux, m *sealed.Manager) { mux.Handle("/big", big(m)) }

	t.Run("custom", func(t *testing.T) {
		var mu sync.Mutex
		var got []error
		env := newE2E(t, &sealed.Options{
			AllowInsecure: true,
			Budget:        sealed.Budget{MaxBytes: 300},
			ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
				mu.Lock()
				got = append(got, err)
				mu.Unlock()
				w.WriteHeader(http.StatusInsufficientStorage)
			},
		}, extra)
		b := env.client(t)
		resp, body := b.do("POST", "/login", "") // a small session fits
		require.Equal(t, http.StatusOK, resp.StatusCode, body)
		before := b.session()
		require.Len(t, before, 1)

		resp, body = b.do("GET", "/big", "")
		assert.Equal(t, http.StatusInsufficientStorage, resp.StatusCode)
		assert.Empty(t, body)
		assert.Empty(t, resp.Header.Values("Set-Cookie"))
		assert.NotEqual(t, "text/x-handler", resp.Header.Get("Content-Type"))
		assert.NotEqual(t, "<nil>", writeErr.Load(), "the handler's Write reported success")
		mu.Lock()
		require.Len(t, got, 1)
		assert.ErrorIs(t, got[0], sealed.ErrTooLarge)
		mu.Unlock()
		assert.Equal(t, before, b.session())
		assert.Equal(t, map[string]string{"user": "alice"}, b.dump().Values)
		assert.Contains(t, env.log.String(), "session could not be loaded or saved")
	})

	t.Run("default", func(t *testing.T) {
		env := newE2E(t, &sealed.Options{AllowInsecure: true, Budget: sealed.Budget{MaxBytes: 300}}, extra)
		b := env.client(t)
		for _, path := range []string{"/big", "/big?silent"} {
			resp, body := b.do("GET", path, "")
			assert.Equal(t, http.StatusInternalServerError, resp.StatusCode, path)
			assert.Equal(t, "Internal Server Error\n", body, path)
			assert.Empty(t, resp.Header.Values("Set-Cookie"), path)
			assert.Equal(t, []string{"no-store"}, resp.Header.Values("Cache-Control"), path)
			assert.Empty(t, b.session(), path)
		}
		assert.Contains(t, env.log.String(), "session could not be loaded or saved")
	})
}

// 10. A flash message is read once, on the next request that reads flashes.
func TestE2EFlash(t *testing.T) {
	env := newE2E(t, &sealed.Options{AllowInsecure: true}, nil)
	b := env.client(t)
	read := func() []string {
		t.Helper()
		resp, body := b.do("GET", "/flash/read", "")
		require.Equal(t, http.StatusOK, resp.StatusCode, body)
		var f []string
		require.NoError(t, json.Unmarshal([]byte(body), &f))
		return f
	}
	resp, _ := b.do("POST", "/flash/add?msg=hello&msg=world", "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, []string{"hello", "world"}, read())
	assert.Empty(t, read())
	assert.Empty(t, read())

	// Log out with a parting message: the old session is gone, the
	// message survives in a new one.
	b.do("POST", "/login", "")
	resp, _ = b.do("POST", "/logout?flash=bye", "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	st := b.dump()
	assert.Empty(t, st.Subject)
	assert.Empty(t, st.Values)
	assert.Equal(t, []string{"bye"}, read())
	assert.Empty(t, read())
}

// Default options over TLS: a __Host- cookie with Secure, HttpOnly,
// SameSite=Lax, Path=/ and no Domain, on every chunk. The default budget
// holds one chunk; a budget that allows more changes no attribute.
func TestE2ETLSDefaults(t *testing.T) {
	for _, tc := range []struct {
		name   string
		opts   *sealed.Options
		size   int // bytes of randomness stored, twice as many hex digits
		chunks int
	}{
		{"default", &sealed.Options{}, 1000, 1},
		{"nginx-8k", &sealed.Options{Budget: sealed.BudgetNginx8k()}, 2000, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := startE2E(t, tc.opts, nil, true)
			name := env.name
			b := env.client(t)
			require.Equal(t, "https", b.base.Scheme)

			resp, body := b.do("POST", "/login", "")
			require.Equal(t, http.StatusOK, resp.StatusCode, body)
			lines := resp.Header.Values("Set-Cookie")
			require.Len(t, lines, 1)
			c, err := http.ParseSetCookie(lines[0])
			require.NoError(t, err)
			assert.Equal(t, "__Host-session", c.Name)
			assert.Equal(t, "/", c.Path)
			assert.Empty(t, c.Domain)
			assert.NotContains(t, lines[0], "Domain=")
			assert.True(t, c.Secure)
			assert.True(t, c.HttpOnly)
			assert.Equal(t, http.SameSiteLaxMode, c.SameSite)
			assert.Equal(t, 24*3600, c.MaxAge, "the default IdleTimeout")
			assert.False(t, c.Partitioned)
			assert.Equal(t, "alice", b.dump().Subject)

			resp, body = b.do("POST", "/set?k=big", e2eHex(tc.size))
			require.Equal(t, http.StatusOK, resp.StatusCode, body)
			live := env.live(resp)
			require.Len(t, live, tc.chunks)
			for _, c := range resp.Cookies() {
				assert.True(t, c.Secure && c.HttpOnly && c.Path == "/" && c.Domain == "", c.Name)
				assert.True(t, strings.HasPrefix(c.Name, "__Host-"), c.Name)
			}
			assert.Equal(t, live, b.session())
			assert.Len(t, b.dump().Values["big"], 2*tc.size)

			resp, _ = b.do("POST", "/logout", "")
			want := []string{name}
			for i := 1; i < tc.chunks; i++ {
				want = append(want, name+"."+strconv.Itoa(i))
			}
			assert.Equal(t, want, env.expired(resp))
			assert.Empty(t, b.session())
		})
	}
}
