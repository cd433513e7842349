package models

import (
	"math"
	"slices"
	"strconv"
	"strings"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/engine"
)

// Evidence slots: what each dated counter of engine.Evidence counts.
const (
	sIn         = iota // in-person traces: STRONG records and non-spoofable weak ones
	sSpoof             // spoofable weak traces
	sInpatient         // MED.INPATIENT
	sCritical          // MED.INPATIENT with critical=1
	sLTC               // long-term care, nursing home
	sChronic           // chronic care
	sOutpatient        // outpatient visits
	sNotFound          // a visit found no one, or was refused
)

// role is what the model needs to know of a record type.
type role uint16

const (
	rInpatient role = 1 << iota
	rLTC
	rChronic
	rOutpatient
	rNotFound
	rOffsite // registered for medical care away from home (异地就医备案)
	rLocal   // only seen where the person lives: silent while they are away
	rRegular // a monthly service (chronic prescriptions, long-term care, nursing home): missing one means more
	rLent    // in person by the catalogue, but on a card a relative can carry (a senior transit card, its photo seldom checked)
)

var roles = map[string]role{
	"MED.INPATIENT": rInpatient, "MED.LTC_SERVICE": rLTC | rRegular, "CIV.NURSING_HOME": rLTC | rRegular,
	"MED.CHRONIC": rChronic | rLocal | rRegular, "MED.OUTPATIENT": rOutpatient | rLocal, "CMT.NOT_FOUND": rNotFound, "CMT.REFUSED": rNotFound,
	"MED.OFFSITE": rOffsite, "HEA.FAMILY_DOCTOR": rLocal, "HEA.CHECKUP": rLocal, "HEA.VACCINATION": rLocal,
	"BANK.COUNTER": rLocal, "TRN.TRANSIT": rLocal | rLent, "TRN.SENIOR_CARD_CHECK": rLocal,
}

// AwayDays: a registration for medical care away from home (MED.OFFSITE) explains this
// many days of silence of the record types only seen at home (rLocal).
const AwayDays = 240

// SampleDays is how far apart a person's sampled traces are (plus every trace scored at or
// above the risk threshold), so that training data stay small for any city.
const SampleDays = 14

// RecordFloor: spoofable traces scoring below it and not sampled are not reported to the
// recorder (they cannot be a person's highest score that matters).
const RecordFloor = 0.01

// maxRecent bounds the traces kept per person for the certification window.
const maxRecent = 16

// Observation is one scored trace, handed to a Recorder for training and evaluation.
type Observation struct {
	Person    string
	Day       sc.Date // the day the record was applied
	Event     sc.Date // its event_date
	Spoofable bool
	X         [NumFeatures]float64
	PDead     float64 // the trace score
	Risk      float64 // the RISK score
	// Clock: sampled by the fortnight clock alone (one a person every SampleDays), not
	// for its RISK score: which traces these are no model decides, so that their mean
	// P(dead) compares one model with another on one city (TrainingPrior, EstimatePrior).
	Clock bool
}

// Recorder receives the model's observations (training, evaluation); it must be safe for
// concurrent use, as the engine runs people in parallel. Without one nothing is kept.
type Recorder interface {
	// Trace receives a scored trace: every one sampled (sample: keep it; at most one per
	// person every SampleDays, plus every one at or above the risk threshold), and every
	// spoofable one, for the person's highest score.
	Trace(o *Observation, sample bool)
	// Health is called with a person's health index features on the snapshot day, from
	// their first record applied on or after it (before it is applied).
	Health(person string, day sc.Date, h [NumHealth]float64)
	SnapshotDay() sc.Date
}

// Model is the evidence model behind engine.Model: the trace score, the RISK flag and the
// weak certification, under one set of Params.
type Model struct {
	P            *Params
	Cat          *sc.Catalogue
	HealthPeriod bool     // the operator's health_period (spec §6): shorten P for high health risk
	Rec          Recorder // nil: keep nothing
	role         []role
	source       []uint8    // each type's department, numbered in catalogue order (at most maxSources)
	deliv        []delivery // per record type, when it was quiet (nil: unknown)
	covBase      sc.Date
	cov          [][]sc.Date // per record type and day from covBase, the event date delivered up to (see SetCoverage)
}

// Identity names the model's parameters (Params.Identity) and what they were trained on:
// what the service records of the model its decisions come from.
func (m *Model) Identity() (id, trained string) { return m.P.Identity(), m.P.Trained }

// SetCoverage takes, per record type, the event date up to which its records had arrived
// on each day from base (backtest.CoverageAware): a person's silence in a type is counted
// up to it, instead of up to the day less the longest delay of their records.
func (m *Model) SetCoverage(base sc.Date, covered [][]sc.Date) {
	m.covBase, m.cov = base, covered
}

