package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
)

// TestReadsBesideWaitingWriters: while a write transaction (a long batch, a payroll day)
// holds the writers' turn, more staff writes than the writers' pool has connections wait
// for it, and the reads outside a transaction, the readiness check's ping and, on
// PostgreSQL, a short write outside a transaction (the notices' outbox) still answer. On
// PostgreSQL readers and writers shared one pool of 8 and each waiting writer held one of
// it: seven exports during a batch made every page wait, and /readyz answer 503.
func TestReadsBesideWaitingWriters(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			ctx := context.Background()
			db := dsn.Open(t)
			base := auditRows(t, db)                    // the migrations'
			if err := db.ClaimWriter(ctx); err != nil { // as serve does: on PostgreSQL a session of the writers' pool
				t.Fatal(err)
			}
			batch, err := db.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer batch.Rollback()
			if err := batch.Append([]store.AuditRow{{Kind: "batch", Day: sc.MustDate("2024-05-10"), At: "2024-05-10T00:00:00Z",
				Actor: "api:HEA#1", PID: -1, Action: "applied"}}); err != nil {
				t.Fatal(err)
			}
			n := db.SQL().Stats().MaxOpenConnections + 4
			done := make(chan error, n)
			for i := range n {
				go func() {
					tx, err := db.Begin(ctx)
					if err != nil {
						done <- err
						return
					}
					defer tx.Rollback()
					if err := tx.Append([]store.AuditRow{staffRow("staff" + string(rune('a'+i)))}); err != nil {
						done <- err
						return
					}
					done <- tx.Commit()
				}()
			}
			time.Sleep(300 * time.Millisecond) // for them to reach their wait (the assertions hold either way)
			// Bounded as /readyz bounds its ping (2 s), with room for a loaded machine: a
			// reader that waits behind the writers waits as long as the batch does.
			rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			if err := db.Reader().PingContext(rctx); err != nil {
				t.Fatalf("the readiness check's ping while writers wait: %v", err)
			}
			if _, _, err := db.Meta(rctx, "audit_head"); err != nil {
				t.Fatalf("a read while writers wait: %v", err)
			}
			if _, err := db.Trail(rctx, store.TrailQuery{Limit: 10}); err != nil {
				t.Fatalf("the audit trail's page while writers wait: %v", err)
			}
			if db.Dialect() == store.Postgres {
				if _, err := db.SQL().ExecContext(rctx, `UPDATE meta SET value = value WHERE key = 'no such key'`); err != nil {
					t.Fatalf("a write outside a transaction while writers wait: %v", err)
				}
			}
			select {
			case err := <-done:
				t.Fatalf("a writer went in beside the batch: %v", err)
			default:
			}
			if err := batch.Commit(); err != nil {
				t.Fatal(err)
			}
			for range n {
				if err := <-done; err != nil {
					t.Fatalf("a waiting writer, after the batch: %v", err)
				}
			}
			rows, err := db.VerifyAudit(ctx, func(p store.AuditProblem) { t.Errorf("audit: %+v", p) })
			if err != nil || rows != base+int64(n+1) {
				t.Fatalf("audit verify: %d rows, %v", rows, err)
			}
		})
	}
}

// TestReadsBesideFullWriterPool: on PostgreSQL the reads have a pool of their own. Every
// connection of the writers' pool taken, a read and the readiness check's ping answer.
func TestReadsBesideFullWriterPool(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t, storetest.PostgresDSN(t))
	n := db.SQL().Stats().MaxOpenConnections
	if n <= 0 || n > 64 {
		t.Fatalf("the writers' pool has %d connections: want a bound", n)
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for range n {
		c, err := db.SQL().Conn(cctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := db.Reader().PingContext(rctx); err != nil {
		t.Fatalf("the readiness check's ping with the writers' pool taken: %v", err)
	}
	if _, err := db.Counters(rctx); err != nil {
		t.Fatalf("a read with the writers' pool taken: %v", err)
	}
}

// TestReaderReadOnly: the readers' pool refuses writes on PostgreSQL as it does on SQLite,
// so that nothing writes beside the writers' turns and the writer's claim.
func TestReaderReadOnly(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			db := dsn.Open(t)
			if _, err := db.Reader().Exec(`INSERT INTO meta (key, value) VALUES ('reader', 'wrote')`); err == nil {
				t.Fatal("a write through the readers' pool was taken")
			}
		})
	}
}

