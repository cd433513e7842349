package engine

import (
	"strings"
	"testing"

	sc "github.com/silentcert/silentcert"
)

// TestBackPayReleasedWhenSuspendedAgain: a late record resumes a suspended person on 03-12
// for two months, and certifies them only through 02-20, so they are suspended again on
// 03-21. The two months were due (spec §6: paid "in the first payroll on or after the day
// of resumption"): the 04-01 payroll pays them though the person is suspended again
// (before, they waited for a resumption that may never come).
func TestBackPayReleasedWhenSuspendedAgain(t *testing.T) {
	e := ent("EMP_PENSION", 1000, "2000-01")
	e.Capacity, e.CapacityKnown = 0, true // P = 6
	p := lastCert(person(e), "2024-06-15")
	newRun(t, nil, p, rec{typ: "HEA.CHECKUP", event: "2024-08-20", reported: "2025-03-12", target: -1}).
		replay("2025-01-01", "2025-05-31").
		wantRows(
			"2025-01-01 PENDING",
			"2025-01-16 SUSPENDED",
			"2025-03-12 CERTIFIED STRONG r0 until=2025-02-20;certified_on=2024-08-20",
			"2025-03-12 RESUMED  r0 back_pay_months=2",
			"2025-03-21 SUSPENDED",
		).
		wantPays(
			"2025-01 EMP_PENSION 100000 REGULAR",
			"2025-02 EMP_PENSION 100000 BACK_PAY",
			"2025-03 EMP_PENSION 100000 BACK_PAY",
		).
		wantStatus(sc.StatusSuspended, "2025-02-20")
}

// TestBackPayReleasedInLossButNotForItsMonths: resumed with four months due, then a LOSS
// dated 02-10 reported before the payroll: the months the LOSS covers (03, 04) are not
// paid, those it does not (01, 02) are, at the first payroll after the resumption.
func TestBackPayReleasedInLossButNotForItsMonths(t *testing.T) {
	p := lastCert(person(ent("EMP_PENSION", 1000, "2000-01")), "2023-11-15")
	newRun(t, nil, p,
		rec{typ: "HEA.CHECKUP", event: "2024-12-01", reported: "2025-04-20", target: -1},
		rec{typ: "JUS.PRISON_IN", event: "2025-02-10", reported: "2025-04-25", target: -1},
	).replay("2025-01-01", "2025-05-31").
		wantRows(
			"2025-01-01 SUSPENDED",
			"2025-04-20 CERTIFIED STRONG r0 until=2025-12-01;certified_on=2024-12-01",
			"2025-04-20 RESUMED  r0 back_pay_months=4",
			"2025-04-25 LOSS  r1",
		).
		wantPays(
			"2025-01 EMP_PENSION 100000 BACK_PAY",
			"2025-02 EMP_PENSION 100000 BACK_PAY",
		).
		wantStatus(sc.StatusLoss, "2025-12-01")
}

// TestBackPayHeldInConflict: back pay due from a resumption waits while a death is
// disputed, and is paid at the first payroll after accept=alive.
func TestBackPayHeldInConflict(t *testing.T) {
	p := lastCert(person(ent("EMP_PENSION", 1000, "2000-01")), "2023-11-15")
	newRun(t, nil, p,
		rec{typ: "HEA.CHECKUP", event: "2025-03-10", reported: "2025-03-12", target: -1},
		rec{typ: "MOHRSS.DEATH", event: "2025-02-05", reported: "2025-03-20", target: -1},
		rec{typ: "HRSS.REVIEW", event: "2025-04-15", reported: "2025-04-15", accept: ResolveAlive, target: 1},
	).replay("2025-01-01", "2025-05-31").
		wantRows(
			"2025-01-01 SUSPENDED",
			"2025-03-12 CERTIFIED STRONG r0 until=2026-03-10;certified_on=2025-03-10",
			"2025-03-12 RESUMED  r0 back_pay_months=3",
			"2025-03-20 CONFLICT  r1 other=r0",
			"2025-04-15 RESUMED  r2 back_pay_months=1",
		).
		wantPays(
			"2025-05 EMP_PENSION 100000 REGULAR",
			"2025-01 EMP_PENSION 100000 BACK_PAY",
			"2025-02 EMP_PENSION 100000 BACK_PAY",
			"2025-03 EMP_PENSION 100000 BACK_PAY",
			"2025-04 EMP_PENSION 100000 BACK_PAY",
		).
		wantStatus(sc.StatusCertified, "2026-03-10")
}

