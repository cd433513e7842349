package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
)

// TestOneWriter: a database has one writer of people's states at a time. A second handle
// (another process) is refused, naming the holder; the holder may claim again; once it
// closes, the other may claim.
func TestOneWriter(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct{ name, url string }{
		{"sqlite", "sqlite:" + filepath.Join(t.TempDir(), "w.db")},
		{"postgres", storetest.PostgresDSN(t)},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, b := storetest.Open(t, c.url), storetest.Open(t, c.url)
			if err := a.ClaimWriter(ctx); err != nil {
				t.Fatal(err)
			}
			if err := a.ClaimWriter(ctx); err != nil {
				t.Fatalf("the holder's second claim: %v", err)
			}
			err := b.ClaimWriter(ctx)
			if sc.ErrorCode(err) != sc.EConflict || !strings.Contains(err.Error(), "in use by") {
				t.Fatalf("a second writer: %v", err)
			}
			if want := fmt.Sprintf("pid %d", os.Getpid()); !strings.Contains(err.Error(), want) {
				t.Errorf("the refusal does not name the holder (%s): %v", want, err)
			}
			// Reading is never refused.
			if _, err := b.PersonByID(ctx, "110101194001010015"); sc.ErrorCode(err) != sc.ENotFound {
				t.Errorf("a read beside the writer: %v", err)
			}
			a.Close()
			if err := b.ClaimWriter(ctx); err != nil {
				t.Fatalf("after the holder closed: %v", err)
			}
		})
	}
}

// TestWriterClaimLost: on PostgreSQL the claim lives in one session; when that session ends
// under the process (an administrator's pg_terminate_backend, a server restart), another
// process may claim the database, and the first one's next write transaction is refused
// instead of making two writers.
func TestWriterClaimLost(t *testing.T) {
	ctx := context.Background()
	url := storetest.PostgresDSN(t)
	a, b := storetest.Open(t, url), storetest.Open(t, url)
	if err := a.ClaimWriter(ctx); err != nil {
		t.Fatal(err)
	}
	if a.ClaimLost() != nil {
		t.Fatal("a claim held reads as lost")
	}
	if _, err := b.SQL().Exec(`SELECT pg_terminate_backend(pid, 5000) FROM pg_locks WHERE locktype = 'advisory' AND granted
		AND classid = 7341003 AND objid = hashtext(current_schema())::oid AND objsubid = 2`); err != nil {
		t.Fatal(err)
	}
	if err := b.ClaimWriter(ctx); err != nil {
		t.Fatalf("the claim of a session that ended: %v", err)
	}
	// Unavailable (503 to the API and the console): the process is to be restarted.
	if tx, err := a.Begin(ctx); err == nil || !strings.Contains(err.Error(), "lost") || sc.ErrorCode(err) != sc.EUnavailable {
		if tx != nil {
			tx.Rollback()
		}
		t.Fatalf("a write after the claim was lost: %v", err)
	}
	// Said, for serve's readiness and exit (it stayed "ready" for ever, writing nothing).
	if err := a.ClaimLost(); err == nil || !strings.Contains(err.Error(), "lost") {
		t.Errorf("ClaimLost after the loss: %v", err)
	}
}

// TestWriterClaimLostInTransaction: the claim's session ends while the process is in a
// write transaction, and another process claims the database meanwhile: the other waits
// for that transaction, which finds the claim gone at its COMMIT and rolls back, so the
// new writer never reads a state the old one then overwrites.
func TestWriterClaimLostInTransaction(t *testing.T) {
	ctx := context.Background()
	url := storetest.PostgresDSN(t)
	a, b := storetest.Open(t, url), storetest.Open(t, url)
	if err := a.ClaimWriter(ctx); err != nil {
		t.Fatal(err)
	}
	tx, err := a.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if err := tx.Exec(`INSERT INTO meta (key, value) VALUES ('probe', 'a')`); err != nil {
		t.Fatal(err)
	}
	if _, err := b.SQL().Exec(`SELECT pg_terminate_backend(pid, 5000) FROM pg_locks WHERE locktype = 'advisory' AND granted
		AND classid = 7341003 AND objid = hashtext(current_schema())::oid AND objsubid = 2`); err != nil {
		t.Fatal(err)
	}
	claimed := make(chan error, 1)
	go func() { claimed <- b.ClaimWriter(ctx) }()
	select {
	case err := <-claimed:
		t.Fatalf("the new writer did not wait for the old one's transaction: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	if err := tx.Commit(); err == nil || !strings.Contains(err.Error(), "lost") {
		t.Fatalf("a commit after the claim was lost: %v", err)
	}
	if a.ClaimLost() == nil {
		t.Error("ClaimLost after a commit refused for the loss: nil")
	}
	if err := <-claimed; err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := b.Meta(ctx, "probe"); ok {
		t.Error("the lost writer's transaction was stored")
	}
}

// TestWriterClaimOutlivesIdleTimeout: a server that ends idle sessions (idle_session_timeout)
// does not end the claim's, idle between two write transactions.
func TestWriterClaimOutlivesIdleTimeout(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t, storetest.PostgresDSN(t)+"&idle_session_timeout=300")
	if err := db.ClaimWriter(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // past the timeout
	tx, err := db.Begin(ctx)
	if err != nil {
		t.Fatalf("a write after the claim's session sat idle: %v", err)
	}
	tx.Rollback()
}

// TestClaimKeepalive: the session holding a PostgreSQL claim has the server probe its TCP
// connection after a minute idle, so that a host that died holding it frees it in minutes.
func TestClaimKeepalive(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t, storetest.PostgresDSN(t))
	if err := db.ClaimWriter(ctx); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"tcp_keepalives_idle": "60", "tcp_keepalives_interval": "10", "tcp_keepalives_count": "6"} {
		if got, err := db.WriterSetting(ctx, name); err != nil || got != want {
			t.Errorf("%s: %q %v, want %q", name, got, err, want)
		}
	}
}

