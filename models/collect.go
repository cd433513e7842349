package models

import (
	"sort"
	"sync"

	sc "github.com/silentcert/silentcert"
)

// PersonScores is what the collector keeps per person for evaluation and training.
type PersonScores struct {
	Person     string
	Health     float64 // health index on the snapshot day (NaN-free: age and sex only when no record came)
	HealthX    [NumHealth]float64
	HasHealth  bool
	RiskMax    float64 // the highest P(dead) at a spoofable trace
	RiskMaxDay sc.Date // the day it was applied
	FirstFlag  sc.Date // the first day a RISK row would be written (NoDate when never)
}

// Collector is a Recorder that keeps sampled observations and per-person scores in memory,
// for `train` and `evaluate`. Safe for concurrent use; its results are sorted, so they do
// not depend on the order people were run in.
type Collector struct {
	P    *Params
	Snap sc.Date
	// Spoofable keeps every spoofable trace with its features too (SpoofableObservations),
	// for fitting the RISK score in training.
	Spoofable bool
	// Keep, when set, says whose traces are kept for fitting (Observations and
	// SpoofableObservations): a sample of the people, so that training a large city fits
	// in memory. Per-person scores and Scored keep everyone.
	Keep func(person string) bool

	mu     sync.Mutex
	obs    []Observation
	spoof  []Observation
	flags  []Observation // every spoofable trace scored RecordFloor or more, features left out
	people map[string]*PersonScores
}

// NewCollector returns a collector scoring with p, taking health snapshots on snap.
func NewCollector(p *Params, snap sc.Date) *Collector {
	return &Collector{P: p, Snap: snap, people: map[string]*PersonScores{}}
}

func (c *Collector) person(id string) *PersonScores {
	ps := c.people[id]
	if ps == nil {
		ps = &PersonScores{Person: id, RiskMaxDay: sc.NoDate, FirstFlag: sc.NoDate}
		c.people[id] = ps
	}
	return ps
}

// Trace implements Recorder.
func (c *Collector) Trace(o *Observation, sample bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ps := c.person(o.Person)
	if o.Spoofable && o.Risk > ps.RiskMax {
		ps.RiskMax, ps.RiskMaxDay = o.Risk, o.Day
	}
	if o.Spoofable && o.Risk >= c.P.RiskThreshold && ps.FirstFlag == sc.NoDate {
		ps.FirstFlag = o.Day
	}
	if o.Spoofable && o.Risk >= RecordFloor {
		c.flags = append(c.flags, Observation{Person: o.Person, Day: o.Day, Event: o.Event, Spoofable: true, PDead: o.PDead, Risk: o.Risk})
	}
	if c.Keep != nil && !c.Keep(o.Person) {
		return
	}
	if sample {
		c.obs = append(c.obs, *o)
	}
	if c.Spoofable && o.Spoofable {
		c.spoof = append(c.spoof, *o)
	}
}

// SpoofableObservations returns every spoofable trace (when Spoofable was set) by
// (person, event, day).
func (c *Collector) SpoofableObservations() []Observation {
	c.mu.Lock()
	defer c.mu.Unlock()
	return sortObservations(append([]Observation(nil), c.spoof...))
}

// Scored returns every spoofable trace scored RecordFloor or more (without features), by
// (person, day, event, score): what a RISK threshold at or above RecordFloor would flag.
func (c *Collector) Scored() []Observation {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := append([]Observation(nil), c.flags...)
	sort.Slice(out, func(i, j int) bool {
		a, b := &out[i], &out[j]
		switch {
		case a.Person != b.Person:
			return a.Person < b.Person
		case a.Day != b.Day:
			return a.Day < b.Day
		case a.Event != b.Event:
			return a.Event < b.Event
		}
		return a.Risk < b.Risk
	})
	return out
}

// SnapshotDay implements Recorder.
func (c *Collector) SnapshotDay() sc.Date { return c.Snap }

// Health implements Recorder.
func (c *Collector) Health(person string, day sc.Date, h [NumHealth]float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ps := c.person(person)
	if ps.HasHealth {
		return
	}
	ps.HasHealth, ps.HealthX, ps.Health = true, h, c.P.HealthIndex(&h)
}

// Observations returns the sampled observations by (person, event, day).
func (c *Collector) Observations() []Observation {
	c.mu.Lock()
	defer c.mu.Unlock()
	return sortObservations(append([]Observation(nil), c.obs...))
}

func sortObservations(out []Observation) []Observation {
	sort.SliceStable(out, func(i, j int) bool {
		a, b := &out[i], &out[j]
		if a.Person != b.Person {
			return a.Person < b.Person
		}
		if a.Event != b.Event {
			return a.Event < b.Event
		}
		return a.Day < b.Day
	})
	return out
}

// People returns every person's scores, by person ID. Those with no health snapshot (no
// record on or after the snapshot day) get one from rec, when given.
func (c *Collector) People(rec []*sc.Recipient) []PersonScores {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range rec {
		ps := c.person(r.PersonID)
		if !ps.HasHealth {
			h := HealthFeatures(r, nil, c.Snap)
			ps.HasHealth, ps.HealthX, ps.Health = true, h, c.P.HealthIndex(&h)
		}
	}
	out := make([]PersonScores, 0, len(c.people))
	for _, ps := range c.people {
		out = append(out, *ps)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Person < out[j].Person })
	return out
}