// TestBackPayMonthCountedOnce: a month made due by a resumption (and counted in its
// back_pay_months), then put back for a LOSS reported before the payroll that would have
// paid it, is paid when a RESTORE shows it due after all, but not counted again: June is
// in RESUMED's 2, and RESTORED counts only July and August (before, 3, June twice).
func TestBackPayMonthCountedOnce(t *testing.T) {
	e := ent("EMP_PENSION", 1000, "2000-01")
	e.Capacity, e.CapacityKnown = 600000, true
	p := lastCert(person(e), "2023-09-10")
	newRun(t, nil, p,
		rec{typ: "HRSS.COUNTER", event: "2024-06-10", reported: "2024-06-10", target: -1},
		rec{typ: "JUS.PRISON_IN", event: "2024-05-15", reported: "2024-06-20", target: -1},
		rec{typ: "JUS.PRISON_OUT", event: "2024-05-20", reported: "2024-08-10", target: -1},
	).replay("2024-01-01", "2024-09-30").
		wantRows(
			"2024-01-10 WARNING   until=2024-03-10",
			"2024-03-11 PENDING",
			"2024-04-11 SUSPENDED",
			"2024-06-10 CERTIFIED COUNTER r0 until=2024-12-10;certified_on=2024-06-10",
			"2024-06-10 RESUMED  r0 back_pay_months=2",
			"2024-06-20 LOSS  r1",
			"2024-08-10 RESTORED  r2 back_pay_months=2",
		).
		wantPays(
			"2024-01 EMP_PENSION 100000 REGULAR",
			"2024-02 EMP_PENSION 100000 REGULAR",
			"2024-03 EMP_PENSION 100000 REGULAR",
			"2024-04 EMP_PENSION 100000 REGULAR",
			"2024-05 EMP_PENSION 100000 BACK_PAY",
			"2024-09 EMP_PENSION 100000 REGULAR",
			"2024-06 EMP_PENSION 100000 BACK_PAY",
			"2024-07 EMP_PENSION 100000 BACK_PAY",
			"2024-08 EMP_PENSION 100000 BACK_PAY",
		)
}

// voidedDeath is the history of the tests below (finance review, c84672c): 张三, certified
// last on 2023-06-01, is PENDING on 2024-07-01 (July is paid) and SUSPENDED from 07-02;
// a check-up of 05-06 reported on 10-20 resumes him with August, September and October
// due as back pay. A death dated 08-17 is applied on 10-25, so November's payroll pays
// August and not September and October, after the month of death. A STRONG record dated
// after the death (strong, reported on 12-10) puts him in CONFLICT, and a review of
// 2025-01-15 decides (review).
func voidedDeath(t *testing.T, strong string, review Resolution, more ...rec) *run {
	recs := []rec{
		{typ: "HEA.CHECKUP", event: "2024-05-06", reported: "2024-10-20", target: -1},
		{typ: "PSB.DEATH_DEREG", event: "2024-08-17", reported: "2024-10-25", target: -1},
		{typ: "HRSS.COUNTER", event: strong, reported: "2024-12-10", target: -1},
	}
	recs = append(recs, more...)
	recs = append(recs, rec{typ: "HRSS.REVIEW", event: "2025-01-15", reported: "2025-01-15", accept: review, target: 1})
	p := lastCert(person(ent("EMP_PENSION", 1000, "2000-01")), "2023-06-01")
	return newRun(t, nil, p, recs...).replay("2024-07-01", "2025-03-31")
}

