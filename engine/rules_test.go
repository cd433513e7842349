package engine

import (
	"testing"

	sc "github.com/silentcert/silentcert"
)

func lastCert(p *sc.Recipient, d string) *sc.Recipient { p.LastCertified = sc.MustDate(d); return p }

func TestServicePeriod(t *testing.T) {
	pol := sc.DefaultPolicy()
	cases := []struct {
		capacity, total sc.Fen
		known           bool
		want            int
	}{
		{0, 300000, false, 12},        // unknown: default_period_months
		{6000000, 310000, true, 19},   // 60000 / 3100 = 19.35 → 19
		{100000, 300000, true, 6},     // below min_period_months
		{100000000, 300000, true, 24}, // above max_period_months
		{0, 300000, true, 6},          // known zero capacity
		{1800000, 300000, true, 6},    // exactly 6
		{7200000, 300000, true, 24},   // exactly 24
		{7199999, 300000, true, 23},   // rounded down
		{5000, 0, true, 12},           // no amounts: default
		{3000000, 250000, true, 12},   // 30000/2500
		{2999999, 250000, true, 11},   // 11.99 → 11
		{3000001, 250000, true, 12},   // 12.0000004 → 12
		{150000, 25000, true, 6},      // a rural pension: 1500/250 = 6
		{10000000, 25000, true, 24},   // …with a large balance
		{1, 1, true, 1*0 + 6},         // 1 month → min
		{2400, 100, true, 24},         // 24
		{2500, 100, true, 24},         // 25 → max
		{700, 100, true, 7},           // 7
		{600, 100, true, 6},           // 6
		{599, 100, true, 6},           // 5.99 → min
	}
	for _, c := range cases {
		if got := pol.ServicePeriod(c.capacity, c.known, c.total); got != c.want {
			t.Errorf("capacity %s known %v total %s: P = %d, want %d", c.capacity, c.known, c.total, got, c.want)
		}
	}
}

func TestPeriodSumsCapacityOverRows(t *testing.T) {
	a := ent("EMP_PENSION", 3000, "2015-01")
	a.Capacity, a.CapacityKnown = 30000*100, true
	b := ent("ELDERLY_ALLOWANCE", 100, "2020-01")
	b.Capacity, b.CapacityKnown = 30000*100, true
	r := newRun(t, nil, lastCert(person(a, b), "2024-01-15"))
	s := r.eng.Enrol(r.person)
	// 60000 / 3100 = 19 months.
	if s.Period != 19 || s.Until.String() != "2025-08-15" {
		t.Fatalf("P %d until %s", s.Period, s.Until)
	}
}

// TestClockBoundaries: WARNING from until minus warning_months through until, PENDING from
// the day after until, SUSPENDED from the day after until plus grace_months (spec §6).
func TestClockBoundaries(t *testing.T) {
	cases := []struct {
		until                 string
		warn, pending, suspnd string
	}{
		{"2025-01-31", "2024-11-30", "2025-02-01", "2025-03-01"},
		{"2024-12-31", "2024-10-31", "2025-01-01", "2025-02-01"},
		{"2024-04-30", "2024-02-29", "2024-05-01", "2024-05-31"}, // leap February; 04-30 + 1 month = 05-30
		{"2025-03-31", "2025-01-31", "2025-04-01", "2025-05-01"},
		{"2025-03-29", "2025-01-29", "2025-03-30", "2025-04-30"},
		{"2024-02-29", "2023-12-29", "2024-03-01", "2024-03-30"},
	}
	e := New(sc.DefaultConfig())
	for _, c := range cases {
		u := sc.MustDate(c.until)
		for d := u - 200; d <= u+100; d++ {
			want := sc.StatusCertified
			switch {
			case d >= sc.MustDate(c.suspnd):
				want = sc.StatusSuspended
			case d >= sc.MustDate(c.pending):
				want = sc.StatusPending
			case d >= sc.MustDate(c.warn):
				want = sc.StatusWarning
			}
			st := State{}
			e.setUntil(&st, u)
			if got := e.clock(&st, d); got != want {
				t.Fatalf("until %s on %s: %s, want %s", c.until, d, got, want)
			}
		}
	}
}

