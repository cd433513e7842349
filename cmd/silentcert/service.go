package main

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/api"
	"github.com/silentcert/silentcert/engine"
	"github.com/silentcert/silentcert/exchange"
	"github.com/silentcert/silentcert/idcard"
	"github.com/silentcert/silentcert/internal/atomicfile"
	"github.com/silentcert/silentcert/service"
	"github.com/silentcert/silentcert/store"
)

func init() {
	register("replay", "drive the persistent path day by day over history; writes backtest's files", runReplay)
	register("ingest", "ingest record files (spec §3) or a roster (spec §2) into the database", runIngest)
	register("migrate", "apply the database migrations (serve does it on start)", runMigrate)
	register("audit", "audit verify: check the audit trail's hash chain (against anchors kept outside); audit head: print its head", runAudit)
	register("backup", "write a consistent copy of a SQLite database while the service runs", runBackup)
	register("run-day", "run the daily evaluation (and payroll on the 1st) for every day up to --day; print each day's audit head", runRunDay)
	register("payroll", "write a payroll month's file for the payment system, and the recovery cases; print the audit trail's head to keep with it", runPayroll)
	register("serve", "run the service: ingestion API, drop folder, daily run at the configured hour", runServe)
}

const dbHelp = "database: sqlite:PATH or postgres://… (default sqlite:silentcert.db)"

// openDB opens (and migrates) the database; one that does not exist is made only when
// create says the command may start one: a mistyped path must not give an empty database
// that audit verify calls intact, run-day runs over or ingest links no one in. The
// migrations it applies are audited under the command line's user.
func openDB(ctx context.Context, dsn string, create bool) (*store.DB, error) {
	return openDBAs(ctx, dsn, create, cliActor())
}

// openDBAs is openDB naming who applies the migrations in their audit rows.
func openDBAs(ctx context.Context, dsn string, create bool, actor string) (*store.DB, error) {
	if dsn == "" {
		dsn = "sqlite:silentcert.db"
	}
	if !create {
		if err := dbExists(dsn); err != nil {
			return nil, err
		}
	}
	return store.OpenAs(ctx, dsn, actor)
}

// dbExists refuses a SQLite database whose file is not there.
func dbExists(dsn string) error {
	path, isFile := strings.CutPrefix(dsn, "sqlite:")
	if !isFile {
		return nil
	}
	path, _, _ = strings.Cut(path, "?")
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("%s: no such database (%v); a new one is made by ingest --roster, migrate, replay, serve, users add or demo", path, err)
	}
	return nil
}

func runReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("replay", "--db DSN --roster FILE --records PATH… --from DATE --to DATE [--out DIR] [--resume]", stderr)
	var records multiFlag
	dsn := fs.String("db", "", dbHelp)
	roster := fs.String("roster", "", "roster file (spec §2)")
	fs.Var(&records, "records", "record file or directory (repeatable)")
	from := fs.String("from", "", "first day, YYYY-MM-DD")
	to := fs.String("to", "", "last day, YYYY-MM-DD")
	out := fs.String("out", "", "output directory for backtest's files (optional)")
	configPath := fs.String("config", "", "configuration file (JSON; see README)")
	encoding := fs.String("encoding", "", "force the encoding of the roster and record files: utf-8, gbk or gb18030 (gbk is read as GB18030; a file that is evidently UTF-8 stays UTF-8, with a warning; default: detect)")
	city := fs.String("city", "", "prefecture or county code narrowing address resolution")
	quiet := fs.Bool("quiet", false, "no progress line on stderr")
	modelPath := fs.String("model", "", modelHelp)
	spill := fs.String("spill", "", "directory for the rows read, kept on disk a window of days to a file until replayed (default: the system's temporary directory)")
	resume := fs.Bool("resume", false, "go on with the replay this database holds, stopped by a crash or a kill, from its last commit (the same roster, records and dates; the files are read again)")
	buildChange := fs.String("build-change", "", "with --resume: go on under this program although another one stopped the replay, for this reason (written to the audit trail)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *roster == "" || len(records) == 0 || *from == "" || *to == "" {
		return usagef("--roster, --records, --from and --to are required")
	}
	if *buildChange != "" && !*resume {
		return usagef("--build-change goes with --resume")
	}
	f, t, err := parseWindow(*from, *to)
	if err != nil {
		return err
	}
	cfg, model, db, err := openSetup(ctx, *dsn, *configPath, *modelPath, true)
	if err != nil {
		return err
	}
	defer db.Close()
	start := time.Now()
	opt := service.ReplayOptions{Roster: *roster, Records: records, From: f, To: t, Out: *out, Config: cfg, Encoding: *encoding,
		ResolveRegion: regionResolver(*city), Service: service.Options{Model: model, Fault: faultFromEnv()}, SpillDir: *spill, Resume: *resume, BuildChange: *buildChange}
	pl := newProgress(stderr, *quiet)
	if pl != nil {
		base := int64(-1) // the records a resumed replay had applied before: not this run's rate
		opt.Progress = func(d sc.Date, n int64) {
			if base < 0 {
				base = 0
				if *resume {
					base = n
				}
			}
			what := "day"
			if d < f {
				what = "history to"
			}
			el := time.Since(start).Seconds()
			pl.show(d == t, "replay: %s %s, %d records applied, %.0f records/s, %.0f s", what, d, n, float64(n-base)/el, el)
		}
	}
	rep, err := service.Replay(ctx, db, opt)
	pl.done()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "replay: %d recipients, %d records read (%d applied) into %s in %.1fs\n", rep.Recipients, rep.Read, rep.Applied, db, time.Since(start).Seconds())
	return nil
}

