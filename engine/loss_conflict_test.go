package engine

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	sc "github.com/silentcert/silentcert"
)

// TestLossDuringConflictStands: a prison admission reported while a death is disputed
// stands once the review finds the person alive: LOSS, and the months held for the
// dispute that the LOSS covers are not paid (before, the admission was thrown away and the
// prisoner paid, back pay and all).
func TestLossDuringConflictStands(t *testing.T) {
	p := lastCert(person(ent("EMP_PENSION", 3000, "2015-01")), "2024-01-10")
	newRun(t, nil, p,
		rec{typ: "MOHRSS.DEATH", event: "2024-02-05", reported: "2024-02-10"},
		rec{typ: "MED.INPATIENT", event: "2024-03-10", reported: "2024-03-12"},
		rec{typ: "JUS.PRISON_IN", event: "2024-03-20", reported: "2024-03-25"},
		rec{typ: "HRSS.REVIEW", event: "2024-05-10", reported: "2024-05-10", accept: ResolveAlive, target: 0},
	).replay("2024-02-01", "2024-08-31").
		wantRows(
			"2024-02-10 TERMINATED  r0 death_date=2024-02-05",
			"2024-03-12 CONFLICT  r1 other=r0",
			"2024-05-10 CERTIFIED STRONG r1 until=2025-03-10;certified_on=2024-03-10",
			"2024-05-10 LOSS  r3",
		).
		wantPays("2024-02 EMP_PENSION 300000 REGULAR").
		wantStatus(sc.StatusLoss, "2025-03-10")
}

// TestRestoreDuringConflictStands: a release reported while a death is disputed stands:
// the person found alive is paid again, with the month held for the dispute (before, the
// release was thrown away and the person stayed in LOSS, never paid again).
func TestRestoreDuringConflictStands(t *testing.T) {
	p := lastCert(person(ent("EMP_PENSION", 3000, "2015-01")), "2024-01-10")
	newRun(t, nil, p,
		rec{typ: "JUS.PRISON_IN", event: "2024-02-10", reported: "2024-02-12"},
		rec{typ: "MOHRSS.DEATH", event: "2024-02-20", reported: "2024-02-25"},
		rec{typ: "MED.INPATIENT", event: "2024-03-05", reported: "2024-03-08"},
		rec{typ: "JUS.PRISON_OUT", event: "2024-03-20", reported: "2024-03-22"},
		rec{typ: "HRSS.REVIEW", event: "2024-04-10", reported: "2024-04-10", accept: ResolveAlive, target: 1},
	).replay("2024-02-01", "2024-06-30").
		wantRows(
			"2024-02-12 LOSS  r0",
			"2024-02-25 TERMINATED  r1 death_date=2024-02-20",
			"2024-03-08 CONFLICT  r2 other=r1",
			"2024-04-10 CERTIFIED STRONG r2 until=2025-03-05;certified_on=2024-03-05",
			"2024-04-10 RESUMED  r4 back_pay_months=1",
		).
		wantPays(
			"2024-02 EMP_PENSION 300000 REGULAR",
			"2024-05 EMP_PENSION 300000 REGULAR",
			"2024-04 EMP_PENSION 300000 BACK_PAY",
			"2024-06 EMP_PENSION 300000 REGULAR",
		).
		wantStatus(sc.StatusCertified, "2025-03-05")
}

