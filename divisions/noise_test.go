package divisions

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The test set is built from the real table, written the ways people write addresses.
// The generator keeps its own lists of variants, written from how addresses look on
// rosters, not copied from the resolver's tables, so that the test can catch a form the
// resolver does not know.

// sampleVillages picks villages deterministically: n from each province prefix given.
func sampleVillages(t *Table, rng *rand.Rand, prefixes map[string]int) []Division {
	keys := make([]string, 0, len(prefixes))
	for k := range prefixes {
		keys = append(keys, k)
	}
	sortStrings(keys)
	var out []Division
	for _, p := range keys {
		vs := t.Under(p, LevelVillage)
		for range prefixes[p] {
			out = append(out, vs[rng.IntN(len(vs))])
		}
	}
	return out
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// part is one level of a written address.
type part struct {
	level Level
	name  string
}

// officialParts returns the path of a village as people would copy it from a register:
// placeholder rows (市辖区, 县, 省直辖…) left out, a county named like its prefecture
// (Dongguan's) written once.
func officialParts(t *Table, code string) []part {
	var ps []part
	for _, d := range t.Path(code) {
		switch d.Name {
		case "市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划":
			continue
		}
		if len(ps) > 0 && ps[len(ps)-1].name == d.Name {
			continue
		}
		ps = append(ps, part{d.Level, d.Name})
	}
	return ps
}

func trimAny(s string, sufs ...string) (string, string, bool) {
	for _, suf := range sufs {
		if strings.HasSuffix(s, suf) && utf8.RuneCountInString(s)-utf8.RuneCountInString(suf) >= 2 {
			return strings.TrimSuffix(s, suf), suf, true
		}
	}
	return s, "", false
}

func pick(rng *rand.Rand, xs ...string) string { return xs[rng.IntN(len(xs))] }

// variantName writes one level's name the way a clerk might: suffix dropped or swapped
// for an equivalent, 街道 as 办事处, 村委会 as 村 or 村民委员会, 自治州 shortened to 州.
func variantName(rng *rand.Rand, p part) string {
	n := p.name
	switch p.level {
	case LevelProvince:
		if core, _, ok := trimAny(n, "省"); ok && rng.IntN(2) == 0 {
			return core
		}
	case LevelPrefecture:
		if short, ok := prefectureShort[n]; ok {
			if rng.IntN(2) == 0 {
				return short
			}
			return n
		}
		if core, _, ok := trimAny(n, "市", "地区", "盟"); ok && rng.IntN(2) == 0 {
			return core
		}
	case LevelCounty:
		if core, suf, ok := trimAny(n, "区", "县", "市"); ok && !strings.HasSuffix(n, "自治县") {
			switch rng.IntN(4) {
			case 0:
				return core
			case 1: // an old form: 文登市 for 文登区, 即墨县 for 即墨区
				if suf == "区" {
					return core + pick(rng, "市", "县")
				}
				return core + "区"
			}
		}
	case LevelTown:
		if core, suf, ok := trimAny(n, "街道办事处", "街道", "镇", "乡"); ok {
			switch suf {
			case "街道", "街道办事处":
				return core + pick(rng, "街道", "办事处", "街道办事处", "街办", "")
			default:
				return core + pick(rng, suf, "")
			}
		}
	case LevelVillage:
		if core, _, ok := trimAny(n, "社区居民委员会", "社区居委会", "居民委员会", "居委会", "社区"); ok {
			return core + pick(rng, "社区", "居委会", "社区居委会", "社区居民委员会", "")
		}
		if core, _, ok := trimAny(n, "村民委员会", "村委会"); ok {
			core, _, _ = trimAny(core, "村")
			return core + pick(rng, "村", "村委会", "村民委员会", "村委", "")
		}
	}
	return n
}

// prefectureShort are the short forms autonomous prefectures go by in addresses.
var prefectureShort = map[string]string{
	"恩施土家族苗族自治州": "恩施州", "湘西土家族苗族自治州": "湘西州", "延边朝鲜族自治州": "延边州",
	"黔东南苗族侗族自治州": "黔东南州", "黔西南布依族苗族自治州": "黔西南州", "黔南布依族苗族自治州": "黔南州",
	"凉山彝族自治州": "凉山州", "大理白族自治州": "大理州", "西双版纳傣族自治州": "西双版纳州",
	"红河哈尼族彝族自治州": "红河州", "伊犁哈萨克自治州": "伊犁州", "楚雄彝族自治州": "楚雄州",
	"阿坝藏族羌族自治州": "阿坝州", "甘孜藏族自治州": "甘孜州", "文山壮族苗族自治州": "文山州",
}

// houseTail is what follows the village on a roster.
func houseTail(rng *rand.Rand) string {
	switch rng.IntN(7) {
	case 0:
		return ""
	case 1:
		return strconv.Itoa(1+rng.IntN(200)) + "号"
	case 2:
		return strconv.Itoa(1+rng.IntN(12)) + "组"
	case 3:
		return strconv.Itoa(1+rng.IntN(20)) + "号楼" + strconv.Itoa(1+rng.IntN(6)) + "单元" + strconv.Itoa(101+rng.IntN(600))
	case 4:
		return strconv.Itoa(1+rng.IntN(12)) + "组" + strconv.Itoa(1+rng.IntN(99)) + "号"
	case 5:
		return pick(rng, "一", "二", "三", "四", "五") + "组"
	}
	return "幸福路" + strconv.Itoa(1+rng.IntN(300)) + "号"
}

// fullWidth turns ASCII digits and letters into their full-width forms.
func fullWidth(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '!' && r <= '~' {
			r += 0xFEE0
		}
		b.WriteRune(r)
	}
	return b.String()
}

