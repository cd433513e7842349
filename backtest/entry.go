package backtest

import (
	"encoding/binary"
	"hash/crc32"
	"hash/maphash"
	"slices"

	sc "github.com/silentcert/silentcert"
)

// entry is one record row that passed validation, kept until the replay: 16 bytes. Its
// record_id is in the idStore under the entry's number, and the hash of its content in a
// side array that lives only until duplicates are found. Nothing else of the row is kept:
// the engine needs no more, and the idempotency key is recomputed from the source and
// record_id when it is needed.
type entry struct {
	person   uint32  // recipient number (for held records, the recipient concerned)
	reported sc.Date // reported_date, defaulted to event_date
	event    sc.Date
	typ      sc.TypeID
	flags    uint8
	part     uint8 // linkage outcome (low 4 bits) for unlinked rows; key partition (high 4)
}

func (e *entry) outcome() uint8   { return e.part & 0xf }
func (e *entry) partition() uint8 { return e.part >> 4 }

const (
	fCritical  = 1 << iota // detail critical=1
	fHeld                  // name mismatch: held, never applied
	fUnlinked              // linked to no one
	fDuplicate             // a later occurrence of its key
	fDupConflict
	fResolve // has a row in the resolve side table
	fMove    // an INFO record that moves the person: new region in the moves side table
)

// maxPartitions bounds the key partitions (and so the goroutines that find duplicates).
const maxPartitions = 16

// hasher makes the 128-bit idempotency hash from two independently seeded maphash lanes.
// The seeds are random per run, which changes no output: hashes only decide equality.
// Two distinct keys collide with probability 2^-128 per pair, so a run of n records sees
// any collision with probability below n²/2^129 (about 3·10^-24 for 10^8 records).
type hasher struct{ s1, s2 maphash.Seed }

func newHasher() hasher {
	return hasher{maphash.MakeSeed(), maphash.MakeSeed()}
}

// key hashes source and rid; buf is scratch space reused between calls.
func (h *hasher) key(buf *[]byte, source string, rid []byte) [2]uint64 {
	b := append(append(append((*buf)[:0], source...), 0), rid...)
	*buf = b
	return h.sum(b)
}

// sum is the key of b, which holds the source, a zero byte and the record_id.
func (h *hasher) sum(b []byte) [2]uint64 {
	return [2]uint64{maphash.Bytes(h.s1, b), maphash.Bytes(h.s2, b)}
}

// content hashes the parts of a row that a resend must repeat, to tell a resend that
// differs (duplicate_conflict) from a plain one. It is a fixed function (CRC-32C, in
// hardware on most machines), not a seeded one: a differing resend whose hash happens to
// match is then missed on every run alike (probability 2^-32 a pair), where a random seed
// made the count differ between runs of the same files. Four bytes an entry, held until
// the duplicates are found.
func (h *hasher) content(buf []byte) uint32 { return crc32.Checksum(buf, castagnoli) }

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// keyIdx is an entry's idempotency key beside its number, while duplicates are found.
type keyIdx struct {
	key [2]uint64
	idx uint32
}

// subBits splits a partition again by the key's top bits, so that each table is small
// enough to stay in cache.
const subBits = 4

// dedupe is an open-addressing set over a slice of keyIdx (one sub-partition, in entry
// order). A slot is 8 bytes: the position in the slice + 1 and 32 bits of the key; it is
// kept under 70% full.
type dedupe struct{ slots []uint64 }

func fingerprint(k [2]uint64) uint64 { return k[1] & 0xffffffff }

func (d *dedupe) init(n int) {
	size := 1 << 6
	for size*7 < n*10 {
		size <<= 1
	}
	if cap(d.slots) >= size {
		d.slots = d.slots[:size]
		clear(d.slots)
		return
	}
	d.slots = make([]uint64, size)
}

func (d *dedupe) find(ks []keyIdx, k [2]uint64) (slot int, found bool) {
	mask := len(d.slots) - 1
	i := int(k[0]) & mask
	fp := fingerprint(k)
	for {
		s := d.slots[i]
		if s == 0 {
			return i, false
		}
		if s&0xffffffff == fp && ks[s>>32-1].key == k {
			return i, true
		}
		i = (i + 1) & mask
	}
}

// insert adds ks[pos]; positions must come in order. The first occurrence in the order
// of spec §7 wins: among rows of one key the least (reported_date, event_date), then file
// and line order, which is position order. It returns the losing position, or -1.
func (d *dedupe) insert(entries *segs[entry], ks []keyIdx, pos int) int {
	k := ks[pos].key
	slot, found := d.find(ks, k)
	if !found {
		d.slots[slot] = uint64(pos+1)<<32 | fingerprint(k)
		return -1
	}
	w := int(d.slots[slot]>>32) - 1
	e, we := entries.at(ks[pos].idx), entries.at(ks[w].idx)
	if e.reported < we.reported || (e.reported == we.reported && e.event < we.event) {
		d.slots[slot] = uint64(pos+1)<<32 | fingerprint(k)
		return w
	}
	return pos
}

