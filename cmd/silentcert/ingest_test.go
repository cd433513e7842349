package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
)

// TestIngestRefusedFiles: the files of one ingest are one batch (service's
// TestIngestFilesAreOneBatch says why), so a file that cannot be read refuses them all,
// and the command says which and that nothing was applied:
//   - a path that cannot be read (missing here) refuses the command before anything is
//     applied, the roster given with it too (before, the roster was imported and the
//     error, "stat …: no such file or directory", did not say what had been applied);
//   - files refused whole (lines ended by CR alone, UTF-16) are each named with the line,
//     not only the first, and the good file is not applied;
//   - the same command, once the refused files are left out, applies the good one, and a
//     rerun applies nothing twice.
func TestIngestRefusedFiles(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dsn := "sqlite:" + filepath.Join(dir, "db")
	roster := filepath.Join("..", "..", "backtest", "testdata", "scenario", "roster.csv")
	const header = "record_id,source,type,person_id,name,birth_date,event_date,reported_date,region_code,detail\n"
	good := header + "g1,HEA,HEA.CHECKUP,371002194003150019,张三,1940-03-15,2024-02-10,2024-02-11,,\n"
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	goodCSV := write("good.csv", good)
	crCSV := write("cr.csv", strings.ReplaceAll(good, "\n", "\r"))
	u16CSV := write("u16.csv", "\xff\xfer\x00e\x00c\x00\n\x00")
	missing := filepath.Join(dir, "missing.csv")
	ingest := func(args ...string) (int, string, string) {
		var so, se bytes.Buffer
		code := run(ctx, append([]string{"ingest", "--db", dsn, "--day", "2024-03-01"}, args...), &so, &se)
		return code, so.String(), se.String()
	}
	batches := func() []store.Batch {
		db := storetest.Open(t, dsn)
		defer db.Close()
		bs, err := db.Batches(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		return bs
	}

	code, _, errs := ingest("--roster", roster, goodCSV, missing)
	if code != 1 || !strings.Contains(errs, "nothing applied") || !strings.Contains(errs, "missing.csv") {
		t.Fatalf("a missing file: exit %d, %s", code, errs)
	}
	if bs := batches(); len(bs) != 0 {
		t.Fatalf("a missing file: %d batches stored (the roster imported?), want none", len(bs))
	}

	if code, _, errs := ingest("--roster", roster); code != 0 {
		t.Fatalf("roster: %s", errs)
	}
	code, _, errs = ingest(goodCSV, crCSV, u16CSV)
	if code != 1 || !strings.Contains(errs, "nothing applied") || !strings.Contains(errs, "one batch") {
		t.Fatalf("refused files: exit %d, %s", code, errs)
	}
	for _, f := range []string{crCSV, u16CSV} {
		if !strings.Contains(errs, f+": line 1: ") {
			t.Errorf("%s not named with its line: %s", f, errs)
		}
	}
	if strings.Contains(errs, goodCSV+":") {
		t.Errorf("the good file named as refused: %s", errs)
	}
	for _, b := range batches() {
		if b.Origin == "file" && b.Status == "applied" && strings.Contains(b.Files, "good.csv") {
			t.Fatalf("the good file was applied in batch %d", b.ID)
		}
	}

	if code, out, errs := ingest(goodCSV); code != 0 || !strings.Contains(out, "1 applied") {
		t.Fatalf("the good file alone: exit %d, %s %s", code, out, errs)
	}
	if code, out, errs := ingest(goodCSV); code != 0 || !strings.Contains(out, "0 applied, 1 duplicate") {
		t.Fatalf("the good file again: exit %d, %s %s", code, out, errs)
	}
}

// TestIngestFolderOrder: a folder's files are read in byte order of their paths relative
// to it (spec §3), as backtest and replay read them, so that within a batch the same
// record sent twice keeps the same first occurrence: a-b.csv before a/x.csv ('-' is
// before '/'). ingest walked the folder one directory at a time (a/ before a-b.csv), and
// kept a/x.csv's version where backtest keeps a-b.csv's.
func TestIngestFolderOrder(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dsn := "sqlite:" + filepath.Join(dir, "db")
	roster := filepath.Join("..", "..", "backtest", "testdata", "scenario", "roster.csv")
	records := filepath.Join(dir, "records")
	const header = "record_id,source,type,person_id,name,birth_date,event_date,reported_date,region_code,detail\n"
	row := func(detail string) string {
		return header + "v1,HEA,HEA.CHECKUP,371002194003150019,张三,1940-03-15,2024-02-10,2024-02-11,," + detail + "\n"
	}
	os.MkdirAll(filepath.Join(records, "a"), 0o755)
	os.WriteFile(filepath.Join(records, "a-b.csv"), []byte(row("count=1")), 0o644)
	os.WriteFile(filepath.Join(records, "a", "x.csv"), []byte(row("count=2")), 0o644)
	var so, se bytes.Buffer
	if code := run(ctx, []string{"ingest", "--db", dsn, "--roster", roster, "--day", "2024-03-01", records}, &so, &se); code != 0 {
		t.Fatalf("ingest: %s", se.String())
	}
	if !strings.Contains(so.String(), "1 applied, 1 duplicate") {
		t.Fatalf("ingest: %s", so.String())
	}
	db := storetest.Open(t, dsn)
	p, err := db.PersonByID(ctx, "371002194003150019")
	if err != nil {
		t.Fatal(err)
	}
	recs, err := db.PersonRecords(ctx, p.PID)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.RecordID == "v1" && (r.Detail != "count=1" || !strings.HasSuffix(r.File, "a-b.csv")) {
			t.Errorf("the record kept is %s's (detail %s), want a-b.csv's, first in byte order", r.File, r.Detail)
		}
	}
}

