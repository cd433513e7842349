package sim

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"

	"github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/divisions"
	"github.com/silentcert/silentcert/idcard"
)

// Options configure one simulation.
type Options struct {
	City       string          // 4-digit prefecture code of the NBS table, e.g. "3710" (Weihai)
	Recipients int             // number of people on the roster
	From, To   silentcert.Date // the simulated window, inclusive
	Seed       uint64          // the same seed gives byte-identical output
	Out        string          // output directory
	Workers    int             // generating goroutines; 0 means GOMAXPROCS. Output does not depend on it.
	// HistoryMonths of everyday records before From, so that the platform starts with
	// the data a real launch would have (backtest applies them as history).
	HistoryMonths int
	Overwrite     bool             // replace an earlier scenario in Out instead of refusing
	Rates         *Rates           // nil means DefaultRates
	Names         *Names           // nil means DefaultNames
	Divisions     *divisions.Table // nil means divisions.Embedded
	// Progress, if set, is called after each block of people is written.
	Progress func(done, total int)
}

// blockSize is the number of people generated as one unit. It fixes the output bytes (a
// gzipped file is one gzip member per block), so it must not depend on the workers.
const blockSize = 1024

// gzipLevel is the compression of gzipped department files.
const gzipLevel = gzip.BestSpeed

// generator holds everything that is fixed for a run and shared, read-only, by workers.
type generator struct {
	seed             uint64
	n                int
	from, to         silentcert.Date
	start            silentcert.Date // first day of the history before from
	fromYear, toYear int
	startYear        int
	nMonths          int
	rates            *Rates
	cat              *silentcert.Catalogue
	city             *city
	names            *Names
	life             *lifeTable
	weakRule         silentcert.WeakRule
	idBump           map[int32]uint16
	bandCum          []float64
	extraCodes       []string
	types            []typeInfo
	typeIndex        map[string]int
	sources          []sourceInfo
	foreignType      []string
	face, inpatient  int
	deathChannels    []int
	lateDays         []int32 // [source*nMonths + month]: days a month's deliveries are held back
	sinks            []sinkInfo
}

type typeInfo struct {
	id        silentcert.TypeID
	code      string
	source    string
	src       int
	class     silentcert.Class
	spoofable bool
	natural   bool
	medical   bool
	mode      string
	adopt     Seg
	perYear   Seg
	mult      float64
	season    [12]float64
	seasonCum []float64
	spread    float64
	minAge    int
	reqFlag   flags
	reqType   int
	local     bool
	mods      []modInfo
	delay     Delay
	stop      silentcert.Date
}

type modInfo struct {
	fl          flags
	adopt, rate float64
}

type sourceInfo struct {
	code              string
	rate              *SourceRate
	cols              []int
	hasName, hasBirth bool
}

type sinkInfo struct {
	path   string
	header []byte
	gzip   bool
	gbk    bool
	jsonl  bool
	source int // -1 for roster, truth and faults
}

