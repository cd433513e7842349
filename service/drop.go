package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// DropFolder watches DIR/SOURCE/ folders: each file a department drops there is ingested
// as a batch of that source, then moved to DIR/SOURCE/done/ (or failed/ when the batch was
// refused) with its report beside it as FILE.report.json. The batch is keyed by the source,
// the file's name and the SHA-256 of its bytes: a file whose batch was committed before a
// crash stopped its move is found by its key on the next scan and only moved, its report
// naming the batch that took it. The same file dropped again later is moved the same way.
type DropFolder struct {
	Dir     string
	Service *Service
}

// Scan ingests every file waiting, oldest name first, and returns how many it took. A file
// that cannot be taken (unreadable, or the database failed its batch) stays where it is for
// the next scan, and so do the files after it in its source's folder (a department's
// batches go in in their order); the other sources' are taken meanwhile. The error names
// each file that stopped its source.
func (d *DropFolder) Scan(ctx context.Context) (int, error) {
	srcs, err := os.ReadDir(d.Dir)
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, s := range srcs {
		if !s.IsDir() || strings.HasPrefix(s.Name(), ".") {
			continue
		}
		src := s.Name()
		dir := filepath.Join(d.Dir, src)
		files, err := os.ReadDir(dir)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		sort.Slice(files, func(i, j int) bool { return files[i].Name() < files[j].Name() })
		for _, f := range files {
			name := f.Name()
			if f.IsDir() || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".part") || strings.HasSuffix(name, ".tmp") {
				continue // a file still being written is named .part or .tmp until it is complete
			}
			if err := ctx.Err(); err != nil {
				return n, err
			}
			if err := d.one(ctx, src, filepath.Join(dir, name)); err != nil {
				if ctx.Err() != nil {
					return n, err
				}
				errs = append(errs, fmt.Errorf("drop folder %s (this source's later files wait for it): %w", filepath.Join(src, name), err))
				break
			}
			n++
		}
	}
	return n, errors.Join(errs...)
}

func (d *DropFolder) one(ctx context.Context, src, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return err
	}
	key := "drop:" + src + "/" + filepath.Base(path) + ":" + hex.EncodeToString(h.Sum(nil))
	rep := map[string]any{}
	to := "done"
	prev, err := d.Service.DB().BatchByKey(ctx, key)
	if err != nil {
		return err
	}
	if prev != nil {
		// Taken already (a crash before its move, or the same file dropped again).
		rep["batch_id"], rep["already_taken"] = prev.ID, true
		if prev.Status == "rejected" {
			to = "failed"
		}
	} else {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		res, err := d.Service.Ingest(ctx, Batch{Origin: "drop", Source: src, Actor: "drop:" + src, Key: key,
			Files: []File{{Name: filepath.Join(src, filepath.Base(path)), Body: f}}})
		if err != nil {
			return err // not stored: left in place for the next scan
		}
		if res.Rejected != "" {
			to = "failed"
		}
		rep = map[string]any{"batch_id": res.BatchID, "report": res.Report.Map(), "rejected": res.Rejected, "quarantined_rows": len(res.Problems)}
	}
	f.Close()
	dest := filepath.Join(filepath.Dir(path), to)
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return err
	}
	data, _ := json.MarshalIndent(rep, "", "  ")
	report := filepath.Join(dest, filepath.Base(path)+".report.json")
	if prev == nil || !reportOf(report, prev.ID) {
		// A file taken before keeps the report its batch wrote (a crash came after it, or
		// the same file was dropped again): the short one is written only in its absence
		// (or over another batch's, of another file of the same name).
		if err := os.WriteFile(report, append(data, '\n'), 0o644); err != nil {
			return err
		}
	}
	return os.Rename(path, filepath.Join(dest, filepath.Base(path)))
}

// reportOf reports whether the report file at path is batch id's.
func reportOf(path string, id int64) bool {
	b, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	var rep struct {
		BatchID int64 `json:"batch_id"`
	}
	return json.Unmarshal(b, &rep) == nil && rep.BatchID == id
}
