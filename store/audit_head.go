package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"

	sc "github.com/silentcert/silentcert"
)

// AuditAnchor names one row of the audit trail by its sequence number and hash, written
// SEQ:HASH (the hash in hex). The chain's head in meta is one; kept outside the database
// (the daily run's log, the payroll's papers at the fund), one proves that no row up to
// it was changed, removed or replaced since, however the database was edited: the hash of
// row SEQ covers every row before it, and no one can make another trail whose row SEQ
// has the same hash.
type AuditAnchor struct {
	Seq  int64
	Hash []byte
}

// String writes the anchor as SEQ:HASH.
func (a AuditAnchor) String() string {
	return strconv.FormatInt(a.Seq, 10) + ":" + hex.EncodeToString(a.Hash)
}

// ParseAuditAnchor reads SEQ:HASH, as String writes it and `silentcert audit head` prints
// it.
func ParseAuditAnchor(s string) (AuditAnchor, error) {
	n, h, ok := strings.Cut(strings.TrimSpace(s), ":")
	seq, err := strconv.ParseInt(n, 10, 64)
	if !ok || err != nil || seq < 1 {
		return AuditAnchor{}, sc.Errorf(sc.EInvalid, "audit anchor %q: want SEQ:HASH, a row's number and its hash (as `silentcert audit head` prints it)", s)
	}
	hash, err := hex.DecodeString(h)
	if err != nil || len(hash) != 32 {
		return AuditAnchor{}, sc.Errorf(sc.EInvalid, "audit anchor %q: the hash after the colon must be 64 hex digits (SHA-256)", s)
	}
	return AuditAnchor{Seq: seq, Hash: hash}, nil
}

// ErrAuditBroken is wrapped by the error of a write refused because the audit trail's
// last row is not the head kept in meta: rows were cut off the end (or added past it, or
// the head changed). Chaining on from the last row would hide the cut for good, the new
// rows taking the numbers of the deleted ones; so nothing that writes an audit row is
// written until the trail is restored (from a backup: audit verify names the break).
var ErrAuditBroken = errors.New("the audit trail's last row is not its head")

// trailState is what a handle keeps of the audit chain between transactions.
type trailState struct {
	fault atomic.Pointer[error] // why the last look found the head not the last row (AuditBroken)
	// On SQLite, chainHead's two statements, prepared once on the writer's connection
	// (prepareTrail): preparing them in every transaction cost more than reading them.
	lastRow, head *sql.Stmt
}

const (
	lastRowQuery = `SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1`
	headQuery    = `SELECT value FROM meta WHERE key = 'audit_head'`
)

// prepareTrail prepares chainHead's statements on SQLite's writer connection, once the
// schema is up to date and before any transaction holds the connection (a statement
// prepared on the handle inside one would wait for it for ever).
func (db *DB) prepareTrail(ctx context.Context) error {
	if db.dialect != SQLite {
		return nil
	}
	var err error
	if db.trail.lastRow, err = db.sql.PrepareContext(ctx, lastRowQuery); err == nil {
		db.trail.head, err = db.sql.PrepareContext(ctx, headQuery)
	}
	if err != nil {
		return fmt.Errorf("%s: audit head: %w", db, err)
	}
	return nil
}

