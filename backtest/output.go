package backtest

import (
	"io"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/exchange"
	"github.com/silentcert/silentcert/internal/atomicfile"
)

// writeOutputs writes every file of spec §7 but decisions.csv (streamed during the
// replay) and fills the report's end-of-run figures. held.csv comes first: it is the last
// to read the entries and record_ids, which are let go before the rest are written.
func (r *runner) writeOutputs() error {
	if err := writeCSV(filepath.Join(r.opt.Out, "held.csv"), r.writeHeld); err != nil {
		return err
	}
	r.entries, r.ids, r.resolve, r.moves = segs[entry]{}, idStore{}, nil, nil
	runtime.GC() // before the payroll's buffers, which would otherwise pile up on them
	for _, f := range []struct {
		name  string
		write func(*exchange.CSVWriter) error
	}{
		{"status.csv", r.writeStatus},
		{"payroll.csv", r.writePayroll},
		{"overpayments.csv", r.writeOverpayments},
		{"quarantine.csv", r.writeQuarantine},
		{"unlinked.csv", r.writeUnlinked},
		{"regions.csv", r.writeRegions},
	} {
		if err := writeCSV(filepath.Join(r.opt.Out, f.name), f.write); err != nil {
			return err
		}
	}
	return atomicfile.WriteFile(filepath.Join(r.opt.Out, "report.json"), r.rep.WriteJSON)
}

// writeCSV writes one file whole or not at all (atomicfile): a run killed or failing
// while it writes leaves the file a run before wrote.
func writeCSV(path string, write func(*exchange.CSVWriter) error) error {
	return atomicfile.WriteFile(path, func(w io.Writer) error {
		cw := exchange.NewCSVWriter(w)
		if err := write(cw); err != nil {
			return err
		}
		return cw.Flush()
	})
}

func (r *runner) writeStatus(cw *exchange.CSVWriter) error {
	if err := cw.Row("person_id", "status", "certified_until", "last_certified", "last_method", "death_date"); err != nil {
		return err
	}
	var b []byte
	for p, rec := range r.people {
		st := &r.states[p]
		r.rep.People[st.Status.String()]++
		cw.String(rec.PersonID)
		cw.Raw([]byte(st.Status.String()))
		b = st.Until.AppendTo(b[:0])
		cw.Raw(b)
		b = st.LastCertified.AppendTo(b[:0])
		cw.Raw(b)
		cw.Raw([]byte(st.LastMethod.String()))
		b = st.DeathDate.AppendTo(b[:0])
		cw.Raw(b)
		if err := cw.End(); err != nil {
			return err
		}
	}
	return nil
}

// writePayroll writes every payment released, sorted by (month, person_id, benefit_type,
// kind), from the months each entitlement's state says were paid: one month per task,
// formatted in parallel and written in order.
func (r *runner) writePayroll(cw *exchange.CSVWriter) error {
	if err := cw.Row("month", "person_id", "benefit_type", "amount", "kind"); err != nil {
		return err
	}
	first := r.opt.From.Month()
	if r.opt.From.Day() != 1 {
		first++
	}
	last := r.opt.To.Month()
	if last < first {
		return nil
	}
	return inOrder(int(last-first)+1, r.opt.Workers, func(i int, b []byte) []byte {
		m := first + sc.Month(i)
		var month [7]byte
		mb := m.AppendTo(month[:0])
		for p, rec := range r.people {
			st := &r.states[p]
			for e := range rec.Entitlements {
				es := &st.Ents[e]
				for _, kind := range [...]sc.PaymentKind{sc.PayBack, sc.PayRegular} { // "BACK_PAY" < "REGULAR"
					paid := es.Regular
					if kind == sc.PayBack {
						paid = es.Back
					}
					if !paid.Has(m) {
						continue
					}
					b = append(b, mb...)
					b = append(b, ',')
					b = exchange.AppendCSVString(b, rec.PersonID)
					b = append(b, ',')
					b = exchange.AppendCSVString(b, rec.Entitlements[e].Benefit)
					b = append(b, ',')
					b = rec.Entitlements[e].Monthly.AppendTo(b)
					b = append(b, ',')
					b = append(b, kind.String()...)
					b = append(b, '\n')
				}
			}
		}
		return b
	}, cw.Write)
}

