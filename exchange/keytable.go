package exchange

import "math/bits"

// keyTable maps ID keys (idcard.Key: never 0) to people, as a map[uint64]int32 would. It
// exists because the roster's table outgrows every cache, so that each lookup is a trip
// to memory: here a key and its value share one 16-byte slot, and linear probing keeps
// the next slots on the same cache line, so that a lookup is mostly one trip instead of
// the two or three a general map makes (control word, then slot).
type keyTable struct {
	slots []keySlot
	n     int
	shift uint // 64 - log2(len(slots))
}

type keySlot struct {
	key uint64 // 0 for an empty slot
	val int32
}

// init sizes the table for about hint keys, so that it need not grow.
func (t *keyTable) init(hint int) {
	size := 1024
	for size*3 < hint*4 { // load at most 3/4
		size *= 2
	}
	t.slots = make([]keySlot, size)
	t.n = 0
	t.shift = uint(64 - bits.TrailingZeros(uint(size)))
}

func (t *keyTable) home(key uint64) uint64 {
	// Fibonacci hashing: the high bits of the product mix every digit of the key.
	return (key * 0x9E3779B97F4A7C15) >> t.shift
}

// get returns the value of key.
func (t *keyTable) get(key uint64) (int32, bool) {
	mask := uint64(len(t.slots) - 1)
	for i := t.home(key); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.key == key {
			return s.val, true
		}
		if s.key == 0 {
			return 0, false
		}
	}
}

// put adds key, which is not in the table yet.
func (t *keyTable) put(key uint64, val int32) {
	if (t.n+1)*4 > len(t.slots)*3 {
		t.grow()
	}
	mask := uint64(len(t.slots) - 1)
	i := t.home(key)
	for t.slots[i].key != 0 {
		i = (i + 1) & mask
	}
	t.slots[i] = keySlot{key, val}
	t.n++
}

func (t *keyTable) grow() {
	old := t.slots
	t.slots = make([]keySlot, 2*len(old))
	t.shift--
	mask := uint64(len(t.slots) - 1)
	for _, s := range old {
		if s.key == 0 {
			continue
		}
		i := t.home(s.key)
		for t.slots[i].key != 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = s
	}
}

// sortByKey sorts people's keys by LSD radix sort, a byte at a time, skipping the bytes
// all keys share (the high ones, and most of a city's region digits): a million keys in a
// few linear passes, where a comparison sort makes twenty.
func sortByKey(a []keyIndex) {
	if len(a) < 256 {
		sortKeysSmall(a)
		return
	}
	var counts [8][256]int
	for i := range a {
		k := a[i].key
		for b := range 8 {
			counts[b][byte(k>>(8*b))]++
		}
	}
	tmp := make([]keyIndex, len(a))
	src, dst := a, tmp
	for b := range 8 {
		c := &counts[b]
		if c[byte(src[0].key>>(8*b))] == len(src) {
			continue // every key has this byte
		}
		pos := 0
		for d := range c {
			c[d], pos = pos, pos+c[d]
		}
		for i := range src {
			d := byte(src[i].key >> (8 * b))
			dst[c[d]] = src[i]
			c[d]++
		}
		src, dst = dst, src
	}
	if &src[0] != &a[0] {
		copy(a, src)
	}
}

// sortKeysSmall is insertion sort, for the few people of a small roster.
func sortKeysSmall(a []keyIndex) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j].key < a[j-1].key; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}
