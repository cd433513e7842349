package backtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/engine"
	"github.com/silentcert/silentcert/exchange"
	"github.com/silentcert/silentcert/internal/atomicfile"
	"github.com/silentcert/silentcert/linkage"
)

// Options is what a backtest needs: spec §7's command line, the configuration, and how
// to run.
type Options struct {
	Roster   string
	Records  []string // files or directories
	From, To sc.Date
	Out      string
	Config   *sc.Config // nil: the built-in defaults
	Encoding string     // "" detects; "utf-8", "gbk" or "gb18030" forces, for the roster and every record file (a gbk or gb18030 not for a file that is evidently UTF-8: exchange.Options)
	Workers  int        // goroutines; 0: GOMAXPROCS
	// ResolveRegion resolves a roster row's hukou_address when it has no region_code.
	ResolveRegion func(address string) (string, bool)
	// Progress, when set, is called now and then from the goroutine that runs the backtest.
	Progress func(Progress)
	// Model is the evidence model the engine consults (nil: the baseline weak rule).
	Model engine.Model
}

// Progress tells how far a run has come.
type Progress struct {
	Phase   string  // "read", "dedupe", "history", "replay", "write"
	Records int64   // record rows read so far
	Day     sc.Date // the day being replayed
}

// runner holds one backtest's data.
type runner struct {
	opt       Options
	cfg       *sc.Config
	eng       *engine.Engine
	cat       *sc.Catalogue
	people    []*sc.Recipient
	states    []engine.State
	entries   segs[entry]
	content   segs[uint32]   // each entry's content hash, until duplicates are found
	places    segs[sc.Place] // each entry's place, when a model reads it
	hash      hasher
	partIdx   [maxPartitions]segs[uint32]      // the entries of each key partition, in order
	subCount  [maxPartitions][1 << subBits]int // how many of them in each sub-partition
	pool      segPool                          // segments let go by one phase for the next
	ids       idStore
	resolve   map[uint32]resolveInfo
	moves     map[uint32]string // the new region of each move record
	resolveMu sync.Mutex        // guards resolve while duplicates are found
	srcRank   []int             // each type's source, ranked in byte order of the codes
	rep       *Report

	problems []exchange.Problem
	order    segs[uint32] // applied entries by (day bucket, person); the replay sorts each group
	buckets  []uint32     // start of each day bucket in order; bucket 0 is history
	days     int
	read     atomic.Int64
}

// Run replays history as spec §7 describes and writes the output files into opt.Out.
func Run(ctx context.Context, opt Options) (*Report, error) {
	if opt.From > opt.To {
		return nil, sc.Errorf(sc.EInvalid, "--from %s is after --to %s", opt.From, opt.To)
	}
	if opt.Config == nil {
		opt.Config = sc.DefaultConfig()
	}
	if opt.Workers <= 0 {
		opt.Workers = runtime.GOMAXPROCS(0)
	}
	r := &runner{opt: opt, cfg: opt.Config, cat: opt.Config.Catalogue, eng: engine.New(opt.Config).WithModel(opt.Model), rep: newReport()}
	r.days = int(opt.To-opt.From) + 1
	r.rankSources()
	if err := os.MkdirAll(opt.Out, 0o755); err != nil {
		return nil, err
	}
	if r.days+1 > 0xFFFF {
		return nil, sc.Errorf(sc.EInvalid, "--from %s to --to %s: a replay is limited to 65,534 days", opt.From, opt.To)
	}
	if err := r.loadRoster(); err != nil {
		return nil, err
	}
	if err := r.loadRecords(ctx); err != nil {
		return nil, err
	}
	r.progress(Progress{Phase: "history", Records: r.read.Load()})
	r.sortApplied()
	r.feedModel()
	r.states = make([]engine.State, len(r.people))
	// decisions.csv, like every file of the run, is put in place whole (atomicfile).
	dec, err := atomicfile.Create(filepath.Join(opt.Out, "decisions.csv"))
	if err != nil {
		return nil, err
	}
	defer dec.Close()
	if err := r.replay(ctx, dec); err != nil {
		return nil, err
	}
	if err := dec.Commit(); err != nil {
		return nil, err
	}
	r.order, r.buckets = segs[uint32]{}, nil
	r.progress(Progress{Phase: "write", Records: r.read.Load(), Day: opt.To})
	if err := r.writeOutputs(); err != nil {
		return nil, err
	}
	return r.rep, nil
}

func (r *runner) progress(p Progress) {
	if r.opt.Progress != nil {
		r.opt.Progress(p)
	}
}

