package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/silentcert/silentcert"
)

// Rates is every number the simulator draws from: the population, its profiles, mortality,
// how deaths are reported, how people answer certification notices, how often each source
// sees each person, how each department writes its files, and the faults injected. It is
// read from a JSON file (see RATES.md) over DefaultRates, so an analyst can ask "what if the
// transit data stops?" by setting one source's stop_after.
type Rates struct {
	Population    Population             `json:"population"`
	Profiles      Profiles               `json:"profiles"`
	Mortality     Mortality              `json:"mortality"`
	Deaths        DeathReporting         `json:"deaths"`
	Certification Responses              `json:"certification"`
	Life          LifeEvents             `json:"life_events"`
	Sources       map[string]*SourceRate `json:"sources"`
	Types         map[string]*TypeRate   `json:"types"`
	Faults        Faults                 `json:"faults"`
}

// Seg is a value for urban people and one for rural people.
type Seg struct {
	Urban float64 `json:"urban"`
	Rural float64 `json:"rural"`
}

func (s Seg) of(urban bool) float64 {
	if urban {
		return s.Urban
	}
	return s.Rural
}

// AgePoint is one point of an AgeCurve.
type AgePoint struct {
	Age   float64 `json:"age"`
	Value float64 `json:"value"`
}

// AgeCurve is a value that changes with age: linear between its points, flat outside them.
type AgeCurve []AgePoint

func (c AgeCurve) at(age float64) float64 {
	if len(c) == 0 {
		return 0
	}
	if age <= c[0].Age {
		return c[0].Value
	}
	for i := 1; i < len(c); i++ {
		if age <= c[i].Age {
			a, b := c[i-1], c[i]
			return a.Value + (b.Value-a.Value)*(age-a.Age)/(b.Age-a.Age)
		}
	}
	return c[len(c)-1].Value
}

// AgeBand is a slice of the recipients' age distribution on the first simulated day.
type AgeBand struct {
	From   int     `json:"from"`
	To     int     `json:"to"`
	Share  float64 `json:"share"`
	Female float64 `json:"female"` // share of women in the band
}

// Population describes who the recipients are.
type Population struct {
	AgeBands          []AgeBand `json:"age_bands"`
	UrbanShare        float64   `json:"urban_share"`         // share living in a community (居委会) rather than a village (村委会)
	VillageSizeSigma  float64   `json:"village_size_sigma"`  // log-normal spread of the recipients per village
	RegionCodeOmitted float64   `json:"region_code_omitted"` // roster rows that give only hukou_address
	BornElsewhere     float64   `json:"born_elsewhere"`      // ID numbers whose area code is another county
	Phone             AgeCurve  `json:"phone"`               // share with a mobile phone, by age
	AgentPhone        float64   `json:"agent_phone"`
	NewEnrolment      float64   `json:"new_enrolment_per_year"` // share who start drawing inside the window, per year of window
	LastCertified     float64   `json:"last_certified"`         // share of earlier recipients whose roster gives last_certified
	MinorityNames     float64   `json:"minority_names"`         // names written with a middle dot (e.g. Uyghur names)
	SingleCharName    float64   `json:"single_char_given_name"` // given names of one character (王英 rather than 王秀英)
	SexOmitted        float64   `json:"sex_birth_omitted"`      // roster rows that leave sex and birth_date to the ID number
	Benefits          Benefits  `json:"benefits"`
}

// Benefits describes the entitlement mix and amounts (spec §5).
type Benefits struct {
	RetireAgeMale   int                 `json:"retire_age_male"`
	RetireAgeFemale int                 `json:"retire_age_female"`
	ResidentAge     int                 `json:"resident_pension_age"`
	Pensions        map[string]*Pension `json:"pensions"` // the one main pension: EMP_PENSION, GOV_PENSION, RES_PENSION
	Extras          map[string]*Extra   `json:"extras"`   // allowances on top
	CapacityKnown   float64             `json:"capacity_known"`
}

// Pension is a main pension: who draws it, how much, and the offset capacity behind it.
type Pension struct {
	Share          Seg     `json:"share"` // shares of the three pensions per segment; RES_PENSION takes the rest
	Median         float64 `json:"median"`
	Sigma          float64 `json:"sigma"`
	Min            float64 `json:"min"`
	CapacityMonths float64 `json:"capacity_months"` // median offset capacity, in months of this pension
}

// Extra is an allowance drawn on top of, or instead of, a pension.
type Extra struct {
	Share          Seg        `json:"share"`
	MinAge         int        `json:"min_age"`
	MaxAge         int        `json:"max_age"`
	Amount         [2]float64 `json:"amount"` // uniform range, yuan a month
	Tiers          []Tier     `json:"tiers,omitempty"`
	Alone          bool       `json:"alone"`     // drawn by people too young for a pension, as their only entitlement
	EndShare       float64    `json:"end_share"` // share whose entitlement ends (end_month) inside the window
	CapacityMonths float64    `json:"capacity_months"`
}

// Tier is an amount that applies from an age on (e.g. the 高龄津贴 rising at 90).
type Tier struct {
	Age    int     `json:"age"`
	Amount float64 `json:"amount"`
}

// Profiles describes the behaviour profiles and how they raise mortality.
type Profiles struct {
	Frail          AgeCurve `json:"frail"`
	FrailRisk      float64  `json:"frail_relative_risk"`
	Chronic        AgeCurve `json:"chronic"`
	ChronicRisk    float64  `json:"chronic_relative_risk"`
	NursingHome    AgeCurve `json:"nursing_home_if_frail"`
	Traveller      Seg      `json:"traveller"`
	AwayMonths     []int    `json:"traveller_away_months"`
	FewTraces      AgeCurve `json:"few_traces"`
	FewTracesRural float64  `json:"few_traces_rural_factor"`
	// OtherCounty is the share of a living person's traces that departments locate by
	// county or city (bank, card, pharmacy, phone) made in another county of the city
	// (shopping, a cash machine across the district line). A traveller's traces while away
	// carry a county elsewhere in the province.
	OtherCounty Seg `json:"other_county_traces"`
}

// Mortality scales the WPP rates and shapes deaths.
type Mortality struct {
	Multiplier           float64     `json:"multiplier"`
	Season               [12]float64 `json:"season"`
	AdmissionBeforeDeath Seg         `json:"admission_before_death"`
	AdmissionCritical    float64     `json:"admission_critical"`
}

