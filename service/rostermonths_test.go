package service_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/service"
	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
)

const zhang = "371002194003150019"

// monthsCity opens a service on db, its clock at 2024-06-01, with 张三 enrolled by a roster
// whose rows for him are the benefit columns rows (benefit_type through last_certified,
// one an entitlement); reimport imports the roster again with other rows.
func monthsCity(t *testing.T, db *store.DB, rows ...string) (s *service.Service, reimport func(rows ...string) *service.RosterResult) {
	t.Helper()
	return monthsCityWith(t, db, nil, rows...)
}

// monthsCityWith is monthsCity with the configuration cfg (nil: the defaults).
func monthsCityWith(t *testing.T, db *store.DB, cfg *sc.Config, rows ...string) (s *service.Service, reimport func(rows ...string) *service.RosterResult) {
	t.Helper()
	ctx := context.Background()
	s, err := service.Open(ctx, db, service.Options{Config: cfg, Now: func() time.Time { return time.Date(2024, 6, 1, 9, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	reimport = func(rows ...string) *service.RosterResult {
		t.Helper()
		var b strings.Builder
		b.WriteString("person_id,name,sex,birth_date,hukou_address,region_code,phone,agent_phone,benefit_type,monthly_amount,start_month,end_month,offset_capacity,last_certified\n")
		for _, r := range rows {
			b.WriteString(zhang + ",张三,1,1940-03-15,,371002001001,,," + r + "\n")
		}
		path := filepath.Join(dir, "roster.csv")
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		res, err := s.ImportRoster(ctx, path, "", "test")
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	reimport(rows...)
	return s, reimport
}

// rosterRows returns the details of the person's roster audit rows, "ACTION DETAIL".
func rosterRows(t *testing.T, db *store.DB, id string) []string {
	t.Helper()
	ctx := context.Background()
	p, err := db.PersonByID(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	trail, err := db.PersonAudit(ctx, p.PID)
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, a := range trail {
		if a.Kind == "roster" {
			rows = append(rows, a.Action+" "+a.Detail)
		}
	}
	return rows
}

// TestRosterMovesEntitlementOverPaidMonths is a finance review's case: 张三's EMP_PENSION
// (1,000.00, an offset capacity of 5,000.00) is paid for February through May; a roster
// import then moves its end_month to March, or its start_month to April (and raises the
// amount to 1,100.00). Two months were paid that the entitlement, as the roster now says,
// does not cover: they used to be overpaid to no one (the recovery list, `payroll
// --recoveries` and the dashboard had nothing to recover; the import's report named
// nothing). Now they are overpaid, at what was paid (1,000.00 a month), with no offset (as
// a late LOSS's months: spec §6), named in the import's result and the person's roster
// row, and on the recovery list and its export, read again from the store too.
func TestRosterMovesEntitlementOverPaidMonths(t *testing.T) {
	for _, c := range []struct {
		name, moved, from, to string
	}{
		{"end_month earlier", "EMP_PENSION,1100.00,2000-04,2024-03,5000.00,2024-01-10", "2024-04", "2024-05"},
		{"start_month later", "EMP_PENSION,1100.00,2024-04,,5000.00,2024-01-10", "2024-02", "2024-03"},
	} {
		for _, dsn := range storetest.DSNs(t) {
			t.Run(c.name+"/"+dsn.Name, func(t *testing.T) {
				ctx := context.Background()
				db := dsn.Open(t)
				s, reimport := monthsCity(t, db, "EMP_PENSION,1000.00,2000-04,,5000.00,2024-01-10")
				runDays(t, s, "2024-02-01", "2024-05-01")
				res := reimport(c.moved)
				if res.EntitlementMoved != 1 || res.OverpaidMonths != 2 || res.ArrearsMonths != 0 || len(res.MovedEntitlements) != 1 {
					t.Fatalf("the import: %+v", res)
				}
				if m := res.MovedEntitlements[0]; m.Benefit != "EMP_PENSION" || m.PersonID != zhang || m.OverpaidMonths != 2 ||
					m.OverpaidFrom.String() != c.from || m.OverpaidTo.String() != c.to || m.ArrearsFrom != sc.NoMonth {
					t.Errorf("moved: %+v", m)
				}
				rows := rosterRows(t, db, zhang)
				if want := ";EMP_PENSION.overpaid_months=2;EMP_PENSION.overpaid=" + c.from + ".." + c.to; len(rows) != 2 || !strings.HasSuffix(rows[1], want) {
					t.Errorf("roster rows:\n%s\nwant the second to end %s", strings.Join(rows, "\n"), want)
				}
				runDays(t, s, "2024-05-02", "2024-06-01")

				check := func(s *service.Service) {
					t.Helper()
					recs, err := s.Recoveries(ctx, "")
					if err != nil {
						t.Fatal(err)
					}
					if len(recs) != 1 || recs[0].PersonID != zhang || recs[0].Benefit != "EMP_PENSION" || recs[0].Months != 2 ||
						recs[0].Amount != 200000 || recs[0].Offset != 0 || recs[0].ToRecover != 200000 || recs[0].Outstanding != 200000 {
						t.Errorf("recoveries: %+v\nwant EMP_PENSION 2 months, 2000.00 to recover, no offset", recs)
					}
					var b strings.Builder
					if _, err := s.WriteRecoveries(ctx, &b); err != nil {
						t.Fatal(err)
					}
					if want := "\n" + zhang + ",EMP_PENSION,2,2000.00,0.00,2000.00,WARNING,,0.00,0.00,2000.00,0.00,0.00\n"; !strings.HasSuffix(b.String(), want) {
						t.Errorf("payroll --recoveries:\n%s\nwant it to end%s", b.String(), want)
					}
					if own, err := s.RecoveriesOf(ctx, recs[0].PID); err != nil || len(own) != 1 || own[0].ToRecover != 200000 {
						t.Errorf("the person's recoveries: %+v, %v", own, err)
					}
				}
				check(s)
				verifyClean(t, db)
				again, err := service.Open(ctx, db, service.Options{Now: func() time.Time { return time.Date(2024, 6, 1, 9, 0, 0, 0, time.UTC) }})
				if err != nil {
					t.Fatal(err)
				}
				check(again)
			})
		}
	}
}

// TestRosterWidensEntitlementArrears: an import that makes an entitlement cover months
// whose payroll already ran reports them as arrears, as those of an entitlement it adds
// (not paid here; the standard has no back pay for them). 张三's EMP_PENSION ended in
// February, and March's and April's payrolls ran with nothing to pay him; a roster in April
// removes the end: March and April used to be neither paid nor reported. His
// ELDERLY_ALLOWANCE, paid with a pension from April, is moved to start in February: the
// payrolls of February and March ran with him on them (his pension's).
func TestRosterWidensEntitlementArrears(t *testing.T) {
	for _, c := range []struct {
		name         string
		before, then []string
		benefit      string
		from, to     string
	}{
		{"end_month later", []string{"EMP_PENSION,1000.00,2000-04,2024-02,,2024-01-10"}, []string{"EMP_PENSION,1000.00,2000-04,,,2024-01-10"},
			"EMP_PENSION", "2024-03", "2024-04"},
		{"start_month earlier", []string{"EMP_PENSION,1000.00,2000-04,,,2024-01-10", "ELDERLY_ALLOWANCE,100.00,2024-04,,,2024-01-10"},
			[]string{"EMP_PENSION,1000.00,2000-04,,,2024-01-10", "ELDERLY_ALLOWANCE,100.00,2024-02,,,2024-01-10"},
			"ELDERLY_ALLOWANCE", "2024-02", "2024-03"},
	} {
		for _, dsn := range storetest.DSNs(t) {
			t.Run(c.name+"/"+dsn.Name, func(t *testing.T) {
				db := dsn.Open(t)
				s, reimport := monthsCity(t, db, c.before...)
				runDays(t, s, "2024-02-01", "2024-04-01")
				res := reimport(c.then...)
				if res.EntitlementMoved != 1 || res.ArrearsMonths != 2 || res.OverpaidMonths != 0 || len(res.MovedEntitlements) != 1 {
					t.Fatalf("the import: %+v", res)
				}
				if m := res.MovedEntitlements[0]; m.Benefit != c.benefit || m.ArrearsMonths != 2 || m.ArrearsFrom.String() != c.from ||
					m.ArrearsTo.String() != c.to || m.OverpaidFrom != sc.NoMonth {
					t.Errorf("moved: %+v", m)
				}
				rows := rosterRows(t, db, zhang)
				if want := ";" + c.benefit + ".arrears_months=2;" + c.benefit + ".arrears=" + c.from + ".." + c.to; len(rows) != 2 || !strings.HasSuffix(rows[1], want) {
					t.Errorf("roster rows:\n%s\nwant the second to end %s", strings.Join(rows, "\n"), want)
				}
				// Paid from the next payroll on; the arrears are not back-paid.
				runDays(t, s, "2024-04-02", "2024-05-01")
				got := paidRows(t, db)
				for _, g := range got {
					if f := strings.Fields(g); f[0] == c.benefit && f[1] >= c.from && f[1] <= c.to {
						t.Errorf("an arrears month paid: %s", g)
					}
				}
				if !slices.Contains(got, c.benefit+" 2024-05 REGULAR@2024-05") {
					t.Errorf("payments: %v; want May's", got)
				}
				verifyClean(t, db)
			})
		}
	}
}

// paidRows lists every payment as "BENEFIT MONTH KIND@PAYROLL".
func paidRows(t *testing.T, db *store.DB) []string {
	t.Helper()
	var got []string
	if err := db.Payments(context.Background(), sc.NoMonth, func(p *store.Payment) error {
		got = append(got, p.Benefit+" "+p.Month.String()+" "+p.Kind+"@"+p.PayrollMonth.String())
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

// verifyClean fails the test when db's audit trail does not verify: what the service did
// (the roster's rows and fields included) is what its trail says.
func verifyClean(t *testing.T, db *store.DB) {
	t.Helper()
	if n, err := db.VerifyAudit(context.Background(), func(p store.AuditProblem) { t.Errorf("audit: %+v", p) }); err != nil || n == 0 {
		t.Errorf("verify: %d rows, %v", n, err)
	}
}
