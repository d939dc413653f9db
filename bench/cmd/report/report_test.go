package main

import (
	"encoding/xml"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
)

func fixture(t *testing.T) *Results {
	t.Helper()
	f, err := os.Open("testdata/fixture.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestParse(t *testing.T) {
	r := fixture(t)
	if got := r.Config["cpu"]; got != "Test CPU @ 1.00GHz" {
		t.Errorf("cpu = %q", got)
	}
	if got := r.Config["nproc"]; got != "2" {
		t.Errorf("nproc = %q", got)
	}
	k := key{"Read", "small", "sealed"}
	if got := r.Samples[k]["ns/op"]; len(got) != 3 || got[1] != 700 {
		t.Errorf("samples = %v", got)
	}
	// Odd count: the middle value; spread is the farther run.
	if s, _ := r.Stat(k, "ns/op"); s.Median != 650 || s.N != 3 || s.Spread != 50.0/650 {
		t.Errorf("stat = %+v", s)
	}
	// Even count: the mean of the middle two.
	if s, _ := r.Stat(key{"Read", "small", "limit"}, "ns/op"); s.Median != 350 || s.Spread != 0 {
		t.Errorf("stat = %+v", s)
	}
	// A name without the -N suffix (GOMAXPROCS=1).
	if got := r.Median(key{"Write", "small", "sealed"}, "ns/op"); got != 500 {
		t.Errorf("write = %v", got)
	}
	if got := r.Median(key{"Read", "large", "sealed"}, "cookie-bytes"); got != 9734 {
		t.Errorf("cookie-bytes = %v", got)
	}
	if r.runs() != 3 {
		t.Errorf("runs = %d", r.runs())
	}
}

func TestParseRejects(t *testing.T) {
	if _, err := Parse(strings.NewReader("PASS\n")); err == nil {
		t.Error("no benchmarks parsed without error")
	}
	if _, err := Parse(strings.NewReader("BenchmarkOther-2 10 5 ns/op\n")); err == nil {
		t.Error("an unexpected benchmark name parsed without error")
	}
}

func TestTargets(t *testing.T) {
	got := map[string]Target{}
	for _, tg := range Targets(fixture(t)) {
		got[tg.Goal] = tg
	}
	for goal, want := range map[string]string{
		"read small: sealed ≤ 2× limit":                          "PASS", // 650/350 = 1.86
		"read medium: sealed ≤ 1.3× limit":                       "MISS", // 2.0
		"read large: sealed ≤ 1.3× limit":                        "PASS", // 1.125
		"read: sealed allocs/op the same for every shape, ≤ 8":   "MISS", // 4 / 4 / 5
		"write small: sealed ≤ 1.5× limit":                       "PASS", // 1.25
		"write medium: sealed ≤ 1.5× limit":                      "no data",
		"read medium: sealed ≥ 8× faster than securecookie-json": "PASS", // 10.5
		"cookie small: sealed ≤ limit + 80 bytes":                "PASS", // +17
		"cookie large: sealed ≤ limit + 80 bytes":                "MISS", // +134
	} {
		tg, ok := got[goal]
		if !ok {
			t.Errorf("no target %q", goal)
			continue
		}
		if tg.Result() != want {
			t.Errorf("%s: %s (%s), want %s", goal, tg.Result(), tg.Measured, want)
		}
	}
	if m := got["read small: sealed ≤ 2× limit"].Measured; m != "1.86×" {
		t.Errorf("measured %q", m)
	}
}

func TestMarkdownAndSplice(t *testing.T) {
	md := Markdown(fixture(t), map[string]string{"wrk": "wrk -t2 -c32 -d10s", "healthz_rps": "50000", "whoami_rps": "46000", "ratio_healthz": "0.92"})
	for _, want := range []string{
		"| CPU | Test CPU @ 1.00GHz |",
		"| small | **sealed** | 650 ns | 8% | 856 | 4 | 234 | 1.86 |",
		"| medium | securecookie-json | 21.0 µs |",
		"| read medium: sealed ≤ 1.3× limit | 2.00× | MISS |",
		"![chart](bench/chart.svg)",
		"/whoami ÷ /healthz: 0.92 (for reference)",
		"| small | sealed, load + write ¹ | 150 ns |",
		"¹ Not a target: sealed's whole read-modify-write",
		"| 50000 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q", want)
		}
	}
	doc := "# Title\n\nbefore\n" + beginMarker + "\nold\n" + endMarker + "\nafter\n"
	out, err := Splice([]byte(doc), "new\n")
	if err != nil {
		t.Fatal(err)
	}
	if want := "# Title\n\nbefore\n" + beginMarker + "\nnew\n" + endMarker + "\nafter\n"; string(out) != want {
		t.Errorf("Splice = %q", out)
	}
	if _, err := Splice([]byte(endMarker+beginMarker), "x"); err == nil {
		t.Error("Splice accepted markers out of order")
	}
}