func (r *runner) rankSources() {
	srcs := r.cat.Sources()
	r.srcRank = make([]int, r.cat.Len())
	for i := range r.srcRank {
		r.srcRank[i] = sort.SearchStrings(srcs, r.cat.Type(sc.TypeID(i)).Source)
	}
}

func (r *runner) loadRoster() error {
	ro, err := exchange.ReadRoster(r.opt.Roster, exchange.RosterOptions{
		Encoding: r.opt.Encoding, Config: r.cfg, ResolveRegion: r.opt.ResolveRegion,
		// A last_certified after --to is warned about and kept: read as --to, the same
		// roster certified its people until a date that moved with the replay's length.
		CertifiedBy: r.opt.To, KeepLater: true,
	})
	if err != nil {
		return err
	}
	r.rep.roster(ro)
	people := ro.Recipients
	if !sort.SliceIsSorted(people, func(i, j int) bool { return people[i].PersonID < people[j].PersonID }) {
		sort.Slice(people, func(i, j int) bool { return people[i].PersonID < people[j].PersonID })
	}
	// The people and their entitlements, copied into two arrays in person order: the
	// replay and the outputs walk people in that order, so their data follow each other in
	// memory instead of lying wherever the roster reader left them.
	n := 0
	for _, p := range people {
		n += len(p.Entitlements)
	}
	flat := make([]sc.Recipient, len(people))
	ents := make([]sc.Entitlement, 0, n)
	r.people = make([]*sc.Recipient, len(people))
	for i, p := range people {
		flat[i] = *p
		q := &flat[i]
		// The replay never reads addresses or phones: let them go.
		q.HukouAddress, q.Phone, q.AgentPhone = "", "", ""
		start := len(ents)
		ents = append(ents, p.Entitlements...)
		q.Entitlements = ents[start:len(ents):len(ents)]
		// Entitlements in benefit_type order: the order of payroll and overpayment rows.
		slices.SortStableFunc(q.Entitlements, func(a, b sc.Entitlement) int {
			return bytes.Compare([]byte(a.Benefit), []byte(b.Benefit))
		})
		r.people[i] = q
	}
	r.problems = append(r.problems, ro.Problems...)
	return nil
}

func (r *runner) loadRecords(ctx context.Context) error {
	var files []string
	for _, path := range r.opt.Records {
		fs, warns, err := exchange.ListRecordFiles(path)
		if err != nil {
			return err
		}
		for _, w := range warns {
			r.rep.Warnings = append(r.rep.Warnings, formatWarning(w))
		}
		files = append(files, fs...)
	}
	enc := r.opt.Encoding
	r.hash = newHasher()
	r.moves = map[uint32]string{}
	l := &loader{cat: r.cat, ix: linkage.New(r.people), to: r.opt.To, places: r.opt.Model != nil, opt: exchange.Options{Encoding: enc}, hash: r.hash,
		spare: make(chan []entry, r.opt.Workers+2), spareContents: make(chan []uint32, r.opt.Workers+2),
		spareIDs: make(chan idEncoder, r.opt.Workers+2)}
	l.class = make([]sc.Class, r.cat.Len())
	for i := range l.class {
		l.class[i] = r.cat.Type(sc.TypeID(i)).Class
	}
	var pending []pendingResolve
	var idx [maxPartitions][]uint32 // a chunk's entries by key partition, reused
	err := l.parseAll(ctx, files, r.opt.Workers, func(c *chunk) error {
		r.rep.Files++
		for _, w := range c.warnings {
			r.rep.Warnings = append(r.rep.Warnings, formatWarning(w))
		}
		if c.rejected != nil {
			r.rep.FilesRejected++
			r.problems = append(r.problems, exchange.Problem{File: c.file, Reason: "unreadable", Message: c.rejected.Error()})
			// quarantine.csv has no column for why (spec §7): the report says it.
			r.rep.Warnings = append(r.rep.Warnings, c.rejected.Error())
			r.rep.QuarantinedByReason["unreadable"]++
			r.rep.Quarantined++
			return nil
		}
		if c.encoding != "" {
			r.rep.Encodings[c.encoding]++
		}
		r.read.Add(c.read)
		r.rep.Read += c.read
		r.rep.ReportedAfterTo += c.afterTo
		r.rep.ReportedDateDefaulted += c.defaulted
		for _, p := range c.problems {
			r.rep.Quarantined++
			r.rep.QuarantinedByReason[p.Reason]++
		}
		r.problems = append(r.problems, c.problems...)
		base := uint32(r.entries.len())
		if uint64(base)+uint64(len(c.entries)) >= 1<<32-1 {
			return fmt.Errorf("records: more than 4 billion rows in one run")
		}
		// The store keeps an exact copy: a parse buffer grown by doubling would keep a
		// quarter of its size unused, for the whole run.
		if uint64(len(c.ids.data)) >= 1<<32 {
			return fmt.Errorf("%s: more than 4 GiB of record_ids in one file", c.file)
		}
		r.ids.add(&c.ids)
		select {
		case l.spareIDs <- c.ids:
		default:
		}
		c.ids = idEncoder{}
		r.entries.append(c.entries)
		r.content.append(c.contents)
		r.places.append(c.places)
		select {
		case l.spareContents <- c.contents[:0]:
		default:
		}
		c.contents = nil
		for p := range idx {
			idx[p] = idx[p][:0]
		}
		for i := range c.entries {
			p := c.entries[i].partition()
			idx[p] = append(idx[p], base+uint32(i))
		}
		for p := range idx {
			r.partIdx[p].append(idx[p])
			for s, n := range c.subCount[p] {
				r.subCount[p][s] += int(n)
			}
		}
		select {
		case l.spare <- c.entries[:0]:
		default:
		}
		c.entries = nil
		for _, m := range c.moves {
			r.moves[base+m.idx] = m.region
		}
		for _, pr := range c.resolves {
			pr.idx += base
			pending = append(pending, pr)
		}
		r.progress(Progress{Phase: "read", Records: r.read.Load()})
		return nil
	})
	if err != nil {
		return err
	}
	// The reading's garbage (the linkage index, the parse buffers) is collected now, so
	// that finding duplicates reuses its memory instead of adding to it.
	l, idx = nil, [maxPartitions][]uint32{}
	runtime.GC()
	r.progress(Progress{Phase: "dedupe", Records: r.read.Load()})
	r.resolve = make(map[uint32]resolveInfo, len(pending))
	for _, pr := range pending {
		r.resolve[pr.idx] = resolveInfo{accept: pr.accept, target: engine.NoRef}
	}
	r.findDuplicates(pending)
	r.pool.put(&r.content)
	r.settleDuplicates()
	return nil
}

