package service_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/backtest"
	"github.com/silentcert/silentcert/engine"
	"github.com/silentcert/silentcert/models"
	"github.com/silentcert/silentcert/service"
	"github.com/silentcert/silentcert/sim"
	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
)

var outputs = []string{"decisions.csv", "status.csv", "payroll.csv", "overpayments.csv", "quarantine.csv", "held.csv", "unlinked.csv", "regions.csv", "report.json"}

// replayMatchesBacktest runs backtest and replay on the same inputs and compares every
// output file byte for byte.
func replayMatchesBacktest(t *testing.T, db *store.DB, roster string, records []string, from, to sc.Date) {
	t.Helper()
	replayMatches(t, db, roster, records, from, to, nil, 0)
}

// replayMatches is replayMatchesBacktest with an evidence model (a fresh one per run, from
// newModel) or without (nil), replaying window days at a time (0: the default).
func replayMatches(t *testing.T, db *store.DB, roster string, records []string, from, to sc.Date, newModel func() engine.Model, window int) string {
	t.Helper()
	ctx := context.Background()
	want := t.TempDir()
	var bm, sm engine.Model
	if newModel != nil {
		bm, sm = newModel(), newModel()
	}
	if _, err := backtest.Run(ctx, backtest.Options{Roster: roster, Records: records, From: from, To: to, Out: want, Workers: 2, Model: bm}); err != nil {
		t.Fatal(err)
	}
	got := t.TempDir()
	if _, err := service.Replay(ctx, db, service.ReplayOptions{Roster: roster, Records: records, From: from, To: to, Out: got,
		Service: service.Options{Model: sm}, SpillDir: t.TempDir(), Window: window}); err != nil {
		t.Fatal(err)
	}
	sameOutputs(t, want, got, "replay")
	return want
}

// sameOutputs compares every output file of got with want's, byte for byte.
func sameOutputs(t *testing.T, want, got, what string) {
	t.Helper()
	for _, name := range outputs {
		w, g := mustRead(t, filepath.Join(want, name)), mustRead(t, filepath.Join(got, name))
		if !bytes.Equal(g, w) {
			t.Errorf("%s: %s differs from backtest\n%s", name, what, firstDiff(w, g))
		}
	}
}

// firstDiff shows the first line that differs.
func firstDiff(a, b []byte) string {
	la, lb := bytes.Split(a, []byte("\n")), bytes.Split(b, []byte("\n"))
	for i := 0; i < max(len(la), len(lb)); i++ {
		var x, y []byte
		if i < len(la) {
			x = la[i]
		}
		if i < len(lb) {
			y = lb[i]
		}
		if !bytes.Equal(x, y) {
			return "line " + itoa(i+1) + ":\n  backtest: " + string(x) + "\n  replay:   " + string(y)
		}
	}
	return ""
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestReplayGoldenScenario: the hand-written scenario of backtest's golden test, which
// exercises every action of spec §7, replayed through the database.
func TestReplayGoldenScenario(t *testing.T) {
	dir := filepath.Join("..", "backtest", "testdata", "scenario")
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			replayMatchesBacktest(t, dsn.Open(t), filepath.Join(dir, "roster.csv"), []string{filepath.Join(dir, "records")},
				sc.MustDate("2024-01-01"), sc.MustDate("2024-12-31"))
		})
	}
}

// TestReplaySimulatedCity: a simulated city with every fault the simulator makes.
func TestReplaySimulatedCity(t *testing.T) {
	city := t.TempDir()
	from, to := sc.MustDate("2024-01-01"), sc.MustDate("2024-12-31")
	n := 1500
	if testing.Short() {
		n = 300
	}
	if _, err := sim.Simulate(context.Background(), sim.Options{City: "3710", Recipients: n, From: from, To: to, Seed: 7,
		Out: city, HistoryMonths: 3, Overwrite: true}); err != nil {
		t.Fatal(err)
	}
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			replayMatchesBacktest(t, dsn.Open(t), filepath.Join(city, "roster.csv"), []string{filepath.Join(city, "records")}, from, to)
		})
	}
}

