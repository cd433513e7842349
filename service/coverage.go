package service

import (
	"cmp"
	"context"
	"slices"
	"strings"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/backtest"
	"github.com/silentcert/silentcert/store"
)

// coverageAhead is how far past the last reported day, or today when later, the model's
// coverage reaches: it no longer changes after the last reported day, and a run with no
// batch for that long falls back to the model's own reckoning.
const coverageAhead = 3660

// coverage is what a model that asks (backtest.CoverageAware) is told of each type's
// coverage: counted from the records as the batches bring them (each record once, as
// backtest counts them), stored with each batch (table coverage) and read back at Open.
// Backtest computes a day's coverage from the records reported by that day alone, so the
// model is told, for every day up to today, what a backtest over the same records says.
type coverage struct {
	model backtest.CoverageAware
	arr   *backtest.Arrivals
	cov   [][]sc.Date // the last computed, reused for the types no batch changed since
	stale bool        // a batch counted was rolled back: count again from the store
}

// wantsCoverage returns the model as CoverageAware when it asks for coverage.
func wantsCoverage(m any) (backtest.CoverageAware, bool) {
	ca, ok := m.(backtest.CoverageAware)
	if w, asks := m.(interface{ WantsCoverage() bool }); ok && asks && !w.WantsCoverage() {
		return nil, false
	}
	return ca, ok
}

// openCoverage reads the stored counts and tells the model; a store written before the
// counts were kept has them counted from its records, once.
func (s *Service) openCoverage(ctx context.Context, m backtest.CoverageAware) error {
	s.cover = &coverage{model: m}
	n, err := s.loadCoverage(func(fn func(store.CoverageRow) error) error { return s.db.Coverage(ctx, fn) })
	if err != nil {
		return err
	}
	if n == 0 {
		if err := s.fillCoverage(ctx); err != nil {
			return err
		}
	}
	s.feedCoverage()
	return nil
}

// loadCoverage counts every stored row again; it returns how many rows there were.
func (s *Service) loadCoverage(each func(fn func(store.CoverageRow) error) error) (int, error) {
	a := backtest.NewArrivals(s.cat.Len())
	n := 0
	err := each(func(r store.CoverageRow) error {
		n++
		if id, ok := s.cat.Lookup(r.Type); ok {
			for _, c := range r.Counts {
				a.Add(id, c.Event, r.Day, c.N)
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	s.cover.arr, s.cover.cov, s.cover.stale = a, nil, false
	return n, nil
}

// fillCoverage counts the stored records (a store from before migration 0010) and stores
// the counts under batch 0.
func (s *Service) fillCoverage(ctx context.Context) error {
	type key struct {
		typ             string
		event, reported sc.Date
	}
	counts := map[key]int32{}
	err := s.db.EachRecord(ctx, func(r *store.Record) error {
		counts[key{r.Type, r.EventDate, r.ReportedDate}]++
		return nil
	})
	if err != nil || len(counts) == 0 {
		return err
	}
	rows := coverageRows(len(counts), func(yield func(typ string, event, reported sc.Date, n int32)) {
		for k, n := range counts {
			yield(k.typ, k.event, k.reported, n)
		}
	})
	tx, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := tx.PutCoverage(0, rows); err != nil {
		return err
	}
	if err := s.commit(tx); err != nil {
		return err
	}
	for _, r := range rows {
		if id, ok := s.cat.Lookup(r.Type); ok {
			for _, c := range r.Counts {
				s.cover.arr.Add(id, c.Event, r.Day, c.N)
			}
		}
	}
	return nil
}

// coverageRows groups counts into rows, one per type and reported day, in order.
func coverageRows(n int, each func(yield func(typ string, event, reported sc.Date, n int32))) []store.CoverageRow {
	type day struct {
		typ string
		day sc.Date
	}
	at := make(map[day]int, n)
	var rows []store.CoverageRow
	each(func(typ string, event, reported sc.Date, n int32) {
		k := day{typ, reported}
		i, ok := at[k]
		if !ok {
			i = len(rows)
			at[k] = i
			rows = append(rows, store.CoverageRow{Type: typ, Day: reported})
		}
		rows[i].Counts = append(rows[i].Counts, store.EventCount{Event: event, N: n})
	})
	// In one order whatever the map's: the same batches write the same bytes.
	slices.SortFunc(rows, func(a, b store.CoverageRow) int {
		return cmp.Or(strings.Compare(a.Type, b.Type), cmp.Compare(a.Day, b.Day))
	})
	for i := range rows {
		slices.SortFunc(rows[i].Counts, func(a, b store.EventCount) int { return cmp.Compare(a.Event, b.Event) })
	}
	return rows
}

// noteCoverage counts a batch's new records (n of them; rec(i) says the type, dates, and
// whether record i was stored now rather than before), stores the counts in the batch's
// transaction and tells the model, before the batch is applied. When the transaction
// fails, the counts are read again from the store at the next batch.
func (s *Service) noteCoverage(tx *store.Tx, ch *change, batch int64, n int, rec func(i int) (typ sc.TypeID, event, reported sc.Date, stored bool)) error {
	cv := s.cover
	if cv == nil {
		return nil
	}
	if cv.stale {
		if _, err := s.loadCoverage(tx.Coverage); err != nil {
			return err
		}
	}
	type key struct {
		typ             sc.TypeID
		event, reported sc.Date
	}
	counts := map[key]int32{}
	for i := range n {
		if typ, event, reported, stored := rec(i); stored && reported >= event {
			counts[key{typ, event, reported}]++
		}
	}
	if len(counts) == 0 {
		return nil
	}
	ch.undos = append(ch.undos, func() { cv.stale = true })
	rows := coverageRows(len(counts), func(yield func(typ string, event, reported sc.Date, n int32)) {
		for k, n := range counts {
			cv.arr.Add(k.typ, k.event, k.reported, n)
			yield(s.cat.Type(k.typ).Code, k.event, k.reported, n)
		}
	})
	if err := tx.PutCoverage(batch, rows); err != nil {
		return err
	}
	s.feedCoverage()
	return nil
}

// feedCoverage tells the model the coverage as counted.
func (s *Service) feedCoverage() {
	cv := s.cover
	if cv.arr.Base() == sc.NoDate {
		return
	}
	cv.cov = cv.arr.Coverage(s.Today()+coverageAhead, cv.cov)
	cv.model.SetCoverage(cv.arr.Base(), cv.cov)
}
