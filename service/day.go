package service

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"strconv"
	"time"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/exchange"
	"github.com/silentcert/silentcert/store"
)

// RunDay evaluates day d for everyone the clock may change that day (everyone on the 1st,
// which is also payroll day, and on a person's first day), writes the first day's status
// rows, and on the 1st runs the month's payroll. It is one transaction, recorded in runs:
// running a day twice does nothing the second time. Days must be run in order: a day
// after a gap is refused (CatchUp runs the missed days first).
func (s *Service) RunDay(ctx context.Context, d sc.Date) error {
	_, err := s.RunDayStats(ctx, d)
	return err
}

// RunStats tells what one day's run did and where its wall time went (for the log, the
// metrics and the benchmark; nothing the run writes depends on it).
type RunStats struct {
	Day                  sc.Date
	Done                 bool // the day had been run already: nothing was done
	Evaluated, Decisions int64
	Payroll              bool
	Seconds              float64
	Phases               []Phase // in the order they ran; the commit is the last
	// AuditHead is the audit trail's head the run's commit left (its run row the last),
	// logged and printed to be kept outside the database: audit verify --expect it.
	AuditHead store.AuditAnchor
}

// Phase is one step of a day's run and its wall time.
type Phase struct {
	Name    string
	Seconds float64
	// Alongside: the step ran on another goroutine during the step before (the 1st's
	// writes during its evaluation), and its time is inside that one's.
	Alongside bool
}

// phases times the steps of a run; a nil one does nothing.
type phases struct {
	list []Phase
	t    time.Time
}

func (ps *phases) start() {
	if ps != nil {
		ps.t = time.Now()
	}
}

// lap ends the step named name and starts the next.
func (ps *phases) lap(name string) {
	if ps == nil {
		return
	}
	now := time.Now()
	ps.list = append(ps.list, Phase{Name: name, Seconds: now.Sub(ps.t).Seconds()})
	ps.t = now
}

// RunDayStats is RunDay telling what the run did and how long its steps took.
func (s *Service) RunDayStats(ctx context.Context, d sc.Date) (*RunStats, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	start := time.Now()
	st := &RunStats{Day: d, Payroll: d.Day() == 1}
	last, err := s.db.LastRun(ctx)
	if err != nil {
		return nil, err
	}
	switch {
	case last != sc.NoDate && d <= last:
		st.Done = true
		return st, nil // done already
	case last != sc.NoDate && d > last+1:
		return nil, sc.Errorf(sc.EConflict, "day %s: the last day run is %s; run the days between first (CatchUp)", d, last)
	}
	ps := &phases{}
	err = s.write(ctx, func(tx *store.Tx, ch *change) (err error) {
		ps.start()
		st.Evaluated, st.Decisions, err = s.runDayTimed(tx, ch, d, ps)
		st.AuditHead, _ = tx.AuditHead()
		return err
	})
	if err != nil {
		return nil, err
	}
	ps.lap("commit")
	st.Phases = ps.list
	st.Seconds = time.Since(start).Seconds()
	// The head after the commit, in the log kept apart from the database: an anchor
	// each day (and each payroll, run on the 1st) that audit verify --expect checks.
	s.log.Info("daily run", "day", d.String(), "evaluated", st.Evaluated, "decisions", st.Decisions, "payroll", st.Payroll,
		"seconds", st.Seconds, "audit_head", st.AuditHead.String())
	s.metrics.RunSeconds.Set(st.Seconds)
	return st, nil
}

// runDayIn runs day d inside tx, recording in ch the people it changes; the caller
// commits, or undoes ch when anything fails. It returns how many people were evaluated
// and how many decisions were written.
func (s *Service) runDayIn(tx *store.Tx, ch *change, d sc.Date) (evaluated, decisions int64, err error) {
	return s.runDayTimed(tx, ch, d, nil)
}

