package sim

import (
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/silentcert/silentcert"
)

// ModelMetrics scores the evidence models of a backtest run with --model: the trace score
// (ROC, AUC, calibration), the risk list (precision at k, recall of hidden deaths, living
// people flagged) and the health index (death rate of its top decile).
type ModelMetrics struct {
	// The trace score's AUC, ROC and calibration are taken on the fortnight clock's sample
	// alone (scores.csv's clock column: one weak trace a person every 14 days, whatever its
	// score) on the days from..to: the traces kept only because their RISK score reached
	// the threshold are a sample chosen by a score, and the history before --from is not
	// the window evaluated. Those rows are set aside (TraceSetAside) and serve the
	// trade-off line (FoundAtShare) only. A scores.csv without the clock column (written
	// before it) is read as all clock rows (ClockKnown false, with a note).
	TraceAUC        float64      `json:"trace_auc"` // P(dead) at clock-sampled weak traces, dead vs alive on the trace's date
	TraceN          int          `json:"trace_traces"`
	TraceDead       int          `json:"trace_dead_traces"`
	TraceDeadPeople int          `json:"trace_dead_people"` // distinct dead people behind TraceDead
	TraceSetAside   int          `json:"trace_rows_set_aside"`
	ClockKnown      bool         `json:"scores_clock_known"`
	Notes           []string     `json:"notes,omitempty"`
	ROC             [][2]float64 `json:"roc"` // (false positive rate, true positive rate), one point per distinct score, thinned (see roc)
	Calibration     []CalBin     `json:"calibration"`
	// The hidden deaths: "unreported deaths with ongoing card, bank or phone use",
	// deaths no department reported within 90 days whose card, bank or phone use after the
	// death reached the platform within 90 days of it (truth.csv's card_use_reported),
	// relatives' fraud or not. Not counted when the scenario's truth.csv predates the
	// column (CardUseKnown false).
	CardUseKnown       bool    `json:"card_use_known"`
	HiddenUse          int     `json:"hidden_unreported_deaths_card_bank_phone_use_90_days"`
	HiddenUseFlagged90 int     `json:"hidden_unreported_card_bank_phone_use_flagged_within_90_days"`
	HiddenUseRecall    float64 `json:"hidden_unreported_card_bank_phone_use_recall_90_days"`
	HiddenUseFlagDays  Stats   `json:"hidden_unreported_card_bank_phone_use_days_death_to_flag"`
	// Hidden fraud deaths: the simulator's fraud cases (relatives drew the pension) whose
	// death no department reported within 90 days, card use or not. The JSON keys are
	// kept from before, when this was the headline under the name "hidden deaths with
	// card use".
	Hidden          int     `json:"hidden_deaths_with_card_use"`
	HiddenFlagged90 int     `json:"hidden_flagged_within_90_days"`
	HiddenRecall    float64 `json:"hidden_recall_90_days"`
	FlagDays        Stats   `json:"days_death_to_flag"`
	// Of the hidden fraud deaths, those whose card, bank or phone use after the death
	// reached the platform within 90 days of it.
	HiddenCardUse        int     `json:"hidden_deaths_with_card_bank_phone_use_in_90_days"`
	HiddenCardUseFlagged int     `json:"hidden_card_bank_phone_use_flagged_within_90_days"`
	HiddenCardUseRecall  float64 `json:"hidden_card_bank_phone_use_recall_90_days"`
	// LivingFlaggedYear is the largest share, over the calendar years of the window, of
	// the recipients living and on the roll on 1 January with a RISK row that year while
	// alive (people enrolled later in the year count in neither part).
	LivingFlaggedYear float64       `json:"living_flagged_share_per_year"`
	RiskRows          int           `json:"risk_rows"`
	PrecisionAtK      []PrecisionAt `json:"precision_at_k"`
	// Health index: people alive and on the roll on --from ranked by their index then;
	// deaths within a year.
	HealthTopDecileRate float64 `json:"health_top_decile_death_rate"`
	HealthAverageRate   float64 `json:"health_average_death_rate"`
	HealthLift          float64 `json:"health_top_decile_lift"`
	HealthAUC           float64 `json:"health_auc"`
	// Silent share with the answers no one asked for set aside (see SilentUnasked).
	SilentUnasked SilentUnasked `json:"silent_unasked"`
	// FoundAtShare is the RISK score's trade-off whatever the threshold: for a share of
	// the living flagged a year, how many of the hidden deaths (HiddenUse) it would
	// find within 90 days. Read from scores.csv (its risk column): the sampled traces, one
	// a fortnight per person and every one at or above the run's threshold, so close, not
	// exact.
	FoundAtShare []FoundAt `json:"hidden_found_at_living_share,omitempty"`
}

