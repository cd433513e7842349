package service

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/backtest"
	"github.com/silentcert/silentcert/exchange"
	"github.com/silentcert/silentcert/internal/flock"
	"github.com/silentcert/silentcert/internal/wire"
)

// A replay reads its record files once, on every core, and writes their rows, encoded
// compactly, into spill files on disk: one per window of reported days (the history
// before From included). The days are then replayed a window at a time, so a city of any
// size is replayed with one window's rows in memory (a million recipients report about
// 210,000 records a day) rather than every row of its history (13 GB at 100,000
// recipients over two years when replay held them all).
//
// A window's rows keep the order of the files and of their lines, as a reading of
// everything would give them: the order of quarantine, warnings and batches is unchanged,
// so the files a replay writes stay byte-identical to backtest's.

// spillPrefix starts the name of every spill directory.
const spillPrefix = "silentcert-replay-"

// spillLock is the lock file of a spill directory. Its replay holds it (flock) for as long
// as it runs, so a directory named spillPrefix… whose lock nobody holds is one a replay
// left when it was killed: the mark names a replay's directory only from its first commit
// (a resume removes that one), and a city's spill, written before it, takes minutes and
// gigabytes. Each replay removes such directories from its spill folder before it makes
// its own (removeStaleSpills). A lock rather than a pid: a pid is reused, and one replay
// cannot tell another's running process from a stranger's; a lock is let go by the kill
// itself.
const spillLock = "replay.lock"

// spillWindow is the days of reported dates one spill file holds, by default.
const spillWindow = 8

// spillAhead is how many files' encoded rows may wait for the consumer (about 70 bytes a
// row: a large month of transit rides is a few hundred MB).
const spillAhead = 8

// spill is the spill files of one replay.
type spill struct {
	dir   string
	from  sc.Date
	days  int
	files map[int]*spillFile // by window: floor((reported - from) / days)
	// sum digests what was read, file by file in order: each file's name under the path
	// given, its rows as encoded and its problems. A resumed replay compares it with the
	// stopped run's: the same record count is not the same records.
	sum hash.Hash
	// lock holds the directory as a running replay's (spillLock).
	lock *os.File
}

// appendString writes a string as its length and its bytes.
func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// digest returns the first 16 bytes of the digest of what was read, in hex.
func (sp *spill) digest() string { return hex.EncodeToString(sp.sum.Sum(nil)[:16]) }

type spillFile struct {
	f *os.File
	w *bufio.Writer
}

// window is the window of a reported date.
func (sp *spill) window(d sc.Date) int {
	off := int(d - sp.from)
	if off < 0 {
		return -((-off + sp.days - 1) / sp.days)
	}
	return off / sp.days
}

// windows lists the windows that hold rows, in order.
func (sp *spill) windows() []int {
	ws := make([]int, 0, len(sp.files))
	for w := range sp.files {
		ws = append(ws, w)
	}
	slices.Sort(ws)
	return ws
}

// add appends one file's encoded rows of one window, as a block.
func (sp *spill) add(p *spillPart) error {
	w := p.window
	f := sp.files[w]
	if f == nil {
		fh, err := os.Create(filepath.Join(sp.dir, fmt.Sprintf("w%+06d", w)))
		if err != nil {
			return err
		}
		f = &spillFile{f: fh, w: bufio.NewWriterSize(fh, 256<<10)}
		sp.files[w] = f
	}
	if _, err := f.w.Write(p.head()); err != nil {
		return err
	}
	_, err := f.w.Write(p.b)
	return err
}

// finish flushes and closes the files, which are then read back by rows.
func (sp *spill) finish() error {
	var errs []error
	for _, f := range sp.files {
		errs = append(errs, f.w.Flush(), f.f.Close())
	}
	return errors.Join(errs...)
}

// close removes the spill files, and then lets their directory's lock go.
func (sp *spill) close() {
	for _, f := range sp.files {
		f.f.Close()
	}
	os.RemoveAll(sp.dir)
	if sp.lock != nil {
		sp.lock.Close()
	}
}