// TestBackPayKeptForAVoidedDeath: the review finds 张三 alive (accept=alive voids the
// death): September and October, withheld by the suspension and made due by RESUMED, are
// paid as back pay at the first payroll after the review, with January, the month the
// CONFLICT held (before, a death later voided had dropped them for good). They are not
// counted again: RESUMED's 3 counted them. November and December, not paid while he was
// TERMINATED, were never withheld and are not back-paid (README: not held months).
func TestBackPayKeptForAVoidedDeath(t *testing.T) {
	r := voidedDeath(t, "2024-12-10", ResolveAlive).
		wantRows(
			"2024-07-01 PENDING",
			"2024-07-02 SUSPENDED",
			"2024-10-20 CERTIFIED STRONG r0 until=2025-05-06;certified_on=2024-05-06",
			"2024-10-20 RESUMED  r0 back_pay_months=3",
			"2024-10-25 TERMINATED  r1 death_date=2024-08-17",
			"2024-12-10 CONFLICT  r2 other=r1",
			"2025-01-15 CERTIFIED COUNTER r2 until=2025-12-10;certified_on=2024-12-10",
			"2025-01-15 RESUMED  r3 back_pay_months=1",
		).
		wantPays(
			"2024-07 EMP_PENSION 100000 REGULAR",
			"2024-08 EMP_PENSION 100000 BACK_PAY",
			"2025-02 EMP_PENSION 100000 REGULAR",
			"2024-09 EMP_PENSION 100000 BACK_PAY",
			"2024-10 EMP_PENSION 100000 BACK_PAY",
			"2025-01 EMP_PENSION 100000 BACK_PAY",
			"2025-03 EMP_PENSION 100000 REGULAR",
		).
		wantStatus(sc.StatusCertified, "2025-12-10")
	if h := heldMonths(r); len(h) != 0 {
		t.Errorf("still held: %v", h)
	}
	// November's payroll did not pay them: counted then, as for a death that stands.
	if n := r.counts[CountBackPayDropped]; n != 2 {
		t.Errorf("back_pay_dropped_after_death %d, want 2", n)
	}
	if ops := r.eng.Overpayments(r.person, &r.st); len(ops) != 0 {
		t.Errorf("overpayments %+v", ops)
	}
}

// TestBackPayKeptUnpaidForAConfirmedDeath: the review accepts the death: September and
// October stay unpaid (held for the death, as they are for one never disputed), as does
// January, the month the CONFLICT held; rows, payments and counters are those of before.
func TestBackPayKeptUnpaidForAConfirmedDeath(t *testing.T) {
	r := voidedDeath(t, "2024-12-10", ResolveDeath).
		wantRows(
			"2024-07-01 PENDING",
			"2024-07-02 SUSPENDED",
			"2024-10-20 CERTIFIED STRONG r0 until=2025-05-06;certified_on=2024-05-06",
			"2024-10-20 RESUMED  r0 back_pay_months=3",
			"2024-10-25 TERMINATED  r1 death_date=2024-08-17",
			"2024-12-10 CONFLICT  r2 other=r1",
			"2025-01-15 TERMINATED  r3 death_date=2024-08-17",
		).
		wantPays(
			"2024-07 EMP_PENSION 100000 REGULAR",
			"2024-08 EMP_PENSION 100000 BACK_PAY",
		).
		wantStatus(sc.StatusTerminated, "2025-05-06")
	if h := strings.Join(heldMonths(r), " "); h != "2024-09:TERMINATED 2024-10:TERMINATED" {
		t.Errorf("held %q", h)
	}
	if n := r.counts[CountBackPayDropped]; n != 2 {
		t.Errorf("back_pay_dropped_after_death %d, want 2", n)
	}
}

// laterDeath is a death record dated 09-25 that comes during the dispute, when the
// evidence of life is a counter visit of 09-05 (reported on 12-10).
var laterDeath = rec{typ: "MOHRSS.DEATH", event: "2024-09-25", reported: "2024-12-20", target: -1}

// TestBackPayKeptUpToALaterDeath: the review voids the death of 08-17 but the later one
// stands (the death date moves to 09-25): September, before it, is paid as back pay at
// the next payroll though he is TERMINATED; October, after it, stays held for that death,
// and so does January, the month the CONFLICT held (not paid to an estate).
func TestBackPayKeptUpToALaterDeath(t *testing.T) {
	r := voidedDeath(t, "2024-09-05", ResolveAlive, laterDeath).
		wantPays(
			"2024-07 EMP_PENSION 100000 REGULAR",
			"2024-08 EMP_PENSION 100000 BACK_PAY",
			"2024-09 EMP_PENSION 100000 BACK_PAY",
		).
		wantStatus(sc.StatusTerminated, "2025-05-06")
	if r.st.DeathDate.String() != "2024-09-25" {
		t.Errorf("death date %s, want 2024-09-25", r.st.DeathDate)
	}
	if h := strings.Join(heldMonths(r), " "); h != "2024-10:TERMINATED 2025-01:TERMINATED" {
		t.Errorf("held %q", h)
	}
	if n := r.counts[CountBackPayDropped]; n != 2 { // September and October, at November's payroll
		t.Errorf("back_pay_dropped_after_death %d, want 2", n)
	}
}