// TestBeginWithinBusy: a staff action's write waits for a batch's transaction at most the
// time it is given, then is refused busy (sc.EBusy) having done nothing, whether the
// batch is this process's (the writers' turn) or, on PostgreSQL, another's (the writers'
// advisory lock); once the batch commits, it goes in, chained after the batch's rows.
func TestBeginWithinBusy(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			ctx := context.Background()
			var a, b *store.DB // b: another process on the same database
			if dsn.Name == "postgres" {
				url := storetest.PostgresDSN(t)
				a, b = storetest.Open(t, url), storetest.Open(t, url)
			} else {
				a = dsn.Open(t)
			}
			base := auditRows(t, a) // the migrations'
			batch, err := a.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer batch.Rollback()
			if err := batch.Append([]store.AuditRow{{Kind: "run", Day: sc.MustDate("2024-05-10"), At: "2024-05-10T00:00:00Z",
				Actor: "system", PID: -1, Action: "day"}}); err != nil {
				t.Fatal(err)
			}
			busy := func(db *store.DB, who string) {
				t.Helper()
				// The context's bound only keeps a test that fails from hanging.
				bctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				defer cancel()
				tx, err := db.BeginWithin(bctx, 50*time.Millisecond)
				if err == nil {
					tx.Rollback()
					t.Fatalf("%s: a staff write went in beside the batch", who)
				}
				if sc.ErrorCode(err) != sc.EBusy || !strings.Contains(err.Error(), "try again") {
					t.Fatalf("%s: %v (%s), want busy", who, err, sc.ErrorCode(err))
				}
			}
			busy(a, "this process")
			if b != nil {
				busy(b, "another process")
			}
			if err := batch.Commit(); err != nil {
				t.Fatal(err)
			}
			for _, db := range []*store.DB{a, b} {
				if db == nil {
					continue
				}
				tx, err := db.BeginWithin(ctx, 10*time.Second)
				if err != nil {
					t.Fatalf("after the batch: %v", err)
				}
				if db.Dialect() == store.Postgres {
					// The bound was the lock's alone: the transaction's own statements wait
					// as any other's do.
					var lt string
					if err := tx.QueryRow(`SELECT current_setting('lock_timeout')`).Scan(&lt); err != nil || lt != "0" {
						t.Fatalf("lock_timeout in the transaction: %q %v", lt, err)
					}
				}
				if err := tx.Append([]store.AuditRow{staffRow("operator")}); err != nil {
					t.Fatal(err)
				}
				if err := tx.Commit(); err != nil {
					t.Fatal(err)
				}
			}
			rows, err := a.VerifyAudit(ctx, func(p store.AuditProblem) { t.Errorf("audit: %+v", p) })
			if want := base + map[bool]int64{false: 2, true: 3}[b != nil]; err != nil || rows != want {
				t.Fatalf("audit verify: %d rows (want %d), %v", rows, want, err)
			}
		})
	}
}

// TestPostgresDSNRefused: a PostgreSQL DSN that cannot be read is refused at once (the two
// pools parse it first), saying why, with no password in the message.
func TestPostgresDSNRefused(t *testing.T) {
	for _, dsn := range []string{"postgres://u:hunter2@127.0.0.1:99999/db", "postgres://u@127.0.0.1/db?password=hunter2&sslmode=bogus"} {
		db, err := store.Open(context.Background(), dsn)
		if err == nil {
			db.Close()
			t.Fatalf("%s: opened", dsn)
		}
		if sc.ErrorCode(err) != sc.EInvalid || strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "127.0.0.1") {
			t.Errorf("%s: %v", dsn, err)
		}
	}
}

// auditRows counts the rows of db's audit trail.
func auditRows(t *testing.T, db *store.DB) (n int64) {
	t.Helper()
	if err := db.SQL().QueryRow(`SELECT count(*) FROM audit`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
