package exchange

import "math/bits"

// keyTable maps ID keys (idcard.Key: never 0) to people, as a map[uint64]int32 would. It
// exists because the roster's table outgrows every cache, so that each lookup is a trip
// to memory: here the keys lie alone in one flat array, eight to a cache line, and linear
// probing keeps a search on the line it starts on, so that telling a new person from a
// known one is mostly one trip (a general map makes two or three: control word, slot);
// the values, in an array of their own, are read only for a key found.
type keyTable struct {
	keys  []uint64 // 0 for an empty slot
	vals  []int32
	n     int
	shift uint // 64 - log2(len(keys))
}

// init sizes the table for about hint keys, so that it need not grow.
func (t *keyTable) init(hint int) {
	size := 1024
	for size*3 < hint*4 { // load at most 3/4
		size *= 2
	}
	t.keys = make([]uint64, size)
	t.vals = make([]int32, size)
	t.n = 0
	t.shift = uint(64 - bits.TrailingZeros(uint(size)))
}

func (t *keyTable) home(key uint64) uint64 {
	// Fibonacci hashing: the high bits of the product mix every digit of the key.
	return (key * 0x9E3779B97F4A7C15) >> t.shift
}

// get returns the value of key.
func (t *keyTable) get(key uint64) (int32, bool) {
	mask := uint64(len(t.keys) - 1)
	for i := t.home(key); ; i = (i + 1) & mask {
		k := t.keys[i]
		if k == key {
			return t.vals[i], true
		}
		if k == 0 {
			return 0, false
		}
	}
}

// put adds key, which is not in the table yet.
func (t *keyTable) put(key uint64, val int32) {
	if (t.n+1)*4 > len(t.keys)*3 {
		t.grow()
	}
	t.insert(key, val)
	t.n++
}

func (t *keyTable) insert(key uint64, val int32) {
	mask := uint64(len(t.keys) - 1)
	i := t.home(key)
	for t.keys[i] != 0 {
		i = (i + 1) & mask
	}
	t.keys[i], t.vals[i] = key, val
}

func (t *keyTable) grow() {
	keys, vals := t.keys, t.vals
	t.keys = make([]uint64, 2*len(keys))
	t.vals = make([]int32, 2*len(vals))
	t.shift--
	for i, k := range keys {
		if k != 0 {
			t.insert(k, vals[i])
		}
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
