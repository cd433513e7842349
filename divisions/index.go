package divisions

import (
	"strings"
	"unicode/utf8"
)

// index maps every written form ("key") of every division name to the divisions that
// bear it. It is built once per Table and shared by all resolvers over that table.
//
// It holds no pointers but a few large arrays, so that building it is quick and the
// garbage collector has little to scan: the keys are one string (keyBlob) cut by keyOff;
// an open-addressing hash table (slots) finds a key's id from the FNV-1a hash the scanner
// computes anyway; the postings of key id at level l are table positions
// post[postOff[id*levels+l-1]:postOff[id*levels+l]], ascending, which is also code order,
// so the divisions under any division are found by binary search. A Bloom filter over
// every key prefix lets the scanner stop extending a candidate as soon as no key can
// start with it, and a second one over whole keys spares most hash-table probes.
type index struct {
	t *Table

	keyBlob  string
	keyOff   []uint32  // key id → [keyOff[id], keyOff[id+1]) in keyBlob
	keyHash  []uint64  // key id → its hash
	keyHead  [][2]rune // key id → its first two characters
	slots    []uint64  // hash table: the top half of the hash, then key id + 1; 0 when empty
	postOff  []uint32  // see above
	post     []int32   // see above
	levels   []uint8   // key id → bit l-1 set when it has postings at level l
	bloom    []uint64  // every key prefix of two or more characters
	isKey    []uint64  // every key
	maxRunes int

	// The keys of division i are divKeyIDs[divKeyOff[i]:divKeyOff[i+1]], its full
	// normalized name first, for fuzzy matching.
	divKeyOff []uint32
	divKeyIDs []uint32

	// upperHead lists the keys of provinces, prefectures and counties under each of
	// their first two characters, for misspelt names at the start of an address.
	upperHead   map[rune][]upperKey
	placeholder []bool
	kind        []uint8 // kindOf each division
	fullIsKey   []bool  // the division's first key is its full name, which no core and suffix spell
}

// upperKey is one key of a province, prefecture or county.
type upperKey struct {
	div int32
	key uint32
}

// levels is the number of levels postings are split by.
const levels = 5

const (
	bloomBits = 1 << 25
	keyBits   = 1 << 24
)

func hashStart() uint64 { return 14695981039346656037 }

func hashExtend(h uint64, b string) uint64 {
	for i := 0; i < len(b); i++ {
		h ^= uint64(b[i])
		h *= 1099511628211
	}
	return h
}

// The Bloom filters set two bits in one word per entry, so that a test costs one memory
// access; the filters are sparse enough that this costs little in false positives.
func bloomWord(h uint64, bits uint64) (word uint64, mask uint64) {
	h = slot(h)
	return (h & (bits - 1)) >> 6, 1<<((h>>40)&63) | 1<<((h>>50)&63)
}

func (x *index) bloomAdd(h uint64) {
	w, m := bloomWord(h, bloomBits)
	x.bloom[w] |= m
}

func (x *index) bloomHas(h uint64) bool {
	w, m := bloomWord(h, bloomBits)
	return x.bloom[w]&m == m
}

func (x *index) keyAdd(h uint64) {
	w, m := bloomWord(h^0x9e3779b97f4a7c15, keyBits)
	x.isKey[w] |= m
}

func (x *index) mayBeKey(h uint64) bool {
	w, m := bloomWord(h^0x9e3779b97f4a7c15, keyBits)
	return x.isKey[w]&m == m
}

// key returns the text of key id.
func (x *index) key(id uint32) string { return x.keyBlob[x.keyOff[id]:x.keyOff[id+1]] }

// slot spreads a hash over the table: FNV-1a's low bits are weak.
func slot(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	return h
}

// lookup returns the id of key k, whose hash is h.
func (x *index) lookup(k string, h uint64) (uint32, bool) {
	mask := uint64(len(x.slots) - 1)
	top := h >> 32
	for i := slot(h) & mask; ; i = (i + 1) & mask {
		v := x.slots[i]
		if v == 0 {
			return 0, false
		}
		if v>>32 == top {
			if id := uint32(v) - 1; x.key(id) == k {
				return id, true
			}
		}
	}
}

