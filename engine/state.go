package engine

import (
	"slices"
	"sort"

	sc "github.com/silentcert/silentcert"
)

// MonthRange is a run of consecutive months, From through To.
type MonthRange struct{ From, To sc.Month }

// Months is a set of months kept as sorted, disjoint, non-adjacent ranges: a person's
// payments are almost always one run with a few gaps, so this stays a few words long.
type Months []MonthRange

// Has reports whether m is in the set.
func (ms Months) Has(m sc.Month) bool {
	i := sort.Search(len(ms), func(i int) bool { return ms[i].To >= m })
	return i < len(ms) && ms[i].From <= m
}

// Add puts m in the set.
func (ms *Months) Add(m sc.Month) {
	s := *ms
	if n := len(s); n > 0 && s[n-1].To+1 == m { // the common case: the next month
		s[n-1].To = m
		return
	}
	i := sort.Search(len(s), func(i int) bool { return s[i].To >= m-1 })
	switch {
	case i < len(s) && s[i].From <= m && m <= s[i].To:
		return
	case i < len(s) && s[i].To == m-1:
		s[i].To = m
		if i+1 < len(s) && s[i+1].From == m+1 {
			s[i].To = s[i+1].To
			s = append(s[:i+1], s[i+2:]...)
		}
	case i < len(s) && s[i].From == m+1:
		s[i].From = m
	default:
		s = append(s, MonthRange{})
		copy(s[i+1:], s[i:])
		s[i] = MonthRange{m, m}
	}
	*ms = s
}

// Each calls f for every month in ascending order.
func (ms Months) Each(f func(m sc.Month)) {
	for _, r := range ms {
		for m := r.From; m <= r.To; m++ {
			f(m)
		}
	}
}

// Count returns how many months are in the set.
func (ms Months) Count() int {
	n := 0
	for _, r := range ms {
		n += int(r.To-r.From) + 1
	}
	return n
}

// EntState is what the engine keeps per entitlement: the months released, by kind.
type EntState struct {
	Regular Months // months paid at their own payroll
	Back    Months // months paid later as back pay (补发)
}

// Trace is one non-spoofable weak trace kept for the weak-evidence rule.
type Trace struct {
	Day  sc.Date
	Type sc.TypeID
	Ref  Ref
}

// DeathRecord is an applied DEATH record.
type DeathRecord struct {
	Date sc.Date
	Ref  Ref
}

// LossEvent is an applied LOSS (Restore false) or RESTORE record.
type LossEvent struct {
	Date    sc.Date
	Restore bool
	Ref     Ref
}

// Held is a regular payment withheld at payroll that may become back pay, or back pay a
// death keeps from being paid.
type Held struct {
	Month sc.Month
	Ent   uint8
	// Reason is SUSPENDED, CONFLICT or LOSS for a month withheld at its payroll, and
	// TERMINATED for a month of back pay that was due but that a death dated before it
	// kept from being paid: it is due again if a review voids that death (accept=alive),
	// and never paid while the death stands.
	Reason sc.Status
	// ClockPayable records, for a LOSS or CONFLICT withholding, whether the clock alone
	// would have paid the month: a late RESTORE then makes it back pay, otherwise a
	// suspension's.
	ClockPayable bool
	// Counted is set for a month that was made due, counted in that row's
	// back_pay_months, and put back to be held for a LOSS reported before it was paid: a
	// RESTORE or resumption that makes it due again does not count it a second time.
	Counted bool `json:",omitempty"`
	// Dropped is set for a month of back pay that a payroll did not pay and counted in
	// CountBackPayDropped (a month after a death that stands, held TERMINATED): made due
	// again (a review that voids the death) and not paid again (a later death, a roster
	// import that moved the entitlement off it), it is not counted a second time.
	Dropped bool `json:",omitempty"`
}

// Due is a month of back pay due at the next payroll.
type Due struct {
	Month sc.Month
	Ent   uint8
	// Dropped: counted in CountBackPayDropped already (Held.Dropped).
	Dropped bool `json:",omitempty"`
}

// Conflict is contradictory evidence held for review (spec §6).
type Conflict struct {
	Cause, Other Ref // the record that caused the conflict and the other one
	// Strong is the latest STRONG record dated after the death date, waiting for the review;
	// StrongDate is NoDate when there is none (the conflict came from a DEATH record).
	Strong       Ref
	StrongDate   sc.Date
	StrongMethod sc.Method
	// Losses are the LOSS and RESTORE records that came while the death was disputed, in
	// date order: applied if the review finds the person alive, dropped (as after any
	// death) if it finds them dead.
	Losses []LossEvent
}

// Rare holds what few people ever have: deaths, losses, conflicts, withheld months.
type Rare struct {
	Deaths   []DeathRecord
	Losses   []LossEvent // sorted by date, LOSS before RESTORE on the same day
	Conflict *Conflict
	Held     []Held
	Due      []Due
	// AfterDeath are the LOSS and RESTORE records that came while the person was
	// TERMINATED, in date order: they change nothing while the death stands, and are
	// applied if a review (accept=alive) voids it.
	AfterDeath []LossEvent `json:",omitempty"`
	// DeathUnpaid, kept only with the policy's back_pay_voided_death on, are the months a
	// death that stands kept unpaid: those whose payroll ran while the person was
	// TERMINATED, and those held in a dispute that a review settled as a death. A conflict
	// over the death holds them for its review (Engine.holdTerminated).
	DeathUnpaid Months `json:",omitempty"`
}

