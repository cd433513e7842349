package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"time"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/backtest"
	"github.com/silentcert/silentcert/models"
)

func init() {
	register("backtest", "replay history through the rules (spec §7) and write decisions, statuses, payroll", runBacktest)
}

func runBacktest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("backtest", "--roster FILE --records PATH [--records PATH ...] --from DATE --to DATE --out DIR [--config FILE]", stderr)
	var records multiFlag
	roster := fs.String("roster", "", "roster file (spec §2)")
	fs.Var(&records, "records", "record file or directory (repeatable)")
	from := fs.String("from", "", "first day of the replay, YYYY-MM-DD")
	to := fs.String("to", "", "last day of the replay, YYYY-MM-DD")
	out := fs.String("out", "", "output directory")
	configPath := fs.String("config", "", "configuration file (JSON; see README)")
	encoding := fs.String("encoding", "", "force the encoding of the roster and record files: utf-8, gbk or gb18030 (gbk is read as GB18030; a file that is evidently UTF-8 stays UTF-8, with a warning; default: detect)")
	workers := fs.Int("workers", 0, "goroutines (default: the number of CPUs)")
	quiet := fs.Bool("quiet", false, "no progress line on stderr")
	city := fs.String("city", "", "prefecture (4-digit) or county (6-digit) code narrowing address resolution of roster rows without region_code")
	modelPath := fs.String("model", "", "evidence model file from silentcert train, or \"builtin\" for the built-in defaults (default: the baseline weak rule, no RISK rows)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *roster == "" || len(records) == 0 || *from == "" || *to == "" || *out == "" {
		return usagef("--roster, --records, --from, --to and --out are required")
	}
	f, t, err := parseWindow(*from, *to)
	if err != nil {
		return err
	}
	switch *encoding {
	case "", "auto", "utf-8", "gbk", "gb18030":
	default:
		return usagef("--encoding must be utf-8, gbk or gb18030")
	}
	cfg, err := loadConfig(*configPath)
	if err != nil {
		return err
	}
	opt := backtest.Options{
		Roster: *roster, Records: records, From: f, To: t, Out: *out, Config: cfg,
		Encoding: *encoding, Workers: *workers,
	}
	opt.ResolveRegion = regionResolver(*city)
	var col *models.Collector
	if *modelPath != "" {
		m, err := loadModel(*modelPath, cfg)
		if err != nil {
			return err
		}
		col = models.NewCollector(m.P, f)
		m.Rec = col
		opt.Model = m
	}
	if os.Getenv("GOGC") == "" {
		// Most of a backtest's heap is large pointer-free arrays that live to the end;
		// collecting at half the live heap, not all of it, keeps the peak near the data
		// for little work.
		debug.SetGCPercent(40)
	}
	start := time.Now()
	pl := newProgress(stderr, *quiet)
	if pl != nil {
		opt.Progress = progressPrinter(pl, start)
	}
	rep, err := backtest.Run(ctx, opt)
	pl.done()
	if err != nil {
		return err
	}
	if col != nil {
		if err := writeModelOutputs(*out, col); err != nil {
			return err
		}
	}
	el := time.Since(start)
	fmt.Fprintf(stdout, "backtest: %d recipients, %d records read (%d applied, %d duplicate, %d quarantined, %d unlinked, %d held) in %.1fs (%.0f records/s); outputs in %s\n",
		rep.Recipients, rep.Read, rep.Applied, rep.Duplicate, rep.Quarantined, rep.Unlinked, rep.Held,
		el.Seconds(), float64(rep.Read)/el.Seconds(), *out)
	return nil
}

// loadConfig reads the configuration file, or returns the built-in defaults for "".
func loadConfig(path string) (*sc.Config, error) {
	if path == "" {
		return sc.DefaultConfig(), nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return sc.ParseConfig(path, data)
}

// progressPrinter shows records read, records/s and the day being replayed.
func progressPrinter(pl *progressLine, start time.Time) func(backtest.Progress) {
	return func(p backtest.Progress) {
		rate := float64(p.Records) / time.Since(start).Seconds()
		day := ""
		if p.Day != sc.NoDate && p.Day != 0 {
			day = " day " + p.Day.String()
		}
		pl.show(false, "%s: %d records read, %.0f records/s%s", p.Phase, p.Records, rate, day)
	}
}
