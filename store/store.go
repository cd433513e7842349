// Package store keeps the service's state in a relational database: embedded SQLite (the
// default, pure Go) or PostgreSQL (production), behind one type. It reads and writes whole
// person states, appends records, decisions and audit rows, and never decides anything:
// rules live in engine, work in service. Every write a caller makes goes through a Tx, so
// that a batch or a day's run is applied whole or not at all.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib" // and database/sql's driver "pgx"
	_ "modernc.org/sqlite"           // database/sql driver "sqlite"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/internal/atomicfile"
)

// Dialect names the SQL spoken by the database behind a DB.
type Dialect uint8

// Dialects.
const (
	SQLite Dialect = iota
	Postgres
)

func (d Dialect) String() string {
	if d == Postgres {
		return "postgres"
	}
	return "sqlite"
}

// DB is an open database with its schema up to date.
type DB struct {
	sql     *sql.DB       // writes and transactions (on SQLite one connection: writes are serialised)
	rd      *sql.DB       // reads outside a transaction: a pool of its own, read-only
	turn    chan struct{} // the write transactions' turn in this process (Begin): one token
	dialect Dialect
	url     string // for messages; no password in it
	path    string // the SQLite file ("" on PostgreSQL)

	claimMu    sync.Mutex // ClaimWriter's turn
	writerMu   sync.Mutex
	writer     func() error // releases ClaimWriter's claim; nil when not claimed
	writerConn *sql.Conn    // on PostgreSQL, the connection whose session holds the claim
	writerPID  int64        // and that session's server process
	closed     bool         // Close has begun: no claim may be kept
	lost       error        // why the claim was found lost (ClaimLost); nil while held

	trail trailState // the audit chain's head: its fault, its statements (audit_head.go)
	// regioned: migration 0034 is applied (audit rows have their region), once seen.
	regioned atomic.Bool
}

// Open opens the database that dsn names — "sqlite:PATH" or "postgres://…" — and applies
// every migration not yet applied, audited under the actor "system". It refuses a
// database whose schema is newer than this binary knows.
func Open(ctx context.Context, dsn string) (*DB, error) { return OpenAs(ctx, dsn, "system") }