// TestSuspendedMonthsPaidAtRestore: months a suspension withheld before a LOSS are paid,
// and counted, when the RESTORE makes the person payable again (the person certified
// meanwhile), not at some later, unrelated resumption.
func TestSuspendedMonthsPaidAtRestore(t *testing.T) {
	p := lastCert(person(ent("EMP_PENSION", 3000, "2015-01")), "2022-12-01")
	newRun(t, nil, p,
		rec{typ: "JUS.PRISON_IN", event: "2024-04-10", reported: "2024-04-12"},
		rec{typ: "HEA.CHECKUP", event: "2024-05-05", reported: "2024-05-06"},
		rec{typ: "JUS.PRISON_OUT", event: "2024-06-10", reported: "2024-06-11"},
	).replay("2024-01-01", "2024-07-31").
		wantRows(
			"2024-01-01 PENDING",
			"2024-01-02 SUSPENDED",
			"2024-04-12 LOSS  r0",
			"2024-05-06 CERTIFIED STRONG r1 until=2025-05-05;certified_on=2024-05-05",
			"2024-06-11 RESTORED  r2 back_pay_months=3",
		).
		wantPays(
			"2024-01 EMP_PENSION 300000 REGULAR",
			"2024-07 EMP_PENSION 300000 REGULAR",
			"2024-02 EMP_PENSION 300000 BACK_PAY",
			"2024-03 EMP_PENSION 300000 BACK_PAY",
			"2024-04 EMP_PENSION 300000 BACK_PAY",
		).
		wantStatus(sc.StatusCertified, "2025-05-05")
}

// TestConflictEndsSuspended: the review finds alive a person whose period ran out during
// the dispute (SUSPENDED): the months held for the dispute wait for the resumption, which
// pays them with the suspension's own and counts them all (it counted the suspension's
// alone, two of fifteen).
func TestConflictEndsSuspended(t *testing.T) {
	p := lastCert(person(ent("EMP_PENSION", 3000, "2015-01")), "2023-06-01")
	r := newRun(t, nil, p,
		rec{typ: "HEA.CHECKUP", event: "2024-01-15", reported: "2024-01-16"},
		rec{typ: "MOHRSS.DEATH", event: "2024-01-10", reported: "2024-02-20"},
		rec{typ: "HRSS.REVIEW", event: "2025-03-10", reported: "2025-03-10", accept: ResolveAlive, target: 1},
		rec{typ: "HEA.CHECKUP", event: "2025-05-10", reported: "2025-05-10"},
	).replay("2024-01-01", "2025-06-30").
		wantRows(
			"2024-01-16 CERTIFIED STRONG r0 until=2025-01-15;certified_on=2024-01-15",
			"2024-02-20 CONFLICT  r1 other=r0",
			"2025-03-10 SUSPENDED  r2",
			"2025-05-10 CERTIFIED STRONG r3 until=2026-05-10;certified_on=2025-05-10",
			"2025-05-10 RESUMED  r3 back_pay_months=15",
		).
		wantStatus(sc.StatusCertified, "2026-05-10")
	back := 0
	for _, x := range r.pays {
		if len(x) > 0 && x[len(x)-8:] == "BACK_PAY" {
			back++
		}
	}
	if back != 15 {
		t.Errorf("%d months back-paid, want 15 (2024-03 to 2025-05): %v", back, r.pays)
	}
}

// TestLateRestoreAfterConflict: a release reported late, dated before months a dispute and
// then a LOSS held, pays them as it would have without the dispute (they stayed held as a
// suspension's, which no resumption of the already paid person would ever pay): the same
// months are paid, some as back pay instead of on time.
func TestLateRestoreAfterConflict(t *testing.T) {
	var pays [2][]string
	for i, withConflict := range []bool{false, true} {
		p := lastCert(person(ent("EMP_PENSION", 3000, "2015-01")), "2024-01-10")
		recs := []rec{{typ: "HEA.CHECKUP", event: "2024-02-15", reported: "2024-02-16", target: -1}}
		if withConflict {
			recs = append(recs, rec{typ: "MOHRSS.DEATH", event: "2024-02-10", reported: "2024-02-20", target: -1})
		}
		recs = append(recs,
			rec{typ: "JUS.PRISON_IN", event: "2024-03-05", reported: "2024-03-06", target: -1},
			rec{typ: "JUS.PRISON_OUT", event: "2024-05-10", reported: "2024-05-12", target: -1})
		if withConflict {
			recs = append(recs, rec{typ: "HRSS.REVIEW", event: "2024-06-10", reported: "2024-06-10", accept: ResolveAlive, target: 1})
		}
		recs = append(recs, rec{typ: "JUS.PRISON_OUT", event: "2024-03-20", reported: "2024-07-05", target: -1})
		r := newRun(t, nil, p, recs...).replay("2024-02-01", "2024-12-31")
		for _, x := range r.pays {
			pays[i] = append(pays[i], x[:7]) // the month paid for
		}
		slices.Sort(pays[i])
		if r.st.Rare != nil && len(r.st.Rare.Held) > 0 {
			t.Errorf("conflict %v: months still held %+v", withConflict, r.st.Rare.Held)
		}
	}
	if strings.Join(pays[0], ";") != strings.Join(pays[1], ";") || len(pays[0]) != 11 {
		t.Errorf("months paid without the dispute %v, with it %v: want February to December both times", pays[0], pays[1])
	}
}