// covered returns the event date up to which type typ was delivered on day d.
func (m *Model) covered(typ sc.TypeID, d sc.Date) (sc.Date, bool) {
	if int(typ) >= len(m.cov) || m.cov[typ] == nil || d < m.covBase || int(d-m.covBase) >= len(m.cov[typ]) {
		return sc.NoDate, false
	}
	c := m.cov[typ][d-m.covBase]
	return c, c != sc.NoDate
}

// maxSources bounds the departments the model tells apart; the rest share the last.
const maxSources = 32

// QuietDays bounds how long a record type may go undelivered before it is quiet, and
// silence in its records says nothing about anyone: twice its longest pause between
// deliveries in the 120 days before, at least a week, at most QuietDays.
const QuietDays = 45

// SetDeliveries takes the days each record type was delivered (backtest.DeliveryAware).
// Without it every type counts as delivering.
func (m *Model) SetDeliveries(days [][]sc.Date) {
	m.deliv = make([]delivery, len(m.source))
	for typ, ds := range days {
		if typ < len(m.deliv) {
			m.deliv[typ] = newDelivery(slices.Compact(slices.Sorted(slices.Values(ds))))
		}
	}
}

// delivery is when one record type was quiet: a record type not delivered for twice its
// longest pause of the 120 days before its last delivery (7 to QuietDays days) is quiet.
type delivery struct {
	base    sc.Date // the first delivery (quiet before it)
	quiet   []bool  // from base through the last delivery
	last    sc.Date
	lastWin int // the quiet window after the last delivery
}

// window returns the quiet window after delivery k of ds.
func window(ds []sc.Date, k int) int {
	pause := 0
	for j := k; j > 0 && int(ds[k]-ds[j-1]) <= 120; j-- {
		pause = max(pause, int(ds[j]-ds[j-1]))
	}
	if pause == 0 {
		return QuietDays
	}
	return min(max(2*pause, 7), QuietDays)
}

func newDelivery(ds []sc.Date) delivery {
	if len(ds) == 0 {
		return delivery{base: sc.NoDate}
	}
	dl := delivery{base: ds[0], last: ds[len(ds)-1], quiet: make([]bool, int(ds[len(ds)-1]-ds[0])+1)}
	for k := range ds {
		end := dl.last
		if k+1 < len(ds) {
			end = ds[k+1]
		}
		w := window(ds, k)
		for d := ds[k] + 1; d < end; d++ {
			dl.quiet[d-dl.base] = int(d-ds[k]) >= w
		}
	}
	dl.lastWin = window(ds, len(ds)-1)
	return dl
}

// quiet reports whether record type typ has been quiet on day d.
func (m *Model) quiet(typ sc.TypeID, d sc.Date) bool {
	if m.deliv == nil || int(typ) >= len(m.deliv) {
		return false
	}
	dl := &m.deliv[typ]
	switch {
	case dl.base == sc.NoDate || d < dl.base:
		return true
	case d > dl.last:
		return int(d-dl.last) >= dl.lastWin
	}
	return dl.quiet[d-dl.base]
}

// New returns a model over the catalogue's types.
func New(p *Params, cat *sc.Catalogue, healthPeriod bool) *Model {
	m := &Model{P: p, Cat: cat, HealthPeriod: healthPeriod}
	m.role = make([]role, cat.Len())
	m.source = make([]uint8, cat.Len())
	var srcs []string
	for i := range m.role {
		t := cat.Type(sc.TypeID(i))
		m.role[i] = roles[t.Code]
		k := 0
		for k < len(srcs) && srcs[k] != t.Source {
			k++
		}
		if k == len(srcs) {
			srcs = append(srcs, t.Source)
		}
		m.source[i] = uint8(min(k, maxSources-1))
	}
	return m
}

func sigmoid(z float64) float64 { return 1 / (1 + math.Exp(-z)) }

// ageOn returns the whole years of age on d.
func ageOn(birth, d sc.Date) float64 {
	if birth == sc.NoDate {
		return 75
	}
	return float64(d-birth) / 365.25
}

func recentWithin(last, d sc.Date, days int) bool {
	return last != sc.NoDate && last <= d && int(d-last) <= days
}

// UsualPriorDays is added to the span of a type's records when its usual interval is
// estimated, as if a year passed before the first one: a short burst is not a rhythm.
const UsualPriorDays = 365

// maxLag bounds the delay a type's records are allowed before their absence counts.
const maxLag = 60

