package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	sc "github.com/silentcert/silentcert"
)

// Person is a recipient as stored: the roster's values, the engine's state (encoded by
// the service; the store never looks inside) and the values copied out of it that the
// console filters on.
type Person struct {
	PID int64
	Rec sc.Recipient
	// RosterRegion is the region_code the roster gave, "" when it gave none and the
	// address did not resolve (Rec.RegionCode follows moves): what linkage narrows by.
	RosterRegion string
	Status       sc.Status
	Until        sc.Date
	Method       sc.Method
	DeathDate    sc.Date
	NextCheck    sc.Date // the next day the clock may change the status (NoDate: none)
	// Health is the evidence model's health index in thousandths (-1: not scored),
	// written by PutStates with the status for people not Unmoved, alone for the Unmoved
	// whose HealthMoved (it moves with nearly every record; status seldom does).
	Health      int
	HealthMoved bool
	Baselined   bool // the first day's status row is written
	State       []byte
	// Unmoved tells PutStates that status, until, method and death date are as stored:
	// only the state and the run's bookkeeping are written, and no index moves (a payroll
	// day, when everyone's payment history grows and almost no one's status changes).
	Unmoved bool
}

// personCols are people's columns. The engine's state and the run's bookkeeping, rewritten
// for everyone on a payroll day, are in a narrow table of their own, people_state
// (migration 0011).
const personCols = `pid, person_id, name, sex, birth_date, hukou_address, region_code, phone, agent_phone,
	last_certified, entitlements, status, until_day, last_method, death_date, name_conflicts, roster_region`

// PutPeople writes whole people, inserting new ones and replacing the others (a person
// stored keeps their person_id and health).
func (t *Tx) PutPeople(ps []*Person) error {
	ents := make([]string, len(ps))
	for i, p := range ps {
		b, err := json.Marshal(p.Rec.Entitlements)
		if err != nil {
			return err
		}
		ents[i] = string(b)
	}
	person := func(i int, a []any) []any {
		p := ps[i]
		r := &p.Rec
		return append(a, p.PID, r.PersonID, r.Name, r.Sex, int64(r.BirthDate), r.HukouAddress, r.RegionCode, r.Phone,
			r.AgentPhone, int64(r.LastCertified), ents[i], int(p.Status), int64(p.Until), int(p.Method), int64(p.DeathDate),
			r.NameConflicts, p.RosterRegion)
	}
	state := func(i int, a []any) []any {
		p := ps[i]
		return append(a, p.PID, int64(p.NextCheck), b2i(p.Baselined), p.State)
	}
	if t.db.dialect == SQLite {
		pid := func(i int) int64 { return ps[i].PID }
		if err := t.upsertRows(`people`, personCols, personTypes, len(ps), pid, person); err != nil {
			return err
		}
		return t.upsertRows(`people_state`, stateCols, stateTypes, len(ps), pid, state)
	}
	if err := t.insertMany(`INSERT INTO people (`+personCols+`)`, len(personTypes), upsertSuffix(personCols), len(ps), person, nil); err != nil {
		return err
	}
	return t.insertMany(`INSERT INTO people_state (`+stateCols+`)`, len(stateTypes), upsertSuffix(stateCols), len(ps), state, nil)
}

const stateCols = `pid, next_check, baselined, state`

// personTypes are personCols' SQL types (stateTypes people_state's).
var personTypes = []string{"BIGINT", "TEXT", "TEXT", "INTEGER", "INTEGER", "TEXT", "TEXT", "TEXT", "TEXT", "INTEGER", "TEXT",
	"INTEGER", "INTEGER", "INTEGER", "INTEGER", "INTEGER", "TEXT"}

// replaced lists what PutPeople replaces of a row stored, cols (pid first) but pid and
// person_id, calling fn with each column's name and position in cols (from 1).
func replaced(cols string, fn func(col string, pos int)) {
	for i, c := range strings.Split(cols, ",") {
		if c = strings.TrimSpace(c); c != "pid" && c != "person_id" {
			fn(c, i+1)
		}
	}
}

// upsertSuffix is the UPSERT's ON CONFLICT clause for a table of cols.
func upsertSuffix(cols string) string {
	var set []string
	replaced(cols, func(c string, _ int) { set = append(set, c+" = excluded."+c) })
	return `ON CONFLICT (pid) DO UPDATE SET ` + strings.Join(set, ", ")
}