// TestDeathAcceptedDropsDisputedLosses: a LOSS reported during the dispute is dropped when
// the review accepts the death, as it is when it comes after (the overpayment does not
// depend on the order); while the dispute is open, it owes nothing.
func TestDeathAcceptedDropsDisputedLosses(t *testing.T) {
	var ops [2]string
	for i, during := range []bool{true, false} {
		p := lastCert(person(ent("EMP_PENSION", 3000, "2015-01")), "2024-01-10")
		loss := rec{typ: "JUS.PRISON_IN", event: "2024-01-20", reported: "2024-03-10", target: -1}
		review := rec{typ: "HRSS.REVIEW", event: "2024-04-10", reported: "2024-04-10", accept: ResolveDeath, target: 1}
		if !during {
			loss.reported = "2024-04-11"
		}
		r := newRun(t, nil, p,
			rec{typ: "HEA.CHECKUP", event: "2024-02-15", reported: "2024-02-16", target: -1},
			rec{typ: "MOHRSS.DEATH", event: "2024-02-10", reported: "2024-02-20", target: -1},
			loss, review,
		).replay("2024-01-01", "2024-05-31")
		ops[i] = fmt.Sprintf("%+v", r.eng.Overpayments(p, &r.st))
	}
	if ops[0] != ops[1] {
		t.Errorf("overpayments with the LOSS reported during the dispute %s, after it %s", ops[0], ops[1])
	}
	p := lastCert(person(ent("EMP_PENSION", 3000, "2015-01")), "2024-01-10")
	r := newRun(t, nil, p,
		rec{typ: "HEA.CHECKUP", event: "2024-02-15", reported: "2024-02-16", target: -1},
		rec{typ: "MOHRSS.DEATH", event: "2024-02-10", reported: "2024-02-20", target: -1},
		rec{typ: "JUS.PRISON_IN", event: "2024-01-20", reported: "2024-03-10", target: -1},
	).replay("2024-01-01", "2024-05-31").wantStatus(sc.StatusConflict, "2025-02-15")
	if ops := r.eng.Overpayments(p, &r.st); len(ops) != 0 {
		t.Errorf("a person in CONFLICT owes %+v", ops)
	}
}

// heldMonths lists what the run still holds, "MONTH:REASON".
func heldMonths(r *run) []string {
	var out []string
	if r.st.Rare != nil {
		for _, h := range r.st.Rare.Held {
			out = append(out, h.Month.String()+":"+h.Reason.String())
		}
	}
	return out
}