func TestWarningPendingSuspendedRowsAndPayroll(t *testing.T) {
	p := lastCert(person(ent("EMP_PENSION", 3000, "2015-01")), "2024-01-31")
	newRun(t, nil, p).replay("2024-11-01", "2025-03-31").
		wantRows(
			"2024-11-30 WARNING   until=2025-01-31",
			"2025-02-01 PENDING",
			"2025-03-01 SUSPENDED",
		).
		wantPays(
			"2024-11 EMP_PENSION 300000 REGULAR",
			"2024-12 EMP_PENSION 300000 REGULAR",
			"2025-01 EMP_PENSION 300000 REGULAR",
			"2025-02 EMP_PENSION 300000 REGULAR", // PENDING is still paid
		).
		wantStatus(sc.StatusSuspended, "2025-01-31")
}

// A person who jumps from CERTIFIED to SUSPENDED gets one SUSPENDED row, not three; on
// --from the baseline row gives the status reached.
func TestOneRowForAJump(t *testing.T) {
	p := lastCert(person(ent("EMP_PENSION", 3000, "2015-01")), "2024-01-31")
	newRun(t, nil, p).replay("2025-06-01", "2025-06-30").wantRows("2025-06-01 SUSPENDED")
	// The same jump in the middle of a replay: a strong record far in the past does not
	// move until, and the clock changes once.
	p2 := lastCert(person(ent("EMP_PENSION", 3000, "2015-01")), "2024-06-30")
	newRun(t, nil, p2).replay("2025-04-01", "2025-04-30").wantRows("2025-04-30 WARNING   until=2025-06-30")
}

func TestResumedWithBackPay(t *testing.T) {
	p := lastCert(person(ent("EMP_PENSION", 3000, "2015-01"), ent("ELDERLY_ALLOWANCE", 100, "2025-04")), "2024-01-31")
	newRun(t, nil, p, rec{typ: "HEA.CHECKUP", event: "2025-04-10", reported: "2025-04-20"}).
		replay("2025-02-15", "2025-05-31").
		wantRows(
			"2025-02-15 PENDING",
			"2025-03-01 SUSPENDED",
			"2025-04-20 CERTIFIED STRONG r0 until=2026-04-10;certified_on=2025-04-10",
			"2025-04-20 RESUMED  r0 back_pay_months=2",
		).
		wantPays(
			"2025-05 EMP_PENSION 300000 REGULAR",
			"2025-05 ELDERLY_ALLOWANCE 10000 REGULAR",
			"2025-03 EMP_PENSION 300000 BACK_PAY",
			"2025-04 EMP_PENSION 300000 BACK_PAY",
			"2025-04 ELDERLY_ALLOWANCE 10000 BACK_PAY",
		).
		wantStatus(sc.StatusCertified, "2026-04-10")
}

// A record that arrives late certifies the day it happened; an earlier certification never
// shortens the period; a late one that lands in the warning window writes WARNING.
func TestLateAndEarlierCertifications(t *testing.T) {
	p := lastCert(person(ent("RES_PENSION", 200, "2015-01")), "2024-01-31")
	newRun(t, nil, p,
		rec{typ: "TRN.RAIL", event: "2024-12-01", reported: "2025-02-10"},
		rec{typ: "NIA.BORDER", event: "2024-03-01", reported: "2025-02-11"}, // earlier: nothing
		rec{typ: "HRSS.COUNTER", event: "2025-02-12", reported: "2025-02-12"},
	).replay("2025-02-01", "2025-02-28").
		wantRows(
			"2025-02-01 PENDING",
			"2025-02-10 CERTIFIED STRONG r0 until=2025-12-01;certified_on=2024-12-01",
			"2025-02-12 CERTIFIED COUNTER r2 until=2026-02-12;certified_on=2025-02-12",
		)
	p2 := lastCert(person(ent("RES_PENSION", 200, "2015-01")), "2024-01-31")
	newRun(t, nil, p2, rec{typ: "CMT.VISIT", event: "2024-02-20", reported: "2025-02-10"}).
		replay("2025-02-01", "2025-02-28").
		wantRows(
			"2025-02-01 PENDING",
			"2025-02-10 CERTIFIED COMMUNITY r0 until=2025-02-20;certified_on=2024-02-20",
			"2025-02-10 WARNING  r0 until=2025-02-20",
			"2025-02-21 PENDING",
		)
}

