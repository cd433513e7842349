package models

import (
	"math"
	"sort"

	sc "github.com/silentcert/silentcert"
)

// FitLogistic fits a logistic regression by Newton's method with an L2 penalty (ridge, not
// applied to the first coefficient, the intercept) and returns the coefficients. Rows are
// the features (the first being 1); y the outcomes. Deterministic: no random start.
func FitLogistic(x [][]float64, y []bool, ridge float64, iters int) []float64 {
	return fitLogistic(x, y, ridge, iters, nil)
}

// FitLogisticNonNeg fits as FitLogistic, with the coefficients marked in nonNeg kept at 0
// or above: a feature that fits with a negative weight is left out (weight 0) and the
// rest fitted again, until none is negative.
func FitLogisticNonNeg(x [][]float64, y []bool, ridge float64, iters int, nonNeg []bool) []float64 {
	fixed := make([]bool, len(nonNeg))
	for {
		w := fitLogistic(x, y, ridge, iters, fixed)
		if w == nil {
			return nil
		}
		again := false
		for i, v := range w {
			if i < len(nonNeg) && nonNeg[i] && !fixed[i] && v < 0 {
				fixed[i], again = true, true
			}
		}
		if !again {
			return w
		}
	}
}

// fitLogistic fits with the coefficients marked fixed held at 0.
func fitLogistic(x [][]float64, y []bool, ridge float64, iters int, fixed []bool) []float64 {
	if len(x) == 0 {
		return nil
	}
	k := len(x[0])
	w := make([]float64, k)
	// Start the intercept at the log-odds of the base rate.
	pos := 0.0
	for _, v := range y {
		if v {
			pos++
		}
	}
	rate := (pos + 0.5) / (float64(len(y)) + 1)
	w[0] = math.Log(rate / (1 - rate))
	for it := 0; it < iters; it++ {
		g := make([]float64, k)
		h := make([][]float64, k)
		for i := range h {
			h[i] = make([]float64, k)
		}
		for n, row := range x {
			z := 0.0
			for i, v := range row {
				z += w[i] * v
			}
			p := sigmoid(z)
			t := 0.0
			if y[n] {
				t = 1
			}
			q := p * (1 - p)
			for i, vi := range row {
				g[i] += (p - t) * vi
				if vi == 0 {
					continue
				}
				for j, vj := range row {
					h[i][j] += q * vi * vj
				}
			}
		}
		for i := 1; i < k; i++ {
			g[i] += ridge * w[i]
			h[i][i] += ridge
		}
		for i := range k {
			h[i][i] += 1e-9
		}
		for i, f := range fixed {
			if f && i < k {
				g[i] = 0
				for j := range k {
					h[i][j], h[j][i] = 0, 0
				}
				h[i][i] = 1
			}
		}
		step := solve(h, g)
		if step == nil {
			break
		}
		// Damped: halve the step until the penalised loss falls (at most 30 halvings).
		cur := loss(x, y, w, ridge)
		f := 1.0
		next := make([]float64, k)
		for range 30 {
			for i := range w {
				next[i] = w[i] - f*step[i]
			}
			if loss(x, y, next, ridge) <= cur {
				break
			}
			f /= 2
		}
		maxStep := 0.0
		for i := range w {
			maxStep = math.Max(maxStep, math.Abs(next[i]-w[i]))
		}
		copy(w, next)
		if maxStep < 1e-6 {
			break
		}
	}
	return w
}

// loss is the penalised negative log-likelihood.
func loss(x [][]float64, y []bool, w []float64, ridge float64) float64 {
	l := 0.0
	for n, row := range x {
		z := 0.0
		for i, v := range row {
			z += w[i] * v
		}
		// log(1+e^z) - t·z, computed stably
		sp := math.Max(z, 0) + math.Log1p(math.Exp(-math.Abs(z)))
		if y[n] {
			l += sp - z
		} else {
			l += sp
		}
	}
	for i := 1; i < len(w); i++ {
		l += ridge * w[i] * w[i] / 2
	}
	return l
}

