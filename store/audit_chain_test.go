package store_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
)

// The audit trail against someone who can write the database: rows cut off the end, a
// trail rewritten with its hashes computed again, a trail wiped; and the migrations'
// own rows. On SQLite and PostgreSQL.

func TestAuditTampering(t *testing.T) {
	for _, tc := range []struct {
		name string
		test func(t *testing.T, db *store.DB)
	}{
		{"rows cut off the end refuse the next write", testAuditCut},
		{"a head without its rows, rows without a head", testAuditHeadless},
		{"a rewrite caught by an anchor", testAuditAnchors},
		{"a wiped trail", testAuditWiped},
		{"each row keeps its region", testAuditRegion},
	} {
		for _, dsn := range storetest.DSNs(t) {
			t.Run(tc.name+"/"+dsn.Name, func(t *testing.T) { tc.test(t, dsn.Open(t)) })
		}
	}
}

// appendAudit commits n rows of kind in one transaction and returns the head after it.
func appendAudit(t testing.TB, db *store.DB, kind string, n int) store.AuditAnchor {
	t.Helper()
	head, err := tryAppend(db, kind, n)
	if err != nil {
		t.Fatal(err)
	}
	return head
}

func tryAppend(db *store.DB, kind string, n int) (store.AuditAnchor, error) {
	tx, err := db.Begin(context.Background())
	if err != nil {
		return store.AuditAnchor{}, err
	}
	defer tx.Rollback()
	rows := make([]store.AuditRow, n)
	for i := range rows {
		rows[i] = store.AuditRow{Kind: kind, Day: sc.MustDate("2024-10-04"), At: "2024-10-04T01:02:03Z", Actor: "admin", PID: -1,
			Action: "ok", Detail: "i=" + strconv.Itoa(i)}
	}
	if err := tx.Append(rows); err != nil {
		return store.AuditAnchor{}, err
	}
	head, ok := tx.AuditHead()
	if !ok {
		return store.AuditAnchor{}, errors.New("no head after an append")
	}
	return head, tx.Commit()
}

// problems verifies the trail against anchors and returns its problems, one a line.
func problems(t testing.TB, db *store.DB, anchors ...store.AuditAnchor) string {
	t.Helper()
	var got []string
	if _, err := db.VerifyAuditAgainst(context.Background(), anchors, func(p store.AuditProblem) {
		got = append(got, fmt.Sprintf("%d %s", p.Seq, p.Reason))
	}); err != nil {
		t.Fatal(err)
	}
	return strings.Join(got, "\n")
}

