package models

import (
	"fmt"
	"math"
)

// A trace score is calibrated to the share of traces left after a death in the city it was
// trained on. A city where more deaths go unreported (more fraud, or fewer death feeds)
// has more such traces, and the same score then overstates P(alive): on the simulator's
// city with four times the hidden deaths, traces scored 0.90–0.95 alive were 77 % alive.
// Recalibration moves the score to the city's own share without any outcome: the share
// is estimated from the scores themselves — the maximum-likelihood share of Saerens,
// Latinne and Decaestecker ("Adjusting the outputs of a classifier to new a priori
// probabilities", Neural Computation 14, 2002), which their expectation–maximisation
// reaches and which is found here by bisection — and the regression's intercept moved by
// the difference of log-odds, which is the exact change of a logistic model's posterior
// under a new prior when what a dead person's traces look like stays the same.

// builtinTracePrior is the mean P(dead) of the built-in trace score over the traces the
// fortnight clock samples (MeanPDead of ClockScores; train --recalibrate prints it) on the city it was
// trained on (simulated Weihai, seed 42, 2024–2025 with six months of history). The
// built-in's file does not hold it, so that its identity stays as it was.
const builtinTracePrior = 0.0003189

// TrainingPrior is the share of sampled traces after a death the trace score was
// calibrated to: the file's trace_prior, the built-in's, or 0 when the file names none
// (a model trained before session 10).
func (p *Params) TrainingPrior() float64 {
	switch {
	case p.TracePrior > 0:
		return p.TracePrior
	case p.Trace == Default().Trace:
		return builtinTracePrior
	}
	return 0
}

// EstimatePrior returns the share of dead among traces whose P(dead) under a score
// calibrated to prior trained are pdead: the share that makes them likeliest (each trace's
// likelihood ratio dead/alive is its posterior odds over the trained prior's odds; the
// log-likelihood of a share is concave, and its derivative's zero is found by bisection to
// full precision — the expectation–maximisation of Saerens et al. reaches the same point,
// but can crawl when the scores separate weakly). Never less than trained (see the end),
// never more than one half. A pure function of its inputs.
func EstimatePrior(pdead []float64, trained float64) (float64, error) {
	if len(pdead) == 0 {
		return 0, fmt.Errorf("recalibration: no traces scored")
	}
	if !(trained > 0 && trained < 0.5) {
		return 0, fmt.Errorf("recalibration: the model names no training prior (trace_prior) to start from")
	}
	prior := trained / (1 - trained)
	ratio := make([]float64, len(pdead))
	for i, p := range pdead {
		if math.IsNaN(p) {
			return 0, fmt.Errorf("recalibration: a trace scored NaN")
		}
		p = math.Min(math.Max(p, 0), 1-1e-15)
		ratio[i] = p / (1 - p) / prior
	}
	// slope is the derivative of the log-likelihood at share x: decreasing in x.
	slope := func(x float64) float64 {
		s := 0.0
		for _, r := range ratio {
			s += (r - 1) / (1 + x*(r-1))
		}
		return s
	}
	const top = 0.5
	lo, hi := 0.0, top
	switch {
	case slope(lo) <= 0:
		hi = 0
	case slope(hi) >= 0:
		lo = top
	default:
		for range 200 {
			mid := (lo + hi) / 2
			if mid == lo || mid == hi {
				break
			}
			if slope(mid) > 0 {
				lo = mid
			} else {
				hi = mid
			}
		}
	}
	est := (lo + hi) / 2
	// Never below the trained share: a city whose scores look safer than the training
	// city's may only hold deaths better hidden (their traces look alive, and pull the
	// estimate down), and certifying a dead person is the worst error; the estimate also
	// runs off to nothing when the scores are sharper than the city.
	return math.Max(trained, math.Min(est, top)), nil
}

// ClockScores returns P(dead) under p of the observations the fortnight clock sampled
// (Observation.Clock): the traces recalibration estimates from.
func ClockScores(p *Params, obs []Observation) []float64 {
	var out []float64
	for i := range obs {
		if obs[i].Clock {
			out = append(out, p.PDead(&obs[i].X))
		}
	}
	return out
}

// MeanPDead is the mean of scores (ClockScores): the share of traces after a death a
// calibrated score implies; 0 when there are none.
func MeanPDead(scores []float64) float64 {
	sum := 0.0
	for _, x := range scores {
		sum += x
	}
	if len(scores) == 0 {
		return 0
	}
	return sum / float64(len(scores))
}

// Reprior returns P(dead) p of a score calibrated to prior from, rescaled to prior to.
func Reprior(p, from, to float64) float64 {
	a, b := to/from*p, (1-to)/(1-from)*(1-p)
	if a+b == 0 {
		return p
	}
	return a / (a + b)
}

// ShiftPrior moves the trace score from prior from to prior to, through its intercept,
// and records to as its trace_prior. The RISK score, chosen by the share of the living it
// flags, is left as it is (a file without one first gets the trace score's weights).
func (p *Params) ShiftPrior(from, to float64) {
	if p.Risk == ([NumFeatures]float64{}) {
		p.Risk = p.Trace
	}
	logit := func(x float64) float64 { return math.Log(x / (1 - x)) }
	p.Trace[FBias] += logit(to) - logit(from)
	p.TracePrior = to
}
