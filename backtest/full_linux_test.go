package backtest

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/internal/fulldisk"
)

// TestFullDisk: the disk fills while a run writes its files over an earlier run's
// (fulldisk). Every file is whole, the earlier run's or the new one's, and no .part is
// left; written in place, payroll.csv was cut at the failure.
func TestFullDisk(t *testing.T) {
	if !fulldisk.Child(t) {
		return
	}
	dir := filepath.Join("testdata", "scenario")
	opt := Options{Roster: filepath.Join(dir, "roster.csv"), Records: []string{filepath.Join(dir, "records")},
		From: sc.MustDate("2024-01-01"), To: sc.MustDate("2024-06-30"), Workers: 2, Out: t.TempDir()}
	if _, err := Run(context.Background(), opt); err != nil {
		t.Fatal(err)
	}
	before := map[string][]byte{}
	for _, name := range outputs {
		before[name], _ = os.ReadFile(filepath.Join(opt.Out, name))
	}
	full := runScenario(t, dir, 2) // to 2024-12-31, as the run that fails
	opt.To = sc.MustDate("2024-12-31")
	restore := fulldisk.Limit(t, 2500) // decisions.csv (1,990 bytes) fits, payroll.csv (4,922) does not
	_, err := Run(context.Background(), opt)
	restore()
	if !errors.Is(err, syscall.EFBIG) {
		t.Fatalf("the run past the limit: %v", err)
	}
	for _, name := range outputs {
		got, _ := os.ReadFile(filepath.Join(opt.Out, name))
		now, _ := os.ReadFile(filepath.Join(full, name))
		if !bytes.Equal(got, before[name]) && !bytes.Equal(got, now) {
			t.Errorf("%s is neither the earlier run's (%d bytes) nor the new one's (%d): %d bytes", name, len(before[name]), len(now), len(got))
		}
	}
	if got, _ := os.ReadFile(filepath.Join(opt.Out, "payroll.csv")); !bytes.Equal(got, before["payroll.csv"]) {
		t.Errorf("payroll.csv, whose writing failed, is not the earlier run's")
	}
	if left, _ := filepath.Glob(filepath.Join(opt.Out, "*.part")); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}
