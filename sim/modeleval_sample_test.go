package sim

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/silentcert/silentcert"
)

// modelRun is a hand-made scenario (truth.csv) and backtest result (scores.csv,
// models.csv, decisions.csv, status.csv) for EvaluateModels; a file left empty gets a
// header only.
type modelRun struct {
	truth, scores, models, decisions, status string
}

func (r modelRun) eval(t *testing.T) *ModelMetrics {
	t.Helper()
	scn, res := t.TempDir(), t.TempDir()
	or := func(s, head string) string {
		if s == "" {
			return head
		}
		return s
	}
	files := map[string]string{
		filepath.Join(scn, "truth.csv"):     r.truth,
		filepath.Join(res, "scores.csv"):    or(r.scores, "person_id,day,event_date,spoofable,p_dead,risk,clock\n"),
		filepath.Join(res, "models.csv"):    or(r.models, "person_id,health,risk_max,risk_max_day,first_flag\n"),
		filepath.Join(res, "decisions.csv"): or(r.decisions, "date,person_id,action,method,evidence,detail\n"),
		filepath.Join(res, "status.csv"):    or(r.status, "person_id,status,last_method\n"),
	}
	for p, s := range files {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	from, to := mustDay(t, "2024-01-01"), mustDay(t, "2025-12-31")
	m, err := EvaluateModels(scn, res, from, to)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func mustDay(t *testing.T, s string) silentcert.Date {
	t.Helper()
	d, err := silentcert.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

const sampleTruth = "person_id,death_date,first_death_report,fraud,card_use_reported\n" +
	"A,,,0,\nB,,,0,\nD,2024-03-01,,1,2024-03-10\n"

// The trace score's AUC and calibration take the fortnight clock's traces of from..to:
// not D's trace kept for its RISK score (clock 0) nor A's history before --from.
// Clock traces in the window: A 0.1 alive, B 0.3 alive, D 0.2 dead: D beats A, not B,
// AUC 1/2. All five rows (alive 0.1, 0.3, 0.05; dead 0.2, 0.9): 5 of 6 pairs, 0.8333.
func TestModelsTraceSampleClockWindow(t *testing.T) {
	m := modelRun{truth: sampleTruth, scores: "person_id,day,event_date,spoofable,p_dead,risk,clock\n" +
		"A,2023-10-01,2023-10-01,1,0.05000,0.00100,1\n" +
		"A,2024-02-01,2024-02-01,1,0.10000,0.00100,1\n" +
		"B,2024-02-01,2024-02-01,1,0.30000,0.00100,1\n" +
		"D,2024-03-05,2024-03-05,1,0.20000,0.00100,1\n" +
		"D,2024-03-06,2024-03-06,1,0.90000,0.50000,0\n"}.eval(t)
	if m.TraceAUC != 0.5 || m.TraceN != 3 || m.TraceDead != 1 || m.TraceDeadPeople != 1 || m.TraceSetAside != 2 || !m.ClockKnown {
		t.Errorf("AUC %g, %d traces, %d dead of %d people, %d set aside, clock known %v; want 0.5, 3, 1 of 1, 2, true",
			m.TraceAUC, m.TraceN, m.TraceDead, m.TraceDeadPeople, m.TraceSetAside, m.ClockKnown)
	}
}

// A scores.csv written before the clock column: every row of the window is read as a
// clock trace, with a note. In the window: alive 0.1, 0.3; dead 0.2, 0.9: 3 of 4 pairs.
func TestModelsScoresWithoutClock(t *testing.T) {
	m := modelRun{truth: sampleTruth, scores: "person_id,day,event_date,spoofable,p_dead,risk\n" +
		"A,2023-10-01,2023-10-01,1,0.05000,0.00100\n" +
		"A,2024-02-01,2024-02-01,1,0.10000,0.00100\n" +
		"B,2024-02-01,2024-02-01,1,0.30000,0.00100\n" +
		"D,2024-03-05,2024-03-05,1,0.20000,0.00100\n" +
		"D,2024-03-06,2024-03-06,1,0.90000,0.50000\n"}.eval(t)
	if m.TraceAUC != 0.75 || m.ClockKnown || len(m.Notes) != 1 || !strings.Contains(m.Notes[0], "no clock column") {
		t.Errorf("AUC %g, clock known %v, notes %q; want 0.75, false, a note", m.TraceAUC, m.ClockKnown, m.Notes)
	}
}

// The calibration table gives the deaths expected (sum of P(dead)) and observed per bin,
// and no shares for an empty bin (null in JSON, "—" in the text).
// Traces: A P(alive) 0.9 alive, B 0.7 alive, D 0.8 dead.
func TestModelsCalibrationDeaths(t *testing.T) {
	m := modelRun{truth: sampleTruth, scores: "person_id,day,event_date,spoofable,p_dead,risk,clock\n" +
		"A,2024-02-01,2024-02-01,1,0.10000,0.00100,1\n" +
		"B,2024-02-01,2024-02-01,1,0.30000,0.00100,1\n" +
		"D,2024-03-05,2024-03-05,1,0.20000,0.00100,1\n"}.eval(t)
	type bin struct {
		n              int
		pred, obs      string
		expect         float64
		observedDeaths int
	}
	want := []bin{
		{0, "—", "—", 0, 0},             // [0, 0.5)
		{1, "0.7000", "1.0000", 0.3, 0}, // [0.5, 0.8): B
		{1, "0.8000", "0.0000", 0.2, 1}, // [0.8, 0.9): D
		{1, "0.9000", "1.0000", 0.1, 0}, // [0.9, 0.95): A
		{0, "—", "—", 0, 0},
		{0, "—", "—", 0, 0},
		{0, "—", "—", 0, 0},
	}
	if len(m.Calibration) != len(want) {
		t.Fatalf("%d bins, want %d", len(m.Calibration), len(want))
	}
	for i, c := range m.Calibration {
		got := bin{c.N, fmtShare(c.Predicted), fmtShare(c.Observed), c.ExpectedDead, c.ObservedDead}
		if got != want[i] {
			t.Errorf("bin %g–%g: got %+v, want %+v", c.Lo, c.Hi, got, want[i])
		}
	}
	b, err := json.Marshal(m.Calibration[0])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"Predicted":null`) || !strings.Contains(string(b), `"Observed":null`) {
		t.Errorf("empty bin in JSON: %s, want null shares", b)
	}
	ev := &Evaluation{Models: m}
	if tab := ev.Table(); !strings.Contains(tab, "0 traces, predicted alive —, observed —") {
		t.Errorf("text table shows no — for an empty bin:\n%s", tab)
	}
}

// A person id in scores.csv that truth.csv does not know is left out, not labelled dead.
// A 0.1 alive, D 0.5 dead: AUC 1. With X (0.001) counted dead it would be 1/2.
func TestModelsUnknownPerson(t *testing.T) {
	m := modelRun{truth: sampleTruth, scores: "person_id,day,event_date,spoofable,p_dead,risk,clock\n" +
		"A,2024-02-01,2024-02-01,1,0.10000,0.00100,1\n" +
		"D,2024-03-05,2024-03-05,1,0.50000,0.00100,1\n" +
		"X,2024-02-01,2024-02-01,1,0.00100,0.00100,1\n",
		decisions: "date,person_id,action,method,evidence,detail\n2024-03-01,X,RISK,,BANK:1,\n"}.eval(t)
	if m.TraceAUC != 1 || m.TraceN != 2 || m.TraceDead != 1 || m.RiskRows != 1 {
		t.Errorf("AUC %g, %d traces, %d dead, %d RISK rows; want 1, 2, 1, 1", m.TraceAUC, m.TraceN, m.TraceDead, m.RiskRows)
	}
	if len(m.Notes) != 1 || !strings.Contains(m.Notes[0], "1 scores.csv rows of people not in truth.csv") {
		t.Errorf("notes %q", m.Notes)
	}
}

// The health index ranks the people on the roll on --from. 30 people on the roll (P00
// the highest index): P00 and P20 die within the year. Top decile: 3 people, 1 died, 1/3;
// average 2/30; lift (1/3)/(2/30) = 5 exactly (the rounded rates gave 0.3333/0.0667 =
// 4.997). Ten people enrolled in June 2024 with the highest indexes of all are not ranked.
func TestModelsHealthLiftOnRoll(t *testing.T) {
	var truth, models strings.Builder
	truth.WriteString("person_id,first_month,death_date,first_death_report,fraud\n")
	models.WriteString("person_id,health,risk_max,risk_max_day,first_flag\n")
	for i := 0; i < 30; i++ {
		death := ""
		switch i {
		case 0:
			death = "2024-05-01"
		case 20:
			death = "2024-06-01"
		}
		fmt.Fprintf(&truth, "P%02d,2023-06,%s,,0\n", i, death)
		fmt.Fprintf(&models, "P%02d,%.5f,0.00100,,\n", i, 0.9-float64(i)*0.01)
	}
	for i := 0; i < 10; i++ {
		fmt.Fprintf(&truth, "L%d,2024-06,,,0\n", i)
		fmt.Fprintf(&models, "L%d,0.99000,0.00100,,\n", i)
	}
	m := modelRun{truth: truth.String(), models: models.String()}.eval(t)
	if m.HealthTopDecileRate != 0.3333 || m.HealthAverageRate != 0.0667 || m.HealthLift != 5 {
		t.Errorf("top decile %g, average %g, lift %g; want 0.3333, 0.0667, 5", m.HealthTopDecileRate, m.HealthAverageRate, m.HealthLift)
	}
}

// The headline hidden deaths are the issue's: unreported within 90 days with card, bank
// or phone use reported within 90 days, fraud or not. F1 (fraud, use) and N1 (no fraud,
// use) are; F2 (fraud, no use) is a hidden fraud death only; R1 was reported within 90
// days; N2's use came after 90 days. Flags: F1 after 19 days, N1 after 123, F2 after 14
// (median of 19 and 123 by nearest rank, as statsOf takes it: 19).
func TestModelsHiddenUse(t *testing.T) {
	m := modelRun{truth: "person_id,death_date,first_death_report,fraud,card_use_reported\n" +
		"F1,2024-03-01,,1,2024-03-10\n" +
		"F2,2024-04-01,,1,\n" +
		"N1,2024-05-01,,0,2024-05-20\n" +
		"R1,2024-06-01,2024-06-10,0,2024-06-05\n" +
		"N2,2024-07-01,,0,2024-12-01\n" +
		"A,,,0,\n",
		decisions: "date,person_id,action,method,evidence,detail\n" +
			"2024-03-20,F1,RISK,,BANK:1,\n2024-04-15,F2,RISK,,BANK:1,\n2024-09-01,N1,RISK,,BANK:1,\n"}.eval(t)
	got := [][3]int{{m.HiddenUse, m.HiddenUseFlagged90, int(m.HiddenUseFlagDays.Median)}, {m.Hidden, m.HiddenFlagged90, 0}, {m.HiddenCardUse, m.HiddenCardUseFlagged, 0}}
	want := [][3]int{{2, 1, 19}, {2, 2, 0}, {1, 1, 0}}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("issue's hidden (n, flagged, median days) / fraud (n, flagged) / fraud with use: got %v, want %v", got, want)
			break
		}
	}
	tab := (&Evaluation{Models: m}).Table()
	for _, s := range []string{"models: hidden deaths with card/bank/phone use flagged within 90 days 1 of 2 (0.5000)",
		"models: hidden fraud deaths flagged within 90 days", "2 of 2 (1.0000)"} {
		if !strings.Contains(tab, s) {
			t.Errorf("text table lacks %q:\n%s", s, tab)
		}
	}
}

// Living flagged a year: the share of those living and on the roll on 1 January. Eight
// people on the roll since 2023, two enrolled in July 2024; one of each flagged in 2024:
// 1 of 8, not 2 of 10.
func TestModelsLivingFlaggedOnRoll(t *testing.T) {
	var truth strings.Builder
	truth.WriteString("person_id,first_month,death_date,first_death_report,fraud\n")
	for i := 0; i < 8; i++ {
		fmt.Fprintf(&truth, "A%d,2023-06,,,0\n", i)
	}
	truth.WriteString("L0,2024-07,,,0\nL1,2024-07,,,0\n")
	m := modelRun{truth: truth.String(), decisions: "date,person_id,action,method,evidence,detail\n" +
		"2024-03-01,A0,RISK,,BANK:1,\n2024-09-01,L0,RISK,,BANK:1,\n"}.eval(t)
	if m.LivingFlaggedYear != 0.125 {
		t.Errorf("living flagged a year %g, want 0.125", m.LivingFlaggedYear)
	}
}

// rocArea is the area under a polyline of ROC points (trapezoids).
func rocArea(pts [][2]float64) float64 {
	a := 0.0
	for i := 1; i < len(pts); i++ {
		a += (pts[i][0] - pts[i-1][0]) * (pts[i][1] + pts[i-1][1]) / 2
	}
	return a
}

// Tied scores move both rates at once: the area under the points is the AUC whatever the
// rows' order. Scores 0.9 (dead), 0.8 (alive), 0.8 (dead), 0.3 (alive): points (0,0),
// (0,0.5), (0.5,1), (1,1); area 0.375+0.5 = 0.875 = AUC (3.5 of 4 pairs).
func TestROCTies(t *testing.T) {
	for _, pos := range [][]bool{{false, true}, {true, false}} {
		pts := roc([]float64{0.5, 0.5}, pos)
		if want := [][2]float64{{0, 0}, {1, 1}}; fmt.Sprint(pts) != fmt.Sprint(want) {
			t.Errorf("roc of a tie %v = %v, want %v", pos, pts, want)
		}
	}
	s, p := []float64{0.8, 0.9, 0.3, 0.8}, []bool{false, true, false, true}
	pts := roc(s, p)
	if want := [][2]float64{{0, 0}, {0, 0.5}, {0.5, 1}, {1, 1}}; fmt.Sprint(pts) != fmt.Sprint(want) {
		t.Errorf("roc = %v, want %v", pts, want)
	}
	if a := rocArea(pts); math.Abs(a-0.875) > 1e-12 || math.Abs(AUC(s, p)-0.875) > 1e-12 {
		t.Errorf("area %g, AUC %g, want 0.875", a, AUC(s, p))
	}
}

// The thinned curve keeps the low false positive region, where the RISK flag works:
// 100,000 living traces scored 0..99,999 and 1,000 dead ones, one above every tenth of
// the 10,000 highest living. A point lies below a false positive rate of 0.0005, dozens
// below 0.01, the curve has at most 1,000 points, and its area is the AUC within 0.002.
func TestROCLowFPR(t *testing.T) {
	var s []float64
	var p []bool
	for i := 0; i < 100000; i++ {
		s, p = append(s, float64(i)), append(p, false)
	}
	for k := 0; k < 1000; k++ {
		s, p = append(s, 100000-10*float64(k)-0.5), append(p, true)
	}
	pts := roc(s, p)
	low, first := 0, 1.0
	for _, q := range pts {
		if q[0] > 0 && q[0] <= 0.01 {
			low++
			first = math.Min(first, q[0])
		}
	}
	if first > 0.0005 || low < 50 || len(pts) > 1000 {
		t.Errorf("lowest false positive rate %g, %d points at or below 0.01, %d in all", first, low, len(pts))
	}
	if a, auc := rocArea(pts), AUC(s, p); math.Abs(a-auc) > 0.002 {
		t.Errorf("area %g, AUC %g", a, auc)
	}
}