// FoundAt is one point of the trade-off: flagging Share of the living a year (in the
// worst calendar year) finds Found of Of hidden deaths with card use within 90 days.
type FoundAt struct {
	Share float64 `json:"share"`
	Found int     `json:"found"`
	Of    int     `json:"of"`
}

// tradeoffShares are the shares of the living flagged a year FoundAtShare is given for.
var tradeoffShares = []float64{0.0025, 0.005, 0.01, 0.02, 0.05, 0.1}

// foundAtShares computes FoundAtShare from the highest RISK score of each living person
// in each calendar year (living, their count per year) and of each hidden death within 90
// days of it (hidden).
func foundAtShares(living map[int][]float64, people map[int]int, hidden []float64) []FoundAt {
	var out []FoundAt
	for _, share := range tradeoffShares {
		th := 0.0
		for y, vs := range living {
			k := int(share * float64(people[y]))
			if k < len(vs) {
				th = math.Max(th, vs[len(vs)-1-k]) // vs ascending: the k-th highest
			}
		}
		f := FoundAt{Share: share, Of: len(hidden)}
		for _, v := range hidden {
			if v > th {
				f.Found++
			}
		}
		out = append(out, f)
	}
	return out
}

// SilentUnasked is the silent share of the living on --to with the simulated population's
// unasked answers set aside. The simulator writes each person's answers to reminders
// (face, counter, village visit) before any replay, on the baseline weak rule's clock; a
// model that keeps a person certified from their data longer still sees those answers
// arrive, and the latest certification is then a FACE the platform never asked for. Here
// a living person counts as silent when their latest method is STRONG or WEAK, as in the
// evaluation's silent share, or when it is an answer given while no reminder of this run
// was outstanding (no WARNING, PENDING or SUSPENDED since the certification before it)
// and the run's STRONG and WEAK certifications alone keep them certified through --to.
type SilentUnasked struct {
	Share    float64 `json:"share"`
	Silent   int     `json:"silent"`             // latest method STRONG or WEAK
	Unasked  int     `json:"unasked"`            // latest an unasked answer, data certified through --to
	Asked    int     `json:"asked"`              // latest an answer to a reminder of this run
	Uncover  int     `json:"unasked_data_short"` // an unasked answer, but the data ran out before --to
	Migrated int     `json:"migrated"`           // latest the roster's or enrolment's certification
	Living   int     `json:"living"`
}

// silentPerson is what silentUnasked keeps of a living person while reading decisions.
type silentPerson struct {
	dataUntil silentcert.Date // the latest until of a STRONG or WEAK certification
	reminded  bool            // a WARNING, PENDING or SUSPENDED since the last certification
	unasked   bool            // the last certification was an answer given with no reminder outstanding
}

// silentTracker follows the living through decisions.csv for SilentUnasked.
type silentTracker struct {
	truth  map[string]Truth
	people map[string]*silentPerson
}

// row takes one decision row (in the file's order).
func (st *silentTracker) row(id, action, method, detail string) {
	if t, ok := st.truth[id]; !ok || t.Death != silentcert.NoDate {
		return
	}
	sp := st.people[id]
	if sp == nil {
		sp = &silentPerson{dataUntil: silentcert.NoDate}
		st.people[id] = sp
	}
	switch action {
	case "CERTIFIED":
		switch method {
		case "STRONG", "WEAK":
			if u := untilOf(detail); u != silentcert.NoDate && (sp.dataUntil == silentcert.NoDate || u > sp.dataUntil) {
				sp.dataUntil = u
			}
			sp.unasked = false
		case "FACE", "COUNTER", "COMMUNITY":
			sp.unasked = !sp.reminded
		default:
			sp.unasked = false
		}
		sp.reminded = false
	case "WARNING", "PENDING", "SUSPENDED":
		sp.reminded = true
	}
}