// The load section: a row per endpoint measured, the target ratio
// (/whoami to its baseline /bare) with its verdict, and /whoami to
// /healthz for reference only. A file from before /bare has one ratio,
// /whoami to /healthz, which gets no verdict.
func TestMarkdownLoad(t *testing.T) {
	load := ParseLoad([]byte(`# bench/load.sh
wrk=` + "`wrk -t2 -c32 -d10s --latency`" + `
healthz_rps=100000.4
healthz_p50=200.00us
healthz_p99=5.00ms
bare_rps=90000.6
bare_p50=220.00us
bare_p99=6.00ms
whoami_rps=81000.0
whoami_p50=240.00us
whoami_p99=7.00ms
ratio_bare=0.90
ratio_healthz=0.81
cookie_bytes=172
note=shared CPUs.
`))
	for _, tc := range []struct {
		name    string
		load    map[string]string
		want    []string
		notWant []string
	}{
		{"PASS", load, []string{
			"| `GET /healthz` (outside the muxes, the cross-origin protection and the session middleware; no Cookie header) | 100000 | 200.00us | 5.00ms |",
			"| `GET /bare` (baseline: routed like /whoami, same kind of response, same Cookie header, no session middleware) | 90001 | 220.00us | 6.00ms |",
			"| `GET /whoami` (reads the session, writes nothing) | 81000 | 240.00us | 7.00ms |",
			"/whoami ÷ /bare: **0.90** (target ≥ 0.9: PASS). /whoami ÷ /healthz: 0.81 (for reference). Cookie header: 172 bytes. shared CPUs.",
		}, nil},
		{"MISS", map[string]string{"bare_rps": "100", "whoami_rps": "89", "ratio_bare": "0.89", "ratio_healthz": "0.95"}, []string{
			"/whoami ÷ /bare: **0.89** (target ≥ 0.9: MISS). /whoami ÷ /healthz: 0.95 (for reference).",
		}, []string{"/healthz` ("}},
		{"before /bare", map[string]string{"healthz_rps": "108884.03", "whoami_rps": "81191.88", "ratio": "0.75"}, []string{
			"| 108884 |", "| 81192 |", "/whoami ÷ /healthz: 0.75 (for reference).",
		}, []string{"/bare", "PASS", "MISS"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			md := Markdown(fixture(t), tc.load)
			md = md[strings.Index(md, "### Load test"):]
			for _, want := range tc.want {
				if !strings.Contains(md, want) {
					t.Errorf("load section lacks %q:\n%s", want, md)
				}
			}
			for _, bad := range tc.notWant {
				if strings.Contains(md, bad) {
					t.Errorf("load section has %q:\n%s", bad, md)
				}
			}
		})
	}
}

func TestChartIsWellFormedSVG(t *testing.T) {
	svg := Chart(fixture(t))
	d := xml.NewDecoder(strings.NewReader(svg))
	rects := 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well formed: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "rect" {
			for _, a := range se.Attr {
				if a.Name.Local == "height" && strings.HasPrefix(a.Value, "-") {
					t.Errorf("negative bar height %s", a.Value)
				}
			}
			rects++
		}
	}
	// Background, 7 read bars, 2 write bars, 5 legend swatches.
	if rects != 1+7+2+5 {
		t.Errorf("%d rects", rects)
	}
	if !strings.Contains(svg, "Read path") || !strings.Contains(svg, "650 ns") {
		t.Error("labels missing")
	}
}

func TestDecade(t *testing.T) {
	for v, want := range map[float64]string{100: "100 ns", 1e3: "1 µs", 1e4: "10 µs", 1e6: "1 ms"} {
		if got := decade(v); got != want {
			t.Errorf("decade(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestFormatNs(t *testing.T) {
	for v, want := range map[float64]string{351: "351 ns", 1280: "1.28 µs", 26556: "26.6 µs", 172642: "173 µs", 2.5e6: "2.50 ms"} {
		if got := formatNs(v); got != want {
			t.Errorf("formatNs(%v) = %q, want %q", v, got, want)
		}
	}
}
