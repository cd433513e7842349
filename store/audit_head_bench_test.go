package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkChainHead: what a write transaction reads before its first audit row, on a
// trail of 10,000 rows: the head and the last row (chainHead), against the last row
// alone, as before the head was checked, and nothing (the transaction's begin and
// rollback, in all three).
func BenchmarkChainHead(b *testing.B) {
	ctx := context.Background()
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			var db *DB
			var err error
			if name == "sqlite" {
				db, err = Open(ctx, "sqlite:"+filepath.Join(b.TempDir(), "h.db"))
			} else {
				db, err = Open(ctx, postgresBenchDSN(b))
			}
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			tx, err := db.Begin(ctx)
			if err != nil {
				b.Fatal(err)
			}
			rows := make([]AuditRow, 10000)
			for i := range rows {
				rows[i] = AuditRow{Kind: "login", Actor: "admin", PID: -1, Action: "ok"}
			}
			if err := tx.Append(rows); err != nil {
				b.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
			read := func(b *testing.B, head func(tx *Tx) error) {
				for b.Loop() {
					tx, err := db.Begin(ctx)
					if err != nil {
						b.Fatal(err)
					}
					err = head(tx)
					tx.Rollback()
					if err != nil {
						b.Fatal(err)
					}
				}
			}
			b.Run("head-checked", func(b *testing.B) { read(b, (*Tx).chainHead) })
			b.Run("last-row-alone", func(b *testing.B) {
				read(b, func(tx *Tx) error {
					var seq int64
					var h []byte
					return tx.QueryRow(`SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1`).Scan(&seq, &h)
				})
			})
			b.Run("nothing", func(b *testing.B) { read(b, func(*Tx) error { return nil }) })
		})
	}
}

// postgresBenchDSN makes a schema of its own in the test PostgreSQL (storetest's, which
// this package's own tests cannot import), dropped when the benchmark ends.
func postgresBenchDSN(b *testing.B) string {
	base := os.Getenv("SILENTCERT_TEST_POSTGRES")
	if base == "" {
		base = "postgres://root@127.0.0.1:5432/test?sslmode=disable"
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		b.Fatal(err)
	}
	schema := fmt.Sprintf("bench_head_%d", time.Now().UnixNano())
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		b.Skipf("PostgreSQL: %v", err)
	}
	b.Cleanup(func() {
		admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
		admin.Close()
	})
	return base + "&search_path=" + schema
}