// DeathReporting describes which departments report a death, how late, and what goes wrong.
type DeathReporting struct {
	Channels      map[string]*DeathChannel `json:"channels"`
	NeverReported Seg                      `json:"never_reported"`
	Late          float64                  `json:"late"`
	LateDays      [2]int                   `json:"late_extra_days"`
	WrongDate     float64                  `json:"wrong_date"`
	WrongPerson   float64                  `json:"wrong_person"`
	// FalseDeath is the yearly chance that a department reports a living person dead
	// under their own ID and name (被死亡); the person finds the payment stopped, goes to
	// the counter, and a reviewer resolves the conflict (HRSS.REVIEW accept=alive).
	FalseDeath     float64 `json:"false_death_per_year"`
	FalseDeathType string  `json:"false_death_type"`
	Fraud          Fraud   `json:"fraud"`
}

// DeathChannel is one department's death reporting.
type DeathChannel struct {
	Share           Seg     `json:"share"`
	DelayMedianDays float64 `json:"delay_median_days"`
	DelaySigma      float64 `json:"delay_sigma"`
}

// Fraud describes 冒领: relatives using a dead recipient's cards and phone.
type Fraud struct {
	IfNeverReported  float64 `json:"if_never_reported"`
	IfLate           float64 `json:"if_late"`
	IfTimely         float64 `json:"if_timely"`
	Months           [2]int  `json:"months"`
	UtilityContinues float64 `json:"utility_continues"`
	PhoneContinues   float64 `json:"phone_continues"`
	TransitCard      float64 `json:"transit_card"`
	// RelativeElsewhere is the share of cases where the relative holding the cards lives
	// outside the dead person's county (children who moved away): the bank, card,
	// pharmacy and phone traces after the death carry the relative's county, in another
	// city of the province for RelativeOtherCity of them.
	RelativeElsewhere Seg     `json:"relative_elsewhere"`
	RelativeOtherCity float64 `json:"relative_other_city"`
}

// Responses describes how people who are not certified by data answer the platform's
// notices: face self-certification, the counter, the village assistant's visit.
type Responses struct {
	Policy            silentcert.Policy `json:"policy"`
	InWarning         Seg               `json:"in_warning"`
	InPending         Seg               `json:"in_pending"`
	PerMonthSuspended Seg               `json:"per_month_suspended"`
	FaceWarning       Seg               `json:"face_share_warning"`
	VisitPending      Seg               `json:"visit_share_pending"`
	AgentFace         float64           `json:"agent_face"`
	VisitFindsDeath   float64           `json:"visit_finds_death"`
	NotFound          float64           `json:"visit_not_found"`
	Refused           float64           `json:"visit_refused"`
	Habitual          Seg               `json:"habitual_face"`
}

// LifeEvents describes prison spells and moves.
type LifeEvents struct {
	Prison       float64 `json:"prison_per_year"`
	PrisonMonths [2]int  `json:"prison_months"`
	Move         Seg     `json:"move_per_year"`
	MoveReported float64 `json:"move_reported_by_community"`
}

// SourceRate is one department: a multiplier on all its types, a stop date, and how it
// writes its files.
type SourceRate struct {
	Multiplier     float64  `json:"multiplier"`
	StopAfter      string   `json:"stop_after,omitempty"`
	Format         string   `json:"format"`
	JSONLFrom      string   `json:"jsonl_from,omitempty"`
	Gzip           bool     `json:"gzip"`
	Encoding       string   `json:"encoding"`
	BOM            bool     `json:"bom,omitempty"`
	CRLF           bool     `json:"crlf,omitempty"`
	UpperHeader    bool     `json:"upper_header,omitempty"`
	Datetime       string   `json:"datetime,omitempty"`
	Columns        []string `json:"columns"`
	ExtraColumn    string   `json:"extra_column,omitempty"`
	Name           float64  `json:"name"`
	BirthDate      float64  `json:"birth_date"`
	Region         string   `json:"region"`
	LateBatch      float64  `json:"late_batch"`
	LateBatchDays  [2]int   `json:"late_batch_days"`
	NoReportedDate float64  `json:"no_reported_date"`
	FaultFactor    float64  `json:"fault_factor"`

	stop      silentcert.Date
	jsonlFrom silentcert.Month
}

// TypeRate is how often one record type is produced and how it is reported.
type TypeRate struct {
	Mode      string               `json:"mode"`
	Adopt     Seg                  `json:"adopt"`
	PerYear   Seg                  `json:"per_year"`
	Season    []float64            `json:"season,omitempty"`
	Spread    float64              `json:"spread,omitempty"`
	MinAge    int                  `json:"min_age,omitempty"`
	Requires  string               `json:"requires,omitempty"`
	Local     bool                 `json:"local,omitempty"`
	Modifiers map[string]*Modifier `json:"modifiers,omitempty"`
	Delay     Delay                `json:"delay"`
}

// Modifier multiplies a type's adoption and rate for people with one profile flag; an
// absent value is 1.
type Modifier struct {
	Adopt *float64 `json:"adopt,omitempty"`
	Rate  *float64 `json:"rate,omitempty"`
}

// Delay is how a record reaches the platform: in a batch (none, daily, weekly, monthly)
// plus a lag drawn uniformly between Min and Max days.
type Delay struct {
	Batch string `json:"batch"`
	Min   int    `json:"lag_min_days"`
	Max   int    `json:"lag_max_days"`
}

// Faults are the per-record rates of injected faults (scaled per source by fault_factor).
type Faults struct {
	IDTypo           float64 `json:"id_typo"`
	ID15             float64 `json:"id_15_digit"`
	IDMissing        float64 `json:"id_missing"`
	IDLowerX         float64 `json:"id_lower_x"`
	NameVariant      float64 `json:"name_variant"`
	NameMismatch     float64 `json:"name_mismatch"`
	Duplicate        float64 `json:"duplicate"`
	DuplicateChanged float64 `json:"duplicate_changed"`
	Malformed        float64 `json:"malformed"`
	RosterBadPhone   float64 `json:"roster_bad_phone"`
	// RosterNameConflict is per person with two or more entitlements, not per record.
	RosterNameConflict float64 `json:"roster_name_conflict"`
}

// Profile flags a modifier or a requirement may name.
var profileFlags = []string{"urban", "rural", "frail", "chronic", "traveller", "nursing_home", "few_traces", "age80", "phone"}

// Type modes.
const (
	modePoisson  = "poisson"  // events at random, per_year a year (times season and modifiers)
	modeMonthly  = "monthly"  // one record a month with probability per_year/12
	modeAnnual   = "annual"   // one record a year, in a month drawn from season
	modeResponse = "response" // written by the certification model (face, counter, visits)
	modeEvent    = "event"    // written by life events (deaths, prison, moves)
)

func f(v float64) *float64 { return &v }