// TestIngestHeaderFirst: a file whose header is in Chinese ended "9 quarantined", exit 0,
// its cause ("required column source is missing from the header") printed after its
// rows' 20 lines and cut off past "… and N more warnings", naming the file twice. Now
// the header's warnings come first, all of them, the file named once; a batch with a
// file whose every row was quarantined exits 3, naming it (the good file beside it
// applied); and a folder's file that is not a record file is said to be a warning.
func TestIngestHeaderFirst(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dsn := "sqlite:" + filepath.Join(dir, "db")
	roster := filepath.Join("..", "..", "backtest", "testdata", "scenario", "roster.csv")
	records := filepath.Join(dir, "dmg")
	os.MkdirAll(records, 0o755)
	var zh strings.Builder
	zh.WriteString("record_id,来源,类型,身份证号,姓名,出生日期,事件日期,报告日期,区划代码,详情\n")
	for i := range 25 {
		fmt.Fprintf(&zh, "z%d,HEA,HEA.CHECKUP,371002194003150019,张三,1940-03-15,2024-02-10,2024-02-11,,\n", i)
	}
	os.WriteFile(filepath.Join(records, "hdr_zh.csv"), []byte(zh.String()), 0o644)
	os.WriteFile(filepath.Join(records, "notes.txt"), []byte("sent by the clerk\n"), 0o644)
	good := filepath.Join(dir, "good.csv")
	os.WriteFile(good, []byte("record_id,source,type,person_id,name,birth_date,event_date,reported_date,region_code,detail\n"+
		"g1,HEA,HEA.CHECKUP,371002194003150019,张三,1940-03-15,2024-02-10,2024-02-11,,\n"), 0o644)
	var so, se bytes.Buffer
	if code := run(ctx, []string{"ingest", "--db", dsn, "--roster", roster, "--day", "2024-03-01"}, &so, &se); code != 0 {
		t.Fatalf("roster: %s", se.String())
	}
	so.Reset()
	se.Reset()
	code := run(ctx, []string{"ingest", "--db", dsn, "--day", "2024-03-01", good, records}, &so, &se)
	errs := se.String()
	zhName := filepath.Join(records, "hdr_zh.csv")
	if code != 3 || !strings.Contains(so.String(), "1 applied") || !strings.Contains(errs, "every row of 1 file was quarantined (the lines above say why") ||
		!strings.Contains(errs, "\n  "+zhName+" (25 rows)") {
		t.Fatalf("a file's every row quarantined: exit %d, want 3 naming it: %s %s", code, so.String(), errs)
	}
	cause := strings.Index(errs, "warning: "+zhName+":1: required column source is missing from the header")
	firstRow := strings.Index(errs, zhName+":2: ")
	if cause < 0 || firstRow < 0 || cause > firstRow {
		t.Errorf("the header's cause not before the rows' problems (at %d, the first row at %d):\n%s", cause, firstRow, errs)
	}
	if strings.Contains(errs, zhName+": "+zhName) {
		t.Errorf("the file named twice:\n%s", errs)
	}
	if !strings.Contains(errs, "warning: "+filepath.Join(records, "notes.txt")+": not a .csv") {
		t.Errorf("the skipped file is not a warning:\n%s", errs)
	}
}