// solve solves a·s = b by Gaussian elimination with partial pivoting (nil when singular).
func solve(a [][]float64, b []float64) []float64 {
	n := len(b)
	m := make([][]float64, n)
	for i := range m {
		m[i] = append(append([]float64(nil), a[i]...), b[i])
	}
	for c := 0; c < n; c++ {
		p := c
		for r := c + 1; r < n; r++ {
			if math.Abs(m[r][c]) > math.Abs(m[p][c]) {
				p = r
			}
		}
		if math.Abs(m[p][c]) < 1e-12 {
			return nil
		}
		m[c], m[p] = m[p], m[c]
		for r := c + 1; r < n; r++ {
			f := m[r][c] / m[c][c]
			for k := c; k <= n; k++ {
				m[r][k] -= f * m[c][k]
			}
		}
	}
	s := make([]float64, n)
	for i := n - 1; i >= 0; i-- {
		v := m[i][n]
		for k := i + 1; k < n; k++ {
			v -= m[i][k] * s[k]
		}
		s[i] = v / m[i][i]
	}
	return s
}

// riskNonNeg marks the RISK score's features that may only raise it: more silence, a
// stay or a critical admission then silence, a visit that found no one, traces from
// elsewhere. A fit that would give one of them a negative weight (the living who travel
// are silent longer than the newly dead) leaves it out instead, so that every reason a
// RISK row names counts against the person.
var riskNonNeg = [NumFeatures]bool{FMissed: true, FCritical: true, FNotFound: true, FExpectedRest: true, FStay: true, FRegular: true, FElsewhere: true, FMoved: true}

// EarlyDays: the RISK score is fitted to tell the living from the dead within this many
// days of the death, the window in which a hidden death should be found; traces of
// people dead longer are left out of its fit (the trace score keeps them).
const EarlyDays = 90

// TrainingSet is what training learns from: sampled trace observations with whether the
// person was dead on the trace's date, and health snapshots with whether the person died
// within a year.
type TrainingSet struct {
	Obs  []Observation
	Dead []bool
	// Spoof, SpoofDead, SpoofEarly: every spoofable trace, whether the person was dead
	// on its date, and dead at most EarlyDays before it; the RISK score is fitted on
	// them (on the spoofable sampled ones when Spoof is empty).
	Spoof      []Observation
	SpoofDead  []bool
	SpoofEarly []bool
	Health     [][NumHealth]float64
	Died       []bool
}

// TrainReport says what training found, for the command's output.
type TrainReport struct {
	Observations, Positives int
	HealthPeople, Deaths    int
	LivingFlagShare         float64 // in the training set, at the chosen threshold, per year
	Recall                  float64 // of dead people with spoofable traces after death, flagged
}

// LivingFlagTarget is the share of living people a year that training lets the RISK
// threshold flag among its sampled traces (the platform's bound is 1 %; every trace, not
// one a fortnight, and new cities flag about two and a half times as many).
const LivingFlagTarget = 0.0025

