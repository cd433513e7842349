package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/idcard"
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
// identical. The records' ID fields are set.
func (t *Tx) InsertRecords(rs []*Record) (ids []int64, inserted []bool, contents []uint64, err error) {
	keys := make([]Key, len(rs))
	for i, r := range rs {
		keys[i].K1, keys[i].K2 = recordKey(r.Source, r.RecordID)
		keys[i].Content, keys[i].I = r.Content, int32(i)
	}
	SortKeys(keys)
	base, ids, inserted, contents, err := t.insertKeyed(len(rs), func(i int, r *Record) { *r = *rs[i] }, keys)
	for i, r := range rs {
		r.ID = base + int64(i)
	}
	return ids, inserted, contents, err
}

// Key is a record's key (see RecordKey), its content hash and its index in a batch: what
// record_keys stores of it, read in key order without reaching for the record.
type Key struct {
	K1, K2  int64
	Content uint64
	I       int32
}

// RecordKey is the key the store gives (source, record_id): a 128-bit hash.
func RecordKey(source, recordID string) (k1, k2 int64) { return recordKey(source, recordID) }

func cmpKey(a, b Key) int {
	if a.K1 != b.K1 {
		return cmp.Compare(a.K1, b.K1)
	}
	if a.K2 != b.K2 {
		return cmp.Compare(a.K2, b.K2)
	}
	return cmp.Compare(a.I, b.I)
}

// SortKeys sorts keys by (K1, K2, I). Keys are hashes, spread evenly: a large batch is
// dealt into buckets by its first bits and each bucket sorted, in time linear in its size.
func SortKeys(keys []Key) {
	if len(keys) < 1<<12 {
		slices.SortFunc(keys, cmpKey)
		return
	}
	b := min(max(bits.Len(uint(len(keys)/32)), 8), 22) // about 32 keys a bucket
	shift := 64 - b
	bucket := func(k Key) int { return int((uint64(k.K1) ^ 1<<63) >> shift) } // signed order
	start := make([]int, 1<<b+1)
	for _, k := range keys {
		start[bucket(k)+1]++
	}
	for i := 1; i < len(start); i++ {
		start[i] += start[i-1]
	}
	out := make([]Key, len(keys))
	next := slices.Clone(start[:1<<b])
	for _, k := range keys {
		j := bucket(k)
		out[next[j]] = k
		next[j]++
	}
	for j := 0; j < 1<<b; j++ {
		if part := out[start[j]:start[j+1]]; len(part) > 1 {
			slices.SortFunc(part, cmpKey)
		}
	}
	copy(keys, out)
}

// InsertKeyed is InsertRecords for n records whose keys are known (keys holds each
// record's, sorted by SortKeys), given by fill: fill(i, r) sets every field of record i
// but its ID in r. The store asks for a record as it writes it (for some records more than
// once, from two goroutines at once, never after InsertKeyed returns), so that a large
// batch's records never all exist at once in their stored form, nor all their encodings:
// those were half of a large batch's memory.
func (t *Tx) InsertKeyed(n int, fill func(i int, r *Record), keys []Key) (ids []int64, inserted []bool, contents []uint64, err error) {
	_, ids, inserted, contents, err = t.insertKeyed(n, fill, keys)
	return ids, inserted, contents, err
}

// insertKeyed is InsertKeyed, telling the id of record 0 as well.
func (t *Tx) insertKeyed(n int, fill func(i int, r *Record), keys []Key) (base int64, ids []int64, inserted []bool, contents []uint64, err error) {
	if t.nextRecord == 0 {
		var last int64
		err := t.QueryRow(`SELECT last FROM record_chunks ORDER BY first DESC LIMIT 1`).Scan(&last)
		if err != nil && err != sql.ErrNoRows {
			return 0, nil, nil, nil, fmt.Errorf("%s: records: %w", t.db, err)
		}
		t.nextRecord = last + 1
	}
	base = t.nextRecord
	ids = make([]int64, n)
	inserted = make([]bool, n)
	contents = make([]uint64, n)
	mark := func(id int64) {
		if i := id - base; i >= 0 && i < int64(n) {
			inserted[i] = true
		}
	}
	// A key stored before: its stored id and content, told by insertKeys where its way
	// of inserting finds them anyway, else looked up after in bulk (a file sent again is
	// all such keys: a query each took seven times the first load).
	known := make([]bool, n)
	stored := func(i int32, id int64, content uint64) {
		ids[i], contents[i], known[i] = id, content, true
	}
	if err := t.insertKeys(base, keys, mark, stored); err != nil {
		return base, nil, nil, nil, err
	}
	var unknown []Key
	for _, k := range keys {
		if !inserted[k.I] && !known[k.I] {
			unknown = append(unknown, k)
		}
	}
	if err := t.storedKeys(unknown, stored); err != nil {
		return base, nil, nil, nil, err
	}
	t.nextRecord = base + int64(n)
	var fresh []int32 // the indexes of the records inserted; nil: all were
	if slices.Contains(inserted, false) {
		fresh = make([]int32, 0, n)
	}
	for i := range n {
		switch {
		case inserted[i]:
			ids[i] = base + int64(i)
			if fresh != nil {
				fresh = append(fresh, int32(i))
			}
		case !known[i]:
			var r Record
			fill(i, &r)
			return base, nil, nil, nil, fmt.Errorf("%s: record %s:%s: %w", t.db, r.Source, r.RecordID, sql.ErrNoRows)
		}
	}
	m := n
	if fresh != nil {
		m = len(fresh)
	}
	at := func(j int) int {
		if fresh == nil {
			return j
		}
		return int(fresh[j])
	}
	if err := t.storeRecords(m, func(j int, r *Record) {
		i := at(j)
		fill(i, r)
		r.ID = base + int64(i)
	}); err != nil {
		return base, nil, nil, nil, err
	}
	for _, k := range keys {
		if inserted[k.I] {
			contents[k.I] = k.Content
		}
	}
	return base, ids, inserted, contents, nil
}

