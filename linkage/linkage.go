// Package linkage links records to recipients by the rules of spec §3: the citizen ID
// number with a name check, and a unique name-and-birth-date match when the ID is missing
// or invalid. It is a lookup, not a join: an in-memory index built once from the roster.
//
// It is pure: no I/O, no clock. It never applies anything; it only says who a record is
// about, or why it is about no one.
package linkage

import (
	"bytes"
	"encoding/binary"
	"hash/maphash"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/idcard"
)

// Outcome is what linking a record gave.
type Outcome uint8

// Outcomes.
const (
	Linked        Outcome = iota // linked to one recipient
	HeldName                     // the ID is on the roster but the name disagrees: held for review
	NotOnRoster                  // a valid ID that is not on the roster (no fallback)
	NoMatch                      // no valid ID, and no recipient has that name and birth date
	Ambiguous                    // no valid ID, and several recipients match even with the region
	NotEnoughData                // no valid ID, and no name or no birth date to fall back on
)

var outcomeNames = [...]string{"linked", "name_mismatch", "id_not_on_roster", "no_match", "ambiguous", "no_valid_id"}

// String returns the outcome's report key.
func (o Outcome) String() string { return outcomeNames[o] }

// Index finds recipients by ID number and by name and birth date. Build it with New; it is
// read-only afterwards and safe for concurrent use.
type Index struct {
	byID     idTable
	names    []string // each recipient's name, normalised
	rawNames []string
	regions  []string
	births   []sc.Date
	// nameBirth finds recipients by a hash of (normalised name, birth date): the table holds
	// the first recipient of each hash, next chains the others.
	nameBirth idTable
	next      []uint32 // recipient + 1; 0 ends the chain
}

// idTable maps ID keys to recipients: open addressing, one 16-byte slot holding the key,
// the recipient and a hash of their normalised name, so that a lookup with a matching name
// touches one cache line of the table and the name itself only once.
type idTable struct {
	slots []idSlot
	mask  uint64
}

type idSlot struct {
	key    uint64 // idcard.Key + 1; 0 is empty
	name   uint64 // 64-bit hash of the raw roster name
	person uint32
}

func newIDTable(n int) idTable {
	size := 16
	for size < n*2 {
		size <<= 1
	}
	return idTable{slots: make([]idSlot, size), mask: uint64(size - 1)}
}

func mix(k uint64) uint64 {
	k ^= k >> 33
	k *= 0xff51afd7ed558ccd
	k ^= k >> 33
	return k
}

func (t *idTable) put(key uint64, person uint32, name uint64) {
	i := mix(key) & t.mask
	for t.slots[i].key != 0 && t.slots[i].key != key+1 {
		i = (i + 1) & t.mask
	}
	t.slots[i] = idSlot{key: key + 1, person: person, name: name}
}

func (t *idTable) get(key uint64) (*idSlot, bool) {
	i := mix(key) & t.mask
	for {
		s := &t.slots[i]
		if s.key == key+1 {
			return s, true
		}
		if s.key == 0 {
			return nil, false
		}
		i = (i + 1) & t.mask
	}
}

// nameSeed seeds the name hashes of one process. A record's name whose hash equals the
// roster name's is taken as the same bytes: two different names agree by accident with
// probability 2^-64 per record, far below any other error of the data. Other names are
// compared in full, after normalisation.
var nameSeed = maphash.MakeSeed()

func nameHash(b []byte) uint64 { return maphash.Bytes(nameSeed, b) }

// New indexes recipients; a recipient's number in the index is its position in the slice.
func New(recipients []*sc.Recipient) *Index {
	ix := &Index{
		byID:      newIDTable(len(recipients)),
		names:     make([]string, len(recipients)),
		rawNames:  make([]string, len(recipients)),
		regions:   make([]string, len(recipients)),
		births:    make([]sc.Date, len(recipients)),
		nameBirth: newIDTable(len(recipients)),
		next:      make([]uint32, len(recipients)),
	}
	var buf []byte
	for i, r := range recipients {
		id, ok := idcard.Normalize([]byte(r.PersonID))
		if ok {
			ix.byID.put(idcard.Key(id), uint32(i), nameHash([]byte(r.Name)))
		}
		ix.rawNames[i] = r.Name
		ix.names[i] = NormalizeName(r.Name)
		ix.regions[i] = r.RegionCode
		ix.births[i] = r.BirthDate
		buf = nameBirthKey(buf[:0], []byte(ix.names[i]), r.BirthDate)
		h := hash64(buf)
		if slot, ok := ix.nameBirth.get(h); ok {
			ix.next[i] = slot.person + 1
			slot.person = uint32(i)
		} else {
			ix.nameBirth.put(h, uint32(i), 0)
		}
	}
	return ix
}

