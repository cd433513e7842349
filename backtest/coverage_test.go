package backtest

import (
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