// TestLateRestoreForPaidPerson: a suspended person goes to prison, certifies there, is
// released; a RESTORE dated earlier comes late. Of the months it shows were not the
// LOSS's, April and May were the suspension's and the person has certified since, June
// the clock's to pay: back pay now, all three, with a RESTORED row saying so (April and
// May stayed held for ever while the person was paid).
func TestLateRestoreForPaidPerson(t *testing.T) {
	p := lastCert(person(ent("EMP_PENSION", 3000, "2015-01")), "2022-12-01")
	r := newRun(t, nil, p,
		rec{typ: "JUS.PRISON_IN", event: "2024-03-05", reported: "2024-03-06", target: -1},
		rec{typ: "HEA.CHECKUP", event: "2024-05-05", reported: "2024-05-06", target: -1},
		rec{typ: "JUS.PRISON_OUT", event: "2024-06-10", reported: "2024-06-11", target: -1},
		rec{typ: "JUS.PRISON_OUT", event: "2024-03-20", reported: "2024-08-05", target: -1},
	).replay("2024-01-01", "2024-12-31")
	if last := r.rows[len(r.rows)-1]; last != "2024-08-05 RESTORED  r3 back_pay_months=3" {
		t.Errorf("the late RESTORE's row: %q\n%s", last, strings.Join(r.rows, "\n"))
	}
	if h := heldMonths(r); len(h) != 0 {
		t.Errorf("still held: %v", h)
	}
}

// TestAliveButLaterDeathStands: the review voids the disputed death but a later death
// record stands: the LOSS that came during the dispute stands as one reported before the
// first death would have, up to the later death's month (before, it was dropped as after
// any death, and the prisoner's estate was paid the months held for the dispute). The
// months paid before that the LOSS covers are overpaid, as for a late LOSS.
func TestAliveButLaterDeathStands(t *testing.T) {
	var got [2]string
	for i, reported := range []string{"2024-02-18", "2024-03-10"} { // before the death, during the dispute
		p := lastCert(person(ent("EMP_PENSION", 3000, "2015-01")), "2024-01-10")
		r := newRun(t, nil, p,
			rec{typ: "HEA.CHECKUP", event: "2024-02-15", reported: "2024-02-16", target: -1},
			rec{typ: "MOHRSS.DEATH", event: "2024-02-10", reported: "2024-02-20", target: -1},
			rec{typ: "PSB.DEATH_DEREG", event: "2024-04-20", reported: "2024-04-25", target: -1},
			rec{typ: "JUS.PRISON_IN", event: "2024-01-20", reported: reported, target: -1},
			rec{typ: "HRSS.REVIEW", event: "2024-05-10", reported: "2024-05-10", accept: ResolveAlive, target: 1},
		).replay("2024-01-01", "2024-08-31").
			wantPays("2024-01 EMP_PENSION 300000 REGULAR", "2024-02 EMP_PENSION 300000 REGULAR")
		got[i] = fmt.Sprint(r.pays, r.eng.Overpayments(p, &r.st), r.counts[CountAfterDeath])
	}
	if got[0] != got[1] {
		t.Errorf("the LOSS before the death: %s\nduring the dispute: %s", got[0], got[1])
	}
}

// TestLossWhileTerminatedLimitsUntilLaterDeath: a prison admission reported while the
// person is TERMINATED, the death voided by a review while a later death stands: the
// admission stands up to the later death's month, so the months held for the dispute are
// not the estate's (before, it was put back to wait and May and June were paid as back
// pay to a prisoner's estate). The same money as when the admission came before the death.
func TestLossWhileTerminatedLimitsUntilLaterDeath(t *testing.T) {
	var got [2]string
	for i, reported := range []string{"2024-03-05", "2024-02-11"} { // after the death, before it
		p := lastCert(person(ent("EMP_PENSION", 1000, "2000-01")), "2024-01-05")
		r := newRun(t, nil, p,
			rec{typ: "PSB.DEATH_DEREG", event: "2024-02-10", reported: "2024-02-12", target: -1},
			rec{typ: "JUS.PRISON_IN", event: "2024-02-10", reported: reported, target: -1},
			rec{typ: "JUS.TRIAL", event: "2024-04-01", reported: "2024-04-02", target: -1},
			rec{typ: "HEA.DEATH_CERT", event: "2024-06-15", reported: "2024-06-20", target: -1},
			rec{typ: "HRSS.REVIEW", event: "2024-07-10", reported: "2024-07-10", accept: ResolveAlive, target: 0},
		).replay("2024-01-01", "2024-09-30").
			wantPays("2024-01 EMP_PENSION 100000 REGULAR", "2024-02 EMP_PENSION 100000 REGULAR").
			wantStatus(sc.StatusTerminated, "2025-01-05")
		got[i] = fmt.Sprint(r.pays, r.eng.Overpayments(p, &r.st))
	}
	if got[0] != got[1] {
		t.Errorf("the admission after the death: %s\nbefore it: %s", got[0], got[1])
	}
}

