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
// is estimated from the scores themselves, by the expectation–maximisation of Saerens,
// Latinne and Decaestecker ("Adjusting the outputs of a classifier to new a priori
// probabilities", Neural Computation 14, 2002), and the regression's intercept moved by
// the difference of log-odds, which is the exact change of a logistic model's posterior
// under a new prior when what a dead person's traces look like stays the same.

// builtinTracePrior is the mean P(dead) of the built-in trace score over the traces it
// samples (one a fortnight a person; train --recalibrate prints it) on the city it was
// trained on (simulated Weihai,
// seed 42, 2024–2025 with six months of history: 0.00049 of those traces came after a
// death). The built-in's file does not hold it, so that its identity stays as it was.
const builtinTracePrior = 0.0004902

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
// calibrated to prior trained are pdead, by expectation–maximisation: each round rescales
// every trace's P(dead) to the current estimate and takes their mean as the next one,
// until it moves by less than one part in a million (at most 1,000 rounds); never less
// than trained (see the end). It is a pure function of its inputs, in their order.
func EstimatePrior(pdead []float64, trained float64) (float64, error) {
	if len(pdead) == 0 {
		return 0, fmt.Errorf("recalibration: no traces scored")
	}
	if !(trained > 0 && trained < 1) {
		return 0, fmt.Errorf("recalibration: the model names no training prior (trace_prior) to start from")
	}
	est := 0.0
	for _, p := range pdead {
		est += p
	}
	est /= float64(len(pdead))
	for range 1000 {
		next := 0.0
		for _, p := range pdead {
			next += Reprior(p, trained, est)
		}
		next /= float64(len(pdead))
		done := math.Abs(next-est) <= 1e-6*est
		est = next
		if done {
			break
		}
	}
	// Never below the trained share: a city whose scores look safer than the training
	// city's may only hold deaths better hidden (their traces look alive, and pull the
	// estimate down), and certifying a dead person is the worst error; the estimate can
	// also run off to nothing when the scores are sharper than the city. Nor above one
	// half.
	return math.Min(math.Max(est, trained), 0.5), nil
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
