package backtest

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"

	sc "github.com/silentcert/silentcert"
	"golang.org/x/text/encoding/simplifiedchinese"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var outputs = []string{"decisions.csv", "status.csv", "payroll.csv", "overpayments.csv", "quarantine.csv", "held.csv", "unlinked.csv", "regions.csv", "report.json"}

func runScenario(t *testing.T, dir string, workers int) string {
	t.Helper()
	out := t.TempDir()
	_, err := Run(context.Background(), Options{
		Roster:  filepath.Join(dir, "roster.csv"),
		Records: []string{filepath.Join(dir, "records")},
		From:    sc.MustDate("2024-01-01"), To: sc.MustDate("2024-12-31"),
		Out: out, Workers: workers,
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestGoldenScenario replays a hand-written city whose files exercise every action of
// spec §7 and the faults it names; the outputs are checked in under testdata/scenario/want.
func TestGoldenScenario(t *testing.T) {
	dir := filepath.Join("testdata", "scenario")
	out := runScenario(t, dir, 2)
	for _, name := range outputs {
		got, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		// Paths in the outputs are as given, with the OS's separators: make them stable.
		got = bytes.ReplaceAll(got, []byte(filepath.FromSlash("testdata/scenario/")), []byte("testdata/scenario/"))
		golden := filepath.Join(dir, "want", name)
		if *update {
			if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(golden, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s:\n%s", name, golden, got)
		}
	}
}

// TestDeterministic: two runs, with one and with three goroutines, give identical bytes.
func TestDeterministic(t *testing.T) {
	dir := filepath.Join("testdata", "scenario")
	a, b := runScenario(t, dir, 1), runScenario(t, dir, 3)
	for _, name := range outputs {
		x, _ := os.ReadFile(filepath.Join(a, name))
		y, _ := os.ReadFile(filepath.Join(b, name))
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between runs", name)
		}
	}
}

// TestUnreadableFileSaysWhy: a file that cannot be read (UTF-16 from Excel) is one row of
// quarantine.csv, which has no column for why; report.json says why, naming the file
// (the reason was written nowhere).
func TestUnreadableFileSaysWhy(t *testing.T) {
	dir := t.TempDir()
	recs := filepath.Join(dir, "records")
	os.MkdirAll(recs, 0o755)
	os.WriteFile(filepath.Join(recs, "u16.csv"), []byte("\xff\xfer\x00e\x00c\x00\n\x00"), 0o644)
	out := t.TempDir()
	if _, err := Run(context.Background(), Options{Roster: filepath.Join("testdata", "scenario", "roster.csv"), Records: []string{recs},
		From: sc.MustDate("2024-01-01"), To: sc.MustDate("2024-01-31"), Out: out}); err != nil {
		t.Fatal(err)
	}
	q, _ := os.ReadFile(filepath.Join(out, "quarantine.csv"))
	rep, _ := os.ReadFile(filepath.Join(out, "report.json"))
	if !bytes.Contains(q, []byte("u16.csv,,,unreadable")) || !bytes.Contains(rep, []byte("u16.csv: line 1: the file is UTF-16 text")) {
		t.Errorf("quarantine:\n%s\nreport:\n%s", q, rep)
	}
}

// TestEncodingGBKLeavesUTF8Roster: --encoding gbk is meant for the departments' GBK
// exports; the agency's own roster beside them is UTF-8. Read as GBK its names were
// garbage (nothing quarantined), and every record naming its person was held as a name
// mismatch — a held death stops no payment. The roster is read as UTF-8 and report.json
// says the forced encoding was not applied to it.
func TestEncodingGBKLeavesUTF8Roster(t *testing.T) {
	dir := t.TempDir()
	roster := filepath.Join(dir, "roster.csv")
	os.WriteFile(roster, []byte("person_id,name,region_code,benefit_type,monthly_amount,start_month,last_certified\n"+
		"110101194002020028,李四,110101001001,RES_PENSION,200,2010-01,2024-01-15\n"), 0o644)
	recs := filepath.Join(dir, "records")
	os.MkdirAll(recs, 0o755)
	gbk, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte("record_id,source,type,person_id,name,event_date,reported_date\n" +
		"d1,PSB,PSB.DEATH_DEREG,110101194002020028,李四,2024-03-05,2024-03-06\n"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(recs, "g.csv"), gbk, 0o644)
	out := t.TempDir()
	if _, err := Run(context.Background(), Options{Roster: roster, Records: []string{recs}, Encoding: "gbk",
		From: sc.MustDate("2024-03-01"), To: sc.MustDate("2024-03-31"), Out: out}); err != nil {
		t.Fatal(err)
	}
	held, _ := os.ReadFile(filepath.Join(out, "held.csv"))
	status, _ := os.ReadFile(filepath.Join(out, "status.csv"))
	rep, _ := os.ReadFile(filepath.Join(out, "report.json"))
	if string(held) != "source,record_id,person_id,reason\n" || !bytes.Contains(status, []byte("110101194002020028,TERMINATED,")) {
		t.Errorf("held:\n%s\nstatus:\n%s", held, status)
	}
	if !bytes.Contains(rep, []byte(roster+": the file is UTF-8")) || !bytes.Contains(rep, []byte(`"gbk": 1`)) {
		t.Errorf("report.json names neither the roster read as UTF-8 nor the GBK file:\n%s", rep)
	}
}

// TestLastCertifiedLaterThanTo: a roster's last_certified after --to is kept as given
// (spec §6: the person is certified on that date), with a warning: read as --to, the same
// roster certified its people until a date that moved with the replay's length
// (2025-03-31 to --to 2024-03-31, 2025-08-31 to --to 2024-09-30).
func TestLastCertifiedLaterThanTo(t *testing.T) {
	dir := t.TempDir()
	roster := filepath.Join(dir, "roster.csv")
	os.WriteFile(roster, []byte("person_id,name,region_code,benefit_type,monthly_amount,start_month,last_certified\n"+
		"110101194503150031,王五,110101001001,EMP_PENSION,1000,2020-01,2024-11-30\n"), 0o644)
	recs := filepath.Join(dir, "records")
	os.MkdirAll(recs, 0o755)
	os.WriteFile(filepath.Join(recs, "a.csv"), []byte("record_id,source,type,person_id,event_date\n"), 0o644)
	for _, to := range []string{"2024-03-31", "2024-09-30"} {
		out := t.TempDir()
		if _, err := Run(context.Background(), Options{Roster: roster, Records: []string{recs},
			From: sc.MustDate("2024-03-01"), To: sc.MustDate(to), Out: out}); err != nil {
			t.Fatal(err)
		}
		status, _ := os.ReadFile(filepath.Join(out, "status.csv"))
		rep, _ := os.ReadFile(filepath.Join(out, "report.json"))
		if !bytes.Contains(status, []byte("110101194503150031,CERTIFIED,2025-11-30,2024-11-30,MIGRATED,")) {
			t.Errorf("--to %s: status.csv\n%s", to, status)
		}
		if !bytes.Contains(rep, []byte("last_certified 2024-11-30 is later than "+to+": kept as given")) {
			t.Errorf("--to %s: no warning:\n%s", to, rep)
		}
	}
}
