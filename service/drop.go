package service

import (
	"bytes"
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
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/silentcert/silentcert/store"
)

// DropFolder watches DIR/SOURCE/ folders: each file a department drops there is ingested
// as a batch of that source, then moved to DIR/SOURCE/done/ (or failed/ when the batch was
// refused) with its report beside it as FILE.report.json. The batch is keyed by the source,
// the file's name and the SHA-256 of its bytes: a file whose batch was committed before a
// crash stopped its move is found by its key on the next scan and only moved, its report
// naming the batch that took it. The same file dropped again later is moved the same way.
// A file of a name done/ (or failed/) holds already, with other bytes (a daily export named
// the same every day), is moved beside it with its batch id before its extension,
// deaths.batch-123.csv, its report as deaths.batch-123.csv.report.json: each file is kept
// as received.
//
// A department writes into its own folder (an SFTP account), so nothing there is trusted:
// each source's folder is worked in through an os.Root, which refuses any name or symlink
// leading out of it; only regular files are taken (a symlink, device, FIFO or socket is
// skipped, the log warning of it once); done/ and failed/ must be real directories (the
// drop folder makes them; a symlink or file in their place stops that source's files, named
// in the error); and reports are written to a new file renamed into place, never through
// a symlink or over a directory.
//
// A file is taken only once it has stopped changing: a department's copy tool (SFTP, an
// SMB share) writes it in place, under its final name, for as long as the copy lasts. A
// scan takes a file only when an earlier scan, at least Settle before it, saw it with the
// same size, modification time and (where the system has them) device and inode; the
// first scan that sees a file never takes it. And a file that changed while it was taken
// (read, ingested) is not moved: its batch stays committed, the file is left in place and
// taken again once it has settled, its rows already applied counting then as duplicates
// (records are keyed by source and record_id), so that no row written late is lost in
// done/.
type DropFolder struct {
	Dir     string
	Service *Service
	// Settle is how long a file must have been seen unchanged before a scan takes it;
	// 0 means DefaultDropSettle. Whatever it is, a file is taken at the second scan
	// that sees it unchanged at the earliest.
	Settle time.Duration
	// Now is the scans' clock (nil: time.Now), for tests.
	Now func() time.Time
	// MaxBytes bounds a file, and what a gzip file may unpack to (0: no bound; serve gives
	// its --max-body, as for the API): past it the file is refused whole and moved to
	// failed/, so that a small gzip bomb a department drops cannot fill the memory — nor
	// do it again at every restart.
	MaxBytes int64
	// Encodings forces, by source folder, the encoding its files are read in (serve's
	// --drop-encoding; exchange.Options.Encoding): a department whose GBK export starts
	// with 64 KiB of ASCII rows is otherwise read as UTF-8 (spec §1) and its later rows
	// with Chinese names quarantined. A source not named is detected.
	Encodings map[string]string
}

// DefaultDropSettle is DropFolder.Settle's default: serve scans every 10 s, so a file
// unchanged from one scan to the next is taken at the second.
const DefaultDropSettle = 5 * time.Second

// dropSeen remembers, per source folder, the regular files the last scan listed: each
// one's size, modification time and identity, and when a scan first saw it so. It outlives
// the DropFolder (serve makes one for each scan); a file is settled when a later scan sees
// it the same, Settle later or more. Only the names listed at the last scan are kept.
var dropSeen = struct {
	sync.Mutex
	m map[string]map[string]seenFile
}{m: map[string]map[string]seenFile{}}

// fileSig is what tells that a file changed: its size, modification time and, where the
// system has them (not on Windows), device and inode (another file put in its place).
type fileSig struct {
	size, mtime int64
	dev, ino    uint64
}

func sigOf(fi fs.FileInfo) fileSig {
	dev, ino := fileID(fi)
	return fileSig{size: fi.Size(), mtime: fi.ModTime().UnixNano(), dev: dev, ino: ino}
}

type seenFile struct {
	sig   fileSig
	since time.Time // when a scan first saw it with sig
}