// TestLateRestoreOnClockDay: the same late RESTORE reported on the day the clock moves the
// person to WARNING: that row, then the RESTORED one with the months made due.
func TestLateRestoreOnClockDay(t *testing.T) {
	p := lastCert(person(ent("EMP_PENSION", 3000, "2015-01")), "2022-12-01")
	r := newRun(t, nil, p,
		rec{typ: "JUS.PRISON_IN", event: "2024-03-05", reported: "2024-03-06", target: -1},
		rec{typ: "HEA.CHECKUP", event: "2024-05-05", reported: "2024-05-06", target: -1},
		rec{typ: "JUS.PRISON_OUT", event: "2024-06-10", reported: "2024-06-11", target: -1},
		rec{typ: "JUS.PRISON_OUT", event: "2024-03-20", reported: "2025-03-05", target: -1},
	).replay("2024-01-01", "2025-04-30")
	if got := strings.Join(r.rows[len(r.rows)-2:], "\n"); got != "2025-03-05 WARNING  r3 until=2025-05-05\n2025-03-05 RESTORED  r3 back_pay_months=3" {
		t.Errorf("the late RESTORE's rows:\n%s", strings.Join(r.rows, "\n"))
	}
	if h := heldMonths(r); len(h) != 0 {
		t.Errorf("still held: %v", h)
	}
}

// TestLateRestoreWhileSuspended: a late RESTORE that makes months due while the person is
// suspended says so (RESTORED), and the later resumption does not count them again.
func TestLateRestoreWhileSuspended(t *testing.T) {
	p := lastCert(person(ent("EMP_PENSION", 3000, "2015-01")), "2023-09-01")
	r := newRun(t, nil, p,
		rec{typ: "JUS.PRISON_IN", event: "2024-03-05", reported: "2024-03-06", target: -1},
		rec{typ: "JUS.PRISON_OUT", event: "2024-11-10", reported: "2024-11-11", target: -1},
		rec{typ: "JUS.PRISON_OUT", event: "2024-03-20", reported: "2024-12-05", target: -1},
		rec{typ: "HEA.CHECKUP", event: "2025-01-05", reported: "2025-01-06", target: -1},
	).replay("2024-01-01", "2025-02-28")
	counted := 0
	for _, row := range r.rows {
		if i := strings.Index(row, "back_pay_months="); i >= 0 {
			var n int
			fmt.Sscan(row[i+len("back_pay_months="):], &n)
			counted += n
		}
	}
	back := 0
	for _, x := range r.pays {
		if strings.HasSuffix(x, "BACK_PAY") {
			back++
		}
	}
	if counted != back || back == 0 {
		t.Errorf("%d months back-paid, %d counted in rows:\n%s\n%s", back, counted, strings.Join(r.rows, "\n"), strings.Join(r.pays, "\n"))
	}
}

