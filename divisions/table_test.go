package divisions

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func mustEmbedded(t testing.TB) *Table {
	t.Helper()
	tab, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

func codesOf(ds []Division) string {
	var s []string
	for _, d := range ds {
		s = append(s, d.Code)
	}
	return strings.Join(s, " ")
}

func TestEmbeddedCounts(t *testing.T) {
	tab := mustEmbedded(t)
	want := map[Level]int{LevelProvince: 31, LevelPrefecture: 342, LevelCounty: 2978, LevelTown: 41352, LevelVillage: 620573}
	got := map[Level]int{}
	for _, d := range tab.divs {
		got[d.Level]++
		if d.Level > LevelProvince && d.Parent == "" {
			t.Errorf("%s %s has no parent", d.Code, d.Name)
		}
		if d.Level > LevelProvince && LevelOf(d.Parent) != d.Level-1 {
			t.Errorf("%s %s: parent %s skips a level", d.Code, d.Name, d.Parent)
		}
	}
	for l, n := range want {
		if got[l] != n {
			t.Errorf("%v: %d rows, want %d", l, got[l], n)
		}
	}
	if len(tab.Children("")) != 31 {
		t.Errorf("Children(\"\") = %d provinces, want 31", len(tab.Children("")))
	}
	if tab2, _ := Embedded(); tab2 != tab {
		t.Error("Embedded loaded twice")
	}
}

func TestLookupPathChildrenUnder(t *testing.T) {
	tab := mustEmbedded(t)
	d, ok := tab.Lookup("110101001002")
	if !ok || d.Name != "银闸社区居委会" || d.Level != LevelVillage || d.Parent != "110101001" {
		t.Fatalf("Lookup(110101001002) = %+v, %v", d, ok)
	}
	if _, ok := tab.Lookup("1101010010"); ok {
		t.Error("Lookup of a 10-digit code succeeded")
	}
	var names []string
	for _, p := range tab.Path("110101001002") {
		names = append(names, p.Name)
	}
	if got := strings.Join(names, "/"); got != "北京市/市辖区/东城区/东华门街道/银闸社区居委会" {
		t.Errorf("Path = %s", got)
	}
	if tab.Path("99") != nil {
		t.Error("Path of unknown code not nil")
	}
	// Weihai (3710): 环翠, 文登, three development zones, 荣成, 乳山.
	if got := codesOf(tab.Children("3710")); got != "371002 371003 371071 371072 371073 371082 371083" {
		t.Errorf("Children(3710) = %s", got)
	}
	towns := tab.Under("3710", LevelTown)
	if len(towns) < 50 {
		t.Errorf("Under(3710, town) = %d towns", len(towns))
	}
	for i, tw := range towns {
		if !strings.HasPrefix(tw.Code, "3710") || tw.Level != LevelTown || (i > 0 && towns[i-1].Code >= tw.Code) {
			t.Fatalf("Under(3710, town)[%d] = %+v", i, tw)
		}
	}
	var sum int
	for _, c := range tab.Children("371002") {
		sum += len(tab.Under(c.Code, LevelVillage))
	}
	if n := len(tab.Under("371002", LevelVillage)); n != sum || n == 0 {
		t.Errorf("villages of 371002: Under %d, via towns %d", n, sum)
	}
	// Dongguan's towns hang under modood's county row named after the city.
	p := tab.Path("441900003001")
	if len(p) != 5 || p[2].Code != "441900" || p[2].Name != "东莞市" {
		t.Errorf("Dongguan path = %+v", p)
	}
}

func TestLoadSkippedLevels(t *testing.T) {
	tab, err := Load(filepath.Join("testdata", "skiplevel"))
	if err != nil {
		t.Fatal(err)
	}
	// County 441900 is missing: synthesized with the prefecture's name.
	d, ok := tab.Lookup("441900")
	if !ok || d.Name != "东莞市" || d.Parent != "4419" || d.Level != LevelCounty {
		t.Errorf("synthesized county = %+v, %v", d, ok)
	}
	if p := tab.Path("441900003001"); len(p) != 5 {
		t.Errorf("path through synthesized county has %d levels", len(p))
	}
	// Prefecture 5101 is missing too, so no county is made; the town hangs on the province.
	d, _ = tab.Lookup("510104001")
	if d.Parent != "51" {
		t.Errorf("orphan town parent = %q, want 51", d.Parent)
	}
	if got := codesOf(tab.Children("51")); got != "510104001" {
		t.Errorf("Children(51) = %s", got)
	}
	if got := codesOf(tab.Path("510104001001")); got != "51 510104001 510104001001" {
		t.Errorf("Path = %s", got)
	}
	if got := codesOf(tab.Children("440103001")); got != "440103001001 440103001002" {
		t.Errorf("Children = %s", got)
	}
}

func TestLoadErrors(t *testing.T) {
	for name, tc := range map[string]struct{ file, body, want string }{
		"bad code":   {"cities.csv", "code,name\n4401,\"广州市\"\n44x1,\"x\"\n", "cities.csv line 3 field code"},
		"no header":  {"cities.csv", "", "empty file"},
		"bad quote":  {"cities.csv", "code,name\n4401,\"广州市\n", "cities.csv line 2"},
		"empty name": {"cities.csv", "code,name\n4401,\"\"\n", "line 2 field name"},
		"no column":  {"cities.csv", "code,nom\n", "header must name"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range []string{"provinces.csv", "areas.csv", "streets.csv", "villages.csv"} {
				os.WriteFile(filepath.Join(dir, f), []byte("code,name\n"), 0o644)
			}
			os.WriteFile(filepath.Join(dir, tc.file), []byte(tc.body), 0o644)
			_, err := Load(dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
	if _, err := Load(t.TempDir()); err == nil || !strings.Contains(err.Error(), "provinces.csv") {
		t.Errorf("empty dir: err = %v", err)
	}
}

func FuzzSplitCSVLine(f *testing.F) {
	for _, s := range []string{`110101,"东城区",1101,11`, `a,"b""c",d`, `"x`, `a"b`, `"a"b`, ``, `,,`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fields, err := splitCSVLine([]byte(s), nil)
		if err != nil {
			return
		}
		// Re-encoding the fields and splitting again gives the same fields.
		var b []byte
		for i, fl := range fields {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '"')
			b = append(b, strings.ReplaceAll(string(fl), `"`, `""`)...)
			b = append(b, '"')
		}
		again, err := splitCSVLine(b, nil)
		if err != nil || len(again) != len(fields) {
			t.Fatalf("%q → %q → %q, %v", s, fields, again, err)
		}
		for i := range again {
			if string(again[i]) != string(fields[i]) {
				t.Fatalf("%q: field %d %q ≠ %q", s, i, again[i], fields[i])
			}
		}
	})
}