// untilOf returns the until= of a CERTIFIED row's detail.
func untilOf(detail string) silentcert.Date {
	for _, kv := range strings.Split(detail, ";") {
		if v, ok := strings.CutPrefix(kv, "until="); ok {
			if d, ok := silentcert.ParseDateBytes([]byte(v)); ok {
				return d
			}
		}
	}
	return silentcert.NoDate
}

// CalBin is one row of the calibration table: traces whose P(alive) fell in [Lo, Hi).
// Predicted and Observed are nil (null) in an empty bin.
type CalBin struct {
	Lo, Hi       float64
	N            int
	Predicted    *float64 // mean P(alive)
	Observed     *float64 // share alive
	ExpectedDead float64  // sum of P(dead): the deaths the score expects in the bin
	ObservedDead int      // traces after the death
}

// PrecisionAt is the share of the first K people of the risk list (by highest risk score)
// who were dead when scored.
type PrecisionAt struct {
	K         int     `json:"k"`
	Precision float64 `json:"precision"`
}

// Truth is what training and evaluation need of a simulated person.
type Truth struct {
	// FirstMonth is the month of the person's first entitlement (truth.csv's first_month;
	// NoMonth when the file has no such column: on the roll from the start).
	FirstMonth  silentcert.Month
	Death       silentcert.Date
	FirstReport silentcert.Date
	Fraud       bool
	// CardUse is the first day a card, bank or phone record made after the death was
	// reported (NoDate: none, or not known when CardUseKnown is false).
	CardUse      silentcert.Date
	CardUseKnown bool
}

// HiddenDeath reports a 冒领 case whose death no department reported within 90 days of it.
func (t Truth) HiddenDeath() bool {
	return t.Fraud && t.unreported90()
}

// unreported90 reports a death no department reported within 90 days of it.
func (t Truth) unreported90() bool {
	return t.Death != silentcert.NoDate && (t.FirstReport == silentcert.NoDate || t.FirstReport > t.Death+90)
}

// HiddenUse reports the issue's hidden death, what the RISK flag is for: "unreported
// deaths with ongoing card, bank or phone use", a death no department reported within 90
// days with card, bank or phone use after it reported within 90 days, fraud or not.
func (t Truth) HiddenUse() bool {
	return t.unreported90() && t.CardUseIn90()
}

// onRoll reports a person on the roll and alive on d (their first entitlement begun).
func (t Truth) onRoll(d silentcert.Date) bool {
	return (t.FirstMonth == silentcert.NoMonth || t.FirstMonth.First() <= d) && (t.Death == silentcert.NoDate || t.Death >= d)
}

// CardUseIn90 reports card, bank or phone use after the death reported within 90 days of
// it (the "ongoing card, bank or phone use").
func (t Truth) CardUseIn90() bool {
	return t.CardUse != silentcert.NoDate && t.CardUse <= t.Death+90
}

// inFlagWindow reports a death from which a whole 90 days lie inside from..to.
func (t Truth) inFlagWindow(from, to silentcert.Date) bool {
	return t.Death >= from && t.Death <= to-90
}

// ReadTruth reads truth.csv of a scenario: each person's death, first death report and
// whether relatives used the cards after it.
func ReadTruth(dir string) (map[string]Truth, error) {
	out := map[string]Truth{}
	err := eachRow(filepath.Join(dir, "truth.csv"), []string{"person_id", "death_date", "first_death_report", "fraud"}, func(c *csvFile) error {
		t := Truth{FirstMonth: silentcert.NoMonth}
		var err error
		if _, ok := c.col["first_month"]; ok && c.get("first_month") != "" {
			if t.FirstMonth, err = silentcert.ParseMonth(c.get("first_month")); err != nil {
				return err
			}
		}
		if t.Death, err = c.date("death_date"); err != nil {
			return err
		}
		if t.FirstReport, err = c.date("first_death_report"); err != nil {
			return err
		}
		t.Fraud = c.get("fraud") == "1"
		if _, t.CardUseKnown = c.col["card_use_reported"]; t.CardUseKnown {
			if t.CardUse, err = c.date("card_use_reported"); err != nil {
				return err
			}
		}
		out[c.get("person_id")] = t
		return nil
	})
	return out, err
}