// TestBackPayKeptThroughTwoReviews: as TestBackPayKeptUpToALaterDeath, then 张三 is seen
// at the counter again on 2025-02-10 and a second review voids the later death too:
// October (counted by the RESUMED row of 2024-10-20) and January (held by the first
// CONFLICT, counted by no row yet) are paid as back pay at March's payroll, and the
// second review's RESUMED row counts January only.
func TestBackPayKeptThroughTwoReviews(t *testing.T) {
	r := voidedDeath(t, "2024-09-05", ResolveAlive, laterDeath,
		rec{typ: "HRSS.COUNTER", event: "2025-02-10", reported: "2025-02-10", target: -1},
		rec{typ: "HRSS.REVIEW", event: "2025-02-20", reported: "2025-02-20", accept: ResolveAlive, target: 3})
	r.wantRows(
		"2024-07-01 PENDING",
		"2024-07-02 SUSPENDED",
		"2024-10-20 CERTIFIED STRONG r0 until=2025-05-06;certified_on=2024-05-06",
		"2024-10-20 RESUMED  r0 back_pay_months=3",
		"2024-10-25 TERMINATED  r1 death_date=2024-08-17",
		"2024-12-10 CONFLICT  r2 other=r1",
		"2025-01-15 TERMINATED  r6 death_date=2024-09-25",
		"2025-02-10 CONFLICT  r4 other=r3",
		"2025-02-20 CERTIFIED COUNTER r4 until=2026-02-10;certified_on=2025-02-10",
		"2025-02-20 RESUMED  r5 back_pay_months=1",
	).wantPays(
		"2024-07 EMP_PENSION 100000 REGULAR",
		"2024-08 EMP_PENSION 100000 BACK_PAY",
		"2024-09 EMP_PENSION 100000 BACK_PAY",
		"2025-03 EMP_PENSION 100000 REGULAR",
		"2024-10 EMP_PENSION 100000 BACK_PAY",
		"2025-01 EMP_PENSION 100000 BACK_PAY",
	).wantStatus(sc.StatusCertified, "2026-02-10")
	if h := heldMonths(r); len(h) != 0 {
		t.Errorf("still held: %v", h)
	}
}

// TestBackPayDroppedOnceWhenMovedOffTheEntitlement: September and October, due from the
// RESUMED row of 2024-10-20, are dropped at November's payroll for the death of 08-17
// (counted then, held for it); the review of 2025-01-15 voids the death and makes them due
// again, and a roster import of 01-20 moves the pension's start_month to 2024-11, so that
// February's payroll drops them again, outside the entitlement: the same two months, not
// counted a second time (before, back_pay_dropped_after_death read 4). January, held by
// the CONFLICT and covered still, is paid.
func TestBackPayDroppedOnceWhenMovedOffTheEntitlement(t *testing.T) {
	p := lastCert(person(ent("EMP_PENSION", 1000, "2000-01")), "2023-06-01")
	r := newRun(t, nil, p,
		rec{typ: "HEA.CHECKUP", event: "2024-05-06", reported: "2024-10-20", target: -1},
		rec{typ: "PSB.DEATH_DEREG", event: "2024-08-17", reported: "2024-10-25", target: -1},
		rec{typ: "HRSS.COUNTER", event: "2024-12-10", reported: "2024-12-10", target: -1},
		rec{typ: "HRSS.REVIEW", event: "2025-01-15", reported: "2025-01-15", accept: ResolveAlive, target: 1},
	).at("2025-01-20", func(p *sc.Recipient) { p.Entitlements[0].Start = mustMonth("2024-11") }).
		replay("2024-07-01", "2025-03-31").
		wantPays(
			"2024-07 EMP_PENSION 100000 REGULAR",
			"2024-08 EMP_PENSION 100000 BACK_PAY",
			"2025-02 EMP_PENSION 100000 REGULAR",
			"2025-01 EMP_PENSION 100000 BACK_PAY",
			"2025-03 EMP_PENSION 100000 REGULAR",
		)
	if h := heldMonths(r); len(h) != 0 {
		t.Errorf("still held: %v", h)
	}
	if n := r.counts[CountBackPayDropped]; n != 2 {
		t.Errorf("back_pay_dropped_after_death %d, want 2 (September and October, once)", n)
	}
}