// TestConflictWhateverTheArrivalOrder: seen in person on 03-15, death records dated 04-01
// and 02-10. Whether the checkup arrives before the first death record (applied) or after
// it (dated before the death: it changes nothing then), the 02-10 record is dated before
// the checkup and opens a CONFLICT naming it (spec §6). Before, the second order forgot the
// checkup and accepted the 02-10 death silently.
func TestConflictWhateverTheArrivalOrder(t *testing.T) {
	p := lastCert(person(ent("EMP_PENSION", 1000, "2000-01")), "2024-12-01")
	for _, c := range []struct {
		name               string
		checkup, cremation string
		rows               []string
	}{
		{"checkup first", "2025-05-05", "2025-05-10", []string{
			"2025-05-05 CERTIFIED STRONG r0 until=2026-03-15;certified_on=2025-03-15",
			"2025-05-10 TERMINATED  r1 death_date=2025-04-01",
			"2025-05-20 CONFLICT  r2 other=r0",
		}},
		{"death first", "2025-05-10", "2025-05-05", []string{
			"2025-05-05 TERMINATED  r1 death_date=2025-04-01",
			"2025-05-20 CONFLICT  r2 other=r0",
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			newRun(t, nil, p,
				rec{typ: "HEA.CHECKUP", event: "2025-03-15", reported: c.checkup, target: -1},
				rec{typ: "CIV.CREMATION", event: "2025-04-01", reported: c.cremation, target: -1},
				rec{typ: "PSB.DEATH_DEREG", event: "2025-02-10", reported: "2025-05-20", target: -1},
			).replay("2025-05-01", "2025-06-30").wantRows(c.rows...)
		})
	}
	// The same for a checkup that arrives while a death is disputed, dated before it: once
	// the review accepts the death, a death record dated before the checkup conflicts, as
	// it does when the checkup arrives after the review.
	for _, checkup := range []string{"2025-05-12", "2025-05-16"} {
		t.Run("checkup reported "+checkup, func(t *testing.T) {
			newRun(t, nil, p,
				rec{typ: "CIV.CREMATION", event: "2025-04-01", reported: "2025-05-05", target: -1},
				rec{typ: "TRN.AIR", event: "2025-04-20", reported: "2025-05-10", target: -1},
				rec{typ: "HEA.CHECKUP", event: "2025-03-15", reported: checkup, target: -1},
				rec{typ: "HRSS.REVIEW", event: "2025-05-15", reported: "2025-05-15", accept: ResolveDeath, target: 0},
				rec{typ: "PSB.DEATH_DEREG", event: "2025-02-10", reported: "2025-05-20", target: -1},
			).replay("2025-05-01", "2025-06-30").wantRows(
				"2025-05-05 TERMINATED  r0 death_date=2025-04-01",
				"2025-05-10 CONFLICT  r1 other=r0",
				"2025-05-15 TERMINATED  r3 death_date=2025-04-01",
				"2025-05-20 CONFLICT  r4 other=r2",
			)
		})
	}
}

// TestLossWhileTerminatedStandsIfAlive: a prison admission reported while the person is
// TERMINATED changes nothing then, but once a review voids the death it stands, as it would
// have had it come before the death record: the prisoner is in LOSS and not paid (before,
// it was thrown away and the prisoner paid).
func TestLossWhileTerminatedStandsIfAlive(t *testing.T) {
	p := lastCert(person(ent("EMP_PENSION", 1000, "2000-01")), "2024-12-01")
	r := newRun(t, nil, p,
		rec{typ: "PSB.DEATH_DEREG", event: "2025-02-10", reported: "2025-02-12", target: -1},
		rec{typ: "JUS.PRISON_IN", event: "2025-03-01", reported: "2025-03-05", target: -1},
		rec{typ: "JUS.TRIAL", event: "2025-04-01", reported: "2025-04-03", target: -1},
		rec{typ: "HRSS.REVIEW", event: "2025-04-20", reported: "2025-04-20", accept: ResolveAlive, target: 0},
	).replay("2025-01-01", "2025-07-31").
		wantRows(
			"2025-02-12 TERMINATED  r0 death_date=2025-02-10",
			"2025-04-03 CONFLICT  r2 other=r0",
			"2025-04-20 CERTIFIED STRONG r2 until=2026-04-01;certified_on=2025-04-01",
			"2025-04-20 LOSS  r3",
		).
		wantPays("2025-01 EMP_PENSION 100000 REGULAR", "2025-02 EMP_PENSION 100000 REGULAR").
		wantStatus(sc.StatusLoss, "2026-04-01")
	if r.counts[CountAfterDeath] != 1 {
		t.Errorf("records_after_death %d, want 1 (the admission, when it came)", r.counts[CountAfterDeath])
	}
}

