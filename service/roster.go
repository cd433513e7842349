package service

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/engine"
	"github.com/silentcert/silentcert/exchange"
	"github.com/silentcert/silentcert/idcard"
	"github.com/silentcert/silentcert/linkage"
	"github.com/silentcert/silentcert/store"
)

// RosterResult is what a roster import did.
type RosterResult struct {
	BatchID        int64
	Added, Updated int
	Unchanged      int
	Roster         *exchange.Roster
	// EntitlementAdded is how many people already enrolled got an entitlement the roster
	// added (AddedEntitlements lists them, one per entitlement).
	EntitlementAdded int
	// EntitlementKept is how many people already enrolled hold an entitlement the roster
	// no longer names: kept as it was, not removed (KeptEntitlements lists them).
	EntitlementKept   int
	AddedEntitlements []EntitlementChange
	KeptEntitlements  []EntitlementChange
	// EntitlementMoved is how many people already enrolled had an entitlement's
	// start_month or end_month moved over months already run (MovedEntitlements lists
	// them, one per entitlement): months it covers now that no payroll paid, its arrears,
	// or months paid that it no longer covers, overpaid.
	EntitlementMoved  int
	MovedEntitlements []EntitlementChange
	// ArrearsMonths is the sum of the added and the moved entitlements' ArrearsMonths:
	// months this system did not pay, for the fund to settle.
	ArrearsMonths int
	// OverpaidMonths is the sum of the moved entitlements' OverpaidMonths: months paid
	// that the roster says were not due, on the recovery list from now on.
	OverpaidMonths int
	LinkedLate     int // stored records of a death, a loss or its end found to name a person enrolled now
	Absent         int // people enrolled before whom the roster does not name: kept as they were
}

// EntitlementChange is one entitlement of a person already enrolled that a roster import
// added, kept though the roster no longer names it, or moved over months already run.
// The months it names run from the first through the last: when the roster moved both
// ends of an entitlement, the months between that it covered before are not among them.
type EntitlementChange struct {
	PID      int64
	PersonID string
	Benefit  string
	// ArrearsFrom through ArrearsTo (NoMonth when none, ArrearsMonths months) are, for an
	// entitlement added, its months whose payroll ran with the person on it before the
	// import, and for one whose start_month moved earlier or end_month later, those of the
	// months it covers now and did not before: paid by no one here, and never back-paid
	// (see ImportRoster).
	ArrearsFrom, ArrearsTo sc.Month
	ArrearsMonths          int
	// OverpaidFrom through OverpaidTo (NoMonth when none, OverpaidMonths months) are, for
	// an entitlement whose start_month moved later or end_month earlier, the months paid
	// (regular or back pay) that it covered and covers no longer: overpaid, with no offset
	// (as a late LOSS's months, spec §6), at what was paid (Recoveries counts them).
	OverpaidFrom, OverpaidTo sc.Month
	OverpaidMonths           int
	// HeldMonths are the months, among those it covers now and did not before, whose
	// payroll withheld the person's other entitlements (a suspension, a disputed death, a
	// LOSS a RESTORE may yet show was due) or whose back pay is due: not owed then, so not
	// arrears, but held (or due) for it as for them, paid by the release that pays theirs.
	// With back_pay_voided_death on, so are the months whose payroll ran while the
	// person's death stood: paid, as theirs are, by a review that voids the death.
	HeldMonths int
	held       []engine.Held // Ent the entitlement's index in the roster's list
	due        []engine.Due
	unpaid     []sc.Month // for Rare.DeathUnpaid
}

// entitlementChange returns the change of p's benefit, naming no months yet.
func entitlementChange(pid int64, personID, benefit string) EntitlementChange {
	return EntitlementChange{PID: pid, PersonID: personID, Benefit: benefit,
		ArrearsFrom: sc.NoMonth, ArrearsTo: sc.NoMonth, OverpaidFrom: sc.NoMonth, OverpaidTo: sc.NoMonth}
}

// arrear counts month m among the change's arrears (months in ascending order).
func (c *EntitlementChange) arrear(m sc.Month) {
	if c.ArrearsMonths == 0 {
		c.ArrearsFrom = m
	}
	c.ArrearsTo = m
	c.ArrearsMonths++
}