// upsertRows writes n rows into table (columns cols, pid first, of SQL types types) as
// the UPSERT of upsertSuffix does, on SQLite, without a statement journal; pid is row i's.
//
// SQLite gives a statement that writes several rows and may fail halfway a journal of its
// own: a copy of every page the statement changes that the transaction had before it, to
// undo it alone. A multi-row INSERT that names an INTEGER PRIMARY KEY (the pid) may
// always fail halfway (on a pid that is not an integer), whatever its ON CONFLICT or OR
// IGNORE, so the UPSERT of 500 people copied the pages of people's indexes it touched,
// a few MiB a statement at 100,000 people, in 1 KiB pieces from modernc.org/sqlite's
// allocator, which keeps 4 MiB of the memory freed and hands the rest back to the system
// (madvise) when the statement ends, to take it again (page faults) in the next: about
// 40 % of the CPU of a first roster import of 100,000 people.
//
// Three statements need no journal, and each run of rows goes to the one that fits:
//   - rows whose pids go on from the table's last (new people, numbered on): INSERT OR
//     IGNORE without the pid, which SQLite numbers the same (its last rowid plus one;
//     1 in an empty table), 500 a statement;
//   - rows whose pids are at most the table's last (people stored): UPDATE OR IGNORE …
//     FROM (VALUES …), 500 a statement;
//   - any other row: the UPSERT of one row.
//
// A row that breaks a constraint (a person_id stored under another pid, a NULL) is
// skipped by the first two; the rows of their statement are then written again by
// UPSERTs of one row each, in order (the INSERT's deleted first: SQLite numbered those
// after the skipped one one less), which fail as the UPSERT of many rows did, having
// written the rows before the failing one (after an error the transaction is to be rolled
// back). So does a statement's worth of people stored that repeats a pid: the UPDATE
// would take any one of that pid's rows, the UPSERTs take the last.
func (t *Tx) upsertRows(table, cols string, types []string, n int, pid func(i int) int64, row func(i int, a []any) []any) error {
	var top sql.NullInt64 // the table's last pid (none: empty), kept as rows are written
	if err := t.QueryRow(`SELECT max(pid) FROM ` + table).Scan(&top); err != nil {
		return fmt.Errorf("%s: %s: %w", t.db, table, err)
	}
	ncols := len(types)
	one := `INSERT INTO ` + table + ` (` + cols + `) VALUES (` + strings.TrimSuffix(strings.Repeat("?,", ncols), ",") + `) ` + upsertSuffix(cols)
	args := make([]any, 0, ncols)
	upsert := func(from, to int) error {
		st, err := t.stmt(one)
		if err != nil {
			return err
		}
		for i := from; i < to; i++ {
			if _, err := st.ExecContext(t.ctx, row(i, args[:0])...); err != nil {
				return fmt.Errorf("%s: %s: %w", t.db, table, err)
			}
			if p := pid(i); !top.Valid || p > top.Int64 {
				top = sql.NullInt64{Int64: p, Valid: true}
			}
		}
		return nil
	}
	_, noPID, _ := strings.Cut(cols, ",")
	var set []string
	replaced(cols, func(c string, pos int) { set = append(set, c+" = v.column"+strconv.Itoa(pos)) })
	per := min(maxRows, maxParams/ncols)
	pids := make([]int64, 0, per)
	for i := 0; i < n; {
		next := int64(1)
		if top.Valid {
			next = top.Int64 + 1
		}
		k := 0
		for i+k < n && pid(i+k) == next+int64(k) {
			k++
		}
		if k > 0 { // new people numbered on
			skipped := -1
			err := t.insertManyN(`INSERT OR IGNORE INTO `+table+` (`+noPID+`)`, ncols-1, ``, k,
				func(j int, a []any) []any {
					r := row(i+j, a)
					return append(r[:len(a)], r[len(a)+1:]...) // the pid left to SQLite
				}, nil,
				func(start, m int, affected int64) error {
					if affected != int64(m) {
						skipped = start
						return errSkipped
					}
					return nil
				})
			if skipped < 0 {
				if err != nil {
					return err
				}
				top = sql.NullInt64{Int64: next + int64(k) - 1, Valid: true}
				i += k
				continue
			}
			if err := t.exec(`DELETE FROM `+table+` WHERE pid >= ?`, next+int64(skipped)); err != nil {
				return err
			}
			if skipped > 0 {
				top = sql.NullInt64{Int64: next + int64(skipped) - 1, Valid: true}
			}
			if err := upsert(i+skipped, i+k); err != nil {
				return err
			}
			i += k
			continue
		}
		if !top.Valid || pid(i) > top.Int64 { // new, not numbered on
			if err := upsert(i, i+1); err != nil {
				return err
			}
			i++
			continue
		}
		// Stored people (or pids never stored below the last).
		pids = pids[:0]
		for k < per && i+k < n && pid(i+k) <= top.Int64 {
			pids = append(pids, pid(i+k))
			k++
		}
		slices.Sort(pids)
		if len(slices.Compact(pids)) == k { // no pid repeats
			updated, err := t.updateRows(table, strings.Join(set, ", "), types, k, func(j int, a []any) []any { return row(i+j, a) })
			if err != nil {
				return err
			}
			if updated == int64(k) {
				i += k
				continue
			}
		}
		if err := upsert(i, i+k); err != nil {
			return err
		}
		i += k
	}
	return nil
}