// dropFile is a regular file listed in a source's folder: settled when it can be taken.
type dropFile struct {
	name    string
	sig     fileSig
	settled bool
	err     error // its Lstat failed: it stops its source, named
}

// dropBeforeMove, set by tests, is called after a file's batch, just before it is checked
// again and moved.
var dropBeforeMove func(src, name string)

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

// errChanged: the file changed after it was listed (before it was read: nothing was taken)
// or while it was taken (its batch is committed, the log warns of it); it is left in place
// for a later scan, and so are its source's later files, without an error.
var errChanged = errors.New("changed while it was taken")

// Scan ingests every file waiting, oldest name first, and returns how many it took. Only a
// file that has settled is taken (see DropFolder): one seen for the first time, or changed
// since the last scan, waits, with the files after it in its source's folder. A file
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
	now := time.Now
	if d.Now != nil {
		now = d.Now
	}
	at := now()
	n := 0
	var errs []error
	for _, s := range srcs {
		if !s.IsDir() || strings.HasPrefix(s.Name(), ".") {
			continue // a symlink is not a source's folder: IsDir is false for it
		}
		took, err := d.source(ctx, s.Name(), at)
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

// source takes the files waiting in DIR/src/, in their order, until one cannot be taken
// or has not settled yet (the files after it wait for it, not to go in before it).
func (d *DropFolder) source(ctx context.Context, src string, now time.Time) (int, error) {
	dir := filepath.Join(d.Dir, src)
	root, err := os.OpenRoot(dir)
	if err != nil {
		return 0, err
	}
	defer root.Close()
	files, err := d.regular(root, src, dir, now)
	if err != nil {
		return 0, err
	}
	if len(files) > 0 {
		// done/ and failed/ must be real directories (or absent) before any file is
		// taken: a batch is not committed for a file that could not then be moved. Said
		// at once, not only when a file has settled.
		for _, to := range []string{"done", "failed"} {
			if err := outDir(root, to, false); err != nil {
				return 0, fmt.Errorf("drop folder %s (this source's files wait for it): %w", src, err)
			}
		}
	}
	n := 0
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		if f.err != nil {
			return n, fmt.Errorf("drop folder %s (this source's later files wait for it): %w", filepath.Join(src, f.name), f.err)
		}
		if !f.settled {
			return n, nil // still being written, or new: it and the files after it wait
		}
		err := d.one(ctx, root, src, f)
		if errors.Is(err, errNotRegular) {
			continue
		}
		if errors.Is(err, errChanged) {
			return n, nil // left for a later scan, and so are the files after it
		}
		if err != nil {
			if ctx.Err() != nil {
				return n, err
			}
			return n, fmt.Errorf("drop folder %s (this source's later files wait for it): %w", filepath.Join(src, f.name), err)
		}
		dropSeen.Lock()
		delete(dropSeen.m[dir], f.name) // taken: a new file of its name starts afresh
		dropSeen.Unlock()
		n++
		if n == dropPerScan {
			return n, nil // the rest at the next scans: the other sources, and the day, go on
		}
	}
	return n, nil
}

// dropPerScan is the most files a scan takes from one source: a department that drops
// thousands of small files at once delays neither the others' nor the daily run (serve
// scans in the loop that runs the days) by more than these.
const dropPerScan = 100

// regular lists the regular files waiting in a source's folder, oldest name first, each
// settled or not (see DropFolder). It skips hidden names and files named .part or .tmp
// (still being written, by the tools that name them so) and directories; anything else
// that is not a regular file (a symlink, device, FIFO or socket: a FIFO would block the
// scan) is skipped with a warning, once per name.
func (d *DropFolder) regular(root *os.Root, src, dir string, now time.Time) ([]dropFile, error) {
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
	var out []dropFile
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
		f := dropFile{name: name, err: err} // an Lstat error stops its source, named
		if err == nil {
			f.sig = sigOf(fi)
		}
		out = append(out, f)
	}
	settle := d.Settle
	if settle <= 0 {
		settle = DefaultDropSettle
	}
	dropSeen.Lock()
	last, seen := dropSeen.m[dir], map[string]seenFile{}
	for i, f := range out {
		if f.err != nil {
			continue
		}
		if was, ok := last[f.name]; ok && was.sig == f.sig {
			seen[f.name] = was
			out[i].settled = now.Sub(was.since) >= settle
		} else {
			seen[f.name] = seenFile{sig: f.sig, since: now} // new, or changed
		}
	}
	if len(seen) == 0 {
		delete(dropSeen.m, dir)
	} else {
		dropSeen.m[dir] = seen
	}
	dropSeen.Unlock()
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
				"file", MaskFileName(filepath.Join(src, name)))
		}
	}
	return out, nil
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