// ReadOutcomes reads the outcomes a replay's own outputs in result give, as a Truth per
// person of status.csv: dead from the death date of a TERMINATED status (the deaths the
// records confirmed, however late, after linkage and the conflict rules), first reported
// on the day of the person's first TERMINATED row of decisions.csv. Fraud and CardUse are
// left for the caller (CardUseKnown is set: none known yet).
func ReadOutcomes(result string) (map[string]Truth, error) {
	out := map[string]Truth{}
	err := eachRow(filepath.Join(result, "status.csv"), []string{"person_id", "death_date"}, func(c *csvFile) error {
		t := Truth{FirstMonth: silentcert.NoMonth, FirstReport: silentcert.NoDate, CardUse: silentcert.NoDate, CardUseKnown: true}
		var err error
		if t.Death, err = c.date("death_date"); err != nil {
			return err
		}
		out[c.get("person_id")] = t
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = eachRow(filepath.Join(result, "decisions.csv"), []string{"date", "person_id", "action"}, func(c *csvFile) error {
		t, known := out[c.get("person_id")]
		if c.get("action") != silentcert.ActTerminated.String() || !known || t.Death == silentcert.NoDate || t.FirstReport != silentcert.NoDate {
			return nil
		}
		var err error
		if t.FirstReport, err = c.date("date"); err != nil {
			return err
		}
		out[c.get("person_id")] = t
		return nil
	})
	return out, err
}

// AUC returns the area under the ROC curve of scores (higher: more likely positive).
func AUC(scores []float64, pos []bool) float64 {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return scores[idx[a]] < scores[idx[b]] })
	// Mann-Whitney with average ranks for ties.
	var np, nn, rankSum float64
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && scores[idx[j]] == scores[idx[i]] {
			j++
		}
		r := float64(i+j+1) / 2
		for k := i; k < j; k++ {
			if pos[idx[k]] {
				rankSum += r
				np++
			} else {
				nn++
			}
		}
		i = j
	}
	if np == 0 || nn == 0 {
		return math.NaN()
	}
	return (rankSum - np*(np+1)/2) / (np * nn)
}

// rocStep is the least move, in false or true positive rate, between two points roc keeps;
// below rocLowFPR a move of rocStep*rocLowFPR in the false positive rate is enough, so that
// the region where the RISK flag works (about 0.0005 of the living's traces) keeps its
// shape in the chart's inset.
const (
	rocStep   = 0.004
	rocLowFPR = 0.01
)

// roc returns the ROC curve: one point per distinct score (tied scores move both rates at
// once, so the area under the points is the AUC, ties counted half), from (0, 0) to (1, 1),
// thinned to points at least rocStep apart in either rate (rocStep*rocLowFPR in the false
// positive rate while it is below rocLowFPR). Rates are rounded to 6 decimals.
func roc(scores []float64, pos []bool) [][2]float64 {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return scores[idx[a]] > scores[idx[b]] })
	var np, nn float64
	for _, p := range pos {
		if p {
			np++
		} else {
			nn++
		}
	}
	out := [][2]float64{{0, 0}}
	if np == 0 || nn == 0 {
		return out
	}
	var tp, fp float64
	last := out[0]
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && scores[idx[j]] == scores[idx[i]] {
			if pos[idx[j]] {
				tp++
			} else {
				fp++
			}
			j++
		}
		i = j
		p := [2]float64{round6(fp / nn), round6(tp / np)}
		dx, dy := p[0]-last[0], p[1]-last[1]
		step := rocStep
		if p[0] <= rocLowFPR {
			step = rocStep * rocLowFPR
		}
		if i == len(idx) || dx >= step || dy >= rocStep {
			out = append(out, p)
			last = p
		}
	}
	return out
}

func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }

