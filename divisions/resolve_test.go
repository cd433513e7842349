package divisions

import (
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"山东省 威海市\u3000环翠区": "山东省威海市环翠区",
		"１２号，５号楼-2单元":      "12号5号楼2单元",
		"（北门外）社区·居委会":      "北门外社区居委会",
		"Ａ座b室":             "A座B室",
		"\ufeff鲸园街道\t\r\n": "鲸园街道",
		"〇八三":              "〇八三",
		"bad\xffutf8":      "BADUTF8",
	} {
		if got := normalize(in); got != want {
			t.Errorf("normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNameKeys(t *testing.T) {
	for _, c := range []struct {
		name  string
		level Level
		want  string
	}{
		{"北门外社区居委会", LevelVillage, "北门外社区居委会 北门外"},
		{"王家村村委会", LevelVillage, "王家村村委会 王家村 王家"},
		{"新村村委会", LevelVillage, "新村村委会 新村"},
		{"鲸园街道", LevelTown, "鲸园街道 鲸园"},
		{"延边朝鲜族自治州", LevelPrefecture, "延边朝鲜族自治州 延边"},
		{"恩施土家族苗族自治州", LevelPrefecture, "恩施土家族苗族自治州 恩施"},
		{"鄂温克族自治旗", LevelCounty, "鄂温克族自治旗 鄂温克"},
		{"沛县", LevelCounty, "沛县"},
		{"广西壮族自治区", LevelProvince, "广西壮族自治区 广西"},
	} {
		if got := strings.Join(nameKeys(c.name, c.level, nil), " "); got != c.want {
			t.Errorf("nameKeys(%s) = %s, want %s", c.name, got, c.want)
		}
	}
}

// TestResolveForms walks through the ways of writing addresses the issue lists, on real
// divisions.
func TestResolveForms(t *testing.T) {
	tab := mustEmbedded(t)
	r := NewResolver(tab, Options{})
	const bmw = "371002002005" // 山东省/威海市/环翠区/鲸园街道/北门外居委会
	for _, c := range []struct {
		addr  string
		code  string
		level Level
	}{
		{"山东省威海市环翠区鲸园街道北门外居委会", bmw, LevelVillage},
		{"威海市环翠区鲸园街道北门外社区", bmw, LevelVillage},            // no province, 社区 for 居委会
		{"环翠区鲸园街道办事处北门外社区居民委员会", bmw, LevelVillage},       // no city, 办事处
		{"环翠鲸园北门外", bmw, LevelVillage},                    // every suffix dropped
		{"山东威海环翠区鲸园街道北门外社区 ３组１２号", bmw, LevelVillage},     // full-width house number
		{"环翠区　鲸园街道，北门外社区５号楼２单元３０１室", bmw, LevelVillage},   // spaces, punctuation, building
		{"环翠区鲸园街道北门外社区幸福路12号", bmw, LevelVillage},         // street after the village
		{"环翠区鲸元街道北门外社区", bmw, LevelVillage},               // one character wrong in the town
		{"环翠区鲸园街道北问外社区", bmw, LevelVillage},               // … in the village
		{"环翠区鲸园街道北门外区", bmw, LevelVillage},                // … dropped (in the suffix)
		{"山冬省威海市环翠区鲸园街道北门外社区", bmw, LevelVillage},         // … in the province
		{"户籍地址：山东省威海市环翠区鲸园街道北门外社区", bmw, LevelVillage},    // a label before it
		{"中国山东省威海市环翠区鲸园街道北门外社区", bmw, LevelVillage},       // the country before it
		{"山东省威海市文登市", "371003", LevelCounty},              // old form: 文登市 is now 文登区
		{"山东省德州市陵县", "371403", LevelCounty},               // former name: 陵县 is now 陵城区
		{"湖北省襄樊市", "4206", LevelPrefecture},               // … 襄樊 is now 襄阳
		{"北京市东城区东华门街道银闸社区", "110101001002", LevelVillage}, // 市辖区 placeholder in between
		{"广东省东莞市东城街道", "441900003", LevelTown},            // Dongguan has no counties
		{"湖北省恩施州恩施市", "422801", LevelCounty},              // short form of 自治州
		{"吉林省吉林市", "2202", LevelPrefecture},               // province and prefecture of one name
		{"山东省威海市", "3710", LevelPrefecture},
		{"", "", LevelNone},
		{"12号楼3单元", "", LevelNone}, // 号楼 is a village in Sichuan, but alone says nothing
		{"火星基地", "", LevelNone},    // 火星 is a street in Changsha, likewise
		{"鲸园街道", "", LevelNone},
	} {
		res := r.Resolve(c.addr)
		checkResult(t, tab, c.addr, res)
		if res.Code != c.code || res.Level != c.level || res.Ambiguous {
			t.Errorf("Resolve(%q) = %+v (%s), want %s %v", c.addr, res, pathNames(tab, res.Code), c.code, c.level)
		}
		if c.code == "" && res.Confidence != 0 {
			t.Errorf("Resolve(%q): confidence %.2f for nothing", c.addr, res.Confidence)
		}
	}
	// A group number after the village is not read as a misspelling of a neighbour:
	// 杜家三组 is 杜家, group 3, not 杜家岛 with 岛 mistyped.
	for _, addr := range []string{"乳山市海阳所镇杜家三组42号", "荣成市成山镇成山六五组"} {
		if res := r.Resolve(addr); res.Level != LevelVillage || res.Ambiguous {
			t.Errorf("Resolve(%q) = %+v", addr, res)
		}
	}
	// Near names in one town are reported, not guessed: 北门 is one character from 北门外
	// (dropped), 北仓 and 北港 (replaced).
	res := r.Resolve("环翠区鲸园街道北门社区")
	if !res.Ambiguous || res.Code != "371002002" || strings.Join(res.Candidates, " ") != "371002002003 371002002005 371002002018" {
		t.Errorf("北门社区: %+v", res)
	}
}

func TestFormerNames(t *testing.T) {
	tab := mustEmbedded(t)
	for code, names := range formerNames {
		if _, ok := tab.Lookup(code); !ok {
			t.Errorf("former names %v: code %s not in the table", names, code)
		}
	}
}

func TestResolveCity(t *testing.T) {
	tab := mustEmbedded(t)
	all := NewResolver(tab, Options{})
	weihai := NewResolver(tab, Options{City: "3710"})
	rongcheng := NewResolver(tab, Options{City: "371082"})
	// 刘庄 is a village name in 137 places and 宁津 a county in Dezhou; in Weihai, 宁津街道
	// of 荣成 has one 刘庄.
	addr := "宁津街道刘庄村"
	res := weihai.Resolve(addr)
	if res.Code != "371082001241" || res.Ambiguous || res.Confidence != 1 {
		t.Errorf("Weihai: %q → %+v (%s)", addr, res, pathNames(tab, res.Code))
	}
	// Across the country the pair is unique too, but an address that starts at the town
	// is less sure.
	if got := all.Resolve(addr); got.Code != res.Code || got.Confidence >= res.Confidence {
		t.Errorf("whole country: %q → %+v", addr, got)
	}
	if got := rongcheng.Resolve("山东省威海市荣成市" + addr); got.Code != res.Code {
		t.Errorf("Rongcheng with its ancestors written out: %+v, want %s", got, res.Code)
	}
	// An address in another city does not resolve inside Weihai.
	yantai := "山东省烟台市芝罘区向阳街道"
	if res := all.Resolve(yantai); !strings.HasPrefix(res.Code, "370602") {
		t.Errorf("whole country: %q → %+v", yantai, res)
	}
	if res := weihai.Resolve(yantai); strings.HasPrefix(res.Code, "3706") || res.Level > LevelProvince {
		t.Errorf("Weihai: %q → %+v, want nothing below the province", yantai, res)
	}
	// Nor does one that names another province, even when Weihai has villages that share
	// words with it (东城).
	for _, addr := range []string{"北京市东城区东华门街道银闸社区", "广东省东莞市东城街道", "吉林省吉林市"} {
		if res := weihai.Resolve(addr); res.Code != "" {
			t.Errorf("Weihai: %q → %+v", addr, res)
		}
	}
	// An unknown city matches nothing.
	if res := NewResolver(tab, Options{City: "9999"}).Resolve("山东省威海市"); res.Code != "" {
		t.Errorf("unknown city resolved %+v", res)
	}
}

func TestRegionFunc(t *testing.T) {
	tab := mustEmbedded(t)
	region := NewResolver(tab, Options{}).RegionFunc(DefaultMinConfidence)
	for addr, want := range map[string]string{
		"山东省威海市环翠区鲸园街道北门外社区": "371002002005",
		"山东省威海市环翠区鲸园街道":      "", // a town, not a village
		"山东省威海市乳山市姜家村":       "", // two 姜家 in 乳山
		"鲸园街道":               "", // not enough
	} {
		code, ok := region(addr)
		if code != want || ok != (want != "") {
			t.Errorf("region(%q) = %q, %v; want %q", addr, code, ok, want)
		}
	}
	strict := NewResolver(tab, Options{}).RegionFunc(1.01)
	if _, ok := strict("山东省威海市环翠区鲸园街道北门外社区"); ok {
		t.Error("confidence above 1 accepted")
	}
}

func TestResolveConcurrent(t *testing.T) {
	tab := mustEmbedded(t)
	r := NewResolver(tab, Options{})
	addrs := []string{"山东省威海市环翠区鲸园街道北门外社区", "乳山市姜家村", "环翠区鲸元街道北门外社区", "北京市东城区东华门街道银闸社区"}
	want := make([]Result, len(addrs))
	for i, a := range addrs {
		want[i] = r.Resolve(a)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for k := range 200 {
				i := (g + k) % len(addrs)
				if got := r.Resolve(addrs[i]); !sameResult(got, want[i]) {
					t.Errorf("concurrent Resolve(%q) = %+v, want %+v", addrs[i], got, want[i])
					return
				}
			}
		})
	}
	wg.Wait()
}

