package service_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/service"
	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
)

// TestBackPayIsWhatWasWithheld (from the finance review's TestMoneyBackPayIsWhatWasWithheld):
// 张三 is suspended; November 2023 to January 2024 are withheld at 1,000.00 each (January's
// payroll ran on the 1st). A roster import on 2024-01-05 changes his pension (the yearly
// adjustment up to 1,200.00; or down to 800.00, an amount corrected), and he is certified
// at the counter on 2024-01-10. February's payroll back-pays each month what was withheld
// for it, 1,000.00 — what everyone paid on time got for those months — where it paid the
// roster's amount of the day (600.00 the fund never owed; or 600.00 short). The payment
// rows, the payroll's sums, the payment file, the run's counters, money to recover after a
// death found later and the audit trail's payment rows all say the same.
func TestBackPayIsWhatWasWithheld(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		for _, c := range []struct {
			name, amount string
			back         sc.Fen // February's back pay: three months at 1,000.00
		}{{"raised", "1200.00", 300000}, {"lowered", "800.00", 300000}} {
			t.Run(dsn.Name+"/"+c.name, func(t *testing.T) {
				ctx := context.Background()
				db := dsn.Open(t)
				s, reimport := backPayCity(t, db, "1000.00,2000-04,,,2022-08-01")
				runDays(t, s, "2023-11-01", "2024-01-05")
				reimport(c.amount + ",2000-04,,,2022-08-01")
				counter := csvBatch("HRSS", header+"C1,HRSS,HRSS.COUNTER,371002194003150019,张三,1940-03-15,2024-01-10,2024-01-10,,\n")
				counter.Day = sc.MustDate("2024-01-10")
				if _, err := s.Ingest(ctx, counter); err != nil {
					t.Fatal(err)
				}
				runDays(t, s, "2024-01-06", "2024-02-01")
				want := []string{
					"2023-11 WITHHELD:SUSPENDED 1000.00@2023-11",
					"2023-12 WITHHELD:SUSPENDED 1000.00@2023-12",
					"2024-01 WITHHELD:SUSPENDED 1000.00@2024-01",
					"2023-11 BACK_PAY 1000.00@2024-02",
					"2023-12 BACK_PAY 1000.00@2024-02",
					"2024-01 BACK_PAY 1000.00@2024-02",
					"2024-02 REGULAR " + c.amount + "@2024-02",
				}
				if got := paymentList(t, db); strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Errorf("payments:\n  %s\nwant each month back-paid what was withheld for it:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
				}
				pr, err := db.PayrollRun(ctx, sc.MustDate("2024-02-01").Month())
				if err != nil {
					t.Fatal(err)
				}
				if pr.BackPay != c.back || pr.Rows != 4 {
					t.Errorf("February's payroll: back pay %s in %d rows, want %s in 4", pr.BackPay, pr.Rows, c.back)
				}
				var file strings.Builder
				if _, err := s.WritePayroll(ctx, sc.MustDate("2024-02-01").Month(), &file); err != nil {
					t.Fatal(err)
				}
				for _, row := range []string{"2024-02,371002194003150019,EMP_PENSION,2023-11,BACK_PAY,1000.00,", "2024-02,371002194003150019,EMP_PENSION,2024-01,BACK_PAY,1000.00,"} {
					if !strings.Contains(file.String(), row+"\n") {
						t.Errorf("payroll --month 2024-02 lacks %s:\n%s", row, file.String())
					}
				}
				counters, err := db.Counters(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if got := sc.Fen(counters["money.paid_back_pay"]); got != c.back {
					t.Errorf("counter money.paid_back_pay %s, want %s", got, c.back)
				}
				// A death of October 2023 found now: every month since was overpaid, and is
				// to recover at what was paid for it (counted so while the counter's
				// certification since disputes it).
				death := csvBatch("PSB", header+"D1,PSB,PSB.DEATH_DEREG,371002194003150019,张三,1940-03-15,2023-10-20,2024-02-10,,\n")
				death.Day = sc.MustDate("2024-02-10")
				if _, err := s.Ingest(ctx, death); err != nil {
					t.Fatal(err)
				}
				recs, err := s.Recoveries(ctx, "")
				if err != nil {
					t.Fatal(err)
				}
				amount, _ := sc.ParseYuan(c.amount)
				if len(recs) != 1 || recs[0].Months != 4 || recs[0].Amount != c.back+amount {
					t.Errorf("recoveries %+v, want 4 months, %s (what was paid)", recs, c.back+amount)
				}
				if n, err := db.VerifyAudit(ctx, func(p store.AuditProblem) { t.Errorf("audit: %+v", p) }); err != nil || n == 0 {
					t.Errorf("audit verify: %d rows, %v", n, err)
				}
			})
		}
	}
}