// one takes the settled file f: ingests it as a batch (or finds the batch that took it),
// checks that it did not change meanwhile, and moves it with its report.
func (d *DropFolder) one(ctx context.Context, root *os.Root, src string, f dropFile) error {
	name := f.name
	file, err := openRegular(root, name)
	if err != nil {
		return err
	}
	defer file.Close()
	fi, err := file.Stat()
	if err != nil {
		return err
	}
	if sigOf(fi) != f.sig {
		return errChanged // since it was listed: the next scan sees it anew
	}
	// A file past the limit is refused by its size alone, never read (nor hashed: a huge
	// file is not read through to be refused). Its batch's key is the file as listed (its
	// size, time and inode) and the limit: a scan after a crash or a failed move finds
	// the refusal instead of storing another; dropped again under a higher limit it is read.
	var in io.Reader
	var sum []byte
	key := ""
	if d.MaxBytes > 0 && f.sig.size > d.MaxBytes {
		in = tooBig{fmt.Errorf("%d bytes, more than the drop folder's limit of %d (serve --max-body)", f.sig.size, d.MaxBytes)}
		key = fmt.Sprintf("drop:%s/%s:unread:size=%d:mtime=%d:dev=%d:ino=%d:max=%d", src, name, f.sig.size, f.sig.mtime, f.sig.dev, f.sig.ino, d.MaxBytes)
	} else {
		// The batch is the bytes the file held when it was listed, hashed and ingested alike.
		h := sha256.New()
		if _, err := io.Copy(h, io.NewSectionReader(file, 0, f.sig.size)); err != nil {
			return err
		}
		sum = h.Sum(nil)
		key = "drop:" + src + "/" + name + ":" + hex.EncodeToString(sum)
		if d.MaxBytes > 0 && strings.HasSuffix(name, ".gz") {
			// What it unpacks to is known only once read: the limit is part of its key, so
			// that a raised one reads it again.
			key += ":max=" + strconv.FormatInt(d.MaxBytes, 10)
		}
		if enc := d.Encodings[src]; enc != "" {
			// Read in another encoding it is another batch: a file whose rows were
			// quarantined as not UTF-8, dropped again once --drop-encoding names the
			// source's, is read again (its rows applied before count as duplicates).
			key += ":encoding=" + strings.ToLower(enc)
		}
		in = io.NewSectionReader(file, 0, f.sig.size)
	}
	var rep map[string]any
	to := "done"
	var prev *store.Batch
	if key != "" {
		if prev, err = d.Service.DB().BatchByKey(ctx, key); err != nil {
			return err
		}
	}
	var id int64
	// The file's name as the log shows it: a department may name one by a person's ID number.
	shown := MaskFileName(filepath.Join(src, name))
	if prev != nil {
		// Taken already (a crash before its move, or the same file dropped again).
		id = prev.ID
		if rep, err = storedReport(ctx, d.Service.DB(), prev); err != nil {
			return err
		}
		if prev.Status == "rejected" {
			to = "failed"
		}
		d.Service.log.Info("drop folder: file taken before (the same bytes under the same name), its batch found by its key: moved to "+to+"/, not applied again",
			"source", src, "file", shown, "batch_id", id)
	} else {
		res, err := d.Service.Ingest(ctx, Batch{Origin: "drop", Source: src, Actor: "drop:" + src, Key: key,
			MaxDecompressed: d.MaxBytes, Encoding: d.Encodings[src], Files: []File{{Name: filepath.Join(src, name), Body: in}}})
		if err != nil {
			return err // not stored: left in place for the next scan
		}
		id = res.BatchID
		if res.Rejected != "" {
			to = "failed"
			d.Service.log.Warn("drop folder: file refused whole, nothing applied: moved to failed/ with its report",
				"source", src, "file", shown, "batch_id", id, "reason", MaskFileName(res.Rejected))
		} else {
			r := &res.Report
			d.Service.log.Info("drop folder: file taken", "source", src, "file", shown, "batch_id", id,
				"read", r.Read, "applied", r.Applied, "duplicate", r.Duplicate, "quarantined", r.Quarantined,
				"unlinked", r.Unlinked, "held", r.Held)
		}
		rep = map[string]any{"batch_id": res.BatchID, "report": res.Report.Map(), "rejected": res.Rejected, "quarantined_rows": len(res.Problems)}
	}
	file.Close()
	if err := outDir(root, to, true); err != nil {
		return err
	}
	dest, err := target(root, to, name, f.sig.size, sum, id)
	if err != nil {
		return err
	}
	if dropBeforeMove != nil {
		dropBeforeMove(src, name)
	}
	// Checked last, just before its report and move: a file still being written after all
	// (a pause longer than the scans') would have what was written since it was read lost
	// in done/. It stays, to be taken again when it has settled, as a new batch (its bytes
	// differ) whose rows already applied are duplicates.
	again, err := root.Lstat(name)
	if err != nil {
		return err
	}
	if sigOf(again) != f.sig {
		d.Service.log.Warn("drop folder: the file changed while it was taken (still being written?): left in place, to be taken again when it has stopped changing; the rows its batch applied will count as duplicates then",
			"file", MaskFileName(filepath.Join(src, name)), "batch_id", id, "size_read", f.sig.size, "size_now", again.Size())
		return errChanged
	}
	data, _ := json.MarshalIndent(rep, "", "  ")
	report := dest + ".report.json"
	if prev == nil || !reportOf(root, report, prev.ID) {
		// A file taken before keeps the report its batch wrote (a crash came after it, or
		// the same file was dropped again): the short one is written only in its absence
		// (or over another batch's, of the same bytes under the same name).
		if err := writeReport(root, report, append(data, '\n')); err != nil {
			return err
		}
	}
	// A rename onto a symlink planted in done/ replaces the link; nothing is written
	// through it.
	return root.Rename(name, dest)
}