func TestDeathTerminatesOnArrivalAndOverpaymentsAreOffset(t *testing.T) {
	a := ent("EMP_PENSION", 3000, "2015-01")
	a.Capacity, a.CapacityKnown = 4000*100, true
	b := ent("ELDERLY_ALLOWANCE", 100, "2015-01")
	p := lastCert(person(a, b), "2024-01-10")
	r := newRun(t, nil, p,
		rec{typ: "CIV.CREMATION", event: "2024-03-15", reported: "2024-05-10"},
		rec{typ: "PSB.DEATH_DEREG", event: "2024-03-14", reported: "2024-05-20"}, // moves the date earlier
		rec{typ: "HEA.CHECKUP", event: "2024-03-01", reported: "2024-05-21"},     // before death: nothing
		rec{typ: "TEL.ACTIVITY", event: "2024-05-21", reported: "2024-05-22"},    // weak: nothing
	).replay("2024-03-01", "2024-07-31").
		wantRows("2024-05-10 TERMINATED  r0 death_date=2024-03-15").
		wantStatus(sc.StatusTerminated, "2024-07-10") // capacity 4000 / 3100 a month: P = 6
	if r.st.DeathDate.String() != "2024-03-14" || r.counts[CountDeathDateDisagreement] != 1 {
		t.Errorf("death date %s, disagreements %d", r.st.DeathDate, r.counts[CountDeathDateDisagreement])
	}
	// March, April and May were paid; April and May are overpaid, offset first.
	ops := r.eng.Overpayments(p, &r.st)
	if len(ops) != 2 {
		t.Fatalf("overpayments %+v", ops)
	}
	if o := ops[0]; o.Months != 2 || o.Amount != 600000 || o.Offset != 400000 || o.ToRecover != 200000 {
		t.Errorf("EMP_PENSION %+v", o)
	}
	if o := ops[1]; o.Months != 2 || o.Amount != 20000 || o.Offset != 0 || o.ToRecover != 20000 {
		t.Errorf("ELDERLY_ALLOWANCE %+v", o)
	}
}

func TestConflictStrongAfterDeathResolvedAlive(t *testing.T) {
	p := lastCert(person(ent("EMP_PENSION", 3000, "2015-01")), "2024-01-10")
	r := newRun(t, nil, p,
		rec{typ: "MOHRSS.DEATH", event: "2024-02-20", reported: "2024-03-05"},
		rec{typ: "MED.INPATIENT", event: "2024-04-02", reported: "2024-04-10"},
		rec{typ: "HRSS.REVIEW", event: "2024-06-12", reported: "2024-06-12", accept: ResolveAlive, target: 0},
	).replay("2024-03-01", "2024-07-31").
		wantRows(
			"2024-03-05 TERMINATED  r0 death_date=2024-02-20",
			"2024-04-10 CONFLICT  r1 other=r0",
			"2024-06-12 CERTIFIED STRONG r1 until=2025-04-02;certified_on=2024-04-02",
			"2024-06-12 RESUMED  r2 back_pay_months=2",
		).
		wantPays(
			"2024-03 EMP_PENSION 300000 REGULAR",
			"2024-07 EMP_PENSION 300000 REGULAR",
			"2024-05 EMP_PENSION 300000 BACK_PAY",
			"2024-06 EMP_PENSION 300000 BACK_PAY",
		).
		wantStatus(sc.StatusCertified, "2025-04-02")
	// April was not paid: TERMINATED on its payroll, not held; the living person's April is
	// not back pay under spec §6 (only the months held by the CONFLICT are).
	if r.st.DeathDate != sc.NoDate {
		t.Errorf("death not voided")
	}
}