// Features returns the trace score's features for a trace of type typ dated t made at
// place pl (0: not known) applied on day d, from the memory before the trace is added.
func (m *Model) Features(r *sc.Recipient, ev *engine.Evidence, typ sc.TypeID, t sc.Date, pl sc.Place, d sc.Date) [NumFeatures]float64 {
	x, _ := m.features(r, ev, typ, t, pl, d)
	return x
}

// silence is what features found of the person's silence: the in-person events missed
// per department, and the record types whose silence broke their own rhythm.
type silence struct {
	bySource [maxSources]float64
	broken   []sc.TypeID
	// quietBroken: types that would be broken but whose department stopped sending: their
	// silence is not the person's, nor can it show that the person is still there.
	quietBroken bool
}

// BreakMinDays, BreakFactor, BreakMinGap: a record type seen on at least BreakMinDays
// days is broken when the person has been silent in it for more than BreakFactor times
// the longest gap between two of its days, and more than BreakMinGap days. A living
// person's longest gap grows with their history; a death stops every type at once.
const (
	BreakMinDays = 4
	BreakFactor  = 2
	BreakMinGap  = 90
)

// features returns the features and the person's silence.
func (m *Model) features(r *sc.Recipient, ev *engine.Evidence, typ sc.TypeID, t sc.Date, pl sc.Place, d sc.Date) ([NumFeatures]float64, silence) {
	p := m.P
	var x [NumFeatures]float64
	x[FBias] = 1
	// Events missed: each in-person type's overdue days over its usual interval, added up
	// by department; a department that stopped delivering (see SetDeliveries) is left out,
	// so that its going quiet is not a death. One type still used (a transit card in a
	// relative's hands) does not hide the silence of the others.
	var sil silence
	bySource := &sil.bySource
	var lastBySource [maxSources]sc.Date
	for i := range lastBySource {
		lastBySource[i] = sc.NoDate
	}
	away, regular := false, 0.0
	for _, tm := range ev.Types {
		if m.role[tm.Type]&rOffsite != 0 && recentWithin(tm.Last, t, AwayDays) {
			away = true
		}
	}
	for _, tm := range ev.Types {
		src := m.source[tm.Type]
		if m.quiet(tm.Type, d) {
			// The department stopped sending it: its silence is not the person's. Nor can
			// it show a death: a card that can be lent, still used, is then all there is.
			if over := float64(d-tm.Last) - float64(tm.Lag); tm.Days >= BreakMinDays && over > math.Max(BreakFactor*float64(tm.Gap), BreakMinGap) {
				sil.quietBroken = true
			}
			continue
		}
		if away && m.role[tm.Type]&rLocal != 0 {
			continue // registered for care away from home: local services do not see them
		}
		if lastBySource[src] == sc.NoDate || tm.Last > lastBySource[src] {
			lastBySource[src] = tm.Last
		}
		// The usual interval, shrunk toward a year: a burst of records (a hospital stay,
		// a vaccination series) is not a rhythm.
		usual := math.Max(3, float64(tm.Last-tm.First+UsualPriorDays)/float64(tm.Days))
		over := float64(d-tm.Last) - float64(tm.Lag)
		if c, ok := m.covered(tm.Type, d); ok {
			over = float64(c - tm.Last)
		}
		if over <= 0 {
			continue
		}
		if tm.Days >= BreakMinDays && over > math.Max(BreakFactor*float64(tm.Gap), BreakMinGap) {
			sil.broken = append(sil.broken, tm.Type)
		}
		bySource[src] += over / usual
		if m.role[tm.Type]&rRegular != 0 {
			regular += over / usual
		}
	}
	x[FRegular] = math.Min(regular, 10)
	sum := 0.0
	for _, v := range bySource {
		sum += v
	}
	x[FMissed] = math.Log1p(sum)
	x[FExpectedRest] = math.Min(sum, 30)
	// A (critical) admission in the last 180 days after which no department still
	// delivering has seen the person.
	silentSince := func(c sc.Date) bool {
		if !recentWithin(c, t, 180) {
			return false
		}
		for _, l := range lastBySource {
			if l != sc.NoDate && l > c+14 {
				return false
			}
		}
		return true
	}
	if silentSince(ev.Last[sCritical]) {
		x[FCritical] = 1
	}
	if silentSince(ev.Last[sInpatient]) {
		x[FStay] = 1
	}
	x[FAge] = (ageOn(r.BirthDate, t) - 75) / 10
	if recentWithin(ev.Last[sNotFound], t, 180) {
		x[FNotFound] = 1
	}
	x[FHistory] = math.Log1p(float64(ev.Count[sIn]))
	if !away {
		// Registered for care away from home: their traces elsewhere are their own.
		x[FElsewhere] = math.Log1p(float64(elsewhereDays(r, ev, t, pl)))
		if m.Cat.Type(typ).Spoofable {
			x[FMoved] = float64(m.movedTypes(r, ev, typ, t, pl))
		}
	}
	h := HealthFeatures(r, ev, t)
	hi := math.Min(math.Max(p.HealthIndex(&h), 1e-6), 1-1e-6)
	x[FHealth] = math.Log(hi / (1 - hi))
	return x, sil
}