func sameResult(a, b Result) bool {
	return a.Code == b.Code && a.Level == b.Level && a.Confidence == b.Confidence &&
		a.Ambiguous == b.Ambiguous && strings.Join(a.Candidates, ",") == strings.Join(b.Candidates, ",")
}

// checkResult asserts what every result must satisfy, whatever the address.
func checkResult(t *testing.T, tab *Table, addr string, res Result) {
	t.Helper()
	if res.Confidence < 0 || res.Confidence > 1 {
		t.Fatalf("%q: confidence %v", addr, res.Confidence)
	}
	if res.Code == "" {
		if res.Level != LevelNone {
			t.Fatalf("%q: level %v without a code", addr, res.Level)
		}
	} else if d, ok := tab.Lookup(res.Code); !ok || d.Level != res.Level {
		t.Fatalf("%q: code %q level %v not in the table", addr, res.Code, res.Level)
	}
	if res.Ambiguous != (len(res.Candidates) > 0) || len(res.Candidates) == 1 || len(res.Candidates) > MaxCandidates {
		t.Fatalf("%q: ambiguous %v with candidates %v", addr, res.Ambiguous, res.Candidates)
	}
	for _, c := range res.Candidates {
		if _, ok := tab.Lookup(c); !ok || !strings.HasPrefix(c, res.Code) {
			t.Fatalf("%q: candidate %s outside %s", addr, c, res.Code)
		}
	}
}

