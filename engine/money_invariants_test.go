package engine

// Money invariants over random histories that the fund's reconciliation relies on (a
// finance review, session 19).

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	sc "github.com/silentcert/silentcert"
)

// moneySink records every event with the state as it was when it came.
type moneySink struct {
	r        *run
	withheld map[[2]int]bool // (ent, month) withheld at some payroll
	// unpaidDead holds (ent, month) whose payroll ran while the person was TERMINATED,
	// when back_pay_voided_death makes them back pay if a review voids the death.
	unpaidDead map[[2]int]bool
	voided     int // months back-paid that only a voided death had kept unpaid
	paid       map[[2]int]sc.PaymentKind
	fail       func(format string, args ...any)
	backRows   int // sum of back_pay_months over RESUMED and RESTORED rows
	backPaid   map[sc.Month]bool
}

func (m *moneySink) Decide(d Decision) {
	if (d.Action == sc.ActResumed || d.Action == sc.ActRestored) && d.BackPay > 0 {
		m.backRows += d.BackPay
	}
	m.r.Decide(d)
}
func (m *moneySink) Pay(p Payment) {
	k := [2]int{p.Ent, int(p.Month)}
	if k0, ok := m.paid[k]; ok {
		m.fail("month %s ent %d paid twice (%s then %s)", p.Month, p.Ent, k0, p.Kind)
	}
	m.paid[k] = p.Kind
	if !m.r.person.Entitlements[p.Ent].Active(p.Month) {
		m.fail("month %s paid outside entitlement %d's window", p.Month, p.Ent)
	}
	if p.Kind == sc.PayBack {
		m.backPaid[p.Month] = true
		if !m.withheld[k] && m.unpaidDead[k] {
			m.voided++
		}
		if !m.withheld[k] && !m.unpaidDead[k] {
			m.fail("back pay for %s ent %d, a month never withheld", p.Month, p.Ent)
		}
	}
	st := &m.r.st
	if st.DeathDate != sc.NoDate && st.conflict() == nil && p.Month > st.DeathDate.Month() {
		m.fail("%s %s paid for a month after a known death (%s)", p.Kind, p.Month, st.DeathDate)
	}
	m.r.Pay(p)
}
func (m *moneySink) Withhold(w Withholding) {
	m.withheld[[2]int{w.Ent, int(w.Month)}] = true
	m.r.Withhold(w)
}
func (m *moneySink) Count(c Counter) { m.r.Count(c) }

func moneyHistory(rng *rand.Rand) (*sc.Recipient, []rec) {
	p, recs := randomHistory(rng)
	// Entitlements with different windows, as the roster has them.
	if rng.IntN(2) == 0 {
		e := ent("SURVIVOR", int64(300+rng.IntN(900)), sc.MustDate("2023-01-01").AddMonths(rng.IntN(24)).Month().String())
		if rng.IntN(2) == 0 {
			e.End = e.Start + sc.Month(rng.IntN(18))
		}
		if rng.IntN(2) == 0 {
			e.Capacity, e.CapacityKnown = sc.Fen(rng.IntN(3000000)), true
		}
		p.Entitlements = append(p.Entitlements, e)
	}
	return p, recs
}

// TestMoneyInvariants: over random histories (several entitlements with their own
// windows, deaths, prison terms, suspensions, disputes): no month of an entitlement is
// paid twice; nothing is paid outside the entitlement's window; back pay is only for a
// month withheld before; nothing is paid for a month after a death known when it is paid;
// offsets never exceed the capacity nor the months after the death; the overpaid months
// are months paid; and, for a person never dead nor in LOSS, the back_pay_months the
// RESUMED rows announce are the distinct months back-paid. The same with
// back_pay_voided_death on, where a month whose payroll ran while the person was recorded
// dead may be back pay too.
func TestMoneyInvariants(t *testing.T) {
	t.Run("spec", func(t *testing.T) { moneyInvariants(t, nil) })
	t.Run("back_pay_voided_death", func(t *testing.T) { moneyInvariants(t, voidedCfg()) })
}

func moneyInvariants(t *testing.T, cfg *sc.Config) {
	rng := rand.New(rand.NewPCG(2025, 6))
	from, to := sc.MustDate("2023-03-01"), sc.MustDate("2025-12-31")
	failures, voided := 0, 0
	for i := 0; i < 4000 && failures < 5; i++ {
		p, recs := moneyHistory(rng)
		r := newRun(t, cfg, p, recs...)
		m := &moneySink{r: r, withheld: map[[2]int]bool{}, unpaidDead: map[[2]int]bool{}, paid: map[[2]int]sc.PaymentKind{}, backPaid: map[sc.Month]bool{}}
		var msgs []string
		m.fail = func(format string, args ...any) {
			msgs = append(msgs, sprintf(format, args...))
		}
		r.st = r.eng.Enrol(p)
		for k, x := range recs {
			if d := sc.MustDate(x.reported); d < from {
				in := r.input(k)
				r.eng.Apply(p, &r.st, &in, d, quietSink{})
			}
		}
		for d := from; d <= to; d++ {
			for k, x := range recs {
				if sc.MustDate(x.reported) == d {
					in := r.input(k)
					r.eng.Apply(p, &r.st, &in, d, m)
				}
			}
			r.eng.Evaluate(p, &r.st, d, m)
			if d == from {
				r.eng.Baseline(p, &r.st, d, m)
			}
			if d.Day() == 1 {
				if cfg != nil && cfg.Policy.BackPayVoidedDeath && r.st.Status == sc.StatusTerminated {
					for e := range p.Entitlements {
						m.unpaidDead[[2]int{e, int(d.Month())}] = true
					}
				}
				r.eng.Payroll(p, &r.st, d.Month(), m)
			}
		}
		capacity, _ := p.Capacity()
		var offsets sc.Fen
		for _, o := range r.eng.Overpayments(p, &r.st) {
			offsets += o.Offset
			if o.Offset > o.Amount || o.ToRecover != o.Amount-o.Offset || o.ToRecover < 0 {
				m.fail("overpayment %+v", o)
			}
			n := 0
			for k := range m.paid {
				if k[0] == o.Ent {
					n++
				}
			}
			if o.Months > n {
				m.fail("overpayment of %d months, %d paid", o.Months, n)
			}
		}
		if offsets > capacity {
			m.fail("offsets %s above capacity %s", offsets, capacity)
		}
		clean := r.st.Rare == nil || (len(r.st.Rare.Deaths) == 0 && len(r.st.Rare.Losses) == 0 && len(r.st.Rare.AfterDeath) == 0 && len(r.st.Rare.Due) == 0)
		if clean && m.backRows != len(m.backPaid) {
			m.fail("RESUMED rows announce %d back-pay months, %d distinct months were back-paid", m.backRows, len(m.backPaid))
		}
		voided += m.voided
		if len(msgs) > 0 {
			failures++
			t.Errorf("history %d: %s\nentitlements %+v\nrows:\n  %s\npays:\n  %s\nwithheld:\n  %s", i, strings.Join(msgs, "; "), p.Entitlements,
				strings.Join(r.rows, "\n  "), strings.Join(r.pays, "\n  "), strings.Join(r.withold, "\n  "))
		}
	}
	if on := cfg != nil && cfg.Policy.BackPayVoidedDeath; on != (voided > 0) {
		t.Errorf("%d months back-paid that only a voided death kept unpaid (back_pay_voided_death %v)", voided, on)
	}
}

type quietSink struct{}

func (quietSink) Decide(Decision)      {}
func (quietSink) Pay(Payment)          {}
func (quietSink) Withhold(Withholding) {}
func (quietSink) Count(Counter)        {}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
