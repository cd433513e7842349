package backtest

import (
	"math/rand/v2"
	"slices"
	"testing"

	sc "github.com/silentcert/silentcert"
)

// coverage: records dated each day arrive two days later, except a month held back (a
// late batch) and a holiday with few records; the source stops on day 300. Coverage
// waits for the held month, not for the holiday, and stays where the source stopped.
func TestCoverage(t *testing.T) {
	const base sc.Date = 20000
	var ev, ar []sc.Date
	for x := base; x < base+300; x++ {
		n := 20
		if x == base+50 {
			n = 2 // a holiday
		}
		for range n {
			arrive := x + 2
			if x >= base+100 && x < base+130 {
				arrive = base + 200 // the month's batch held back
			}
			ev, ar = append(ev, x), append(ar, arrive)
		}
	}
	cov := coverage([][]sc.Date{ev, nil}, [][]sc.Date{ar, nil}, base, base+400)
	if cov[1] != nil {
		t.Errorf("a type without records has coverage")
	}
	at := func(d sc.Date) sc.Date { return cov[0][d-base] }
	cases := []struct {
		day, want sc.Date
	}{
		{base + 1, sc.NoDate},    // nothing delivered yet
		{base + 40, base + 38},   // two days behind
		{base + 60, base + 58},   // the holiday did not hold it back
		{base + 150, base + 99},  // waiting for the held month
		{base + 199, base + 99},  // still waiting
		{base + 200, base + 198}, // the batch arrived
		{base + 400, base + 299}, // the source stopped on day 300
	}
	for _, c := range cases {
		if got := at(c.day); got != c.want {
			t.Errorf("day %d: covered up to %d, want %d", c.day-base, got-base, c.want-base)
		}
	}
}

// arrivalsData: three types over 400 days, records arriving 0–9 days late, one type's
// month held back 60 days, another stopping on day 250, a third sparse.
func arrivalsData() (typs []sc.TypeID, ev, ar []sc.Date) {
	const base sc.Date = 20000
	rng := rand.New(rand.NewPCG(7, 8))
	for x := base; x < base+400; x++ {
		for typ := range 3 {
			n := []int{30, 12, 1}[typ]
			if typ == 1 && x >= base+250 {
				n = 0
			}
			for range rng.IntN(2*n + 1) {
				a := x + sc.Date(rng.IntN(10))
				if typ == 0 && x >= base+120 && x < base+150 {
					a += 60
				}
				typs, ev, ar = append(typs, sc.TypeID(typ)), append(ev, x), append(ar, a)
			}
		}
	}
	return typs, ev, ar
}

// The coverage of a day depends only on the records reported by that day: computed from
// those alone it is the same as from all of them (nothing of a later day leaks into it).
func TestCoverageUsesNoLaterRecord(t *testing.T) {
	typs, ev, ar := arrivalsData()
	all := NewArrivals(3)
	for i := range typs {
		all.Add(typs[i], ev[i], ar[i], 1)
	}
	last := all.Base() + 500
	full := all.Coverage(last, nil)
	if full[0] == nil || full[1] == nil {
		t.Fatal("no coverage: the test proves nothing")
	}
	differs := false
	for d := all.Base() + 10; d <= all.Base()+420; d += 7 {
		part := NewArrivals(3)
		for i := range typs {
			if ar[i] <= d {
				part.Add(typs[i], ev[i], ar[i], 1)
			}
		}
		cov := part.Coverage(last, nil)
		for typ := range full {
			got, want := sc.NoDate, sc.NoDate
			if cov[typ] != nil {
				got = cov[typ][d-part.Base()]
			}
			if full[typ] != nil {
				want = full[typ][d-all.Base()]
			}
			if got != want {
				t.Errorf("type %d, day %d: %d from the records reported by then, %d from all", typ, d-all.Base(), got, want)
			}
			if cov[typ] != nil && full[typ] != nil && !slices.Equal(cov[typ], full[typ]) {
				differs = true
			}
		}
	}
	if !differs {
		t.Error("later records never changed a later day's coverage: the test proves nothing")
	}
}

// Counted batch by batch, in any order of reported days, with Coverage called between
// batches, the coverage is what it is when counted at once.
func TestCoverageIncremental(t *testing.T) {
	typs, ev, ar := arrivalsData()
	all := NewArrivals(3)
	for i := range typs {
		all.Add(typs[i], ev[i], ar[i], 1)
	}
	last := all.Base() + 500
	want := all.Coverage(last, nil)
	idx := make([]int, len(typs))
	for i := range idx {
		idx[i] = i
	}
	// Mostly in reported order, with a tenth of the records coming late.
	rng := rand.New(rand.NewPCG(1, 2))
	late := func(i int) sc.Date {
		if rng.IntN(10) == 0 {
			return ar[i] + sc.Date(rng.IntN(90))
		}
		return ar[i]
	}
	when := make([]sc.Date, len(idx))
	for i := range when {
		when[i] = late(i)
	}
	slices.SortStableFunc(idx, func(a, b int) int { return int(when[a] - when[b]) })
	inc := NewArrivals(3)
	var cov [][]sc.Date
	for start := 0; start < len(idx); {
		end := start
		for end < len(idx) && when[idx[end]] == when[idx[start]] {
			end++
		}
		for _, i := range idx[start:end] {
			inc.Add(typs[i], ev[i], ar[i], 1)
		}
		cov = inc.Coverage(last, cov)
		start = end
	}
	if inc.Base() != all.Base() {
		t.Fatalf("base %d, want %d", inc.Base(), all.Base())
	}
	for typ := range want {
		if !slices.Equal(cov[typ], want[typ]) {
			t.Errorf("type %d: counted batch by batch differs from counted at once", typ)
		}
	}
}
