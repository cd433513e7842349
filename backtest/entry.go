package backtest

import (
	"encoding/binary"
	"fmt"
	"hash/maphash"

	sc "github.com/silentcert/silentcert"
)

// entry is one record row that passed validation, kept until the replay: 24 bytes. The
// record_id lives in the arena (its length plus one byte). Nothing else of the row is
// kept: the engine needs no more, and the idempotency key is recomputed from the source
// and record_id when it is needed.
type entry struct {
	person   uint32  // recipient number (for held records, the recipient concerned)
	reported sc.Date // reported_date, defaulted to event_date
	event    sc.Date
	rid      uint32 // arena offset of the record_id
	content  uint32 // hash of the row's content less reported_date, for duplicate_conflict
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
type hasher struct{ s1, s2, s3 maphash.Seed }

func newHasher() hasher {
	return hasher{maphash.MakeSeed(), maphash.MakeSeed(), maphash.MakeSeed()}
}

// key hashes source and rid; buf is scratch space reused between calls.
func (h *hasher) key(buf *[]byte, source string, rid []byte) [2]uint64 {
	b := append(append(append((*buf)[:0], source...), 0), rid...)
	*buf = b
	return [2]uint64{maphash.Bytes(h.s1, b), maphash.Bytes(h.s2, b)}
}

// content hashes the parts of a row that a resend must repeat.
func (h *hasher) content(buf []byte) uint32 { return uint32(maphash.Bytes(h.s3, buf)) }

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

// ids is a chunk's record_ids, each prefixed by its length as a uvarint; entries hold
// offsets into it until the chunk is merged into the run's arena.
type ids []byte

func (b *ids) add(id []byte) uint32 {
	off := uint32(len(*b))
	*b = binary.AppendUvarint(*b, uint64(len(id)))
	*b = append(*b, id...)
	return off
}

func (b ids) get(off uint32) []byte {
	n, k := binary.Uvarint(b[off:])
	return b[int(off)+k : int(off)+k+int(n)]
}

// arena holds the record_ids of every chunk, each chunk's buffer kept whole: a global
// offset is the chunk's base plus the offset within it.
type arena struct {
	bufs  []ids
	bases []uint64
	size  uint64
	dir   []uint32 // for each MiB of offsets, the buffer holding its first byte
}

// add keeps a chunk's ids and returns the base to add to its offsets.
func (a *arena) add(b ids) (uint32, error) {
	base := a.size
	if base+uint64(len(b)) >= 1<<32 {
		return 0, fmt.Errorf("records: more than 4 GiB of record_ids in one run")
	}
	a.bufs = append(a.bufs, b)
	a.bases = append(a.bases, base)
	a.size += uint64(len(b))
	for uint64(len(a.dir))<<20 < a.size {
		a.dir = append(a.dir, uint32(len(a.bufs)-1))
	}
	return uint32(base), nil
}

func (a *arena) get(off uint32) []byte {
	i := int(a.dir[off>>20])
	for i+1 < len(a.bases) && a.bases[i+1] <= uint64(off) {
		i++
	}
	return a.bufs[i].get(off - uint32(a.bases[i]))
}
