package engine

import (
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