// TestSummaryDailyEqualsRebuild: the console's summaries kept day by day (as serve does)
// equal those rebuilt once from the whole history.
func TestSummaryDailyEqualsRebuild(t *testing.T) {
	dir := filepath.Join("..", "backtest", "testdata", "scenario")
	ctx := context.Background()
	dump := func(daily bool) string {
		db := storetest.Open(t, "sqlite:"+filepath.Join(t.TempDir(), "s.db"))
		if _, err := service.Replay(ctx, db, service.ReplayOptions{Roster: filepath.Join(dir, "roster.csv"),
			Records: []string{filepath.Join(dir, "records")}, From: sc.MustDate("2024-01-01"), To: sc.MustDate("2024-12-31"),
			DailySummary: daily}); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for _, q := range []string{`SELECT region, month, action, method, source, n FROM console_flow ORDER BY 1, 2, 3, 4, 5`,
			// Money is summed on payroll day by the region the person then lived in; a
			// rebuild sums it by the region now: the two agree above any village a person
			// moved out of (the scenario has one move), so compare the city and above.
			`SELECT region, month, kind, amount FROM console_money WHERE length(region) <= 4 ORDER BY 1, 2, 3`,
			`SELECT region, status, method, n FROM console_now ORDER BY 1, 2, 3`} {
			rows, err := db.SQL().Query(q)
			if err != nil {
				t.Fatal(err)
			}
			cols, _ := rows.Columns()
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			for rows.Next() {
				rows.Scan(ptrs...)
				fmt.Fprintln(&b, vals...)
			}
			rows.Close()
		}
		return b.String()
	}
	daily, rebuilt := dump(true), dump(false)
	if daily != rebuilt || !strings.Contains(daily, "CERTIFIED") {
		t.Fatalf("summaries differ:\n--- daily\n%s\n--- rebuilt\n%s", daily, rebuilt)
	}
}

// TestReplayWithModel: with the evidence models (WEAK certifications by score, RISK rows,
// silence counted over each type's coverage) the persistent path still writes what
// backtest writes, on both databases.
func TestReplayWithModel(t *testing.T) {
	from, to := sc.MustDate("2024-01-01"), sc.MustDate("2024-12-31")
	city := simCity(t, 1500, 8, from, to, 3)
	newModel := func() engine.Model { return newCoverageModel() }
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			db := dsn.Open(t)
			out := replayMatches(t, db, filepath.Join(city, "roster.csv"), []string{filepath.Join(city, "records")}, from, to, newModel, 0)
			dec, err := os.ReadFile(filepath.Join(out, "decisions.csv"))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(dec, []byte(",RISK,")) || !bytes.Contains(dec, []byte(",CERTIFIED,WEAK,")) {
				t.Fatal("the model made no RISK row or no WEAK certification: the test would prove nothing")
			}
			// The health index is written beside the status, for the worklists: everyone the
			// model saw has one, and they differ.
			scored, people := 0, 0
			seen := map[int]bool{}
			if err := db.LoadPeople(context.Background(), func(p *store.Person) error {
				people++
				if p.Health >= 0 {
					scored++
					seen[p.Health] = true
				}
				if p.Health > 1000 {
					t.Errorf("person %d: health %d thousandths", p.PID, p.Health)
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if scored < people*9/10 || len(seen) < 50 {
				t.Errorf("%d of %d people have a health index, %d distinct values", scored, people, len(seen))
			}
		})
	}
}

// TestReplayWindows: replay keeps the rows it read on disk, a window of reported days to
// a file, and applies the history a window to a batch; whatever the window (a day, a
// month, the whole year), its files are backtest's, with the evidence models too.
func TestReplayWindows(t *testing.T) {
	from, to := sc.MustDate("2024-01-01"), sc.MustDate("2024-06-30")
	city := simCity(t, 300, 5, from, to, 2)
	newModel := func() engine.Model { return newCoverageModel() }
	for _, w := range []int{1, 31, 400} {
		t.Run(itoa(w), func(t *testing.T) {
			db := storetest.Open(t, "sqlite:"+filepath.Join(t.TempDir(), "r.db"))
			replayMatches(t, db, filepath.Join(city, "roster.csv"), []string{filepath.Join(city, "records")}, from, to, newModel, w)
		})
	}
}

// simCity simulates a Weihai of n recipients from from to to, with months of history,
// into a temporary folder.
func simCity(t *testing.T, n int, seed uint64, from, to sc.Date, months int) string {
	t.Helper()
	city := t.TempDir()
	if _, err := sim.Simulate(context.Background(), sim.Options{City: "3710", Recipients: n, From: from, To: to, Seed: seed,
		Out: city, HistoryMonths: months, Overwrite: true}); err != nil {
		t.Fatal(err)
	}
	return city
}