// runDayTimed is runDayIn timing its steps in tm (when not nil).
//
// On the 1st, when everyone is evaluated and their states are written at the end of the
// day (not held for later, as replay's groups of days are), the states and payments are
// written as the evaluation goes, by a goroutine of their own: the store writes one chunk
// of people while the next is evaluated, and the payroll's snapshot is compressed by a
// third. The rows written, and their order within each table, are those of writing after
// the evaluation.
func (s *Service) runDayTimed(tx *store.Tx, ch *change, d sc.Date, tm *phases) (evaluated, decisions int64, err error) {
	k := newSink()
	full := d.Day() == 1
	payday := d.Day() == 1
	k.payroll = d.Month()
	var snap *bgGzip
	var snapW *exchange.CSVWriter
	if payday {
		snap = newBgGzip()
		defer snap.Close()
		snapW = exchange.NewCSVWriter(snap)
		snapW.Row("person_id", "status", "certified_until", "last_certified", "last_method", "evidence_ref")
	}
	var w *bgWriter
	chunk := tx.StatesChunk()
	if full && !ch.hold {
		ch.reserve(len(s.ppl))
		w = newBgWriter(tx)
		defer w.wait()
	}
	var scratch []byte
	for _, p := range s.ppl {
		first := !p.Baselined
		if !full && !first && (p.NextCheck == sc.NoDate || p.NextCheck > d) {
			continue
		}
		ch.touch(p)
		evaluated++
		k.p = p
		s.eng.Evaluate(p.Rec, &p.State, d, k)
		if first {
			s.eng.Baseline(p.Rec, &p.State, d, k)
			p.Baselined = true
		}
		if payday {
			st := &p.State
			snapW.String(p.Rec.PersonID)
			snapW.Raw([]byte(st.Status.String()))
			snapW.Raw(st.Until.AppendTo(scratch[:0]))
			snapW.Raw(st.LastCertified.AppendTo(scratch[:0]))
			snapW.Raw([]byte(st.LastMethod.String()))
			snapW.Raw(strconv.AppendUint(scratch[:0], uint64(st.LastEvidence), 10))
			if err := snapW.End(); err != nil {
				return 0, 0, err
			}
			s.eng.Payroll(p.Rec, &p.State, d.Month(), k)
		}
		p.NextCheck = s.eng.NextChange(&p.State, d)
		if s.opt.Fault != nil {
			s.opt.Fault("run", int(evaluated))
		}
		if w != nil && len(ch.order) >= chunk {
			if err := w.send(ch, k, chunk, false); err != nil {
				return 0, 0, err
			}
		}
	}
	tm.lap("evaluate")
	if w != nil {
		for len(ch.order) > 0 || k.sent < len(k.pays) {
			if err := w.send(ch, k, chunk, true); err != nil {
				return 0, 0, err
			}
		}
		if err := w.wait(); err != nil {
			return 0, 0, err
		}
		if tm != nil {
			tm.list = append(tm.list, Phase{"states", w.states.Seconds(), true}, Phase{"payments", w.pays.Seconds(), true})
		}
	}
	if err := ch.write(tx); err != nil {
		return 0, 0, err
	}
	if w != nil {
		tm.lap("writes' end")
	} else {
		tm.lap("states")
	}
	n, err := k.flush(tx, map[int64]string{}, "engine", s.hook(tx))
	if err != nil {
		return 0, 0, err
	}
	tm.lap("decisions+payments")
	if payday {
		if err := snapW.Flush(); err != nil {
			return 0, 0, err
		}
		if err := snap.Close(); err != nil {
			return 0, 0, err
		}
		pr := &store.Payroll{Month: d.Month(), Day: d, Snapshot: snap.Bytes()}
		for _, p := range k.pays {
			switch p.Kind {
			case sc.PayRegular.String():
				pr.Paid += p.Amount
				pr.Rows++
			case sc.PayBack.String():
				pr.BackPay += p.Amount
				pr.Rows++
			default:
				pr.Withheld += p.Amount
			}
		}
		if err := tx.PutPayroll(pr); err != nil {
			return 0, 0, err
		}
		tm.lap("snapshot")
	}
	if !s.opt.NoSummary {
		var paid *store.PaidSums
		if payday {
			// The payroll's money by village, for the console: from memory, not read back.
			paid = &store.PaidSums{Month: d.Month(), Rows: int64(len(k.pays)), ByVillage: map[store.PaidKey]int64{}}
			for i := range k.pays {
				p := &k.pays[i]
				paid.Total += int64(p.Amount)
				paid.ByVillage[store.PaidKey{Region: s.ppl[p.PID].Rec.RegionCode, Kind: store.MoneyKind(p.Kind)}] += int64(p.Amount)
			}
		}
		if err := tx.RefreshSummaryPaid(d, paid); err != nil {
			return 0, 0, err
		}
		tm.lap("summary")
	}
	if err := tx.MarkRun(d, s.wallTime(), evaluated, n); err != nil {
		return 0, 0, err
	}
	// The payroll's rows and any back pay are covered by their audit row before the run's
	// own, which stays the last: the head the run prints.
	if err := tx.SealPayments(d, s.wallTime(), "system"); err != nil {
		return 0, 0, err
	}
	// The rules the day was decided by, on its row: the configuration's print and the
	// model's identity (their rows of kind config and model say what they are).
	model, _ := s.modelIdentity()
	err = tx.Append([]store.AuditRow{{Kind: "run", Day: d, At: s.wallTime(), Actor: "system", PID: -1,
		Action: "daily_run", Detail: fmt.Sprintf("evaluated=%d;decisions=%d;payroll=%v;config=%s;model=%s", evaluated, n, payday, configPrint(s.cfg), model)}})
	return evaluated, n, err
}

