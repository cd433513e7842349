package backtest

import (
	"bytes"
	"context"
	"io"
	"sync"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/engine"
	"github.com/silentcert/silentcert/exchange"
	"github.com/silentcert/silentcert/linkage"
)

// chunk is what one file's parse gives, before it is merged in file order.
type chunk struct {
	file      string
	entries   []entry
	contents  []uint32   // each entry's content hash
	places    []sc.Place // each entry's place, when the run has a model
	ids       idEncoder
	problems  []exchange.Problem
	warnings  []exchange.Warning
	resolves  []pendingResolve // idx: position in entries
	moves     []pendingMove
	subCount  [maxPartitions][1 << subBits]uint32 // entries by key partition and sub-partition
	encoding  string
	read      int64
	afterTo   int64
	defaulted int64
	rejected  error // the file could not be read to its end: none of it is used
}

// pendingResolve is a RESOLVE record whose ref= must be looked up once every file is in.
type pendingResolve struct {
	idx    uint32
	accept engine.Resolution
	target [2]uint64
	part   int // the partition of target
	has    bool
}

// pendingMove is a move record's new region, by its position in the chunk.
type pendingMove struct {
	idx    uint32
	region string
}

// resolveInfo is a RESOLVE record's decision and the entry it names.
type resolveInfo struct {
	accept engine.Resolution
	target engine.Ref
}

// loader turns record files into entries.
type loader struct {
	cat  *sc.Catalogue
	ix   *linkage.Index
	to   sc.Date
	opt  exchange.Options
	hash hasher
	// spare holds entry buffers of merged chunks for the next files, so that parsing
	// makes little garbage.
	spare         chan []entry
	spareContents chan []uint32
	spareIDs      chan idEncoder // record_id buffers likewise: the store keeps an exact copy
	class         []sc.Class
	places        bool // keep each record's place (a model reads it)
}

// parseFile reads one file into a chunk. Bad rows become problems; a file that cannot be
// read to its end is rejected whole, so that a half-read file is never half-applied.
func (l *loader) parseFile(ctx context.Context, path string) *chunk {
	c := &chunk{file: path}
	select {
	case c.entries = <-l.spare:
	default:
	}
	select {
	case c.contents = <-l.spareContents:
	default:
	}
	select {
	case c.ids = <-l.spareIDs:
		c.ids.reset()
	default:
	}
	rr, err := exchange.OpenRecords(path, l.cat, l.opt)
	if err != nil {
		c.rejected = err
		return c
	}
	defer rr.Close()
	c.encoding = rr.Encoding()
	var scratch linkage.Scratch
	var kbuf, cbuf []byte
	for n := 0; ; n++ {
		if n&0xffff == 0 && ctx.Err() != nil {
			c.rejected = ctx.Err()
			return c
		}
		row, prob, err := rr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			c.rejected = err
			c.warnings = rr.Warnings()
			return c
		}
		c.read++
		if prob != nil {
			c.problems = append(c.problems, *prob)
			continue
		}
		reported := row.ReportedDate
		if reported == sc.NoDate {
			reported = row.EventDate
			c.defaulted++
		}
		if reported > l.to {
			c.afterTo++
			continue
		}
		e := entry{reported: reported, event: row.EventDate, typ: row.Type}
		key := l.hash.key(&kbuf, l.cat.Type(row.Type).Source, row.RecordID)
		e.part = uint8(key[1]%maxPartitions) << 4
		c.subCount[key[1]%maxPartitions][key[0]>>(64-subBits)]++
		cbuf = append(cbuf[:0], row.PersonID...)
		cbuf = append(cbuf, 0)
		cbuf = append(cbuf, row.Name...)
		cbuf = append(cbuf, 0)
		cbuf = row.BirthDate.AppendTo(cbuf)
		cbuf = append(cbuf, 0)
		cbuf = row.EventDate.AppendTo(cbuf)
		cbuf = append(cbuf, 0)
		cbuf = append(cbuf, row.RegionCode...)
		cbuf = append(cbuf, 0)
		cbuf = append(cbuf, row.RawDetail...)
		cbuf = append(cbuf, 0)
		cbuf = append(cbuf, l.cat.Type(row.Type).Code...)
		c.contents = append(c.contents, l.hash.content(cbuf))
		if row.Detail.Critical {
			e.flags |= fCritical
		}
		p, out := l.ix.Link(row.PersonID, row.Name, row.BirthDate, row.RegionCode, &scratch)
		switch out {
		case linkage.Linked:
			e.person = p
		case linkage.HeldName:
			e.person = p
			e.flags |= fHeld
		default:
			e.flags |= fUnlinked
			e.part |= uint8(out)
		}
		c.ids.add(l.cat.Type(row.Type).Source, row.RecordID)
		if l.class[row.Type] == sc.ClassResolve {
			pr := pendingResolve{idx: uint32(len(c.entries))}
			switch row.Detail.Accept {
			case "death":
				pr.accept = engine.ResolveDeath
			case "alive":
				pr.accept = engine.ResolveAlive
			}
			if i := bytes.IndexByte([]byte(row.Detail.Ref), ':'); i > 0 {
				pr.target = l.hash.key(&kbuf, row.Detail.Ref[:i], []byte(row.Detail.Ref[i+1:]))
				pr.part = int(pr.target[1] % maxPartitions)
				pr.has = true
			}
			e.flags |= fResolve
			c.resolves = append(c.resolves, pr)
		}
		if t := l.cat.Type(row.Type); t.Moves && len(row.RegionCode) > 0 {
			e.flags |= fMove
			c.moves = append(c.moves, pendingMove{idx: uint32(len(c.entries)), region: string(row.RegionCode)})
		}
		c.entries = append(c.entries, e)
		if l.places {
			c.places = append(c.places, sc.PlaceOf(string(row.RegionCode)))
		}
	}
	c.warnings = rr.Warnings()
	return c
}

// parseAll parses files on workers goroutines and hands the chunks to merge in file
// order, keeping at most a few chunks in memory at once.
func (l *loader) parseAll(ctx context.Context, files []string, workers int, merge func(*chunk) error) error {
	if workers < 1 {
		workers = 1
	}
	results := make([]chan *chunk, len(files))
	for i := range results {
		results[i] = make(chan *chunk, 1)
	}
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	window := make(chan struct{}, workers+1) // chunks parsed but not merged yet
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i] <- l.parseFile(ctx, files[i])
			}
		}()
	}
	go func() {
		defer close(next)
		for i := range files {
			select {
			case window <- struct{}{}:
			case <-ctx.Done():
				return
			}
			select {
			case next <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	var err error
	for i := range files {
		var c *chunk
		select {
		case c = <-results[i]:
		case <-ctx.Done():
			err = ctx.Err()
		}
		if err != nil {
			break
		}
		<-window
		if err = merge(c); err != nil {
			break
		}
	}
	cancel()
	wg.Wait()
	if err == nil {
		err = parent.Err()
	}
	return err
}
