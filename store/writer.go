package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/internal/flock"
)

// ClaimWriter makes this handle the database's one writer of people's states until Close:
// a process that keeps the states in memory (the service) must be alone in changing them,
// or it would write its stale copy back over another process's batch (a death applied by
// `ingest` undone by `serve`'s next day). A second claim, by another process or another
// handle, is refused with an error naming the holder; a second claim by the same handle
// succeeds. On SQLite the claim is a lock on the file PATH-writer beside the database
// (released by the operating system when the process ends, however it ends); on
// PostgreSQL a session advisory lock per schema, held by one connection of the pool.
func (db *DB) ClaimWriter(ctx context.Context) error {
	// claimMu makes claims of one handle take turns; writerMu guards what a claim sets and
	// is never held while a claim waits (a transaction of this handle committing meanwhile
	// reads the claim under it).
	db.claimMu.Lock()
	defer db.claimMu.Unlock()
	db.writerMu.Lock()
	claimed, closed := db.writer != nil, db.closed
	db.writerMu.Unlock()
	if closed {
		return sc.Errorf(sc.EInternal, "%s: closed", db)
	}
	if claimed {
		return nil
	}
	var release func() error
	var conn *sql.Conn
	var pid int64
	var err error
	if db.dialect == SQLite {
		release, err = db.claimFile()
	} else {
		release, conn, pid, err = db.claimAdvisory(ctx)
	}
	if err != nil {
		return err
	}
	db.writerMu.Lock()
	if db.closed { // closed while the claim waited: let it go at once
		db.writerMu.Unlock()
		release()
		return sc.Errorf(sc.EInternal, "%s: closed", db)
	}
	db.writer, db.writerConn, db.writerPID = release, conn, pid
	db.writerMu.Unlock()
	return nil
}

