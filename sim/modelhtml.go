package sim

import (
	"bytes"
	"fmt"
	"html"
	"math"
	"strconv"
)

// modelsHTML adds the evidence models' section: the ROC curve of the trace score, the
// calibration table and chart, precision at k of the risk list.
func modelsHTML(b *bytes.Buffer, m *ModelMetrics) {
	b.WriteString("<h2>Evidence models</h2>\n")
	su := m.SilentUnasked
	fmt.Fprintf(b, "<p>Silent share of the living on --to with the answers no reminder of this run asked for set aside: %.4f (%d latest STRONG or WEAK, %d unasked answers while the data certified them through --to, of %d; %d answered a reminder, %d unasked but the data ran out, %d migrated).</p>\n",
		su.Share, su.Silent, su.Unasked, su.Living, su.Asked, su.Uncover, su.Migrated)
	for _, n := range m.Notes {
		fmt.Fprintf(b, "<p>Note: %s.</p>\n", html.EscapeString(n))
	}
	fmt.Fprintf(b, "<p>Trace score on the fortnight clock's weak traces of the window: %d traces, %d after the death of %d people.</p>\n", m.TraceN, m.TraceDead, m.TraceDeadPeople)
	figure(b, fmt.Sprintf("ROC of the trace score, P(dead) at a clock-sampled weak trace (AUC %.4f)", m.TraceAUC), rocChart(m.ROC, 1))
	figure(b, fmt.Sprintf("The same, false positive rate up to %g (where the RISK flag works)", rocLowFPR), rocChart(m.ROC, rocLowFPR))
	b.WriteString("<table><tr><th>P(alive)</th><th>traces</th><th>predicted alive</th><th>observed alive</th><th>deaths expected</th><th>deaths observed</th></tr>\n")
	var labels []string
	var pred, obs []float64
	for _, c := range m.Calibration {
		l := strconv.FormatFloat(c.Lo, 'g', 4, 64) + "–" + strconv.FormatFloat(c.Hi, 'g', 4, 64)
		fmt.Fprintf(b, "<tr><td>%s</td><td class=n>%d</td><td class=n>%s</td><td class=n>%s</td><td class=n>%.2f</td><td class=n>%d</td></tr>\n", html.EscapeString(l), c.N, fmtShare(c.Predicted), fmtShare(c.Observed), c.ExpectedDead, c.ObservedDead)
		if c.Predicted != nil && c.Observed != nil {
			labels = append(labels, l+" pred", l+" obs")
			pred = append(pred, *c.Predicted*100)
			obs = append(obs, *c.Observed*100)
		}
	}
	b.WriteString("</table>\n")
	var vals []float64
	for i := range pred {
		vals = append(vals, pred[i], obs[i])
	}
	figure(b, "Calibration: predicted and observed share alive (%) per P(alive) bin", barChart(labels, vals, "%"))
	var ks []string
	var ps []float64
	for _, p := range m.PrecisionAtK {
		ks = append(ks, "top "+strconv.Itoa(p.K))
		ps = append(ps, p.Precision*100)
	}
	figure(b, "Risk list: share of the top k (by highest RISK score) dead when scored, %", barChart(ks, ps, "%"))
	if len(m.FoundAtShare) > 0 {
		var ls []string
		var fs []float64
		for _, f := range m.FoundAtShare {
			ls = append(ls, strconv.FormatFloat(f.Share*100, 'g', 3, 64)+"% flagged")
			fs = append(fs, 100*float64(f.Found)/math.Max(1, float64(f.Of)))
		}
		figure(b, "RISK score whatever the threshold: hidden deaths with card use found within 90 days (%) if this share of the living were flagged a year (sampled traces: close, not exact)", barChart(ls, fs, "%"))
	}
	figure(b, "Health index: death rate within a year, top decile and average, %", barChart([]string{"top decile", "average"},
		[]float64{m.HealthTopDecileRate * 100, m.HealthAverageRate * 100}, "%"))
}

// fmtShare formats a calibration share, "—" when the bin is empty.
func fmtShare(v *float64) string {
	if v == nil {
		return "—"
	}
	return strconv.FormatFloat(*v, 'f', 4, 64)
}

// rocChart draws the ROC curve for false positive rates up to xmax (1: the whole curve and
// the diagonal; below 1, the low false positive region stretched across the chart).
func rocChart(pts [][2]float64, xmax float64) string {
	const size, pad = 240.0, 40.0
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" role="img">`+"\n", size+2*pad, size+2*pad)
	fmt.Fprintf(&b, `<rect x="%.0f" y="%.0f" width="%.0f" height="%.0f" fill="none" stroke="#888"/>`+"\n", pad, pad, size, size)
	if xmax >= 1 {
		fmt.Fprintf(&b, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="#bbb" stroke-dasharray="4 3"/>`+"\n", pad, pad+size, pad+size, pad)
	}
	b.WriteString(`<polyline fill="none" stroke="#4a7fb5" stroke-width="2" points="`)
	for i, p := range pts {
		x, y := p[0], p[1]
		if x > xmax {
			if i == 0 {
				break
			}
			// Cut the segment at xmax.
			q := pts[i-1]
			y = q[1] + (p[1]-q[1])*(xmax-q[0])/(p[0]-q[0])
			x = xmax
		}
		fmt.Fprintf(&b, "%.1f,%.1f ", pad+x/xmax*size, pad+size-y*size)
		if x >= xmax {
			break
		}
	}
	b.WriteString(`"/>` + "\n")
	fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" text-anchor="start">0</text>`+"\n", pad, pad+size+14)
	fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" text-anchor="end">%g</text>`+"\n", pad+size, pad+size+14, xmax)
	fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" text-anchor="middle">false positive rate</text>`+"\n", pad+size/2, pad+size+28)
	fmt.Fprintf(&b, `<text x="12" y="%.0f" transform="rotate(-90 12 %.0f)" text-anchor="middle">true positive rate</text>`+"\n", pad+size/2, pad+size/2)
	b.WriteString("</svg>\n")
	return b.String()
}