// CatchUp runs every day from the one after the last run through today, in order. The
// first run of a new database is today's.
func (s *Service) CatchUp(ctx context.Context, today sc.Date) error {
	last, err := s.db.LastRun(ctx)
	if err != nil {
		return err
	}
	d := today
	if last != sc.NoDate {
		d = last + 1
	}
	for ; d <= today; d++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := s.RunDay(ctx, d); err != nil {
			return err
		}
	}
	return nil
}

// bgWriter writes chunks of people's states and payments in the transaction on a
// goroutine of its own, in the order given. Its owner uses the transaction for nothing
// else until wait returns.
type bgWriter struct {
	jobs chan bgJob
	done chan error
	err  error
	open bool
	// the writer's time in each (read after wait)
	states, pays time.Duration
}

type bgJob struct {
	ps    []*store.Person
	moves []move
	pays  []store.Payment
}

func newBgWriter(tx *store.Tx) *bgWriter {
	w := &bgWriter{jobs: make(chan bgJob, 2), done: make(chan error, 1), open: true}
	go func() {
		var err error
		for j := range w.jobs {
			if err != nil {
				continue // drained: the run fails
			}
			t0 := time.Now()
			if err = putPeople(tx, j.ps, j.moves); err == nil {
				t1 := time.Now()
				err = tx.AddPayments(j.pays)
				w.states += t1.Sub(t0)
				w.pays += time.Since(t1)
			}
		}
		w.done <- err
	}()
	return w
}

// payChunk is how many payments the writer is given at once: on PostgreSQL each batch is
// a COPY in a savepoint, and a transaction is best kept to a few subtransactions.
const payChunk = 1 << 17

// send hands the writer the next chunk of touched people and, when there are payChunk of
// them or last is set, the payments collected since they were last handed.
func (w *bgWriter) send(ch *change, k *sink, n int, last bool) error {
	ps, moves, err := ch.take(n)
	if err != nil {
		return err
	}
	j := bgJob{ps: ps, moves: moves}
	if last || len(k.pays)-k.sent >= payChunk {
		j.pays = k.pays[k.sent:len(k.pays):len(k.pays)]
		k.sent = len(k.pays)
	}
	w.jobs <- j
	return nil
}

// wait returns when everything sent is written, with the first error.
func (w *bgWriter) wait() error {
	if w.open {
		close(w.jobs)
		w.err = <-w.done
		w.open = false
	}
	return w.err
}

// bgGzip compresses what is written to it on a goroutine of its own, into the same bytes
// as gzip.NewWriter at the default level would (deflate's output does not depend on how
// its input is cut into writes).
type bgGzip struct {
	out  bytes.Buffer
	cur  []byte
	ch   chan []byte
	done chan error
	err  error
	open bool
}

const bgGzipPiece = 1 << 20

func newBgGzip() *bgGzip {
	g := &bgGzip{ch: make(chan []byte, 4), done: make(chan error, 1), open: true, cur: make([]byte, 0, bgGzipPiece)}
	go func() {
		zw := gzip.NewWriter(&g.out)
		var err error
		for b := range g.ch {
			if err == nil {
				_, err = zw.Write(b)
			}
		}
		if err == nil {
			err = zw.Close()
		}
		g.done <- err
	}()
	return g
}

func (g *bgGzip) Write(p []byte) (int, error) {
	g.cur = append(g.cur, p...)
	if len(g.cur) >= bgGzipPiece {
		g.ch <- g.cur
		g.cur = make([]byte, 0, bgGzipPiece+len(p))
	}
	return len(p), nil
}

// Close ends the stream and waits for its compression; Bytes is then the gzip.
func (g *bgGzip) Close() error {
	if g.open {
		if len(g.cur) > 0 {
			g.ch <- g.cur
			g.cur = nil
		}
		close(g.ch)
		g.err = <-g.done
		g.open = false
	}
	return g.err
}

func (g *bgGzip) Bytes() []byte { return g.out.Bytes() }
