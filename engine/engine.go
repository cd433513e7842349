package engine

import (
	"cmp"
	"slices"
	"sort"

	sc "github.com/silentcert/silentcert"
)

// Engine applies the rules of one configuration. It holds no per-person state and is safe
// for concurrent use by many goroutines, each with its own States.
type Engine struct {
	policy sc.Policy
	weak   sc.WeakRule
	cat    *sc.Catalogue
	class  []sc.Class // each type's class, for the hot path
	model  Model      // nil: the baseline weak rule, no RISK rows
}

// New returns an engine for cfg.
func New(cfg *sc.Config) *Engine {
	e := &Engine{policy: cfg.Policy, weak: cfg.Weak, cat: cfg.Catalogue}
	e.class = make([]sc.Class, cfg.Catalogue.Len())
	for i := range e.class {
		e.class[i] = cfg.Catalogue.Type(sc.TypeID(i)).Class
	}
	return e
}

// Catalogue returns the engine's catalogue.
func (e *Engine) Catalogue() *sc.Catalogue { return e.cat }

// Enrol returns the starting state of a recipient: certified (MIGRATED) on last_certified,
// or on the first day of the earliest start_month when there is none (spec §6). It writes
// no row: enrolment happens before any replayed history.
func (e *Engine) Enrol(r *sc.Recipient) State {
	return e.EnrolWith(r, make([]EntState, len(r.Entitlements)))
}

// EnrolWith is Enrol with the per-entitlement state supplied by the caller (one zeroed
// EntState per entitlement), so that a driver holding many people can carve them all
// from one array.
func (e *Engine) EnrolWith(r *sc.Recipient, ents []EntState) State {
	p := e.Period(r)
	s := State{
		Period: uint8(p), Until: sc.NoDate, LastCertified: sc.NoDate, LastEvidence: NoRef,
		DeathDate: sc.NoDate, DeathRef: NoRef, LastStrong: sc.NoDate, LastStrongRef: NoRef,
		RowDay: sc.NoDate, Ents: ents[:len(r.Entitlements):len(r.Entitlements)],
	}
	on := r.LastCertified
	if on == sc.NoDate {
		on = r.FirstMonth().First()
	}
	e.setUntil(&s, on.AddMonths(p))
	s.LastCertified = on
	s.LastMethod = sc.MethodMigrated
	s.Status = e.status(&s, on)
	s.RowStatus = s.Status
	return s
}

// Period returns the service period P of r in months (spec §6): capacity ÷ total, bounded,
// or the default when no row gives a capacity. Enrolment sets it; a roster that changes
// the amounts or the entitlements sets it again for the certifications that follow.
func (e *Engine) Period(r *sc.Recipient) int {
	capacity, known := r.Capacity()
	return e.policy.ServicePeriod(capacity, known, r.MonthlyTotal())
}

// clock returns the status the service period alone gives on day d (spec §6 "Dates"):
// WARNING from until minus warning_months through until, PENDING from the day after
// until, SUSPENDED from the day after until plus grace_months.
func (e *Engine) clock(s *State, d sc.Date) sc.Status {
	switch {
	case d >= s.SuspendFrom:
		return sc.StatusSuspended
	case d > s.Until:
		return sc.StatusPending
	case d >= s.WarnFrom:
		return sc.StatusWarning
	}
	return sc.StatusCertified
}

// setUntil sets Until and the dates derived from it.
func (e *Engine) setUntil(s *State, until sc.Date) {
	s.Until = until
	e.Derive(s)
}

// Derive recomputes the state's derived dates from Until and the engine's policy: a store
// calls it after loading a state written under another policy.
func (e *Engine) Derive(s *State) {
	s.WarnFrom = s.Until.AddMonths(-e.policy.WarningMonths)
	s.SuspendFrom = s.Until.AddMonths(e.policy.GraceMonths) + 1
}

// status computes a person's status on day d, by the precedence of spec §6.
func (e *Engine) status(s *State, d sc.Date) sc.Status {
	switch {
	case s.conflict() != nil:
		return sc.StatusConflict
	case s.DeathDate != sc.NoDate:
		return sc.StatusTerminated
	case s.lossOpen(d):
		return sc.StatusLoss
	}
	return e.clock(s, d)
}

// NextChange returns the first day after d on which the clock alone may change the
// person's status, or NoDate when only a record can (terminated, in conflict, in LOSS).
// A driver may skip the daily evaluation on the days in between: it would change nothing.
func (e *Engine) NextChange(s *State, d sc.Date) sc.Date {
	switch s.Status {
	case sc.StatusTerminated, sc.StatusConflict, sc.StatusLoss:
		return sc.NoDate
	}
	for _, t := range [...]sc.Date{s.WarnFrom, s.Until + 1, s.SuspendFrom} {
		if t > d {
			return t
		}
	}
	return sc.NoDate
}

// Evaluate runs the daily evaluation of day d: the status is recomputed and a change
// writes one row.
func (e *Engine) Evaluate(r *sc.Recipient, s *State, d sc.Date, out Sink) {
	e.settle(s, d, NoRef, out)
}

