package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/service"
	"github.com/silentcert/silentcert/store/storetest"
)

// TestDayNotFuture: a mistyped --day (2030 for 2024) ran every day up to it, with their
// payrolls and suspensions, exit 0, and serve then ran no day until 2030; ingest took a
// future day too. Both now refuse a day after today (China time) with exit 2, naming
// --future, and do nothing; with --future the day is run.
func TestDayNotFuture(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dsn := "sqlite:" + filepath.Join(dir, "f.db")
	roster := filepath.Join("..", "..", "backtest", "testdata", "scenario", "roster.csv")
	records := filepath.Join(dir, "r.csv")
	if err := os.WriteFile(records, []byte("record_id,source,type,person_id,name,birth_date,event_date,reported_date,region_code,detail\n"+
		"f1,HEA,HEA.CHECKUP,371002194003150019,张三,1940-03-15,2024-01-02,2024-01-02,,\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cli := func(args ...string) (int, string) {
		var so, se bytes.Buffer
		code := run(ctx, args, &so, &se)
		return code, se.String()
	}
	lastRun := func() sc.Date {
		db := storetest.Open(t, dsn)
		defer db.Close()
		last, err := db.LastRun(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return last
	}
	if code, errs := cli("ingest", "--db", dsn, "--roster", roster, "--day", "2024-01-01"); code != 0 {
		t.Fatalf("roster: exit %d: %s", code, errs)
	}
	// Two days on: whichever side of midnight the command reads the clock, it is after
	// its today.
	soon := service.DayAt(time.Now(), nil) + 2
	far := service.DayAt(time.Now(), nil) + 2000
	for _, args := range [][]string{
		{"run-day", "--db", dsn, "--day", far.String()},
		{"ingest", "--db", dsn, "--day", far.String(), records},
	} {
		code, errs := cli(args...)
		if code != 2 || !strings.Contains(errs, "is after today") || !strings.Contains(errs, "--future") {
			t.Errorf("%s --day %s: exit %d, want 2 naming --future: %s", args[0], far, code, errs)
		}
	}
	if last := lastRun(); last != sc.NoDate {
		t.Fatalf("a refused future day ran days through %s", last)
	}
	if code, errs := cli("run-day", "--db", dsn, "--day", soon.String(), "--future"); code != 0 {
		t.Fatalf("run-day --future: exit %d: %s", code, errs)
	}
	if last := lastRun(); last != soon {
		t.Fatalf("run-day --day %s --future: last day run %s", soon, last)
	}
}

// TestIngestAhead: a batch applied as of a day more than one after the last day run (an
// operator ingesting the month's deaths at its end before running its earlier days) had
// the days between run with its records in: a death reported on the 8th stopped the 1st's
// payroll. It is refused (exit 2, naming the run-day to do first and --ahead); as of the
// day after the last run it is taken, and so is a later day with --ahead.
func TestIngestAhead(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dsn := "sqlite:" + filepath.Join(dir, "a.db")
	roster := filepath.Join("..", "..", "backtest", "testdata", "scenario", "roster.csv")
	records := filepath.Join(dir, "r.csv")
	if err := os.WriteFile(records, []byte("record_id,source,type,person_id,name,birth_date,event_date,reported_date,region_code,detail\n"+
		"a1,HEA,HEA.CHECKUP,371002194003150019,张三,1940-03-15,2024-01-02,2024-01-02,,\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cli := func(args ...string) (int, string) {
		var so, se bytes.Buffer
		code := run(ctx, args, &so, &se)
		return code, se.String()
	}
	if code, errs := cli("ingest", "--db", dsn, "--roster", roster, "--day", "2024-01-01"); code != 0 {
		t.Fatalf("roster: exit %d: %s", code, errs)
	}
	if code, errs := cli("run-day", "--db", dsn, "--day", "2024-01-02"); code != 0 {
		t.Fatalf("run-day: exit %d: %s", code, errs)
	}
	code, errs := cli("ingest", "--db", dsn, "--day", "2024-01-10", records)
	if code != 2 || !strings.Contains(errs, "--ahead") || !strings.Contains(errs, "run-day --db "+dsn+" --day 2024-01-09") {
		t.Fatalf("a batch a week ahead of the days run: exit %d, want 2 naming the run-day and --ahead: %s", code, errs)
	}
	db := storetest.Open(t, dsn)
	bs, err := db.Batches(ctx, 10)
	db.Close()
	if err != nil || len(bs) != 1 {
		t.Fatalf("the refused batch stored: %d batches (%v), want the roster's alone", len(bs), err)
	}
	if code, errs := cli("ingest", "--db", dsn, "--day", "2024-01-03", records); code != 0 {
		t.Fatalf("a batch the day after the last run: exit %d: %s", code, errs)
	}
	if code, errs := cli("ingest", "--db", dsn, "--day", "2024-01-10", "--ahead", records); code != 0 {
		t.Fatalf("--ahead: exit %d: %s", code, errs)
	}
}

// TestFirstDayBehind: before any day has run, ingest's --ahead check has no day to hold a
// batch to, so a batch applied as of 2024-06-10 (a death of 05-28 reported 05-30), then
// a first run-day of 2024-05-01, ran May's payroll with the death in: the person was not
// paid for May (README review). The first day is now refused (exit 2, naming the day
// to run) when it is more than one before a batch's day; history does not count.
func TestFirstDayBehind(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dsn := "sqlite:" + filepath.Join(dir, "b.db")
	roster := filepath.Join("..", "..", "backtest", "testdata", "scenario", "roster.csv")
	head := "record_id,source,type,person_id,name,birth_date,event_date,reported_date,region_code,detail\n"
	death, old := filepath.Join(dir, "d.csv"), filepath.Join(dir, "h.csv")
	os.WriteFile(death, []byte(head+"d1,PSB,PSB.DEATH_DEREG,371002194003150019,张三,1940-03-15,2024-05-28,2024-05-30,,\n"), 0o644)
	os.WriteFile(old, []byte(head+"h1,HEA,HEA.CHECKUP,371002194003150019,张三,1940-03-15,2024-03-02,2024-03-02,,\n"), 0o644)
	cli := func(args ...string) (int, string) {
		var so, se bytes.Buffer
		code := run(ctx, args, &so, &se)
		return code, se.String()
	}
	for _, args := range [][]string{
		{"ingest", "--db", dsn, "--roster", roster, "--day", "2024-04-01"},
		{"ingest", "--db", dsn, "--history", old},
		{"ingest", "--db", dsn, "--day", "2024-06-10", death},
	} {
		if code, errs := cli(args...); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errs)
		}
	}
	code, errs := cli("run-day", "--db", dsn, "--day", "2024-05-01")
	if code != 2 || !strings.Contains(errs, "no day has run yet, and a batch of records was applied as of 2024-06-10") ||
		!strings.Contains(errs, "run-day --db "+dsn+" --day 2024-06-09") || !strings.Contains(errs, "--ahead") {
		t.Fatalf("a first day behind the batch: exit %d: %s", code, errs)
	}
	db := storetest.Open(t, dsn)
	last, err := db.LastRun(ctx)
	db.Close()
	if err != nil || last != sc.NoDate {
		t.Fatalf("the refused first day ran days through %s (%v)", last, err)
	}
	if code, errs := cli("run-day", "--db", dsn, "--day", "2024-06-09"); code != 0 {
		t.Fatalf("the first day the batch allows: exit %d: %s", code, errs)
	}
	// --ahead runs an earlier first day when it is meant.
	dsn2 := "sqlite:" + filepath.Join(dir, "b2.db")
	cli("ingest", "--db", dsn2, "--roster", roster, "--day", "2024-04-01")
	cli("ingest", "--db", dsn2, "--day", "2024-06-10", death)
	if code, errs := cli("run-day", "--db", dsn2, "--day", "2024-05-01", "--ahead"); code != 0 {
		t.Fatalf("--ahead: exit %d: %s", code, errs)
	}
}
