package service

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/engine"
	"github.com/silentcert/silentcert/exchange"
	"github.com/silentcert/silentcert/linkage"
	"github.com/silentcert/silentcert/store"
)

// File is one exchange file of a batch.
type File struct {
	Name string    // names the file in reports and quarantine; its extension gives the format unless Format is set
	Body io.Reader // plain or gzipped
	// Format and Gzip override the extension (an API body's Content-Type).
	Format    exchange.Format
	Gzip      bool
	FormatSet bool
}

// Batch is one ingestion: files from the command line, a drop folder, an API body or the
// console. It is applied whole or not at all.
type Batch struct {
	Origin string // "file", "history" (a file of History), "drop", "api", "console", "replay"
	// Source, when set, is the only source the batch may carry (an API key's department):
	// rows of another source are quarantined.
	Source string
	// Types, when not empty, are the only record types the batch may carry (an API key
	// limited to some of its department's types): rows of another type are quarantined.
	Types []string
	Actor string
	Day   sc.Date // the day the records are applied; NoDate: today
	// Key, when set, is the batch's idempotency key: a batch whose key is stored already
	// (the same file or form sent again, however close together) does nothing, and its
	// Result names the batch that took it (Repeat).
	Key string
	// KeyForm is stored with Key: what the keyed sending held (store.Batch.KeyForm).
	KeyForm string
	// KeyFormOf, when set, gives KeyForm once the files are read (an API body's SHA-256,
	// known only when it has arrived).
	KeyFormOf func() string
	Files     []File
	Encoding  string // "" detects
	// History applies each record on its reported_date without decision rows: the load of
	// records reported before the service's first day (as backtest does before --from).
	History bool
	// MaxDecompressed bounds what a gzip file may unpack to (0: no bound); past it the
	// batch is refused whole (the API's --max-body: a small body must not fill memory).
	MaxDecompressed int64
	// Audit, when set, gives audit rows written in the batch's own transaction after its
	// row (a staff action recorded with the record it made: both or neither), from the
	// batch's number and report.
	Audit func(batchID int64, rep *exchange.BatchReport) []store.AuditRow
	// Stands, when set, is checked in the batch's transaction before anything of it is
	// stored: an error refuses the batch (its API key revoked while the body arrived).
	Stands func(tx *store.Tx) error
}

// Result is what an ingestion did.
type Result struct {
	BatchID  int64
	Report   exchange.BatchReport
	Problems []exchange.Problem
	Rejected string // why the whole batch was refused ("" when applied): Refused, joined by "; "
	// Refused names each file that refused the batch and why, one entry a file, each
	// starting with the file's name (and its line where there is one).
	Refused []string
	// Repeat: the batch's Key was stored already; BatchID is that batch, nothing was done
	// (Report and Problems are this reading's, not stored).
	Repeat bool
	// ReadByFile counts the data rows read from each file, good or quarantined, by its
	// name (as Problem.File names it): with Problems, it tells a file of which every row
	// was quarantined (its header not the standard's).
	ReadByFile map[string]int64
}

