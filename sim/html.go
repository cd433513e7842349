package sim

import (
	"bytes"
	"fmt"
	"html"
	"strconv"
)

// HTML renders the evaluation as one self-contained page: tables and inline SVG charts,
// no script and nothing fetched from the network.
func (ev *Evaluation) HTML() []byte {
	var b bytes.Buffer
	esc := html.EscapeString
	fmt.Fprintf(&b, `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>silentcert evaluation: %s %s</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:980px;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}.pass{color:#060;font-weight:bold}.fail{color:#b00;font-weight:bold}
figure{margin:1.5em 0}figcaption{font-weight:bold;margin-bottom:.3em}svg text{font-size:11px;fill:#333}
</style></head><body>
<h1>Evaluation: %s %s, %s to %s</h1>
<p>Seed %d, %d recipients, %d living on the last day, %d deaths in the window.</p>
`, esc(ev.Scenario.City), esc(ev.Scenario.CityName), esc(ev.Scenario.City), esc(ev.Scenario.CityName),
		esc(ev.Scenario.From), esc(ev.Scenario.To), ev.Scenario.Seed, ev.Recipients, ev.LivingOnTo, ev.Deaths)
	b.WriteString("<h2>Checks</h2><table><tr><th>criterion</th><th>value</th><th>result</th></tr>\n")
	for _, c := range ev.Checks {
		cls, word := "pass", "PASS"
		if !c.Pass {
			cls, word = "fail", "FAIL"
		}
		fmt.Fprintf(&b, "<tr><td>%s</td><td class=n>%s</td><td class=%s>%s</td></tr>\n", esc(c.Name), esc(c.Value), cls, word)
	}
	b.WriteString("</table>\n<h2>Figures</h2><table>\n")
	for _, line := range ev.rows() {
		fmt.Fprintf(&b, "<tr><td>%s</td><td class=n>%s</td></tr>\n", esc(line[0]), esc(line[1]))
	}
	b.WriteString("</table>\n")

	methods := sortedKeys(ev.Silent.ByMethod)
	var vals []float64
	for _, m := range methods {
		vals = append(vals, float64(ev.Silent.ByMethod[m]))
	}
	figure(&b, "Living recipients on the last day by method of their latest certification", barChart(methods, vals, ""))

	var months []string
	var shares []float64
	for _, m := range ev.Pending.Months {
		months = append(months, m.Month)
		shares = append(shares, m.Share*100)
	}
	figure(&b, "People pending a month, % of living recipients (line: 2%)", barChartLimit(months, shares, "%", 2))
	figure(&b, "Days from death to termination: median, p95, max", barChart([]string{"median", "p95", "max"},
		[]float64{ev.Termination.Days.Median, ev.Termination.Days.P95, ev.Termination.Days.Max}, ""))
	figure(&b, "Pending people per village and month: median, p95, max", barChart([]string{"median", "p95", "max"},
		[]float64{ev.Pending.PerVillageMonth.Median, ev.Pending.PerVillageMonth.P95, ev.Pending.PerVillageMonth.Max}, ""))
	if m := ev.Models; m != nil {
		modelsHTML(&b, m)
	}
	b.WriteString("</body></html>\n")
	return b.Bytes()
}

func figure(b *bytes.Buffer, caption, svg string) {
	fmt.Fprintf(b, "<figure><figcaption>%s</figcaption>\n%s</figure>\n", html.EscapeString(caption), svg)
}

func barChart(labels []string, vals []float64, unit string) string {
	return barChartLimit(labels, vals, unit, -1)
}

// barChartLimit draws vertical bars with their values, and a dashed line at limit when
// limit >= 0.
func barChartLimit(labels []string, vals []float64, unit string, limit float64) string {
	const h, top, bottom, left = 220.0, 20.0, 60.0, 50.0
	bw := 36.0
	if len(vals) > 12 {
		bw = 28
	}
	w := left + float64(len(vals))*bw + 20
	max := limit
	for _, v := range vals {
		if v > max {
			max = v
		}
	}
	if max <= 0 {
		max = 1
	}
	max *= 1.1
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" role="img">`+"\n", w, h+bottom)
	fmt.Fprintf(&b, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="#888"/>`+"\n", left, h, w-10, h)
	for i, v := range vals {
		x := left + float64(i)*bw + 4
		bh := (h - top) * v / max
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#4a7fb5"><title>%s: %s%s</title></rect>`+"\n",
			x, h-bh, bw-8, bh, html.EscapeString(labels[i]), num(v), unit)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", x+(bw-8)/2, h-bh-3, num(v))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" transform="rotate(45 %.1f %.1f)">%s</text>`+"\n", x+2, h+12, x+2, h+12, html.EscapeString(labels[i]))
	}
	if limit >= 0 {
		y := h - (h-top)*limit/max
		fmt.Fprintf(&b, `<line x1="%.0f" y1="%.1f" x2="%.0f" y2="%.1f" stroke="#b00" stroke-dasharray="4 3"/>`+"\n", left, y, w-10, y)
	}
	b.WriteString("</svg>\n")
	return b.String()
}

func num(v float64) string {
	if v == float64(int64(v)) {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}
