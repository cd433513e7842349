package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/silentcert/silentcert/divisions"
	"github.com/silentcert/silentcert/exchange"
	"github.com/silentcert/silentcert/internal/atomicfile"
)

func init() {
	register("geocode", "resolve registered addresses (户籍地址) to NBS 2023 village codes", runGeocode)
}

// geocodeBatch is how many rows are resolved together, in parallel, before they are
// written in input order.
const geocodeBatch = 8192

func runGeocode(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("geocode", "--in FILE --out FILE [--city CODE] [--divisions DIR]", stderr)
	in := fs.String("in", "", "input CSV (UTF-8) with a header naming the columns id and address")
	out := fs.String("out", "", "output CSV: id,address,code,level,confidence,candidates")
	city := fs.String("city", "", "4-digit prefecture or 6-digit county code: only divisions inside it are matched")
	dir := fs.String("divisions", "", "read the division tables from DIR (layout of divisions/data) instead of the embedded NBS 2023 tables")
	workers := fs.Int("workers", 0, "goroutines (default: the number of CPUs); the output does not depend on it")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *in == "" || *out == "" {
		return usagef("--in and --out are required")
	}
	if *city != "" && len(*city) != 4 && len(*city) != 6 {
		return usagef("--city %q: want a 4-digit prefecture or 6-digit county code", *city)
	}
	var tab *divisions.Table
	var err error
	if *dir != "" {
		tab, err = divisions.Load(*dir)
	} else {
		tab, err = divisions.Embedded()
	}
	if err != nil {
		return err
	}
	if *city != "" {
		if _, ok := tab.Lookup(*city); !ok {
			return usagef("--city %s is not in the division table", *city)
		}
	}
	r := divisions.NewResolver(tab, divisions.Options{City: *city})

	src, err := os.Open(*in)
	if err != nil {
		return err
	}
	defer src.Close()
	// Whole or not at all, and a new file readable by its owner alone: it holds every
	// ID number with its address, as a payroll file does.
	var tally divisions.Tally
	var bad int
	if err := atomicfile.WriteFile(*out, func(dst io.Writer) error {
		tally, bad, err = geocodeCSV(ctx, *in, src, dst, r, *workers, stderr)
		return err
	}); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "geocode: %d addresses: %d village, %d town or above only, %d ambiguous, %d unresolved",
		tally.Total(), tally.Village, tally.Partial, tally.Ambiguous, tally.Unresolved)
	if bad > 0 {
		fmt.Fprintf(stderr, "; %d bad rows skipped", bad)
	}
	fmt.Fprintln(stderr)
	return nil
}

// geocodeCSV reads id,address rows from src and writes them with their resolution to
// dst. A bad row is reported on stderr by line and field (never by content: addresses
// and ids are personal data) and skipped.
func geocodeCSV(ctx context.Context, name string, src io.Reader, dst io.Writer, r *divisions.Resolver, workers int, stderr io.Writer) (divisions.Tally, int, error) {
	var tally divisions.Tally
	cr := csv.NewReader(src)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = errors.New("empty file, want a header naming id and address")
		}
		return tally, 0, fmt.Errorf("%s line 1: %w", name, err)
	}
	idCol, addrCol := -1, -1
	for i, h := range header {
		switch strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))) {
		case "id":
			idCol = i
		case "address":
			addrCol = i
		}
	}
	if idCol < 0 || addrCol < 0 {
		return tally, 0, fmt.Errorf("%s line 1: header must name the columns id and address", name)
	}
	w := exchange.NewCSVWriter(dst)
	if err := w.Row("id", "address", "code", "level", "confidence", "candidates"); err != nil {
		return tally, 0, err
	}
	bad := 0
	ids := make([]string, 0, geocodeBatch)
	addrs := make([]string, 0, geocodeBatch)
	flush := func() error {
		for i, res := range r.ResolveAll(addrs, workers) {
			tally.Add(res)
			w.String(ids[i])
			w.String(addrs[i])
			w.String(res.Code)
			w.String(res.Level.String())
			if res.Level == divisions.LevelNone {
				w.String("")
			} else {
				w.String(strconv.FormatFloat(res.Confidence, 'f', 2, 64))
			}
			w.String(strings.Join(res.Candidates, ";"))
			if err := w.End(); err != nil {
				return err
			}
		}
		ids, addrs = ids[:0], addrs[:0]
		return ctx.Err()
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		switch {
		case err != nil:
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return tally, bad, fmt.Errorf("%s: %w", name, err)
			}
			bad++
			fmt.Fprintf(stderr, "geocode: %s line %d: %v\n", name, pe.Line, pe.Err)
			continue
		case len(rec) <= max(idCol, addrCol):
			bad++
			fmt.Fprintf(stderr, "geocode: %s line %d: %d fields, want at least %d\n", name, line, len(rec), max(idCol, addrCol)+1)
			continue
		case !utf8.ValidString(rec[idCol]) || !utf8.ValidString(rec[addrCol]):
			bad++
			col := "address"
			if !utf8.ValidString(rec[idCol]) {
				col = "id"
			}
			fmt.Fprintf(stderr, "geocode: %s line %d field %s: not UTF-8\n", name, line, col)
			continue
		case strings.TrimSpace(rec[idCol]) == "":
			bad++
			fmt.Fprintf(stderr, "geocode: %s line %d field id: empty\n", name, line)
			continue
		}
		ids = append(ids, strings.Clone(rec[idCol]))
		addrs = append(addrs, strings.Clone(rec[addrCol]))
		if len(addrs) == geocodeBatch {
			if err := flush(); err != nil {
				return tally, bad, err
			}
		}
	}
	if err := flush(); err != nil {
		return tally, bad, err
	}
	return tally, bad, w.Flush()
}