// arrearsIn counts among the change's arrears the months of e (at index ent of the
// roster's list) whose payroll ran with p on it (span, when ran) that are due to p (not
// after a death that stands, nor under a LOSS) and that had says were not the
// entitlement's already (covered, paid or held). A month whose payroll withheld p's
// other entitlements, or whose back pay is due to them, is held or due for e as it is
// for them (HeldMonths), not arrears: a suspended person's added allowance was reported
// owed for the months their pension was withheld, and the resumption that paid the
// pension's did not pay it.
//
// A month after the month of p's death (standing or disputed) that no payroll paid,
// withheld or made due to any of p's entitlements is one whose payroll ran while the
// death stood (TERMINATED) or was disputed (CONFLICT): a payroll pays or withholds each
// entitlement due to a person in any other status, and of the months it withheld only
// those of a dispute that a review settled as a death are dropped. No more is needed (the
// state keeps no day the death was recorded on): such a month of e is what the engine
// made of the others' (engine.AfterDeath), no arrear. It is held for the dispute it ran
// in; with back_pay_voided_death on, owed as theirs are if a review voids the death (held
// for the dispute open now, or kept in Rare.DeathUnpaid, where holdTerminated finds it,
// for one to come); with the key off, lost as theirs are (spec §6), even if the death
// is voided. (Before, such months were arrears while the death was disputed, though the
// others were never paid them; and, with the key on and no other entitlement due that
// month to note it in DeathUnpaid, neither held nor kept: accept=alive did not pay them.)
// The limit: in a month after the death that no other entitlement of p covered, the
// payroll may have run before the death was recorded. The month is read the same way:
// right while the death stands (not due after it); if a review voids it, the month,
// which was an arrear, is paid (the key on) or lost (off). Months paid to the others
// after the death's month (it was recorded late) are not due while the death stands
// (NotDue), and arrears while it is disputed.
func (c *EntitlementChange) arrearsIn(eng *engine.Engine, p *Person, span store.MonthSpan, ran bool, e *sc.Entitlement, ent int, had func(sc.Month) bool) {
	st := &p.State
	for m := max(span.From, e.Start); ran && m <= span.To && e.Active(m); m++ {
		if had(m) {
			continue
		}
		// Before NotDue: a month held for a LOSS that a late RESTORE may yet show was due
		// is held for e too (not due now, and not lost if it was).
		if h, d, ok := withheldAt(st.Rare, m); ok {
			if d {
				c.due = append(c.due, engine.Due{Month: m, Ent: uint8(ent)})
			} else {
				h.Ent = uint8(ent)
				c.held = append(c.held, h)
			}
			c.HeldMonths++
			continue
		}
		if st.DeathDate != sc.NoDate && m > st.DeathDate.Month() && !paidAt(st, m) {
			switch h, held, unpaid := eng.AfterDeath(st, ent, m); {
			case held:
				c.held = append(c.held, h)
				c.HeldMonths++
			case unpaid:
				c.unpaid = append(c.unpaid, m)
				c.HeldMonths++
			}
			continue
		}
		if st.NotDue(m) {
			continue
		}
		c.arrear(m)
	}
}

// paidAt reports whether month m was paid (regular or back pay) to any of st's
// entitlements.
func paidAt(st *engine.State, m sc.Month) bool {
	for i := range st.Ents {
		if st.Ents[i].Regular.Has(m) || st.Ents[i].Back.Has(m) {
			return true
		}
	}
	return false
}

// withheldAt returns how month m of a person's entitlements is withheld (a held month of
// any of them, its reason and flags) or whether it is due as back pay (d), when it is
// either.
func withheldAt(rr *engine.Rare, m sc.Month) (h engine.Held, d bool, ok bool) {
	if rr == nil {
		return h, false, false
	}
	if slices.ContainsFunc(rr.Due, func(x engine.Due) bool { return x.Month == m }) {
		return h, true, true
	}
	if i := slices.IndexFunc(rr.Held, func(x engine.Held) bool { return x.Month == m }); i >= 0 {
		return rr.Held[i], false, true
	}
	return h, false, false
}

// holdIn puts the months the changes hold or make due for their entitlements in st, and
// those they keep unpaid for a death in its Rare.DeathUnpaid.
func holdIn(st *engine.State, changes []EntitlementChange) {
	for i := range changes {
		c := &changes[i]
		if len(c.held) == 0 && len(c.due) == 0 && len(c.unpaid) == 0 {
			continue
		}
		if st.Rare == nil {
			st.Rare = &engine.Rare{}
		}
		st.Rare.Held = append(st.Rare.Held, c.held...)
		st.Rare.Due = append(st.Rare.Due, c.due...)
		for _, m := range c.unpaid {
			st.Rare.DeathUnpaid.Add(m)
		}
	}
}

// overpaid counts month m among the change's months overpaid (in ascending order).
func (c *EntitlementChange) overpaid(m sc.Month) {
	if c.OverpaidMonths == 0 {
		c.OverpaidFrom = m
	}
	c.OverpaidTo = m
	c.OverpaidMonths++
}

