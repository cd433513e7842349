package service_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/silentcert/silentcert/store/storetest"
)

// TestResendCounted: a large file sent again (past PostgreSQL's COPY size), some of its
// rows changed since (duplicate_conflict), some new, some repeated within the file, is
// counted exactly: each resent row a duplicate, the changed ones conflicts too (spec §3),
// the new ones applied, and nothing of the first sending touched.
func TestResendCounted(t *testing.T) {
	const n = 3000
	row := func(i int, count int) string {
		return fmt.Sprintf("T%05d,TRN,TRN.TRANSIT,371002194003150019,张三,1940-03-15,2024-02-%02d,2024-02-28,,count=%d\n", i, 1+i%27, count)
	}
	var first, again strings.Builder
	first.WriteString(header)
	again.WriteString(header)
	conflicts := 0
	for i := range n {
		first.WriteString(row(i, 1))
		if i%7 == 0 {
			again.WriteString(row(i, 2)) // changed since it was sent
			conflicts++
		} else {
			again.WriteString(row(i, 1))
		}
	}
	for i := n; i < n+500; i++ {
		again.WriteString(row(i, 1))
	}
	// Repeated within the file: a duplicate of its first row, one of them different.
	again.WriteString(row(n, 1) + row(n+1, 3))
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			ctx := context.Background()
			s := newCity(t, dsn.Open(t))
			res, err := s.Ingest(ctx, csvBatch("TRN", first.String()))
			if err != nil || res.Report.Applied != n || res.Report.Duplicate != 0 {
				t.Fatalf("first: %+v %v", res, err)
			}
			res, err = s.Ingest(ctx, csvBatch("TRN", again.String()))
			if err != nil {
				t.Fatal(err)
			}
			if r := res.Report; r.Applied != 500 || r.Duplicate != n+2 || r.DuplicateConflict != int64(conflicts)+1 || r.Quarantined != 0 {
				t.Fatalf("resend: applied %d, duplicate %d, conflicting %d, quarantined %d; want 500, %d, %d, 0",
					r.Applied, r.Duplicate, r.DuplicateConflict, r.Quarantined, n+2, conflicts+1)
			}
			p, err := s.DB().PersonByID(ctx, "371002194003150019")
			if err != nil {
				t.Fatal(err)
			}
			rs, err := s.DB().PersonRecords(ctx, p.PID)
			if err != nil {
				t.Fatal(err)
			}
			stored, changed := 0, 0
			for _, r := range rs {
				if r.Source == "TRN" {
					stored++
					if r.Detail != "count=1" {
						changed++
					}
				}
			}
			if stored != n+500 || changed != 0 {
				t.Errorf("%d records stored, %d of them changed by the resend; want %d, 0", stored, changed, n+500)
			}
		})
	}
}