// Baseline writes, on the first day of a replay after that day's records and evaluation,
// a row giving the status reached for a person who is not CERTIFIED, unless a row for that
// status was already written that day (spec §7, "On --from").
func (e *Engine) Baseline(r *sc.Recipient, s *State, d sc.Date, out Sink) {
	if s.Status == sc.StatusCertified || (s.RowDay == d && s.RowStatus == s.Status) {
		return
	}
	dec := Decision{Day: d, Evidence: NoRef, Other: NoRef, BackPay: -1}
	switch s.Status {
	case sc.StatusWarning:
		dec.Action, dec.Until = sc.ActWarning, s.Until
	case sc.StatusPending:
		dec.Action = sc.ActPending
	case sc.StatusSuspended:
		dec.Action = sc.ActSuspended
	case sc.StatusLoss:
		dec.Action = sc.ActLoss
		if s.Rare != nil {
			for _, l := range s.Rare.Losses {
				if !l.Restore && l.Date <= d {
					dec.Evidence = l.Ref
				}
			}
		}
	case sc.StatusTerminated:
		dec.Action, dec.Evidence, dec.DeathDate = sc.ActTerminated, s.DeathRef, s.DeathDate
	case sc.StatusConflict:
		c := s.conflict()
		dec.Action, dec.Evidence, dec.Other = sc.ActConflict, c.Cause, c.Other
	}
	s.RowDay, s.RowStatus = d, s.Status
	out.Decide(dec)
}

// Apply applies one record on day d (the day it is processed; the record's own dates are
// in in) and recomputes the status as of d.
func (e *Engine) Apply(r *sc.Recipient, s *State, in *Input, d sc.Date, out Sink) {
	t := e.cat.Type(in.Type)
	if t.Off {
		out.Count(CountTypeOff)
		return
	}
	class := e.class[in.Type]
	if in.Critical && t.CriticalWeak {
		class = sc.ClassWeak
	}
	if e.model != nil && s.DeathDate == sc.NoDate && s.conflict() == nil {
		v := e.observe(r, s, in, class, d, out)
		if class == sc.ClassWeak {
			e.applyModelWeak(s, in, t, v, d, out)
			return
		}
	}
	switch class {
	case sc.ClassDeath:
		e.applyDeath(r, s, in, d, out)
	case sc.ClassLoss, sc.ClassRestore:
		e.applyLoss(s, in, class == sc.ClassRestore, d, out)
	case sc.ClassStrong:
		e.applyStrong(r, s, in, t.Method, d, out)
	case sc.ClassWeak:
		e.applyWeak(s, in, t, d, out)
	case sc.ClassResolve:
		e.applyResolve(s, in, d, out)
	case sc.ClassInfo:
		// Contact, address and visit outcomes certify nothing; the driver keeps them.
	}
}

func (e *Engine) applyDeath(r *sc.Recipient, s *State, in *Input, d sc.Date, out Sink) {
	rr := s.rare()
	rr.Deaths = append(rr.Deaths, DeathRecord{Date: in.Event, Ref: in.Ref})
	if s.DeathDate != sc.NoDate { // already terminated, or in conflict over a death
		if in.Event != s.DeathDate {
			out.Count(CountDeathDateDisagreement)
		}
		if in.Event < s.DeathDate {
			s.DeathDate, s.DeathRef = in.Event, in.Ref
		}
		if s.conflict() == nil && s.LastStrong != sc.NoDate && in.Event < s.LastStrong {
			// A death dated before a STRONG record that was applied: contradictory.
			e.holdTerminated(r, s)
			rr.Conflict = &Conflict{Cause: in.Ref, Other: s.LastStrongRef, StrongDate: sc.NoDate, Strong: NoRef}
			e.settle(s, d, in.Ref, out)
		}
		return
	}
	s.DeathDate, s.DeathRef = in.Event, in.Ref
	if s.LastStrong != sc.NoDate && in.Event < s.LastStrong {
		rr.Conflict = &Conflict{Cause: in.Ref, Other: s.LastStrongRef, StrongDate: sc.NoDate, Strong: NoRef}
	}
	e.settle(s, d, in.Ref, out)
}