// ImportRoster reads a roster file (spec §2) and enrols its people: new people are added
// with a fresh state (their first day's status row comes with the next daily run);
// people already known get their contact details, address and amounts updated, and the
// entitlements the roster adds to theirs (an ELDERLY_ALLOWANCE row quarantined in the
// import that enrolled them, put right in the next). An entitlement added is paid from the
// next payroll on: spec §6 and §7 have back pay only for months withheld by a suspension,
// a LOSS or a conflict, none for a roster that names an entitlement late, so the months of
// it whose payroll already ran with the person on it are not paid here but reported (its
// arrears, on the person's roster row and in the import's report) for the fund to settle.
// So are the months whose payroll ran that an entitlement covers now and did not before
// (its start_month moved earlier, its end_month later); the months paid that it no longer
// covers (start_month later, end_month earlier) are overpaid, to recover, and reported.
// An entitlement the roster no longer names is not removed (its months paid are the
// history that overpayments are counted from): it is kept as it was, and reported.
// Records of a death, a loss of eligibility or its end that arrived before a new person's
// enrolment, naming no one then, are applied to them (linkEnrolled). Each person added or
// changed has an audit row of their own (rosterTrail), in the import's transaction.
func (s *Service) ImportRoster(ctx context.Context, path, encoding, actor string) (*RosterResult, error) {
	return s.importRoster(ctx, path, encoding, actor, s.Today(), false)
}