// DefaultRates returns the built-in rates. The figures are a plausible Chinese prefecture
// of the 2020s (RATES.md gives the reasoning and sources); they are meant to be changed.
func DefaultRates() *Rates {
	r := &Rates{
		Population: Population{
			// Recipients by age on the first day. The shape follows China's 2020 census for
			// ages 60 and over (7th census, rounded); younger bands are women's early
			// retirement and allowances drawn without a pension.
			AgeBands: []AgeBand{
				{30, 49, 0.015, 0.45},
				{50, 54, 0.035, 1},
				{55, 59, 0.07, 1},
				{60, 64, 0.19, 0.5},
				{65, 69, 0.205, 0.51},
				{70, 74, 0.165, 0.52},
				{75, 79, 0.12, 0.54},
				{80, 84, 0.095, 0.57},
				{85, 89, 0.065, 0.61},
				{90, 94, 0.03, 0.66},
				{95, 99, 0.008, 0.72},
				{100, 104, 0.002, 0.8},
			},
			UrbanShare:        0.55,
			VillageSizeSigma:  0.6,
			RegionCodeOmitted: 0.10,
			BornElsewhere:     0.12,
			Phone:             AgeCurve{{60, 0.95}, {70, 0.9}, {80, 0.72}, {90, 0.45}, {100, 0.25}},
			AgentPhone:        0.65,
			NewEnrolment:      0.03,
			LastCertified:     0.98,
			MinorityNames:     0.002,
			SingleCharName:    0.22,
			SexOmitted:        0.1,
			Benefits: Benefits{
				RetireAgeMale: 60, RetireAgeFemale: 50, ResidentAge: 60,
				Pensions: map[string]*Pension{
					"EMP_PENSION": {Share: Seg{0.76, 0.2}, Median: 3100, Sigma: 0.3, Min: 1400, CapacityMonths: 14},
					"GOV_PENSION": {Share: Seg{0.12, 0.03}, Median: 5600, Sigma: 0.25, Min: 2800, CapacityMonths: 18},
					"RES_PENSION": {Median: 230, Sigma: 0.25, Min: 150, CapacityMonths: 40},
				},
				Extras: map[string]*Extra{
					"ELDERLY_ALLOWANCE":    {Share: Seg{0.95, 0.95}, MinAge: 80, Tiers: []Tier{{80, 100}, {90, 200}, {100, 500}}},
					"DISABILITY_ALLOWANCE": {Share: Seg{0.03, 0.05}, MinAge: 16, Amount: [2]float64{90, 150}, Alone: true, EndShare: 0.02},
					"MINIMUM_LIVING":       {Share: Seg{0.015, 0.04}, MinAge: 16, Amount: [2]float64{300, 900}, Alone: true, EndShare: 0.1},
					"SURVIVOR":             {Share: Seg{0.02, 0.01}, MinAge: 16, Amount: [2]float64{600, 1600}, Alone: true, CapacityMonths: 6},
					"INJURY":               {Share: Seg{0.004, 0.002}, MinAge: 30, MaxAge: 75, Amount: [2]float64{2200, 4200}, Alone: true, CapacityMonths: 12},
					"VILLAGE_DOCTOR":       {Share: Seg{0, 0.004}, MinAge: 60, Amount: [2]float64{300, 600}},
				},
				CapacityKnown: 0.8,
			},
		},
		Profiles: Profiles{
			Frail:          AgeCurve{{60, 0.03}, {70, 0.06}, {80, 0.16}, {90, 0.35}, {100, 0.55}},
			FrailRisk:      3,
			Chronic:        AgeCurve{{50, 0.25}, {60, 0.4}, {70, 0.55}, {80, 0.65}},
			ChronicRisk:    1.5,
			NursingHome:    AgeCurve{{70, 0.05}, {80, 0.1}, {90, 0.18}},
			Traveller:      Seg{0.07, 0.02},
			OtherCounty:    Seg{0.05, 0.02},
			AwayMonths:     []int{12, 1, 2, 3},
			FewTraces:      AgeCurve{{60, 0.035}, {80, 0.05}, {90, 0.07}},
			FewTracesRural: 1.4,
		},
		Mortality: Mortality{
			Multiplier:           1,
			Season:               [12]float64{1.2, 1.15, 1.05, 0.97, 0.92, 0.88, 0.88, 0.88, 0.9, 0.97, 1.07, 1.13},
			AdmissionBeforeDeath: Seg{0.6, 0.45},
			AdmissionCritical:    0.6,
		},
		Deaths: DeathReporting{
			Channels: map[string]*DeathChannel{
				"PSB.DEATH_DEREG":  {Share: Seg{0.88, 0.8}, DelayMedianDays: 18, DelaySigma: 0.8},
				"CIV.CREMATION":    {Share: Seg{0.92, 0.85}, DelayMedianDays: 6, DelaySigma: 0.6},
				"HEA.DEATH_CERT":   {Share: Seg{0.85, 0.7}, DelayMedianDays: 9, DelaySigma: 0.8},
				"MOHRSS.DEATH":     {Share: Seg{0.6, 0.6}, DelayMedianDays: 45, DelaySigma: 0.4},
				"CMT.DEATH_REPORT": {Share: Seg{0.2, 0.45}, DelayMedianDays: 5, DelaySigma: 0.7},
			},
			NeverReported:  Seg{0.008, 0.015},
			Late:           0.03,
			LateDays:       [2]int{60, 300},
			WrongDate:      0.01,
			WrongPerson:    0.004,
			FalseDeath:     0.0001,
			FalseDeathType: "PSB.DEATH_DEREG",
			Fraud: Fraud{
				IfNeverReported: 0.6, IfLate: 0.4, IfTimely: 0.02,
				Months:           [2]int{2, 18},
				UtilityContinues: 0.6,
				PhoneContinues:   0.3,
				TransitCard:      0,
				// No published share: most rural recipients' children work in the cities
				// (留守老人); urban children often live in another district.
				RelativeElsewhere: Seg{0.6, 0.7},
				RelativeOtherCity: 0.4,
			},
		},
		Certification: Responses{
			Policy:            silentcert.DefaultPolicy(),
			InWarning:         Seg{0.6, 0.5},
			InPending:         Seg{0.6, 0.65},
			PerMonthSuspended: Seg{0.7, 0.7},
			FaceWarning:       Seg{0.8, 0.6},
			VisitPending:      Seg{0.45, 0.7},
			AgentFace:         0.35,
			VisitFindsDeath:   0.8,
			NotFound:          0.1,
			Refused:           0.02,
			Habitual:          Seg{0.01, 0.01},
		},
		Life: LifeEvents{
			Prison:       0.0002,
			PrisonMonths: [2]int{6, 36},
			Move:         Seg{0.012, 0.008},
			MoveReported: 0.4,
		},
		Faults: Faults{
			IDTypo:             0.0015,
			ID15:               0.0005,
			IDMissing:          0.001,
			IDLowerX:           0.05,
			NameVariant:        0.003,
			NameMismatch:       0.0004,
			Duplicate:          0.003,
			DuplicateChanged:   0.0008,
			Malformed:          0.0004,
			RosterBadPhone:     0.004,
			RosterNameConflict: 0.002,
		},
	}
	std := []string{"record_id", "source", "type", "person_id", "name", "birth_date", "event_date", "reported_date", "region_code", "detail"}
	src := func(format string, gz bool, enc string, name, birth float64, region string, factor float64) *SourceRate {
		return &SourceRate{Multiplier: 1, Format: format, Gzip: gz, Encoding: enc, Columns: std, Name: name, BirthDate: birth,
			Region: region, LateBatch: 0.03, LateBatchDays: [2]int{20, 75}, NoReportedDate: 0.003, FaultFactor: factor}
	}
	r.Sources = map[string]*SourceRate{
		"BANK":   src("csv", true, "utf-8", 0.9, 0, "county", 0.3),
		"CIV":    src("csv", false, "gbk", 1, 0.3, "county", 3),
		"CMT":    src("csv", false, "utf-8", 1, 0.4, "village", 3),
		"HEA":    src("csv", false, "utf-8", 1, 0.6, "town", 1.5),
		"HRSS":   src("csv", false, "utf-8", 1, 0, "county", 0.3),
		"JUS":    src("csv", false, "utf-8", 1, 1, "county", 1),
		"MED":    src("jsonl", true, "utf-8", 1, 0.3, "county", 0.6),
		"MOHRSS": src("csv", false, "utf-8", 1, 1, "", 0.5),
		"NIA":    src("csv", false, "utf-8", 1, 1, "city", 0.5),
		"PSB":    src("csv", false, "gbk", 1, 1, "village", 1),
		"TEL":    src("csv", true, "utf-8", 0, 0, "city", 0.3),
		"TRN":    src("csv", false, "utf-8", 0.1, 0, "city", 0.5),
		"UTIL":   src("csv", false, "utf-8", 1, 0, "village", 1),
	}
	r.Sources["BANK"].Datetime = "utc"
	r.Sources["TRN"].Datetime = "local"
	r.Sources["TRN"].ExtraColumn = "line_no"
	r.Sources["HEA"].BOM = true
	r.Sources["HEA"].JSONLFrom = "" // HEA keeps CSV; set a month here to switch it to JSON Lines
	r.Sources["UTIL"].CRLF = true
	r.Sources["JUS"].UpperHeader = true
	r.Sources["TEL"].Columns = []string{"record_id", "source", "type", "person_id", "event_date", "reported_date", "region_code", "detail"}
	r.Sources["TRN"].Columns = []string{"record_id", "source", "type", "person_id", "name", "event_date", "reported_date", "region_code", "detail"}
	r.Sources["BANK"].Columns = []string{"source", "record_id", "type", "person_id", "name", "event_date", "reported_date", "region_code", "detail"}
	r.Sources["MOHRSS"].NoReportedDate = 0
	r.Sources["HRSS"].LateBatch = 0
	r.Sources["CMT"].LateBatch = 0.01

	fd := func(batch string, lo, hi int) Delay { return Delay{Batch: batch, Min: lo, Max: hi} }
	mod := func(adopt, rate float64) *Modifier {
		m := &Modifier{}
		if adopt != 1 {
			m.Adopt = f(adopt)
		}
		if rate != 1 {
			m.Rate = f(rate)
		}
		return m
	}
	few := mod(0.05, 0.5)
	season := func(v ...float64) []float64 { return v }
	r.Types = map[string]*TypeRate{
		"TEL.ACTIVITY": {Mode: modeMonthly, Requires: "phone", Adopt: Seg{1, 1}, PerYear: Seg{11.8, 11.6}, Delay: fd("monthly", 3, 10),
			Modifiers: map[string]*Modifier{"few_traces": mod(0.3, 1)}},
		"BANK.TXN": {Mode: modePoisson, Adopt: Seg{0.85, 0.6}, PerYear: Seg{18, 10}, Spread: 2, Delay: fd("daily", 1, 3),
			Modifiers: map[string]*Modifier{"age80": mod(0.6, 0.7), "few_traces": mod(0.15, 0.5), "nursing_home": mod(0.3, 0.5)}},
		"BANK.COUNTER": {Mode: modePoisson, Adopt: Seg{0.45, 0.65}, PerYear: Seg{3, 5}, Spread: 1.5, Local: true, Delay: fd("daily", 1, 3),
			Modifiers: map[string]*Modifier{"frail": mod(0.4, 0.7), "few_traces": few, "nursing_home": mod(0.1, 1)}},
		"UTIL.PAYMENT": {Mode: modeMonthly, Adopt: Seg{0.7, 0.5}, PerYear: Seg{10, 8}, Delay: fd("monthly", 5, 15),
			Modifiers: map[string]*Modifier{"few_traces": mod(0.5, 1), "nursing_home": mod(0, 1)}},
		"HRSS.CARD_SPEND": {Mode: modePoisson, Adopt: Seg{0.7, 0.5}, PerYear: Seg{8, 5}, Spread: 1.5, Delay: fd("daily", 1, 2),
			Modifiers: map[string]*Modifier{"chronic": mod(1.2, 1.5), "few_traces": mod(0.15, 0.5)}},
		"MED.PHARMACY": {Mode: modePoisson, Adopt: Seg{0.6, 0.5}, PerYear: Seg{6, 4}, Spread: 1.5, Delay: fd("monthly", 8, 20),
			Modifiers: map[string]*Modifier{"chronic": mod(1.3, 2), "few_traces": mod(0.2, 0.5)}},
		"MED.OUTPATIENT": {Mode: modePoisson, Adopt: Seg{0.75, 0.65}, PerYear: Seg{5, 3}, Spread: 1.2, Local: true, Delay: fd("monthly", 8, 20),
			Modifiers: map[string]*Modifier{"chronic": mod(1.2, 2), "frail": mod(1.2, 1.5), "few_traces": mod(0.3, 0.5)}},
		"MED.CHRONIC": {Mode: modeMonthly, Requires: "chronic", Adopt: Seg{0.65, 0.45}, PerYear: Seg{10, 8}, Local: true, Delay: fd("monthly", 8, 20),
			Modifiers: map[string]*Modifier{"few_traces": mod(0.1, 1)}},
		"MED.REFERRAL": {Mode: modePoisson, Adopt: Seg{1, 1}, PerYear: Seg{0.08, 0.1}, Delay: fd("monthly", 8, 20),
			Modifiers: map[string]*Modifier{"frail": mod(1, 3), "chronic": mod(1, 2), "few_traces": mod(0.2, 1)}},
		"MED.OFFSITE": {Mode: modeAnnual, Requires: "traveller", Adopt: Seg{0.8, 0.7}, PerYear: Seg{1, 1},
			Season: season(0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 1), Delay: fd("monthly", 8, 20)},
		"MED.INPATIENT": {Mode: modePoisson, Adopt: Seg{1, 1}, PerYear: Seg{0.16, 0.13}, Delay: fd("monthly", 10, 25),
			Season:    season(1.15, 1.05, 1, 1, 0.95, 0.9, 0.9, 0.9, 0.95, 1, 1.05, 1.15),
			Modifiers: map[string]*Modifier{"frail": mod(1, 3), "chronic": mod(1, 1.8), "age80": mod(1, 1.5), "few_traces": mod(1, 0.6)}},
		"MED.LTC_SERVICE": {Mode: modeMonthly, Requires: "frail", Adopt: Seg{0.25, 0.1}, PerYear: Seg{11, 11}, Delay: fd("monthly", 10, 25),
			Modifiers: map[string]*Modifier{"nursing_home": mod(2.5, 1)}},
		"HEA.VACCINATION": {Mode: modeAnnual, Adopt: Seg{0.25, 0.2}, PerYear: Seg{1, 1}, MinAge: 60, Local: true, Delay: fd("weekly", 3, 30),
			Season:    season(0.3, 0, 0, 0, 0, 0, 0, 0, 1, 4, 3, 1),
			Modifiers: map[string]*Modifier{"chronic": mod(1.3, 1), "few_traces": few}},
		"HEA.FAMILY_DOCTOR": {Mode: modePoisson, Adopt: Seg{0.5, 0.65}, PerYear: Seg{1.5, 1.5}, Local: true, Delay: fd("weekly", 1, 20),
			Modifiers: map[string]*Modifier{"chronic": mod(1.4, 2.7), "frail": mod(1.3, 1.5), "few_traces": few}},
		"HEA.CHECKUP": {Mode: modeAnnual, Adopt: Seg{0.6, 0.7}, PerYear: Seg{1, 1}, MinAge: 65, Local: true, Delay: fd("monthly", 10, 45),
			Season:    season(0.2, 0.2, 1, 2, 2.5, 2.5, 2, 1.5, 1.5, 1, 0.5, 0.2),
			Modifiers: map[string]*Modifier{"frail": mod(0.6, 1), "few_traces": few, "nursing_home": mod(1.2, 1)}},
		"TRN.TRANSIT": {Mode: modePoisson, Adopt: Seg{0.6, 0.2}, PerYear: Seg{60, 25}, Spread: 1.2, Local: true, Delay: fd("weekly", 1, 3),
			Season:    season(0.85, 0.85, 1, 1.1, 1.1, 1.05, 1, 1, 1.05, 1.1, 1, 0.9),
			Modifiers: map[string]*Modifier{"age80": mod(0.5, 0.6), "frail": mod(0.2, 0.5), "few_traces": mod(0, 0), "nursing_home": mod(0, 0)}},
		"TRN.SENIOR_CARD_CHECK": {Mode: modeAnnual, Requires: "TRN.TRANSIT", Adopt: Seg{0.7, 0.6}, PerYear: Seg{1, 1}, MinAge: 65, Local: true,
			Season: season(0, 0, 1, 2, 1.5, 0.3, 0, 0, 0, 0, 0, 0), Delay: fd("weekly", 1, 5)},
		"TRN.RAIL": {Mode: modePoisson, Adopt: Seg{0.5, 0.3}, PerYear: Seg{1.2, 0.7}, Spread: 1, Delay: fd("daily", 1, 2),
			Season:    season(1.6, 1.4, 0.9, 1, 1, 0.8, 1.1, 1.1, 0.9, 1.2, 0.7, 0.8),
			Modifiers: map[string]*Modifier{"traveller": mod(2, 4), "age80": mod(0.4, 0.6), "frail": mod(0.3, 0.5), "few_traces": mod(0, 0)}},
		"TRN.AIR": {Mode: modePoisson, Adopt: Seg{0.15, 0.04}, PerYear: Seg{0.5, 0.3}, Spread: 1, Delay: fd("daily", 1, 2),
			Modifiers: map[string]*Modifier{"traveller": mod(4, 4), "age80": mod(0.3, 0.6), "frail": mod(0.2, 0.5), "few_traces": mod(0, 0)}},
		"NIA.BORDER": {Mode: modePoisson, Adopt: Seg{0.04, 0.01}, PerYear: Seg{1, 0.8}, Spread: 1, Delay: fd("monthly", 5, 15),
			Modifiers: map[string]*Modifier{"traveller": mod(4, 1.5), "age80": mod(0.3, 1), "frail": mod(0.2, 1), "few_traces": mod(0, 0)}},
		"JUS.TRIAL":        {Mode: modePoisson, Adopt: Seg{1, 1}, PerYear: Seg{0.002, 0.002}, Delay: fd("monthly", 5, 20)},
		"CIV.NURSING_HOME": {Mode: modeMonthly, Requires: "nursing_home", Adopt: Seg{1, 1}, PerYear: Seg{11.5, 11.5}, Delay: fd("monthly", 5, 10)},

		"HRSS.FACE":      {Mode: modeResponse, Delay: fd("none", 0, 0)},
		"HRSS.COUNTER":   {Mode: modeResponse, Delay: fd("none", 0, 0)},
		"CMT.VISIT":      {Mode: modeResponse, Delay: fd("none", 0, 3)},
		"CMT.NOT_FOUND":  {Mode: modeResponse, Delay: fd("none", 0, 3)},
		"CMT.REFUSED":    {Mode: modeResponse, Delay: fd("none", 0, 3)},
		"CMT.MOVED":      {Mode: modeEvent, Delay: fd("none", 5, 40)},
		"PSB.HUKOU_MOVE": {Mode: modeEvent, Delay: fd("weekly", 1, 7)},
		"JUS.PRISON_IN":  {Mode: modeEvent, Delay: fd("monthly", 5, 20)},
		"JUS.PRISON_OUT": {Mode: modeEvent, Delay: fd("monthly", 5, 20)},
		"HRSS.REVIEW":    {Mode: modeEvent, Delay: fd("none", 7, 30)},
	}
	return r
}