func (e *Engine) applyLoss(s *State, in *Input, restore bool, d sc.Date, out Sink) {
	if s.DeathDate != sc.NoDate && s.conflict() == nil { // terminated
		// It changes nothing while the death stands (spec §6), but a review may yet void
		// the death (a STRONG record after it, then accept=alive): it waits for that.
		rr := s.rare()
		rr.AfterDeath = insertLoss(rr.AfterDeath, LossEvent{Date: in.Event, Restore: restore, Ref: in.Ref})
		out.Count(CountAfterDeath)
		return
	}
	if c := s.conflict(); c != nil {
		// The death is disputed: the person may be alive, and then this LOSS or RESTORE
		// stands (spec §6). It waits for the review (Conflict.Losses); the status stays
		// CONFLICT and nothing is paid, released or owed for it meanwhile.
		c.Losses = insertLoss(c.Losses, LossEvent{Date: in.Event, Restore: restore, Ref: in.Ref})
		return
	}
	ended := restore && s.lossOpen(in.Event) // a LOSS this RESTORE ends
	s.addLossEvent(LossEvent{Date: in.Event, Restore: restore, Ref: in.Ref})
	if !restore {
		e.settle(s, d, in.Ref, out)
		return
	}
	if !ended {
		// It changes nothing now (spec §6), but it is kept: a LOSS dated before it that
		// arrives later (a prison's admission reported after its release) is followed by
		// it, as the month rule reads them by date, and the person is not left in LOSS
		// for good.
		out.Count(CountRestoreWithoutLoss)
		return
	}
	// Months withheld for the LOSS that this RESTORE shows were due become back pay
	// (or a suspension's withholding, when the clock would not have paid them either).
	n := s.Rare.makeDue(func(h *Held) bool {
		if h.Reason != sc.StatusLoss || s.lossExcludes(h.Month) {
			return false
		}
		if !h.ClockPayable {
			h.Reason = sc.StatusSuspended
			return false
		}
		return true
	})
	old := s.Status
	e.settleBack(s, d, in.Ref, n, out)
	// A late RESTORE for a person no longer in LOSS (an earlier-reported RESTORE ended it):
	// settleBack wrote no RESTORED row (a clock's WARNING or PENDING of the day, perhaps).
	// The months it shows were due are back pay, and a row says how many (spec §7:
	// RESTORED when a late RESTORE makes months due). For a person paid again, the months
	// it turned into a suspension's are due too: the person has certified since.
	m := n
	switch {
	case old == sc.StatusLoss:
		return
	case old.Payable() && s.Status.Payable():
		m = e.resume(s, n)
	case s.Status != old:
		return
	}
	if m > 0 {
		s.RowDay, s.RowStatus = d, s.Status
		out.Decide(Decision{Day: d, Action: sc.ActRestored, Evidence: in.Ref, Until: sc.NoDate, CertifiedOn: sc.NoDate,
			DeathDate: sc.NoDate, Other: NoRef, BackPay: m})
	}
}

// makeDue moves the held months that due accepts into Due, as back pay for the next
// payroll, and returns how many distinct months it moved that no row has counted yet (a
// month counted when first made due, then put back for a LOSS, is not counted again).
// due may change a month it keeps.
func (rr *Rare) makeDue(due func(h *Held) bool) int {
	var months []sc.Month
	keep := rr.Held[:0]
	for _, h := range rr.Held {
		if due(&h) {
			rr.Due = append(rr.Due, Due{Month: h.Month, Ent: h.Ent, Dropped: h.Dropped})
			if !h.Counted {
				months = addDistinct(months, h.Month)
			}
			continue
		}
		keep = append(keep, h)
	}
	rr.Held = keep
	return len(months)
}

func addDistinct(ms []sc.Month, m sc.Month) []sc.Month {
	for _, x := range ms {
		if x == m {
			return ms
		}
	}
	return append(ms, m)
}

func (e *Engine) applyStrong(r *sc.Recipient, s *State, in *Input, method sc.Method, d sc.Date, out Sink) {
	if c := s.conflict(); c != nil {
		// Held for the review: only evidence after the disputed death matters to it.
		if in.Event > s.DeathDate && (c.StrongDate == sc.NoDate || in.Event > c.StrongDate) {
			c.Strong, c.StrongDate, c.StrongMethod = in.Ref, in.Event, method
		} else if in.Event <= s.DeathDate {
			s.seenStrong(in) // as for a terminated person, should the review accept the death
		}
		return
	}
	if s.DeathDate != sc.NoDate {
		if in.Event <= s.DeathDate {
			// It changes nothing now, but a DEATH record dated before it that comes later
			// conflicts with it, as it would have had it arrived before the death (spec §6).
			s.seenStrong(in)
			out.Count(CountAfterDeath)
			return
		}
		// Seen alive after the accepted death: never applied silently.
		e.holdTerminated(r, s)
		s.rare().Conflict = &Conflict{Cause: in.Ref, Other: s.DeathRef, Strong: in.Ref, StrongDate: in.Event, StrongMethod: method}
		e.settle(s, d, in.Ref, out)
		return
	}
	if s.LastStrong == sc.NoDate || in.Event > s.LastStrong {
		s.LastStrong, s.LastStrongRef = in.Event, in.Ref
	}
	e.certify(s, in.Event, method, in.Ref, int(s.Period), d, out)
	e.settle(s, d, in.Ref, out)
}

// holdTerminated, with the policy's back_pay_voided_death on, holds for the dispute that
// a TERMINATED person's conflict opens the months a death kept unpaid (Rare.DeathUnpaid:
// those whose payroll ran while the person was TERMINATED, and those held in an earlier
// dispute that a review settled as a death) that no payroll paid since: a review that
// voids the death (accept=alive) then pays them as it pays the months held during the
// dispute, and one that accepts it pays none of them, as the spec does for those, and
// keeps them for a later dispute. Each is held as the dispute's own, with what the clock
// said on its payroll day (the death froze the clock), so that a LOSS or a suspension
// has them as it has the dispute's months.
func (e *Engine) holdTerminated(r *sc.Recipient, s *State) {
	if !e.policy.BackPayVoidedDeath || s.Rare == nil || len(s.Rare.DeathUnpaid) == 0 {
		return
	}
	rr := s.Rare
	rr.DeathUnpaid.Each(func(m sc.Month) {
		for i := range r.Entitlements {
			es := &s.Ents[i]
			if !r.Entitlements[i].Active(m) || es.Regular.Has(m) || es.Back.Has(m) || rr.Holds(i, m) {
				continue
			}
			rr.Held = append(rr.Held, e.disputeHeld(s, i, m))
		}
	})
	rr.DeathUnpaid = nil
}