// importRoster is ImportRoster reading a last_certified later than by as by, or, with
// keepLater, keeping it with a warning (a replay's by is its last day, and it keeps such
// a date, as backtest does).
func (s *Service) importRoster(ctx context.Context, path, encoding, actor string, by sc.Date, keepLater bool) (*RosterResult, error) {
	ro, err := s.readRoster(path, encoding, by, keepLater)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	res := &RosterResult{Roster: ro}
	tx, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	// What the import did, person by person counted, and the file it read by its hash: an
	// auditor holding the file can tell it is the one imported.
	rep := func() string {
		b, _ := json.Marshal(map[string]any{"rows": ro.Rows, "recipients": len(ro.Recipients), "quarantined": len(ro.Problems),
			"warnings": exchange.ListWarnings(ro.Warnings), "warnings_total": len(ro.Warnings), "encoding": ro.Encoding, "linked_late": res.LinkedLate,
			"added": res.Added, "updated": res.Updated, "unchanged": res.Unchanged, "entitlements_added": res.EntitlementAdded,
			"entitlements_kept": res.EntitlementKept, "entitlements_moved": res.EntitlementMoved, "arrears_months": res.ArrearsMonths,
			"overpaid_months": res.OverpaidMonths, "absent": res.Absent, "sha256": ro.SHA256})
		return string(b)
	}
	b := &store.Batch{Origin: "roster", Actor: actor, Received: s.wallTime(), Day: s.Today(), Status: "applied", Files: path, Report: rep()}
	if _, err := tx.NewBatch(b); err != nil {
		return nil, err
	}
	res.BatchID = b.ID
	if err := tx.Quarantine(b.ID, problemsToStore(ro.Problems)); err != nil {
		return nil, err
	}
	var added []*Person
	var changed []*store.Person
	states := map[int64]engine.State{} // the new states of people the import changes (own, below)
	spans, err := s.payrollSpans(tx, ro)
	if err != nil {
		return nil, err
	}
	trail := rosterTrail{tx: tx, row: store.AuditRow{Kind: "roster", Day: s.Today(), At: s.wallTime(), Actor: actor,
		Evidence: "batch:" + itoa(b.ID)}}
	for _, rec := range ro.Recipients {
		r := *rec
		r.Entitlements = slices.Clone(rec.Entitlements)
		// Entitlements in benefit_type order: the order of payroll and overpayment rows.
		slices.SortStableFunc(r.Entitlements, func(a, b sc.Entitlement) int { return bytes.Compare([]byte(a.Benefit), []byte(b.Benefit)) })
		if pid, ok := s.byID[r.PersonID]; ok {
			p := s.ppl[pid]
			var ents entitlementsMerged
			r.Entitlements, ents = mergeEntitlements(p.Rec.Entitlements, r.Entitlements)
			for _, b := range ents.kept {
				res.KeptEntitlements = append(res.KeptEntitlements, entitlementChange(pid, r.PersonID, b))
			}
			if len(ents.kept) > 0 {
				res.EntitlementKept++
			}
			rosterRegion := r.RegionCode
			r.RegionCode = p.Rec.RegionCode // moves recorded since the roster was written stand
			if _, ok := ro.Later[r.PersonID]; ok {
				// A last_certified after the import day is read as that day for enrolment
				// alone (where it counts): the next day's import of the same roster reads
				// another day, and would log a change each time.
				r.LastCertified = p.Rec.LastCertified
			}
			// Equal only when the roster adds nothing (an entitlement added makes them differ).
			if recipientEqual(p.Rec, &r) && rosterRegion == p.RosterRegion {
				res.Unchanged++
				if len(ents.kept) > 0 {
					if err := trail.changed(p, &r, rosterRegion, p.State.Period, ents, nil); err != nil {
						return nil, err
					}
				}
				continue
			}
			res.Updated++
			np := *p
			np.Rec = &r
			np.RosterRegion = rosterRegion
			var arrears []EntitlementChange
			// own gives np a copy of the state to change, once: the person's own stays as
			// it was should the import fail.
			owned := false
			own := func() *engine.State {
				if !owned {
					np.State, owned = cloneState(&p.State), true
				}
				return &np.State
			}
			// P follows the amounts and capacities (spec §6 derives it from them): a changed
			// one rules the certifications from now on; the until already earned stands.
			period := uint8(s.eng.Period(&r))
			if period != p.State.Period {
				own().Period = period
			}
			if len(ents.added) > 0 {
				res.EntitlementAdded++
				arrears = arrearsOf(s.eng, p, &r, ents.added, spans)
				for _, a := range arrears {
					res.ArrearsMonths += a.ArrearsMonths
				}
				res.AddedEntitlements = append(res.AddedEntitlements, arrears...)
				st := own()
				for _, i := range ents.added { // ascending: each index is its final one
					st.InsertEnt(i)
				}
			}
			if moved := movedOf(s.eng, p, &r, ents.added, spans); len(moved) > 0 {
				res.EntitlementMoved++
				for _, m := range moved {
					res.ArrearsMonths += m.ArrearsMonths
					res.OverpaidMonths += m.OverpaidMonths
				}
				res.MovedEntitlements = append(res.MovedEntitlements, moved...)
				arrears = append(arrears, moved...)
			}
			if slices.ContainsFunc(arrears, func(c EntitlementChange) bool { return c.HeldMonths > 0 }) {
				holdIn(own(), arrears)
			}
			if owned {
				states[pid] = np.State
			}
			if err := trail.changed(p, &r, rosterRegion, period, ents, arrears); err != nil {
				return nil, err
			}
			sp, err := s.toStore(&np)
			if err != nil {
				return nil, err
			}
			changed = append(changed, sp)
			continue
		}
		p := &Person{PID: int64(len(s.ppl) + len(added)), Rec: &r, NextCheck: sc.NoDate, Health: -1, RosterRegion: r.RegionCode}
		p.State = s.eng.EnrolWith(p.Rec, make([]engine.EntState, len(r.Entitlements)))
		if err := trail.added(p); err != nil {
			return nil, err
		}
		added = append(added, p)
		res.Added++
	}
	// An import removes no one: the people it does not name are kept as they were, and
	// counted, so that a partial roster shows as one.
	res.Absent = len(s.ppl) - res.Updated - res.Unchanged
	if err := trail.flush(); err != nil {
		return nil, err
	}
	if res.LinkedLate, err = s.linkEnrolled(tx, added, s.Today()); err != nil {
		return nil, err
	}
	for _, p := range added {
		sp, err := s.toStore(p)
		if err != nil {
			return nil, err
		}
		changed = append(changed, sp)
	}
	for i := 0; i < len(changed); i += 512 {
		if err := tx.PutPeople(changed[i:min(i+512, len(changed))]); err != nil {
			return nil, err
		}
	}
	if err := tx.FinishBatch(b.ID, "applied", rep()); err != nil {
		return nil, err
	}
	if err := tx.Append([]store.AuditRow{{Kind: "roster", Day: s.Today(), At: s.wallTime(), Actor: actor, PID: -1,
		Action: "import", Evidence: path, Detail: rep()}}); err != nil {
		return nil, err
	}
	if err := s.commit(tx); err != nil {
		return nil, err
	}
	for _, sp := range changed {
		if pid, ok := s.byID[sp.Rec.PersonID]; ok {
			rec := sp.Rec
			s.ppl[pid].Rec = &rec
			s.ppl[pid].RosterRegion = sp.RosterRegion
			if st, ok := states[pid]; ok {
				s.ppl[pid].State = st
			}
		}
	}
	for _, p := range added {
		s.ppl = append(s.ppl, p)
		s.byID[p.Rec.PersonID] = p.PID
	}
	s.reindex()
	s.publish(func(yield func(int64) bool) {
		for _, sp := range changed {
			if !yield(sp.PID) {
				return
			}
		}
	})
	return res, nil
}