// State is one person's certification state. Its zero value is not ready: Enrol fills it.
// It holds only values and slices of values, so a store can serialise it whole.
type State struct {
	Status     sc.Status
	Period     uint8 // P, months
	LastMethod sc.Method
	RowStatus  sc.Status // the status of the last status row written (see Baseline)
	Until      sc.Date   // certified through this day
	// WarnFrom and SuspendFrom are derived from Until and the policy (see Engine.Derive):
	// the first day of WARNING and of SUSPENDED, kept so the daily clock is two compares.
	WarnFrom, SuspendFrom sc.Date
	LastCertified         sc.Date // the certification date behind Until
	LastEvidence          Ref     // the record behind Until (NoRef for migration)
	DeathDate             sc.Date // NoDate unless a death is applied (disputed while in CONFLICT)
	DeathRef              Ref
	LastStrong            sc.Date // the latest event_date of a STRONG record applied, or seen while terminated or in conflict
	LastStrongRef         Ref
	RowDay                sc.Date // the day of the last status row written
	Weak                  []Trace
	Ents                  []EntState
	Rare                  *Rare
	// Evidence is an evidence model's memory of the person (nil without a model).
	Evidence *Evidence `json:",omitempty"`
}

// Holds reports whether month m of entitlement ent is withheld (held) or due as back pay
// in rr (nil: none is).
func (rr *Rare) Holds(ent int, m sc.Month) bool {
	if rr == nil {
		return false
	}
	return slices.ContainsFunc(rr.Held, func(h Held) bool { return int(h.Ent) == ent && h.Month == m }) ||
		slices.ContainsFunc(rr.Due, func(d Due) bool { return int(d.Ent) == ent && d.Month == m })
}

func (s *State) rare() *Rare {
	if s.Rare == nil {
		s.Rare = &Rare{}
	}
	return s.Rare
}

// conflict returns the open conflict, or nil.
func (s *State) conflict() *Conflict {
	if s.Rare == nil {
		return nil
	}
	return s.Rare.Conflict
}

// lossOpen reports whether a LOSS is open on day d: the latest LOSS or RESTORE dated on
// or before d is a LOSS.
func (s *State) lossOpen(d sc.Date) bool {
	if s.Rare == nil {
		return false
	}
	open := false
	for _, e := range s.Rare.Losses {
		if e.Date > d {
			break
		}
		open = !e.Restore
	}
	return open
}

// lossExcludes reports whether month m is not paid because of a LOSS (spec §6: a LOSS
// dated on or before the 1st of m, not followed by a RESTORE dated on or before that day).
func (s *State) lossExcludes(m sc.Month) bool { return s.lossOpen(m.First()) }

// NotDue reports whether month m is due to the person under none of their entitlements,
// whatever the roster says of its months: after the month of a death that stands (not
// one disputed), or under a LOSS (spec §6). Such a month is no arrear when a roster
// widens an entitlement over it, and, paid, it is overpaid for the death or the LOSS
// already (Overpayments), not for the roster's move.
func (s *State) NotDue(m sc.Month) bool {
	if s.DeathDate != sc.NoDate && s.conflict() == nil && m > s.DeathDate.Month() {
		return true
	}
	return s.lossExcludes(m)
}

func (s *State) addLossEvent(e LossEvent) {
	r := s.rare()
	i := sort.Search(len(r.Losses), func(i int) bool {
		x := r.Losses[i]
		return x.Date > e.Date || (x.Date == e.Date && !e.Restore && x.Restore)
	})
	r.Losses = append(r.Losses, LossEvent{})
	copy(r.Losses[i+1:], r.Losses[i:])
	r.Losses[i] = e
}

// insertLoss inserts e into ls after the events dated on or before it, keeping date order.
func insertLoss(ls []LossEvent, e LossEvent) []LossEvent {
	i := sort.Search(len(ls), func(i int) bool { return ls[i].Date > e.Date })
	return slices.Insert(ls, i, e)
}

// InsertEnt makes room in s for an entitlement added to the person at index i of their
// entitlements, which are in benefit_type order (a roster import that adds one to a
// person already enrolled): a zeroed EntState at i, nothing paid or released for it
// yet, and every withheld month and month of back pay due of the entitlements at i and
// after moved up by one, so that each still names its own entitlement. The caller inserts
// the entitlement at i in the recipient's list. Ents gets a new array: a driver may have
// carved it from one shared with others (EnrolWith).
func (s *State) InsertEnt(i int) {
	ents := make([]EntState, 0, len(s.Ents)+1)
	ents = append(ents, s.Ents[:i]...)
	ents = append(ents, EntState{})
	s.Ents = append(ents, s.Ents[i:]...)
	if s.Rare == nil {
		return
	}
	for k := range s.Rare.Held {
		if h := &s.Rare.Held[k]; int(h.Ent) >= i {
			h.Ent++
		}
	}
	for k := range s.Rare.Due {
		if d := &s.Rare.Due[k]; int(d.Ent) >= i {
			d.Ent++
		}
	}
}
