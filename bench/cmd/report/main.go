// Command report turns the output of the bench module's benchmarks into the
// results section of BENCHMARKS.md and the chart bench/chart.svg. It runs no
// benchmark itself: run.sh runs them (go test -bench -count 6 -benchmem)
// and passes the saved output here.
//
//	go run ./cmd/report -in results/latest.txt -md ../BENCHMARKS.md -svg chart.svg
//
// For each benchmark it takes the median of the runs (as benchstat does),
// and the half-width of the range the runs span around it, which for six
// runs is benchstat's 95% confidence interval. It computes the ratios the
// targets are stated in, within this one run, and marks each target PASS
// or MISS. The Markdown goes between the markers
//
//	<!-- bench-report:begin --> and <!-- bench-report:end -->
//
// in the -md file; everything outside them is left alone. With -load, the
// wrk results written by load.sh are added too.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Markers delimit the generated part of the Markdown file.
const (
	beginMarker = "<!-- bench-report:begin -->"
	endMarker   = "<!-- bench-report:end -->"
)

// Operations, shapes and libraries, in display order.
var (
	ops       = []string{"Read", "Write", "Middleware"}
	shapes    = []string{"small", "medium", "large"}
	libraries = []string{"bare", "sealed", "sealed-load-write", "limit", "securecookie-json", "securecookie-gob", "jwe"}
)

// key identifies one benchmark: BenchmarkOp/shape=S/lib=L.
type key struct{ op, shape, lib string }

// Results is one parsed benchmark output file.
type Results struct {
	// Config holds the "key: value" lines (goos, cpu, and what run.sh
	// adds: nproc, go, load, date).
	Config map[string]string
	// Samples holds, per benchmark and unit ("ns/op", "B/op",
	// "allocs/op", "cookie-bytes"), one value per run.
	Samples map[key]map[string][]float64
}