// rosterTrail writes the audit rows of a roster import, one per person it adds or changes
// (kind roster, action add, update, or entitlements_kept when the roster's only change is
// a set of entitlements not applied), naming the person and what changed, old → new: an
// amount tripled or an agent's phone put on the roster (a phone that gets sign-in links)
// is there on the person's page and in the trail, by whom and from which import. Rows go
// to the store a few thousand at a time: a city's first import writes one per person.
type rosterTrail struct {
	tx   *store.Tx
	row  store.AuditRow // what every row of the import shares
	rows []store.AuditRow
	b    []byte
}

// rosterTrailChunk is how many rows the trail holds before writing them.
const rosterTrailChunk = 4096

// added writes the row of a person the import enrols: what they are paid and how they
// are reached. The address is left out (a later change of it shows it, old → new).
func (t *rosterTrail) added(p *Person) error {
	r := p.Rec
	b := t.b[:0]
	b = appendPair(b, "name", store.DetailValue(r.Name))
	b = appendPair(b, "region_code", p.RosterRegion)
	b = appendPair(b, "phone", idcard.MaskPhone(r.Phone))
	b = appendPair(b, "agent_phone", idcard.MaskPhone(r.AgentPhone))
	b = appendPair(b, "last_certified", r.LastCertified.String())
	for i := range r.Entitlements {
		e := &r.Entitlements[i]
		b = appendPair(b, e.Benefit+".monthly_amount", e.Monthly.String())
		b = appendPair(b, e.Benefit+".start_month", e.Start.String())
		b = appendPair(b, e.Benefit+".end_month", e.End.String())
		if e.CapacityKnown {
			b = appendPair(b, e.Benefit+".offset_capacity", e.Capacity.String())
		}
	}
	return t.write(p, "add", b)
}

// changed writes the row of a person already enrolled whom the roster changes: each field
// that differs, old→new (an empty side: none), and the service period P the new amounts
// give (period_months) when it moved. ents says which of r's entitlements the
// roster added (benefit_type=old→new, then their fields →new) and which it no longer
// names (kept, not removed: entitlements_kept names them; action entitlements_kept when
// nothing else changed, nothing applied). months are the entitlements added, then those
// moved, with the months already run that the import leaves unpaid (arrears) or overpaid.
func (t *rosterTrail) changed(p *Person, r *sc.Recipient, rosterRegion string, period uint8, ents entitlementsMerged, months []EntitlementChange) error {
	o := p.Rec
	b := t.b[:0]
	b = appendChange(b, "name", store.DetailValue(o.Name), store.DetailValue(r.Name))
	b = appendChange(b, "sex", strconv.Itoa(o.Sex), strconv.Itoa(r.Sex))
	b = appendChange(b, "birth_date", o.BirthDate.String(), r.BirthDate.String())
	b = appendChange(b, "hukou_address", store.DetailValue(o.HukouAddress), store.DetailValue(r.HukouAddress))
	b = appendChange(b, "region_code", p.RosterRegion, rosterRegion)
	if o.Phone != r.Phone {
		b = appendArrow(b, "phone", idcard.MaskPhone(o.Phone), idcard.MaskPhone(r.Phone))
	}
	if o.AgentPhone != r.AgentPhone {
		b = appendArrow(b, "agent_phone", idcard.MaskPhone(o.AgentPhone), idcard.MaskPhone(r.AgentPhone))
	}
	b = appendChange(b, "last_certified", o.LastCertified.String(), r.LastCertified.String())
	b = appendChange(b, "name_conflicts", strconv.Itoa(o.NameConflicts), strconv.Itoa(r.NameConflicts))
	codes := func(es []sc.Entitlement) string {
		s := make([]string, len(es))
		for i := range es {
			s[i] = es[i].Benefit
		}
		return strings.Join(s, "|")
	}
	b = appendChange(b, "benefit_type", codes(o.Entitlements), codes(r.Entitlements))
	j := 0 // o's entitlement matching r's i-th, when it is not one added
	for i := range r.Entitlements {
		ne := &r.Entitlements[i]
		oe, amount := sc.Entitlement{Start: sc.NoMonth, End: sc.NoMonth}, "" // an entitlement added: none before
		if !slices.Contains(ents.added, i) {
			oe = o.Entitlements[j]
			amount = oe.Monthly.String()
			j++
		}
		b = appendChange(b, ne.Benefit+".monthly_amount", amount, ne.Monthly.String())
		b = appendChange(b, ne.Benefit+".start_month", oe.Start.String(), ne.Start.String())
		b = appendChange(b, ne.Benefit+".end_month", oe.End.String(), ne.End.String())
		b = appendChange(b, ne.Benefit+".offset_capacity", capacityText(&oe), capacityText(ne))
	}
	b = appendChange(b, "period_months", strconv.Itoa(int(p.State.Period)), strconv.Itoa(int(period)))
	for _, a := range months {
		if a.ArrearsMonths > 0 {
			b = appendPair(b, a.Benefit+".arrears_months", strconv.Itoa(a.ArrearsMonths))
			b = appendPair(b, a.Benefit+".arrears", a.ArrearsFrom.String()+".."+a.ArrearsTo.String())
		}
		if a.HeldMonths > 0 {
			b = appendPair(b, a.Benefit+".held_months", strconv.Itoa(a.HeldMonths))
		}
		if a.OverpaidMonths > 0 {
			b = appendPair(b, a.Benefit+".overpaid_months", strconv.Itoa(a.OverpaidMonths))
			b = appendPair(b, a.Benefit+".overpaid", a.OverpaidFrom.String()+".."+a.OverpaidTo.String())
		}
	}
	action := "update"
	if len(ents.kept) > 0 {
		b = appendPair(b, "entitlements_kept", strings.Join(ents.kept, "|"))
		if recipientEqual(o, r) && rosterRegion == p.RosterRegion {
			action = "entitlements_kept" // nothing else changed, nothing applied
		}
	}
	return t.write(p, action, b)
}