func TestConflictDeathBeforeStrongResolvedDeath(t *testing.T) {
	a := ent("EMP_PENSION", 3000, "2015-01")
	p := lastCert(person(a), "2024-01-10")
	r := newRun(t, nil, p,
		rec{typ: "TRN.AIR", event: "2024-04-02", reported: "2024-04-03"},
		rec{typ: "HEA.DEATH_CERT", event: "2024-03-28", reported: "2024-05-06"},
		rec{typ: "HRSS.REVIEW", event: "2024-07-15", reported: "2024-07-15", accept: ResolveDeath, target: 1},
		rec{typ: "HRSS.REVIEW", event: "2024-07-16", reported: "2024-07-16", accept: ResolveAlive, target: 1}, // no conflict left
	).replay("2024-04-01", "2024-08-31").
		wantRows(
			"2024-04-03 CERTIFIED STRONG r0 until=2025-04-02;certified_on=2024-04-02",
			"2024-05-06 CONFLICT  r1 other=r0",
			"2024-07-15 TERMINATED  r2 death_date=2024-03-28",
		).
		wantPays("2024-04 EMP_PENSION 300000 REGULAR", "2024-05 EMP_PENSION 300000 REGULAR").
		wantStatus(sc.StatusTerminated, "2025-04-02")
	if r.counts[CountResolveIgnored] != 1 {
		t.Errorf("resolve ignored %d", r.counts[CountResolveIgnored])
	}
	if len(r.withold) != 2 { // June, July held for the conflict, then not paid
		t.Errorf("withheld %v", r.withold)
	}
	ops := r.eng.Overpayments(p, &r.st)
	if len(ops) != 1 || ops[0].Months != 2 { // April and May after a March death
		t.Errorf("overpayments %+v", ops)
	}
}

func TestLossAndRestore(t *testing.T) {
	p := lastCert(person(ent("EMP_PENSION", 3000, "2015-01")), "2024-01-10")
	newRun(t, nil, p,
		rec{typ: "JUS.PRISON_IN", event: "2024-03-10", reported: "2024-03-12"},
		rec{typ: "HEA.CHECKUP", event: "2024-04-15", reported: "2024-04-20"}, // still moves until, row written
		rec{typ: "JUS.PRISON_OUT", event: "2024-06-05", reported: "2024-06-06"},
		rec{typ: "JUS.PRISON_OUT", event: "2024-06-07", reported: "2024-06-08"}, // no open LOSS
	).replay("2024-03-01", "2024-07-31").
		wantRows(
			"2024-03-12 LOSS  r0",
			"2024-04-20 CERTIFIED STRONG r1 until=2025-04-15;certified_on=2024-04-15",
			"2024-06-06 RESTORED  r2",
		).
		wantPays("2024-03 EMP_PENSION 300000 REGULAR", "2024-07 EMP_PENSION 300000 REGULAR")
}

func TestLateRestoreBackPayAndLateLossOverpayment(t *testing.T) {
	p := lastCert(person(ent("EMP_PENSION", 3000, "2015-01")), "2024-01-10")
	newRun(t, nil, p,
		rec{typ: "JUS.PRISON_IN", event: "2024-03-10", reported: "2024-03-12"},
		rec{typ: "JUS.PRISON_OUT", event: "2024-04-20", reported: "2024-06-06"},
	).replay("2024-03-01", "2024-07-31").
		wantRows("2024-03-12 LOSS  r0", "2024-06-06 RESTORED  r1 back_pay_months=2").
		wantPays(
			"2024-03 EMP_PENSION 300000 REGULAR",
			"2024-07 EMP_PENSION 300000 REGULAR",
			"2024-05 EMP_PENSION 300000 BACK_PAY",
			"2024-06 EMP_PENSION 300000 BACK_PAY",
		)
	p2 := lastCert(person(ent("EMP_PENSION", 3000, "2015-01")), "2024-01-10")
	r := newRun(t, nil, p2, rec{typ: "JUS.PRISON_IN", event: "2024-03-10", reported: "2024-05-20"}).
		replay("2024-03-01", "2024-06-30").
		wantRows("2024-05-20 LOSS  r0").
		wantPays("2024-03 EMP_PENSION 300000 REGULAR", "2024-04 EMP_PENSION 300000 REGULAR", "2024-05 EMP_PENSION 300000 REGULAR")
	ops := r.eng.Overpayments(p2, &r.st)
	if len(ops) != 1 || ops[0].Months != 2 || ops[0].Offset != 0 || ops[0].ToRecover != 600000 {
		t.Errorf("late LOSS overpayments %+v", ops)
	}
}

