package main

import (
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/backtest"
	"github.com/silentcert/silentcert/models"
	"github.com/silentcert/silentcert/sim"
)

func init() {
	register("train", "learn the evidence models' parameters from a history (simulated, or an agency's own) and write a model file", runTrain)
}

func runTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("train", "(--scenario DIR | --roster FILE --records PATH [--records PATH ...] --from DATE --to DATE [--labels-to DATE]) --result DIR --out model.json [--base model.json] [--config FILE]", stderr)
	scenario := fs.String("scenario", "", "directory written by simulate (roster, records, truth.csv): outcomes from its truth")
	roster := fs.String("roster", "", "an agency's history: roster file (spec §2); outcomes are the deaths its own records confirm")
	var records multiFlag
	fs.Var(&records, "records", "an agency's history: record file or directory (repeatable)")
	fromFlag := fs.String("from", "", "an agency's history: first day of the training window")
	toFlag := fs.String("to", "", "an agency's history: last day of the training window")
	labelsTo := fs.String("labels-to", "", "an agency's history: replay on to this day (default --to), so that deaths reported after --to label the traces before it")
	result := fs.String("result", "", "directory for the training replay: a backtest of the history under the base model")
	out := fs.String("out", "", "model file to write")
	base := fs.String("base", "builtin", "model to start from and replay under")
	configPath := fs.String("config", "", "configuration file (JSON; see README)")
	city := fs.String("city", "", "prefecture (4-digit) or county (6-digit) code narrowing address resolution of roster rows without region_code, as backtest's --city")
	workers := fs.Int("workers", 0, "goroutines (default: the number of CPUs)")
	recalibrate := fs.Bool("recalibrate", false, "fit nothing: move the base model's trace score to the share of traces after a death in this history, estimated from the scores alone (no outcome needed), and write it")
	sample := fs.Float64("sample", 1, "share of the people whose traces are fitted (0 to 1, chosen by a hash of the ID number): training keeps every fitted trace in memory, about 2 GB for 20,000 people")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *result == "" || *out == "" {
		return usagef("--result and --out are required")
	}
	if !(*sample > 0 && *sample <= 1) {
		return usagef("--sample %g: above 0, at most 1", *sample)
	}
	history := *scenario == ""
	var src trainSource
	switch {
	case !history && (*roster != "" || len(records) > 0 || *fromFlag != "" || *toFlag != "" || *labelsTo != ""):
		return usagef("--scenario, or --roster, --records, --from and --to: not both")
	case !history:
		scn, err := sim.ReadScenario(*scenario)
		if err != nil {
			return err
		}
		if src.win, err = parseWindowDates(scn.From, scn.To); err != nil {
			return err
		}
		src.roster, src.records, src.replayTo = filepath.Join(*scenario, "roster.csv"), []string{filepath.Join(*scenario, "records")}, src.win[1]
		src.trained = fmt.Sprintf("simulated %s %s, seed %d, %s to %s", scn.City, scn.CityName, scn.Seed, scn.From, scn.To)
	case *roster == "" || len(records) == 0 || *fromFlag == "" || *toFlag == "":
		return usagef("--scenario, or --roster, --records, --from and --to, are required")
	default:
		var err error
		if src.win, err = parseWindowDates(*fromFlag, *toFlag); err != nil {
			return err
		}
		src.replayTo = src.win[1]
		if *labelsTo != "" {
			if src.replayTo, err = sc.ParseDate(*labelsTo); err != nil || src.replayTo < src.win[1] {
				return usagef("--labels-to %q: a date on or after --to", *labelsTo)
			}
		}
		src.roster, src.records = *roster, records
		src.trained = fmt.Sprintf("history %s, %s to %s, deaths confirmed through %s", filepath.Base(*roster), src.win[0], src.win[1], src.replayTo)
	}
	cfg, err := loadConfig(*configPath)
	if err != nil {
		return err
	}
	m, err := loadModel(*base, cfg)
	if err != nil {
		return err
	}
	from := src.win
	col := models.NewCollector(m.P, from[0])
	col.Spoofable = true
	if *sample < 1 {
		col.Keep = sampled(*sample)
	}
	m.Rec = col
	opt := backtest.Options{Roster: src.roster, Records: src.records,
		From: from[0], To: src.replayTo, Out: *result, Config: cfg, Workers: *workers, Model: m,
		// Roster rows without region_code are placed as backtest places them: the models
		// read the roster's region (traces from elsewhere), and the replay must be backtest's.
		ResolveRegion: regionResolver(*city)}
	if _, err := backtest.Run(ctx, opt); err != nil {
		return err
	}
	if err := writeModelOutputs(*result, col); err != nil {
		return err
	}
	// The traces of the training window: a replay on past --to only labels them.
	inWindow := func(obs []models.Observation) []models.Observation {
		return slices.DeleteFunc(obs, func(o models.Observation) bool { return o.Day > from[1] })
	}
	obs, spoof := inWindow(col.Observations()), inWindow(col.SpoofableObservations())
	if *recalibrate {
		return writeRecalibrated(m.P, obs, src.trained, *out, stdout)
	}
	var truth map[string]sim.Truth
	if history {
		truth, err = historyTruth(*result, spoof)
	} else {
		truth, err = sim.ReadTruth(*scenario)
	}
	if err != nil {
		return err
	}
	ts := &models.TrainingSet{}
	for _, o := range obs {
		t := truth[o.Person]
		ts.Obs = append(ts.Obs, o)
		ts.Dead = append(ts.Dead, t.Death != sc.NoDate && o.Event >= t.Death)
	}
	for _, o := range spoof {
		t := truth[o.Person]
		dead := t.Death != sc.NoDate && o.Event >= t.Death
		ts.Spoof = append(ts.Spoof, o)
		ts.SpoofDead = append(ts.SpoofDead, dead)
		ts.SpoofEarly = append(ts.SpoofEarly, dead && int(o.Event-t.Death) <= models.EarlyDays)
	}
	yearEnd := from[0].AddMonths(12)
	for _, p := range col.People(nil) {
		t, ok := truth[p.Person]
		if !ok || !p.HasHealth || (t.Death != sc.NoDate && t.Death < from[0]) {
			continue
		}
		ts.Health = append(ts.Health, p.HealthX)
		ts.Died = append(ts.Died, t.Death != sc.NoDate && t.Death < yearEnd)
	}
	years := float64(from[1]-from[0]+1) / 365.25
	p, rep := models.Train(ts, m.P, years)
	p.Trained = src.trained
	if err := p.Validate(); err != nil {
		return err
	}
	// The RISK threshold on every trace, not the sampled ones: replay again under the
	// fitted parameters (the features do not depend on them) and let LivingFlagShare of
	// the living a year through.
	m2 := models.New(p, cfg.Catalogue, cfg.Policy.HealthPeriod)
	col2 := models.NewCollector(p, from[0])
	m2.Rec = col2
	opt.Model = m2
	if _, err := backtest.Run(ctx, opt); err != nil {
		return err
	}
	// Each calendar year's living, in proportion to the part of the year in the window:
	// a window ending in June lets half a year's share be flagged in its last year.
	living := map[int]int{}
	fy, _, _ := from[0].Civil()
	ty, _, _ := from[1].Civil()
	for yy := fy; yy <= ty; yy++ {
		start, end := sc.MakeDate(yy, 1, 1), sc.MakeDate(yy+1, 1, 1)
		part := float64(min(end, from[1]+1)-max(start, from[0])) / float64(end-start)
		n := 0
		for _, t := range truth {
			if t.Death == sc.NoDate || t.Death >= start {
				n++
			}
		}
		living[yy] = int(math.Round(float64(n) * part))
	}
	alive := func(person string, event sc.Date) bool {
		t := truth[person]
		return t.Death == sc.NoDate || event < t.Death
	}
	scored := inWindow(col2.Scored())
	p.RiskThreshold = models.ChooseThreshold(scored, alive, living, models.LivingFlagShare)
	rep.LivingFlagShare, rep.Recall = flagShares(scored, alive, living, truth, p.RiskThreshold)
	col2.P = p
	if err := writeModelOutputs(*result, col2); err != nil {
		return err
	}
	if err := p.Validate(); err != nil {
		return err
	}
	if err := os.WriteFile(*out, p.Marshal(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "train: %d trace observations (%d after a death), %d health snapshots (%d deaths within a year); risk threshold %.4f flags %.4f of the living a year (the most in a calendar year, every trace) and %.4f of the hidden deaths with card use within 90 days; model in %s\n",
		rep.Observations, rep.Positives, rep.HealthPeople, rep.Deaths, p.RiskThreshold, rep.LivingFlagShare, rep.Recall, *out)
	return nil
}

