package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/internal/flock"
	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
)

// TestCrashSafety kills the real binary with SIGKILL in the middle of an ingest and in the
// middle of a daily run (inside their transactions), restarts the same commands, and
// checks that the database ends exactly as an uninterrupted run leaves it.
func TestCrashSafety(t *testing.T) {
	bin := buildBinary(t)
	city := simulateCity(t, "2024-03-31", "3", "0")
	steps := [][]string{
		{"ingest", "--roster", filepath.Join(city, "roster.csv")},
		{"ingest", "--day", "2024-03-31", filepath.Join(city, "records")}, // the whole simulation, on its last day (a live batch quarantines events after its day)
		{"run-day", "--day", "2024-02-01", "--ahead"},                     // the first day, with the payroll (and every record in)
		{"run-day", "--day", "2024-03-05"},                                // a month more, with a payroll
	}
	sh := func(dsn, kill string, args ...string) (int, string) {
		n := 1
		if args[0] == "audit" {
			n = 2
		}
		full := append(append(append([]string{}, args[:n]...), "--db", dsn), args[n:]...)
		cmd := exec.Command(bin, full...)
		cmd.Env = append(os.Environ(), "SILENTCERT_KILL_AT="+kill)
		out, err := cmd.CombinedOutput()
		if err != nil {
			if ee, ok := err.(*exec.ExitError); ok {
				return ee.ExitCode(), string(out)
			}
			t.Fatal(err)
		}
		return 0, string(out)
	}
	dsns := map[string]func() string{
		"sqlite":   func() string { return "sqlite:" + filepath.Join(t.TempDir(), "db") },
		"postgres": func() string { return storetest.PostgresDSN(t) },
	}
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			clean, crashed := dsns[name](), dsns[name]()
			for _, st := range steps {
				if code, out := sh(clean, "", st...); code != 0 {
					t.Fatalf("%v: %s", st, out)
				}
			}
			kills := []string{"", "ingest:5000", "run:200", "run:2"}
			for i, st := range steps {
				if k := kills[i]; k != "" {
					code, out := sh(crashed, k, st...)
					if code != -1 && code != 137 {
						t.Fatalf("%v with SILENTCERT_KILL_AT=%s: exit %d, want killed: %s", st, k, code, out)
					}
				}
				if code, out := sh(crashed, "", st...); code != 0 {
					t.Fatalf("%v after the crash: %s", st, out)
				}
			}
			a, b := dump(t, clean), dump(t, crashed)
			if a != b {
				t.Fatalf("the crashed and restarted database differs from the uninterrupted one:\n%s", firstLineDiff(a, b))
			}
			if code, out := sh(crashed, "", "audit", "verify"); code != 0 {
				t.Fatalf("audit verify after crashes: %s", out)
			}
		})
	}
}

// dump writes out everything a run decides: people and their states, records, decisions,
// payments and runs (not ids, batch numbers or wall times, which a crash may move).
func dump(t *testing.T, dsn string) string {
	t.Helper()
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var b strings.Builder
	for _, q := range []string{
		`SELECT p.person_id, p.status, p.until_day, p.death_date, s.next_check, s.baselined, p.region_code, s.state
			FROM people p JOIN people_state s ON s.pid = p.pid ORDER BY p.pid`,
		`SELECT type, day FROM deliveries ORDER BY type, day`,
		`SELECT day, person_id, action, method, evidence, detail, rule FROM audit WHERE kind = 'decision' ORDER BY day, person_id, seq`,
		`SELECT pid, benefit, month, kind, amount, payroll_month FROM payments ORDER BY pid, benefit, month, kind`,
		`SELECT day, evaluated, decisions FROM runs ORDER BY day`,
		`SELECT name, n FROM counters ORDER BY name`,
	} {
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
		n := 0
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				if bs, ok := v.([]byte); ok {
					v = string(bs)
				}
				fmt.Fprintf(&b, "%v|", v)
			}
			b.WriteByte('\n')
			n++
		}
		rows.Close()
		if n == 0 {
			t.Fatalf("nothing in %q: the test would prove nothing", q)
		}
	}
	var recs []string
	if err := db.EachRecord(context.Background(), func(r *store.Record) error {
		recs = append(recs, fmt.Sprintf("%s|%s|%s|%d|%d|%v|%d|%s|%s\n", r.Source, r.RecordID, r.Type, r.PID, r.Link, r.Held, r.Content, r.EventDate, r.Detail))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(recs) == 0 {
		t.Fatal("no records: the test would prove nothing")
	}
	slices.Sort(recs)
	b.WriteString(strings.Join(recs, ""))
	return b.String()
}

func firstLineDiff(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(la), len(lb)) {
		if la[i] != lb[i] {
			return fmt.Sprintf("line %d:\n  clean:   %.300s\n  crashed: %.300s", i+1, la[i], lb[i])
		}
	}
	return fmt.Sprintf("lengths %d and %d", len(la), len(lb))
}

