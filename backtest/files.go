package backtest

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/silentcert/silentcert/exchange"
)

// ListFiles expands --records paths into record files: a file stands for itself; a
// directory is read recursively in byte order of the relative paths, and files with other
// extensions are skipped with a warning (spec §3). Paths keep the order given.
func ListFiles(paths []string) (files []string, warnings []string, err error) {
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, nil, fmt.Errorf("records: %w", err)
		}
		if !info.IsDir() {
			if _, _, ok := exchange.FormatOf(p); !ok {
				return nil, nil, fmt.Errorf("records: %s: not a .csv or .jsonl file (optionally .gz)", p)
			}
			files = append(files, p)
			continue
		}
		var rel []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				return nil
			}
			r, err := filepath.Rel(p, path)
			if err != nil {
				return err
			}
			rel = append(rel, filepath.ToSlash(r))
			return nil
		})
		if err != nil {
			return nil, nil, fmt.Errorf("records: %w", err)
		}
		sort.Strings(rel) // byte order of the relative paths
		for _, r := range rel {
			full := filepath.Join(p, filepath.FromSlash(r))
			if _, _, ok := exchange.FormatOf(full); !ok {
				warnings = append(warnings, fmt.Sprintf("%s: skipped: not a .csv or .jsonl file (optionally .gz)", full))
				continue
			}
			files = append(files, full)
		}
	}
	return files, warnings, nil
}
