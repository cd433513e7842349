package engine

import (
	"slices"
	"strings"
	"testing"

	sc "github.com/silentcert/silentcert"
)

// TestInsertEnt: a person paid EMP_PENSION alone is suspended, so that months are
// withheld (Held) and, after a resumption, due as back pay (Due), both naming
// entitlement 0; then an ELDERLY_ALLOWANCE is added (a roster import), which sorts
// before it and takes index 0. The months withheld and due are still EMP_PENSION's,
// released as its back pay; the new entitlement is paid from the next payroll on, its
// months before never (no back pay is invented for them), and what EMP_PENSION was
// paid is untouched.
func TestInsertEnt(t *testing.T) {
	for _, tc := range []struct {
		name    string
		resume  string // the day the resuming record is reported
		insert  string // the day the entitlement is added
		wantDue bool   // the months are Due (not Held) when it is added
	}{
		{"held", "2025-03-12", "2025-03-05", false},
		{"due", "2025-03-12", "2025-03-20", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := ent("EMP_PENSION", 1000, "2000-01")
			e.Capacity, e.CapacityKnown = 0, true // P = 6
			p := lastCert(person(e), "2024-06-15")
			r := newRun(t, nil, p, rec{typ: "HEA.CHECKUP", event: "2025-03-10", reported: tc.resume, target: -1})
			r.st = r.eng.Enrol(p)
			added := false
			for d := sc.MustDate("2025-01-01"); d <= sc.MustDate("2025-05-31"); d++ {
				if d == sc.MustDate(tc.insert) {
					if due := r.st.Rare != nil && len(r.st.Rare.Due) > 0; due != tc.wantDue {
						t.Fatalf("on %s: due %v, want %v (%+v)", d, due, tc.wantDue, r.st.Rare)
					}
					paid := slices.Clone(r.st.Ents[0].Regular)
					p.Entitlements = slices.Insert(p.Entitlements, 0, ent("ELDERLY_ALLOWANCE", 100, "2024-01"))
					r.st.InsertEnt(0)
					if len(r.st.Ents) != 2 || r.st.Ents[0].Regular != nil || !slices.Equal(r.st.Ents[1].Regular, paid) {
						t.Fatalf("ents after the insertion: %+v", r.st.Ents)
					}
					added = true
				}
				if d == sc.MustDate(tc.resume) {
					in := r.input(0)
					r.eng.Apply(p, &r.st, &in, d, r)
				}
				r.eng.Evaluate(p, &r.st, d, r)
				if d.Day() == 1 {
					r.eng.Payroll(p, &r.st, d.Month(), r)
				}
			}
			if !added {
				t.Fatal("never inserted")
			}
			r.wantPays(
				"2025-01 EMP_PENSION 100000 REGULAR",
				"2025-04 ELDERLY_ALLOWANCE 10000 REGULAR",
				"2025-04 EMP_PENSION 100000 REGULAR",
				"2025-02 EMP_PENSION 100000 BACK_PAY",
				"2025-03 EMP_PENSION 100000 BACK_PAY",
				"2025-05 ELDERLY_ALLOWANCE 10000 REGULAR",
				"2025-05 EMP_PENSION 100000 REGULAR",
			)
			if got := strings.Join(r.withold, "\n"); got == "" {
				t.Error("nothing withheld: the test suspends no one")
			}
		})
	}
}