// keyOf recomputes the idempotency key of entry i from its source and record_id.
func (r *runner) keyOf(i uint32, buf *[]byte) [2]uint64 {
	c, k := r.ids.chunk(i)
	src := c.source
	if c.mixed {
		src = r.cat.Type(r.entries.at(i).typ).Source
	}
	b := append(append((*buf)[:0], src...), 0)
	b = c.appendID(b, k)
	*buf = b
	return r.hash.sum(b)
}

// findDuplicates marks every occurrence of a key but the first in spec §7's order, and a
// duplicate whose content differs from the first as a conflict; it also finds the records
// that RESOLVE rows name. The key space is split into maxPartitions partitions (chosen at
// parse time); the workers take them in turn, each with a table small enough to stay
// mostly in cache, which is freed before the next. The result does not depend on the
// number of workers.
func (r *runner) findDuplicates(pending []pendingResolve) {
	parts := make(chan int, maxPartitions)
	for p := 0; p < maxPartitions; p++ {
		parts <- p
	}
	close(parts)
	var wg sync.WaitGroup
	for w := 0; w < r.opt.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			var ks []keyIdx
			var d dedupe
			for p := range parts {
				list := &r.partIdx[p]
				n := list.len()
				// The partition's keys grouped by sub-partition (counted as the files
				// were read), each group in entry order.
				ks = slices.Grow(ks[:0], n)[:n]
				var start [1<<subBits + 1]int
				for s := 0; s < 1<<subBits; s++ {
					start[s+1] = start[s] + r.subCount[p][s]
				}
				next := start
				for k := 0; k < n; k++ {
					i := *list.at(uint32(k))
					key := r.keyOf(i, &buf)
					s := key[0] >> (64 - subBits)
					ks[next[s]] = keyIdx{key: key, idx: i}
					next[s]++
				}
				for s := 0; s < 1<<subBits; s++ {
					sub := ks[start[s]:start[s+1]]
					d.init(len(sub))
					for pos := range sub {
						if lose := d.insert(&r.entries, sub, pos); lose >= 0 {
							r.entries.at(sub[lose].idx).flags |= fDuplicate
						}
					}
					for _, x := range sub {
						e := r.entries.at(x.idx)
						if e.flags&fDuplicate == 0 {
							continue
						}
						if win, ok := d.lookup(sub, x.key); ok && *r.content.at(sub[win].idx) != *r.content.at(x.idx) {
							e.flags |= fDupConflict
						}
					}
					for _, pr := range pending {
						if !pr.has || pr.part != p || int(pr.target[0]>>(64-subBits)) != s {
							continue
						}
						if win, ok := d.lookup(sub, pr.target); ok {
							r.resolveMu.Lock()
							info := r.resolve[pr.idx]
							info.target = engine.Ref(sub[win].idx)
							r.resolve[pr.idx] = info
							r.resolveMu.Unlock()
						}
					}
				}
				r.pool.put(list)
			}
		}()
	}
	wg.Wait()
}