// TestClaimWhileOwnTransactionOpen: a handle that claims the database while one of its own
// transactions is open waits for it, and that transaction still commits (the claim waited
// holding the lock its COMMIT reads: neither ever ended).
func TestClaimWhileOwnTransactionOpen(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t, storetest.PostgresDSN(t))
	tx, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	claimed := make(chan error, 1)
	go func() { claimed <- db.ClaimWriter(ctx) }()
	time.Sleep(200 * time.Millisecond) // the claim is waiting for tx
	committed := make(chan error, 1)
	go func() { committed <- tx.Commit() }()
	for _, c := range []chan error{committed, claimed} {
		select {
		case err := <-c:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("the claim and the transaction wait for each other")
		}
	}
}

// TestCloseDuringClaim: a handle closed while its claim waits for a write transaction lets
// the claim go once it is granted: another process may claim the database after.
func TestCloseDuringClaim(t *testing.T) {
	ctx := context.Background()
	url := storetest.PostgresDSN(t)
	a, other, b := storetest.Open(t, url), storetest.Open(t, url), storetest.Open(t, url)
	tx, err := other.Begin(ctx) // a write transaction the claim waits for
	if err != nil {
		t.Fatal(err)
	}
	claimed := make(chan error, 1)
	go func() { claimed <- a.ClaimWriter(ctx) }()
	time.Sleep(200 * time.Millisecond)
	closed := make(chan error, 1)
	go func() { closed <- a.Close() }()
	time.Sleep(100 * time.Millisecond)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-claimed; err == nil {
		t.Error("a claim on a closed handle succeeded")
	}
	<-closed
	if err := b.ClaimWriter(ctx); err != nil {
		t.Fatalf("the claim of a closed handle is still held: %v", err)
	}
}

// TestWriterHolderOfItsDatabase: one PostgreSQL server holds a database per city, each
// with its public schema; the refusal names the process that holds this database, not
// another city's (the holder's lookup did not filter by database).
func TestWriterHolderOfItsDatabase(t *testing.T) {
	ctx := context.Background()
	base := storetest.PostgresDSN(t) // skips (or fails under CI) without PostgreSQL
	base, _, _ = strings.Cut(base, "?")
	admin := storetest.Session(t, base+"?sslmode=disable")
	dsn := map[string]string{}
	for _, n := range []string{"a", "b"} {
		name := fmt.Sprintf("tclaim_%s_%d_%d", n, os.Getpid(), time.Now().UnixNano())
		if _, err := admin.Exec(`CREATE DATABASE ` + name); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { admin.Exec(`DROP DATABASE ` + name + ` WITH (FORCE)`) })
		i := strings.LastIndex(base, "/")
		dsn[n] = base[:i+1] + name + "?sslmode=disable"
	}
	a, b, b2 := storetest.Open(t, dsn["a"]), storetest.Open(t, dsn["b"]), storetest.Open(t, dsn["b"])
	if err := a.ClaimWriter(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.ClaimWriter(ctx); err != nil {
		t.Fatal(err)
	}
	var holder int64
	if err := b.Reader().QueryRowContext(ctx, `SELECT l.pid FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted
		AND l.classid = 7341003 AND l.objsubid = 2 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&holder); err != nil {
		t.Fatal(err)
	}
	err := b2.ClaimWriter(ctx)
	if want := fmt.Sprintf("server pid %d,", holder); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("the refusal does not name this database's holder (%s): %v", want, err)
	}
}

// TestReadCommitted: a write transaction on PostgreSQL reads committed data whatever the
// database's default isolation (under REPEATABLE READ writers beside serve read a stale
// audit head after waiting their turn, and failed on duplicate keys).
func TestReadCommitted(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t, storetest.PostgresDSN(t)+"&default_transaction_isolation=repeatable%20read")
	var def string
	if err := db.Reader().QueryRowContext(ctx, `SHOW default_transaction_isolation`).Scan(&def); err != nil || def != "repeatable read" {
		t.Fatalf("the session's default: %q %v", def, err)
	}
	tx, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	var got string
	if err := tx.QueryRow(`SHOW transaction_isolation`).Scan(&got); err != nil || got != "read committed" {
		t.Errorf("a write transaction's isolation: %q %v", got, err)
	}
}

// TestMigrateTogether: processes that open a new PostgreSQL database at the same moment
// (two serve replicas, a migrate job beside serve) all migrate it, one after the other
// (the table of migrations was made before the lock: one in three failed).
func TestMigrateTogether(t *testing.T) {
	for range 3 {
		url := storetest.PostgresDSN(t)
		errs := make(chan error, 4)
		for range 4 {
			go func() {
				db, err := store.Open(context.Background(), url)
				if err == nil {
					db.Close()
				}
				errs <- err
			}()
		}
		for range 4 {
			if err := <-errs; err != nil {
				t.Error(err)
			}
		}
	}
}
