package service

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
)

// DropFolder watches DIR/SOURCE/ folders: each file a department drops there is ingested
// as a batch of that source, then moved to DIR/SOURCE/done/ (or failed/ when the batch was
// refused) with its report beside it as FILE.report.json. The batch is keyed by the source,
// the file's name and the SHA-256 of its bytes: a file whose batch was committed before a
// crash stopped its move is found by its key on the next scan and only moved, its report
// naming the batch that took it. The same file dropped again later is moved the same way.
//
// A department writes into its own folder (an SFTP account), so nothing there is trusted:
// each source's folder is worked in through an os.Root, which refuses any name or symlink
// leading out of it; only regular files are taken (a symlink, device, FIFO or socket is
// skipped, the log warning of it once); done/ and failed/ must be real directories (the
// drop folder makes them; a symlink or file in their place stops that source's files, named
// in the error); and reports are written to a new file renamed into place, never through
// a symlink or over a directory.
type DropFolder struct {
	Dir     string
	Service *Service
}

// dropSkipped remembers, per source folder, the names skipped as not regular files that the
// log has warned of, so that it warns once per name, not every scan (serve makes a
// DropFolder for each scan). It holds only the names skipped at the last scan.
var dropSkipped = struct {
	sync.Mutex
	m map[string]map[string]bool
}{m: map[string]map[string]bool{}}

// errNotRegular: the name listed as a regular file was something else by the time it was
// opened; it is skipped (the next scan warns of it), not left to stop its source.
var errNotRegular = errors.New("not a regular file")

// Scan ingests every file waiting, oldest name first, and returns how many it took. A file
// that cannot be taken (unreadable, or the database failed its batch) stays where it is for
// the next scan, and so do the files after it in its source's folder (a department's
// batches go in in their order); the other sources' are taken meanwhile. The error names
// each file that stopped its source. Symlinks and other files that are not regular files
// are skipped (never taken, never stopping the others), and so are subdirectories.
func (d *DropFolder) Scan(ctx context.Context) (int, error) {
	srcs, err := os.ReadDir(d.Dir)
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, s := range srcs {
		if !s.IsDir() || strings.HasPrefix(s.Name(), ".") {
			continue // a symlink is not a source's folder: IsDir is false for it
		}
		took, err := d.source(ctx, s.Name())
		n += took
		if err != nil {
			if ctx.Err() != nil {
				return n, err
			}
			errs = append(errs, err)
		}
	}
	return n, errors.Join(errs...)
}

// source takes the files waiting in DIR/src/, in their order, until one cannot be taken.
func (d *DropFolder) source(ctx context.Context, src string) (int, error) {
	dir := filepath.Join(d.Dir, src)
	root, err := os.OpenRoot(dir)
	if err != nil {
		return 0, err
	}
	defer root.Close()
	names, err := d.regular(root, src, dir)
	if err != nil {
		return 0, err
	}
	n := 0
	for i, name := range names {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		if i == 0 {
			// done/ and failed/ must be real directories (or absent) before any file is
			// taken: a batch is not committed for a file that could not then be moved.
			for _, to := range []string{"done", "failed"} {
				if err := outDir(root, to, false); err != nil {
					return n, fmt.Errorf("drop folder %s (this source's files wait for it): %w", src, err)
				}
			}
		}
		err := d.one(ctx, root, src, name)
		if errors.Is(err, errNotRegular) {
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				return n, err
			}
			return n, fmt.Errorf("drop folder %s (this source's later files wait for it): %w", filepath.Join(src, name), err)
		}
		n++
	}
	return n, nil
}

// regular lists the regular files waiting in a source's folder, oldest name first. It
// skips hidden names and files still being written (named .part or .tmp until they are
// complete) and directories; anything else that is not a regular file (a symlink, device,
// FIFO or socket: a FIFO would block the scan) is skipped with a warning, once per name.
func (d *DropFolder) regular(root *os.Root, src, dir string) ([]string, error) {
	f, err := root.Open(".")
	if err != nil {
		return nil, err
	}
	files, err := f.ReadDir(-1)
	f.Close()
	if err != nil {
		return nil, err
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Name() < files[j].Name() })
	var names []string
	skipped := map[string]bool{}
	for _, e := range files {
		name := e.Name()
		if e.IsDir() || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".part") || strings.HasSuffix(name, ".tmp") {
			continue
		}
		fi, err := root.Lstat(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue // gone since it was listed
		}
		if err == nil && fi.IsDir() {
			continue
		}
		if err == nil && !fi.Mode().IsRegular() {
			skipped[name] = true
			continue
		}
		names = append(names, name) // an Lstat error: one stops its source, named
	}
	dropSkipped.Lock()
	warned := dropSkipped.m[dir]
	if len(skipped) == 0 {
		delete(dropSkipped.m, dir)
	} else {
		dropSkipped.m[dir] = skipped
	}
	dropSkipped.Unlock()
	for name := range skipped {
		if !warned[name] {
			d.Service.log.Warn("drop folder: not a regular file (a symlink, device, FIFO or socket), skipped: it is never taken",
				"file", filepath.Join(src, name))
		}
	}
	return names, nil
}

