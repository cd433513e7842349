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