// disputeHeld is month m of the entitlement at index ent held for a dispute over a death,
// with what the clock said on m's payroll day (the death, then the dispute, froze it: the
// clock says the same now), so that a LOSS or a suspension has it as the dispute's own.
func (e *Engine) disputeHeld(s *State, ent int, m sc.Month) Held {
	return Held{Month: m, Ent: uint8(ent), Reason: sc.StatusConflict, ClockPayable: e.clock(s, m.First()).Payable()}
}

// AfterDeath returns what becomes of month m of an entitlement that a roster gives the
// person, at index ent of their entitlements, after m's payroll ran, when m is after the
// month of their death (standing or disputed) and that payroll paid, withheld or made due
// none of their entitlements: it ran while the death stood (TERMINATED) or was disputed
// (CONFLICT). The month is what the payroll, and the dispute since, made of the others'
// months, had the roster named the entitlement then. A month whose payroll ran in the
// dispute open now is held for it (held, h), paid if a review voids the death. A month
// the death stood is, with back_pay_voided_death on, held for the dispute when one is
// open (as holdTerminated held the others'), or else kept unpaid (unpaid: the caller adds
// it to Rare.DeathUnpaid) for a dispute to come; with the key off it is lost, as the
// others' are (spec §6), whether the death is voided or not.
//
// The payroll ran in the dispute when the CONFLICT row (RowDay) came before its day. On
// that day itself the state cannot tell whether the conflict came before the day's
// payroll or after it: the month is taken to have run while the death stood (lost with
// the key off, when no other entitlement was due to be held that month).
func (e *Engine) AfterDeath(s *State, ent int, m sc.Month) (h Held, held, unpaid bool) {
	disputed := s.conflict() != nil
	switch {
	case disputed && (e.policy.BackPayVoidedDeath || (s.RowStatus == sc.StatusConflict && m.First() > s.RowDay)):
		return e.disputeHeld(s, ent, m), true, false
	case e.policy.BackPayVoidedDeath:
		return h, false, true
	}
	return h, false, false
}

// seenStrong records a STRONG record that changes nothing now (its person is terminated,
// or in conflict over a death dated on or after it) as the latest evidence of life when it
// is: a DEATH record dated before it opens a CONFLICT, whatever the arrival order.
func (s *State) seenStrong(in *Input) {
	if s.LastStrong == sc.NoDate || in.Event > s.LastStrong {
		s.LastStrong, s.LastStrongRef = in.Event, in.Ref
	}
}

// certify moves Until for a certification on day on, writing a CERTIFIED row when it
// does. It reports whether Until moved.
func (e *Engine) certify(s *State, on sc.Date, method sc.Method, ref Ref, period int, d sc.Date, out Sink) bool {
	return e.certifyNote(s, on, method, ref, period, d, "", nil, out)
}

// certifyNote is certify with a note and the records for the row's detail (the weak
// model's traces).
func (e *Engine) certifyNote(s *State, on sc.Date, method sc.Method, ref Ref, period int, d sc.Date, note string, records []Ref, out Sink) bool {
	until := on.AddMonths(period)
	if until <= s.Until {
		return false
	}
	e.setUntil(s, until)
	s.LastCertified, s.LastMethod, s.LastEvidence = on, method, ref
	out.Decide(Decision{Day: d, Action: sc.ActCertified, Method: method, Evidence: ref, Until: until,
		CertifiedOn: on, DeathDate: sc.NoDate, Other: NoRef, BackPay: -1, Note: note, Records: records})
	return true
}

func (e *Engine) applyWeak(s *State, in *Input, t *sc.RecordType, d sc.Date, out Sink) {
	if s.DeathDate != sc.NoDate || s.conflict() != nil {
		out.Count(CountAfterDeath)
		return
	}
	if t.Spoofable {
		out.Count(CountWeakSpoofable)
		return
	}
	w := &e.weak
	if !w.Enabled {
		return
	}
	if w.MaxAgeDays > 0 && int(d-in.Event) > w.MaxAgeDays {
		out.Count(CountWeakTooOld)
		return
	}
	on, ref, ok := e.observeWeak(s, in)
	if !ok || (w.RenewWithinMonths > 0 && d < s.Until.AddMonths(-w.RenewWithinMonths)) {
		return
	}
	period := int(s.Period)
	if w.PeriodMonths > 0 && w.PeriodMonths < period {
		period = w.PeriodMonths
	}
	e.certify(s, on, sc.MethodWeak, ref, period, d, out)
	e.settle(s, d, in.Ref, out)
}