func TestEntitlementWindows(t *testing.T) {
	a := ent("EMP_PENSION", 3000, "2015-01")
	b := ent("DISABILITY_ALLOWANCE", 80, "2024-04")
	b.End = mustMonth("2024-05")
	newRun(t, nil, lastCert(person(a, b), "2024-01-10")).replay("2024-03-01", "2024-06-30").
		wantPays(
			"2024-03 EMP_PENSION 300000 REGULAR",
			"2024-04 EMP_PENSION 300000 REGULAR",
			"2024-04 DISABILITY_ALLOWANCE 8000 REGULAR",
			"2024-05 EMP_PENSION 300000 REGULAR",
			"2024-05 DISABILITY_ALLOWANCE 8000 REGULAR",
			"2024-06 EMP_PENSION 300000 REGULAR",
		)
}

func TestEnrolmentWithoutLastCertified(t *testing.T) {
	p := person(ent("RES_PENSION", 200, "2024-05"), ent("ELDERLY_ALLOWANCE", 100, "2024-09"))
	r := newRun(t, nil, p).replay("2024-05-01", "2024-05-02")
	if r.st.LastCertified.String() != "2024-05-01" || r.st.Until.String() != "2025-05-01" || r.st.LastMethod != sc.MethodMigrated {
		t.Errorf("enrolment %s until %s %s", r.st.LastCertified, r.st.Until, r.st.LastMethod)
	}
}

func TestWeakRule(t *testing.T) {
	p := lastCert(person(ent("RES_PENSION", 200, "2015-01")), "2024-01-31")
	// Spoofable traces every day never certify: the person goes on to SUSPENDED.
	var spoof []rec
	for d := sc.MustDate("2024-10-01"); d <= sc.MustDate("2025-03-31"); d++ {
		for _, typ := range []string{"TEL.ACTIVITY", "BANK.TXN", "HRSS.CARD_SPEND", "MED.PHARMACY", "UTIL.PAYMENT"} {
			spoof = append(spoof, rec{typ: typ, event: d.String(), reported: (d + 1).String()})
		}
	}
	newRun(t, nil, p, spoof...).replay("2024-11-01", "2025-03-31").
		wantRows("2024-11-30 WARNING   until=2025-01-31", "2025-02-01 PENDING", "2025-03-01 SUSPENDED")
	// Three outpatient visits within 90 days, inside the renewal horizon, certify WEAK on
	// the day of the latest one; two do not.
	p2 := lastCert(person(ent("RES_PENSION", 200, "2015-01")), "2024-01-31")
	newRun(t, nil, p2,
		rec{typ: "MED.OUTPATIENT", event: "2024-09-01", reported: "2024-09-03"},
		rec{typ: "MED.OUTPATIENT", event: "2024-10-15", reported: "2024-10-16"},
		rec{typ: "TRN.TRANSIT", event: "2024-11-20", reported: "2024-11-21"},
		rec{typ: "TRN.TRANSIT", event: "2024-11-25", reported: "2024-11-26"},
	).replay("2024-09-01", "2024-12-31").
		wantRows("2024-11-21 CERTIFIED WEAK r2 until=2025-11-20;certified_on=2024-11-20")
	// Outside the renewal horizon nothing happens, however many traces.
	p3 := lastCert(person(ent("RES_PENSION", 200, "2015-01")), "2024-06-30")
	newRun(t, nil, p3,
		rec{typ: "MED.OUTPATIENT", event: "2024-09-01", reported: "2024-09-03"},
		rec{typ: "MED.OUTPATIENT", event: "2024-10-15", reported: "2024-10-16"},
		rec{typ: "TRN.TRANSIT", event: "2024-11-20", reported: "2024-11-21"},
	).replay("2024-09-01", "2024-12-31").wantRows()
	// A critical admission is weak, not strong.
	p4 := lastCert(person(ent("RES_PENSION", 200, "2015-01")), "2024-01-31")
	newRun(t, nil, p4, rec{typ: "MED.INPATIENT", event: "2024-11-02", reported: "2024-11-10", critical: true}).
		replay("2024-11-01", "2024-11-30").wantRows("2024-11-30 WARNING   until=2025-01-31")
}
