package backtest

import (
	"context"
	"slices"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/engine"
	"github.com/silentcert/silentcert/exchange"
)

// worker replays the people in [lo, hi).
type worker struct {
	r      *runner
	lo, hi uint32
	sink   sink
	sched  []sc.Date   // each person's next scheduled evaluation
	wheel  [][]uint32  // people to evaluate, by day of the replay
	days   chan []byte // one buffer of decision rows per day, in order
	free   chan []byte
	ba, bb []byte   // scratch space for comparing record_ids
	grp    []uint32 // scratch space for a group that spans two segments of order
	spans  [][2]int // per bucket of order, the part holding the worker's people
}

const dayAhead = 32 // days a worker may run ahead of the writer

func newWorker(r *runner, lo, hi uint32) *worker {
	w := &worker{r: r, lo: lo, hi: hi, days: make(chan []byte, dayAhead), free: make(chan []byte, dayAhead+1)}
	// Where each bucket's entries of the worker's people lie, found before any worker
	// starts: a search then would read order where another worker sorts its groups.
	w.spans = make([][2]int, len(r.buckets)-1)
	for b := range w.spans {
		w.spans[b][0], w.spans[b][1] = r.groupRange(int(r.buckets[b]), int(r.buckets[b+1]), lo, hi)
	}
	w.sink.r = r
	for i := 0; i <= dayAhead; i++ {
		w.free <- make([]byte, 0, 64<<10)
	}
	return w
}

// history applies every record reported before --from, person by person, without rows.
func (w *worker) history() {
	r := w.r
	w.sink.quiet = true
	lo, hi := w.spans[0][0], w.spans[0][1]
	next := lo
	n := 0
	for p := w.lo; p < w.hi; p++ {
		n += len(r.people[p].Entitlements)
	}
	ents := make([]engine.EntState, n) // every entitlement's state, in person order
	for p := w.lo; p < w.hi; p++ {
		rec := r.people[p]
		st := &r.states[p]
		k := len(rec.Entitlements)
		*st = r.eng.EnrolWith(rec, ents[:k])
		ents = ents[k:]
		end := w.group(p, next, hi)
		for ; next < end; next++ {
			i := *r.order.at(uint32(next))
			r.apply(rec, st, i, r.entries.at(i).reported, &w.sink)
		}
	}
	w.sink.quiet = false
}

// window replays every day from --from to --to for the worker's people.
func (w *worker) window(ctx context.Context) {
	defer close(w.days)
	r := w.r
	from := r.opt.From
	w.sched = make([]sc.Date, w.hi-w.lo)
	w.wheel = make([][]uint32, r.days)
	for d := 0; d < r.days; d++ {
		day := from + sc.Date(d)
		var buf []byte
		select {
		case buf = <-w.free:
		case <-ctx.Done():
			return
		}
		w.sink.buf = buf
		lo, hi := w.spans[d+1][0], w.spans[d+1][1]
		full := d == 0 || day.Day() == 1
		next := lo
		if full {
			for p := w.lo; p < w.hi; p++ {
				next = w.person(p, day, d == 0, next, hi)
			}
		} else {
			// The people with records today, merged with those the clock calls today.
			called := w.wheel[d]
			slices.Sort(called)
			called = slices.Compact(called)
			for next < hi || len(called) > 0 {
				var p uint32
				switch {
				case len(called) == 0:
					p = r.personAt(next)
				case next == hi:
					p = called[0]
				default:
					p = min(r.personAt(next), called[0])
				}
				if len(called) > 0 && called[0] == p {
					called = called[1:]
				}
				next = w.person(p, day, false, next, hi)
			}
		}
		w.wheel[d] = nil
		select {
		case w.days <- w.sink.buf:
		case <-ctx.Done():
			return
		}
	}
}

