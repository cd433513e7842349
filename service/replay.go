package service

import (
	"bufio"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/backtest"
	"github.com/silentcert/silentcert/engine"
	"github.com/silentcert/silentcert/exchange"
	"github.com/silentcert/silentcert/internal/atomicfile"
	"github.com/silentcert/silentcert/linkage"
	"github.com/silentcert/silentcert/store"
)

// ReplayOptions are backtest's inputs (spec §7), replayed through the persistent path.
type ReplayOptions struct {
	Roster        string
	Records       []string
	From, To      sc.Date
	Out           string // "" writes no files
	Config        *sc.Config
	Encoding      string
	ResolveRegion func(address string) (string, bool)
	Progress      func(day sc.Date, records int64) // after each day, and each window of the history (day before From); resumed, first where the mark left off
	// Service is the service's own options (logger, model); replay sets the clock, the
	// configuration and the summaries itself.
	Service Options
	// DailySummary refreshes the console's summaries after every day, as serve does,
	// instead of rebuilding them once at the end (a test compares the two).
	DailySummary bool
	// SpillDir is where the rows read are kept, a window of reported days to a file,
	// until their days are replayed ("" is the system's temporary directory); Window is
	// the days of a window (0: spillWindow).
	SpillDir string
	Window   int
	// Resume goes on with the replay of the same inputs that the database holds, from its
	// last commit, instead of asking for an empty database.
	Resume bool
	// BuildChange lets a resume go on under another program than the one that stopped
	// (BuildIdentity), for this reason, written to the audit trail: the days before the
	// stop were decided by the old program, the rest by this one, so the files may be
	// neither program's backtest. Without it such a resume is refused.
	BuildChange string
}