func runIngest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("ingest", "--db DSN [--roster FILE] [FILE|DIR …]", stderr)
	dsn := fs.String("db", "", dbHelp)
	roster := fs.String("roster", "", "a roster file to import first (spec §2)")
	configPath := fs.String("config", "", "configuration file (JSON; see README)")
	encoding := fs.String("encoding", "", "force the encoding of the roster and record files: utf-8, gbk or gb18030 (gbk is read as GB18030; a file that is evidently UTF-8 stays UTF-8, with a warning; default: detect)")
	day := fs.String("day", "", "apply as of this day (default: today in Asia/Shanghai); a day after today is refused without --future, and one more than a day after the last day run without --ahead")
	future := fs.Bool("future", false, "allow a --day after today (China time)")
	ahead := fs.Bool("ahead", false, "allow record files applied as of a day more than one after the last day run: the days between, run later, are run with this batch's records in")
	history := fs.Bool("history", false, "load records reported before the service's first day: each applied on its reported_date, no decision rows")
	city := fs.String("city", "", "prefecture or county code narrowing address resolution of the roster")
	modelPath := fs.String("model", "", modelHelp)
	change := fs.String("model-change", "", modelChangeHelp)
	configChange := fs.String("config-change", "", configChangeHelp)
	maxBody := fs.Int64("max-body", defaultMaxBody(memTotal()), "largest batch, in bytes: the record files' sizes together, a gzip file's unpacked (as serve's --max-body, by default 1 GiB or a 48th of the machine's memory where that is less; 0: no limit)")
	paths, err := parseFlagsAndPaths(fs, args)
	if err != nil {
		return err
	}
	if *roster == "" && len(paths) == 0 {
		return usagef("give a --roster, record files, or both")
	}
	if *maxBody < 0 {
		return usagef("--max-body: %d is negative (0: no limit)", *maxBody)
	}
	d := sc.NoDate
	if *day != "" {
		if d, err = sc.ParseDate(*day); err != nil {
			return usagef("--day: %v", err)
		}
		if err := notFuture(d, *future, "its records would be applied as of that day"); err != nil {
			return err
		}
	}
	cfg, model, db, err := openSetup(ctx, *dsn, *configPath, *modelPath, *roster != "")
	if err != nil {
		return err
	}
	defer db.Close()
	if len(paths) > 0 && !*history && !*ahead {
		if err := notAhead(ctx, db, d, *dsn); err != nil {
			return err
		}
	}
	// Every record file is opened before anything is applied, the roster included: a
	// path that cannot be read refuses the command, naming it.
	files, err := openRecordFiles(paths, stderr)
	defer func() {
		for _, f := range files {
			f.Body.(*os.File).Close()
		}
	}()
	if err != nil {
		return err
	}
	if err := withinBody(files, *maxBody); err != nil {
		return err
	}
	svc, err := service.Open(ctx, db, service.Options{Config: cfg, ResolveRegion: regionResolver(*city), Fault: faultFromEnv(), Model: model})
	if err != nil {
		return err
	}
	if err := svc.CheckModel(ctx, *change, cliActor()); err != nil {
		return err
	}
	if err := svc.CheckConfig(ctx, *configChange, cliActor()); err != nil {
		return err
	}
	if *roster != "" {
		res, err := svc.ImportRoster(ctx, *roster, *encoding, cliActor())
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "roster %s: %d added, %d updated, %d unchanged, %d not on it (kept), %d rows quarantined (batch %d)\n", *roster,
			res.Added, res.Updated, res.Unchanged, res.Absent, len(res.Roster.Problems), res.BatchID)
		printEntitlementChanges(stdout, res)
		listProblems(stderr, res.Roster.Problems, res.Roster.Warnings, res.BatchID)
	}
	if len(files) == 0 {
		return nil
	}
	origin := "file"
	if *history {
		origin = "history" // not a batch as of its day: run-day's first day is not held to it
	}
	b := service.Batch{Origin: origin, Actor: cliActor(), Day: d, Encoding: *encoding, History: *history, Files: files, MaxDecompressed: *maxBody}
	start := time.Now()
	res, err := svc.Ingest(ctx, b)
	if err != nil {
		return err
	}
	if len(res.Refused) > 0 {
		return fmt.Errorf("batch %d refused, nothing applied: %s", res.BatchID, refusal(len(files), res.Refused))
	}
	r := res.Report
	secs := time.Since(start).Seconds()
	// The time is the batch's own, from reading its files to its commit (not the load of
	// every person's state at start, which serve does once).
	fmt.Fprintf(stdout, "batch %d: %d read, %d applied, %d duplicate, %d quarantined, %d unlinked, %d held in %.1fs (%.0f records/s)\n",
		res.BatchID, r.Read, r.Applied, r.Duplicate, r.Quarantined, r.Unlinked, r.Held, secs, float64(r.Read)/max(secs, 1e-9))
	listProblems(stderr, res.Problems, r.Warnings, res.BatchID)
	if whole := wholeQuarantined(files, res); len(whole) > 0 {
		return codeError{exitQuarantined, fmt.Sprintf("batch %d stored, but every row of %s was quarantined (the lines above say why, the warnings of a header first):\n  %s",
			res.BatchID, plural(len(whole), "file", "files"), strings.Join(whole, "\n  "))}
	}
	return nil
}

// wholeQuarantined names the files of a batch of which every row was quarantined, each
// with its count of rows: a header not the standard's quarantines every row, and the
// batch, stored with nothing of the file applied, is not a success.
func wholeQuarantined(files []service.File, res *service.Result) []string {
	quarantined := map[string]int64{}
	for _, p := range res.Problems {
		quarantined[p.File]++
	}
	var out []string
	for _, f := range files {
		if n := res.ReadByFile[f.Name]; n > 0 && quarantined[f.Name] == n {
			out = append(out, fmt.Sprintf("%s (%s)", f.Name, plural(int(n), "row", "rows")))
		}
	}
	return out
}

