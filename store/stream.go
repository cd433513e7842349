package store

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strconv"
)

// reader is what a read needs of the readers' pool or of one snapshot of it.
type reader interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

// snapshot begins a read-only transaction on the readers' pool: its reads see one state of
// the database, whatever commits meanwhile. On SQLite a deferred transaction takes its
// snapshot at its first read; on PostgreSQL, REPEATABLE READ takes it at its first
// statement (READ COMMITTED, the writers' level, would take one per statement).
func (db *DB) snapshot(ctx context.Context) (*sql.Tx, error) {
	opts := &sql.TxOptions{}
	if db.dialect == Postgres {
		opts.Isolation, opts.ReadOnly = sql.LevelRepeatableRead, true
	}
	tx, err := db.rd.BeginTx(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: snapshot: %w", db, err)
	}
	return tx, nil
}

// WorkEach hands each row of the worklist q selects (Work's rows, from q.Offset, at most
// q.Limit; 0: all) to each, in Work's order, as it reads them: an export of a city's list
// holds one row at a time, not 200,000 (500 MB on the way to an .xlsx). When count is not
// nil it is first given the number of rows that will follow, counted in the same
// snapshot as the rows are read, so that an export's audit row can say how many rows
// leave before the first does. An error of count or each ends the walk and is returned.
// A row is each's only until it returns.
func (db *DB) WorkEach(ctx context.Context, q WorkQuery, count func(n int) error, each func(*WorkRow) error) error {
	if count == nil {
		return db.work(ctx, db.rd, q, 0, nil, each)
	}
	snap, err := db.snapshot(ctx)
	if err != nil {
		return err
	}
	defer snap.Rollback()
	offset := max(q.Offset, 0)
	upTo := math.MaxInt32
	if q.Limit > 0 {
		upTo = offset + q.Limit
	}
	return db.work(ctx, snap, q, upTo, func(total int64) error { return count(int(max(total-int64(offset), 0))) }, each)
}

// TrailEach hands each row q selects (Trail's rows, newest first) to each as it reads them,
// after giving count, when not nil, their number, counted in the same snapshot (see
// WorkEach). An error of count or each ends the walk and is returned.
func (db *DB) TrailEach(ctx context.Context, q TrailQuery, count func(n int) error, each func(*AuditRow) error) error {
	if err := q.Bounded(); err != nil {
		return err
	}
	where, args := trailWhere(q)
	limit := strconv.Itoa(trailLimit(q.Limit))
	rd := reader(db.rd)
	if count != nil {
		snap, err := db.snapshot(ctx)
		if err != nil {
			return err
		}
		defer snap.Rollback()
		rd = snap
		var n int
		if err := rd.QueryRowContext(ctx, db.Rebind(`SELECT count(*) FROM (SELECT 1 FROM audit `+where+` LIMIT `+limit+`) c`), args...).Scan(&n); err != nil {
			return fmt.Errorf("%s: audit: %w", db, err)
		}
		if err := count(n); err != nil {
			return err
		}
	}
	rows, err := rd.QueryContext(ctx, db.Rebind(auditSelect+where+` ORDER BY seq DESC LIMIT `+limit), args...)
	if err != nil {
		return fmt.Errorf("%s: audit: %w", db, err)
	}
	return eachAudit(rows, each)
}
