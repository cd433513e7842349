package models

import (
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/engine"
)

type sink struct{ rows []engine.Decision }

func (s *sink) Decide(d engine.Decision)    { s.rows = append(s.rows, d) }
func (s *sink) Pay(engine.Payment)          {}
func (s *sink) Withhold(engine.Withholding) {}
func (s *sink) Count(engine.Counter)        {}
func date(s string) sc.Date                 { d, _ := sc.ParseDate(s); return d }
func typeID(c *sc.Catalogue, code string) sc.TypeID {
	id, ok := c.Lookup(code)
	if !ok {
		panic(code)
	}
	return id
}

// life replays a person's records, one a day in order, through an engine with the
// built-in model, and returns the rows.
type life struct {
	cfg   *sc.Config
	eng   *engine.Engine
	p     *sc.Recipient
	st    engine.State
	out   sink
	refs  engine.Ref
	codes map[engine.Ref]string // each record's type, by ref
}

// note remembers the type of the record about to be applied and moves to the next ref.
func (l *life) note(code string) {
	if l.codes == nil {
		l.codes = map[engine.Ref]string{}
	}
	l.codes[l.refs] = code
	l.refs++
}

func newLife() *life {
	cfg := sc.DefaultConfig()
	p := &sc.Recipient{PersonID: "371002194501010011", Sex: 1, BirthDate: date("1945-01-01"), LastCertified: date("2023-03-01"),
		Entitlements: []sc.Entitlement{{Benefit: "EMP_PENSION", Monthly: 300000, Start: sc.MakeMonth(2005, 1), End: sc.NoMonth}}}
	eng := engine.New(cfg).WithModel(New(Default(), cfg.Catalogue, false))
	l := &life{cfg: cfg, eng: eng, p: p}
	l.st = eng.Enrol(p)
	return l
}

func (l *life) apply(code string, day sc.Date) {
	in := engine.Input{Type: typeID(l.cfg.Catalogue, code), Event: day, Ref: l.refs, Target: engine.NoRef}
	l.note(code)
	l.eng.Apply(l.p, &l.st, &in, day+1, &l.out)
	l.eng.Evaluate(l.p, &l.st, day+1, &l.out)
}

// seenInPerson applies, on day d, the records of a person seen in person by several
// departments: transit every other day, a clinic every fortnight, chronic care every
// month, the family doctor every two months.
func (l *life) seenInPerson(d sc.Date) {
	if d%2 == 0 {
		l.apply("TRN.TRANSIT", d)
	}
	if d%14 == 0 {
		l.apply("MED.OUTPATIENT", d)
	}
	if d%30 == 0 {
		l.apply("MED.CHRONIC", d)
	}
	if d%60 == 0 {
		l.apply("HEA.FAMILY_DOCTOR", d)
	}
}

// A relative uses every spoofable source daily after an unreported death of a person who
// was seen in person by several departments: never certified after the death, flagged
// RISK within a year, never while alive.
func TestSpoofableAfterDeathNeverCertifiesAndIsFlagged(t *testing.T) {
	l := newLife()
	death := date("2024-06-01")
	for d := date("2023-06-01"); d < death; d++ {
		l.seenInPerson(d)
		if d%45 == 0 {
			l.apply("BANK.COUNTER", d)
		}
		l.apply("BANK.TXN", d)
	}
	spoof := []string{"HRSS.CARD_SPEND", "BANK.TXN", "TEL.ACTIVITY", "UTIL.PAYMENT", "MED.PHARMACY"}
	for d := death; d < death+400; d++ {
		for _, c := range spoof {
			l.apply(c, d)
		}
	}
	flagged := sc.NoDate
	for _, r := range l.out.rows {
		if r.Action == sc.ActCertified && r.CertifiedOn >= death {
			t.Errorf("certified after death: %+v", r)
		}
		if r.Action == sc.ActRisk && r.Day >= death && flagged == sc.NoDate {
			flagged = r.Day
			if r.Score <= 0 || !strings.Contains(r.Note, "reasons=in_person_missed_") {
				t.Errorf("RISK row without score or reasons: %+v", r)
			}
			if _, h, _ := strings.Cut(r.Note, ";health="); h == "" || h[0] != '0' || h == "0.000" {
				t.Errorf("RISK row without the person's health index: %+v", r)
			}
		}
		if r.Action == sc.ActRisk && r.Day < death {
			t.Errorf("flagged while alive and seen in person: %+v", r)
		}
	}
	if flagged == sc.NoDate || flagged > death+365 {
		t.Errorf("first RISK row %s, want within a year of %s", flagged, death)
	}
	t.Logf("flagged %d days after the death", flagged-death)
}

