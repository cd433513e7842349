package store

import (
	"fmt"
	"strings"
)

// maxParams bounds the parameters of one statement, under SQLite's 32,766 and
// PostgreSQL's 65,535.
const maxParams = 30000

// maxRows bounds the rows of one statement: beyond a few hundred, a bigger statement saves
// nothing and costs parse time.
const maxRows = 500

// insertMany inserts n rows with one statement per chunk of rows: head is "INSERT INTO t
// (a, b, c)", suffix what follows the VALUES ("ON CONFLICT …", "RETURNING …"); args appends
// row i's values. each, when set, is called with each chunk's result rows (for RETURNING).
func (t *Tx) insertMany(head string, ncols int, suffix string, n int, args func(i int, dst []any) []any, each func(scan func(dst ...any) error) error) error {
	return t.insertManyN(head, ncols, suffix, n, args, each, nil)
}

// insertManyN is insertMany telling done, when each is nil, how many of the rows
// [start, start+k) each statement changed.
func (t *Tx) insertManyN(head string, ncols int, suffix string, n int, args func(i int, dst []any) []any, each func(scan func(dst ...any) error) error,
	done func(start, k int, affected int64) error) error {
	per := min(maxRows, maxParams/ncols)
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?,", ncols), ",") + ")"
	buf := make([]any, 0, per*ncols)
	for start := 0; start < n; start += per {
		k := min(per, n-start)
		q := head + " VALUES " + strings.TrimSuffix(strings.Repeat(tuple+",", k), ",") + " " + suffix
		buf = buf[:0]
		for i := start; i < start+k; i++ {
			buf = args(i, buf)
		}
		st, err := t.stmt(q)
		if err != nil {
			return err
		}
		if each == nil {
			res, err := st.ExecContext(t.ctx, buf...)
			if err != nil {
				return fmt.Errorf("%s: %w", t.db, err)
			}
			if done != nil {
				a, err := res.RowsAffected()
				if err != nil {
					return fmt.Errorf("%s: %w", t.db, err)
				}
				if err := done(start, k, a); err != nil {
					return err
				}
			}
			continue
		}
		rows, err := st.QueryContext(t.ctx, buf...)
		if err != nil {
			return fmt.Errorf("%s: %w", t.db, err)
		}
		for rows.Next() {
			if err := each(rows.Scan); err != nil {
				rows.Close()
				return err
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("%s: %w", t.db, err)
		}
	}
	return nil
}
