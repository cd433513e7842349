package service_test

// The final review of session 19: what a roster import reports as money for the fund.

import (
	"context"
	"strings"
	"testing"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/store/storetest"
)

// TestRosterArrearsUnderLoss: 张三 is imprisoned (JUS.PRISON_IN of 2024-02-10,
// reported the same day): March's and April's payrolls withhold his pension for the LOSS
// (not due: spec §6). A roster of 2024-04-02 moves his ELDERLY_ALLOWANCE's start_month
// from 2024-05 to 2024-02. February (paid his pension, he was eligible) is the only month
// of it not paid that was due; March and April were not due to him at all. The import
// reported all three as arrears "for the fund to settle" (the LOSS was not looked at),
// as it did for an entitlement the roster names late (arrearsOf). February alone now.
func TestRosterArrearsUnderLoss(t *testing.T) {
	for _, c := range []struct{ name, before, then string }{
		{"moved", "ELDERLY_ALLOWANCE,100.00,2024-05,,,2024-01-10", "ELDERLY_ALLOWANCE,100.00,2024-02,,,2024-01-10"},
		{"added", "", "ELDERLY_ALLOWANCE,100.00,2024-02,,,2024-01-10"},
	} {
		for _, dsn := range storetest.DSNs(t) {
			t.Run(c.name+"/"+dsn.Name, func(t *testing.T) {
				ctx := context.Background()
				db := dsn.Open(t)
				rows := []string{"EMP_PENSION,1000.00,2000-04,,,2024-01-10"}
				if c.before != "" {
					rows = append(rows, c.before)
				}
				s, reimport := monthsCity(t, db, rows...)
				runDays(t, s, "2024-02-01", "2024-02-10")
				b := csvBatch("JUS", header+"J1,JUS,JUS.PRISON_IN,"+zhang+",张三,1940-03-15,2024-02-10,2024-02-10,,\n")
				b.Day = sc.MustDate("2024-02-10")
				if _, err := s.Ingest(ctx, b); err != nil {
					t.Fatal(err)
				}
				runDays(t, s, "2024-02-11", "2024-04-01")
				if got := strings.Join(paidRows(t, db), " | "); !strings.Contains(got, "EMP_PENSION 2024-04 WITHHELD:LOSS") {
					t.Fatalf("payments %s: want April withheld for the LOSS", got)
				}
				res := reimport("EMP_PENSION,1000.00,2000-04,,,2024-01-10", c.then)
				if res.ArrearsMonths != 1 {
					t.Errorf("arrears %d months (%+v %+v), want 1 (February): March and April were under a LOSS, not due", res.ArrearsMonths, res.MovedEntitlements, res.AddedEntitlements)
				}
			})
		}
	}
}

// TestRosterOverpaidNotTwice: 张三 dies on 2024-02-15, reported on 2024-04-20:
// March and April were paid after the death, and are on the recovery list (2 months).
// A roster of 2024-04-21 ends his pension in February. The import named March and April
// as "overpaid, to recover" (overpaid_months=2 in its report and on his row) though
// nothing was added to recover: the recovery list still holds the same 2 months, and a
// finance officer adding the import's figure to the list's counted them twice. The
// import names only what it adds.
func TestRosterOverpaidNotTwice(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			ctx := context.Background()
			db := dsn.Open(t)
			s, reimport := monthsCity(t, db, "EMP_PENSION,1000.00,2000-04,,5000.00,2024-01-10")
			runDays(t, s, "2024-02-01", "2024-04-20")
			b := csvBatch("PSB", header+"D1,PSB,PSB.DEATH_DEREG,"+zhang+",张三,1940-03-15,2024-02-15,2024-04-20,,\n")
			b.Day = sc.MustDate("2024-04-20")
			if _, err := s.Ingest(ctx, b); err != nil {
				t.Fatal(err)
			}
			before, err := s.Recoveries(ctx, "")
			if err != nil || len(before) != 1 || before[0].Months != 2 {
				t.Fatalf("recoveries before %+v %v", before, err)
			}
			res := reimport("EMP_PENSION,1000.00,2000-04,2024-02,5000.00,2024-01-10")
			after, err := s.Recoveries(ctx, "")
			if err != nil || len(after) != 1 {
				t.Fatalf("recoveries after %+v %v", after, err)
			}
			if added := after[0].Months - before[0].Months; res.OverpaidMonths != added {
				t.Errorf("the import reports %d months overpaid (%+v); the recovery list gained %d", res.OverpaidMonths, res.MovedEntitlements, added)
			}
		})
	}
}

