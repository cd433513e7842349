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
		sameWhenSkipping(t, i, p, recs, "2023-06-15", "2025-09-30")
	}
}

// sameWhenSkipping replays history i every day and only on the days NextChange names,
// fails the test when their rows or payments differ, and returns the daily run.
func sameWhenSkipping(t *testing.T, i int, p *sc.Recipient, recs []rec, from, to string) *run {
	t.Helper()
	a := newRun(t, nil, p, recs...).replay(from, to)
	p2 := *p
	p2.Entitlements = slices.Clone(p.Entitlements)
	b := newRun(t, nil, &p2, recs...).replaySkipping(from, to)
	if fmt.Sprint(a.rows, a.pays, a.withold) != fmt.Sprint(b.rows, b.pays, b.withold) {
		t.Fatalf("history %d differs:\ndaily:\n%s\nskipping:\n%s", i, strings.Join(a.rows, "\n"), strings.Join(b.rows, "\n"))
	}
	return a
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

// disputeHistory makes a history around a disputed death: a STRONG record, a death dated
// before it (a CONFLICT) or a STRONG record after an accepted death, prison admissions and
// releases before, during and after the dispute, late ones among them, and a review.
func disputeHistory(rng *rand.Rand) (*sc.Recipient, []rec) {
	base := sc.MustDate("2024-01-01")
	p := person(ent("EMP_PENSION", int64(1000+rng.IntN(4000)), "2015-01"))
	p.LastCertified = base - sc.Date(rng.IntN(400))
	day := func(from, span int) sc.Date { return base + sc.Date(from+rng.IntN(span)) }
	late := func(ev sc.Date) sc.Date { return ev + sc.Date(1+rng.IntN(3)*rng.IntN(120)) }
	strong := day(0, 60)
	death := strong - sc.Date(1+rng.IntN(40))
	recs := []rec{{typ: "HEA.CHECKUP", event: strong.String(), reported: (strong + 1).String(), target: -1}}
	deathRec := rec{typ: "PSB.DEATH_DEREG", event: death.String(), reported: (strong + sc.Date(2+rng.IntN(20))).String(), target: -1}
	if rng.IntN(3) == 0 { // the other way round: a death accepted, then seen alive
		deathRec.reported = (death + 1).String()
		recs[0].reported = (strong + sc.Date(30+rng.IntN(30))).String()
	}
	recs = append(recs, deathRec)
	for range rng.IntN(5) {
		typ := "JUS.PRISON_IN"
		if rng.IntN(2) == 0 {
			typ = "JUS.PRISON_OUT"
		}
		ev := day(-60, 400)
		recs = append(recs, rec{typ: typ, event: ev.String(), reported: late(ev).String(), target: -1})
	}
	review := day(60, 300)
	recs = append(recs, rec{typ: "HRSS.REVIEW", event: review.String(), reported: review.String(), accept: Resolution(1 + rng.IntN(2)), target: 1})
	if rng.IntN(2) == 0 {
		ev := review + sc.Date(rng.IntN(200))
		recs = append(recs, rec{typ: "HEA.CHECKUP", event: ev.String(), reported: (ev + 1).String(), target: -1})
	}
	slices.SortStableFunc(recs, func(a, b rec) int { return strings.Compare(a.reported+a.event, b.reported+b.event) })
	for i := range recs { // the review names the death record wherever sorting put it
		if recs[i].typ == "HRSS.REVIEW" {
			recs[i].target = slices.IndexFunc(recs, func(r rec) bool { return r.typ == "PSB.DEATH_DEREG" })
		}
	}
	return p, recs
}

// TestDisputeMoneyProperties: around disputed deaths, prison terms and late records, no
// month is paid twice, the months still held are none that was paid, nor a suspension's
// while the person is paid, nor back pay held for a death that no longer stands before
// it, and evaluating only when the clock may change gives the daily evaluation's rows and
// payments.
func TestDisputeMoneyProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 13))
	for i := range 3000 {
		p, recs := disputeHistory(rng)
		a := sameWhenSkipping(t, i, p, recs, "2024-01-01", "2025-12-31")
		paid := map[string]bool{}
		for _, x := range a.pays {
			f := strings.Fields(x) // month benefit amount kind
			k := f[0] + " " + f[1]
			if paid[k] {
				t.Fatalf("history %d: %s paid twice:\n%s\n%v", i, k, strings.Join(a.rows, "\n"), a.pays)
			}
			paid[k] = true
		}
		if a.st.Rare != nil {
			for _, h := range a.st.Rare.Held {
				if paid[h.Month.String()+" "+p.Entitlements[h.Ent].Benefit] {
					t.Fatalf("history %d: %s held and paid", i, h.Month)
				}
				// A suspension's month waits for a resumption; a paid person has had it.
				if h.Reason == sc.StatusSuspended && a.st.Status.Payable() {
					t.Fatalf("history %d: %s held for a suspension while the person is %s:\n%s", i, h.Month, a.st.Status, strings.Join(a.rows, "\n"))
				}
				// Back pay a death keeps from being paid waits only behind a death dated
				// before its month (one a review has not voided).
				if h.Reason == sc.StatusTerminated && (a.st.DeathDate == sc.NoDate || h.Month <= a.st.DeathDate.Month()) {
					t.Fatalf("history %d: %s held for a death, the death date %s:\n%s", i, h.Month, a.st.DeathDate, strings.Join(a.rows, "\n"))
				}
			}
		}
	}
}
