package sim

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/divisions"
	"github.com/silentcert/silentcert/exchange"
	"github.com/silentcert/silentcert/idcard"
)

var (
	tmpRoot    string
	smallOnce  sync.Once
	smallDir   string
	smallScn   *Scenario
	smallErr   error
	smallOpts  Options
	divTab     *divisions.Table
	divTabErr  error
	divTabOnce sync.Once
)

func TestMain(m *testing.M) {
	var err error
	tmpRoot, err = os.MkdirTemp("", "simtest")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(tmpRoot)
	os.Exit(code)
}

func table(t testing.TB) *divisions.Table {
	divTabOnce.Do(func() { divTab, divTabErr = divisions.Embedded() })
	if divTabErr != nil {
		t.Fatal(divTabErr)
	}
	return divTab
}

func smallOptions(dir string) Options {
	return Options{City: "3710", Recipients: 2000, From: silentcert.MustDate("2024-01-01"), To: silentcert.MustDate("2024-12-31"),
		Seed: 42, Out: dir, Workers: 2, HistoryMonths: 3}
}

// small returns a 2,000-person Weihai scenario, written once per test binary.
func small(t testing.TB) (string, *Scenario) {
	smallOnce.Do(func() {
		smallDir = filepath.Join(tmpRoot, "small")
		smallOpts = smallOptions(smallDir)
		smallOpts.Divisions = table(t)
		smallScn, smallErr = Simulate(context.Background(), smallOpts)
	})
	if smallErr != nil {
		t.Fatal(smallErr)
	}
	return smallDir, smallScn
}

func readAllCSV(t testing.TB, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	head, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]string
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		m := map[string]string{}
		for i, h := range head {
			m[h] = rec[i]
		}
		out = append(out, m)
	}
}

func TestDefaultRatesValidAndRoundTrip(t *testing.T) {
	r := DefaultRates()
	if err := r.Validate(silentcert.DefaultCatalogue()); err != nil {
		t.Fatal(err)
	}
	back, err := ParseRates("printed", r.JSON())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back.JSON(), r.JSON()) {
		t.Fatal("printing the default rates and reading them back changed them")
	}
}

