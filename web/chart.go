package web

import (
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"

	sc "github.com/silentcert/silentcert"
)

// Charts are inline SVG drawn on the server: no script, no library, readable by a screen
// reader through the title and the table each chart has beside it.

// Series is one named line or one layer of stacked bars.
type Series struct {
	Name   string
	Values []float64
	Color  string // "" takes the palette's next colour
	// Tip writes a value in full for its tooltip (money: to the fen, ¥3,885,908.94);
	// nil writes it as a number, whole counts grouped. The axis's ticks stay rounded.
	Tip func(float64) string
}

// tip writes value v of the series for a tooltip.
func (s *Series) tip(v float64) string {
	if s.Tip != nil {
		return s.Tip(v)
	}
	if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
		return groupDigits(int64(v))
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// yuanTip writes an amount in yuan (a float of whole fen) to the fen: the sums in yuan
// carry float noise (3.8859089399999998M) that rounding to the fen takes away.
func yuanTip(v float64) string { return "¥" + yuan(sc.Fen(math.Round(v*100))) }

func (s *Series) color(i int) string {
	if s.Color != "" {
		return s.Color
	}
	return palette[i%len(palette)]
}

// textWidth estimates the width of a label at 12 px: CJK characters are square, others
// about half as wide.
func textWidth(s string) int {
	w := 0
	for _, r := range s {
		if r >= 0x2E80 {
			w += 13
		} else {
			w += 7
		}
	}
	return w
}

// palette has colours that keep 3:1 contrast against white and apart from each other.
var palette = []string{"#1f5fa8", "#d0561b", "#2e7d32", "#8e24aa", "#c62828", "#00838f", "#6d4c41", "#5c6bc0", "#9e9d24"}

const (
	chartW, chartH       = 640, 240
	padL, padR, padT, pb = 56, 12, 12, 40
)

func esc(s string) string { return template.HTMLEscapeString(s) }

// niceMax rounds a maximum up to 1, 2 or 5 times a power of ten.
func niceMax(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

func fmtTick(v float64, pct bool) string {
	if pct {
		return fmt.Sprintf("%.0f%%", v*100)
	}
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%gM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%gk", v/1e3)
	}
	return fmt.Sprintf("%g", v)
}

// frame draws the axes, grid and x labels, and returns the y scale.
func frame(b *strings.Builder, title string, labels []string, max float64, pct bool) func(float64) float64 {
	fmt.Fprintf(b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg"><title>%s</title>`,
		chartW, chartH, esc(title), esc(title))
	plotH := float64(chartH - padT - pb)
	y := func(v float64) float64 { return float64(padT) + plotH*(1-v/max) }
	for i := 0; i <= 4; i++ {
		v := max * float64(i) / 4
		fmt.Fprintf(b, `<line class="grid" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/><text class="tick" x="%d" y="%.1f" text-anchor="end">%s</text>`,
			padL, chartW-padR, y(v), y(v), padL-6, y(v)+4, fmtTick(v, pct))
	}
	n := len(labels)
	step := max1(n / 8)
	for i, l := range labels {
		if i%step != 0 {
			continue
		}
		fmt.Fprintf(b, `<text class="tick" x="%.1f" y="%d" text-anchor="middle">%s</text>`, xAt(i, n), chartH-pb+16, esc(l))
	}
	return y
}

func max1(n int) int {
	if n < 1 {
		return 1
	}
	return n
}

func xAt(i, n int) float64 {
	w := float64(chartW - padL - padR)
	return float64(padL) + w*(float64(i)+0.5)/float64(max1(n))
}

func legend(b *strings.Builder, series []Series) {
	x := padL
	for i := range series {
		s := &series[i]
		fmt.Fprintf(b, `<rect x="%d" y="%d" width="10" height="10" fill="%s"/><text class="legend" x="%d" y="%d">%s</text>`,
			x, chartH-14, s.color(i), x+14, chartH-5, esc(s.Name))
		x += 32 + textWidth(s.Name)
	}
}

// LineChart draws one line per series over the labels; pct formats the axis as percent.
func LineChart(title string, labels []string, series []Series, pct bool) template.HTML {
	var b strings.Builder
	mx := 0.0
	for _, s := range series {
		for _, v := range s.Values {
			mx = math.Max(mx, v)
		}
	}
	if pct {
		mx = math.Max(mx, 0.01)
		mx = math.Min(1, niceMax(mx))
	} else {
		mx = niceMax(mx)
	}
	y := frame(&b, title, labels, mx, pct)
	for i := range series {
		s := &series[i]
		var pts []string
		for j, v := range s.Values {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", xAt(j, len(labels)), y(v)))
		}
		fmt.Fprintf(&b, `<polyline class="line" fill="none" stroke="%s" stroke-width="2.5" points="%s"/>`, s.color(i), strings.Join(pts, " "))
	}
	legend(&b, series)
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// BarChart draws stacked bars, one per label, the series stacked in order.
func BarChart(title string, labels []string, series []Series) template.HTML {
	var b strings.Builder
	mx := 0.0
	for j := range labels {
		sum := 0.0
		for _, s := range series {
			if j < len(s.Values) {
				sum += s.Values[j]
			}
		}
		mx = math.Max(mx, sum)
	}
	mx = niceMax(mx)
	y := frame(&b, title, labels, mx, false)
	bw := float64(chartW-padL-padR) / float64(max1(len(labels))) * 0.7
	for j := range labels {
		base := 0.0
		for i := range series {
			s := &series[i]
			if j >= len(s.Values) || s.Values[j] <= 0 {
				continue
			}
			top := base + s.Values[j]
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s: %s</title></rect>`,
				xAt(j, len(labels))-bw/2, y(top), bw, y(base)-y(top), s.color(i), esc(labels[j]), esc(s.Name), esc(s.tip(s.Values[j])))
			base = top
		}
	}
	legend(&b, series)
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// Share is one part of a whole, for ShareBars.
type Share struct {
	Label string
	N     int64
}

// ShareBars draws one horizontal bar per part with its share of the whole; empty says
// so in words.
func ShareBars(title, empty string, parts []Share) template.HTML {
	var total int64
	for _, p := range parts {
		total += p.N
	}
	rowH := 26
	if len(parts) == 0 {
		return template.HTML(fmt.Sprintf(`<p class="muted">%s</p>`, esc(empty)))
	}
	h := rowH*len(parts) + 8
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg"><title>%s</title>`,
		chartW, h, esc(title), esc(title))
	for i, p := range parts {
		share := 0.0
		if total > 0 {
			share = float64(p.N) / float64(total)
		}
		y := 4 + i*rowH
		w := share * float64(chartW-260)
		fmt.Fprintf(&b, `<text class="tick" x="150" y="%d" text-anchor="end">%s</text><rect x="158" y="%d" width="%.1f" height="18" fill="%s"/><text class="tick" x="%.1f" y="%d">%.1f%% (%s)</text>`,
			y+14, esc(p.Label), y, w, palette[i%len(palette)], 164+w, y+14, share*100, groupDigits(p.N))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
