package engine

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	sc "github.com/silentcert/silentcert"
)

var propTypes = []string{
	"HEA.CHECKUP", "MED.INPATIENT", "TRN.RAIL", "HRSS.FACE", "CMT.VISIT", "BANK.COUNTER", // strong
	"MED.OUTPATIENT", "TRN.TRANSIT", "MED.CHRONIC", "TEL.ACTIVITY", "BANK.TXN", "MED.PHARMACY", // weak
	"PSB.DEATH_DEREG", "CIV.CREMATION", "JUS.PRISON_IN", "JUS.PRISON_OUT", "HRSS.REVIEW", "CMT.NOT_FOUND",
}

// randomHistory makes a person and records over 2023–2025, reported in spec §7 order.
func randomHistory(rng *rand.Rand) (*sc.Recipient, []rec) {
	base := sc.MustDate("2023-01-01")
	ents := []sc.Entitlement{ent("EMP_PENSION", int64(1000+rng.IntN(4000)), "2015-01")}
	if rng.IntN(3) == 0 {
		e := ent("ELDERLY_ALLOWANCE", 100, (base + sc.Date(rng.IntN(700))).Month().String())
		if rng.IntN(2) == 0 {
			e.End = e.Start + sc.Month(rng.IntN(12))
		}
		ents = append(ents, e)
	}
	if rng.IntN(2) == 0 {
		ents[0].Capacity, ents[0].CapacityKnown = sc.Fen(rng.IntN(10000000)), true
	}
	p := person(ents...)
	if rng.IntN(4) != 0 {
		p.LastCertified = base + sc.Date(rng.IntN(500)) - 200
	}
	n := rng.IntN(30)
	var recs []rec
	for i := 0; i < n; i++ {
		typ := propTypes[rng.IntN(len(propTypes))]
		ev := base + sc.Date(rng.IntN(1000))
		rep := ev + sc.Date(rng.IntN(3)*rng.IntN(90))
		r := rec{typ: typ, event: ev.String(), reported: rep.String(), target: -1, critical: rng.IntN(5) == 0}
		if typ == "HRSS.REVIEW" {
			r.accept = Resolution(1 + rng.IntN(2))
			r.target = rng.IntN(n + 1)
		}
		recs = append(recs, r)
	}
	slices.SortStableFunc(recs, func(a, b rec) int {
		return strings.Compare(a.reported+a.event, b.reported+b.event)
	})
	for i := range recs {
		if recs[i].target >= len(recs) {
			recs[i].target = -1
		}
	}
	return p, recs
}

// TestSkippingEqualsDailyEvaluation: evaluating only when NextChange says the clock may
// change gives exactly the rows and payments of evaluating every day.
func TestSkippingEqualsDailyEvaluation(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 400; i++ {
		p, recs := randomHistory(rng)
		a := newRun(t, nil, p, recs...).replay("2023-06-15", "2025-09-30")
		p2 := *p
		p2.Entitlements = slices.Clone(p.Entitlements)
		b := newRun(t, nil, &p2, recs...).replaySkipping("2023-06-15", "2025-09-30")
		if fmt.Sprint(a.rows, a.pays, a.withold) != fmt.Sprint(b.rows, b.pays, b.withold) {
			t.Fatalf("history %d differs:\ndaily:\n%s\nskipping:\n%s", i, strings.Join(a.rows, "\n"), strings.Join(b.rows, "\n"))
		}
	}
}

// TestSafetyProperties checks issue 3's safety properties on generated histories.
func TestSafetyProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	cfg := sc.DefaultConfig()
	pol := cfg.Policy
	from, to := sc.MustDate("2023-03-01"), sc.MustDate("2025-12-31")
	for i := 0; i < 2000; i++ {
		p, recs := randomHistory(rng)
		r := newRun(t, cfg, p, recs...)
		// Replay by hand, checking after each step.
		r.st = r.eng.Enrol(p)
		r.quiet = true
		for k, x := range recs {
			if d := sc.MustDate(x.reported); d < from {
				in := r.input(k)
				r.eng.Apply(p, &r.st, &in, d, r)
			}
		}
		r.quiet = false
		for d := from; d <= to; d++ {
			for k, x := range recs {
				if sc.MustDate(x.reported) != d {
					continue
				}
				in := r.input(k)
				id, _ := r.eng.cat.Lookup(x.typ)
				class := r.eng.cat.ClassOf(id, x.critical)
				before := len(r.rows)
				wasTerminated := r.st.Status == sc.StatusTerminated
				wasConflict := r.st.Status == sc.StatusConflict
				r.eng.Apply(p, &r.st, &in, d, r)
				for _, row := range r.rows[before:] {
					if (wasTerminated || r.st.Status == sc.StatusTerminated) && strings.Contains(row, " CERTIFIED ") {
						t.Fatalf("history %d: CERTIFIED row for a terminated person: %s", i, row)
					}
				}
				if class == sc.ClassDeath && !wasConflict {
					// A death record terminates that day, or conflicts that day.
					if r.st.Status != sc.StatusTerminated && r.st.Status != sc.StatusConflict {
						t.Fatalf("history %d: death record on %s left status %s", i, d, r.st.Status)
					}
					if r.st.Status == sc.StatusConflict && r.st.LastStrong != sc.NoDate && sc.MustDate(x.event) >= r.st.LastStrong && !wasTerminated {
						t.Fatalf("history %d: a death that does not contradict put the person in CONFLICT", i)
					}
				}
			}
			r.eng.Evaluate(p, &r.st, d, r)
			if d == from {
				r.eng.Baseline(p, &r.st, d, r)
			}
			if d.Day() == 1 {
				r.eng.Payroll(p, &r.st, d.Month(), r)
			}
			if r.st.Status == sc.StatusSuspended {
				for _, x := range recs {
					id, _ := r.eng.cat.Lookup(x.typ)
					if r.eng.cat.ClassOf(id, x.critical) != sc.ClassStrong || sc.MustDate(x.reported) > d {
						continue
					}
					if sc.MustDate(x.event).AddMonths(int(r.st.Period)).AddMonths(pol.GraceMonths) >= d && !hadDeath(r) {
						t.Fatalf("history %d: SUSPENDED on %s although %s on %s covers it", i, d, x.typ, x.event)
					}
				}
			}
		}
	}
}

// hadDeath reports whether a death record was ever applied to the person: a strong record
// then changes nothing or goes to review, and the suspension property does not apply.
func hadDeath(r *run) bool {
	return r.st.Rare != nil && len(r.st.Rare.Deaths) > 0
}