func newGenerator(opt *Options) (*generator, error) {
	if opt.Recipients < 1 {
		return nil, silentcert.Errorf(silentcert.EInvalid, "recipients must be at least 1")
	}
	if opt.From == silentcert.NoDate || opt.To == silentcert.NoDate || opt.To < opt.From {
		return nil, silentcert.Errorf(silentcert.EInvalid, "the window must have from <= to")
	}
	if y, _, _ := opt.From.Civil(); y < 2011 || y > 2095 {
		return nil, silentcert.Errorf(silentcert.EInvalid, "from must fall between 2011 and 2095 (the WPP table the simulator ships)")
	}
	if opt.To.Month()-opt.From.Month() >= 12*20 {
		return nil, silentcert.Errorf(silentcert.EInvalid, "the window may be at most 20 years")
	}
	cat := silentcert.DefaultCatalogue()
	rates := opt.Rates
	if rates == nil {
		rates = DefaultRates()
	}
	if err := rates.Validate(cat); err != nil {
		return nil, silentcert.Errorf(silentcert.EInvalid, "rates: %v", err)
	}
	names := opt.Names
	if names == nil {
		var err error
		if names, err = DefaultNames(); err != nil {
			return nil, err
		}
	}
	tab := opt.Divisions
	if tab == nil {
		var err error
		if tab, err = divisions.Embedded(); err != nil {
			return nil, err
		}
	}
	c, err := newCity(tab, opt.City, rates.Population.VillageSizeSigma)
	if err != nil {
		return nil, silentcert.Errorf(silentcert.EInvalid, "%v", err)
	}
	life, err := loadLifeTable()
	if err != nil {
		return nil, err
	}
	gen := &generator{seed: opt.Seed, n: opt.Recipients, from: opt.From, to: opt.To, rates: rates, cat: cat, city: c,
		names: names, life: life, weakRule: silentcert.DefaultWeakRule(), idBump: map[int32]uint16{}, typeIndex: map[string]int{}}
	if opt.HistoryMonths < 0 || opt.HistoryMonths > 60 {
		return nil, silentcert.Errorf(silentcert.EInvalid, "history months must be from 0 to 60")
	}
	gen.start = opt.From.AddMonths(-opt.HistoryMonths)
	gen.fromYear, _, _ = opt.From.Civil()
	gen.startYear, _, _ = gen.start.Civil()
	gen.toYear, _, _ = opt.To.Civil()
	gen.nMonths = int(opt.To.Month()-gen.start.Month()) + 1
	w := make([]float64, len(rates.Population.AgeBands))
	for i, b := range rates.Population.AgeBands {
		w[i] = b.Share
	}
	gen.bandCum = cumulative(w)
	gen.extraCodes = sortedKeys(rates.Population.Benefits.Extras)
	srcCodes := cat.Sources()
	srcIndex := map[string]int{}
	for i, s := range srcCodes {
		srcIndex[s] = i
		sr := rates.Sources[s]
		si := sourceInfo{code: s, rate: sr}
		for _, col := range sr.Columns {
			si.cols = append(si.cols, colIndex(col))
			si.hasName = si.hasName || col == "name"
			si.hasBirth = si.hasBirth || col == "birth_date"
		}
		if sr.ExtraColumn != "" {
			si.cols = append(si.cols, colExtra)
		}
		gen.sources = append(gen.sources, si)
	}
	for i := 0; i < cat.Len(); i++ {
		rt := cat.Type(silentcert.TypeID(i))
		ti := typeInfo{id: silentcert.TypeID(i), code: rt.Code, source: rt.Source, src: srcIndex[rt.Source], class: rt.Class,
			spoofable: rt.Spoofable, reqType: -1, stop: silentcert.NoDate}
		ti.medical = rt.Source == "MED" || rt.Source == "HEA" || rt.Source == "CIV"
		sr := rates.Sources[rt.Source]
		ti.stop = sr.stop
		if tr := rates.Types[rt.Code]; tr != nil {
			ti.mode, ti.adopt, ti.perYear, ti.spread, ti.minAge, ti.local, ti.delay = tr.Mode, tr.Adopt, tr.PerYear, tr.Spread, tr.MinAge, tr.Local, tr.Delay
			ti.natural = tr.Mode == modePoisson || tr.Mode == modeMonthly || tr.Mode == modeAnnual
			ti.mult = sr.Multiplier
			sum := 0.0
			for m := 0; m < 12; m++ {
				ti.season[m] = 1
				if len(tr.Season) == 12 {
					ti.season[m] = tr.Season[m]
				}
				sum += ti.season[m]
			}
			for m := 0; m < 12; m++ {
				ti.season[m] *= 12 / sum
			}
			ti.seasonCum = cumulative(ti.season[:])
			if tr.Requires != "" {
				if isFlag(tr.Requires) {
					ti.reqFlag = flagOf(tr.Requires)
				} else {
					id, _ := cat.Lookup(tr.Requires)
					ti.reqType = int(id)
				}
			}
			for _, k := range sortedKeys(tr.Modifiers) {
				m := tr.Modifiers[k]
				mi := modInfo{fl: flagOf(k), adopt: 1, rate: 1}
				if m != nil && m.Adopt != nil {
					mi.adopt = *m.Adopt
				}
				if m != nil && m.Rate != nil {
					mi.rate = *m.Rate
				}
				ti.mods = append(ti.mods, mi)
			}
		} else {
			ti.mode = modeEvent
			ti.delay = Delay{Batch: "none"}
		}
		gen.typeIndex[rt.Code] = i
		gen.types = append(gen.types, ti)
		if rt.Class == silentcert.ClassDeath && rates.Deaths.Channels[rt.Code] != nil {
			gen.deathChannels = append(gen.deathChannels, i)
		}
	}
	gen.face = gen.typeIndex["HRSS.FACE"]
	gen.inpatient = gen.typeIndex["MED.INPATIENT"]
	for _, code := range []string{"HRSS.FACE", "HRSS.COUNTER", "CMT.VISIT", "CMT.NOT_FOUND", "CMT.REFUSED", "CMT.MOVED", "PSB.HUKOU_MOVE",
		"JUS.PRISON_IN", "JUS.PRISON_OUT", "JUS.TRIAL", "MED.INPATIENT", "CMT.DEATH_REPORT"} {
		if _, ok := gen.typeIndex[code]; !ok {
			return nil, silentcert.Errorf(silentcert.EInvalid, "the catalogue has no %s", code)
		}
	}
	for i := range gen.sources {
		other := gen.sources[(i+1)%len(gen.sources)].code
		for _, t := range gen.types {
			if t.source == other {
				gen.foreignType = append(gen.foreignType, t.code)
				break
			}
		}
	}
	gen.lateDays = make([]int32, len(gen.sources)*gen.nMonths)
	for s, si := range gen.sources {
		for m := 0; m < gen.nMonths; m++ {
			h := mix(opt.Seed^hashString(si.code), uint64(m)+0x5bd1e995)
			u := float64(h>>11) / (1 << 53)
			if u < si.rate.LateBatch {
				lo, hi := si.rate.LateBatchDays[0], si.rate.LateBatchDays[1]
				gen.lateDays[s*gen.nMonths+m] = int32(lo + int(h%uint64(hi-lo+1)))
			}
		}
	}
	gen.makeSinks()
	return gen, nil
}