// target returns the path in to/ (done or failed) that the file name, of size bytes
// hashing to sum (nil: not read, refused for its size), batch id's, is moved to: to/name,
// unless another file is there already
// (a department that names its daily export the same every day) or a report of another
// batch; then name with the batch id before its extension, to/deaths.batch-123.csv, its
// report beside it as deaths.batch-123.csv.report.json, keeping both files as received.
// The name depends only on what is in to/ and the batch, so a file taken again (after a
// crash, or dropped again) finds its own.
func target(root *os.Root, to, name string, size int64, sum []byte, id int64) (string, error) {
	for k := range 100 {
		p := filepath.Join(to, batchName(name, id, k))
		free, err := freeFor(root, p, size, sum, id)
		if err != nil {
			return "", err
		}
		if free {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s/%s and the names with its batch id are all taken by other files", to, name)
}

// batchName is name for k 0, otherwise name with batch id (and k from 2) inserted before
// its extension (.csv, .jsonl, either gzipped): deaths.batch-123.csv, deaths.batch-123-2.csv.
func batchName(name string, id int64, k int) string {
	if k == 0 {
		return name
	}
	stem, gz := name, ""
	if strings.HasSuffix(strings.ToLower(stem), ".gz") {
		stem, gz = stem[:len(stem)-3], stem[len(stem)-3:]
	}
	ext := filepath.Ext(stem)
	stem = stem[:len(stem)-len(ext)]
	tag := fmt.Sprintf(".batch-%d", id)
	if k > 1 {
		tag += fmt.Sprintf("-%d", k)
	}
	return stem + tag + ext + gz
}

// freeFor reports whether path in root can take the file (of size bytes hashing to sum,
// batch id's): when nothing is there, or the same bytes (the same file taken again; a
// file whose sum is nil, not read, is never the same, and what is there is not read), or
// what is neither a regular file nor a directory (a symlink or FIFO planted there: the
// rename replaces it, never writing through it); and, but for the same bytes, its
// report's name holds no report of another batch. A directory or another regular file
// keeps it.
func freeFor(root *os.Root, path string, size int64, sum []byte, id int64) (bool, error) {
	fi, err := root.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return false, err
	case fi.IsDir():
		return false, nil
	case fi.Mode().IsRegular():
		return sum != nil && fi.Size() == size && sameBytes(root, path, sum), nil
	}
	rp := path + ".report.json"
	rfi, err := root.Lstat(rp)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return true, nil
	case err != nil:
		return false, err
	case rfi.IsDir():
		return false, nil
	case rfi.Mode().IsRegular():
		// This batch's report, or nothing of ours to replace: a file a department dropped
		// under a report's name is kept as received.
		return reportOf(root, rp, id), nil
	}
	return true, nil // a link or special file planted there is replaced, never written through
}

