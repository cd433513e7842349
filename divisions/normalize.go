package divisions

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// appendNormalized appends s in the form names and addresses are compared in: full-width
// letters and digits folded to ASCII, letters upper-cased, and spaces, punctuation and
// control characters dropped. People type addresses on phones and in spreadsheets; the
// same village must come out the same whichever way it was keyed.
func appendNormalized(dst []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c >= '0' && c <= '9', c >= 'A' && c <= 'Z':
				dst = append(dst, c)
			case c >= 'a' && c <= 'z':
				dst = append(dst, c-'a'+'A')
			}
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		if r >= 0xFF01 && r <= 0xFF5E { // full-width ASCII
			c := byte(r - 0xFEE0)
			switch {
			case c >= '0' && c <= '9', c >= 'A' && c <= 'Z':
				dst = append(dst, c)
			case c >= 'a' && c <= 'z':
				dst = append(dst, c-'a'+'A')
			}
			continue
		}
		if r == utf8.RuneError || dropRune(r) {
			continue
		}
		dst = utf8.AppendRune(dst, r)
	}
	return dst
}

// dropRune reports whether a non-ASCII rune carries no meaning in an address.
func dropRune(r rune) bool {
	switch {
	case r >= 0x2000 && r <= 0x206F: // general punctuation, odd spaces
		return true
	case r >= 0x3000 && r <= 0x303F: // CJK punctuation (、。《》【】 and the ideographic space)
		return r != 0x3007 // 〇 is a digit in names
	case r >= 0xFE30 && r <= 0xFE4F, r >= 0xFF5F && r <= 0xFF65: // CJK compatibility forms
		return true
	case r == 0x00B7 || r == 0x30FB || r == 0xFEFF:
		return true
	}
	return unicode.IsSpace(r) || unicode.IsPunct(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
}

// normalize returns s normalized as by appendNormalized.
func normalize(s string) string { return string(appendNormalized(nil, s)) }

// Kinds of towns and villages. A suffix of the wrong kind is read over but earns
// nothing, because one town often holds both 宝石村 and 宝石社区, and one county both
// 城关镇 and 城关街道.
const (
	kindAny       uint8 = iota // no kind: fits every suffix
	kindStreet                 // 街道, 办事处
	kindTown                   // 镇
	kindTownship               // 乡, 民族乡
	kindVillage                // 村委会, 村民委员会, 嘎查
	kindCommunity              // 社区, 居委会
)

type suffix struct {
	s     string
	kind  uint8
	runes int
}

// Suffixes accepted after a division's name, by level (sorted longest first at init).
// People vary them freely (村/村委会/村民委员会, 街道/办事处), and a county that became a
// district is still written with 县 or 市 for years.
var acceptedSuffixes = [...][]suffix{
	LevelProvince:   sfx(kindAny, "维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "省", "市"),
	LevelPrefecture: sfx(kindAny, "自治州", "地区", "州", "盟", "市"),
	LevelCounty:     sfx(kindAny, "自治县", "自治旗", "特区", "林区", "新区", "区", "县", "市", "旗"),
	LevelTown: append(append(append(sfx(kindStreet, "街道办事处", "街道办", "办事处", "街道", "街办"),
		sfx(kindTown, "镇")...), sfx(kindTownship, "民族乡", "乡")...), sfx(kindAny, "地区", "苏木")...),
	LevelVillage: append(append(
		sfx(kindCommunity, "社区居民委员会", "社区居委会", "居民委员会", "社区居委", "居委会", "居委", "社区", "居"),
		sfx(kindVillage, "村民委员会", "嘎查村委会", "村委会", "村委", "嘎查", "村")...), sfx(kindAny, "委员会")...),
}

func sfx(kind uint8, ss ...string) []suffix {
	out := make([]suffix, len(ss))
	for i, s := range ss {
		out[i] = suffix{s, kind, runeLen(s)}
	}
	return out
}

// kindOf returns the kind of a town or village from the end of its normalized name.
func kindOf(name string, level Level) uint8 {
	if level != LevelTown && level != LevelVillage {
		return kindAny
	}
	best, kind := 0, kindAny
	for _, s := range acceptedSuffixes[level] {
		if len(s.s) > best && strings.HasSuffix(name, s.s) {
			best, kind = len(s.s), s.kind
		}
	}
	return kind
}

// Suffixes stripped from official names to get the core people write, longest first.
var strippedSuffixes = [...][]string{
	LevelProvince:   {"特别行政区", "自治区", "省", "市"},
	LevelPrefecture: {"自治州", "地区", "盟", "市"},
	LevelCounty:     {"自治县", "自治旗", "特区", "林区", "新区", "区", "县", "市", "旗"},
	LevelTown:       {"街道办事处", "民族乡", "街道办", "办事处", "街道", "苏木", "地区", "镇", "乡"},
	LevelVillage: {"社区居民委员会", "社区居委会", "村民委员会", "居民委员会", "村委会", "居委会", "委员会",
		"村委", "居委", "虚拟社区", "虚拟生活区", "生活区", "社区", "嘎查", "村"},
}

// ethnicGroups are the names that come between a place's name and 自治州/自治县/自治区
// (延边朝鲜族自治州 → 延边), longest first so that 蒙古 is tried before 古-less forms.
var ethnicGroups = []string{
	"乌孜别克", "柯尔克孜", "维吾尔", "哈萨克", "土家", "布依", "朝鲜", "哈尼", "傈僳", "拉祜", "东乡",
	"纳西", "景颇", "达斡尔", "仫佬", "布朗", "撒拉", "毛南", "仡佬", "锡伯", "阿昌", "普米", "塔吉克",
	"俄罗斯", "鄂温克", "德昂", "保安", "裕固", "塔塔尔", "独龙", "鄂伦春", "赫哲", "门巴", "珞巴", "基诺",
	"蒙古", "高山", "回", "藏", "苗", "彝", "壮", "满", "侗", "瑶", "白", "傣", "黎", "佤", "畲", "水",
	"土", "羌", "怒", "京", "各",
}

// isPlaceholder reports names NBS uses for grouping rows that are not places people write.
func isPlaceholder(name string) bool {
	switch name {
	case "市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划":
		return true
	}
	return false
}

// runeLen is utf8.RuneCountInString.
func runeLen(s string) int { return utf8.RuneCountInString(s) }

// nameKeys returns the forms of a normalized official name that the index holds: the
// name itself and each core left by stripping level suffixes and ethnic names, keeping
// only forms of at least two characters (a one-character core would match everywhere).
func nameKeys(name string, level Level, dst []string) []string {
	dst = append(dst, name)
	cur := name
	for {
		next := cur
		for _, suf := range strippedSuffixes[level] {
			if strings.HasSuffix(cur, suf) && runeLen(cur)-runeLen(suf) >= 2 {
				next = cur[:len(cur)-len(suf)]
				if strings.HasPrefix(suf, "自治") {
					next = stripEthnic(next)
				}
				break
			}
		}
		if next == cur {
			return dst
		}
		cur = next
		dst = append(dst, cur)
	}
}

// stripEthnic removes trailing ethnic-group names (with or without 族) while at least two
// characters remain; a name that is only an ethnic group (鄂温克族自治旗) keeps it, without
// 族.
func stripEthnic(s string) string {
	for {
		t := strings.TrimSuffix(s, "族")
		found := false
		for _, e := range ethnicGroups {
			if strings.HasSuffix(t, e) && runeLen(t)-runeLen(e) >= 2 {
				t = t[:len(t)-len(e)]
				found = true
				break
			}
		}
		if !found {
			if runeLen(t) >= 2 {
				return t
			}
			return s
		}
		s = t
	}
}
