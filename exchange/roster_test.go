package exchange

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/idcard"
)

// mkID returns a valid ID number: region 370102, the birth date, sequence seq (3 digits).
func mkID(birth, seq string) string {
	first := "370102" + strings.ReplaceAll(birth, "-", "") + seq
	return first + string(idcard.CheckChar([]byte(first)))
}

const rosterHeader = "person_id,name,sex,birth_date,hukou_address,region_code,phone,agent_phone,benefit_type,monthly_amount,start_month,end_month,offset_capacity,last_certified\n"

func readRosterString(t *testing.T, data string, opt RosterOptions) *Roster {
	t.Helper()
	r, err := ReadRosterFrom("r.csv", strings.NewReader(data), FormatCSV, false, opt)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRosterMerge(t *testing.T) {
	a := mkID("1950-03-04", "011") // male (1 is odd)
	b := mkID("1945-12-31", "022") // female
	bLower := strings.ToLower(b)
	data := rosterHeader +
		b + ",王五,,,济南市历下区某街1号,,13800000000,,EMP_PENSION,3000.5,2010-01,,20000,\n" +
		a + ", 李四 ,1,1950-03-04,,370102001001,12345,,RES_PENSION,150,2015-07,2030-06,,2023-05-06\n" +
		bLower + ",王五,2,1945-12-31,济南市历下区某街2号,370102002002,13900000000,13700000000,ELDERLY_ALLOWANCE,100,2020-01,,5000,\n"
	var resolved []string
	r := readRosterString(t, data, RosterOptions{ResolveRegion: func(addr string) (string, bool) {
		resolved = append(resolved, addr)
		return "370102999999", true
	}})
	if len(r.Problems) != 0 || r.Rows != 3 || len(r.Recipients) != 2 || r.Encoding != EncodingUTF8 {
		t.Fatalf("problems %+v rows %d recipients %d", r.Problems, r.Rows, len(r.Recipients))
	}
	// Sorted by PersonID.
	first, second := r.Recipients[0], r.Recipients[1]
	if first.PersonID > second.PersonID {
		t.Errorf("not sorted: %s %s", first.PersonID, second.PersonID)
	}
	pa, pb := first, second
	if pa.PersonID != a {
		pa, pb = second, first
	}
	if pb.PersonID != b || pb.Name != "王五" || pb.Sex != 2 || pb.BirthDate != silentcert.MustDate("1945-12-31") ||
		pb.HukouAddress != "济南市历下区某街1号" || pb.RegionCode != "370102002002" || pb.Phone != "13800000000" || pb.AgentPhone != "13700000000" {
		t.Errorf("b = %+v", pb)
	}
	if len(pb.Entitlements) != 2 || pb.Entitlements[0].Benefit != "EMP_PENSION" || pb.Entitlements[0].Monthly != 300050 ||
		pb.Entitlements[0].Start != silentcert.MakeMonth(2010, 1) || pb.Entitlements[0].End != silentcert.NoMonth ||
		pb.Entitlements[1].Capacity != 500000 || !pb.Entitlements[1].CapacityKnown {
		t.Errorf("b entitlements %+v", pb.Entitlements)
	}
	if c, ok := pb.Capacity(); c != 2500000 || !ok {
		t.Errorf("b capacity %v %v: each row's own capacity adds up (spec §6)", c, ok)
	}
	if pa.Name != "李四" || pa.Sex != 1 || pa.Phone != "" || pa.LastCertified != silentcert.MustDate("2023-05-06") ||
		pa.RegionCode != "370102001001" || pa.Entitlements[0].End != silentcert.MakeMonth(2030, 6) || pa.Entitlements[0].CapacityKnown {
		t.Errorf("a = %+v", pa)
	}
	if len(resolved) != 0 {
		t.Errorf("resolved %v, though everyone has a region code", resolved)
	}
	// Warnings: a's bad phone dropped; b's second address, phone and capacity differ.
	fields := []string{}
	for _, w := range r.Warnings {
		fields = append(fields, w.Field)
		if strings.Contains(w.Message, "13900000000") || strings.Contains(w.Message, "12345") {
			t.Errorf("warning shows a phone number: %q", w.Message)
		}
	}
	if got := strings.Join(fields, " "); got != "phone hukou_address phone offset_capacity" {
		t.Errorf("warning fields %q", got)
	}
}

func TestRosterResolve(t *testing.T) {
	a, b := mkID("1950-03-04", "011"), mkID("1951-03-04", "011")
	data := rosterHeader +
		b + ",乙,,,地址乙,,,,EMP_PENSION,1,2010-01,,,\n" +
		a + ",甲,,,地址甲,,,,EMP_PENSION,1,2010-01,,,\n"
	var resolved []string
	r := readRosterString(t, data, RosterOptions{ResolveRegion: func(addr string) (string, bool) {
		resolved = append(resolved, addr)
		if addr == "地址甲" {
			return "370102001001", true
		}
		return "", false
	}})
	if strings.Join(resolved, ",") != "地址甲,地址乙" {
		t.Errorf("resolved %v, want PersonID order", resolved)
	}
	if r.Recipients[0].RegionCode != "370102001001" || r.Recipients[1].RegionCode != "" {
		t.Errorf("regions %q %q", r.Recipients[0].RegionCode, r.Recipients[1].RegionCode)
	}
	if len(r.Warnings) != 1 || r.Warnings[0].Line != 2 || strings.Contains(r.Warnings[0].Message, b) {
		t.Errorf("warnings %+v", r.Warnings)
	}
}

// TestRosterRepairs: an optional value that cannot stand is not a reason to drop a
// pensioner from the roster (who would then never be paid): a malformed region_code is
// read as absent and the address places the person; a last_certified later than the
// import day (2099 for 2019) is read as that day, where it kept the person certified for
// decades. Each says so with a warning on its line.
func TestRosterRepairs(t *testing.T) {
	a, b := mkID("1950-03-04", "011"), mkID("1951-03-04", "011")
	data := rosterHeader +
		a + ",甲,,,地址甲,37100200100,,,EMP_PENSION,1,2010-01,,,2024-05-01\n" +
		b + ",乙,,,地址乙,,,,EMP_PENSION,1,2010-01,,,2099-01-01\n"
	r := readRosterString(t, data, RosterOptions{CertifiedBy: silentcert.MustDate("2026-12-07"), ResolveRegion: func(addr string) (string, bool) {
		return "370102001001", addr == "地址甲"
	}})
	if len(r.Problems) != 0 || len(r.Recipients) != 2 {
		t.Fatalf("problems %+v, %d recipients", r.Problems, len(r.Recipients))
	}
	if r.Recipients[0].RegionCode != "370102001001" || r.Recipients[1].LastCertified != silentcert.MustDate("2026-12-07") || r.Recipients[0].LastCertified != silentcert.MustDate("2024-05-01") {
		t.Errorf("read as %+v %+v", r.Recipients[0], r.Recipients[1])
	}
	var got []string
	for _, w := range r.Warnings {
		got = append(got, fmt.Sprintf("%d %s", w.Line, w.Field))
	}
	if strings.Join(got, ",") != "2 region_code,3 last_certified,3 hukou_address" {
		t.Errorf("warnings %+v", r.Warnings)
	}
	if len(r.Later) != 1 || r.Later[b] != silentcert.MustDate("2099-01-01") {
		t.Errorf("the dates read as CertifiedBy: %v", r.Later)
	}
	// Without a bound, the date stands (backtest keeps a later one with KeepLater).
	if r := readRosterString(t, data, RosterOptions{}); r.Recipients[1].LastCertified != silentcert.MustDate("2099-01-01") {
		t.Errorf("unbounded: %+v", r.Recipients[1])
	}
}

func TestRosterValidation(t *testing.T) {
	id := mkID("1950-03-04", "011") // male
	ok := func(s string) string { return strings.ReplaceAll(s, "ID", id) }
	good := "ID,张三,,,某地址,,,,EMP_PENSION,100,2020-01,,,"
	for _, c := range []struct {
		row           string
		field, reason string
	}{
		{good, "", ""},
		{"ID,张三,,,,370102001001,,,EMP_PENSION,100,2020-01,,,", "", ""},
		{",张三,,,某地址,,,,EMP_PENSION,100,2020-01,,,", "person_id", ReasonMissingField},
		{"370102195003040110,张三,,,某地址,,,,EMP_PENSION,100,2020-01,,,", "person_id", ReasonBadPersonID},
		{"370102500304011,张三,,,某地址,,,,EMP_PENSION,100,2020-01,,,", "person_id", ReasonBadPersonID}, // 15 digits
		{"ID,,,,某地址,,,,EMP_PENSION,100,2020-01,,,", "name", ReasonMissingField},
		{"ID,张三,3,,某地址,,,,EMP_PENSION,100,2020-01,,,", "sex", ReasonBadSex},
		{"ID,张三,2,,某地址,,,,EMP_PENSION,100,2020-01,,,", "sex", ReasonDisagreesWithID},
		{"ID,张三,1,1950-03-05,某地址,,,,EMP_PENSION,100,2020-01,,,", "birth_date", ReasonDisagreesWithID},
		{"ID,张三,1,1950-3-4,某地址,,,,EMP_PENSION,100,2020-01,,,", "birth_date", ReasonBadDate},
		{"ID,张三,,,某地址,,,,,100,2020-01,,,", "benefit_type", ReasonMissingField},
		{"ID,张三,,,某地址,,,,PENSION,100,2020-01,,,", "benefit_type", ReasonUnknownBenefit},
		{"ID,张三,,,某地址,,,,EMP_PENSION,,2020-01,,,", "monthly_amount", ReasonMissingField},
		{"ID,张三,,,某地址,,,,EMP_PENSION,0,2020-01,,,", "monthly_amount", ReasonBadAmount},
		{"ID,张三,,,某地址,,,,EMP_PENSION,0.00,2020-01,,,", "monthly_amount", ReasonBadAmount},
		{"ID,张三,,,某地址,,,,EMP_PENSION,1.005,2020-01,,,", "monthly_amount", ReasonBadAmount},
		{"ID,张三,,,某地址,,,,EMP_PENSION,\"1,000\",2020-01,,,", "monthly_amount", ReasonBadAmount},
		{"ID,张三,,,某地址,,,,EMP_PENSION,9999999999999.99,2020-01,,,", "monthly_amount", ReasonBadAmount},
		{"ID,张三,,,某地址,,,,EMP_PENSION,1000000.00,2020-01,,,", "", ""},
		{"ID,张三,,,某地址,,,,EMP_PENSION,1000000.01,2020-01,,,", "monthly_amount", ReasonBadAmount},
		{"ID,张三,,,某地址,,,,EMP_PENSION,100,2020-01,,100000000.01,", "offset_capacity", ReasonBadAmount},
		{"ID,张三,,,某地址,,,,EMP_PENSION,100,,,,", "start_month", ReasonMissingField},
		{"ID,张三,,,某地址,,,,EMP_PENSION,100,2020-13,,,", "start_month", ReasonBadMonth},
		{"ID,张三,,,某地址,,,,EMP_PENSION,100,2020-01,2020,,", "end_month", ReasonBadMonth},
		{"ID,张三,,,某地址,,,,EMP_PENSION,100,2020-02,2020-01,,", "end_month", ReasonBadMonth},
		{"ID,张三,,,某地址,,,,EMP_PENSION,100,2020-02,2020-02,,", "", ""},
		{"ID,张三,,,某地址,,,,EMP_PENSION,100,2020-01,,-5,", "offset_capacity", ReasonBadAmount},
		{"ID,张三,,,某地址,3701,,,EMP_PENSION,100,2020-01,,,", "", ""}, // placed by its address (a warning)
		{"ID,张三,,,,3701,,,EMP_PENSION,100,2020-01,,,", "region_code", ReasonBadRegionCode},
		{"ID,张三,,,,,,,EMP_PENSION,100,2020-01,,,", "hukou_address", ReasonMissingAddress},
		{"ID,张三,,,某地址,,,,EMP_PENSION,100,2020-01,,,2024-02-30", "last_certified", ReasonBadDate},
		{"ID,张三,,,某地址,,,,EMP_PENSION,100,2020-01,,", "", ReasonMalformed},
	} {
		r := readRosterString(t, rosterHeader+ok(c.row)+"\n", RosterOptions{})
		if c.reason == "" {
			if len(r.Problems) != 0 || len(r.Recipients) != 1 {
				t.Errorf("%q: %+v", c.row, r.Problems)
			}
			continue
		}
		if len(r.Problems) != 1 || r.Problems[0].Field != c.field || r.Problems[0].Reason != c.reason || r.Problems[0].Line != 2 || len(r.Recipients) != 0 {
			t.Errorf("%q: %+v, want %s %s", c.row, r.Problems, c.field, c.reason)
		}
		for _, p := range r.Problems {
			if strings.Contains(p.Message, id) || strings.Contains(p.Message, "370102195003040110") {
				t.Errorf("problem message shows an ID number: %q", p.Message)
			}
		}
	}
}

func TestRosterCrossRows(t *testing.T) {
	id := mkID("1950-03-04", "011")
	other := mkID("1960-01-01", "022")
	data := rosterHeader +
		id + ",张三,,,地址,,,,EMP_PENSION,100,2020-01,,,2023-01-01\n" + // line 2 defines the person
		other + ",李四,,,地址,,,,EMP_PENSION,100,2020-01,,,\n" +
		id + ",张 三,,,地址,,,,RES_PENSION,100,2020-01,,,2023-01-01\n" + // name differs
		id + ", 张三 ,,,地址,,,,RES_PENSION,100,2020-01,,,2023-01-02\n" + // last_certified differs
		id + ",张三,,,地址,,,,GOV_PENSION,100,2020-01,,,\n" + // last_certified absent: agrees
		id + ",张三,1,1950-03-04,地址,,,,EMP_PENSION,200,2021-01,,,2023-01-01\n" + // same benefit twice
		id + ",张三,1,1950-03-04,地址,,,,RES_PENSION,200,2021-01,,,2023-01-01\n" // good
	r := readRosterString(t, data, RosterOptions{})
	want := []wantProblem{{4, "name", ReasonDisagreesWithPerson}, {5, "last_certified", ReasonDisagreesWithPerson}, {7, "benefit_type", ReasonDuplicateEntitlement}}
	checkProblems(t, r.Problems, want)
	if len(r.Recipients) != 2 || r.Rows != 7 {
		t.Fatalf("%d recipients, %d rows", len(r.Recipients), r.Rows)
	}
	for _, p := range r.Recipients {
		if p.PersonID == id && (len(p.Entitlements) != 3 || p.Entitlements[1].Benefit != "GOV_PENSION" || p.Entitlements[2].Benefit != "RES_PENSION") {
			t.Errorf("entitlements %+v", p.Entitlements)
		}
	}
	// A rejected first row does not define the person: the next good one does.
	data = rosterHeader +
		id + ",错,,,地址,,,,NOPE,100,2020-01,,,\n" +
		id + ",张三,,,地址,,,,EMP_PENSION,100,2020-01,,,\n"
	r = readRosterString(t, data, RosterOptions{})
	if len(r.Problems) != 1 || len(r.Recipients) != 1 || r.Recipients[0].Name != "张三" {
		t.Errorf("%+v %+v", r.Problems, r.Recipients)
	}
}

func TestRosterFormats(t *testing.T) {
	id := mkID("1950-03-04", "011")
	jl := `{"person_id":"` + strings.ToLower(id) + `","name":"张三","hukou_address":"某地","benefit_type":"EMP_PENSION","monthly_amount":1234.5,"start_month":"2020-01","offset_capacity":10000}` + "\n" +
		`{"person_id":"` + id + `","name":"张三","hukou_address":"某地","benefit_type":"RES_PENSION","monthly_amount":1e3,"start_month":"2020-01"}` + "\n"
	r, err := ReadRosterFrom("r.jsonl.gz", bytes.NewReader(gzipped(t, []byte(jl))), FormatJSONL, true, RosterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Recipients) != 1 || r.Recipients[0].Entitlements[0].Monthly != 123450 || r.Recipients[0].Entitlements[0].Capacity != 1000000 {
		t.Errorf("%+v", r.Recipients)
	}
	if len(r.Problems) != 1 || r.Problems[0].Reason != ReasonBadAmount || r.Problems[0].Line != 2 {
		t.Errorf("1e3 is a JSON number but not yuan of spec §1: %+v", r.Problems)
	}
	// GBK roster, detected.
	g := gbk(t, rosterHeader+id+",张三,,,济南市,,,,EMP_PENSION,100,2020-01,,,\n")
	r, err = ReadRosterFrom("g.csv", bytes.NewReader(g), FormatCSV, false, RosterOptions{})
	if err != nil || r.Encoding != EncodingGB18030 || len(r.Recipients) != 1 || r.Recipients[0].HukouAddress != "济南市" {
		t.Errorf("gbk roster: %v %+v", err, r)
	}
	// Missing columns.
	for _, c := range []struct{ header, want string }{
		{"person_id,name,benefit_type,monthly_amount\n", "start_month"},
		{"person_id,name,benefit_type,monthly_amount,start_month\n", "hukou_address or region_code"},
	} {
		_, err := ReadRosterFrom("m.csv", strings.NewReader(c.header), FormatCSV, false, RosterOptions{})
		if err == nil || !strings.Contains(err.Error(), "m.csv") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v", c.header, err)
		}
	}
}

