package sim

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/silentcert/silentcert"
)

func TestAUC(t *testing.T) {
	cases := []struct {
		s    []float64
		pos  []bool
		want float64
	}{
		{[]float64{0.1, 0.2, 0.8, 0.9}, []bool{false, false, true, true}, 1},
		{[]float64{0.9, 0.8, 0.2, 0.1}, []bool{false, false, true, true}, 0},
		{[]float64{0.5, 0.5, 0.5, 0.5}, []bool{false, true, false, true}, 0.5},
		{[]float64{0.1, 0.4, 0.35, 0.8}, []bool{false, false, true, true}, 0.75},
	}
	for _, c := range cases {
		if got := AUC(c.s, c.pos); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("AUC(%v, %v) = %g, want %g", c.s, c.pos, got, c.want)
		}
	}
	if !math.IsNaN(AUC([]float64{1, 2}, []bool{true, true})) {
		t.Error("AUC with one class should be NaN")
	}
	pts := roc([]float64{0.1, 0.2, 0.8, 0.9}, []bool{false, false, true, true})
	if pts[0] != [2]float64{0, 0} || pts[len(pts)-1] != [2]float64{1, 1} {
		t.Errorf("roc %v", pts)
	}
}

// TestSilentUnasked: an answer counts as silent only when no reminder of the run was
// outstanding and the data certified the person through --to.
func TestSilentUnasked(t *testing.T) {
	d := func(s string) silentcert.Date {
		x, err := silentcert.ParseDate(s)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	to := d("2025-12-31")
	truth := map[string]Truth{}
	for _, id := range []string{"strong", "unasked", "asked", "short", "migrated", "dead", "face-then-weak"} {
		truth[id] = Truth{Death: silentcert.NoDate, FirstReport: silentcert.NoDate}
	}
	truth["dead"] = Truth{Death: d("2025-03-01"), FirstReport: silentcert.NoDate}
	st := silentTracker{truth: truth, people: map[string]*silentPerson{}}
	rows := [][4]string{
		{"strong", "CERTIFIED", "STRONG", "until=2026-05-01;certified_on=2025-05-01"},
		// certified by data through 2026-03, then a face answer nobody asked for
		{"unasked", "CERTIFIED", "WEAK", "until=2026-03-01;certified_on=2025-03-01;p_alive=0.990"},
		{"unasked", "CERTIFIED", "FACE", "until=2026-06-01;certified_on=2025-06-01"},
		// warned, then answered
		{"asked", "CERTIFIED", "STRONG", "until=2026-03-01;certified_on=2025-03-01"},
		{"asked", "WARNING", "", "until=2026-01-01"},
		{"asked", "CERTIFIED", "FACE", "until=2026-11-01;certified_on=2025-11-01"},
		// unasked, but the data ran out before --to
		{"short", "CERTIFIED", "STRONG", "until=2025-10-01;certified_on=2024-10-01"},
		{"short", "CERTIFIED", "COUNTER", "until=2026-06-01;certified_on=2025-06-01"},
		{"dead", "CERTIFIED", "FACE", "until=2026-01-01;certified_on=2025-01-01"},
		{"face-then-weak", "WARNING", "", "until=2025-02-01"},
		{"face-then-weak", "CERTIFIED", "FACE", "until=2026-01-01;certified_on=2025-01-10"},
		{"face-then-weak", "CERTIFIED", "WEAK", "until=2026-09-01;certified_on=2025-09-01"},
	}
	for _, r := range rows {
		st.row(r[0], r[1], r[2], r[3])
	}
	dir := t.TempDir()
	status := "person_id,status,certified_until,last_certified,last_method,death_date\n" +
		"strong,CERTIFIED,,,STRONG,\nunasked,CERTIFIED,,,FACE,\nasked,CERTIFIED,,,FACE,\nshort,CERTIFIED,,,COUNTER,\n" +
		"migrated,CERTIFIED,,,MIGRATED,\ndead,CERTIFIED,,,FACE,\nface-then-weak,CERTIFIED,,,WEAK,\n"
	if err := os.WriteFile(filepath.Join(dir, "status.csv"), []byte(status), 0o644); err != nil {
		t.Fatal(err)
	}
	var su SilentUnasked
	if err := su.read(filepath.Join(dir, "status.csv"), &st, to); err != nil {
		t.Fatal(err)
	}
	want := SilentUnasked{Share: round4(3.0 / 6), Silent: 2, Unasked: 1, Asked: 1, Uncover: 1, Migrated: 1, Living: 6}
	if su != want {
		t.Errorf("got %+v, want %+v", su, want)
	}
}

// truth.csv's card_use_reported is read when present, and a scenario written before the
// column still reads (its card use not known).
func TestReadTruthCardUse(t *testing.T) {
	dir := t.TempDir()
	head := "person_id,death_date,first_death_report,fraud"
	write := func(s string) {
		if err := os.WriteFile(filepath.Join(dir, "truth.csv"), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(head + ",card_use_reported\nA,2024-03-01,,1,2024-03-20\nB,2024-03-01,,1,\n")
	tr, err := ReadTruth(dir)
	if err != nil {
		t.Fatal(err)
	}
	if a := tr["A"]; !a.CardUseKnown || a.CardUse != silentcert.MakeDate(2024, 3, 20) {
		t.Errorf("A: %+v", a)
	}
	if b := tr["B"]; !b.CardUseKnown || b.CardUse != silentcert.NoDate {
		t.Errorf("B: %+v", b)
	}
	write(head + "\nA,2024-03-01,,1\n")
	if tr, err = ReadTruth(dir); err != nil || tr["A"].CardUseKnown {
		t.Errorf("without the column: %+v, %v", tr["A"], err)
	}
	write(head + ",card_use_reported\nA,2024-03-01,,1,soon\n")
	if _, err = ReadTruth(dir); err == nil || !strings.Contains(err.Error(), "card_use_reported") {
		t.Errorf("a bad date: %v, want an error naming the column", err)
	}
}

// ReadOutcomes gives each person of status.csv their confirmed death and the day of their
// first TERMINATED row; a person not TERMINATED is alive, whatever other rows say.
func TestReadOutcomes(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("status.csv", "person_id,status,certified_until,last_certified,last_method,death_date\n"+
		"A,TERMINATED,,2023-05-01,STRONG,2024-02-03\nB,CERTIFIED,2025-01-01,2024-01-01,STRONG,\n")
	write("decisions.csv", "date,person_id,action,method,evidence,detail\n"+
		"2024-01-10,A,CERTIFIED,WEAK,X:1,\n2024-05-20,A,TERMINATED,,PSB:9,death_date=2024-02-03\n2024-06-01,A,TERMINATED,,CIV:3,death_date=2024-02-03\n"+
		"2024-03-01,B,RISK,,BANK:4,score=0.5\n")
	out, err := ReadOutcomes(dir)
	if err != nil {
		t.Fatal(err)
	}
	a, b := out["A"], out["B"]
	if a.Death != silentcert.MakeDate(2024, 2, 3) || a.FirstReport != silentcert.MakeDate(2024, 5, 20) || !a.CardUseKnown || a.CardUse != silentcert.NoDate {
		t.Errorf("A: %+v", a)
	}
	if b.Death != silentcert.NoDate || b.FirstReport != silentcert.NoDate || len(out) != 2 {
		t.Errorf("B: %+v (%d people)", b, len(out))
	}
	write("status.csv", "person_id,status,death_date\nA,TERMINATED,2024-02-30\n")
	if _, err := ReadOutcomes(dir); err == nil || !strings.Contains(err.Error(), "status.csv line 2") {
		t.Errorf("a bad death date: %v, want the file and line named", err)
	}
}

// The trade-off: with ten living people a year scored 0.1…1.0 and hidden deaths scored
// 0.95, 0.5 and 0 (no trace), flagging 10 % (one person: the threshold is 0.9, a death
// must score above it) finds one, 50 % (above 0.5) still one, 95 % (above 0.1) two; the
// death without a scored trace is never found.
func TestFoundAtShares(t *testing.T) {
	living := map[int][]float64{2024: {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0}}
	people := map[int]int{2024: 10}
	old := tradeoffShares
	defer func() { tradeoffShares = old }()
	tradeoffShares = []float64{0.1, 0.5, 0.95}
	got := foundAtShares(living, people, []float64{0.95, 0.5, 0})
	want := []FoundAt{{0.1, 1, 3}, {0.5, 1, 3}, {0.95, 2, 3}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}
