package engine

import (
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