// notFuture refuses a --day after today, the agency's day (China time, as the service's
// Today), unless future: a mistyped year (2030 for 2024) is otherwise taken at its word.
// what says what the day would do.
func notFuture(d sc.Date, future bool, what string) error {
	if today := service.DayAt(time.Now(), nil); d > today && !future {
		return usagef("--day %s is after today, %s (China time): %s. Nothing was done: correct the day, or give --future as well if it is meant", d, today, what)
	}
	return nil
}

// notAhead refuses record files applied as of a day (d, or today for NoDate) more than one
// after the last day run: the days between, run afterwards, would be run with the batch's
// records in (a death reported at the month's end stopping its 1st's payroll). Before
// any day has run there is nothing to run afterwards.
func notAhead(ctx context.Context, db *store.DB, d sc.Date, dsn string) error {
	if d == sc.NoDate {
		d = service.DayAt(time.Now(), nil)
	}
	last, err := db.LastRun(ctx)
	if err != nil || last == sc.NoDate || d <= last+1 {
		return err
	}
	return usagef("the batch would be applied as of %s, but the last day run is %s: the days between, run afterwards, would be run with its records in (a death reported on the 8th would stop the 1st's payroll). Nothing was applied: run those days first (silentcert run-day --db %s --day %s), or give --ahead as well if it is meant",
		d, last, shellDSN(dsn), d-1)
}

// notBehind refuses a service's first day d (no day has run) more than one before the
// day of a batch of records applied already: d would be run with that batch's records in
// (a death reported on the 30th stopping the payroll of the 1st), which ingest's --ahead
// check cannot see before a first day exists. History (ingest --history) does not count.
func notBehind(ctx context.Context, db *store.DB, d sc.Date, dsn string) error {
	b, err := db.LatestBatchDay(ctx)
	if err != nil || b == sc.NoDate || d+1 >= b {
		return err
	}
	return usagef("no day has run yet, and a batch of records was applied as of %s: running %s first would run it with that batch's records in (a death reported on the 30th would stop the 1st's payroll). Nothing was run: run the first day on %s or later (silentcert run-day --db %s --day %s), or give --ahead as well if it is meant; records reported before the first day are loaded with ingest --history",
		b, d, b-1, shellDSN(dsn), b-1)
}

// shellDSN is the --db an operator gave, as a command suggested to them prints it: the
// default when none was given; a PostgreSQL URL without its password, in the user part or
// as a parameter (store shows DSNs so), but with its user name, for the command to connect
// as the same user (its password from PGPASSWORD or ~/.pgpass); quoted for the shell
// when it holds more than letters, digits and /.:@_-+=,%.
func shellDSN(dsn string) string {
	if dsn == "" {
		dsn = "sqlite:silentcert.db"
	}
	if !strings.HasPrefix(dsn, "sqlite:") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "postgres://…"
		}
		if u.User != nil {
			u.User = url.User(u.User.Username())
		}
		if q := u.Query(); q.Has("password") || q.Has("sslpassword") {
			q.Del("password")
			q.Del("sslpassword")
			u.RawQuery = q.Encode()
		}
		dsn = u.String()
	}
	if strings.IndexFunc(dsn, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/.:@_-+=,%", r))
	}) < 0 {
		return dsn
	}
	return "'" + strings.ReplaceAll(dsn, "'", `'\''`) + "'"
}

// listProblems prints a batch's warnings of a file as a whole (its header: a required
// column missing, which quarantines every row, or an unknown one), all of them and first,
// for they say why its rows were quarantined; then its first quarantined rows and its
// first other warnings (a value read otherwise), each naming its file and line; the rest
// are counted and on the batch's console page.
func listProblems(w io.Writer, problems []exchange.Problem, warnings []exchange.Warning, batch int64) {
	const most = 20
	var rows []exchange.Warning
	for _, x := range warnings {
		if x.Header {
			fmt.Fprintln(w, "warning: "+x.String())
		} else {
			rows = append(rows, x)
		}
	}
	for i, p := range problems {
		if i == most {
			fmt.Fprintf(w, "… and %d more quarantined rows (the console's page of batch %d)\n", len(problems)-most, batch)
			break
		}
		fmt.Fprintln(w, p.Error())
	}
	for i, x := range rows {
		if i == most {
			fmt.Fprintf(w, "… and %d more warnings (the console's page of batch %d)\n", len(rows)-most, batch)
			break
		}
		fmt.Fprintln(w, "warning: "+x.String())
	}
}

// refusal says why a batch of n files was refused, naming each file that refused it on
// a line of its own, and what to do: the files of one ingest are one batch, in spec §7's
// order, so the good ones wait for the refused.
func refusal(n int, why []string) string {
	if n == 1 {
		return why[0]
	}
	what := "the file"
	if len(why) > 1 {
		what = "the files"
	}
	return fmt.Sprintf("%d of its %d files refused it, and the files given are one batch, applied together or not at all (correct or leave out %s named and run the command again):\n  %s",
		len(why), n, what, strings.Join(why, "\n  "))
}

// plural is "1 file" or "N files".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// withinBody refuses, before anything is applied, record files larger together than
// limit bytes (0: no limit), a gzip file counted unpacked: a batch is held whole while it
// is applied, about 20 times its size, and one past the machine's memory would stop the
// command half-way through the reading, with nothing applied after minutes of work, or
// the machine with it.
func withinBody(files []service.File, limit int64) error {
	if limit == 0 {
		return nil
	}
	var total int64
	for _, f := range files {
		total += unpackedSize(f.Body.(*os.File))
	}
	if total <= limit {
		return nil
	}
	return usagef("nothing applied: the record files hold %s together (unpacked), past --max-body %s (a batch is held whole in memory while it is applied, about 20 times its size). Ingest them in several commands, a few files each (each command is a batch of its own; keep a department's LOSS and RESTORE files of one delivery in the same command), or give a larger --max-body on a machine with the memory for it",
		byteSize(total), byteSize(limit))
}