// TestReplayKilled kills a replay with SIGKILL inside the commit of its second group of
// days, then resumes it (`replay --resume`): its files are backtest's, byte for byte.
func TestReplayKilled(t *testing.T) {
	bin := buildBinary(t)
	city := simulateCity(t, "2024-06-30", "4", "1")
	var so, se bytes.Buffer
	inputs := []string{"--roster", filepath.Join(city, "roster.csv"), "--records", filepath.Join(city, "records"),
		"--from", "2024-01-01", "--to", "2024-06-30", "--model", "builtin", "--quiet"}
	want := filepath.Join(t.TempDir(), "want")
	if code := run(context.Background(), append([]string{"backtest", "--out", want}, inputs...), &so, &se); code != 0 {
		t.Fatalf("backtest: %s", se.String())
	}
	sh := func(kill string, args ...string) (int, string) {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "SILENTCERT_KILL_AT="+kill)
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), string(out)
		} else if err != nil {
			t.Fatal(err)
		}
		return 0, string(out)
	}
	for name, dsn := range map[string]func() string{
		"sqlite":   func() string { return "sqlite:" + filepath.Join(t.TempDir(), "db") },
		"postgres": func() string { return storetest.PostgresDSN(t) },
	} {
		t.Run(name, func(t *testing.T) {
			db, spill := dsn(), t.TempDir()
			replay := append([]string{"replay", "--db", db, "--spill", spill}, inputs...)
			if code, out := sh("replay:2", replay...); code != -1 && code != 137 {
				t.Fatalf("replay with SILENTCERT_KILL_AT=replay:2: exit %d, want killed: %s", code, out)
			}
			if code, out := sh("", replay...); code == 0 || !strings.Contains(out, "--resume") {
				t.Fatalf("a new replay on the killed one: exit %d: %s", code, out)
			}
			if left, _ := filepath.Glob(filepath.Join(spill, "silentcert-replay-*")); len(left) != 1 {
				t.Fatalf("the killed replay left %v in its spill directory", left)
			}
			got := filepath.Join(t.TempDir(), "got")
			if code, out := sh("", append(replay, "--resume", "--out", got)...); code != 0 {
				t.Fatalf("replay --resume: %s", out)
			}
			// The resumed replay removed the killed one's spill files, then its own.
			if left, _ := filepath.Glob(filepath.Join(spill, "*")); len(left) != 0 {
				t.Errorf("spill files left after the resumed replay: %v", left)
			}
			for _, f := range []string{"decisions.csv", "status.csv", "payroll.csv", "overpayments.csv", "quarantine.csv", "held.csv", "unlinked.csv", "report.json"} {
				a, err := os.ReadFile(filepath.Join(want, f))
				if err != nil {
					t.Fatal(err)
				}
				b, err := os.ReadFile(filepath.Join(got, f))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(a, b) {
					t.Errorf("%s of the resumed replay differs from backtest's:\n%s", f, firstLineDiff(string(a), string(b)))
				}
			}
		})
	}
}

// buildBinary builds the command for tests that run it as a process of its own.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "silentcert")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// simulateCity simulates 400 recipients from 2024-01-01 to `to` with this seed and months
// of history.
func simulateCity(t *testing.T, to, seed, history string) string {
	t.Helper()
	city := t.TempDir()
	var so, se bytes.Buffer
	if code := run(context.Background(), []string{"simulate", "--recipients", "400", "--from", "2024-01-01", "--to", to,
		"--seed", seed, "--out", city, "--quiet", "--history-months", history}, &so, &se); code != 0 {
		t.Fatalf("simulate: %s", se.String())
	}
	return city
}

