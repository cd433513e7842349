package store

import (
	"fmt"
	"strconv"
	"strings"
)

func init() { migrationSteps[26] = markTemporaryPasswords }

// markTemporaryPasswords is migration 0026's part in Go: an account whose password was
// last set by an administrator in the console (the trail's latest create or password row
// about it has a staff member's name as actor: not "system", the demo's, nor "cli…", typed
// by the holder at the server) must choose its own at the next sign-in, as one set after
// the migration would.
func markTemporaryPasswords(t *Tx) error {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT actor, detail FROM audit
		WHERE kind <> 'decision' AND kind = 'user' AND action IN ('create', 'password') ORDER BY seq`)
	if err != nil {
		return fmt.Errorf("%s: account rows: %w", t.db, err)
	}
	last := map[int64]string{} // account id → actor of its latest password
	for rows.Next() {
		var actor, detail string
		if err := rows.Scan(&actor, &detail); err != nil {
			rows.Close()
			return err
		}
		// detail: "user=NAME id=ID …" (";" between fields since session 17)
		f := strings.FieldsFunc(detail, func(r rune) bool { return r == ' ' || r == ';' })
		if len(f) < 2 || !strings.HasPrefix(f[0], "user=") || !strings.HasPrefix(f[1], "id=") {
			continue
		}
		id, err := strconv.ParseInt(strings.TrimPrefix(f[1], "id="), 10, 64)
		if err != nil {
			continue
		}
		if strings.TrimPrefix(f[0], "user=") == actor {
			actor = "" // set by the holder themself
		}
		last[id] = actor
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for id, actor := range last {
		if actor == "" || actor == "system" || actor == "cli" || strings.HasPrefix(actor, "cli:") {
			continue
		}
		if err := t.Exec(`UPDATE users SET must_change = 1 WHERE id = ?`, id); err != nil {
			return err
		}
	}
	return nil
}