// unpackedSize is f's size, or for a gzip file the size its last member says it unpacks
// to (the trailer's ISIZE, modulo 4 GiB) when that is larger: a cheap estimate, read
// before anything else; the reading itself bounds each file exactly (MaxDecompressed).
func unpackedSize(f *os.File) int64 {
	st, err := f.Stat()
	if err != nil {
		return 0
	}
	size := st.Size()
	var head [2]byte
	var tail [4]byte
	if size < 18 {
		return size
	}
	if _, err := f.ReadAt(head[:], 0); err != nil || head != [2]byte{0x1f, 0x8b} {
		return size
	}
	if _, err := f.ReadAt(tail[:], size-4); err != nil {
		return size
	}
	return max(size, int64(binary.LittleEndian.Uint32(tail[:])))
}

// openRecordFiles opens the record files of the paths given (files, or folders read
// recursively in byte order of their paths, as backtest reads them: spec §3), printing a
// warning for each file a folder holds that is not a record file. A path that cannot be read (missing, unreadable, a folder that cannot be listed)
// refuses them all, each such path named: the files are one batch.
func openRecordFiles(paths []string, stderr io.Writer) ([]service.File, error) {
	var files []service.File
	var bad []string
	for _, p := range paths {
		names, warns, err := exchange.ListRecordFiles(p)
		for _, w := range warns {
			fmt.Fprintln(stderr, "warning: "+w.String())
		}
		if err != nil {
			bad = append(bad, err.Error())
		}
		for _, name := range names {
			f, err := os.Open(name)
			if err != nil {
				bad = append(bad, err.Error())
				continue
			}
			files = append(files, service.File{Name: name, Body: f})
		}
	}
	if len(bad) > 0 {
		return files, fmt.Errorf("nothing applied: %s cannot be read (the files given are one batch, applied together or not at all):\n  %s",
			plural(len(bad), "path", "paths"), strings.Join(bad, "\n  "))
	}
	return files, nil
}

// runBackup copies a SQLite database as of its last commit, without stopping serve.
func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("backup", "--db sqlite:PATH --out FILE", stderr)
	dsn := fs.String("db", "", dbHelp)
	out := fs.String("out", "", "the copy: a new file (the same directory's disk must hold the database once more)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *dsn == "" || *out == "" {
		return usagef("backup: --db and --out are required")
	}
	if err := dbExists(*dsn); err != nil {
		return err
	}
	db, err := store.OpenNoMigrate(*dsn) // a backup never changes the schema
	if err != nil {
		return err
	}
	defer db.Close()
	if db.Dialect() != store.SQLite {
		// Refused before the trail records a copy that is never made.
		return fmt.Errorf("backup: %s is PostgreSQL: use pg_dump (or the server's own backups)", db)
	}
	if _, err := os.Lstat(*out); err == nil {
		return fmt.Errorf("backup: %s exists: the copy is a new file", *out)
	}
	// A copy of every ID number, name, phone and photo: who took it is in the trail
	// before it is made (and so in the copy too), as payroll's files are.
	now := time.Now()
	y, m, d := now.In(time.FixedZone("UTC+8", 8*3600)).Date()
	if _, err := auditCLI(ctx, db, sc.MakeDate(y, int(m), d), []store.AuditRow{{Kind: "export", Action: "backup",
		Detail: "file=" + store.DetailValue(*out)}}, stderr); err != nil {
		return err
	}
	start := time.Now()
	if err := db.BackupTo(ctx, *out); err != nil {
		return err
	}
	st, err := os.Stat(*out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backup of %s written to %s: %d bytes, checked, in %.1f s\n", db, *out, st.Size(), time.Since(start).Seconds())
	return nil
}

func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("migrate", "--db DSN [--status]", stderr)
	dsn := fs.String("db", "", dbHelp)
	status := fs.Bool("status", false, "list the migrations and whether each is applied; change nothing")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *dsn == "" {
		*dsn = "sqlite:silentcert.db"
	}
	if *status {
		if err := dbExists(*dsn); err != nil {
			return err
		}
	}
	db, err := store.OpenNoMigrate(*dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	if !*status {
		if err := db.MigrateAs(ctx, cliActor()); err != nil {
			return err
		}
	}
	lines, err := db.MigrationStatus(ctx)
	if err != nil {
		return err
	}
	for _, l := range lines {
		fmt.Fprintln(stdout, l)
	}
	return nil
}

// auditUsage is `silentcert audit`'s own help: its subcommands.
const auditUsage = `usage: silentcert audit verify --db DSN [--expect SEQ:HASH]… [--expect-file FILE]…
       silentcert audit head --db DSN

verify  checks the audit trail's hash chain: every row's content against its hash, its
        link to the row before, the head in meta against the last row (rows cut off the
        end), a trail wiped whole, and the recovery ledger against its rows. The chain
        has no secret: someone who can write the database can change rows and compute
        every hash again. --expect SEQ:HASH checks that row SEQ is in the chain with that
        hash: an anchor kept outside the database (the daily run's log, the payroll's
        papers) fails on any change, cut or rewrite up to it.
head    prints the trail's head, SEQ:HASH, to keep outside the database as an anchor.

` + "`silentcert audit verify -h`" + ` lists the flags.`

