package service

import (
	"bufio"
	"cmp"
	"context"
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
	Progress      func(day sc.Date, records int64) // after each day, and each window of the history (day before From)
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
}

// Replay drives the service day by day with a simulated clock over history: the roster is
// imported, records reported before From are loaded as history, then each day's records
// are ingested as that day's batch and the day is run (payroll on the 1st). The files it
// writes into Out are those of backtest, and must be byte-identical to them. The database
// must be empty.
func Replay(ctx context.Context, db *store.DB, opt ReplayOptions) (*backtest.Report, error) {
	if opt.From > opt.To {
		return nil, sc.Errorf(sc.EInvalid, "--from %s is after --to %s", opt.From, opt.To)
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
	if last, err := db.LastRun(ctx); err != nil {
		return nil, err
	} else if s.People() > 0 || last != sc.NoDate {
		return nil, sc.Errorf(sc.EConflict, "%s: replay needs an empty database (it has %d people)", db, s.People())
	}
	if err := s.CheckModel(ctx, "", "replay"); err != nil {
		return nil, err
	}
	rep := backtest.NewReport()
	ro, err := s.ImportRoster(ctx, opt.Roster, opt.Encoding, "replay")
	if err != nil {
		return nil, err
	}
	rep.AddRoster(ro.Roster)
	sp, problems, err := s.spillRecords(ctx, opt, rep)
	if err != nil {
		return nil, err
	}
	defer sp.close()
	stop := make(chan struct{})
	defer close(stop)
	windows := sp.stream(stop)
	var n int64
	tally := func(res *Result) {
		rep.Applied += res.Report.Applied
		rep.Duplicate += res.Report.Duplicate
		rep.DuplicateConflict += res.Report.DuplicateConflict
		rep.Held += res.Report.Held
		rep.Unlinked += res.Report.Unlinked
		n += res.Report.Applied
	}
	// The history (rows reported before From) is applied a window to a batch, the
	// quarantine with the first: a batch applies its rows in spec §7's order, whose first
	// key is the reported date, so the windows applied in turn are the history applied
	// at once.
	next, more := <-windows
	res := &Result{Problems: problems}
	for first := true; first || (more && next.w < 0); first = false {
		var parts [][]Row
		last := opt.From - 1
		if more && next.w < 0 {
			if next.err != nil {
				return nil, next.err
			}
			parts, last = next.days, sp.from+sc.Date((next.w+1)*sp.days)-1
			next, more = <-windows
		}
		if err := s.applyParts(ctx, Batch{Origin: "replay", Actor: "replay", Day: opt.From, History: true}, parts, res); err != nil {
			return nil, err
		}
		tally(res)
		res = &Result{}
		if opt.Progress != nil {
			opt.Progress(last, n) // the history loaded up to last
		}
	}
	// Days go through the same steps as serve's (a batch of the day's records, then the
	// day's run), several days to a transaction: replay fills an empty database, which a
	// crash leaves to be started again, so a commit a day would buy nothing but time.
	cur := windowRows{w: -1}
	rowsOf := func(d sc.Date) ([]Row, error) {
		w := sp.window(d)
		if cur.w != w {
			cur = windowRows{w: w}
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
	if err := s.replayDays(ctx, opt, rowsOf, func(d sc.Date) {
		mu.Lock()
		clock = d
		mu.Unlock()
	}, tally, func(d sc.Date, pending int64) {
		if opt.Progress != nil {
			opt.Progress(d, n+pending)
		}
	}); err != nil {
		return nil, err
	}
	if !opt.DailySummary {
		if err := s.rebuildSummary(ctx, opt.To); err != nil {
			return nil, err
		}
	}
	if opt.Out == "" {
		return rep, nil
	}
	return rep, s.Export(ctx, opt.Out, opt.From, opt.To, rep)
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
	out, err := os.Create(filepath.Join(dir, "report.json"))
	if err != nil {
		return err
	}
	if err := rep.WriteJSON(out); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func (s *Service) exportDecisions(ctx context.Context, path string) error {
	f, err := os.Create(path)
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
	return f.Close()
}

// rebuildSummary recomputes the console's summaries from the whole history, once.
func (s *Service) rebuildSummary(ctx context.Context, day sc.Date) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.write(ctx, func(tx *store.Tx, _ *change) error { return tx.RebuildSummary(day) })
}

// replayGroup is how many days of a replay share a transaction.
const replayGroup = 64

// replayDays ingests each day's rows as that day's batch and runs the day, committing
// every replayGroup days; progress is told, after each day, how many records were
// applied since the last commit (the report counts them at the commit).
func (s *Service) replayDays(ctx context.Context, opt ReplayOptions, rowsOf func(sc.Date) ([]Row, error), setClock func(sc.Date), tally func(*Result), progress func(d sc.Date, pending int64)) error {
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
	for d := opt.From; d <= opt.To; d++ {
		if err := ctx.Err(); err != nil {
			return fail(err)
		}
		setClock(d)
		if tx == nil {
			var err error
			if tx, err = s.db.Begin(ctx); err != nil {
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
			if err := tx.Commit(); err != nil {
				return fail(err)
			}
			tx, ch = nil, nil
			for _, res := range done {
				tally(res)
				s.counted(res)
			}
			done, pending = done[:0], 0
		}
		progress(d, pending)
	}
	return nil
}