// TestRestoreWhileTerminatedStandsIfAlive: a release reported while the person is
// TERMINATED stands once a review voids the death: the person is paid again (before, they
// stayed in LOSS, never paid again).
func TestRestoreWhileTerminatedStandsIfAlive(t *testing.T) {
	p := lastCert(person(ent("EMP_PENSION", 1000, "2000-01")), "2024-12-01")
	newRun(t, nil, p,
		rec{typ: "JUS.PRISON_IN", event: "2025-01-20", reported: "2025-01-22", target: -1},
		rec{typ: "PSB.DEATH_DEREG", event: "2025-02-10", reported: "2025-02-12", target: -1},
		rec{typ: "JUS.PRISON_OUT", event: "2025-03-10", reported: "2025-03-12", target: -1},
		rec{typ: "HEA.CHECKUP", event: "2025-04-01", reported: "2025-04-03", target: -1},
		rec{typ: "HRSS.REVIEW", event: "2025-04-20", reported: "2025-04-20", accept: ResolveAlive, target: 1},
	).replay("2025-01-01", "2025-07-31").
		wantRows(
			"2025-01-22 LOSS  r0",
			"2025-02-12 TERMINATED  r1 death_date=2025-02-10",
			"2025-04-03 CONFLICT  r3 other=r1",
			"2025-04-20 CERTIFIED STRONG r3 until=2026-04-01;certified_on=2025-04-01",
			"2025-04-20 RESUMED  r4 back_pay_months=0",
		).
		// February: in prison; March and April: TERMINATED on their payroll, not held
		// (README, "Back pay").
		wantPays(
			"2025-01 EMP_PENSION 100000 REGULAR",
			"2025-05 EMP_PENSION 100000 REGULAR",
			"2025-06 EMP_PENSION 100000 REGULAR",
			"2025-07 EMP_PENSION 100000 REGULAR",
		).
		wantStatus(sc.StatusCertified, "2026-04-01")
}

// TestLossWhileTerminatedKeptThroughReviews: the admission waits through a review that
// accepts the death, and stands when a later one finds the person alive.
func TestLossWhileTerminatedKeptThroughReviews(t *testing.T) {
	p := lastCert(person(ent("EMP_PENSION", 1000, "2000-01")), "2024-12-01")
	newRun(t, nil, p,
		rec{typ: "PSB.DEATH_DEREG", event: "2025-02-10", reported: "2025-02-12", target: -1},
		rec{typ: "JUS.PRISON_IN", event: "2025-03-01", reported: "2025-03-05", target: -1},
		rec{typ: "JUS.TRIAL", event: "2025-04-01", reported: "2025-04-03", target: -1},
		rec{typ: "HRSS.REVIEW", event: "2025-04-20", reported: "2025-04-20", accept: ResolveDeath, target: 0},
		rec{typ: "JUS.TRIAL", event: "2025-05-10", reported: "2025-05-12", target: -1},
		rec{typ: "HRSS.REVIEW", event: "2025-05-20", reported: "2025-05-20", accept: ResolveAlive, target: 0},
	).replay("2025-01-01", "2025-07-31").
		wantRows(
			"2025-02-12 TERMINATED  r0 death_date=2025-02-10",
			"2025-04-03 CONFLICT  r2 other=r0",
			"2025-04-20 TERMINATED  r3 death_date=2025-02-10",
			"2025-05-12 CONFLICT  r4 other=r0",
			"2025-05-20 CERTIFIED STRONG r4 until=2026-05-10;certified_on=2025-05-10",
			"2025-05-20 LOSS  r5",
		).
		wantPays("2025-01 EMP_PENSION 100000 REGULAR", "2025-02 EMP_PENSION 100000 REGULAR").
		wantStatus(sc.StatusLoss, "2026-05-10")
}

