package store

import (
	"context"
	"database/sql"
	"fmt"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"strings"

	sc "github.com/silentcert/silentcert"
)

// Record is one stored record row: applied, held for review, or linked to no one.
type Record struct {
	ID                                 int64
	Source, RecordID, Type             string
	PID                                int64 // -1 when linked to no one
	Link                               int   // linkage outcome: 0 linked
	Held                               bool
	PersonID, Name                     string // as the department gave them
	BirthDate, EventDate, ReportedDate sc.Date
	RegionCode, Detail                 string
	Content                            uint64 // hash of the row's content: a resend that differs is a conflict
	Batch                              int64
	File                               string
	Line                               int64
}

// InsertRecords stores the records whose (source, record_id) is not stored yet; rs must
// not repeat a key. For each record it returns its id and whether it was inserted; for one
// already stored, the stored id and content. Ids are given in order inside the
// transaction (the writer's lock is held), not drawn from a sequence, so that a
// transaction rolled back by a crash leaves no trace: a restarted run gives every record
// the id an uninterrupted one gives, and states that name records by id come out
// identical.
func (t *Tx) InsertRecords(rs []*Record) (ids []int64, inserted []bool, contents []uint64, err error) {
	if t.nextRecord == 0 {
		var last int64
		if err := t.QueryRow(`SELECT COALESCE(max(id), 0) FROM records`).Scan(&last); err != nil {
			return nil, nil, nil, fmt.Errorf("%s: records: %w", t.db, err)
		}
		t.nextRecord = last + 1
	}
	base := t.nextRecord
	ids = make([]int64, len(rs))
	inserted = make([]bool, len(rs))
	contents = make([]uint64, len(rs))
	mark := func(id int64) {
		if i := id - base; i >= 0 && i < int64(len(rs)) {
			inserted[i] = true
		}
	}
	if t.conn != nil && len(rs) >= copyMin {
		err = t.copyRecords(rs, base, mark)
	} else {
		err = t.insertRecordRows(rs, base, mark)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	t.nextRecord = base + int64(len(rs))
	for i, r := range rs {
		if inserted[i] {
			ids[i], contents[i] = base+int64(i), r.Content
			continue
		}
		var c int64
		if err := t.QueryRow(`SELECT id, content FROM records WHERE source = ? AND record_id = ?`, r.Source, r.RecordID).Scan(&ids[i], &c); err != nil {
			return nil, nil, nil, fmt.Errorf("%s: record %s:%s: %w", t.db, r.Source, r.RecordID, err)
		}
		contents[i] = uint64(c)
	}
	return ids, inserted, contents, nil
}

// recordValues returns a record's column values, in the order of recordCols.
func recordValues(r *Record, id int64) []any {
	var pid any
	if r.PID >= 0 {
		pid = r.PID
	}
	return []any{id, r.Source, r.RecordID, r.Type, pid, r.Link, b2i(r.Held), r.PersonID, r.Name,
		int64(r.BirthDate), int64(r.EventDate), int64(r.ReportedDate), r.RegionCode, r.Detail, int64(r.Content),
		r.Batch, r.File, r.Line}
}

var recordCols = []string{"id", "source", "record_id", "type", "pid", "link", "held", "person_id", "name", "birth_date",
	"event_date", "reported_date", "region_code", "detail", "content", "batch", "file", "line"}

// copyMin is the batch size from which PostgreSQL gets the records by COPY.
const copyMin = 2000

func (t *Tx) insertRecordRows(rs []*Record, base int64, mark func(int64)) error {
	return t.insertMany(`INSERT INTO records (`+strings.Join(recordCols, ", ")+`)`, 18,
		`ON CONFLICT (source, record_id) DO NOTHING RETURNING id`, len(rs), func(i int, a []any) []any {
			return append(a, recordValues(rs[i], base+int64(i))...)
		}, func(scan func(...any) error) error {
			var id int64
			if err := scan(&id); err != nil {
				return err
			}
			mark(id)
			return nil
		})
}

// copyRecords is insertRecordRows for large batches on PostgreSQL: COPY into a temporary
// table of the transaction's connection, then one INSERT … SELECT that skips the keys
// already stored and returns the ids it inserted.
func (t *Tx) copyRecords(rs []*Record, base int64, mark func(int64)) error {
	if _, err := t.tx.ExecContext(t.ctx, `CREATE TEMP TABLE IF NOT EXISTS stage_records (LIKE records) ON COMMIT DELETE ROWS`); err != nil {
		return fmt.Errorf("%s: stage: %w", t.db, err)
	}
	if _, err := t.tx.ExecContext(t.ctx, `TRUNCATE stage_records`); err != nil {
		return fmt.Errorf("%s: stage: %w", t.db, err)
	}
	err := t.conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("not a pgx connection: %T", dc)
		}
		_, err := c.Conn().CopyFrom(t.ctx, pgx.Identifier{"stage_records"}, recordCols,
			pgx.CopyFromSlice(len(rs), func(i int) ([]any, error) { return recordValues(rs[i], base+int64(i)), nil }))
		return err
	})
	if err != nil {
		return fmt.Errorf("%s: copy records: %w", t.db, err)
	}
	cols := strings.Join(recordCols, ", ")
	rows, err := t.tx.QueryContext(t.ctx, `INSERT INTO records (`+cols+`) SELECT `+cols+` FROM stage_records ORDER BY id
		ON CONFLICT (source, record_id) DO NOTHING RETURNING id`)
	if err != nil {
		return fmt.Errorf("%s: records from stage: %w", t.db, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return err
		}
		mark(id)
	}
	return rows.Err()
}

