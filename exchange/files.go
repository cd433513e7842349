package exchange

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/silentcert/silentcert"
)

// ListRecordFiles returns the record files a --records PATH names (spec §3): the file
// itself, or every file under the directory, recursively, in byte order of their paths
// relative to it (with '/' separators, whatever the system's). Files of other extensions
// are skipped with a warning. Paths come back joined to path, so they name files the way
// the operator did.
func ListRecordFiles(path string) ([]string, []Warning, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, nil, silentcert.Errorf(silentcert.EInvalid, "%w", err)
	}
	if !st.IsDir() {
		return []string{path}, nil, nil
	}
	var rel []string
	var warnings []Warning
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		r, err := filepath.Rel(path, p)
		if err != nil {
			return err
		}
		rel = append(rel, filepath.ToSlash(r))
		return nil
	})
	if err != nil {
		return nil, nil, silentcert.Errorf(silentcert.EInvalid, "%s: %w", path, err)
	}
	slices.Sort(rel)
	var out []string
	for _, r := range rel {
		full := filepath.Join(path, filepath.FromSlash(r))
		if _, _, ok := FormatOf(r); !ok {
			warnings = append(warnings, Warning{File: full, Message: "not a .csv or .jsonl file (optionally .gz): skipped"})
			continue
		}
		out = append(out, full)
	}
	return out, warnings, nil
}