// maxTraces bounds the weak traces kept per person; MinDays can be at most this.
const maxTraces = 8

// observeWeak adds a trace and applies the baseline weak rule: within WindowDays ending
// at the latest trace, at least MinDays distinct days, MinTypes distinct types and
// MinWeight summed weight (one per type and day). It returns the certification date (the
// latest trace the rule used) and that trace's record.
func (e *Engine) observeWeak(s *State, in *Input) (sc.Date, Ref, bool) {
	w := &e.weak
	tr := Trace{Day: in.Event, Type: in.Type, Ref: in.Ref}
	// Keep traces sorted by (day, type); a second trace of the same day and type adds nothing.
	i := sort.Search(len(s.Weak), func(i int) bool {
		x := s.Weak[i]
		return x.Day > tr.Day || (x.Day == tr.Day && x.Type >= tr.Type)
	})
	if i < len(s.Weak) && s.Weak[i].Day == tr.Day && s.Weak[i].Type == tr.Type {
		return 0, NoRef, false
	}
	s.Weak = append(s.Weak, Trace{})
	copy(s.Weak[i+1:], s.Weak[i:])
	s.Weak[i] = tr
	// Forget what the window can no longer reach from the latest trace.
	latest := s.Weak[len(s.Weak)-1].Day
	cut := 0
	for cut < len(s.Weak) && int(latest-s.Weak[cut].Day) >= w.WindowDays {
		cut++
	}
	if len(s.Weak)-cut > maxTraces {
		cut = len(s.Weak) - maxTraces
	}
	if cut > 0 {
		s.Weak = append(s.Weak[:0], s.Weak[cut:]...)
	}
	days, weight := 0, 0.0
	var types [8]sc.TypeID
	ntypes := 0
	var prev sc.Date = sc.NoDate
	for _, x := range s.Weak {
		if x.Day != prev {
			days++
			prev = x.Day
		}
		weight += e.cat.Type(x.Type).Weight
		seen := false
		for _, t := range types[:min(ntypes, len(types))] {
			if t == x.Type {
				seen = true
				break
			}
		}
		if !seen {
			if ntypes < len(types) {
				types[ntypes] = x.Type
			}
			ntypes++
		}
	}
	if days < w.MinDays || ntypes < w.MinTypes || weight < w.MinWeight {
		return 0, NoRef, false
	}
	last := s.Weak[len(s.Weak)-1]
	return last.Day, last.Ref, true
}

func (e *Engine) applyResolve(s *State, in *Input, d sc.Date, out Sink) {
	c := s.conflict()
	if !s.DisputeNames(in.Target) {
		out.Count(CountResolveIgnored)
		return
	}
	rr := s.Rare
	switch in.Accept {
	case ResolveDeath:
		for _, l := range c.Losses {
			out.Count(CountAfterDeath) // as if they had come after the death was accepted
			rr.AfterDeath = insertLoss(rr.AfterDeath, l)
		}
		rr.Conflict = nil
		// The held months are not paid (but, with back_pay_voided_death, kept for a later
		// review that voids the death after all: holdTerminated).
		keep := rr.Held[:0]
		for _, h := range rr.Held {
			if h.Reason != sc.StatusConflict {
				keep = append(keep, h)
			} else if e.policy.BackPayVoidedDeath {
				rr.DeathUnpaid.Add(h.Month)
			}
		}
		rr.Held = keep
		e.settle(s, d, in.Ref, out)
	case ResolveAlive:
		// Void the death records dated before the evidence of life.
		alive := c.StrongDate
		if alive == sc.NoDate || (s.LastStrong != sc.NoDate && s.LastStrong > alive) {
			alive = s.LastStrong
		}
		keep := rr.Deaths[:0]
		for _, dr := range rr.Deaths {
			if alive == sc.NoDate || dr.Date >= alive {
				keep = append(keep, dr)
			}
		}
		rr.Deaths = keep
		s.DeathDate, s.DeathRef = sc.NoDate, NoRef
		for _, dr := range rr.Deaths {
			if s.DeathDate == sc.NoDate || dr.Date < s.DeathDate {
				s.DeathDate, s.DeathRef = dr.Date, dr.Ref
			}
		}
		rr.Conflict = nil
		// The LOSS and RESTORE records that came while the person was terminated (counted
		// then), then those that came during the dispute: they stand now that the death
		// they waited behind is void, whether or not a later death stands. A later death
		// only ends the months due at its month; a LOSS still limits those before (the
		// held months it covers are not released, and months paid that it covers are
		// overpaid as for a late LOSS). In date order, and on a day in arrival order.
		losses := append(slices.Clone(rr.AfterDeath), c.Losses...)
		rr.AfterDeath = nil
		slices.SortStableFunc(losses, func(a, b LossEvent) int { return cmp.Compare(a.Date, b.Date) })
		for _, l := range losses {
			if l.Restore && !s.lossOpen(l.Date) {
				out.Count(CountRestoreWithoutLoss) // kept all the same, as in applyLoss
			}
			s.addLossEvent(l)
		}
		if c.StrongDate != sc.NoDate && s.DeathDate == sc.NoDate {
			if s.LastStrong == sc.NoDate || c.StrongDate > s.LastStrong {
				s.LastStrong, s.LastStrongRef = c.StrongDate, c.Strong
			}
			e.certify(s, c.StrongDate, c.StrongMethod, c.Strong, int(s.Period), d, out)
		}
		n := e.releaseConflict(s, e.status(s, d))
		e.settleBack(s, d, in.Ref, n, out)
	default:
		out.Count(CountResolveIgnored)
	}
}

