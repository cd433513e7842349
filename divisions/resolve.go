package divisions

import (
	"sort"
	"strings"
	"sync"
	"unicode/utf8"
)

// Options tunes a Resolver.
type Options struct {
	// City is a 4-digit prefecture or 6-digit county code. When set, only divisions inside
	// it (and its ancestors, so that "山东省威海市…" is read through) can be matched: a
	// roster serves one region, and a person registered elsewhere has no village worklist
	// in it. A code that is not in the table matches nothing.
	City string
}

// Result is what the resolver made of one address.
type Result struct {
	Code       string   // the village's 12-digit code; else the deepest code reached with certainty; "" when nothing matched
	Level      Level    // the level of Code (LevelNone when Code is "")
	Confidence float64  // 0–1: how sure the resolver is of Code; 1 is an exact, unique, complete match
	Candidates []string // when Ambiguous: the codes that fit equally well, sorted (at most MaxCandidates)
	Ambiguous  bool     // two or more divisions fit; Code is then their deepest common ancestor
}

// MaxCandidates caps Result.Candidates; an address that fits more divisions than this is
// as good as unresolved.
const MaxCandidates = 16

// DefaultMinConfidence is the confidence below which a village code should not be used to
// route a person without a look by staff; it is what RegionFunc callers should pass
// unless their policy says otherwise.
const DefaultMinConfidence = 0.7

// Resolver turns free-text registered addresses (户籍地址) into division codes. It is
// immutable and safe for concurrent use; Resolve is deterministic.
type Resolver struct {
	t         *Table
	x         *index
	cityLo    int32 // table positions [cityLo, cityHi) may be matched
	cityHi    int32
	cityAnc   []int32 // the city's ancestors, also allowed
	cityLevel Level   // the level of Options.City (LevelNone without one)
}

// index returns the table's address index, built on first use and shared.
func (t *Table) addressIndex() *index {
	t.idxOnce.Do(func() { t.idx = buildIndex(t) })
	return t.idx
}

// NewResolver returns a resolver over t. The first resolver over a table builds its
// address index (a few hundred milliseconds for the whole country); later ones share it.
func NewResolver(t *Table, opt Options) *Resolver {
	r := &Resolver{t: t, x: t.addressIndex(), cityLo: 0, cityHi: int32(len(t.divs))}
	if opt.City != "" {
		i, ok := t.index(opt.City)
		if !ok {
			r.cityLo, r.cityHi = 0, 0
			return r
		}
		r.cityLo, r.cityHi = int32(i), t.end[i]
		r.cityLevel = t.divs[i].Level
		for _, a := range t.Path(opt.City) {
			if a.Code != opt.City {
				j, _ := t.index(a.Code)
				r.cityAnc = append(r.cityAnc, int32(j))
			}
		}
	}
	return r
}

// RegionFunc returns a function that gives the 12-digit village code of an address only
// when it resolved to a single village with at least minConfidence; otherwise ok is false
// and the person belongs on the region's unassigned worklist.
func (r *Resolver) RegionFunc(minConfidence float64) func(address string) (code string, ok bool) {
	return func(address string) (string, bool) {
		res := r.Resolve(address)
		if res.Level != LevelVillage || res.Ambiguous || res.Confidence < minConfidence {
			return "", false
		}
		return res.Code, true
	}
}

// Scoring, in tenths of a character: every character explained by a division's name or
// suffix earns 10, every character skipped before a name costs 4 (a name not recognised
// in the middle should not outweigh the village found after it), a name matched with one
// character wrong, missing or extra costs 10 more. Parses within ambiguityMargin of the best
// that end in a different branch make the answer ambiguous.
const (
	perRune         = 10
	gapCost         = 4
	fuzzyCost       = 10
	ambiguityMargin = 5
	maxGap          = 12  // characters that may be skipped before a name
	maxLeadGap      = 10  // … before the first name ("户籍地址：", a typo in the province)
	beam            = 50  // a parse this far behind the best so far is not followed
	fuzzyBeam       = 20  // … and this far behind, not followed by misspelt names
	maxRunes        = 160 // longer addresses are cut; no real one is this long
	maxFanout       = 64  // a name that fits more divisions than this in scope is not followed
)

