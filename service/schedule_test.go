package service_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/service"
	"github.com/silentcert/silentcert/store/storetest"
)

func TestDueThrough(t *testing.T) {
	sh := time.FixedZone("CST", 8*3600)
	for _, c := range []struct {
		now  string // UTC
		hour int
		want string
	}{
		{"2024-02-29T17:59:00Z", 2, "2024-02-29"}, // 01:59 in Shanghai on 1 March: yesterday's run only
		{"2024-02-29T18:00:00Z", 2, "2024-03-01"}, // 02:00: today's is due
		{"2024-02-29T15:59:59Z", 0, "2024-02-29"}, // 23:59 on a leap day
		{"2024-12-31T16:00:00Z", 0, "2025-01-01"}, // midnight of the new year
	} {
		now, _ := time.Parse(time.RFC3339, c.now)
		if got := service.DueThrough(now, sh, c.hour); got != sc.MustDate(c.want) {
			t.Errorf("%s hour %d: %s, want %s", c.now, c.hour, got, c.want)
		}
	}
}

// TestDropFolder: files dropped per source are ingested once, moved to done/ (or failed/)
// with their report beside them; another source's rows in a folder are quarantined.
func TestDropFolder(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t, "sqlite:"+t.TempDir()+"/t.db")
	s := newCity(t, db)
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "HEA"), 0o755)
	os.WriteFile(filepath.Join(dir, "HEA", "a.csv"), []byte(header+
		"d1,HEA,HEA.CHECKUP,371002194003150019,张三,1940-03-15,2024-02-01,2024-02-02,,\n"+
		"d2,TRN,TRN.RAIL,371002194003150019,张三,1940-03-15,2024-02-01,2024-02-02,,\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "HEA", "b.csv.gz"), []byte("\x1f\x8b\x08\x00broken"), 0o644)
	os.WriteFile(filepath.Join(dir, "HEA", "c.csv.part"), []byte("still being written"), 0o644)
	scanTwice(t, dropFolder(dir, s), 2)
	rep, err := os.ReadFile(filepath.Join(dir, "HEA", "done", "a.csv.report.json"))
	if err != nil || !strings.Contains(string(rep), `"applied": 1`) || !strings.Contains(string(rep), `"quarantined": 1`) {
		t.Fatalf("report %s %v", rep, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "HEA", "failed", "b.csv.gz")); err != nil {
		t.Fatalf("broken file not in failed/: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "HEA", "c.csv.part")); err != nil {
		t.Fatalf("a file being written was taken: %v", err)
	}
	if n, _ := dropFolder(dir, s).Scan(ctx); n != 0 {
		t.Fatalf("second scan took %d files", n)
	}
}

// TestDropFolderAfterCrash: a file whose batch was committed but which a crash left in
// place (not moved to done/) is only moved by the next scan: no second batch, its
// quarantined rows stored once. A changed file of the same name is a new batch.
func TestDropFolderAfterCrash(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t, "sqlite:"+t.TempDir()+"/t.db")
	s := newCity(t, db)
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "HEA"), 0o755)
	body := header + "d1,HEA,HEA.CHECKUP,371002194003150019,张三,1940-03-15,2024-02-01,2024-02-02,,\n" +
		"d2,TRN,TRN.RAIL,371002194003150019,张三,1940-03-15,2024-02-01,2024-02-02,,\n"
	a := filepath.Join(dir, "HEA", "a.csv")
	os.WriteFile(a, []byte(body), 0o644)
	drop := dropFolder(dir, s)
	scanTwice(t, drop, 1)
	first, _ := db.Batches(ctx, 10)
	os.WriteFile(a, []byte(body), 0o644) // the move undone: the crash came before it
	scanTwice(t, drop, 1)
	if bs, _ := db.Batches(ctx, 10); len(bs) != len(first) {
		t.Fatalf("%d batches after the rescan, %d before", len(bs), len(first))
	}
	if q, err := db.BatchQuarantine(ctx, first[0].ID); err != nil || len(q) != 1 {
		t.Fatalf("quarantine %v %v", q, err)
	}
	// The batch's own report stays (the crash came after it was written).
	rep, err := os.ReadFile(filepath.Join(dir, "HEA", "done", "a.csv.report.json"))
	if err != nil || strings.Contains(string(rep), `"already_taken"`) || !strings.Contains(string(rep), `"applied": 1`) {
		t.Fatalf("report %s %v", rep, err)
	}
	// Without it (the crash came before), the batch's report is read back from the store
	// (what it applied and quarantined), marked as taken before.
	own := rep
	os.Remove(filepath.Join(dir, "HEA", "done", "a.csv.report.json"))
	os.WriteFile(a, []byte(body), 0o644)
	scanTwice(t, drop, 1) // scan after a crash before the report
	rep, err = os.ReadFile(filepath.Join(dir, "HEA", "done", "a.csv.report.json"))
	if err != nil || !strings.Contains(string(rep), `"already_taken": true`) || !strings.Contains(string(rep), fmt.Sprintf(`"batch_id": %d`, first[0].ID)) {
		t.Fatalf("report %s %v", rep, err)
	}
	var was, now map[string]any
	json.Unmarshal(own, &was)
	json.Unmarshal(rep, &now)
	delete(now, "already_taken")
	if !reflect.DeepEqual(was, now) {
		t.Fatalf("the report after a crash says\n%s\nthe batch's own said\n%s", rep, own)
	}
	if _, err := os.Stat(a); !os.IsNotExist(err) {
		t.Fatalf("the file is still there: %v", err)
	}
	os.WriteFile(a, []byte(body+"d3,HEA,HEA.CHECKUP,371002194003150019,张三,1940-03-15,2024-02-03,2024-02-04,,\n"), 0o644)
	scanTwice(t, drop, 1) // scan of a changed file
	bs, _ := db.Batches(ctx, 10)
	if len(bs) != len(first)+1 {
		t.Fatalf("a changed file was not taken: %d batches", len(bs))
	}
	// It is kept beside the first, under a name with its batch id.
	if _, err := os.Stat(filepath.Join(dir, "HEA", "done", fmt.Sprintf("a.batch-%d.csv", bs[0].ID))); err != nil {
		t.Fatalf("the changed file in done/: %v", err)
	}
	// The first file's bytes under the same name again: its batch is named, not the
	// second file's.
	os.WriteFile(a, []byte(body), 0o644)
	scanTwice(t, drop, 1) // scan of the first file again
	rep, err = os.ReadFile(filepath.Join(dir, "HEA", "done", "a.csv.report.json"))
	if err != nil || !strings.Contains(string(rep), fmt.Sprintf(`"batch_id": %d`, first[0].ID)) {
		t.Fatalf("the report of the first file dropped again names another batch: %s %v", rep, err)
	}
}

