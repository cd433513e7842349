package store_test

import (
	"context"
	"testing"

	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
)

// TestMarkTemporaryPasswords: migration 0026 marks the accounts whose password an
// administrator last set in the console (create or reset), and no other: those set by
// the demo ("system"), at the command line ("cli:…") or by the holder themself.
func TestMarkTemporaryPasswords(t *testing.T) {
	for _, u := range storetest.URLs(t) {
		t.Run(u.Name, func(t *testing.T) {
			dsn := u.DSN(t)
			ctx := context.Background()
			db, err := store.OpenNoMigrate(dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.MigrateTo(ctx, 25); err != nil {
				t.Fatal(err)
			}
			names := []string{"made.in.console", "reset.in.console", "made.by.cli", "demo", "reset.then.own", "reset.at.cli", "semicolons"}
			for i, n := range names {
				if _, err := db.SQL().Exec(db.Rebind(`INSERT INTO users (id, name, role, region, lang, password, disabled, failures, locked_until, created, changed)
					VALUES (?, ?, 'village', '371002001001', 'zh-CN', 'x', 0, 0, 0, '', '')`), i+1, n); err != nil {
					t.Fatal(err)
				}
			}
			row := func(actor, action, user string, id int) store.AuditRow {
				return store.AuditRow{Kind: "user", Day: 20000, At: "2024-10-01T00:00:00Z", Actor: actor, PID: -1, Action: action,
					Detail: "user=" + user + " id=" + string(rune('0'+id)) + " sessions_revoked=0"}
			}
			tx, err := db.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := tx.Append([]store.AuditRow{
				row("zhao.admin", "create", "made.in.console", 1),
				row("cli:root", "create", "reset.in.console", 2), row("zhao.admin", "password", "reset.in.console", 2),
				row("cli:root", "create", "made.by.cli", 3),
				row("system", "create", "demo", 4),
				row("zhao.admin", "create", "reset.then.own", 5), row("reset.then.own", "password", "reset.then.own", 5),
				row("zhao.admin", "create", "reset.at.cli", 6), row("cli:root", "password", "reset.at.cli", 6),
				row("zhao.admin", "disable", "made.by.cli", 3), // not a password
				// Fields between ";", as the accounts' rows are written since session 17.
				{Kind: "user", Day: 20000, At: "2024-10-01T00:00:00Z", Actor: "zhao.admin", PID: -1, Action: "create",
					Detail: "user=semicolons;id=7;role=village;region=371002001001"},
			}); err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			if err := db.MigrateTo(ctx, 26); err != nil {
				t.Fatal(err)
			}
			want := map[string]int{"made.in.console": 1, "reset.in.console": 1, "semicolons": 1}
			for _, n := range names {
				var got int
				if err := db.SQL().QueryRow(db.Rebind(`SELECT must_change FROM users WHERE name = ?`), n).Scan(&got); err != nil {
					t.Fatal(err)
				}
				if got != want[n] {
					t.Errorf("%s: must_change %d, want %d", n, got, want[n])
				}
			}
		})
	}
}