const backPayRosterHeader = "person_id,name,sex,birth_date,hukou_address,region_code,phone,agent_phone,benefit_type,monthly_amount,start_month,end_month,offset_capacity,last_certified\n"

// backPayCity opens a service on db, its clock at 2024-06-01, with 张三 enrolled by a
// roster row whose EMP_PENSION columns (amount, start and end month, offset capacity, last
// certified) are tail; reimport imports the roster again with other columns.
func backPayCity(t *testing.T, db *store.DB, tail string) (s *service.Service, reimport func(tail string)) {
	t.Helper()
	ctx := context.Background()
	s, err := service.Open(ctx, db, service.Options{Now: func() time.Time { return time.Date(2024, 6, 1, 9, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	reimport = func(tail string) {
		t.Helper()
		path := filepath.Join(dir, "roster.csv")
		if err := os.WriteFile(path, []byte(backPayRosterHeader+"371002194003150019,张三,1,1940-03-15,,371002001001,,,EMP_PENSION,"+tail+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ImportRoster(ctx, path, "", "test"); err != nil {
			t.Fatal(err)
		}
	}
	reimport(tail)
	return s, reimport
}

// paymentList lists every row of the payments table as "MONTH KIND AMOUNT@PAYROLL", in
// the store's order (payroll month, person, benefit, month, kind).
func paymentList(t *testing.T, db *store.DB) []string {
	t.Helper()
	var got []string
	if err := db.Payments(context.Background(), sc.NoMonth, func(p *store.Payment) error {
		got = append(got, p.Month.String()+" "+p.Kind+" "+p.Amount.String()+"@"+p.PayrollMonth.String())
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

// TestBackPayWithheldUnknown: a month held whose WITHHELD row is not in the store (a row
// lost, or a state older than its payments) is back-paid at the roster's amount, as
// backtest pays, not dropped or paid nothing.
func TestBackPayWithheldUnknown(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			ctx := context.Background()
			db := dsn.Open(t)
			s, reimport := backPayCity(t, db, "1000.00,2000-04,,,2022-08-01")
			runDays(t, s, "2023-11-01", "2024-01-05")
			reimport("1200.00,2000-04,,,2022-08-01")
			if _, err := db.SQL().ExecContext(ctx, db.Rebind(`DELETE FROM payments WHERE kind LIKE 'WITHHELD:%' AND month = ?`), int64(sc.MustDate("2023-11-01").Month())); err != nil {
				t.Fatal(err)
			}
			counter := csvBatch("HRSS", header+"C1,HRSS,HRSS.COUNTER,371002194003150019,张三,1940-03-15,2024-01-10,2024-01-10,,\n")
			counter.Day = sc.MustDate("2024-01-10")
			if _, err := s.Ingest(ctx, counter); err != nil {
				t.Fatal(err)
			}
			runDays(t, s, "2024-01-06", "2024-02-01")
			want := []string{
				"2023-12 WITHHELD:SUSPENDED 1000.00@2023-12",
				"2024-01 WITHHELD:SUSPENDED 1000.00@2024-01",
				"2023-11 BACK_PAY 1200.00@2024-02",
				"2023-12 BACK_PAY 1000.00@2024-02",
				"2024-01 BACK_PAY 1000.00@2024-02",
				"2024-02 REGULAR 1200.00@2024-02",
			}
			if got := paymentList(t, db); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("payments:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
		})
	}
}
