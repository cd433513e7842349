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