// newSpillDir makes a spill directory in parent ("": the system's temporary directory)
// and locks it (spillLock), after removing the directories killed replays left there.
func newSpillDir(parent string) (dir string, lock *os.File, err error) {
	removeStaleSpills(parent)
	dir, err = os.MkdirTemp(parent, spillPrefix+"*")
	if err != nil {
		return "", nil, err
	}
	// Made and locked under another name, then renamed: a replay sweeping the folder
	// meanwhile never finds the lock file unlocked.
	tmp := filepath.Join(dir, spillLock+".new")
	lock, err = flock.Open(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		fmt.Fprintf(lock, "silentcert replay, pid %d\n", os.Getpid()) // for a person who finds it
		if err = os.Rename(tmp, filepath.Join(dir, spillLock)); err != nil {
			lock.Close()
		}
	}
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	return dir, lock, nil
}

// removeStaleSpills removes from parent the spill directories of replays that were
// killed (spillLock): those named spillPrefix… (directories, not links to one) whose lock
// file this process can lock, which it holds while it removes them. A directory without
// a lock file (being made, or left by a replay from before the lock) is left alone, and
// so is every directory where the system has no flock.
func removeStaleSpills(parent string) {
	if !flock.Supported {
		return
	}
	if parent == "" {
		parent = os.TempDir()
	}
	entries, err := os.ReadDir(parent)
	if err != nil {
		return // MkdirTemp next says what is wrong with the folder
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), spillPrefix) {
			continue
		}
		dir := filepath.Join(parent, e.Name())
		lock, err := flock.Open(filepath.Join(dir, spillLock), os.O_RDWR, 0)
		if err != nil {
			continue // a running replay's, or not provably a replay's
		}
		os.RemoveAll(dir)
		lock.Close()
	}
}

// windowRows is one window's rows by reported day, or the error of reading them.
type windowRows struct {
	w    int
	days [][]Row // [d - first day of the window]
	err  error
}

