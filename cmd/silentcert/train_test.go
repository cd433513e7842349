package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/silentcert/silentcert/models"
)

// train learns from an agency's own history, without a simulator's truth: the deaths its
// records confirm (here reported up to three months after the window) label the traces,
// and the model file says what it was trained on. A scenario and a history together, or
// --labels-to before --to, are usage errors.
func TestTrainFromHistory(t *testing.T) {
	dir := t.TempDir()
	city := filepath.Join(dir, "city")
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"simulate", "--city", "3710", "--recipients", "3000", "--from", "2024-01-01", "--to", "2024-12-31",
		"--seed", "5", "--out", city, "--quiet"}, &stdout, &stderr); code != 0 {
		t.Fatalf("simulate: exit %d: %s", code, stderr.String())
	}
	out := filepath.Join(dir, "model.json")
	args := []string{"train", "--roster", filepath.Join(city, "roster.csv"), "--records", filepath.Join(city, "records"),
		"--from", "2024-01-01", "--to", "2024-09-30", "--labels-to", "2024-12-31", "--result", filepath.Join(dir, "replay"), "--out", out}
	p, b, said := modelFrom(t, args, out)
	if p.Trained != "history roster.csv, 2024-01-01 to 2024-09-30, deaths confirmed through 2024-12-31" {
		t.Errorf("trained %q", p.Trained)
	}
	if p.Trace == models.Default().Trace || p.Health == models.Default().Health {
		t.Error("the trace score or the health index kept the built-in weights: nothing was learnt")
	}
	if strings.Contains(said, "(0 after a death)") {
		t.Errorf("no trace labelled dead from the history's own death records: %s", said)
	}
	// The same inputs give the same model file, whatever the number of workers.
	again := filepath.Join(dir, "again.json")
	args[len(args)-3], args[len(args)-1] = filepath.Join(dir, "replay2"), again
	if _, b2, _ := modelFrom(t, append(args, "--workers", "1"), again); !bytes.Equal(b, b2) {
		t.Error("a second training on one worker wrote another model file")
	}
	for _, bad := range [][]string{
		{"train", "--scenario", city, "--roster", "r.csv", "--result", dir, "--out", out},
		{"train", "--roster", "r.csv", "--records", "d", "--from", "2024-01-01", "--to", "2024-09-30", "--labels-to", "2024-06-30", "--result", dir, "--out", out},
		{"train", "--roster", "r.csv", "--from", "2024-01-01", "--to", "2024-09-30", "--result", dir, "--out", out},
	} {
		stderr.Reset()
		if code := run(context.Background(), bad, &stdout, &stderr); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", bad, code, stderr.String())
		}
	}
}

// One database, one evidence model: a run under another is refused, naming the switch
// flag, and made with a reason.
func TestModelGuard(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "g.db")
	roster := filepath.Join("..", "..", "backtest", "testdata", "scenario", "roster.csv")
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"ingest", "--db", dsn, "--roster", roster, "--day", "2024-01-01", "--model", "builtin"}, &stdout, &stderr); code != 0 {
		t.Fatalf("ingest: exit %d: %s", code, stderr.String())
	}
	stderr.Reset()
	if code := run(context.Background(), []string{"run-day", "--db", dsn, "--day", "2024-01-02"}, &stdout, &stderr); code == 0 || !strings.Contains(stderr.String(), "--model-change") {
		t.Fatalf("run-day under the baseline rule on a model's database: exit %d: %s", code, stderr.String())
	}
	stderr.Reset()
	if code := run(context.Background(), []string{"run-day", "--db", dsn, "--day", "2024-01-02", "--model-change", "model withdrawn"}, &stdout, &stderr); code != 0 {
		t.Fatalf("run-day with a reason: exit %d: %s", code, stderr.String())
	}
}

// --sample keeps a share of the people, the same ones on every run.
func TestTrainSample(t *testing.T) {
	in := sampled(0.25)
	n := 0
	for i := range 10000 {
		id := fmt.Sprintf("3710021950%08d", i)
		if in(id) != sampled(0.25)(id) {
			t.Fatal("not the same people twice")
		}
		if in(id) {
			n++
		}
	}
	if n < 2300 || n > 2700 {
		t.Errorf("%d of 10,000 kept at 0.25", n)
	}
	var stdout, stderr bytes.Buffer
	for _, bad := range []string{"0", "1.5", "-1"} {
		if code := run(context.Background(), []string{"train", "--scenario", "x", "--result", "r", "--out", "o", "--sample", bad}, &stdout, &stderr); code != 2 {
			t.Errorf("--sample %s: exit %d, want 2", bad, code)
		}
	}
}

// model writes the built-in parameters as a file that loads as the same model, and names
// the identity a database records.
func TestModelCommand(t *testing.T) {
	out := filepath.Join(t.TempDir(), "m.json")
	p, _, said := modelFrom(t, []string{"model", "--out", out}, out)
	if id := models.Default().Identity(); p.Identity() != id || !strings.Contains(said, id) {
		t.Errorf("identity %s, built-in %s, said %q", p.Identity(), id, said)
	}
}

