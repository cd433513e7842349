package store

import (
	"context"
	"encoding/binary"
	"fmt"

	sc "github.com/silentcert/silentcert"
)

// CoverageRow is how many records of one type a batch brought that were reported on one
// day, by event date (the evidence models' coverage, backtest.CoverageAware).
type CoverageRow struct {
	Type   string
	Day    sc.Date // reported_date
	Counts []EventCount
}

// EventCount is a number of records dated one event date.
type EventCount struct {
	Event sc.Date
	N     int32
}

// PutCoverage stores a batch's counts (events not after the day, in any order).
func (t *Tx) PutCoverage(batch int64, rows []CoverageRow) error {
	err := t.insertMany(`INSERT INTO coverage (batch, type, day, counts)`, 4, ``, len(rows), func(i int, a []any) []any {
		return append(a, batch, rows[i].Type, int64(rows[i].Day), encodeCounts(rows[i].Day, rows[i].Counts))
	}, nil)
	if err != nil {
		return fmt.Errorf("%s: coverage: %w", t.db, err)
	}
	return nil
}

// encodeCounts writes counts as uvarint pairs: the offset of the event before the day,
// ascending, as a difference from the previous one; the count.
func encodeCounts(day sc.Date, cs []EventCount) []byte {
	offs := make([]EventCount, len(cs))
	for i, c := range cs {
		offs[i] = EventCount{day - c.Event, c.N}
	}
	for i := 1; i < len(offs); i++ { // few and nearly sorted
		for j := i; j > 0 && offs[j].Event < offs[j-1].Event; j-- {
			offs[j], offs[j-1] = offs[j-1], offs[j]
		}
	}
	b := make([]byte, 0, 3*len(offs))
	prev := sc.Date(0)
	for _, o := range offs {
		b = binary.AppendUvarint(b, uint64(o.Event-prev))
		b = binary.AppendUvarint(b, uint64(o.N))
		prev = o.Event
	}
	return b
}

// decodeCounts reads what encodeCounts wrote.
func decodeCounts(day sc.Date, b []byte) ([]EventCount, error) {
	var out []EventCount
	off := sc.Date(0)
	for len(b) > 0 {
		d, k := binary.Uvarint(b)
		if k <= 0 {
			return nil, fmt.Errorf("bad counts")
		}
		b = b[k:]
		n, k := binary.Uvarint(b)
		if k <= 0 || d > 1<<30 || n > 1<<31-1 {
			return nil, fmt.Errorf("bad counts")
		}
		b = b[k:]
		off += sc.Date(d)
		out = append(out, EventCount{day - off, int32(n)})
	}
	return out, nil
}

// Coverage calls fn with every stored count, batch by batch.
func (db *DB) Coverage(ctx context.Context, fn func(CoverageRow) error) error {
	return coverageRows(ctx, db, db.rd, fn)
}

// Coverage is DB.Coverage inside the transaction.
func (t *Tx) Coverage(fn func(CoverageRow) error) error { return coverageRows(t.ctx, t.db, t.tx, fn) }

func coverageRows(ctx context.Context, db *DB, q querier, fn func(CoverageRow) error) error {
	rows, err := q.QueryContext(ctx, `SELECT type, day, counts FROM coverage ORDER BY batch, type, day`)
	if err != nil {
		return fmt.Errorf("%s: coverage: %w", db, err)
	}
	defer rows.Close()
	for rows.Next() {
		var r CoverageRow
		var day int64
		var b []byte
		if err := rows.Scan(&r.Type, &day, &b); err != nil {
			return fmt.Errorf("%s: coverage: %w", db, err)
		}
		r.Day = sc.Date(day)
		if r.Counts, err = decodeCounts(r.Day, b); err != nil {
			return fmt.Errorf("%s: coverage of %s on %s: %w", db, r.Type, r.Day, err)
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return rows.Err()
}
