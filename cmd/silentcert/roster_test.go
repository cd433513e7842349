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

// TestIngestRosterMovedMonths: what `ingest --roster` says of a roster that moves an
// entitlement's end_month over payrolls already run. ids[0]'s EMP_PENSION, paid in January
// and February, now ends in December 2023: the two months are overpaid, named, and on
// `payroll --recoveries`. ids[1]'s ended in December 2023 (his allowance paid on) and now
// runs on: January and February, whose payrolls ran without it, are named as arrears.
// Before, the command said nothing of either, and nothing was to recover.
func TestIngestRosterMovedMonths(t *testing.T) {
	dir := t.TempDir()
	dsn := "sqlite:" + filepath.Join(dir, "db")
	ids := []string{"371002194003150019", "371002194202020014"}
	roster := func(name, end0, end1 string) string {
		p := filepath.Join(dir, name)
		text := "person_id,name,sex,birth_date,hukou_address,region_code,phone,agent_phone,benefit_type,monthly_amount,start_month,end_month,offset_capacity,last_certified\n" +
			ids[0] + ",张三,1,1940-03-15,,371002001001,,,EMP_PENSION,2000.00,2000-01," + end0 + ",,2023-12-01\n" +
			ids[1] + ",周十,1,1942-02-02,,371002001001,,,EMP_PENSION,2000.00,2000-01," + end1 + ",,2023-12-01\n" +
			ids[1] + ",周十,1,1942-02-02,,371002001001,,,ELDERLY_ALLOWANCE,100.00,2020-01,,,2023-12-01\n"
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if code, _, se := cli("ingest", "--db", dsn, "--roster", roster("a.csv", "", "2023-12")); code != 0 {
		t.Fatalf("the first roster: exit %d, %s", code, se)
	}
	for _, d := range []string{"2024-01-01", "2024-02-01"} {
		if code, _, se := cli("run-day", "--db", dsn, "--day", d); code != 0 {
			t.Fatalf("run-day %s: exit %d, %s", d, code, se)
		}
	}
	code, out, se := cli("ingest", "--db", dsn, "--roster", roster("b.csv", "2023-12", ""))
	if code != 0 {
		t.Fatalf("the second roster: exit %d, %s", code, se)
	}
	for _, want := range []string{"2 people had an entitlement's start_month or end_month moved over months already run",
		"2 months of them not paid by this system", "  " + idcard.Mask(ids[1]) + " EMP_PENSION 2 months, 2024-01 to 2024-02\n",
		"2 months of them paid that the entitlement no longer covers: overpaid, to recover", "  " + idcard.Mask(ids[0]) + " EMP_PENSION 2 months, 2024-01 to 2024-02\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("the second roster's message lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, ids[0]) || strings.Contains(out, ids[1]) {
		t.Errorf("an ID number unmasked:\n%s", out)
	}
	rec := filepath.Join(dir, "recoveries.csv")
	if code, _, se := cli("payroll", "--db", dsn, "--month", "2024-02", "--out", filepath.Join(dir, "payroll.csv"), "--recoveries", rec); code != 0 {
		t.Fatalf("payroll --recoveries: exit %d, %s", code, se)
	}
	b, err := os.ReadFile(rec)
	if err != nil {
		t.Fatal(err)
	}
	if want := "\n" + ids[0] + ",EMP_PENSION,2,4000.00,0.00,4000.00,"; !strings.Contains(string(b), want) || strings.Count(string(b), "\n") != 2 {
		t.Errorf("payroll --recoveries:\n%s\nwant one row, %s…", b, want)
	}
}