// settleDuplicates counts duplicates against their key's final winner and tallies held
// and unlinked rows.
func (r *runner) settleDuplicates() {
	for i := 0; i < r.entries.len(); i++ {
		e := r.entries.at(uint32(i))
		if e.flags&fDuplicate != 0 {
			r.rep.Duplicate++
			if e.flags&fDupConflict != 0 {
				r.rep.DuplicateConflict++
			}
			continue
		}
		switch {
		case e.flags&fHeld != 0:
			r.rep.Held++
		case e.flags&fUnlinked != 0:
			r.rep.Unlinked++
			r.rep.unlinked(r.cat.Type(e.typ), e.outcome())
		default:
			r.rep.Applied++
		}
	}
}

// sortApplied orders the applied entries by (day bucket, person) with two stable
// counting sorts; the replay sorts each (bucket, person) group by spec §7's order when it
// comes to it, as it reads those entries anyway. Each pass is split among the workers,
// each with its own counts, so that the order is the same for any number of workers.
func (r *runner) sortApplied() {
	n := len(r.people)
	ne := r.entries.len()
	nb := r.days + 1
	W := r.opt.Workers
	applied := func(e *entry) bool { return e.flags&(fDuplicate|fHeld|fUnlinked) == 0 }
	parallel := func(f func(w int)) {
		var wg sync.WaitGroup
		for w := 0; w < W; w++ {
			wg.Add(1)
			go func() { defer wg.Done(); f(w) }()
		}
		wg.Wait()
	}
	// Counts by person and by bucket, per worker over its range of entries.
	pc := make([][]uint32, W)
	bcw := make([][]uint32, W)
	parallel(func(w int) {
		pc[w], bcw[w] = make([]uint32, n), make([]uint32, nb)
		for i := ne * w / W; i < ne*(w+1)/W; i++ {
			if e := r.entries.at(uint32(i)); applied(e) {
				pc[w][e.person]++
				bcw[w][r.bucket(e.reported)]++
			}
		}
	})
	// count[p]: where person p starts; pc[w][p] becomes where worker w's part of p starts.
	count := make([]uint32, n+1)
	var total uint32
	for p := 0; p < n; p++ {
		count[p] = total
		for w := 0; w < W; w++ {
			c := pc[w][p]
			pc[w][p] = total
			total += c
		}
	}
	count[n] = total
	bc := make([]uint32, nb+1)
	for b := 0; b < nb; b++ {
		for w := 0; w < W; w++ {
			bc[b+1] += bcw[w][b]
		}
		bc[b+1] += bc[b]
	}
	r.buckets = slices.Clone(bc)
	// Pass 1: by person, remembering each one's bucket.
	byPerson := r.pool.take(int(total))
	bucketOf := make([]uint16, total)
	parallel(func(w int) {
		pos := pc[w]
		for i := ne * w / W; i < ne*(w+1)/W; i++ {
			if e := r.entries.at(uint32(i)); applied(e) {
				k := pos[e.person]
				pos[e.person]++
				*byPerson.at(k) = uint32(i)
				bucketOf[k] = uint16(r.bucket(e.reported))
			}
		}
	})
	pc = nil
	// Pass 2: stable by bucket; worker w takes a range of people, and within each bucket
	// its part comes after the parts of the workers before it.
	r.order = r.pool.take(int(total))
	parallel(func(w int) {
		clear(bcw[w])
		for k := count[n*w/W]; k < count[n*(w+1)/W]; k++ {
			bcw[w][bucketOf[k]]++
		}
	})
	parallel(func(w int) {
		pos := make([]uint32, nb)
		for b := 0; b < nb; b++ {
			pos[b] = bc[b]
			for v := 0; v < w; v++ {
				pos[b] += bcw[v][b]
			}
		}
		for k := count[n*w/W]; k < count[n*(w+1)/W]; k++ {
			b := bucketOf[k]
			*r.order.at(pos[b]) = *byPerson.at(k)
			pos[b]++
		}
	})
	r.pool.free = nil // no later phase takes from it
}

