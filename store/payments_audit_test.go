package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
)

// Payments against someone who can write the database: "to recover" is computed from what
// payments says was paid, and an UPDATE of one amount multiplied a case tenfold while
// audit verify said intact. Every payment row is covered by an audit row of kind payments.

// payTx writes ps in one transaction, sealed by Commit unless seal, and returns the seq of
// the covering row.
func payTx(t *testing.T, db *store.DB, seal bool, ps ...store.Payment) int64 {
	t.Helper()
	tx, err := db.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if err := tx.AddPayments(ps); err != nil {
		t.Fatal(err)
	}
	if seal {
		if err := tx.SealPayments(sc.MustDate("2024-11-01"), "2024-11-01T01:00:00Z", "system"); err != nil {
			t.Fatal(err)
		}
	}
	// A row after it, as the daily run's: the payments row need not be the last.
	if err := tx.Append([]store.AuditRow{{Kind: "run", Actor: "system", PID: -1, Action: "daily_run"}}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Trail(context.Background(), store.TrailQuery{Kind: store.PaymentsKind, Limit: 1, From: sc.NoDate, To: sc.NoDate})
	if err != nil || len(rows) != 1 {
		t.Fatal(rows, err)
	}
	return rows[0].Seq
}

func pay(pid int64, month string, kind string, fen int64) store.Payment {
	m := sc.MustDate(month + "-01").Month()
	return store.Payment{PID: pid, Benefit: "BASIC_PENSION", Month: m, Kind: kind, Amount: sc.Fen(fen), PayrollMonth: m}
}

func TestPaymentTampering(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper string // %d: the second transaction's covering row
		want   string // %d likewise
	}{
		{"untouched", ``, ``},
		{"amount changed", `UPDATE payments SET amount = amount * 10 WHERE pid = 404`,
			`%d the payments of batch`},
		{"row deleted", `DELETE FROM payments WHERE pid = 404`, `%d the payments of batch`},
		{"row inserted", `INSERT INTO payments (pid, benefit, month, kind, amount, payroll_month) VALUES (405, 'BASIC_PENSION', 24130, 'BACK_PAY', 9900, 24130)`,
			`0 payment pid=405 benefit=BASIC_PENSION month=`},
		{"row inserted into a batch", `INSERT INTO payments (pid, benefit, month, kind, amount, payroll_month, pay_batch)
			SELECT 406, benefit, month, kind, amount, payroll_month, pay_batch FROM payments WHERE pid = 404`, `%d the payments of batch`},
		{"row moved to another batch", `UPDATE payments SET pay_batch = 0 WHERE pid = 404`, `%d the payments of batch`},
	} {
		for _, dsn := range storetest.DSNs(t) {
			t.Run(tc.name+"/"+dsn.Name, func(t *testing.T) {
				db := dsn.Open(t)
				payTx(t, db, true, pay(403, "2024-10", "REGULAR", 150000), pay(404, "2024-10", "REGULAR", 150000))
				seq := payTx(t, db, false, pay(404, "2024-11", "REGULAR", 150000), pay(404, "2024-10", "BACK_PAY", 3000),
					pay(407, "2024-11", "WITHHELD:SUSPENDED", 120000))
				// The same keys again (a payroll run twice) and one new: the row counts only
				// what was stored.
				payTx(t, db, false, pay(404, "2024-11", "REGULAR", 150000), pay(408, "2024-11", "REGULAR", 1))
				if got := problems(t, db); got != "" {
					t.Fatalf("before any change: %s", got)
				}
				if tc.tamper == "" {
					return
				}
				mustExec(t, db.SQL(), tc.tamper)
				got := problems(t, db)
				if want := tc.want; !strings.Contains(got, strings.ReplaceAll(want, "%d", fmt.Sprint(seq))) {
					t.Fatalf("problems:\n%s\nwant %q (seq %d)", got, want, seq)
				}
			})
		}
	}
}

// TestPaymentsMigration: migration 0033 covers the payments an older binary wrote by one
// row, and a change to them is then found.
func TestPaymentsMigration(t *testing.T) {
	ctx := context.Background()
	for _, u := range storetest.URLs(t) {
		t.Run(u.Name, func(t *testing.T) {
			dsn := u.DSN(t)
			old, err := store.OpenNoMigrate(dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer old.Close()
			if err := old.MigrateTo(ctx, 32); err != nil {
				t.Fatal(err)
			}
			mustExec(t, old.SQL(), `INSERT INTO payments (pid, benefit, month, kind, amount, payroll_month) VALUES
				(1, 'BASIC_PENSION', 24130, 'REGULAR', 150000, 24130), (2, 'BASIC_PENSION', 24130, 'REGULAR', 160000, 24130)`)
			old.Close()

			db, err := store.OpenAs(ctx, dsn, "cli:zhao")
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			rows, err := db.Trail(ctx, store.TrailQuery{Kind: store.PaymentsKind, Limit: 10, From: sc.NoDate, To: sc.NoDate})
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 1 || rows[0].Action != "existing" || !strings.HasPrefix(rows[0].Detail, "batch=0;rows=2;sum_fen=310000;sha256=") {
				t.Fatalf("payments rows %+v", rows)
			}
			if got := problems(t, db); got != "" {
				t.Fatalf("after the migration: %s", got)
			}
			mustExec(t, db.SQL(), `UPDATE payments SET amount = 1500000 WHERE pid = 1`)
			if got, want := problems(t, db), fmt.Sprintf("%d the payments of batch 0 do not match", rows[0].Seq); !strings.Contains(got, want) {
				t.Fatalf("problems:\n%s\nwant %q", got, want)
			}
		})
	}
}
