package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/silentcert/silentcert/sim"
)

func init() {
	register("simulate", "write a simulated city's roster, department records and ground truth", runSimulate)
}

func runSimulate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("simulate", "--city CODE --recipients N --from DATE --to DATE --seed S --out DIR [--rates FILE] [--names-dir DIR]", stderr)
	city := fs.String("city", "3710", "4-digit prefecture code of the NBS 2023 table (3710 = Weihai)")
	n := fs.Int("recipients", 20000, "number of recipients")
	from := fs.String("from", "", "first simulated day, YYYY-MM-DD")
	to := fs.String("to", "", "last simulated day, YYYY-MM-DD")
	seed := fs.Uint64("seed", 1, "random seed: the same seed gives byte-identical output")
	out := fs.String("out", "", "output directory")
	ratesPath := fs.String("rates", "", "rates file (JSON over the defaults; see sim/RATES.md)")
	printRates := fs.Bool("print-rates", false, "print the rates in use (defaults, or --rates over them) and exit")
	namesDir := fs.String("names-dir", "", "read ChineseNames frequency files from DIR (CC BY-NC-SA: non-commercial use only) instead of the shipped names")
	history := fs.Int("history-months", 6, "months of everyday records before --from (applied by backtest as history)")
	workers := fs.Int("workers", 0, "goroutines (default: the number of CPUs); the output does not depend on it")
	overwrite := fs.Bool("overwrite", false, "replace a scenario already in --out")
	quiet := fs.Bool("quiet", false, "no progress line on stderr")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	rates := sim.DefaultRates()
	if *ratesPath != "" {
		data, err := os.ReadFile(*ratesPath)
		if err != nil {
			return err
		}
		if rates, err = sim.ParseRates(*ratesPath, data); err != nil {
			return err
		}
	}
	if *printRates {
		_, err := stdout.Write(rates.JSON())
		return err
	}
	if *from == "" || *to == "" || *out == "" {
		return usagef("--from, --to and --out are required")
	}
	f, t, err := parseWindow(*from, *to)
	if err != nil {
		return err
	}
	if *n < 1 {
		return usagef("--recipients must be at least 1")
	}
	opt := sim.Options{City: *city, Recipients: *n, From: f, To: t, Seed: *seed, Out: *out, Workers: *workers,
		HistoryMonths: *history, Overwrite: *overwrite, Rates: rates}
	if *namesDir != "" {
		if opt.Names, err = sim.LoadNames(*namesDir); err != nil {
			return err
		}
	}
	start := time.Now()
	pl := newProgress(stderr, *quiet)
	if pl != nil {
		opt.Progress = func(done, total int) {
			pl.show(done == total, "simulate: %d/%d blocks of people", done, total)
		}
	}
	scn, err := sim.Simulate(ctx, opt)
	pl.done()
	if err != nil {
		return err
	}
	el := time.Since(start).Seconds()
	rows := scn.Counts["record_rows"]
	fmt.Fprintf(stdout, "simulate: %s %s, %d recipients, %s to %s: %d record rows, %d deaths in %.1fs (%.0f records/s); scenario in %s\n",
		scn.City, scn.CityName, scn.Recipients, scn.From, scn.To, rows, scn.Counts["deaths"], el, float64(rows)/el, *out)
	return nil
}
