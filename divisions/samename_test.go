package divisions

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// sameNameVillages returns groups of villages that share their official name within one
// county, under the given prefixes.
func sameNameVillages(t *Table, prefixes ...string) [][]Division {
	var groups [][]Division
	for _, p := range prefixes {
		byKey := map[string][]Division{}
		var order []string
		for _, v := range t.Under(p, LevelVillage) {
			k := v.Code[:6] + v.Name
			if byKey[k] == nil {
				order = append(order, k)
			}
			byKey[k] = append(byKey[k], v)
		}
		for _, k := range order {
			if len(byKey[k]) > 1 {
				groups = append(groups, byKey[k])
			}
		}
	}
	return groups
}

// TestSameNameVillages checks the rule that matters most for routing: where two villages
// of one county share a name, the resolver finds the right one when the town is given
// and never picks one with confidence when it is not, or when the address is misspelt.
func TestSameNameVillages(t *testing.T) {
	tab := mustEmbedded(t)
	groups := sameNameVillages(tab, "37", "11", "44")
	if len(groups) < 200 {
		t.Fatalf("only %d same-name groups found; the table changed?", len(groups))
	}
	weihai := 0
	for _, g := range groups {
		if g[0].Code[:4] == "3710" {
			weihai++
		}
	}
	if weihai < 10 {
		t.Errorf("only %d same-name groups in Weihai", weihai)
	}
	r := NewResolver(tab, Options{})
	region := r.RegionFunc(DefaultMinConfidence)
	rng := rand.New(rand.NewPCG(37, 10))
	var pool []rune
	for _, g := range groups {
		pool = append(pool, []rune(g[0].Name)...)
	}
	var n, fullExact, noTownAmbiguous, confidentWrong, otherWrong int
	var group []Division
	check := func(kind, addr, want string) Result {
		n++
		res := r.Resolve(addr)
		code, ok := region(addr)
		if !ok || code == want {
			return res
		}
		twin := false
		for _, v := range group {
			twin = twin || v.Code == code
		}
		if !twin {
			// A misspelling that spells another real village of the town (孙庄 → 赵庄)
			// is not the confusion this test is about; it is counted, not failed.
			otherWrong++
			t.Logf("%s: %q → %s (%s) %.2f; want %s (%s)", kind, addr, code, pathNames(tab, code), res.Confidence, want, pathNames(tab, want))
			return res
		}
		confidentWrong++
		if confidentWrong <= 10 {
			t.Errorf("%s: %q → %s (%s) with confidence %.2f; want %s (%s) or no village",
				kind, addr, code, pathNames(tab, code), res.Confidence, want, pathNames(tab, want))
		}
		return res
	}
	for _, g := range groups {
		group = g
		for _, v := range g {
			parts := officialParts(tab, v.Code)
			var full, noTown []string
			for _, p := range parts {
				full = append(full, p.name)
				if p.level != LevelTown {
					noTown = append(noTown, p.name)
				}
			}
			// Twins in one town (or near-twins: 刘家庄村村民委员会 and 刘家庄村民委员会)
			// cannot be told apart by any address; the resolver must say so.
			sameTown := 0
			for _, w := range tab.Children(v.Code[:9]) {
				if villageCore(w.Name) == villageCore(v.Name) {
					sameTown++
				}
			}
			res := check("full", join(rng, full, "", false), v.Code)
			if (res.Code == v.Code && !res.Ambiguous) || (sameTown > 1 && res.Ambiguous) {
				fullExact++
			}
			if res := check("no town", join(rng, noTown, houseTail(rng), false), v.Code); res.Ambiguous {
				noTownAmbiguous++
			}
			check("variant", variantAddress(tab, rng, v.Code), v.Code)
			check("typo", typoAddress(tab, rng, v.Code, pool), v.Code)
			check("typo", typoAddress(tab, rng, v.Code, pool), v.Code)
		}
	}
	villages := n / 5
	t.Logf("%d same-name groups (%d in Weihai), %d villages, %d addresses: full exact %d, town left out → ambiguous %d, confident twin %d, confident other (misspelt into another real name) %d",
		len(groups), weihai, villages, n, fullExact, noTownAmbiguous, confidentWrong, otherWrong)
	if fullExact != villages {
		t.Errorf("full addresses resolved exactly (or ambiguous for twins in one town): %d of %d", fullExact, villages)
	}
	if noTownAmbiguous != villages {
		t.Errorf("addresses without the town reported ambiguous: %d of %d", noTownAmbiguous, villages)
	}
	if confidentWrong > 0 {
		t.Errorf("%d confident wrong answers", confidentWrong)
	}
}

// villageCore strips the committee suffix and a trailing 村 or 社区 from a village name.
func villageCore(name string) string {
	core, _, _ := trimAny(name, "社区居民委员会", "社区居委会", "居民委员会", "居委会", "村民委员会", "村委会")
	core, _, _ = trimAny(core, "社区", "村")
	return core
}

func ExampleResolver_Resolve() {
	tab, err := Embedded()
	if err != nil {
		panic(err)
	}
	r := NewResolver(tab, Options{City: "3710"})
	for _, addr := range []string{
		"山东省威海市环翠区鲸园街道北门外社区居委会3组12号",
		"环翠区鲸园办事处北门外社区　５号楼２单元",
		"乳山市崖子镇姜家村", // one of two 姜家 in 乳山, told apart by the town
		"乳山市姜家村",    // the town left out: either could be meant
	} {
		res := r.Resolve(addr)
		fmt.Println(res.Code, res.Level, res.Confidence, res.Ambiguous, res.Candidates)
	}
	// Output:
	// 371002002005 village 1 false []
	// 371002002005 village 1 false []
	// 371083110215 village 1 false []
	// 371083 county 0.5 true [371083100212 371083110215]
}
