package engine

import (
	"testing"

	sc "github.com/silentcert/silentcert"
)

type discard struct{}

func (discard) Decide(Decision)      {}
func (discard) Pay(Payment)          {}
func (discard) Withhold(Withholding) {}
func (discard) Count(Counter)        {}

// BenchmarkApply measures one record applied and the day evaluated, for a mix of strong,
// weak and spoofable records over two years: the engine's share of a backtest.
func BenchmarkApply(b *testing.B) {
	cfg := sc.DefaultConfig()
	e := New(cfg)
	p := person(ent("EMP_PENSION", 3000, "2015-01"), ent("ELDERLY_ALLOWANCE", 100, "2020-01"))
	p.LastCertified = sc.MustDate("2023-06-30")
	types := []string{"TEL.ACTIVITY", "BANK.TXN", "MED.OUTPATIENT", "TRN.TRANSIT", "HEA.CHECKUP", "MED.CHRONIC", "UTIL.PAYMENT"}
	ids := make([]sc.TypeID, len(types))
	for i, t := range types {
		ids[i], _ = cfg.Catalogue.Lookup(t)
	}
	start := sc.MustDate("2024-01-01")
	var out discard
	b.ReportAllocs()
	st := e.Enrol(p)
	for i := 0; b.Loop(); i++ {
		day := start + sc.Date(i%730)
		if i%730 == 0 {
			st = e.Enrol(p)
		}
		in := Input{Type: ids[i%len(ids)], Event: day - 2, Ref: Ref(i), Target: NoRef}
		e.Apply(p, &st, &in, day, out)
		e.Evaluate(p, &st, day, out)
		if day.Day() == 1 {
			e.Payroll(p, &st, day.Month(), out)
		}
	}
}
