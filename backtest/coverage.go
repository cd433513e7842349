package backtest

import (
	"math"
	"slices"

	sc "github.com/silentcert/silentcert"
)

// Coverage parameters: an event day counts as delivered once the records dated within
// covHalf days of it that have arrived number covShare of the daily volume of the
// covRef days ending covGap days before it, as that volume stood covHalf days before
// it (the earliest day its delivery can be seen); a day with fewer than covMinRef days
// of such history, or whose share comes to fewer than covMin records, is too sparse to
// judge and does not hold the others back.
const (
	covHalf   = 3
	covShare  = 0.5
	covRef    = 56
	covGap    = 8
	covMin    = 3
	covMinRef = 7
)

// never is a delivery day that has not come; -never, a day that holds nothing back.
const never = sc.Date(1 << 30)

// Arrivals counts records by type, event date and reported date, and computes from them
// what a CoverageAware model is given. The coverage of day d depends only on the records
// reported by d, so that a service counting its batches as they come computes, for
// every day up to the last one, what a backtest over the same records does; Add and
// Coverage can be called in turns, and Coverage recomputes only what the records added
// since could change.
type Arrivals struct {
	types []*typeArrivals
	base  sc.Date // the earliest reported date of all
	// The days of the last Coverage: its base and length.
	covBase sc.Date
	covN    int
}

// NewArrivals returns empty counts for types record types.
func NewArrivals(types int) *Arrivals {
	a := &Arrivals{types: make([]*typeArrivals, types), base: sc.NoDate}
	for i := range a.types {
		a.types[i] = &typeArrivals{lo: sc.NoDate, rlo: sc.NoDate, dirty: sc.NoDate}
	}
	return a
}

// arrival is a count of records of one event day reported by day r (cumulative).
type arrival struct {
	r sc.Date
	n int32
}

// typeArrivals is one record type's counts and what is computed from them.
type typeArrivals struct {
	lo      sc.Date     // the event day of byEvent[0] (NoDate: no records)
	byEvent [][]arrival // per event day from lo: cumulative counts by reported day, ascending
	rlo     sc.Date     // the reported day of repMin[0]
	repMin  []sc.Date   // per reported day from rlo: its earliest event day (NoDate: none)
	repMax  []sc.Date   // and its latest
	// Computed: per event day from lo, the share that delivers it (0: not judged) and the
	// day it was delivered (never, -never), valid for the records reported before dirty.
	need  []float64
	own   []sc.Date
	dirty sc.Date // the earliest reported day added since the last computation (NoDate: none)
	full  bool    // the computation must start over (lo moved)
}

// Add counts n records of type typ dated event and reported on reported (n < 0 takes them
// back). Records reported before their event date, and unknown types, are left out.
func (a *Arrivals) Add(typ sc.TypeID, event, reported sc.Date, n int32) {
	if int(typ) >= len(a.types) || reported < event || event == sc.NoDate || n == 0 {
		return
	}
	t := a.types[typ]
	if a.base == sc.NoDate || reported < a.base {
		a.base = reported
	}
	if t.lo == sc.NoDate || event < t.lo {
		if t.lo != sc.NoDate {
			t.byEvent = append(make([][]arrival, t.lo-event), t.byEvent...)
		}
		t.lo, t.full = event, true
	}
	if x := int(event - t.lo); x >= len(t.byEvent) {
		t.byEvent = append(t.byEvent, make([][]arrival, x+1-len(t.byEvent))...)
	}
	l := t.byEvent[event-t.lo]
	j, found := slices.BinarySearchFunc(l, reported, func(a arrival, r sc.Date) int { return int(a.r - r) })
	if !found {
		prev := int32(0)
		if j > 0 {
			prev = l[j-1].n
		}
		l = slices.Insert(l, j, arrival{reported, prev})
	}
	for k := j; k < len(l); k++ {
		l[k].n += n
	}
	t.byEvent[event-t.lo] = l
	if t.rlo == sc.NoDate || reported < t.rlo {
		if t.rlo != sc.NoDate {
			pad := make([]sc.Date, t.rlo-reported)
			for i := range pad {
				pad[i] = sc.NoDate
			}
			t.repMin = append(pad, t.repMin...)
			t.repMax = append(slices.Clone(pad), t.repMax...)
		}
		t.rlo = reported
	}
	for int(reported-t.rlo) >= len(t.repMin) {
		t.repMin, t.repMax = append(t.repMin, sc.NoDate), append(t.repMax, sc.NoDate)
	}
	if i := reported - t.rlo; t.repMin[i] == sc.NoDate || event < t.repMin[i] {
		t.repMin[i] = event
	}
	if i := reported - t.rlo; event > t.repMax[i] {
		t.repMax[i] = event
	}
	if t.dirty == sc.NoDate || reported < t.dirty {
		t.dirty = reported
	}
}

// Base is the earliest reported date counted (NoDate: none).
func (a *Arrivals) Base() sc.Date { return a.base }