// keyBuilder interns keys while the index is built.
type keyBuilder struct {
	x    *index
	blob []byte
}

// intern returns the id of k, adding it if new.
func (b *keyBuilder) intern(k string) uint32 {
	x := b.x
	h := hashExtend(hashStart(), k)
	if 2*(len(x.keyHash)+1) > len(x.slots) {
		b.grow()
	}
	mask := uint64(len(x.slots) - 1)
	top := h >> 32
	i := slot(h) & mask
	for ; x.slots[i] != 0; i = (i + 1) & mask {
		if v := x.slots[i]; v>>32 == top {
			if id := uint32(v) - 1; string(b.blob[x.keyOff[id]:x.keyOff[id+1]]) == k {
				return id
			}
		}
	}
	id := uint32(len(x.keyHash))
	x.slots[i] = top<<32 | uint64(id+1)
	x.keyHash = append(x.keyHash, h)
	b.blob = append(b.blob, k...)
	x.keyOff = append(x.keyOff, uint32(len(b.blob)))
	k0, n0 := utf8.DecodeRuneInString(k)
	k1, _ := utf8.DecodeRuneInString(k[n0:])
	x.keyHead = append(x.keyHead, [2]rune{k0, k1})
	x.addPrefixes(k)
	return id
}

func (b *keyBuilder) grow() {
	x := b.x
	n := max(1<<16, 2*len(x.slots))
	x.slots = make([]uint64, n)
	mask := uint64(n - 1)
	for id, h := range x.keyHash {
		i := slot(h) & mask
		for x.slots[i] != 0 {
			i = (i + 1) & mask
		}
		x.slots[i] = (h>>32)<<32 | uint64(id+1)
	}
}

func buildIndex(t *Table) *index {
	n := len(t.divs)
	x := &index{
		t:           t,
		bloom:       make([]uint64, bloomBits/64),
		isKey:       make([]uint64, keyBits/64),
		keyOff:      []uint32{0},
		divKeyOff:   make([]uint32, n+1),
		divKeyIDs:   make([]uint32, 0, n*2),
		placeholder: make([]bool, n),
		kind:        make([]uint8, n),
		fullIsKey:   make([]bool, n),
	}
	kb := &keyBuilder{x: x, blob: make([]byte, 0, 16<<20)}
	x.slots = make([]uint64, 1<<21)
	x.keyHash = make([]uint64, 0, 1<<20)
	var counts []uint32 // per key id and level
	var scratch []string
	var nbuf []byte
	pc := parentCores{t: t}
	for i, d := range t.divs {
		x.divKeyOff[i] = uint32(len(x.divKeyIDs))
		if isPlaceholder(d.Name) {
			x.placeholder[i] = true
			continue
		}
		nbuf = appendNormalized(nbuf[:0], d.Name)
		x.kind[i] = kindOf(string(nbuf), d.Level)
		scratch = nameKeys(string(nbuf), d.Level, scratch[:0])
		// A county or town named after the division above it (威海经济技术开发区 under
		// 威海市) is also written without that prefix.
		if d.Level == LevelCounty || d.Level == LevelTown {
			if p := pc.of(i); p != "" {
				for _, k := range scratch {
					if rest, ok := strings.CutPrefix(k, p); ok && runeLen(rest) >= 3 {
						scratch = nameKeys(rest, d.Level, scratch)
						break
					}
				}
			}
		}
		for _, former := range formerNames[d.Code] {
			scratch = nameKeys(former, d.Level, scratch)
		}
		// The full name is left out when a core and a suffix accepted after it spell it
		// (北门外+社区居委会): the scanner finds it that way, and most of the country's
		// 620,000 village names need no key of their own.
		from := 1
		if !spelledByCore(scratch, d.Level) {
			from = 0
			x.fullIsKey[i] = true
		}
		first := len(x.divKeyIDs)
	keys:
		for j, k := range scratch[from:] {
			j += from
			if runeLen(k) < 2 && j > 0 {
				continue
			}
			id := kb.intern(k)
			for _, seen := range x.divKeyIDs[first:] {
				if seen == id {
					continue keys
				}
			}
			x.divKeyIDs = append(x.divKeyIDs, id)
			for int(id)*levels+levels > len(counts) {
				counts = append(counts, 0)
			}
			counts[int(id)*levels+int(d.Level)-1]++
		}
	}
	x.divKeyOff[n] = uint32(len(x.divKeyIDs))
	x.upperHead = map[rune][]upperKey{}
	for i := range n {
		if t.divs[i].Level > LevelCounty {
			continue
		}
		for _, id := range x.divKeyIDs[x.divKeyOff[i]:x.divKeyOff[i+1]] {
			h := x.keyHead[id]
			x.upperHead[h[0]] = append(x.upperHead[h[0]], upperKey{int32(i), id})
			if h[1] != h[0] {
				x.upperHead[h[1]] = append(x.upperHead[h[1]], upperKey{int32(i), id})
			}
		}
	}
	x.keyBlob = string(kb.blob)
	kb.blob = nil
	// Postings, filled in table order so that each list comes out sorted.
	x.levels = make([]uint8, len(counts)/levels)
	x.postOff = make([]uint32, len(counts)+1)
	for i, c := range counts {
		if c > 0 {
			x.levels[i/levels] |= 1 << (i % levels)
		}
		x.postOff[i+1] = x.postOff[i] + c
	}
	x.post = make([]int32, x.postOff[len(counts)])
	fill := counts // reused: the next free place of each list
	copy(fill, x.postOff[:len(counts)])
	for i := range n {
		l := uint32(t.divs[i].Level) - 1
		for _, id := range x.divKeyIDs[x.divKeyOff[i]:x.divKeyOff[i+1]] {
			slot := id*levels + l
			x.post[fill[slot]] = int32(i)
			fill[slot]++
		}
	}
	return x
}