func (gen *generator) makeSinks() {
	gen.sinks = []sinkInfo{
		{path: "roster.csv", header: []byte(rosterHeader + "\n"), source: -1},
		{path: "truth.csv", header: []byte(strings.Join(TruthColumns, ",") + "\n"), source: -1},
		{path: "faults.csv", header: []byte(faultsHeader + "\n"), source: -1},
	}
	for s, si := range gen.sources {
		for m := 0; m < gen.nMonths; m++ {
			mon := gen.start.Month() + silentcert.Month(m)
			r := si.rate
			jsonl := r.Format == "jsonl" || (r.jsonlFrom != silentcert.NoMonth && mon >= r.jsonlFrom)
			ext := ".csv"
			if jsonl {
				ext = ".jsonl"
			}
			if r.Gzip {
				ext += ".gz"
			}
			sk := sinkInfo{path: "records/" + si.code + "/" + mon.String() + ext, gzip: r.Gzip, gbk: r.Encoding == "gbk", jsonl: jsonl, source: s}
			if !jsonl {
				var h []byte
				if r.BOM {
					h = append(h, 0xEF, 0xBB, 0xBF)
				}
				for k, c := range si.cols {
					if k > 0 {
						h = append(h, ',')
					}
					name := r.ExtraColumn
					if c != colExtra {
						name = colNames[c]
					}
					if r.UpperHeader {
						name = strings.ToUpper(name)
					}
					h = append(h, name...)
				}
				if r.CRLF {
					h = append(h, '\r')
				}
				sk.header = append(h, '\n')
			}
			gen.sinks = append(gen.sinks, sk)
		}
	}
}

// assignIDs gives every person a distinct ID number: the rare person whose number was
// already drawn for someone earlier moves their sequence on, and the bump is kept so
// that any worker rebuilds the same number.
func (gen *generator) assignIDs(ctx context.Context) error {
	seen := make(map[uint64]struct{}, gen.n)
	g := newRNG()
	var b base
	for i := 0; i < gen.n; i++ {
		if i&0xFFFF == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		gen.drawBase(g, i, &b)
		k := idcard.Key(b.id)
		bump := uint16(0)
		for {
			if _, dup := seen[k]; !dup {
				break
			}
			bump++
			seq := (int(b.id[14]-'0')*100 + int(b.id[15]-'0')*10 + int(b.id[16]-'0') + 2*int(bump)) % 1000
			k = idcard.Key(makeID(string(b.id[:6]), b.birth, seq))
		}
		if bump > 0 {
			gen.idBump[int32(i)] = bump
		}
		seen[k] = struct{}{}
	}
	return nil
}

// blockStats are the counts of one block, summed into scenario.json.
type blockStats struct {
	persons, deaths, rosterRows, dupRows int64
	records                              []int64 // rows per source
	faults                               map[string]int64
}

type blockOut struct {
	index int
	bufs  [][]byte
	stats blockStats
}