func capacityText(e *sc.Entitlement) string {
	if !e.CapacityKnown {
		return ""
	}
	return e.Capacity.String()
}

// write queues the person's row, its detail b, and writes the queue once it is full.
func (t *rosterTrail) write(p *Person, action string, b []byte) error {
	t.b = b
	row := t.row
	row.PID, row.PersonID, row.Action, row.Detail = p.PID, p.Rec.PersonID, action, string(b)
	row.Region = p.Rec.RegionCode // a roster moves no one (moves recorded stand)
	t.rows = append(t.rows, row)
	if len(t.rows) < rosterTrailChunk {
		return nil
	}
	return t.flush()
}

// flush writes the rows queued.
func (t *rosterTrail) flush() error {
	err := t.tx.Append(t.rows)
	t.rows = t.rows[:0]
	return err
}

// appendPair appends key=v to a detail, nothing when v is empty.
func appendPair(b []byte, key, v string) []byte {
	if v == "" {
		return b
	}
	if len(b) > 0 {
		b = append(b, ';')
	}
	b = append(b, key...)
	b = append(b, '=')
	return append(b, v...)
}

// appendChange appends key=old→new to a detail when they differ.
func appendChange(b []byte, key, old, new string) []byte {
	if old == new {
		return b
	}
	return appendArrow(b, key, old, new)
}

func appendArrow(b []byte, key, old, new string) []byte {
	if len(b) > 0 {
		b = append(b, ';')
	}
	b = append(b, key...)
	b = append(b, '=')
	b = append(b, old...)
	b = append(b, "→"...)
	return append(b, new...)
}

// entitlementsMerged says how an enrolled person's entitlements and a roster's differ.
type entitlementsMerged struct {
	added []int    // the indexes, in the merged list, of the entitlements the roster adds, ascending
	kept  []string // the benefits the person holds that the roster no longer names
}

// mergeEntitlements returns the entitlements an enrolled person holds after a roster that
// gives them ros (both lists in benefit_type order, as the result is): the roster's, and
// those it no longer names, kept as they were.
func mergeEntitlements(old, ros []sc.Entitlement) ([]sc.Entitlement, entitlementsMerged) {
	var m entitlementsMerged
	out := make([]sc.Entitlement, 0, max(len(old), len(ros)))
	i, j := 0, 0
	for i < len(old) || j < len(ros) {
		c := 0
		switch {
		case i == len(old):
			c = 1
		case j == len(ros):
			c = -1
		default:
			c = bytes.Compare([]byte(old[i].Benefit), []byte(ros[j].Benefit))
		}
		switch {
		case c < 0:
			m.kept = append(m.kept, old[i].Benefit)
			out = append(out, old[i])
			i++
		case c > 0:
			m.added = append(m.added, len(out))
			out = append(out, ros[j])
			j++
		default:
			out = append(out, ros[j])
			i++
			j++
		}
	}
	return out, m
}

