package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
)

// The conformance suite: every test runs against SQLite and PostgreSQL.

func TestStore(t *testing.T) {
	for _, tc := range []struct {
		name string
		test func(t *testing.T, db *store.DB)
	}{
		{"migrate twice", testMigrateTwice},
		{"people round trip", testPeople},
		{"records dedupe", testRecords},
		{"batch keys", testBatchKeys},
		{"search by name", testSearchNames},
		{"unlinked deaths keyed by migration 0022", testKeyAside},
		{"records in bulk", testRecordsBulk},
		{"records resent in bulk", testRecordsResent},
		{"audit chain", testAudit},
		{"audit verified while written", testVerifyWhileWriting},
		{"last visits", testLastVisits},
		{"rollback leaves nothing", testRollback},
		{"reads while a writer holds its transaction", testReadDuringWrite},
	} {
		for _, dsn := range storetest.DSNs(t) {
			t.Run(tc.name+"/"+dsn.Name, func(t *testing.T) { tc.test(t, dsn.Open(t)) })
		}
	}
}

func testMigrateTwice(t *testing.T, db *store.DB) {
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	st, err := db.MigrationStatus(context.Background())
	if err != nil || len(st) == 0 || !strings.Contains(st[0], "applied") {
		t.Fatalf("status %v %v", st, err)
	}
	// A migration a newer binary applied is named in the status.
	if _, err := db.SQL().ExecContext(context.Background(), `INSERT INTO schema_migrations (version, name) VALUES (9999, 'future')`); err != nil {
		t.Fatal(err)
	}
	st, err = db.MigrationStatus(context.Background())
	if err != nil || !strings.HasPrefix(st[len(st)-1], "9999 applied, unknown to this binary") {
		t.Fatalf("status with a newer migration: %v %v", st, err)
	}
	if _, err := db.SQL().ExecContext(context.Background(), `DELETE FROM schema_migrations WHERE version = 9999`); err != nil {
		t.Fatal(err)
	}
}

