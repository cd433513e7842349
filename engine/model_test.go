package engine

import (
	"testing"

	sc "github.com/silentcert/silentcert"
)

// stubModel returns a fixed verdict for every record, to test what the engine does with one.
type stubModel struct{ v Verdict }

func (m stubModel) Observe(r *sc.Recipient, s *State, in *Input, class sc.Class, d sc.Date) Verdict {
	if s.Evidence == nil {
		s.Evidence = NewEvidence()
	}
	s.Evidence.Count[0]++
	return m.v
}

func TestModelHook(t *testing.T) {
	d := func(s string) sc.Date { x, _ := sc.ParseDate(s); return x }
	cases := []struct {
		name     string
		typ      string
		v        Verdict
		want     []string // decision rows
		evidence bool     // the model was consulted
	}{
		{"spoofable never certifies, whatever the model says", "BANK.TXN",
			Verdict{Certify: true, On: d("2024-03-01"), Ref: 0}, nil, true},
		{"non-spoofable certifies when the model says so, with its note", "TRN.TRANSIT",
			Verdict{Certify: true, On: d("2024-03-01"), Ref: 0, Note: "p_alive=0.990"},
			[]string{"2024-03-05 CERTIFIED WEAK r0 until=2025-03-01;certified_on=2024-03-01;p_alive=0.990"}, true},
		{"a certification dated after its record is moved back to the record", "TRN.TRANSIT",
			Verdict{Certify: true, On: d("2024-04-01"), Ref: 0},
			[]string{"2024-03-05 CERTIFIED WEAK r0 until=2025-03-01;certified_on=2024-03-01"}, true},
		{"the model may shorten the period", "TRN.TRANSIT",
			Verdict{Certify: true, On: d("2024-03-01"), Ref: 0, Period: 6},
			[]string{"2024-03-05 CERTIFIED WEAK r0 until=2024-09-01;certified_on=2024-03-01"}, true},
		{"no verdict, no row", "TRN.TRANSIT", Verdict{Ref: NoRef, RiskRef: NoRef}, nil, true},
		{"RISK row with score and reasons, status unchanged", "BANK.TXN",
			Verdict{Risk: true, Score: 0.87, RiskRef: NoRef, RiskNote: "reasons=gap"},
			[]string{"2024-03-05 RISK  r0 score=0.87;reasons=gap"}, true},
		{"a strong record is observed and applied as before", "HEA.CHECKUP", Verdict{Ref: NoRef, RiskRef: NoRef},
			[]string{"2024-03-05 CERTIFIED STRONG r0 until=2025-03-01;certified_on=2024-03-01"}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := person(ent("EMP_PENSION", 3000, "2020-01"))
			p.LastCertified = d("2023-06-01")
			r := newRun(t, nil, p, rec{typ: c.typ, event: "2024-03-01", reported: "2024-03-05", target: -1})
			r.eng = r.eng.WithModel(stubModel{c.v})
			r.st = r.eng.Enrol(p)
			in := r.input(0)
			r.eng.Apply(p, &r.st, &in, d("2024-03-05"), r)
			if len(r.rows) != len(c.want) {
				t.Fatalf("rows %q, want %q", r.rows, c.want)
			}
			for i := range c.want {
				if r.rows[i] != c.want[i] {
					t.Errorf("row %d: %q, want %q", i, r.rows[i], c.want[i])
				}
			}
			if (r.st.Evidence != nil) != c.evidence {
				t.Errorf("evidence %v", r.st.Evidence)
			}
			if r.st.Status != sc.StatusCertified {
				t.Errorf("status %s", r.st.Status)
			}
		})
	}
}

func TestModelNotConsultedAfterDeath(t *testing.T) {
	d := func(s string) sc.Date { x, _ := sc.ParseDate(s); return x }
	p := person(ent("EMP_PENSION", 3000, "2020-01"))
	r := newRun(t, nil, p, rec{typ: "PSB.DEATH_DEREG", event: "2024-03-01", reported: "2024-03-02", target: -1},
		rec{typ: "TRN.TRANSIT", event: "2024-03-10", reported: "2024-03-11", target: -1})
	r.eng = r.eng.WithModel(stubModel{Verdict{Certify: true, On: d("2024-03-10"), Ref: 1, Risk: true, Score: 1}})
	r.st = r.eng.Enrol(p)
	in := r.input(0)
	r.eng.Apply(p, &r.st, &in, d("2024-03-02"), r)
	ev := r.st.Evidence
	in = r.input(1)
	r.eng.Apply(p, &r.st, &in, d("2024-03-11"), r)
	if r.st.Evidence != ev || r.st.Status != sc.StatusTerminated {
		t.Fatalf("the model was consulted for a terminated person: %v %s", r.st.Evidence, r.st.Status)
	}
	for _, row := range r.rows {
		if row[:10] > "2024-03-02" {
			t.Errorf("row after death: %s", row)
		}
	}
}
