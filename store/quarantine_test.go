package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
)

// TestQuarantineInBulk: a batch's quarantined rows are stored whole and in order, however
// many (a few go in one INSERT; thousands by COPY on PostgreSQL), bytes a store refuses
// (a NUL, bad UTF-8 in a file's name) kept storable, and read back by page.
func TestQuarantineInBulk(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			ctx := context.Background()
			db := dsn.Open(t)
			for _, n := range []int{3, 4500} {
				tx, err := db.Begin(ctx)
				if err != nil {
					t.Fatal(err)
				}
				b, err := tx.NewBatch(&store.Batch{Origin: "file", Status: "applied", Files: "x", Report: "{}"})
				if err != nil {
					t.Fatal(err)
				}
				qs := make([]store.Quarantined, n)
				for i := range qs {
					qs[i] = store.Quarantined{File: fmt.Sprintf("f\xff%d.csv", i%7), Line: int64(i + 2), Field: "event_date",
						Reason: "after_day", Message: fmt.Sprintf("row %d\x00 dated after the day", i)}
				}
				if err := tx.Quarantine(b, qs); err != nil {
					t.Fatal(err)
				}
				if err := tx.Commit(); err != nil {
					t.Fatal(err)
				}
				got, total, err := db.BatchQuarantinePage(ctx, b, n-2, 10)
				if err != nil {
					t.Fatal(err)
				}
				if total != n || len(got) != 2 {
					t.Fatalf("%d rows: %d stored, page of %d, want %d and 2", n, total, len(got), n)
				}
				last := got[1]
				if last.Line != int64(n+1) || last.Field != "event_date" || last.Reason != "after_day" || last.File != store.Storable(qs[n-1].File) ||
					last.Message != store.Storable(qs[n-1].Message) {
					t.Errorf("%d rows: the last read back %+v, want %+v", n, last, qs[n-1])
				}
			}
		})
	}
}