// PDead returns the trace score: the probability that the person is dead at the trace.
func (p *Params) PDead(x *[NumFeatures]float64) float64 { return logistic(&p.Trace, x) }

// logistic is the logistic regression with coefficients w at x.
func logistic(w, x *[NumFeatures]float64) float64 {
	z := 0.0
	for i, c := range w {
		z += c * x[i]
	}
	return sigmoid(z)
}

// PRisk returns the RISK score of a trace: P(dead) from the Risk regression, fitted to
// find a death within EarlyDays of it (without a Risk regression, the trace score).
func (p *Params) PRisk(x *[NumFeatures]float64) float64 { return logistic(p.riskWeights(), x) }

// HealthFeatures returns the health index's features on day d.
func HealthFeatures(r *sc.Recipient, ev *engine.Evidence, d sc.Date) [NumHealth]float64 {
	var h [NumHealth]float64
	h[HBias] = 1
	h[HAge] = (ageOn(r.BirthDate, d) - 75) / 10
	if r.Sex == 1 {
		h[HMale] = 1
	}
	if ev != nil {
		h[HInpatient] = math.Log1p(float64(ev.Count[sInpatient]))
		if recentWithin(ev.Last[sCritical], d, 180) {
			h[HCritical] = 1
		}
		if ev.Count[sChronic] > 0 {
			h[HChronic] = 1
		}
		if ev.Count[sLTC] > 0 {
			h[HLTC] = 1
		}
		h[HOutpatient] = math.Log1p(float64(ev.Count[sOutpatient]))
		if recentWithin(ev.Last[sInpatient], d, 90) {
			h[HRecentStay] = 1
		}
	}
	return h
}

// HealthIndex returns the health index (健康指数): the probability of death within a
// year, from age, sex and the person's care records. Higher is frailer.
func (p *Params) HealthIndex(h *[NumHealth]float64) float64 {
	z := 0.0
	for i, c := range p.Health {
		z += c * h[i]
	}
	return sigmoid(z)
}

// Health returns the person's health index on day d (nil memory: age and sex only).
func (m *Model) Health(r *sc.Recipient, s *engine.State, d sc.Date) float64 {
	h := HealthFeatures(r, s.Evidence, d)
	return m.P.HealthIndex(&h)
}

func bump(ev *engine.Evidence, slot int, t sc.Date) {
	if ev.Last[slot] == sc.NoDate || t > ev.Last[slot] {
		ev.Last[slot] = t
		ev.Count[slot]++
	}
	if ev.First[slot] == sc.NoDate || t < ev.First[slot] {
		ev.First[slot] = t
	}
}

