package service_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/silentcert/silentcert/service"
)

// checkupRow is HEA's row i: a checkup of 371002194003150019 on day i of February 2024.
func checkupRow(i int) string {
	return fmt.Sprintf("s%02d,HEA,HEA.CHECKUP,371002194003150019,张三,1940-03-15,2024-02-%02d,2024-02-%02d,,\n", i, i, i+1)
}

func appendTo(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// batchReport reads the batch report beside a file moved to done/ or failed/.
func batchReport(t *testing.T, path string) (id int64, rep map[string]int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		BatchID int64          `json:"batch_id"`
		Report  map[string]any `json:"report"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("report %s: %v", b, err)
	}
	rep = map[string]int64{}
	for k, v := range r.Report {
		if f, ok := v.(float64); ok {
			rep[k] = int64(f)
		}
	}
	return r.BatchID, rep
}

// TestDropFolderWaitsForFileToSettle: a file a department is still writing (25 rows, a
// few between one scan and the next, as a slow copy does) is not taken while it grows: the
// scan that sees it first, and each that sees it changed, leave it; the first to see it
// unchanged takes it whole, all 25 rows read and applied (before, the first scan took the
// 4 rows written so far and moved the file to done/, where the other 21 were never read).
func TestDropFolderWaitsForFileToSettle(t *testing.T) {
	ctx := context.Background()
	s, db, _ := newLoggedCity(t)
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "HEA"), 0o755)
	slow := filepath.Join(dir, "HEA", "slow.csv")
	body := header
	for i := 1; i <= 4; i++ {
		body += checkupRow(i)
	}
	os.WriteFile(slow, []byte(body), 0o644)
	for i := 5; i <= 25; i += 3 {
		if n, err := dropFolder(dir, s).Scan(ctx); n != 0 || err != nil {
			t.Fatalf("scan with %d rows written: %d files, %v (a file still being written was taken)", i-1, n, err)
		}
		var more string
		for j := i; j < i+3 && j <= 25; j++ {
			more += checkupRow(j)
		}
		appendTo(t, slow, more)
		body += more
	}
	scanTwice(t, dropFolder(dir, s), 1) // the last change seen, then the file unchanged
	if b, err := os.ReadFile(filepath.Join(dir, "HEA", "done", "slow.csv")); err != nil || string(b) != body {
		t.Fatalf("done/slow.csv: %v\n%s", err, b)
	}
	_, rep := batchReport(t, filepath.Join(dir, "HEA", "done", "slow.csv.report.json"))
	if rep["read"] != 25 || rep["applied"] != 25 {
		t.Errorf("report %v, want 25 rows read and applied", rep)
	}
	if bs := dropBatches(t, db); len(bs) != 1 {
		t.Errorf("%d batches", len(bs))
	}
}

// TestDropFolderSettleTime: a file seen unchanged is taken only once Settle (by default
// DefaultDropSettle) has passed since a scan first saw it so; a scan sooner leaves it.
func TestDropFolderSettleTime(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newLoggedCity(t)
	for _, settle := range []time.Duration{0, 30 * time.Second} {
		t.Run(fmt.Sprint(settle), func(t *testing.T) {
			dir := t.TempDir()
			os.MkdirAll(filepath.Join(dir, "HEA"), 0o755)
			os.WriteFile(filepath.Join(dir, "HEA", "a.csv"), []byte(header+checkupRow(1)), 0o644)
			want := settle
			if want == 0 {
				want = service.DefaultDropSettle
			}
			t0 := time.Date(2024, 3, 1, 8, 0, 0, 0, time.UTC)
			for _, c := range []struct {
				at   time.Duration
				took int
			}{{0, 0}, {time.Second, 0}, {want - time.Millisecond, 0}, {want, 1}} {
				now := t0.Add(c.at)
				drop := &service.DropFolder{Dir: dir, Service: s, Settle: settle, Now: func() time.Time { return now }}
				if n, err := drop.Scan(ctx); n != c.took || err != nil {
					t.Fatalf("scan %v after the first: %d files, %v; want %d", c.at, n, err, c.took)
				}
			}
		})
	}
}

// TestDropFolderFileChangedWhileTaken: a file that grows after it was read (a copy that
// paused longer than the scans, here ending in half a row: a death cut off) is not moved
// to done/, where the rest would never be read: its batch stays committed, the log warns,
// and the file is left in place. Once it has settled it is taken again whole, as a new
// batch (its bytes differ): the rows the first batch applied count as duplicates, the new
// ones (the half row whole, and the rows after it) are applied, and done/ holds it all.
func TestDropFolderFileChangedWhileTaken(t *testing.T) {
	s, db, log := newLoggedCity(t)
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "HEA"), 0o755)
	a := filepath.Join(dir, "HEA", "a.csv")
	cut := len(checkupRow(3)) / 2
	body := header + checkupRow(1) + checkupRow(2) + checkupRow(3)[:cut]
	os.WriteFile(a, []byte(body), 0o644)
	rest := checkupRow(3)[cut:] + checkupRow(4)
	defer service.SetDropBeforeMove(func(src, name string) {
		if src == "HEA" && name == "a.csv" && rest != "" {
			appendTo(t, a, rest)
			body += rest
			rest = ""
		}
	})()
	drop := dropFolder(dir, s)
	scanTwice(t, drop, 0) // the second reads it, then it grows
	if b, err := os.ReadFile(a); err != nil || string(b) != body {
		t.Fatalf("the file was not left in place: %v %q", err, b)
	}
	if _, err := os.Lstat(filepath.Join(dir, "HEA", "done", "a.csv")); err == nil {
		t.Fatal("the file changed while it was taken was moved to done/")
	}
	if _, err := os.Lstat(filepath.Join(dir, "HEA", "done", "a.csv.report.json")); err == nil {
		t.Fatal("a report was written for the file left in place")
	}
	if !strings.Contains(log.String(), "level=WARN") || !strings.Contains(log.String(), "changed while it was taken") {
		t.Errorf("no warning:\n%s", log)
	}
	bs := dropBatches(t, db)
	if len(bs) != 1 {
		t.Fatalf("%d batches after the first read", len(bs))
	}
	if q, err := db.BatchQuarantine(context.Background(), bs[0].ID); err != nil || len(q) != 1 {
		t.Errorf("the first batch's quarantine (the half row): %+v %v", q, err)
	}
	scanTwice(t, drop, 1) // changed since: noted, then taken
	if b, err := os.ReadFile(filepath.Join(dir, "HEA", "done", "a.csv")); err != nil || string(b) != body {
		t.Fatalf("done/a.csv: %v %q", err, b)
	}
	id, rep := batchReport(t, filepath.Join(dir, "HEA", "done", "a.csv.report.json"))
	if rep["read"] != 4 || rep["duplicate"] != 2 || rep["applied"] != 2 || rep["quarantined"] != 0 {
		t.Errorf("report of the file taken again: %v, want 4 rows read, 2 duplicates, 2 applied", rep)
	}
	if bs2 := dropBatches(t, db); len(bs2) != 2 || bs2[0].ID != id || bs2[1].ID != bs[0].ID {
		t.Errorf("batches %+v, the second %d", bs2, id)
	}
	if _, err := os.Lstat(a); err == nil {
		t.Error("the file is still in place")
	}
}
