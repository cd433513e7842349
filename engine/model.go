package engine

import sc "github.com/silentcert/silentcert"

// Model is an evidence model the engine consults, so that learned scoring can replace the
// baseline weak rule and flag fraud risk without the engine knowing how. It must be pure
// and deterministic like the engine: it reads and changes only the person's Evidence.
// An engine without a model (the default) behaves exactly as the baseline rule says.
type Model interface {
	// Observe is called for every record applied to a person who is neither terminated
	// nor in conflict, before the engine applies it (class is the record's class after
	// the critical=1 rule). It updates s.Evidence and returns its verdict.
	Observe(r *sc.Recipient, s *State, in *Input, class sc.Class, d sc.Date) Verdict
}

// Verdict is what a model says about one record: whether a weak record certifies the
// person and whether the person should be put on the risk worklist.
type Verdict struct {
	// Certify asks for a WEAK certification dated On by record Ref; Period, when above 0,
	// shortens the service period (health_period). The engine honours it only for a
	// non-spoofable weak record, never for a spoofable one.
	Certify bool
	On      sc.Date
	Ref     Ref
	Period  int
	Note    string // appended to the CERTIFIED row's detail: the contributing traces and weights
	Records []Ref  // the records the certification rests on, named in the row's detail
	// Risk asks for a RISK row with Score, naming RiskRef, with the reasons in RiskNote.
	// A RISK row changes no status and stops no payment.
	Risk     bool
	Score    float64
	RiskRef  Ref
	RiskNote string
}

// EvidenceSlots is how many dated counters an Evidence holds.
const EvidenceSlots = 8

// Evidence is what a model remembers of one person between records: dated counters whose
// meaning the model defines, recent traces, and the day of the last RISK flag. It is nil
// until a model first sees the person, so states of engines without a model are unchanged.
type Evidence struct {
	Last    [EvidenceSlots]sc.Date // the latest event date per slot (NoDate when none)
	First   [EvidenceSlots]sc.Date // the earliest event date per slot
	Count   [EvidenceSlots]int32   // distinct days per slot
	Recent  []Trace                // recent weak and strong traces, bounded by the model
	Types   []TypeMemo             // per record type, as the model chooses
	Places  []PlaceMemo            // where the person's traces came from, as the model chooses
	Moves   []MoveMemo             `json:",omitempty"` // per record type, its current run of traces from a place not the person's own, as the model chooses
	Flagged sc.Date                // the day of the last RISK row, or NoDate
	Seen    sc.Date                // the day the model last saw a record of the person, or NoDate
	Sample  sc.Date                // the first event date of the model's next sampled observation, or NoDate
}

// TypeMemo is what a model remembers of one record type for one person: its rhythm and
// how late its records arrive.
type TypeMemo struct {
	Type        sc.TypeID
	First, Last sc.Date // the earliest and latest event dates
	Days        int32   // distinct event days (counted when a later day arrives)
	Lag         int32   // the longest delay seen between an event and its application
	Gap         int32   // the longest gap between two consecutive event days
}

// PlaceMemo is what a model remembers of one place a person's traces came from.
type PlaceMemo struct {
	Place       sc.Place
	First, Last sc.Date // the earliest and latest event dates of traces there
	Days        int32   // distinct event days (counted when a later day arrives)
}

// MoveMemo is what a model remembers of one record type whose latest traces all came from
// a place the model did not count as the person's own: since when, until when, on how
// many days, and the latest such place.
type MoveMemo struct {
	Type        sc.TypeID
	Place       sc.Place
	Since, Last sc.Date
	Days        int32
}

// NewEvidence returns an empty memory, every date NoDate.
func NewEvidence() *Evidence {
	ev := &Evidence{Flagged: sc.NoDate, Seen: sc.NoDate, Sample: sc.NoDate}
	for i := range ev.Last {
		ev.Last[i], ev.First[i] = sc.NoDate, sc.NoDate
	}
	return ev
}

// WithModel returns a copy of the engine that consults m (nil: the baseline rule).
func (e *Engine) WithModel(m Model) *Engine {
	c := *e
	c.model = m
	return &c
}

// observe asks the model about a record and writes the RISK row it asks for.
func (e *Engine) observe(r *sc.Recipient, s *State, in *Input, class sc.Class, d sc.Date, out Sink) Verdict {
	v := e.model.Observe(r, s, in, class, d)
	if v.Risk {
		ref := v.RiskRef
		if ref == NoRef {
			ref = in.Ref
		}
		out.Decide(Decision{Day: d, Action: sc.ActRisk, Evidence: ref, Until: sc.NoDate, CertifiedOn: sc.NoDate,
			DeathDate: sc.NoDate, Other: NoRef, BackPay: -1, Score: v.Score, Note: v.RiskNote})
	}
	return v
}

// applyModelWeak applies a weak record under the model's verdict: spoofable traces are
// counted and never certify; the others certify when the model says so.
func (e *Engine) applyModelWeak(s *State, in *Input, t *sc.RecordType, v Verdict, d sc.Date, out Sink) {
	if t.Spoofable {
		out.Count(CountWeakSpoofable)
		return
	}
	w := &e.weak
	if !w.Enabled || !v.Certify {
		return
	}
	if w.MaxAgeDays > 0 && int(d-in.Event) > w.MaxAgeDays {
		out.Count(CountWeakTooOld)
		return
	}
	on, ref := v.On, v.Ref
	if on == sc.NoDate || on > in.Event || ref == NoRef {
		on, ref = in.Event, in.Ref
	}
	period := int(s.Period)
	if w.PeriodMonths > 0 && w.PeriodMonths < period {
		period = w.PeriodMonths
	}
	if v.Period > 0 && v.Period < period {
		period = v.Period
	}
	e.certifyNote(s, on, sc.MethodWeak, ref, period, d, v.Note, v.Records, out)
	e.settle(s, d, in.Ref, out)
}