// runBlock generates block b and encodes its sinks (GBK, gzip member) ready to append.
func (gen *generator) runBlock(w *worker, b int) (*blockOut, error) {
	out := &blockOut{index: b, bufs: make([][]byte, len(gen.sinks))}
	if w.capHint == nil {
		w.capHint = make([]int, len(gen.sinks))
	}
	for s, h := range w.capHint {
		if h > 0 {
			out.bufs[s] = make([]byte, 0, h+h/8)
		}
	}
	out.stats.records = make([]int64, len(gen.sources))
	out.stats.faults = map[string]int64{}
	w.out = out
	end := min(gen.n, (b+1)*blockSize)
	for idx := b * blockSize; idx < end; idx++ {
		w.simulatePerson(idx)
		w.writePerson(&w.p)
	}
	for s := range out.bufs {
		buf := out.bufs[s]
		w.capHint[s] = len(buf)
		if len(buf) == 0 {
			continue
		}
		sk := &gen.sinks[s]
		if sk.gbk {
			enc, _, err := transform.Bytes(simplifiedchinese.GB18030.NewEncoder(), buf)
			if err != nil {
				return nil, fmt.Errorf("%s: GBK encoding: %v", sk.path, err)
			}
			buf = enc
		}
		if sk.gzip {
			var z bytes.Buffer
			z.Grow(len(buf) / 4)
			if w.gz == nil {
				w.gz, _ = gzip.NewWriterLevel(&z, gzipLevel)
			} else {
				w.gz.Reset(&z)
			}
			if _, err := w.gz.Write(buf); err != nil {
				return nil, err
			}
			if err := w.gz.Close(); err != nil {
				return nil, err
			}
			buf = z.Bytes()
		}
		out.bufs[s] = buf
	}
	return out, nil
}

// Scenario is scenario.json: what was simulated, with which rates, and what was written.
type Scenario struct {
	Version     int                      `json:"version"`
	City        string                   `json:"city"`
	CityName    string                   `json:"city_name"`
	Villages    int                      `json:"villages"`
	Recipients  int                      `json:"recipients"`
	From        string                   `json:"from"`
	HistoryFrom string                   `json:"history_from"`
	To          string                   `json:"to"`
	Seed        uint64                   `json:"seed"`
	Names       string                   `json:"names"`
	Counts      map[string]int64         `json:"counts"`
	Sources     map[string]SourceSummary `json:"sources"`
	Faults      map[string]int64         `json:"faults"`
	LateBatches []string                 `json:"late_batches"`
	Rates       *Rates                   `json:"rates"`
}

// SourceSummary says how one department's files were written.
type SourceSummary struct {
	Format   string `json:"format"`
	Encoding string `json:"encoding"`
	Gzip     bool   `json:"gzip"`
	Files    int    `json:"files"`
	Rows     int64  `json:"rows"`
}

type fileOut struct {
	f  *os.File
	bw *bufio.Writer
}

var layout = []string{"roster.csv", "truth.csv", "faults.csv", "scenario.json", "records"}

// prepareOut makes the output directory, refusing to mix two scenarios.
func prepareOut(dir string, overwrite bool) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, name := range layout {
		p := filepath.Join(dir, name)
		if _, err := os.Lstat(p); err == nil {
			if !overwrite {
				return silentcert.Errorf(silentcert.EConflict, "%s already holds a scenario (%s); choose an empty directory, or give --overwrite to replace it", dir, name)
			}
			if err := os.RemoveAll(p); err != nil {
				return err
			}
		}
	}
	return nil
}