func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 1 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		fmt.Fprintln(stderr, auditUsage)
		return nil
	}
	if len(args) > 0 && args[0] == "head" {
		return runAuditHead(ctx, args[1:], stdout, stderr)
	}
	if len(args) == 0 || args[0] != "verify" {
		return usagef("usage: silentcert audit verify --db DSN [--expect SEQ:HASH]… | silentcert audit head --db DSN")
	}
	fs := newFlagSet("audit verify", "--db DSN [--expect SEQ:HASH]… [--expect-file FILE]…", stderr)
	dsn := fs.String("db", "", dbHelp)
	var expect, files multiFlag
	fs.Var(&expect, "expect", "an anchor `SEQ:HASH` kept outside the database (from audit head, the daily run's log, the payroll command's output): row SEQ must be in the chain with that hash, so no row up to it was changed, removed or rewritten (repeatable)")
	fs.Var(&files, "expect-file", "a file of anchors, one SEQ:HASH at the start of each line (blank lines and lines starting with # skipped; repeatable)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	anchors, err := readAnchors(expect, files)
	if err != nil {
		return err
	}
	db, err := openDB(ctx, *dsn, false)
	if errors.Is(err, store.ErrAuditBroken) {
		// A migration refused to extend a broken trail: verify it as it is, to name the
		// break.
		db, err = store.OpenNoMigrate(cmp.Or(*dsn, "sqlite:silentcert.db"))
	}
	if err != nil {
		return err
	}
	defer db.Close()
	bad := 0
	v, err := db.VerifyTrail(ctx, anchors, func(p store.AuditProblem) {
		bad++
		if bad > 50 {
			return
		}
		if p.Seq == 0 {
			fmt.Fprintf(stdout, "trail: %s\n", p.Reason)
		} else {
			fmt.Fprintf(stdout, "row %d: %s\n", p.Seq, p.Reason)
		}
	})
	if err != nil {
		return err
	}
	// People enrolled before the roster trail (session 17) have no row to check against:
	// said once, counted, not a break (a database wholly from before verifies).
	people := fmt.Sprintf("%d people's roster fields checked against their rows", v.People-v.Unverifiable)
	if v.Unverifiable > 0 {
		people += fmt.Sprintf(", %d enrolled before the roster trail (checked only on the fields a later import's rows name)", v.Unverifiable)
	}
	if bad > 0 {
		fmt.Fprintln(stdout, people)
		return fmt.Errorf("audit trail broken: %d problems over %d rows", bad, v.Rows)
	}
	fmt.Fprintf(stdout, "audit trail intact: %d rows, every hash and link checked", v.Rows)
	if len(anchors) > 0 {
		fmt.Fprintf(stdout, ", %d anchors kept outside found in it", len(anchors))
	}
	fmt.Fprintf(stdout, "; %s\n", people)
	return nil
}

// readAnchors reads the anchors of --expect and of each --expect-file.
func readAnchors(expect, files []string) ([]store.AuditAnchor, error) {
	var out []store.AuditAnchor
	for _, e := range expect {
		a, err := store.ParseAuditAnchor(e)
		if err != nil {
			return nil, usagef("--expect: %v", err)
		}
		out = append(out, a)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("--expect-file: %w", err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			fields := strings.Fields(line)
			if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
				continue
			}
			a, err := store.ParseAuditAnchor(fields[0])
			if err != nil {
				return nil, fmt.Errorf("--expect-file %s:%d: %w", f, i+1, err)
			}
			out = append(out, a)
		}
	}
	return out, nil
}

// runAuditHead prints the trail's head, once it is checked to be the last row.
func runAuditHead(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("audit head", "--db DSN", stderr)
	dsn := fs.String("db", "", dbHelp)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	db, err := openDB(ctx, *dsn, false)
	if err != nil {
		return err
	}
	defer db.Close()
	head, err := db.CheckAuditHead(ctx)
	if err != nil {
		return err
	}
	if head.Seq == 0 {
		return fmt.Errorf("%s: the audit trail is empty: no head to keep", db)
	}
	fmt.Fprintln(stdout, head)
	return nil
}

func runRunDay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("run-day", "--db DSN [--day DATE]", stderr)
	dsn := fs.String("db", "", dbHelp)
	day := fs.String("day", "", "run every day not yet run up to this one (default: today in Asia/Shanghai); a day after today is refused without --future")
	future := fs.Bool("future", false, "allow a --day after today (China time): every day up to it is run, payrolls included, and no later run runs them again")
	ahead := fs.Bool("ahead", false, "allow a first day (no day run yet) more than one before the day of a batch of records applied already: the day is run with that batch's records in")
	configPath := fs.String("config", "", "configuration file (JSON; see README)")
	modelPath := fs.String("model", "", modelHelp)
	change := fs.String("model-change", "", modelChangeHelp)
	configChange := fs.String("config-change", "", configChangeHelp)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	// The day is checked before anything is loaded: a mistyped year would run every day
	// up to it, payrolls and suspensions included, and serve would then run none until it.
	dayGiven := sc.NoDate
	if *day != "" {
		var err error
		if dayGiven, err = sc.ParseDate(*day); err != nil {
			return usagef("--day: %v", err)
		}
		if err := notFuture(dayGiven, *future, "every day up to it would be run now, payrolls and suspensions included, and serve's daily run would then run no day until it (only a restore undoes it)"); err != nil {
			return err
		}
	}
	cfg, model, db, err := openSetup(ctx, *dsn, *configPath, *modelPath, false)
	if err != nil {
		return err
	}
	defer db.Close()
	loadStart, loadCPU := time.Now(), cpuSeconds()
	svc, err := service.Open(ctx, db, service.Options{Config: cfg, Fault: faultFromEnv(), Model: model})
	if err != nil {
		return err
	}
	if err := svc.CheckModel(ctx, *change, cliActor()); err != nil {
		return err
	}
	if err := svc.CheckConfig(ctx, *configChange, cliActor()); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "loaded %d people in %.1fs (%.1fs of CPU)\n", svc.People(), time.Since(loadStart).Seconds(), cpuSeconds()-loadCPU)
	d := svc.Today()
	if dayGiven != sc.NoDate {
		d = dayGiven
	}
	start := time.Now()
	// The days CatchUp would run, one by one, each told with its time measured inside the
	// process (the load above is not in it) and its steps'.
	last, err := db.LastRun(ctx)
	if err != nil {
		return err
	}
	from := d
	if last != sc.NoDate {
		from = last + 1
	} else if !*ahead {
		if err := notBehind(ctx, db, d, *dsn); err != nil {
			return err
		}
	}
	for day := from; day <= d; day++ {
		cpu := cpuSeconds()
		st, err := svc.RunDayStats(ctx, day)
		if err != nil {
			return err
		}
		if st.Done {
			continue
		}
		var steps strings.Builder
		for i, p := range st.Phases {
			switch {
			case p.Alongside && (i == 0 || !st.Phases[i-1].Alongside):
				steps.WriteString(" (writing alongside: ")
			case p.Alongside:
				steps.WriteString(", ")
			case i > 0 && st.Phases[i-1].Alongside:
				steps.WriteString("), ")
			case i > 0:
				steps.WriteString(", ")
			}
			fmt.Fprintf(&steps, "%s %.2f", p.Name, p.Seconds)
		}
		if n := len(st.Phases); n > 0 && st.Phases[n-1].Alongside {
			steps.WriteString(")")
		}
		fmt.Fprintf(stdout, "ran %s in %.2fs, %.1fs of CPU in this process (%d evaluated, %d decisions, payroll %v; %s); audit head %s\n",
			day, st.Seconds, cpuSeconds()-cpu, st.Evaluated, st.Decisions, st.Payroll, steps.String(), st.AuditHead)
	}
	fmt.Fprintf(stdout, "run through %s in %.1fs\n", d, time.Since(start).Seconds())
	return nil
}