// errSkipped: an INSERT OR IGNORE skipped a row.
var errSkipped = errors.New("a row skipped")

// PutStates writes what the engine changed of people already stored: their state and
// bookkeeping in people_state, status, until, method, death date and health in people for
// those whose moved (only these columns' indexes move), and the health index alone for the
// others whose health moved (no index holds it: a row rewritten in place).
func (t *Tx) PutStates(ps []*Person) error {
	var moved, health []*Person
	for _, p := range ps {
		switch {
		case !p.Unmoved:
			moved = append(moved, p)
		case p.HealthMoved:
			health = append(health, p)
		}
	}
	if t.db.dialect == Postgres {
		if t.conn != nil && len(ps) >= copyMin {
			return t.copyStates(ps, len(moved) > 0, len(health) > 0)
		}
		return t.insertManyUpdate(ps, moved, health)
	}
	// SQLite: UPDATE … FROM (VALUES …), a few hundred people a statement.
	if err := t.updateFrom(`people_state`, `next_check = v.column2, baselined = v.column3, state = v.column4`, stateTypes, ps,
		func(a []any, p *Person) []any { return append(a, int64(p.NextCheck), b2i(p.Baselined), p.State) }); err != nil {
		return err
	}
	if err := t.updateFrom(`people`, movedSet, movedTypes, moved,
		func(a []any, p *Person) []any {
			return append(a, int(p.Status), int64(p.Until), int(p.Method), int64(p.DeathDate), p.Health)
		}); err != nil {
		return err
	}
	return t.updateFrom(`people`, `health = v.column2`, healthTypes, health,
		func(a []any, p *Person) []any { return append(a, p.Health) })
}

const movedSet = `status = v.column2, until_day = v.column3, last_method = v.column4, death_date = v.column5, health = v.column6`

var (
	stateTypes  = []string{"BIGINT", "INTEGER", "INTEGER", "BYTEA"}
	movedTypes  = []string{"BIGINT", "INTEGER", "INTEGER", "INTEGER", "INTEGER", "INTEGER"}
	healthTypes = []string{"BIGINT", "INTEGER"}
)

// updateFrom updates table from rows of values, the pid first and then those vals
// appends, which set names as v.column2 …; types are the values' SQL types, the pid's
// first (PostgreSQL is told them: it takes a bare parameter in VALUES as text).
func (t *Tx) updateFrom(table, set string, types []string, ps []*Person, vals func(a []any, p *Person) []any) error {
	_, err := t.updateRows(table, set, types, len(ps), func(i int, a []any) []any { return vals(append(a, ps[i].PID), ps[i]) })
	return err
}

// updateRows is updateFrom for n rows of values that row appends, the pid first. It
// returns how many rows of table it updated.
func (t *Tx) updateRows(table, set string, types []string, n int, row func(i int, a []any) []any) (int64, error) {
	ncols := len(types)
	per := min(maxRows, maxParams/ncols)
	var tb strings.Builder
	for i, ty := range types {
		if i > 0 {
			tb.WriteByte(',')
		}
		if t.db.dialect == Postgres {
			tb.WriteString("CAST(? AS " + ty + ")")
		} else {
			tb.WriteByte('?')
		}
	}
	tuple := "(" + tb.String() + ")"
	args := make([]any, 0, min(per, n)*ncols)
	var updated int64
	for start := 0; start < n; start += per {
		k := min(per, n-start)
		args = args[:0]
		for i := start; i < start+k; i++ {
			args = row(i, args)
		}
		verb := `UPDATE `
		if t.db.dialect == SQLite {
			// OR IGNORE: no constraint can abort the statement, so SQLite keeps no
			// statement journal (a copy of every page the statement changes).
			verb = `UPDATE OR IGNORE `
		}
		q := verb + table + ` SET ` + set + ` FROM (VALUES ` + strings.TrimSuffix(strings.Repeat(tuple+",", k), ",") +
			`) AS v WHERE ` + table + `.pid = v.column1`
		// A full chunk's statement is kept prepared; a remainder's, of any length, is not.
		var res sql.Result
		var err error
		if k == per {
			var st *sql.Stmt
			if st, err = t.stmt(q); err != nil {
				return updated, err
			}
			res, err = st.ExecContext(t.ctx, args...)
		} else {
			res, err = t.tx.ExecContext(t.ctx, t.db.Rebind(q), args...)
		}
		if err != nil {
			return updated, fmt.Errorf("%s: %w", t.db, err)
		}
		a, err := res.RowsAffected()
		if err != nil {
			return updated, fmt.Errorf("%s: %w", t.db, err)
		}
		updated += a
	}
	return updated, nil
}

