package service_test

import (
	"context"
	"fmt"
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

// TestBackPayKeptForAVoidedDeathAcrossRestart is engine's TestBackPayKeptForAVoidedDeath
// run by the service, on both stores, restarted between the payroll that keeps September
// and October from being paid (the death stands) and the review that voids the death, so
// that the months kept for the review come back from the stored state: 张三 is suspended,
// resumed on 2024-10-20 with three months of back pay, a death dated 08-17 is applied on
// 10-25, a counter visit on 12-10 disputes it and accept=alive voids it on 2025-01-15.
// February's payroll pays September and October as back pay, with January (before, they
// were dropped at November's payroll for good). With back_pay_voided_death on, November
// and December, whose payrolls ran while the death stood, are paid too, the service
// restarted again between the dispute and the review.
func TestBackPayKeptForAVoidedDeathAcrossRestart(t *testing.T) {
	for _, voided := range []bool{false, true} {
		for _, dsn := range storetest.DSNs(t) {
			t.Run(fmt.Sprintf("%s/back_pay_voided_death=%v", dsn.Name, voided), func(t *testing.T) {
				backPayKeptForAVoidedDeath(t, dsn, voided)
			})
		}
	}
}

func backPayKeptForAVoidedDeath(t *testing.T, dsn storetest.DSN, voided bool) {
	ctx := context.Background()
	db := dsn.Open(t)
	cfg := sc.DefaultConfig()
	cfg.Policy.BackPayVoidedDeath = voided
	opt := service.Options{Config: cfg, Now: func() time.Time { return time.Date(2024, 6, 20, 9, 0, 0, 0, time.UTC) }}
	s, err := service.Open(ctx, db, opt)
	if err != nil {
		t.Fatal(err)
	}
	enrolZhang(t, s, "2023-06-01")
	ingest := func(day, row string) { t.Helper(); ingestRow(t, s, day, row) }
	runDays(t, s, "2024-07-01", "2024-10-19")
	ingest("2024-10-20", "K1,HEA,HEA.CHECKUP,371002194003150019,张三,1940-03-15,2024-05-06,2024-10-20,,")
	runDays(t, s, "2024-10-20", "2024-10-24")
	ingest("2024-10-25", "D1,PSB,PSB.DEATH_DEREG,371002194003150019,张三,1940-03-15,2024-08-17,2024-10-25,,")
	runDays(t, s, "2024-10-25", "2024-12-09")
	// A restart: the months kept for a review are in the stored state, or nowhere.
	if s, err = service.Open(ctx, db, opt); err != nil {
		t.Fatal(err)
	}
	ingest("2024-12-10", "C1,HRSS,HRSS.COUNTER,371002194003150019,张三,1940-03-15,2024-12-10,2024-12-10,,")
	runDays(t, s, "2024-12-10", "2025-01-14")
	if s, err = service.Open(ctx, db, opt); err != nil {
		t.Fatal(err)
	}
	ingest("2025-01-15", "V1,HRSS,HRSS.REVIEW,371002194003150019,张三,1940-03-15,2025-01-15,2025-01-15,,accept=alive;ref=PSB:D1")
	runDays(t, s, "2025-01-15", "2025-02-01")
	var got []string
	if err := db.Payments(ctx, sc.NoMonth, func(p *store.Payment) error {
		got = append(got, p.Month.String()+" "+p.Kind+" "+p.Amount.String()+"@"+p.PayrollMonth.String())
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"2024-07 REGULAR 1000.00@2024-07",
		"2024-08 WITHHELD:SUSPENDED 1000.00@2024-08",
		"2024-09 WITHHELD:SUSPENDED 1000.00@2024-09",
		"2024-10 WITHHELD:SUSPENDED 1000.00@2024-10",
		"2024-08 BACK_PAY 1000.00@2024-11",
		"2025-01 WITHHELD:CONFLICT 1000.00@2025-01",
		"2024-09 BACK_PAY 1000.00@2025-02",
		"2024-10 BACK_PAY 1000.00@2025-02",
		"2025-01 BACK_PAY 1000.00@2025-02",
		"2025-02 REGULAR 1000.00@2025-02",
	}
	if voided {
		want = slices.Insert(want, 8, "2024-11 BACK_PAY 1000.00@2025-02", "2024-12 BACK_PAY 1000.00@2025-02")
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("payments:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// TestVoidedDeathConflictOnThe1stAfterTheRun: with back_pay_voided_death on, a death
// dated 2024-02-05 (applied 02-10) stops 张三; March's and April's payrolls run while he
// is TERMINATED. A counter visit on 2024-04-01, ingested after that day's run (its
// payroll already ran, TERMINATED), disputes the death; accept=alive on 05-10 voids it.
// March and April both ran while the voided death stood: both are back pay, with May
// (held during the dispute). (A final review of session 20: a conflict applied on the 1st
// was taken to come before that day's payroll, and April was neither held nor paid.)
func TestVoidedDeathConflictOnThe1stAfterTheRun(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			db := dsn.Open(t)
			s := openVoided(t, db, time.Date(2024, 1, 20, 9, 0, 0, 0, time.UTC))
			enrolZhang(t, s, "2024-01-10")
			ingest := func(day, row string) { t.Helper(); ingestRow(t, s, day, row) }
			runDays(t, s, "2024-02-01", "2024-02-09")
			ingest("2024-02-10", "D1,PSB,PSB.DEATH_DEREG,371002194003150019,张三,1940-03-15,2024-02-05,2024-02-10,,")
			runDays(t, s, "2024-02-10", "2024-04-01")
			// After the 1st's run: April's payroll has run, with him TERMINATED.
			ingest("2024-04-01", "C1,HRSS,HRSS.COUNTER,371002194003150019,张三,1940-03-15,2024-04-01,2024-04-01,,")
			runDays(t, s, "2024-04-02", "2024-05-09")
			ingest("2024-05-10", "V1,HRSS,HRSS.REVIEW,371002194003150019,张三,1940-03-15,2024-05-10,2024-05-10,,accept=alive;ref=PSB:D1")
			runDays(t, s, "2024-05-10", "2024-06-01")
			back := backPayMonths(t, db)
			if got, want := strings.Join(back, " "), "2024-03 2024-04 2024-05"; got != want {
				t.Errorf("back pay for %q, want %q", got, want)
			}
		})
	}
}

// TestVoidedDeathHistoryMonthsNotPaid: with back_pay_voided_death on, a history batch
// (reported before the service's first day, 2024-01-01) holds a death dated 2023-05-05
// (reported 05-10) and a hospital stay dated 2023-08-08 (reported 08-10) that disputes it.
// No payroll of the service ran before 2024-01: June to December 2023 were the replaced
// system's. The review of 2024-01-15 that voids the death pays January (held during the
// dispute at the service's first payroll) alone. (A final review of session 20: June to
// August 2023, payrolls that never ran here, were paid too.)
func TestVoidedDeathHistoryMonthsNotPaid(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			ctx := context.Background()
			db := dsn.Open(t)
			s := openVoided(t, db, time.Date(2023, 12, 20, 9, 0, 0, 0, time.UTC))
			enrolZhang(t, s, "2023-01-10")
			h := csvBatch("PSB", header+
				"D1,PSB,PSB.DEATH_DEREG,371002194003150019,张三,1940-03-15,2023-05-05,2023-05-10,,\n"+
				"S1,MED,MED.INPATIENT,371002194003150019,张三,1940-03-15,2023-08-08,2023-08-10,,\n")
			h.Source, h.History, h.Day = "", true, sc.MustDate("2023-12-20")
			if _, err := s.Ingest(ctx, h); err != nil {
				t.Fatal(err)
			}
			runDays(t, s, "2024-01-01", "2024-01-14")
			b := csvBatch("HRSS", header+"V1,HRSS,HRSS.REVIEW,371002194003150019,张三,1940-03-15,2024-01-15,2024-01-15,,accept=alive;ref=PSB:D1\n")
			b.Day = sc.MustDate("2024-01-15")
			if _, err := s.Ingest(ctx, b); err != nil {
				t.Fatal(err)
			}
			runDays(t, s, "2024-01-15", "2024-02-01")
			back := backPayMonths(t, db)
			if got, want := strings.Join(back, " "), "2024-01"; got != want {
				t.Errorf("back pay for %q, want %q (no payroll of the service ran before 2024-01)", got, want)
			}
		})
	}
}