// inOrder runs produce for tasks 0..n-1 on workers goroutines, each appending its part of
// a file to a buffer, and passes the buffers to write in task order.
func inOrder(n, workers int, produce func(i int, b []byte) []byte, write func([]byte) error) error {
	workers = max(1, min(workers, n))
	results := make([]chan []byte, n)
	for i := range results {
		results[i] = make(chan []byte, 1)
	}
	free := make(chan []byte, workers+1)
	for i := 0; i < workers+1; i++ {
		free <- nil
	}
	tasks := make(chan int)
	done := make(chan struct{})
	defer close(done)
	for w := 0; w < workers; w++ {
		go func() {
			// A buffer first, then a task: the lowest task not yet written always has
			// its buffer, so the writer can never wait on a task that waits on it.
			for {
				var b []byte
				select {
				case b = <-free:
				case <-done:
					return
				}
				i, ok := <-tasks
				if !ok {
					return
				}
				results[i] <- produce(i, b[:0])
			}
		}()
	}
	go func() {
		defer close(tasks)
		for i := 0; i < n; i++ {
			select {
			case tasks <- i:
			case <-done:
				return
			}
		}
	}()
	for i := 0; i < n; i++ {
		b := <-results[i]
		if err := write(b); err != nil {
			return err
		}
		free <- b
	}
	return nil
}

func (r *runner) writeOverpayments(cw *exchange.CSVWriter) error {
	if err := cw.Row("person_id", "benefit_type", "months", "amount", "offset", "to_recover"); err != nil {
		return err
	}
	var b []byte
	for p, rec := range r.people {
		st := &r.states[p]
		if st.Rare == nil {
			continue // no death, no loss: nothing can be overpaid
		}
		for _, o := range r.eng.Overpayments(rec, st) {
			r.rep.Overpaid += o.Amount
			r.rep.Offset += o.Offset
			r.rep.ToRecover += o.ToRecover
			cw.String(rec.PersonID)
			cw.String(rec.Entitlements[o.Ent].Benefit)
			cw.Raw(strconv.AppendInt(b[:0], int64(o.Months), 10))
			cw.Raw(o.Amount.AppendTo(b[:0]))
			cw.Raw(o.Offset.AppendTo(b[:0]))
			cw.Raw(o.ToRecover.AppendTo(b[:0]))
			if err := cw.End(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *runner) writeQuarantine(cw *exchange.CSVWriter) error {
	if err := cw.Row("file", "line", "field", "reason"); err != nil {
		return err
	}
	for _, p := range r.problems {
		line := ""
		if p.Line > 0 {
			line = strconv.FormatInt(p.Line, 10)
		}
		if err := cw.Row(p.File, line, p.Field, p.Reason); err != nil {
			return err
		}
	}
	return nil
}

// writeHeld lists held records in the order they would have been applied.
func (r *runner) writeHeld(cw *exchange.CSVWriter) error {
	if err := cw.Row("source", "record_id", "person_id", "reason"); err != nil {
		return err
	}
	var held []uint32
	for i := 0; i < r.entries.len(); i++ {
		if r.entries.at(uint32(i)).flags&(fHeld|fDuplicate) == fHeld {
			held = append(held, uint32(i))
		}
	}
	var ba, bb []byte
	slices.SortFunc(held, func(a, b uint32) int { return r.cmpEntries(a, b, &ba, &bb) })
	for _, i := range held {
		e := r.entries.at(i)
		cw.String(r.cat.Type(e.typ).Source)
		ba = r.ids.appendID(ba[:0], i)
		cw.Field(ba)
		cw.String(r.people[e.person].PersonID)
		cw.Raw([]byte("name_mismatch"))
		if err := cw.End(); err != nil {
			return err
		}
	}
	return nil
}

// writeRegions writes each person's village code on --to, the worklist they are routed
// to: the roster's code (or the address resolved), moved by PSB.HUKOU_MOVE or CMT.MOVED
// records; empty for a person left unassigned. An addition to spec §7's files.
func (r *runner) writeRegions(cw *exchange.CSVWriter) error {
	if err := cw.Row("person_id", "region_code"); err != nil {
		return err
	}
	for _, rec := range r.people {
		if err := cw.Row(rec.PersonID, rec.RegionCode); err != nil {
			return err
		}
	}
	return nil
}

func (r *runner) writeUnlinked(cw *exchange.CSVWriter) error {
	if err := cw.Row("source", "type", "count"); err != nil {
		return err
	}
	keys := make([][2]string, 0, len(r.rep.unlinkedBy))
	for k := range r.rep.unlinkedBy {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i][0] != keys[j][0] {
			return keys[i][0] < keys[j][0]
		}
		return keys[i][1] < keys[j][1]
	})
	for _, k := range keys {
		if err := cw.Row(k[0], k[1], strconv.FormatInt(r.rep.unlinkedBy[k], 10)); err != nil {
			return err
		}
	}
	return nil
}