// TestRestoreBeforeItsLoss: a prison's release (2024-04-25) reaches the platform before
// its admission (2024-03-15, reported late, on 2024-05-10). The release changes nothing
// when it comes (there is no LOSS to end: counted), but the admission, when it comes, is
// followed by it: April, paid while he was inside, is overpaid (a late LOSS's month), and
// he is paid from May on. Before, the release was dropped, and the admission put him in
// LOSS for good: never paid again.
func TestRestoreBeforeItsLoss(t *testing.T) {
	p := lastCert(person(ent("EMP_PENSION", 3000, "2015-01")), "2024-01-10")
	r := newRun(t, nil, p,
		rec{typ: "JUS.PRISON_OUT", event: "2024-04-25", reported: "2024-04-28"},
		rec{typ: "JUS.PRISON_IN", event: "2024-03-15", reported: "2024-05-10"},
	).replay("2024-02-01", "2024-08-31").
		wantRows().
		wantPays(
			"2024-02 EMP_PENSION 300000 REGULAR",
			"2024-03 EMP_PENSION 300000 REGULAR",
			"2024-04 EMP_PENSION 300000 REGULAR",
			"2024-05 EMP_PENSION 300000 REGULAR",
			"2024-06 EMP_PENSION 300000 REGULAR",
			"2024-07 EMP_PENSION 300000 REGULAR",
			"2024-08 EMP_PENSION 300000 REGULAR",
		).
		wantStatus(sc.StatusCertified, "2025-01-10")
	if r.counts[CountRestoreWithoutLoss] != 1 {
		t.Errorf("restore_without_loss %d, want 1", r.counts[CountRestoreWithoutLoss])
	}
	ov := r.eng.Overpayments(p, &r.st)
	if len(ov) != 1 || ov[0].Months != 1 || ov[0].Amount != 300000 {
		t.Errorf("overpayments %+v, want April's", ov)
	}
}

// TestRestoreKeptThroughAReview: a prison release (2024-03-20) reaches the platform while
// the person is recorded dead; a review finds them alive (the release waited behind the
// death: it stands now, and with no LOSS open it changes nothing and is counted); the
// admission (2024-03-01) comes later. The release, kept, follows it: paid from June's
// payroll on (a final review of session 20: dropped at the review, the release left the
// admission to hold the person in LOSS for good).
func TestRestoreKeptThroughAReview(t *testing.T) {
	p := lastCert(person(ent("EMP_PENSION", 3000, "2015-01")), "2024-01-10")
	r := newRun(t, nil, p,
		rec{typ: "MOHRSS.DEATH", event: "2024-02-05", reported: "2024-02-10", target: -1},
		rec{typ: "JUS.PRISON_OUT", event: "2024-03-20", reported: "2024-03-25", target: -1},
		rec{typ: "MED.INPATIENT", event: "2024-04-10", reported: "2024-04-12", target: -1},
		rec{typ: "HRSS.REVIEW", event: "2024-05-10", reported: "2024-05-10", accept: ResolveAlive, target: 0},
		rec{typ: "JUS.PRISON_IN", event: "2024-03-01", reported: "2024-06-10", target: -1},
	).replay("2024-02-01", "2024-08-31")
	if r.st.Status == sc.StatusLoss {
		t.Errorf("in LOSS for good: the release of 2024-03-20 follows the admission of 2024-03-01")
	}
	r.wantPays(
		"2024-02 EMP_PENSION 300000 REGULAR",
		"2024-06 EMP_PENSION 300000 REGULAR",
		"2024-05 EMP_PENSION 300000 BACK_PAY",
		"2024-07 EMP_PENSION 300000 REGULAR",
		"2024-08 EMP_PENSION 300000 REGULAR",
	)
}