// releaseConflict settles the months held while a death was disputed, once accept=alive
// has ended the dispute with the person in status ns, and returns how many distinct months
// it made due now. A month a LOSS excludes (one reported during the dispute too) was not
// due: it stays held for the LOSS. The others are due now when ns is payable; else they
// wait, held as the status's own withholding, for the RESTORE or resumption that will
// pay and count them (a TERMINATED person, whose later death stands, is never paid
// them). Months held for a LOSS that a RESTORE reported during the dispute shows were due
// are released as the RESTORE would have released them. Back pay a death kept from being
// paid is due again, up to the month of a later death that stands.
func (e *Engine) releaseConflict(s *State, ns sc.Status) int {
	return s.Rare.makeDue(func(h *Held) bool {
		switch h.Reason {
		case sc.StatusConflict:
			switch {
			case s.lossExcludes(h.Month), ns == sc.StatusLoss:
				// Held for the LOSS now, with what the clock said at the payroll: a later
				// RESTORE dated before the month makes it back pay or a suspension's.
				h.Reason = sc.StatusLoss
				return false
			case ns == sc.StatusSuspended:
				h.Reason = sc.StatusSuspended
				return false
			case ns == sc.StatusTerminated && h.Month > s.DeathDate.Month():
				// After a later death that stands: held for it, and due if a review voids
				// it too. No row counts it now (the row of this review is TERMINATED).
				h.Reason = sc.StatusTerminated
				return false
			}
			return true
		case sc.StatusLoss:
			if s.lossExcludes(h.Month) {
				return false
			}
			if !h.ClockPayable {
				h.Reason = sc.StatusSuspended
				return false
			}
			if ns == sc.StatusSuspended {
				h.Reason = sc.StatusSuspended // paid and counted at the resumption
			}
			return ns.Payable()
		case sc.StatusTerminated:
			// Back pay due before a death kept it from being paid (releaseBackPay): due
			// again, whatever the status now, unless a death dated before its month still
			// stands. Counted already: the row of this review does not count it again.
			return s.DeathDate == sc.NoDate || h.Month <= s.DeathDate.Month()
		}
		return false
	})
}

// DisputeNames reports whether a review (RESOLVE) naming ref settles the person's open
// dispute: ref is one of the conflict's two records, the STRONG record waiting, or any
// applied DEATH record of the person. A review naming anything else — a record of a
// dispute settled before, a death an accept=alive voided — is ignored (resolve_ignored);
// the console refuses one before storing it (web's review form).
func (s *State) DisputeNames(ref Ref) bool {
	c := s.conflict()
	if c == nil || ref == NoRef {
		return false
	}
	if ref == c.Cause || ref == c.Other || ref == c.Strong {
		return true
	}
	for _, dr := range s.Rare.Deaths {
		if dr.Ref == ref {
			return true
		}
	}
	return false
}

// settle recomputes the status as of day d after a record (ref) or the clock (NoRef)
// and writes one row for a change.
func (e *Engine) settle(s *State, d sc.Date, ref Ref, out Sink) { e.settleBack(s, d, ref, -1, out) }

// settleBack is settle with the number of months a RESTORE or RESOLVE just made due as
// back pay (-1 when none was computed).
func (e *Engine) settleBack(s *State, d sc.Date, ref Ref, back int, out Sink) {
	old := s.Status
	ns := e.status(s, d)
	if ns == old {
		return
	}
	s.Status = ns
	dec := Decision{Day: d, Evidence: ref, Until: sc.NoDate, CertifiedOn: sc.NoDate, DeathDate: sc.NoDate, Other: NoRef, BackPay: -1}
	switch {
	case ns == sc.StatusTerminated:
		dec.Action, dec.DeathDate = sc.ActTerminated, s.DeathDate
		if ref == NoRef {
			dec.Evidence = s.DeathRef
		}
	case ns == sc.StatusConflict:
		c := s.conflict()
		dec.Action, dec.Evidence, dec.Other = sc.ActConflict, c.Cause, c.Other
	case ns == sc.StatusLoss:
		dec.Action = sc.ActLoss
	case old == sc.StatusLoss:
		dec.Action, dec.BackPay = sc.ActRestored, back
		if ns.Payable() {
			// The months a suspension withheld before the LOSS are due too, now that the
			// person is paid again (spec §6), and counted here, not at a later resumption.
			dec.BackPay = e.resume(s, back)
		}
	case (old == sc.StatusSuspended || old == sc.StatusConflict) && ns.Payable():
		dec.Action = sc.ActResumed
		dec.BackPay = e.resume(s, back)
	case ns == sc.StatusWarning:
		dec.Action, dec.Until = sc.ActWarning, s.Until
	case ns == sc.StatusPending:
		dec.Action = sc.ActPending
	case ns == sc.StatusSuspended:
		dec.Action = sc.ActSuspended
	default:
		// Back to CERTIFIED from WARNING or PENDING: only a certification does that,
		// and its CERTIFIED row is the row of this change.
		return
	}
	s.RowDay, s.RowStatus = d, ns
	out.Decide(dec)
}

