package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	sc "github.com/silentcert/silentcert"
)

// Batch is one ingestion: a file set from the command line or a drop folder, or one body
// posted to the API.
type Batch struct {
	ID       int64
	Origin   string // "file", "history", "drop", "api", "console", "replay", "roster"
	Source   string // the sending department for API and drop batches; "" for mixed files
	Actor    string
	Received string // wall time, RFC 3339
	Day      sc.Date
	Status   string // "applied" or "rejected"
	Files    string
	Report   string // the batch report, JSON
	// Key is the batch's idempotency key ("" for none): at most one batch holds a key.
	Key string
	// KeyForm is what the sender says the keyed batch held ("" for nothing said): the
	// console's form fingerprint, to tell a form sent twice from another sent with its key.
	KeyForm string
}

// Quarantined is one rejected row of a batch.
type Quarantined struct {
	File                   string
	Line                   int64
	Field, Reason, Message string
}

// Storable makes s storable in a text column of either database: bytes that are not
// UTF-8 (a file named in GBK on a Windows share) and NULs become U+FFFD. PostgreSQL
// refuses both, and one such name would fail its whole batch; SQLite would keep them.
func Storable(s string) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// NewBatch inserts a batch row and returns its id; the caller fills the report later with
// FinishBatch, in the same transaction.
func (t *Tx) NewBatch(b *Batch) (int64, error) {
	var id int64
	var key any // NULL: no key
	if b.Key != "" {
		key = Storable(b.Key)
	}
	var form any
	if b.KeyForm != "" {
		form = Storable(b.KeyForm)
	}
	err := t.QueryRow(`INSERT INTO batches (origin, source, actor, received, day, status, files, report, idem, idem_form)
		VALUES (?,?,?,?,?,?,?,?,?,?) RETURNING id`, b.Origin, Storable(b.Source), Storable(b.Actor), b.Received, int64(b.Day), b.Status, Storable(b.Files), Storable(b.Report), key, form).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("%s: batch: %w", t.db, err)
	}
	b.ID = id
	return id, nil
}

// FinishBatch records the batch's status and report.
func (t *Tx) FinishBatch(id int64, status, report string) error {
	return t.exec(`UPDATE batches SET status = ?, report = ? WHERE id = ?`, status, Storable(report), id)
}

// Quarantine stores a batch's rejected rows.
func (t *Tx) Quarantine(batch int64, qs []Quarantined) error {
	// In bulk (COPY, or INSERTs of many rows): a file whose every row is refused (its
	// dates after the batch's day, a wrong column) is as long as any, and a statement a
	// row took 0.6 of the batch's time for such a file.
	err := t.bulk("quarantine", []string{"batch", "seq", "file", "line", "field", "reason", "message"}, "", len(qs), func(i int, a []any) []any {
		q := &qs[i]
		return append(a, batch, i, Storable(q.File), q.Line, q.Field, q.Reason, Storable(q.Message))
	})
	if err != nil {
		return fmt.Errorf("%s: quarantine: %w", t.db, err)
	}
	return nil
}

// Batch returns one batch.
func (db *DB) Batch(ctx context.Context, id int64) (*Batch, error) {
	bs, err := db.batches(ctx, `WHERE id = ?`, id)
	if err != nil {
		return nil, err
	}
	if len(bs) == 0 {
		return nil, sc.Errorf(sc.ENotFound, "no batch %d", id)
	}
	return &bs[0], nil
}

// BatchByKey returns the batch holding an idempotency key, or nil when none does.
func (db *DB) BatchByKey(ctx context.Context, key string) (*Batch, error) {
	bs, err := db.batches(ctx, `WHERE idem = ?`, Storable(key))
	if err != nil || len(bs) == 0 {
		return nil, err
	}
	return &bs[0], nil
}

// BatchKeyed returns the id of the batch holding an idempotency key, read in the
// transaction, and whether one does.
func (t *Tx) BatchKeyed(key string) (int64, bool, error) {
	var id int64
	err := t.QueryRow(`SELECT id FROM batches WHERE idem = ?`, Storable(key)).Scan(&id)
	if err == sql.ErrNoRows {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("%s: batches: %w", t.db, err)
	}
	return id, true, nil
}

// Batches returns the latest batches, newest first.
func (db *DB) Batches(ctx context.Context, limit int) ([]Batch, error) {
	return db.batches(ctx, `ORDER BY id DESC LIMIT ?`, limit)
}

func (db *DB) batches(ctx context.Context, where string, args ...any) ([]Batch, error) {
	rows, err := db.rd.QueryContext(ctx, db.Rebind(`SELECT id, origin, source, actor, received, day, status, files, report, COALESCE(idem, ''), COALESCE(idem_form, '') FROM batches `+where), args...)
	if err != nil {
		return nil, fmt.Errorf("%s: batches: %w", db, err)
	}
	defer rows.Close()
	var out []Batch
	for rows.Next() {
		var b Batch
		var day int64
		if err := rows.Scan(&b.ID, &b.Origin, &b.Source, &b.Actor, &b.Received, &day, &b.Status, &b.Files, &b.Report, &b.Key, &b.KeyForm); err != nil {
			return nil, err
		}
		b.Day = sc.Date(day)
		out = append(out, b)
	}
	return out, rows.Err()
}

// BatchQuarantine returns a batch's rejected rows in order.
func (db *DB) BatchQuarantine(ctx context.Context, batch int64) ([]Quarantined, error) {
	return db.quarantine(ctx, `WHERE batch = ? ORDER BY seq`, batch)
}

// BatchQuarantinePage returns at most limit of a batch's rejected rows from the from-th
// (0: the first), and how many the batch has in all: a batch of millions of bad rows is
// read a page at a time.
func (db *DB) BatchQuarantinePage(ctx context.Context, batch int64, from, limit int) ([]Quarantined, int, error) {
	var total int
	if err := db.rd.QueryRowContext(ctx, db.Rebind(`SELECT count(*) FROM quarantine WHERE batch = ?`), batch).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("%s: quarantine: %w", db, err)
	}
	qs, err := db.quarantine(ctx, `WHERE batch = ? AND seq >= ? ORDER BY seq LIMIT `+strconv.Itoa(limit), batch, from)
	return qs, total, err
}

// AllQuarantine returns every rejected row, batch by batch.
func (db *DB) AllQuarantine(ctx context.Context) ([]Quarantined, error) {
	return db.quarantine(ctx, `ORDER BY batch, seq`)
}

func (db *DB) quarantine(ctx context.Context, where string, args ...any) ([]Quarantined, error) {
	rows, err := db.rd.QueryContext(ctx, db.Rebind(`SELECT file, line, field, reason, message FROM quarantine `+where), args...)
	if err != nil {
		return nil, fmt.Errorf("%s: quarantine: %w", db, err)
	}
	defer rows.Close()
	var out []Quarantined
	for rows.Next() {
		var q Quarantined
		if err := rows.Scan(&q.File, &q.Line, &q.Field, &q.Reason, &q.Message); err != nil {
			return nil, err
		}
		out = append(out, q)
	}
	return out, rows.Err()
}