// EvaluateModels scores models.csv, scores.csv and the RISK rows of decisions.csv in
// result against the scenario's truth. It returns nil, nil when the run had no model.
func EvaluateModels(scenarioDir, result string, from, to silentcert.Date) (*ModelMetrics, error) {
	if _, err := os.Stat(filepath.Join(result, "models.csv")); err != nil {
		return nil, nil
	}
	truth, err := ReadTruth(scenarioDir)
	if err != nil {
		return nil, err
	}
	m := &ModelMetrics{}
	// Trace scores: AUC, ROC and calibration on the clock's traces of from..to.
	var scores []float64
	var dead []bool
	deadPeople := map[string]bool{}
	unknown := 0
	type personYear struct {
		id   string
		year int
	}
	livingMax := map[personYear]float64{}
	hiddenMax := map[string]float64{}
	{
		c, err := openCSV(filepath.Join(result, "scores.csv"), "person_id", "day", "event_date", "p_dead")
		if err != nil {
			return nil, err
		}
		_, m.ClockKnown = c.col["clock"]
		if !m.ClockKnown {
			m.Notes = append(m.Notes, "scores.csv has no clock column (written before it): every row read as a clock-sampled trace, so the AUC, ROC and calibration include the traces kept for a high RISK score")
		}
		for {
			ok, err := c.next()
			if err != nil {
				c.close()
				return nil, err
			}
			if !ok {
				break
			}
			ev, err := c.date("event_date")
			if err != nil {
				c.close()
				return nil, err
			}
			day, err := c.date("day")
			if err != nil {
				c.close()
				return nil, err
			}
			p, _ := strconv.ParseFloat(c.get("p_dead"), 64)
			id := c.get("person_id")
			t, known := truth[id]
			if !known {
				unknown++
				continue
			}
			isDead := t.Death != silentcert.NoDate && ev >= t.Death
			if (!m.ClockKnown || c.get("clock") == "1") && day >= from && day <= to {
				scores = append(scores, p)
				dead = append(dead, isDead)
				if isDead {
					m.TraceDead++
					deadPeople[id] = true
				}
			} else {
				m.TraceSetAside++
			}
			if _, ok := c.col["risk"]; ok && c.get("spoofable") == "1" {
				r, _ := strconv.ParseFloat(c.get("risk"), 64)
				switch {
				case !isDead:
					if y, _, _ := day.Civil(); day >= from && day <= to && t.onRoll(silentcert.MakeDate(y, 1, 1)) {
						k := personYear{id, y}
						livingMax[k] = math.Max(livingMax[k], r)
					}
				case t.HiddenUse() && t.inFlagWindow(from, to) && day <= t.Death+90:
					hiddenMax[id] = math.Max(hiddenMax[id], r)
				}
			}
		}
		c.close()
	}
	if unknown > 0 {
		m.Notes = append(m.Notes, strconv.Itoa(unknown)+" scores.csv rows of people not in truth.csv left out")
	}
	m.TraceN, m.TraceDeadPeople = len(scores), len(deadPeople)
	m.TraceAUC = round4(AUC(scores, dead))
	m.ROC = roc(scores, dead)
	m.Calibration = calibration(scores, dead)
	// Risk rows.
	firstFlagAfterDeath := map[string]silentcert.Date{}
	livingFlagged := map[int]map[string]bool{}
	silent := silentTracker{truth: truth, people: map[string]*silentPerson{}}
	{
		c, err := openCSV(filepath.Join(result, "decisions.csv"), "date", "person_id", "action", "method", "detail")
		if err != nil {
			return nil, err
		}
		for {
			ok, err := c.next()
			if err != nil {
				c.close()
				return nil, err
			}
			if !ok {
				break
			}
			if a := c.get("action"); a != "RISK" {
				silent.row(c.get("person_id"), a, c.get("method"), c.get("detail"))
				continue
			}

			m.RiskRows++
			d, err := c.date("date")
			if err != nil {
				c.close()
				return nil, err
			}
			id := c.get("person_id")
			t, known := truth[id]
			if !known {
				continue
			}
			if t.Death != silentcert.NoDate && d >= t.Death {
				if f, ok := firstFlagAfterDeath[id]; !ok || d < f {
					firstFlagAfterDeath[id] = d
				}
				continue
			}
			y, _, _ := d.Civil()
			if !t.onRoll(silentcert.MakeDate(y, 1, 1)) {
				continue // not in the year's denominator (livingIn)
			}
			if livingFlagged[y] == nil {
				livingFlagged[y] = map[string]bool{}
			}
			livingFlagged[y][id] = true
		}
		c.close()
	}
	if err := m.SilentUnasked.read(filepath.Join(result, "status.csv"), &silent, to); err != nil {
		return nil, err
	}
	var flagDays, useDays []float64
	ids := make([]string, 0, len(truth))
	for id := range truth {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var hiddenScores []float64
	for _, id := range ids {
		t := truth[id]
		m.CardUseKnown = m.CardUseKnown || t.CardUseKnown
		if !t.inFlagWindow(from, to) {
			continue
		}
		if t.HiddenUse() {
			m.HiddenUse++
			hiddenScores = append(hiddenScores, hiddenMax[id]) // 0: no trace scored in the 90 days
			if f, ok := firstFlagAfterDeath[id]; ok {
				useDays = append(useDays, float64(f-t.Death))
				if f <= t.Death+90 {
					m.HiddenUseFlagged90++
				}
			}
		}
		if !t.HiddenDeath() {
			continue
		}
		m.Hidden++
		use := t.CardUseIn90()
		if use {
			m.HiddenCardUse++
		}
		if f, ok := firstFlagAfterDeath[id]; ok {
			flagDays = append(flagDays, float64(f-t.Death))
			if f <= t.Death+90 {
				m.HiddenFlagged90++
				if use {
					m.HiddenCardUseFlagged++
				}
			}
		}
	}
	if m.Hidden > 0 {
		m.HiddenRecall = round4(float64(m.HiddenFlagged90) / float64(m.Hidden))
	}
	if m.HiddenCardUse > 0 {
		m.HiddenCardUseRecall = round4(float64(m.HiddenCardUseFlagged) / float64(m.HiddenCardUse))
	}
	if m.HiddenUse > 0 {
		m.HiddenUseRecall = round4(float64(m.HiddenUseFlagged90) / float64(m.HiddenUse))
	}
	m.FlagDays, m.HiddenUseFlagDays = statsOf(flagDays), statsOf(useDays)
	// livingIn counts the people living and on the roll on 1 January of y: the year's
	// denominator (a person enrolled later in the year is in neither part of the share).
	livingIn := func(y int) int {
		living := 0
		start := silentcert.MakeDate(y, 1, 1)
		for _, t := range truth {
			if t.onRoll(start) {
				living++
			}
		}
		return living
	}
	for y, set := range livingFlagged {
		if living := livingIn(y); living > 0 {
			m.LivingFlaggedYear = math.Max(m.LivingFlaggedYear, round4(float64(len(set))/float64(living)))
		}
	}
	if len(livingMax) > 0 && m.CardUseKnown {
		byYear, people := map[int][]float64{}, map[int]int{}
		for k, v := range livingMax {
			byYear[k.year] = append(byYear[k.year], v)
		}
		for y, vs := range byYear {
			sort.Float64s(vs)
			people[y] = livingIn(y)
		}
		m.FoundAtShare = foundAtShares(byYear, people, hiddenScores)
	}
	// Per-person scores: the risk list and the health index.
	type pr struct {
		risk   float64
		dead   bool
		health float64
		died   bool
		onRoll bool
	}
	var ps []pr
	{
		c, err := openCSV(filepath.Join(result, "models.csv"), "person_id", "health", "risk_max", "risk_max_day")
		if err != nil {
			return nil, err
		}
		for {
			ok, err := c.next()
			if err != nil {
				c.close()
				return nil, err
			}
			if !ok {
				break
			}
			t, known := truth[c.get("person_id")]
			if !known || (t.Death != silentcert.NoDate && t.Death < from) {
				continue
			}
			var p pr
			// The health index ranks the people on the roll on --from; the risk list
			// takes everyone scored.
			p.onRoll = t.onRoll(from)
			p.risk, _ = strconv.ParseFloat(c.get("risk_max"), 64)
			p.health, _ = strconv.ParseFloat(c.get("health"), 64)
			day, err := c.date("risk_max_day")
			if err != nil {
				c.close()
				return nil, err
			}
			p.dead = t.Death != silentcert.NoDate && day != silentcert.NoDate && day >= t.Death
			p.died = t.Death != silentcert.NoDate && t.Death < from.AddMonths(12)
			ps = append(ps, p)
		}
		c.close()
	}
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].risk > ps[j].risk })
	for _, k := range []int{10, 25, 50, 100, 200} {
		if k > len(ps) {
			break
		}
		n := 0
		for _, p := range ps[:k] {
			if p.dead {
				n++
			}
		}
		m.PrecisionAtK = append(m.PrecisionAtK, PrecisionAt{K: k, Precision: round4(float64(n) / float64(k))})
	}
	var hp []pr
	for _, p := range ps {
		if p.onRoll {
			hp = append(hp, p)
		}
	}
	ps = hp
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].health > ps[j].health })
	var hs []float64
	var hd []bool
	died := 0
	for _, p := range ps {
		hs, hd = append(hs, p.health), append(hd, p.died)
		if p.died {
			died++
		}
	}
	if n := len(ps); n >= 10 {
		top := 0
		for _, p := range ps[:n/10] {
			if p.died {
				top++
			}
		}
		topRate, avgRate := float64(top)/float64(n/10), float64(died)/float64(n)
		m.HealthTopDecileRate, m.HealthAverageRate = round4(topRate), round4(avgRate)
		if died > 0 {
			m.HealthLift = round4(topRate / avgRate) // unrounded rates
		}
		m.HealthAUC = round4(AUC(hs, hd))
	}
	return m, nil
}