// writerAlive checks, before each write transaction, that a claim made on PostgreSQL is
// still held: the session that holds it can end under the process (a server restart, an
// administrator's pg_terminate_backend, a network cut), and with it the lock, which another
// process may then take. Writing on would make two writers; the claim's loss is an error
// until the process restarts and claims again.
func (db *DB) writerAlive(ctx context.Context) error {
	db.writerMu.Lock()
	defer db.writerMu.Unlock()
	if db.writerConn == nil {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// Never on the caller's context: a cancel in the middle of the ping would close the
	// connection, and the claim with it.
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := db.writerConn.PingContext(pctx); err != nil {
		db.lost = sc.Errorf(sc.EUnavailable, "%s: this process's claim as the database's writer was lost with its connection (%v): restart it to claim the database again", db, err)
		return db.lost
	}
	return nil
}

// CheckClaim checks that this process's claim as the database's writer is still held (a
// ping on the claim's connection), as every write transaction does first: a service that
// writes nothing for a while (a quiet night) learns of the loss all the same. It returns
// ClaimLost's error when the claim is gone.
func (db *DB) CheckClaim(ctx context.Context) error { return db.writerAlive(ctx) }

// ClaimLost returns why this process's claim as the database's writer was found lost (its
// session ended: a server restart, a failover, pg_terminate_backend), or nil while it is
// held or was never made. Every write fails from then on: serve reports itself not ready
// and exits, so that its supervisor starts it again and it claims the database anew.
func (db *DB) ClaimLost() error {
	db.writerMu.Lock()
	defer db.writerMu.Unlock()
	return db.lost
}

// claimHeld checks, inside t and just before its COMMIT, that this process's claim is
// still held by its session: a claim lost during the transaction (and perhaps taken by
// another process since) must not let it commit.
func (db *DB) claimHeld(t *Tx) error {
	db.writerMu.Lock()
	pid := db.writerPID
	db.writerMu.Unlock()
	if pid == 0 {
		return nil
	}
	var held bool
	if err := t.QueryRow(`SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = ?
		AND objid = hashtext(coalesce(current_schema(), ''))::oid AND objsubid = 2 AND pid = ?)`, writerLockKey, pid).Scan(&held); err != nil {
		return fmt.Errorf("%s: the writer's claim: %w", db, err)
	}
	if !held {
		err := sc.Errorf(sc.EUnavailable, "%s: this process's claim as the database's writer was lost during the transaction: rolled back; restart to claim the database again", db)
		db.writerMu.Lock()
		db.lost = err
		db.writerMu.Unlock()
		return err
	}
	return nil
}

// releaseWriter gives the claim back (Close does).
func (db *DB) releaseWriter() error {
	db.writerMu.Lock()
	defer db.writerMu.Unlock()
	db.closed = true // a claim still waiting lets its lock go (ClaimWriter)
	if db.writer == nil {
		return nil
	}
	err := db.writer()
	db.writer, db.writerConn, db.writerPID = nil, nil, 0
	return err
}

// holder describes this process for the message another one gets: holderName and since
// when.
func holder() string {
	return holderName() + ", since " + time.Now().UTC().Format(time.RFC3339)
}

// holderName is the command, the process and the host.
func holderName() string {
	host, _ := os.Hostname()
	cmd := filepath.Base(os.Args[0])
	if len(os.Args) > 1 && !strings.HasPrefix(os.Args[1], "-") {
		cmd += " " + os.Args[1] // the command: serve, ingest, replay…
	}
	return fmt.Sprintf("%s, pid %d on %s", cmd, os.Getpid(), host)
}

// errInUse is the refusal of a second writer.
func (db *DB) errInUse(by string) error {
	if by == "" {
		by = "another process"
	}
	return sc.Errorf(sc.EConflict, "%s is in use by %s: one process at a time changes people's states "+
		"(send batches to the running service through its API or drop folder, or stop it first)", db, by)
}

// claimFile locks PATH-writer and writes this process's description into it.
func (db *DB) claimFile() (func() error, error) {
	if db.path == ":memory:" || strings.HasPrefix(db.path, "file::memory:") {
		return func() error { return nil }, nil
	}
	// The lock is beside the file itself: a database reached through a symbolic link is
	// the one database (a new database has no link yet).
	path := db.path
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	name := path + "-writer"
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("%s: the writer's lock: %w", db, err)
	}
	if err := flock.TryLock(f); err != nil {
		b, _ := os.ReadFile(name)
		f.Close()
		if errors.Is(err, flock.ErrLocked) {
			return nil, db.errInUse(strings.TrimSpace(string(b)))
		}
		return nil, fmt.Errorf("%s: the writer's lock: %w", db, err)
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(holder()+"\n"), 0)
	}
	return f.Close, nil // closing the file lets the lock go
}

// writerLockKey is the advisory lock's first key (the second is the schema's hash, as for
// the transactions' locks in tx.go).
const writerLockKey = 7341003

