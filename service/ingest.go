package service

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"io"
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
	Origin string // "file", "drop", "api", "console", "replay"
	// Source, when set, is the only source the batch may carry (an API key's department):
	// rows of another source are quarantined.
	Source   string
	Actor    string
	Day      sc.Date // the day the records are applied; NoDate: today
	Files    []File
	Encoding string // "" detects
	// History applies each record on its reported_date without decision rows: the load of
	// records reported before the service's first day (as backtest does before --from).
	History bool
}

// Result is what an ingestion did.
type Result struct {
	BatchID  int64
	Report   exchange.BatchReport
	Problems []exchange.Problem
	Rejected string // why the whole batch was refused ("" when applied)
}

// Row is one record read, with where it came from.
type Row struct {
	sc.Record
	File string
	Line int64
	seq  int
}

// Ingest reads a batch's files and applies it. A file that cannot be read to its end (a
// truncated gzip stream) refuses the whole batch: the refusal is stored with its reason
// and nothing of the batch is applied. Bad rows are quarantined and the rest applied.
func (s *Service) Ingest(ctx context.Context, b Batch) (*Result, error) {
	res := &Result{}
	// The files are read on every core and taken in order; the first that cannot be
	// read refuses the batch.
	type read struct {
		rows     []Row
		probs    []exchange.Problem
		warns    []exchange.Warning
		enc      string
		rejected string
		opened   bool
	}
	var parts [][]Row
	errStop := errors.New("refused")
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
		rr, err := exchange.NewRecordReader(f.Name, f.Body, format, gz, s.cat, exchange.Options{Encoding: b.Encoding})
		if err != nil {
			r.rejected = err.Error()
			return r
		}
		r.opened = true
		r.rows, r.probs, err = readAll(nil, rr, b.Source)
		r.enc, r.warns = rr.Encoding(), rr.Warnings()
		rr.Close()
		if err != nil {
			r.rejected = f.Name + ": " + err.Error() + " (the batch is refused whole; send it again)"
		}
		return r
	}, func(i int, r read) error {
		if r.opened {
			res.Report.AddFile(b.Files[i].Name, r.enc)
			res.Report.AddWarnings(r.warns)
		}
		if r.rejected != "" {
			res.Rejected = r.rejected
			return errStop
		}
		res.Report.Read += int64(len(r.rows) + len(r.probs))
		for _, p := range r.probs {
			res.Report.AddProblem(p)
		}
		res.Problems = append(res.Problems, r.probs...)
		parts = append(parts, r.rows)
		return nil
	})
	if err != nil && err != errStop {
		return nil, err
	}
	if res.Rejected != "" {
		return res, s.reject(ctx, b, res)
	}
	return res, s.applyParts(ctx, b, parts, res)
}

// readAll appends a file's rows to rows, checking the batch's source.
func readAll(rows []Row, rr *exchange.RecordReader, source string) ([]Row, []exchange.Problem, error) {
	var probs []exchange.Problem
	for {
		row, prob, err := rr.Next()
		if err == io.EOF {
			return rows, probs, nil
		}
		if err != nil {
			return nil, nil, err
		}
		if prob != nil {
			probs = append(probs, *prob)
			continue
		}
		if source != "" && string(row.Source) != source {
			probs = append(probs, exchange.Problem{File: row.File, Line: row.Line, Field: "source", Reason: "source_not_allowed",
				Message: "this key may send only " + source + " records, not " + string(row.Source)})
			continue
		}
		rows = append(rows, Row{Record: row.Record(), File: row.File, Line: row.Line})
	}
}

// reject stores a refused batch with its reason, and nothing else.
func (s *Service) reject(ctx context.Context, b Batch, res *Result) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.write(ctx, func(tx *store.Tx, _ *change) error {
		rep, _ := json.Marshal(map[string]any{"rejected": res.Rejected})
		sb := &store.Batch{Origin: b.Origin, Source: b.Source, Actor: b.Actor, Received: s.wallTime(), Day: s.dayOf(b),
			Status: "rejected", Files: fileNames(b), Report: string(rep)}
		if _, err := tx.NewBatch(sb); err != nil {
			return err
		}
		res.BatchID = sb.ID
		return tx.Append([]store.AuditRow{{Kind: "batch", Day: sb.Day, At: sb.Received, Actor: b.Actor, PID: -1,
			Action: "rejected", Evidence: "batch:" + itoa(sb.ID), Detail: res.Rejected}})
	})
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
	if c := strings.Compare(a.Source, b.Source); c != 0 {
		return c
	}
	if c := strings.Compare(a.RecordID, b.RecordID); c != 0 {
		return c
	}
	return cmp.Compare(a.seq, b.seq)
}

