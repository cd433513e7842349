package silentcert

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// Policy holds the certification rules of spec §6 (认证规则). The JSON names are the spec's
// configuration keys.
type Policy struct {
	MaxPeriodMonths     int  `json:"max_period_months"`
	MinPeriodMonths     int  `json:"min_period_months"`
	DefaultPeriodMonths int  `json:"default_period_months"`
	WarningMonths       int  `json:"warning_months"`
	GraceMonths         int  `json:"grace_months"`
	HealthPeriod        bool `json:"health_period"`
	// BackPayVoidedDeath, the project's addition to spec §6 (off by default, where the
	// spec pays only the months held during the dispute), also pays as back pay the months
	// whose payroll ran while a death later voided by a review (accept=alive) had the
	// person TERMINATED. Left out of the canonical JSON when off, so that a database's
	// recorded configuration reads the same as before the key existed.
	BackPayVoidedDeath bool `json:"back_pay_voided_death,omitempty"`
}

// DefaultPolicy returns the defaults of spec §6.
func DefaultPolicy() Policy {
	return Policy{MaxPeriodMonths: 24, MinPeriodMonths: 6, DefaultPeriodMonths: 12, WarningMonths: 2, GraceMonths: 1}
}

// MaxPeriodLimit is the longest service period a policy may set, in months.
const MaxPeriodLimit = 120

// Validate reports the first rule that p breaks.
func (p Policy) Validate() error {
	switch {
	case p.MinPeriodMonths < 1:
		return Errorf(EInvalid, "policy: min_period_months must be at least 1")
	case p.MaxPeriodMonths < p.MinPeriodMonths:
		return Errorf(EInvalid, "policy: max_period_months must be at least min_period_months")
	case p.MaxPeriodMonths > MaxPeriodLimit:
		// The engine keeps a period in a byte; ten years is already beyond any rule.
		return Errorf(EInvalid, "policy: max_period_months must be at most %d (ten years)", MaxPeriodLimit)
	case p.DefaultPeriodMonths < 1 || p.DefaultPeriodMonths > MaxPeriodLimit:
		return Errorf(EInvalid, "policy: default_period_months must be from 1 to %d", MaxPeriodLimit)
	case p.WarningMonths < 0 || p.WarningMonths > 12:
		return Errorf(EInvalid, "policy: warning_months must be from 0 to 12")
	case p.GraceMonths < 0 || p.GraceMonths > 24:
		return Errorf(EInvalid, "policy: grace_months must be from 0 to 24")
	}
	return nil
}

// ServicePeriod returns P, the service period (认证服务期) in months, for a person whose
// entitlements total total fen a month and whose offset capacity is capacity (known or not).
func (p Policy) ServicePeriod(capacity Fen, known bool, total Fen) int {
	if !known || total <= 0 {
		return p.DefaultPeriodMonths
	}
	n := int64(capacity / total)
	if n < int64(p.MinPeriodMonths) {
		return p.MinPeriodMonths
	}
	if n > int64(p.MaxPeriodMonths) {
		return p.MaxPeriodMonths
	}
	return int(n)
}

// WeakRule configures the baseline weak-evidence rule: a person is certified (method WEAK)
// on the day of their latest trace when, within WindowDays before it, they left
// non-spoofable weak traces on at least MinDays distinct days, of at least MinTypes distinct
// types, with a summed catalogue weight of at least MinWeight. Spoofable types never count,
// so a relative holding a dead person's card or phone can never produce a certification.
type WeakRule struct {
	Enabled    bool    `json:"enabled"`
	WindowDays int     `json:"window_days"`
	MinDays    int     `json:"min_days"`
	MinTypes   int     `json:"min_types"`
	MinWeight  float64 `json:"min_weight"`
	// MaxAgeDays ignores traces older than this many days when they are applied (late
	// batches of old traces prove little about today).
	MaxAgeDays int `json:"max_age_days"`
	// PeriodMonths, when positive, caps the service period a weak certification gives.
	PeriodMonths int `json:"period_months"`
	// RenewWithinMonths, when positive, lets weak traces certify only once the person's
	// period ends within this many months of the day: weak evidence renews a certification
	// that is running out instead of extending it every day someone rides a bus.
	RenewWithinMonths int `json:"renew_within_months"`
}

// DefaultWeakRule returns the baseline rule's defaults.
func DefaultWeakRule() WeakRule {
	return WeakRule{Enabled: true, WindowDays: 90, MinDays: 3, MinTypes: 1, MinWeight: 3, MaxAgeDays: 120, PeriodMonths: 0, RenewWithinMonths: 3}
}