// enrolZhang imports a roster of 张三 alone: EMP_PENSION 1000.00 from 2000-01, last
// certified on lastCertified.
func enrolZhang(t *testing.T, s *service.Service, lastCertified string) {
	t.Helper()
	roster := filepath.Join(t.TempDir(), "roster.csv")
	os.WriteFile(roster, []byte("person_id,name,sex,birth_date,hukou_address,region_code,phone,agent_phone,benefit_type,monthly_amount,start_month,end_month,offset_capacity,last_certified\n"+
		"371002194003150019,张三,1,1940-03-15,,371002001001,,,EMP_PENSION,1000.00,2000-01,,,"+lastCertified+"\n"), 0o644)
	if _, err := s.ImportRoster(context.Background(), roster, "", "test"); err != nil {
		t.Fatal(err)
	}
}

// ingestRow ingests one records row (header's columns) as its source's batch of day.
func ingestRow(t *testing.T, s *service.Service, day, row string) {
	t.Helper()
	b := csvBatch(strings.SplitN(row, ",", 3)[1], header+row+"\n")
	b.Day = sc.MustDate(day)
	if _, err := s.Ingest(context.Background(), b); err != nil {
		t.Fatal(err)
	}
}

// backPayMonths lists the months paid as back pay, in the payments' order.
func backPayMonths(t *testing.T, db *store.DB) []string {
	t.Helper()
	var back []string
	if err := db.Payments(context.Background(), sc.NoMonth, func(p *store.Payment) error {
		if p.Kind == "BACK_PAY" {
			back = append(back, p.Month.String())
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return back
}

// openVoided opens a service over db with back_pay_voided_death on, its clock at now.
func openVoided(t *testing.T, db *store.DB, now time.Time) *service.Service {
	t.Helper()
	cfg := sc.DefaultConfig()
	cfg.Policy.BackPayVoidedDeath = true
	s, err := service.Open(context.Background(), db, service.Options{Config: cfg, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return s
}