// Parse reads `go test -bench` output. Lines it does not understand
// (PASS, ok, test logs) are skipped; benchmark names that do not follow
// the bench module's pattern are an error, so that a renamed benchmark is
// not silently dropped.
func Parse(r io.Reader) (*Results, error) {
	res := &Results{Config: map[string]string{}, Samples: map[key]map[string][]float64{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if !strings.HasPrefix(text, "Benchmark") {
			if k, v, ok := strings.Cut(text, ": "); ok && !strings.ContainsAny(k, " \t") && k != "" {
				res.Config[k] = strings.TrimSpace(v)
			}
			continue
		}
		f := strings.Fields(text)
		if len(f) < 4 || len(f)%2 != 0 {
			continue // a benchmark that printed a log line, or failed
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue
		}
		k, err := parseName(f[0])
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		units := res.Samples[k]
		if units == nil {
			units = map[string][]float64{}
			res.Samples[k] = units
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("line %d: value %q: %w", line, f[i], err)
			}
			units[f[i+1]] = append(units[f[i+1]], v)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(res.Samples) == 0 {
		return nil, errors.New("no benchmark results")
	}
	return res, nil
}

// parseName splits "BenchmarkRead/shape=small/lib=sealed-2".
func parseName(name string) (key, error) {
	// The -N suffix is GOMAXPROCS; it is absent when it is 1.
	if i := strings.LastIndexByte(name, '-'); i > 0 && !strings.Contains(name[i:], "/") {
		if _, err := strconv.Atoi(name[i+1:]); err == nil {
			name = name[:i]
		}
	}
	parts := strings.Split(strings.TrimPrefix(name, "Benchmark"), "/")
	k := key{op: parts[0]}
	for _, p := range parts[1:] {
		n, v, _ := strings.Cut(p, "=")
		switch n {
		case "shape":
			k.shape = v
		case "lib":
			k.lib = v
		}
	}
	if k.op == "" || k.shape == "" || k.lib == "" {
		return key{}, fmt.Errorf("benchmark %q: want Benchmark<Op>/shape=<shape>/lib=<library>", name)
	}
	return k, nil
}

// Stat is the summary of one unit of one benchmark.
type Stat struct {
	Median float64
	// Spread is the largest distance from the median to a run, relative
	// to the median (0.03 is ±3%).
	Spread float64
	N      int
}

// Stat returns the summary for k and unit, and whether there is one.
func (r *Results) Stat(k key, unit string) (Stat, bool) {
	v := r.Samples[k][unit]
	if len(v) == 0 {
		return Stat{}, false
	}
	s := slices.Clone(v)
	sort.Float64s(s)
	n := len(s)
	med := s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	spread := 0.0
	if med != 0 {
		spread = math.Max(med-s[0], s[n-1]-med) / med
	}
	return Stat{Median: med, Spread: spread, N: n}, true
}

// Median returns the median of k's unit, or NaN.
func (r *Results) Median(k key, unit string) float64 {
	s, ok := r.Stat(k, unit)
	if !ok {
		return math.NaN()
	}
	return s.Median
}

// Target is one stated goal and how this run did.
type Target struct {
	Goal     string
	Measured string
	Pass     bool
	Missing  bool // no data for it in the run
}

// Result is PASS, MISS or "no data".
func (t Target) Result() string {
	switch {
	case t.Missing:
		return "no data"
	case t.Pass:
		return "PASS"
	}
	return "MISS"
}

// Targets evaluates the goals of issue 7 on r.
func Targets(r *Results) []Target {
	var ts []Target
	ns := func(op, shape, lib string) float64 { return r.Median(key{op, shape, lib}, "ns/op") }
	ratio := func(goal string, a, b, bound float64, atMost bool) Target {
		x := a / b
		t := Target{Goal: goal, Missing: math.IsNaN(x) || math.IsInf(x, 0)}
		if !t.Missing {
			t.Measured = fmt.Sprintf("%.2f×", x)
			t.Pass = (atMost && x <= bound) || (!atMost && x >= bound)
		}
		return t
	}
	for _, s := range shapes {
		bound := 1.3
		if s == "small" {
			bound = 2
		}
		ts = append(ts, ratio(fmt.Sprintf("read %s: sealed ≤ %g× limit", s, bound), ns("Read", s, "sealed"), ns("Read", s, "limit"), bound, true))
	}
	// Allocations flat in session size, at most 8.
	allocs := make([]float64, 0, len(shapes))
	for _, s := range shapes {
		if a := r.Median(key{"Read", s, "sealed"}, "allocs/op"); !math.IsNaN(a) {
			allocs = append(allocs, a)
		}
	}
	at := Target{Goal: "read: sealed allocs/op the same for every shape, ≤ 8", Missing: len(allocs) != len(shapes)}
	if !at.Missing {
		parts := make([]string, len(allocs))
		for i, a := range allocs {
			parts[i] = strconv.FormatFloat(a, 'f', -1, 64)
		}
		at.Measured = strings.Join(parts, " / ")
		at.Pass = slices.Max(allocs) <= 8 && slices.Max(allocs) == slices.Min(allocs)
	}
	ts = append(ts, at)
	for _, s := range shapes {
		ts = append(ts, ratio(fmt.Sprintf("write %s: sealed ≤ 1.5× limit", s), ns("Write", s, "sealed"), ns("Write", s, "limit"), 1.5, true))
	}
	ts = append(ts, ratio("read medium: sealed ≥ 8× faster than securecookie-json", ns("Read", "medium", "securecookie-json"), ns("Read", "medium", "sealed"), 8, false))
	for _, s := range shapes {
		a := r.Median(key{"Read", s, "sealed"}, "cookie-bytes")
		b := r.Median(key{"Read", s, "limit"}, "cookie-bytes")
		t := Target{Goal: fmt.Sprintf("cookie %s: sealed ≤ limit + 80 bytes", s), Missing: math.IsNaN(a - b)}
		if !t.Missing {
			t.Measured = fmt.Sprintf("%+.0f bytes (%.0f vs %.0f)", a-b, a, b)
			t.Pass = a-b <= 80
		}
		ts = append(ts, t)
	}
	return ts
}

// formatNs prints a duration in ns with three significant digits.
func formatNs(v float64) string {
	switch {
	case math.IsNaN(v):
		return "–"
	case v < 1e3:
		return fmt.Sprintf("%.0f ns", v)
	case v < 1e6:
		return strconv.FormatFloat(v/1e3, 'f', digits(v/1e3), 64) + " µs"
	}
	return strconv.FormatFloat(v/1e6, 'f', digits(v/1e6), 64) + " ms"
}

func digits(v float64) int {
	switch {
	case v < 10:
		return 2
	case v < 100:
		return 1
	}
	return 0
}

func formatInt(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return strconv.FormatFloat(math.Round(v), 'f', -1, 64)
}

// Markdown renders the results section.
func Markdown(r *Results, load map[string]string) string {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }

	w("Generated by `bench/cmd/report` from [`bench/results/latest.txt`](bench/results/latest.txt)")
	w(" (benchstat summary: [`bench/results/benchstat.txt`](bench/results/benchstat.txt)).\n")
	w("Medians of %d runs; ± is the largest distance from the median to a run (for 6 runs, benchstat's 95%% interval).\n\n", r.runs())
	w("| Machine | |\n|---|---|\n")
	for _, c := range []struct{ label, key string }{
		{"CPU", "cpu"}, {"nproc", "nproc"}, {"Go", "go"}, {"OS/arch", "goos"},
		{"Date", "date"}, {"Load average before", "load-before"}, {"Load average after", "load-after"},
	} {
		v := r.Config[c.key]
		if c.key == "goos" && v != "" {
			v += "/" + r.Config["goarch"]
		}
		if v != "" {
			w("| %s | %s |\n", c.label, v)
		}
	}
	if q := r.Config["quiet"]; q != "" {
		w("| Quiet machine | %s |\n", q)
	}
	w("\n![chart](bench/chart.svg)\n\n")

	w("### Targets\n\nRatios are taken within this one run.\n\n| Target | Measured | Result |\n|---|---|---|\n")
	for _, t := range Targets(r) {
		w("| %s | %s | %s |\n", t.Goal, t.Measured, t.Result())
	}
	w("\n")

	titles := map[string]string{
		"Read":       "Read path (Cookie header → session → one key)",
		"Write":      "Write path (session state, one key set → Set-Cookie lines)",
		"Middleware": "Middleware (one GET through httptest, handler reads one key)",
	}
	for _, op := range ops {
		if !r.hasOp(op) {
			continue
		}
		base := "limit"
		if op == "Middleware" {
			base = "bare"
		}
		w("### %s\n\n", titles[op])
		w("| Shape | Library | ns/op | ± | B/op | allocs/op | cookie bytes | ns/op ÷ %s |\n", base)
		w("|---|---|--:|--:|--:|--:|--:|--:|\n")
		for _, s := range shapes {
			baseNs := r.Median(key{op, s, base}, "ns/op")
			for _, l := range libraries {
				k := key{op, s, l}
				st, ok := r.Stat(k, "ns/op")
				if !ok {
					continue
				}
				name := l
				switch l {
				case "sealed":
					name = "**sealed**"
				case "sealed-load-write":
					name = "sealed, load + write ¹"
				}
				w("| %s | %s | %s | %.0f%% | %s | %s | %s | %s |\n", s, name, formatNs(st.Median), st.Spread*100,
					formatInt(r.Median(k, "B/op")), formatInt(r.Median(k, "allocs/op")),
					formatInt(r.Median(k, "cookie-bytes")), formatRatio(st.Median/baseNs))
			}
		}
		if op == "Write" && r.hasLib(op, "sealed-load-write") {
			w("\n¹ Not a target: sealed's whole read-modify-write in one op (`Load`, `Set(\"email\")`, `Save`), where the sealed row starts from a session loaded beforehand with the timer stopped, as the peers start from their state in hand.\n")
		}
		w("\n")
	}

	if len(load) > 0 {
		writeLoad(w, load)
	}
	return b.String()
}

// writeLoad renders load.sh's results: a row per endpoint measured, then
// the target ratio, /whoami to its baseline /bare, and /whoami to /healthz
// for reference. Files written before /bare existed have only "ratio",
// which was /whoami to /healthz.
func writeLoad(w func(string, ...any), load map[string]string) {
	w("### Load test (wrk, `bench/load.sh`)\n\n")
	w("%s against the basic example on 127.0.0.1.\n\n", load["wrk"])
	w("| Endpoint | Requests/s | Latency p50 | Latency p99 |\n|---|--:|--:|--:|\n")
	for _, e := range []struct{ label, key string }{
		{"`GET /healthz` (outside the muxes, the cross-origin protection and the session middleware; no Cookie header)", "healthz"},
		{"`GET /bare` (baseline: routed like /whoami, same kind of response, same Cookie header, no session middleware)", "bare"},
		{"`GET /whoami` (reads the session, writes nothing)", "whoami"},
	} {
		rps, ok := load[e.key+"_rps"]
		if !ok {
			continue
		}
		if f, err := strconv.ParseFloat(rps, 64); err == nil {
			rps = strconv.FormatFloat(math.Round(f), 'f', -1, 64)
		}
		w("| %s | %s | %s | %s |\n", e.label, rps, load[e.key+"_p50"], load[e.key+"_p99"])
	}
	w("\n")
	if ratio, ok := load["ratio_bare"]; ok {
		res := "MISS"
		if f, err := strconv.ParseFloat(ratio, 64); err == nil && f >= 0.9 {
			res = "PASS"
		}
		w("/whoami ÷ /bare: **%s** (target ≥ 0.9: %s). ", ratio, res)
	}
	ratio, ok := load["ratio_healthz"]
	if !ok {
		ratio, ok = load["ratio"]
	}
	if ok {
		w("/whoami ÷ /healthz: %s (for reference). ", ratio)
	}
	w("Cookie header: %s bytes. %s\n", load["cookie_bytes"], load["note"])
}

func formatRatio(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "–"
	}
	return fmt.Sprintf("%.2f", x)
}

