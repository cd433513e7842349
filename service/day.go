package service

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
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
	s.mu.Lock()
	defer s.mu.Unlock()
	start := time.Now()
	last, err := s.db.LastRun(ctx)
	if err != nil {
		return err
	}
	switch {
	case last != sc.NoDate && d <= last:
		return nil // done already
	case last != sc.NoDate && d > last+1:
		return sc.Errorf(sc.EConflict, "day %s: the last day run is %s; run the days between first (CatchUp)", d, last)
	}
	var evaluated, n int64
	err = s.write(ctx, func(tx *store.Tx, ch *change) (err error) {
		evaluated, n, err = s.runDayIn(tx, ch, d)
		return err
	})
	if err != nil {
		return err
	}
	s.log.Info("daily run", "day", d.String(), "evaluated", evaluated, "decisions", n, "seconds", time.Since(start).Seconds())
	runSeconds.Set(time.Since(start).Seconds())
	return nil
}

// runDayIn runs day d inside tx, recording in ch the people it changes; the caller
// commits, or undoes ch when anything fails. It returns how many people were evaluated
// and how many decisions were written.
func (s *Service) runDayIn(tx *store.Tx, ch *change, d sc.Date) (evaluated, decisions int64, err error) {
	k := newSink()
	full := d.Day() == 1
	payday := d.Day() == 1
	k.payroll = d.Month()
	var snap *bytes.Buffer
	var snapW *exchange.CSVWriter
	var gz *gzip.Writer
	if payday {
		snap = &bytes.Buffer{}
		gz = gzip.NewWriter(snap)
		snapW = exchange.NewCSVWriter(gz)
		snapW.Row("person_id", "status", "certified_until", "last_certified", "last_method", "evidence_ref")
	}
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
			snapW.Raw(st.Until.AppendTo(nil))
			snapW.Raw(st.LastCertified.AppendTo(nil))
			snapW.Raw([]byte(st.LastMethod.String()))
			snapW.Raw([]byte(fmt.Sprint(uint64(st.LastEvidence))))
			if err := snapW.End(); err != nil {
				return 0, 0, err
			}
			s.eng.Payroll(p.Rec, &p.State, d.Month(), k)
		}
		p.NextCheck = s.eng.NextChange(&p.State, d)
		if s.opt.Fault != nil {
			s.opt.Fault("run", int(evaluated))
		}
	}
	if err := ch.write(tx); err != nil {
		return 0, 0, err
	}
	n, err := k.flush(tx, map[int64]string{}, "engine", s.hook(tx))
	if err != nil {
		return 0, 0, err
	}
	if payday {
		if err := snapW.Flush(); err != nil {
			return 0, 0, err
		}
		if err := gz.Close(); err != nil {
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
	}
	if !s.opt.NoSummary {
		if err := tx.RefreshSummary(d); err != nil {
			return 0, 0, err
		}
	}
	if err := tx.MarkRun(d, s.wallTime(), evaluated, n); err != nil {
		return 0, 0, err
	}
	err = tx.Append([]store.AuditRow{{Kind: "run", Day: d, At: s.wallTime(), Actor: "system", PID: -1,
		Action: "daily_run", Detail: fmt.Sprintf("evaluated=%d;decisions=%d;payroll=%v", evaluated, n, payday)}})
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
