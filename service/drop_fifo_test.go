//go:build unix

package service_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDropFolderSkipsFIFO: a FIFO in a source's folder (which an open would wait on for
// ever, and the whole scan with it) is skipped with a warning once, and the files after it
// are taken; a FIFO under a report's name in done/ is replaced, not written into. (Not on
// Windows, which has no FIFOs.)
func TestDropFolderSkipsFIFO(t *testing.T) {
	ctx := context.Background()
	s, db, log := newLoggedCity(t)
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "HEA", "done"), 0o755)
	for _, p := range []string{filepath.Join(dir, "HEA", "0.fifo"), filepath.Join(dir, "HEA", "done", "a.csv.report.json")} {
		if err := syscall.Mkfifo(p, 0o644); err != nil {
			t.Skipf("no FIFO here: %v", err)
		}
	}
	os.WriteFile(filepath.Join(dir, "HEA", "a.csv"), []byte(header+
		"d1,HEA,HEA.CHECKUP,371002194003150019,张三,1940-03-15,2024-02-01,2024-02-02,,\n"), 0o644)
	for i := range 3 {
		type result struct {
			n   int
			err error
		}
		done := make(chan result, 1)
		go func() {
			n, err := dropFolder(dir, s).Scan(ctx)
			done <- result{n, err}
		}()
		select {
		case r := <-done:
			if r.n != b2i(i == 1) || r.err != nil { // the file noted, taken, then gone
				t.Fatalf("scan %d: %d files, %v", i+1, r.n, r.err)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("scan %d blocked on a FIFO", i+1)
		}
	}
	fi, err := os.Lstat(filepath.Join(dir, "HEA", "0.fifo"))
	if err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the FIFO was not left in place: %v %v", fi, err)
	}
	if c := strings.Count(log.String(), "file="+filepath.Join("HEA", "0.fifo")); c != 1 {
		t.Errorf("the FIFO warned of %d times:\n%s", c, log)
	}
	isRegular(t, filepath.Join(dir, "HEA", "done", "a.csv"))
	if rep, err := os.ReadFile(filepath.Join(dir, "HEA", "done", "a.csv.report.json")); err != nil || !strings.Contains(string(rep), `"applied": 1`) {
		t.Errorf("report %s %v", rep, err)
	}
	if bs := dropBatches(t, db); len(bs) != 1 {
		t.Errorf("%d batches", len(bs))
	}
}