// Replay drives the service day by day with a simulated clock over history: the roster is
// imported, records reported before From are loaded as history, then each day's records
// are ingested as that day's batch and the day is run (payroll on the 1st). The files it
// writes into Out are those of backtest, and must be byte-identical to them. The database
// must be empty, or hold a replay of the same inputs that stopped (a crash, a kill, a
// full disk) when opt.Resume is set: it goes on from its last commit (replayMark).
func Replay(ctx context.Context, db *store.DB, opt ReplayOptions) (*backtest.Report, error) {
	if opt.From > opt.To {
		return nil, sc.Errorf(sc.EInvalid, "--from %s is after --to %s", opt.From, opt.To)
	}
	if opt.Window <= 0 {
		opt.Window = spillWindow
	}
	var mu sync.Mutex
	clock := opt.From
	loc := time.FixedZone("CST", 8*3600)
	svcOpt := opt.Service
	svcOpt.Config, svcOpt.ResolveRegion, svcOpt.Location = opt.Config, opt.ResolveRegion, loc
	svcOpt.NoSummary = !opt.DailySummary
	svcOpt.Now = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		y, m, d := clock.Civil()
		return time.Date(y, time.Month(m), d, 0, 0, 0, 0, loc)
	}
	s, err := Open(ctx, db, svcOpt)
	if err != nil {
		return nil, err
	}
	mark, err := s.replayStart(ctx, opt)
	if err != nil {
		return nil, err
	}
	if err := s.CheckModel(ctx, "", "replay"); err != nil {
		return nil, err
	}
	if err := s.CheckConfig(ctx, "", "replay"); err != nil {
		return nil, err
	}
	rep := backtest.NewReport()
	if s.People() == 0 {
		ro, err := s.importRoster(ctx, opt.Roster, opt.Encoding, "replay", opt.To, true)
		if err != nil {
			return nil, err
		}
		rep.AddRoster(ro.Roster)
	} else {
		// Resumed after the roster's commit: read it again for the report alone.
		ro, err := s.readRoster(opt.Roster, opt.Encoding, opt.To, true)
		if err != nil {
			return nil, err
		}
		rep.AddRoster(ro)
	}
	if mark.Spill != "" && strings.HasPrefix(filepath.Base(mark.Spill), spillPrefix) {
		// The spill files of the run that stopped: a kill leaves them (gigabytes for a
		// large city); this run reads the files again into its own. Only a directory
		// a replay made is removed, whatever the mark says. (Those of replays killed
		// before a commit named them, and unlocked, go too: removeStaleSpills.)
		os.RemoveAll(mark.Spill)
	}
	sp, problems, err := s.spillRecords(ctx, opt, rep)
	if err != nil {
		return nil, err
	}
	defer sp.close()
	mark.Spill = sp.dir
	digest := sp.digest()
	switch {
	case mark.Read >= 0 && mark.Read != rep.Read:
		return nil, sc.Errorf(sc.EConflict, "%s: the replay being resumed read %d records from %s, these files hold %d: resume it with the same files, or start again on an empty database",
			db, mark.Read, strings.Join(opt.Records, ", "), rep.Read)
	case mark.RecordsSum != "" && mark.RecordsSum != digest:
		return nil, sc.Errorf(sc.EConflict, "%s: the record files %s have changed since the replay being resumed read them (as many records, not the same: digest %s, then %s): resume it with the same files, or start again on an empty database",
			db, strings.Join(opt.Records, ", "), digest, mark.RecordsSum)
	}
	mark.Read, mark.RecordsSum = rep.Read, digest
	stop := make(chan struct{})
	defer close(stop)
	windows := sp.stream(stop)
	// The mark counts what the batches applied (the report takes its counts at the end);
	// a resumed replay starts from the day after the mark's.
	start := opt.From
	if mark.Day != "" {
		d, _ := sc.ParseDate(mark.Day)
		start = d + 1
	}
	if mark.Applied > 0 && opt.Progress != nil {
		opt.Progress(start-1, mark.Applied) // resumed: where the mark left off
	}
	// The history (rows reported before From) is applied a window to a batch, the
	// quarantine with the first: a batch applies its rows in spec §7's order, whose first
	// key is the reported date, so the windows applied in turn are the history applied
	// at once. Each batch commits with the mark that counts it; a resumed replay skips
	// the batches its mark counts.
	next, more := <-windows
	res := &Result{Problems: problems}
	for batch := 0; batch == 0 || (more && next.w < 0); batch++ {
		var parts [][]Row
		last := opt.From - 1
		if more && next.w < 0 {
			if next.err != nil {
				return nil, next.err
			}
			parts, last = next.days, sp.from+sc.Date((next.w+1)*sp.days)-1
			next, more = <-windows
		}
		if batch < mark.History {
			res = &Result{} // committed before the replay stopped, the quarantine with it
			continue
		}
		var m replayMark
		err := s.applyParts(ctx, Batch{Origin: "replay", Actor: "replay", Day: opt.From, History: true}, parts, res, func(tx *store.Tx) error {
			m = mark.counting(res)
			m.History = batch + 1
			return tx.SetMeta(replayMeta, m.json())
		})
		if err != nil {
			return nil, err
		}
		mark, res = m, &Result{}
		if opt.Progress != nil {
			opt.Progress(last, mark.Applied) // the history loaded up to last
		}
	}
	// Days go through the same steps as serve's (a batch of the day's records, then the
	// day's run), several days to a transaction, each committed with the mark that names
	// its last day.
	cur := windowRows{w: -1}
	rowsOf := func(d sc.Date) ([]Row, error) {
		w := sp.window(d)
		if cur.w != w {
			cur = windowRows{w: w}
			for more && next.w < w { // windows of days committed before a resumed replay stopped
				if next.err != nil {
					return nil, next.err
				}
				next, more = <-windows
			}
			if more && next.w == w {
				cur = next
				next, more = <-windows
			}
			if cur.err != nil {
				return nil, cur.err
			}
		}
		if cur.days == nil {
			return nil, nil
		}
		i := int(d-opt.From) - w*sp.days
		rows := cur.days[i]
		cur.days[i] = nil
		return rows, nil
	}
	if err := s.replayDays(ctx, opt, start, rowsOf, func(d sc.Date) {
		mu.Lock()
		clock = d
		mu.Unlock()
	}, func(tx *store.Tx, d sc.Date, done []*Result) error {
		m := mark
		for _, res := range done {
			m = m.counting(res)
		}
		m.Day = d.String()
		if err := tx.SetMeta(replayMeta, m.json()); err != nil {
			return err
		}
		mark = m // the transaction commits next; on failure the replay stops anyway
		return nil
	}, func(d sc.Date, pending int64) {
		if opt.Progress != nil {
			opt.Progress(d, mark.Applied+pending)
		}
	}); err != nil {
		return nil, err
	}
	if !mark.Done {
		mu.Lock()
		clock = opt.To
		mu.Unlock()
		if !opt.DailySummary {
			if err := s.rebuildSummary(ctx, opt.To); err != nil {
				return nil, err
			}
		}
		mark.Done = true
		if err := s.setMeta(ctx, replayMeta, mark.json()); err != nil {
			return nil, err
		}
	}
	rep.Applied, rep.Duplicate, rep.DuplicateConflict, rep.Held, rep.Unlinked = mark.Applied, mark.Duplicate, mark.DuplicateConflict, mark.Held, mark.Unlinked
	if opt.Out == "" {
		return rep, nil
	}
	return rep, s.Export(ctx, opt.Out, opt.From, opt.To, rep)
}

