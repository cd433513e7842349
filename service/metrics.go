package service

import (
	"math"
	"sync/atomic"
)

// Gauge is a float value read by the metrics endpoint.
type Gauge struct{ bits atomic.Uint64 }

// Set sets the value.
func (g *Gauge) Set(v float64) { g.bits.Store(math.Float64bits(v)) }

// Get returns the value.
func (g *Gauge) Get() float64 { return math.Float64frombits(g.bits.Load()) }

// Metrics are what a service counted since it was opened, for /metrics. They belong to
// the service, not the process: two services in one process (tests, a tool opening two
// databases) each count their own.
type Metrics struct {
	// RecordsIngested, RecordsQuarantined and Batches (applied) count since start.
	RecordsIngested, RecordsQuarantined, Batches atomic.Int64
	// BatchesRefused counts, since start, the batches refused whole and stored so (a file
	// unreadable, truncated, too large): a department whose every file is refused shows
	// here, not in Batches.
	BatchesRefused atomic.Int64
	// RunSeconds is how long the last daily run took.
	RunSeconds Gauge
}

// Metrics returns the service's counters.
func (s *Service) Metrics() *Metrics { return &s.metrics }
