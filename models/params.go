package models

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
)

// Version is the model file format this package writes. It reads this version and
// versions 3 (which has no elsewhere feature) and 4 (no moved feature): the missing
// weights are 0, so such a file scores as it did; a file of another version is refused, so that an old binary never misreads
// new parameters.
const Version = 5

// Feature indexes of the trace score (P(dead) at a trace): the names say what each is.
// Every silence feature leaves out the departments that stopped delivering records, so
// that one department going quiet never looks like a death.
const (
	FBias         = iota // always 1
	FMissed              // log(1 + in-person events missed): per type, days overdue beyond its usual delay over its usual interval, summed over the departments still delivering
	FCritical            // a critical admission in the last 180 days after which no department still delivering has seen the person
	FAge                 // (age - 75) / 10
	FNotFound            // a visit did not find the person in the last 180 days
	FHistory             // log(1 + in-person days seen)
	FHealth              // the health index's log-odds: frail people die more
	FExpectedRest        // in-person events missed (as FMissed), linear, at most 30 (named expected_rest in version 2 files)
	FStay                // a hospital stay in the last 180 days after which no department still delivering has seen the person
	FRegular             // in-person events missed (as FMissed) of monthly services alone (chronic prescriptions, long-term care, nursing home), at most 10
	FElsewhere           // log(1 + days of traces from places the person was never seen at while seen in person since): a relative elsewhere using the cards (version 4)
	FMoved               // record types (card, account, pharmacy, phone) whose traces since the person was last seen in person all came, on MoveMinDays days or more, from places not theirs (version 5)
	NumFeatures
)

// FeatureNames names the trace score's features in the model file and in reports.
var FeatureNames = [NumFeatures]string{"bias", "missed", "critical", "age", "not_found", "history", "health", "expected_rest", "stay_then_silence", "missed_monthly", "elsewhere", "moved"}

// Health index feature indexes.
const (
	HBias       = iota
	HAge        // (age - 75) / 10
	HMale       // 1 for men
	HInpatient  // log(1 + inpatient stays seen)
	HCritical   // a critical admission in the last 180 days
	HChronic    // chronic-care records seen
	HLTC        // long-term care or nursing-home records seen
	HOutpatient // log(1 + outpatient days seen)
	HRecentStay // an inpatient stay in the last 90 days
	NumHealth
)

// HealthNames names the health index's features.
var HealthNames = [NumHealth]string{"bias", "age", "male", "inpatient", "critical_180d", "chronic", "ltc", "outpatient", "stay_90d"}

// Params are a model file's contents: every coefficient and threshold, so that what was
// trained is what runs, and every decision can name the numbers behind it.
type Params struct {
	Version int    `json:"version"`
	Trained string `json:"trained"` // what it was trained on ("built-in defaults" otherwise)
	// Trace is the logistic regression of P(dead) at a trace, by FeatureNames.
	Trace [NumFeatures]float64 `json:"trace"`
	// Risk is the logistic regression of P(dead) at a spoofable trace, by FeatureNames:
	// the RISK score, fitted on spoofable traces alone (version 4; all zero: Trace).
	Risk [NumFeatures]float64 `json:"risk"`
	// Health is the logistic regression of P(death within a year), by HealthNames.
	Health [NumHealth]float64 `json:"health"`
	// RiskThreshold: a RISK row when the RISK score of a spoofable trace reaches it.
	RiskThreshold float64 `json:"risk_threshold"`
	// RiskRepeatDays: no second RISK row for the person within this many days.
	RiskRepeatDays int `json:"risk_repeat_days"`
	// CertifyAlive: a WEAK certification needs P(alive) = 1 - P(dead) at least this, and
	// the RISK score below RiskThreshold: traces that would be flagged never certify.
	CertifyAlive float64 `json:"certify_alive"`
	// MinDays, MinTypes, WindowDays: a WEAK certification needs in-person (non-spoofable)
	// traces on MinDays distinct days of MinTypes types within WindowDays before it.
	MinDays    int `json:"min_days"`
	MinTypes   int `json:"min_types"`
	WindowDays int `json:"window_days"`
	// MaxMissed: no WEAK certification when the other departments still delivering
	// expected to see the person this many times since they last did, and did not.
	MaxMissed float64 `json:"max_missed"`
	// RenewMonths: weak traces renew a certification running out within this many months,
	// or one that no data gave (FACE, COUNTER, COMMUNITY, MIGRATED).
	RenewMonths int `json:"renew_months"`
	// RenewGainDays: weak traces also renew a certification when they move the end of its
	// period on by at least this many days (0: only within RenewMonths).
	RenewGainDays int `json:"renew_gain_days"`
	// HealthPeriodAbove, HealthPeriodMonths: with the operator's health_period on, a
	// health index at least this shortens a WEAK certification's period to this.
	HealthPeriodAbove  float64 `json:"health_period_above"`
	HealthPeriodMonths int     `json:"health_period_months"`
	// TracePrior: the share of sampled traces after a death that the trace score is
	// calibrated to (its mean P(dead) on the traces it was trained on), the starting
	// point of `train --recalibrate` (TrainingPrior). Absent in the built-in's file and in
	// files written before session 10.
	TracePrior float64 `json:"trace_prior,omitempty"`
}