func testPeople(t *testing.T, db *store.DB) {
	ctx := context.Background()
	tx, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p := &store.Person{PID: 7, Rec: sc.Recipient{PersonID: "110101194001010012", Name: "张三", Sex: 1, BirthDate: 100,
		RegionCode: "371002001001", LastCertified: sc.NoDate, NameConflicts: 2,
		Entitlements: []sc.Entitlement{{Benefit: "URBAN_EMPLOYEE", Monthly: 310000, Start: 24000, End: sc.NoMonth}}},
		Status: sc.StatusWarning, Until: 20000, NextCheck: sc.NoDate, Baselined: true, State: []byte{1, 2, 3}}
	if err := tx.PutPeople([]*store.Person{p}); err != nil {
		t.Fatal(err)
	}
	p.Status, p.Rec.NameConflicts = sc.StatusCertified, 3
	if err := tx.PutPeople([]*store.Person{p}); err != nil { // an update
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	got, err := db.PersonByID(ctx, p.Rec.PersonID)
	if err != nil {
		t.Fatal(err)
	}
	if got.PID != 7 || got.Rec.Name != "张三" || got.Status != sc.StatusCertified || got.NextCheck != sc.NoDate ||
		string(got.State) != "\x01\x02\x03" || len(got.Rec.Entitlements) != 1 || got.Rec.Entitlements[0].Monthly != 310000 ||
		got.Rec.NameConflicts != 3 {
		t.Fatalf("got %+v", got)
	}
	if _, err := db.PersonByID(ctx, "nobody"); sc.ErrorCode(err) != sc.ENotFound {
		t.Fatalf("missing person: %v", err)
	}
}

func testRecords(t *testing.T, db *store.DB) {
	ctx := context.Background()
	tx, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	b, err := tx.NewBatch(&store.Batch{Origin: "file", Status: "applied", Files: "x", Report: "{}"})
	if err != nil {
		t.Fatal(err)
	}
	r := &store.Record{Source: "HEA", RecordID: "r1", Type: "HEA.INPATIENT", PID: -1, Link: 2, Content: 42, Batch: b}
	r2 := &store.Record{Source: "HEA", RecordID: "r2", Type: "HEA.INPATIENT", PID: -1, Link: 2, Content: 7, Batch: b}
	ids, ins, _, err := tx.InsertRecords([]*store.Record{r, r2})
	if err != nil || !ins[0] || !ins[1] || ids[1] != ids[0]+1 {
		t.Fatal(ids, ins, err)
	}
	id := ids[0]
	r.Content = 43
	r3 := &store.Record{Source: "HEA", RecordID: "r3", Type: "HEA.INPATIENT", PID: -1, Link: 2, Content: 9, Batch: b}
	ids2, ins2, cs, err := tx.InsertRecords([]*store.Record{r3, r})
	if err != nil || ins2[1] || !ins2[0] || ids2[1] != id || cs[1] != 42 {
		t.Fatalf("resend: ids %v inserted %v contents %v err %v", ids2, ins2, cs, err)
	}
	keys, err := tx.RecordKeys([]int64{id})
	if err != nil || keys[id] != "HEA:r1" {
		t.Fatal(keys, err)
	}
}

// testBatchKeys: a batch's idempotency key is found again, and a second batch with it is
// refused; batches without a key are many.
func testBatchKeys(t *testing.T, db *store.DB) {
	ctx := context.Background()
	put := func(key string) error {
		tx, err := db.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		if _, err := tx.NewBatch(&store.Batch{Origin: "drop", Status: "applied", Files: "x", Report: "{}", Key: key}); err != nil {
			return err
		}
		return tx.Commit()
	}
	for _, key := range []string{"", "", "drop:HEA/a.csv:01"} {
		if err := put(key); err != nil {
			t.Fatalf("batch keyed %q: %v", key, err)
		}
	}
	if err := put("drop:HEA/a.csv:01"); err == nil {
		t.Fatal("a second batch with the same key was stored")
	}
	b, err := db.BatchByKey(ctx, "drop:HEA/a.csv:01")
	if err != nil || b == nil || b.Key != "drop:HEA/a.csv:01" || b.Origin != "drop" {
		t.Fatalf("by key: %+v %v", b, err)
	}
	if b, err := db.BatchByKey(ctx, "drop:HEA/a.csv:02"); err != nil || b != nil {
		t.Fatalf("an unknown key: %+v %v", b, err)
	}
}

// testVerifyWhileWriting: verifying the trail while another handle appends to it (audit
// verify beside serve) finds it intact every time: the rows and the head are read from
// one snapshot.
func testVerifyWhileWriting(t *testing.T, db *store.DB) {
	ctx := context.Background()
	done := make(chan error, 1)
	go func() {
		for i := 0; i < 300; i++ {
			tx, err := db.Begin(ctx)
			if err != nil {
				done <- err
				return
			}
			if err := tx.Append([]store.AuditRow{{Kind: "login", Actor: "admin", PID: -1, Detail: strconv.Itoa(i)}}); err != nil {
				tx.Rollback()
				done <- err
				return
			}
			if err := tx.Commit(); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for verified := 0; ; verified++ {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			if verified == 0 {
				t.Log("the writer finished before a verification")
			}
			return
		default:
		}
		if _, err := db.VerifyAudit(ctx, func(p store.AuditProblem) { t.Errorf("verification %d: %+v", verified, p) }); err != nil {
			t.Fatal(err)
		}
	}
}

// testSearchNames: a name is found by its start, a Uyghur name's dot typed as any dot, an
// ID number only whole; never outside the region; in the order of names, then ID numbers.
func testSearchNames(t *testing.T, db *store.DB) {
	ctx := context.Background()
	tx, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	var ps []*store.Person
	for i, n := range []string{"祖丽菲亚·阿不都热合曼", "张三", "张三丰", "李四", "阿依古丽•买买提", "阿依古丽.买买提", "阿依古丽・买买提"} {
		ps = append(ps, &store.Person{PID: int64(i), Rec: sc.Recipient{PersonID: fmt.Sprintf("37100219400101%04d", i), Name: n, Sex: 1,
			BirthDate: 100, RegionCode: "371002001001", LastCertified: sc.NoDate}, NextCheck: sc.NoDate, State: []byte{1}})
	}
	ps[3].Rec.RegionCode = "371002001002"
	// Another 张三, and a 张四, whose ID numbers come before the others'.
	for _, x := range [][2]string{{"张三", "371002193001010008"}, {"张四", "371002192001010009"}} {
		ps = append(ps, &store.Person{PID: int64(len(ps)), Rec: sc.Recipient{PersonID: x[1], Name: x[0], Sex: 1,
			BirthDate: 100, RegionCode: "371002001001", LastCertified: sc.NoDate}, NextCheck: sc.NoDate, State: []byte{1}})
	}
	if err := tx.PutPeople(ps); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		prefix, q string
		want      int
	}{
		{"3710", "祖丽菲亚", 1}, {"3710", "祖丽菲亚.阿不都", 1}, {"3710", "祖丽菲亚•阿不都热合曼", 1}, {"3710", "张三", 3},
		{"3710", "张三丰", 1}, {"3710", "371002194001010001", 1}, {"3710", "3710021940", 0}, {"371002001001", "李四", 0},
		{"3710", "李四", 1}, {"3710", "王", 0},
		// Stored with another dot than the typed one: every spelling is found.
		{"3710", "阿依古丽•买买提", 3}, {"3710", "阿依古丽.买买提", 3}, {"3710", "阿依古丽", 3}, {"3710", "371002194001010001 ", 1},
	} {
		got, err := db.Search(ctx, c.prefix, c.q, 10)
		if err != nil || len(got) != c.want {
			t.Errorf("search %q in %s: %d found (%v), want %d", c.q, c.prefix, len(got), err, c.want)
		}
	}
	// By name, then ID number (not by ID number, nor as stored), and the limit taken from
	// that order: in the whole city, a district and a village (which SQLite reads by region).
	want := []string{"张三 371002193001010008", "张三 371002194001010001", "张三丰 371002194001010002", "张四 371002192001010009"}
	for _, prefix := range []string{"", "3710", "371002", "371002001001"} {
		for _, limit := range []int{10, 3} {
			got, err := db.Search(ctx, prefix, "张", limit)
			var names []string
			for _, x := range got {
				names = append(names, x.Name+" "+x.PersonID)
			}
			if err != nil || !slices.Equal(names, want[:min(limit, len(want))]) {
				t.Errorf("search 张 in %q, at most %d: %q (%v), want %q", prefix, limit, names, err, want[:min(limit, len(want))])
			}
		}
	}
}

// testKeyAside: unlinked rows stored before migration 0022 (no pkey) get their packed ID
// from its Go step when they are deaths, losses or releases, and are then found by it;
// other types keep none.
func testKeyAside(t *testing.T, db *store.DB) {
	ctx := context.Background()
	const id = "371002194003150019"
	tx, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rs := []*store.Record{
		{Source: "PSB", RecordID: "d1", Type: "PSB.DEATH_DEREG", PID: -1, Link: 2, PersonID: id, Name: "张三", BirthDate: 100, EventDate: 20000, ReportedDate: 20001, Content: 1, Batch: 1},
		{Source: "HEA", RecordID: "v1", Type: "HEA.VACCINATION", PID: -1, Link: 2, PersonID: id, Name: "张三", BirthDate: 100, EventDate: 20000, ReportedDate: 20001, Content: 2, Batch: 1},
	}
	if _, _, _, err := tx.InsertRecords(rs); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	keyed := func() int {
		var n int
		if err := db.Reader().QueryRowContext(ctx, `SELECT count(*) FROM record_aside WHERE pkey IS NOT NULL`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := keyed(); n != 2 {
		t.Fatalf("%d rows keyed on insertion, want 2", n)
	}
	if _, err := db.SQL().ExecContext(ctx, `UPDATE record_aside SET pkey = NULL`); err != nil { // as before 0022
		t.Fatal(err)
	}
	tx, err = db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if err := store.KeyAside(tx); err != nil {
		t.Fatal(err)
	}
	if n := keyed(); n != 0 {
		t.Fatalf("keyed outside the transaction: %d", n)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	var typ string
	if err := db.Reader().QueryRowContext(ctx, `SELECT type FROM record_aside WHERE pkey IS NOT NULL`).Scan(&typ); err != nil || typ != "PSB.DEATH_DEREG" || keyed() != 1 {
		t.Fatalf("after the step: %d keyed (%s, %v), want the death alone", keyed(), typ, err)
	}
}

func testAudit(t *testing.T, db *store.DB) {
	ctx := context.Background()
	base := migrationRows(t, db) // the trail begins with the migrations' rows
	for i := 0; i < 2; i++ {     // two transactions: the chain continues across them
		tx, err := db.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		rows := []store.AuditRow{{Kind: "decision", Day: 1, Actor: "engine", PID: 1, PersonID: "A", Action: "CERTIFIED"},
			{Kind: "login", Actor: "admin", PID: -1, Detail: "ok"}}
		if err := tx.Append(rows); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	check := func(want string) {
		t.Helper()
		var got []string
		n, err := db.VerifyAudit(ctx, func(p store.AuditProblem) { got = append(got, fmt.Sprintf("%d %s", p.Seq, p.Reason)) })
		if err != nil {
			t.Fatal(err)
		}
		if s := strings.Join(got, "|"); !strings.Contains(s, want) || (want == "" && s != "") {
			t.Fatalf("verify over %d rows: %q, want %q", n, s, want)
		}
	}
	seq := func(i int64) string { return strconv.FormatInt(base+i, 10) }
	check("")
	sqlDB := db.SQL()
	mustExec(t, sqlDB, db.Rebind(`UPDATE audit SET detail = 'changed' WHERE seq = `+seq(2)))
	check(seq(2) + " its content does not match")
	mustExec(t, sqlDB, db.Rebind(`UPDATE audit SET detail = 'ok' WHERE seq = `+seq(2)))
	check("")
	mustExec(t, sqlDB, `DELETE FROM audit WHERE seq = `+seq(3))
	check("rows " + seq(3) + " to " + seq(3) + " are missing")
	mustExec(t, sqlDB, `DELETE FROM audit WHERE seq = `+seq(4))
	check("head")
}

// migrationRows counts the rows of the trail written by migrations (one per migration
// applied): a new database's trail begins with them.
func migrationRows(t testing.TB, db *store.DB) int64 {
	t.Helper()
	var n int64
	if err := db.Reader().QueryRow(`SELECT count(*) FROM audit WHERE kind = 'migration'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func mustExec(t *testing.T, db *sql.DB, q string) {
	t.Helper()
	if _, err := db.Exec(q); err != nil {
		t.Fatal(err)
	}
}

func testRollback(t *testing.T, db *store.DB) {
	ctx := context.Background()
	tx, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Append([]store.AuditRow{{Kind: "x", PID: -1}}); err != nil {
		t.Fatal(err)
	}
	tx.Rollback()
	n, err := db.VerifyAudit(ctx, func(p store.AuditProblem) { t.Error(p) })
	if err != nil || n != migrationRows(t, db) {
		t.Fatalf("after rollback %d rows, %v", n, err)
	}
}

// testRecordsBulk: a batch large enough for PostgreSQL's COPY path, sent twice with new
// rows mixed in: ids in order, resent rows found with their stored id and content.
func testRecordsBulk(t *testing.T, db *store.DB) {
	ctx := context.Background()
	tx, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	b, err := tx.NewBatch(&store.Batch{Origin: "file", Status: "applied", Files: "x", Report: "{}"})
	if err != nil {
		t.Fatal(err)
	}
	mk := func(from, to int) []*store.Record {
		var rs []*store.Record
		for i := from; i < to; i++ {
			rs = append(rs, &store.Record{Source: "TRN", RecordID: fmt.Sprintf("r%06d", i), Type: "TRN.RAIL", PID: int64(i % 7),
				Content: uint64(i), Batch: b, Detail: "count=2", Name: "张三"})
		}
		return rs
	}
	ids, ins, _, err := tx.InsertRecords(mk(0, 3000))
	if err != nil {
		t.Fatal(err)
	}
	for i := range ids {
		if !ins[i] || ids[i] != ids[0]+int64(i) {
			t.Fatalf("row %d: id %d inserted %v", i, ids[i], ins[i])
		}
	}
	ids2, ins2, cs, err := tx.InsertRecords(mk(2000, 5000))
	if err != nil {
		t.Fatal(err)
	}
	for i := range ids2 {
		resent := i < 1000
		if ins2[i] == resent || (resent && (ids2[i] != ids[2000+i] || cs[i] != uint64(2000+i))) {
			t.Fatalf("second batch row %d: id %d inserted %v content %d", i, ids2[i], ins2[i], cs[i])
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	var n, people int
	if err := db.SQL().QueryRow(`SELECT count(*) FROM record_keys`).Scan(&n); err != nil || n != 5000 {
		t.Fatalf("%d records stored, %v", n, err)
	}
	if err := db.SQL().QueryRow(`SELECT count(*) FROM record_people`).Scan(&people); err != nil || people != 5000 {
		t.Fatalf("%d person index rows, %v", people, err)
	}
	// A resend in a later transaction is found among the keys written at the commit.
	tx2, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx2.Rollback()
	ids3, ins3, _, err := tx2.InsertRecords(mk(4999, 5001))
	if err != nil || ins3[0] || !ins3[1] || ids3[0] != ids2[2999] {
		t.Fatalf("third batch: ids %v inserted %v (%v)", ids3, ins3, err)
	}
}

// testRecordsResent: a batch half of whose records were stored before, some of them with
// another content, gets each stored id and content, whether small (PostgreSQL's INSERT …
// RETURNING) or large (its COPY and stage), in a few statements a chunk of rows, not one a
// resent row (a large file sent again took seven times its first load).
func testRecordsResent(t *testing.T, db *store.DB) {
	ctx := context.Background()
	for _, n := range []int{200, 6000} {
		mk := func(b int64, from, to int, content func(i int) uint64) []*store.Record {
			var rs []*store.Record
			for i := from; i < to; i++ {
				rs = append(rs, &store.Record{Source: "TRN", RecordID: fmt.Sprintf("n%d-%06d", n, i), Type: "TRN.RAIL", PID: int64(i % 7),
					Content: content(i), Batch: b})
			}
			return rs
		}
		same := func(i int) uint64 { return uint64(i) }
		changed := func(i int) uint64 { // every fifth differs from what was stored
			if i%5 == 0 {
				return uint64(i) + 1<<40
			}
			return uint64(i)
		}
		var first []int64
		for k, content := range []func(int) uint64{same, changed} {
			tx, err := db.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			b, err := tx.NewBatch(&store.Batch{Origin: "file", Status: "applied", Files: "x", Report: "{}"})
			if err != nil {
				t.Fatal(err)
			}
			from := k * n / 2 // the second batch: the first's second half again, then as many new
			rs := mk(b, from, from+n, content)
			before := tx.Sent()
			ids, ins, cs, err := tx.InsertRecords(rs)
			if err != nil {
				t.Fatal(err)
			}
			if sent := tx.Sent() - before; sent > 40 {
				t.Errorf("%d rows, %d resent: %d statements", n, k*n/2, sent)
			}
			dup, conflict := 0, 0
			for j := range rs {
				i := from + j
				resent := k == 1 && i < n
				if ins[j] == resent {
					t.Fatalf("%d rows, batch %d, row %d: inserted %v", n, k, i, ins[j])
				}
				switch {
				case !resent && (ids[j] != rs[j].ID || cs[j] != rs[j].Content):
					t.Fatalf("%d rows, batch %d, new row %d: id %d content %d, want %d %d", n, k, i, ids[j], cs[j], rs[j].ID, rs[j].Content)
				case resent && (ids[j] != first[i] || cs[j] != uint64(i)):
					t.Fatalf("%d rows, resent row %d: id %d content %d, want %d %d", n, i, ids[j], cs[j], first[i], i)
				case resent:
					dup++
					if cs[j] != rs[j].Content {
						conflict++
					}
				}
			}
			if k == 0 {
				first = ids
			} else if dup != n/2 || conflict != n/10 {
				t.Errorf("%d rows: %d resent, %d of them different, want %d and %d", n, dup, conflict, n/2, n/10)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// A read outside a transaction (the console, a login, a status page) is answered while a
// writer's transaction is open, and sees the last commit, not the open transaction's
// writes. On SQLite the writer is one connection: reads that queued for it waited for the
// whole batch or day.
func testReadDuringWrite(t *testing.T, db *store.DB) {
	ctx := context.Background()
	tx, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.SetMeta("probe", "committed"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	tx, err = db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if err := tx.SetMeta("probe", "open"); err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	v, ok, err := db.Meta(rctx, "probe")
	if err != nil || !ok || v != "committed" {
		t.Fatalf("read during an open write: %q %v %v, want the committed value at once", v, ok, err)
	}
	if err := db.Reader().PingContext(rctx); err != nil {
		t.Fatal(err)
	}
}

// Writers in two schemas of one PostgreSQL database do not wait for each other: the
// writers' advisory lock is per schema (it was one for the whole database, so a large batch
// in one schema held up every other schema's writes, tests running in parallel included).
// Two processes on one schema still take turns.
func TestWritersInOtherSchemasGoOn(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	a, a2 := storetest.Open(t, dsn), storetest.Open(t, dsn)
	b := storetest.Open(t, storetest.PostgresDSN(t))
	ctx := context.Background()
	txa, err := a.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer txa.Rollback()
	bctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	txb, err := b.Begin(bctx)
	if err != nil {
		t.Fatalf("a writer in another schema waited: %v", err)
	}
	if err := txb.SetMeta("probe", "b"); err != nil {
		t.Fatal(err)
	}
	if err := txb.Commit(); err != nil {
		t.Fatal(err)
	}
	sctx, cancel2 := context.WithTimeout(ctx, time.Second)
	defer cancel2()
	if tx, err := a2.Begin(sctx); err == nil {
		tx.Rollback()
		t.Fatal("a second writer on the same schema did not wait for the first")
	}
}

// sqlite:PATH?cache_mb=N sets the writer's page cache; other options and bad sizes are
// refused with a message naming them.
func TestSQLiteCacheOption(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.db")
	db := storetest.Open(t, "sqlite:"+path+"?cache_mb=64")
	var kib int
	if err := db.SQL().QueryRow(`PRAGMA cache_size`).Scan(&kib); err != nil || kib != -64*1024 {
		t.Fatalf("cache_size %d %v, want -65536", kib, err)
	}
	if db.String() != "sqlite:"+path {
		t.Errorf("named %q", db.String())
	}
	for _, bad := range []string{"?cache_mb=1", "?cache_mb=x", "?cache=64", "?cache_mb=64&x=1"} {
		_, err := store.Open(context.Background(), "sqlite:"+path+bad)
		if err == nil || !strings.Contains(err.Error(), "cache_mb") {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

// LastVisits gives each person's latest visit recorded in the console, with its outcome
// and the visit's own date, and nothing for a person never visited.
func testLastVisits(t *testing.T, db *store.DB) {
	ctx := context.Background()
	tx, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rows := []store.AuditRow{
		{Kind: "visit", Day: 100, Actor: "v1", PID: 1, PersonID: "A", Action: "CMT.NOT_FOUND", Detail: "outcome=notfound;event_date=1970-04-09"},
		{Kind: "decision", Day: 101, Actor: "engine", PID: 1, PersonID: "A", Action: "PENDING"},
		{Kind: "visit", Day: 102, Actor: "v2", PID: 1, PersonID: "A", Action: "CMT.REFUSED", Detail: "outcome=refused;event_date=1970-04-12"},
		{Kind: "visit", Day: 102, Actor: "v1", PID: 2, PersonID: "B", Action: "CMT.VISIT", Detail: "outcome=alive;event_date=1970-04-13"},
	}
	if err := tx.Append(rows); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	got, err := db.LastVisits(ctx, []int64{1, 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[1] == nil || *got[1] != (store.LastVisit{Day: 102, Event: 101, Outcome: "refused", Actor: "v2"}) {
		t.Fatalf("last visits: %v (%+v)", got, got[1])
	}
}

// TestBackup: a SQLite backup is the last commit, taken while a writer holds its
// transaction open, sound (its audit chain verifies); an existing file is not
// overwritten; PostgreSQL is pointed to pg_dump.
func TestBackup(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := storetest.Open(t, "sqlite:"+filepath.Join(dir, "live.db"))
	appendRows := func(tx *store.Tx, n int) {
		rows := make([]store.AuditRow, n)
		for i := range rows {
			rows[i] = store.AuditRow{Kind: "run", Actor: "system", PID: -1, Action: "test", Day: sc.MustDate("2024-01-01")}
		}
		if err := tx.Append(rows); err != nil {
			t.Fatal(err)
		}
	}
	tx, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	appendRows(tx, 5)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	open, err := db.Begin(ctx) // a writer in the middle of its work
	if err != nil {
		t.Fatal(err)
	}
	appendRows(open, 3)
	out := filepath.Join(dir, "copy.db")
	if err := db.BackupTo(ctx, out); err != nil {
		t.Fatal(err)
	}
	open.Commit()
	if err := db.BackupTo(ctx, out); sc.ErrorCode(err) != sc.EConflict {
		t.Fatalf("an existing file: %v", err)
	}
	if st, err := os.Stat(out); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("the copy's mode: %v %v (it holds personal data)", st.Mode(), err)
	}
	// A .part left by another backup is not clobbered; odd characters in the path work.
	odd := filepath.Join(dir, "we#ird?%41.db")
	os.WriteFile(odd+".part", []byte("x"), 0o600)
	if err := db.BackupTo(ctx, odd); sc.ErrorCode(err) != sc.EConflict {
		t.Fatalf("a .part in the way: %v", err)
	}
	os.Remove(odd + ".part")
	if err := db.BackupTo(ctx, odd); err != nil {
		t.Fatalf("a path with #, ? and %%: %v", err)
	}
	plain := filepath.Join(dir, "plain.db") // --db cannot name a path with '?'
	if err := os.Rename(odd, plain); err != nil {
		t.Fatal(err)
	}
	if o, err := store.Open(ctx, "sqlite:"+plain); err != nil {
		t.Fatal(err)
	} else if n, err := o.VerifyAudit(ctx, func(store.AuditProblem) {}); err != nil || n != 8+migrationRows(t, db) {
		t.Fatalf("the odd path's copy: %d rows, %v", n, err)
	} else {
		o.Close()
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 5 { // live.db, its -wal and -shm, copy.db, plain.db: no .part, no stray file
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Fatalf("files: %v", names)
	}
	cp, err := store.Open(ctx, "sqlite:"+out)
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	n, err := cp.VerifyAudit(ctx, func(p store.AuditProblem) { t.Errorf("copy's audit: %+v", p) })
	if err != nil || n != 5+migrationRows(t, db) {
		t.Fatalf("the copy holds %d audit rows (%v), want the migrations' and the 5 committed", n, err)
	}
	if pg := storetest.DSNs(t); len(pg) > 1 {
		if err := pg[1].Open(t).BackupTo(ctx, filepath.Join(dir, "pg.db")); err == nil || !strings.Contains(err.Error(), "pg_dump") {
			t.Fatalf("PostgreSQL: %v", err)
		}
	}
}