// Observe implements engine.Model.
func (m *Model) Observe(r *sc.Recipient, s *engine.State, in *engine.Input, class sc.Class, d sc.Date) engine.Verdict {
	v := engine.Verdict{Ref: engine.NoRef, RiskRef: engine.NoRef, On: sc.NoDate}
	ev := s.Evidence
	if ev == nil {
		ev = engine.NewEvidence()
		s.Evidence = ev
	}
	if m.Rec != nil {
		if snap := m.Rec.SnapshotDay(); d >= snap && (ev.Seen == sc.NoDate || ev.Seen < snap) {
			m.Rec.Health(r.PersonID, snap, HealthFeatures(r, ev, snap))
		}
	}
	ev.Seen = d
	t := m.Cat.Type(in.Type)
	ro := m.role[in.Type]
	switch class {
	case sc.ClassStrong, sc.ClassWeak, sc.ClassInfo:
	default:
		return v
	}
	scored := class == sc.ClassWeak || ro&rNotFound != 0
	var x [NumFeatures]float64
	var sil silence
	pd, pr := 0.0, 0.0
	if scored {
		if ro&rNotFound != 0 {
			bump(ev, sNotFound, in.Event)
		}
		x, sil = m.features(r, ev, in.Type, in.Event, in.Place, d)
		pd, pr = m.P.PDead(&x), m.P.PRisk(&x)
		if m.Rec != nil && s.Status != sc.StatusLoss {
			// The clock moves on its own samples only, so that which traces it takes does
			// not depend on the model's RISK score.
			clock := ev.Sample == sc.NoDate || in.Event >= ev.Sample
			sample := clock || pr >= m.P.RiskThreshold
			if clock {
				ev.Sample = in.Event + SampleDays
			}
			if sample || t.Spoofable {
				m.Rec.Trace(&Observation{Person: r.PersonID, Day: d, Event: in.Event, Spoofable: t.Spoofable, X: x, PDead: pd, Risk: pr, Clock: clock}, sample)
			}
		}
	}
	// Remember the record.
	inPerson := class == sc.ClassStrong || (class == sc.ClassWeak && !t.Spoofable)
	switch {
	case inPerson:
		bump(ev, sIn, in.Event)
	case class == sc.ClassWeak:
		bump(ev, sSpoof, in.Event)
	}
	if ro&rInpatient != 0 {
		bump(ev, sInpatient, in.Event)
		if in.Critical {
			bump(ev, sCritical, in.Event)
		}
	}
	if ro&rLTC != 0 {
		bump(ev, sLTC, in.Event)
	}
	if ro&rChronic != 0 {
		bump(ev, sChronic, in.Event)
	}
	if ro&rOutpatient != 0 {
		bump(ev, sOutpatient, in.Event)
	}
	// Someone saw the person after the flag (the visit it asked for, a face check, the
	// counter): the flag's quiet ends, so that a death after that finding is flagged as
	// soon as its traces show, not risk_repeat_days after the first flag. A flag for
	// inconsistent identities keeps its quiet: a visit does not mend the roster, and the
	// flag would come back at the next trace.
	if class == sc.ClassStrong && ev.Flagged != sc.NoDate && in.Event >= ev.Flagged && r.NameConflicts == 0 &&
		(t.Method == sc.MethodCommunity || t.Method == sc.MethodFace || t.Method == sc.MethodCounter) {
		ev.Flagged = sc.NoDate
	}
	if in.Place != 0 && class == sc.ClassWeak && t.Spoofable {
		noteMove(r, ev, in.Type, in.Place, in.Event)
	}
	if in.Place != 0 && class != sc.ClassInfo {
		notePlace(ev, in.Place, in.Event)
	}
	if inPerson {
		m.remember(ev, engine.Trace{Day: in.Event, Type: in.Type, Ref: in.Ref})
		rhythm(ev, in.Type, in.Event, d)
	}
	if !scored {
		return v
	}
	// RISK: the traces look like a death being hidden. A person in LOSS (prison) is silent
	// for a known reason. Several entitlements under one ID number with different names
	// (roster rows quarantined for it) flag whatever the score and whatever the trace: a
	// relative may draw a pension under the dead person's number, and a look costs one
	// visit; the flag repeats no more often than any other.
	flaggedRecently := ev.Flagged != sc.NoDate && int(d-ev.Flagged) < m.P.RiskRepeatDays
	identity := r.NameConflicts > 0
	if (identity || (!inPerson && pr >= m.P.RiskThreshold)) && !flaggedRecently && s.Status != sc.StatusLoss {
		ev.Flagged = d
		v.Risk, v.Score, v.RiskRef = true, math.Round(pr*100)/100, in.Ref
		rs := reasons(ev, &x, m.P.riskWeights(), in.Event)
		if identity {
			rs = "inconsistent_identity_" + strconv.Itoa(r.NameConflicts) + "|" + rs
		}
		// The health index goes with the flag, so that the risk worklist can order visits
		// by it.
		h := HealthFeatures(r, ev, d)
		v.RiskNote = "p_dead=" + strconv.FormatFloat(pr, 'f', 3, 64) + ";reasons=" + rs +
			";health=" + strconv.FormatFloat(m.P.HealthIndex(&h), 'f', 3, 64)
		flaggedRecently = true
	}
	if class != sc.ClassWeak || t.Spoofable || flaggedRecently || 1-pd < m.P.CertifyAlive || pr >= m.P.RiskThreshold {
		return v
	}
	// Silence elsewhere: the departments other than this trace's expected to see the
	// person MaxMissed times and did not. A card still used while the rest of a life has
	// stopped is how a hidden death looks.
	missed := 0.0
	for i, v := range sil.bySource {
		if i != int(m.source[in.Type]) {
			missed += v
		}
	}
	if missed >= m.P.MaxMissed {
		return v
	}
	// Nor when another record type has stopped against the person's own rhythm: a transit
	// card ridden daily by a relative while the person's regular clinic visits have
	// stopped is how a hidden death looks, even to a person seen rarely elsewhere.
	for _, b := range sil.broken {
		if b != in.Type {
			return v
		}
	}
	// Nor a card that can be lent (rLent) while a record type the person kept to has gone
	// silent with its department: that silence cannot tell a death from the outage, and
	// the card alone is what a relative carrying it would leave. The person is asked when
	// their period runs out. (A person seen on nothing but the card is renewed by it, as
	// the catalogue's not-spoofable transit allows: no pattern of theirs can break.)
	if sil.quietBroken && m.role[in.Type]&rLent != 0 {
		return v
	}
	// WEAK certification: enough in-person traces in the window, when the period needs it.
	on, ok := m.renewal(s, ev, in, d)
	if !ok {
		return v
	}
	days, types, nb := m.window(ev, in.Event)
	if days < m.P.MinDays || types < m.P.MinTypes {
		return v
	}
	v.Certify, v.On, v.Ref = true, on, in.Ref
	v.Records = latestByType(ev.Recent, in.Event, m.P.WindowDays)
	v.Note = "p_alive=" + strconv.FormatFloat(1-pd, 'f', 3, 64) + ";traces=" + nb
	if m.HealthPeriod {
		h := HealthFeatures(r, ev, d)
		if m.P.HealthIndex(&h) >= m.P.HealthPeriodAbove {
			v.Period = m.P.HealthPeriodMonths
		}
	}
	return v
}

