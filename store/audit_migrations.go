package store

import (
	"fmt"
	"strconv"
	"time"

	sc "github.com/silentcert/silentcert"
)

// migrationsAudited is the migration from which every migration applied has its audit
// row: its part in Go writes the rows of those applied before.
const migrationsAudited = 32

func init() { migrationSteps[migrationsAudited] = auditEarlierMigrations }

// auditMigration appends migration m's row to the audit trail, in its transaction: the
// version and the file's name, applied by actor. Migration 0001 makes the trail, so even
// the first is audited, in the trail's first row.
func auditMigration(t *Tx, m migration, actor string) error {
	return t.Append([]AuditRow{migrationRow(m.version, m.name, "apply", actor, time.Now())})
}

// auditEarlierMigrations is migration 0032's part in Go: a row for every migration applied
// before migrations were audited (by an older binary), in the order of their numbers.
// Their time is unknown; the row's is now, its action applied_earlier.
func auditEarlierMigrations(t *Tx) error {
	done := map[int]bool{}
	rows, err := t.tx.QueryContext(t.ctx, `SELECT detail FROM audit WHERE kind <> 'decision' AND kind = 'migration'`)
	if err != nil {
		return fmt.Errorf("%s: migration rows: %w", t.db, err)
	}
	for rows.Next() {
		var detail string
		if err := rows.Scan(&detail); err != nil {
			rows.Close()
			return err
		}
		if v, err := strconv.Atoi(migrationVersion(detail)); err == nil {
			done[v] = true
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = t.tx.QueryContext(t.ctx, `SELECT version, name FROM schema_migrations ORDER BY version`)
	if err != nil {
		return fmt.Errorf("%s: schema_migrations: %w", t.db, err)
	}
	var as []AuditRow
	now := time.Now()
	for rows.Next() {
		var v int
		var name string
		if err := rows.Scan(&v, &name); err != nil {
			rows.Close()
			return err
		}
		if !done[v] {
			as = append(as, migrationRow(v, name, "applied_earlier", "system", now))
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	return t.Append(as)
}

// migrationRow is the audit row of migration version (its file name), on the day in China
// of now.
func migrationRow(version int, name, action, actor string, now time.Time) AuditRow {
	y, m, d := now.In(chinaTime).Date()
	return AuditRow{Kind: "migration", Day: sc.MakeDate(y, int(m), d), At: now.UTC().Format(time.RFC3339), Actor: actor, PID: -1,
		Action: action, Evidence: name, Detail: "version=" + strconv.Itoa(version) + ";name=" + DetailValue(name)}
}

// migrationVersion is the version a migration row's detail names ("" when none).
func migrationVersion(detail string) string {
	v, _ := DetailField(detail, "version")
	return v
}

// chinaTime is China's one offset: the agency's days, as every command's.
var chinaTime = time.FixedZone("CST", 8*3600)