// copyMin is the batch size from which PostgreSQL gets rows by COPY.
const copyMin = 2000

// insertKeys inserts the keys not stored yet, calling mark with the id of each inserted,
// and, where its way of inserting finds them, stored with the index, stored id and content
// of a key stored before (InsertKeyed looks up the others).
// Keys go in in key order (order is sorted): hashed keys fall all over the index, and
// inserting them sorted walks it once instead of jumping (5× cheaper on SQLite for a large
// batch).
func (t *Tx) insertKeys(base int64, order []Key, mark func(int64), stored func(i int32, id int64, content uint64)) error {
	vals := func(j int, a []any) []any {
		k := order[j]
		return append(a, k.K1, k.K2, base+int64(k.I), int64(k.Content))
	}
	cols := []string{"k1", "k2", "id", "content"}
	scan := func(scan func(...any) error) error {
		var id int64
		if err := scan(&id); err != nil {
			return err
		}
		mark(id)
		return nil
	}
	if t.db.dialect == SQLite {
		// OR IGNORE rather than ON CONFLICT: no constraint can abort the statement, so
		// SQLite keeps no statement journal (a copy of every page it changes). No
		// RETURNING either (measured at half again the insert's cost): when every row
		// went in, as in nearly every batch, all are new; otherwise each key says whose
		// id it holds.
		return t.insertManyN(`INSERT OR IGNORE INTO record_keys (k1, k2, id, content)`, 4, ``, len(order), vals, nil,
			func(start, n int, affected int64) error {
				part := order[start : start+n]
				if affected == int64(n) {
					for _, k := range part {
						mark(base + int64(k.I))
					}
					return nil
				}
				// Some were stored before: one query finds whose id each key holds, and
				// what the ones stored before hold.
				return t.storedKeys(part, func(i int32, id int64, content uint64) {
					if id == base+int64(i) {
						mark(id)
					} else {
						stored(i, id, content)
					}
				})
			})
	}
	if t.conn == nil || len(order) < copyMin {
		return t.insertMany(`INSERT INTO record_keys (k1, k2, id, content)`, 4, `ON CONFLICT (k1, k2) DO NOTHING RETURNING id`, len(order), vals, scan)
	}
	// PostgreSQL, a large batch: COPY straight into record_keys, in a savepoint (see
	// copyNew): a batch of new records, as nearly every one is, pays no stage, no check of
	// each key and no ids sent back. When a key is stored already, that COPY fails whole
	// and the keys go the slower way: COPY into a temporary table of the transaction's
	// connection (in key order, which a fresh table's scan gives back), then one
	// INSERT … SELECT that skips the keys already stored.
	if done, err := t.copyNew("record_keys", cols, len(order), func(i int) []any { return vals(i, nil) }); err != nil {
		return err
	} else if done {
		for _, k := range order {
			mark(base + int64(k.I))
		}
		return nil
	}
	if err := t.execRaw(`CREATE TEMP TABLE IF NOT EXISTS stage_keys (LIKE record_keys) ON COMMIT DELETE ROWS`); err != nil {
		return err
	}
	if err := t.execRaw(`TRUNCATE stage_keys`); err != nil {
		return err
	}
	if err := t.copyFrom("stage_keys", cols, len(order), func(i int) []any { return vals(i, nil) }); err != nil {
		return err
	}
	err := t.each(`INSERT INTO record_keys (k1, k2, id, content) SELECT k1, k2, id, content FROM stage_keys
		ON CONFLICT (k1, k2) DO NOTHING RETURNING id`, nil, func(rows *sql.Rows) error { return scan(rows.Scan) })
	if err != nil {
		return err
	}
	// The keys stored before, with what they hold, in one statement: each staged key
	// whose stored id is not the one staged.
	return t.each(`SELECT s.id, r.id, r.content FROM stage_keys s JOIN record_keys r ON r.k1 = s.k1 AND r.k2 = s.k2 WHERE r.id <> s.id`, nil,
		func(rows *sql.Rows) error {
			var sid, id, content int64
			if err := rows.Scan(&sid, &id, &content); err != nil {
				return err
			}
			stored(int32(sid-base), id, uint64(content))
			return nil
		})
}

