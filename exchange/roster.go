package exchange

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/idcard"
)

// The fields of a roster (spec §2).
const (
	pPersonID = iota
	pName
	pSex
	pBirthDate
	pHukouAddress
	pRegionCode
	pPhone
	pAgentPhone
	pBenefitType
	pMonthlyAmount
	pStartMonth
	pEndMonth
	pOffsetCapacity
	pLastCertified
)

var rosterFields = newFieldSet([]string{"person_id", "name", "sex", "birth_date", "hukou_address", "region_code",
	"phone", "agent_phone", "benefit_type", "monthly_amount", "start_month", "end_month", "offset_capacity",
	"last_certified"}, []string{"monthly_amount", "offset_capacity"}, "")

// RosterOptions tune how a roster is read.
type RosterOptions struct {
	// Encoding is as in Options: "" or "auto" to detect, or "utf-8", "gbk", "gb18030".
	Encoding string
	// Config gives the entitlement codes (spec §5); nil means the defaults.
	Config *silentcert.Config
	// ResolveRegion finds the 12-digit region code of a household address, for people
	// whose rows give none (spec §2). It may be nil: such people keep an empty code.
	ResolveRegion func(address string) (code string, ok bool)
	// CertifiedBy, when set (not the zero Date), is the latest a last_certified may be: the
	// day of the import. A later one — 2099 for 2019, 2204 for 2024 — would keep the
	// person certified for decades and never asked; it is read as CertifiedBy, with a
	// warning naming the line. Rows are compared (spec §2) by the dates they give.
	CertifiedBy silentcert.Date
	// KeepLater keeps a last_certified later than CertifiedBy as given, with the warning
	// alone: a replay's (backtest's) CertifiedBy is its --to, and a roster read as of a
	// date its operator chose would certify its people until a date that depends on
	// the replay's length; spec §6 certifies them on the date given.
	KeepLater bool
}

// Roster is a roster read and merged by the rules of spec §2: one Recipient per person.
type Roster struct {
	Recipients []*silentcert.Recipient // sorted by PersonID
	Problems   []Problem               // quarantined rows, in file order
	Warnings   []Warning
	Rows       int // data rows read, good or quarantined
	Encoding   string
	// SHA256 is the hex SHA-256 of the file's bytes as read (ReadRoster; "" from
	// ReadRosterFrom): the import's audit row names the very file its people came from.
	SHA256 string
	// Later holds, by person_id, the last_certified given of each recipient whose date
	// was later than RosterOptions.CertifiedBy and read as it (nil when there is none).
	Later map[string]silentcert.Date
}

// The largest amounts a roster row may carry: beyond any real entitlement, and small
// enough that a million people's payments over decades add up in int64 fen.
const (
	MaxMonthly  = silentcert.Fen(1_000_000_00)   // 1,000,000.00 yuan a month
	MaxCapacity = silentcert.Fen(100_000_000_00) // 100,000,000.00 yuan
)

