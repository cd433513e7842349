package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// BatchRecords returns the records batch stored, the first limit of them in id order, and
// how many it stored (held and unlinked ones included, duplicates of records stored before
// not: they were not stored again). A batch is one transaction, which gives its records
// consecutive ids, and batches are stored one after another, so a record's batch grows
// with its id: the batch's ids are found by halving the ids, reading one chunk a step
// (about thirty for a hundred million records), without an index of records by batch.
func (db *DB) BatchRecords(ctx context.Context, batch int64, limit int) ([]Record, int64, error) {
	var lo, hi sql.NullInt64
	if err := db.rd.QueryRowContext(ctx, `SELECT min(first), max(last) FROM record_chunks`).Scan(&lo, &hi); err != nil {
		return nil, 0, fmt.Errorf("%s: batch records: %w", db, err)
	}
	if !lo.Valid {
		return nil, 0, nil
	}
	start, err := db.firstOfBatch(ctx, batch, lo.Int64, hi.Int64+1)
	if err != nil {
		return nil, 0, err
	}
	end, err := db.firstOfBatch(ctx, batch+1, start, hi.Int64+1)
	if err != nil || end <= start {
		return nil, 0, err
	}
	var out []Record
	err = db.eachChunkFrom(ctx, start, func(r *Record) (bool, error) {
		if r.ID >= end || len(out) >= limit {
			return false, nil
		}
		if r.ID >= start {
			out = append(out, *r)
		}
		return true, nil
	})
	return out, end - start, err
}

// firstOfBatch returns the id of the first record, from lo on, whose batch is batch or
// later, or hi (past the last id) when there is none. "The first record from x on has such
// a batch (or there is none)" holds for every x past some point, batches growing with ids:
// that point is found by halving, and the record is the first from it.
func (db *DB) firstOfBatch(ctx context.Context, batch, lo, hi int64) (int64, error) {
	from := func(x int64) (*Record, error) {
		var at *Record
		err := db.eachChunkFrom(ctx, x, func(r *Record) (bool, error) {
			if r.ID < x {
				return true, nil
			}
			c := *r
			at = &c
			return false, nil
		})
		return at, err
	}
	for end := hi; lo < end; {
		mid := lo + (end-lo)/2
		at, err := from(mid)
		if err != nil {
			return 0, err
		}
		if at == nil || at.Batch >= batch {
			end = mid
		} else {
			lo = mid + 1
		}
	}
	at, err := from(lo)
	if err != nil || at == nil {
		return hi, err
	}
	return at.ID, nil
}

// errStop ends a walk of eachChunkFrom early.
var errStop = errors.New("stop")

// eachChunkFrom hands each record of the chunk holding id (or the first chunk after it)
// and of the chunks after it to fn, in id order, until fn says no more.
func (db *DB) eachChunkFrom(ctx context.Context, id int64, fn func(*Record) (bool, error)) error {
	var from int64
	err := db.rd.QueryRowContext(ctx, db.Rebind(`SELECT first FROM record_chunks WHERE first <= ? ORDER BY first DESC LIMIT 1`), id).Scan(&from)
	if err == sql.ErrNoRows {
		from = id
	} else if err != nil {
		return fmt.Errorf("%s: batch records: %w", db, err)
	}
	for {
		rows, err := db.rd.QueryContext(ctx, db.Rebind(`SELECT first, data FROM record_chunks WHERE first >= ? ORDER BY first LIMIT 8`), from)
		if err != nil {
			return fmt.Errorf("%s: batch records: %w", db, err)
		}
		n := 0
		for rows.Next() {
			var data []byte
			if err := rows.Scan(&from, &data); err != nil {
				rows.Close()
				return err
			}
			n++
			err := decodeChunk(data, func(r *Record) error {
				more, err := fn(r)
				if err == nil && !more {
					return errStop
				}
				return err
			})
			if errors.Is(err, errStop) {
				rows.Close()
				return nil
			}
			if err != nil {
				rows.Close()
				return fmt.Errorf("%s: record chunk %d: %w", db, from, err)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if n < 8 {
			return nil
		}
		from++
	}
}
