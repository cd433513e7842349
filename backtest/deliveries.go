package backtest

import (
	"math"
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
		events := make([][]sc.Date, r.cat.Len())
		arrivals := make([][]sc.Date, r.cat.Len())
		base, last := sc.NoDate, sc.NoDate
		for i := 0; i < r.entries.len(); i++ {
			e := r.entries.at(uint32(i))
			if int(e.typ) >= len(events) || e.reported < e.event {
				continue
			}
			events[e.typ] = append(events[e.typ], e.event)
			arrivals[e.typ] = append(arrivals[e.typ], e.reported)
			if base == sc.NoDate || e.reported < base {
				base = e.reported
			}
			if last == sc.NoDate || e.reported > last {
				last = e.reported
			}
		}
		if base != sc.NoDate {
			last = max(last, r.opt.To)
			m.SetCoverage(base, coverage(events, arrivals, base, last))
		}
	}
}

// CoverageAware is implemented by an evidence model that wants to know, for each record
// type and day, up to which event date the department's records have arrived, so that a
// person's silence is counted only over days already delivered (a late batch, or a source
// that stopped, is not people going silent). Known before the replay like the deliveries;
// a model must only ask about days up to the one it is evaluating.
type CoverageAware interface {
	// SetCoverage gives, per TypeID, covered[d-base] for each day d from base: the latest
	// event date up to which the type's records had arrived by day d (NoDate: not known;
	// the type is too sparse to tell).
	SetCoverage(base sc.Date, covered [][]sc.Date)
}

// Coverage parameters: an event day counts as delivered once the records dated within
// covHalf days of it that have arrived number covShare of the daily volume of the
// covRef days ending covGap days before it (ahead of it when there is no such history),
// and a type with fewer than covMin such records a window is too sparse to tell.
const (
	covHalf  = 3
	covShare = 0.5
	covRef   = 56
	covGap   = 8
	covMin   = 3
)

// coverage computes, per type, the latest event date delivered by each day from base
// through last: each event day's records arrive over the following days; the day is
// delivered once covShare of its usual volume has arrived, and a type is covered up to
// the latest day by which it and every day before it were delivered.
func coverage(events, arrivals [][]sc.Date, base, last sc.Date) [][]sc.Date {
	out := make([][]sc.Date, len(events))
	n := int(last-base) + 1
	for typ := range events {
		ev, ar := events[typ], arrivals[typ]
		if len(ev) == 0 || n <= 0 {
			continue
		}
		lo, hi := slices.Min(ev), slices.Max(ev)
		days := int(hi-lo) + 1
		// Arrival offsets per event day, sorted.
		byDay := make([][]int32, days)
		for i, e := range ev {
			byDay[e-lo] = append(byDay[e-lo], int32(ar[i]-e))
		}
		vol := make([]float64, days+1) // prefix sums of the daily volume
		for i, b := range byDay {
			slices.Sort(b)
			vol[i+1] = vol[i] + float64(len(b))
		}
		// at[x]: the day by which event day lo+x was delivered (a large value: never).
		const never = sc.Date(1 << 30)
		at := make([]sc.Date, days)
		sparse := true
		var win []int32
		for x := range days {
			a, b := x-covGap-covRef+1, x-covGap+1
			if a < 0 {
				a, b = x+covGap, x+covGap+covRef
			}
			a, b = max(a, 0), min(b, days)
			if b <= a {
				at[x] = never
				continue
			}
			need := covShare * float64(2*covHalf+1) * (vol[b] - vol[a]) / float64(b-a)
			if need < covMin {
				at[x] = -never // too sparse to judge this day: it does not hold the others back
				continue
			}
			sparse = false
			k := int(math.Ceil(need))
			win = win[:0]
			for y := max(x-covHalf, 0); y <= min(x+covHalf, days-1); y++ {
				for _, o := range byDay[y] {
					win = append(win, int32(y-x)+o)
				}
			}
			if len(win) < k {
				at[x] = never
				continue
			}
			slices.Sort(win)
			at[x] = lo + sc.Date(x) + sc.Date(win[k-1])
		}
		if sparse {
			continue
		}
		// A day counts as delivered, too, once a day within a week after it is: a holiday
		// whose volume never reaches the share does not hold the rest back, while a
		// month's batch held back or a source that stopped does.
		next, nextAt := -1, never // the nearest later day with a delivery day of its own
		for x := days - 1; x >= 0; x-- {
			own := at[x]
			if next >= 0 && next-x <= 7 {
				at[x] = min(at[x], nextAt)
			}
			if own != never && own > -never {
				next, nextAt = x, own
			}
		}
		cov := make([]sc.Date, n)
		x, run := 0, -never // run: the latest delivery day of event days lo..lo+x-1
		for i := range cov {
			d := base + sc.Date(i)
			for x < days && max(run, at[x]) <= d {
				run = max(run, at[x])
				x++
			}
			cov[i] = sc.NoDate
			if x > 0 {
				cov[i] = min(lo+sc.Date(x-1), d)
			}
		}
		out[typ] = cov
	}
	return out
}
