package backtest

import (
	"hash/maphash"

	sc "github.com/silentcert/silentcert"
)

// entry is one record row that passed validation, kept until the replay: 40 bytes. The
// record_id lives in the arena (about its length plus one byte); the idempotency table
// adds about 6 bytes. Nothing else of the row is kept: the engine needs no more.
type entry struct {
	key      [2]uint64 // 128-bit hash of (source, record_id): the idempotency key
	person   uint32    // recipient number (for held records, the recipient concerned)
	reported sc.Date   // reported_date, defaulted to event_date
	event    sc.Date
	rid      uint32 // arena offset of the record_id
	content  uint32 // hash of the row's content less reported_date, for duplicate_conflict
	typ      sc.TypeID
	flags    uint8
	outcome  uint8 // linkage outcome for unlinked rows
}

const (
	fCritical  = 1 << iota // detail critical=1
	fHeld                  // name mismatch: held, never applied
	fUnlinked              // linked to no one
	fDuplicate             // a later occurrence of its key
	fDupConflict
	fResolve // has a row in the resolve side table
	fAgent   // detail agent=1
)

// hasher makes the 128-bit idempotency hash from two independently seeded maphash lanes.
// The seeds are random per run, which changes no output: hashes only decide equality.
// Two distinct keys collide with probability 2^-128 per pair, so a run of n records sees
// any collision with probability below n²/2^129 (about 3·10^-24 for 10^8 records).
type hasher struct{ s1, s2, s3 maphash.Seed }

func newHasher() hasher {
	return hasher{maphash.MakeSeed(), maphash.MakeSeed(), maphash.MakeSeed()}
}

// key hashes source and rid; buf is scratch space reused between calls.
func (h *hasher) key(buf *[]byte, source, rid []byte) [2]uint64 {
	b := append(append(append((*buf)[:0], source...), 0), rid...)
	*buf = b
	return [2]uint64{maphash.Bytes(h.s1, b), maphash.Bytes(h.s2, b)}
}

// content hashes the parts of a row that a resend must repeat.
func (h *hasher) content(buf []byte) uint32 { return uint32(maphash.Bytes(h.s3, buf)) }

// dedupe is an open-addressing set of entry numbers keyed by the entries' hashes: 4 bytes
// a slot, kept under 70% full.
type dedupe struct {
	slots []uint32 // entry number + 1; 0 is empty
	n     int
}

func (d *dedupe) find(entries []entry, k [2]uint64) (slot int, found bool) {
	mask := len(d.slots) - 1
	i := int(k[0]) & mask
	for {
		s := d.slots[i]
		if s == 0 {
			return i, false
		}
		if entries[s-1].key == k {
			return i, true
		}
		i = (i + 1) & mask
	}
}

func (d *dedupe) grow(entries []entry) {
	size := 1 << 16
	for size*7 < (d.n+1)*10 {
		size <<= 1
	}
	if size <= len(d.slots) {
		size = len(d.slots) * 2
	}
	old := d.slots
	d.slots = make([]uint32, size)
	mask := size - 1
	for _, s := range old {
		if s == 0 {
			continue
		}
		i := int(entries[s-1].key[0]) & mask
		for d.slots[i] != 0 {
			i = (i + 1) & mask
		}
		d.slots[i] = s
	}
}

// insert adds entry idx (already in entries). The first occurrence in the order of spec §7
// wins: among rows of one key, the least (reported_date, event_date), then file and line
// order, which is idx order. It returns the losing entry's number, or -1.
func (d *dedupe) insert(entries []entry, idx uint32) int64 {
	if (d.n+1)*10 >= len(d.slots)*7 {
		d.grow(entries)
	}
	e := &entries[idx]
	slot, found := d.find(entries, e.key)
	if !found {
		d.slots[slot] = idx + 1
		d.n++
		return -1
	}
	w := d.slots[slot] - 1
	we := &entries[w]
	if e.reported < we.reported || (e.reported == we.reported && e.event < we.event) {
		d.slots[slot] = idx + 1
		return int64(w)
	}
	return int64(idx)
}

// lookup returns the winning entry of key k.
func (d *dedupe) lookup(entries []entry, k [2]uint64) (uint32, bool) {
	if len(d.slots) == 0 {
		return 0, false
	}
	slot, found := d.find(entries, k)
	if !found {
		return 0, false
	}
	return d.slots[slot] - 1, true
}

// arena stores record_ids in 64 MiB blocks; an offset is block<<26 | position, each id
// prefixed by its length as a uvarint.
type arena struct{ blocks [][]byte }

const arenaBlock = 1 << 26

func (a *arena) add(b []byte) uint32 {
	need := len(b) + 5
	if len(a.blocks) == 0 || len(a.blocks[len(a.blocks)-1])+need > arenaBlock {
		a.blocks = append(a.blocks, make([]byte, 0, arenaBlock))
	}
	bi := len(a.blocks) - 1
	blk := a.blocks[bi]
	off := uint32(bi)<<26 | uint32(len(blk))
	n := len(b)
	for n >= 0x80 {
		blk = append(blk, byte(n)|0x80)
		n >>= 7
	}
	blk = append(blk, byte(n))
	a.blocks[bi] = append(blk, b...)
	return off
}

func (a *arena) get(off uint32) []byte {
	blk := a.blocks[off>>26]
	p := int(off & (arenaBlock - 1))
	n, shift := 0, 0
	for {
		c := blk[p]
		p++
		n |= int(c&0x7f) << shift
		if c < 0x80 {
			break
		}
		shift += 7
	}
	return blk[p : p+n]
}