func FuzzResolve(f *testing.F) {
	for _, s := range []string{
		"山东省威海市环翠区鲸园街道北门外社区居委会3组12号", "乳山市姜家村", "环翠鲸元北问外",
		"", "号", "\xff\xfe", "村村村村村村村村村村村村村村村村村村村村", "市辖区县", "中国中国中国",
		strings.Repeat("山东省威海市", 60), "北京市北京市北京市东城区东城区", "新村", "１２３４５",
	} {
		f.Add(s)
	}
	tab := mustEmbedded(f)
	all := NewResolver(tab, Options{})
	weihai := NewResolver(tab, Options{City: "3710"})
	f.Fuzz(func(t *testing.T, addr string) {
		for _, r := range []*Resolver{all, weihai} {
			res := r.Resolve(addr)
			checkResult(t, tab, addr, res)
			if again := r.Resolve(addr); !sameResult(res, again) {
				t.Fatalf("%q: %+v then %+v", addr, res, again)
			}
			if r == weihai && res.Code != "" && !strings.HasPrefix(res.Code, "3710") && !strings.HasPrefix("3710", res.Code) {
				t.Fatalf("%q: %s outside Weihai", addr, res.Code)
			}
			if !utf8.ValidString(res.Code) {
				t.Fatal("invalid code")
			}
		}
	})
}

func TestResolveAllAndTally(t *testing.T) {
	tab := mustEmbedded(t)
	r := NewResolver(tab, Options{})
	addrs := []string{"山东省威海市环翠区鲸园街道北门外社区", "乳山市姜家村", "山东省威海市环翠区鲸园街道", "火星基地"}
	for range 9 {
		addrs = append(addrs, addrs...)
	}
	one := r.ResolveAll(addrs, 1)
	many := r.ResolveAll(addrs, 3)
	var tally Tally
	for i := range addrs {
		if !sameResult(one[i], many[i]) || !sameResult(one[i], r.Resolve(addrs[i])) {
			t.Fatalf("%d: %+v / %+v", i, one[i], many[i])
		}
		tally.Add(one[i])
	}
	q := len(addrs) / 4
	if want := (Tally{Village: q, Partial: q, Ambiguous: q, Unresolved: q}); tally != want || tally.Total() != len(addrs) {
		t.Errorf("tally %+v, want %+v", tally, want)
	}
}