func hash64(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h = (h ^ uint64(c)) * 1099511628211
	}
	return h
}

// Len returns the number of recipients indexed.
func (ix *Index) Len() int { return len(ix.names) }

func nameBirthKey(buf, normName []byte, birth sc.Date) []byte {
	buf = binary.BigEndian.AppendUint32(buf, uint32(birth))
	return append(buf, normName...)
}

// NormalizeName returns name as spec §3 compares names: Unicode NFKC, then whitespace and
// the middle dot removed.
func NormalizeName(name string) string {
	if isPlain(name) {
		return name
	}
	return sc.NormalizeName(name, norm.NFKC.String)
}

// isPlain reports whether name is already in normal form: CJK ideographs and letters
// only, no spaces, dots or compatibility characters (the common case, checked cheaply).
func isPlain(name string) bool {
	for _, r := range name {
		switch {
		case r >= 0x4E00 && r <= 0x9FFF: // CJK unified ideographs: NFKC leaves them alone
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		default:
			return false
		}
	}
	return true
}

// Scratch is per-goroutine working memory for Link, so that linking does not allocate.
type Scratch struct{ key []byte }

// Link links a record given its person_id, name, birth_date and region_code as delivered.
// It returns the recipient's number and Linked, or the reason it is held or unlinked (the
// number is the recipient concerned for HeldName, and meaningless otherwise).
func (ix *Index) Link(personID, name []byte, birth sc.Date, region []byte, s *Scratch) (uint32, Outcome) {
	if id, ok := idcard.Normalize(personID); ok {
		slot, found := ix.byID.get(idcard.Key(id))
		if !found {
			return 0, NotOnRoster
		}
		p := slot.person
		// The same bytes as the roster's name agree; anything else is compared in full.
		if len(name) > 0 && nameHash(name) != slot.name && !ix.NameAgrees(p, name) {
			return p, HeldName
		}
		return p, Linked
	}
	if len(name) == 0 || birth == sc.NoDate {
		return 0, NotEnoughData
	}
	norm := normalizeBytes(name)
	s.key = nameBirthKey(s.key[:0], norm, birth)
	slot, ok := ix.nameBirth.get(hash64(s.key))
	if !ok {
		return 0, NoMatch
	}
	// Candidates: the chain's recipients whose name and birth date really match.
	all, inRegion := 0, 0
	var one, oneInRegion uint32
	for p := slot.person + 1; p != 0; p = ix.next[p-1] {
		c := p - 1
		if ix.births[c] != birth || ix.names[c] != string(norm) {
			continue
		}
		all++
		one = c
		if len(region) > 0 && len(ix.regions[c]) > 0 && bytes.HasPrefix([]byte(ix.regions[c]), region) {
			inRegion++
			oneInRegion = c
		}
	}
	switch {
	case all == 1:
		return one, Linked
	case all == 0:
		return 0, NoMatch
	case inRegion == 1:
		return oneInRegion, Linked
	}
	return 0, Ambiguous
}

// NameAgrees reports whether name agrees with recipient p's name (spec §3).
func (ix *Index) NameAgrees(p uint32, name []byte) bool {
	if string(name) == ix.rawNames[p] || string(name) == ix.names[p] {
		return true
	}
	return string(normalizeBytes(name)) == ix.names[p]
}

func normalizeBytes(name []byte) []byte {
	plain := utf8.Valid(name)
	if plain {
		for i := 0; i < len(name); {
			r, n := utf8.DecodeRune(name[i:])
			if !(r >= 0x4E00 && r <= 0x9FFF) && !(r >= 'a' && r <= 'z') && !(r >= 'A' && r <= 'Z') {
				plain = false
				break
			}
			i += n
		}
	}
	if plain {
		return name
	}
	return []byte(NormalizeName(string(name)))
}
