package main

import (
	"context"
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
	_, err = io.WriteString(stdout, ev.Table())
	return err
}