// ParseRates reads a rates file over the defaults: keys left out keep their default, a
// source or type named in the file replaces only the keys it gives. name is used in
// error messages.
func ParseRates(name string, data []byte) (*Rates, error) {
	// Decoding straight into the defaults would replace a whole map entry (a type, a
	// source) when the file names one key of it, so the file is merged into the defaults
	// as a JSON tree first, then decoded strictly.
	var base, over any
	if err := json.Unmarshal(DefaultRates().JSON(), &base); err != nil {
		return nil, silentcert.Errorf(silentcert.EInternal, "rates: %v", err)
	}
	ud := json.NewDecoder(bytes.NewReader(data))
	ud.UseNumber()
	if err := ud.Decode(&over); err != nil {
		return nil, silentcert.Errorf(silentcert.EInvalid, "%s: %v", name, err)
	}
	if _, ok := over.(map[string]any); !ok {
		return nil, silentcert.Errorf(silentcert.EInvalid, "%s: the rates file must be a JSON object", name)
	}
	merged, err := json.Marshal(mergeJSON(base, over))
	if err != nil {
		return nil, silentcert.Errorf(silentcert.EInvalid, "%s: %v", name, err)
	}
	r := &Rates{}
	dec := json.NewDecoder(bytes.NewReader(merged))
	dec.DisallowUnknownFields()
	if err := dec.Decode(r); err != nil {
		return nil, silentcert.Errorf(silentcert.EInvalid, "%s: %v", name, err)
	}
	if err := r.Validate(silentcert.DefaultCatalogue()); err != nil {
		return nil, silentcert.Errorf(silentcert.EInvalid, "%s: %v", name, err)
	}
	return r, nil
}