// chainHead reads where the transaction's first audit row goes: after the head in meta,
// which must be the last row. The read costs no more than the last row's alone did
// (BenchmarkChainHead): on PostgreSQL both come in one round trip, on SQLite by two
// statements prepared once (prepareTrail).
func (t *Tx) chainHead() error {
	var last AuditAnchor
	var headV sql.NullString
	var err error
	prepared := t.db.trail.lastRow != nil && t.stop != nil // a write transaction of Begin's, on the writer's connection
	switch {
	case t.db.dialect == Postgres:
		err = t.QueryRow(`SELECT seq, hash, (SELECT value FROM meta WHERE key = 'audit_head') FROM audit ORDER BY seq DESC LIMIT 1`).
			Scan(&last.Seq, &last.Hash, &headV)
	case prepared:
		err = t.tx.StmtContext(t.ctx, t.db.trail.lastRow).QueryRowContext(t.ctx).Scan(&last.Seq, &last.Hash)
	default:
		err = t.QueryRow(lastRowQuery).Scan(&last.Seq, &last.Hash)
	}
	haveRow := err != sql.ErrNoRows
	if err != nil && haveRow {
		return fmt.Errorf("%s: audit head: %w", t.db, err)
	}
	if !headV.Valid { // SQLite, or a trail without rows or without a head
		if prepared {
			err = t.tx.StmtContext(t.ctx, t.db.trail.head).QueryRowContext(t.ctx).Scan(&headV)
		} else {
			err = t.QueryRow(headQuery).Scan(&headV)
		}
		if err != nil && err != sql.ErrNoRows {
			return fmt.Errorf("%s: audit head: %w", t.db, err)
		}
	}
	head, haveHead := headV.String, headV.Valid
	var broken string
	var a AuditAnchor
	switch {
	case haveHead:
		var err error
		if a, err = ParseAuditAnchor(head); err != nil {
			broken = fmt.Sprintf("the head in meta %q is not SEQ:HASH", head)
		} else if !haveRow {
			broken = fmt.Sprintf("the head in meta is row %d but the trail has no rows", a.Seq)
		} else if a.Seq != last.Seq || !bytes.Equal(a.Hash, last.Hash) {
			broken = fmt.Sprintf("the head in meta is %s but the last row is %s (rows cut off the end, or the head changed)", a, last)
		}
	case haveRow:
		broken = fmt.Sprintf("the trail has rows up to %d but no head in meta", last.Seq)
	default:
		// An empty trail starts a chain, unless the migrations were audited: then it had
		// rows, and someone wiped them with the head.
		audited, err := t.db.migrated(t.ctx, t.tx, migrationsAudited)
		if err != nil {
			return err
		}
		if audited {
			broken = "the trail and its head are gone, though the migrations applied were written to it"
		}
	}
	if broken != "" {
		var err error = sc.Errorf(sc.EInternal, "%s: %w: %s: nothing is written to the trail, and no change that needs an audit row is made, until it is restored; `silentcert audit verify` names the break",
			t.db, ErrAuditBroken, broken)
		t.db.trail.fault.Store(&err)
		return err
	}
	t.db.trail.fault.Store(nil)
	t.last, t.lastSeq = a.Hash, a.Seq
	if t.last == nil {
		t.last = []byte{}
	}
	return nil
}

// AuditBroken returns why this handle's last write found the audit trail's last row not
// its head (ErrAuditBroken), or nil: every write with an audit row is refused meanwhile,
// and serve reports itself not ready. CheckAuditHead looks again.
func (db *DB) AuditBroken() error {
	if err := db.trail.fault.Load(); err != nil {
		return *err
	}
	return nil
}

// CheckAuditHead checks, as a write's first audit row does, that the trail's last row is
// its head, and returns the head; AuditBroken then says the outcome until the next check.
// Serve looks every few seconds, so that its readiness and its log tell of a cut trail
// before anyone tries to write.
func (db *DB) CheckAuditHead(ctx context.Context) (AuditAnchor, error) {
	// The rows and the head from one snapshot (a write committing between the two reads
	// is no break), in a transaction that only reads: on SQLite a reader's.
	snap, err := db.snapshot(ctx)
	if err != nil {
		return AuditAnchor{}, err
	}
	defer snap.Rollback()
	t := &Tx{db: db, tx: snap, ctx: ctx, stmts: map[string]*sql.Stmt{}}
	defer t.closeStmts()
	if err := t.chainHead(); err != nil {
		return AuditAnchor{}, err
	}
	return AuditAnchor{Seq: t.lastSeq, Hash: t.last}, nil
}

// AuditHead returns the head of the chain this transaction's rows end, to be kept outside
// the database once it commits (the daily run logs it); false when the transaction
// appended nothing.
func (t *Tx) AuditHead() (AuditAnchor, bool) {
	if t.last == nil || t.lastSeq == 0 {
		return AuditAnchor{}, false
	}
	return AuditAnchor{Seq: t.lastSeq, Hash: t.last}, true
}