// replayMeta is the meta key of a replay's mark.
const replayMeta = "replay"

// replayMark is how far a replay went, kept in meta and written in the transaction of
// each step it counts: the inputs it replays (the files' record count once read), the
// history batches and the last day committed, the report's counts of what they applied,
// and whether it is done.
type replayMark struct {
	Roster            string   `json:"roster"`
	Records           []string `json:"records"`
	From              string   `json:"from"`
	To                string   `json:"to"`
	Window            int      `json:"window"`
	Config            string   `json:"config"`             // configPrint of the configuration in force
	Encoding          string   `json:"encoding,omitempty"` // --encoding
	Read              int64    `json:"read"`               // -1: the files not read yet
	Build             string   `json:"build,omitempty"`    // BuildIdentity of the program that wrote the mark last
	RosterSum         string   `json:"roster_sha256,omitempty"`
	RecordsSum        string   `json:"records_digest,omitempty"` // spill.digest of the files read
	Spill             string   `json:"spill,omitempty"`          // the directory of the spill files
	History           int      `json:"history_batches"`
	Day               string   `json:"day,omitempty"`
	Done              bool     `json:"done,omitempty"`
	Applied           int64    `json:"applied"`
	Duplicate         int64    `json:"duplicate"`
	DuplicateConflict int64    `json:"duplicate_conflict"`
	Held              int64    `json:"held"`
	Unlinked          int64    `json:"unlinked"`
}

// counting returns the mark with a batch's counts added.
func (m replayMark) counting(res *Result) replayMark {
	m.Applied += res.Report.Applied
	m.Duplicate += res.Report.Duplicate
	m.DuplicateConflict += res.Report.DuplicateConflict
	m.Held += res.Report.Held
	m.Unlinked += res.Report.Unlinked
	return m
}

func (m replayMark) json() string {
	b, _ := json.Marshal(m)
	return string(b)
}

// sameInputs reports whether two marks replay the same inputs.
func (m *replayMark) sameInputs(o *replayMark) bool {
	return m.Roster == o.Roster && slices.Equal(m.Records, o.Records) && m.From == o.From && m.To == o.To && m.Window == o.Window &&
		m.Config == o.Config && m.Encoding == o.Encoding
}

// configPrint names a configuration by the first 16 hex digits of the SHA-256 of its
// canonical JSON (sc.Config.CanonicalJSON: every rule, each type's class and method
// included): a replay resumed under another configuration would decide its later days
// by other rules, and a database records the print of the configuration it decides
// under (CheckConfig).
func configPrint(cfg *sc.Config) string { return printOf(cfg.CanonicalJSON()) }

func printOf(canonical []byte) string {
	h := sha256.Sum256(canonical)
	return hex.EncodeToString(h[:8])
}

