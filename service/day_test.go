package service_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/store/storetest"
)

// TestPayrollMoneyFromMemory: a payroll day's console money, summed from the payments in
// memory by village, is row for row what summing the stored payments gives (every
// village, town, county and the city, every kind).
func TestPayrollMoneyFromMemory(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			ctx := context.Background()
			db := dsn.Open(t)
			s := newCity(t, db)
			pay := sc.MustDate("2024-04-01")
			if err := s.RunDay(ctx, sc.MustDate("2024-03-01")); err != nil {
				t.Fatal(err)
			}
			if err := s.CatchUp(ctx, pay); err != nil {
				t.Fatal(err)
			}
			money := func() string {
				rows, err := db.SQL().Query(db.Rebind(`SELECT region, kind, amount FROM console_money WHERE month = ? ORDER BY region, kind`), int64(pay.Month()))
				if err != nil {
					t.Fatal(err)
				}
				defer rows.Close()
				var b strings.Builder
				for rows.Next() {
					var r, k string
					var n int64
					rows.Scan(&r, &k, &n)
					fmt.Fprintln(&b, r, k, n)
				}
				return b.String()
			}
			fromMemory := money()
			tx, err := db.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := tx.RefreshSummary(pay); err != nil { // no sums given: read from payments
				t.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			fromStore := money()
			if fromMemory != fromStore || !strings.Contains(fromStore, "REGULAR") || strings.Count(fromStore, "\n") < 5 {
				t.Fatalf("money of %s:\n--- from memory\n%s--- from the payments stored\n%s", pay.Month(), fromMemory, fromStore)
			}
		})
	}
}
