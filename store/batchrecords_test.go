package store_test

import (
	"context"
	"fmt"
	"testing"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
)

// TestBatchRecords: a batch's stored records are found by their ids, which batches give
// in order: every one of each batch, none of another, across chunks, for batches of one
// record, of several chunks, with a resent duplicate (not stored again) and with none.
func TestBatchRecords(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			ctx := context.Background()
			db := dsn.Open(t)
			sizes := []int{1, 300, 0, 129, 2, 1}
			var batches []int64
			n := 0
			for i, size := range sizes {
				tx, err := db.Begin(ctx)
				if err != nil {
					t.Fatal(err)
				}
				b, err := tx.NewBatch(&store.Batch{Origin: "file", Status: "applied", Files: "x", Report: "{}"})
				if err != nil {
					t.Fatal(err)
				}
				var rs []*store.Record
				for j := range size {
					rs = append(rs, &store.Record{Source: "HEA", RecordID: fmt.Sprintf("r%d", n), Type: "HEA.CHECKUP", PID: -1, Link: 1,
						EventDate: sc.MustDate("2024-05-01"), ReportedDate: sc.MustDate("2024-05-02"), Batch: b, File: fmt.Sprintf("f%d.csv", i), Line: int64(j + 2)})
					n++
				}
				if i == 4 { // a record sent before: a duplicate, not this batch's
					rs = append(rs, &store.Record{Source: "HEA", RecordID: "r0", Type: "HEA.CHECKUP", PID: -1, Link: 1, Batch: b})
				}
				if len(rs) > 0 {
					if _, _, _, err := tx.InsertRecords(rs); err != nil {
						t.Fatal(err)
					}
				}
				if err := tx.Commit(); err != nil {
					t.Fatal(err)
				}
				batches = append(batches, b)
			}
			for i, b := range batches {
				got, total, err := db.BatchRecords(ctx, b, 50)
				if err != nil {
					t.Fatal(err)
				}
				if total != int64(sizes[i]) || len(got) != min(sizes[i], 50) {
					t.Errorf("batch %d: %d records (%d listed), want %d", b, total, len(got), sizes[i])
				}
				for j, r := range got {
					if r.Batch != b || r.File != fmt.Sprintf("f%d.csv", i) || r.Line != int64(j+2) {
						t.Errorf("batch %d's record %d: %+v", b, j, r)
						break
					}
				}
			}
			if got, total, err := db.BatchRecords(ctx, batches[len(batches)-1]+1, 50); err != nil || total != 0 || len(got) != 0 {
				t.Errorf("a batch after the last: %d %d %v", len(got), total, err)
			}
		})
	}
}