// renewal returns the date of a WEAK certification by the trace in, applied on d, and
// whether it is worth writing: when the last certification came from no data (FACE,
// COUNTER, COMMUNITY, MIGRATED) or the period runs out within RenewMonths, on the trace's
// date; otherwise when a certification on the trace's date moves the end of the period
// on by at least RenewGainDays, on that day. The early renewal keeps a person seen every
// few months certified from their latest traces rather than from those before the warning
// window, at most one row a RenewGainDays. A trace of a card that can be lent (rLent: a
// transit card is not spoofable by the catalogue, but a relative can carry it) dates it
// by the last day another in-person record type saw the person instead: such a card still
// used after a death is seen by no other type after it, while the other departments'
// records of the last weeks are still on their way and their silence cannot show yet.
// (Session 7 let the other types date it themselves: a person seen only at a clinic
// every few months was never renewed early and was asked to certify; on the simulated
// cities 0.2 points more of the living stay silent, at the cost of one hidden death in
// seed 8's 79 paid 3,400 yuan longer.) Near the end of the period silence has had months
// to show.
func (m *Model) renewal(s *engine.State, ev *engine.Evidence, in *engine.Input, d sc.Date) (sc.Date, bool) {
	t := in.Event
	if (s.LastMethod != sc.MethodStrong && s.LastMethod != sc.MethodWeak) || d >= s.Until.AddMonths(-m.P.RenewMonths) {
		return t, true
	}
	if m.P.RenewGainDays <= 0 || s.Period == 0 {
		return sc.NoDate, false
	}
	on := sc.NoDate
	if m.role[in.Type]&rLent == 0 {
		on = t
	} else {
		for _, tm := range ev.Types {
			if tm.Type != in.Type && (on == sc.NoDate || tm.Last > on) {
				on = tm.Last
			}
		}
	}
	if on == sc.NoDate {
		return sc.NoDate, false
	}
	on = min(on, t)
	return on, int(on.AddMonths(int(s.Period))-s.Until) >= m.P.RenewGainDays
}

// maxPlaces bounds the places remembered per person; the one seen least lately goes.
const maxPlaces = 6

// ElsewhereDays: only traces of the last this many days before a trace count as made
// elsewhere.
const ElsewhereDays = 180

// familiar reports whether traces from place pl are the person's own life: pl is near
// home, their registered region (0: not known), or traces came from it on or before the
// last day they were seen in person (a place they went to while alive, as a traveller
// each winter). A remembered place that names only a city (a transit card's records,
// filed by city) says nothing of the counties in it: were it near each of them, one ride
// would make every county of the city the person's own, and a relative using the cards
// in another county after the death would leave no trace from elsewhere.
func familiar(home sc.Place, ev *engine.Evidence, pl sc.Place) bool {
	if home != 0 && pl.Near(home) {
		return true
	}
	in := ev.Last[sIn]
	for _, pm := range ev.Places {
		if pm.Place.City() && !pl.City() {
			continue
		}
		if in != sc.NoDate && pm.First <= in && pm.Place.Near(pl) {
			return true
		}
	}
	return false
}

// elsewhereDays counts the days of the person's traces in the ElsewhereDays before t
// from places not familiar, with a trace from place pl on t: a relative who lives in
// another county using the cards of someone who died leaves such days, and nothing in
// person after them.
func elsewhereDays(r *sc.Recipient, ev *engine.Evidence, t sc.Date, pl sc.Place) int {
	home := sc.PlaceOf(r.RegionCode)
	n := 0
	counted := false
	for _, pm := range ev.Places {
		if !recentWithin(pm.Last, t, ElsewhereDays) || familiar(home, ev, pm.Place) {
			continue
		}
		n += int(pm.Days)
		if pm.Place == pl {
			counted = pm.Last >= t
		}
	}
	if pl != 0 && !counted && !familiar(home, ev, pl) {
		n++
	}
	return n
}