// resume makes every month withheld by a suspension due as back pay and returns the number
// of distinct months now due for the first time (plus those a resolution already counted).
func (e *Engine) resume(s *State, already int) int {
	n := max(already, 0)
	if s.Rare == nil {
		return n
	}
	return n + s.Rare.makeDue(func(h *Held) bool {
		if h.Reason == sc.StatusSuspended && s.lossExcludes(h.Month) {
			h.Reason = sc.StatusLoss // a late LOSS shows the month was not due after all
		}
		return h.Reason == sc.StatusSuspended
	})
}

// Payroll runs the payroll for month m on its first day d, after that day's records and
// evaluation (spec §7 "Payroll"): each due entitlement of a payable person is paid; the
// others are withheld with their reason; back pay that is due is released.
func (e *Engine) Payroll(r *sc.Recipient, s *State, m sc.Month, out Sink) {
	st := s.Status
	excluded := s.lossExcludes(m)
	for i := range r.Entitlements {
		ent := &r.Entitlements[i]
		if !ent.Active(m) {
			continue
		}
		switch {
		case st.Payable() && !excluded:
			s.Ents[i].Regular.Add(m)
			out.Pay(Payment{Month: m, Ent: i, Amount: ent.Monthly, Kind: sc.PayRegular})
		case st == sc.StatusTerminated:
			if e.policy.BackPayVoidedDeath {
				// Not due while the death stands; owed if a review voids it (holdTerminated).
				s.rare().DeathUnpaid.Add(m)
			}
		case st == sc.StatusSuspended, st == sc.StatusConflict, st == sc.StatusLoss, st.Payable():
			reason := st
			if st.Payable() { // a LOSS dated on the 1st itself, applied later the same day
				reason = sc.StatusLoss
			}
			h := Held{Month: m, Ent: uint8(i), Reason: reason}
			if reason == sc.StatusLoss || reason == sc.StatusConflict {
				// A disputed month may turn out to be a LOSS's (releaseConflict).
				h.ClockPayable = e.clock(s, m.First()).Payable()
			}
			rr := s.rare()
			rr.Held = append(rr.Held, h)
			out.Withhold(Withholding{Month: m, Ent: i, Amount: ent.Monthly, Reason: reason})
		}
	}
	e.releaseBackPay(r, s, out)
}

// releaseBackPay pays the back pay due, at the first payroll on or after the resumption
// (or RESTORE, or review) that made it due, whatever the person's status then (spec §6:
// the months were due; a person suspended or in LOSS again since is still owed them).
// It waits while the person is in CONFLICT; months after the month of an accepted death
// are not paid while that death stands (they are held, TERMINATED, for a review that may
// void it), and months a LOSS covers go back to being held for it.
//
// Each month is paid at the roster's amount now, which is what was withheld for it while
// the roster does not change (backtest). A driver whose roster changes an amount pays the
// amount withheld instead (the service's sink, from the month's WITHHELD row): back pay
// is what was owed for the month, as for those paid on time, not today's amount.
func (e *Engine) releaseBackPay(r *sc.Recipient, s *State, out Sink) {
	if s.Rare == nil || len(s.Rare.Due) == 0 {
		return
	}
	st := s.Status
	if st == sc.StatusConflict {
		// Held while a death is disputed (spec §6): accept=alive releases it at the next
		// payroll, accept=death at the next payroll up to the month of death.
		return
	}
	rr := s.Rare
	due := rr.Due
	sort.Slice(due, func(i, j int) bool {
		if due[i].Month != due[j].Month {
			return due[i].Month < due[j].Month
		}
		return due[i].Ent < due[j].Ent
	})
	var held []Held
	for _, b := range due {
		if st == sc.StatusTerminated && b.Month > s.DeathDate.Month() {
			// A month dropped once (for a death a review voided since) is not counted again.
			if !b.Dropped {
				out.Count(CountBackPayDropped)
			}
			// Not paid while the death stands, but not forgotten: the month was due to a
			// living person (a resumption made it so), and a review that voids the death,
			// or leaves only one dated after the month, makes it due again
			// (releaseConflict). Counted already, by the row that made it due.
			if es := &s.Ents[b.Ent]; !es.Regular.Has(b.Month) && !es.Back.Has(b.Month) {
				held = append(held, Held{Month: b.Month, Ent: b.Ent, Reason: sc.StatusTerminated, Counted: true, Dropped: true})
			}
			continue
		}
		if s.lossExcludes(b.Month) { // a LOSS reported since shows the month was not due
			// Counted already, by the row that made it due: a RESTORE that shows it due
			// after all pays it without counting it again.
			held = append(held, Held{Month: b.Month, Ent: b.Ent, Reason: sc.StatusLoss, ClockPayable: true, Counted: true, Dropped: b.Dropped})
			continue
		}
		if !r.Entitlements[b.Ent].Active(b.Month) {
			// Not due after all: a roster import moved the entitlement's start or end
			// past a month held before (backtest's fixed roster never does). Counted
			// once: a month dropped for a death before (b.Dropped) is not counted again.
			if !b.Dropped {
				out.Count(CountBackPayDropped)
			}
			continue
		}
		es := &s.Ents[b.Ent]
		if es.Regular.Has(b.Month) || es.Back.Has(b.Month) {
			continue
		}
		es.Back.Add(b.Month)
		out.Pay(Payment{Month: b.Month, Ent: int(b.Ent), Amount: r.Entitlements[b.Ent].Monthly, Kind: sc.PayBack})
	}
	rr.Due = rr.Due[:0]
	rr.Held = append(rr.Held, held...)
}

