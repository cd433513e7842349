// Command naiveread is the baseline of the backtest benchmark (issue 3): a plain read of
// the same files with encoding/csv and ReuseRecord, one file after another, each row's
// person looked up in a map of the roster. It decompresses .gz files but decodes nothing
// else and validates nothing. It prints rows, matches and seconds.
package main

import (
	"compress/gzip"
	"encoding/csv"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: naiveread ROSTER.csv RECORDS_DIR...")
		os.Exit(2)
	}
	start := time.Now()
	roster := map[string]int{}
	if err := readCSV(os.Args[1], func(header map[string]int, row []string) {
		roster[row[header["person_id"]]] = len(roster)
	}); err != nil {
		fail(err)
	}
	var rows, matched int64
	for _, dir := range os.Args[2:] {
		var files []string
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".csv") || strings.HasSuffix(p, ".csv.gz")) {
				files = append(files, p)
			}
			return err
		})
		sort.Strings(files)
		for _, f := range files {
			if err := readCSV(f, func(header map[string]int, row []string) {
				rows++
				if _, ok := roster[row[header["person_id"]]]; ok {
					matched++
				}
			}); err != nil {
				fail(err)
			}
		}
	}
	el := time.Since(start).Seconds()
	fmt.Printf("naiveread: %d rows, %d matched, %.2fs, %.0f rows/s\n", rows, matched, el, float64(rows)/el)
}

func readCSV(path string, row func(map[string]int, []string)) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			return err
		}
		r = gz
	}
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	h, err := cr.Read()
	if err != nil {
		return err
	}
	header := map[string]int{}
	for i, n := range h {
		header[strings.ToLower(strings.TrimPrefix(n, "\ufeff"))] = i
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			continue
		}
		if len(rec) > header["person_id"] {
			row(header, rec)
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "naiveread:", err)
	os.Exit(1)
}
