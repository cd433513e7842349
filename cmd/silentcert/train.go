package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/backtest"
	"github.com/silentcert/silentcert/models"
	"github.com/silentcert/silentcert/sim"
)

func init() {
	register("train", "learn the evidence models' parameters from a simulated history and write a model file", runTrain)
}

func runTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("train", "--scenario DIR --result DIR --out model.json [--base model.json] [--config FILE]", stderr)
	scenario := fs.String("scenario", "", "directory written by simulate (roster, records, truth.csv)")
	result := fs.String("result", "", "directory for the training replay: a backtest of the scenario under the base model")
	out := fs.String("out", "", "model file to write")
	base := fs.String("base", "builtin", "model to start from and replay under")
	configPath := fs.String("config", "", "configuration file (JSON; see README)")
	workers := fs.Int("workers", 0, "goroutines (default: the number of CPUs)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *scenario == "" || *result == "" || *out == "" {
		return usagef("--scenario, --result and --out are required")
	}
	scn, err := sim.ReadScenario(*scenario)
	if err != nil {
		return err
	}
	from, err := parseWindowDates(scn.From, scn.To)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(*configPath)
	if err != nil {
		return err
	}
	m, err := loadModel(*base, cfg)
	if err != nil {
		return err
	}
	col := models.NewCollector(m.P, from[0])
	col.Spoofable = true
	m.Rec = col
	opt := backtest.Options{Roster: filepath.Join(*scenario, "roster.csv"), Records: []string{filepath.Join(*scenario, "records")},
		From: from[0], To: from[1], Out: *result, Config: cfg, Workers: *workers, Model: m}
	if _, err := backtest.Run(ctx, opt); err != nil {
		return err
	}
	if err := writeModelOutputs(*result, col); err != nil {
		return err
	}
	truth, err := sim.ReadTruth(*scenario)
	if err != nil {
		return err
	}
	ts := &models.TrainingSet{}
	for _, o := range col.Observations() {
		t := truth[o.Person]
		ts.Obs = append(ts.Obs, o)
		ts.Dead = append(ts.Dead, t.Death != sc.NoDate && o.Event >= t.Death)
	}
	for _, o := range col.SpoofableObservations() {
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
	p.Trained = fmt.Sprintf("simulated %s %s, seed %d, %s to %s", scn.City, scn.CityName, scn.Seed, scn.From, scn.To)
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
	living := map[int]int{}
	for y := from[0]; y <= from[1]; y = y.AddMonths(12) {
		yy, _, _ := y.Civil()
		start := sc.MakeDate(yy, 1, 1)
		for _, t := range truth {
			if t.Death == sc.NoDate || t.Death >= start {
				living[yy]++
			}
		}
	}
	alive := func(person string, event sc.Date) bool {
		t := truth[person]
		return t.Death == sc.NoDate || event < t.Death
	}
	scored := col2.Scored()
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
		if !t.Fraud || t.Death == sc.NoDate || (t.FirstReport != sc.NoDate && t.FirstReport <= t.Death+90) {
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