// person runs day for person p: the records reported that day (order[next:hi] starts with
// them, if any), the evaluation, the first day's baseline, the payroll on the 1st, and
// schedules the next day the clock may change the status. It returns the new next.
func (w *worker) person(p uint32, day sc.Date, first bool, next, hi int) int {
	r := w.r
	rec := r.people[p]
	st := &r.states[p]
	w.sink.person = p
	end := w.group(p, next, hi)
	for ; next < end; next++ {
		r.apply(rec, st, *r.order.at(uint32(next)), day, &w.sink)
	}
	r.eng.Evaluate(rec, st, day, &w.sink)
	if first {
		r.eng.Baseline(rec, st, day, &w.sink)
	}
	if day.Day() == 1 {
		r.eng.Payroll(rec, st, day.Month(), &w.sink)
	}
	if nx := r.eng.NextChange(st, day); nx != sc.NoDate && nx <= r.opt.To && nx != w.sched[p-w.lo] {
		w.sched[p-w.lo] = nx
		di := int(nx - r.opt.From)
		w.wheel[di] = append(w.wheel[di], p)
	}
	return next
}

// group puts person p's entries of order[next:hi] (one bucket, by person; p's come first,
// if any) in spec §7's order and returns where they end.
func (w *worker) group(p uint32, next, hi int) int {
	r := w.r
	end := next
	for end < hi && r.personAt(end) == p {
		end++
	}
	if end-next > 1 {
		cmp := func(a, b uint32) int { return r.cmpEntries(a, b, &w.ba, &w.bb) }
		if g, ok := r.order.span(next, end); ok {
			slices.SortFunc(g, cmp)
		} else { // across two segments
			w.grp = w.grp[:0]
			for k := next; k < end; k++ {
				w.grp = append(w.grp, *r.order.at(uint32(k)))
			}
			slices.SortFunc(w.grp, cmp)
			for k, i := range w.grp {
				*r.order.at(uint32(next + k)) = i
			}
		}
	}
	return end
}

// apply applies entry i to its person on day: through the engine, and for a move, to the
// person's registered region (the worklist they are routed to).
func (r *runner) apply(rec *sc.Recipient, st *engine.State, i uint32, day sc.Date, s *sink) {
	in := r.input(i)
	r.eng.Apply(rec, st, &in, day, s)
	if r.entries.at(i).flags&fMove != 0 && st.Status != sc.StatusTerminated {
		rec.RegionCode = r.moves[i]
	}
}

// sink formats decisions into the day's buffer and adds up money and counts.
type sink struct {
	r       *runner
	buf     []byte
	person  uint32
	quiet   bool // history: no rows
	scratch []byte

	paidRegular, paidBack, withheld sc.Fen
	withheldBy                      [8]sc.Fen
	certs                           [8]int64
	actions                         [16]int64
	counts                          [16]int64
}

func (s *sink) Decide(d engine.Decision) {
	if s.quiet {
		return
	}
	s.actions[d.Action]++
	if d.Action == sc.ActCertified {
		s.certs[d.Method]++
	}
	b := s.buf
	b = d.Day.AppendTo(b)
	b = append(b, ',')
	b = append(b, s.r.people[s.person].PersonID...)
	b = append(b, ',')
	b = append(b, d.Action.String()...)
	b = append(b, ',')
	if d.Action == sc.ActCertified {
		b = append(b, d.Method.String()...)
	}
	b = append(b, ',')
	if d.Evidence != engine.NoRef {
		s.scratch = s.r.evidence(s.scratch[:0], d.Evidence)
		b = exchange.AppendCSVField(b, s.scratch)
	}
	b = append(b, ',')
	s.scratch = d.AppendDetail(s.scratch[:0], s.r.evidence)
	b = exchange.AppendCSVField(b, s.scratch)
	s.buf = append(b, '\n')
}

func (s *sink) Pay(p engine.Payment) {
	if p.Kind == sc.PayBack {
		s.paidBack += p.Amount
	} else {
		s.paidRegular += p.Amount
	}
}

func (s *sink) Withhold(w engine.Withholding) {
	s.withheld += w.Amount
	s.withheldBy[w.Reason] += w.Amount
}

func (s *sink) Count(c engine.Counter) { s.counts[c]++ }