// payrollSpans returns the payroll months that ran with each person on them for the
// people already enrolled whom ro gives months of an entitlement they lacked (one added,
// or moved to cover more): from the first payroll that paid or withheld them something
// (store.Tx.PayrollSpans) through the last payroll run, paying them something or not (an
// import removes no one: every payroll after their first ran with them on the roll). One
// query for a roster that gives thousands an allowance new to them. Both are read in the
// import's transaction, tx: the arrears and overpaid months it writes are decided from
// the payrolls it sees, not from a read beside it.
func (s *Service) payrollSpans(tx *store.Tx, ro *exchange.Roster) (map[int64]store.MonthSpan, error) {
	var pids []int64
	for _, r := range ro.Recipients {
		pid, ok := s.byID[r.PersonID]
		if !ok {
			continue
		}
		old := s.ppl[pid].Rec.Entitlements
		for i := range r.Entitlements {
			if coversMore(old, &r.Entitlements[i]) {
				pids = append(pids, pid)
				break
			}
		}
	}
	if len(pids) == 0 {
		return nil, nil
	}
	spans, err := tx.PayrollSpans(pids)
	if err != nil {
		return nil, err
	}
	last, err := tx.LastPayroll()
	if err != nil {
		return nil, err
	}
	for pid, sp := range spans {
		sp.To = max(sp.To, last)
		spans[pid] = sp
	}
	return spans, nil
}

// coversMore reports whether e covers a month that the entitlement of its benefit in old
// did not: old has none, or e starts earlier or ends later.
func coversMore(old []sc.Entitlement, e *sc.Entitlement) bool {
	i := slices.IndexFunc(old, func(o sc.Entitlement) bool { return o.Benefit == e.Benefit })
	if i < 0 {
		return true
	}
	o := &old[i]
	return e.Start < o.Start || (o.End != sc.NoMonth && (e.End == sc.NoMonth || e.End > o.End))
}

// arrearsOf returns, for each entitlement at the indexes added of r (p with the
// entitlements a roster adds), the months of it whose payroll ran with p on it before now
// (spans, payrollSpans: from the first payroll that paid or withheld p something, back
// pay alone included, through the last run), within the entitlement's start_month and
// end_month, but for the months a LOSS excludes (not due whatever the entitlement) and
// those after the month of p's death that no payroll paid p (arrearsIn: the months of a
// death that stands are walked too, held or kept for the others, they are for e). A
// payroll before p's first, while none of p's entitlements had started, is not seen.
func arrearsOf(eng *engine.Engine, p *Person, r *sc.Recipient, added []int, spans map[int64]store.MonthSpan) []EntitlementChange {
	span, ok := spans[p.PID]
	out := make([]EntitlementChange, len(added))
	for k, i := range added {
		e := &r.Entitlements[i]
		c := entitlementChange(p.PID, r.PersonID, e.Benefit)
		c.arrearsIn(eng, p, span, ok, e, i, func(sc.Month) bool { return false })
		out[k] = c
	}
	return out
}

// movedOf returns, for each entitlement of r (p with the entitlements a roster gives) that
// p held before (not one at the indexes added) and whose start_month or end_month the
// roster moved, what the move did to the months already run, when it did something: the
// months it covers now and did not, whose payroll ran with p on it (spans, as an added
// entitlement's arrears) and that were neither paid nor held for p nor excluded by a LOSS,
// are its arrears; the months paid that it covered and covers no longer are overpaid (the
// engine counts them in its overpayments from now on), unless a death or a LOSS made them
// overpaid already.
func movedOf(eng *engine.Engine, p *Person, r *sc.Recipient, added []int, spans map[int64]store.MonthSpan) []EntitlementChange {
	span, ran := spans[p.PID]
	var out []EntitlementChange
	j := -1 // the index in p's entitlements and state of r's i-th
	for i := range r.Entitlements {
		if slices.Contains(added, i) {
			continue
		}
		j++
		oe, ne := &p.Rec.Entitlements[j], &r.Entitlements[i]
		if oe.Start == ne.Start && oe.End == ne.End {
			continue
		}
		c := entitlementChange(p.PID, r.PersonID, ne.Benefit)
		es := &p.State.Ents[j]
		c.arrearsIn(eng, p, span, ran, ne, i, func(m sc.Month) bool {
			// Held or due: a month it covered before, then not, then again (the next
			// release pays it).
			return oe.Active(m) || es.Regular.Has(m) || es.Back.Has(m) || p.State.Rare.Holds(j, m)
		})
		for _, m := range paidMonths(es) {
			if oe.Active(m) && !ne.Active(m) && !p.State.NotDue(m) { // not overpaid for a death or LOSS already
				c.overpaid(m)
			}
		}
		if c.ArrearsMonths > 0 || c.OverpaidMonths > 0 || c.HeldMonths > 0 {
			out = append(out, c)
		}
	}
	return out
}

// paidMonths returns the months paid to an entitlement, regular or back pay, ascending.
func paidMonths(es *engine.EntState) []sc.Month {
	var ms []sc.Month
	add := func(m sc.Month) { ms = append(ms, m) }
	es.Regular.Each(add)
	es.Back.Each(add)
	slices.Sort(ms)
	return ms
}