// MoveMinDays: a record type counts as moved once its traces came from a place not the
// person's own on this many days in a row (a living person's occasional trace across a
// county line is one day among days at home).
const MoveMinDays = 2

// noteMove remembers a spoofable trace of type typ from place pl on day t: a run of the
// type's traces from places not the person's own goes on, or (from their own place, on
// or after the run began) ends. A trace older than the run changes nothing: records
// arrive late, and a pharmacy's month-old record at home says nothing of today.
func noteMove(r *sc.Recipient, ev *engine.Evidence, typ sc.TypeID, pl sc.Place, t sc.Date) {
	k := slices.IndexFunc(ev.Moves, func(mm engine.MoveMemo) bool { return mm.Type == typ })
	if familiar(sc.PlaceOf(r.RegionCode), ev, pl) {
		if k >= 0 && t >= ev.Moves[k].Since {
			ev.Moves = slices.Delete(ev.Moves, k, k+1)
		}
		return
	}
	if k < 0 {
		ev.Moves = append(ev.Moves, engine.MoveMemo{Type: typ, Place: pl, Since: t, Last: t, Days: 1})
		return
	}
	mm := &ev.Moves[k]
	switch {
	case t > mm.Last:
		mm.Last, mm.Place = t, pl
		mm.Days++
	case t < mm.Since:
		mm.Since = t
		mm.Days++
	}
}

// movedTypes counts the record types whose traces, with a trace of type typ from place pl
// on t, came from places not the person's own on at least MoveMinDays days since the
// person was last seen in person, the latest in the ElsewhereDays before t: a relative in
// another county using the card, the account and the pharmacy benefit moves them all at
// once, where a living person's trip across a county line moves one for a day. Rides on a
// transit card (rLent) do not count as seen: the relative may carry that card too.
func (m *Model) movedTypes(r *sc.Recipient, ev *engine.Evidence, typ sc.TypeID, t sc.Date, pl sc.Place) int {
	in := sc.NoDate
	for _, tm := range ev.Types {
		if m.role[tm.Type]&rLent == 0 && (in == sc.NoDate || tm.Last > in) {
			in = tm.Last
		}
	}
	here := pl != 0 && !familiar(sc.PlaceOf(r.RegionCode), ev, pl)
	n := 0
	for _, mm := range ev.Moves {
		days, last := int(mm.Days), mm.Last
		if mm.Type == typ {
			switch {
			case !here && pl != 0 && t >= mm.Since:
				continue // this trace, from their own place, ends the run
			case here && t > mm.Last:
				days, last = days+1, t
			}
		}
		if days >= MoveMinDays && (in == sc.NoDate || mm.Since > in) && recentWithin(last, t, ElsewhereDays) {
			n++
		}
	}
	return n
}

// notePlace remembers a trace from place pl on day t.
func notePlace(ev *engine.Evidence, pl sc.Place, t sc.Date) {
	for i := range ev.Places {
		pm := &ev.Places[i]
		if pm.Place != pl {
			continue
		}
		if t > pm.Last {
			pm.Last = t
			pm.Days++
		}
		if t < pm.First {
			pm.First = t
		}
		return
	}
	if len(ev.Places) >= maxPlaces {
		k := 0
		for i, pm := range ev.Places {
			if pm.Last < ev.Places[k].Last {
				k = i
			}
		}
		ev.Places = slices.Delete(ev.Places, k, k+1)
	}
	ev.Places = append(ev.Places, engine.PlaceMemo{Place: pl, First: t, Last: t, Days: 1})
}

// rhythm updates the memory of an in-person type: its first and last days, how many,
// and the longest delay of its records (bounded by maxLag).
func rhythm(ev *engine.Evidence, typ sc.TypeID, t, d sc.Date) {
	lag := int32(min(max(int(d-t), 0), maxLag))
	for i := range ev.Types {
		tm := &ev.Types[i]
		if tm.Type != typ {
			continue
		}
		if t > tm.Last {
			tm.Gap = max(tm.Gap, int32(t-tm.Last))
			tm.Last = t
			tm.Days++
		}
		if t < tm.First {
			tm.First = t
		}
		tm.Lag = max(tm.Lag, lag)
		return
	}
	ev.Types = append(ev.Types, engine.TypeMemo{Type: typ, First: t, Last: t, Days: 1, Lag: lag})
}

