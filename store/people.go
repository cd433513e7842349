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
		return t.insertManyUpdate(ps)
	}
	for _, p := range ps {
		var err error
		if p.Unmoved {
			err = t.exec(`UPDATE people SET next_check = ?, baselined = ?, state = ? WHERE pid = ?`,
				int64(p.NextCheck), b2i(p.Baselined), p.State, p.PID)
		} else {
			err = t.exec(`UPDATE people SET status = ?, until_day = ?, last_method = ?, death_date = ?, next_check = ?,
			baselined = ?, state = ? WHERE pid = ?`, int(p.Status), int64(p.Until), int(p.Method), int64(p.DeathDate),
				int64(p.NextCheck), b2i(p.Baselined), p.State, p.PID)
		}
		if err != nil {
			return err
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