// stream reads the windows back in order on another goroutine, one ahead of the reader,
// until stop is closed.
func (sp *spill) stream(stop <-chan struct{}) <-chan windowRows {
	ch := make(chan windowRows, 1)
	go func() {
		defer close(ch)
		for _, w := range sp.windows() {
			wr := windowRows{w: w, days: make([][]Row, sp.days)}
			b, err := os.ReadFile(sp.files[w].f.Name())
			if err == nil {
				os.Remove(sp.files[w].f.Name()) // read: its disk is given back at once
				start := sp.from + sc.Date(w*sp.days)
				err = decodeSpill(b, func(r *Row) error {
					i := int(r.ReportedDate - start)
					if i < 0 || i >= sp.days {
						return errSpill
					}
					wr.days[i] = append(wr.days[i], *r)
					return nil
				})
			}
			if err != nil {
				wr.days, wr.err = nil, fmt.Errorf("%s: %w", sp.files[w].f.Name(), err)
			}
			select {
			case ch <- wr:
			case <-stop:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return ch
}

// spillRecords reads every record file as backtest does, counting into rep, writes each
// row reported by opt.To into its window's spill file, and returns the rows to quarantine.
func (s *Service) spillRecords(ctx context.Context, opt ReplayOptions, rep *backtest.Report) (sp *spill, problems []exchange.Problem, err error) {
	var files, names []string
	for _, path := range opt.Records {
		fs, warns, err := exchange.ListRecordFiles(path)
		if err != nil {
			return nil, nil, err
		}
		for _, w := range warns {
			rep.Warnings = append(rep.Warnings, backtest.FormatWarning(w))
		}
		files = append(files, fs...)
		for _, f := range fs {
			// The name under the path given, so that the same files named by another
			// path to them digest alike.
			rel, err := filepath.Rel(path, f)
			if err != nil {
				rel = filepath.Base(f)
			}
			names = append(names, filepath.ToSlash(rel))
		}
	}
	dir, lock, err := newSpillDir(opt.SpillDir)
	if err != nil {
		return nil, nil, err
	}
	days := opt.Window
	if days <= 0 {
		days = spillWindow
	}
	sp = &spill{dir: dir, from: opt.From, days: days, files: map[int]*spillFile{}, sum: sha256.New(), lock: lock}
	defer func() {
		if err == nil {
			err = sp.finish()
		}
		if err != nil {
			sp.close()
			sp = nil
		}
	}()
	// Files are read (decompressed, decoded, parsed, encoded) on every core, and taken in
	// order.
	type read struct {
		parts     []spillPart
		probs     []exchange.Problem
		warns     []exchange.Warning
		enc       string
		n         int64
		defaulted int64
		after     int64
		sum       []byte // the digest of the file's rows and problems (see spill.sum)
		err       error
	}
	err = inOrderAhead(ctx, len(files), spillAhead, func(i int) (r read) {
		rr, err := exchange.OpenRecords(files[i], s.cat, exchange.Options{Encoding: opt.Encoding})
		if err != nil {
			r.err = err
			return r
		}
		defer rr.Close()
		var enc spillEncoder
		for {
			row, prob, err := rr.Next()
			if err != nil {
				r.warns, r.enc = rr.Warnings(), rr.Encoding()
				if !errors.Is(err, io.EOF) {
					r.err = err
				}
				break
			}
			r.n++
			if prob != nil {
				r.probs = append(r.probs, *prob)
				continue
			}
			if row.ReportedDate == sc.NoDate {
				row.ReportedDate = row.EventDate
				r.defaulted++
			}
			if row.ReportedDate > opt.To {
				r.after++
				continue
			}
			enc.add(sp.window(row.ReportedDate), row)
		}
		r.parts = enc.parts
		h := sha256.New()
		var b []byte
		for _, p := range r.parts {
			b = binary.AppendVarint(b[:0], int64(p.window))
			b = binary.AppendUvarint(b, uint64(len(p.b)))
			h.Write(b)
			h.Write(p.b)
		}
		for _, p := range r.probs {
			b = binary.AppendVarint(b[:0], p.Line)
			b = appendString(b, p.Field)
			b = appendString(b, p.Reason)
			h.Write(b)
		}
		r.sum = h.Sum(nil)
		return r
	}, func(i int, got read) error {
		b := appendString(nil, names[i])
		if got.err != nil {
			b = appendString(b, "unreadable")
		}
		sp.sum.Write(append(b, got.sum...))
		rep.Files++
		for _, w := range got.warns {
			rep.Warnings = append(rep.Warnings, backtest.FormatWarning(w))
		}
		if got.err != nil {
			rep.FilesRejected++
			problems = append(problems, exchange.Problem{File: files[i], Reason: "unreadable", Message: got.err.Error()})
			rep.QuarantinedByReason["unreadable"]++
			rep.Quarantined++
			return nil
		}
		if got.enc != "" {
			rep.Encodings[got.enc]++
		}
		rep.Read += got.n
		rep.ReportedDateDefaulted += got.defaulted
		rep.ReportedAfterTo += got.after
		for _, p := range got.probs {
			rep.Quarantined++
			rep.QuarantinedByReason[p.Reason]++
		}
		problems = append(problems, got.probs...)
		for i := range got.parts {
			if err := sp.add(&got.parts[i]); err != nil {
				return err
			}
		}
		return nil
	})
	return sp, problems, err
}

// A spill file is a run of blocks, each one file's rows of one window:
//
//	uvarint length of the rest of the block
//	string  file name
//	rows, each:
//	  varint  line - previous line
//	  strings record_id, source, person_id, name, region_code, raw detail, icd10, accept, ref
//	  uvarint type
//	  varint  birth, event, reported date
//	  byte    critical | agent<<1 | has amount<<2
//	  uvarint count
//	  varint  amount
//
// A string is written as its length + 1, or 0 when it equals the same field of the row
// before in the block (sources, regions and details repeat along a file).

// spillPart is one file's encoded rows of one window.
type spillPart struct {
	window int
	b      []byte
	prev   [spillStrings][]byte
	have   bool // a row is encoded: prev holds its strings
	line   int64
	file   string
}

const spillStrings = 9

// spillEncoder encodes one file's rows into a part per window.
type spillEncoder struct {
	parts []spillPart
	last  int // index of the part used last: a file's rows mostly share a window
}

func (e *spillEncoder) add(w int, r *exchange.RecordRow) {
	if e.last >= len(e.parts) || e.parts[e.last].window != w {
		e.last = slices.IndexFunc(e.parts, func(p spillPart) bool { return p.window == w })
		if e.last < 0 {
			e.parts = append(e.parts, spillPart{window: w, file: r.File})
			e.last = len(e.parts) - 1
		}
	}
	p := &e.parts[e.last]
	p.b = binary.AppendVarint(p.b, r.Line-p.line)
	p.line = r.Line
	for i, s := range [spillStrings][]byte{r.RecordID, r.Source, r.PersonID, r.Name, r.RegionCode, r.RawDetail,
		[]byte(r.Detail.ICD10), []byte(r.Detail.Accept), []byte(r.Detail.Ref)} {
		if p.have && string(s) == string(p.prev[i]) {
			p.b = append(p.b, 0)
			continue
		}
		p.b = binary.AppendUvarint(p.b, uint64(len(s))+1)
		p.b = append(p.b, s...)
		p.prev[i] = append(p.prev[i][:0], s...)
	}
	p.have = true
	p.b = binary.AppendUvarint(p.b, uint64(r.Type))
	p.b = binary.AppendVarint(p.b, int64(r.BirthDate))
	p.b = binary.AppendVarint(p.b, int64(r.EventDate))
	p.b = binary.AppendVarint(p.b, int64(r.ReportedDate))
	var flags byte
	if r.Detail.Critical {
		flags |= 1
	}
	if r.Detail.Agent {
		flags |= 2
	}
	if r.Detail.HasAmt {
		flags |= 4
	}
	p.b = append(p.b, flags)
	p.b = binary.AppendUvarint(p.b, uint64(r.Detail.Count))
	p.b = binary.AppendVarint(p.b, int64(r.Detail.Amount))
}

// head returns the start of the part's block: its length and its file's name.
func (p *spillPart) head() []byte {
	name := binary.AppendUvarint(nil, uint64(len(p.file)))
	name = append(name, p.file...)
	return append(binary.AppendUvarint(nil, uint64(len(name)+len(p.b))), name...)
}

var errSpill = errors.New("replay spill file damaged")

// decodeSpill decodes a spill file's blocks, calling fn with each row in turn.
func decodeSpill(b []byte, fn func(*Row) error) error {
	d := wire.Reader{B: b}
	for len(d.B) > 0 && d.Err == nil {
		n := d.Uvarint()
		if d.Err != nil || n > uint64(len(d.B)) {
			return errSpill
		}
		blk := wire.Reader{B: d.Bytes(n)}
		file := string(blk.Bytes(blk.Uvarint()))
		var prev [spillStrings]string
		var line int64
		var buf []byte
		for len(blk.B) > 0 && blk.Err == nil {
			line += blk.Varint()
			for i := range prev {
				prev[i] = blk.Str(prev[i])
			}
			// (The detail's icd10, agent, count and amount are in the file for its
			// readers; a row keeps, of its detail, its raw form and what applying reads.)
			r := Row{file: &file, Line: line}
			buf = setStrings(&r, &[rowStrings]string{prev[0], prev[1], prev[2], prev[3], prev[4], prev[5], prev[7], prev[8]}, buf)
			r.Type = sc.TypeID(blk.Uvarint())
			r.BirthDate = sc.Date(blk.Varint())
			r.EventDate = sc.Date(blk.Varint())
			r.ReportedDate = sc.Date(blk.Varint())
			flags := blk.Byte()
			r.Critical = flags&1 != 0
			blk.Uvarint() // count
			blk.Varint()  // amount
			if blk.Err != nil {
				return errSpill
			}
			if err := fn(&r); err != nil {
				return err
			}
		}
		if blk.Err != nil {
			return errSpill
		}
	}
	if d.Err != nil {
		return errSpill
	}
	return nil
}
