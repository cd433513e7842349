package service_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/backtest"
	"github.com/silentcert/silentcert/service"
	"github.com/silentcert/silentcert/sim"
	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
)

// TestCoverageAfterRestart: batches arriving over months (one department's a month late,
// one file sent twice) give a model the same coverage whether the service ran through
// or was started again before every batch, and the same as a backtest over the same
// records gives, for every day.
func TestCoverageAfterRestart(t *testing.T) {
	from, to := sc.MustDate("2024-01-01"), sc.MustDate("2024-03-31")
	// Every record dated as reported: a live batch takes a missing reported_date as the
	// day it arrives (spec §3), backtest as the event's (§7), and the two would differ.
	rates := sim.DefaultRates()
	for _, src := range rates.Sources {
		src.NoReportedDate = 0
	}
	city := t.TempDir()
	if _, err := sim.Simulate(context.Background(), sim.Options{City: "3710", Recipients: 300, From: from, To: to, Seed: 3,
		Out: city, HistoryMonths: 2, Overwrite: true, Rates: rates}); err != nil {
		t.Fatal(err)
	}
	newModel := newCoverageModel
	cfg := sc.DefaultConfig()
	// The batches: each department's month, on the 3rd of the next month; TRN's a month
	// later still; MED's January once more at the end.
	type batch struct {
		day  sc.Date
		file string
	}
	var batches []batch
	srcs, err := os.ReadDir(filepath.Join(city, "records"))
	if err != nil {
		t.Fatal(err)
	}
	for m := from.AddMonths(-2); m <= to; m = m.AddMonths(1) {
		y, mo, _ := m.Civil()
		for _, src := range srcs {
			fs, _ := filepath.Glob(filepath.Join(city, "records", src.Name(), fmt.Sprintf("%04d-%02d.*", y, mo)))
			if len(fs) != 1 {
				continue
			}
			f := fs[0]
			day := m.AddMonths(1) + 2
			if src.Name() == "TRN" {
				day = m.AddMonths(2) + 2
			}
			batches = append(batches, batch{day, f})
		}
	}
	batches = append(batches, batch{to.AddMonths(2) + 3, filepath.Join(city, "records", "MED", "2024-01.jsonl.gz")})
	slices.SortStableFunc(batches, func(a, b batch) int { return int(a.day - b.day) })

	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			ctx := context.Background()
			var clock sc.Date
			opt := func(m *coverageModel) service.Options {
				return service.Options{Model: m, Now: func() time.Time {
					y, mo, d := clock.Civil()
					return time.Date(y, time.Month(mo), d, 12, 0, 0, 0, time.UTC)
				}, Location: time.UTC}
			}
			open := func(db *store.DB, m *coverageModel) *service.Service {
				s, err := service.Open(ctx, db, opt(m))
				if err != nil {
					t.Fatal(err)
				}
				return s
			}
			dbA, dbB := dsn.Open(t), dsn.Open(t)
			mA := newModel()
			clock = from.AddMonths(-2)
			a, b := open(dbA, mA), open(dbB, newModel())
			for _, s := range []*service.Service{a, b} {
				if _, err := s.ImportRoster(ctx, filepath.Join(city, "roster.csv"), "", "test"); err != nil {
					t.Fatal(err)
				}
			}
			ingest := func(s *service.Service, f string) {
				r, err := os.Open(f)
				if err != nil {
					t.Fatal(err)
				}
				defer r.Close()
				if _, err := s.Ingest(ctx, service.Batch{Origin: "file", Actor: "test", Files: []service.File{{Name: f, Body: r}}}); err != nil {
					t.Fatal(err)
				}
			}
			changed := 0
			for i, bt := range batches {
				clock = bt.day
				mB := newModel()
				b = open(dbB, mB) // started again before every batch
				if i > 0 && !sameCoverage(mA, mB, bt.day) {
					t.Fatalf("before batch %d: a service started again is told another coverage", i)
				}
				before := slices.Clone(mA.cov)
				ingest(a, bt.file)
				ingest(b, bt.file)
				if !sameCoverage(mA, mB, bt.day) {
					t.Fatalf("after batch %d (%s on %s): a service started again is told another coverage", i, bt.file, bt.day)
				}
				if !slices.EqualFunc(before, mA.cov, slices.Equal) {
					changed++
				}
			}
			if changed < len(batches)/2 || mA.cov == nil {
				t.Fatalf("the coverage changed with %d batches of %d: the test proves nothing", changed, len(batches))
			}
			// A backtest over the same records is told the same for every day.
			bm := newModel()
			if _, err := backtest.Run(ctx, backtest.Options{Roster: filepath.Join(city, "roster.csv"), Records: []string{filepath.Join(city, "records")},
				From: from, To: to, Out: t.TempDir(), Workers: 2, Model: bm}); err != nil {
				t.Fatal(err)
			}
			if bm.base != mA.base {
				t.Fatalf("backtest's coverage starts on %s, the service's on %s", bm.base, mA.base)
			}
			for typ := range bm.cov {
				for i, c := range bm.cov[typ] {
					if got := mA.cov[typ]; got == nil && c != sc.NoDate || got != nil && got[i] != c {
						t.Fatalf("type %s, day %s: the service is told another coverage than backtest", cfg.Catalogue.Type(sc.TypeID(typ)).Code, bm.base+sc.Date(i))
					}
				}
			}
		})
	}
}

// sameCoverage tells whether two models were told the same coverage for every day
// through day (each is told it up to a horizon of its own, past day).
func sameCoverage(a, b *coverageModel, day sc.Date) bool {
	if a.base != b.base || len(a.cov) != len(b.cov) {
		return false
	}
	n := int(day-a.base) + 1
	for typ := range a.cov {
		x, y := a.cov[typ], b.cov[typ]
		if x == nil || y == nil {
			if x != nil || y != nil {
				return false
			}
			continue
		}
		if len(x) < n || len(y) < n || !slices.Equal(x[:n], y[:n]) {
			return false
		}
	}
	return true
}