// Validate reports the first rule that w breaks.
func (w WeakRule) Validate() error {
	switch {
	case w.WindowDays < 1 || w.WindowDays > 366:
		return Errorf(EInvalid, "weak: window_days must be from 1 to 366")
	case w.MinDays < 2 || w.MinDays > 8:
		return Errorf(EInvalid, "weak: min_days must be from 2 to 8 (one trace never certifies)")
	case w.MinTypes < 1:
		return Errorf(EInvalid, "weak: min_types must be at least 1")
	case w.MaxAgeDays < 0:
		return Errorf(EInvalid, "weak: max_age_days must not be negative")
	case w.PeriodMonths < 0:
		return Errorf(EInvalid, "weak: period_months must not be negative")
	case w.RenewWithinMonths < 0:
		return Errorf(EInvalid, "weak: renew_within_months must not be negative")
	}
	return nil
}

// Config is everything an operator can configure about the rules: policy, weak rule,
// catalogue and entitlement codes. The zero Config is not valid; start from DefaultConfig.
type Config struct {
	Policy    Policy
	Weak      WeakRule
	Catalogue *Catalogue
	Benefits  []Benefit
}

// DefaultConfig returns the built-in defaults of spec §4–§6.
func DefaultConfig() *Config {
	return &Config{Policy: DefaultPolicy(), Weak: DefaultWeakRule(), Catalogue: DefaultCatalogue(), Benefits: DefaultBenefits()}
}

// BenefitKnown reports whether code is a configured entitlement code.
func (c *Config) BenefitKnown(code []byte) bool {
	for i := range c.Benefits {
		if c.Benefits[i].Code == string(code) {
			return true
		}
	}
	return false
}

type typeOverride struct {
	Code         string   `json:"code"`
	Source       *string  `json:"source"`
	Class        *string  `json:"class"`
	Spoofable    *bool    `json:"spoofable"`
	CriticalWeak *bool    `json:"critical_weak"`
	Moves        *bool    `json:"moves"`
	Weight       *float64 `json:"weight"`
	Method       *string  `json:"method,omitempty"`
	Off          *bool    `json:"off"`
	Name         *string  `json:"name"`
}

type configFile struct {
	Policy    *json.RawMessage `json:"policy"`
	Weak      *json.RawMessage `json:"weak"`
	Catalogue *struct {
		Replace bool           `json:"replace"`
		Types   []typeOverride `json:"types"`
	} `json:"catalogue"`
	Benefits *struct {
		Replace bool      `json:"replace"`
		Codes   []Benefit `json:"codes"`
	} `json:"benefits"`
}

func strictJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	// One value: a second object pasted after the first, or a stray brace, is a mistake
	// whose settings would otherwise be ignored without a word.
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("text after the configuration's end, at byte %d", dec.InputOffset())
	}
	return nil
}

// ParseConfig reads a configuration file (JSON, documented in README.md) over the defaults:
// keys left out keep their default; catalogue types named by an existing code change that
// type, new codes are added; "replace": true starts the catalogue or benefit list empty.
// name is used in error messages.
func ParseConfig(name string, data []byte) (*Config, error) {
	cfg := DefaultConfig()
	var f configFile
	if err := strictJSON(data, &f); err != nil {
		return nil, Errorf(EInvalid, "%s: %v", name, err)
	}
	if f.Policy != nil {
		if err := strictJSON(*f.Policy, &cfg.Policy); err != nil {
			return nil, Errorf(EInvalid, "%s: policy: %v", name, err)
		}
	}
	if f.Weak != nil {
		if err := strictJSON(*f.Weak, &cfg.Weak); err != nil {
			return nil, Errorf(EInvalid, "%s: weak: %v", name, err)
		}
	}
	if f.Catalogue != nil {
		types := DefaultRecordTypes()
		if f.Catalogue.Replace {
			types = nil
		}
		for i, o := range f.Catalogue.Types {
			var err error
			if types, err = applyOverride(types, o); err != nil {
				return nil, Errorf(EInvalid, "%s: catalogue.types[%d]: %v", name, i, err)
			}
		}
		c, err := NewCatalogue(types)
		if err != nil {
			return nil, Errorf(EInvalid, "%s: %v", name, err)
		}
		cfg.Catalogue = c
	}
	if f.Benefits != nil {
		if f.Benefits.Replace {
			cfg.Benefits = nil
		}
		for _, b := range f.Benefits.Codes {
			if b.Code == "" {
				return nil, Errorf(EInvalid, "%s: benefits: a code is empty", name)
			}
			if !cfg.BenefitKnown([]byte(b.Code)) {
				cfg.Benefits = append(cfg.Benefits, b)
			}
		}
	}
	if err := cfg.Policy.Validate(); err != nil {
		return nil, Errorf(EInvalid, "%s: %v", name, err)
	}
	if err := cfg.Weak.Validate(); err != nil {
		return nil, Errorf(EInvalid, "%s: %v", name, err)
	}
	return cfg, nil
}

