package engine

import (
	"slices"
	"strings"
	"testing"

	sc "github.com/silentcert/silentcert"
)

// voidedCfg is the default configuration with back_pay_voided_death on.
func voidedCfg() *sc.Config {
	cfg := sc.DefaultConfig()
	cfg.Policy.BackPayVoidedDeath = true
	return cfg
}

// wronglyDead is a pensioner recorded dead on 2024-02-05 (applied the 10th) who is seen in
// hospital on 2024-05-20 (reported the 22nd): March, April and May's payrolls ran while the
// death had them TERMINATED, June's and July's while it was disputed.
func wronglyDead(t *testing.T, cfg *sc.Config, review Resolution, extra ...rec) *run {
	p := lastCert(person(ent("EMP_PENSION", 3000, "2015-01"), ent("ELDERLY_ALLOWANCE", 100, "2024-04")), "2024-01-10")
	recs := append([]rec{
		{typ: "MOHRSS.DEATH", event: "2024-02-05", reported: "2024-02-10"},
		{typ: "MED.INPATIENT", event: "2024-05-20", reported: "2024-05-22"},
		{typ: "HRSS.REVIEW", event: "2024-07-10", reported: "2024-07-10", accept: review, target: 0},
	}, extra...)
	return newRun(t, cfg, p, recs...).replay("2024-02-01", "2024-08-31")
}

// TestVoidedDeathMonthsPaid: with back_pay_voided_death on, a review that voids a death
// pays the months the death kept unpaid before the dispute (March to May, and the
// allowance from its start in April) as well as the months held during it (June and
// July); the spec's rule, the default, pays June and July only.
func TestVoidedDeathMonthsPaid(t *testing.T) {
	rows := func(n string) []string {
		return []string{
			"2024-02-10 TERMINATED  r0 death_date=2024-02-05",
			"2024-05-22 CONFLICT  r1 other=r0",
			"2024-07-10 CERTIFIED STRONG r1 until=2025-05-20;certified_on=2024-05-20",
			"2024-07-10 RESUMED  r2 back_pay_months=" + n,
		}
	}
	wronglyDead(t, voidedCfg(), ResolveAlive).
		wantRows(rows("5")...).
		wantPays(
			"2024-02 EMP_PENSION 300000 REGULAR",
			"2024-08 EMP_PENSION 300000 REGULAR",
			"2024-08 ELDERLY_ALLOWANCE 10000 REGULAR",
			"2024-03 EMP_PENSION 300000 BACK_PAY",
			"2024-04 EMP_PENSION 300000 BACK_PAY",
			"2024-04 ELDERLY_ALLOWANCE 10000 BACK_PAY",
			"2024-05 EMP_PENSION 300000 BACK_PAY",
			"2024-05 ELDERLY_ALLOWANCE 10000 BACK_PAY",
			"2024-06 EMP_PENSION 300000 BACK_PAY",
			"2024-06 ELDERLY_ALLOWANCE 10000 BACK_PAY",
			"2024-07 EMP_PENSION 300000 BACK_PAY",
			"2024-07 ELDERLY_ALLOWANCE 10000 BACK_PAY",
		).
		wantStatus(sc.StatusCertified, "2025-05-20")
	wronglyDead(t, nil, ResolveAlive).
		wantRows(rows("2")...).
		wantPays(
			"2024-02 EMP_PENSION 300000 REGULAR",
			"2024-08 EMP_PENSION 300000 REGULAR",
			"2024-08 ELDERLY_ALLOWANCE 10000 REGULAR",
			"2024-06 EMP_PENSION 300000 BACK_PAY",
			"2024-06 ELDERLY_ALLOWANCE 10000 BACK_PAY",
			"2024-07 EMP_PENSION 300000 BACK_PAY",
			"2024-07 ELDERLY_ALLOWANCE 10000 BACK_PAY",
		)
}

