package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	sc "github.com/silentcert/silentcert"
)

// Person is a recipient as stored: the roster's values, the engine's state (encoded by
// the service; the store never looks inside) and the values copied out of it that the
// console filters on.
type Person struct {
	PID       int64
	Rec       sc.Recipient
	Status    sc.Status
	Until     sc.Date
	Method    sc.Method
	DeathDate sc.Date
	NextCheck sc.Date // the next day the clock may change the status (NoDate: none)
	Baselined bool    // the first day's status row is written
	State     []byte
	// Unmoved tells PutStates that status, until, method and death date are as stored:
	// only the state and the run's bookkeeping are written, and no index moves (a payroll
	// day, when everyone's payment history grows and almost no one's status changes).
	Unmoved bool
}

const personCols = `pid, person_id, name, sex, birth_date, hukou_address, region_code, phone, agent_phone,
	last_certified, entitlements, status, until_day, last_method, death_date, next_check, baselined, state`

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
	return t.insertMany(`INSERT INTO people (`+personCols+`)`, 18, `ON CONFLICT (pid) DO UPDATE SET name = excluded.name,
		sex = excluded.sex, birth_date = excluded.birth_date, hukou_address = excluded.hukou_address,
		region_code = excluded.region_code, phone = excluded.phone, agent_phone = excluded.agent_phone,
		last_certified = excluded.last_certified, entitlements = excluded.entitlements, status = excluded.status,
		until_day = excluded.until_day, last_method = excluded.last_method, death_date = excluded.death_date,
		next_check = excluded.next_check, baselined = excluded.baselined, state = excluded.state`, len(ps),
		func(i int, a []any) []any {
			p := ps[i]
			r := &p.Rec
			return append(a, p.PID, r.PersonID, r.Name, r.Sex, int64(r.BirthDate), r.HukouAddress, r.RegionCode, r.Phone,
				r.AgentPhone, int64(r.LastCertified), ents[i], int(p.Status), int64(p.Until), int(p.Method),
				int64(p.DeathDate), int64(p.NextCheck), b2i(p.Baselined), p.State)
		}, nil)
}

// PutStates writes what the engine changed of people already stored: status, dates,
// state and region. A day's run writes nothing else, and only these columns' indexes
// move.
func (t *Tx) PutStates(ps []*Person) error {
	if t.db.dialect == Postgres {
		if t.conn != nil && len(ps) >= copyMin {
			return t.copyStates(ps)
		}
		return t.insertManyUpdate(ps)
	}
	// SQLite: UPDATE … FROM (VALUES …), a few hundred people a statement; the unmoved
	// apart, setting only the columns no index covers but next_check's.
	var moved, unmoved []*Person
	for _, p := range ps {
		if p.Unmoved {
			unmoved = append(unmoved, p)
		} else {
			moved = append(moved, p)
		}
	}
	if err := t.updateFrom(`next_check = v.column2, baselined = v.column3, state = v.column4`, 4, unmoved,
		func(a []any, p *Person) []any { return append(a, int64(p.NextCheck), b2i(p.Baselined), p.State) }); err != nil {
		return err
	}
	return t.updateFrom(`status = v.column2, until_day = v.column3, last_method = v.column4, death_date = v.column5,
		next_check = v.column6, baselined = v.column7, state = v.column8`, 8, moved,
		func(a []any, p *Person) []any {
			return append(a, int(p.Status), int64(p.Until), int(p.Method), int64(p.DeathDate), int64(p.NextCheck), b2i(p.Baselined), p.State)
		})
}

// updateFrom updates people from rows of ncols values, the pid first and then those vals
// appends, which set names as v.column2 ….
func (t *Tx) updateFrom(set string, ncols int, ps []*Person, vals func(a []any, p *Person) []any) error {
	per := min(maxRows, maxParams/ncols)
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?,", ncols), ",") + ")"
	args := make([]any, 0, min(per, len(ps))*ncols)
	for start := 0; start < len(ps); start += per {
		k := min(per, len(ps)-start)
		args = args[:0]
		for _, p := range ps[start : start+k] {
			args = vals(append(args, p.PID), p)
		}
		q := `UPDATE people SET ` + set + ` FROM (VALUES ` + strings.TrimSuffix(strings.Repeat(tuple+",", k), ",") +
			`) AS v WHERE people.pid = v.column1`
		// A full chunk's statement is kept prepared; a remainder's, of any length, is not.
		if k == per {
			if err := t.exec(q, args...); err != nil {
				return err
			}
		} else if _, err := t.tx.ExecContext(t.ctx, q, args...); err != nil {
			return fmt.Errorf("%s: %w", t.db, err)
		}
	}
	return nil
}