// read counts the living on --to by their latest method in status.csv, and the unasked
// answers among them from what the decisions gave (silent).
func (su *SilentUnasked) read(path string, st *silentTracker, to silentcert.Date) error {
	c, err := openCSV(path, "person_id", "last_method")
	if err != nil {
		return err
	}
	defer c.close()
	for {
		ok, err := c.next()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		id := c.get("person_id")
		if t, known := st.truth[id]; !known || t.Death != silentcert.NoDate {
			continue
		}
		su.Living++
		switch c.get("last_method") {
		case "STRONG", "WEAK":
			su.Silent++
		case "FACE", "COUNTER", "COMMUNITY":
			sp := st.people[id]
			switch {
			case sp == nil || !sp.unasked:
				su.Asked++
			case sp.dataUntil != silentcert.NoDate && sp.dataUntil >= to:
				su.Unasked++
			default:
				su.Uncover++
			}
		default:
			su.Migrated++
		}
	}
	if su.Living > 0 {
		su.Share = round4(float64(su.Silent+su.Unasked) / float64(su.Living))
	}
	return nil
}

// calBinEdges are the P(alive) bins of the calibration table.
var calBinEdges = []float64{0, 0.5, 0.8, 0.9, 0.95, 0.99, 0.999, 1.0000001}

// calibration returns the calibration table of P(dead) scores against dead: per P(alive)
// bin the mean P(alive) and the share alive (nil in an empty bin), the deaths the scores
// expect (their sum) and the deaths observed.
func calibration(scores []float64, dead []bool) []CalBin {
	var out []CalBin
	edges := calBinEdges
	for i := 0; i+1 < len(edges); i++ {
		b := CalBin{Lo: edges[i], Hi: math.Min(edges[i+1], 1)}
		var sp, so float64
		for k, p := range scores {
			a := 1 - p
			if a >= edges[i] && a < edges[i+1] {
				b.N++
				sp += a
				b.ExpectedDead += p
				if dead[k] {
					b.ObservedDead++
				} else {
					so++
				}
			}
		}
		b.ExpectedDead = math.Round(b.ExpectedDead*100) / 100
		if b.N > 0 {
			pr, ob := round4(sp/float64(b.N)), round4(so/float64(b.N))
			b.Predicted, b.Observed = &pr, &ob
		}
		out = append(out, b)
	}
	return out
}
