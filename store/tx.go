package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	sc "github.com/silentcert/silentcert"
)

// Tx is one write transaction: a batch, a day's run, a staff action. Nothing it wrote
// is visible, or durable, until Commit.
type Tx struct {
	db      *DB
	tx      *sql.Tx
	ctx     context.Context
	stmts   map[string]*sql.Stmt
	last    []byte // the audit chain's last hash, once read
	lastSeq int64
	// nextRecord is the id the next record inserted gets (0: not read yet).
	nextRecord int64
	// sent counts the statements sent through the helpers below (a statement prepared once
	// and run in a loop by its caller counts once): what tests bound a batch's cost with,
	// a few a chunk of rows rather than one a row.
	sent int
	// conn is the connection the transaction runs on (PostgreSQL), for COPY.
	conn *sql.Conn
	// later holds index rows of the records stored in the transaction that nothing reads
	// before it commits (people's timelines, delivery days): written once, sorted, at
	// Commit, they touch each index page once however many batches the transaction has.
	later laterRows
	// asideUnkeyed: record_aside has no pkey yet (migration 0008's move of the records
	// runs before 0022 adds it).
	asideUnkeyed bool
	// auditUnregioned: audit has no region column yet (a migration before 0034 appends
	// its row, or a database not migrated past it); known once auditChecked.
	auditUnregioned, auditChecked bool
	// The transaction's context is the caller's until the COMMIT is sent, and cancelled
	// with it; the COMMIT itself is not (a cancel in its middle would leave its outcome
	// unknown): cmu guards committing against the caller's cancel (stop, cancel).
	cmu        sync.Mutex
	committing bool
	parent     context.Context // the caller's
	stop       func() bool
	cancel     context.CancelFunc
	// payBatch is the batch of the payment rows written since the last SealPayments (0:
	// none), whose covering audit row Commit appends if the caller has not.
	payBatch int64
	// turn: the transaction holds the writers' turn of its process (Begin), given back
	// when it ends.
	turn bool
}

// Begin starts a write transaction, waiting for its turn as long as it takes (or ctx
// allows). Write transactions take turns: in the process on a token, so that those waiting
// hold no connection (on PostgreSQL the short writes outside a transaction go on
// meanwhile, and the readers have a pool of their own anyway); on PostgreSQL, between
// processes, on the writers' advisory lock of the schema, as they do on SQLite, while
// services (or tests) in other schemas of the same database go on.
func (db *DB) Begin(ctx context.Context) (*Tx, error) { return db.begin(ctx, 0) }

// BeginWithin is Begin for a staff action (an export's audit row, a login): one that can
// answer "busy, try again" rather than hang for the minutes a large batch or a payroll
// day holds the writers' turn. When the turn has not come within wait, it returns an
// error of code sc.EBusy, having done nothing. On SQLite a writer of another process is
// waited for as long as SQLite's busy timeout (10 s) instead.
func (db *DB) BeginWithin(ctx context.Context, wait time.Duration) (*Tx, error) {
	return db.begin(ctx, max(wait, time.Millisecond))
}

// StaffWait is how long a staff action waits for the writers' turn before it answers
// busy: longer than the staff actions' own transactions and the small batches take (well
// under a second), far shorter than a large batch or a payroll day (minutes), and than
// anyone waits for a page.
const StaffWait = 10 * time.Second

// busy is BeginWithin's error when the turn did not come in time.
func (db *DB) busy() error {
	return sc.Errorf(sc.EBusy, "the database is busy with a batch or the day's run: nothing was done; try again in a few minutes")
}

