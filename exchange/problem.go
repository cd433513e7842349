package exchange

import (
	"cmp"
	"slices"
)

// Reasons a row is quarantined (quarantine.csv's reason column, spec §3 and §7).
const (
	ReasonEncoding           = "encoding"             // the row's bytes do not decode in the file's encoding
	ReasonMalformed          = "malformed"            // bad quoting, wrong field count, bad JSON, a value of the wrong JSON type, a row too long
	ReasonMissingField       = "missing_field"        // a required value is absent or empty
	ReasonBadDate            = "bad_date"             // a date that is not YYYY-MM-DD or a datetime of spec §1
	ReasonEventAfterReported = "event_after_reported" // event_date later than reported_date
	// ReasonEventAfterIngestion: a record ingested now (not history) whose event_date is
	// after the day it arrives: it has not happened yet.
	ReasonEventAfterIngestion  = "event_after_ingestion"
	ReasonUnknownType          = "unknown_type"          // type not in the catalogue
	ReasonTypeNotAllowed       = "type_not_allowed"      // the catalogue assigns the type to another source
	ReasonBadDetail            = "bad_detail"            // a review's accept or ref unreadable (other bad parts are dropped with a warning)
	ReasonBadAmount            = "bad_amount"            // an amount that is not yuan of spec §1 (or not > 0 where it must be)
	ReasonBadPersonID          = "bad_person_id"         // roster: person_id is not a valid citizen ID number
	ReasonDisagreesWithID      = "disagrees_with_id"     // roster: sex or birth_date contradicts person_id
	ReasonDisagreesWithPerson  = "disagrees_with_person" // roster: name, sex, birth_date or last_certified differs from the person's first row
	ReasonDuplicateEntitlement = "duplicate_entitlement" // roster: a second row with the same (person_id, benefit_type)
	ReasonUnknownBenefit       = "unknown_benefit"       // roster: benefit_type is not configured
	ReasonBadRegionCode        = "bad_region_code"       // roster: region_code is not 12 digits; a move record's: not a village's 12 digits
	ReasonBadMonth             = "bad_month"             // roster: a month that is not YYYY-MM, or end_month before start_month
	ReasonBadSex               = "bad_sex"               // roster: sex is not 1 or 2
	ReasonMissingAddress       = "missing_address"       // roster: neither hukou_address nor region_code
	// ReasonSourceNotAllowed: a row of another department than the API key's;
	// ReasonTypeNotAllowedForKey: a type the key, limited to some of its department's
	// types, may not send.
	ReasonSourceNotAllowed     = "source_not_allowed"
	ReasonTypeNotAllowedForKey = "type_not_allowed_for_key"
)

// Problem is one quarantined row (spec §3; one line of quarantine.csv: file,line,field,reason).
// Message explains it for a person and never holds personal data unmasked.
type Problem struct {
	File    string
	Line    int64 // 1-based physical line where the row starts
	Field   string
	Reason  string
	Message string
}

// Error formats the problem as file:line: field: message (reason).
func (p *Problem) Error() string {
	s := p.File + ":" + itoa(p.Line) + ": "
	if p.Field != "" {
		s += p.Field + ": "
	}
	return s + p.Message + " (" + p.Reason + ")"
}

// Warning is something worth an operator's attention that rejected nothing: an unknown
// column, a dropped phone number, a roster value that disagrees with the person's first.
type Warning struct {
	File    string
	Line    int64 // 0 when it concerns the whole file
	Field   string
	Message string
	// Header marks a warning of the file as a whole, read in its header (a column
	// unknown, or a required one missing, which quarantines every row), or an empty file:
	// a root cause, which a list of its rows' problems must not bury.
	Header bool
}

// String formats the warning as file:line: field: message (file: message for the whole
// file).
func (w Warning) String() string {
	s := w.File + ": "
	if w.Line > 0 {
		s = w.File + ":" + itoa(w.Line) + ": "
	}
	if w.Field != "" {
		s += w.Field + ": "
	}
	return s + w.Message
}

// SortProblems orders problems by file (byte order) and line, keeping the order of equal
// ones, so that quarantine.csv comes out the same whatever order files were read in.
func SortProblems(ps []Problem) {
	slices.SortStableFunc(ps, func(a, b Problem) int {
		if c := cmp.Compare(a.File, b.File); c != 0 {
			return c
		}
		return cmp.Compare(a.Line, b.Line)
	})
}

func itoa(n int64) string {
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