// serveConfig is what serve (and demo) run.
type serveConfig struct {
	Addr    string
	DB      *store.DB
	Service *service.Service
	RunHour int
	Drop    string
	// DropEncodings forces a drop folder source's encoding (--drop-encoding).
	DropEncodings map[string]string
	MaxBody       int64
	// UploadTimeout bounds the time a batch's body may take to arrive (0: an hour).
	UploadTimeout time.Duration
	Log           *slog.Logger
	Extra         func(mux *http.ServeMux) error // mounts the console
	Keys          api.Keys
	Announce      func(addr string)
	Metrics       func(w io.Writer)         // extra /metrics lines
	Tick          func(ctx context.Context) // called with each scheduler step (housekeeping)
}

// formTimeout bounds the time the body of a request other than a batch may take to arrive:
// forms, and a face attempt's burst (up to 15 MB) from an old phone on a slow network.
const formTimeout = 5 * time.Minute

// readDeadlines bounds the time a request's body may take to arrive: without it, a client
// that sends its headers and then trickles its body holds a connection, and a batch's
// goroutine, for as long as it likes. Requests under /api/ (batches) get upload, the rest
// form. The server resets the deadline for the next request on the connection (and,
// once a body is read to its end, for the background read).
func readDeadlines(h http.Handler, upload, form time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d := form
		if strings.HasPrefix(r.URL.Path, "/api/") {
			d = upload
		}
		// Only a request with a body: without one, the server is already reading the
		// connection in the background, and a deadline passing while the handler works (a
		// long export) would cancel the connection's context — this request's and every
		// later one's on it. An error means the connection cannot take a deadline (HTTP/2
		// over a test recorder); the request goes on without one.
		if r.ContentLength != 0 && r.Body != http.NoBody {
			_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(d))
		}
		h.ServeHTTP(w, r)
	})
}

// serveLoop serves HTTP, scans the drop folder and runs each day at RunHour (catching up
// missed days first) until ctx ends.
func serveLoop(ctx context.Context, c serveConfig) error {
	mux := http.NewServeMux()
	// The scraper's token comes from the environment, not a flag: flags show in the
	// process list.
	apiH := api.New(api.Options{Service: c.Service, Keys: c.Keys, MaxBody: c.MaxBody, Log: c.Log, Metrics: c.Metrics,
		MetricsToken: os.Getenv("SILENTCERT_METRICS_TOKEN")})
	mux.Handle("/api/", apiH)
	for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
		mux.Handle(p, apiH)
	}
	if c.Extra != nil {
		if err := c.Extra(mux); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return err
	}
	upload := c.UploadTimeout
	if upload <= 0 {
		upload = time.Hour
	}
	srv := &http.Server{Handler: readDeadlines(mux, upload, formTimeout), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if c.Announce != nil {
		c.Announce(ln.Addr().String()) // the port chosen when the address asked for :0
	}
	tick := time.NewTicker(10 * time.Second)
	defer tick.Stop()
	auditWhole := true // what the log last said of the trail
	step := func() {
		// A trail whose last row is not its head (rows cut off the end) refuses every
		// write with an audit row: /readyz says so (AuditBroken), the log once, and the
		// day's run and the drop folder wait rather than fail every ten seconds.
		switch _, err := c.DB.CheckAuditHead(ctx); {
		case errors.Is(err, store.ErrAuditBroken):
			if auditWhole {
				c.Log.Error("audit trail broken: nothing that needs an audit row is written until it is restored; /readyz answers 503", "err", err)
			}
			auditWhole = false
		case err == nil && !auditWhole:
			c.Log.Info("audit trail whole again: writes go on")
			auditWhole = true
		}
		if auditWhole {
			target := service.DueThrough(time.Now(), c.Service.Location(), c.RunHour)
			if err := c.Service.CatchUp(ctx, target); err != nil && ctx.Err() == nil {
				c.Log.Error("daily run", "err", err)
			}
		}
		if c.Drop != "" && auditWhole {
			if _, err := (&service.DropFolder{Dir: c.Drop, Service: c.Service, MaxBytes: c.MaxBody, Encodings: c.DropEncodings}).Scan(ctx); err != nil && ctx.Err() == nil {
				// Its errors name files, and a department may name one by a person's ID number or phone.
				c.Log.Error("drop folder", "err", service.MaskFileName(err.Error()))
			}
		}
		if c.Tick != nil {
			c.Tick(ctx)
		}
	}
	step()
	for {
		select {
		case err := <-errc:
			return err
		case <-ctx.Done():
			shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			return srv.Shutdown(shut)
		case <-tick.C:
			if c.Service.Broken() == nil {
				step()
			}
			c.DB.CheckClaim(ctx)
			err := c.DB.ClaimLost()
			if b := c.Service.Broken(); err == nil && b != nil {
				// A commit whose outcome is unknown (a disk full for a moment, a connection
				// lost during COMMIT): the service writes nothing more, and only a new
				// process reads the truth from the store. Meanwhile writes answer 503.
				err = fmt.Errorf("stopped after a commit whose outcome is unknown (%w): serve is to be started again (its supervisor does it), which reads the people from the database", b)
			}
			if err != nil {
				// Every write fails from now on, and the people in memory may no longer
				// be the database's: exit, for the supervisor to start serve again.
				shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				srv.Shutdown(shut)
				return err
			}
		}
	}
}

