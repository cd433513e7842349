package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
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

// PutPeople writes whole people, inserting new ones and replacing the others.
func (t *Tx) PutPeople(ps []*Person) error {
	ents := make([]string, len(ps))
	for i, p := range ps {
		b, err := json.Marshal(p.Rec.Entitlements)
		if err != nil {
			return err
		}
		ents[i] = string(b)
	}
	err := t.insertMany(`INSERT INTO people (`+personCols+`)`, 17, `ON CONFLICT (pid) DO UPDATE SET name = excluded.name,
		sex = excluded.sex, birth_date = excluded.birth_date, hukou_address = excluded.hukou_address,
		region_code = excluded.region_code, phone = excluded.phone, agent_phone = excluded.agent_phone,
		last_certified = excluded.last_certified, entitlements = excluded.entitlements, status = excluded.status,
		until_day = excluded.until_day, last_method = excluded.last_method, death_date = excluded.death_date,
		name_conflicts = excluded.name_conflicts, roster_region = excluded.roster_region`, len(ps),
		func(i int, a []any) []any {
			p := ps[i]
			r := &p.Rec
			return append(a, p.PID, r.PersonID, r.Name, r.Sex, int64(r.BirthDate), r.HukouAddress, r.RegionCode, r.Phone,
				r.AgentPhone, int64(r.LastCertified), ents[i], int(p.Status), int64(p.Until), int(p.Method), int64(p.DeathDate),
				r.NameConflicts, p.RosterRegion)
		}, nil)
	if err != nil {
		return err
	}
	return t.insertMany(`INSERT INTO people_state (pid, next_check, baselined, state)`, 4, `ON CONFLICT (pid) DO UPDATE SET
		next_check = excluded.next_check, baselined = excluded.baselined, state = excluded.state`, len(ps),
		func(i int, a []any) []any {
			p := ps[i]
			return append(a, p.PID, int64(p.NextCheck), b2i(p.Baselined), p.State)
		}, nil)
}

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
