package service_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDropFolderSameNameKeepsBoth: a department that names its daily export the same
// every day (deaths.csv) does not lose the first file as received, and its report, to the
// second: the second goes to done/ with its batch id before the extension
// (deaths.batch-N.csv), its report beside it under the matching name, and so does a file
// refused, in failed/. The first file of a name keeps the name, and a file dropped again
// (the same bytes) is only moved, onto its own copy, keeping its batch's report. A report
// left without its file keeps its name too.
func TestDropFolderSameNameKeepsBoth(t *testing.T) {
	s, db, _ := newLoggedCity(t)
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "HEA"), 0o755)
	drop := dropFolder(dir, s)
	in, done, failed := filepath.Join(dir, "HEA", "deaths.csv"), filepath.Join(dir, "HEA", "done"), filepath.Join(dir, "HEA", "failed")
	day := func(i int) string { return header + checkupRow(i) }
	// has checks that path holds body and its report names the batch id (taken anew
	// when fresh, else the short report of a file taken already).
	has := func(path, body string, id int64, fresh bool) {
		t.Helper()
		if b, err := os.ReadFile(path); err != nil || string(b) != body {
			t.Errorf("%s: %v %q, want %q", path, err, b, body)
		}
		rep, err := os.ReadFile(path + ".report.json")
		if err != nil || !strings.Contains(string(rep), fmt.Sprintf(`"batch_id": %d,`, id)) ||
			strings.Contains(string(rep), `"already_taken"`) == fresh {
			t.Errorf("%s.report.json: %v %s, want batch %d's (fresh %v)", path, err, rep, id, fresh)
		}
	}
	batches := func(want int) int64 {
		t.Helper()
		bs := dropBatches(t, db)
		if len(bs) != want {
			t.Fatalf("%d batches, want %d", len(bs), want)
		}
		return bs[0].ID
	}

	os.WriteFile(in, []byte(day(1)), 0o644)
	scanTwice(t, drop, 1)
	b1 := batches(1)
	has(filepath.Join(done, "deaths.csv"), day(1), b1, true)

	os.WriteFile(in, []byte(day(2)), 0o644) // the next day's, named the same
	scanTwice(t, drop, 1)
	b2 := batches(2)
	has(filepath.Join(done, "deaths.csv"), day(1), b1, true)
	has(filepath.Join(done, fmt.Sprintf("deaths.batch-%d.csv", b2)), day(2), b2, true)

	os.WriteFile(in, []byte(day(2)), 0o644) // the second dropped again: only moved
	scanTwice(t, drop, 1)
	batches(2)
	has(filepath.Join(done, "deaths.csv"), day(1), b1, true)
	has(filepath.Join(done, fmt.Sprintf("deaths.batch-%d.csv", b2)), day(2), b2, true)

	os.WriteFile(in, []byte(day(1)), 0o644) // and the first
	scanTwice(t, drop, 1)
	batches(2)
	has(filepath.Join(done, "deaths.csv"), day(1), b1, true)

	// The first file taken away from done/, its report left: a new file keeps off both.
	os.Remove(filepath.Join(done, "deaths.csv"))
	os.WriteFile(in, []byte(day(3)), 0o644)
	scanTwice(t, drop, 1)
	b3 := batches(3)
	has(filepath.Join(done, fmt.Sprintf("deaths.batch-%d.csv", b3)), day(3), b3, true)
	if rep, err := os.ReadFile(filepath.Join(done, "deaths.csv.report.json")); err != nil || !strings.Contains(string(rep), fmt.Sprintf(`"batch_id": %d,`, b1)) {
		t.Errorf("the first file's report: %v %s", err, rep)
	}

	// Refused files of the same name, in failed/.
	gz := filepath.Join(dir, "HEA", "deaths.csv.gz")
	os.WriteFile(gz, []byte("\x1f\x8b\x08\x00broken"), 0o644)
	scanTwice(t, drop, 1)
	b4 := batches(4)
	os.WriteFile(gz, []byte("\x1f\x8b\x08\x00broken too"), 0o644)
	scanTwice(t, drop, 1)
	b5 := batches(5)
	has(filepath.Join(failed, "deaths.csv.gz"), "\x1f\x8b\x08\x00broken", b4, true)
	has(filepath.Join(failed, fmt.Sprintf("deaths.batch-%d.csv.gz", b5)), "\x1f\x8b\x08\x00broken too", b5, true)

	fs, _ := os.ReadDir(done)
	if len(fs) != 5 { // deaths.csv's report, the second and third files and their reports
		var names []string
		for _, f := range fs {
			names = append(names, f.Name())
		}
		t.Errorf("done/ holds %v", names)
	}
}
