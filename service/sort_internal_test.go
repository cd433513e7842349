package service

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	sc "github.com/silentcert/silentcert"
)

// prepareRows sorts large batches in two halves on two cores: the order must be the one
// compareRows gives, whatever the size.
func TestPrepareRowsOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for _, n := range []int{0, 1, 7, 1 << 16, 1<<16 + 3, 200000} {
		rows := make([]Row, n)
		for i := range rows {
			rows[i].ReportedDate = sc.Date(19000 + rng.IntN(40))
			rows[i].EventDate = rows[i].ReportedDate - sc.Date(rng.IntN(30))
			if rng.IntN(50) == 0 {
				rows[i].ReportedDate = sc.NoDate
			}
			source := []string{"TRN", "HEA", "HE", "BANKS_AND_POSTAL_SAVINGS"}[rng.IntN(4)]
			// Short ids, and long ones alike in their first 16 bytes with the source.
			recordID := []string{string(rune('a' + rng.IntN(20))), "HEA00000019-" + strconv.Itoa(rng.IntN(30)), ""}[rng.IntN(3)]
			setStrings(&rows[i], &[rowStrings]string{fRecordID: recordID, fSource: source}, nil)
		}
		got := prepareRows(slices.Clone(rows), &Result{})
		want := slices.Clone(rows)
		for i := range want {
			want[i].seq = int32(i)
			if want[i].ReportedDate == sc.NoDate {
				want[i].ReportedDate = want[i].EventDate
			}
		}
		slices.SortFunc(want, func(a, b Row) int { return compareRows(&a, &b) })
		for i := range want {
			if got[i].seq != want[i].seq {
				t.Fatalf("n=%d: row %d is input row %d, want %d", n, i, got[i].seq, want[i].seq)
			}
		}
	}
}