func recipientEqual(a, b *sc.Recipient) bool {
	if a.PersonID != b.PersonID || a.Name != b.Name || a.Sex != b.Sex || a.BirthDate != b.BirthDate ||
		a.HukouAddress != b.HukouAddress || a.RegionCode != b.RegionCode || a.Phone != b.Phone ||
		a.AgentPhone != b.AgentPhone || a.LastCertified != b.LastCertified || a.NameConflicts != b.NameConflicts {
		return false
	}
	return slices.Equal(a.Entitlements, b.Entitlements)
}

func problemsToStore(ps []exchange.Problem) []store.Quarantined {
	out := make([]store.Quarantined, len(ps))
	for i, p := range ps {
		out[i] = store.Quarantined{File: p.File, Line: p.Line, Field: p.Field, Reason: p.Reason, Message: p.Message}
	}
	return out
}

func problemsFromStore(qs []store.Quarantined) []exchange.Problem {
	out := make([]exchange.Problem, len(qs))
	for i, q := range qs {
		out[i] = exchange.Problem{File: q.File, Line: q.Line, Field: q.Field, Reason: q.Reason, Message: q.Message}
	}
	return out
}

// readRoster reads a roster file with the service's configuration and address resolver:
// what ImportRoster imports, and a resumed replay reports.
func (s *Service) readRoster(path, encoding string, by sc.Date, keepLater bool) (*exchange.Roster, error) {
	return exchange.ReadRoster(path, exchange.RosterOptions{Encoding: encoding, Config: s.cfg, ResolveRegion: s.opt.ResolveRegion, CertifiedBy: by, KeepLater: keepLater})
}

// linkEnrolled applies to people a roster import enrols the stored records of a death, a
// loss of eligibility or its end that named no one on the roster when they arrived: a death
// the police reported before the pension system enrolled the person stops them on their
// first day, as backtest (which links against the whole roster) stops them, instead of
// paying them until their service period runs out. Other classes wait for the person's
// own records from now on: the roster's last_certified stands for what came before. The
// records are linked as a batch would link them now, against everyone (a name and birth
// date shared with someone enrolled before stays unlinked, ambiguous), and applied on day
// in spec §7's order; one whose name disagrees is held for review as on arrival.
func (s *Service) linkEnrolled(tx *store.Tx, added []*Person, day sc.Date) (int, error) {
	if len(added) == 0 {
		return 0, nil
	}
	var types []string
	for _, t := range s.cat.Types() {
		if t.Class == sc.ClassDeath || t.Class == sc.ClassLoss || t.Class == sc.ClassRestore {
			types = append(types, t.Code)
		}
	}
	ids := make([]string, len(added))
	for i, p := range added {
		ids[i] = p.Rec.PersonID
	}
	recs, err := tx.UnlinkedRecords(types, ids)
	if err != nil || len(recs) == 0 {
		return 0, err
	}
	ix, ixOf := indexOf(append(slices.Clip(s.ppl), added...))
	first := int64(len(s.ppl))
	var late []store.Record
	var scratch linkage.Scratch
	for _, r := range recs {
		pos, out := ix.Link([]byte(r.PersonID), []byte(r.Name), r.BirthDate, []byte(r.RegionCode), &scratch)
		if (out != linkage.Linked && out != linkage.HeldName) || ixOf[pos] < first {
			continue
		}
		r.PID, r.Held, r.Link = ixOf[pos], out == linkage.HeldName, 0
		late = append(late, r)
	}
	if len(late) == 0 {
		return 0, nil
	}
	if err := tx.LinkLate(late); err != nil {
		return 0, err
	}
	slices.SortStableFunc(late, func(a, b store.Record) int {
		return cmp.Or(cmp.Compare(a.PID, b.PID), cmp.Compare(a.ReportedDate, b.ReportedDate), cmp.Compare(a.EventDate, b.EventDate),
			strings.Compare(a.Source, b.Source), strings.Compare(a.RecordID, b.RecordID), cmp.Compare(a.ID, b.ID))
	})
	k := newSink()
	keys := map[int64]string{}
	for _, r := range late {
		if r.Held {
			continue
		}
		typ, ok := s.cat.Lookup(r.Type)
		if !ok {
			continue // a type the catalogue no longer knows
		}
		p := added[r.PID-first]
		in := engine.Input{Type: typ, Event: r.EventDate, Ref: engine.Ref(r.ID), Target: engine.NoRef}
		if s.opt.Model != nil {
			in.Place = sc.PlaceOf(r.RegionCode)
		}
		k.p = p
		s.eng.Apply(p.Rec, &p.State, &in, day, k)
		p.NextCheck = day
		markBaselined(p, day)
		keys[r.ID] = r.Source + ":" + r.RecordID
	}
	if _, err := k.flush(tx, keys, "engine", s.hook(tx)); err != nil {
		return 0, err
	}
	return len(late), nil
}