// TestVoidedDeathAcceptedPaysNothing: a review that accepts the death pays none of the
// months, with the option on as without it.
func TestVoidedDeathAcceptedPaysNothing(t *testing.T) {
	for _, cfg := range []*sc.Config{nil, voidedCfg()} {
		wronglyDead(t, cfg, ResolveDeath).
			wantRows(
				"2024-02-10 TERMINATED  r0 death_date=2024-02-05",
				"2024-05-22 CONFLICT  r1 other=r0",
				"2024-07-10 TERMINATED  r2 death_date=2024-02-05",
			).
			wantPays("2024-02 EMP_PENSION 300000 REGULAR").
			wantStatus(sc.StatusTerminated, "2025-01-10")
	}
}

// TestVoidedDeathLossNotPaid: a prison admission reported while the person was recorded
// dead stands once the death is voided, and the months it covers are not paid: April's
// admission leaves March alone, and the release in May pays May.
func TestVoidedDeathLossNotPaid(t *testing.T) {
	wronglyDead(t, voidedCfg(), ResolveAlive,
		rec{typ: "JUS.PRISON_IN", event: "2024-03-15", reported: "2024-03-20"},
		rec{typ: "JUS.PRISON_OUT", event: "2024-04-25", reported: "2024-04-28"},
	).
		wantPays(
			"2024-02 EMP_PENSION 300000 REGULAR",
			"2024-08 EMP_PENSION 300000 REGULAR",
			"2024-08 ELDERLY_ALLOWANCE 10000 REGULAR",
			"2024-03 EMP_PENSION 300000 BACK_PAY",
			"2024-05 EMP_PENSION 300000 BACK_PAY",
			"2024-05 ELDERLY_ALLOWANCE 10000 BACK_PAY",
			"2024-06 EMP_PENSION 300000 BACK_PAY",
			"2024-06 ELDERLY_ALLOWANCE 10000 BACK_PAY",
			"2024-07 EMP_PENSION 300000 BACK_PAY",
			"2024-07 ELDERLY_ALLOWANCE 10000 BACK_PAY",
		)
}

// backPaid returns the months paid as back pay, "YYYY-MM BENEFIT".
func backPaid(r *run) []string {
	var out []string
	for _, p := range r.pays {
		if f := strings.Fields(p); f[3] == "BACK_PAY" {
			out = append(out, f[0]+" "+f[1])
		}
	}
	slices.Sort(out)
	return out
}

// TestVoidedDeathHistoryNotBackPaid: with back_pay_voided_death on, a death (2023-05-05,
// reported 05-10) and the hospital stay that disputes it (2023-08-08, reported 08-10) are
// both history (reported before --from, 2024-01-01: no payroll ran then). The review of
// 2024-01-15 pays January, held during the dispute, alone: the months before --from were
// no payroll's of this run (a final review of session 20: June to August 2023 were paid,
// held from the TERMINATED row's day of the history).
func TestVoidedDeathHistoryNotBackPaid(t *testing.T) {
	p := lastCert(person(ent("EMP_PENSION", 3000, "2015-01")), "2023-01-10")
	r := newRun(t, voidedCfg(), p,
		rec{typ: "MOHRSS.DEATH", event: "2023-05-05", reported: "2023-05-10", target: -1},
		rec{typ: "MED.INPATIENT", event: "2023-08-08", reported: "2023-08-10", target: -1},
		rec{typ: "HRSS.REVIEW", event: "2024-01-15", reported: "2024-01-15", accept: ResolveAlive, target: 0},
	).replay("2024-01-01", "2024-03-31")
	if got := strings.Join(backPaid(r), ", "); got != "2024-01 EMP_PENSION" {
		t.Errorf("back pay %s; want January 2024 alone (no payroll ran before --from)\nrows:\n  %s", got, strings.Join(r.rows, "\n  "))
	}
}