// JSON returns the rates as indented JSON, keys of maps sorted: the file --print-rates shows.
func (r *Rates) JSON() []byte {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		panic(err) // every field is a plain value
	}
	return append(b, '\n')
}

// mergeJSON lays over on top of base: objects merge key by key, anything else replaces.
func mergeJSON(base, over any) any {
	bo, ok1 := base.(map[string]any)
	oo, ok2 := over.(map[string]any)
	if !ok1 || !ok2 {
		return over
	}
	for k, v := range oo {
		if b, ok := bo[k]; ok {
			bo[k] = mergeJSON(b, v)
		} else {
			bo[k] = v
		}
	}
	return bo
}

func share(name string, v float64) error {
	if v < 0 || v > 1 || v != v {
		return fmt.Errorf("%s must be from 0 to 1 (got %v)", name, v)
	}
	return nil
}

func segShare(name string, s Seg) error {
	if err := share(name+".urban", s.Urban); err != nil {
		return err
	}
	return share(name+".rural", s.Rural)
}

func nonNeg(name string, v float64) error {
	if v < 0 || v != v {
		return fmt.Errorf("%s must not be negative (got %v)", name, v)
	}
	return nil
}

func curve(name string, c AgeCurve, max float64) error {
	for i, p := range c {
		if i > 0 && p.Age <= c[i-1].Age {
			return fmt.Errorf("%s: ages must increase", name)
		}
		if p.Value < 0 || p.Value > max {
			return fmt.Errorf("%s: value %v at age %v is outside 0..%v", name, p.Value, p.Age, max)
		}
	}
	return nil
}