// TestPayrollFile: the payment system's file lists every entitlement settled at a payroll.
func TestPayrollFile(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t, "sqlite:"+t.TempDir()+"/t.db")
	s := newCity(t, db)
	if err := s.RunDay(ctx, sc.MustDate("2024-03-01")); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	n, err := s.WritePayroll(ctx, sc.MustDate("2024-03-01").Month(), &b)
	if err != nil || n == 0 {
		t.Fatalf("%d rows, %v", n, err)
	}
	out := b.String()
	if !strings.HasPrefix(out, "payroll_month,person_id,benefit_type,month,action,amount,reason\n") ||
		!strings.Contains(out, "2024-03,371002194003150019,EMP_PENSION,2024-03,PAY,3000.00,") {
		t.Fatalf("payroll file:\n%s", out)
	}
}

// TestDropFolderGoesOn: files that cannot be taken (here their source's done/ is a file,
// not a directory; a link to nothing, which this test used before, is now skipped, and a
// report's name taken by a directory now sends the file to a name with its batch) stay
// for the next scan, named in the error, all of their source's (a department's batches
// go in in order); the other sources' are taken meanwhile.
func TestDropFolderGoesOn(t *testing.T) {
	ctx := context.Background()
	s := newCity(t, storetest.Open(t, "sqlite:"+t.TempDir()+"/t.db"))
	dir := t.TempDir()
	for _, src := range []string{"CIV", "HEA"} {
		os.MkdirAll(filepath.Join(dir, src), 0o755)
	}
	if err := os.Symlink(filepath.Join(dir, "gone.csv"), filepath.Join(dir, "CIV", "0.csv")); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "CIV", "a.csv"), []byte(header), 0o644)
	os.WriteFile(filepath.Join(dir, "CIV", "done"), []byte("not a folder"), 0o644)
	os.WriteFile(filepath.Join(dir, "CIV", "b.csv"), []byte(header), 0o644)
	os.WriteFile(filepath.Join(dir, "HEA", "c.csv"), []byte(header+
		"d1,HEA,HEA.CHECKUP,371002194003150019,张三,1940-03-15,2024-02-01,2024-02-02,,\n"), 0o644)
	if n, err := dropFolder(dir, s).Scan(ctx); n != 0 || err == nil {
		t.Fatalf("first scan: %d files, %v (a file seen the first time was taken, or CIV's done/ not said)", n, err)
	}
	n, err := dropFolder(dir, s).Scan(ctx)
	if n != 1 || err == nil || !strings.Contains(err.Error(), "CIV") || !strings.Contains(err.Error(), "done/ is not a directory") {
		t.Fatalf("scan: %d files, %v", n, err)
	}
	for _, f := range []string{"CIV/b.csv", "HEA/done/c.csv", "CIV/a.csv", "CIV/0.csv"} {
		if _, err := os.Lstat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}