// faultFromEnv returns the crash tests' hook: SILENTCERT_KILL_AT=POINT:N kills the process
// with SIGKILL at the Nth step of POINT ("ingest": records stored, "run": people
// evaluated), inside the transaction. Only the tests set it.
func faultFromEnv() func(string, int) {
	v := os.Getenv("SILENTCERT_KILL_AT")
	point, n, ok := strings.Cut(v, ":")
	at, err := strconv.Atoi(n)
	if !ok || err != nil {
		return nil
	}
	return func(p string, i int) {
		if p == point && i == at {
			killSelf()
		}
	}
}

// parseFlagsAndPaths parses flags given before, between or after the paths.
func parseFlagsAndPaths(fs *flag.FlagSet, args []string) ([]string, error) {
	var paths []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err.Error()}
		}
		if fs.NArg() == 0 {
			return paths, nil
		}
		paths = append(paths, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func runPayroll(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("payroll", "--db DSN --month YYYY-MM --out FILE [--recoveries FILE]", stderr)
	dsn := fs.String("db", "", dbHelp)
	month := fs.String("month", "", "the payroll month, YYYY-MM")
	out := fs.String("out", "", "the payment system's file (CSV)")
	rec := fs.String("recoveries", "", "also write the recovery cases (months paid after a death, under a LOSS or outside an entitlement, with their offset) to this CSV")
	configPath := fs.String("config", "", "configuration file (JSON; see README)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *month == "" || *out == "" {
		return usagef("--month and --out are required")
	}
	m, err := sc.ParseMonth(*month)
	if err != nil {
		return usagef("--month: %v", err)
	}
	cfg, err := loadConfig(*configPath)
	if err != nil {
		return err
	}
	db, err := openDB(ctx, *dsn, false)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.PayrollRun(ctx, m); err != nil {
		return err
	}
	svc, err := service.Open(ctx, db, service.Options{Config: cfg, ReadOnly: true}) // while serve runs
	if err != nil {
		return err
	}
	// Who takes the files, in the audit trail before they are written (no file leaves
	// without its row): they hold every recipient's ID number and amounts, as the
	// console's exports (audited) do.
	rows := []store.AuditRow{{Kind: "export", Action: "payroll", Detail: fmt.Sprintf("month=%s;file=%s", m, store.DetailValue(*out))}}
	if *rec != "" {
		rows = append(rows, store.AuditRow{Kind: "export", Action: "recoveries", Detail: "file=" + store.DetailValue(*rec)})
	}
	if _, err := auditCLI(ctx, db, svc.Today(), rows, stderr); err != nil {
		return err
	}
	// Each file is put in place whole or not at all (atomicfile): a kill or a full disk
	// leaves the payment system no file cut short, and a run that fails leaves the file of
	// a run before as it was. What was written — its rows and SHA-256 — goes to the trail
	// after it, so that the file the payment system took can be checked against the trail.
	var written []store.AuditRow
	write := func(path, action string, f func(io.Writer) (int, error)) (int, error) {
		n, sum := 0, sha256.New()
		err := atomicfile.WriteFile(path, func(w io.Writer) (err error) {
			n, err = f(io.MultiWriter(w, sum))
			return err
		})
		if err == nil {
			written = append(written, store.AuditRow{Kind: "export", Action: action, Detail: fmt.Sprintf("month=%s;file=%s;rows=%d;sha256=%x",
				m, store.DetailValue(path), n, sum.Sum(nil))})
		}
		return n, err
	}
	n, err := write(*out, "payroll_written", func(w io.Writer) (int, error) { return svc.WritePayroll(ctx, m, w) })
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "payroll %s: %d rows in %s\n", m, n, *out)
	if *rec != "" {
		n, err := write(*rec, "recoveries_written", func(w io.Writer) (int, error) { return svc.WriteRecoveries(ctx, w) })
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "recoveries: %d cases in %s\n", n, *rec)
	}
	head, err := auditCLI(ctx, db, svc.Today(), written, stderr)
	if err != nil {
		return err
	}
	// The trail's head with the files' own rows in it: the fund keeps it with the
	// payroll, outside this database, where no one who can edit the database can change
	// it; verify against it proves later that no row up to it was changed or removed.
	fmt.Fprintf(stdout, "audit head %s: keep it with the payroll, outside this database (the fund's copy); `silentcert audit verify --db %s --expect %s` proves that no row of the audit trail up to it was changed, removed or rewritten since\n", head, shellDSN(*dsn), head)
	return nil
}