// TestBackPayDroppedOnceForASecondDeath: the review of 2025-01-15 voids the death of
// 08-17 (seen at the counter on 08-20) and makes September and October, dropped for it at
// November's payroll, due again; a death dated 08-25 then reported on 01-20 stands, and
// February's payroll drops them for it: counted once each, with January (held by the
// CONFLICT, dropped for the first time), 3 (before, 5). The roster never changes: backtest
// counted them twice too.
func TestBackPayDroppedOnceForASecondDeath(t *testing.T) {
	p := lastCert(person(ent("EMP_PENSION", 1000, "2000-01")), "2023-06-01")
	r := newRun(t, nil, p,
		rec{typ: "HEA.CHECKUP", event: "2024-05-06", reported: "2024-10-20", target: -1},
		rec{typ: "PSB.DEATH_DEREG", event: "2024-08-17", reported: "2024-10-25", target: -1},
		rec{typ: "HRSS.COUNTER", event: "2024-08-20", reported: "2024-12-10", target: -1},
		rec{typ: "HRSS.REVIEW", event: "2025-01-15", reported: "2025-01-15", accept: ResolveAlive, target: 1},
		rec{typ: "MOHRSS.DEATH", event: "2024-08-25", reported: "2025-01-20", target: -1},
	).replay("2024-07-01", "2025-03-31").
		wantPays(
			"2024-07 EMP_PENSION 100000 REGULAR",
			"2024-08 EMP_PENSION 100000 BACK_PAY",
		).
		wantStatus(sc.StatusTerminated, "2025-08-20")
	if h := strings.Join(heldMonths(r), " "); h != "2024-09:TERMINATED 2024-10:TERMINATED 2025-01:TERMINATED" {
		t.Errorf("held %q", h)
	}
	if n := r.counts[CountBackPayDropped]; n != 3 {
		t.Errorf("back_pay_dropped_after_death %d, want 3 (September, October and January, once each)", n)
	}
}

// TestBackPayDroppedOnceThroughALoss: as TestBackPayDroppedOnceWhenMovedOffTheEntitlement,
// September and October are due again after the review; a LOSS dated 08-30 (reported
// 01-20) holds them at February's payroll, a RESTORE dated 08-31 (reported 02-10) makes
// them due, and a roster import of 02-15 moves the pension's start_month to 2024-11:
// March's payroll drops them outside the entitlement without counting them again (the
// hold for the LOSS keeps that they were counted). January and February, held for the
// LOSS and covered still, are paid.
func TestBackPayDroppedOnceThroughALoss(t *testing.T) {
	p := lastCert(person(ent("EMP_PENSION", 1000, "2000-01")), "2023-06-01")
	r := newRun(t, nil, p,
		rec{typ: "HEA.CHECKUP", event: "2024-05-06", reported: "2024-10-20", target: -1},
		rec{typ: "PSB.DEATH_DEREG", event: "2024-08-17", reported: "2024-10-25", target: -1},
		rec{typ: "HRSS.COUNTER", event: "2024-12-10", reported: "2024-12-10", target: -1},
		rec{typ: "HRSS.REVIEW", event: "2025-01-15", reported: "2025-01-15", accept: ResolveAlive, target: 1},
		rec{typ: "JUS.PRISON_IN", event: "2024-08-30", reported: "2025-01-20", target: -1},
		rec{typ: "JUS.PRISON_OUT", event: "2024-08-31", reported: "2025-02-10", target: -1},
	).at("2025-02-15", func(p *sc.Recipient) { p.Entitlements[0].Start = mustMonth("2024-11") }).
		replay("2024-07-01", "2025-03-31").
		wantPays(
			"2024-07 EMP_PENSION 100000 REGULAR",
			"2024-08 EMP_PENSION 100000 BACK_PAY",
			"2025-03 EMP_PENSION 100000 REGULAR",
			"2025-01 EMP_PENSION 100000 BACK_PAY",
			"2025-02 EMP_PENSION 100000 BACK_PAY",
		)
	if h := heldMonths(r); len(h) != 0 {
		t.Errorf("still held: %v", h)
	}
	if n := r.counts[CountBackPayDropped]; n != 2 {
		t.Errorf("back_pay_dropped_after_death %d, want 2 (September and October, once)", n)
	}
}