// TestRosterFileHash: ReadRoster gives the SHA-256 of the file's bytes, gzip as stored,
// for the import's audit row.
func TestRosterFileHash(t *testing.T) {
	id := mkID("1950-03-04", "011")
	text := []byte(rosterHeader + id + ",张三,,,济南市,,,,EMP_PENSION,100,2020-01,,,\n")
	dir := t.TempDir()
	for name, b := range map[string][]byte{"r.csv": text, "r.csv.gz": gzipped(t, text)} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := ReadRoster(path, RosterOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if want := sha256.Sum256(b); r.SHA256 != hex.EncodeToString(want[:]) || len(r.Recipients) != 1 {
			t.Errorf("%s: SHA-256 %q, want %x", name, r.SHA256, want)
		}
	}
}

// FuzzRoster reads arbitrary rows after a roster header, as CSV and as JSON Lines: it
// must never panic, and whatever it accepts must keep the roster's invariants.
func FuzzRoster(f *testing.F) {
	id := mkID("1950-03-04", "011")
	f.Add([]byte(id + ",张三,,,地址,,,,EMP_PENSION,100,2020-01,,,\n" + id + ",张三,1,,,370102001001,13800000000,,RES_PENSION,1.5,2020-01,2020-02,3,\n"))
	f.Add([]byte(`{"person_id":"` + id + `","name":"x","region_code":"370102001001","benefit_type":"EMP_PENSION","monthly_amount":1,"start_month":"2020-01"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, format := range []Format{FormatCSV, FormatJSONL} {
			in := data
			if format == FormatCSV {
				in = append([]byte(rosterHeader), data...)
			}
			r, err := ReadRosterFrom("f", bytes.NewReader(in), format, false, RosterOptions{})
			if err != nil {
				continue
			}
			prev := ""
			for _, p := range r.Recipients {
				if p.PersonID <= prev || !idcard.ValidString(p.PersonID) || len(p.Entitlements) == 0 || p.Name == "" {
					t.Fatalf("bad recipient %+v", p)
				}
				prev = p.PersonID
				seen := map[string]bool{}
				for _, e := range p.Entitlements {
					if seen[e.Benefit] || e.Monthly <= 0 || (e.End != silentcert.NoMonth && e.End < e.Start) {
						t.Fatalf("bad entitlement %+v", e)
					}
					seen[e.Benefit] = true
				}
			}
		}
	})
}

// TestRosterNameConflicts: the rows of a person quarantined for carrying another name
// than the first row's are counted on the Recipient (the fraud-risk flag's
// inconsistent_identity), and stay quarantined; rows quarantined for anything else, or
// another person's, do not count.
func TestRosterNameConflicts(t *testing.T) {
	id := mkID("1950-03-04", "011")
	other := mkID("1960-01-01", "022")
	data := rosterHeader +
		id + ",张三,,,地址,,,,EMP_PENSION,100,2020-01,,,2023-01-01\n" + // line 2 defines the person
		other + ",李四,,,地址,,,,EMP_PENSION,100,2020-01,,,\n" +
		id + ",张四,,,地址,,,,RES_PENSION,100,2020-01,,,\n" + // another name: counted
		id + ",王秀英,,,地址,,,,RES_PENSION,0,2020-01,,,\n" + // another name, but a bad amount first: not counted
		id + ",张三,,,地址,,,,GOV_PENSION,100,2020-01,,,2023-01-02\n" + // last_certified differs: not counted
		id + ",王秀英,,,地址,,,,ELDERLY_ALLOWANCE,100,2020-01,,,\n" + // another name: counted
		other + ",李四,,,地址,,,,RES_PENSION,100,2020-01,,,\n" // agrees
	r := readRosterString(t, data, RosterOptions{})
	want := []wantProblem{{4, "name", ReasonDisagreesWithPerson}, {5, "monthly_amount", ReasonBadAmount},
		{6, "last_certified", ReasonDisagreesWithPerson}, {7, "name", ReasonDisagreesWithPerson}}
	checkProblems(t, r.Problems, want)
	if len(r.Recipients) != 2 || r.Rows != 7 {
		t.Fatalf("%d recipients, %d rows", len(r.Recipients), r.Rows)
	}
	for _, p := range r.Recipients {
		switch p.PersonID {
		case id:
			if p.NameConflicts != 2 || p.Name != "张三" || len(p.Entitlements) != 1 {
				t.Errorf("%s: %d name conflicts, name %s, %d entitlements; want 2, 张三, 1", p.PersonID, p.NameConflicts, p.Name, len(p.Entitlements))
			}
		case other:
			if p.NameConflicts != 0 || len(p.Entitlements) != 2 {
				t.Errorf("%s: %d name conflicts, %d entitlements; want 0, 2", p.PersonID, p.NameConflicts, len(p.Entitlements))
			}
		}
	}
}

// wantProblem is a quarantined row a test expects: its line, field and reason.
type wantProblem struct {
	line          int64
	field, reason string
}

// checkProblems compares a roster's problems with what a test expects, in order.
func checkProblems(t *testing.T, got []Problem, want []wantProblem) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("problems %+v", got)
	}
	for i, w := range want {
		if p := got[i]; p.Line != w.line || p.Field != w.field || p.Reason != w.reason {
			t.Errorf("problem %d = %+v, want %+v", i, p, w)
		}
	}
}

// TestRosterLastCertifiedLater: rows are compared by the last_certified they give, not by
// the day CertifiedBy reads a later one as — two different future dates both read as the
// import day passed the check of spec §2 — and with KeepLater (backtest, whose bound is
// its --to) a later date is kept as given, with the warning alone: the same roster
// certified its people until a date that moved with the replay's length.
func TestRosterLastCertifiedLater(t *testing.T) {
	a, b := mkID("1950-03-04", "011"), mkID("1951-03-04", "011")
	data := rosterHeader +
		a + ",甲,,,地址,,,,EMP_PENSION,1,2010-01,,,2024-08-31\n" +
		a + ",甲,,,地址,,,,RES_PENSION,1,2010-01,,,2024-09-30\n" + // another future date: disagrees
		a + ",甲,,,地址,,,,GOV_PENSION,1,2010-01,,,2024-08-31\n" + // agrees
		a + ",甲,,,地址,,,,EMP_PENSION,1,2010-01,,,2024-08-31\n" + // rejected (same benefit): no warning
		b + ",乙,,,地址,,,,EMP_PENSION,1,2010-01,,,2024-01-15\n"
	for _, keep := range []bool{false, true} {
		for _, to := range []string{"2024-03-31", "2024-06-30"} {
			by := silentcert.MustDate(to)
			r := readRosterString(t, data, RosterOptions{CertifiedBy: by, KeepLater: keep})
			checkProblems(t, r.Problems, []wantProblem{{3, "last_certified", ReasonDisagreesWithPerson}, {5, "benefit_type", ReasonDuplicateEntitlement}})
			want := silentcert.MustDate("2024-08-31")
			if !keep {
				want = by
			}
			if len(r.Recipients) != 2 || r.Recipients[0].LastCertified != want || len(r.Recipients[0].Entitlements) != 2 ||
				r.Recipients[1].LastCertified != silentcert.MustDate("2024-01-15") {
				t.Errorf("keep %v, to %s: %+v %+v", keep, to, r.Recipients[0], r.Recipients[1])
			}
			var lines []string
			for _, w := range r.Warnings {
				lines = append(lines, fmt.Sprintf("%d %s", w.Line, w.Field))
				if keep != strings.Contains(w.Message, "kept as given") {
					t.Errorf("keep %v: %s", keep, w.Message)
				}
			}
			if strings.Join(lines, ",") != "2 last_certified,4 last_certified" {
				t.Errorf("keep %v, to %s: warnings %+v", keep, to, r.Warnings)
			}
		}
	}
}

// TestRosterLastCertifiedEitherOrder: a row that leaves last_certified out agrees with the
// one that gives it whichever comes first (spec §2 compares the person's rows; the file's
// order of two agreeing rows changes nothing): a blank first row followed by a dated one
// quarantined the dated row — an entitlement lost — where the other order loaded both.
func TestRosterLastCertifiedEitherOrder(t *testing.T) {
	id := mkID("1950-03-04", "011")
	dated := id + ",张三,,,地址,,,,EMP_PENSION,100,2020-01,,,2023-01-01\n"
	blank := id + ",张三,,,地址,,,,RES_PENSION,100,2020-01,,,\n"
	for name, data := range map[string]string{"dated first": rosterHeader + dated + blank, "blank first": rosterHeader + blank + dated} {
		r := readRosterString(t, data, RosterOptions{})
		if len(r.Problems) != 0 || len(r.Recipients) != 1 || len(r.Recipients[0].Entitlements) != 2 ||
			r.Recipients[0].LastCertified != silentcert.MustDate("2023-01-01") {
			t.Errorf("%s: %+v %+v", name, r.Problems, r.Recipients)
		}
	}
	// Blank, then a date, then another date: the first date given stands.
	other := id + ",张三,,,地址,,,,GOV_PENSION,100,2020-01,,,2023-01-02\n"
	r := readRosterString(t, rosterHeader+blank+dated+other, RosterOptions{})
	checkProblems(t, r.Problems, []wantProblem{{4, "last_certified", ReasonDisagreesWithPerson}})
	if r.Recipients[0].LastCertified != silentcert.MustDate("2023-01-01") {
		t.Errorf("%+v", r.Recipients[0])
	}
}