// A flag sends someone to see the person; what they find ends the flag's quiet
// (risk_repeat_days): a person flagged, then seen by a village visit (or a face check, or
// at the counter), who then dies unreported is flagged again without waiting out the
// quiet of the first flag. Without the visit the quiet holds.
func TestVisitEndsTheRiskQuiet(t *testing.T) {
	flags := func(visit string) []sc.Date {
		l := newLife()
		gone := date("2024-06-01")
		for d := date("2023-06-01"); d < gone; d++ {
			l.seenInPerson(d)
			l.apply("BANK.TXN", d)
		}
		var risks []sc.Date
		scanned, visited := 0, false
		for d := gone; d < gone+300; d++ {
			for _, c := range []string{"BANK.TXN", "TEL.ACTIVITY", "HRSS.CARD_SPEND"} {
				l.apply(c, d)
			}
			for _, r := range l.out.rows[scanned:] {
				if r.Action == sc.ActRisk {
					risks = append(risks, r.Day)
				}
			}
			scanned = len(l.out.rows)
			if visit != "" && !visited && len(risks) == 1 && d >= risks[0]+10 {
				visited = true
				l.apply(visit, d) // found alive; dies unreported soon after
			}
		}
		return risks
	}
	quiet := Default().RiskRepeatDays
	alone := flags("")
	if len(alone) == 0 {
		t.Fatal("never flagged")
	}
	if len(alone) > 1 && int(alone[1]-alone[0]) < quiet {
		t.Errorf("without a visit, flagged again %d days after the first flag", alone[1]-alone[0])
	}
	for _, visit := range []string{"CMT.VISIT", "HRSS.FACE", "HRSS.COUNTER"} {
		got := flags(visit)
		if len(got) < 2 || int(got[1]-got[0]) >= quiet {
			t.Errorf("%s after the flag: flags %v, want a second within %d days of the first", visit, got, quiet)
		}
	}
}

// A living person with only pharmacy and phone traces is never certified by them.
func TestPharmacyAndPhoneAloneNeverCertify(t *testing.T) {
	l := newLife()
	for d := date("2024-01-01"); d < date("2026-01-01"); d++ {
		l.apply("MED.PHARMACY", d)
		l.apply("TEL.ACTIVITY", d)
	}
	for _, r := range l.out.rows {
		if r.Action == sc.ActCertified {
			t.Fatalf("certified by spoofable traces: %+v", r)
		}
	}
	if l.st.Status != sc.StatusSuspended {
		t.Errorf("status %s, want SUSPENDED: no evidence of life for two years", l.st.Status)
	}
}

// A living person seen in person regularly is certified WEAK, with the traces named, and
// never flagged.
func TestRegularInPersonTracesCertify(t *testing.T) {
	l := newLife()
	for d := date("2024-01-01"); d < date("2026-01-01"); d++ {
		if d%3 == 0 {
			l.apply("TRN.TRANSIT", d)
		}
		if d%45 == 0 {
			l.apply("MED.OUTPATIENT", d)
		}
		l.apply("BANK.TXN", d)
	}
	weak := 0
	for _, r := range l.out.rows {
		switch r.Action {
		case sc.ActCertified:
			if r.Method == sc.MethodWeak {
				weak++
				if !strings.Contains(r.Note, "traces=TRN.TRANSIT") || !strings.Contains(r.Note, "p_alive=") {
					t.Errorf("note %q", r.Note)
				}
				// The records it rests on are named, the latest of each in-person type:
				// the certifying one among them, one a type, none of the spoofable bank
				// traces.
				types := map[string]bool{}
				for _, ref := range r.Records {
					if l.codes[ref] == "BANK.TXN" || types[l.codes[ref]] {
						t.Errorf("records %v: a spoofable trace, or a type twice", r.Records)
					}
					types[l.codes[ref]] = true
				}
				if !slices.Contains(r.Records, r.Evidence) || (weak > 3 && !types["MED.OUTPATIENT"]) {
					t.Errorf("records %v (%v) for a certification by %d", r.Records, types, r.Evidence)
				}
				detail := string(r.AppendDetail(nil, func(b []byte, ref engine.Ref) []byte { return append(b, l.codes[ref]...) }))
				if !strings.Contains(detail, ";records=") || strings.Index(detail, "records=") < strings.Index(detail, "traces=") {
					t.Errorf("detail %q: want records= after the note", detail)
				}
			}
		case sc.ActRisk, sc.ActSuspended:
			t.Errorf("row %+v", r)
		}
	}
	if weak == 0 {
		t.Error("never certified WEAK")
	}
}

// The fit recovers known coefficients, and its probabilities are calibrated: in each
// probability bin the observed rate is within a few points of the mean prediction.
func TestFitLogisticCalibrated(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	truth := []float64{-2, 1.5, -0.8}
	var x [][]float64
	var y []bool
	for range 20000 {
		row := []float64{1, rng.NormFloat64(), rng.NormFloat64()}
		z := 0.0
		for i := range row {
			z += truth[i] * row[i]
		}
		x = append(x, row)
		y = append(y, rng.Float64() < sigmoid(z))
	}
	w := FitLogistic(x, y, 0.01, 30)
	for i := range truth {
		if math.Abs(w[i]-truth[i]) > 0.1 {
			t.Errorf("coefficient %d: %.3f, want %.3f", i, w[i], truth[i])
		}
	}
	var n, sp, so [5]float64
	for k, row := range x {
		z := 0.0
		for i := range row {
			z += w[i] * row[i]
		}
		p := sigmoid(z)
		b := min(int(p*5), 4)
		n[b]++
		sp[b] += p
		if y[k] {
			so[b]++
		}
	}
	for b := range n {
		if n[b] < 200 {
			continue
		}
		if d := math.Abs(sp[b]/n[b] - so[b]/n[b]); d > 0.03 {
			t.Errorf("bin %d: predicted %.3f, observed %.3f", b, sp[b]/n[b], so[b]/n[b])
		}
	}
}