func span(name string, v [2]int) error {
	if v[0] < 0 || v[1] < v[0] {
		return fmt.Errorf("%s must be [min, max] with 0 <= min <= max", name)
	}
	return nil
}

// Validate reports the first value that makes no sense, and fills the parsed dates.
func (r *Rates) Validate(cat *silentcert.Catalogue) error {
	p := &r.Population
	if len(p.AgeBands) == 0 {
		return fmt.Errorf("population.age_bands is empty")
	}
	total := 0.0
	for i, b := range p.AgeBands {
		if b.From < 0 || b.To < b.From || b.To > 110 {
			return fmt.Errorf("population.age_bands[%d]: ages must satisfy 0 <= from <= to <= 110", i)
		}
		if err := nonNeg(fmt.Sprintf("population.age_bands[%d].share", i), b.Share); err != nil {
			return err
		}
		if err := share(fmt.Sprintf("population.age_bands[%d].female", i), b.Female); err != nil {
			return err
		}
		total += b.Share
	}
	if total <= 0 {
		return fmt.Errorf("population.age_bands: shares sum to zero")
	}
	for _, c := range []struct {
		n string
		v float64
	}{{"population.urban_share", p.UrbanShare}, {"population.region_code_omitted", p.RegionCodeOmitted},
		{"population.born_elsewhere", p.BornElsewhere}, {"population.agent_phone", p.AgentPhone},
		{"population.new_enrolment_per_year", p.NewEnrolment}, {"population.last_certified", p.LastCertified},
		{"population.minority_names", p.MinorityNames},
		{"population.single_char_given_name", p.SingleCharName}, {"population.sex_birth_omitted", p.SexOmitted}, {"population.benefits.capacity_known", p.Benefits.CapacityKnown},
		{"mortality.admission_critical", r.Mortality.AdmissionCritical}, {"deaths.late", r.Deaths.Late},
		{"deaths.wrong_date", r.Deaths.WrongDate}, {"deaths.wrong_person", r.Deaths.WrongPerson},
		{"deaths.false_death_per_year", r.Deaths.FalseDeath},
		{"deaths.fraud.if_never_reported", r.Deaths.Fraud.IfNeverReported}, {"deaths.fraud.if_late", r.Deaths.Fraud.IfLate},
		{"deaths.fraud.if_timely", r.Deaths.Fraud.IfTimely}, {"deaths.fraud.utility_continues", r.Deaths.Fraud.UtilityContinues},
		{"deaths.fraud.phone_continues", r.Deaths.Fraud.PhoneContinues}, {"deaths.fraud.transit_card", r.Deaths.Fraud.TransitCard},
		{"deaths.fraud.relative_other_city", r.Deaths.Fraud.RelativeOtherCity},
		{"certification.agent_face", r.Certification.AgentFace}, {"certification.visit_finds_death", r.Certification.VisitFindsDeath},
		{"certification.visit_not_found", r.Certification.NotFound}, {"certification.visit_refused", r.Certification.Refused},
		{"life_events.prison_per_year", r.Life.Prison}, {"life_events.move_reported_by_community", r.Life.MoveReported},
		{"faults.id_typo", r.Faults.IDTypo}, {"faults.id_15_digit", r.Faults.ID15}, {"faults.id_missing", r.Faults.IDMissing},
		{"faults.id_lower_x", r.Faults.IDLowerX}, {"faults.name_variant", r.Faults.NameVariant},
		{"faults.name_mismatch", r.Faults.NameMismatch}, {"faults.duplicate", r.Faults.Duplicate},
		{"faults.duplicate_changed", r.Faults.DuplicateChanged}, {"faults.malformed", r.Faults.Malformed},
		{"faults.roster_bad_phone", r.Faults.RosterBadPhone}, {"faults.roster_name_conflict", r.Faults.RosterNameConflict},
	} {
		if err := share(c.n, c.v); err != nil {
			return err
		}
	}
	if err := nonNeg("population.village_size_sigma", p.VillageSizeSigma); err != nil {
		return err
	}
	if err := curve("population.phone", p.Phone, 1); err != nil {
		return err
	}
	b := &p.Benefits
	if b.RetireAgeMale < 30 || b.RetireAgeFemale < 30 || b.ResidentAge < 30 {
		return fmt.Errorf("population.benefits: retirement ages must be at least 30")
	}
	for _, code := range []string{"EMP_PENSION", "GOV_PENSION", "RES_PENSION"} {
		pe := b.Pensions[code]
		if pe == nil {
			return fmt.Errorf("population.benefits.pensions.%s is missing", code)
		}
		if pe.Median <= 0 || pe.Min <= 0 || pe.Sigma < 0 || pe.CapacityMonths < 0 {
			return fmt.Errorf("population.benefits.pensions.%s: median and min must be positive, sigma and capacity_months not negative", code)
		}
	}
	for k := range b.Pensions {
		if k != "EMP_PENSION" && k != "GOV_PENSION" && k != "RES_PENSION" {
			return fmt.Errorf("population.benefits.pensions: %s is not a main pension (EMP_PENSION, GOV_PENSION, RES_PENSION)", k)
		}
	}
	if s := b.Pensions["EMP_PENSION"].Share.Urban + b.Pensions["GOV_PENSION"].Share.Urban; s > 1 {
		return fmt.Errorf("population.benefits.pensions: urban shares of EMP_PENSION and GOV_PENSION sum to more than 1")
	}
	if s := b.Pensions["EMP_PENSION"].Share.Rural + b.Pensions["GOV_PENSION"].Share.Rural; s > 1 {
		return fmt.Errorf("population.benefits.pensions: rural shares of EMP_PENSION and GOV_PENSION sum to more than 1")
	}
	known := map[string]bool{}
	for _, bn := range silentcert.DefaultBenefits() {
		known[bn.Code] = true
	}
	for _, k := range sortedKeys(b.Extras) {
		e := b.Extras[k]
		if !known[k] {
			return fmt.Errorf("population.benefits.extras: %s is not an entitlement code", k)
		}
		if err := segShare("population.benefits.extras."+k+".share", e.Share); err != nil {
			return err
		}
		if e.Amount[0] < 0 || e.Amount[1] < e.Amount[0] || (len(e.Tiers) == 0 && e.Amount[0] <= 0) {
			return fmt.Errorf("population.benefits.extras.%s: amount must be [min, max] with 0 < min <= max", k)
		}
		if err := share("population.benefits.extras."+k+".end_share", e.EndShare); err != nil {
			return err
		}
	}
	pr := &r.Profiles
	for _, c := range []struct {
		n string
		c AgeCurve
	}{{"profiles.frail", pr.Frail}, {"profiles.chronic", pr.Chronic}, {"profiles.nursing_home_if_frail", pr.NursingHome}, {"profiles.few_traces", pr.FewTraces}} {
		if err := curve(c.n, c.c, 1); err != nil {
			return err
		}
	}
	if pr.FrailRisk < 1 || pr.ChronicRisk < 1 {
		return fmt.Errorf("profiles: relative risks must be at least 1")
	}
	if err := segShare("profiles.other_county_traces", pr.OtherCounty); err != nil {
		return err
	}
	if err := segShare("deaths.fraud.relative_elsewhere", r.Deaths.Fraud.RelativeElsewhere); err != nil {
		return err
	}
	if err := segShare("profiles.traveller", pr.Traveller); err != nil {
		return err
	}
	for _, m := range pr.AwayMonths {
		if m < 1 || m > 12 {
			return fmt.Errorf("profiles.traveller_away_months: %d is not a month", m)
		}
	}
	if err := nonNeg("profiles.few_traces_rural_factor", pr.FewTracesRural); err != nil {
		return err
	}
	if err := nonNeg("mortality.multiplier", r.Mortality.Multiplier); err != nil {
		return err
	}
	sum := 0.0
	for _, v := range r.Mortality.Season {
		if err := nonNeg("mortality.season", v); err != nil {
			return err
		}
		sum += v
	}
	if sum < 11.9 || sum > 12.1 {
		return fmt.Errorf("mortality.season must average 1 (it sums to %.3f) so that the WPP annual rates hold", sum)
	}
	if err := segShare("mortality.admission_before_death", r.Mortality.AdmissionBeforeDeath); err != nil {
		return err
	}
	d := &r.Deaths
	for _, code := range sortedKeys(d.Channels) {
		id, ok := cat.Lookup(code)
		if !ok || cat.Type(id).Class != silentcert.ClassDeath {
			return fmt.Errorf("deaths.channels: %s is not a DEATH type of the catalogue", code)
		}
		ch := d.Channels[code]
		if err := segShare("deaths.channels."+code+".share", ch.Share); err != nil {
			return err
		}
		if ch.DelayMedianDays < 0 || ch.DelaySigma < 0 {
			return fmt.Errorf("deaths.channels.%s: delays must not be negative", code)
		}
	}
	if d.FalseDeath > 0 {
		id, ok := cat.Lookup(d.FalseDeathType)
		if !ok || cat.Type(id).Class != silentcert.ClassDeath || d.Channels[d.FalseDeathType] == nil {
			return fmt.Errorf("deaths.false_death_type: %q is not one of the death channels", d.FalseDeathType)
		}
	}
	if err := segShare("deaths.never_reported", d.NeverReported); err != nil {
		return err
	}
	if err := span("deaths.late_extra_days", d.LateDays); err != nil {
		return err
	}
	if err := span("deaths.fraud.months", d.Fraud.Months); err != nil {
		return err
	}
	c := &r.Certification
	if err := c.Policy.Validate(); err != nil {
		return fmt.Errorf("certification.%v", err)
	}
	for _, s := range []struct {
		n string
		v Seg
	}{{"in_warning", c.InWarning}, {"in_pending", c.InPending}, {"per_month_suspended", c.PerMonthSuspended},
		{"face_share_warning", c.FaceWarning}, {"visit_share_pending", c.VisitPending}, {"habitual_face", c.Habitual}} {
		if err := segShare("certification."+s.n, s.v); err != nil {
			return err
		}
	}
	if c.NotFound+c.Refused > 1 {
		return fmt.Errorf("certification: visit_not_found plus visit_refused exceed 1")
	}
	if err := span("life_events.prison_months", r.Life.PrisonMonths); err != nil {
		return err
	}
	if r.Life.PrisonMonths[0] < 1 {
		return fmt.Errorf("life_events.prison_months must be at least 1")
	}
	if err := segShare("life_events.move_per_year", r.Life.Move); err != nil {
		return err
	}
	for _, s := range cat.Sources() {
		if r.Sources[s] == nil {
			return fmt.Errorf("sources.%s is missing", s)
		}
	}
	for _, name := range sortedKeys(r.Sources) {
		s := r.Sources[name]
		found := false
		for _, cs := range cat.Sources() {
			found = found || cs == name
		}
		if !found {
			return fmt.Errorf("sources: %s is not a source of the catalogue", name)
		}
		if err := s.validate("sources." + name); err != nil {
			return err
		}
	}
	for _, code := range sortedKeys(r.Types) {
		t := r.Types[code]
		id, ok := cat.Lookup(code)
		if !ok {
			return fmt.Errorf("types: %s is not a record type of the catalogue", code)
		}
		if err := t.validate("types."+code, cat.Type(id), cat); err != nil {
			return err
		}
	}
	for i := 0; i < cat.Len(); i++ {
		code := cat.Type(silentcert.TypeID(i)).Code
		if cat.Type(silentcert.TypeID(i)).Class == silentcert.ClassDeath {
			continue
		}
		if r.Types[code] == nil {
			return fmt.Errorf("types.%s is missing", code)
		}
	}
	return nil
}