func lastSeq(t testing.TB, db *store.DB) int64 {
	t.Helper()
	var n int64
	if err := db.Reader().QueryRow(`SELECT max(seq) FROM audit`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// testAuditCut: the auditor's finding. Rows deleted off the end beside a running service
// (a batch, a TERMINATED decision) were hidden by the next write, which chained on from
// the last row left, took the deleted rows' numbers and moved the head: verify then passed.
// Now the write is refused, naming the mismatch, and nothing takes a deleted number.
func testAuditCut(t *testing.T, db *store.DB) {
	ctx := context.Background()
	appendAudit(t, db, "batch", 3)
	head := appendAudit(t, db, "decision", 5)
	sqlDB := db.SQL()
	mustExec(t, sqlDB, `DELETE FROM audit WHERE seq > `+strconv.FormatInt(head.Seq-5, 10))

	tx, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	err = tx.Append([]store.AuditRow{{Kind: "login", Actor: "guo.ming", PID: -1, Action: "ok"}})
	tx.Rollback()
	if !errors.Is(err, store.ErrAuditBroken) || !strings.Contains(err.Error(), "the head in meta is "+head.String()) {
		t.Fatalf("a write after rows were cut off the end: %v, want ErrAuditBroken naming the head", err)
	}
	if db.AuditBroken() == nil {
		t.Error("AuditBroken is nil after a refused write (serve's readiness reads it)")
	}
	if got := lastSeq(t, db); got != head.Seq-5 {
		t.Fatalf("the trail ends at %d, want %d: a number of a deleted row was taken", got, head.Seq-5)
	}
	if p := problems(t, db); !strings.Contains(p, "head is \""+head.String()+"\"") {
		t.Fatalf("verify: %q", p)
	}
	if _, err := db.CheckAuditHead(ctx); !errors.Is(err, store.ErrAuditBroken) {
		t.Fatalf("CheckAuditHead on a cut trail: %v", err)
	}
	// Rows added past the head, or a head moved back, are refused alike.
	mustExec(t, sqlDB, db.Rebind(`UPDATE meta SET value = '1:`+strings.Repeat("00", 32)+`' WHERE key = 'audit_head'`))
	if _, err := db.CheckAuditHead(ctx); !errors.Is(err, store.ErrAuditBroken) {
		t.Fatalf("a head behind the last row: %v", err)
	}
	// Once the trail is whole again (restored: here its head put back on its last row),
	// writes go on from it.
	if err := store.Rechain(ctx, db, head.Seq-4); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CheckAuditHead(ctx); err != nil || db.AuditBroken() != nil {
		t.Fatalf("a whole trail: %v, %v", err, db.AuditBroken())
	}
	if h := appendAudit(t, db, "login", 1); h.Seq != head.Seq-4 {
		t.Fatalf("the next row is %d, want %d", h.Seq, head.Seq-4)
	}
}

// testAuditHeadless: rows without a head in meta refuse a write and fail verify; so does
// a head naming rows the trail does not have.
func testAuditHeadless(t *testing.T, db *store.DB) {
	appendAudit(t, db, "login", 2)
	mustExec(t, db.SQL(), `DELETE FROM meta WHERE key = 'audit_head'`)
	tx, err := db.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	err = tx.Append([]store.AuditRow{{Kind: "login", PID: -1}})
	tx.Rollback()
	if !errors.Is(err, store.ErrAuditBroken) || !strings.Contains(err.Error(), "no head in meta") {
		t.Fatalf("rows without a head: %v", err)
	}
	if p := problems(t, db); !strings.Contains(p, "no head in meta") {
		t.Fatalf("verify of rows without a head: %q", p)
	}
}

// testAuditAnchors: a refund's amount rewritten and a death date edited, every hash after
// them computed again and the head moved: the chain alone calls it intact, an anchor taken
// before (the daily run's log, the payroll's papers) does not, naming itself; so does a
// trail cut back to before an anchor with its head moved back. Anchors of an untouched
// trail pass.
func testAuditAnchors(t *testing.T, db *store.DB) {
	ctx := context.Background()
	tx, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Append([]store.AuditRow{
		{Kind: "payment", Day: 20000, Actor: "admin", PID: 7, PersonID: "A", Action: "refund", Detail: "amount=12840.90"},
		{Kind: "decision", Day: 20000, Actor: "engine", PID: 7, PersonID: "A", Action: "TERMINATED", Detail: "death_date=2024-05-02"},
	}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	early := appendAudit(t, db, "run", 1)
	anchor := appendAudit(t, db, "payroll", 2)
	appendAudit(t, db, "login", 3)
	if p := problems(t, db, early, anchor); p != "" {
		t.Fatalf("an untouched trail against its anchors: %q", p)
	}
	var refund int64
	if err := db.Reader().QueryRow(`SELECT seq FROM audit WHERE action = 'refund'`).Scan(&refund); err != nil {
		t.Fatal(err)
	}
	mustExec(t, db.SQL(), `UPDATE audit SET detail = 'amount=1.00' WHERE action = 'refund'`)
	mustExec(t, db.SQL(), `UPDATE audit SET detail = 'death_date=2024-09-02' WHERE action = 'TERMINATED'`)
	if err := store.Rechain(ctx, db, refund); err != nil {
		t.Fatal(err)
	}
	if p := problems(t, db); p != "" {
		t.Fatalf("the rewrite should pass the chain alone (it has no secret): %q", p)
	}
	p := problems(t, db, anchor)
	if !strings.Contains(p, fmt.Sprintf("%d its hash is not the anchor's %s", anchor.Seq, anchor)) {
		t.Fatalf("a rewrite before an anchor: %q", p)
	}
	// Cut back to before the anchor, the head moved back with it.
	mustExec(t, db.SQL(), `DELETE FROM audit WHERE seq >= `+strconv.FormatInt(anchor.Seq-1, 10))
	if err := store.Rechain(ctx, db, anchor.Seq-2); err != nil {
		t.Fatal(err)
	}
	if p := problems(t, db); p != "" {
		t.Fatalf("a cut with its head moved back should pass the chain alone: %q", p)
	}
	if p := problems(t, db, anchor); !strings.Contains(p, "the anchor "+anchor.String()+" names a row the trail does not have") {
		t.Fatalf("a cut past an anchor: %q", p)
	}
}

// testAuditWiped: the trail deleted whole with its head and the recovery ledger, on a
// database that still holds people and batches: verify called it "intact: 0 rows". Now it
// is a problem, as is any migration applied without its row; and the next write refuses
// to start a new chain over it.
func testAuditWiped(t *testing.T, db *store.DB) {
	ctx := context.Background()
	tx, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	p := &store.Person{PID: 1, Rec: sc.Recipient{PersonID: "110101194001010012", Name: "张三", Sex: 1, BirthDate: 100,
		RegionCode: "371002001001", LastCertified: sc.NoDate}, NextCheck: sc.NoDate, State: []byte{1}}
	if err := tx.PutPeople([]*store.Person{p}); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.NewBatch(&store.Batch{Origin: "file", Status: "applied", Files: "x", Report: "{}"}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Append([]store.AuditRow{{Kind: "roster", Actor: "admin", PID: -1, Action: "import"}}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`DELETE FROM audit`, `DELETE FROM recovery_entries`, `DELETE FROM meta WHERE key = 'audit_head'`} {
		mustExec(t, db.SQL(), q)
	}
	got := problems(t, db)
	if !strings.Contains(got, "the trail is empty but the database holds people, batches") || !strings.Contains(got, "migrations 0001, 0002") {
		t.Fatalf("verify of a wiped trail: %q", got)
	}
	tx, err = db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	err = tx.Append([]store.AuditRow{{Kind: "login", PID: -1}})
	tx.Rollback()
	if !errors.Is(err, store.ErrAuditBroken) {
		t.Fatalf("a write over a wiped trail: %v", err)
	}
}

// TestAppendTogether: writers of several handles (serve and a command beside it) and
// goroutines append at once: every row gets its own number, the chain and its head verify.
func TestAppendTogether(t *testing.T) {
	for _, dsn := range []struct{ name, dsn string }{
		{"sqlite", "sqlite:" + filepath.Join(t.TempDir(), "t.db")},
		{"postgres", storetest.PostgresDSN(t)},
	} {
		t.Run(dsn.name, func(t *testing.T) {
			a := storetest.Open(t, dsn.dsn)
			b := storetest.Open(t, dsn.dsn)
			before := lastSeq(t, a)
			var wg sync.WaitGroup
			const writers, each = 4, 25
			for w := 0; w < writers; w++ {
				db := []*store.DB{a, b}[w%2]
				wg.Go(func() {
					for range each {
						if _, err := tryAppend(db, "login", 2); err != nil {
							t.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			if got := lastSeq(t, a); got != before+writers*each*2 {
				t.Fatalf("the trail ends at %d, want %d", got, before+writers*each*2)
			}
			if p := problems(t, b); p != "" {
				t.Fatalf("verify: %q", p)
			}
		})
	}
}

// testAuditRegion: a row keeps the region it was written in (its person's then), in its
// hash; a scoped trail reads it there after the person moved, and the new region reads
// the person's rows as its own.
func testAuditRegion(t *testing.T, db *store.DB) {
	ctx := context.Background()
	write := func(f func(tx *store.Tx) error) {
		t.Helper()
		tx, err := db.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if err := f(tx); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	p := &store.Person{PID: 1, Rec: sc.Recipient{PersonID: "110101194001010012", Name: "张三", Sex: 1, BirthDate: sc.MustDate("1940-01-01"),
		RegionCode: "371002001001", LastCertified: sc.NoDate}, NextCheck: sc.NoDate, State: []byte{1}}
	row := store.AuditRow{Kind: "visit", Day: sc.MustDate("2024-10-04"), At: "2024-10-04T01:02:03Z", Actor: "v1", PID: 1,
		PersonID: p.Rec.PersonID, Action: "visit"}
	write(func(tx *store.Tx) error {
		if err := tx.PutPeople([]*store.Person{p}); err != nil {
			return err
		}
		return tx.Append([]store.AuditRow{row})
	})
	write(func(tx *store.Tx) error {
		if err := tx.SetRegion(1, "371082001001"); err != nil {
			return err
		}
		return tx.Append([]store.AuditRow{row, {Kind: "review", Actor: "v9", PID: 1, Action: "x", Region: "371083001001"}})
	})
	trail := func(region string) (regions []string) {
		t.Helper()
		rows, err := db.Trail(ctx, store.TrailQuery{From: sc.NoDate, To: sc.NoDate, Region: region})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if r.Kind != "migration" {
				regions = append(regions, r.Region)
			}
		}
		return regions
	}
	if got := fmt.Sprint(trail("")); got != "[371083001001 371082001001 371002001001]" {
		t.Fatalf("the rows' regions (newest first): %s: the store's then, or the writer's", got)
	}
	if got := fmt.Sprint(trail("371002")); got != "[371002001001]" {
		t.Errorf("the old county's trail after the move: %s, want the row written there", got)
	}
	if got := fmt.Sprint(trail("371082")); got != "[371083001001 371082001001 371002001001]" {
		t.Errorf("the new county's trail: %s, want every row about its person", got)
	}
	if p := problems(t, db); p != "" {
		t.Fatalf("verify: %s", p)
	}
	// The region is in the hash: moved to another region, or cleared, it is a change.
	first := lastSeq(t, db) - 2
	for _, q := range []string{`UPDATE audit SET region = '371082001001' WHERE seq = `, `UPDATE audit SET region = '' WHERE seq = `} {
		mustExec(t, db.SQL(), q+strconv.FormatInt(first, 10))
		if p := problems(t, db); !strings.Contains(p, strconv.FormatInt(first, 10)+" its content does not match its hash") {
			t.Errorf("%s: verify: %q", q, p)
		}
	}
}

// A database an older binary left at 0033 whose trail is broken: audit verify opens it
// without migrating (ErrAuditBroken) and must name the break.
func TestVerifyUnmigrated(t *testing.T) {
	ctx := context.Background()
	for _, u := range storetest.URLs(t) {
		t.Run(u.Name, func(t *testing.T) {
			dsn := u.DSN(t)
			old, err := store.OpenNoMigrate(dsn)
			if err != nil {
				t.Fatal(err)
			}
			if err := old.MigrateTo(ctx, 33); err != nil {
				t.Fatal(err)
			}
			mustExec(t, old.SQL(), `DELETE FROM audit WHERE seq = (SELECT max(seq) FROM audit)`)
			old.Close()
			if db, err := store.Open(ctx, dsn); err == nil {
				db.Close()
				t.Fatal("the upgrade migrated over a cut trail")
			}
			db, err := store.OpenNoMigrate(dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var got []string
			_, err = db.VerifyAudit(ctx, func(p store.AuditProblem) { got = append(got, p.Reason) })
			if err != nil || len(got) == 0 {
				t.Errorf("verify of a 0033 database with its last row cut: %v, problems %q; want the break named", err, got)
			}
		})
	}
}