// TestVoidedDeathSecondDispute: with back_pay_voided_death on, a death of 2024-02-05
// (applied 02-10) has March's and April's payrolls run with the person TERMINATED; a
// hospital stay disputes it (04-22) and a first review accepts it (05-10); June's and
// July's payrolls run TERMINATED again; a counter visit disputes it again (07-15) and a
// second review voids it (08-10). Every month the death kept unpaid is back pay: March
// and April (a final review of session 20: the first review's accept=death dropped them
// for good), May (held in the first dispute), June to August.
func TestVoidedDeathSecondDispute(t *testing.T) {
	p := lastCert(person(ent("EMP_PENSION", 3000, "2015-01")), "2024-01-10")
	r := newRun(t, voidedCfg(), p,
		rec{typ: "MOHRSS.DEATH", event: "2024-02-05", reported: "2024-02-10", target: -1},
		rec{typ: "MED.INPATIENT", event: "2024-04-20", reported: "2024-04-22", target: -1},
		rec{typ: "HRSS.REVIEW", event: "2024-05-10", reported: "2024-05-10", accept: ResolveDeath, target: 0},
		rec{typ: "HRSS.COUNTER", event: "2024-07-15", reported: "2024-07-15", target: -1},
		rec{typ: "HRSS.REVIEW", event: "2024-08-10", reported: "2024-08-10", accept: ResolveAlive, target: 0},
	).replay("2024-02-01", "2024-09-30").
		wantStatus(sc.StatusCertified, "2025-07-15")
	back := backPaid(r)
	for _, m := range []string{"2024-03 EMP_PENSION", "2024-04 EMP_PENSION", "2024-05 EMP_PENSION", "2024-06 EMP_PENSION", "2024-07 EMP_PENSION", "2024-08 EMP_PENSION"} {
		if !slices.Contains(back, m) {
			t.Errorf("%s (the death voided) not back-paid: back pay %v\nrows:\n  %s", m, back, strings.Join(r.rows, "\n  "))
		}
	}
}

// TestAfterDeath: what a month after a death, whose payroll paid and withheld nothing,
// is to an entitlement a roster adds. A pensioner dies on 2024-02-05; March's payroll
// runs while the death stands. With the key off it is lost (spec §6), with it on kept
// unpaid for a dispute to come. A dispute opened on 04-10 holds May (its payroll ran in
// it); April ran while the death stood: held with the key on, lost with it off. A
// dispute opened on the 1st of May: May's payroll may have run before it, and is taken
// to have.
func TestAfterDeath(t *testing.T) {
	for _, c := range []struct {
		voided       bool
		conflict, m  string
		held, unpaid bool
	}{
		{false, "", "2024-03", false, false},
		{true, "", "2024-03", false, true},
		{false, "2024-04-10", "2024-04", false, false},
		{true, "2024-04-10", "2024-04", true, false},
		{false, "2024-04-10", "2024-05", true, false},
		{false, "2024-05-01", "2024-05", false, false},
	} {
		cfg := sc.DefaultConfig()
		cfg.Policy.BackPayVoidedDeath = c.voided
		e := New(cfg)
		p := lastCert(person(ent("EMP_PENSION", 3000, "2015-01")), "2024-01-10")
		s := e.Enrol(p)
		s.DeathDate, s.Status = sc.MustDate("2024-02-05"), sc.StatusTerminated
		s.RowDay, s.RowStatus = sc.MustDate("2024-02-10"), sc.StatusTerminated
		if c.conflict != "" {
			s.Rare = &Rare{Conflict: &Conflict{StrongDate: sc.NoDate}}
			s.Status, s.RowDay, s.RowStatus = sc.StatusConflict, sc.MustDate(c.conflict), sc.StatusConflict
		}
		m := sc.MustDate(c.m + "-01").Month()
		h, held, unpaid := e.AfterDeath(&s, 1, m)
		if held != c.held || unpaid != c.unpaid || (held && (h != Held{Month: m, Ent: 1, Reason: sc.StatusConflict, ClockPayable: true})) {
			t.Errorf("%+v: held %v %+v, unpaid %v", c, held, h, unpaid)
		}
	}
}