func (s *SourceRate) validate(name string) error {
	if err := nonNeg(name+".multiplier", s.Multiplier); err != nil {
		return err
	}
	s.stop = silentcert.NoDate
	if s.StopAfter != "" {
		d, err := silentcert.ParseDate(s.StopAfter)
		if err != nil {
			return fmt.Errorf("%s.stop_after: %v", name, err)
		}
		s.stop = d
	}
	s.jsonlFrom = silentcert.NoMonth
	if s.JSONLFrom != "" {
		m, err := silentcert.ParseMonth(s.JSONLFrom)
		if err != nil {
			return fmt.Errorf("%s.jsonl_from: %v", name, err)
		}
		s.jsonlFrom = m
	}
	switch s.Format {
	case "csv", "jsonl":
	default:
		return fmt.Errorf("%s.format must be csv or jsonl", name)
	}
	switch s.Encoding {
	case "utf-8", "gbk":
	default:
		return fmt.Errorf("%s.encoding must be utf-8 or gbk", name)
	}
	switch s.Datetime {
	case "", "local", "utc":
	default:
		return fmt.Errorf("%s.datetime must be empty, local or utc", name)
	}
	switch s.Region {
	case "", "village", "town", "county", "city":
	default:
		return fmt.Errorf("%s.region must be empty, village, town, county or city", name)
	}
	need := map[string]bool{"record_id": false, "source": false, "type": false, "person_id": false, "event_date": false, "reported_date": false}
	seen := map[string]bool{}
	for _, c := range s.Columns {
		switch c {
		case "record_id", "source", "type", "person_id", "name", "birth_date", "event_date", "reported_date", "region_code", "detail":
		default:
			return fmt.Errorf("%s.columns: %q is not a field of spec §3", name, c)
		}
		if seen[c] {
			return fmt.Errorf("%s.columns: %q is listed twice", name, c)
		}
		seen[c] = true
		need[c] = true
	}
	for _, c := range []string{"record_id", "source", "type", "person_id", "event_date", "reported_date"} {
		if !need[c] {
			return fmt.Errorf("%s.columns must include %s", name, c)
		}
	}
	if seen[s.ExtraColumn] {
		return fmt.Errorf("%s.extra_column duplicates a standard column", name)
	}
	for _, c := range []struct {
		n string
		v float64
	}{{"name", s.Name}, {"birth_date", s.BirthDate}, {"late_batch", s.LateBatch}, {"no_reported_date", s.NoReportedDate}} {
		if err := share(name+"."+c.n, c.v); err != nil {
			return err
		}
	}
	if err := nonNeg(name+".fault_factor", s.FaultFactor); err != nil {
		return err
	}
	return span(name+".late_batch_days", s.LateBatchDays)
}