// Same inputs, same rows and memory; the model file round-trips; unsafe files are refused.
func TestDeterministicAndFiles(t *testing.T) {
	run := func() ([]engine.Decision, engine.Evidence) {
		l := newLife()
		for d := date("2024-01-01"); d < date("2024-12-31"); d++ {
			if d%5 == 0 {
				l.apply("TRN.TRANSIT", d)
			}
			if d > date("2024-06-01") {
				l.apply("BANK.TXN", d)
			}
		}
		return l.out.rows, *l.st.Evidence
	}
	a, ea := run()
	b, eb := run()
	if len(a) != len(b) {
		t.Fatalf("%d rows, then %d", len(a), len(b))
	}
	for i := range a {
		if !reflect.DeepEqual(a[i], b[i]) {
			t.Fatalf("row %d differs: %+v %+v", i, a[i], b[i])
		}
	}
	if ea.Last != eb.Last || ea.Count != eb.Count || len(ea.Recent) != len(eb.Recent) {
		t.Fatal("memory differs")
	}
	p, err := Parse(Default().Marshal())
	if err != nil || *p != *Default() {
		t.Fatalf("round trip: %v", err)
	}
	for _, bad := range []string{`{"version":1}`, `{"version":2}`, `{"version":3,"min_days":1}`, `{"version":3,"certify_alive":0.4}`, `{"version":3,"risk_threshold":0}`,
		`{"version":5,"risk_treshold":0.05}`, `{"version":5}{"version":5}`} { // a misspelt key, two files in one
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

// Training on observations where a large gap means death learns a positive gap weight and
// a threshold that keeps the living under the bound.
func TestTrainThreshold(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	ts := &TrainingSet{}
	for i := range 4000 {
		dead := i < 100
		o := Observation{Person: string(rune('a'+i%26)) + string(rune(i)), Spoofable: true, Clock: i%4 != 3}
		o.X[FBias] = 1
		gap := rng.Float64() * 30
		if dead {
			gap = 60 + rng.Float64()*200
		}
		o.X[FMissed] = math.Log1p(gap)
		ts.Obs = append(ts.Obs, o)
		ts.Dead = append(ts.Dead, dead)
	}
	p, rep := Train(ts, Default(), 1)
	if p.Trace[FMissed] <= 0 {
		t.Errorf("gap weight %.3f", p.Trace[FMissed])
	}
	// The fitted score's mean P(dead) on the clock's traces is the share it is calibrated
	// to, near the share of those traces after a death.
	var deaths, clocked float64
	for i := range ts.Obs {
		if ts.Obs[i].Clock {
			clocked++
			if ts.Dead[i] {
				deaths++
			}
		}
	}
	if mean := MeanPDead(ClockScores(p, ts.Obs)); p.TracePrior != mean || p.TrainingPrior() != mean || math.Abs(mean-deaths/clocked) > 0.2*mean {
		t.Errorf("trace_prior %g, mean P(dead) %g, share dead %g", p.TracePrior, mean, deaths/clocked)
	}
	// A fit that learns nothing (no trace after a death) keeps the base's share.
	none := &TrainingSet{Obs: ts.Obs, Dead: make([]bool, len(ts.Obs))}
	if q, _ := Train(none, Default(), 1); q.TracePrior != Default().TrainingPrior() || q.Trace != Default().Trace {
		t.Errorf("nothing learnt: trace_prior %g", q.TracePrior)
	}
	if rep.LivingFlagShare > LivingFlagTarget || rep.Recall < 0.9 {
		t.Errorf("living flagged %.4f, recall %.3f", rep.LivingFlagShare, rep.Recall)
	}
}

// With the operator's health_period on, a frail person's WEAK certification runs for
// health_period_months; off (the default), for their P.
func TestHealthPeriod(t *testing.T) {
	for _, on := range []bool{false, true} {
		cfg := sc.DefaultConfig()
		p := &sc.Recipient{PersonID: "371002192501010011", Sex: 1, BirthDate: date("1925-01-01"), LastCertified: date("2023-03-01"),
			Entitlements: []sc.Entitlement{{Benefit: "EMP_PENSION", Monthly: 300000, Start: sc.MakeMonth(2005, 1), End: sc.NoMonth}}}
		l := &life{cfg: cfg, eng: engine.New(cfg).WithModel(New(Default(), cfg.Catalogue, on)), p: p}
		l.st = l.eng.Enrol(p)
		l.apply("MED.LTC_SERVICE", date("2023-12-01"))
		for d := date("2024-09-15"); d < date("2024-11-15"); d += 7 {
			l.apply("MED.OUTPATIENT", d)
		}
		var until, on2 sc.Date
		for _, r := range l.out.rows {
			if r.Action == sc.ActCertified && r.Method == sc.MethodWeak {
				until, on2 = r.Until, r.CertifiedOn
			}
		}
		if until == 0 {
			t.Fatalf("health_period %v: no WEAK certification: %+v", on, l.out.rows)
		}
		want := on2.AddMonths(int(l.st.Period))
		if on {
			want = on2.AddMonths(Default().HealthPeriodMonths)
		}
		if until != want {
			t.Errorf("health_period %v: until %s, want %s", on, until, want)
		}
	}
}

var dumpRisk bool

// Two departments stop sending (their deliveries end) while a third still sees the person:
// the silence of the stopped ones is not the person's, so no RISK row; without the
// delivery days the same records do raise one.
func TestQuietDepartmentsAreNotSilence(t *testing.T) {
	stop := date("2024-07-01")
	run := func(deliveries bool) int {
		l := newLife()
		m := New(Default(), l.cfg.Catalogue, false)
		if deliveries {
			days := make([][]sc.Date, l.cfg.Catalogue.Len())
			for d := date("2023-06-01"); d < date("2026-01-01"); d++ {
				for _, code := range []string{"MED.OUTPATIENT", "BANK.TXN", "TEL.ACTIVITY"} {
					id := typeID(l.cfg.Catalogue, code)
					days[id] = append(days[id], d+1)
				}
				if d < stop {
					for _, code := range []string{"TRN.TRANSIT", "BANK.COUNTER", "HEA.FAMILY_DOCTOR"} {
						id := typeID(l.cfg.Catalogue, code)
						days[id] = append(days[id], d+1)
					}
				}
			}
			m.SetDeliveries(days)
		}
		l.eng = engine.New(l.cfg).WithModel(m)
		l.st = l.eng.Enrol(l.p)
		for d := date("2023-06-01"); d < date("2026-01-01"); d++ {
			if d < stop {
				if d%2 == 0 {
					l.apply("TRN.TRANSIT", d)
				}
				if d%10 == 0 {
					l.apply("BANK.COUNTER", d)
				}
				if d%15 == 0 {
					l.apply("HEA.FAMILY_DOCTOR", d)
				}
			}
			if d%40 == 0 {
				l.apply("MED.OUTPATIENT", d)
			}
			l.apply("TEL.ACTIVITY", d)
		}
		n := 0
		for _, r := range l.out.rows {
			if r.Action == sc.ActRisk {
				n++
				if dumpRisk {
					t.Logf("%s %s", r.Day, r.Note)
				}
			}
		}
		return n
	}
	if n := run(true); n != 0 {
		t.Errorf("%d RISK rows for a living person whose departments stopped sending", n)
		dumpRisk = true
		run(true)
		dumpRisk = false
	}
	if n := run(false); n == 0 {
		t.Error("without delivery days the silence should look like a death: the test proves nothing")
	}
}

// The transit card (not spoofable in the catalogue) used daily by a relative after the
// death, with every spoofable source: the other departments' silence keeps the person
// from being certified, and flags them.
func TestTransitCardAfterDeathNeverCertifies(t *testing.T) {
	l := newLife()
	death := date("2024-06-01")
	for d := date("2023-06-01"); d < death; d++ {
		l.seenInPerson(d)
		l.apply("BANK.TXN", d)
	}
	for d := death; d < date("2026-01-01"); d++ {
		l.apply("TRN.TRANSIT", d)
		for _, c := range []string{"HRSS.CARD_SPEND", "BANK.TXN", "TEL.ACTIVITY", "UTIL.PAYMENT", "MED.PHARMACY"} {
			l.apply(c, d)
		}
	}
	flagged := false
	for _, r := range l.out.rows {
		if r.Action == sc.ActCertified && r.CertifiedOn >= death {
			t.Errorf("certified after death: %+v", r)
		}
		if r.Action == sc.ActRisk && r.Day >= death {
			flagged = true
		}
	}
	if !flagged {
		t.Error("never flagged")
	}
}

// The transit card used by a relative from the day of the death, while the person's other
// departments saw them only now and then: the early renewal (RenewGainDays) would date a
// certification on the first ride, before any department's silence can show; it is dated
// by the last record of another type instead, so nothing is certified after the death.
func TestTransitRightAfterDeathNotCertified(t *testing.T) {
	l := newLife()
	death := date("2024-06-01")
	for d := date("2023-06-01"); d < death; d++ {
		if d%3 == 0 {
			l.apply("TRN.TRANSIT", d)
		}
		if d%50 == 0 {
			l.apply("MED.OUTPATIENT", d)
		}
		l.apply("BANK.TXN", d)
	}
	for d := death; d < date("2025-06-01"); d++ {
		l.apply("TRN.TRANSIT", d)
		l.apply("BANK.TXN", d)
	}
	weak, afterDeath := 0, 0
	for _, r := range l.out.rows {
		if r.Action != sc.ActCertified {
			continue
		}
		if r.Method == sc.MethodWeak {
			weak++
		}
		if r.CertifiedOn >= death {
			afterDeath++
			t.Errorf("certified after death: %+v", r)
		}
	}
	if weak < 3 {
		t.Errorf("%d WEAK certifications while alive: the early renewal should renew every %d days or so", weak, Default().RenewGainDays)
	}
}

// A person who registered for medical care away from home (MED.OFFSITE) and spends the
// winter elsewhere: the services seen only at home go silent, the bank card is used in
// another province; no RISK row. Without the registration the same silence and traces
// from elsewhere are flagged (the test can fail).
func TestOffsiteRegistrationExplainsLocalSilence(t *testing.T) {
	run := func(offsite bool) int {
		l := newLife()
		l.p.RegionCode = "371002001001"
		away, back := date("2024-12-01"), date("2025-04-01")
		for d := date("2023-06-01"); d < date("2025-08-01"); d++ {
			if d < away || d >= back {
				if d%2 == 0 {
					l.apply("TRN.TRANSIT", d)
				}
				if d%20 == 0 {
					l.apply("MED.OUTPATIENT", d)
				}
				if d%30 == 0 {
					l.apply("HEA.FAMILY_DOCTOR", d)
				}
			}
			if offsite && d == away-10 {
				l.apply("MED.OFFSITE", d)
			}
			if d >= away && d < back {
				l.applyAt("BANK.TXN", d, "460200") // the winter in Sanya
			} else {
				l.applyAt("BANK.TXN", d, "371002")
			}
		}
		n := 0
		for _, r := range l.out.rows {
			if r.Action == sc.ActRisk {
				n++
			}
		}
		return n
	}
	if n := run(true); n != 0 {
		t.Errorf("%d RISK rows for a person registered as away", n)
	}
	if n := run(false); n == 0 {
		t.Error("without the registration the winter's silence should be flagged: the test proves nothing")
	}
}

// lifeAt is newLife for a person registered in region, with the model the engine consults.
func lifeAt(region string) (*life, *Model) {
	l := newLife()
	l.p.RegionCode = region
	m := New(Default(), l.cfg.Catalogue, false)
	l.eng = engine.New(l.cfg).WithModel(m)
	return l, m
}

func (l *life) applyAt(code string, day sc.Date, region string) {
	in := engine.Input{Type: typeID(l.cfg.Catalogue, code), Event: day, Ref: l.refs, Target: engine.NoRef, Place: sc.PlaceOf(region)}
	l.note(code)
	l.eng.Apply(l.p, &l.st, &in, day+1, &l.out)
	l.eng.Evaluate(l.p, &l.st, day+1, &l.out)
}

// A relative living in another city uses the bank and social security cards of a person
// who died unreported every few days: flagged within 90 days, naming the traces from
// elsewhere; the same use from the person's own county is flagged later (the test can
// fail).
func TestRelativeElsewhereIsFlagged(t *testing.T) {
	const never = 1 << 20
	run := func(relative string) (int, string) {
		l := newLife()
		l.p.RegionCode = "371002001001"
		death := date("2024-06-01")
		for d := date("2023-06-01"); d < death; d++ {
			if d%30 == 0 {
				l.applyAt("MED.OUTPATIENT", d, "371002")
			}
			if d%60 == 0 {
				l.applyAt("HEA.FAMILY_DOCTOR", d, "371002001")
			}
			if d%20 == 0 {
				l.applyAt("BANK.TXN", d, "371002")
			}
			if d%30 == 0 {
				l.applyAt("TEL.ACTIVITY", d, "3710")
			}
		}
		for d := death; d < death+200; d++ {
			if d%3 == 0 {
				l.applyAt("BANK.TXN", d, relative)
			}
			if d%5 == 0 {
				l.applyAt("HRSS.CARD_SPEND", d, relative)
			}
		}
		for _, r := range l.out.rows {
			if r.Action == sc.ActCertified && r.CertifiedOn >= death {
				t.Errorf("certified after death: %+v", r)
			}
			if r.Action == sc.ActRisk {
				if r.Day < death {
					t.Errorf("flagged while alive: %+v", r)
				}
				return int(r.Day - death), r.Note
			}
		}
		return never, ""
	}
	away, note := run("370102")
	if away > 90 || !strings.Contains(note, "traces_elsewhere_") {
		t.Errorf("relative in Jinan: flagged %d days after the death (%q), want within 90 naming the traces elsewhere", away, note)
	}
	home, _ := run("371002")
	if home <= away {
		t.Errorf("the same use at home flagged after %d days, from elsewhere after %d: the place should tell", home, away)
	}
	t.Logf("flagged after %d days from elsewhere, %d from home", away, home)
}

// A transit rider's records are filed by city (region "3710"): they make no county of the
// city the person's own, so a relative using the person's social security card in another
// county after the death leaves traces from elsewhere (one ride made every county
// familiar before; the test fails without the fix).
func TestCityPlaceMakesNoCountyFamiliar(t *testing.T) {
	l, m := lifeAt("371082001001")
	death := date("2024-06-01")
	for d := date("2023-06-01"); d < death; d += 10 {
		l.applyAt("TRN.TRANSIT", d, "3710")
		l.applyAt("HRSS.CARD_SPEND", d+3, "371082")
	}
	for d := death + 5; d < death+60; d += 7 {
		l.applyAt("HRSS.CARD_SPEND", d, "371073")
	}
	card := typeID(l.cfg.Catalogue, "HRSS.CARD_SPEND")
	if x := m.Features(l.p, l.st.Evidence, card, death+60, sc.PlaceOf("371073"), death+61); x[FElsewhere] < math.Log1p(5) {
		t.Errorf("card used in another county of the city after the rides stopped: elsewhere %.2f, want the days counted", x[FElsewhere])
	}
	if x := m.Features(l.p, l.st.Evidence, card, death+60, sc.PlaceOf("371082"), death+61); math.Abs(x[FElsewhere]-math.Log1p(8)) > 1e-9 {
		t.Errorf("a trace at home with eight days from elsewhere before it: elsewhere %.2f, want log(9)", x[FElsewhere])
	}
}

// A person seen only at a clinic, every four months, is renewed early by the visits
// themselves (dated by the visit): they are never asked to certify. A transit rider's
// early renewal stays dated by another type's record (TestTransitRightAfterDeathNotCertified).
func TestClinicVisitsRenewEarly(t *testing.T) {
	l := newLife()
	start := date("2024-01-05")
	for d := start; d < date("2026-01-01"); d += 120 {
		l.apply("MED.OUTPATIENT", d)
		l.apply("MED.OUTPATIENT", d+7)
		for k := sc.Date(10); k < 120; k += 9 {
			l.apply("BANK.TXN", d+k)
		}
	}
	weak, asked := 0, 0
	for _, r := range l.out.rows {
		switch {
		case r.Action == sc.ActCertified && r.Method == sc.MethodWeak:
			weak++
			if l.codes[r.Evidence] != "MED.OUTPATIENT" || r.CertifiedOn != r.Day-1 {
				t.Errorf("WEAK row %+v: want dated by the visit that made it", r)
			}
		case (r.Action == sc.ActWarning || r.Action == sc.ActPending) && weak > 0: // the roster's certification runs out first
			asked++
		}
	}
	if weak < 3 || asked > 0 {
		t.Errorf("%d WEAK renewals, %d reminders: a person seen every four months should be renewed from the visits, never reminded", weak, asked)
	}
}

// The moved feature counts the record types whose traces since the person was last seen
// in person came from places not theirs on two days or more: a living person's trip across
// the county line moves one type for a day; a relative elsewhere moves the card and the
// account together; a trace of the type at home ends its run, one older than the run does
// not, and being seen in person ends them all.
func TestMovedTypes(t *testing.T) {
	l, m := lifeAt("371082001001")
	card, txn := typeID(l.cfg.Catalogue, "HRSS.CARD_SPEND"), typeID(l.cfg.Catalogue, "BANK.TXN")
	moved := func(typ sc.TypeID, d sc.Date, region string) float64 {
		return m.Features(l.p, l.st.Evidence, typ, d, sc.PlaceOf(region), d+1)[FMoved]
	}
	start, death := date("2023-06-01"), date("2024-06-01")
	for d := start; d < death; d += 5 {
		l.applyAt("BANK.TXN", d, "371082")
		l.applyAt("HRSS.CARD_SPEND", d+2, "371082")
		if (d-start)%30 == 0 {
			l.applyAt("MED.OUTPATIENT", d+1, "371082")
		}
	}
	// Last seen in person on death-5 (an outpatient visit every 30 days).
	l.applyAt("HRSS.CARD_SPEND", death-4, "371003") // a day's shopping across the line
	if x := moved(card, death-3, "371003"); x != 1 {
		t.Errorf("a second day of card use across the line, none at home between: moved %g, want 1", x)
	}
	if x := moved(txn, death-3, "371082"); x != 0 {
		t.Errorf("one day's card use across the line, then the account at home: moved %g, want 0", x)
	}
	l.applyAt("HRSS.CARD_SPEND", death-2, "371082")
	if n := len(l.st.Evidence.Moves); n != 0 {
		t.Errorf("the card used at home again: %d runs remembered, want 0", n)
	}
	for d := death + 3; d < death+30; d += 4 {
		l.applyAt("BANK.TXN", d, "371073")
		l.applyAt("HRSS.CARD_SPEND", d+1, "371073")
	}
	if x := moved(card, death+31, "371073"); x != 2 {
		t.Errorf("card and account used only across the line since the death: moved %g, want 2", x)
	}
	l.applyAt("BANK.TXN", death+1, "371082") // a record older than the run, arriving late
	if x := moved(card, death+31, "371073"); x != 2 {
		t.Errorf("a late record at home older than the run: moved %g, want 2", x)
	}
	if x := moved(card, death+32, "371082"); x != 1 {
		t.Errorf("the card used at home ends its run: moved %g, want 1", x)
	}
	l.applyAt("MED.OUTPATIENT", death+33, "371082")
	if x := moved(card, death+34, "371073"); x != 0 {
		t.Errorf("seen in person after the runs began: moved %g, want 0", x)
	}
}

// A traveller's winter place is theirs once they have been seen in person after a stay
// there: the next winter's traces from it count as their own, not as made elsewhere.
func TestTravellersPlaceBecomesFamiliar(t *testing.T) {
	l, m := lifeAt("371002001001")
	bank := func(from, to sc.Date, region string) {
		for d := from; d < to; d += 7 {
			l.applyAt("BANK.TXN", d, region)
		}
	}
	bank(date("2023-06-01"), date("2023-12-01"), "371002")
	txn := typeID(l.cfg.Catalogue, "BANK.TXN")
	for d := date("2023-06-01"); d < date("2023-12-01"); d += 20 {
		l.applyAt("MED.OUTPATIENT", d, "371002")
	}
	bank(date("2023-12-01"), date("2024-02-01"), "460200")
	if x := m.Features(l.p, l.st.Evidence, txn, date("2024-02-01"), sc.PlaceOf("460200"), date("2024-02-02")); x[FElsewhere] == 0 {
		t.Error("the first winter away: its traces should count as made elsewhere")
	}
	bank(date("2024-02-01"), date("2024-04-01"), "460200")
	for d := date("2024-04-01"); d < date("2024-11-01"); d += 20 {
		l.applyAt("MED.OUTPATIENT", d, "371002")
		l.applyAt("BANK.TXN", d, "371002")
	}
	bank(date("2024-12-01"), date("2025-02-01"), "460200")
	if x := m.Features(l.p, l.st.Evidence, txn, date("2025-02-01"), sc.PlaceOf("460200"), date("2025-02-02")); x[FElsewhere] != 0 {
		t.Errorf("the second winter at the same place: elsewhere %.2f, want 0", x[FElsewhere])
	}
	if x := m.Features(l.p, l.st.Evidence, txn, date("2025-02-01"), sc.PlaceOf("370102"), date("2025-02-02")); x[FElsewhere] == 0 {
		t.Error("a trace from a new place should count as made elsewhere")
	}
}

// A version 3 model file (no elsewhere feature, no RISK regression) still loads and
// scores as it did: the elsewhere weight is 0 and the RISK score is the trace score.
func TestVersion3FileLoads(t *testing.T) {
	p3 := `{"version": 3, "trace": [-7, 2.8, 1.4, 0.1, 0.4, -1.6, 0.4, 0.2, 2.2, 1.3], "risk_threshold": 0.06}`
	p, err := Parse([]byte(p3))
	if err != nil {
		t.Fatal(err)
	}
	if p.Version != Version || p.Trace[FElsewhere] != 0 || p.Risk != ([NumFeatures]float64{}) {
		t.Errorf("version 3 file read as %+v", p)
	}
	x := [NumFeatures]float64{FBias: 1, FMissed: 2, FElsewhere: 3}
	if p.PRisk(&x) != p.PDead(&x) {
		t.Errorf("RISK score %g, trace score %g: without a risk regression they are one", p.PRisk(&x), p.PDead(&x))
	}
	if _, err := Parse([]byte(`{"version": 2}`)); err == nil {
		t.Error("a version 2 file was read")
	}
}

// A version 4 model file (no moved feature) still loads and scores as it did: its shorter
// arrays leave the moved weights 0, whatever the built-in defaults hold.
func TestVersion4FileLoads(t *testing.T) {
	p4 := `{"version": 4, "trace": [-9, 2.5, 1.3, 0.2, 0.4, -0.6, 0.4, 0, 2.3, 1, 2.1], "risk": [-9.7, 1.5, 1.5, 0, 0, 0.2, 0.7, 0, 2.7, 0.7, 2.5], "risk_threshold": 0.03}`
	p, err := Parse([]byte(p4))
	if err != nil {
		t.Fatal(err)
	}
	if p.Version != Version || p.Trace[FMoved] != 0 || p.Risk[FMoved] != 0 || p.Risk[FElsewhere] != 2.5 {
		t.Errorf("version 4 file read as %+v", p)
	}
	x := [NumFeatures]float64{FBias: 1, FElsewhere: 1, FMoved: 3}
	y := x
	y[FMoved] = 0
	if p.PRisk(&x) != p.PRisk(&y) {
		t.Errorf("a version 4 file's RISK score moved with the moved feature: %g, %g", p.PRisk(&x), p.PRisk(&y))
	}
}

// A RISK row names only the features that raised its score: an age that lowered it (the
// early regression's age weight is negative) is not a reason.
func TestReasonsNameWhatRaisedTheScore(t *testing.T) {
	ev := engine.NewEvidence()
	ev.Last[sIn] = date("2024-01-01")
	x := [NumFeatures]float64{FBias: 1, FMissed: 1, FAge: 1.2, FNotFound: 1, FElsewhere: math.Log1p(12), FMoved: 2}
	w := [NumFeatures]float64{FBias: -8, FMissed: 1.5, FAge: -0.1, FNotFound: 0, FElsewhere: 2, FMoved: 0.3}
	got := reasons(ev, &x, &w, date("2024-03-01"))
	if got != "in_person_missed_1.7|in_person_gap_60d|traces_elsewhere_12d|moved_2_types" {
		t.Errorf("reasons %q", got)
	}
	w[FAge], w[FNotFound] = 0.2, 0.5
	if got := reasons(ev, &x, &w, date("2024-03-01")); !strings.Contains(got, "visit_not_found") || !strings.Contains(got, "age_87") {
		t.Errorf("reasons %q: a visit not found and the age raised the score", got)
	}
}

// A person whose roster rows carry several names (roster rows quarantined for another
// name) is flagged RISK at their first scored trace though nothing else is amiss, with
// inconsistent_identity_N first among the reasons and the RISK score as score=; the flag
// changes no status, and comes back no more often than risk_repeat_days. The same life
// without the conflict raises no flag.
func TestInconsistentIdentityIsFlagged(t *testing.T) {
	var status [3]sc.Status // after the first trace, by conflicts
	plain := identityLife(0, engine.NoRef, func(l *life) { status[0] = l.st.Status })
	weak := 0
	for _, r := range plain.out.rows {
		if r.Action == sc.ActRisk {
			t.Errorf("flagged without a conflict: %+v", r)
		}
		if r.Action == sc.ActCertified && r.Method == sc.MethodWeak {
			weak++
		}
	}
	if weak == 0 {
		t.Fatal("the life without a conflict is never certified WEAK")
	}
	l := identityLife(2, 0, func(l *life) { status[2] = l.st.Status })
	if status[2] != status[0] {
		t.Errorf("status %s after the flagged trace, %s without the conflict", status[2], status[0])
	}
	var risks []engine.Decision
	for _, r := range l.out.rows {
		if r.Action == sc.ActRisk {
			risks = append(risks, r)
		}
	}
	if len(risks) == 0 {
		t.Fatal("no RISK row for a person with 2 inconsistent roster rows")
	}
	first := risks[0]
	if first.Day != date("2024-01-02") || first.Evidence != 0 {
		t.Errorf("first RISK row on %s for record %d, want on 2024-01-02 for the first trace (0)", first.Day, first.Evidence)
	}
	rest, ok := strings.CutPrefix(first.Note, "p_dead=")
	if !ok || !strings.Contains(rest, ";reasons=inconsistent_identity_2|") || !strings.Contains(rest, ";health=") {
		t.Errorf("RISK note %q", first.Note)
	}
	pd, _, _ := strings.Cut(rest, ";")
	if p, err := strconv.ParseFloat(pd, 64); err != nil || math.Round(p*100)/100 != first.Score {
		t.Errorf("score %g, p_dead %s: the score is the RISK score", first.Score, pd)
	}
	if first.Score >= Default().RiskThreshold {
		t.Errorf("score %g at or above the threshold: the flag shows nothing of the conflict", first.Score)
	}
	for i := 1; i < len(risks); i++ {
		if gap := int(risks[i].Day - risks[i-1].Day); gap < Default().RiskRepeatDays {
			t.Errorf("RISK rows %d days apart: %+v", gap, risks[i])
		}
	}
}

// A conflict that appears (a roster re-import) just before a trace that certifies WEAK
// without it: that trace raises the flag and certifies nothing.
func TestInconsistentIdentityNeverCertifiesItsTrace(t *testing.T) {
	plain := identityLife(0, engine.NoRef, nil)
	ref := engine.NoRef
	for _, r := range plain.out.rows {
		if r.Action == sc.ActCertified && r.Method == sc.MethodWeak {
			ref = r.Evidence
			break
		}
	}
	if ref == engine.NoRef {
		t.Fatal("the life without a conflict is never certified WEAK")
	}
	l := identityLife(1, ref, nil)
	flagged := false
	for _, r := range l.out.rows {
		if r.Evidence != ref {
			continue
		}
		switch r.Action {
		case sc.ActRisk:
			flagged = strings.Contains(r.Note, "reasons=inconsistent_identity_1|")
		case sc.ActCertified:
			t.Errorf("the flagged trace certified: %+v", r)
		}
	}
	if !flagged {
		t.Errorf("record %d, which certifies without the conflict, raised no inconsistent_identity flag", ref)
	}
}

// identityLife is a year of regular traces (a transit card every third day, an outpatient
// visit every 45, a bank card daily); the person gets conflicts before record from (NoRef:
// never), and after is called after the first day's records.
func identityLife(conflicts int, from engine.Ref, after func(*life)) *life {
	l := newLife()
	apply := func(code string, d sc.Date) {
		if l.refs == from {
			l.p.NameConflicts = conflicts
		}
		l.apply(code, d)
	}
	for d := date("2024-01-01"); d < date("2025-01-01"); d++ {
		if d%3 == 0 {
			apply("TRN.TRANSIT", d)
		}
		if d%45 == 0 {
			apply("MED.OUTPATIENT", d)
		}
		apply("BANK.TXN", d)
		if d == date("2024-01-01") && after != nil {
			after(l)
		}
	}
	return l
}

// In LOSS (prison) the conflict flags nothing; the first scored trace after release does.
func TestInconsistentIdentityNotInLoss(t *testing.T) {
	l := newLife()
	l.p.NameConflicts = 1
	in, out := date("2024-02-01"), date("2024-08-01")
	l.apply("JUS.PRISON_IN", in)
	for d := in + 1; d < out; d++ {
		l.apply("BANK.TXN", d)
		if d%30 == 0 {
			l.apply("CMT.NOT_FOUND", d)
		}
	}
	l.apply("JUS.PRISON_OUT", out)
	l.apply("BANK.TXN", out+3)
	var risks []engine.Decision
	for _, r := range l.out.rows {
		if r.Action == sc.ActRisk {
			risks = append(risks, r)
		}
	}
	if len(risks) != 1 || risks[0].Day != out+4 || !strings.Contains(risks[0].Note, "reasons=inconsistent_identity_1|") {
		t.Fatalf("RISK rows %+v, want one on %s, after the release", risks, out+4)
	}
}

// FuzzParse: a model file of any bytes is read or refused with an error, never a panic;
// what is read passes Validate and writes back to a file read as the same parameters.
func FuzzParse(f *testing.F) {
	f.Add(Default().Marshal())
	f.Add([]byte(`{"version": 3, "trace": [1, 2]}`))
	f.Add([]byte(`{"version": 5, "min_days": 1}`))
	f.Add([]byte(`{"risk_threshold": 1e308, "certify_alive": "x"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Parse(b)
		if err != nil {
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("read but invalid: %v", err)
		}
		q, err := Parse(p.Marshal())
		if err != nil {
			t.Fatalf("its own file refused: %v\n%s", err, p.Marshal())
		}
		if q.Identity() != p.Identity() {
			t.Fatalf("identity %s, then %s", p.Identity(), q.Identity())
		}
	})
}

// The department that saw a person's monthly clinic visits stops sending in the week they
// die, unreported, and a relative rides their transit card on: the clinic's silence is
// the department's, so it cannot show the death, and the card alone must not carry the
// person on (it did: certified WEAK nine months after the death). A person never seen
// but on the card is still renewed by it (the catalogue's transit is not spoofable).
func TestLentCardNotAloneWhenItsDepartmentStops(t *testing.T) {
	death := date("2024-01-10")
	run := func(clinic bool) (afterDeath, weak int) {
		l := newLife()
		m := New(Default(), l.cfg.Catalogue, false)
		days := make([][]sc.Date, l.cfg.Catalogue.Len())
		for d := date("2023-01-01"); d < date("2025-07-01"); d++ {
			if d < death+7 {
				days[typeID(l.cfg.Catalogue, "MED.OUTPATIENT")] = append(days[typeID(l.cfg.Catalogue, "MED.OUTPATIENT")], d+1)
			}
			days[typeID(l.cfg.Catalogue, "TRN.TRANSIT")] = append(days[typeID(l.cfg.Catalogue, "TRN.TRANSIT")], d+1)
		}
		m.SetDeliveries(days)
		l.eng = engine.New(l.cfg).WithModel(m)
		l.st = l.eng.Enrol(l.p)
		for d := date("2023-03-06"); d < date("2025-07-01"); d++ {
			if clinic && d < death && d%30 == 0 {
				l.apply("MED.OUTPATIENT", d)
			}
			if d%7 == 0 {
				l.apply("TRN.TRANSIT", d)
			}
		}
		for _, r := range l.out.rows {
			if r.Action == sc.ActCertified && r.Method == sc.MethodWeak {
				weak++
				if r.CertifiedOn >= death {
					afterDeath++
				}
			}
		}
		return afterDeath, weak
	}
	if n, _ := run(true); n != 0 {
		t.Errorf("%d WEAK certifications after the death on the card alone while the clinic's department was out", n)
	}
	if _, weak := run(false); weak == 0 {
		t.Error("a person seen only on the transit card was never renewed by it")
	}
}
