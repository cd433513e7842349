package sim

import (
	"math"
	"math/rand/v2"
)

// Streams: every person draws from several independent random streams, each seeded from
// (seed, stream, person index). Because a person never draws from a shared stream, any
// number of workers produce the same people; because each record type has its own stream,
// switching one source off leaves every other record exactly as it was.
const (
	streamBase uint64 = iota + 1
	streamLife
	streamCert
	streamDeath
	streamFault
	streamRoster
	streamPlace
	streamRosterName        // a later roster row under another name (faults.roster_name_conflict)
	streamType       = 1000 // + type index
)

// rng is a PCG generator with the draws the simulator needs.
type rng struct {
	pcg rand.PCG
	r   *rand.Rand
}

func newRNG() *rng {
	g := &rng{}
	g.r = rand.New(&g.pcg)
	return g
}

// seed positions the generator at the start of (seed, stream, person).
func (g *rng) seed(seed, stream uint64, person int) {
	g.pcg.Seed(mix(seed, stream), mix(uint64(person), stream^0x9e3779b97f4a7c15))
}

// mix is SplitMix64's finaliser over a and b: nearby inputs give unrelated outputs.
func mix(a, b uint64) uint64 {
	z := a + 0x9e3779b97f4a7c15*(b+1)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (g *rng) float() float64        { return g.r.Float64() }
func (g *rng) intn(n int) int        { return g.r.IntN(n) }
func (g *rng) chance(p float64) bool { return p > 0 && g.r.Float64() < p }

// between returns an integer uniformly in [lo, hi].
func (g *rng) between(lo, hi int) int {
	if hi <= lo {
		return lo
	}
	return lo + g.r.IntN(hi-lo+1)
}

func (g *rng) exp() float64 { return g.r.ExpFloat64() }

// lognormal returns median·e^(sigma·N(0,1)).
func (g *rng) lognormal(median, sigma float64) float64 {
	return median * math.Exp(sigma*g.r.NormFloat64())
}

// poisson returns a Poisson count with mean lambda.
func (g *rng) poisson(lambda float64) int {
	switch {
	case lambda <= 0:
		return 0
	case lambda < 30:
		l := math.Exp(-lambda)
		k, p := 0, g.r.Float64()
		for p > l {
			k++
			p *= g.r.Float64()
		}
		return k
	}
	n := int(math.Round(lambda + math.Sqrt(lambda)*g.r.NormFloat64()))
	if n < 0 {
		return 0
	}
	return n
}

// gamma returns a Gamma(shape, 1/shape) draw: mean 1, used for per-person activity levels
// (Marsaglia and Tsang's method).
func (g *rng) gamma(shape float64) float64 {
	if shape <= 0 {
		return 1
	}
	k := shape
	boost := 1.0
	if k < 1 {
		boost = math.Pow(g.r.Float64(), 1/k)
		k++
	}
	d := k - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := g.r.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := g.r.Float64()
		if u < 1-0.0331*x*x*x*x || math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return boost * d * v / shape
		}
	}
}

// pick returns an index drawn with the given cumulative weights (last = total).
func (g *rng) pick(cum []float64) int {
	if len(cum) == 0 {
		return -1
	}
	x := g.r.Float64() * cum[len(cum)-1]
	lo, hi := 0, len(cum)-1
	for lo < hi {
		m := (lo + hi) / 2
		if cum[m] > x {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

func cumulative(w []float64) []float64 {
	c := make([]float64, len(w))
	s := 0.0
	for i, v := range w {
		s += v
		c[i] = s
	}
	return c
}
