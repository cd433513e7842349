package service_test

// The store against replay's files, as the fund's accountant reconciles them (a finance
// review, session 19).

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/service"
	"github.com/silentcert/silentcert/sim"
	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
)

// TestMoneyReplayStoreAgreesWithFiles: replay's payroll.csv and overpayments.csv are
// written from the people's engine states (backtest.Final), not from the payments table
// the payment system's file (`payroll --month`) and the console read; TestReplay* compare
// only those files with backtest's. This checks, on a simulated city replayed through the
// service, that the store says the same: every REGULAR and BACK_PAY row of payments is a
// row of payroll.csv and the reverse; no month is paid twice (REGULAR and BACK_PAY, or
// two payrolls); the payrolls table's sums are the rows'; `payroll --month`'s files, month
// by month, hold every payment; and `payroll --recoveries` has overpayments.csv's figures.
func TestMoneyReplayStoreAgreesWithFiles(t *testing.T) {
	city := t.TempDir()
	from, to := sc.MustDate("2024-01-01"), sc.MustDate("2024-12-31")
	n := 2000
	if testing.Short() {
		n = 300
	}
	if _, err := sim.Simulate(context.Background(), sim.Options{City: "3710", Recipients: n, From: from, To: to, Seed: 11,
		Out: city, HistoryMonths: 3, Overwrite: true}); err != nil {
		t.Fatal(err)
	}
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			ctx := context.Background()
			db := dsn.Open(t)
			out := t.TempDir()
			if _, err := service.Replay(ctx, db, service.ReplayOptions{Roster: filepath.Join(city, "roster.csv"), Records: []string{filepath.Join(city, "records")},
				From: from, To: to, Out: out, SpillDir: t.TempDir()}); err != nil {
				t.Fatal(err)
			}
			// payroll.csv: month,person_id,benefit_type,amount,kind
			file := map[string]bool{}
			lines := strings.Split(strings.TrimSpace(string(mustRead(t, filepath.Join(out, "payroll.csv")))), "\n")[1:]
			for _, l := range lines {
				file[l] = true
			}
			s, err := service.Open(ctx, db, service.Options{Now: func() time.Time { return time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC) }})
			if err != nil {
				t.Fatal(err)
			}
			ids := map[int64]string{}
			type key struct {
				pid     int64
				benefit string
				month   sc.Month
			}
			paidFor := map[key][]string{}
			sums := map[sc.Month][3]sc.Fen{}
			inStore := map[string]bool{}
			perr := db.Payments(ctx, sc.NoMonth, func(p *store.Payment) error {
				k := key{p.PID, p.Benefit, p.Month}
				x := sums[p.PayrollMonth]
				switch p.Kind {
				case "REGULAR", "BACK_PAY":
					paidFor[k] = append(paidFor[k], p.Kind+"@"+p.PayrollMonth.String())
					if p.Kind == "REGULAR" {
						x[0] += p.Amount
					} else {
						x[1] += p.Amount
					}
					id, ok := ids[p.PID]
					if !ok {
						sp, err := db.PeopleOf(ctx, []int64{p.PID})
						if err != nil {
							return err
						}
						id = sp[p.PID].Rec.PersonID
						ids[p.PID] = id
					}
					inStore[p.Month.String()+","+id+","+p.Benefit+","+p.Amount.String()+","+p.Kind] = true
				default:
					x[2] += p.Amount
				}
				sums[p.PayrollMonth] = x
				return nil
			})
			if perr != nil {
				t.Fatal(perr)
			}
			for k, v := range paidFor {
				if len(v) > 1 {
					t.Errorf("pid %d %s %s paid %d times: %v", k.pid, k.benefit, k.month, len(v), v)
				}
			}
			missing, extra := 0, 0
			for l := range file {
				if !inStore[l] {
					if missing < 5 {
						t.Errorf("payroll.csv row not in payments: %s", l)
					}
					missing++
				}
			}
			for l := range inStore {
				if !file[l] {
					if extra < 5 {
						t.Errorf("payments row not in payroll.csv: %s", l)
					}
					extra++
				}
			}
			t.Logf("payroll.csv %d rows, payments %d paid rows; %d missing from the store, %d extra", len(file), len(inStore), missing, extra)
			for m := from.Month(); m <= to.Month(); m++ {
				pr, err := db.PayrollRun(ctx, m)
				if err != nil {
					t.Fatal(err)
				}
				if x := sums[m]; pr.Paid != x[0] || pr.BackPay != x[1] || pr.Withheld != x[2] {
					t.Errorf("payroll %s: payrolls table paid %s back %s withheld %s; payments rows %s %s %s", m, pr.Paid, pr.BackPay, pr.Withheld, x[0], x[1], x[2])
				}
				var b strings.Builder
				rows, err := s.WritePayroll(ctx, m, &b)
				if err != nil {
					t.Fatal(err)
				}
				var pay, back, held sc.Fen
				for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n")[1:] {
					f := strings.Split(l, ",")
					a, ok := sc.ParseYuan(f[5])
					if !ok {
						t.Fatalf("payroll file %s: amount %q", m, f[5])
					}
					switch f[4] {
					case "PAY":
						pay += a
					case "BACK_PAY":
						back += a
					case "WITHHOLD":
						held += a
					}
				}
				if x := sums[m]; pay != x[0] || back != x[1] || held != x[2] {
					t.Errorf("payroll --month %s (%d rows): paid %s back %s withheld %s; payments %s %s %s", m, rows, pay, back, held, x[0], x[1], x[2])
				}
			}
			// payroll --recoveries against overpayments.csv (a disputed death aside).
			var b strings.Builder
			if _, err := s.WriteRecoveries(ctx, &b); err != nil {
				t.Fatal(err)
			}
			var rec []string
			for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n")[1:] {
				f := strings.Split(l, ",")
				if f[6] == "CONFLICT" {
					continue
				}
				rec = append(rec, strings.Join(f[:6], ","))
			}
			ops := strings.Split(strings.TrimSpace(string(mustRead(t, filepath.Join(out, "overpayments.csv")))), "\n")[1:]
			if strings.Join(rec, "\n") != strings.Join(ops, "\n") {
				t.Errorf("payroll --recoveries differs from overpayments.csv:\n%s\n---\n%s", strings.Join(rec, "\n"), strings.Join(ops, "\n"))
			}
			t.Logf("%d overpayment rows", len(ops))
		})
	}
}