// legacyConfigPrint is configPrint as marks written before the print covered the
// types' classes and methods have it: such a replay is resumed under the same rules
// as it was checked by then.
func legacyConfigPrint(cfg *sc.Config) string {
	b, _ := json.Marshal(struct {
		Policy   sc.Policy
		Weak     sc.WeakRule
		Types    []sc.RecordType
		Benefits []sc.Benefit
	}{cfg.Policy, cfg.Weak, cfg.Catalogue.Types(), cfg.Benefits})
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:8])
}

// replayStart returns the mark a replay starts from: a new one, written before anything
// else, on an empty database; the stored one when resuming a replay of the same inputs.
func (s *Service) replayStart(ctx context.Context, opt ReplayOptions) (replayMark, error) {
	m := replayMark{From: opt.From.String(), To: opt.To.String(), Window: opt.Window, Read: -1, Config: configPrint(s.cfg), Encoding: opt.Encoding,
		Build: s.build()}
	var err error
	if m.Roster, err = filepath.Abs(opt.Roster); err != nil {
		return m, err
	}
	if m.RosterSum, err = fileSHA256(opt.Roster); err != nil {
		return m, err
	}
	for _, r := range opt.Records {
		a, err := filepath.Abs(r)
		if err != nil {
			return m, err
		}
		m.Records = append(m.Records, a)
	}
	stored, ok, err := s.db.Meta(ctx, replayMeta)
	if err != nil {
		return m, err
	}
	var old replayMark
	if ok {
		if err := json.Unmarshal([]byte(stored), &old); err != nil {
			return m, fmt.Errorf("%s: meta %s: %v", s.db, replayMeta, err)
		}
	}
	if opt.Resume {
		if ok && old.Config == legacyConfigPrint(s.cfg) {
			old.Config = m.Config // a mark of before the print covered classes: the same rules then
		}
		switch {
		case !ok:
			return m, sc.Errorf(sc.EConflict, "%s: no replay to resume: start one on an empty database (without --resume)", s.db)
		case !old.sameInputs(&m):
			return m, sc.Errorf(sc.EConflict, "%s: the replay to resume was of roster %s, records %s, %s to %s, %d-day windows, configuration %s, encoding %q: give the same",
				s.db, old.Roster, strings.Join(old.Records, ", "), old.From, old.To, old.Window, old.Config, old.Encoding)
		case old.RosterSum != "" && old.RosterSum != m.RosterSum:
			return m, sc.Errorf(sc.EConflict, "%s: the roster %s has changed since the replay being resumed read it (SHA-256 %s, then %s): resume it with the same roster, or start again on an empty database",
				s.db, opt.Roster, m.RosterSum, old.RosterSum)
		case old.Build != "" && old.Build != m.Build && opt.BuildChange == "":
			return m, sc.Errorf(sc.EConflict, "%s: the replay to resume ran under program %s; this is %s: resume it with the same program, or give --build-change REASON to go on under this one (written to the audit trail; the days before the stop stay the old program's)",
				s.db, old.Build, m.Build)
		case old.Build != m.Build && opt.BuildChange != "":
			was := old.Build
			if was == "" {
				was = "unrecorded" // a mark from before marks named their program
			}
			detail := "from=" + was + ";to=" + m.Build + ";reason=" + store.DetailValue(opt.BuildChange)
			old.Build = m.Build
			return old, s.setMeta(ctx, replayMeta, old.json(), store.AuditRow{Kind: "build", Day: s.Today(), At: s.wallTime(), Actor: "replay", PID: -1,
				Action: "resume", Detail: detail})
		}
		return old, nil
	}
	last, err := s.db.LastRun(ctx)
	if err != nil {
		return m, err
	}
	switch {
	case ok && !old.Done:
		where := "before its first commit"
		if old.Day != "" {
			where = "after day " + old.Day
		} else if old.History > 0 {
			where = fmt.Sprintf("after %d batches of history", old.History)
		}
		return m, sc.Errorf(sc.EConflict, "%s: holds a replay that stopped %s: --resume goes on from there (same roster, records and dates), or start again on an empty database", s.db, where)
	case ok && old.Done && last.String() == old.To:
		// Finished, its files perhaps not written (a kill or a full disk while it wrote
		// them): a resume reads the inputs again and only writes the files. Not once days
		// after the replay's were run on it: the files would be of those days.
		return m, sc.Errorf(sc.EConflict, "%s: holds a finished replay (%s to %s): --resume writes its files again (same roster, records and dates), or start again on an empty database", s.db, old.From, old.To)
	case s.People() > 0 || last != sc.NoDate:
		return m, sc.Errorf(sc.EConflict, "%s: replay needs an empty database (it has %d people)", s.db, s.People())
	}
	return m, s.setMeta(ctx, replayMeta, m.json())
}