// insertManyUpdate is PutStates for a few people on PostgreSQL: UPDATE … FROM (VALUES …)
// with typed values.
func (t *Tx) insertManyUpdate(ps, moved, health []*Person) error {
	err := t.updateFrom(`people_state`, `next_check = v.column2, baselined = v.column3, state = v.column4`, stateTypes, ps,
		func(a []any, p *Person) []any { return append(a, int32(p.NextCheck), int32(b2i(p.Baselined)), p.State) })
	if err != nil {
		return err
	}
	if err := t.updateFrom(`people`, movedSet, movedTypes, moved,
		func(a []any, p *Person) []any {
			return append(a, int32(p.Status), int32(p.Until), int32(p.Method), int32(p.DeathDate), int32(p.Health))
		}); err != nil {
		return err
	}
	return t.updateFrom(`people`, `health = v.column2`, healthTypes, health,
		func(a []any, p *Person) []any { return append(a, int32(p.Health)) })
}

// StatesChunk is how many people a caller of PutStates best gives it at once: on
// PostgreSQL enough for COPY, on SQLite a few hundred (each is its own UPDATE there).
func (t *Tx) StatesChunk() int {
	if t.conn != nil {
		return 8 * copyMin
	}
	return maxRows
}

// copyStates is PutStates for many people on PostgreSQL: COPY into a temporary table of
// the transaction's connection, then one UPDATE … FROM it of people_state, and of people
// for those who moved.
func (t *Tx) copyStates(ps []*Person, anyMoved, anyHealth bool) error {
	if err := t.execRaw(`CREATE TEMP TABLE IF NOT EXISTS stage_states (pid BIGINT, moved BOOLEAN, health_moved BOOLEAN,
		status INTEGER, until_day INTEGER, last_method INTEGER, death_date INTEGER, health INTEGER, next_check INTEGER,
		baselined INTEGER, state BYTEA) ON COMMIT DELETE ROWS`); err != nil {
		return err
	}
	if err := t.execRaw(`TRUNCATE stage_states`); err != nil {
		return err
	}
	cols := []string{"pid", "moved", "health_moved", "status", "until_day", "last_method", "death_date", "health", "next_check", "baselined", "state"}
	err := t.copyFrom("stage_states", cols, len(ps), func(i int) []any {
		p := ps[i]
		return []any{p.PID, !p.Unmoved, p.Unmoved && p.HealthMoved, int32(p.Status), int32(p.Until), int32(p.Method), int32(p.DeathDate), int32(p.Health),
			int32(p.NextCheck), int32(b2i(p.Baselined)), p.State}
	})
	if err != nil {
		return err
	}
	// The stage is a few thousand rows and people a million: each is found by its key.
	// Left to itself the planner, which knows nothing of a fresh temporary table, hashes
	// the whole of people_state for every chunk (12 s instead of 4 for a million).
	qs := []string{`SET LOCAL enable_hashjoin = off`, `SET LOCAL enable_mergejoin = off`,
		`UPDATE people_state SET next_check = s.next_check, baselined = s.baselined, state = s.state
			FROM stage_states s WHERE people_state.pid = s.pid`}
	if anyMoved {
		qs = append(qs, `UPDATE people SET status = s.status, until_day = s.until_day, last_method = s.last_method,
			death_date = s.death_date, health = s.health FROM stage_states s WHERE people.pid = s.pid AND s.moved`)
	}
	if anyHealth {
		qs = append(qs, `UPDATE people SET health = s.health FROM stage_states s WHERE people.pid = s.pid AND s.health_moved`)
	}
	qs = append(qs, `RESET enable_hashjoin`, `RESET enable_mergejoin`)
	for _, q := range qs {
		if err := t.execRaw(q); err != nil {
			return err
		}
	}
	return nil
}

