package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
)

// staffRow is an export's audit row, as the console appends it.
func staffRow(actor string) store.AuditRow {
	return store.AuditRow{Kind: "export", Day: sc.MustDate("2024-05-10"), At: "2024-05-10T01:00:00Z", Actor: actor, PID: -1,
		Action: "worklist", Detail: "format=csv;rows=3"}
}

// BenchmarkReadsBesideWaitingExports measures the reads outside a transaction (a page, the
// readiness check) on PostgreSQL while a batch's transaction is open and n staff exports
// wait for it, each to append its audit row: each read is given /readyz's 2 s; answered/op
// is the share answered, ns/op the time a read took (one that gave up counts its 2 s).
//
//	CI=true go test ./store -run '^$' -bench ReadsBesideWaitingExports -benchtime 20x
func BenchmarkReadsBesideWaitingExports(b *testing.B) {
	for _, n := range []int{2, 8, 16} {
		b.Run(fmt.Sprintf("exports=%d", n), func(b *testing.B) {
			ctx := context.Background()
			db := storetest.Open(b, storetest.PostgresDSN(b))
			if err := db.ClaimWriter(ctx); err != nil { // as serve does
				b.Fatal(err)
			}
			batch, err := db.Begin(ctx)
			if err != nil {
				b.Fatal(err)
			}
			defer batch.Rollback()
			if err := batch.Append([]store.AuditRow{{Kind: "batch", Day: sc.MustDate("2024-05-10"), At: "2024-05-10T00:00:00Z",
				Actor: "api:HEA#1", PID: -1, Action: "applied"}}); err != nil {
				b.Fatal(err)
			}
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					tx, err := db.Begin(ctx)
					if err != nil {
						return
					}
					defer tx.Rollback()
					if tx.Append([]store.AuditRow{staffRow(fmt.Sprintf("staff%d", i))}) == nil {
						tx.Commit()
					}
				})
			}
			time.Sleep(300 * time.Millisecond) // for them to reach their wait
			answered := 0
			for b.Loop() {
				rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
				if _, _, err := db.Meta(rctx, "audit_head"); err == nil {
					answered++
				}
				cancel()
			}
			b.ReportMetric(float64(answered)/float64(b.N), "answered/op")
			if err := batch.Commit(); err != nil {
				b.Fatal(err)
			}
			wg.Wait()
		})
	}
}

// BenchmarkStaffWrite measures a staff action's write with no one else writing (Begin,
// one audit row, Commit): what the writers' turn in the process adds to it.
func BenchmarkStaffWrite(b *testing.B) {
	for _, dsn := range storetest.DSNs(b) {
		b.Run(dsn.Name, func(b *testing.B) {
			ctx := context.Background()
			db := dsn.Open(b)
			for b.Loop() {
				tx, err := db.Begin(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if err := tx.Append([]store.AuditRow{staffRow("operator")}); err != nil {
					b.Fatal(err)
				}
				if err := tx.Commit(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