// join concatenates parts with the separators people leave: nothing, a space, an
// ideographic space, a comma.
func join(rng *rand.Rand, names []string, tail string, messy bool) string {
	var b strings.Builder
	for i, n := range names {
		if i > 0 && messy {
			b.WriteString(pick(rng, "", "", "", " ", "\u3000", "，"))
		}
		b.WriteString(n)
	}
	if tail != "" {
		if messy {
			if rng.IntN(2) == 0 {
				tail = fullWidth(tail)
			}
			b.WriteString(pick(rng, "", "", " "))
		}
		b.WriteString(tail)
	}
	return b.String()
}

// cleanAddress is the full official path plus a house tail.
func cleanAddress(t *Table, rng *rand.Rand, code string) string {
	var names []string
	for _, p := range officialParts(t, code) {
		names = append(names, p.name)
	}
	return join(rng, names, houseTail(rng), false)
}

// variantNames is the path with province and/or prefecture left out and each name varied.
func variantNames(t *Table, rng *rand.Rand, code string) []string {
	ps := officialParts(t, code)
	var names []string
	dropProv := rng.IntN(3) > 0
	dropPref := rng.IntN(2) == 0
	for _, p := range ps {
		if p.level == LevelProvince && dropProv && len(ps) > 3 {
			continue
		}
		if p.level == LevelPrefecture && dropPref && len(ps) > 4 {
			continue
		}
		names = append(names, variantName(rng, p))
	}
	return names
}

func variantAddress(t *Table, rng *rand.Rand, code string) string {
	return join(rng, variantNames(t, rng, code), houseTail(rng), true)
}

// typoAddress is a variant with one character of the names replaced by another or
// dropped.
func typoAddress(t *Table, rng *rand.Rand, code string, pool []rune) string {
	names := variantNames(t, rng, code)
	total := 0
	for _, n := range names {
		total += utf8.RuneCountInString(n)
	}
	k := rng.IntN(total)
	drop := rng.IntN(2) == 0
	for i, n := range names {
		r := []rune(n)
		if k >= len(r) {
			k -= len(r)
			continue
		}
		if drop {
			r = append(r[:k], r[k+1:]...)
		} else {
			c := pool[rng.IntN(len(pool))]
			for c == r[k] {
				c = pool[rng.IntN(len(pool))]
			}
			r[k] = c
		}
		names[i] = string(r)
		break
	}
	return join(rng, names, houseTail(rng), true)
}

// charPool is the characters of a sample of village names: typos are real characters.
func charPool(vs []Division) []rune {
	seen := map[rune]bool{}
	var out []rune
	for _, v := range vs {
		for _, r := range v.Name {
			if !seen[r] {
				seen[r] = true
				out = append(out, r)
			}
		}
	}
	return out
}