// TestRosterAddedUnderSuspension: 张三's certification runs out (last certified
// 2023-01-15: suspended from 2024-02-16), so March's and April's payrolls withhold his
// pension for the suspension. A roster of 2024-04-02 gives him an ELDERLY_ALLOWANCE from
// 2024-02 (added, or its start_month moved from 2024-05). February is owed (his pension
// was paid): arrears. March and April were not owed while he was suspended: they are
// held for the allowance as for the pension, and the counter visit that resumes him pays
// both as back pay. Before, all three were reported as arrears "for the fund to settle",
// and the resumption paid the pension's months only.
func TestRosterAddedUnderSuspension(t *testing.T) {
	for _, c := range []struct{ name, before, then string }{
		{"added", "", "ELDERLY_ALLOWANCE,100.00,2024-02,,,2023-01-15"},
		{"moved", "ELDERLY_ALLOWANCE,100.00,2024-05,,,2023-01-15", "ELDERLY_ALLOWANCE,100.00,2024-02,,,2023-01-15"},
	} {
		for _, dsn := range storetest.DSNs(t) {
			t.Run(c.name+"/"+dsn.Name, func(t *testing.T) {
				ctx := context.Background()
				db := dsn.Open(t)
				rows := []string{"EMP_PENSION,1000.00,2000-04,,,2023-01-15"}
				if c.before != "" {
					rows = append(rows, c.before)
				}
				s, reimport := monthsCity(t, db, rows...)
				runDays(t, s, "2024-02-01", "2024-04-01")
				res := reimport("EMP_PENSION,1000.00,2000-04,,,2023-01-15", c.then)
				changes := append(res.AddedEntitlements, res.MovedEntitlements...)
				if res.ArrearsMonths != 1 || len(changes) != 1 || changes[0].HeldMonths != 2 || changes[0].ArrearsFrom.String() != "2024-02" {
					t.Errorf("arrears %d months, changes %+v: want February owed, March and April held", res.ArrearsMonths, changes)
				}
				b := csvBatch("HRSS", header+"C1,HRSS,HRSS.COUNTER,"+zhang+",张三,1940-03-15,2024-04-10,2024-04-10,,\n")
				b.Day = sc.MustDate("2024-04-10")
				if _, err := s.Ingest(ctx, b); err != nil {
					t.Fatal(err)
				}
				runDays(t, s, "2024-04-02", "2024-05-01")
				got := strings.Join(paidRows(t, db), " | ")
				for _, want := range []string{"ELDERLY_ALLOWANCE 2024-03 BACK_PAY@2024-05", "ELDERLY_ALLOWANCE 2024-04 BACK_PAY@2024-05", "EMP_PENSION 2024-04 BACK_PAY@2024-05"} {
					if !strings.Contains(got, want) {
						t.Errorf("payments %s: want %s", got, want)
					}
				}
				if strings.Contains(got, "ELDERLY_ALLOWANCE 2024-02") {
					t.Errorf("payments %s: February is arrears for the fund, not paid here", got)
				}
			})
		}
	}
}

// TestRosterAddedUnderLossThenLateRestore: 张三 is admitted to prison on 2024-02-10
// (reported 02-15): March's and April's payrolls withhold his pension for the LOSS. A
// roster of 2024-04-02 gives him an ELDERLY_ALLOWANCE from 2024-01. A release dated
// 2024-02-20, reported late on 04-20, shows March and April were due after all: the
// pension's are back-paid at May's payroll, and so are the allowance's, held with the
// pension's at the import (a final review of session 20: the LOSS made them neither held
// nor arrears, and they were lost).
func TestRosterAddedUnderLossThenLateRestore(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			db := dsn.Open(t)
			s, reimport := monthsCity(t, db, "EMP_PENSION,1000.00,2000-04,,,2024-01-10")
			ingest := func(day, row string) { t.Helper(); ingestRow(t, s, day, row) }
			runDays(t, s, "2024-02-01", "2024-02-14")
			ingest("2024-02-15", "L1,JUS,JUS.PRISON_IN,"+zhang+",张三,1940-03-15,2024-02-10,2024-02-15,,")
			runDays(t, s, "2024-02-15", "2024-04-01")
			res := reimport("EMP_PENSION,1000.00,2000-04,,,2024-01-10", "ELDERLY_ALLOWANCE,100.00,2024-01,,,2024-01-10")
			ingest("2024-04-20", "R1,JUS,JUS.PRISON_OUT,"+zhang+",张三,1940-03-15,2024-02-20,2024-04-20,,")
			runDays(t, s, "2024-04-02", "2024-05-01")
			got := strings.Join(paidRows(t, db), " | ")
			for _, want := range []string{"EMP_PENSION 2024-03 BACK_PAY@2024-05", "EMP_PENSION 2024-04 BACK_PAY@2024-05"} {
				if !strings.Contains(got, want) {
					t.Fatalf("payments %s: want %s", got, want)
				}
			}
			a := res.AddedEntitlements
			for _, m := range []string{"2024-03", "2024-04"} {
				paid := strings.Contains(got, "ELDERLY_ALLOWANCE "+m+" BACK_PAY")
				arrear := len(a) == 1 && a[0].ArrearsMonths > 0 && a[0].ArrearsFrom.String() <= m && m <= a[0].ArrearsTo.String()
				if !paid && !arrear {
					t.Errorf("the allowance's %s, due (the release of 02-20 shows it), is neither paid nor in the arrears: added %+v; payments %s", m, a, got)
				}
			}
		})
	}
}