// fanout is how many divisions of level l one name may fit, seen from a division of level
// from, before the name is taken as too common to follow: a village name read before any
// county (新村, 幸福路) fits hundreds of villages across the country and says nothing.
func fanout(from, l Level) int {
	switch {
	case l <= from+2:
		return maxFanout
	case l <= from+3:
		return 8
	}
	return 2
}

type match struct {
	start, end int16 // runes
	id         uint32
}

type state struct {
	end   int16
	fuzzy uint8
	gaps  uint8
	from  Level // level of the division matched before this one (LevelNone at the start)
	segs  uint8 // names matched so far
	first Level // level of the first name matched
	lead  uint8 // characters skipped before the first name
	div   int32 // table position; -1 is the start
	score int32
	next  int32 // next state ending at the same position
}

type scratch struct {
	text    []byte // the normalized address
	str     string // the part read, as a string for lookups and prefix tests
	runes   []rune
	off     []int32
	matches []match
	mstart  []int32
	states  []state
	head    []int32
	cands   []int32
	keyBuf  []rune
	kids    []int32
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// Resolve resolves one address. It never fails: an address it cannot read comes back with
// Level LevelNone.
func (r *Resolver) Resolve(address string) Result {
	if r.cityHi <= r.cityLo {
		return Result{}
	}
	s := scratchPool.Get().(*scratch)
	defer scratchPool.Put(s)
	r.prepare(s, address)
	n := len(s.runes)
	if n == 0 {
		return Result{}
	}
	r.scan(s)
	if r.foreign(s) {
		return Result{}
	}
	// Viterbi over (end position, division): states ending at p are final once every
	// position before p has been expanded, because every step moves forward.
	s.states = append(s.states[:0], state{end: 0, div: -1, next: -1})
	s.head = s.head[:0]
	for range n + 1 {
		s.head = append(s.head, -1)
	}
	s.head[0] = 0
	// A parse explaining the text up to p much worse than another explains it up to p or
	// earlier is not followed.
	bestUpTo := int32(0)
	for p := 0; p <= n; p++ {
		for si := s.head[p]; si >= 0; si = s.states[si].next {
			bestUpTo = max(bestUpTo, s.states[si].score)
		}
		for si := s.head[p]; si >= 0; si = s.states[si].next {
			if sc := s.states[si].score; sc >= bestUpTo-beam {
				r.expand(s, si, sc >= bestUpTo-fuzzyBeam)
			}
		}
	}
	return r.decide(s)
}

// addressLabels are words that open an address without being part of it; the first that
// matches is dropped (the colon after a label is gone already as punctuation).
var addressLabels = [...]string{
	"户籍所在地地址", "户口所在地地址", "户籍所在地", "户口所在地", "户籍地址", "户口地址", "户籍地", "家庭住址", "家庭地址",
	"现住址", "住址", "地址", "中华人民共和国", "中国",
}

// prepare normalizes the address into s.str, s.runes and rune offsets s.off.
func (r *Resolver) prepare(s *scratch, address string) {
	s.text = appendNormalized(s.text[:0], address)
	str := string(s.text)
	for _, label := range addressLabels {
		if rest, ok := strings.CutPrefix(str, label); ok {
			str = rest
			break
		}
	}
	s.runes, s.off = s.runes[:0], s.off[:0]
	i := 0
	for i < len(str) && len(s.runes) < maxRunes {
		c, sz := utf8.DecodeRuneInString(str[i:])
		s.runes = append(s.runes, c)
		s.off = append(s.off, int32(i))
		i += sz
	}
	s.off = append(s.off, int32(i))
	s.str = str[:i]
}

// scan finds every index key in the text. The Bloom filter stops each extension as soon
// as no key starts with the characters so far, so the scan costs a few hash probes per
// character.
func (r *Resolver) scan(s *scratch) {
	x := r.x
	n := len(s.runes)
	s.matches = s.matches[:0]
	s.mstart = s.mstart[:0]
	for i := 0; i < n; i++ {
		s.mstart = append(s.mstart, int32(len(s.matches)))
		h := hashStart()
		for j := i; j < n && j-i < x.maxRunes; j++ {
			h = hashExtend(h, s.str[s.off[j]:s.off[j+1]])
			if j == i {
				continue
			}
			if !x.bloomHas(h) {
				break
			}
			if !x.mayBeKey(h) {
				continue
			}
			if id, ok := x.lookup(s.str[s.off[i]:s.off[j+1]], h); ok {
				s.matches = append(s.matches, match{start: int16(i), end: int16(j + 1), id: id})
			}
		}
	}
	s.mstart = append(s.mstart, int32(len(s.matches)))
}

// foreign reports an address that opens with the name of a province or prefecture
// outside the city option, read more fully than anything inside it (吉林省 is the
// province, not Weihai's village 吉林): a person registered in 北京市 has no village in a
// Weihai roster's worklists, however many Weihai villages share words with the rest of
// the address.
func (r *Resolver) foreign(s *scratch) bool {
	if r.cityLevel == LevelNone {
		return false
	}
	inside, outside := 0, 0
	for _, m := range s.matches[:s.mstart[min(1, len(s.mstart)-1)]] {
		for l := LevelProvince; l <= LevelVillage; l++ {
			post := r.x.postings(m.id, l)
			if len(post) > maxFanout {
				post = post[:0] // too common a name to say anything either way
			}
			for _, c := range post {
				in := r.inCity(c)
				if !in && l > LevelPrefecture {
					continue
				}
				_, earned := r.suffixAt(s, int(m.end), c)
				span := int(m.end-m.start) + earned
				if in {
					inside = max(inside, span)
				} else if earned > 0 || span >= 3 {
					outside = max(outside, span)
				}
			}
		}
	}
	return outside > inside
}

// inCity reports whether division c lies inside the city option or above it.
func (r *Resolver) inCity(c int32) bool {
	if c >= r.cityLo && c < r.cityHi {
		return true
	}
	for _, a := range r.cityAnc {
		if a == c {
			return true
		}
	}
	return false
}

// scope returns the table positions that may follow division d: its subtree within the
// city.
func (r *Resolver) scope(d int32) (lo, hi int32) {
	lo, hi = 0, int32(len(r.t.divs))
	if d >= 0 {
		lo, hi = d+1, r.t.end[d]
	}
	return max(lo, r.cityLo), min(hi, r.cityHi)
}

// expand adds the states reachable from state si: exact names starting at or shortly
// after its end, then, when nothing exact follows directly, names of its children with
// one character wrong, missing or extra.
func (r *Resolver) expand(s *scratch, si int32, tryFuzzy bool) {
	st := s.states[si]
	p := int(st.end)
	n := len(s.runes)
	lo, hi := r.scope(st.div)
	from := LevelNone
	if st.div >= 0 {
		from = r.t.divs[st.div].Level
	}
	from = max(from, r.cityLevel)
	// Only divisions below st.div can follow it. When nothing in its scope can (a
	// village, or a division outside the city), there is no exact step to look for: the
	// city's ancestors lie only in the scopes of the start and of the city's ancestors.
	below := LevelProvince
	if st.div >= 0 {
		below = r.t.divs[st.div].Level + 1
	}
	if lo >= hi {
		below = LevelVillage + 1
	}
	exactNext, exactAny := false, false
	gapLimit := maxGap
	if st.div < 0 {
		gapLimit = maxLeadGap
	}
	for mi := s.mstart[min(p, n)]; p < n && below <= LevelVillage && mi < s.mstart[min(p+gapLimit+1, n)]; mi++ {
		m := s.matches[mi]
		gap := int(m.start) - p
		s.cands = s.cands[:0]
		mask := r.x.levels[m.id]
		for l := below; l <= LevelVillage; l++ {
			if mask&(1<<(l-1)) == 0 {
				continue
			}
			post := r.x.postings(m.id, l)
			a := lowerBound(post, lo)
			b := a + lowerBound(post[a:], hi)
			if b-a <= fanout(from, l) {
				s.cands = append(s.cands, post[a:b]...)
			}
			for _, anc := range r.cityAnc {
				if anc > st.div && (st.div < 0 || anc < r.t.end[st.div]) && contains(post, anc) {
					s.cands = append(s.cands, anc)
				}
			}
		}
		for _, c := range s.cands {
			complete := r.addSegment(s, si, c, int(m.start), int(m.end), gap, false)
			complete = complete || r.x.isFullName(c, m.id)
			if gap == 0 {
				exactAny = true
				exactNext = exactNext || complete
			}
		}
	}
	if exactNext || !tryFuzzy || p >= n {
		return
	}
	// Fuzzy: children of st.div (looking through placeholder rows such as 市辖区).
	r0, r1 := s.runes[p], rune(-1)
	if p+1 < n {
		r1 = s.runes[p+1]
	}
	x := r.x
	if st.div < 0 {
		if exactAny {
			return
		}
		// At the start any province, prefecture or county may open the address
		// ("威梅市环翠区…" is 威海 misspelt, with the province left out); they are tried
		// only when no name at all opens it, through their first two characters.
		for i, q := range [2]rune{r0, r1} {
			if i == 1 && q == r0 {
				break
			}
			for _, u := range x.upperHead[q] {
				if r.cityLevel == LevelNone || r.inCity(u.div) {
					r.fuzzy(s, si, u.div, p, x.key(u.key))
				}
			}
		}
		return
	}
	s.kids = r.appendChildren(s.kids[:0], st.div)
	for _, c := range s.kids {
		ki, kend := x.divKeyOff[c], x.divKeyOff[c+1]
		if kend-ki > 1 && x.fullIsKey[c] {
			// The full name starts with a core; a slip in the core is found through
			// the core, and one after it leaves the core exact.
			ki++
		}
		for ; ki < kend; ki++ {
			// One edit leaves the key's first or second character at the text's
			// first or second place; most children fail this at once.
			id := x.divKeyIDs[ki]
			h := x.keyHead[id]
			if h[0] != r0 && h[0] != r1 && h[1] != r0 && h[1] != r1 {
				continue
			}
			r.fuzzy(s, si, c, p, x.key(id))
		}
	}
}

// appendChildren appends the children of d that lie in or above the city, with
// placeholder rows (市辖区) replaced by their children.
func (r *Resolver) appendChildren(dst []int32, d int32) []int32 {
	t := r.t
	for i := d + 1; i < t.end[d]; i = t.end[i] {
		if t.end[i] <= r.cityLo || i >= r.cityHi {
			continue // subtree does not meet the city
		}
		if r.x.placeholder[i] {
			dst = r.appendChildren(dst, i)
			continue
		}
		dst = append(dst, i)
	}
	return dst
}

func contains(post []int32, v int32) bool {
	k := lowerBound(post, v)
	return k < len(post) && post[k] == v
}

// lowerBound returns the first index of xs (ascending) holding a value ≥ v.
func lowerBound(xs []int32, v int32) int {
	lo, hi := 0, len(xs)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if xs[m] < v {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// addSegment records that division c's name covers runes [start, coreEnd) after a gap,
// with and without the longest suffix for its level that follows. It reports whether the
// name looks complete: at least three characters with a suffix of its kind (the caller
// also counts a full official name). Only then is the exact reading trusted enough to
// skip fuzzy ones
// (南宅 is a village, but "南宅户村委会" is 南宅庄户 with a character dropped).
func (r *Resolver) addSegment(s *scratch, si int32, c int32, start, coreEnd, gap int, fuzzy bool) (complete bool) {
	st := s.states[si]
	score := st.score - int32(gap*gapCost) + int32((coreEnd-start)*perRune)
	fz := st.fuzzy
	if fuzzy {
		score -= fuzzyCost
		fz = min(fz+1, 9)
	}
	gaps := uint8(min(int(st.gaps)+gap, 255))
	from := LevelNone
	if st.div >= 0 {
		from = r.t.divs[st.div].Level
	}
	segs := min(st.segs+1, 9)
	first, lead := st.first, st.lead
	if st.div < 0 {
		first, lead = r.t.divs[c].Level, uint8(min(gap, 255))
	}
	r.addState(s, state{end: int16(coreEnd), div: c, score: score, fuzzy: fz, gaps: gaps, from: from, segs: segs, first: first, lead: lead})
	sl, earned := r.suffixAt(s, coreEnd, c)
	if sl > 0 {
		r.addState(s, state{end: int16(coreEnd + sl), div: c, score: score + int32(earned*perRune), fuzzy: fz, gaps: gaps, from: from, segs: segs, first: first, lead: lead})
	}
	return earned > 0 && coreEnd-start+earned >= 3
}

func (r *Resolver) addState(s *scratch, ns state) {
	for i := s.head[ns.end]; i >= 0; i = s.states[i].next {
		o := &s.states[i]
		if o.div != ns.div {
			continue
		}
		if ns.score > o.score || (ns.score == o.score && ns.fuzzy < o.fuzzy) {
			o.score, o.fuzzy, o.gaps, o.from, o.segs, o.first, o.lead = ns.score, ns.fuzzy, ns.gaps, ns.from, ns.segs, ns.first, ns.lead
		}
		return
	}
	ns.next = s.head[ns.end]
	s.head[ns.end] = int32(len(s.states))
	s.states = append(s.states, ns)
}

// suffixAt returns the longest suffix accepted for division c's level at rune pos: the
// characters it covers and those it earns (none when it is of another kind than c).
func (r *Resolver) suffixAt(s *scratch, pos int, c int32) (runes, earned int) {
	if pos >= len(s.runes) {
		return 0, 0
	}
	level := r.t.divs[c].Level
	if !strings.ContainsRune(suffixFirst[level], s.runes[pos]) {
		return 0, 0
	}
	rest := s.str[s.off[pos]:]
	for _, suf := range acceptedSuffixes[level] {
		if strings.HasPrefix(rest, suf.s) {
			if k := r.x.kind[c]; k != kindAny && suf.kind != kindAny && k != suf.kind {
				return suf.runes, 0
			}
			return suf.runes, suf.runes
		}
	}
	return 0, 0
}

// suffixFirst holds the first characters of each level's suffixes, to rule most text out
// with one test.
var suffixFirst [len(acceptedSuffixes)]string

func init() {
	for l := range acceptedSuffixes {
		for _, suf := range acceptedSuffixes[l] {
			if first, _ := utf8.DecodeRuneInString(suf.s); !strings.ContainsRune(suffixFirst[l], first) {
				suffixFirst[l] += string(first)
			}
		}
		sort.SliceStable(acceptedSuffixes[l], func(i, j int) bool {
			return len(acceptedSuffixes[l][i].s) > len(acceptedSuffixes[l][j].s)
		})
	}
}

// fuzzy tries key k of division c at rune p with exactly one character substituted,
// dropped or added. A core of two characters is accepted that way only when a suffix of
// its level follows, so that "王象村" can stand for 王家村 but "王" alone never does.
func (r *Resolver) fuzzy(s *scratch, si int32, c int32, p int, k string) {
	key := s.keyBuf[:0]
	for _, ch := range k {
		key = append(key, ch)
	}
	s.keyBuf = key
	nk := len(key)
	if nk < 2 {
		return
	}
	text := s.runes[p:]
	common := 0
	for common < nk && common < len(text) && text[common] == key[common] {
		common++
	}
	if common == nk {
		return // exact: the scanner has it
	}
	try := func(consumed int) {
		if consumed > len(text) || consumed < 1 {
			return
		}
		if _, earned := r.suffixAt(s, p+consumed, c); nk == 2 && earned == 0 {
			return
		}
		if consumed < len(text) && isNumeral(text[consumed-1]) && strings.ContainsRune(numberedUnits, text[consumed]) {
			return // "杜家三组" is 杜家, group 3, not 杜家岛 misspelt
		}
		r.addSegment(s, si, c, p, p+consumed, 0, true)
	}
	// Substitution: one mismatch in the first nk characters.
	if nk <= len(text) {
		miss := 0
		for i := common; i < nk && miss < 2; i++ {
			if text[i] != key[i] {
				miss++
			}
		}
		if miss == 1 {
			try(nk)
		}
	}
	// Deletion: the text lacks key[common].
	if nk-1 <= len(text) && runesEqual(text[common:nk-1], key[common+1:]) {
		try(nk - 1)
	}
	// Insertion: the text has one extra character at common.
	if nk+1 <= len(text) && runesEqual(text[common+1:nk+1], key[common:]) {
		try(nk + 1)
	}
}

// numberedUnits are the words that follow a number after the village: group, house,
// team, building, entrance, room, lane.
const numberedUnits = "组号队楼栋单室巷排"

func isNumeral(r rune) bool {
	return r >= '0' && r <= '9' || strings.ContainsRune("〇一二三四五六七八九十百", r)
}

func runesEqual(a, b []rune) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// decide picks the best parse and says how sure it is.
func (r *Resolver) decide(s *scratch) Result {
	t := r.t
	best := -1
	for i := 1; i < len(s.states); i++ {
		st := &s.states[i]
		if r.lone(st) {
			continue
		}
		if best < 0 || st.score > s.states[best].score ||
			(st.score == s.states[best].score && better(t, st.div, s.states[best].div)) {
			best = i
		}
	}
	if best < 0 || s.states[best].score <= 0 {
		return Result{}
	}
	b := s.states[best]
	// Conflicts: other branches (neither above nor below the best) that score close.
	set := s.cands[:0]
	set = append(set, b.div)
	second := int32(-1 << 30)
	for i := 1; i < len(s.states); i++ {
		st := s.states[i]
		if st.div == b.div || t.related(st.div, b.div) || r.lone(&st) {
			continue
		}
		if b.score-st.score < ambiguityMargin {
			set = append(set, st.div)
		} else if st.score > second {
			second = st.score
		}
	}
	s.cands = set
	// Characters skipped before the first name count more than those between names: it
	// is then unclear where the address starts (映红山社区 holds the county name 红山).
	conf := 1.0 - 0.2*float64(b.fuzzy) - 0.04*float64(b.gaps-b.lead) - min(0.15*float64(b.lead), 0.45)
	// A name read with nothing above it that narrows the place (a village with no county
	// or town before it, a town with no prefecture or county) is weak evidence even when
	// it is unique: 哈尔 is a village, and also part of 察哈尔.
	// Likewise an address that starts at the town, with no county or city option.
	if b.first >= LevelTown && r.cityLevel == LevelNone && b.segs > 1 {
		conf -= 0.2
	}
	if lv := t.divs[b.div].Level; lv >= LevelCounty {
		ctx := max(b.from, r.cityLevel)
		switch {
		case ctx+1 >= lv:
		case ctx+2 >= lv:
			conf -= 0.1 // the town left out: common, and same names are caught as ambiguous
		case ctx+3 >= lv:
			conf -= 0.25 // a village named right after its city: unique there, but thin
		default:
			conf -= 0.35
		}
	}
	if second > -1<<30 {
		if d := float64(b.score-second) / perRune; d < 3 {
			conf -= (3 - d) * 0.1
		}
	}
	conf = min(max(conf, 0.05), 1)
	if len(set) == 1 {
		d := t.divs[b.div]
		return Result{Code: d.Code, Level: d.Level, Confidence: round2(conf)}
	}
	// Ambiguous: keep the most specific divisions, report their common ancestor.
	sort.Slice(set, func(i, j int) bool { return set[i] < set[j] })
	uniq := set[:0]
	for i, v := range set {
		if i+1 < len(set) && (set[i+1] == v || t.related(v, set[i+1])) {
			continue // v is the same as, or an ancestor of, the next one
		}
		uniq = append(uniq, v)
	}
	res := Result{Ambiguous: true, Confidence: round2(min(conf, 0.5))}
	lca := t.divs[uniq[0]].Code
	for _, v := range uniq {
		c := t.divs[v].Code
		if len(res.Candidates) < MaxCandidates {
			res.Candidates = append(res.Candidates, c)
		}
		lca = commonAncestor(t, lca, c)
	}
	if lca != "" {
		if d, ok := t.Lookup(lca); ok {
			res.Code, res.Level = d.Code, d.Level
		}
	}
	return res
}

// lone reports a parse that is a single town or village name with nothing around it to
// place it (no county, no city option): "火星" is a street in Changsha, but an address
// that says only that says nothing.
func (r *Resolver) lone(st *state) bool {
	return st.segs == 1 && r.cityLevel == LevelNone && r.t.divs[st.div].Level >= LevelTown
}

// better breaks score ties deterministically: the shallower division (when 旧县 is both a
// town and a village in it, the address says no more than the town), then the lower code.
func better(t *Table, a, b int32) bool {
	if la, lb := t.divs[a].Level, t.divs[b].Level; la != lb {
		return la < lb
	}
	return a < b
}

// related reports whether one of a and b lies in the other's subtree.
func (t *Table) related(a, b int32) bool {
	if a > b {
		a, b = b, a
	}
	return b < t.end[a]
}

// commonAncestor returns the code of the deepest division holding both a and b ("" if none).
func commonAncestor(t *Table, a, b string) string {
	for _, l := range [...]Level{LevelVillage, LevelTown, LevelCounty, LevelPrefecture, LevelProvince} {
		n := l.CodeLen()
		if len(a) >= n && len(b) >= n && a[:n] == b[:n] {
			if _, ok := t.Lookup(a[:n]); ok {
				return a[:n]
			}
		}
	}
	return ""
}

func round2(f float64) float64 { return float64(int(f*100+0.5)) / 100 }
