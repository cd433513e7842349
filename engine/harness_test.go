package engine

import (
	"fmt"
	"strings"
	"testing"

	sc "github.com/silentcert/silentcert"
)

// rec is a record in a test history: type code, event date, reported date, detail.
type rec struct {
	typ      string
	event    string
	reported string
	critical bool
	accept   Resolution
	target   int // index of the record the RESOLVE names, -1 none
}

// run is a test driver that does what backtest does, but evaluates every single day: the
// reference the backtest's day-skipping must agree with.
type run struct {
	t       *testing.T
	eng     *Engine
	person  *sc.Recipient
	st      State
	recs    []rec
	rows    []string
	pays    []string
	withold []string
	counts  map[Counter]int
	quiet   bool
	// on holds what a test does to the recipient at the start of a day, before its
	// records (a roster import that moves an entitlement: backtest's roster never does).
	on map[sc.Date]func(*sc.Recipient)
}

func (r *run) Decide(d Decision) {
	if r.quiet {
		return
	}
	ev := ""
	if d.Evidence != NoRef {
		ev = fmt.Sprintf("r%d", d.Evidence)
	}
	detail := string(d.AppendDetail(nil, func(b []byte, ref Ref) []byte { return fmt.Appendf(b, "r%d", ref) }))
	r.rows = append(r.rows, strings.TrimRight(fmt.Sprintf("%s %s %s %s %s", d.Day, d.Action, d.Method, ev, detail), " "))
}
func (r *run) Pay(p Payment) {
	r.pays = append(r.pays, fmt.Sprintf("%s %s %d %s", p.Month, r.person.Entitlements[p.Ent].Benefit, p.Amount, p.Kind))
}
func (r *run) Withhold(w Withholding) {
	r.withold = append(r.withold, fmt.Sprintf("%s %s %s", w.Month, r.person.Entitlements[w.Ent].Benefit, w.Reason))
}
func (r *run) Count(c Counter) { r.counts[c]++ }

func person(ents ...sc.Entitlement) *sc.Recipient {
	return &sc.Recipient{PersonID: "371002194001010011", Name: "张三", LastCertified: sc.NoDate, Entitlements: ents}
}

func ent(benefit string, yuan int64, start string) sc.Entitlement {
	return sc.Entitlement{Benefit: benefit, Monthly: sc.Fen(yuan * 100), Start: mustMonth(start), End: sc.NoMonth}
}

func mustMonth(s string) sc.Month {
	m, err := sc.ParseMonth(s)
	if err != nil {
		panic(err)
	}
	return m
}

func newRun(t *testing.T, cfg *sc.Config, p *sc.Recipient, recs ...rec) *run {
	if cfg == nil {
		cfg = sc.DefaultConfig()
	}
	return &run{t: t, eng: New(cfg), person: p, recs: recs, counts: map[Counter]int{}}
}

// at has fn change the recipient at the start of day, before its records (a roster
// import); call it before replaying.
func (r *run) at(day string, fn func(*sc.Recipient)) *run {
	if r.on == nil {
		r.on = map[sc.Date]func(*sc.Recipient){}
	}
	r.on[sc.MustDate(day)] = fn
	return r
}

func (r *run) input(i int) Input {
	x := r.recs[i]
	id, ok := r.eng.cat.Lookup(x.typ)
	if !ok {
		r.t.Fatalf("unknown type %s", x.typ)
	}
	in := Input{Type: id, Event: sc.MustDate(x.event), Ref: Ref(i), Critical: x.critical, Accept: x.accept, Target: NoRef}
	if x.accept != ResolveNone && x.target >= 0 {
		in.Target = Ref(x.target)
	}
	return in
}

// replay runs from..to evaluating every day. Records are applied on their reported day in
// the order given (tests list them in spec §7's order).
func (r *run) replay(from, to string) *run { return r.drive(from, to, false) }

// replaySkipping drives the engine as backtest does: every person on --from and on the
// 1st of each month, otherwise only on days with records or a clock change.
func (r *run) replaySkipping(from, to string) *run { return r.drive(from, to, true) }

func (r *run) drive(from, to string, skip bool) *run {
	f, t := sc.MustDate(from), sc.MustDate(to)
	r.st = r.eng.Enrol(r.person)
	r.quiet = true
	for i, x := range r.recs {
		if d := sc.MustDate(x.reported); d < f {
			in := r.input(i)
			r.eng.Apply(r.person, &r.st, &in, d, r)
		}
	}
	r.quiet = false
	next := sc.NoDate
	for d := f; d <= t; d++ {
		has := false
		for _, x := range r.recs {
			has = has || sc.MustDate(x.reported) == d
		}
		if fn := r.on[d]; fn != nil {
			fn(r.person)
			has = true
		}
		if skip && !(d == f || d.Day() == 1 || has || d == next) {
			continue
		}
		for i, x := range r.recs {
			if sc.MustDate(x.reported) == d {
				in := r.input(i)
				r.eng.Apply(r.person, &r.st, &in, d, r)
			}
		}
		r.eng.Evaluate(r.person, &r.st, d, r)
		if d == f {
			r.eng.Baseline(r.person, &r.st, d, r)
		}
		if d.Day() == 1 {
			r.eng.Payroll(r.person, &r.st, d.Month(), r)
		}
		next = r.eng.NextChange(&r.st, d)
	}
	return r
}

func (r *run) wantRows(want ...string) *run {
	r.t.Helper()
	if strings.Join(r.rows, "\n") != strings.Join(want, "\n") {
		r.t.Errorf("rows:\n  %s\nwant:\n  %s", strings.Join(r.rows, "\n  "), strings.Join(want, "\n  "))
	}
	return r
}

func (r *run) wantPays(want ...string) *run {
	r.t.Helper()
	if strings.Join(r.pays, "\n") != strings.Join(want, "\n") {
		r.t.Errorf("payments:\n  %s\nwant:\n  %s", strings.Join(r.pays, "\n  "), strings.Join(want, "\n  "))
	}
	return r
}

func (r *run) wantStatus(s sc.Status, until string) *run {
	r.t.Helper()
	if r.st.Status != s || r.st.Until.String() != until {
		r.t.Errorf("status %s until %s, want %s until %s", r.st.Status, r.st.Until, s, until)
	}
	return r
}
