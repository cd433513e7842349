package engine

import (
	"fmt"
	"testing"

	sc "github.com/silentcert/silentcert"
)

// TestOverpaymentsOutsideEntitlement: EMP_PENSION (1,000.00 a month, an offset capacity
// of 5,000.00) is paid for February through May; then the roster moves its end_month or
// its start_month over months paid (a running service's import; backtest's roster is
// fixed). The months paid that it no longer covers are overpaid with no offset, as a late
// LOSS's (spec §6), at what was paid when paid knows it; a month after an accepted death
// counts as the death's, with its offset.
func TestOverpaymentsOutsideEntitlement(t *testing.T) {
	e := ent("EMP_PENSION", 1000, "2000-01")
	e.Capacity, e.CapacityKnown = 500000, true
	moved := func(r *sc.Recipient, start, end string, yuan int64) *sc.Recipient {
		c := *r
		c.Entitlements = []sc.Entitlement{c.Entitlements[0]}
		x := &c.Entitlements[0]
		x.Start, x.Monthly = mustMonth(start), sc.Fen(yuan*100)
		if end != "" {
			x.End = mustMonth(end)
		}
		return &c
	}
	paidThen := func(int, sc.Month) (sc.Fen, bool) { return 100000, true }
	show := func(os []Overpayment) string { return fmt.Sprintf("%+v", os) }

	alive := newRun(t, nil, lastCert(person(e), "2024-01-10")).replay("2024-02-01", "2024-05-31").
		wantPays("2024-02 EMP_PENSION 100000 REGULAR", "2024-03 EMP_PENSION 100000 REGULAR",
			"2024-04 EMP_PENSION 100000 REGULAR", "2024-05 EMP_PENSION 100000 REGULAR")
	if alive.st.Rare != nil {
		t.Fatalf("no death, no LOSS, nothing held: Rare %+v", alive.st.Rare)
	}
	if got := show(alive.eng.Overpayments(alive.person, &alive.st)); got != "[]" {
		t.Errorf("as enrolled: %s, want none", got)
	}
	for _, c := range []struct {
		r    *sc.Recipient
		paid func(int, sc.Month) (sc.Fen, bool)
		want string
	}{
		{moved(alive.person, "2000-01", "2024-03", 1000), nil, "[{Ent:0 Months:2 Amount:2000.00 Offset:0.00 ToRecover:2000.00}]"},
		{moved(alive.person, "2024-04", "", 1000), nil, "[{Ent:0 Months:2 Amount:2000.00 Offset:0.00 ToRecover:2000.00}]"},
		{moved(alive.person, "2024-03", "2024-04", 1100), nil, "[{Ent:0 Months:2 Amount:2200.00 Offset:0.00 ToRecover:2200.00}]"},
		{moved(alive.person, "2024-03", "2024-04", 1100), paidThen, "[{Ent:0 Months:2 Amount:2000.00 Offset:0.00 ToRecover:2000.00}]"},
		{moved(alive.person, "2024-02", "2024-05", 1000), nil, "[]"},
	} {
		if got := show(alive.eng.OverpaymentsPaid(c.r, &alive.st, c.paid)); got != c.want {
			t.Errorf("%v: %s, want %s", c.r.Entitlements[0], got, c.want)
		}
	}

	// Died on 03-15, reported on 05-20: April and May are the death's (offset); March,
	// moved out of the entitlement, is not.
	dead := newRun(t, nil, lastCert(person(e), "2024-01-10"), rec{typ: "PSB.DEATH_DEREG", event: "2024-03-15", reported: "2024-05-20", target: -1}).
		replay("2024-02-01", "2024-05-31")
	want := "[{Ent:0 Months:3 Amount:3000.00 Offset:2000.00 ToRecover:1000.00}]"
	if got := show(dead.eng.Overpayments(moved(dead.person, "2000-01", "2024-02", 1000), &dead.st)); got != want {
		t.Errorf("dead, end_month 2024-02: %s, want %s", got, want)
	}
}