// Overpayment is what was paid to one entitlement for months not due (spec §6, §7).
type Overpayment struct {
	Ent       int
	Months    int
	Amount    sc.Fen
	Offset    sc.Fen // recovered from the offset capacity (抵顶)
	ToRecover sc.Fen // left to recover (追回)
}

// Overpayments returns the person's overpayments, one per entitlement with at least one
// overpaid month, in entitlement order (the roster order the driver fixed, by benefit
// code). Months paid after the month of an accepted death are offset from the capacity;
// months a late LOSS covers have no offset, nor have months paid that the entitlement, as
// r has it now, does not cover (a roster import that moved its start_month later or its
// end_month earlier over months paid; backtest's fixed roster never does). Each month
// counts the roster's monthly amount (spec §7: backtest's roster is fixed); see
// OverpaymentsPaid.
func (e *Engine) Overpayments(r *sc.Recipient, s *State) []Overpayment {
	return e.OverpaymentsPaid(r, s, nil)
}

// OverpaymentsPaid is Overpayments counting each month what paid says was paid for it,
// when it knows (a running service whose roster changed an amount since the month was
// paid: what is recovered is what was paid); nil or unknown: the roster's amount.
func (e *Engine) OverpaymentsPaid(r *sc.Recipient, s *State, paid func(ent int, m sc.Month) (sc.Fen, bool)) []Overpayment {
	return overpayments(r, s, paid, s.DeathDate != sc.NoDate && s.conflict() == nil)
}

// OverpaymentsDisputed is OverpaymentsPaid for a person whose death is disputed (CONFLICT):
// what would be overpaid if the review accepts the death, so that money to recover keeps
// its figures while the review is pending (none are overpaid while it is, by §7's rule,
// and a family's repayment would otherwise read as due back to it). For anyone else it is
// OverpaymentsPaid.
func (e *Engine) OverpaymentsDisputed(r *sc.Recipient, s *State, paid func(ent int, m sc.Month) (sc.Fen, bool)) []Overpayment {
	return overpayments(r, s, paid, s.DeathDate != sc.NoDate)
}

// overpayments counts the months paid after the death (when dead), those a LOSS excludes
// and those outside the entitlement. A month after the death counts as the death's, with
// its offset, whatever else excludes it (as a LOSS's month does).
func overpayments(r *sc.Recipient, s *State, paid func(ent int, m sc.Month) (sc.Fen, bool), dead bool) []Overpayment {
	if !dead && s.Rare == nil && !paidOutside(r, s) {
		// No death and no LOSS: the common case, answered without going through every
		// month paid (a payroll day asks it of everyone).
		return nil
	}
	var out []Overpayment
	capLeft, _ := r.Capacity()
	deathMonth := sc.NoMonth
	if dead {
		deathMonth = s.DeathDate.Month()
	}
	for i := range s.Ents {
		var o Overpayment
		var deathAmt sc.Fen
		count := func(m sc.Month) {
			amount := r.Entitlements[i].Monthly
			if paid != nil {
				if a, ok := paid(i, m); ok {
					amount = a
				}
			}
			switch {
			case dead && m > deathMonth:
				o.Months++
				o.Amount += amount
				deathAmt += amount
			case s.lossExcludes(m), !r.Entitlements[i].Active(m):
				o.Months++
				o.Amount += amount
			}
		}
		s.Ents[i].Regular.Each(count)
		s.Ents[i].Back.Each(count)
		if o.Months == 0 {
			continue
		}
		o.Ent = i
		o.Offset = min(capLeft, deathAmt)
		capLeft -= o.Offset
		o.ToRecover = o.Amount - o.Offset
		out = append(out, o)
	}
	return out
}

// paidOutside reports whether a month was paid (regular or back pay) to one of r's
// entitlements that its start_month through end_month does not cover: the months paid
// are sorted runs, so only the first and the last can fall outside.
func paidOutside(r *sc.Recipient, s *State) bool {
	for i := range s.Ents {
		e := &r.Entitlements[i]
		for _, ms := range [...]Months{s.Ents[i].Regular, s.Ents[i].Back} {
			if n := len(ms); n > 0 && (ms[0].From < e.Start || (e.End != sc.NoMonth && ms[n-1].To > e.End)) {
				return true
			}
		}
	}
	return false
}