// modelFrom runs a command that writes a model file at out, and returns the file parsed,
// its bytes and what the command said (standard output and error).
func modelFrom(t *testing.T, args []string, out string) (*models.Params, []byte, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), args, &stdout, &stderr); code != 0 {
		t.Fatalf("%v: exit %d: %s", args, code, stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	p, err := models.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	return p, b, stdout.String() + stderr.String()
}

// train --recalibrate fits nothing: on a city where four times as many deaths go
// unreported as in training, it raises the built-in trace score's share of traces after
// a death (its intercept), from the scores alone, and leaves every other weight and the
// RISK score as they were; a model file that names no training share is refused.
func TestTrainRecalibrate(t *testing.T) {
	dir := t.TempDir()
	city := filepath.Join(dir, "city")
	rates := filepath.Join(dir, "fraud.json")
	if err := os.WriteFile(rates, []byte(`{"deaths": {"never_reported": {"urban": 0.03, "rural": 0.05}, "fraud": {"if_never_reported": 0.9, "if_late": 0.7}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"simulate", "--city", "3710", "--recipients", "3000", "--from", "2024-01-01", "--to", "2025-12-31",
		"--seed", "5", "--rates", rates, "--out", city, "--quiet"}, &stdout, &stderr); code != 0 {
		t.Fatalf("simulate: exit %d: %s", code, stderr.String())
	}
	out := filepath.Join(dir, "model.json")
	args := []string{"train", "--recalibrate", "--roster", filepath.Join(city, "roster.csv"), "--records", filepath.Join(city, "records"),
		"--from", "2024-01-01", "--to", "2025-12-31", "--result", filepath.Join(dir, "replay"), "--out", out}
	p, _, said := modelFrom(t, args, out)
	base := models.Default()
	// The share rises well above the trained one (1.39× here since train's replay places
	// roster rows by address as backtest does, session 13; 1.5× and more before).
	if p.TracePrior <= 1.25*base.TrainingPrior() || p.Trace[models.FBias] <= base.Trace[models.FBias] {
		t.Errorf("recalibrated on more hidden deaths: trace_prior %g (built-in %g), intercept %g (was %g)\n%s",
			p.TracePrior, base.TrainingPrior(), p.Trace[models.FBias], base.Trace[models.FBias], said)
	}
	moved := *p
	moved.Trace[models.FBias], moved.TracePrior, moved.Trained = base.Trace[models.FBias], 0, base.Trained
	if moved != *base {
		t.Errorf("recalibration changed more than the trace intercept:\n%s", p.Marshal())
	}
	if !strings.Contains(p.Trained, "built-in defaults; recalibrated to history roster.csv") {
		t.Errorf("trained %q", p.Trained)
	}
	// A model trained on this city, recalibrated on it: it stays as it was (which traces
	// the share is measured on does not depend on the model).
	trained := filepath.Join(dir, "trained.json")
	tp, _, _ := modelFrom(t, []string{"train", "--scenario", city, "--result", filepath.Join(dir, "train"), "--out", trained}, trained)
	again := filepath.Join(dir, "again.json")
	ap, _, said := modelFrom(t, []string{"train", "--recalibrate", "--scenario", city, "--base", trained, "--result", filepath.Join(dir, "again"), "--out", again}, again)
	if tp.TracePrior == 0 || math.Abs(ap.Trace[models.FBias]-tp.Trace[models.FBias]) > 0.02 {
		t.Errorf("recalibrated on the city it was trained on: intercept %g, was %g (trace_prior %g)\n%s", ap.Trace[models.FBias], tp.Trace[models.FBias], tp.TracePrior, said)
	}
	// A file trained before trace_prior was written: nothing to start from.
	old := *base
	old.Trace[1] += 0.01
	oldFile := filepath.Join(dir, "old.json")
	if err := os.WriteFile(oldFile, old.Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
	stderr.Reset()
	if code := run(context.Background(), append(args, "--base", oldFile), &stdout, &stderr); code == 0 || !strings.Contains(stderr.String(), "trace_prior") {
		t.Errorf("recalibrating a model without its training share: exit %d: %s", code, stderr.String())
	}
}

// TestTrainReplaysAsBacktest: train's replay of a scenario is backtest's under the same
// model: roster rows without region_code placed by address the same way (before, train
// left them unplaced, so its models saw other features than backtest's).
func TestTrainReplaysAsBacktest(t *testing.T) {
	dir := t.TempDir()
	city := filepath.Join(dir, "city")
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"simulate", "--city", "3710", "--recipients", "800", "--from", "2024-01-01", "--to", "2024-03-31",
		"--seed", "11", "--out", city, "--quiet"}, &stdout, &stderr); code != 0 {
		t.Fatalf("simulate: exit %d: %s", code, stderr.String())
	}
	run(context.Background(), []string{"train", "--recalibrate", "--scenario", city, "--result", filepath.Join(dir, "train"), "--out", filepath.Join(dir, "m.json")}, &stdout, &stderr)
	if code := run(context.Background(), []string{"backtest", "--roster", filepath.Join(city, "roster.csv"), "--records", filepath.Join(city, "records"),
		"--from", "2024-01-01", "--to", "2024-03-31", "--model", "builtin", "--out", filepath.Join(dir, "bt"), "--quiet"}, &stdout, &stderr); code != 0 {
		t.Fatalf("backtest: exit %d: %s", code, stderr.String())
	}
	for _, f := range []string{"decisions.csv", "regions.csv", "status.csv"} {
		a, err1 := os.ReadFile(filepath.Join(dir, "train", f))
		b, err2 := os.ReadFile(filepath.Join(dir, "bt", f))
		if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
			t.Errorf("%s: train's replay differs from backtest's (%v %v)", f, err1, err2)
		}
	}
}
