package store_test

import (
	"context"
	"fmt"
	"testing"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
)

// TestPayrollWrites: a payroll day's writes in bulk — states of 5,000 people (on
// PostgreSQL by COPY and a stage, on SQLite a few hundred a statement), some of them
// moved, and 8,500 payments of which some repeat a key already stored — leave on both
// databases exactly what one person at a time would: every state and status as written,
// the moved people's indexed columns changed and no one else's, a repeated payment
// skipped with its first amount kept, and an audit trail of a few thousand rows intact.
func TestPayrollWrites(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) { testPayrollWrites(t, dsn.Open(t)) })
	}
}

func testPayrollWrites(t *testing.T, db *store.DB) {
	ctx := context.Background()
	const n = 5000
	ps := make([]*store.Person, n)
	for i := range ps {
		ps[i] = &store.Person{PID: int64(i), Rec: sc.Recipient{PersonID: fmt.Sprintf("3710%014d", i), Name: "李四", Sex: 1,
			BirthDate: 100, RegionCode: "371002001001", LastCertified: sc.NoDate,
			Entitlements: []sc.Entitlement{{Benefit: "URBAN_EMPLOYEE", Monthly: 310000, Start: 24000, End: sc.NoMonth}}},
			Status: sc.StatusCertified, Until: 20000, Method: sc.MethodStrong, DeathDate: sc.NoDate, NextCheck: 19900,
			State: []byte{1, byte(i)}, Health: -1}
	}
	write := func(fn func(tx *store.Tx) error) { t.Helper(); committed(t, db, fn) }
	write(func(tx *store.Tx) error { return tx.PutPeople(ps) })
	var pays []store.Payment
	for i := 0; i < 1000; i++ {
		pays = append(pays, store.Payment{PID: int64(i), Benefit: "URBAN_EMPLOYEE", Month: 653, Kind: "WITHHELD:SUSPENDED", Amount: 1, PayrollMonth: 653})
	}
	write(func(tx *store.Tx) error { return tx.AddPayments(pays) })

	// The payroll: everyone's state grows; every 7th person also moves (suspended).
	for i, p := range ps {
		p.State = append(p.State, 9, byte(i>>8))
		p.NextCheck = 20010
		p.Baselined = true
		p.Unmoved = i%7 != 0
		if !p.Unmoved {
			p.Status, p.Until, p.Method, p.DeathDate, p.Health = sc.StatusSuspended, 20001, sc.MethodWeak, 19999, i%1000
		} else if i%3 == 0 {
			p.Health, p.HealthMoved = 1000-i%1000, true // the health index alone
		}
	}
	pays = pays[:0]
	for i := 0; i < n; i++ {
		pays = append(pays, store.Payment{PID: int64(i), Benefit: "URBAN_EMPLOYEE", Month: 654, Kind: "REGULAR", Amount: 310000, PayrollMonth: 654})
		if i < 1000 { // the same key as the month before: skipped, the first amount kept
			pays = append(pays, store.Payment{PID: int64(i), Benefit: "URBAN_EMPLOYEE", Month: 653, Kind: "WITHHELD:SUSPENDED", Amount: 2, PayrollMonth: 654})
		}
	}
	rows := make([]store.AuditRow, 3000)
	for i := range rows {
		rows[i] = store.AuditRow{Kind: "decision", Day: 20000, At: "2024-10-01", Actor: "engine", PID: int64(i), PersonID: ps[i].Rec.PersonID,
			Action: "SUSPENDED", Rule: "§6", Detail: fmt.Sprint(i)}
	}
	write(func(tx *store.Tx) error {
		for start := 0; start < n; start += tx.StatesChunk() {
			if err := tx.PutStates(ps[start:min(n, start+tx.StatesChunk())]); err != nil {
				return err
			}
		}
		// 2,500 new keys (on PostgreSQL straight in by COPY), then the payroll's, some of
		// whose keys are stored (there COPY fails, and they go through the stage).
		fresh := make([]store.Payment, 2500)
		for i := range fresh {
			fresh[i] = store.Payment{PID: int64(i), Benefit: "URBAN_EMPLOYEE", Month: 655, Kind: "BACK_PAY", Amount: 7, PayrollMonth: 654}
		}
		if err := tx.AddPayments(fresh); err != nil {
			return err
		}
		if err := tx.AddPayments(pays); err != nil {
			return err
		}
		return tx.Append(rows)
	})

	i := 0
	err := db.LoadPeople(ctx, func(got *store.Person) error {
		want := ps[i]
		if got.PID != want.PID || string(got.State) != string(want.State) || got.NextCheck != want.NextCheck || !got.Baselined ||
			got.Status != want.Status || got.Until != want.Until || got.Method != want.Method || got.DeathDate != want.DeathDate ||
			got.Health != want.Health {
			return fmt.Errorf("person %d: got %+v, want %+v", i, got, want)
		}
		i++
		return nil
	})
	if err != nil || i != n {
		t.Fatalf("%d people read: %v", i, err)
	}
	var count, sum, suspended int64
	if err := db.SQL().QueryRow(`SELECT count(*), sum(amount) FROM payments`).Scan(&count, &sum); err != nil {
		t.Fatal(err)
	}
	if count != n+1000+2500 || sum != n*310000+1000+2500*7 {
		t.Fatalf("payments: %d rows summing %d, want %d summing %d", count, sum, n+1000+2500, n*310000+1000+2500*7)
	}
	if err := db.SQL().QueryRow(`SELECT count(*) FROM people WHERE status = ` + fmt.Sprint(int(sc.StatusSuspended))).Scan(&suspended); err != nil {
		t.Fatal(err)
	}
	if suspended != (n+6)/7 {
		t.Fatalf("%d suspended in people's columns, want %d", suspended, (n+6)/7)
	}
	if db.Dialect() == store.Postgres { // migration 0012: room on each page for a state's next version
		var opts string
		if err := db.SQL().QueryRow(`SELECT COALESCE(array_to_string(reloptions, ','), '') FROM pg_class WHERE oid = 'people_state'::regclass`).Scan(&opts); err != nil || opts != "fillfactor=50" {
			t.Fatalf("people_state's options %q, %v", opts, err)
		}
	}
	var problems int
	checked, err := db.VerifyAudit(ctx, func(store.AuditProblem) { problems++ })
	// The 3,000 rows, the migrations' and the two that cover each transaction's payments
	// (COPY's and the stage's alike, the keys stored already not counted in).
	if err != nil || checked != 3000+migrationRows(t, db)+2 || problems != 0 {
		t.Fatalf("audit: %d rows checked, %d problems, %v", checked, problems, err)
	}
}

// committed runs fn in a transaction of db and commits it, failing t on any error.
func committed(t *testing.T, db *store.DB, fn func(tx *store.Tx) error) {
	t.Helper()
	tx, err := db.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}