// newCoverageModel is the built-in model with the default configuration, counting
// silence by coverage.
func newCoverageModel() *coverageModel {
	cfg := sc.DefaultConfig()
	return &coverageModel{Model: models.New(models.Default(), cfg.Catalogue, cfg.Policy.HealthPeriod)}
}

// coverageModel is the built-in model counting silence by coverage, and records what it
// is told of it.
type coverageModel struct {
	*models.Model
	base sc.Date
	cov  [][]sc.Date
	sets int
}

func (m *coverageModel) WantsCoverage() bool { return true }

func (m *coverageModel) SetCoverage(base sc.Date, covered [][]sc.Date) {
	m.base, m.cov = base, covered
	m.sets++
	m.Model.SetCoverage(base, covered)
}

// TestReplayResume stops a replay (with the evidence models) in its history and again in
// the middle of a group of days, the way a crash would, and resumes it each time in a new
// service with a new model: the files are still backtest's, byte for byte, on both
// databases. A replay is refused on a database holding a stopped one unless resumed, and
// a resume is refused on an empty database or for other inputs.
func TestReplayResume(t *testing.T) {
	from, to := sc.MustDate("2024-01-01"), sc.MustDate("2024-08-31")
	city := simCity(t, 600, 5, from, to, 2)
	roster, records := filepath.Join(city, "roster.csv"), []string{filepath.Join(city, "records")}
	ctx := context.Background()
	want := t.TempDir()
	if _, err := backtest.Run(ctx, backtest.Options{Roster: roster, Records: records, From: from, To: to, Out: want, Workers: 2,
		Model: newCoverageModel()}); err != nil {
		t.Fatal(err)
	}
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			db := dsn.Open(t)
			// run replays until the progress reaches stop (NoDate: to the end), under the
			// program named build ("": the test binary's BuildIdentity).
			build, change := "", ""
			run := func(resume bool, stop sc.Date, out string, to sc.Date) error {
				rctx, cancel := context.WithCancel(ctx)
				defer cancel()
				progress := func(d sc.Date, _ int64) {
					if d == stop {
						cancel()
					}
				}
				_, err := service.Replay(rctx, db, service.ReplayOptions{Roster: roster, Records: records, From: from, To: to, Out: out,
					Service: service.Options{Model: newCoverageModel(), Build: build}, SpillDir: t.TempDir(), Resume: resume, Progress: progress,
					BuildChange: change})
				return err
			}
			if err := run(true, sc.NoDate, "", to); err == nil || !strings.Contains(err.Error(), "no replay to resume") {
				t.Fatalf("resume on an empty database: %v", err)
			}
			// The history comes in 8-day windows ending on from-1: stop after the one of
			// from-48 to from-41 (about the third of two months).
			if err := run(false, from-41, "", to); err == nil {
				t.Fatal("the replay stopped in its history returned no error")
			}
			if mark, _, _ := db.Meta(ctx, "replay"); !strings.Contains(mark, `"history_batches":3,`) || strings.Contains(mark, `"day"`) {
				t.Fatalf("the mark after a stop in the history: %s", mark)
			}
			if err := run(false, sc.NoDate, "", to); err == nil || !strings.Contains(err.Error(), "--resume") {
				t.Fatalf("a new replay on a stopped one: %v", err)
			}
			if err := run(true, sc.NoDate, "", to-1); err == nil || !strings.Contains(err.Error(), "give the same") {
				t.Fatalf("a resume with another --to: %v", err)
			}
			other := sc.DefaultConfig()
			other.Policy.WarningMonths = 3
			if _, err := service.Replay(ctx, db, service.ReplayOptions{Roster: roster, Records: records, From: from, To: to, Config: other,
				Service: service.Options{Model: newCoverageModel()}, SpillDir: t.TempDir(), Resume: true}); err == nil || !strings.Contains(err.Error(), "configuration") {
				t.Fatalf("a resume under another configuration: %v", err)
			}
			// Past one group of 64 days, in the middle of the next.
			if err := run(true, from+100, "", to); err == nil {
				t.Fatal("the replay stopped on a day returned no error")
			}
			mark, ok, err := db.Meta(ctx, "replay")
			if err != nil || !ok || !strings.Contains(mark, `"day":"2024-03-04"`) {
				t.Fatalf("the mark after a stop on day %s: %s (%v)", from+100, mark, err)
			}
			// As many records, not the same: one amount changed, then one roster byte.
			for _, c := range []struct{ path, old, new, want string }{
				{filepath.Join(city, "records", "HRSS", "2024-02.csv"), "amount=", "amount=1", "record files"},
				{roster, "\n", "\r\n", "roster"},
			} {
				b := mustRead(t, c.path)
				if !bytes.Contains(b, []byte(c.old)) {
					t.Fatalf("%s holds no %q", c.path, c.old)
				}
				if err := os.WriteFile(c.path, bytes.Replace(b, []byte(c.old), []byte(c.new), 1), 0o644); err != nil {
					t.Fatal(err)
				}
				err := run(true, sc.NoDate, "", to)
				if err := os.WriteFile(c.path, b, 0o644); err != nil {
					t.Fatal(err)
				}
				if err == nil || !strings.Contains(err.Error(), c.want+" ") || !strings.Contains(err.Error(), "changed") {
					t.Fatalf("a resume with a changed %s: %v", c.want, err)
				}
			}
			// A mark naming a directory no replay made (edited by hand, or a bug): the
			// resume leaves it alone.
			keep := filepath.Join(t.TempDir(), "keep-me")
			if err := os.Mkdir(keep, 0o755); err != nil {
				t.Fatal(err)
			}
			edited := regexp.MustCompile(`"spill":"[^"]*"`).ReplaceAllString(mark, `"spill":`+strconv.Quote(keep))
			tx, err := db.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := tx.SetMeta("replay", edited); err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			// Another program (an upgrade between the stop and the resume): refused,
			// unless the resume names a reason, which the audit trail keeps.
			build = "go0 bin:0123456789abcdef"
			if err := run(true, sc.NoDate, "", to); err == nil || !strings.Contains(err.Error(), "--build-change") {
				t.Fatalf("a resume under another program: %v", err)
			}
			change = "the fix of a crash"
			got := t.TempDir()
			if err := run(true, sc.NoDate, got, to); err != nil {
				t.Fatal(err)
			}
			sameOutputs(t, want, got, "the resumed replay")
			rows, err := db.Trail(ctx, store.TrailQuery{Kind: "build", From: sc.NoDate, To: sc.NoDate})
			if err != nil {
				t.Fatal(err)
			}
			var resumed int
			for _, r := range rows {
				if r.Action == "resume" && strings.Contains(r.Detail, "to="+build+";reason=the fix of a crash") && !strings.Contains(r.Detail, "from="+build) {
					resumed++
				}
			}
			if resumed != 1 {
				t.Errorf("the audit trail holds %d rows of the resume under another program: %+v", resumed, rows)
			}
			change = "" // the mark now names the program that went on
			if _, err := os.Stat(keep); err != nil {
				t.Errorf("the resume removed a directory the mark named but no replay made: %v", err)
			}
			// Done: resuming again only writes the files again.
			again := t.TempDir()
			if err := run(true, sc.NoDate, again, to); err != nil {
				t.Fatal(err)
			}
			sameOutputs(t, want, again, "resuming a finished replay")
			if err := run(false, sc.NoDate, "", to); err == nil || !strings.Contains(err.Error(), "empty database") {
				t.Fatalf("a new replay on a finished one: %v", err)
			}
		})
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestReplayLastCertifiedLater: a roster's last_certified after --to is kept as given by
// replay as by backtest (their files are identical), not read as --to.
func TestReplayLastCertifiedLater(t *testing.T) {
	dir := t.TempDir()
	roster := filepath.Join(dir, "roster.csv")
	os.WriteFile(roster, []byte("person_id,name,region_code,benefit_type,monthly_amount,start_month,last_certified\n"+
		"110101194503150031,王五,110101001001,EMP_PENSION,1000,2020-01,2024-11-30\n"+
		"110101194001010012,张三,110101001001,EMP_PENSION,1000,2020-01,2023-01-15\n"), 0o644)
	recs := filepath.Join(dir, "records")
	os.MkdirAll(recs, 0o755)
	os.WriteFile(filepath.Join(recs, "a.csv"), []byte("record_id,source,type,person_id,event_date\n"+
		"f1,HRSS,HRSS.FACE,110101194001010012,2024-03-10\n"), 0o644)
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			want := replayMatches(t, dsn.Open(t), roster, []string{recs}, sc.MustDate("2024-03-01"), sc.MustDate("2024-03-31"), nil, 0)
			if st := mustRead(t, filepath.Join(want, "status.csv")); !bytes.Contains(st, []byte("110101194503150031,CERTIFIED,2025-11-30,2024-11-30,MIGRATED,")) {
				t.Errorf("status.csv:\n%s", st)
			}
		})
	}
}