// remember keeps an in-person trace in the window, sorted by day, bounded.
func (m *Model) remember(ev *engine.Evidence, tr engine.Trace) {
	rs := ev.Recent
	i := len(rs)
	for i > 0 && (rs[i-1].Day > tr.Day || (rs[i-1].Day == tr.Day && rs[i-1].Type > tr.Type)) {
		i--
	}
	if i > 0 && rs[i-1].Day == tr.Day && rs[i-1].Type == tr.Type {
		return
	}
	rs = append(rs, engine.Trace{})
	copy(rs[i+1:], rs[i:])
	rs[i] = tr
	latest := rs[len(rs)-1].Day
	cut := 0
	for cut < len(rs) && int(latest-rs[cut].Day) >= m.P.WindowDays {
		cut++
	}
	if len(rs)-cut > maxRecent {
		cut = len(rs) - maxRecent
	}
	if cut > 0 {
		rs = append(rs[:0], rs[cut:]...)
	}
	ev.Recent = rs
}

// window counts the distinct days and types of in-person traces in the window ending on
// t, and names them with their catalogue weights.
func (m *Model) window(ev *engine.Evidence, t sc.Date) (days, types int, names string) {
	var seen []sc.TypeID
	var cnt []int
	prev := sc.NoDate
	for _, x := range ev.Recent {
		if x.Day > t || int(t-x.Day) >= m.P.WindowDays {
			continue
		}
		if x.Day != prev {
			days++
			prev = x.Day
		}
		k := -1
		for j, s := range seen {
			if s == x.Type {
				k = j
			}
		}
		if k < 0 {
			seen, cnt = append(seen, x.Type), append(cnt, 0)
			k = len(seen) - 1
		}
		cnt[k]++
	}
	var b strings.Builder
	for j, s := range seen {
		if j > 0 {
			b.WriteByte('|')
		}
		ty := m.Cat.Type(s)
		b.WriteString(ty.Code)
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(cnt[j]))
		b.WriteByte('x')
		b.WriteString(strconv.FormatFloat(ty.Weight, 'g', 3, 64))
	}
	return days, len(seen), b.String()
}

// latestByType returns the latest record of each type among the in-person traces of the
// window ending on t, oldest first: with traces=TYPE:COUNT… they name what a WEAK
// certification rests on, one record a type an auditor can open (every record of the
// window would cost the service a chunk read each, for rows of sixteen).
func latestByType(recent []engine.Trace, t sc.Date, windowDays int) []engine.Ref {
	var out []engine.Ref
	var seen []sc.TypeID
	for i := len(recent) - 1; i >= 0; i-- {
		x := recent[i]
		if x.Day > t || int(t-x.Day) >= windowDays || slices.Contains(seen, x.Type) {
			continue
		}
		seen = append(seen, x.Type)
		out = append(out, x.Ref)
	}
	slices.Reverse(out)
	return out
}

// riskWeights returns the coefficients of the RISK score.
func (p *Params) riskWeights() *[NumFeatures]float64 {
	if p.Risk == ([NumFeatures]float64{}) {
		return &p.Trace
	}
	return &p.Risk
}

// reasons names the features that raised a RISK score (weight w times value above 0),
// after the days since the person was last seen in person.
func reasons(ev *engine.Evidence, x, w *[NumFeatures]float64, t sc.Date) string {
	var rs []string
	raised := func(f int) bool { return x[f]*w[f] > 0 }
	if raised(FMissed) {
		rs = append(rs, "in_person_missed_"+strconv.FormatFloat(math.Expm1(x[FMissed]), 'f', 1, 64))
	}
	if ev.Last[sIn] == sc.NoDate {
		rs = append(rs, "never_seen_in_person")
	} else {
		rs = append(rs, "in_person_gap_"+strconv.Itoa(int(t-ev.Last[sIn]))+"d")
	}
	if raised(FCritical) {
		rs = append(rs, "critical_admission_then_silence")
	} else if raised(FStay) {
		rs = append(rs, "hospital_stay_then_silence")
	}
	if raised(FNotFound) {
		rs = append(rs, "visit_not_found")
	}
	if raised(FElsewhere) {
		rs = append(rs, "traces_elsewhere_"+strconv.Itoa(int(math.Round(math.Expm1(x[FElsewhere]))))+"d")
	}
	if raised(FMoved) {
		rs = append(rs, "moved_"+strconv.Itoa(int(x[FMoved]))+"_types")
	}
	if x[FAge] >= 1 && raised(FAge) {
		rs = append(rs, "age_"+strconv.Itoa(int(x[FAge]*10+75)))
	}
	return strings.Join(rs, "|")
}