// sameBytes reports whether the regular file at path in root hashes to sum (one that
// cannot be read is not the same).
func sameBytes(root *os.Root, path string, sum []byte) bool {
	f, err := openRegular(root, path)
	if err != nil {
		return false
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return false
	}
	return bytes.Equal(h.Sum(nil), sum)
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

// storedReport is the report of a file's batch stored before (a crash came between its
// commit and its move, or the same file was dropped again): what the batch's own report
// said, read back from the store, marked already_taken.
func storedReport(ctx context.Context, db *store.DB, b *store.Batch) (map[string]any, error) {
	var stored map[string]any
	if err := json.Unmarshal([]byte(b.Report), &stored); err != nil {
		stored = map[string]any{}
	}
	rejected, _ := stored["rejected"].(string)
	if b.Status == "rejected" {
		stored = map[string]any{}
	}
	_, total, err := db.BatchQuarantinePage(ctx, b.ID, 0, 0)
	if err != nil {
		return nil, err
	}
	return map[string]any{"batch_id": b.ID, "report": stored, "rejected": rejected, "quarantined_rows": total, "already_taken": true}, nil
}

// writeReport writes data as the report at path in root: to a new file made there
// (exclusively: never through a symlink or a hard link; its name, hidden, is as short as
// can be, not to be longer than the system allows where the report's is not), then renamed
// over path, which replaces a file or symlink of that name rather than writing into it. A
// directory of that name fails it, said so. It is its owner's only (0600), as backups
// and payroll files are: it names the file, which a department may name by a person's ID
// number, and quotes its values.
func writeReport(root *os.Root, path string, data []byte) error {
	var r [8]byte
	rand.Read(r[:])
	tmp := filepath.Join(filepath.Dir(path), ".report-"+hex.EncodeToString(r[:])+".tmp")
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
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

// reportOf reports whether the report file at path in root is batch id's.
func reportOf(root *os.Root, path string, id int64) bool {
	b, ok := reportBatch(root, path)
	return ok && b == id
}

// reportBatch returns the batch the report file at path in root names, ok false when it
// names none (absent, not a report). Only a regular file is read: not a symlink, nor a
// FIFO that would block.
func reportBatch(root *os.Root, path string) (id int64, ok bool) {
	if fi, err := root.Lstat(path); err != nil || !fi.Mode().IsRegular() {
		return 0, false
	}
	f, err := openRegular(root, path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	var rep struct {
		BatchID int64 `json:"batch_id"`
	}
	b, err := io.ReadAll(io.LimitReader(f, 16<<20))
	if err != nil || json.Unmarshal(b, &rep) != nil || rep.BatchID == 0 {
		return 0, false
	}
	return rep.BatchID, true
}

// tooBig is a file refused for its size: reading it fails at once, which refuses the batch
// whole, as a file that cannot be read to its end is.
type tooBig struct{ err error }

func (r tooBig) Read([]byte) (int, error) { return 0, r.err }