// lookup returns the position that won key k.
func (d *dedupe) lookup(ks []keyIdx, k [2]uint64) (int, bool) {
	slot, found := d.find(ks, k)
	if !found {
		return 0, false
	}
	return int(d.slots[slot]>>32) - 1, true
}

// idBlock is how many record_ids share one restart point in an idStore: finding one
// decodes at most idBlock-1 others, and each block costs one full record_id and 4 bytes.
const idBlock = 16

// idChunk is one file's record_ids, front-coded: each block of idBlock starts with a
// whole record_id (its length as a uvarint, then its bytes); every other one is stored as
// the length of the prefix it shares with the one before and its remaining bytes. A
// header byte holds both lengths when the prefix is under 16 and the rest under 15 bytes
// (a department's numbering, read in file order, usually is); otherwise its low nibble is
// 15 and both lengths follow as uvarints.
type idChunk struct {
	base   uint32   // the entry number of its first record_id
	data   []byte   // the encoded record_ids
	blocks []uint32 // where each block starts in data (a file's data stay under 4 GiB)
	// source is the source of every record of the chunk when they all have the same
	// (a department's file usually): keys are then made without reading the entries.
	source string
	mixed  bool
}

// idEncoder front-codes a chunk's record_ids as they are parsed.
type idEncoder struct {
	idChunk
	prev []byte
	n    int
}

func (c *idEncoder) reset() {
	c.data, c.blocks, c.prev, c.n = c.data[:0], c.blocks[:0], c.prev[:0], 0
	c.source, c.mixed = "", false
}

// add appends the record_id of a record of source.
func (c *idEncoder) add(source string, id []byte) {
	if c.n == 0 {
		c.source = source
	} else if source != c.source {
		c.mixed = true
	}
	if c.n%idBlock == 0 {
		c.blocks = append(c.blocks, uint32(len(c.data)))
		c.data = binary.AppendUvarint(c.data, uint64(len(id)))
		c.data = append(c.data, id...)
	} else {
		p := 0
		for p < len(id) && p < len(c.prev) && id[p] == c.prev[p] {
			p++
		}
		rest := id[p:]
		if p < 16 && len(rest) < 15 {
			c.data = append(c.data, byte(p<<4|len(rest)))
		} else {
			c.data = append(c.data, 0x0f)
			c.data = binary.AppendUvarint(c.data, uint64(p))
			c.data = binary.AppendUvarint(c.data, uint64(len(rest)))
		}
		c.data = append(c.data, rest...)
	}
	c.prev = append(c.prev[:0], id...)
	c.n++
}

// appendID appends the k-th record_id of the chunk to b.
func (c *idChunk) appendID(b []byte, k uint32) []byte {
	d := c.data[c.blocks[k/idBlock]:]
	n, w := binary.Uvarint(d)
	start := len(b)
	b = append(b, d[w:w+int(n)]...)
	d = d[w+int(n):]
	for r := k % idBlock; r > 0; r-- {
		h := d[0]
		d = d[1:]
		p, m := int(h>>4), int(h&0x0f)
		if m == 0x0f {
			x, w := binary.Uvarint(d)
			y, v := binary.Uvarint(d[w:])
			p, m = int(x), int(y)
			d = d[w+v:]
		}
		b = append(b[:start+p], d[:m]...)
		d = d[m:]
	}
	return b
}

// idStore holds the record_id of every entry, by entry number, one idChunk per file:
// about 5 bytes a record_id where an exact copy of each took 16.
type idStore struct {
	chunks []idChunk
	dir    []uint32 // for each 2^16 entry numbers, the chunk holding the first
	n      uint32   // entries so far
}

// add keeps an exact copy of a chunk's n record_ids, numbered from the store's count.
func (s *idStore) add(c *idEncoder) {
	if c.n == 0 {
		return
	}
	s.chunks = append(s.chunks, idChunk{base: s.n, data: slices.Clone(c.data), blocks: slices.Clone(c.blocks),
		source: c.source, mixed: c.mixed})
	s.n += uint32(c.n)
	for uint64(len(s.dir))<<16 < uint64(s.n) {
		s.dir = append(s.dir, uint32(len(s.chunks)-1))
	}
}

// appendID appends entry i's record_id to b.
func (s *idStore) appendID(b []byte, i uint32) []byte {
	c, k := s.chunk(i)
	return c.appendID(b, k)
}

// chunk returns the chunk holding entry i's record_id and its number there.
func (s *idStore) chunk(i uint32) (*idChunk, uint32) {
	k := int(s.dir[i>>16])
	for k+1 < len(s.chunks) && s.chunks[k+1].base <= i {
		k++
	}
	return &s.chunks[k], i - s.chunks[k].base
}