// outDir reports an error unless to (done or failed) in root is a real directory: not a
// symlink, not a file. When it is absent, create makes it (and otherwise it is not an
// error).
func outDir(root *os.Root, to string, create bool) error {
	fi, err := root.Lstat(to)
	if errors.Is(err, fs.ErrNotExist) {
		if !create {
			return nil
		}
		if err = root.Mkdir(to, 0o755); !errors.Is(err, fs.ErrExist) {
			return err
		}
		fi, err = root.Lstat(to) // made meanwhile: it must be a directory still
	}
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s/ is not a directory but %s: refused, it must be a real directory (remove it; the drop folder makes it)", to, kind(fi.Mode()))
	}
	return nil
}

// kind names what a file that is not a directory is, for an error.
func kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "a symlink"
	case m.IsRegular():
		return "a file"
	default:
		return "a special file (" + m.Type().String() + ")"
	}
}

func (d *DropFolder) one(ctx context.Context, root *os.Root, src, name string) error {
	f, err := openRegular(root, name)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return err
	}
	key := "drop:" + src + "/" + name + ":" + hex.EncodeToString(h.Sum(nil))
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
			Files: []File{{Name: filepath.Join(src, name), Body: f}}})
		if err != nil {
			return err // not stored: left in place for the next scan
		}
		if res.Rejected != "" {
			to = "failed"
		}
		rep = map[string]any{"batch_id": res.BatchID, "report": res.Report.Map(), "rejected": res.Rejected, "quarantined_rows": len(res.Problems)}
	}
	f.Close()
	if err := outDir(root, to, true); err != nil {
		return err
	}
	data, _ := json.MarshalIndent(rep, "", "  ")
	report := filepath.Join(to, name+".report.json")
	if prev == nil || !reportOf(root, report, prev.ID) {
		// A file taken before keeps the report its batch wrote (a crash came after it, or
		// the same file was dropped again): the short one is written only in its absence
		// (or over another batch's, of another file of the same name).
		if err := writeReport(root, report, append(data, '\n')); err != nil {
			return err
		}
	}
	// A rename onto a symlink planted in done/ replaces the link; nothing is written
	// through it.
	return root.Rename(name, filepath.Join(to, name))
}

// openRegular opens name in root for reading if it is a regular file. O_NONBLOCK keeps a
// FIFO put in its place since it was listed from blocking the open; what was opened is
// checked, not its name.
func openRegular(root *os.Root, name string) (*os.File, error) {
	f, err := root.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = errNotRegular
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// writeReport writes data as the report at path in root: to a new file made there
// (exclusively: never through a symlink or a hard link; its name, hidden, is as short as
// can be, not to be longer than the system allows where the report's is not), then renamed
// over path, which replaces a file or symlink of that name rather than writing into it. A
// directory of that name fails it, said so.
func writeReport(root *os.Root, path string, data []byte) error {
	var r [8]byte
	rand.Read(r[:])
	tmp := filepath.Join(filepath.Dir(path), ".report-"+hex.EncodeToString(r[:])+".tmp")
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("writing its report %s: %w", path, err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = root.Rename(tmp, path)
	}
	if err != nil {
		root.Remove(tmp)
		if fi, lerr := root.Lstat(path); lerr == nil && fi.IsDir() {
			return fmt.Errorf("writing its report: %s is taken by a directory (remove it): %w", path, err)
		}
		return fmt.Errorf("writing its report %s: %w", path, err)
	}
	return nil
}

// reportOf reports whether the report file at path in root is batch id's. Only a regular
// file is read: not a symlink, nor a FIFO that would block.
func reportOf(root *os.Root, path string, id int64) bool {
	if fi, err := root.Lstat(path); err != nil || !fi.Mode().IsRegular() {
		return false
	}
	f, err := openRegular(root, path)
	if err != nil {
		return false
	}
	defer f.Close()
	var rep struct {
		BatchID int64 `json:"batch_id"`
	}
	b, err := io.ReadAll(io.LimitReader(f, 16<<20))
	return err == nil && json.Unmarshal(b, &rep) == nil && rep.BatchID == id
}
