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
