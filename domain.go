package silentcert

import (
	"fmt"
	"strings"
)

// Entitlement is one benefit (待遇) that a recipient draws: one roster row.
type Entitlement struct {
	Benefit string // entitlement code (spec §5)
	Monthly Fen    // amount a month, greater than zero
	Start   Month  // first month paid
	End     Month  // last month paid, or NoMonth
	// Capacity is this row's offset_capacity (抵顶能力), CapacityKnown whether it gave one.
	Capacity      Fen
	CapacityKnown bool
}

// Active reports whether the entitlement is due for month m (started and not ended).
func (e *Entitlement) Active(m Month) bool {
	return m >= e.Start && (e.End == NoMonth || m <= e.End)
}

// Recipient is a person who draws one or more entitlements (待遇领取人员): the roster rows
// that share a person_id, merged by the rules of spec §2.
type Recipient struct {
	PersonID      string // 18-character citizen ID number, upper-case X
	Name          string
	Sex           int // 1 male, 2 female
	BirthDate     Date
	HukouAddress  string // 户籍地址, free text
	RegionCode    string // 12-digit statistical division code, or "" when unresolved
	Phone         string
	AgentPhone    string // a relative's or agent's (代办人) mobile number
	LastCertified Date   // migration: last certification in the system replaced, or NoDate
	Entitlements  []Entitlement
	// NameConflicts counts the roster rows of this person_id quarantined because they
	// carry another name than the first row's (spec §2: the name is the one part of the
	// identity the ID number does not fix). Several entitlements under one ID number but
	// different names is a fraud-risk sign: the evidence model raises a RISK flag for it
	// (inconsistent_identity_N). A roster re-import sets it anew.
	NameConflicts int
}

// Capacity returns the person's offset capacity (the sum over their rows, spec §6) and
// whether any row gave one.
func (r *Recipient) Capacity() (Fen, bool) {
	var sum Fen
	known := false
	for i := range r.Entitlements {
		if r.Entitlements[i].CapacityKnown {
			sum += r.Entitlements[i].Capacity
			known = true
		}
	}
	return sum, known
}

// MonthlyTotal returns the sum of monthly amounts over all the person's entitlements.
func (r *Recipient) MonthlyTotal() Fen {
	var sum Fen
	for i := range r.Entitlements {
		sum += r.Entitlements[i].Monthly
	}
	return sum
}

// FirstMonth returns the earliest start month of the person's entitlements.
func (r *Recipient) FirstMonth() Month {
	first := NoMonth
	for i := range r.Entitlements {
		if first == NoMonth || r.Entitlements[i].Start < first {
			first = r.Entitlements[i].Start
		}
	}
	return first
}

// Detail is the parsed detail column of a record (spec §3): known keys only.
type Detail struct {
	ICD10    string
	Critical bool // critical=1: a critical-illness admission
	Agent    bool // agent=1: an agent (代办) assisted
	Count    int  // several events of the day in one record (0 when absent)
	Amount   Fen
	HasAmt   bool
	Accept   string // RESOLVE: "death" or "alive"
	Ref      string // RESOLVE: SOURCE:RECORD_ID of a record in the conflict
}

// Record is one fact about a person delivered by a department (认证行为数据), validated.
type Record struct {
	RecordID     string
	Source       string
	Type         TypeID
	PersonID     string // as the department holds it; may be invalid
	Name         string
	BirthDate    Date
	EventDate    Date
	ReportedDate Date // NoDate when the file did not give one
	RegionCode   string
	Detail       Detail
	RawDetail    string
}

// Key returns the idempotency key SOURCE:RECORD_ID, which is also how decisions name
// their evidence.
func (r *Record) Key() string { return r.Source + ":" + r.RecordID }

// Status is a person's certification status (spec §6, §7).
type Status uint8

// Statuses, in ascending precedence.
const (
	StatusCertified Status = iota
	StatusWarning
	StatusPending
	StatusSuspended
	StatusLoss
	StatusTerminated
	StatusConflict
)

var statusNames = [...]string{"CERTIFIED", "WARNING", "PENDING", "SUSPENDED", "LOSS", "TERMINATED", "CONFLICT"}

// String returns the status code.
func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("Status(%d)", s)
}

// ParseStatus returns the status named s.
func ParseStatus(s string) (Status, bool) {
	for i, n := range statusNames {
		if n == s {
			return Status(i), true
		}
	}
	return 0, false
}

// Payable reports whether a person in status s is paid at payroll (spec §7).
func (s Status) Payable() bool {
	return s == StatusCertified || s == StatusWarning || s == StatusPending
}

// Statuses returns every status in ascending precedence.
func Statuses() []Status {
	return []Status{StatusCertified, StatusWarning, StatusPending, StatusSuspended, StatusLoss, StatusTerminated, StatusConflict}
}

// Action is what a decision row says happened (spec §7).
type Action uint8

// Decision actions.
const (
	ActCertified Action = iota
	ActWarning
	ActPending
	ActSuspended
	ActResumed
	ActTerminated
	ActLoss
	ActRestored
	ActConflict
	ActRisk
)

var actionNames = [...]string{"CERTIFIED", "WARNING", "PENDING", "SUSPENDED", "RESUMED", "TERMINATED", "LOSS", "RESTORED", "CONFLICT", "RISK"}

// String returns the action code.
func (a Action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return fmt.Sprintf("Action(%d)", a)
}

// ParseAction returns the action named s.
func ParseAction(s string) (Action, bool) {
	for i, n := range actionNames {
		if n == s {
			return Action(i), true
		}
	}
	return 0, false
}

// Decision is one row of the decision log: what the engine decided about a person on a
// day, the record that caused it and the rule's details.
type Decision struct {
	Date     Date
	PersonID string
	Action   Action
	Method   Method
	Evidence string // SOURCE:RECORD_ID, or ""
	Detail   string // key=value;… spec keys first
}

// PaymentKind tells a regular monthly payment from back pay (补发).
type PaymentKind uint8

// Payment kinds.
const (
	PayRegular PaymentKind = iota
	PayBack
)

// String returns "REGULAR" or "BACK_PAY".
func (k PaymentKind) String() string {
	if k == PayBack {
		return "BACK_PAY"
	}
	return "REGULAR"
}

// NormalizeName returns a name in the form the linkage rules compare (spec §3): Unicode
// NFKC applied by the caller's normaliser, then whitespace and the middle dot removed.
// nfkc may be nil when the name is known to be NFKC already.
func NormalizeName(name string, nfkc func(string) string) string {
	if nfkc != nil {
		name = nfkc(name)
	}
	if !strings.ContainsFunc(name, dropInName) {
		return name
	}
	return strings.Map(func(r rune) rune {
		if dropInName(r) {
			return -1
		}
		return r
	}, name)
}

// dropInName reports whether r is left out when names are compared (spec §3): white
// space and the middle dot · (U+00B7) written between the parts of minority and foreign
// names. Other dots (・ U+30FB, • U+2022, ‧ U+2027) are kept: the standard names one, and a
// record whose name differs from the roster's by another is held for review, as it says.
func dropInName(r rune) bool {
	switch r {
	case '·', ' ', '\t', '\n', '\v', '\f', '\r', 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
		return true
	}
	return r >= 0x2000 && r <= 0x200A
}
