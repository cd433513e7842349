package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/silentcert/silentcert/idcard"
)

// TestIngestRosterEntitlements: what `ingest --roster` says of the entitlements of people
// already enrolled. A person whose ELDERLY_ALLOWANCE row was quarantined (amount
// "100,00") gets it from the corrected roster, with the January payroll that ran without
// it named as arrears (before, the command said "1 people with other entitlements on the
// roster kept theirs", naming neither the person nor the benefit, and never paid it); a
// roster that drops 22 people's allowance keeps them, and lists each person (masked) and
// benefit, 20 of them and how many more.
func TestIngestRosterEntitlements(t *testing.T) {
	dir := t.TempDir()
	dsn := "sqlite:" + filepath.Join(dir, "db")
	ids := make([]string, 22)
	for i := range ids {
		for _, c := range "0123456789X" {
			if id := fmt.Sprintf("37100219400101%03d%c", i+1, c); idcard.ValidString(id) {
				ids[i] = id
			}
		}
	}
	roster := func(name string, allowance func(i int) string) string {
		var b strings.Builder
		b.WriteString("person_id,name,sex,birth_date,hukou_address,region_code,phone,agent_phone,benefit_type,monthly_amount,start_month,end_month,offset_capacity,last_certified\n")
		for i, id := range ids {
			fmt.Fprintf(&b, "%s,张%d,,,某街1号,371002001001,,,EMP_PENSION,2000.00,2000-01,,,2023-12-01\n", id, i)
			if a := allowance(i); a != "" {
				fmt.Fprintf(&b, "%s,张%d,,,某街1号,371002001001,,,ELDERLY_ALLOWANCE,%s,2020-01,,,2023-12-01\n", id, i, a)
			}
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	damaged := roster("damaged.csv", func(i int) string {
		if i == 0 {
			return `"100,00"`
		}
		return "100.00"
	})
	full := roster("full.csv", func(int) string { return "100.00" })
	dropped := roster("dropped.csv", func(int) string { return "" })

	if code, _, se := cli("ingest", "--db", dsn, "--roster", damaged); code != 0 || !strings.Contains(se, "bad_amount") {
		t.Fatalf("the damaged roster: exit %d, %s", code, se)
	}
	if code, _, se := cli("run-day", "--db", dsn, "--day", "2024-01-01"); code != 0 {
		t.Fatalf("run-day: exit %d, %s", code, se)
	}
	code, out, se := cli("ingest", "--db", dsn, "--roster", full)
	if code != 0 {
		t.Fatalf("the corrected roster: exit %d, %s", code, se)
	}
	for _, want := range []string{"0 added, 1 updated, 21 unchanged", "1 people got an entitlement the roster added, paid from the next payroll on",
		"1 months of them not paid by this system", "  " + idcard.Mask(ids[0]) + " ELDERLY_ALLOWANCE 1 months, 2024-01 to 2024-01\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("the corrected roster's message lacks %q:\n%s", want, out)
		}
	}
	code, out, se = cli("ingest", "--db", dsn, "--roster", dropped)
	if code != 0 {
		t.Fatalf("the roster without allowances: exit %d, %s", code, se)
	}
	if !strings.Contains(out, "22 people hold entitlements the roster no longer names: kept, not removed") ||
		strings.Count(out, " ELDERLY_ALLOWANCE\n") != 20 || !strings.Contains(out, "  "+idcard.Mask(ids[19])+" ELDERLY_ALLOWANCE\n") ||
		!strings.Contains(out, "  and 2 more\n") || strings.Contains(out, ids[0]) {
		t.Errorf("the roster without allowances: the message should list 20 people masked and 2 more:\n%s", out)
	}
}