// Simulate writes a whole city into opt.Out: roster.csv, records/SOURCE/YYYY-MM.ext,
// truth.csv, faults.csv and scenario.json. It streams: memory is bounded by a few blocks
// of people, whatever the size of the city.
func Simulate(ctx context.Context, opt Options) (*Scenario, error) {
	gen, err := newGenerator(&opt)
	if err != nil {
		return nil, err
	}
	if err := prepareOut(opt.Out, opt.Overwrite); err != nil {
		return nil, err
	}
	if err := gen.assignIDs(ctx); err != nil {
		return nil, err
	}
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	nBlocks := (gen.n + blockSize - 1) / blockSize
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan int)
	results := make(chan *blockOut, workers)
	errc := make(chan error, workers+1)
	tokens := make(chan struct{}, workers+2) // blocks in flight: bounds memory
	go func() {
		defer close(jobs)
		for b := 0; b < nBlocks; b++ {
			select {
			case tokens <- struct{}{}:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- b:
			case <-ctx.Done():
				return
			}
		}
	}()
	for k := 0; k < workers; k++ {
		go func() {
			w := newWorker(gen)
			for b := range jobs {
				out, err := gen.runBlock(w, b)
				if err != nil {
					errc <- err
					cancel()
					return
				}
				select {
				case results <- out:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	files := make([]*fileOut, len(gen.sinks))
	closeAll := func() error {
		var first error
		for _, f := range files {
			if f == nil {
				continue
			}
			if err := f.bw.Flush(); err != nil && first == nil {
				first = err
			}
			if err := f.f.Close(); err != nil && first == nil {
				first = err
			}
		}
		return first
	}
	pending := map[int]*blockOut{}
	stats := blockStats{records: make([]int64, len(gen.sources)), faults: map[string]int64{}}
	next := 0
	for next < nBlocks {
		var out *blockOut
		select {
		case out = <-results:
		case err := <-errc:
			closeAll()
			return nil, err
		case <-ctx.Done():
			closeAll()
			select {
			case err := <-errc:
				return nil, err
			default:
			}
			return nil, ctx.Err()
		}
		pending[out.index] = out
		for pending[next] != nil {
			o := pending[next]
			delete(pending, next)
			if err := gen.writeBlock(opt.Out, files, o); err != nil {
				cancel()
				closeAll()
				return nil, err
			}
			stats.add(&o.stats)
			<-tokens
			next++
			if opt.Progress != nil {
				opt.Progress(next, nBlocks)
			}
		}
	}
	if err := closeAll(); err != nil {
		return nil, err
	}
	sc := gen.scenario(files, &stats)
	sc.Names = gen.names.Source()
	data, err := json.MarshalIndent(sc, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(opt.Out, "scenario.json"), append(data, '\n'), 0o644); err != nil {
		return nil, err
	}
	return sc, nil
}

func (s *blockStats) add(o *blockStats) {
	s.persons += o.persons
	s.deaths += o.deaths
	s.rosterRows += o.rosterRows
	s.dupRows += o.dupRows
	for i, v := range o.records {
		s.records[i] += v
	}
	for k, v := range o.faults {
		s.faults[k] += v
	}
}

// writeBlock appends a block's bytes to their files, opening a file (and writing its
// header) the first time it gets rows.
func (gen *generator) writeBlock(dir string, files []*fileOut, o *blockOut) error {
	for s, buf := range o.bufs {
		if len(buf) == 0 {
			continue
		}
		sk := &gen.sinks[s]
		f := files[s]
		if f == nil {
			p := filepath.Join(dir, filepath.FromSlash(sk.path))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			fh, err := os.Create(p)
			if err != nil {
				return err
			}
			f = &fileOut{f: fh, bw: bufio.NewWriterSize(fh, 64<<10)}
			files[s] = f
			if len(sk.header) > 0 {
				h := sk.header
				if sk.gzip {
					var z bytes.Buffer
					zw, _ := gzip.NewWriterLevel(&z, gzipLevel)
					zw.Write(h)
					zw.Close()
					h = z.Bytes()
				}
				if _, err := f.bw.Write(h); err != nil {
					return err
				}
			}
		}
		if _, err := f.bw.Write(buf); err != nil {
			return fmt.Errorf("%s: %w", sk.path, err)
		}
	}
	return nil
}

func (gen *generator) scenario(files []*fileOut, st *blockStats) *Scenario {
	sc := &Scenario{Version: 1, City: gen.city.code, CityName: gen.city.name, Villages: len(gen.city.villages), Recipients: gen.n,
		From: gen.from.String(), HistoryFrom: gen.start.String(), To: gen.to.String(), Seed: gen.seed, Rates: gen.rates,
		Counts: map[string]int64{}, Sources: map[string]SourceSummary{}, Faults: st.faults, LateBatches: []string{}}
	total := int64(0)
	for i, si := range gen.sources {
		n := 0
		for m := 0; m < gen.nMonths; m++ {
			if files[sinkRecords+i*gen.nMonths+m] != nil {
				n++
			}
			if d := gen.lateDays[i*gen.nMonths+m]; d > 0 {
				mon := gen.start.Month() + silentcert.Month(m)
				sc.LateBatches = append(sc.LateBatches, fmt.Sprintf("%s:%s+%dd", si.code, mon, d))
			}
		}
		format := si.rate.Format
		if si.rate.JSONLFrom != "" && format == "csv" {
			format = "csv, jsonl from " + si.rate.JSONLFrom
		}
		sc.Sources[si.code] = SourceSummary{Format: format, Encoding: si.rate.Encoding, Gzip: si.rate.Gzip, Files: n, Rows: st.records[i]}
		total += st.records[i]
	}
	sort.Strings(sc.LateBatches)
	sc.Counts["recipients"] = st.persons
	sc.Counts["roster_rows"] = st.rosterRows
	sc.Counts["deaths"] = st.deaths
	sc.Counts["record_rows"] = total
	sc.Counts["duplicate_rows"] = st.dupRows
	return sc
}

// ErrNotScenario is returned when a directory holds no scenario.json.
var ErrNotScenario = errors.New("not a scenario directory (no scenario.json)")
