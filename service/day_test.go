package service_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/service"
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

// TestFailedPayrollLeavesMemoryAsStored: a payroll day whose writes, made alongside the
// evaluation, fail part-way (a trigger refuses one person's state) fails whole and leaves
// every person in memory as the database still has them; the day can then be run.
func TestFailedPayrollLeavesMemoryAsStored(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t, "sqlite:"+t.TempDir()+"/t.db")
	s := newCity(t, db)
	if err := s.RunDay(ctx, sc.MustDate("2024-03-01")); err != nil {
		t.Fatal(err)
	}
	if err := s.CatchUp(ctx, sc.MustDate("2024-03-31")); err != nil {
		t.Fatal(err)
	}
	ids := []string{"371002194003150019"}
	rows, err := db.SQL().Query(`SELECT person_id FROM people ORDER BY pid`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	snap := func(s interface{ Snapshot(string) string }) string {
		var b strings.Builder
		for _, id := range ids {
			fmt.Fprintln(&b, s.Snapshot(id))
		}
		return b.String()
	}
	before := snap(s)
	if _, err := db.SQL().Exec(`CREATE TRIGGER refuse BEFORE UPDATE ON people_state WHEN NEW.pid = (SELECT max(pid) FROM people)
		BEGIN SELECT RAISE(ABORT, 'refused'); END`); err != nil {
		t.Fatal(err)
	}
	if err := s.RunDay(ctx, sc.MustDate("2024-04-01")); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("the payroll day should have failed: %v", err)
	}
	if after := snap(s); after != before {
		t.Fatalf("memory changed by a failed payroll day:\n%s\n%s", before, after)
	}
	fresh, err := service.Open(ctx, db, service.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := snap(fresh); got != before {
		t.Fatalf("database and memory disagree:\n%s\n%s", got, before)
	}
	if _, err := db.SQL().Exec(`DROP TRIGGER refuse`); err != nil {
		t.Fatal(err)
	}
	if err := s.RunDay(ctx, sc.MustDate("2024-04-01")); err != nil {
		t.Fatal(err)
	}
	if snap(s) == before {
		t.Fatal("the payroll day changed no one")
	}
}
