package service_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/backtest"
	"github.com/silentcert/silentcert/service"
	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
)

// golden is the golden scenario's inputs.
var golden = backtest.Options{Roster: filepath.Join("..", "backtest", "testdata", "scenario", "roster.csv"),
	Records: []string{filepath.Join("..", "backtest", "testdata", "scenario", "records")},
	From:    sc.MustDate("2024-01-01"), To: sc.MustDate("2024-12-31"), Workers: 2}

// goldenBacktest writes backtest's files of the golden scenario, named as replay names
// its inputs, and returns their folder.
func goldenBacktest(ctx context.Context, t *testing.T) string {
	t.Helper()
	opt := golden
	opt.Out = t.TempDir()
	if _, err := backtest.Run(ctx, opt); err != nil {
		t.Fatal(err)
	}
	return opt.Out
}

// goldenReplay replays the golden scenario into db, its files into out ("" none).
func goldenReplay(ctx context.Context, t *testing.T, db *store.DB, out string, resume bool) error {
	t.Helper()
	_, err := service.Replay(ctx, db, service.ReplayOptions{Roster: golden.Roster, Records: golden.Records,
		From: golden.From, To: golden.To, Out: out, SpillDir: t.TempDir(), Resume: resume})
	return err
}

// TestReplayFilesFailed: a replay that finished its days but could not write its files (a
// kill or a full disk while it wrote them; here --out is a file) is told to resume, which
// writes them (it was told to start again on an empty database, and a city's replay
// takes hours).
func TestReplayFilesFailed(t *testing.T) {
	ctx := context.Background()
	want := goldenBacktest(ctx, t)
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			db := dsn.Open(t)
			notDir := filepath.Join(t.TempDir(), "out")
			if err := os.WriteFile(notDir, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := goldenReplay(ctx, t, db, notDir, false); err == nil {
				t.Fatal("a replay whose --out is a file wrote its files")
			}
			err := goldenReplay(ctx, t, db, "", false)
			if err == nil || !strings.Contains(err.Error(), "--resume writes its files") {
				t.Fatalf("a new replay on one whose files failed: %v", err)
			}
			got := t.TempDir()
			if err := goldenReplay(ctx, t, db, got, true); err != nil {
				t.Fatalf("resumed: %v", err)
			}
			sameOutputs(t, want, got, "the resumed replay")
			// Days run after the replay's end: its files would be of those days.
			s, err := service.Open(ctx, db, service.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.RunDay(ctx, sc.MustDate("2025-01-01")); err != nil {
				t.Fatal(err)
			}
			if err := goldenReplay(ctx, t, db, "", false); err == nil || strings.Contains(err.Error(), "--resume") {
				t.Fatalf("a new replay on one run past its end: %v", err)
			}
		})
	}
}