// claimAdvisory takes the session advisory lock on a connection kept until Close.
func (db *DB) claimAdvisory(ctx context.Context) (release func() error, claim *sql.Conn, pid int64, err error) {
	// The claim's connection outlives the caller's context: a cancel in the middle of one
	// of its statements would close it. Waiting for a writer's transaction may take as
	// long as it does, and the caller may give up (wctx).
	wctx := ctx
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("%s: the writer's lock: %w", db, err)
	}
	// The server shows the holder by this name to the process that is refused; and the
	// session, idle between checks, must outlive a server's idle_session_timeout (14+).
	if _, err := conn.ExecContext(ctx, `SELECT set_config('application_name', $1, false),
		(SELECT set_config('idle_session_timeout', '0', false) WHERE current_setting('server_version_num')::int >= 140000)`,
		clip(holderName(), 63)); err != nil {
		conn.Close()
		return nil, nil, 0, fmt.Errorf("%s: the writer's lock: %w", db, err)
	}
	// A host that dies holding the claim (power lost, no FIN sent) would keep it until the
	// server's TCP keepalive gave up on the session, two hours by the usual defaults; these
	// end it within about two minutes. A server that cannot set them (not Linux, or a Unix
	// socket, where they read 0) keeps its own: the claim is still correct, only slower to
	// free after such a death, so an error here is not one.
	_, _ = conn.ExecContext(ctx, `SELECT set_config('tcp_keepalives_idle', '60', false),
		set_config('tcp_keepalives_interval', '10', false), set_config('tcp_keepalives_count', '6', false)`)
	var ok bool
	err = conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1, hashtext(coalesce(current_schema(), '')))`, writerLockKey).Scan(&ok)
	if err == nil && !ok {
		var by string
		// Who holds it, as the server knows them (best effort: the message is the same without).
		conn.QueryRowContext(ctx, `SELECT format('%s (server pid %s, from %s, since %s)', coalesce(nullif(a.application_name, ''), 'a client'),
			a.pid, coalesce(host(a.client_addr), 'a local socket'), to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
			FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
			WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1 AND l.objid = hashtext(coalesce(current_schema(), ''))::oid AND l.objsubid = 2
			AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
			writerLockKey).Scan(&by)
		conn.Close()
		return nil, nil, 0, db.errInUse(by)
	}
	if err == nil {
		err = conn.QueryRowContext(ctx, `SELECT pg_backend_pid()`).Scan(&pid)
	}
	if err == nil {
		// A writer that lost its claim may still be in a transaction: wait for it to end
		// (its COMMIT then finds the claim gone, claimHeld, and rolls back) before this
		// process reads any state.
		err = waitWriters(wctx, conn)
	}
	if err != nil {
		// The lock may be held (granted with the answer lost, or before a failed wait):
		// the session ends with the connection.
		discard(conn)
		return nil, nil, 0, fmt.Errorf("%s: the writer's lock: %w", db, err)
	}
	return func() error {
		// Closing the connection would only return it to the pool, lock and all.
		if _, err := conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1, hashtext(coalesce(current_schema(), '')))`, writerLockKey); err != nil {
			discard(conn)
			return err
		}
		return conn.Close()
	}, conn, pid, nil
}

// discard closes conn and its session rather than return it to the pool (with a lock the
// session may hold).
func discard(conn *sql.Conn) {
	conn.Raw(func(any) error { return driver.ErrBadConn })
	conn.Close()
}

// waitWriters takes and lets go of the write transactions' lock (tx.go) on conn: it
// returns once no transaction of any process is writing, or fails after writerWait
// naming the session that still is (a transaction left open by a process cut off from
// the server, say, which an administrator must end).
func waitWriters(ctx context.Context, conn *sql.Conn) error {
	tx, err := conn.BeginTx(ctx, readCommitted)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SELECT set_config('lock_timeout', $1, true)`, strconv.Itoa(int(writerWait/time.Millisecond))); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7341002, hashtext(coalesce(current_schema(), '')))`); err != nil {
		if ctx.Err() != nil {
			return err
		}
		tx.Rollback() // the aborted transaction would refuse the question below
		var by string
		conn.QueryRowContext(context.WithoutCancel(ctx), `SELECT string_agg(format('%s (server pid %s, %s)', coalesce(nullif(a.application_name, ''), 'a client'), a.pid, a.state), '; ')
			FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
			WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 7341002 AND l.objid = hashtext(coalesce(current_schema(), ''))::oid
			AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&by)
		return fmt.Errorf("waiting %v for a write transaction to end (%s): %w", writerWait, by, err)
	}
	return tx.Commit()
}

// writerWait bounds how long a new writer waits for the transactions of a writer that
// lost its claim (a payroll day of a million people takes minutes).
const writerWait = 15 * time.Minute

// clip cuts s to at most n bytes at a character boundary.
func clip(s string, n int) string {
	for len(s) > n {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}