func (t *TypeRate) validate(name string, rt *silentcert.RecordType, cat *silentcert.Catalogue) error {
	switch t.Mode {
	case modePoisson, modeMonthly, modeAnnual:
		if rt.Class == silentcert.ClassDeath || rt.Class == silentcert.ClassLoss || rt.Class == silentcert.ClassRestore ||
			rt.Class == silentcert.ClassResolve || rt.Class == silentcert.ClassInfo {
			return fmt.Errorf("%s: a %s type is written by life events; its mode must be event", name, rt.Class)
		}
	case modeResponse:
		switch rt.Code {
		case "HRSS.FACE", "HRSS.COUNTER", "CMT.VISIT", "CMT.NOT_FOUND", "CMT.REFUSED":
		default:
			return fmt.Errorf("%s: only HRSS.FACE, HRSS.COUNTER and the CMT visit types are responses", name)
		}
	case modeEvent:
	default:
		return fmt.Errorf("%s.mode must be poisson, monthly, annual, response or event", name)
	}
	if err := segShare(name+".adopt", t.Adopt); err != nil {
		return err
	}
	if err := nonNeg(name+".per_year.urban", t.PerYear.Urban); err != nil {
		return err
	}
	if err := nonNeg(name+".per_year.rural", t.PerYear.Rural); err != nil {
		return err
	}
	if t.Mode == modeMonthly && (t.PerYear.Urban > 12 || t.PerYear.Rural > 12) {
		return fmt.Errorf("%s.per_year: a monthly type has at most 12 a year", name)
	}
	if len(t.Season) != 0 && len(t.Season) != 12 {
		return fmt.Errorf("%s.season must have 12 values", name)
	}
	ssum := 0.0
	for _, v := range t.Season {
		if err := nonNeg(name+".season", v); err != nil {
			return err
		}
		ssum += v
	}
	if len(t.Season) == 12 && ssum == 0 {
		return fmt.Errorf("%s.season is all zero", name)
	}
	if err := nonNeg(name+".spread", t.Spread); err != nil {
		return err
	}
	if t.Requires != "" && !isFlag(t.Requires) {
		if _, ok := cat.Lookup(t.Requires); !ok {
			return fmt.Errorf("%s.requires: %q is neither a profile flag (%v) nor a record type", name, t.Requires, profileFlags)
		}
	}
	for _, k := range sortedKeys(t.Modifiers) {
		if !isFlag(k) {
			return fmt.Errorf("%s.modifiers: %q is not a profile flag (%v)", name, k, profileFlags)
		}
		m := t.Modifiers[k]
		if m == nil {
			continue
		}
		if m.Adopt != nil && *m.Adopt < 0 || m.Rate != nil && *m.Rate < 0 {
			return fmt.Errorf("%s.modifiers.%s: multipliers must not be negative", name, k)
		}
	}
	switch t.Delay.Batch {
	case "none", "daily", "weekly", "monthly":
	default:
		return fmt.Errorf("%s.delay.batch must be none, daily, weekly or monthly", name)
	}
	if t.Delay.Min < 0 || t.Delay.Max < t.Delay.Min {
		return fmt.Errorf("%s.delay: need 0 <= lag_min_days <= lag_max_days", name)
	}
	return nil
}

func isFlag(s string) bool {
	for _, f := range profileFlags {
		if f == s {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