// OpenAs is Open naming who applies the migrations in their audit rows: the command
// line's user ("cli:NAME"), "serve".
func OpenAs(ctx context.Context, dsn, actor string) (*DB, error) {
	db, err := open(dsn)
	if err != nil {
		return nil, err
	}
	if err := db.MigrateAs(ctx, actor); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.prepareTrail(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// OpenNoMigrate opens the database without touching its schema (for `migrate --status`).
func OpenNoMigrate(dsn string) (*DB, error) { return open(dsn) }

func open(dsn string) (*DB, error) {
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		path := strings.TrimPrefix(dsn, "sqlite:")
		cacheMB := 256
		if p, opts, ok := strings.Cut(path, "?"); ok {
			// sqlite:PATH?cache_mb=N: the writer's page cache (a replay of a large city
			// runs faster with one that holds more of its indexes).
			path = p
			v, err := url.ParseQuery(opts)
			if err != nil {
				return nil, sc.Errorf(sc.EInvalid, "--db sqlite:PATH?cache_mb=N: %v", err)
			}
			for k := range v {
				if k != "cache_mb" {
					return nil, sc.Errorf(sc.EInvalid, "--db sqlite:PATH?…: unknown option %q (known: cache_mb)", k)
				}
			}
			if c := v.Get("cache_mb"); c != "" {
				n, err := strconv.Atoi(c)
				if err != nil || n < 2 || n > 1<<20 {
					return nil, sc.Errorf(sc.EInvalid, "--db sqlite:PATH?cache_mb=%s: a number of MiB from 2 to 1048576", c)
				}
				cacheMB = n
			}
		}
		if path == "" {
			return nil, sc.Errorf(sc.EInvalid, "--db sqlite:PATH: the path is empty")
		}
		// WAL so that readers (the console) never wait for the writer; a busy timeout so
		// that a second process waits instead of failing; foreign keys on; transactions
		// that write take the write lock at BEGIN, so two writers never deadlock.
		q := url.Values{}
		for _, p := range []string{"journal_mode(WAL)", "busy_timeout(10000)", "foreign_keys(1)", "synchronous(NORMAL)", "cache_size(-" + strconv.Itoa(cacheMB*1024) + ")", "temp_store(MEMORY)"} {
			q.Add("_pragma", p)
		}
		q.Set("_txlock", "immediate")
		if err := createPrivate(path); err != nil {
			return nil, err
		}
		d, err := sql.Open("sqlite", sqliteURI(path)+"?"+q.Encode())
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
		d.SetMaxOpenConns(1) // one connection: writes are serialised, as SQLite does anyway
		// Reads outside a transaction take connections of their own, so that the console,
		// a login or a status page is answered while a large batch or a day's run holds
		// the writer (WAL lets them read the last commit meanwhile).
		rq := url.Values{}
		for _, p := range []string{"busy_timeout(10000)", "query_only(1)", "cache_size(-65536)", "temp_store(MEMORY)"} {
			rq.Add("_pragma", p)
		}
		r, err := sql.Open("sqlite", sqliteURI(path)+"?"+rq.Encode())
		if err != nil {
			d.Close()
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
		r.SetMaxOpenConns(4)
		r.SetConnMaxIdleTime(time.Minute)
		return newDB(d, r, SQLite, "sqlite:"+path, path), nil
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		// Two pools, as on SQLite: a reader never waits for a connection behind writers
		// that wait for each other. With one pool of 8 for both, seven staff exports
		// during a long batch each held a connection waiting for the writers' lock, and
		// every page and /readyz (503) waited with them.
		cfg, err := pgx.ParseConfig(dsn)
		if err != nil {
			// pgx's message quotes the DSN with its passwords masked as best it can: the
			// reason alone, after it.
			msg := err.Error()
			if _, why, ok := strings.Cut(msg, "`: "); ok {
				msg = why
			}
			return nil, sc.Errorf(sc.EInvalid, "--db %s: %s", shownDSN(dsn), msg)
		}
		d := stdlib.OpenDB(*cfg)
		d.SetMaxOpenConns(PostgresWriters)
		rcfg := cfg.Copy()
		// Read-only, as SQLite's readers are (query_only): a write through them would
		// bypass the writers' turns and the writer's claim.
		rcfg.RuntimeParams["default_transaction_read_only"] = "on"
		r := stdlib.OpenDB(*rcfg)
		r.SetMaxOpenConns(PostgresReaders)
		r.SetMaxIdleConns(PostgresReaders)
		r.SetConnMaxIdleTime(time.Minute)
		return newDB(d, r, Postgres, shownDSN(dsn), ""), nil
	}
	return nil, sc.Errorf(sc.EInvalid, "--db %q: want sqlite:PATH or postgres://…", dsn)
}

// createPrivate makes a new SQLite database's file, empty, readable and writable by its
// owner only: it holds every ID number, name, phone, face template and password hash, as
// a backup does (0600). SQLite would make it 0644 less the umask, and it makes the -wal
// and -shm files with the database file's own mode. An existing file keeps the mode its
// operator gave it (OthersMayRead reports one that others may read).
func createPrivate(path string) error {
	if path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	return f.Close()
}

// OthersMayRead reports a SQLite database file that accounts other than its owner may
// read (its group's, everyone's), with its mode: one made before databases were made
// 0600, or given that mode by hand. Never on PostgreSQL.
func (db *DB) OthersMayRead() (fs.FileMode, bool) {
	if db.path == "" {
		return 0, false
	}
	fi, err := os.Stat(db.path)
	if err != nil {
		return 0, false
	}
	return fi.Mode().Perm(), fi.Mode().Perm()&0o044 != 0
}

// PostgreSQL's pools, per process. Writers take their turn in the process before they
// take a connection (Begin), so the writers' pool needs the writer's claim (one session
// for as long as the process runs), the transaction writing, and a few short writes made
// outside a transaction (the notices' outbox, the citizen's sign-in links). The readers'
// pool serves the console's pages, the citizen's, the API's reads and /readyz, none of
// which waits for a writer. 12 sessions in all: a server's default max_connections (100)
// holds serve, the commands run beside it and the administrators' own.
const (
	PostgresWriters = 4
	PostgresReaders = 8
)

func newDB(w, r *sql.DB, d Dialect, url, path string) *DB {
	db := &DB{sql: w, rd: r, dialect: d, url: url, path: path, turn: make(chan struct{}, 1)}
	db.turn <- struct{}{}
	return db
}

// shownDSN is a PostgreSQL DSN as messages and logs show it: without the user's password,
// whether in the user part or as a parameter (?password=…), nor a client key's
// passphrase (sslpassword).
func shownDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "postgres"
	}
	u.User = nil
	if q := u.Query(); q.Has("password") || q.Has("sslpassword") {
		q.Del("password")
		q.Del("sslpassword")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// Close closes the database.
func (db *DB) Close() error {
	err := db.releaseWriter()
	if e := db.sql.Close(); err == nil {
		err = e
	}
	if e := db.rd.Close(); err == nil {
		err = e
	}
	return err
}

// Busy reports whether err is SQLite's "database is locked": another process's write
// transaction (serve's daily run, a large batch) outlasted the busy timeout.
func Busy(err error) bool {
	var e interface{ Code() int }
	return errors.As(err, &e) && e.Code()&0xff == 5 // SQLITE_BUSY and its extended codes
}

// Reader returns the database/sql handle for reads outside a transaction: a pool of
// read-only connections of its own, that no writer's transaction, nor writers waiting for
// their turn, hold up. A read through it sees the last commit.
func (db *DB) Reader() *sql.DB { return db.rd }

// Dialect returns the database's dialect.
func (db *DB) Dialect() Dialect { return db.dialect }

// SQL returns the database/sql handle, for the packages of this module that keep their
// own tables (their SQL is written for both dialects; see Rebind).
func (db *DB) SQL() *sql.DB { return db.sql }

// String names the database without secrets.
func (db *DB) String() string { return db.url }

// Rebind rewrites a query written with ? placeholders for the database's dialect.
func (db *DB) Rebind(q string) string { return rebind(db.dialect, q) }

func rebind(d Dialect, q string) string {
	if d != Postgres || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one numbered, forward-only schema change.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns every migration in order. File names are NNNN_name.sql; the SQL is
// written once for both dialects with a few words that differ: {{id}} (an auto-increment
// primary key), {{blob}}, {{bigint}}, {{without_rowid}} (SQLite's clustered tables).
func migrations(d Dialect) ([]migration, error) {
	ents, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range ents {
		name := e.Name()
		i := strings.IndexByte(name, '_')
		v, err := strconv.Atoi(name[:max(i, 0)])
		if i < 0 || err != nil {
			return nil, fmt.Errorf("migration %s: the name must start with its number", name)
		}
		b, err := migrationFiles.ReadFile("migrations/" + name)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: name, sql: dialectSQL(d, string(b))})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i := 1; i < len(out); i++ {
		if out[i].version == out[i-1].version {
			return nil, fmt.Errorf("migrations %s and %s share a number", out[i-1].name, out[i].name)
		}
	}
	return out, nil
}

func dialectSQL(d Dialect, s string) string {
	id, blob, bigint, noRowid := "INTEGER PRIMARY KEY", "BLOB", "INTEGER", " WITHOUT ROWID"
	if d == Postgres {
		id, blob, bigint, noRowid = "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", "BYTEA", "BIGINT", ""
	}
	return strings.NewReplacer("{{id}}", id, "{{blob}}", blob, "{{bigint}}", bigint, "{{without_rowid}}", noRowid).Replace(s)
}

// Migrate applies, each in its own transaction, every migration not yet recorded in
// schema_migrations, each with its audit row (auditMigration) under the actor "system". A
// database whose schema is ahead of this binary is refused.
func (db *DB) Migrate(ctx context.Context) error { return db.MigrateAs(ctx, "system") }

// MigrateAs is Migrate naming who applies the migrations in their audit rows.
func (db *DB) MigrateAs(ctx context.Context, actor string) error {
	return db.migrateTo(ctx, 1<<30, actor)
}

// migrateTo applies the migrations up to version upTo.
func (db *DB) migrateTo(ctx context.Context, upTo int, actor string) error {
	ms, err := migrations(db.dialect)
	if err != nil {
		return err
	}
	if err := db.migrationsTable(ctx); err != nil {
		return err
	}
	applied, err := db.appliedVersions(ctx)
	if err != nil {
		return err
	}
	if n := len(applied); n > 0 && applied[n-1] > ms[len(ms)-1].version {
		return sc.Errorf(sc.EConflict, "%s: schema version %d is newer than this binary knows (%d): upgrade silentcert",
			db, applied[n-1], ms[len(ms)-1].version)
	}
	done := map[int]bool{}
	for _, v := range applied {
		done[v] = true
	}
	for _, m := range ms {
		if done[m.version] || m.version > upTo {
			continue
		}
		if err := db.apply(ctx, m, actor); err != nil {
			return err
		}
	}
	return nil
}

// migrationsTable makes schema_migrations when it is missing. On PostgreSQL under the
// migrations' lock: CREATE TABLE IF NOT EXISTS is not safe against another process
// creating it at the same moment (two serve replicas, a migrate job beside serve: one
// failed on a duplicate type name).
func (db *DB) migrationsTable(ctx context.Context) error {
	const create = `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)`
	if db.dialect != Postgres {
		if _, err := db.sql.ExecContext(ctx, create); err != nil {
			return fmt.Errorf("%s: schema_migrations: %w", db, err)
		}
		return nil
	}
	tx, err := db.sql.BeginTx(ctx, readCommitted)
	if err != nil {
		return fmt.Errorf("%s: schema_migrations: %w", db, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7341001, hashtext(coalesce(current_schema(), '')))`); err != nil {
		return fmt.Errorf("%s: schema_migrations: %w", db, err)
	}
	if _, err := tx.ExecContext(ctx, create); err != nil {
		return fmt.Errorf("%s: schema_migrations: %w", db, err)
	}
	return tx.Commit()
}

func (db *DB) apply(ctx context.Context, m migration, actor string) error {
	tx, err := db.sql.BeginTx(ctx, db.txOptions())
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if db.dialect == Postgres {
		// Two processes starting at once: the second waits here, then finds it done.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7341001, hashtext(coalesce(current_schema(), '')))`); err != nil {
			return err
		}
		if done, err := db.migrated(ctx, tx, m.version); err != nil || done {
			return err
		}
		// The migration's audit row extends the chain: as every writer's, under the
		// writers' lock (Begin), taken before any table's lock the migration's DDL takes.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7341002, hashtext(coalesce(current_schema(), '')))`); err != nil {
			return err
		}
	}
	for _, stmt := range splitSQL(m.sql) {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("%s: migration %s: %w", db, m.name, err)
		}
	}
	t := &Tx{db: db, tx: tx, ctx: ctx, stmts: map[string]*sql.Stmt{}, auditUnregioned: m.version < auditRegioned, auditChecked: true}
	if step := migrationSteps[m.version]; step != nil {
		if err := step(t); err != nil {
			return fmt.Errorf("%s: migration %s: %w", db, m.name, err)
		}
	}
	if err := auditMigration(t, m, actor); err != nil {
		return fmt.Errorf("%s: migration %s: %w", db, m.name, err)
	}
	if _, err := tx.ExecContext(ctx, db.Rebind(`INSERT INTO schema_migrations (version, name) VALUES (?, ?)`), m.version, m.name); err != nil {
		return err
	}
	return tx.Commit()
}