// fileSHA256 returns the SHA-256 of a file's bytes in hex.
func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%s: %v", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// setMeta writes one meta key, and the audit rows that go with it, in a transaction of
// its own.
func (s *Service) setMeta(ctx context.Context, key, value string, audit ...store.AuditRow) error {
	tx, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := tx.SetMeta(key, value); err != nil {
		return err
	}
	if len(audit) > 0 {
		if err := tx.Append(audit); err != nil {
			return err
		}
	}
	return s.commit(tx)
}

// Export writes the files of spec §7 from the database: what backtest writes for the same
// window.
func (s *Service) Export(ctx context.Context, dir string, from, to sc.Date, rep *backtest.Report) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := s.exportDecisions(ctx, filepath.Join(dir, "decisions.csv")); err != nil {
		return err
	}
	// Money, decisions and the engine's counters, from the counters the transactions kept.
	counters, err := s.db.Counters(ctx)
	if err != nil {
		return err
	}
	for _, name := range sortedKeys(counters) {
		v := counters[name]
		group, key, _ := strings.Cut(name, ".")
		switch group {
		case "decisions":
			rep.Decisions[key] += v
		case "certifications":
			rep.Certifications[key] += v
		case "counters":
			rep.Counters[key] += v
		case "money":
			switch key {
			case "paid_regular":
				rep.PaidRegular += sc.Fen(v)
			case "paid_back_pay":
				rep.PaidBack += sc.Fen(v)
			case "withheld":
				rep.Withheld += sc.Fen(v)
			default:
				if st, ok := strings.CutPrefix(key, "withheld_by_status."); ok {
					rep.WithheldBy[st] += sc.Fen(v)
				}
			}
		}
	}
	// People in person_id order, entitlements in benefit order (as imported).
	order := make([]*Person, len(s.ppl))
	copy(order, s.ppl)
	slices.SortFunc(order, func(a, b *Person) int { return strings.Compare(a.Rec.PersonID, b.Rec.PersonID) })
	f := &backtest.Final{Eng: s.eng, From: from, To: to, Workers: 2,
		People: make([]*sc.Recipient, len(order)), States: make([]engine.State, len(order))}
	for i, p := range order {
		f.People[i] = p.Rec
		f.States[i] = p.State
	}
	if err := f.WriteFiles(dir, rep); err != nil {
		return err
	}
	qs, err := s.db.AllQuarantine(ctx)
	if err != nil {
		return err
	}
	if err := backtest.WriteQuarantine(filepath.Join(dir, "quarantine.csv"), problemsFromStore(qs)); err != nil {
		return err
	}
	held, err := s.db.HeldRecords(ctx)
	if err != nil {
		return err
	}
	slices.SortFunc(held, func(a, b store.Record) int {
		return cmp.Or(cmp.Compare(a.ReportedDate, b.ReportedDate), cmp.Compare(a.EventDate, b.EventDate),
			strings.Compare(a.Source, b.Source), strings.Compare(a.RecordID, b.RecordID))
	})
	hr := make([]backtest.HeldRow, len(held))
	for i, h := range held {
		hr[i] = backtest.HeldRow{Source: h.Source, RecordID: h.RecordID, PersonID: s.ppl[h.PID].Rec.PersonID}
	}
	if err := backtest.WriteHeld(filepath.Join(dir, "held.csv"), hr); err != nil {
		return err
	}
	err = s.db.UnlinkedCounts(ctx, func(typ string, link int, n int64) {
		id, ok := s.cat.Lookup(typ)
		if !ok {
			return
		}
		for ; n > 0; n-- {
			rep.AddUnlinked(s.cat.Type(id), linkage.Outcome(link))
		}
	})
	if err != nil {
		return err
	}
	if err := backtest.WriteUnlinked(filepath.Join(dir, "unlinked.csv"), rep); err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(dir, "report.json"), rep.WriteJSON)
}