func init() { migrationSteps[12] = roomForStates }

// roomForStates is migration 0012: on PostgreSQL, people_state's pages half empty.
func roomForStates(t *Tx) error {
	if t.db.dialect != Postgres {
		return nil
	}
	if err := t.execRaw(`ALTER TABLE people_state SET (fillfactor = 50)`); err != nil {
		return err
	}
	return t.execRaw(`CLUSTER people_state USING people_state_pkey`)
}

// SetRegion records a person's new region (a move).
func (t *Tx) SetRegion(pid int64, region string) error {
	return t.exec(`UPDATE people SET region_code = ? WHERE pid = ?`, region, pid)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// personSelect reads a whole person from people p and people_state s.
const personSelect = `p.pid, p.person_id, p.name, p.sex, p.birth_date, p.hukou_address, p.region_code, p.phone, p.agent_phone,
	p.last_certified, p.entitlements, p.status, p.until_day, p.last_method, p.death_date, p.name_conflicts, p.health,
	s.next_check, s.baselined, s.state, p.roster_region`

// LoadPeople calls fn for every person in pid order.
func (db *DB) LoadPeople(ctx context.Context, fn func(*Person) error) error {
	return db.queryPeople(ctx, `SELECT `+personSelect+` FROM people p JOIN people_state s ON s.pid = p.pid ORDER BY p.pid`, nil, fn)
}

// PersonByID returns one person by citizen ID number.
func (db *DB) PersonByID(ctx context.Context, personID string) (*Person, error) {
	var out *Person
	err := db.queryPeople(ctx, `SELECT `+personSelect+` FROM people p JOIN people_state s ON s.pid = p.pid WHERE p.person_id = ?`, []any{personID}, func(p *Person) error {
		out = p
		return nil
	})
	if err == nil && out == nil {
		err = sc.Errorf(sc.ENotFound, "no recipient %s", personID)
	}
	return out, err
}

// Person returns one person by pid as the transaction sees them (ENotFound when there is
// none): what a staff action decides from in the transaction that records it.
func (t *Tx) Person(pid int64) (*Person, error) {
	t.sent++
	var out *Person
	err := queryPeople(t.ctx, t.db, t.tx, `SELECT `+personSelect+` FROM people p JOIN people_state s ON s.pid = p.pid WHERE p.pid = ?`, []any{pid}, func(p *Person) error {
		out = p
		return nil
	})
	if err == nil && out == nil {
		err = sc.Errorf(sc.ENotFound, "no recipient %d", pid)
	}
	return out, err
}

func (db *DB) queryPeople(ctx context.Context, q string, args []any, fn func(*Person) error) error {
	return queryPeople(ctx, db, db.rd, q, args, fn)
}

// queryPeople runs q (written with ? placeholders) through qr, the readers' pool or a
// transaction, and calls fn with each person it selects (personSelect).
func queryPeople(ctx context.Context, db *DB, qr querier, q string, args []any, fn func(*Person) error) error {
	rows, err := qr.QueryContext(ctx, db.Rebind(q), args...)
	if err != nil {
		return fmt.Errorf("%s: people: %w", db, err)
	}
	defer rows.Close()
	for rows.Next() {
		p := &Person{}
		r := &p.Rec
		var birth, last, until, death, next int64
		var status, method, baselined int
		var ents string
		if err := rows.Scan(&p.PID, &r.PersonID, &r.Name, &r.Sex, &birth, &r.HukouAddress, &r.RegionCode, &r.Phone,
			&r.AgentPhone, &last, &ents, &status, &until, &method, &death, &r.NameConflicts, &p.Health, &next, &baselined, &p.State,
			&p.RosterRegion); err != nil {
			return fmt.Errorf("%s: people: %w", db, err)
		}
		r.BirthDate, r.LastCertified = sc.Date(birth), sc.Date(last)
		p.Until, p.DeathDate, p.NextCheck = sc.Date(until), sc.Date(death), sc.Date(next)
		p.Status, p.Method, p.Baselined = sc.Status(status), sc.Method(method), baselined != 0
		if err := json.Unmarshal([]byte(ents), &r.Entitlements); err != nil {
			return fmt.Errorf("%s: person %d: entitlements: %w", db, p.PID, err)
		}
		if err := fn(p); err != nil {
			return err
		}
	}
	return rows.Err()
}