// parentCores finds the shortest key of the nearest non-placeholder ancestor of a
// division, remembering the last answer: siblings come one after another.
type parentCores struct {
	t      *Table
	parent string
	core   string
}

func (pc *parentCores) of(i int) string {
	t := pc.t
	p := t.divs[i].Parent
	if p == pc.parent {
		return pc.core
	}
	pc.parent, pc.core = p, ""
	for p != "" {
		j, ok := t.index(p)
		if !ok {
			return ""
		}
		d := t.divs[j]
		if isPlaceholder(d.Name) {
			p = d.Parent
			continue
		}
		ks := nameKeys(normalize(d.Name), d.Level, nil)
		if best := ks[len(ks)-1]; runeLen(best) >= 2 { // each key is shorter than the one before
			pc.core = best
		}
		break
	}
	return pc.core
}

func (x *index) addPrefixes(k string) {
	h := hashStart()
	r := 0
	for i := 0; i < len(k); {
		_, sz := utf8.DecodeRuneInString(k[i:])
		h = hashExtend(h, k[i:i+sz])
		i += sz
		r++
		if r >= 2 {
			x.bloomAdd(h)
		}
	}
	x.keyAdd(h)
	if r > x.maxRunes {
		x.maxRunes = r
	}
}

// postings returns the table positions of divisions of level l with key id.
func (x *index) postings(id uint32, l Level) []int32 {
	slot := id*levels + uint32(l) - 1
	return x.post[x.postOff[slot]:x.postOff[slot+1]]
}

// spelledByCore reports whether keys[0], a full name, is another of the keys followed by
// a suffix accepted at its level.
func spelledByCore(keys []string, level Level) bool {
	name := keys[0]
	for _, k := range keys[1:] {
		rest, ok := strings.CutPrefix(name, k)
		if !ok {
			continue
		}
		for _, suf := range acceptedSuffixes[level] {
			if suf.s == rest {
				return true
			}
		}
	}
	return false
}

// isFullName reports whether key id is division i's full name.
func (x *index) isFullName(i int32, id uint32) bool {
	return x.fullIsKey[i] && x.divKeyIDs[x.divKeyOff[i]] == id
}