// RecordIDByKey returns the id of the record SOURCE:RECORD_ID, and whether it exists.
func (t *Tx) RecordIDByKey(source, recordID string) (int64, bool, error) {
	var id int64
	err := t.QueryRow(`SELECT id FROM records WHERE source = ? AND record_id = ?`, source, recordID).Scan(&id)
	if err == sql.ErrNoRows {
		return 0, false, nil
	}
	return id, err == nil, err
}

// RecordKeys returns SOURCE:RECORD_ID for each id, read in the transaction.
func (t *Tx) RecordKeys(ids []int64) (map[int64]string, error) {
	return recordKeys(t.ctx, t.db, t.tx, ids)
}

// RecordKeys returns SOURCE:RECORD_ID for each id.
func (db *DB) RecordKeys(ctx context.Context, ids []int64) (map[int64]string, error) {
	return recordKeys(ctx, db, db.sql, ids)
}

type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

func recordKeys(ctx context.Context, db *DB, q querier, ids []int64) (map[int64]string, error) {
	out := make(map[int64]string, len(ids))
	const chunk = 500
	for len(ids) > 0 {
		n := min(chunk, len(ids))
		args := make([]any, n)
		for i := range args {
			args[i] = ids[i]
		}
		ids = ids[n:]
		rows, err := q.QueryContext(ctx, db.Rebind(`SELECT id, source, record_id FROM records WHERE id IN (?`+strings.Repeat(",?", n-1)+`)`), args...)
		if err != nil {
			return nil, fmt.Errorf("%s: record keys: %w", db, err)
		}
		for rows.Next() {
			var id int64
			var s, r string
			if err := rows.Scan(&id, &s, &r); err != nil {
				rows.Close()
				return nil, err
			}
			out[id] = s + ":" + r
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// PersonRecords returns a person's records, oldest event first.
func (db *DB) PersonRecords(ctx context.Context, pid int64) ([]Record, error) {
	return db.records(ctx, `WHERE pid = ? ORDER BY event_date, id`, pid)
}

// HeldRecords returns every record held for review, in id order.
func (db *DB) HeldRecords(ctx context.Context) ([]Record, error) {
	return db.records(ctx, `WHERE held = 1 ORDER BY id`)
}

func (db *DB) records(ctx context.Context, where string, args ...any) ([]Record, error) {
	rows, err := db.sql.QueryContext(ctx, db.Rebind(`SELECT id, source, record_id, type, pid, link, held, person_id, name,
		birth_date, event_date, reported_date, region_code, detail, content, batch, file, line FROM records `+where), args...)
	if err != nil {
		return nil, fmt.Errorf("%s: records: %w", db, err)
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		var r Record
		var pid sql.NullInt64
		var held int
		var birth, event, reported, content int64
		if err := rows.Scan(&r.ID, &r.Source, &r.RecordID, &r.Type, &pid, &r.Link, &held, &r.PersonID, &r.Name,
			&birth, &event, &reported, &r.RegionCode, &r.Detail, &content, &r.Batch, &r.File, &r.Line); err != nil {
			return nil, err
		}
		r.PID = -1
		if pid.Valid {
			r.PID = pid.Int64
		}
		r.Held = held != 0
		r.BirthDate, r.EventDate, r.ReportedDate, r.Content = sc.Date(birth), sc.Date(event), sc.Date(reported), uint64(content)
		out = append(out, r)
	}
	return out, rows.Err()
}

// UnlinkedCounts calls fn with the number of records linked to no one, by type and
// linkage outcome.
func (db *DB) UnlinkedCounts(ctx context.Context, fn func(typ string, link int, n int64)) error {
	rows, err := db.sql.QueryContext(ctx, `SELECT type, link, count(*) FROM records WHERE link > 0 AND held = 0 GROUP BY type, link ORDER BY type, link`)
	if err != nil {
		return fmt.Errorf("%s: unlinked: %w", db, err)
	}
	defer rows.Close()
	for rows.Next() {
		var t string
		var link int
		var n int64
		if err := rows.Scan(&t, &link, &n); err != nil {
			return err
		}
		fn(t, link, n)
	}
	return rows.Err()
}

// DeliveryDays calls fn for every (type, reported_date) pair among the stored records, in
// order: the days each record type was delivered.
func (db *DB) DeliveryDays(ctx context.Context, fn func(typ string, d sc.Date)) error {
	rows, err := db.sql.QueryContext(ctx, `SELECT DISTINCT type, reported_date FROM records ORDER BY type, reported_date`)
	if err != nil {
		return fmt.Errorf("%s: deliveries: %w", db, err)
	}
	defer rows.Close()
	for rows.Next() {
		var t string
		var d int64
		if err := rows.Scan(&t, &d); err != nil {
			return err
		}
		fn(t, sc.Date(d))
	}
	return rows.Err()
}