// Coverage returns, per type, covered[d-base] for each day d from Base through last (or
// the last reported date, when later): the latest event date up to which the type's
// records had arrived by day d, from the records reported by d alone (NoDate: not known;
// the type is too sparse to tell). Each type's slice is new when the type changed or
// prev's (the previous result) does not cover the same days; otherwise prev's is kept.
func (a *Arrivals) Coverage(last sc.Date, prev [][]sc.Date) [][]sc.Date {
	out := make([][]sc.Date, len(a.types))
	if a.base == sc.NoDate {
		return out
	}
	for _, t := range a.types {
		if t.rlo != sc.NoDate {
			last = max(last, t.rlo+sc.Date(len(t.repMin))-1)
		}
	}
	n := int(last-a.base) + 1
	same := a.covBase == a.base && a.covN == n
	a.covBase, a.covN = a.base, n
	for i, t := range a.types {
		if t.lo == sc.NoDate {
			continue
		}
		if same && t.dirty == sc.NoDate && !t.full && i < len(prev) && prev[i] != nil && len(prev[i]) == n {
			out[i] = prev[i]
			continue
		}
		out[i] = t.coverage(a.base, n)
	}
	return out
}

// vol is how many records dated event day x had been reported by day b.
func (t *typeArrivals) vol(x int, b sc.Date) int32 {
	if x < 0 || x >= len(t.byEvent) {
		return 0
	}
	l := t.byEvent[x]
	j, found := slices.BinarySearchFunc(l, b, func(a arrival, r sc.Date) int { return int(a.r - r) })
	if found {
		return l[j].n
	}
	if j == 0 {
		return 0
	}
	return l[j-1].n
}

// coverage computes the type's coverage for n days from base, recomputing the event days
// that the records added since the last time can have changed.
func (t *typeArrivals) coverage(base sc.Date, n int) []sc.Date {
	rhi := t.rlo + sc.Date(len(t.repMin)) - 1 // the last reported day
	// Event days run from lo to a week past the last reported day (a week's delivery
	// frees the days before it).
	days := int(rhi-t.lo) + 1 + 7
	// firstEv[i]: the earliest event day among the records reported by rlo+i; lastEv, the
	// latest.
	firstEv, lastEv := make([]sc.Date, len(t.repMin)), make([]sc.Date, len(t.repMin))
	lo, hi := sc.NoDate, sc.NoDate
	for i := range t.repMin {
		if m := t.repMin[i]; m != sc.NoDate && (lo == sc.NoDate || m < lo) {
			lo = m
		}
		hi = max(hi, t.repMax[i])
		firstEv[i], lastEv[i] = lo, hi
	}
	reportedBy := func(v []sc.Date, d sc.Date) sc.Date {
		if d < t.rlo {
			return sc.NoDate
		}
		return v[min(int(d-t.rlo), len(v)-1)]
	}
	dirty := t.dirty
	switch {
	case t.full:
		dirty = -never // every day
	case dirty == sc.NoDate:
		dirty = never + 1 // no day: only those past the last computation
	}
	old := len(t.own)
	t.need, t.own = t.need[:min(old, days)], t.own[:min(old, days)]
	for len(t.own) < days {
		t.need, t.own = append(t.need, 0), append(t.own, never)
	}
	for x := range days {
		day := t.lo + sc.Date(x)
		recompute := x >= old || t.own[x] >= dirty
		if x >= old || day-covHalf >= dirty {
			// The reference volume as it stood covHalf days before the day.
			b := day - covHalf
			need := 0.0
			if s := reportedBy(firstEv, b); s != sc.NoDate {
				from := max(day-covGap-covRef+1, s)
				if ref := int(day - covGap - from + 1); ref >= covMinRef {
					var v int64
					for e := from; e <= day-covGap; e++ {
						v += int64(t.vol(int(e-t.lo), b))
					}
					need = covShare * float64(2*covHalf+1) * float64(v) / float64(ref)
				}
			}
			if need != t.need[x] {
				recompute = true
			}
			t.need[x] = need
		}
		if !recompute {
			continue
		}
		if t.need[x] < covMin {
			t.own[x] = -never // too sparse to judge this day: it does not hold the others back
			continue
		}
		// The first day by which k records dated within covHalf days had arrived.
		k := int64(math.Ceil(t.need[x]))
		inWin := func(d sc.Date) int64 {
			var c int64
			for y := x - covHalf; y <= x+covHalf; y++ {
				c += int64(t.vol(y, d))
			}
			return c
		}
		lo, hi := day-covHalf, rhi
		if lo > hi || inWin(hi) < k {
			t.own[x] = never
			continue
		}
		for lo < hi {
			mid := lo + (hi-lo)/2
			if inWin(mid) >= k {
				hi = mid
			} else {
				lo = mid + 1
			}
		}
		t.own[x] = lo
	}
	t.dirty, t.full = sc.NoDate, false
	// at[x]: the day event day x counts as delivered: its own, or the first of the week
	// after it (a holiday whose volume never reaches the share does not hold the rest
	// back, while a month's batch held back or a source that stopped does).
	at := make([]sc.Date, days)
	judged := sc.NoDate // the first event day judged
	for x := range days {
		at[x] = t.own[x]
		if at[x] == -never {
			continue
		}
		if judged == sc.NoDate {
			judged = t.lo + sc.Date(x)
		}
		for y := x + 1; y <= min(x+7, days-1); y++ {
			if t.own[y] != -never {
				at[x] = min(at[x], t.own[y])
			}
		}
	}
	if judged == sc.NoDate {
		return nil
	}
	cov := make([]sc.Date, n)
	x := 0 // the first event day not delivered
	for i := range cov {
		d := base + sc.Date(i)
		for x < days && at[x] <= d {
			x++
		}
		cov[i] = sc.NoDate
		if h := reportedBy(lastEv, d); h != sc.NoDate && d >= judged {
			cov[i] = min(t.lo+sc.Date(x)-1, h)
		}
	}
	return cov
}