// begin is Begin, waiting at most wait for the turn when wait > 0.
func (db *DB) begin(ctx context.Context, wait time.Duration) (*Tx, error) {
	if err := db.writerAlive(ctx); err != nil {
		return nil, err
	}
	var deadline <-chan time.Time
	if wait > 0 {
		tm := time.NewTimer(wait)
		defer tm.Stop()
		deadline = tm.C
	}
	start := time.Now()
	select {
	case <-db.turn:
	case <-ctx.Done():
		return nil, fmt.Errorf("%s: begin: %w", db, ctx.Err())
	case <-deadline:
		return nil, db.busy()
	}
	t := &Tx{db: db, stmts: map[string]*sql.Stmt{}, turn: true}
	tctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	t.ctx, t.cancel, t.parent = tctx, cancel, ctx
	t.stop = context.AfterFunc(ctx, func() {
		t.cmu.Lock()
		defer t.cmu.Unlock()
		if !t.committing {
			cancel()
		}
	})
	if db.dialect != Postgres {
		tx, err := db.sql.BeginTx(tctx, nil)
		if err != nil {
			t.release()
			if wait > 0 && Busy(err) {
				return nil, db.busy()
			}
			return nil, fmt.Errorf("%s: begin: %w", db, err)
		}
		t.tx = tx
		return t, nil
	}
	// On PostgreSQL the transaction keeps its connection, so that COPY can run in it.
	cctx := tctx
	if wait > 0 {
		var stop context.CancelFunc
		cctx, stop = context.WithDeadline(tctx, start.Add(wait))
		defer stop()
	}
	conn, err := db.sql.Conn(cctx)
	if err != nil {
		t.release()
		if wait > 0 && tctx.Err() == nil {
			return nil, db.busy()
		}
		return nil, fmt.Errorf("%s: begin: %w", db, err)
	}
	tx, err := conn.BeginTx(tctx, readCommitted)
	if err != nil {
		conn.Close()
		t.release()
		return nil, fmt.Errorf("%s: begin: %w", db, err)
	}
	t.tx, t.conn = tx, conn
	lock := `SELECT pg_advisory_xact_lock(7341002, hashtext(coalesce(current_schema(), '')))`
	if wait > 0 {
		// Free with the turn, unless a writer of another process holds it (a command
		// beside serve): the wait is bounded by the server (lock_timeout, for this
		// statement alone), not by a cancel, which would cost the connection.
		ms := max(time.Until(start.Add(wait)).Milliseconds(), 1)
		lock = `SET LOCAL lock_timeout = ` + strconv.FormatInt(ms, 10) + `; ` + lock + `; SET LOCAL lock_timeout TO DEFAULT`
	}
	if _, err := tx.ExecContext(tctx, lock); err != nil {
		t.Rollback()
		var pe interface{ SQLState() string }
		if wait > 0 && errors.As(err, &pe) && pe.SQLState() == "55P03" { // lock_not_available
			return nil, db.busy()
		}
		return nil, err
	}
	return t, nil
}

// done releases the transaction's hold on the caller's context.
func (t *Tx) done() {
	t.stop()
	t.cancel()
}

// Commit makes the transaction's writes durable.
func (t *Tx) Commit() error {
	if err := t.sealAtCommit(); err != nil {
		t.Rollback()
		return err
	}
	if err := t.writeLater(); err != nil {
		t.Rollback()
		return err
	}
	if err := t.db.claimHeld(t); err != nil {
		t.Rollback()
		return err
	}
	t.cmu.Lock()
	// The caller's context first: the cancel reaches the transaction's own a moment later.
	if err := cmp.Or(t.parent.Err(), t.ctx.Err()); err != nil {
		t.cmu.Unlock()
		// Cancelled before the COMMIT: rolled back, nothing unknown about it.
		t.Rollback()
		return fmt.Errorf("%s: commit: %w", t.db, err)
	}
	t.committing = true // from here the caller's cancel no longer reaches it
	t.cmu.Unlock()
	t.closeStmts()
	defer t.release()
	if err := t.tx.Commit(); err != nil {
		if errors.Is(err, sql.ErrTxDone) {
			// database/sql rolled it back before the COMMIT (its context was cancelled).
			return fmt.Errorf("%s: commit: %w", t.db, err)
		}
		return fmt.Errorf("%s: commit: %w (%w)", t.db, err, ErrCommitOutcome)
	}
	return nil
}

// ErrCommitOutcome is wrapped by Commit's error when the database's COMMIT itself failed:
// whether the writes are stored is then unknown (a connection lost while PostgreSQL
// committed, an I/O error after SQLite wrote its commit frame), so a caller that keeps a
// copy in memory can no longer trust it.
var ErrCommitOutcome = errors.New("whether the commit took effect is unknown")

// Rollback drops the transaction's writes; it is safe after Commit.
func (t *Tx) Rollback() error {
	t.closeStmts()
	defer t.release()
	err := t.tx.Rollback()
	if err == sql.ErrTxDone {
		return nil
	}
	return err
}

func (t *Tx) closeStmts() {
	for _, s := range t.stmts {
		s.Close()
	}
	clear(t.stmts)
}

