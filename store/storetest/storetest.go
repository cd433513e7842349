// Package storetest opens real databases for tests: a SQLite file in a temporary
// directory and a fresh schema in the test PostgreSQL. Only tests import it.
package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/silentcert/silentcert/store"
)

// DSN is one database a test can open afresh.
type DSN struct {
	Name string
	Open func(t testing.TB) *store.DB
}

// DSNs returns the databases every storage test runs against: a SQLite file in a
// temporary directory, and a fresh schema in the PostgreSQL database named by
// SILENTCERT_TEST_POSTGRES (default postgres://127.0.0.1:5432/test). PostgreSQL that
// cannot be reached is skipped, except under CI=true where it fails the test.
func DSNs(t testing.TB) []DSN {
	var out []DSN
	for _, u := range URLs(t) {
		out = append(out, DSN{u.Name, func(t testing.TB) *store.DB { return Open(t, u.DSN(t)) }})
	}
	return out
}

// URL is one of DSNs' databases by its DSN, made in the (sub)test that asks for it, for a
// test that opens the database itself: without migrations (a database an older binary
// left), or again after closing it.
type URL struct {
	Name string
	DSN  func(t testing.TB) string
}

// URLs returns DSNs' databases as URLs; PostgreSQL's skips (or, under CI=true, fails) only
// the test that asks for it.
func URLs(t testing.TB) []URL {
	return []URL{
		{"sqlite", func(t testing.TB) string { return "sqlite:" + filepath.Join(t.TempDir(), "test.db") }},
		{"postgres", PostgresDSN},
	}
}

// PostgresDSN creates a fresh schema for one test and returns a DSN that uses it; the
// schema is dropped when the test ends.
func PostgresDSN(t testing.TB) string {
	base := os.Getenv("SILENTCERT_TEST_POSTGRES")
	if base == "" {
		base = "postgres://root@127.0.0.1:5432/test?sslmode=disable"
	}
	admin, err := sql.Open("pgx", base)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = admin.PingContext(ctx)
		cancel()
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL at %s is required under CI=true: %v", base, err)
		}
		t.Skipf("PostgreSQL not reachable (%v); set CI=true to make this a failure", err)
	}
	schema := fmt.Sprintf("t_%d_%d_%d", time.Now().UnixNano(), os.Getpid(), seq.Add(1))
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
		admin.Close()
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema
}

func Open(t testing.TB, dsn string) *store.DB {
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

var seq atomic.Int64

// Session returns a plain connection pool on the PostgreSQL schema dsn names, beside the
// store's: for a test that acts on the server as an administrator would (ending the
// session of a transaction). It is closed when the test ends.
func Session(t testing.TB, dsn string) *sql.DB {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