// ReadRoster reads a roster file, taking its format from its extension (FormatOf).
func ReadRoster(path string, opt RosterOptions) (*Roster, error) {
	format, gz, ok := FormatOf(path)
	if !ok {
		return nil, silentcert.Errorf(silentcert.EInvalid, "%s: not a roster file (.csv or .jsonl, optionally .gz)", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, silentcert.Errorf(silentcert.EInvalid, "%w", err)
	}
	defer f.Close()
	var size int64
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() && !gz {
		size = st.Size()
	}
	// Hashed as it is read, not opened twice: the hash is of the bytes the people came
	// from, even if the file is replaced meanwhile.
	h := sha256.New()
	ro, err := readRoster(path, io.TeeReader(f, h), format, gz, opt, size)
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(h, f); err != nil { // anything after what the reader needed
		return nil, silentcert.Errorf(silentcert.EInvalid, "%w", err)
	}
	ro.SHA256 = hex.EncodeToString(h.Sum(nil))
	return ro, nil
}

// person is a recipient being merged. It holds no pointers (strings are places in the
// builder's arenas, entitlements a chain in its list), so that a million of them in one
// slice cost the garbage collector nothing to scan; the Recipients are made at the end.
type person struct {
	key      uint64
	line     int64 // the first row's line
	capacity silentcert.Fen
	lastCert silentcert.Date
	hasCap   bool
	// conflicts counts the person's later rows quarantined for carrying another name
	// (Recipient.NameConflicts); it saturates, and fits in the padding after hasCap.
	conflicts uint16
	firstEnt  int32 // the first entitlement in rosterBuilder.ents; each links to the next
	lastEnt   int32
	// id, name and region live in keep; the address and phones, which some callers drop
	// once read (backtest), in drop, so that dropping them frees their memory.
	id, name, region   strRef
	addr, phone, agent strRef
}

// entry is one entitlement row of a person, linked to the person's next one.
type entry struct {
	ent  silentcert.Entitlement
	next int32 // -1 at the end
}

// ReadRosterFrom reads a roster from r; name is the file name problems carry. Rows of one
// person need not be adjacent. A file-level error (unreadable header, missing required
// column, truncated gzip) returns no roster.
func ReadRosterFrom(name string, r io.Reader, format Format, gz bool, opt RosterOptions) (*Roster, error) {
	return readRoster(name, r, format, gz, opt, 0)
}

// readRoster is ReadRosterFrom knowing the size of the text (0 when unknown), to size its
// tables once instead of growing them row after row.
func readRoster(name string, r io.Reader, format Format, gz bool, opt RosterOptions, size int64) (*Roster, error) {
	cfg := opt.Config
	if cfg == nil {
		cfg = silentcert.DefaultConfig()
	}
	var s rowSource
	if err := s.open(name, r, format, gz, Options{Encoding: opt.Encoding}, rosterFields); err != nil {
		s.close()
		return nil, err
	}
	defer s.close()
	if err := s.requireColumns("person_id", "name", "benefit_type", "monthly_amount", "start_month", "hukou_address|region_code"); err != nil {
		return nil, err
	}
	hint := estimateRows(s.t.window(), size)
	rb := rosterBuilder{s: &s, cfg: cfg, certifiedBy: opt.CertifiedBy, keepLater: opt.KeepLater,
		people: make([]person, 0, hint), ents: make([]entry, 0, hint)}
	rb.index.init(hint)
	for {
		p, err := s.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if p == nil {
			p = rb.row()
		}
		if p != nil {
			rb.problems = append(rb.problems, *p)
		}
	}
	rb.index = keyTable{} // the largest table, no longer needed
	rb.keep.seal()
	rb.drop.seal()
	out := &Roster{Problems: rb.problems, Rows: int(s.rows), Encoding: s.t.enc}
	// The Recipients and their entitlements, made in one pass in file order (memory read
	// in order, not hopping about in key order), into one array each.
	recs := make([]silentcert.Recipient, len(rb.people))
	ents := make([]silentcert.Entitlement, len(rb.ents))
	order := make([]keyIndex, len(rb.people))
	n := 0
	for i := range rb.people {
		p := &rb.people[i]
		lastCert := p.lastCert
		if by := rb.certifiedBy; by != 0 && !rb.keepLater && lastCert > by {
			if out.Later == nil {
				out.Later = map[string]silentcert.Date{}
			}
			out.Later[rb.keep.str(p.id)] = lastCert
			lastCert = by // warned about on each row that gave it
		}
		var id [18]byte
		copy(id[:], rb.keep.str(p.id))
		rec := &recs[i]
		*rec = silentcert.Recipient{
			PersonID: rb.keep.str(p.id), Name: rb.keep.str(p.name), Sex: idcard.Sex(id),
			BirthDate: idcard.BirthDate(id), HukouAddress: rb.drop.str(p.addr), RegionCode: rb.keep.str(p.region),
			Phone: rb.drop.str(p.phone), AgentPhone: rb.drop.str(p.agent), LastCertified: lastCert,
			NameConflicts: int(p.conflicts),
		}
		first := n
		for e := p.firstEnt; e >= 0; e = rb.ents[e].next {
			ents[n] = rb.ents[e].ent
			n++
		}
		// A full slice expression: appending to one person's entitlements must not write
		// over the next person's.
		rec.Entitlements = ents[first:n:n]
		order[i] = keyIndex{key: p.key, i: int32(i), resolve: p.region.n == 0 && p.addr.n > 0}
	}
	rb.ents = nil
	// Key order is PersonID order: 17 fixed-width digits, then the check character.
	sortByKey(order)
	out.Recipients = make([]*silentcert.Recipient, len(order))
	for k, o := range order {
		rec := &recs[o.i]
		if o.resolve && opt.ResolveRegion != nil {
			if code, ok := opt.ResolveRegion(rec.HukouAddress); ok && isDigits(code, 12) {
				rec.RegionCode = code
			} else {
				s.warnings = append(s.warnings, Warning{File: name, Line: rb.people[o.i].line, Field: "hukou_address",
					Message: "the household address of " + idcard.Mask(rec.PersonID) + " did not resolve to a region code"})
			}
		}
		out.Recipients[k] = rec
	}
	out.Warnings = s.allWarnings()
	return out, nil
}

// keyIndex places a person in key order; resolve says the person's region code is to be
// found from the household address.
type keyIndex struct {
	key     uint64
	i       int32
	resolve bool
}

// estimateRows guesses the rows of a text of size bytes from the lines in its first
// window, so that tables are sized once; 0 when it cannot tell. It stays below 4M rows
// (a few hundred MB of tables), so that a file of blank lines reserves no more; a larger
// roster grows its tables beyond that as it reads.
func estimateRows(window []byte, size int64) int {
	lines := bytes.Count(window, lf)
	if size <= 0 || lines == 0 || len(window) == 0 {
		return 0
	}
	return int(min(size/int64(len(window))*int64(lines)+int64(lines), 1<<22))
}

type rosterBuilder struct {
	s          *rowSource
	cfg        *silentcert.Config
	index      keyTable // idcard.Key → people
	people     []person // in the order of their first rows
	ents       []entry
	keep, drop strArena
	problems   []Problem
	certMemo   dateMemo // last_certified dates fall in a few recent months

	certifiedBy silentcert.Date // RosterOptions.CertifiedBy
	keepLater   bool            // RosterOptions.KeepLater
}

// sameBirthDate reports whether b is the YYYY-MM-DD of the birth date id carries. Normalize
// has checked that date, so b is then a valid date equal to it, without parsing either.
func sameBirthDate(b []byte, id *[18]byte) bool {
	return len(b) == 10 && b[4] == '-' && b[7] == '-' && string(b[0:4]) == string(id[6:10]) &&
		string(b[5:7]) == string(id[10:12]) && string(b[8:10]) == string(id[12:14])
}

func isDigits[T string | []byte](s T, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// validPhone reports whether b is a mainland mobile number: 11 digits starting with 1.
func validPhone(b []byte) bool { return isDigits(b, 11) && b[0] == '1' }

// row checks and merges the current row; it returns a problem when the row is rejected.
// Every rule that rejects runs before anything is merged, so that a rejected row leaves
// no trace (not even a warning).
func (rb *rosterBuilder) row() *Problem {
	s, v := rb.s, rb.s.vals
	if len(v[pPersonID]) == 0 {
		return s.problem("person_id", ReasonMissingField, "person_id is required")
	}
	id, ok := idcard.Normalize(v[pPersonID])
	if !ok {
		return s.problem("person_id", ReasonBadPersonID, "person_id "+idcard.Mask(string(v[pPersonID]))+
			" is not a valid citizen ID number (18 characters, check character, birth date)")
	}
	if len(v[pName]) == 0 {
		return s.problem("name", ReasonMissingField, "name is required")
	}
	if sex := v[pSex]; len(sex) > 0 {
		if len(sex) != 1 || (sex[0] != '1' && sex[0] != '2') {
			return s.problem("sex", ReasonBadSex, "sex must be 1 (male) or 2 (female)")
		}
		if int(sex[0]-'0') != idcard.Sex(id) {
			return s.problem("sex", ReasonDisagreesWithID, "sex disagrees with the one person_id carries")
		}
	}
	if b := v[pBirthDate]; len(b) > 0 && !sameBirthDate(b, &id) {
		d, ok := silentcert.ParseDateTimeBytes(b)
		if !ok {
			return s.problem("birth_date", ReasonBadDate, "birth_date is not a date (YYYY-MM-DD)")
		}
		if d != idcard.BirthDate(id) {
			return s.problem("birth_date", ReasonDisagreesWithID, "birth_date disagrees with the one person_id carries")
		}
	}
	if len(v[pBenefitType]) == 0 {
		return s.problem("benefit_type", ReasonMissingField, "benefit_type is required")
	}
	benefit, ok := rb.benefit(v[pBenefitType])
	if !ok {
		return s.problem("benefit_type", ReasonUnknownBenefit, fmt.Sprintf("benefit_type %s is not a configured entitlement code", quoteClip(v[pBenefitType])))
	}
	if len(v[pMonthlyAmount]) == 0 {
		return s.problem("monthly_amount", ReasonMissingField, "monthly_amount is required")
	}
	monthly, ok := silentcert.ParseYuanBytes(v[pMonthlyAmount])
	if !ok || monthly <= 0 {
		return s.problem("monthly_amount", ReasonBadAmount, fmt.Sprintf("monthly_amount %s is not yuan greater than zero", quoteClip(v[pMonthlyAmount])))
	}
	if monthly > MaxMonthly {
		// No pension is a million yuan a month: a misplaced point, or cents typed as yuan.
		// Paid as read, it would also carry the payroll's sums past what they can hold.
		return s.problem("monthly_amount", ReasonBadAmount, fmt.Sprintf("monthly_amount %s is more than %s yuan a month", quoteClip(v[pMonthlyAmount]), MaxMonthly))
	}
	if len(v[pStartMonth]) == 0 {
		return s.problem("start_month", ReasonMissingField, "start_month is required")
	}
	start, ok := silentcert.ParseMonthBytes(v[pStartMonth])
	if !ok {
		return s.problem("start_month", ReasonBadMonth, fmt.Sprintf("start_month %s is not a month (YYYY-MM)", quoteClip(v[pStartMonth])))
	}
	end := silentcert.NoMonth
	if len(v[pEndMonth]) > 0 {
		if end, ok = silentcert.ParseMonthBytes(v[pEndMonth]); !ok {
			return s.problem("end_month", ReasonBadMonth, fmt.Sprintf("end_month %s is not a month (YYYY-MM)", quoteClip(v[pEndMonth])))
		}
		if end < start {
			return s.problem("end_month", ReasonBadMonth, fmt.Sprintf("end_month %s is before start_month %s", end, start))
		}
	}
	var capacity silentcert.Fen
	hasCap := len(v[pOffsetCapacity]) > 0
	if hasCap {
		if capacity, ok = silentcert.ParseYuanBytes(v[pOffsetCapacity]); !ok {
			return s.problem("offset_capacity", ReasonBadAmount, fmt.Sprintf("offset_capacity %s is not yuan", quoteClip(v[pOffsetCapacity])))
		}
		if capacity > MaxCapacity {
			return s.problem("offset_capacity", ReasonBadAmount, fmt.Sprintf("offset_capacity %s is more than %s yuan", quoteClip(v[pOffsetCapacity]), MaxCapacity))
		}
	}
	if rc := v[pRegionCode]; len(rc) > 0 && !isDigits(rc, 12) {
		if len(v[pHukouAddress]) == 0 {
			return s.problem("region_code", ReasonBadRegionCode, fmt.Sprintf("region_code %s is not 12 digits, and no hukou_address is given", quoteClip(rc)))
		}
		// Optional (spec §2): the person is not dropped from the roster for it; the
		// address places them.
		s.warn("region_code", fmt.Sprintf("region_code %s is not 12 digits: read as absent, the person placed by hukou_address", quoteClip(rc)))
		v[pRegionCode] = nil
	}
	if len(v[pHukouAddress]) == 0 && len(v[pRegionCode]) == 0 {
		return s.problem("hukou_address", ReasonMissingAddress, "hukou_address is required when region_code is not given")
	}
	lastCert := silentcert.NoDate
	if b := v[pLastCertified]; len(b) > 0 {
		if lastCert, ok = rb.certMemo.parse(b); !ok {
			return s.problem("last_certified", ReasonBadDate, fmt.Sprintf("last_certified %s is not a date (%s)", quoteClip(b), dateForms))
		}
	}

	key := idcard.Key(id)
	var p *person
	if i, ok := rb.index.get(key); ok {
		p = &rb.people[i]
		// Sex and birth date agree already: both equal what the same ID carries.
		if !bytes.Equal(v[pName], rb.keep.bytes(p.name)) {
			// The row stays quarantined; the count is the only thing it leaves, for the
			// fraud-risk flag (models: inconsistent_identity).
			if p.conflicts < math.MaxUint16 {
				p.conflicts++
			}
			return s.problem("name", ReasonDisagreesWithPerson, fmt.Sprintf("name differs from the person's first row (line %d)", p.line))
		}
		// A row that leaves last_certified out (another agency's entitlement, say)
		// contradicts no other, before or after it; two that give different dates do, in
		// either order. The dates are compared as given, not as CertifiedBy reads them.
		if lastCert != silentcert.NoDate && p.lastCert != silentcert.NoDate && lastCert != p.lastCert {
			return s.problem("last_certified", ReasonDisagreesWithPerson, fmt.Sprintf("last_certified differs from the one an earlier row of the person gives (first row: line %d)", p.line))
		}
		for e := p.firstEnt; e >= 0; e = rb.ents[e].next {
			if rb.ents[e].ent.Benefit == benefit {
				return s.problem("benefit_type", ReasonDuplicateEntitlement, fmt.Sprintf("a second %s row for the same person (first on line %d)", benefit, p.line))
			}
		}
	} else {
		rb.index.put(key, int32(len(rb.people)))
		rb.people = append(rb.people, person{key: key, line: s.line, lastCert: lastCert, firstEnt: -1, lastEnt: -1,
			id: rb.keep.add(id[:]), name: rb.keep.add(v[pName])})
		p = &rb.people[len(rb.people)-1]
	}
	e := int32(len(rb.ents))
	rb.ents = append(rb.ents, entry{next: -1, ent: silentcert.Entitlement{
		Benefit: benefit, Monthly: monthly, Start: start, End: end, Capacity: capacity, CapacityKnown: hasCap,
	}})
	if p.lastEnt >= 0 {
		rb.ents[p.lastEnt].next = e
	} else {
		p.firstEnt = e
	}
	p.lastEnt = e
	if lastCert != silentcert.NoDate {
		p.lastCert = lastCert // the first row that gives it, or one that agrees
		if by := rb.certifiedBy; by != 0 && lastCert > by {
			if rb.keepLater {
				s.warn("last_certified", fmt.Sprintf("last_certified %s is later than %s: kept as given (the person certified on it)", lastCert, by))
			} else {
				s.warn("last_certified", fmt.Sprintf("last_certified %s is later than %s: read as %s", lastCert, by, by))
			}
		}
	}

	// First non-empty value wins; a different later one is a warning.
	rb.merge(&rb.drop, &p.addr, v[pHukouAddress], "hukou_address", p.line)
	rb.merge(&rb.keep, &p.region, v[pRegionCode], "region_code", p.line)
	for _, f := range [...]int{pPhone, pAgentPhone} {
		ph := v[f]
		if len(ph) > 0 && !validPhone(ph) {
			s.warn(rosterFields.names[f], rosterFields.names[f]+" is not an 11-digit mobile number starting with 1: dropped")
			ph = nil
		}
		dst := &p.phone
		if f == pAgentPhone {
			dst = &p.agent
		}
		rb.merge(&rb.drop, dst, ph, rosterFields.names[f], p.line)
	}
	if hasCap {
		if !p.hasCap {
			p.capacity, p.hasCap = capacity, true
		} else if capacity != p.capacity {
			s.warn("offset_capacity", fmt.Sprintf("offset_capacity differs from the person's first (line %d); each row's own is kept and they add up (spec §6)", p.line))
		}
	}
	return nil
}

// merge keeps the first non-empty value of a field and warns about a different later one.
func (rb *rosterBuilder) merge(a *strArena, dst *strRef, val []byte, field string, first int64) {
	if len(val) == 0 {
		return
	}
	if dst.n == 0 {
		*dst = a.add(val)
		return
	}
	if !bytes.Equal(a.bytes(*dst), val) {
		rb.s.warn(field, fmt.Sprintf("%s differs from the person's first (line %d); the first is kept", field, first))
	}
}

// benefit returns the configured code equal to b, so that rows share one string.
func (rb *rosterBuilder) benefit(b []byte) (string, bool) {
	for i := range rb.cfg.Benefits {
		if rb.cfg.Benefits[i].Code == string(b) {
			return rb.cfg.Benefits[i].Code, true
		}
	}
	return "", false
}

// strRef is a string's place in a strArena: bytes off to off+n of chunk c. n is 0 for
// the empty string.
type strRef struct{ c, off, n uint32 }

// strArena packs the many short strings of a roster (a million names, addresses, phone
// numbers) into large chunks, each made one string at the end, whose substrings they
// become: a few hundred allocations instead of millions, and less for the collector to
// track.
type strArena struct {
	chunks [][]byte
	strs   []string // after seal
}

// arenaChunk is the size of an arena chunk: large enough to make allocations rare, small
// enough that a half-empty last one wastes little.
const arenaChunk = 1 << 20

// add copies b into the arena.
func (a *strArena) add(b []byte) strRef {
	if len(b) == 0 {
		return strRef{}
	}
	k := len(a.chunks) - 1
	if k < 0 || len(a.chunks[k])+len(b) > cap(a.chunks[k]) {
		a.chunks = append(a.chunks, make([]byte, 0, max(arenaChunk, len(b))))
		k++
	}
	off := len(a.chunks[k])
	a.chunks[k] = append(a.chunks[k], b...)
	return strRef{uint32(k), uint32(off), uint32(len(b))}
}

// bytes returns the text of r, before seal.
func (a *strArena) bytes(r strRef) []byte {
	if r.n == 0 {
		return nil
	}
	return a.chunks[r.c][r.off : r.off+r.n]
}

// seal turns the chunks into strings, letting each chunk go as soon as it is copied.
func (a *strArena) seal() {
	a.strs = make([]string, len(a.chunks))
	for i, c := range a.chunks {
		a.strs[i] = string(c)
		a.chunks[i] = nil
	}
}

// str returns the string r names, after seal.
func (a *strArena) str(r strRef) string {
	if r.n == 0 {
		return ""
	}
	return a.strs[r.c][r.off : r.off+r.n]
}