// contentHash identifies a row's content, so that a resend that differs is told apart
// from a plain resend (FNV-1a: stable across processes and machines).
func contentHash(r *sc.Record, code string) uint64 {
	// FNV-1a over the fields, each followed by a zero byte, written out so that it
	// allocates nothing (the same values as hash/fnv's New64a: they are stored).
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	var buf [16]byte
	for i, s := range [...]string{r.PersonID, r.Name, "", "", r.RegionCode, r.RawDetail, code} {
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

// applyItem is a stored record to apply to a person.
type applyItem struct {
	row *Row
	id  int64
	in  engine.Input
}

// apply stores and applies rows as one batch, in one transaction.
func (s *Service) apply(ctx context.Context, b Batch, rows []Row, res *Result) error {
	return s.applyParts(ctx, b, [][]Row{rows}, res)
}

// applyParts is apply for rows given in parts (a batch's files, in order).
func (s *Service) applyParts(ctx context.Context, b Batch, parts [][]Row, res *Result) error {
	rows := prepareParts(parts, res)
	clear(parts) // the sorted copy is all that is needed now
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.write(ctx, func(tx *store.Tx, ch *change) error { return s.applyIn(tx, ch, b, rows, res) })
	if err == nil {
		s.counted(res)
	}
	return err
}

// counted adds an applied batch to the metrics.
func (s *Service) counted(res *Result) {
	RecordsIngested.Add(res.Report.Applied + res.Report.Held + res.Report.Unlinked)
	RecordsQuarantined.Add(int64(len(res.Problems)))
	Batches.Add(1)
}

// prepareRows defaults reported dates and puts the rows in spec §7's order.
func prepareRows(rows []Row, res *Result) []Row { return prepareParts([][]Row{rows}, res) }

// prepareParts is prepareRows for rows given in parts (a batch's files, in order): the
// rows are moved once, into the sorted result.
func prepareParts(parts [][]Row, res *Result) []Row {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	rows := make([]*Row, 0, n)
	for _, p := range parts {
		for i := range p {
			r := &p[i]
			r.seq = len(rows)
			if r.ReportedDate == sc.NoDate {
				r.ReportedDate = r.EventDate
				res.Report.ReportedDateDefaulted++
			}
			rows = append(rows, r)
		}
	}
	// Sorted through an index: a Row is a few hundred bytes, too big to move around. The
	// index carries the two dates, which settle most comparisons without reading the row;
	// a large batch is sorted in two halves on two cores and merged (compareRows is a
	// total order, so the result is the one order whatever the split).
	idx := make([]sortKey, len(rows))
	for i := range idx {
		r := rows[i]
		idx[i] = sortKey{uint64(uint32(r.ReportedDate))<<32 | uint64(uint32(r.EventDate)), int32(i)}
	}
	cmpIdx := func(a, b sortKey) int {
		if a.dates != b.dates {
			return cmp.Compare(int64(int32(a.dates>>32)), int64(int32(b.dates>>32)))*2 + cmp.Compare(int32(a.dates), int32(b.dates))
		}
		return compareRows(rows[a.i], rows[b.i])
	}
	sortHalves(idx, cmpIdx)
	sorted := make([]Row, len(rows))
	for i, k := range idx {
		sorted[i] = *rows[k.i]
	}
	return sorted
}

// sortKey is a row's dates (reported, event) and its index.
type sortKey struct {
	dates uint64
	i     int32
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
func (s *Service) applyIn(tx *store.Tx, ch *change, b Batch, rows []Row, res *Result) error {
	s.noteDeliveries(rows)
	day := s.dayOf(b)
	sb := &store.Batch{Origin: b.Origin, Source: b.Source, Actor: b.Actor, Received: s.wallTime(), Day: day,
		Status: "applied", Files: fileNames(b), Report: "{}"}
	if _, err := tx.NewBatch(sb); err != nil {
		return err
	}
	res.BatchID = sb.ID
	if err := tx.Quarantine(sb.ID, problemsToStore(res.Problems)); err != nil {
		return err
	}
	byPerson := map[int64][]applyItem{}
	var scratch linkage.Scratch
	// Each row stored once: a key repeated within the batch is a duplicate of its first
	// row (in spec §7's order); a key stored before, a duplicate of what was stored.
	type cand struct {
		rec *store.Record
		row *Row
		pid int64
	}
	type recordKey struct{ source, recordID string }
	cands := make([]cand, 0, len(rows))
	slab := make([]store.Record, len(rows))
	first := make(map[recordKey]int32, len(rows))
	for i := range rows {
		r := &rows[i]
		t := s.cat.Type(r.Type)
		rec := &slab[i]
		*rec = store.Record{Source: r.Source, RecordID: r.RecordID, Type: t.Code, PID: -1, PersonID: r.PersonID,
			Name: r.Name, BirthDate: r.BirthDate, EventDate: r.EventDate, ReportedDate: r.ReportedDate,
			RegionCode: r.RegionCode, Detail: r.RawDetail, Content: contentHash(&r.Record, t.Code), Batch: sb.ID,
			File: r.File, Line: r.Line}
		key := recordKey{r.Source, r.RecordID}
		if j, ok := first[key]; ok {
			res.Report.Duplicate++
			if cands[j].rec.Content != rec.Content {
				res.Report.DuplicateConflict++
			}
			continue
		}
		first[key] = int32(len(cands))
		pos, out := s.ix.Link([]byte(r.PersonID), []byte(r.Name), r.BirthDate, []byte(r.RegionCode), &scratch)
		var pid int64 = -1
		switch out {
		case linkage.Linked, linkage.HeldName:
			pid = s.ixOf[pos]
			rec.PID = pid
			rec.Held = out == linkage.HeldName
		default:
			rec.Link = int(out)
		}
		cands = append(cands, cand{rec: rec, row: r, pid: pid})
	}
	recs := make([]*store.Record, len(cands))
	for i := range cands {
		recs[i] = cands[i].rec
	}
	ids, inserted, contents, err := tx.InsertRecords(recs)
	if err != nil {
		return err
	}
	err = s.noteCoverage(tx, ch, sb.ID, len(cands), func(i int) (sc.TypeID, sc.Date, sc.Date, bool) {
		return cands[i].row.Type, cands[i].row.EventDate, cands[i].row.ReportedDate, inserted[i]
	})
	if err != nil {
		return err
	}
	recs, first = nil, nil // free for the engine's work
	var base int64         // the id of cands[i] is base+i when it was inserted
	if len(cands) > 0 {
		base = cands[0].rec.ID
	}
	for i := range cands {
		c := &cands[i]
		r, rec, pid, id := c.row, c.rec, c.pid, ids[i]
		if s.opt.Fault != nil {
			s.opt.Fault("ingest", i+1)
		}
		if !inserted[i] {
			res.Report.Duplicate++
			if contents[i] != rec.Content {
				res.Report.DuplicateConflict++
			}
			continue
		}
		t := s.cat.Type(r.Type)
		switch {
		case rec.Held:
			res.Report.Held++
			continue
		case pid < 0:
			res.Report.Unlinked++
			continue
		}
		res.Report.Applied++
		in := engine.Input{Type: r.Type, Event: r.EventDate, Ref: engine.Ref(id), Critical: r.Detail.Critical, Target: engine.NoRef}
		if t.Class == sc.ClassResolve {
			switch r.Detail.Accept {
			case "death":
				in.Accept = engine.ResolveDeath
			case "alive":
				in.Accept = engine.ResolveAlive
			}
		}
		byPerson[pid] = append(byPerson[pid], applyItem{row: r, id: id, in: in})
	}
	// RESOLVE records name their target by key: find it now that the batch is stored.
	for _, items := range byPerson {
		for i := range items {
			it := &items[i]
			if s.cat.Type(it.row.Type).Class != sc.ClassResolve {
				continue
			}
			if j := strings.IndexByte(it.row.Detail.Ref, ':'); j > 0 {
				if id, ok, err := tx.RecordIDByKey(it.row.Detail.Ref[:j], it.row.Detail.Ref[j+1:]); err != nil {
					return err
				} else if ok {
					it.in.Target = engine.Ref(id)
				}
			}
		}
	}
	pids := make([]int64, 0, len(byPerson))
	for pid := range byPerson {
		pids = append(pids, pid)
	}
	slices.Sort(pids)
	k := newSink()
	k.quiet = b.History
	for _, pid := range pids {
		p := s.ppl[pid]
		ch.touch(p)
		k.p = p
		for i := range byPerson[pid] {
			it := &byPerson[pid][i]
			d := day
			if b.History {
				d = it.row.ReportedDate
			}
			s.eng.Apply(p.Rec, &p.State, &it.in, d, k)
			if t := s.cat.Type(it.row.Type); t.Moves && it.row.RegionCode != "" && p.State.Status != sc.StatusTerminated {
				p.Rec.RegionCode = it.row.RegionCode
			}
		}
		if !b.History {
			p.NextCheck = day // evaluated by the day's run, as backtest evaluates after applying
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
			keys[int64(r)] = cands[i].row.Source + ":" + cands[i].row.RecordID
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
	return tx.Append([]store.AuditRow{{Kind: "batch", Day: day, At: sb.Received, Actor: b.Actor, PID: -1,
		Action: b.Origin, Evidence: "batch:" + itoa(sb.ID), Detail: string(rep)}})
}

// hook adapts Options.OnDecision to the transaction at hand.
func (s *Service) hook(tx *store.Tx) func(*Person, engine.Decision) error {
	if s.opt.OnDecision == nil {
		return nil
	}
	return func(p *Person, d engine.Decision) error { return s.opt.OnDecision(tx, p, d) }
}
