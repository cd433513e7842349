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

// chainHead reads where the transaction's first audit row goes: after the head in meta,
// which must be the last row. It costs one read of meta beside the read of the last row
// the chain needed anyway.
func (t *Tx) chainHead() error {
	head, haveHead, err := t.meta("audit_head")
	if err != nil {
		return err
	}
	var last AuditAnchor
	haveRow := true
	switch err := t.QueryRow(`SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1`).Scan(&last.Seq, &last.Hash); {
	case err == sql.ErrNoRows:
		haveRow = false
	case err != nil:
		return fmt.Errorf("%s: audit head: %w", t.db, err)
	}
	var broken string
	var a AuditAnchor
	switch {
	case haveHead:
		if a, err = ParseAuditAnchor(head); err != nil {
			broken = fmt.Sprintf("the head in meta %q is not SEQ:HASH", head)
		} else if !haveRow {
			broken = fmt.Sprintf("the head in meta is row %d but the trail has no rows", a.Seq)
		} else if a.Seq != last.Seq || !bytes.Equal(a.Hash, last.Hash) {
			broken = fmt.Sprintf("the head in meta is %s but the last row is %s", a, last)
		}
	case haveRow:
		broken = fmt.Sprintf("the trail has rows up to %d but no head in meta", last.Seq)
	default:
		// An empty trail starts a chain, unless the migrations were audited: then it had
		// rows, and someone wiped them with the head.
		var n int
		if err := t.QueryRow(`SELECT count(*) FROM schema_migrations WHERE version = ?`, migrationsAudited).Scan(&n); err != nil {
			return fmt.Errorf("%s: audit head: %w", t.db, err)
		}
		if n > 0 {
			broken = "the trail and its head are gone, though the migrations applied were written to it"
		}
	}
	if broken != "" {
		var err error = sc.Errorf(sc.EInternal, "%s: %w: %s (rows cut off the end, or the head changed): nothing is written to the trail, and no change that needs an audit row is made, until it is restored; `silentcert audit verify` names the break",
			t.db, ErrAuditBroken, broken)
		t.db.auditFault.Store(&err)
		return err
	}
	t.db.auditFault.Store(nil)
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
	if err := db.auditFault.Load(); err != nil {
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