// Default returns the built-in parameters (trained on a simulated Weihai, seed 42, and
// rounded), used when no model file is given.
func Default() *Params {
	return &Params{
		Version: Version, Trained: "built-in defaults",
		Trace:          [NumFeatures]float64{-9.036, 2.905, 1.331, 0.094, 0.445, -0.673, 0.502, -0.023, 2.283, 1.05, 1.519, 0.689},
		Risk:           [NumFeatures]float64{-9.696, 1.49, 1.496, 0.031, 0, 0.192, 0.742, 0, 2.686, 0.735, 2.23, 0.335},
		Health:         [NumHealth]float64{-3.712, 1.102, 0.444, 0.139, -0.039, 0.16, 0.991, 0.129, -0.105},
		RiskThreshold:  0.0272,
		RiskRepeatDays: 180,
		CertifyAlive:   0.9,
		MinDays:        2, MinTypes: 1, WindowDays: 365,
		RenewMonths:        3,
		RenewGainDays:      90,
		MaxMissed:          6,
		HealthPeriodAbove:  0.3,
		HealthPeriodMonths: 6,
	}
}

// Parse reads a model file, refusing another version and impossible values.
func Parse(b []byte) (*Params, error) {
	p := Default()
	// Strict: a misspelt key ("risk_treshold") would leave the built-in's value in place
	// without a word, and the file would not be the model its name says.
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(p); err != nil {
		return nil, fmt.Errorf("model file: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("model file: text after its end, at byte %d", dec.InputOffset())
	}
	if p.Version != Version && p.Version != 3 && p.Version != 4 {
		return nil, fmt.Errorf("model file: version %d, this binary reads versions 3 to %d", p.Version, Version)
	}
	// An older file's arrays are shorter: the weights it does not have stay 0.
	if p.Version == 4 {
		p.Trace[FMoved], p.Risk[FMoved], p.Version = 0, 0, Version
	}
	if p.Version == 3 {
		p.Trace[FElsewhere], p.Trace[FMoved], p.Risk, p.Version = 0, 0, [NumFeatures]float64{}, Version
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

// Validate refuses parameters under which the safety rules would not hold.
func (p *Params) Validate() error {
	switch {
	case p.MinDays < 2:
		return fmt.Errorf("model file: min_days %d: no single weak trace may certify (spec §4), at least 2", p.MinDays)
	case p.MinTypes < 1:
		return fmt.Errorf("model file: min_types %d: at least 1", p.MinTypes)
	case p.WindowDays < 1 || p.WindowDays > 366:
		return fmt.Errorf("model file: window_days %d: 1 to 366", p.WindowDays)
	case p.CertifyAlive <= 0.5 || p.CertifyAlive >= 1:
		return fmt.Errorf("model file: certify_alive %g: above 0.5, below 1", p.CertifyAlive)
	case p.RiskThreshold <= 0 || p.RiskThreshold >= 1:
		return fmt.Errorf("model file: risk_threshold %g: between 0 and 1", p.RiskThreshold)
	case p.MaxMissed <= 0:
		return fmt.Errorf("model file: max_missed %g: above 0", p.MaxMissed)
	case p.RiskRepeatDays < 1:
		return fmt.Errorf("model file: risk_repeat_days %d: at least 1", p.RiskRepeatDays)
	case !(p.TracePrior >= 0 && p.TracePrior < 0.5):
		return fmt.Errorf("model file: trace_prior %g: from 0 to below 0.5", p.TracePrior)
	}
	return nil
}

// Identity names the parameters: the file version and the first 16 hex digits of the
// SHA-256 of the model file as Marshal writes it. Two model files score alike exactly when
// their identities are equal.
func (p *Params) Identity() string {
	sum := sha256.Sum256(p.Marshal())
	return fmt.Sprintf("v%d:%s", p.Version, hex.EncodeToString(sum[:8]))
}

// Marshal writes the model file, indented, keys in a fixed order.
func (p *Params) Marshal() []byte {
	b, _ := json.MarshalIndent(p, "", "  ")
	return append(b, '\n')
}
