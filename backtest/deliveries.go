package backtest

import (
	"slices"

	sc "github.com/silentcert/silentcert"
)

// DeliveryAware is implemented by an evidence model that wants to know on which days each
// record type was delivered (any row with that reported_date was read), so that a
// department that stopped sending is not taken for people going silent. The days are
// known before the replay, and a model must only ask about days up to the one it is
// evaluating, as the service would know them.
type DeliveryAware interface {
	SetDeliveries(days [][]sc.Date) // per TypeID: the distinct reported days, ascending
}

// feedModel gives the model, when it asks, the days each type was delivered.
func (r *runner) feedModel() {
	if m, ok := r.opt.Model.(DeliveryAware); ok {
		days := make([][]sc.Date, r.cat.Len())
		for i := 0; i < r.entries.len(); i++ {
			e := r.entries.at(uint32(i))
			if int(e.typ) >= len(days) {
				continue
			}
			ds := days[e.typ]
			if n := len(ds); n == 0 || ds[n-1] != e.reported {
				days[e.typ] = append(ds, e.reported)
			}
		}
		for i := range days {
			slices.Sort(days[i])
			days[i] = slices.Compact(days[i])
		}
		m.SetDeliveries(days)
	}
	if m, ok := r.opt.Model.(CoverageAware); ok {
		a := NewArrivals(r.cat.Len())
		for i := 0; i < r.entries.len(); i++ {
			if e := r.entries.at(uint32(i)); e.flags&fDuplicate == 0 {
				a.Add(e.typ, e.event, e.reported, 1)
			}
		}
		if a.Base() != sc.NoDate {
			m.SetCoverage(a.Base(), a.Coverage(r.opt.To, nil))
		}
	}
}

// CoverageAware is implemented by an evidence model that wants to know, for each record
// type and day, up to which event date the department's records have arrived, so that a
// person's silence is counted only over days already delivered (a late batch, or a source
// that stopped, is not people going silent). Known before the replay like the deliveries;
// a model must only ask about days up to the one it is evaluating. A day's coverage is
// computed from the records reported by that day alone (Arrivals), so that the service,
// counting batches as they come, tells the model what a backtest does.
type CoverageAware interface {
	// SetCoverage gives, per TypeID, covered[d-base] for each day d from base: the latest
	// event date up to which the type's records had arrived by day d (NoDate: not known;
	// the type is too sparse to tell).
	SetCoverage(base sc.Date, covered [][]sc.Date)
}

// coverage computes, per type, the latest event date delivered by each day from base
// through last, from each record's event date and reported date (see Arrivals).
func coverage(events, arrivals [][]sc.Date, base, last sc.Date) [][]sc.Date {
	a := NewArrivals(len(events))
	for typ := range events {
		for i, e := range events[typ] {
			a.Add(sc.TypeID(typ), e, arrivals[typ][i], 1)
		}
	}
	cov := a.Coverage(last, nil)
	for typ, c := range cov {
		if c == nil || a.Base() == base {
			continue
		}
		if base > a.Base() {
			cov[typ] = c[base-a.Base():]
			continue
		}
		pad := make([]sc.Date, a.Base()-base)
		for i := range pad {
			pad[i] = sc.NoDate
		}
		cov[typ] = append(pad, c...)
	}
	return cov
}
