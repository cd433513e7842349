package store

import (
	"context"
	"strconv"
)

// MigrateTo applies the migrations up to version upTo, for tests of a migration's step.
func (db *DB) MigrateTo(ctx context.Context, upTo int) error {
	return db.migrateTo(ctx, upTo, "system")
}

// EncodeChunk and DecodeChunk expose the record chunk codec to its tests.
var EncodeChunk, DecodeChunk = encodeChunk, decodeChunk

// ChunkKeys exposes chunkKeys to the tests.
var ChunkKeys = chunkKeys

// Sent is how many statements the transaction has sent through its helpers.
func (t *Tx) Sent() int { return t.sent }

// WriterSetting reads a setting of the PostgreSQL session holding the writer's claim.
func (db *DB) WriterSetting(ctx context.Context, name string) (string, error) {
	var v string
	err := db.writerConn.QueryRowContext(ctx, `SELECT current_setting($1)`, name).Scan(&v)
	return v, err
}

// KeyAside exposes migration 0022's step to its test.
var KeyAside = keyAside

// WorkSQL and TrailSQL expose the worklists' and the audit page's statements to the test
// of their plans.
func (db *DB) WorkSQL(q WorkQuery) (page, count string, args []any, err error) {
	return db.workSQL(q, WorkCountCap+1)
}

// TrailSQL returns the whole statement Trail runs for q, and its arguments.
func TrailSQL(q TrailQuery) (string, []any) {
	where, args := trailWhere(q)
	return auditSelect + where + ` ORDER BY seq DESC LIMIT ` + strconv.Itoa(trailLimit(q.Limit)), args
}

// Rechain computes again the hash of every row of the audit trail from seq on, and the
// head, as anyone who can write the database can: the rewrite the chain alone cannot tell.
func Rechain(ctx context.Context, db *DB, from int64) error {
	rows, err := db.audit(ctx, `WHERE seq >= ? ORDER BY seq`, from)
	if err != nil {
		return err
	}
	var prev []byte
	if err := db.sql.QueryRowContext(ctx, db.Rebind(`SELECT hash FROM audit WHERE seq = ?`), from-1).Scan(&prev); err != nil {
		prev = []byte{}
	}
	for _, r := range rows {
		r.Prev = prev
		r.Hash = rowHash(prev, &r)
		if _, err := db.sql.ExecContext(ctx, db.Rebind(`UPDATE audit SET prev = ?, hash = ? WHERE seq = ?`), r.Prev, r.Hash, r.Seq); err != nil {
			return err
		}
		prev = r.Hash
	}
	var last int64
	if err := db.sql.QueryRowContext(ctx, `SELECT max(seq) FROM audit`).Scan(&last); err != nil {
		return err
	}
	_, err = db.sql.ExecContext(ctx, db.Rebind(`UPDATE meta SET value = ? WHERE key = 'audit_head'`), AuditAnchor{Seq: last, Hash: prev}.String())
	return err
}