// storedKeys calls found with the index, stored id and stored content of each of keys
// (sorted by key) that record_keys holds, one query a chunk of keys.
func (t *Tx) storedKeys(keys []Key, found func(i int32, id int64, content uint64)) error {
	per := min(maxParams, 4*maxRows)
	args := make([]any, 0, per)
	for start := 0; start < len(keys); start += per {
		part := keys[start:min(start+per, len(keys))]
		args = args[:0]
		for _, k := range part {
			args = append(args, k.K1)
		}
		err := t.each(`SELECT k1, k2, id, content FROM record_keys WHERE k1 IN (?`+strings.Repeat(",?", len(part)-1)+`)`, args, func(rows *sql.Rows) error {
			var k1, k2, id, content int64
			if err := rows.Scan(&k1, &k2, &id, &content); err != nil {
				return err
			}
			if j, ok := slices.BinarySearchFunc(part, Key{K1: k1, K2: k2}, cmpKeyOnly); ok {
				found(part[j].I, id, uint64(content))
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// chunk is an encoded run of records.
type chunk struct {
	first, last int64
	data        []byte
}

// chunksAhead is how many chunks storeRecords encodes ahead of the ones it writes.
const chunksAhead = 64

// storeRecords writes n newly keyed records, given by rec (ascending ids, ID set): their
// chunks, their people's index, the held and unlinked aside, and the delivery days. The
// chunks are encoded on another core while they are written, a few ahead, rather than
// all before: a large batch's encodings were a fifth of its memory.
func (t *Tx) storeRecords(n int, rec func(j int, r *Record)) error {
	if n == 0 {
		return nil
	}
	var aside []int32 // held or linked to no one: few, read again when written
	if t.later.deliveries == nil {
		t.later.deliveries = map[delivery]bool{}
	}
	var r Record
	for j := range n {
		rec(j, &r)
		if r.PID >= 0 {
			t.later.people = append(t.later.people, personRow{r.PID, r.EventDate, r.ID})
		}
		if r.Held || r.PID < 0 || r.Link > 0 {
			aside = append(aside, int32(j))
		}
		t.later.deliveries[delivery{r.Type, r.ReportedDate}] = true
	}
	nc := (n + chunkMax - 1) / chunkMax
	chunks := make(chan chunk, chunksAhead)
	// Stopped when the write ends, and waited for: rec is never called once storeRecords
	// has returned (a failed write's caller may reuse what rec reads).
	stop, done := make(chan struct{}), make(chan struct{})
	defer func() { close(stop); <-done }()
	go func() {
		defer close(done)
		rs := make([]Record, chunkMax)
		ps := make([]*Record, chunkMax)
		for c := range nc {
			select {
			case <-stop:
				return
			default:
			}
			part := ps[:min(chunkMax, n-c*chunkMax)]
			for k := range part {
				rec(c*chunkMax+k, &rs[k])
				part[k] = &rs[k]
			}
			select {
			case chunks <- chunk{part[0].ID, part[len(part)-1].ID, encodeChunk(nil, part)}:
			case <-stop:
				return
			}
		}
	}()
	err := t.bulk("record_chunks", []string{"first", "last", "data"}, "", nc, func(i int, a []any) []any {
		c := <-chunks
		return append(a, c.first, c.last, c.data)
	})
	if err == nil {
		cols := []string{"id", "type", "link", "held", "pkey"}
		if t.asideUnkeyed {
			cols = cols[:4]
		}
		err = t.bulk("record_aside", cols, "", len(aside), func(i int, a []any) []any {
			rec(int(aside[i]), &r)
			a = append(a, r.ID, r.Type, r.Link, b2i(r.Held))
			if t.asideUnkeyed {
				return a
			}
			return append(a, asideKey(&r))
		})
	}
	if err != nil {
		return fmt.Errorf("%s: records: %w", t.db, err)
	}
	return nil
}

// Delivered notes that a row of record type typ reported on day was read, whether stored
// or a duplicate (a delivery is a row read, as backtest counts it); written at the commit.
func (t *Tx) Delivered(typ string, day sc.Date) {
	if t.later.deliveries == nil {
		t.later.deliveries = map[delivery]bool{}
	}
	t.later.deliveries[delivery{typ, day}] = true
}

// laterRows are index rows a transaction writes at its commit.
type laterRows struct {
	people     []personRow
	deliveries map[delivery]bool
}

type personRow struct {
	pid   int64
	event sc.Date
	id    int64
}

type delivery struct {
	typ string
	day sc.Date
}

func cmpPersonRow(a, b personRow) int {
	if c := cmp.Compare(a.pid, b.pid); c != 0 {
		return c
	}
	if c := cmp.Compare(a.event, b.event); c != 0 {
		return c
	}
	return cmp.Compare(a.id, b.id)
}

// sortPeople sorts index rows by (pid, event, id). Pids are numbers 0…n-1: many rows
// (a large batch's) are dealt out by pid first, in time linear in their number, and each
// person's few sorted.
func sortPeople(rs []personRow) []personRow {
	top := int64(-1)
	for _, r := range rs {
		top = max(top, r.pid)
	}
	if len(rs) < 1<<12 || top >= int64(4*len(rs)) {
		slices.SortFunc(rs, cmpPersonRow)
		return rs
	}
	start := make([]int32, top+2)
	for _, r := range rs {
		start[r.pid+1]++
	}
	for i := 1; i < len(start); i++ {
		start[i] += start[i-1]
	}
	out := make([]personRow, len(rs))
	next := slices.Clone(start[:top+1])
	for _, r := range rs {
		out[next[r.pid]] = r
		next[r.pid]++
	}
	for p := range top + 1 {
		if part := out[start[p]:start[p+1]]; len(part) > 1 {
			slices.SortFunc(part, cmpPersonRow)
		}
	}
	return out
}

// writeLater writes the transaction's later rows, each index in its own order.
func (t *Tx) writeLater() error {
	people := sortPeople(t.later.people)
	dels := make([]delivery, 0, len(t.later.deliveries))
	for d := range t.later.deliveries {
		dels = append(dels, d)
	}
	slices.SortFunc(dels, func(a, b delivery) int {
		if c := strings.Compare(a.typ, b.typ); c != 0 {
			return c
		}
		return cmp.Compare(a.day, b.day)
	})
	t.later = laterRows{}
	err := t.bulk("record_people", []string{"pid", "event_date", "id"}, "", len(people), func(i int, a []any) []any {
		return append(a, people[i].pid, int64(people[i].event), people[i].id)
	})
	if err == nil {
		err = t.insertMany(`INSERT INTO deliveries (type, day)`, 2, `ON CONFLICT (type, day) DO NOTHING`, len(dels), func(i int, a []any) []any {
			return append(a, dels[i].typ, int64(dels[i].day))
		}, nil)
	}
	if err != nil {
		return fmt.Errorf("%s: records: %w", t.db, err)
	}
	return nil
}

// bulk inserts n new rows into table: by COPY on PostgreSQL when there are many, by
// multi-row INSERTs otherwise. The rows are new by construction (fresh ids), so on SQLite
// OR IGNORE spares the statement journal that a constraint able to abort would need.
func (t *Tx) bulk(table string, cols []string, suffix string, n int, vals func(i int, a []any) []any) error {
	if n == 0 {
		return nil
	}
	if t.conn != nil && n >= copyMin {
		return t.copyFrom(table, cols, n, func(i int) []any { return vals(i, nil) })
	}
	verb := `INSERT INTO `
	if t.db.dialect == SQLite {
		verb = `INSERT OR IGNORE INTO `
	}
	return t.insertMany(verb+table+` (`+strings.Join(cols, ", ")+`)`, len(cols), suffix, n, vals, nil)
}

// copyFrom runs COPY into table on the transaction's connection (PostgreSQL).
func (t *Tx) copyFrom(table string, cols []string, n int, row func(i int) []any) error {
	t.sent++
	err := t.conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("not a pgx connection: %T", dc)
		}
		_, err := c.Conn().CopyFrom(t.ctx, pgx.Identifier{table}, cols, pgx.CopyFromSlice(n, func(i int) ([]any, error) { return row(i), nil }))
		return err
	})
	if err != nil {
		return fmt.Errorf("%s: copy %s: %w", t.db, table, err)
	}
	return nil
}

// copyNew COPYs n rows into table in a savepoint (PostgreSQL), and tells whether they
// went in: when one of them repeats a unique key stored already, the COPY fails whole,
// the savepoint is rolled back and copyNew returns false, for the caller to insert the
// rows the slower way that skips such keys.
func (t *Tx) copyNew(table string, cols []string, n int, row func(i int) []any) (bool, error) {
	sp := `copy_` + table
	if err := t.execRaw(`SAVEPOINT ` + sp); err != nil {
		return false, err
	}
	err := t.copyFrom(table, cols, n, row)
	var pe *pgconn.PgError
	switch {
	case err == nil:
		return true, t.execRaw(`RELEASE SAVEPOINT ` + sp)
	case !errors.As(err, &pe) || pe.Code != "23505": // not a unique violation
		return false, err
	}
	if err := t.execRaw(`ROLLBACK TO SAVEPOINT ` + sp); err != nil {
		return false, err
	}
	return false, t.execRaw(`RELEASE SAVEPOINT ` + sp)
}

// cmpKeyOnly compares keys without their indexes.
func cmpKeyOnly(a, b Key) int {
	if a.K1 != b.K1 {
		return cmp.Compare(a.K1, b.K1)
	}
	return cmp.Compare(a.K2, b.K2)
}

func (t *Tx) execRaw(q string) error {
	t.sent++
	if _, err := t.tx.ExecContext(t.ctx, q); err != nil {
		return fmt.Errorf("%s: %w", t.db, err)
	}
	return nil
}

// RecordIDByKey returns the id of the record SOURCE:RECORD_ID, and whether it exists.
func (t *Tx) RecordIDByKey(source, recordID string) (int64, bool, error) {
	var id int64
	k1, k2 := recordKey(source, recordID)
	err := t.QueryRow(`SELECT id FROM record_keys WHERE k1 = ? AND k2 = ?`, k1, k2).Scan(&id)
	if err == sql.ErrNoRows {
		return 0, false, nil
	}
	return id, err == nil, err
}

// RecordByKey returns the record SOURCE:RECORD_ID, and whether it exists.
func (db *DB) RecordByKey(ctx context.Context, source, recordID string) (Record, bool, error) {
	var id int64
	k1, k2 := recordKey(source, recordID)
	err := db.rd.QueryRowContext(ctx, db.Rebind(`SELECT id FROM record_keys WHERE k1 = ? AND k2 = ?`), k1, k2).Scan(&id)
	if err == sql.ErrNoRows {
		return Record{}, false, nil
	}
	if err != nil {
		return Record{}, false, fmt.Errorf("%s: record %s:%s: %w", db, source, recordID, err)
	}
	var out Record
	found := false
	err = readRecords(ctx, db, db.rd, []int64{id}, func(r *Record) error {
		out, found = *r, true
		return nil
	})
	return out, found, err
}

// RecordKeys returns SOURCE:RECORD_ID for each id, read in the transaction.
func (t *Tx) RecordKeys(ids []int64) (map[int64]string, error) {
	return recordKeys(t.ctx, t.db, t.tx, ids)
}

// RecordKeys returns SOURCE:RECORD_ID for each id.
func (db *DB) RecordKeys(ctx context.Context, ids []int64) (map[int64]string, error) {
	return recordKeys(ctx, db, db.rd, ids)
}

// querier is what a read goes through: the readers' pool or a transaction.
type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

func recordKeys(ctx context.Context, db *DB, q querier, ids []int64) (map[int64]string, error) {
	out := make(map[int64]string, len(ids))
	err := readChunks(ctx, db, q, ids, func(data []byte, take func(id int64) bool) error {
		return chunkKeys(data, take, func(id int64, key string) { out[id] = key })
	})
	return out, err
}

// readRecords calls fn with each stored record among ids, in id order (each once),
// reading each chunk that holds one of them once.
func readRecords(ctx context.Context, db *DB, q querier, ids []int64, fn func(*Record) error) error {
	return readChunks(ctx, db, q, ids, func(data []byte, take func(id int64) bool) error {
		return decodeChunk(data, func(r *Record) error {
			if take(r.ID) {
				return fn(r)
			}
			return nil
		})
	})
}

// readChunks calls decode with each chunk that holds one of ids, once, in id order, and
// with take, which reports whether an id of the chunk is among ids; decode must ask it
// of the chunk's ids in order.
func readChunks(ctx context.Context, db *DB, q querier, ids []int64, decode func(data []byte, take func(id int64) bool) error) error {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	take := func(id int64) bool {
		for len(ids) > 0 && ids[0] < id {
			ids = ids[1:] // in a gap of the chunk: no such record
		}
		if len(ids) > 0 && ids[0] == id {
			ids = ids[1:]
			return true
		}
		return false
	}
	// chunk decodes one chunk (ids before it are not stored) and drops the ids it covers.
	chunk := func(first, last int64, data []byte) error {
		for len(ids) > 0 && ids[0] < first {
			ids = ids[1:] // no such record
		}
		if len(ids) == 0 || ids[0] > last {
			return nil
		}
		if err := decode(data, take); err != nil {
			return fmt.Errorf("%s: record chunk %d: %w", db, first, err)
		}
		for len(ids) > 0 && ids[0] <= last {
			ids = ids[1:]
		}
		return nil
	}
	if db.dialect == Postgres && len(ids) > 1 {
		// One round trip for many ids: each finds its chunk on the server (an evidence
		// model's WEAK rows name records from all over the table, a chunk each).
		for len(ids) > 0 {
			part := slices.Clone(ids[:min(len(ids), readChunksAtOnce)])
			rows, err := q.QueryContext(ctx, `SELECT c.first, c.last, c.data FROM unnest($1::bigint[]) AS i(id)
				CROSS JOIN LATERAL (SELECT first, last, data FROM record_chunks WHERE first <= i.id ORDER BY first DESC LIMIT 1) c
				ORDER BY c.first`, part)
			if err != nil {
				return fmt.Errorf("%s: records: %w", db, err)
			}
			prev := int64(-1)
			for rows.Next() {
				var first, last int64
				var data []byte
				if err := rows.Scan(&first, &last, &data); err != nil {
					rows.Close()
					return fmt.Errorf("%s: records: %w", db, err)
				}
				if first == prev {
					continue // another id of the same chunk
				}
				prev = first
				if err := chunk(first, last, data); err != nil {
					rows.Close()
					return err
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return fmt.Errorf("%s: records: %w", db, err)
			}
			// Ids of the part that no chunk holds are not stored.
			for len(ids) > 0 && ids[0] <= part[len(part)-1] {
				ids = ids[1:]
			}
		}
		return nil
	}
	for len(ids) > 0 {
		var first, last int64
		var data []byte
		rows, err := q.QueryContext(ctx, db.Rebind(`SELECT first, last, data FROM record_chunks WHERE first <= ? ORDER BY first DESC LIMIT 1`), ids[0])
		if err != nil {
			return fmt.Errorf("%s: records: %w", db, err)
		}
		found := rows.Next()
		if found {
			err = rows.Scan(&first, &last, &data)
		}
		rows.Close()
		if err == nil {
			err = rows.Err()
		}
		if err != nil {
			return fmt.Errorf("%s: records: %w", db, err)
		}
		if !found || last < ids[0] {
			ids = ids[1:] // no such record
			continue
		}
		if err := chunk(first, last, data); err != nil {
			return err
		}
	}
	return nil
}

// readChunksAtOnce bounds the ids PostgreSQL is sent in one query of readChunks.
const readChunksAtOnce = 1000

// EachRecord calls fn with every stored record in id order (for exports and tests).
func (db *DB) EachRecord(ctx context.Context, fn func(*Record) error) error {
	after := int64(-1)
	for {
		rows, err := db.rd.QueryContext(ctx, db.Rebind(`SELECT first, data FROM record_chunks WHERE first > ? ORDER BY first LIMIT 64`), after)
		if err != nil {
			return fmt.Errorf("%s: records: %w", db, err)
		}
		var datas [][]byte
		for rows.Next() {
			var d []byte
			if err := rows.Scan(&after, &d); err != nil {
				rows.Close()
				return err
			}
			datas = append(datas, d)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("%s: records: %w", db, err)
		}
		if len(datas) == 0 {
			return nil
		}
		for _, d := range datas {
			if err := decodeChunk(d, fn); err != nil {
				return fmt.Errorf("%s: records: %w", db, err)
			}
		}
	}
}

// PersonRecords returns a person's records, oldest event first. Each names the person
// and whether it is held for review now (a record linked when its person was enrolled, not
// on arrival, is stored as it arrived).
func (db *DB) PersonRecords(ctx context.Context, pid int64) ([]Record, error) {
	return db.recordsOf(ctx, `SELECT p.id, p.pid, COALESCE(a.held, 0) FROM record_people p LEFT JOIN record_aside a ON a.id = p.id
		WHERE p.pid = ? ORDER BY p.event_date, p.id`, pid)
}

// HeldRecords returns every record held for review, in id order, each naming its person.
func (db *DB) HeldRecords(ctx context.Context) ([]Record, error) {
	return db.recordsOf(ctx, `SELECT id, COALESCE(pid, -1), 1 FROM record_aside WHERE held = 1 ORDER BY id`)
}

// HeldRecord returns record id when it is held for review, and whether it is.
func (db *DB) HeldRecord(ctx context.Context, id int64) (Record, bool, error) {
	recs, err := db.recordsOf(ctx, `SELECT id, COALESCE(pid, -1), 1 FROM record_aside WHERE id = ? AND held = 1`, id)
	if err != nil || len(recs) == 0 {
		return Record{}, false, err
	}
	return recs[0], true, nil
}

// ReviewHeld takes record id, held for review, off the list of held records (HeldPage)
// with the audit row a of the staff member who checked it; the record stays held. A
// record reviewed already is left as it is (reviewed false), one not held is not found.
func (t *Tx) ReviewHeld(id int64, a AuditRow) (reviewed bool, err error) {
	var seq sql.NullInt64
	err = t.QueryRow(`SELECT reviewed FROM record_aside WHERE id = ? AND held = 1`, id).Scan(&seq)
	if err == sql.ErrNoRows {
		return false, sc.Errorf(sc.ENotFound, "no held record %d", id)
	}
	if err != nil || seq.Valid {
		return false, err
	}
	as := []AuditRow{a}
	if err := t.Append(as); err != nil {
		return false, err
	}
	return true, t.exec(`UPDATE record_aside SET reviewed = ? WHERE id = ?`, as[0].Seq, id)
}

// HeldPage returns at most limit (up to 500) of the records held for review and not
// reviewed yet (ReviewHeld), ordered by
// rank (of a record type's code: the caller's, deaths first) and then the latest to arrive first,
// and how many are held in all. It reads every held record's id and type (no record's
// content) and then the page alone.
func (db *DB) HeldPage(ctx context.Context, rank func(typ string) int, limit int) ([]Record, int, error) {
	rows, err := db.rd.QueryContext(ctx, `SELECT id, type FROM record_aside WHERE held = 1 AND reviewed IS NULL`)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: held records: %w", db, err)
	}
	type held struct {
		id   int64
		rank int
	}
	var all []held
	ranks := map[string]int{}
	for rows.Next() {
		var h held
		var typ string
		if err := rows.Scan(&h.id, &typ); err != nil {
			rows.Close()
			return nil, 0, err
		}
		r, ok := ranks[typ]
		if !ok {
			r = rank(typ)
			ranks[typ] = r
		}
		h.rank = r
		all = append(all, h)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("%s: held records: %w", db, err)
	}
	slices.SortFunc(all, func(a, b held) int { return cmp.Or(cmp.Compare(a.rank, b.rank), cmp.Compare(b.id, a.id)) })
	page := all[:min(len(all), limit, 500)]
	if len(page) == 0 {
		return nil, len(all), nil
	}
	args := make([]any, len(page))
	for i, h := range page {
		args[i] = h.id
	}
	recs, err := db.recordsOf(ctx, `SELECT id, COALESCE(pid, -1), 1 FROM record_aside WHERE id IN (?`+strings.Repeat(",?", len(page)-1)+`)`, args...)
	if err != nil {
		return nil, 0, err
	}
	at := make(map[int64]int, len(page))
	for i, h := range page {
		at[h.id] = i
	}
	slices.SortFunc(recs, func(a, b Record) int { return cmp.Compare(at[a.ID], at[b.ID]) })
	return recs, len(all), nil
}

// recordsOf returns the records whose ids query q gives, in its order, with the person
// (when not -1) and whether held that it gives beside each id.
func (db *DB) recordsOf(ctx context.Context, q string, args ...any) ([]Record, error) {
	rows, err := db.rd.QueryContext(ctx, db.Rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("%s: records: %w", db, err)
	}
	type now struct {
		pid  int64
		held bool
	}
	var ids []int64
	var nows []now
	for rows.Next() {
		var id, pid, held int64
		if err := rows.Scan(&id, &pid, &held); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
		nows = append(nows, now{pid, held == 1})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: records: %w", db, err)
	}
	byID := make(map[int64]Record, len(ids))
	// Through the readers: on SQLite db.sql is the one writer connection, and a page would
	// wait for a batch's transaction to end.
	if err := readRecords(ctx, db, db.rd, ids, func(r *Record) error { byID[r.ID] = *r; return nil }); err != nil {
		return nil, err
	}
	out := make([]Record, 0, len(ids))
	for i, id := range ids {
		if r, ok := byID[id]; ok {
			if nows[i].pid >= 0 {
				r.PID, r.Link = nows[i].pid, 0
			}
			r.Held = nows[i].held
			out = append(out, r)
		}
	}
	return out, nil
}

// UnlinkedCounts calls fn with the number of records linked to no one, by type and
// linkage outcome.
func (db *DB) UnlinkedCounts(ctx context.Context, fn func(typ string, link int, n int64)) error {
	rows, err := db.rd.QueryContext(ctx, `SELECT type, link, count(*) FROM record_aside WHERE link > 0 AND held = 0 GROUP BY type, link ORDER BY type, link`)
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
	rows, err := db.rd.QueryContext(ctx, `SELECT type, day FROM deliveries ORDER BY type, day`)
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

// migrationSteps are the parts of migrations written in Go, run after the migration's
// SQL in its transaction.
var migrationSteps = map[int]func(*Tx) error{8: moveRecords}

// moveRecords moves the rows of the wide records table (migrations 0001–0007) into the
// compact layout, keeping every id, then drops the old table; on PostgreSQL it also
// stores chunks uncompressed.
func moveRecords(t *Tx) error {
	if t.db.dialect == Postgres {
		// Chunks are written once and read whole: compressing them (pglz) cost more time
		// than it saved space.
		if err := t.execRaw(`ALTER TABLE record_chunks ALTER COLUMN data SET STORAGE EXTERNAL`); err != nil {
			return err
		}
	}
	after := int64(0)
	for {
		rows, err := t.tx.QueryContext(t.ctx, t.db.Rebind(`SELECT id, source, record_id, type, pid, link, held, person_id, name,
			birth_date, event_date, reported_date, region_code, detail, content, batch, file, line FROM records WHERE id > ? ORDER BY id LIMIT 20000`), after)
		if err != nil {
			return err
		}
		var rs []*Record
		for rows.Next() {
			r := &Record{}
			var pid sql.NullInt64
			var held int
			var birth, event, reported, content int64
			if err := rows.Scan(&r.ID, &r.Source, &r.RecordID, &r.Type, &pid, &r.Link, &held, &r.PersonID, &r.Name,
				&birth, &event, &reported, &r.RegionCode, &r.Detail, &content, &r.Batch, &r.File, &r.Line); err != nil {
				rows.Close()
				return err
			}
			r.PID = -1
			if pid.Valid {
				r.PID = pid.Int64
			}
			r.Held = held != 0
			r.BirthDate, r.EventDate, r.ReportedDate, r.Content = sc.Date(birth), sc.Date(event), sc.Date(reported), uint64(content)
			rs = append(rs, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(rs) == 0 {
			break
		}
		after = rs[len(rs)-1].ID
		err = t.insertMany(`INSERT INTO record_keys (k1, k2, id, content)`, 4, ``, len(rs), func(i int, a []any) []any {
			k1, k2 := recordKey(rs[i].Source, rs[i].RecordID)
			return append(a, k1, k2, rs[i].ID, int64(rs[i].Content))
		}, nil)
		if err != nil {
			return err
		}
		// Chunks hold consecutive runs of ids as the old table had them.
		t.asideUnkeyed = true // the schema of 0008: no pkey (0022)
		if err := t.storeRecords(len(rs), func(j int, r *Record) { *r = *rs[j] }); err != nil {
			return err
		}
	}
	if err := t.writeLater(); err != nil {
		return err
	}
	_, err := t.tx.ExecContext(t.ctx, `DROP TABLE records`)
	return err
}

// RecordsWhere returns the stored records that keep returns true for, in id order (a
// scan of every record: for tests and small tools, not for pages).
func (db *DB) RecordsWhere(ctx context.Context, keep func(*Record) bool) ([]Record, error) {
	var out []Record
	err := db.EachRecord(ctx, func(r *Record) error {
		if keep(r) {
			out = append(out, *r)
		}
		return nil
	})
	return out, err
}

func init() { migrationSteps[22] = keyAside }

// keyAside is migration 0022's part in Go: the unlinked rows of the death, loss and release
// types (the default catalogue's) stored before it get the packed ID they name, so that
// the roster imports after it find them by the index too, not by reading them all each
// time. Rows of other types keep none: nothing looks them up by person.
func keyAside(t *Tx) error {
	var types []any
	for _, rt := range sc.DefaultCatalogue().Types() {
		if rt.Class == sc.ClassDeath || rt.Class == sc.ClassLoss || rt.Class == sc.ClassRestore {
			types = append(types, rt.Code)
		}
	}
	ids, err := t.queryIDs(nil, `SELECT id FROM record_aside WHERE pkey IS NULL AND link > 0 AND held = 0 AND type IN (?`+
		strings.Repeat(`,?`, len(types)-1)+`) ORDER BY id`, types...)
	if err != nil {
		return err
	}
	type keyed struct{ id, key int64 }
	var ks []keyed
	err = readRecords(t.ctx, t.db, t.tx, ids, func(r *Record) error {
		if k, ok := asideKey(r).(int64); ok {
			ks = append(ks, keyed{r.ID, k})
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range ks {
		if err := t.exec(`UPDATE record_aside SET pkey = ? WHERE id = ?`, k.key, k.id); err != nil {
			return err
		}
	}
	return nil
}

// asideKey is the packed ID number a record linked to no one names (nil: none valid, or
// the record is held or linked).
func asideKey(r *Record) any {
	if r.Link <= 0 || r.Held {
		return nil
	}
	id, ok := idcard.Normalize([]byte(r.PersonID))
	if !ok {
		return nil
	}
	return int64(idcard.Key(id))
}

// queryIDs appends to ids the ids query q gives, read in the transaction.
func (t *Tx) queryIDs(ids []int64, q string, args ...any) ([]int64, error) {
	err := t.each(q, args, func(rows *sql.Rows) error {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return err
		}
		ids = append(ids, id)
		return nil
	})
	return ids, err
}

// UnlinkedRecords returns the records linked to no one when they arrived (not those held
// for review) whose type is one of types and that name one of the ID numbers ids, or no
// valid one (they may link by name and birth date; rows of a configuration's own types
// stored before migration 0022 are among them too), in id order, read in the
// transaction. Both are found by an index.
func (t *Tx) UnlinkedRecords(types, ids []string) ([]Record, error) {
	if len(types) == 0 || len(ids) == 0 {
		return nil, nil
	}
	in := `type IN (?` + strings.Repeat(`,?`, len(types)-1) + `)`
	targs := make([]any, len(types))
	for i, typ := range types {
		targs[i] = typ
	}
	found, err := t.queryIDs(nil, `SELECT id FROM record_aside WHERE pkey IS NULL AND link > 0 AND held = 0 AND `+in, targs...)
	if err != nil {
		return nil, err
	}
	var keys []int64
	for _, s := range ids {
		if id, ok := idcard.Normalize([]byte(s)); ok {
			keys = append(keys, int64(idcard.Key(id)))
		}
	}
	err = inPIDs(keys, func(list string, args []any) (err error) {
		found, err = t.queryIDs(found, `SELECT id FROM record_aside WHERE pkey IN `+list+` AND link > 0 AND held = 0 AND `+in, append(args, targs...)...)
		return err
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(found)
	found = slices.Compact(found)
	var out []Record
	err = readRecords(t.ctx, t.db, t.tx, found, func(r *Record) error { out = append(out, *r); return nil })
	return out, err
}

// LinkLate files records that were linked to no one under the people now found for them
// (rs[i].PID, a person enrolled since): each leaves the unlinked and joins its person's
// records; one whose name disagrees (Held) is held for review. The stored record keeps
// what its linkage was on arrival.
func (t *Tx) LinkLate(rs []Record) error {
	for _, r := range rs {
		var err error
		if r.Held {
			err = t.exec(`UPDATE record_aside SET link = 0, held = 1, pid = ? WHERE id = ?`, r.PID, r.ID)
		} else {
			err = t.exec(`DELETE FROM record_aside WHERE id = ?`, r.ID)
		}
		if err != nil {
			return err
		}
		t.later.people = append(t.later.people, personRow{r.PID, r.EventDate, r.ID})
	}
	return nil
}