// Ingest reads a batch's files and applies it. A file that cannot be read to its end (a
// truncated gzip stream) refuses the whole batch: the refusal is stored with its reason
// and nothing of the batch is applied. Bad rows are quarantined and the rest applied.
// The files after a refused one are still read, so that the refusal names every file
// that refused the batch, not only the first (a command line's files, corrected in one go).
func (s *Service) Ingest(ctx context.Context, b Batch) (*Result, error) {
	res := &Result{}
	if b.History {
		// Refused before its files are read when days have run already; the batch's
		// transaction, which decides, checks again (applyIn).
		last, err := s.db.LastRun(ctx)
		if err != nil {
			return nil, err
		}
		if err := s.historyAfter(last); err != nil {
			return nil, err
		}
	}
	// The day is read from the clock once: a batch read across midnight is reported and
	// applied on the same day.
	b.Day = s.dayOf(b)
	// The files are read on every core and taken in order; any that cannot be read
	// refuses the batch, and the rows of the others are let go.
	type read struct {
		rows     [][]Row
		probs    []exchange.Problem
		warns    []exchange.Warning
		enc      string
		rejected string
		opened   bool
	}
	var parts [][]Row
	err := inOrder(ctx, len(b.Files), func(i int) (r read) {
		f := b.Files[i]
		format, gz, ok := f.Format, f.Gzip, f.FormatSet
		if !ok {
			format, gz, ok = exchange.FormatOf(f.Name)
		}
		if !ok {
			r.rejected = f.Name + ": not a .csv or .jsonl file (optionally .gz)"
			return r
		}
		rr, err := exchange.NewRecordReader(f.Name, f.Body, format, gz, s.cat, exchange.Options{Encoding: b.Encoding, MaxDecompressed: b.MaxDecompressed})
		if err != nil {
			r.rejected = namedFor(f.Name, err.Error())
			return r
		}
		r.opened = true
		r.rows, r.probs, err = readAll(rr, b.Source, s.cat, b.Types)
		r.enc, r.warns = rr.Encoding(), rr.Warnings()
		rr.Close()
		if err != nil {
			r.rows, r.probs = nil, nil
			again := "send it again"
			if errors.As(err, new(*exchange.TooLargeError)) {
				again = "send the records in smaller batches"
			}
			r.rejected = namedFor(f.Name, err.Error()) + " (the batch is refused whole; " + again + ")"
		}
		return r
	}, func(i int, r read) error {
		if r.opened {
			res.Report.AddFile(b.Files[i].Name, r.enc)
			res.Report.AddWarnings(r.warns)
		}
		if r.rejected != "" {
			res.Refused = append(res.Refused, r.rejected)
			parts = nil
			return nil
		}
		if len(res.Refused) > 0 {
			return nil // read only to name every file refused
		}
		read := int64(len(r.probs))
		for _, rows := range r.rows {
			read += int64(len(rows))
		}
		res.Report.Read += read
		if res.ReadByFile == nil {
			res.ReadByFile = map[string]int64{}
		}
		res.ReadByFile[b.Files[i].Name] += read
		for _, p := range r.probs {
			res.Report.AddProblem(p)
		}
		res.Problems = append(res.Problems, r.probs...)
		parts = append(parts, r.rows...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if b.KeyFormOf != nil {
		b.KeyForm = b.KeyFormOf()
	}
	if len(res.Refused) > 0 {
		res.Rejected = strings.Join(res.Refused, "; ")
		return res, s.reject(ctx, b, res)
	}
	if !b.History {
		parts = liveDates(parts, s.dayOf(b), res)
	}
	return res, s.applyParts(ctx, b, parts, res, nil)
}

// historyAfter refuses history once a day has run (last, NoDate when none has): history
// writes no decisions, and after a day a death loaded so would stop a person with no row
// in the audit trail.
func (s *Service) historyAfter(last sc.Date) error {
	if last == sc.NoDate {
		return nil
	}
	return sc.Errorf(sc.EConflict, "%s: history is what was reported before the service's first day, and days have run (the last %s): ingest these records as a batch, which writes their decisions",
		s.db, last)
}

// namedFor is why a file was refused, starting with its name: the reader's errors name
// the file already, and are not given it twice.
func namedFor(name, why string) string {
	if strings.HasPrefix(why, name+":") {
		return why
	}
	return name + ": " + why
}

// liveDates applies spec §3's dates to a batch arriving now (not history, not a replay,
// whose records default to their event_date as spec §7 says): a record without
// reported_date was reported on the day it is ingested, and one whose event_date is after
// that day has not happened yet and is quarantined, so that a mistyped future date never
// certifies anyone years ahead. (A reported_date after the day is left as given: a
// department's file may carry the dates of its own registry.)
func liveDates(parts [][]Row, day sc.Date, res *Result) [][]Row {
	for k, rows := range parts {
		w := 0
		for i := range rows {
			r := &rows[i]
			var p *exchange.Problem
			switch {
			case r.ReportedDate == sc.NoDate && r.EventDate > day:
				p = &exchange.Problem{File: r.File(), Line: r.Line, Field: "event_date", Reason: exchange.ReasonEventAfterReported,
					Message: fmt.Sprintf("event_date %s is later than the day the record is ingested, %s (no reported_date)", r.EventDate, day)}
			case r.EventDate > day:
				p = &exchange.Problem{File: r.File(), Line: r.Line, Field: "event_date", Reason: exchange.ReasonEventAfterIngestion,
					Message: fmt.Sprintf("event_date %s is later than the day the record is ingested, %s", r.EventDate, day)}
			case r.ReportedDate == sc.NoDate:
				r.ReportedDate = day
				res.Report.ReportedDateDefaulted++
			}
			if p != nil {
				res.Report.AddProblem(*p)
				res.Problems = append(res.Problems, *p)
				continue
			}
			if w != i { // rows are moved only once one was taken out
				rows[w] = rows[i]
			}
			w++
		}
		parts[k] = rows[:w]
	}
	return parts
}

// readBlock is the most rows readAll puts in one block.
const readBlock = 4096

// readAll reads a file's rows, in blocks (a growing slice would copy every row each time
// it grew), checking the batch's source.
func readAll(rr *exchange.RecordReader, source string, cat *sc.Catalogue, types []string) ([][]Row, []exchange.Problem, error) {
	var probs []exchange.Problem
	var blocks [][]Row
	var rows []Row
	var file *string // the file's name, shared by its rows
	var buf []byte
	for {
		row, prob, err := rr.Next()
		if err == io.EOF {
			if len(rows) > 0 {
				blocks = append(blocks, rows)
			}
			return blocks, probs, nil
		}
		if err != nil {
			return nil, nil, err
		}
		if prob != nil {
			probs = append(probs, *prob)
			continue
		}
		if source != "" && string(row.Source) != source {
			probs = append(probs, exchange.Problem{File: row.File, Line: row.Line, Field: "source", Reason: exchange.ReasonSourceNotAllowed,
				Message: "this key may send only " + source + " records, not " + string(row.Source)})
			continue
		}
		if code := cat.Type(row.Type).Code; len(types) > 0 && !slices.Contains(types, code) {
			probs = append(probs, exchange.Problem{File: row.File, Line: row.Line, Field: "type", Reason: exchange.ReasonTypeNotAllowedForKey,
				Message: "this key may send only " + strings.Join(types, ", ") + " records, not " + code})
			continue
		}
		if len(rows) == cap(rows) {
			if len(rows) > 0 {
				blocks = append(blocks, rows)
			}
			rows = make([]Row, 0, min(max(2*len(rows), 64), readBlock))
		}
		if file == nil || *file != row.File {
			name := row.File
			file = &name
		}
		var r Row
		r, buf = rowOfRecord(row, file, buf)
		rows = append(rows, r)
	}
}

// reject stores a refused batch with its reason, and nothing else.
func (s *Service) reject(ctx context.Context, b Batch, res *Result) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.write(ctx, func(tx *store.Tx, _ *change) error {
		if b.Stands != nil {
			if err := b.Stands(tx); err != nil {
				return err
			}
		}
		if done, err := s.repeated(tx, b, res); done || err != nil {
			return err
		}
		rep, _ := json.Marshal(map[string]any{"rejected": res.Rejected})
		sb := &store.Batch{Origin: b.Origin, Source: b.Source, Actor: b.Actor, Received: s.wallTime(), Day: s.dayOf(b),
			Status: "rejected", Files: fileNames(b), Report: string(rep), Key: b.Key, KeyForm: b.KeyForm}
		if _, err := tx.NewBatch(sb); err != nil {
			return err
		}
		res.BatchID = sb.ID
		return tx.Append(b.auditRows(sb, res, "rejected", res.Rejected))
	})
	if err == nil && !res.Repeat {
		s.metrics.BatchesRefused.Add(1)
	}
	return err
}

func (s *Service) dayOf(b Batch) sc.Date {
	if b.Day == sc.NoDate || b.Day == 0 {
		return s.Today()
	}
	return b.Day
}

func fileNames(b Batch) string {
	names := make([]string, len(b.Files))
	for i, f := range b.Files {
		names[i] = f.Name
	}
	return strings.Join(names, "\n")
}

// compareRows is spec §7's order: (reported_date, event_date, source, record_id), then
// the order read.
func compareRows(a, b *Row) int {
	if c := cmp.Compare(a.ReportedDate, b.ReportedDate); c != 0 {
		return c
	}
	if c := cmp.Compare(a.EventDate, b.EventDate); c != 0 {
		return c
	}
	if c := strings.Compare(a.Source(), b.Source()); c != 0 {
		return c
	}
	if c := strings.Compare(a.RecordID(), b.RecordID()); c != 0 {
		return c
	}
	return cmp.Compare(a.seq, b.seq)
}

// contentHash identifies a row's content, so that a resend that differs is told apart
// from a plain resend (FNV-1a: stable across processes and machines).
func contentHash(r *Row, code string) uint64 {
	// FNV-1a over the fields, each followed by a zero byte, written out so that it
	// allocates nothing (the same values as hash/fnv's New64a: they are stored).
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	var buf [16]byte
	for i, s := range [...]string{r.PersonID(), r.Name(), "", "", r.RegionCode(), r.RawDetail(), code} {
		b := []byte(nil)
		switch i {
		case 2:
			b = r.BirthDate.AppendTo(buf[:0])
		case 3:
			b = r.EventDate.AppendTo(buf[:0])
		}
		for j := 0; j < len(s); j++ {
			h = (h ^ uint64(s[j])) * prime
		}
		for _, c := range b {
			h = (h ^ uint64(c)) * prime
		}
		h *= prime // the separator: h ^ 0 is h
	}
	return h
}

// cand is what applying a batch needs of a record it stores, kept once its row and stored
// form are let go.
type cand struct {
	pid              int64
	content          uint64
	source, recordID string
	region           string
	event, reported  sc.Date
	typ              sc.TypeID
	held, critical   bool
	link             int8 // the linkage outcome of a record linked to no one (0: linked)
	accept           engine.Resolution
}

// acceptOf is a RESOLVE record's accept= (spec §3) as the engine's resolution.
func acceptOf(accept string) engine.Resolution {
	switch accept {
	case "death":
		return engine.ResolveDeath
	case "alive":
		return engine.ResolveAlive
	}
	return engine.ResolveNone
}

// applyItem is a stored record to apply to a person: its place among the batch's
// candidates. (Its engine input is made as it is applied: a large batch holds an item a
// record, put in order once more by byPerson.)
type applyItem struct {
	pid int64
	c   int32
}

// byPerson puts items in order of pid, each person's in the order given: for many items,
// dealt out by pid (numbers 0…people-1) in time linear in their number.
func byPerson(items []applyItem, people int) []applyItem {
	if len(items) < people/8 {
		slices.SortStableFunc(items, func(a, b applyItem) int { return cmp.Compare(a.pid, b.pid) })
		return items
	}
	start := make([]int32, people+1)
	for i := range items {
		start[items[i].pid+1]++
	}
	for i := 1; i < len(start); i++ {
		start[i] += start[i-1]
	}
	out := make([]applyItem, len(items))
	for i := range items {
		j := &start[items[i].pid]
		out[*j] = items[i]
		*j++
	}
	return out
}

// applyParts stores and applies rows, given in parts (a batch's files, in order), as one
// batch in one transaction; also, when set, writes more into that transaction once the
// batch is applied (a replay's mark).
func (s *Service) applyParts(ctx context.Context, b Batch, parts [][]Row, res *Result, also func(*store.Tx) error) error {
	rows := prepareParts(parts, res)
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.write(ctx, func(tx *store.Tx, ch *change) error {
		if err := s.applyIn(tx, ch, b, rows, res); err != nil {
			return err
		}
		if !b.History && b.Origin != "replay" {
			// The dashboard moves with the batch (a replay's days are counted by its
			// daily refreshes).
			if err := tx.MoveCounted(s.dayOf(b), ch.counted()); err != nil {
				return err
			}
		}
		if also == nil {
			return nil
		}
		return also(tx)
	})
	if err == nil && !res.Repeat {
		s.counted(res)
	}
	return err
}

// counted adds an applied batch to the metrics.
func (s *Service) counted(res *Result) {
	s.metrics.RecordsIngested.Add(res.Report.Applied + res.Report.Held + res.Report.Unlinked)
	s.metrics.RecordsQuarantined.Add(int64(len(res.Problems)))
	s.metrics.Batches.Add(1)
}

// prepareRows defaults reported dates and puts the rows in spec §7's order.
func prepareRows(rows []Row, res *Result) []*Row { return prepareParts([][]Row{rows}, res) }

// prepareParts is prepareRows for rows given in parts (a batch's files, in order): the
// result points into the parts, which it keeps (a Row is too big to copy or move around).
func prepareParts(parts [][]Row, res *Result) []*Row {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	rows := make([]*Row, 0, n)
	for _, p := range parts {
		for i := range p {
			r := &p[i]
			r.seq = int32(len(rows))
			if r.ReportedDate == sc.NoDate {
				r.ReportedDate = r.EventDate
				res.Report.ReportedDateDefaulted++
			}
			rows = append(rows, r)
		}
	}
	// Sorted through an index that carries the two dates and the first bytes of the
	// source and record_id, which settle nearly every comparison without reading the row;
	// a large batch is sorted in two halves on two cores and merged (compareRows is a
	// total order, so the result is the one order whatever the split).
	idx := make([]sortKey, len(rows))
	for i := range idx {
		r := rows[i]
		k := &idx[i]
		k.dates = uint64(uint32(r.ReportedDate))<<32 | uint64(uint32(r.EventDate))
		k.name = namePrefix(r.Source(), r.RecordID())
		k.i = int32(i)
	}
	cmpIdx := func(a, b sortKey) int {
		if a.dates != b.dates {
			return cmp.Compare(int64(int32(a.dates>>32)), int64(int32(b.dates>>32)))*2 + cmp.Compare(int32(a.dates), int32(b.dates))
		}
		if a.name != b.name {
			if a.name[0] != b.name[0] {
				return cmp.Compare(a.name[0], b.name[0])
			}
			return cmp.Compare(a.name[1], b.name[1])
		}
		return compareRows(rows[a.i], rows[b.i])
	}
	sortHalves(idx, cmpIdx)
	sorted := make([]*Row, len(rows))
	for i, k := range idx {
		sorted[i] = rows[k.i]
	}
	return sorted
}

// inParts calls fn over [0, n) split in one part per core (a small n, in one part), and
// returns when every call has.
func inParts(n int, fn func(lo, hi int)) {
	k := runtime.GOMAXPROCS(0)
	if n < 1<<14 || k == 1 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	for j := range k {
		lo, hi := n*j/k, n*(j+1)/k
		wg.Add(1)
		go func() { defer wg.Done(); fn(lo, hi) }()
	}
	wg.Wait()
}

// sortKey is a row's dates (reported, event), the first 16 bytes of its source, a zero
// byte and its record_id (big-endian, zero-padded), and its index.
type sortKey struct {
	dates uint64
	name  [2]uint64
	i     int32
}

// namePrefix is the first 16 bytes of source+"\x00"+recordID as two big-endian numbers,
// zero-padded: where two prefixes differ they order as (source, record_id) does (a source
// holds no zero byte); where they are equal, the rows must be compared whole.
func namePrefix(source, recordID string) [2]uint64 {
	var b [16]byte
	n := copy(b[:], source)
	if n < len(b) {
		n++ // the zero byte
		copy(b[n:], recordID)
	}
	return [2]uint64{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

// sortHalves sorts s by cmp, a large slice as two halves on two goroutines merged.
func sortHalves(s []sortKey, cmpf func(a, b sortKey) int) {
	if len(s) < 1<<16 {
		slices.SortFunc(s, cmpf)
		return
	}
	h := len(s) / 2
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); slices.SortFunc(s[:h], cmpf) }()
	slices.SortFunc(s[h:], cmpf)
	wg.Wait()
	out := make([]sortKey, 0, len(s))
	a, b := s[:h], s[h:]
	for len(a) > 0 && len(b) > 0 {
		if cmpf(b[0], a[0]) < 0 {
			out, b = append(out, b[0]), b[1:]
		} else {
			out, a = append(out, a[0]), a[1:]
		}
	}
	out = append(append(out, a...), b...)
	copy(s, out)
}

// applyIn stores and applies prepared rows as one batch inside tx, recording in ch the
// people it changes; the caller commits, or undoes ch when anything fails.
func (s *Service) applyIn(tx *store.Tx, ch *change, b Batch, rows []*Row, res *Result) error {
	if b.History {
		// As the transaction sees the days run: one run while the batch's files were
		// read (Ingest's own check was before) refuses it as well.
		last, err := tx.LastRun()
		if err != nil {
			return err
		}
		if err := s.historyAfter(last); err != nil {
			return err
		}
	}
	if b.Stands != nil {
		if err := b.Stands(tx); err != nil {
			return err
		}
	}
	if done, err := s.repeated(tx, b, res); done || err != nil {
		return err
	}
	s.noteDeliveries(tx, ch, rows)
	day := s.dayOf(b)
	sb := &store.Batch{Origin: b.Origin, Source: b.Source, Actor: b.Actor, Received: s.wallTime(), Day: day,
		Status: "applied", Files: fileNames(b), Report: "{}", Key: b.Key, KeyForm: b.KeyForm}
	if _, err := tx.NewBatch(sb); err != nil {
		return err
	}
	res.BatchID = sb.ID
	if err := tx.Quarantine(sb.ID, problemsToStore(res.Problems)); err != nil {
		return err
	}
	// Each row's candidate (what applying needs of it), key and link, on every core. Its
	// stored form is made from the row and its candidate as the store writes it (fill):
	// building every row's at once, and then every encoding, held half again what the
	// rows themselves do in a large batch.
	cands := make([]cand, len(rows))
	rkeys := make([]store.Key, len(rows))
	inParts(len(rows), func(lo, hi int) {
		var scratch linkage.Scratch
		for i := lo; i < hi; i++ {
			r := rows[i]
			code := s.cat.Type(r.Type).Code
			c := &cands[i]
			*c = cand{pid: -1, content: contentHash(r, code), source: r.Source(), recordID: r.RecordID(), region: r.RegionCode(),
				typ: r.Type, event: r.EventDate, reported: r.ReportedDate, critical: r.Critical, accept: acceptOf(r.Accept())}
			rkeys[i].K1, rkeys[i].K2 = store.RecordKey(r.Source(), r.RecordID())
			rkeys[i].Content, rkeys[i].I = c.content, int32(i)
			pos, out := s.ix.Link([]byte(r.PersonID()), []byte(r.Name()), r.BirthDate, []byte(r.RegionCode()), &scratch)
			switch out {
			case linkage.Linked, linkage.HeldName:
				c.pid = s.ixOf[pos]
				c.held = out == linkage.HeldName
			default:
				c.link = int8(out)
			}
		}
	})
	// Each row stored once: a key repeated within the batch is a duplicate of its first
	// row in spec §7's order (the lowest index, sorted first among equal keys); a key
	// stored before, a duplicate of what was stored.
	store.SortKeys(rkeys)
	dup := make([]bool, len(rows))
	for j, first := 1, 0; j < len(rkeys); j++ {
		if rkeys[j].K1 != rkeys[first].K1 || rkeys[j].K2 != rkeys[first].K2 {
			first = j
			continue
		}
		dup[rkeys[j].I] = true
		res.Report.Duplicate++
		if rkeys[j].Content != rkeys[first].Content {
			res.Report.DuplicateConflict++
		}
	}
	// The candidates of the rows to store, in their order; rowOf names each one's row.
	rowOf := make([]int32, 0, len(rows))
	candOf := make([]int32, len(rows))
	refs := map[int32]string{} // a RESOLVE record's ref=
	for i, r := range rows {
		if !dup[i] {
			candOf[i] = int32(len(rowOf))
			if ref := r.Ref(); ref != "" {
				refs[int32(len(rowOf))] = ref
			}
			cands[len(rowOf)] = cands[i]
			rowOf = append(rowOf, int32(i))
		}
	}
	clear(cands[len(rowOf):])
	cands = cands[:len(rowOf)]
	// The keys of the records to store, still in key order, naming them by their place
	// among them.
	kept := rkeys[:0]
	for _, k := range rkeys {
		if !dup[k.I] {
			k.I = candOf[k.I]
			kept = append(kept, k)
		}
	}
	dup, candOf = nil, nil
	fill := func(i int, rec *store.Record) {
		c, r := &cands[i], rows[rowOf[i]]
		*rec = store.Record{Source: r.Source(), RecordID: r.RecordID(), Type: s.cat.Type(r.Type).Code, PID: c.pid, Link: int(c.link), Held: c.held,
			PersonID: r.PersonID(), Name: r.Name(), BirthDate: r.BirthDate, EventDate: r.EventDate, ReportedDate: r.ReportedDate,
			RegionCode: r.RegionCode(), Detail: r.RawDetail(), Content: c.content, Batch: sb.ID, File: r.File(), Line: r.Line}
	}
	ids, inserted, contents, err := tx.InsertKeyed(len(cands), fill, kept)
	if err != nil {
		return err
	}
	err = s.noteCoverage(tx, ch, sb.ID, len(cands), func(i int) (sc.TypeID, sc.Date, sc.Date, bool) {
		return cands[i].typ, cands[i].event, cands[i].reported, inserted[i]
	})
	if err != nil {
		return err
	}
	var base int64 // the id of cands[i] is base+i when it was inserted
	if i := slices.Index(inserted, true); i >= 0 {
		base = ids[i] - int64(i)
	}
	rkeys, kept, rowOf = nil, nil, nil // free for the engine's work
	items := make([]applyItem, 0, len(cands))
	targets := map[int32]engine.Ref{} // a RESOLVE record's target, by its candidate
	for i := range cands {
		c := &cands[i]
		pid := c.pid
		if s.opt.Fault != nil {
			s.opt.Fault("ingest", i+1)
		}
		if !inserted[i] {
			res.Report.Duplicate++
			if contents[i] != c.content {
				res.Report.DuplicateConflict++
			}
			continue
		}
		t := s.cat.Type(c.typ)
		switch {
		case c.held:
			res.Report.Held++
			continue
		case pid < 0:
			res.Report.Unlinked++
			continue
		}
		res.Report.Applied++
		if t.Class == sc.ClassResolve {
			// RESOLVE records name their target by key: found now that the batch is stored.
			target, err := refByKey(tx, refs[int32(i)])
			if err != nil {
				return err
			}
			targets[int32(i)] = target
		}
		items = append(items, applyItem{pid: pid, c: int32(i)})
	}
	items = byPerson(items, len(s.ppl))
	k := newSink()
	k.quiet = b.History
	// Many people's states are written as they are applied, by a goroutine of their own:
	// the store writes one chunk of people while the next is applied (as the 1st's run
	// does), in the order writing them after would.
	var w *bgWriter
	chunk := tx.StatesChunk()
	people := 0
	for i := range items {
		if i == 0 || items[i].pid != items[i-1].pid {
			people++
		}
	}
	if !ch.hold && people >= 4*chunk {
		w = newBgWriter(tx)
		defer w.wait()
	}
	var in engine.Input // one, reused: the engine keeps no input
	for len(items) > 0 {
		p := s.ppl[items[0].pid]
		n := 1
		for n < len(items) && items[n].pid == p.PID {
			n++
		}
		ch.touch(p)
		k.p = p
		for i := range items[:n] {
			it := &items[i]
			d := day
			if b.History {
				d = cands[it.c].reported
			}
			c := &cands[it.c]
			t := s.cat.Type(c.typ)
			in = engine.Input{Type: c.typ, Event: c.event, Ref: engine.Ref(ids[it.c]), Critical: c.critical, Target: engine.NoRef}
			if s.opt.Model != nil {
				in.Place = sc.PlaceOf(c.region) // only a model reads it
			}
			if t.Class == sc.ClassResolve {
				in.Accept, in.Target = c.accept, targets[it.c]
			}
			s.eng.Apply(p.Rec, &p.State, &in, d, k)
			if t.Moves && cands[it.c].region != "" && p.State.Status != sc.StatusTerminated &&
				p.Rec.RegionCode != cands[it.c].region {
				// A copy: the region is cut from its row's text, which is let go.
				p.Rec.RegionCode = strings.Clone(cands[it.c].region)
			}
		}
		if !b.History {
			p.NextCheck = day // evaluated by the day's run, as backtest evaluates after applying
			markBaselined(p, day)
		}
		items = items[n:]
		if w != nil && len(ch.order) >= chunk {
			if err := w.send(ch, k, chunk, false); err != nil {
				return err
			}
		}
	}
	if w != nil {
		for len(ch.order) > 0 {
			if err := w.send(ch, k, chunk, false); err != nil {
				return err
			}
		}
		if err := w.wait(); err != nil {
			return err
		}
	}
	if err := ch.write(tx); err != nil {
		return err
	}
	// The decisions name their evidence: this batch's records by their rows, older ones
	// from the store.
	keys := map[int64]string{}
	name := func(r engine.Ref) {
		if i := int64(r) - base; r != engine.NoRef && i >= 0 && i < int64(len(cands)) && inserted[i] {
			keys[int64(r)] = cands[i].source + ":" + cands[i].recordID
		}
	}
	for i := range k.decs {
		name(k.decs[i].d.Evidence)
		name(k.decs[i].d.Other)
	}
	if _, err := k.flush(tx, keys, "engine", s.hook(tx)); err != nil {
		return err
	}
	rep, err := json.Marshal(res.Report.Map())
	if err != nil {
		return err
	}
	if err := tx.FinishBatch(sb.ID, "applied", string(rep)); err != nil {
		return err
	}
	return tx.Append(b.auditRows(sb, res, b.Origin, string(rep)))
}

// markBaselined notes that a person not yet given their first status row has one: a
// record applied today wrote the row of the status they are in (a death reported before
// their first daily run). The run then writes no second row of it (spec §6: a change
// writes one row), whether it comes today or, after downtime or a late batch, days later.
func markBaselined(p *Person, day sc.Date) {
	if !p.Baselined && p.State.RowDay == day && p.State.RowStatus == p.State.Status {
		p.Baselined = true
	}
}

// repeated reports whether b's key names a batch stored already (read in the batch's
// transaction, under s.mu: two sends of one form cannot both pass), noting it in res.
func (s *Service) repeated(tx *store.Tx, b Batch, res *Result) (bool, error) {
	if b.Key == "" {
		return false, nil
	}
	id, ok, err := tx.BatchKeyed(b.Key)
	if ok {
		res.BatchID, res.Repeat = id, true
	}
	return ok, err
}

// auditRows are a stored batch's audit rows: its own (action, detail), then Batch.Audit's.
func (b *Batch) auditRows(sb *store.Batch, res *Result, action, detail string) []store.AuditRow {
	rows := []store.AuditRow{{Kind: "batch", Day: sb.Day, At: sb.Received, Actor: b.Actor, PID: -1,
		Action: action, Evidence: "batch:" + itoa(sb.ID), Detail: detail}}
	if b.Audit != nil {
		rows = append(rows, b.Audit(sb.ID, &res.Report)...)
	}
	return rows
}

// hook adapts Options.OnDecision to the transaction at hand.
func (s *Service) hook(tx *store.Tx) func(*Person, engine.Decision) error {
	if s.opt.OnDecision == nil {
		return nil
	}
	return func(p *Person, d engine.Decision) error { return s.opt.OnDecision(tx, p, d) }
}
