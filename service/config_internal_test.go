package service

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/store/storetest"
)

// TestReplayLegacyConfigPrint: a replay stopped by a program whose configuration print
// did not cover the types' classes resumes under the same configuration (its mark's
// print is the old form's, taken as the new), and is refused under another.
func TestReplayLegacyConfigPrint(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t, "sqlite:"+filepath.Join(t.TempDir(), "r.db"))
	opt := ReplayOptions{Roster: "../backtest/testdata/scenario/roster.csv", Records: []string{"../backtest/testdata/scenario/records"},
		From: sc.MustDate("2024-03-01"), To: sc.MustDate("2024-05-10"), Window: spillWindow, Config: sc.DefaultConfig()}
	s, err := Open(ctx, db, Options{Config: opt.Config})
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.replayStart(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	m.Config = legacyConfigPrint(opt.Config) // as the program before wrote it
	if err := s.setMeta(ctx, replayMeta, m.json()); err != nil {
		t.Fatal(err)
	}
	opt.Resume = true
	got, err := s.replayStart(ctx, opt)
	if err != nil || got.Config != configPrint(opt.Config) {
		t.Fatalf("resumed under the same configuration: %v, mark's print %s", err, got.Config)
	}
	other := sc.DefaultConfig()
	other.Policy.GraceMonths = 0
	s.cfg = other
	if _, err := s.replayStart(ctx, opt); err == nil || !strings.Contains(err.Error(), "configuration") {
		t.Fatalf("resumed under another configuration: %v", err)
	}
}
