package store_test

import (
	"context"
	"testing"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
)

// TestTxReadsWhatItWrote: the reads a write decides from (a roster import's payroll spans
// and last payroll, history's last day run, a staff action's person) are the
// transaction's: they see what it wrote and has not committed, which a read outside it
// does not, on both stores.
func TestTxReadsWhatItWrote(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			ctx := context.Background()
			db := dsn.Open(t)
			day := consoleFixture(t, db)
			apr := day.Month() + 1
			tx, err := db.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			if m, err := tx.LastPayroll(); err != nil || m != sc.NoMonth {
				t.Fatalf("last payroll before any: %v %v", m, err)
			}
			if d, err := tx.LastRun(); err != nil || d != sc.NoDate {
				t.Fatalf("last run before any: %v %v", d, err)
			}
			if err := tx.AddPayments([]store.Payment{{PID: 5, Benefit: "URBAN_EMPLOYEE", Month: apr, Kind: "REGULAR", Amount: 100000, PayrollMonth: apr}}); err != nil {
				t.Fatal(err)
			}
			if err := tx.PutPayroll(&store.Payroll{Month: apr, Day: apr.First(), Paid: 100000, Rows: 1, Snapshot: []byte{}}); err != nil {
				t.Fatal(err)
			}
			if err := tx.MarkRun(day, "2025-03-10T00:00:00Z", 5, 0); err != nil {
				t.Fatal(err)
			}
			p3, err := tx.Person(3)
			if err != nil || p3.Status != sc.StatusPending || p3.Rec.PersonID != "370000000000000003" {
				t.Fatalf("person 3: %+v %v", p3, err)
			}
			p3.Status, p3.Rec.RegionCode = sc.StatusCertified, "371002001001"
			if err := tx.PutPeople([]*store.Person{p3}); err != nil {
				t.Fatal(err)
			}

			spans, err := tx.PayrollSpans([]int64{3, 4, 5})
			if err != nil || len(spans) != 2 || spans[4] != (store.MonthSpan{From: day.Month(), To: day.Month()}) || spans[5] != (store.MonthSpan{From: apr, To: apr}) {
				t.Errorf("payroll spans %v %v", spans, err)
			}
			if m, err := tx.LastPayroll(); err != nil || m != apr {
				t.Errorf("last payroll %v %v, want %v", m, err, apr)
			}
			if d, err := tx.LastRun(); err != nil || d != day {
				t.Errorf("last run %v %v, want %v", d, err, day)
			}
			if d, err := db.LastRun(ctx); err != nil || d != sc.NoDate {
				t.Errorf("last run outside the transaction %v %v, want none", d, err)
			}
			if p, err := tx.Person(3); err != nil || p.Status != sc.StatusCertified || p.Rec.RegionCode != "371002001001" {
				t.Errorf("person 3 in the transaction: %+v %v", p, err)
			}
			if p, err := db.PersonInRegion(ctx, "", 3); err != nil || p.Status != sc.StatusPending || p.Rec.RegionCode != "371002001002" {
				t.Errorf("person 3 outside the transaction: %+v %v", p, err)
			}
			if _, err := tx.Person(99); sc.ErrorCode(err) != sc.ENotFound {
				t.Errorf("no person 99: %v", err)
			}
		})
	}
}
