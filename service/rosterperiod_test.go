package service_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/service"
	"github.com/silentcert/silentcert/store/storetest"
)

// TestRosterPeriod: the service period P follows the roster (spec §6: capacity ÷ the sum of
// the monthly amounts). 张三 is enrolled, last certified 2022-10-01, with 1,000.00 a month
// and 20,000.00 of capacity (P 20 months: until 2024-06-01); a roster doubling the amount
// makes P 10, and the trail's row of the change names period_months=20→10, the until
// earned before kept. A certification at the counter on 2024-03-15 then runs 10 months
// (until 2025-01-15), not the 20 set at enrolment (2025-11-15).
func TestRosterPeriod(t *testing.T) {
	ctx := context.Background()
	db, s, reimport := zhangFrom(t, "1000.00,2000-04,,20000.00,2022-10-01")
	const id = "371002194003150019"
	until := func() string {
		t.Helper()
		p, err := db.PersonByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return p.Until.String()
	}
	if got := until(); got != "2024-06-01" {
		t.Fatalf("enrolled with P 20 from 2022-10-01: until %s", got)
	}
	if _, err := reimport("2000.00,2000-04,,20000.00,2022-10-01"); err != nil {
		t.Fatal(err)
	}
	if got := until(); got != "2024-06-01" {
		t.Errorf("the roster moved the until already earned: %s", got)
	}
	if rows := rosterRows(t, db, id); len(rows) != 2 || rows[1] != "update EMP_PENSION.monthly_amount=1000.00→2000.00;period_months=20→10" {
		t.Errorf("the roster's rows: %q", rows)
	}
	counter := csvBatch("HRSS", header+"C1,HRSS,HRSS.COUNTER,"+id+",张三,1940-03-15,2024-03-15,2024-03-15,,\n")
	counter.Day = sc.MustDate("2024-03-15")
	if _, err := s.Ingest(ctx, counter); err != nil {
		t.Fatal(err)
	}
	if got := until(); got != "2025-01-15" {
		t.Errorf("certified 2024-03-15 after the roster: until %s, want 2025-01-15 (P 10)", got)
	}
	verifyClean(t, db)
}

// TestRosterLaterCertified: a roster giving a last_certified after the import day is read
// as that day when it enrols the person (2099 would keep them certified for decades); the
// same roster imported again on a later day used to read the later day and log a change
// of last_certified each time. It is unchanged now, and the import counts the person so.
func TestRosterLaterCertified(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t, "sqlite:"+filepath.Join(t.TempDir(), "r.db"))
	day := time.Date(2024, 4, 1, 9, 0, 0, 0, time.UTC)
	s, err := service.Open(ctx, db, service.Options{Now: func() time.Time { return day }})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "roster.csv")
	os.WriteFile(path, []byte(rosterCols+"371002194003150019,张三,1,1940-03-15,,371002001001,,,EMP_PENSION,1000.00,2000-04,,,2099-01-01\n"), 0o644)
	if res, err := s.ImportRoster(ctx, path, "", "test"); err != nil || res.Added != 1 || len(res.Roster.Warnings) != 1 {
		t.Fatalf("first import: %+v, %v", res, err)
	}
	p, err := db.PersonByID(ctx, "371002194003150019")
	if err != nil {
		t.Fatal(err)
	}
	if p.Rec.LastCertified.String() != "2024-04-01" || p.Until.String() != "2025-04-01" {
		t.Fatalf("enrolled on %s, until %s: want the import day and 12 months", p.Rec.LastCertified, p.Until)
	}
	runDays(t, s, "2024-04-01", "2024-04-02")
	day = day.AddDate(0, 0, 1)
	res, err := s.ImportRoster(ctx, path, "", "test")
	if err != nil {
		t.Fatal(err)
	}
	if res.Unchanged != 1 || res.Updated != 0 {
		t.Errorf("the same roster a day later: %+v", res)
	}
	if rows := rosterRows(t, db, p.Rec.PersonID); len(rows) != 1 {
		t.Errorf("roster rows: %q, want the enrolment's alone", rows)
	}
	verifyClean(t, db)
}