// auditCLI appends a command's actions to the audit trail, by the command line's actor.
// It needs no claim on the database: the trail's chain is read and extended inside one
// write transaction, which the database serialises with serve's. Beside serve's long
// transaction on SQLite (the 1st's run of a large city) it waits, saying so, rather than
// fail at the busy timeout.
func auditCLI(ctx context.Context, db *store.DB, day sc.Date, rows []store.AuditRow, stderr io.Writer) (store.AuditAnchor, error) {
	at := time.Now().UTC().Format(time.RFC3339)
	for i := range rows {
		rows[i].Day, rows[i].At, rows[i].Actor, rows[i].PID = day, at, cliActor(), -1
	}
	var head store.AuditAnchor
	appendRows := func() error {
		tx, err := db.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		if err := tx.Append(rows); err != nil {
			return err
		}
		head, _ = tx.AuditHead()
		return tx.Commit()
	}
	for waited := false; ; waited = true {
		err := appendRows()
		if err == nil || !store.Busy(err) {
			return head, err
		}
		if !waited {
			fmt.Fprintln(stderr, "the audit row waits for the service's write transaction (its daily run, or a large batch) to end…")
		}
		select {
		case <-ctx.Done():
			return head, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

const modelHelp = "evidence model file from silentcert train, or \"builtin\" (default: the baseline weak rule, no RISK rows); the same for every command on one database (see --model-change)"

const modelChangeHelp = "the reason for deciding under another --model than the database's decisions so far were made with: the switch is written to the audit trail (without it, such a run is refused)"

const configChangeHelp = "the reason for deciding under another --config (or the built-in rules of another release) than the database's decisions so far were made with: the switch is written to the audit trail with what changed (without it, such a run is refused)"

// openSetup reads the configuration and the evidence model ("" for none) and opens the
// database: what every command on the service's database starts with.
func openSetup(ctx context.Context, dsn, configPath, modelPath string, create bool) (*sc.Config, engine.Model, *store.DB, error) {
	cfg, err := loadConfig(configPath)
	if err != nil {
		return nil, nil, nil, err
	}
	model, err := serviceModel(modelPath, cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	db, err := openDB(ctx, dsn, create)
	return cfg, model, db, err
}

// serviceModel loads the evidence model for the service, or nil for "".
func serviceModel(path string, cfg *sc.Config) (engine.Model, error) {
	if path == "" {
		return nil, nil
	}
	m, err := loadModel(path, cfg)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// entitlementListed is how many people's entitlements a roster import's message lists, of
// those added or moved with arrears, of those moved over months paid and of those kept:
// the rest are counted, and on their trails.
const entitlementListed = 20

// printEntitlementChanges tells what a roster import did to the entitlements of people
// already enrolled: how many got one added (paid from the next payroll on), each added
// one with months whose payroll ran without it (its arrears, for the fund to settle); how
// many had one's start_month or end_month moved over months already run, with the months
// it covers now that no payroll paid (arrears too) and the months paid that it no longer
// covers (overpaid, on the recovery list); and each one the roster no longer names, kept
// (a removal is not applied). ID numbers masked.
func printEntitlementChanges(w io.Writer, res *service.RosterResult) {
	arrears := func(c service.EntitlementChange) (int, sc.Month, sc.Month) {
		return c.ArrearsMonths, c.ArrearsFrom, c.ArrearsTo
	}
	overpaid := func(c service.EntitlementChange) (int, sc.Month, sc.Month) {
		return c.OverpaidMonths, c.OverpaidFrom, c.OverpaidTo
	}
	const notPaid = "%d months of them not paid by this system (payrolls run before the import), for the fund to settle:\n"
	if res.EntitlementAdded > 0 {
		fmt.Fprintf(w, "%d people got an entitlement the roster added, paid from the next payroll on (each on their trail, roster update)\n", res.EntitlementAdded)
		listMonths(w, res.AddedEntitlements, arrears, notPaid, "arrears_months")
	}
	if res.EntitlementMoved > 0 {
		fmt.Fprintf(w, "%d people had an entitlement's start_month or end_month moved over months already run (each on their trail, roster update)\n", res.EntitlementMoved)
		listMonths(w, res.MovedEntitlements, arrears, notPaid, "arrears_months")
		listMonths(w, res.MovedEntitlements, overpaid, "%d months of them paid that the entitlement no longer covers: overpaid, to recover (the recovery list, payroll --recoveries):\n", "overpaid_months")
	}
	held := 0
	for _, c := range append(slices.Clone(res.AddedEntitlements), res.MovedEntitlements...) {
		held += c.HeldMonths
	}
	if held > 0 {
		fmt.Fprintf(w, "%d months of them withheld as the person's other entitlements were (a suspension, a disputed death, a LOSS; with back_pay_voided_death, a death that stands): held with theirs, paid as back pay when theirs are (BENEFIT.held_months on their trails)\n", held)
	}
	if res.EntitlementKept > 0 {
		fmt.Fprintf(w, "%d people hold entitlements the roster no longer names: kept, not removed (each on their trail, roster entitlements_kept):\n", res.EntitlementKept)
		for _, k := range res.KeptEntitlements[:min(len(res.KeptEntitlements), entitlementListed)] {
			fmt.Fprintf(w, "  %s %s\n", idcard.Mask(k.PersonID), k.Benefit)
		}
		if n := len(res.KeptEntitlements) - entitlementListed; n > 0 {
			fmt.Fprintf(w, "  and %d more\n", n)
		}
	}
}

// listMonths lists the changes of which months gives months (their sum heads the list in
// head's words), entitlementListed of them, and how many more (BENEFIT.key on their trails).
func listMonths(w io.Writer, changes []service.EntitlementChange, months func(service.EntitlementChange) (int, sc.Month, sc.Month), head, key string) {
	var listed []service.EntitlementChange
	total := 0
	for _, c := range changes {
		if n, _, _ := months(c); n > 0 {
			listed = append(listed, c)
			total += n
		}
	}
	if len(listed) == 0 {
		return
	}
	fmt.Fprintf(w, head, total)
	for _, c := range listed[:min(len(listed), entitlementListed)] {
		n, from, to := months(c)
		fmt.Fprintf(w, "  %s %s %d months, %s to %s\n", idcard.Mask(c.PersonID), c.Benefit, n, from, to)
	}
	if n := len(listed) - entitlementListed; n > 0 {
		fmt.Fprintf(w, "  and %d more (BENEFIT.%s on their trails)\n", n, key)
	}
}