// stmt returns the prepared statement for q (written with ? placeholders).
func (t *Tx) stmt(q string) (*sql.Stmt, error) {
	t.sent++
	if s, ok := t.stmts[q]; ok {
		return s, nil
	}
	s, err := t.tx.PrepareContext(t.ctx, t.db.Rebind(q))
	if err != nil {
		return nil, fmt.Errorf("%s: prepare: %w", t.db, err)
	}
	t.stmts[q] = s
	return s, nil
}

func (t *Tx) exec(q string, args ...any) error {
	s, err := t.stmt(q)
	if err != nil {
		return err
	}
	if _, err := s.ExecContext(t.ctx, args...); err != nil {
		return fmt.Errorf("%s: %w", t.db, err)
	}
	return nil
}

// Exec runs one statement written with ? placeholders in the transaction.
func (t *Tx) Exec(q string, args ...any) error { return t.exec(q, args...) }

// ExecN is Exec that returns the number of rows the statement changed.
func (t *Tx) ExecN(q string, args ...any) (int64, error) {
	s, err := t.stmt(q)
	if err != nil {
		return 0, err
	}
	res, err := s.ExecContext(t.ctx, args...)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", t.db, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("%s: %w", t.db, err)
	}
	return n, nil
}

// QueryRow runs a query written with ? placeholders in the transaction.
func (t *Tx) QueryRow(q string, args ...any) *sql.Row {
	t.sent++
	return t.tx.QueryRowContext(t.ctx, t.db.Rebind(q), args...)
}

// Each runs a query written with ? placeholders in the transaction and calls fn with each
// row of it.
func (t *Tx) Each(q string, args []any, fn func(*sql.Rows) error) error { return t.each(q, args, fn) }

// each runs a query written with ? placeholders in the transaction and calls fn with each
// row of it.
func (t *Tx) each(q string, args []any, fn func(*sql.Rows) error) error {
	t.sent++
	rows, err := t.tx.QueryContext(t.ctx, t.db.Rebind(q), args...)
	if err != nil {
		return fmt.Errorf("%s: %w", t.db, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// SetMeta sets a value in meta.
func (t *Tx) SetMeta(key, value string) error {
	return t.exec(`INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
}

// Meta returns a value from meta, and whether it is set.
func (db *DB) Meta(ctx context.Context, key string) (string, bool, error) {
	var v string
	err := db.rd.QueryRowContext(ctx, db.Rebind(`SELECT value FROM meta WHERE key = ?`), key).Scan(&v)
	if err == sql.ErrNoRows {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("%s: meta %s: %w", db, key, err)
	}
	return v, true, nil
}

// meta reads a value from meta inside the transaction.
func (t *Tx) meta(key string) (string, bool, error) {
	var v string
	err := t.QueryRow(`SELECT value FROM meta WHERE key = ?`, key).Scan(&v)
	if err == sql.ErrNoRows {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("%s: meta %s: %w", t.db, key, err)
	}
	return v, true, nil
}

// AddCounters adds to the cumulative counters.
func (t *Tx) AddCounters(names []string, ns []int64) error {
	for i, name := range names {
		if ns[i] == 0 {
			continue
		}
		if err := t.exec(`INSERT INTO counters (name, n) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET n = counters.n + excluded.n`, name, ns[i]); err != nil {
			return err
		}
	}
	return nil
}

// Counters returns every counter.
func (db *DB) Counters(ctx context.Context) (map[string]int64, error) {
	rows, err := db.rd.QueryContext(ctx, `SELECT name, n FROM counters`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var k string
		var n int64
		if err := rows.Scan(&k, &n); err != nil {
			return nil, err
		}
		out[k] = n
	}
	return out, rows.Err()
}

// release gives the transaction's connection back to the pool, and its turn to the next
// writer.
func (t *Tx) release() {
	if t.conn != nil {
		t.conn.Close()
		t.conn = nil
	}
	t.done()
	if t.turn {
		t.turn = false
		t.db.turn <- struct{}{}
	}
}

// readCommitted is the isolation every write transaction on PostgreSQL asks for, whatever
// the database's default: writers take turns on an advisory lock and must then read what
// the one before committed. Under a default of REPEATABLE READ (a DBA's choice) the
// snapshot was taken at the lock's statement, before the wait, and a writer beside serve
// read a stale audit head: a duplicate key, the write lost.
var readCommitted = &sql.TxOptions{Isolation: sql.LevelReadCommitted}

// txOptions is readCommitted on PostgreSQL (SQLite has one writer and its own rules).
func (db *DB) txOptions() *sql.TxOptions {
	if db.dialect == Postgres {
		return readCommitted
	}
	return nil
}
