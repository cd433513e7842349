package web

import (
	sc "github.com/silentcert/silentcert"
	"strings"
	"testing"
)

func TestCharts(t *testing.T) {
	labels := []string{"2025-01", "2025-02"}
	line := string(LineChart(`rate <script>`, labels, []Series{{Name: "a&b", Values: []float64{0.5, 1}}}, true))
	if strings.Contains(line, "<script>") || !strings.Contains(line, "rate &lt;script&gt;") || !strings.Contains(line, "a&amp;b") {
		t.Fatalf("labels not escaped: %s", line)
	}
	if !strings.Contains(line, `points="199.0,106.0 485.0,12.0"`) || !strings.Contains(line, ">100%<") {
		t.Fatalf("line points: %s", line)
	}
	// Stacked bars: the second series sits on the first; the axis is rounded up to 5.
	bars := string(BarChart("t", labels, []Series{{Name: "x", Values: []float64{1, 2}}, {Name: "y", Values: []float64{3, 0}, Color: "#000000"}}))
	if !strings.Contains(bars, `y="162.4" width="200.2" height="37.6" fill="#1f5fa8"`) || !strings.Contains(bars, `fill="#000000"><title>2025-01 y: 3</title>`) || !strings.Contains(bars, ">5<") {
		t.Fatalf("bars: %s", bars)
	}
	if got := string(BarChart("t", labels, []Series{{Name: "x", Values: []float64{1, 2}}})); got != string(BarChart("t", labels, []Series{{Name: "x", Values: []float64{1, 2}}})) {
		t.Fatal("the same data drew two charts")
	}
	share := string(ShareBars("s", "none", []Share{{"A", 3}, {"B", 1}}))
	if !strings.Contains(share, "75.0% (3)") || !strings.Contains(share, "25.0% (1)") {
		t.Fatalf("shares: %s", share)
	}
	if got := string(ShareBars("s", "none <b>", nil)); got != `<p class="muted">none &lt;b&gt;</p>` {
		t.Fatalf("empty shares: %s", got)
	}
}

// TestYuan: amounts grouped by thousands, the sign kept below one yuan (a recovery
// over-repaid by fifty fen).
func TestYuan(t *testing.T) {
	for f, want := range map[sc.Fen]string{0: "0.00", 5: "0.05", 123456789: "1,234,567.89", -50: "-0.50", -100000: "-1,000.00"} {
		if got := yuan(f); got != want {
			t.Errorf("yuan(%d) = %q, want %q", f, got, want)
		}
	}
}

// TestMoneyTips: a money chart's tooltips give each amount to the fen (they read
// "3.8859089399999998M", %g of a float sum), its ticks stay rounded; a count's tooltip is
// the whole number.
func TestMoneyTips(t *testing.T) {
	v := 0.0
	for _, fen := range []sc.Fen{388590894 - 100001, 100001} { // summed as the dashboard sums
		v += float64(fen) / 100
	}
	bars := string(BarChart("t", []string{"2025-02"}, []Series{{Name: "已发放", Values: []float64{v}, Tip: yuanTip}}))
	if !strings.Contains(bars, "<title>2025-02 已发放: ¥3,885,908.94</title>") {
		t.Errorf("the money tooltip is not the amount to the fen: %s", bars)
	}
	if !strings.Contains(bars, ">5M<") {
		t.Errorf("the ticks are not rounded: %s", bars)
	}
	if got := yuanTip(3885908.9399999998); got != "¥3,885,908.94" {
		t.Errorf("yuanTip = %q", got)
	}
	counts := string(BarChart("t", []string{"2025-02"}, []Series{{Name: "n", Values: []float64{1234567}}}))
	if !strings.Contains(counts, "<title>2025-02 n: 1,234,567</title>") {
		t.Errorf("a count's tooltip: %s", counts)
	}
}
