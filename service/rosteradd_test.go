package service_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/exchange"
	"github.com/silentcert/silentcert/service"
	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
)

// TestRosterAddsEntitlement is an operator's review's case: a simulated city's roster
// with one person's ELDERLY_ALLOWANCE row damaged (amount "100,00") is imported, the row
// quarantined; after three payrolls the corrected roster is imported. It used to leave
// that person's set of entitlements as it was ("1 people with other entitlements on the
// roster kept theirs"): the allowance was never paid. Now it is added, paid from the next
// payroll on (April), the months whose payroll ran without it (January to March) reported
// as arrears, not back-paid, and what was paid of the pension before stays as it was. A
// second person, added to the city, is suspended with two months of RES_PENSION withheld
// when the allowance is added before it (ELDERLY_ALLOWANCE sorts first, so RES_PENSION's
// index moves): the resumption back-pays them as RES_PENSION, not as the allowance, and
// (session 20) the allowance's February and March, held with the pension's (not owed
// while he was suspended, so not arrears: January is), are back-paid with them.
// The people's states, read again from the store, hold one entry per entitlement.
func TestRosterAddsEntitlement(t *testing.T) {
	city := simCity(t, 300, 7, sc.MustDate("2024-01-01"), sc.MustDate("2024-06-30"), 0)
	const held = "371002194202020014" // RES_PENSION suspended from January, then resumed
	text, err := os.ReadFile(filepath.Join(city, "roster.csv"))
	if err != nil {
		t.Fatal(err)
	}
	text = append(text, held+",周十,1,1942-02-02,,371002001001,,,RES_PENSION,150.00,2000-01,,,2022-12-01\n"+
		held+",周十,1,1942-02-02,,371002001001,,,ELDERLY_ALLOWANCE,100.00,2020-01,,,2022-12-01\n"...)
	// The first person with a pension and an allowance that started before January.
	lines := strings.Split(string(text), "\n")
	benefits := map[string][]string{}
	for _, l := range lines[1:] {
		if f := strings.Split(l, ","); len(f) > 10 && (f[8] != "ELDERLY_ALLOWANCE" || f[10] <= "2024-01") {
			benefits[f[0]] = append(benefits[f[0]], f[8])
		}
	}
	var repro, pension string
	for _, l := range lines[1:] {
		f := strings.Split(l, ",")
		if id := f[0]; len(f) > 10 && id != held && len(benefits[id]) == 2 && slices.Contains(benefits[id], "ELDERLY_ALLOWANCE") &&
			slices.Contains(benefits[id], "EMP_PENSION") {
			repro, pension = id, "EMP_PENSION"
			break
		}
	}
	if repro == "" {
		t.Fatal("the city has no one with a pension and an allowance")
	}
	damaged := make([]string, len(lines))
	for i, l := range lines {
		f := strings.Split(l, ",")
		if len(f) > 10 && (f[0] == repro || f[0] == held) && f[8] == "ELDERLY_ALLOWANCE" {
			f[9] = `"100,00"`
		}
		damaged[i] = strings.Join(f, ",")
	}
	dir := t.TempDir()
	damagedPath, correctPath := filepath.Join(dir, "damaged.csv"), filepath.Join(dir, "roster.csv")
	os.WriteFile(damagedPath, []byte(strings.Join(damaged, "\n")), 0o644)
	os.WriteFile(correctPath, text, 0o644)
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			ctx := context.Background()
			db := dsn.Open(t)
			s, err := service.Open(ctx, db, service.Options{})
			if err != nil {
				t.Fatal(err)
			}
			res, err := s.ImportRoster(ctx, damagedPath, "", "test")
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Roster.Problems) != 2 || res.Roster.Problems[0].Reason != exchange.ReasonBadAmount {
				t.Fatalf("the damaged roster's problems: %+v", res.Roster.Problems)
			}
			runDays(t, s, "2024-01-01", "2024-03-10")
			person := func(id string) *store.Person {
				t.Helper()
				p, err := db.PersonByID(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				return p
			}
			payments := func(id string) []string {
				t.Helper()
				ps, err := db.PersonPayments(ctx, person(id).PID)
				if err != nil {
					t.Fatal(err)
				}
				var out []string
				for _, p := range ps {
					out = append(out, fmt.Sprintf("%s %s %s %s (payroll %s)", p.Month, p.Benefit, p.Kind, p.Amount, p.PayrollMonth))
				}
				return out
			}
			before := payments(repro)
			if len(before) != 3 {
				t.Fatalf("%s before the corrected roster: %q, want three months of %s", repro, before, pension)
			}

			res, err = s.ImportRoster(ctx, correctPath, "", "test")
			if err != nil {
				t.Fatal(err)
			}
			if res.EntitlementAdded != 2 || res.EntitlementKept != 0 || res.Updated != 2 || res.Added != 0 || res.ArrearsMonths != 4 ||
				len(res.AddedEntitlements) != 2 {
				t.Fatalf("the corrected roster: %+v", res)
			}
			for _, a := range res.AddedEntitlements {
				months, to, heldMonths := 3, "2024-03", 0
				if a.PersonID == held {
					months, to, heldMonths = 1, "2024-01", 2
				}
				if a.Benefit != "ELDERLY_ALLOWANCE" || a.ArrearsMonths != months || a.ArrearsFrom.String() != "2024-01" || a.ArrearsTo.String() != to ||
					a.HeldMonths != heldMonths {
					t.Errorf("added: %+v", a)
				}
			}
			rows := rosterRows(t, db, repro)
			want := "update benefit_type=EMP_PENSION→ELDERLY_ALLOWANCE|EMP_PENSION;ELDERLY_ALLOWANCE.monthly_amount=→"
			if len(rows) != 2 || !strings.HasPrefix(rows[1], want) ||
				!strings.HasSuffix(rows[1], ";ELDERLY_ALLOWANCE.arrears_months=3;ELDERLY_ALLOWANCE.arrears=2024-01..2024-03") {
				t.Errorf("%s's roster rows:\n%s\nwant the second to begin %s and name 3 months of arrears", repro, strings.Join(rows, "\n"), want)
			}

			// Both certified again (the held person resumed), then the April payroll.
			b := csvBatch("HEA", header+
				"c1,HEA,HEA.CHECKUP,"+repro+","+person(repro).Rec.Name+",,2024-03-14,2024-03-15,,\n"+
				"c2,HEA,HEA.CHECKUP,"+held+",周十,,2024-03-14,2024-03-15,,\n")
			b.Day = sc.MustDate("2024-03-15")
			if r, err := s.Ingest(ctx, b); err != nil || r.Report.Applied != 2 {
				t.Fatalf("ingest: %+v %v", r, err)
			}
			runDays(t, s, "2024-03-11", "2024-04-01")

			after := payments(repro)
			var old, allowance []string
			for _, p := range after {
				switch {
				case strings.Contains(p, "ELDERLY_ALLOWANCE"):
					allowance = append(allowance, p)
				case !strings.Contains(p, "(payroll 2024-04)"):
					old = append(old, p)
				}
			}
			if !slices.Equal(old, before) || !slices.Equal(allowance, []string{"2024-04 ELDERLY_ALLOWANCE REGULAR 100.00 (payroll 2024-04)"}) ||
				!slices.Contains(after, "2024-04 "+pension+" REGULAR "+pensionAmount(t, text, repro, pension)+" (payroll 2024-04)") {
				t.Errorf("%s's payments:\n%s\nwant those before kept:\n%s\nand April's, the allowance's first", repro, strings.Join(after, "\n"), strings.Join(before, "\n"))
			}
			got := payments(held)
			wantHeld := []string{
				"2024-01 RES_PENSION REGULAR 150.00 (payroll 2024-01)",
				"2024-02 ELDERLY_ALLOWANCE BACK_PAY 100.00 (payroll 2024-04)",
				"2024-02 RES_PENSION BACK_PAY 150.00 (payroll 2024-04)",
				"2024-02 RES_PENSION WITHHELD:SUSPENDED 150.00 (payroll 2024-02)",
				"2024-03 ELDERLY_ALLOWANCE BACK_PAY 100.00 (payroll 2024-04)",
				"2024-03 RES_PENSION BACK_PAY 150.00 (payroll 2024-04)",
				"2024-03 RES_PENSION WITHHELD:SUSPENDED 150.00 (payroll 2024-03)",
				"2024-04 ELDERLY_ALLOWANCE REGULAR 100.00 (payroll 2024-04)",
				"2024-04 RES_PENSION REGULAR 150.00 (payroll 2024-04)",
			}
			if !slices.Equal(got, wantHeld) {
				t.Errorf("%s's payments:\n%s\nwant\n%s", held, strings.Join(got, "\n"), strings.Join(wantHeld, "\n"))
			}

			// The states as stored: read again, one per entitlement (Open refuses otherwise).
			if _, err := service.Open(ctx, db, service.Options{}); err != nil {
				t.Fatal(err)
			}
			if n, err := db.VerifyAudit(ctx, func(p store.AuditProblem) { t.Errorf("audit: %+v", p) }); err != nil || n == 0 {
				t.Fatalf("verify: %d rows, %v", n, err)
			}
		})
	}
}

// pensionAmount is the monthly amount the roster text gives id's benefit.
func pensionAmount(t *testing.T, text []byte, id, benefit string) string {
	t.Helper()
	for _, l := range strings.Split(string(text), "\n") {
		if f := strings.Split(l, ","); len(f) > 10 && f[0] == id && f[8] == benefit {
			return f[9]
		}
	}
	t.Fatalf("no %s for %s", benefit, id)
	return ""
}