// Train fits the trace score and the health index on ts, starting from base (whose
// thresholds it keeps but RiskThreshold, chosen so that at most LivingFlagTarget of the
// living people observed are flagged a year).
func Train(ts *TrainingSet, base *Params, years float64) (*Params, TrainReport) {
	p := *base
	var rep TrainReport
	x := make([][]float64, len(ts.Obs))
	for i := range ts.Obs {
		x[i] = ts.Obs[i].X[:]
		if ts.Dead[i] {
			rep.Positives++
		}
	}
	rep.Observations = len(x)
	p.TracePrior = base.TrainingPrior()
	if w := FitLogistic(x, ts.Dead, 1, 25); w != nil && rep.Positives > 0 {
		copy(p.Trace[:], w)
		// The share of traces after a death the score is now calibrated to, on the
		// clock's traces: recalibration (EstimatePrior) starts from it.
		p.TracePrior = MeanPDead(ClockScores(&p, ts.Obs))
	}
	// The RISK score: the same features, fitted on the spoofable traces alone, which are
	// the ones it flags.
	var sx [][]float64
	var sy []bool
	pos := 0
	add := func(o *Observation, dead, early bool) {
		if o.Spoofable && (!dead || early) {
			sx, sy = append(sx, o.X[:]), append(sy, dead)
			if dead {
				pos++
			}
		}
	}
	if len(ts.Spoof) > 0 {
		for i := range ts.Spoof {
			add(&ts.Spoof[i], ts.SpoofDead[i], ts.SpoofEarly[i])
		}
	} else {
		for i := range ts.Obs {
			add(&ts.Obs[i], ts.Dead[i], ts.Dead[i])
		}
	}
	if w := FitLogisticNonNeg(sx, sy, 1, 25, riskNonNeg[:]); w != nil && pos > 0 {
		copy(p.Risk[:], w)
	}
	hx := make([][]float64, len(ts.Health))
	for i := range ts.Health {
		hx[i] = ts.Health[i][:]
		if ts.Died[i] {
			rep.Deaths++
		}
	}
	rep.HealthPeople = len(hx)
	if w := FitLogistic(hx, ts.Died, 1, 25); w != nil && rep.Deaths > 0 {
		copy(p.Health[:], w)
	}
	// The RISK threshold: the highest score each living person reached at a spoofable
	// trace; the threshold lets LivingFlagTarget a year through.
	maxLiving := map[string]float64{}
	maxDead := map[string]float64{}
	for i := range ts.Obs {
		o := &ts.Obs[i]
		if !o.Spoofable {
			continue
		}
		s := p.PRisk(&o.X)
		if ts.Dead[i] {
			maxDead[o.Person] = math.Max(maxDead[o.Person], s)
		} else {
			maxLiving[o.Person] = math.Max(maxLiving[o.Person], s)
		}
	}
	living := make([]float64, 0, len(maxLiving))
	for _, v := range maxLiving {
		living = append(living, v)
	}
	sort.Float64s(living)
	people := float64(len(ts.Health))
	if people == 0 {
		people = float64(len(living))
	}
	allowed := int(LivingFlagTarget * years * people)
	th := p.RiskThreshold
	if len(living) > allowed && allowed >= 0 {
		th = living[len(living)-1-allowed]
		th = math.Min(0.99, math.Max(0.01, math.Nextafter(th, 1)))
	}
	p.RiskThreshold = th
	flagged := 0
	for _, v := range living {
		if v >= th {
			flagged++
		}
	}
	if people > 0 && years > 0 {
		rep.LivingFlagShare = float64(flagged) / people / years
	}
	caught := 0
	for _, v := range maxDead {
		if v >= th {
			caught++
		}
	}
	if len(maxDead) > 0 {
		rep.Recall = float64(caught) / float64(len(maxDead))
	}
	return &p, rep
}

// LivingFlagShare is the share of living recipients a year that ChooseThreshold lets the
// RISK threshold flag on the training city, on every trace (the platform's bound is 1 %;
// new cities flag up to about one and a half times as many).
const LivingFlagShare = 0.005

// ChooseThreshold returns the lowest RISK threshold (at least RecordFloor) at which, in
// every calendar year, at most share of the people living at its start are flagged while
// alive: scored are the spoofable traces of a replay under the fitted parameters
// (Collector.Scored), alive tells whether the person was alive on a trace's event date,
// and living gives each year's living count.
func ChooseThreshold(scored []Observation, alive func(person string, event sc.Date) bool, living map[int]int, share float64) float64 {
	// Each person's highest score while alive, per year.
	type key struct {
		person string
		year   int
	}
	best := map[key]float64{}
	for _, o := range scored {
		if !alive(o.Person, o.Event) {
			continue
		}
		y, _, _ := o.Day.Civil()
		k := key{o.Person, y}
		best[k] = math.Max(best[k], o.Risk)
	}
	byYear := map[int][]float64{}
	for k, v := range best {
		byYear[k.year] = append(byYear[k.year], v)
	}
	th := RecordFloor
	for y, vs := range byYear {
		n, ok := living[y]
		if !ok {
			continue // a year of history before the run: no RISK rows are counted there
		}
		allowed := int(share * float64(n))
		if len(vs) <= allowed {
			continue
		}
		sort.Float64s(vs)
		th = math.Max(th, math.Nextafter(vs[len(vs)-1-allowed], 1))
	}
	return math.Min(th, 0.99)
}