// personAt is the person of order[k].
func (r *runner) personAt(k int) uint32 { return r.entries.at(*r.order.at(uint32(k))).person }

func (r *runner) bucket(reported sc.Date) int {
	if reported < r.opt.From {
		return 0
	}
	return int(reported-r.opt.From) + 1
}

// cmpEntries is spec §7's order: (reported_date, event_date, source, record_id), then
// file and line order. ba and bb are scratch space for the record_ids.
func (r *runner) cmpEntries(a, b uint32, ba, bb *[]byte) int {
	x, y := r.entries.at(a), r.entries.at(b)
	switch {
	case x.reported != y.reported:
		return cmpInt(int(x.reported), int(y.reported))
	case x.event != y.event:
		return cmpInt(int(x.event), int(y.event))
	case r.srcRank[x.typ] != r.srcRank[y.typ]:
		return cmpInt(r.srcRank[x.typ], r.srcRank[y.typ])
	}
	*ba, *bb = r.ids.appendID((*ba)[:0], a), r.ids.appendID((*bb)[:0], b)
	if c := bytes.Compare(*ba, *bb); c != 0 {
		return c
	}
	return cmpInt(int(a), int(b))
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// evidence appends SOURCE:RECORD_ID of entry ref.
func (r *runner) evidence(b []byte, ref engine.Ref) []byte {
	e := r.entries.at(uint32(ref))
	b = append(b, r.cat.Type(e.typ).Source...)
	b = append(b, ':')
	return r.ids.appendID(b, uint32(ref))
}

// input builds the engine's view of entry i.
func (r *runner) input(i uint32) engine.Input {
	e := r.entries.at(i)
	in := engine.Input{Type: e.typ, Event: e.event, Ref: engine.Ref(i), Critical: e.flags&fCritical != 0, Target: engine.NoRef}
	if r.places.len() > 0 {
		in.Place = *r.places.at(i)
	}
	if e.flags&fResolve != 0 {
		info := r.resolve[i]
		in.Accept, in.Target = info.accept, info.target
	}
	return in
}

// workerRanges splits the people into contiguous ranges, one per worker.
func (r *runner) workerRanges() [][2]uint32 {
	w := r.opt.Workers
	n := len(r.people)
	if w > n {
		w = max(n, 1)
	}
	out := make([][2]uint32, w)
	for i := range out {
		out[i] = [2]uint32{uint32(n * i / w), uint32(n * (i + 1) / w)}
	}
	return out
}

// groupRange returns the part of order[lo:hi] (one bucket, sorted by person) whose
// people are in [plo, phi).
func (r *runner) groupRange(lo, hi int, plo, phi uint32) (int, int) {
	s := sort.Search(hi-lo, func(i int) bool { return r.personAt(lo+i) >= plo }) + lo
	e := sort.Search(hi-lo, func(i int) bool { return r.personAt(lo+i) >= phi }) + lo
	return s, e
}

// replay runs history, then every day from --from to --to, on one goroutine per range
// of people, and streams decisions.csv in (date, person_id) order.
func (r *runner) replay(ctx context.Context, out io.Writer) error {
	ranges := r.workerRanges()
	ws := make([]*worker, len(ranges))
	for i, rg := range ranges {
		ws[i] = newWorker(r, rg[0], rg[1])
	}
	// History: records reported before --from, no rows, no payroll.
	var wg sync.WaitGroup
	for _, w := range ws {
		wg.Add(1)
		go func() { defer wg.Done(); w.history() }()
	}
	wg.Wait()
	// The replay, day by day.
	cw := exchange.NewCSVWriter(out)
	if err := cw.Row("date", "person_id", "action", "method", "evidence", "detail"); err != nil {
		return err
	}
	if err := cw.Flush(); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for _, w := range ws {
		wg.Add(1)
		go func() { defer wg.Done(); w.window(ctx) }()
	}
	var err error
	for d := 0; d < r.days && err == nil; d++ {
		for _, w := range ws {
			buf, ok := <-w.days
			if !ok {
				err = ctx.Err()
				break
			}
			if _, werr := out.Write(buf); werr != nil && err == nil {
				err = werr
			}
			w.free <- buf[:0]
		}
		if d%16 == 0 {
			r.progress(Progress{Phase: "replay", Records: r.read.Load(), Day: r.opt.From + sc.Date(d)})
		}
	}
	cancel()
	for _, w := range ws {
		for range w.days { // let workers finish
		}
	}
	wg.Wait()
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil && ctx.Err() != context.Canceled {
		return err
	}
	for _, w := range ws {
		r.rep.add(&w.sink)
	}
	return nil
}