// insertManyUpdate is PutStates for PostgreSQL: one UPDATE … FROM (VALUES …) a chunk.
func (t *Tx) insertManyUpdate(ps []*Person) error {
	const cols = 8
	per := min(maxRows, maxParams/cols)
	tuple := "(CAST(? AS BIGINT),CAST(? AS INTEGER),CAST(? AS INTEGER),CAST(? AS INTEGER),CAST(? AS INTEGER),CAST(? AS INTEGER),CAST(? AS INTEGER),CAST(? AS BYTEA))"
	args := make([]any, 0, per*cols)
	for start := 0; start < len(ps); start += per {
		k := min(per, len(ps)-start)
		args = args[:0]
		for _, p := range ps[start : start+k] {
			args = append(args, p.PID, int(p.Status), int64(p.Until), int(p.Method), int64(p.DeathDate), int64(p.NextCheck), b2i(p.Baselined), p.State)
		}
		q := `UPDATE people SET status = v.column2, until_day = v.column3, last_method = v.column4, death_date = v.column5,
			next_check = v.column6, baselined = v.column7, state = v.column8 FROM (VALUES ` +
			strings.TrimSuffix(strings.Repeat(tuple+",", k), ",") + `) AS v WHERE people.pid = v.column1`
		if err := t.exec(q, args...); err != nil {
			return err
		}
	}
	return nil
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
// the transaction's connection, then one UPDATE … FROM it. (An indexed column set to the
// value it had moves no index entry when the row's page has room: PostgreSQL compares.)
func (t *Tx) copyStates(ps []*Person) error {
	if err := t.execRaw(`CREATE TEMP TABLE IF NOT EXISTS stage_states (pid BIGINT, status INTEGER,
		until_day INTEGER, last_method INTEGER, death_date INTEGER, next_check INTEGER, baselined INTEGER, state BYTEA)
		ON COMMIT DELETE ROWS`); err != nil {
		return err
	}
	if err := t.execRaw(`TRUNCATE stage_states`); err != nil {
		return err
	}
	cols := []string{"pid", "status", "until_day", "last_method", "death_date", "next_check", "baselined", "state"}
	err := t.copyFrom("stage_states", cols, len(ps), func(i int) []any {
		p := ps[i]
		return []any{p.PID, int32(p.Status), int32(p.Until), int32(p.Method), int32(p.DeathDate),
			int32(p.NextCheck), int32(b2i(p.Baselined)), p.State}
	})
	if err != nil {
		return err
	}
	return t.execRaw(`UPDATE people SET status = s.status, until_day = s.until_day, last_method = s.last_method,
		death_date = s.death_date, next_check = s.next_check, baselined = s.baselined, state = s.state
		FROM stage_states s WHERE people.pid = s.pid`)
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

// LoadPeople calls fn for every person in pid order.
func (db *DB) LoadPeople(ctx context.Context, fn func(*Person) error) error {
	return db.queryPeople(ctx, `SELECT `+personCols+` FROM people ORDER BY pid`, nil, fn)
}

// PersonByID returns one person by citizen ID number.
func (db *DB) PersonByID(ctx context.Context, personID string) (*Person, error) {
	var out *Person
	err := db.queryPeople(ctx, `SELECT `+personCols+` FROM people WHERE person_id = ?`, []any{personID}, func(p *Person) error {
		out = p
		return nil
	})
	if err == nil && out == nil {
		err = sc.Errorf(sc.ENotFound, "no recipient %s", personID)
	}
	return out, err
}

func (db *DB) queryPeople(ctx context.Context, q string, args []any, fn func(*Person) error) error {
	rows, err := db.sql.QueryContext(ctx, db.Rebind(q), args...)
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
			&r.AgentPhone, &last, &ents, &status, &until, &method, &death, &next, &baselined, &p.State); err != nil {
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
