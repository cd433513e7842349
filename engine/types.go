package engine

import (
	"strconv"

	sc "github.com/silentcert/silentcert"
)

// Ref names a record for the driver: an index into its own tables, a database id. The
// engine only stores and returns refs; the driver turns them into SOURCE:RECORD_ID.
type Ref uint64

// NoRef is the absent reference.
const NoRef Ref = ^Ref(0)

// Resolution is what a RESOLVE record decides about a conflict.
type Resolution uint8

// Resolutions (HRSS.REVIEW detail accept=death / accept=alive).
const (
	ResolveNone Resolution = iota
	ResolveDeath
	ResolveAlive
)

// Input is one linked, validated, de-duplicated record as the engine needs it.
type Input struct {
	Type     sc.TypeID
	Event    sc.Date // event_date: the day it happened (the death date for a DEATH record)
	Ref      Ref
	Critical bool     // detail critical=1
	Place    sc.Place // where it happened (region_code), 0 when not known; given to models only
	// Accept and Target are for RESOLVE records: the decision, and the record that the
	// detail's ref= names, resolved by the driver (NoRef when it names no known record).
	Accept Resolution
	Target Ref
}

// Decision is one decision row, with its details as values; Detail formats them.
type Decision struct {
	Day         sc.Date
	Action      sc.Action
	Method      sc.Method
	Evidence    Ref
	Until       sc.Date // CERTIFIED, WARNING
	CertifiedOn sc.Date // CERTIFIED: the certification date (an addition to spec §7's keys)
	DeathDate   sc.Date // TERMINATED
	Other       Ref     // CONFLICT: the other record
	BackPay     int     // RESUMED, RESTORED: distinct months to be back-paid; -1 when absent
	Score       float64 // RISK
	// Note is appended to the detail after every other key: an evidence model's
	// contributing traces and weights, or a RISK row's reasons. Empty without a model.
	Note string
	// Records are the records a model's WEAK certification rests on, named after the Note
	// as records=SOURCE:RECORD_ID|… (resolved by the driver). Empty otherwise.
	Records []Ref
}

// AppendDetail appends the decision's detail column: spec §7's keys first, then the keys
// the project adds (certified_on). ref appends a record's SOURCE:RECORD_ID.
func (d *Decision) AppendDetail(b []byte, ref func(b []byte, r Ref) []byte) []byte {
	start := len(b)
	switch d.Action {
	case sc.ActCertified:
		b = append(b, "until="...)
		b = d.Until.AppendTo(b)
		b = append(b, ";certified_on="...)
		b = d.CertifiedOn.AppendTo(b)
	case sc.ActWarning:
		b = append(b, "until="...)
		b = d.Until.AppendTo(b)
	case sc.ActResumed:
		b = append(b, "back_pay_months="...)
		b = strconv.AppendInt(b, int64(max(d.BackPay, 0)), 10)
	case sc.ActRestored:
		if d.BackPay > 0 {
			b = append(b, "back_pay_months="...)
			b = strconv.AppendInt(b, int64(d.BackPay), 10)
		}
	case sc.ActTerminated:
		b = append(b, "death_date="...)
		b = d.DeathDate.AppendTo(b)
	case sc.ActConflict:
		if d.Other != NoRef {
			b = append(b, "other="...)
			b = ref(b, d.Other)
		}
	case sc.ActRisk:
		b = append(b, "score="...)
		b = strconv.AppendFloat(b, d.Score, 'f', 2, 64)
	}
	if d.Note != "" {
		if len(b) > start {
			b = append(b, ';')
		}
		b = append(b, d.Note...)
	}
	for i, r := range d.Records {
		switch {
		case i > 0:
			b = append(b, '|')
		case len(b) > start:
			b = append(b, ";records="...)
		default:
			b = append(b, "records="...)
		}
		b = ref(b, r)
	}
	return b
}

// Payment is one monthly payment released for one entitlement.
type Payment struct {
	Month  sc.Month // the month paid for
	Ent    int      // index into the recipient's entitlements
	Amount sc.Fen   // the roster's amount now; for back pay, what was withheld is owed (releaseBackPay)
	Kind   sc.PaymentKind
}

// Withholding is a regular payment not released at payroll, and why.
type Withholding struct {
	Month  sc.Month
	Ent    int
	Amount sc.Fen
	Reason sc.Status // SUSPENDED, CONFLICT or LOSS
}

// Counter names an event the engine counts for the run's report.
type Counter uint8

// Counters.
const (
	CountDeathDateDisagreement Counter = iota // a later DEATH record with another date
	CountRestoreWithoutLoss                   // a RESTORE with no open LOSS: changes nothing now, kept for a LOSS dated before it
	CountResolveIgnored                       // a RESOLVE with no matching conflict: ignored
	CountWeakSpoofable                        // a spoofable weak trace: never counts toward certification
	CountWeakTooOld                           // a weak trace applied too long after it happened
	CountTypeOff                              // a record of a type switched off
	CountAfterDeath                           // a record that changed nothing for a terminated person
	CountBackPayDropped                       // back pay not paid: months after an accepted death (kept for a review that may void it), or outside the entitlement as a roster import moved it; each month once, however often it is made due and dropped again (Held.Dropped)
	numCounters
)

var counterNames = [numCounters]string{
	"death_date_disagreements", "restore_without_loss", "resolve_ignored", "weak_spoofable",
	"weak_too_old", "type_off", "records_after_death", "back_pay_dropped_after_death",
}

// String returns the counter's report key.
func (c Counter) String() string { return counterNames[c] }

// Counters returns every counter.
func Counters() []Counter {
	out := make([]Counter, numCounters)
	for i := range out {
		out[i] = Counter(i)
	}
	return out
}

// Sink receives what the engine decides. A driver that replays history before --from
// passes a sink that drops decisions.
type Sink interface {
	Decide(d Decision)
	Pay(p Payment)
	Withhold(w Withholding)
	Count(c Counter)
}
