package sim_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/backtest"
	"github.com/silentcert/silentcert/sim"
)

// TestSimulateBacktestEvaluate runs the whole chain on a small Weihai: the simulated city
// replayed through the platform must pass every check of issue 4. (CI runs the same on
// 20,000 people over two years through the commands; this is the quick version.)
func TestSimulateBacktestEvaluate(t *testing.T) {
	dir := t.TempDir()
	scn := filepath.Join(dir, "scenario")
	out := filepath.Join(dir, "result")
	from, to := silentcert.MustDate("2024-01-01"), silentcert.MustDate("2024-12-31")
	if _, err := sim.Simulate(context.Background(), sim.Options{City: "3710", Recipients: 3000, From: from, To: to,
		Seed: 11, Out: scn, HistoryMonths: 6}); err != nil {
		t.Fatal(err)
	}
	if _, err := backtest.Run(context.Background(), backtest.Options{Roster: filepath.Join(scn, "roster.csv"),
		Records: []string{filepath.Join(scn, "records")}, From: from, To: to, Out: out}); err != nil {
		t.Fatal(err)
	}
	ev, err := sim.Evaluate(scn, out)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range ev.Checks {
		if !c.Pass {
			t.Errorf("check failed: %s (%s)", c.Name, c.Value)
		}
	}
	if ev.Deaths == 0 || ev.Termination.Reported == 0 {
		t.Errorf("no deaths to judge: %+v", ev.Termination)
	}
	t.Logf("\n%s", ev.Table())
}
