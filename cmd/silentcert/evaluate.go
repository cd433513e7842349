package main

import (
	"context"
	"errors"
	"io"

	"github.com/silentcert/silentcert/sim"
)

func init() {
	register("evaluate", "score a backtest's output against a simulated scenario's ground truth", runEvaluate)
}

func runEvaluate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("evaluate", "--scenario DIR --result OUTDIR", stderr)
	scenario := fs.String("scenario", "", "directory written by simulate")
	result := fs.String("result", "", "directory written by backtest; evaluation.json and evaluation.html go there")
	check := fs.Bool("check", false, "exit with status 1 when a check fails (for CI)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *scenario == "" || *result == "" {
		return usagef("--scenario and --result are required")
	}
	ev, err := sim.Evaluate(*scenario, *result)
	if err != nil {
		return err
	}
	if err := ev.WriteFiles(*result); err != nil {
		return err
	}
	if _, err := io.WriteString(stdout, ev.Table()); err != nil {
		return err
	}
	if *check && !ev.Passed() {
		return errors.New("a check failed")
	}
	return nil
}