// writeRecalibrated writes base with its trace score moved to the share of traces after a
// death that its own scores of obs (sampled traces of the history, under base) imply.
func writeRecalibrated(base *models.Params, obs []models.Observation, trained, out string, stdout io.Writer) error {
	from := base.TrainingPrior()
	pdead := models.ClockScores(base, obs)
	to, err := models.EstimatePrior(pdead, from)
	if err != nil {
		return err
	}
	mean := models.MeanPDead(pdead)
	p := *base
	p.ShiftPrior(from, to)
	p.Trained = fmt.Sprintf("%s; recalibrated to %s (traces after a death %.6f, then %.6f)", base.Trained, trained, from, to)
	if err := p.Validate(); err != nil {
		return err
	}
	if err := os.WriteFile(out, p.Marshal(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "train: recalibrated on %d traces sampled by the fortnight clock (mean P(dead) %.7f): the share after a death %.6f (trained) is %.6f here (%.2f×); trace intercept %.4f → %.4f; model in %s\n",
		len(pdead), mean, from, to, to/from, base.Trace[models.FBias], p.Trace[models.FBias], out)
	return nil
}

// sampled returns whether a person is in a sample of share of the people: by a hash of
// the ID number, so that the same people are chosen on every run.
func sampled(share float64) func(person string) bool {
	limit := uint64(share * (1 << 32))
	return func(person string) bool {
		h := fnv.New64a()
		h.Write([]byte(person))
		// FNV alone leaves ID numbers that differ in a digit or two close together:
		// splitmix64's finaliser spreads them.
		x := h.Sum64()
		x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
		x = (x ^ x>>27) * 0x94d049bb133111eb
		x ^= x >> 31
		return x>>32 < limit
	}
}

// trainSource is what train replays: a simulated scenario's files, or an agency's own.
type trainSource struct {
	roster   string
	records  []string
	win      [2]sc.Date // the training window
	replayTo sc.Date    // the replay's last day (labels only after win[1])
	trained  string     // the model file's "trained"
}

// historyTruth returns the outcomes an agency's own history gives (sim.ReadOutcomes: the
// deaths its records confirmed, however late), a death marked as a fraud case (冒领) when
// a spoofable trace of the person dated on or after it was applied: card use after the
// death, what the simulator's truth names. A death no record confirmed counts as alive:
// training on an agency's history learns from the hidden deaths its records later
// revealed, not from those they never did.
func historyTruth(result string, spoof []models.Observation) (map[string]sim.Truth, error) {
	truth, err := sim.ReadOutcomes(result)
	if err != nil {
		return nil, err
	}
	for _, o := range spoof {
		t, ok := truth[o.Person]
		if !ok || t.Death == sc.NoDate || o.Event < t.Death {
			continue
		}
		t.Fraud = true
		if t.CardUse == sc.NoDate || o.Day < t.CardUse {
			t.CardUse = o.Day
		}
		truth[o.Person] = t
	}
	return truth, nil
}

// parseWindowDates parses a scenario's from and to.
func parseWindowDates(from, to string) ([2]sc.Date, error) {
	f, t, err := parseWindow(from, to)
	return [2]sc.Date{f, t}, err
}

// flagShares returns, at threshold th, the largest share of the living flagged in a
// calendar year and the share of hidden deaths (fraud, not reported within 90 days)
// scored th or more within 90 days after the death.
func flagShares(scored []models.Observation, alive func(string, sc.Date) bool, living map[int]int, truth map[string]sim.Truth, th float64) (float64, float64) {
	flagged := map[int]map[string]bool{}
	caught := map[string]bool{}
	for _, o := range scored {
		if o.Risk < th {
			continue
		}
		if alive(o.Person, o.Event) {
			y, _, _ := o.Day.Civil()
			if flagged[y] == nil {
				flagged[y] = map[string]bool{}
			}
			flagged[y][o.Person] = true
			continue
		}
		if t := truth[o.Person]; o.Day <= t.Death+90 {
			caught[o.Person] = true
		}
	}
	share := 0.0
	for y, f := range flagged {
		if living[y] > 0 {
			share = max(share, float64(len(f))/float64(living[y]))
		}
	}
	hidden, n := 0, 0
	for id, t := range truth {
		if !t.HiddenDeath() {
			continue
		}
		hidden++
		if caught[id] {
			n++
		}
	}
	if hidden == 0 {
		return share, 0
	}
	return share, float64(n) / float64(hidden)
}
