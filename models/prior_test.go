package models

import (
	"math"
	"math/rand/v2"
	"testing"
)

// scoresAt draws n traces' P(dead) under a score calibrated to prior trained, from a city
// where a share prior of the traces come after a death: each trace is dead with that
// share, and its score is drawn from the class's own distribution (log-odds normal, the
// same in both cities), then read through the calibrated posterior.
func scoresAt(rng *rand.Rand, n int, prior, trained, apart float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		dead := rng.Float64() < prior
		// The dead's traces sit apart standard deviations above the living's.
		z := rng.NormFloat64()
		if dead {
			z += apart
		}
		lr := math.Exp(apart*z - apart*apart/2) // p(z|dead)/p(z|alive) for unit normals
		odds := trained / (1 - trained) * lr
		out[i] = odds / (1 + odds)
	}
	return out
}

// TestEstimatePrior: on traces from a city with a larger share of deaths behind them than
// the score was trained on, the estimate finds that share (within 10 %); on the training
// city, or one with fewer, it stays where it was; moving the intercept by the difference of
// log-odds gives the posterior rescaled to the new share.
func TestEstimatePrior(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const trained = 0.01
	for _, c := range []struct{ prior, apart float64 }{{0.01, 6}, {0.02, 6}, {0.005, 6}, {0.04, 6}, {0.02, 2}, {0.04, 1.5}} {
		est, err := EstimatePrior(scoresAt(rng, 400000, c.prior, trained, c.apart), trained)
		if err != nil {
			t.Fatal(err)
		}
		// A city that looks safer keeps the trained share: never less caution. Scores
		// that separate weakly still find the share (EM crawled there).
		if want := max(c.prior, trained); math.Abs(est-want) > 0.1*want {
			t.Errorf("a city with %.3f of the traces after a death, scores %g apart: estimated %.5f, want %.5f", c.prior, c.apart, est, want)
		}
	}
	// Never above one half, never below the trained share, whatever the scores.
	for _, pd := range [][]float64{{1, 1, 1}, {0, 0}, {0.3, 0.9999999999999999}} {
		if est, err := EstimatePrior(pd, trained); err != nil || est < trained || est > 0.5 {
			t.Errorf("scores %v: %g, %v", pd, est, err)
		}
	}
	for _, bad := range []float64{0.5, 0.7, 0, -1, math.NaN()} {
		if _, err := EstimatePrior([]float64{0.1}, bad); err == nil {
			t.Errorf("trained share %g: no error", bad)
		}
	}
	if _, err := EstimatePrior([]float64{math.NaN()}, trained); err == nil {
		t.Error("a NaN score: no error")
	}
	if _, err := EstimatePrior(nil, 0.01); err == nil {
		t.Error("no traces: no error")
	}
	p := Default()
	x := [NumFeatures]float64{FBias: 1, 1: 0.3, 2: 1}
	before, risk := p.PDead(&x), p.PRisk(&x)
	p.ShiftPrior(0.001, 0.003)
	if got, want := p.PDead(&x), Reprior(before, 0.001, 0.003); math.Abs(got-want) > 1e-12 {
		t.Errorf("shifted P(dead) %g, rescaled %g", got, want)
	}
	if p.PRisk(&x) != risk || p.TracePrior != 0.003 {
		t.Errorf("the RISK score moved (%g, was %g) or trace_prior not set (%g)", p.PRisk(&x), risk, p.TracePrior)
	}
	// A version 3 file scores RISK with the trace weights: they are kept for it.
	v3 := Default()
	v3.Risk = [NumFeatures]float64{}
	risk = v3.PRisk(&x)
	v3.ShiftPrior(0.001, 0.003)
	if v3.PRisk(&x) != risk {
		t.Error("shifting a file without a RISK regression moved its RISK score")
	}
}

// TestBuiltinIdentityKept: the built-in file names no trace_prior (its identity, in every
// database that runs it, stays), yet recalibration knows where it starts.
func TestBuiltinIdentityKept(t *testing.T) {
	p := Default()
	if p.Identity() != "v5:4f2c981e61a5f2f7" {
		t.Errorf("the built-in's identity is %s", p.Identity())
	}
	if p.TrainingPrior() != builtinTracePrior {
		t.Errorf("the built-in's training prior: %g", p.TrainingPrior())
	}
	p.Trace[FBias] += 0.1
	if p.TrainingPrior() != 0 {
		t.Error("another trace score passes for the built-in")
	}
}