// CanonicalJSON returns the configuration as a configuration file that ParseConfig reads
// back to the same configuration, whatever file and defaults it was read from: every key
// written, the catalogue and the benefits whole ("replace": true) in their order, each
// type with its class and method. It is what a database records of the rules it decides
// under (an audit row of kind config), so two files that mean the same give the same
// text, and the text alone, saved as a file, brings the rules back.
func (c *Config) CanonicalJSON() []byte {
	types := make([]typeOverride, 0, c.Catalogue.Len())
	for _, t := range c.Catalogue.Types() {
		o := typeOverride{Code: t.Code, Source: &t.Source, Spoofable: &t.Spoofable, CriticalWeak: &t.CriticalWeak,
			Moves: &t.Moves, Weight: &t.Weight, Off: &t.Off, Name: &t.Name}
		class := t.Class.String()
		o.Class = &class
		if t.Method != MethodNone {
			m := t.Method.String()
			o.Method = &m
		}
		types = append(types, o)
	}
	var f struct {
		Policy    Policy   `json:"policy"`
		Weak      WeakRule `json:"weak"`
		Catalogue struct {
			Replace bool           `json:"replace"`
			Types   []typeOverride `json:"types"`
		} `json:"catalogue"`
		Benefits struct {
			Replace bool      `json:"replace"`
			Codes   []Benefit `json:"codes"`
		} `json:"benefits"`
	}
	f.Policy, f.Weak = c.Policy, c.Weak
	f.Catalogue.Replace, f.Catalogue.Types = true, types
	f.Benefits.Replace, f.Benefits.Codes = true, append([]Benefit{}, c.Benefits...)
	b, err := json.Marshal(&f)
	if err != nil {
		panic(err) // plain values: no marshaller of their own that could fail
	}
	return b
}

func applyOverride(types []RecordType, o typeOverride) ([]RecordType, error) {
	if o.Code == "" {
		return nil, fmt.Errorf("code is required")
	}
	i := -1
	for j := range types {
		if types[j].Code == o.Code {
			i = j
		}
	}
	if i < 0 {
		if o.Source == nil || o.Class == nil {
			return nil, fmt.Errorf("new type %s needs source and class", o.Code)
		}
		types = append(types, RecordType{Code: o.Code})
		i = len(types) - 1
	}
	t := &types[i]
	if o.Source != nil {
		if *o.Source == "" {
			return nil, fmt.Errorf("type %s: source is empty", o.Code)
		}
		t.Source = *o.Source
	}
	if o.Class != nil {
		c, ok := ParseClass(*o.Class)
		if !ok {
			return nil, fmt.Errorf("class %q is not one of DEATH LOSS RESTORE STRONG WEAK INFO RESOLVE", *o.Class)
		}
		t.Class = c
		if c != ClassStrong {
			t.Method = MethodNone
		}
	}
	if o.Spoofable != nil {
		t.Spoofable = *o.Spoofable
	}
	if o.CriticalWeak != nil {
		t.CriticalWeak = *o.CriticalWeak
	}
	if o.Moves != nil {
		t.Moves = *o.Moves
	}
	if o.Weight != nil {
		if *o.Weight < 0 {
			return nil, fmt.Errorf("weight must not be negative")
		}
		t.Weight = *o.Weight
	}
	if o.Method != nil {
		m, ok := ParseMethod(*o.Method)
		if !ok || m == MethodWeak || m == MethodMigrated {
			return nil, fmt.Errorf("method %q is not one of STRONG FACE COUNTER COMMUNITY", *o.Method)
		}
		t.Method = m
	}
	if o.Off != nil {
		t.Off = *o.Off
	}
	if o.Name != nil {
		t.Name = *o.Name
	}
	return types, nil
}