// migrated reports whether migration v is applied, read through q (a transaction).
func (db *DB) migrated(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, v int) (bool, error) {
	var n int
	if err := q.QueryRowContext(ctx, db.Rebind(`SELECT count(*) FROM schema_migrations WHERE version = ?`), v).Scan(&n); err != nil {
		return false, fmt.Errorf("%s: schema_migrations: %w", db, err)
	}
	return n > 0, nil
}

func (db *DB) appliedVersions(ctx context.Context) ([]int, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// MigrationStatus lists each known migration and whether it is applied.
func (db *DB) MigrationStatus(ctx context.Context) ([]string, error) {
	ms, err := migrations(db.dialect)
	if err != nil {
		return nil, err
	}
	if err := db.migrationsTable(ctx); err != nil {
		return nil, err
	}
	applied, err := db.appliedVersions(ctx)
	if err != nil {
		return nil, err
	}
	done := map[int]bool{}
	for _, v := range applied {
		done[v] = true
	}
	var out []string
	for _, m := range ms {
		state := "pending"
		if done[m.version] {
			state = "applied"
		}
		out = append(out, fmt.Sprintf("%04d %s %s", m.version, state, m.name))
		delete(done, m.version)
	}
	for _, v := range applied {
		if done[v] {
			out = append(out, fmt.Sprintf("%04d applied, unknown to this binary (a newer one migrated the database: it refuses to open it)", v))
		}
	}
	return out, nil
}

// splitSQL splits a migration into statements at semicolons that end a line.
func splitSQL(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ";\n") {
		var lines []string
		for _, l := range strings.Split(part, "\n") {
			if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "--") {
				lines = append(lines, l)
			}
		}
		if stmt := strings.TrimSpace(strings.Join(lines, "\n")); stmt != "" {
			out = append(out, strings.TrimSuffix(stmt, ";"))
		}
	}
	return out
}