// TestOneWriterCommands: while a process holds the database (serve), a command that would
// change people's states is refused, naming the holder, and the payroll file is still
// written.
func TestOneWriterCommands(t *testing.T) {
	bin := buildBinary(t)
	city := simulateCity(t, "2024-02-29", "3", "0")
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "db")
	run := func(args ...string) (string, error) {
		out, err := exec.Command(bin, append([]string{args[0], "--db", dsn}, args[1:]...)...).CombinedOutput()
		return string(out), err
	}
	for _, st := range [][]string{{"ingest", "--roster", filepath.Join(city, "roster.csv")}, {"run-day", "--day", "2024-02-01"}} {
		if out, err := run(st...); err != nil {
			t.Fatalf("%v: %v: %s", st, err, out)
		}
	}
	holder := storetest.Open(t, dsn)
	if err := holder.ClaimWriter(context.Background()); err != nil {
		t.Fatal(err)
	}
	if out, err := run("run-day", "--day", "2024-02-02"); err == nil || !strings.Contains(out, "is in use by") || !strings.Contains(out, fmt.Sprintf("pid %d", os.Getpid())) {
		t.Fatalf("run-day beside a writer: %v: %s", err, out)
	}
	payFile := filepath.Join(t.TempDir(), "pay.csv")
	if out, err := run("payroll", "--month", "2024-02", "--out", payFile); err != nil {
		t.Fatalf("payroll beside a writer: %v: %s", err, out)
	}
	// The payroll file holds every ID number: who took it is in the trail, whose chain
	// holds beside the writer; then what was written, its rows and SHA-256 (newest first).
	rows, err := holder.Trail(context.Background(), store.TrailQuery{Kind: "export", Limit: 10, From: sc.NoDate, To: sc.NoDate})
	if err != nil || len(rows) != 2 || rows[1].Action != "payroll" || !strings.HasPrefix(rows[1].Actor, "cli") || !strings.Contains(rows[1].Detail, "month=2024-02;file=") {
		t.Errorf("the payroll's audit row: %+v %v", rows, err)
	}
	body, _ := os.ReadFile(payFile)
	if want := fmt.Sprintf(";sha256=%x", sha256.Sum256(body)); len(rows) != 2 || rows[0].Action != "payroll_written" ||
		!strings.HasSuffix(rows[0].Detail, want) || !strings.Contains(rows[0].Detail, fmt.Sprintf(";rows=%d;", strings.Count(string(body), "\n")-1)) {
		t.Errorf("the written file's audit row: %+v, want it to end %s", rows, want)
	}
	if _, err := holder.VerifyAudit(context.Background(), func(p store.AuditProblem) { t.Errorf("audit: %+v", p) }); err != nil {
		t.Fatal(err)
	}
	// Beside a write transaction longer than SQLite's busy timeout (10 s: serve's run of
	// the 1st in a large city), payroll waits for it, then writes its row and its file.
	tx, err := holder.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(12*time.Second, func() { tx.Rollback() })
	pay := filepath.Join(t.TempDir(), "pay2.csv")
	if out, err := run("payroll", "--month", "2024-02", "--out", pay); err != nil || !strings.Contains(out, "waits for the service's write transaction") {
		t.Errorf("payroll beside a long write transaction: %v: %s", err, out)
	}
	if _, err := os.Stat(pay); err != nil {
		t.Errorf("the payment file: %v", err)
	}
	holder.Close()
	if out, err := run("run-day", "--day", "2024-02-02"); err != nil {
		t.Fatalf("run-day once the writer is gone: %v: %s", err, out)
	}
}

// TestReplayKilledBeforeFirstCommit kills a replay inside its first batch, before any
// commit names its spill directory in the mark: the next replay in the same spill folder
// removes it (its lock went with the killed process), where it used to stay for good,
// and leaves alone the directory of a replay that is running.
func TestReplayKilledBeforeFirstCommit(t *testing.T) {
	bin := buildBinary(t)
	city := simulateCity(t, "2024-02-29", "6", "1")
	spill := t.TempDir()
	replay := []string{"replay", "--db", "sqlite:" + filepath.Join(t.TempDir(), "db"), "--spill", spill, "--roster", filepath.Join(city, "roster.csv"),
		"--records", filepath.Join(city, "records"), "--from", "2024-01-01", "--to", "2024-02-29", "--quiet"}
	cmd := exec.Command(bin, replay...)
	cmd.Env = append(os.Environ(), "SILENTCERT_KILL_AT=ingest:1")
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || (ee.ExitCode() != -1 && ee.ExitCode() != 137) {
		t.Fatalf("replay with SILENTCERT_KILL_AT=ingest:1: %v, want killed: %s", err, out)
	}
	left, _ := filepath.Glob(filepath.Join(spill, "silentcert-replay-*"))
	if len(left) != 1 {
		t.Fatalf("the killed replay left %v in its spill folder", left)
	}
	// A replay running beside it (another database's) holds its own directory.
	running := filepath.Join(spill, "silentcert-replay-running")
	if err := os.Mkdir(running, 0o700); err != nil {
		t.Fatal(err)
	}
	if !flock.Supported {
		t.Skip("no flock on this system: stale spill directories are not removed")
	}
	lock, err := flock.Open(filepath.Join(running, "replay.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if out, err := exec.Command(bin, append(replay, "--resume", "--out", t.TempDir())...).CombinedOutput(); err != nil {
		t.Fatalf("replay --resume: %v: %s", err, out)
	}
	if left, _ := filepath.Glob(filepath.Join(spill, "*")); len(left) != 1 || left[0] != running {
		t.Errorf("after the resumed replay the spill folder holds %v, want only the running replay's", left)
	}
}