// exportDecisions writes decisions.csv whole or not at all, as backtest writes every file
// (atomicfile): a replay killed while it writes leaves the files of a run before.
func (s *Service) exportDecisions(ctx context.Context, path string) error {
	f, err := atomicfile.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 256<<10)
	w.WriteString("date,person_id,action,method,evidence,detail\n")
	var b []byte
	err = s.db.Decisions(ctx, func(r *store.AuditRow) error {
		b = r.Day.AppendTo(b[:0])
		b = append(b, ',')
		b = append(b, r.PersonID...)
		b = append(b, ',')
		b = append(b, r.Action...)
		b = append(b, ',')
		b = append(b, r.Method...)
		b = append(b, ',')
		b = exchange.AppendCSVString(b, r.Evidence)
		b = append(b, ',')
		b = exchange.AppendCSVString(b, r.Detail)
		b = append(b, '\n')
		_, err := w.Write(b)
		return err
	})
	if err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Commit()
}

// rebuildSummary recomputes the console's summaries from the whole history, once.
func (s *Service) rebuildSummary(ctx context.Context, day sc.Date) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.write(ctx, func(tx *store.Tx, _ *change) error { return tx.RebuildSummary(day) })
}

// replayGroup is how many days of a replay share a transaction.
const replayGroup = 64

// replayDays ingests each day's rows from start as that day's batch and runs the day,
// committing every replayGroup days (counted from opt.From) with what mark writes into the
// transaction, given the group's batches to count; progress is told, after each day, how
// many records were applied since the last commit (the mark counts them at the commit).
func (s *Service) replayDays(ctx context.Context, opt ReplayOptions, start sc.Date, rowsOf func(sc.Date) ([]Row, error), setClock func(sc.Date),
	mark func(tx *store.Tx, d sc.Date, done []*Result) error, progress func(d sc.Date, pending int64)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var tx *store.Tx
	var ch *change
	var done []*Result
	var pending int64
	fail := func(err error) error {
		if ch != nil {
			ch.undo()
		}
		if tx != nil {
			tx.Rollback()
		}
		return err
	}
	groups := 0
	for d := start; d <= opt.To; d++ {
		if err := ctx.Err(); err != nil {
			return fail(err)
		}
		setClock(d)
		if tx == nil {
			var err error
			if tx, err = s.begin(ctx); err != nil {
				return err
			}
			ch = s.newChange()
			ch.hold = !opt.DailySummary // daily summaries read the people as stored
		}
		rows, err := rowsOf(d)
		if err != nil {
			return fail(err)
		}
		if len(rows) > 0 {
			res := &Result{}
			if err := s.applyIn(tx, ch, Batch{Origin: "replay", Actor: "replay", Day: d}, prepareRows(rows, res), res); err != nil {
				return fail(err)
			}
			done = append(done, res)
			pending += res.Report.Applied
		}
		if _, _, err := s.runDayIn(tx, ch, d); err != nil {
			return fail(err)
		}
		if int(d-opt.From)%replayGroup == replayGroup-1 || d == opt.To {
			if err := ch.writeHeld(tx); err != nil {
				return fail(err)
			}
			if err := mark(tx, d, done); err != nil {
				return fail(err)
			}
			if groups++; s.opt.Fault != nil {
				s.opt.Fault("replay", groups)
			}
			if err := s.commit(tx); err != nil {
				return fail(err)
			}
			s.publish(maps.Keys(ch.snaps))
			tx, ch = nil, nil
			for _, res := range done {
				s.counted(res)
			}
			done, pending = done[:0], 0
		}
		progress(d, pending)
	}
	return nil
}
