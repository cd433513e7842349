package service_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/silentcert/silentcert/backtest"
	"github.com/silentcert/silentcert/internal/fulldisk"
	"github.com/silentcert/silentcert/service"
	"github.com/silentcert/silentcert/store/storetest"
)

// TestExportFullDisk: the disk fills while a replay writes its files again (fulldisk):
// the files of the run before stay whole and no .part is left. Written in place, they
// were cut at the failure.
func TestExportFullDisk(t *testing.T) {
	if !fulldisk.Child(t) {
		return
	}
	ctx := context.Background()
	want := goldenBacktest(ctx, t)
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			db := dsn.Open(t)
			out := t.TempDir()
			if err := goldenReplay(ctx, t, db, out, false); err != nil {
				t.Fatal(err)
			}
			s, err := service.Open(ctx, db, service.Options{})
			if err != nil {
				t.Fatal(err)
			}
			decisions, err := os.Stat(filepath.Join(out, "decisions.csv"))
			if err != nil {
				t.Fatal(err)
			}
			restore := fulldisk.Limit(t, decisions.Size()/2)
			err = s.Export(ctx, out, golden.From, golden.To, backtest.NewReport())
			restore()
			if !errors.Is(err, syscall.EFBIG) {
				t.Fatalf("the export past the limit: %v", err)
			}
			sameOutputs(t, want, out, "the files after a failed export")
			if left, _ := filepath.Glob(filepath.Join(out, "*.part")); len(left) > 0 {
				t.Errorf("left behind: %v", left)
			}
		})
	}
}
