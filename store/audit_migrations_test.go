package store_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
)

func migrationVersion(r store.AuditRow) string {
	v, _ := store.DetailField(r.Detail, "version")
	return v
}

// testMigrationRows: a new database's trail begins with one row per migration, in the
// migration's transaction (migration 0001 makes the trail), naming its version and file.
func TestMigrationRows(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) { testMigrationRows(t, dsn.Open(t)) })
	}
}

func testMigrationRows(t *testing.T, db *store.DB) {
	rows, err := db.Trail(context.Background(), store.TrailQuery{Kind: "migration", Limit: 1000, From: sc.NoDate, To: sc.NoDate})
	if err != nil {
		t.Fatal(err)
	}
	st, err := db.MigrationStatus(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(st) {
		t.Fatalf("%d migration rows for %d migrations", len(rows), len(st))
	}
	for i, line := range st {
		f := strings.Fields(line) // "0001 applied 0001_core.sql"
		v, _ := strconv.Atoi(f[0])
		r := rows[len(rows)-1-i] // newest first
		if r.Seq != int64(i+1) || r.Action != "apply" || r.Actor != "system" || r.PID != -1 || r.Evidence != f[2] ||
			r.Detail != fmt.Sprintf("version=%d;name=%s", v, f[2]) {
			t.Errorf("migration %d's row: %+v", v, r)
		}
	}
	if _, err := db.VerifyAudit(context.Background(), func(p store.AuditProblem) { t.Error(p) }); err != nil {
		t.Fatal(err)
	}
}

// TestMigrationsAudited: migrations applied by a command name its actor; the migrations an
// older binary applied, with no rows, get theirs from migration 0032, after the rows the
// trail had, and the trail verifies.
func TestMigrationsAudited(t *testing.T) {
	ctx := context.Background()
	for _, u := range storetest.URLs(t) {
		t.Run(u.Name, func(t *testing.T) {
			dsn := u.DSN(t)
			old, err := store.OpenNoMigrate(dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer old.Close()
			// An older binary's database: migrated to 0029, its rows for them gone (it wrote
			// none), a login in its trail.
			if err := old.MigrateTo(ctx, 29); err != nil {
				t.Fatal(err)
			}
			mustExec(t, old.SQL(), `DELETE FROM audit`)
			mustExec(t, old.SQL(), `DELETE FROM meta WHERE key = 'audit_head'`)
			tx, err := old.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := tx.Append([]store.AuditRow{{Kind: "login", Actor: "admin", PID: -1, Action: "ok"}}); err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			old.Close()

			db, err := store.OpenAs(ctx, dsn, "cli:zhao")
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			rows, err := db.Trail(ctx, store.TrailQuery{Kind: "migration", Limit: 1000, From: sc.NoDate, To: sc.NoDate})
			if err != nil {
				t.Fatal(err)
			}
			versions := map[int]bool{}
			for _, r := range rows {
				v, _ := strconv.Atoi(migrationVersion(r))
				versions[v] = true
				want := "applied_earlier system"
				if v > 29 { // applied by this binary
					want = "apply cli:zhao"
				}
				if got := r.Action + " " + r.Actor; got != want || r.Seq < 2 {
					t.Errorf("migration %d's row %d: %s, want %s after the trail's row", v, r.Seq, got, want)
				}
			}
			if st, _ := db.MigrationStatus(ctx); len(versions) != len(st) || !versions[1] || !versions[29] || !versions[32] {
				t.Fatalf("rows for migrations %v", versions)
			}
			if _, err := db.VerifyAudit(ctx, func(p store.AuditProblem) { t.Error(p) }); err != nil {
				t.Fatal(err)
			}
		})
	}
}
