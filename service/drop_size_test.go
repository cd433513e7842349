package service_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/silentcert/silentcert/service"
)

// readSoFar is how many bytes this process has read through system calls (Linux's
// /proc/self/io rchar, which counts what read and pread return, cached or not); the test
// skips where the system does not say.
func readSoFar(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		t.Skipf("no /proc/self/io here: %v", err)
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "rchar: "); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Skip("no rchar in /proc/self/io")
	return 0
}

// hugeFile writes a record file of size bytes at path: a header and one row, the rest a
// hole (sparse: it takes no disk, but reading it reads size bytes).
func hugeFile(t *testing.T, path string, size int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(header + checkupRow(3)); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestDropFolderRefusesBySizeUnread: a file past the drop folder's limit is refused by
// its size, named, without being read: a gigabyte dropped (twice, the second beside the
// first in failed/) is refused reading less than a sixteenth of it, where the scan hashed
// it whole first (and hashed what failed/ held of its name and size, to compare). It still
// waits until it has stopped changing, and once refused it is moved, never refused (or
// read) again at the next scans.
func TestDropFolderRefusesBySizeUnread(t *testing.T) {
	const gib = 1 << 30
	ctx := context.Background()
	s, db, _ := newLoggedCity(t)
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "HEA"), 0o755)
	big := filepath.Join(dir, "HEA", "big.csv")
	drop := dropFolder(dir, s)
	drop.MaxBytes = 1 << 20
	start := readSoFar(t)

	hugeFile(t, big, gib)
	if n, err := drop.Scan(ctx); n != 0 || err != nil {
		t.Fatalf("the first scan that sees it: %d, %v", n, err)
	}
	hugeFile(t, big, gib+4096) // still being written
	if n, err := drop.Scan(ctx); n != 0 || err != nil {
		t.Fatalf("a scan that sees it changed took it: %d, %v", n, err)
	}
	if n, err := drop.Scan(ctx); n != 1 || err != nil {
		t.Fatalf("the scan that sees it unchanged: %d, %v", n, err)
	}
	rep, err := os.ReadFile(filepath.Join(dir, "HEA", "failed", "big.csv.report.json"))
	if err != nil || !bytes.Contains(rep, []byte("more than the drop folder's limit")) || !bytes.Contains(rep, []byte("HEA/big.csv")) {
		t.Fatalf("not refused by name for its size into failed/: %v %s", err, rep)
	}
	// The same name and size again: it goes beside the first, neither read.
	hugeFile(t, big, gib+4096)
	scanTwice(t, drop, 1)
	if m, _ := filepath.Glob(filepath.Join(dir, "HEA", "failed", "big.batch-*.csv")); len(m) != 1 {
		t.Errorf("the second big.csv is not beside the first: %v", m)
	}
	for range 3 {
		if n, err := drop.Scan(ctx); n != 0 || err != nil {
			t.Fatalf("a later scan: %d, %v", n, err)
		}
	}
	if read := readSoFar(t) - start; read > gib/16 {
		t.Errorf("the scans read %d bytes to refuse two files of %d by their size", read, gib+4096)
	}
	refused := 0
	for _, b := range dropBatches(t, db) {
		if b.Status != "rejected" {
			t.Errorf("batch %d: %s", b.ID, b.Status)
		}
		refused++
	}
	if refused != 2 {
		t.Errorf("%d refusals stored, want one for each file dropped", refused)
	}
}

// TestDropFolderTooBigRefusedOnce: a file refused for its size whose move to failed/
// fails (a crash, a full disk: here failed/ replaced by a file just before the move) is
// found refused at the next scan, not refused again (a batch and an audit row each scan).
func TestDropFolderTooBigRefusedOnce(t *testing.T) {
	ctx := context.Background()
	s, db, _ := newLoggedCity(t)
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "HEA"), 0o755)
	failed := filepath.Join(dir, "HEA", "failed")
	once := true
	defer service.SetDropBeforeMove(func(src, name string) {
		if once {
			once = false
			os.RemoveAll(failed)
			os.WriteFile(failed, nil, 0o644)
		}
	})()
	drop := dropFolder(dir, s)
	drop.MaxBytes = 1 << 10
	hugeFile(t, filepath.Join(dir, "HEA", "big.csv"), 1<<20)
	drop.Scan(ctx) // sees it
	if _, err := drop.Scan(ctx); err == nil {
		t.Fatal("the move into a failed/ that is a file did not fail")
	}
	if err := os.Remove(failed); err != nil {
		t.Fatal(err)
	}
	drop.Scan(ctx)
	if _, err := os.Stat(filepath.Join(failed, "big.csv")); err != nil {
		t.Fatalf("not moved once failed/ could be made: %v", err)
	}
	if n := len(dropBatches(t, db)); n != 1 {
		t.Errorf("%d refusals stored for one file, want 1", n)
	}
}
