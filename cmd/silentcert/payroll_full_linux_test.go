package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/silentcert/silentcert/internal/fulldisk"
	"github.com/silentcert/silentcert/store/storetest"
)

// TestPayrollFullDisk: the disk fills while payroll writes the payment file over last
// run's (fulldisk): the command fails, the earlier file is whole and no .part is left;
// written in place, the file was cut at the failure (2,021 of 3,663 lines were seen). On
// PostgreSQL, so that the limit reaches the payment file alone.
func TestPayrollFullDisk(t *testing.T) {
	if !fulldisk.Child(t) {
		return
	}
	dsn := storetest.PostgresDSN(t)
	city := simulateCity(t, "2024-02-29", "3", "0")
	sh := func(args ...string) (int, string) {
		var so, se bytes.Buffer
		code := run(context.Background(), append([]string{args[0], "--db", dsn}, args[1:]...), &so, &se)
		return code, so.String() + se.String()
	}
	for _, st := range [][]string{{"ingest", "--roster", filepath.Join(city, "roster.csv")}, {"run-day", "--day", "2024-02-01"}} {
		if code, out := sh(st...); code != 0 {
			t.Fatalf("%v: %s", st, out)
		}
	}
	dir := t.TempDir()
	pay, rec := filepath.Join(dir, "pay.csv"), filepath.Join(dir, "recover.csv")
	if code, out := sh("payroll", "--month", "2024-02", "--out", pay, "--recoveries", rec); code != 0 {
		t.Fatalf("payroll: %s", out)
	}
	good, _ := os.ReadFile(pay)
	goodRec, _ := os.ReadFile(rec)
	if bytes.Count(good, []byte("\n")) < 100 {
		t.Fatalf("a payment file of %d lines proves little", bytes.Count(good, []byte("\n")))
	}
	restore := fulldisk.Limit(t, int64(len(good)/2))
	code, out := sh("payroll", "--month", "2024-02", "--out", pay, "--recoveries", rec)
	restore()
	if code == 0 || !strings.Contains(out, "file too large") {
		t.Fatalf("payroll past the limit: exit %d: %s", code, out)
	}
	if b, _ := os.ReadFile(pay); !bytes.Equal(b, good) {
		t.Errorf("the payment file of the run before is not whole: %d bytes of %d", len(b), len(good))
	}
	if b, _ := os.ReadFile(rec); !bytes.Equal(b, goodRec) {
		t.Errorf("the recoveries file of the run before changed: %d bytes of %d", len(b), len(goodRec))
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*.part")); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}
