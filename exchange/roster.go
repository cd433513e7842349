package exchange

import (
	"fmt"
	"io"
	"os"
	"slices"

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
}

// Roster is a roster read and merged by the rules of spec §2: one Recipient per person.
type Roster struct {
	Recipients []*silentcert.Recipient // sorted by PersonID
	Problems   []Problem               // quarantined rows, in file order
	Warnings   []Warning
	Rows       int // data rows read, good or quarantined
	Encoding   string
}

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
	return ReadRosterFrom(path, f, format, gz, opt)
}

// person is a recipient being merged, with what the later rows are checked against.
type person struct {
	rec      *silentcert.Recipient
	line     int64 // the first row's line
	capacity silentcert.Fen
	hasCap   bool
}

// ReadRosterFrom reads a roster from r; name is the file name problems carry. Rows of one
// person need not be adjacent. A file-level error (unreadable header, missing required
// column, truncated gzip) returns no roster.
func ReadRosterFrom(name string, r io.Reader, format Format, gz bool, opt RosterOptions) (*Roster, error) {
	cfg := opt.Config
	if cfg == nil {
		cfg = silentcert.DefaultConfig()
	}
	var s rowSource
	if err := s.open(name, r, format, gz, opt.Encoding, rosterFields); err != nil {
		s.close()
		return nil, err
	}
	defer s.close()
	if err := s.requireColumns("person_id", "name", "benefit_type", "monthly_amount", "start_month", "hukou_address|region_code"); err != nil {
		return nil, err
	}
	rb := rosterBuilder{s: &s, cfg: cfg, people: map[uint64]*person{}}
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
	out := &Roster{Problems: rb.problems, Rows: int(s.rows), Encoding: s.t.enc}
	keys := make([]uint64, 0, len(rb.people))
	for k := range rb.people {
		keys = append(keys, k)
	}
	// Key order is PersonID order: 17 fixed-width digits, then the check character.
	slices.Sort(keys)
	out.Recipients = make([]*silentcert.Recipient, len(keys))
	for i, k := range keys {
		p := rb.people[k]
		if p.rec.RegionCode == "" && p.rec.HukouAddress != "" && opt.ResolveRegion != nil {
			if code, ok := opt.ResolveRegion(p.rec.HukouAddress); ok && isDigits(code, 12) {
				p.rec.RegionCode = code
			} else {
				s.warnings = append(s.warnings, Warning{File: name, Line: p.line, Field: "hukou_address",
					Message: "the household address of " + idcard.Mask(p.rec.PersonID) + " did not resolve to a region code"})
			}
		}
		out.Recipients[i] = p.rec
	}
	out.Warnings = s.warnings
	return out, nil
}

type rosterBuilder struct {
	s        *rowSource
	cfg      *silentcert.Config
	people   map[uint64]*person
	problems []Problem
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
	if b := v[pBirthDate]; len(b) > 0 {
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
	}
	if rc := v[pRegionCode]; len(rc) > 0 && !isDigits(rc, 12) {
		return s.problem("region_code", ReasonBadRegionCode, fmt.Sprintf("region_code %s is not 12 digits", quoteClip(rc)))
	}
	if len(v[pHukouAddress]) == 0 && len(v[pRegionCode]) == 0 {
		return s.problem("hukou_address", ReasonMissingAddress, "hukou_address is required when region_code is not given")
	}
	lastCert := silentcert.NoDate
	if b := v[pLastCertified]; len(b) > 0 {
		if lastCert, ok = silentcert.ParseDateTimeBytes(b); !ok {
			return s.problem("last_certified", ReasonBadDate, fmt.Sprintf("last_certified %s is not a date (YYYY-MM-DD)", quoteClip(b)))
		}
	}

	key := idcard.Key(id)
	p := rb.people[key]
	if p != nil {
		// Sex and birth date agree already: both equal what the same ID carries.
		if string(v[pName]) != p.rec.Name {
			return s.problem("name", ReasonDisagreesWithPerson, fmt.Sprintf("name differs from the person's first row (line %d)", p.line))
		}
		// A later row that leaves last_certified out (another agency's entitlement, say)
		// does not contradict the first; one that gives another date does.
		if lastCert != silentcert.NoDate && lastCert != p.rec.LastCertified {
			return s.problem("last_certified", ReasonDisagreesWithPerson, fmt.Sprintf("last_certified differs from the person's first row (line %d)", p.line))
		}
		for i := range p.rec.Entitlements {
			if p.rec.Entitlements[i].Benefit == benefit {
				return s.problem("benefit_type", ReasonDuplicateEntitlement, fmt.Sprintf("a second %s row for the same person (first on line %d)", benefit, p.line))
			}
		}
	} else {
		p = &person{line: s.line, rec: &silentcert.Recipient{
			PersonID: string(id[:]), Name: string(v[pName]), Sex: idcard.Sex(id),
			BirthDate: idcard.BirthDate(id), LastCertified: lastCert,
		}}
		rb.people[key] = p
	}
	p.rec.Entitlements = append(p.rec.Entitlements, silentcert.Entitlement{
		Benefit: benefit, Monthly: monthly, Start: start, End: end, Capacity: capacity, CapacityKnown: hasCap,
	})

	// First non-empty value wins; a different later one is a warning.
	rb.merge(&p.rec.HukouAddress, v[pHukouAddress], "hukou_address", p.line)
	rb.merge(&p.rec.RegionCode, v[pRegionCode], "region_code", p.line)
	for _, f := range [...]int{pPhone, pAgentPhone} {
		ph := v[f]
		if len(ph) > 0 && !validPhone(ph) {
			s.warn(rosterFields.names[f], rosterFields.names[f]+" is not an 11-digit mobile number starting with 1: dropped")
			ph = nil
		}
		dst := &p.rec.Phone
		if f == pAgentPhone {
			dst = &p.rec.AgentPhone
		}
		rb.merge(dst, ph, rosterFields.names[f], p.line)
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
func (rb *rosterBuilder) merge(dst *string, val []byte, field string, first int64) {
	if len(val) == 0 {
		return
	}
	if *dst == "" {
		*dst = string(val)
		return
	}
	if *dst != string(val) {
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
