package service_test

import (
	"context"
	"path/filepath"
	"testing"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/backtest"
	"github.com/silentcert/silentcert/service"
	"github.com/silentcert/silentcert/store"
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
