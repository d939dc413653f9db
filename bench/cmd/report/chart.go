package main

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
)

// chartLibs are the libraries drawn, with their bar colours.
var chartLibs = []struct{ name, color string }{
	{"sealed", "#1f6fb4"},
	{"limit", "#8c8c8c"},
	{"securecookie-json", "#f28e2b"},
	{"securecookie-gob", "#d1493f"},
	{"jwe", "#4e9f50"},
}

// Chart draws ns/op of the read and write paths as grouped bars: one
// panel per path, one group per shape, one bar per library, on a shared
// logarithmic axis (the libraries differ by two orders of magnitude).
// It is plain SVG text, with no dependencies.
func Chart(r *Results) string {
	const (
		width, height       = 980, 490
		top, bottom         = 86, 400 // plot area, y
		left                = 70      // first panel's x
		panelW, panelGap    = 420, 50
		groupGap, barGap    = 22, 3
		fontFamily          = "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif"
		labelSize, tickSize = 10, 11
	)
	panels := []struct{ op, title string }{
		{"Read", "Read path: Cookie header → one key"},
		{"Write", "Write path: one key set → Set-Cookie lines"},
	}

	// Shared log scale over every drawn value.
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range panels {
		for _, s := range shapes {
			for _, l := range chartLibs {
				if v := r.Median(key{p.op, s, l.name}, "ns/op"); v > 0 {
					lo, hi = math.Min(lo, v), math.Max(hi, v)
				}
			}
		}
	}
	if math.IsInf(lo, 0) {
		lo, hi = 100, 1000
	}
	decLo, decHi := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
	if decHi == decLo {
		decHi++
	}
	y := func(v float64) float64 {
		return bottom - (math.Log10(v)-decLo)/(decHi-decLo)*(bottom-top)
	}

	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	w(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="%s">`+"\n", width, height, width, height, fontFamily)
	w(`<rect width="100%%" height="100%%" fill="#ffffff"/>` + "\n")
	w(`<text x="%d" y="24" font-size="16" font-weight="600" fill="#222">sealed and peers: time per operation (ns/op, log scale, lower is better)</text>`+"\n", left)
	sub := fmt.Sprintf("Median of %d runs", r.runs())
	if c := r.Config["cpu"]; c != "" {
		sub += " · " + c
	}
	if n := r.Config["nproc"]; n != "" {
		sub += " · " + n + " CPUs"
	}
	if g := r.Config["go"]; g != "" {
		sub += " · " + g
	}
	w(`<text x="%d" y="44" font-size="12" fill="#555">%s</text>`+"\n", left, html.EscapeString(sub))

	nBars := len(chartLibs)
	groupW := (float64(panelW) - float64(groupGap)*float64(len(shapes)+1)) / float64(len(shapes))
	barW := (groupW - float64(barGap)*float64(nBars-1)) / float64(nBars)

	for pi, p := range panels {
		x0 := float64(left + pi*(panelW+panelGap))
		// Axis and decade grid lines, labelled on every panel.
		for d := decLo; d <= decHi; d++ {
			v := math.Pow(10, d)
			yy := y(v)
			w(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#e3e3e3"/>`+"\n", x0, yy, x0+panelW, yy)
			w(`<text x="%.1f" y="%.1f" font-size="%d" fill="#555" text-anchor="end">%s</text>`+"\n", x0-6, yy+4, tickSize, html.EscapeString(decade(v)))
			if d < decHi {
				for m := 2.0; m < 10; m++ {
					ym := y(m * v)
					w(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#f3f3f3"/>`+"\n", x0, ym, x0+panelW, ym)
				}
			}
		}
		w(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#999"/>`+"\n", x0, bottom, x0+panelW, bottom)
		w(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#999"/>`+"\n", x0, top, x0, bottom)
		w(`<text x="%.1f" y="%d" font-size="13" font-weight="600" fill="#222" text-anchor="middle">%s</text>`+"\n", x0+panelW/2, top-14, html.EscapeString(p.title))

		for si, s := range shapes {
			gx := x0 + float64(groupGap) + float64(si)*(groupW+float64(groupGap))
			for li, l := range chartLibs {
				v := r.Median(key{p.op, s, l.name}, "ns/op")
				if !(v > 0) {
					continue
				}
				bx := gx + float64(li)*(barW+float64(barGap))
				by := y(v)
				w(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s, %s, %s: %s</title></rect>`+"\n",
					bx, by, barW, bottom-by, l.color, p.op, s, l.name, html.EscapeString(formatNs(v)))
				// Value label, vertical, just above the bar.
				tx, ty := bx+barW/2+3.5, by-4
				w(`<text x="%.1f" y="%.1f" font-size="%d" fill="#333" transform="rotate(-90 %.1f %.1f)">%s</text>`+"\n",
					tx, ty, labelSize, tx, ty, html.EscapeString(formatNs(v)))
			}
			w(`<text x="%.1f" y="%d" font-size="12" fill="#222" text-anchor="middle">%s</text>`+"\n", gx+groupW/2, bottom+18, s)
		}
	}

	// Legend.
	lx, ly := float64(left), float64(bottom+48)
	for _, l := range chartLibs {
		w(`<rect x="%.1f" y="%.1f" width="12" height="12" fill="%s"/>`+"\n", lx, ly-10, l.color)
		w(`<text x="%.1f" y="%.1f" font-size="12" fill="#222">%s</text>`+"\n", lx+17, ly, l.name)
		lx += 17 + float64(len(l.name))*7 + 26
	}
	w(`<text x="%d" y="%.1f" font-size="11" fill="#666">limit: XChaCha20-Poly1305 + base64url of the already-encoded payload, reused buffers (the floor). See BENCHMARKS.md for what each op includes.</text>`+"\n", left, ly+24)
	w("</svg>\n")
	return b.String()
}

// decade labels a power of ten of nanoseconds: 100 ns, 1 µs, 10 µs, ...
func decade(v float64) string {
	units := []string{"ns", "µs", "ms", "s"}
	u := 0
	for v >= 1000 && u < len(units)-1 {
		v /= 1000
		u++
	}
	return strconv.FormatFloat(math.Round(v), 'f', -1, 64) + " " + units[u]
}