func (r *Results) hasLib(op, lib string) bool {
	for k := range r.Samples {
		if k.op == op && k.lib == lib {
			return true
		}
	}
	return false
}

func (r *Results) hasOp(op string) bool {
	for k := range r.Samples {
		if k.op == op {
			return true
		}
	}
	return false
}

// runs is the largest number of runs of any benchmark.
func (r *Results) runs() int {
	n := 0
	for _, units := range r.Samples {
		n = max(n, len(units["ns/op"]))
	}
	return n
}

// Splice replaces what lies between the markers in doc with content. It
// fails when the markers are missing or out of order, rather than
// guessing where the results belong.
func Splice(doc []byte, content string) ([]byte, error) {
	i := bytes.Index(doc, []byte(beginMarker))
	j := bytes.Index(doc, []byte(endMarker))
	if i < 0 || j < i {
		return nil, fmt.Errorf("markers %q and %q not found in order", beginMarker, endMarker)
	}
	var out bytes.Buffer
	out.Write(doc[:i+len(beginMarker)])
	out.WriteString("\n")
	out.WriteString(content)
	out.Write(doc[j:])
	return out.Bytes(), nil
}

// ParseLoad reads load.sh's key=value file.
func ParseLoad(data []byte) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			m[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return m
}

func main() {
	in := flag.String("in", "results/latest.txt", "`file` of go test -bench output")
	md := flag.String("md", "", "Markdown `file` whose marked section to replace (none: print to stdout)")
	svg := flag.String("svg", "", "write the chart to this `file`")
	load := flag.String("load", "", "load.sh results `file` to include, if it exists")
	flag.Parse()
	if err := run(*in, *md, *svg, *load); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
}

func run(in, md, svg, loadFile string) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	r, err := Parse(f)
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	var load map[string]string
	if loadFile != "" {
		data, err := os.ReadFile(loadFile)
		switch {
		case err == nil:
			load = ParseLoad(data)
		case !errors.Is(err, os.ErrNotExist):
			return err
		}
	}
	content := Markdown(r, load)
	if md == "" {
		fmt.Print(content)
	} else {
		doc, err := os.ReadFile(md)
		if err != nil {
			return err
		}
		out, err := Splice(doc, content)
		if err != nil {
			return fmt.Errorf("%s: %w", md, err)
		}
		if err := os.WriteFile(md, out, 0o644); err != nil {
			return err
		}
	}
	if svg != "" {
		if err := os.WriteFile(svg, []byte(Chart(r)), 0o644); err != nil {
			return err
		}
	}
	for _, t := range Targets(r) {
		fmt.Fprintf(os.Stderr, "%-8s %-60s %s\n", t.Result(), t.Goal, t.Measured)
	}
	return nil
}