func TestParseRatesMergesIntoDefaults(t *testing.T) {
	r, err := ParseRates("what-if.json", []byte(`{"sources": {"TRN": {"stop_after": "2024-06-30"}}, "types": {"BANK.TXN": {"per_year": {"urban": 5}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	d := DefaultRates()
	if r.Sources["TRN"].StopAfter != "2024-06-30" || r.Sources["TRN"].Format != d.Sources["TRN"].Format || r.Sources["TRN"].Multiplier != 1 {
		t.Fatalf("TRN after merge: %+v", r.Sources["TRN"])
	}
	if got := r.Types["BANK.TXN"]; got.PerYear.Urban != 5 || got.PerYear.Rural != d.Types["BANK.TXN"].PerYear.Rural || got.Mode != modePoisson {
		t.Fatalf("BANK.TXN after merge: %+v", got)
	}
	if r.Types["TEL.ACTIVITY"].Delay != d.Types["TEL.ACTIVITY"].Delay {
		t.Fatal("a type the file did not name changed")
	}
}

func TestParseRatesRejects(t *testing.T) {
	for name, in := range map[string]string{
		"unknown key":       `{"population": {"urbanshare": 0.5}}`,
		"share over 1":      `{"population": {"urban_share": 1.5}}`,
		"unknown type":      `{"types": {"TEL.SMS": {"mode": "poisson", "delay": {"batch": "daily"}}}}`,
		"unknown source":    `{"sources": {"XYZ": {"format": "csv"}}}`,
		"bad stop date":     `{"sources": {"TRN": {"stop_after": "2024-13-01"}}}`,
		"bad format":        `{"sources": {"TEL": {"format": "xlsx"}}}`,
		"season not mean 1": `{"mortality": {"season": [2,2,2,2,2,2,2,2,2,2,2,2]}}`,
		"not an object":     `[1, 2]`,
		"bad mode":          `{"types": {"TEL.ACTIVITY": {"mode": "hourly"}}}`,
		"death as natural":  `{"types": {"PSB.HUKOU_MOVE": {"mode": "poisson"}}}`,
		"missing columns":   `{"sources": {"TEL": {"columns": ["record_id"]}}}`,
		"negative lag":      `{"types": {"TEL.ACTIVITY": {"delay": {"batch": "daily", "lag_min_days": 3, "lag_max_days": 1}}}}`,
		"bad modifier flag": `{"types": {"TEL.ACTIVITY": {"modifiers": {"wealthy": {"rate": 2}}}}}`,
		"monthly over 12":   `{"types": {"TEL.ACTIVITY": {"per_year": {"urban": 13}}}}`,
	} {
		if _, err := ParseRates(name, []byte(in)); err == nil {
			t.Errorf("%s: accepted %s", name, in)
		} else if silentcert.ErrorCode(err) != silentcert.EInvalid {
			t.Errorf("%s: error code %q, want invalid", name, silentcert.ErrorCode(err))
		}
	}
}

func FuzzParseRates(f *testing.F) {
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"sources": {"TRN": {"stop_after": "2024-06-30", "multiplier": 0}}}`))
	f.Add([]byte(`{"population": {"age_bands": [{"from": 60, "to": 70, "share": 1, "female": 0.5}]}}`))
	f.Add([]byte(`{"types": {"TRN.TRANSIT": {"season": [1,1,1,1,1,1,1,1,1,1,1,1]}}}`))
	f.Add([]byte(`{"deaths": {"channels": {"PSB.DEATH_DEREG": {"share": {"urban": 1}}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseRates("fuzz", data)
		if err != nil {
			return
		}
		// Whatever was accepted must print and read back to itself.
		back, err := ParseRates("printed", r.JSON())
		if err != nil {
			t.Fatalf("accepted rates do not read back: %v", err)
		}
		if !bytes.Equal(back.JSON(), r.JSON()) {
			t.Fatal("accepted rates changed when printed and read back")
		}
	})
}

// TestMortalityMatchesWPP draws deaths for many person-years and compares deaths over
// exposure with the WPP rates, cell by cell (sex × age group), within sampling error.
func TestMortalityMatchesWPP(t *testing.T) {
	lt, err := loadLifeTable()
	if err != nil {
		t.Fatal(err)
	}
	from, to := silentcert.MustDate("2024-07-01"), silentcert.MustDate("2025-06-30") // one WPP period: 2020-2025
	season := [12]float64{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}
	type cell struct{ deaths, years float64 }
	var cells [2][wppGroups]cell
	g := newRNG()
	n := 0
	for age := 55; age <= 104; age++ {
		for sex := 1; sex <= 2; sex++ {
			for k := 0; k < 2500; k++ {
				g.seed(7, 99, n)
				n++
				birth := from.AddMonths(-12*age) - silentcert.Date(g.intn(365))
				death, _ := lt.sampleDeath(g, sex, birth, from, to, 1, &season, func(s lifeSegment) {
					cells[sex-1][ageGroup(s.age)].years += float64(s.end-s.start) / 365.25
				})
				if death != silentcert.NoDate {
					cells[sex-1][ageGroup(ageOn(birth, death))].deaths++
				}
			}
		}
	}
	chi2, dof := 0.0, 0
	for s := 0; s < 2; s++ {
		for gi := ageGroup(55); gi < wppGroups; gi++ {
			c := cells[s][gi]
			if c.years < 100 {
				continue
			}
			mx := lt.mx[s][gi][periodIndex(from)]
			exp := mx * c.years
			z := (c.deaths - exp) / math.Sqrt(exp)
			chi2 += z * z
			dof++
			if math.Abs(z) > 4 {
				t.Errorf("sex %d age group %d: %v deaths in %.0f person-years, WPP gives %.1f (z = %.2f)", s+1, gi, c.deaths, c.years, exp, z)
			}
		}
	}
	// The sum of squares of dof standard normals: mean dof, sd sqrt(2·dof).
	if chi2 > float64(dof)+5*math.Sqrt(2*float64(dof)) {
		t.Errorf("chi-square %.1f on %d cells: deaths do not follow the WPP rates", chi2, dof)
	}
	t.Logf("%d cells, chi-square %.1f", dof, chi2)
}

// TestFrailtyKeepsPopulationMortality checks that drawing profiles after deaths keeps
// the city's deaths at the WPP expectation while the frail die more often.
func TestFrailtyKeepsPopulationMortality(t *testing.T) {
	opt := smallOptions(t.TempDir())
	opt.Recipients = 30000
	opt.Divisions = table(t)
	gen, err := newGenerator(&opt)
	if err != nil {
		t.Fatal(err)
	}
	w := newWorker(gen)
	var deaths, expected, variance float64
	var frailDead, frailN, otherDead, otherN float64
	for i := 0; i < opt.Recipients; i++ {
		p := &w.p
		*p = person{idx: i}
		gen.drawBase(w.g, i, &p.base)
		w.g.seed(gen.seed, streamLife, i)
		w.life(p)
		// The window's cumulative hazard, drawn again on a fresh stream.
		g := newRNG()
		g.seed(1, 1, i)
		_, h := gen.life.sampleDeath(g, p.sex, p.birth, gen.from, gen.to, 1, &gen.rates.Mortality.Season, nil)
		q := 1 - math.Exp(-h)
		expected += q
		variance += q * (1 - q)
		dead := 0.0
		if p.death != silentcert.NoDate {
			dead = 1
		}
		deaths += dead
		if p.age0 >= 75 && p.age0 < 90 {
			if p.has(flFrail) {
				frailDead += dead
				frailN++
			} else {
				otherDead += dead
				otherN++
			}
		}
	}
	if z := (deaths - expected) / math.Sqrt(variance); math.Abs(z) > 4 {
		t.Errorf("%v deaths, WPP expects %.1f (z = %.2f)", deaths, expected, z)
	}
	rr := (frailDead / frailN) / (otherDead / otherN)
	if rr < 1.8 {
		t.Errorf("frail people aged 75–89 die %.2f times as often as others; want about %v", rr, gen.rates.Profiles.FrailRisk)
	}
	t.Logf("deaths %v, expected %.1f; frail relative risk %.2f", deaths, expected, rr)
}

func TestVillageCodesReal(t *testing.T) {
	dir, _ := small(t)
	tab := table(t)
	isVillage := func(code string) bool {
		d, ok := tab.Lookup(code)
		return ok && d.Level == divisions.LevelVillage && strings.HasPrefix(code, "3710")
	}
	for _, r := range readAllCSV(t, filepath.Join(dir, "truth.csv")) {
		if !isVillage(r["village_code"]) {
			t.Fatalf("truth village_code %q is not a Weihai village", r["village_code"])
		}
		if r["moved_to"] != "" && !isVillage(r["moved_to"]) {
			t.Fatalf("truth moved_to %q is not a Weihai village", r["moved_to"])
		}
	}
	omitted, rows := 0, 0
	for _, r := range readAllCSV(t, filepath.Join(dir, "roster.csv")) {
		rows++
		if r["region_code"] == "" {
			omitted++
			continue
		}
		if !isVillage(r["region_code"]) {
			t.Fatalf("roster region_code %q is not a Weihai village", r["region_code"])
		}
	}
	if share := float64(omitted) / float64(rows); share < 0.05 || share > 0.15 {
		t.Errorf("%.3f of roster rows leave region_code out, want about 0.10", share)
	}
	// Record region codes are real codes or prefixes of them.
	forEachRecord(t, dir, func(file string, row *exchange.RecordRow) {
		if len(row.RegionCode) == 0 {
			return
		}
		if _, ok := tab.Lookup(string(row.RegionCode)); !ok {
			t.Fatalf("%s:%d: region_code %q is not a division", file, row.Line, row.RegionCode)
		}
	}, nil)
}

// forEachRecord reads every record file of a scenario with the exchange reader.
func forEachRecord(t testing.TB, dir string, row func(string, *exchange.RecordRow), problem func(string, *exchange.Problem)) {
	t.Helper()
	files, _, err := exchange.ListRecordFiles(filepath.Join(dir, "records"))
	if err != nil {
		t.Fatal(err)
	}
	cat := silentcert.DefaultCatalogue()
	for _, f := range files {
		rr, err := exchange.OpenRecords(f, cat, exchange.Options{})
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(dir, f)
		rel = filepath.ToSlash(rel)
		for {
			r, p, err := rr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", rel, err)
			}
			if p != nil {
				if problem != nil {
					problem(rel, p)
				}
				continue
			}
			row(rel, r)
		}
		rr.Close()
	}
}

// TestRecordsValid reads every record back with the exchange reader: the only rows it
// rejects are the malformed rows the simulator says it injected, file by file; every
// other row is valid, and an invalid ID number or a missing one is a listed fault.
func TestRecordsValid(t *testing.T) {
	dir, scn := small(t)
	faults := readAllCSV(t, filepath.Join(dir, "faults.csv"))
	malformed := map[string]int{}
	idFault := map[string]bool{}
	kinds := map[string]int{}
	for _, f := range faults {
		kinds[f["kind"]]++
		if strings.HasPrefix(f["kind"], "malformed:") {
			malformed[f["file"]]++
		}
		switch f["kind"] {
		case "id_typo", "id_15_digit", "id_missing":
			idFault[f["source"]+":"+f["record_id"]] = true
		}
	}
	for k, v := range kinds {
		if scn.Faults[k] != int64(v) {
			t.Errorf("fault %s: %d rows in faults.csv, scenario.json says %d", k, v, scn.Faults[k])
		}
	}
	for _, k := range []string{"id_typo", "id_15_digit", "id_missing", "name_variant", "name_mismatch", "duplicate",
		"duplicate_changed", "no_reported_date", "id_lower_x"} {
		if kinds[k] == 0 {
			t.Errorf("no %s fault was injected", k)
		}
	}
	problems := map[string]int{}
	rows := int64(0)
	from, to := silentcert.MustDate(scn.HistoryFrom), silentcert.MustDate(scn.To)
	forEachRecord(t, dir, func(file string, r *exchange.RecordRow) {
		rows++
		src := strings.Split(file, "/")[1]
		if string(r.Source) != src {
			t.Fatalf("%s:%d: source %s in %s's directory", file, r.Line, r.Source, src)
		}
		rep := r.ReportedDate
		if rep == silentcert.NoDate {
			rep = r.EventDate
		}
		if rep < from || rep > to || r.EventDate > rep {
			t.Fatalf("%s:%d: event %s reported %s outside %s..%s", file, r.Line, r.EventDate, rep, from, to)
		}
		if month := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(file), ".gz"), filepath.Ext(strings.TrimSuffix(file, ".gz"))); rep.Month().String() != month {
			t.Fatalf("%s:%d: reported %s in the file of %s", file, r.Line, rep, month)
		}
		if !idcard.Valid(r.PersonID) && !idFault[src+":"+string(r.RecordID)] {
			t.Fatalf("%s:%d: invalid person_id %q is not a listed fault", file, r.Line, r.PersonID)
		}
	}, func(file string, p *exchange.Problem) {
		problems[file]++
		rows++
	})
	for f, n := range problems {
		if malformed[f] != n {
			t.Errorf("%s: the reader rejected %d rows, the simulator injected %d malformed", f, n, malformed[f])
		}
	}
	for f, n := range malformed {
		if problems[f] != n {
			t.Errorf("%s: %d malformed rows injected, the reader rejected %d", f, n, problems[f])
		}
	}
	if rows != scn.Counts["record_rows"] {
		t.Errorf("read %d rows, scenario.json says %d were written", rows, scn.Counts["record_rows"])
	}
	// GBK departments really are GBK, and the reader says so.
	for _, src := range []string{"CIV", "PSB"} {
		files, _ := filepath.Glob(filepath.Join(dir, "records", src, "*"))
		if len(files) == 0 {
			t.Fatalf("no %s files", src)
		}
		rr, err := exchange.OpenRecords(files[len(files)-1], silentcert.DefaultCatalogue(), exchange.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for {
			if _, _, err := rr.Next(); err != nil {
				break
			}
		}
		if enc := rr.Encoding(); enc != "gb18030" && enc != "gbk" {
			t.Errorf("%s: read as %s, want GBK/GB18030", files[len(files)-1], enc)
		}
		rr.Close()
	}
}

func TestRosterReadsBack(t *testing.T) {
	dir, scn := small(t)
	ros, err := exchange.ReadRoster(filepath.Join(dir, "roster.csv"), exchange.RosterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The only rows quarantined are the later rows filed under another name
	// (faults.roster_name_conflict), each counted on its person.
	for _, p := range ros.Problems {
		if p.Field != "name" || p.Reason != exchange.ReasonDisagreesWithPerson {
			t.Fatalf("roster row quarantined: %+v", p)
		}
	}
	conflicts := 0
	for _, r := range ros.Recipients {
		conflicts += r.NameConflicts
	}
	if int64(len(ros.Problems)) != scn.Faults["roster_name_conflict"] || conflicts != len(ros.Problems) {
		t.Fatalf("%d rows quarantined, %d counted on people, %d name conflicts injected", len(ros.Problems), conflicts, scn.Faults["roster_name_conflict"])
	}
	if len(ros.Recipients) != scn.Recipients || int64(ros.Rows) != scn.Counts["roster_rows"] {
		t.Fatalf("roster: %d recipients in %d rows, scenario says %d in %d", len(ros.Recipients), ros.Rows, scn.Recipients, scn.Counts["roster_rows"])
	}
	var emp, res []float64
	for _, r := range ros.Recipients {
		for _, e := range r.Entitlements {
			switch e.Benefit {
			case "EMP_PENSION":
				emp = append(emp, float64(e.Monthly)/100)
			case "RES_PENSION":
				res = append(res, float64(e.Monthly)/100)
			}
		}
	}
	// Urban employees' pensions are in thousands of yuan, rural residents' in hundreds.
	if m := statsOf(emp).Median; m < 2000 || m > 5000 {
		t.Errorf("median EMP_PENSION %v yuan", m)
	}
	if m := statsOf(res).Median; m < 120 || m > 600 {
		t.Errorf("median RES_PENSION %v yuan", m)
	}
}

// TestAddressesResolve checks that the addresses people write lead back to their village
// through the project's resolver for most people.
func TestAddressesResolve(t *testing.T) {
	dir, _ := small(t)
	res := divisions.NewResolver(table(t), divisions.Options{City: "3710"})
	truth := map[string]string{}
	for _, r := range readAllCSV(t, filepath.Join(dir, "truth.csv")) {
		truth[r["person_id"]] = r["village_code"]
	}
	seen := map[string]bool{}
	ok, n := 0, 0
	for _, r := range readAllCSV(t, filepath.Join(dir, "roster.csv")) {
		if seen[r["person_id"]] {
			continue
		}
		seen[r["person_id"]] = true
		n++
		if got := res.Resolve(r["hukou_address"]); got.Code == truth[r["person_id"]] {
			ok++
		}
	}
	share := float64(ok) / float64(n)
	t.Logf("%d of %d addresses resolve to the person's village (%.3f)", ok, n, share)
	if share < 0.8 {
		t.Errorf("only %.3f of addresses resolve to the person's village", share)
	}
}

func hashTree(t testing.TB, dir string) map[string][32]byte {
	t.Helper()
	out := map[string][32]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[rel] = sha256.Sum256(data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDeterministic(t *testing.T) {
	dir, _ := small(t)
	want := hashTree(t, dir)
	for _, workers := range []int{1, 3} {
		opt := smallOptions(filepath.Join(t.TempDir(), "again"))
		opt.Workers = workers
		opt.Divisions = table(t)
		if _, err := Simulate(context.Background(), opt); err != nil {
			t.Fatal(err)
		}
		got := hashTree(t, opt.Out)
		if len(got) != len(want) {
			t.Fatalf("%d workers: %d files, first run %d", workers, len(got), len(want))
		}
		for name, h := range want {
			if got[name] != h {
				t.Fatalf("%d workers: %s differs from the first run", workers, name)
			}
		}
	}
}

func TestRefusesToMixScenarios(t *testing.T) {
	dir, _ := small(t)
	opt := smallOptions(dir)
	opt.Divisions = table(t)
	_, err := Simulate(context.Background(), opt)
	if silentcert.ErrorCode(err) != silentcert.EConflict {
		t.Fatalf("simulating into a scenario directory: %v, want a conflict error", err)
	}
}

// TestTransitStops is the analyst's question: what if the transit data stop?
func TestTransitStops(t *testing.T) {
	dir, base := small(t)
	rates, err := ParseRates("no-transit", []byte(`{"sources": {"TRN": {"stop_after": "2024-06-30"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	opt := smallOptions(filepath.Join(t.TempDir(), "notransit"))
	opt.Rates = rates
	opt.Divisions = table(t)
	scn, err := Simulate(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	stop := silentcert.MustDate("2024-06-30")
	forEachRecord(t, opt.Out, func(file string, r *exchange.RecordRow) {
		if string(r.Source) == "TRN" && r.EventDate > stop {
			t.Fatalf("%s:%d: a TRN record dated %s after the transit data stopped", file, r.Line, r.EventDate)
		}
	}, nil)
	if scn.Sources["TRN"].Rows >= base.Sources["TRN"].Rows*3/4 {
		t.Errorf("TRN rows %d with the data stopped mid-year, %d without", scn.Sources["TRN"].Rows, base.Sources["TRN"].Rows)
	}
	// Each type draws from its own stream: the people and their deaths are the same.
	if a, b := readFile(t, filepath.Join(opt.Out, "roster.csv")), readFile(t, filepath.Join(dir, "roster.csv")); !bytes.Equal(a, b) {
		t.Error("stopping a source changed the roster")
	}
	if scn.Counts["deaths"] != base.Counts["deaths"] {
		t.Errorf("stopping a source changed the deaths: %d, was %d", scn.Counts["deaths"], base.Counts["deaths"])
	}
}

func readFile(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestTruthIsConsistent checks the ground truth against the records written.
func TestTruthIsConsistent(t *testing.T) {
	dir, scn := small(t)
	from, to := silentcert.MustDate(scn.From), silentcert.MustDate(scn.To)
	truth := readAllCSV(t, filepath.Join(dir, "truth.csv"))
	if len(truth) != scn.Recipients {
		t.Fatalf("%d truth rows for %d recipients", len(truth), scn.Recipients)
	}
	deaths, fraud, never := 0, 0, 0
	byID := map[string]map[string]string{}
	for _, r := range truth {
		byID[r["person_id"]] = r
		if r["death_date"] == "" {
			if r["fraud"] == "1" || r["death_report"] != "" {
				t.Fatalf("living person with death fields: %v", r)
			}
			continue
		}
		deaths++
		d := silentcert.MustDate(r["death_date"])
		if d < from || d > to {
			t.Fatalf("death %s outside the window", d)
		}
		if r["fraud"] == "1" {
			fraud++
		}
		if r["death_report"] == "never" {
			never++
		}
		if fr := r["first_death_report"]; fr != "" && silentcert.MustDate(fr) < d {
			t.Fatalf("death reported on %s before it happened on %s", fr, d)
		}
	}
	if int64(deaths) != scn.Counts["deaths"] {
		t.Errorf("%d deaths in truth, %d in scenario.json", deaths, scn.Counts["deaths"])
	}
	// About 4–6% of a pensioner population dies in a year.
	if rate := float64(deaths) / float64(len(truth)); rate < 0.025 || rate > 0.08 {
		t.Errorf("%.3f of recipients died in a year", rate)
	}
	if fraud == 0 {
		t.Error("no fraud case in 2,000 people")
	}
	// Every clean death record is reported on or after first_death_report, and a
	// person with one has a first_death_report.
	forEachRecord(t, dir, func(file string, r *exchange.RecordRow) {
		if silentcert.DefaultCatalogue().Type(r.Type).Class != silentcert.ClassDeath {
			return
		}
		tr := byID[string(r.PersonID)]
		if tr == nil || tr["death_date"] == "" {
			return // a wrong-person record or a corrupted ID
		}
		rep := r.ReportedDate
		if rep == silentcert.NoDate {
			rep = r.EventDate
		}
		if tr["first_death_report"] == "" {
			t.Fatalf("%s:%d: death record of a person whose truth lists no report", file, r.Line)
		}
		if first := silentcert.MustDate(tr["first_death_report"]); rep < first && string(r.Name) == tr["name"] {
			t.Fatalf("%s:%d: clean death record reported %s before the truth's first %s", file, r.Line, rep, first)
		}
	}, nil)
	t.Logf("%d deaths, %d never reported, %d fraud", deaths, never, fraud)
}

// TestEvaluateGolden scores a hand-made result against a hand-made scenario.
func TestEvaluateGolden(t *testing.T) {
	dir := filepath.Join("testdata", "eval")
	out := t.TempDir()
	for _, f := range []string{"decisions.csv", "status.csv", "payroll.csv", "overpayments.csv"} {
		data := readFile(t, filepath.Join(dir, "result", f))
		if err := os.WriteFile(filepath.Join(out, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ev, err := Evaluate(filepath.Join(dir, "scenario"), out)
	if err != nil {
		t.Fatal(err)
	}
	if err := ev.WriteFiles(out); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, "table.txt"), []byte(ev.Table()), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"evaluation.json", "evaluation.html", "table.txt"} {
		golden(t, filepath.Join(dir, "want", f), readFile(t, filepath.Join(out, f)))
	}
	// The figures the hand-made case was built to show.
	if ev.DeadCertified.Rows != 1 || ev.DeadCertified.LateRows != 1 {
		t.Errorf("dead certified: %+v, want 1 error row and 1 late-record row", ev.DeadCertified)
	}
	if ev.Silent.Silent != 2 || ev.Silent.Living != 3 {
		t.Errorf("silent: %+v, want 2 of 3", ev.Silent)
	}
	if ev.Overpayment.Avoidable != 300000 || ev.Overpayment.BeforeReport != 300000 {
		t.Errorf("overpayment: %+v", ev.Overpayment)
	}
	if ev.Checks[0].Pass || !ev.Checks[1].Pass || ev.Checks[2].Pass {
		t.Errorf("checks: %+v", ev.Checks)
	}
}

func TestEvaluateErrors(t *testing.T) {
	if _, err := Evaluate(t.TempDir(), t.TempDir()); err == nil || silentcert.ErrorCode(err) != silentcert.EInvalid {
		t.Fatalf("no scenario: %v", err)
	}
	out := t.TempDir()
	os.WriteFile(filepath.Join(out, "decisions.csv"), []byte("date,person_id,action,method,evidence,detail\n2024-13-01,x,PENDING,,,\n"), 0o644)
	_, err := Evaluate(filepath.Join("testdata", "eval", "scenario"), out)
	if err == nil || !strings.Contains(err.Error(), "decisions.csv line 2") {
		t.Fatalf("bad date in decisions.csv: %v", err)
	}
}

// FuzzEvaluateDecisions feeds arbitrary decisions.csv content to the evaluator: it must
// score or refuse, never panic.
func FuzzEvaluateDecisions(f *testing.F) {
	base := filepath.Join("testdata", "eval")
	f.Add(readFile(f, filepath.Join(base, "result", "decisions.csv")))
	f.Add([]byte("date,person_id,action,method,evidence,detail\n2024-03-01,371002194001010011,CERTIFIED,STRONG,,certified_on=bad\n"))
	f.Add([]byte("date,person_id,action\n\"2024-03-01\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		out := t.TempDir()
		for _, name := range []string{"status.csv", "payroll.csv", "overpayments.csv"} {
			if err := os.WriteFile(filepath.Join(out, name), readFile(t, filepath.Join(base, "result", name)), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(out, "decisions.csv"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		ev, err := Evaluate(filepath.Join(base, "scenario"), out)
		if err == nil && ev.Recipients != 4 {
			t.Fatalf("%d recipients", ev.Recipients)
		}
	})
}

var update = flag.Bool("update", false, "rewrite the golden files")

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run with -update after checking the change)", path)
	}
}

// gunzip reads a gzipped file whole (multi-member gzip included).
func gunzip(t testing.TB, p string) []byte {
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(bufio.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(z)
	if err != nil && !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	return b
}

func TestGzipFilesHaveOneHeader(t *testing.T) {
	dir, _ := small(t)
	files, _ := filepath.Glob(filepath.Join(dir, "records", "TEL", "*.csv.gz"))
	if len(files) == 0 {
		t.Fatal("no gzipped TEL files")
	}
	data := gunzip(t, files[len(files)/2])
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	heads := 0
	for _, l := range lines {
		if strings.HasPrefix(l, "record_id,") {
			heads++
		}
	}
	if heads != 1 || !strings.HasPrefix(lines[0], "record_id,") {
		t.Fatalf("%s: %d header lines", files[len(files)/2], heads)
	}
	ids := map[string]int{}
	for _, l := range lines[1:] {
		ids[strings.SplitN(l, ",", 2)[0]]++
	}
	keys := make([]string, 0, len(ids))
	for k := range ids {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) < 100 {
		t.Fatalf("only %d TEL records in a month for 2,000 people", len(keys))
	}
}

// BenchmarkSimulate measures records written per second (one 20,000-person year).
func BenchmarkSimulate(b *testing.B) {
	tab := table(b)
	var rows int64
	for i := 0; i < b.N; i++ {
		opt := smallOptions(filepath.Join(b.TempDir(), "bench"))
		opt.Recipients = 20000
		opt.Workers = 0
		opt.Divisions = tab
		scn, err := Simulate(context.Background(), opt)
		if err != nil {
			b.Fatal(err)
		}
		rows += scn.Counts["record_rows"]
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "records/s")
}

func TestNames(t *testing.T) {
	n, err := DefaultNames()
	if err != nil {
		t.Fatal(err)
	}
	g := newRNG()
	g.seed(1, 1, 1)
	single, dots := 0, 0
	counts := map[string]int{}
	for i := 0; i < 20000; i++ {
		name := n.draw(g, 1+i%2, 1940+i%40, 0.22, 0.002)
		rs := []rune(name)
		if len(rs) < 2 || len(rs) > 16 {
			t.Fatalf("name %q", name)
		}
		if strings.Contains(name, "·") {
			dots++
			continue
		}
		if len(rs) == 2 {
			single++
		}
		counts[string(rs[0])]++
	}
	if dots == 0 || single < 3000 || single > 6000 {
		t.Errorf("%d names with a middle dot, %d with one given character in 20,000", dots, single)
	}
	if counts["王"] < counts["欧"] || counts["王"] < 400 {
		t.Errorf("surname frequencies not followed: 王 %d", counts["王"])
	}
	if dir := "/work/shared/data/names"; fileExists(filepath.Join(dir, "chinesenames_givenname.csv")) {
		cn, err := LoadNames(dir)
		if err != nil {
			t.Fatal(err)
		}
		if name := cn.draw(g, 2, 1950, 0, 0); len([]rune(name)) < 3 {
			t.Errorf("ChineseNames name %q", name)
		}
	}
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// FuzzLoadNames: the run-time name tables are user files; reading them must fail cleanly.
func FuzzLoadNames(f *testing.F) {
	f.Add([]byte("surname,ppm.1930_2008\n王,74861.8\n李,73703.2\n"),
		[]byte("character,n.male,n.female,n.1930_1959,n.1960_1969,n.1970_1979,n.1980_1989\n英,10,900,500,400,300,200\n明,900,10,500,400,300,200\n华,500,500,500,400,300,200\n"))
	f.Add([]byte("\ufeffsurname,ppm.1930_2008\n\"王\",1e400\n"), []byte("character\n"))
	f.Fuzz(func(t *testing.T, fam, giv []byte) {
		n, err := loadNames("fam", bytes.NewReader(fam), "giv", bytes.NewReader(giv))
		if err != nil {
			return
		}
		g := newRNG()
		g.seed(1, 2, 3)
		for sex := 1; sex <= 2; sex++ {
			for _, y := range []int{1930, 1955, 1965, 1990} {
				if n.draw(g, sex, y, 0.5, 0) == "" {
					t.Fatal("empty name")
				}
			}
		}
	})
}

// TestTracesElsewhere checks where traces are located: household bills always at home; a
// living person's bank transactions in another county now and then; a traveller's away
// from the city in the months away; a hidden death's card use after it from one place,
// for some of them outside the dead person's county.
func TestTracesElsewhere(t *testing.T) {
	dir, _ := small(t)
	truth := map[string]map[string]string{}
	for _, r := range readAllCSV(t, filepath.Join(dir, "truth.csv")) {
		truth[r["person_id"]] = r
	}
	awayMonth := map[int]bool{12: true, 1: true, 2: true, 3: true}
	var homeBank, otherBank, awayIn, awayOut int
	post := map[string]map[string]bool{} // fraud person → counties of their card use after the death
	forEachRecord(t, dir, func(file string, r *exchange.RecordRow) {
		p := truth[string(r.PersonID)]
		if p == nil || len(r.RegionCode) == 0 {
			return
		}
		region, home := string(r.RegionCode), p["village_code"]
		moved := p["moved_to"] != ""
		code := silentcert.DefaultCatalogue().Type(r.Type).Code
		dead := p["death_date"] != "" && r.EventDate >= silentcert.MustDate(p["death_date"])
		switch {
		case code == "UTIL.PAYMENT":
			if region != home && region != p["moved_to"] {
				t.Fatalf("%s:%d: a household bill paid at %s, the home is %s", file, r.Line, region, home)
			}
		case dead && p["fraud"] == "1" && (code == "BANK.TXN" || code == "HRSS.CARD_SPEND" || code == "MED.PHARMACY"):
			if post[p["person_id"]] == nil {
				post[p["person_id"]] = map[string]bool{}
			}
			post[p["person_id"]][region[:6]] = true
		case code == "BANK.TXN" && !dead && !moved:
			_, m, _ := r.EventDate.Civil()
			switch {
			case strings.Contains(p["profile"], "traveller") && awayMonth[int(m)]:
				if strings.HasPrefix(region, "3710") {
					awayIn++
				} else {
					awayOut++
				}
			case !strings.Contains(p["profile"], "traveller") && region[:6] == home[:6]:
				homeBank++
			case !strings.Contains(p["profile"], "traveller"):
				otherBank++
				if !strings.HasPrefix(region, "3710") {
					t.Fatalf("%s:%d: a stay-at-home's bank transaction outside the city (%s)", file, r.Line, region)
				}
			}
		}
	}, nil)
	if share := float64(otherBank) / float64(homeBank+otherBank); share < 0.01 || share > 0.08 {
		t.Errorf("%.3f of bank transactions in another county of the city, want 0.02 to 0.05", share)
	}
	if awayOut == 0 || awayIn > awayOut/20 {
		t.Errorf("travellers' bank transactions while away: %d outside the city, %d in it", awayOut, awayIn)
	}
	for id, counties := range post {
		if len(counties) > 2 {
			// The relative's county, or when they live with the dead person, home and now
			// and then another county of the city.
			t.Errorf("%s: card use after the death from %d counties", id, len(counties))
		}
	}
	t.Logf("bank in another county %d of %d; travellers away %d out, %d in; %d fraud cases", otherBank, homeBank+otherBank, awayOut, awayIn, len(post))
}

// TestRelativeElsewhere: with every hidden death's relative living outside the county, all
// card use after the death comes from outside it; with every relative at home, none does
// apart from the occasional trace across the district line.
func TestRelativeElsewhere(t *testing.T) {
	run := func(share string) (outside, all, people int) {
		rates, err := ParseRates("fraud", []byte(`{"deaths": {"never_reported": {"urban": 0.6, "rural": 0.6},
			"fraud": {"if_never_reported": 1, "relative_elsewhere": {"urban": `+share+`, "rural": `+share+`}}}}`))
		if err != nil {
			t.Fatal(err)
		}
		opt := smallOptions(filepath.Join(t.TempDir(), "fraud"))
		opt.Rates, opt.Divisions = rates, table(t)
		if _, err := Simulate(context.Background(), opt); err != nil {
			t.Fatal(err)
		}
		truth := map[string]map[string]string{}
		for _, r := range readAllCSV(t, filepath.Join(opt.Out, "truth.csv")) {
			truth[r["person_id"]] = r
		}
		seen := map[string]bool{}
		forEachRecord(t, opt.Out, func(file string, r *exchange.RecordRow) {
			p := truth[string(r.PersonID)]
			code := silentcert.DefaultCatalogue().Type(r.Type).Code
			if p == nil || p["fraud"] != "1" || len(r.RegionCode) < 6 || (code != "BANK.TXN" && code != "HRSS.CARD_SPEND") ||
				r.EventDate < silentcert.MustDate(p["death_date"]) {
				return
			}
			all++
			seen[p["person_id"]] = true
			if string(r.RegionCode[:6]) != p["village_code"][:6] {
				outside++
			}
		}, nil)
		return outside, all, len(seen)
	}
	if out, all, n := run("1"); n < 5 || out != all {
		t.Errorf("every relative elsewhere: %d of %d traces of %d people outside the county, want all", out, all, n)
	}
	if out, all, n := run("0"); n < 5 || float64(out) > 0.1*float64(all) {
		t.Errorf("every relative at home: %d of %d traces of %d people outside the county, want few", out, all, n)
	}
}

// TestRosterNameConflict: faults.roster_name_conflict files one later roster row of about
// that share of the people with several entitlements under another name, which the
// reader counts on the person; it draws from a stream of its own, so the records, the
// truth and every other roster row are as without it.
func TestRosterNameConflict(t *testing.T) {
	simulate := func(rate string) (Options, *Scenario) {
		rates, err := ParseRates("name-conflicts", []byte(`{"faults": {"roster_name_conflict": `+rate+`}}`))
		if err != nil {
			t.Fatal(err)
		}
		opt := smallOptions(filepath.Join(t.TempDir(), "conflicts"))
		opt.Rates = rates
		opt.Divisions = table(t)
		scn, err := Simulate(context.Background(), opt)
		if err != nil {
			t.Fatal(err)
		}
		return opt, scn
	}
	none, _ := simulate("0")
	dir := none.Out
	opt, scn := simulate("0.2")
	ros, err := exchange.ReadRoster(filepath.Join(opt.Out, "roster.csv"), exchange.RosterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	truth := map[string]string{}
	for _, r := range readAllCSV(t, filepath.Join(opt.Out, "truth.csv")) {
		truth[r["person_id"]] = r["name"]
	}
	// People with several entitlements, from the roster without the fault.
	base, err := exchange.ReadRoster(filepath.Join(dir, "roster.csv"), exchange.RosterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	several := map[string]bool{}
	for _, r := range base.Recipients {
		if len(r.Entitlements) >= 2 {
			several[r.PersonID] = true
		}
	}
	flagged := 0
	for _, r := range ros.Recipients {
		if r.NameConflicts == 0 {
			continue
		}
		flagged++
		if !several[r.PersonID] || r.NameConflicts != 1 || r.Name != truth[r.PersonID] {
			t.Errorf("%s (%s, %d entitlements): %d name conflicts", r.PersonID, r.Name, len(r.Entitlements), r.NameConflicts)
		}
	}
	share := float64(flagged) / float64(len(several))
	t.Logf("%d of %d people with several entitlements have a row under another name (%.3f)", flagged, len(several), share)
	if int64(flagged) != scn.Faults["roster_name_conflict"] || len(several) < 200 || share < 0.15 || share > 0.25 {
		t.Errorf("%d of %d flagged (%.3f), %d faults listed; want about 0.2", flagged, len(several), share, scn.Faults["roster_name_conflict"])
	}
	for _, p := range ros.Problems {
		if p.Field != "name" || p.Reason != exchange.ReasonDisagreesWithPerson {
			t.Errorf("quarantined: %+v", p)
		}
	}
	// Every other output as without the fault; the roster differs only in names.
	for _, f := range []string{"truth.csv"} {
		if !bytes.Equal(readFile(t, filepath.Join(opt.Out, f)), readFile(t, filepath.Join(dir, f))) {
			t.Errorf("%s changed", f)
		}
	}
	want, got := hashTree(t, filepath.Join(dir, "records")), hashTree(t, filepath.Join(opt.Out, "records"))
	if len(got) != len(want) {
		t.Fatalf("%d record files, %d without the fault", len(got), len(want))
	}
	for name, h := range want {
		if got[name] != h {
			t.Errorf("%s differs", name)
		}
	}
	a, b := readAllCSV(t, filepath.Join(opt.Out, "roster.csv")), readAllCSV(t, filepath.Join(dir, "roster.csv"))
	if len(a) != len(b) {
		t.Fatalf("%d roster rows, %d without the fault", len(a), len(b))
	}
	renamed := 0
	for i := range a {
		if a[i]["name"] != b[i]["name"] {
			renamed++
			a[i]["name"] = b[i]["name"]
		}
		if fmt.Sprint(a[i]) != fmt.Sprint(b[i]) {
			t.Fatalf("roster row %d: %v, without the fault %v", i+2, a[i], b[i])
		}
	}
	if renamed != flagged {
		t.Errorf("%d rows renamed, %d people flagged", renamed, flagged)
	}
}

// truth.csv's card_use_reported is the first reported day of a card, bank or phone record
// made after the death: such a record is in the files for every person it names, and none
// names a person still alive.
func TestCardUseReported(t *testing.T) {
	dir, _ := small(t)
	cat := silentcert.DefaultCatalogue()
	want := map[string]silentcert.Date{}
	death := map[string]silentcert.Date{}
	for _, r := range readAllCSV(t, filepath.Join(dir, "truth.csv")) {
		d, _ := silentcert.ParseDate(r["death_date"])
		death[r["person_id"]] = d
		if r["card_use_reported"] == "" {
			continue
		}
		if r["death_date"] == "" {
			t.Fatalf("%s: card use after the death of a living person", r["person_id"])
		}
		u, err := silentcert.ParseDate(r["card_use_reported"])
		if err != nil {
			t.Fatalf("card_use_reported: %v", err)
		}
		want[r["person_id"]] = u
	}
	if len(want) == 0 {
		t.Fatal("no card use after a death in the small city: the test proves nothing")
	}
	found := map[string]bool{}
	forEachRecord(t, dir, func(_ string, row *exchange.RecordRow) {
		id := strings.ToUpper(string(row.PersonID)) // a department may write the check digit x
		u, ok := want[id]
		typ := cat.Type(row.Type)
		if !ok || !typ.Spoofable || typ.Code == "UTIL.PAYMENT" || row.EventDate <= death[id] {
			return
		}
		if row.ReportedDate == u || (row.ReportedDate == silentcert.NoDate && row.EventDate == u) {
			found[id] = true // a row without reported_date counts as reported on its event date
		}
	}, nil)
	for id := range want {
		if !found[id] {
			t.Errorf("%s: no card, bank or phone record after the death reported on %s", id, want[id])
		}
	}
	t.Logf("%d people with card use after their death", len(want))
}