// BackupTo writes a consistent copy of a SQLite database to path, while the service goes
// on (VACUUM INTO, read-only: a snapshot of the last commit, writers not held up), then
// checks the copy (PRAGMA quick_check). The copy is written to path.part, made first with
// mode 0600 (it holds ID numbers, names and phones) and exclusively (a second backup to
// the same path is refused, not clobbered), and linked to path only when whole and sound:
// an existing path is never overwritten. PostgreSQL has pg_dump.
func (db *DB) BackupTo(ctx context.Context, path string) (err error) {
	if db.dialect != SQLite {
		return sc.Errorf(sc.EInvalid, "backup: %s is PostgreSQL: use pg_dump (or the server's own backups)", db)
	}
	if _, err := os.Stat(path); err == nil {
		return sc.Errorf(sc.EConflict, "backup: %s exists: name a new file", path)
	}
	part := path + ".part"
	f, err := os.OpenFile(part, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return sc.Errorf(sc.EConflict, "backup: %s exists: another backup is writing it, or one that stopped left it (remove it)", part)
	}
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	f.Close()
	defer func() {
		if err != nil {
			os.Remove(part)
		}
	}()
	// A connection of its own, read-only (the readers' query_only refuses VACUUM INTO,
	// which writes only the new file, here the empty one just made).
	src, err := sql.Open("sqlite", sqliteURI(strings.TrimPrefix(db.url, "sqlite:"))+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	_, err = src.ExecContext(ctx, `VACUUM INTO ?`, part)
	src.Close()
	if err != nil {
		return fmt.Errorf("backup of %s: %w", db, err)
	}
	check, err := sql.Open("sqlite", sqliteURI(part)+"?mode=ro")
	if err != nil {
		return err
	}
	var res string
	err = check.QueryRowContext(ctx, `PRAGMA quick_check`).Scan(&res)
	check.Close()
	if err == nil && res != "ok" {
		err = fmt.Errorf("the copy fails its check: %s", res)
	}
	if err != nil {
		return fmt.Errorf("backup of %s: %w", db, err)
	}
	if err := os.Link(part, path); err != nil { // refuses a path made meanwhile
		return fmt.Errorf("backup: %w", err)
	}
	os.Remove(part)
	atomicfile.SyncDir(filepath.Dir(path)) // the new name survives a power cut
	return nil
}

// sqliteURI is the file: URI of a path: SQLite reads '?' and '#' as the URI's parts and
// %HH as escapes, so they are escaped.
func sqliteURI(path string) string {
	return "file:" + strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(filepath.ToSlash(path))
}
