package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"
	"testing"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
)

// TestWorkPlans pins how the worklists and the audit page's filters are read (migration
// 0030): each list in its own order from an index, never the city's due list read to find
// a village's nor a whole list sorted for one page (a scale review, 250,000 people nearly
// all due: a village's due list 0.94 s on SQLite), and one actor's or one kind's audit
// rows by their own index. SQLite plans without statistics, as it runs; PostgreSQL is
// given a city shaped like the review's, and its statistics.
func TestWorkPlans(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) { testWorkPlans(t, dsn.Open(t)) })
	}
}

func testWorkPlans(t *testing.T, db *store.DB) {
	today := planCity(t, db)
	const village, town, district = "371002100001", "371002100", "371002"
	work := func(list store.Worklist, prefix string, frail bool, page int) store.WorkQuery {
		return store.WorkQuery{List: list, Prefix: prefix, Today: today, Months: 3, From: sc.NoDate, To: sc.NoDate,
			Frailest: frail, Offset: (page - 1) * 50, Limit: 50}
	}
	few := func(q store.WorkQuery) store.WorkQuery { q.Today -= 780; return q }
	// index: the index the plan must read (a regular expression); sorted: whether the plan
	// may sort (a village's few hundred, a rare status's few). PostgreSQL chooses by its
	// statistics: where pg is given, it may read and sort a town's or a district's people
	// instead (a generic plan takes any range of region codes for a small one; page 200
	// of a district it judged cheaper sorted: 80 ms at 250,000 people, 24,000 in the
	// district, against 130 before 0030, when it read the city's due).
	type want struct {
		index  string
		sorted bool
	}
	pgRegion := &want{`people_due|people_frailest|people_village|people_region`, true}
	for _, c := range []struct {
		name string
		q    store.WorkQuery
		want
		pg *want
	}{
		{"village due list", work(store.WorkWarning, village, false, 1), want{`people_village`, false}, nil},
		{"village due list, frailest", work(store.WorkWarning, village, true, 1), want{`people_village|people_region`, true}, nil},
		{"village's page", work(store.WorkVillage, village, false, 1), want{`people_village|people_region`, true}, nil},
		{"village's pending", work(store.WorkPending, village, false, 1), want{`people_village|people_region|people_status_until`, true}, nil},
		{"town due list", work(store.WorkWarning, town, false, 1), want{`people_due`, false}, pgRegion},
		{"district due list, page 200", work(store.WorkWarning, district, false, 200), want{`people_due`, false}, pgRegion},
		{"district due list, frailest, page 200", work(store.WorkWarning, district, true, 200), want{`people_frailest`, false}, pgRegion},
		{"due list", work(store.WorkWarning, "", false, 1), want{`people_due`, false}, nil},
		{"due list, page 200", work(store.WorkWarning, "", false, 200), want{`people_due`, false}, nil},
		{"due list, frailest", work(store.WorkWarning, "", true, 1), want{`people_frailest`, false}, nil},
		{"due list, frailest, page 200", work(store.WorkWarning, "", true, 200), want{`people_frailest`, false}, nil},
		{"pending", work(store.WorkPending, "", false, 1), want{`people_status_until`, false}, nil},
		{"pending, frailest", work(store.WorkPending, "", true, 1), want{`people_status_until`, true}, nil},
		{"unassigned", work(store.WorkUnassigned, "", false, 1), want{`people_village`, false}, nil},
		// A day when 1.4 % are due: the count too must read the due alone.
		{"due list, few due", few(work(store.WorkWarning, "", false, 1)), want{`people_due`, false}, nil},
	} {
		page, count, args, err := db.WorkSQL(c.q)
		if err != nil {
			t.Fatal(err)
		}
		w := c.want
		if c.pg != nil && db.Dialect() == store.Postgres {
			w = *c.pg
		}
		checkPlan(t, db, c.name, page, args, w.index, w.sorted)
		switch {
		case c.q.Prefix == village:
			checkPlan(t, db, c.name+" (count)", count, args, `people_village|people_region`, true)
		case c.q.List == store.WorkWarning && db.Dialect() == store.SQLite:
			// Counted by period end whatever the order: a short list is not looked for
			// through every certified person.
			checkPlan(t, db, c.name+" (count)", count, args, `people_due`, true)
		case c.q.Today != today:
			// Not by reading everyone (which PostgreSQL rightly does when nearly everyone
			// is due, and did on any day by the generic plan of "until_day <= $1").
			checkPlan(t, db, c.name+" (count)", count, args, `people_due|people_status_until`, true)
		}
	}
	for _, c := range []struct {
		name  string
		q     store.TrailQuery
		index string
	}{
		{"audit trail", store.TrailQuery{}, `audit_staff`},
		{"an actor's rows", store.TrailQuery{Actor: "v371002100001"}, `audit_actor`},
		{"a kind's rows", store.TrailQuery{Kind: "roster"}, `audit_kind`},
		{"an actor's rows of a kind", store.TrailQuery{Actor: "operator", Kind: "login"}, `audit_actor|audit_kind`},
	} {
		c.q.From, c.q.To = sc.NoDate, sc.NoDate
		q, args := store.TrailSQL(c.q)
		// PostgreSQL may gather an actor's rows of a kind from both indexes and sort them.
		// Its generic plans of kind = $1 and actor = $2 follow the shares of a few kinds
		// and actors (at 250,000 people it kept audit_actor for an actor, and audit_staff
		// for a kind): only the plans for the arguments are pinned.
		checkCustomPlan(t, db, c.name, q, args, c.index, c.q.Actor != "" && c.q.Kind != "" && db.Dialect() == store.Postgres)
	}
}

// checkPlan fails the test unless the plan of q reads the table by an index that matches
// index and, when sorted is false, sorts nothing. On PostgreSQL both plans are checked:
// the one made for the arguments, and the generic one it may keep for a statement once
// it has run it five times (pgx prepares every statement), made without them.
func checkPlan(t *testing.T, db *store.DB, name, q string, args []any, index string, sorted bool) {
	t.Helper()
	checkCustomPlan(t, db, name, q, args, index, sorted)
	if db.Dialect() == store.SQLite {
		return
	}
	// The generic plan is made for a prepared statement (EXPLAIN of a statement with
	// parameters plans it for their values), on one connection.
	conn, err := db.SQL().Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), `PREPARE plan_check AS `+db.Rebind(q)); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	defer conn.ExecContext(context.Background(), `DEALLOCATE plan_check`)
	vals := make([]string, len(args))
	for i, a := range args {
		vals[i] = fmt.Sprintf("'%v'", a) // region codes: digits
	}
	call := `EXPLAIN (COSTS OFF) EXECUTE plan_check`
	if len(vals) > 0 {
		call += `(` + strings.Join(vals, `, `) + `)`
	}
	if _, err := conn.ExecContext(context.Background(), `SET plan_cache_mode = force_generic_plan`); err != nil {
		t.Fatal(err)
	}
	defer conn.ExecContext(context.Background(), `RESET plan_cache_mode`)
	checkPlanText(t, name+" (generic plan)", q, index, sorted, explainLines(t, db, conn, call, nil))
}

// checkCustomPlan is checkPlan of the plan made for the arguments alone.
func checkCustomPlan(t *testing.T, db *store.DB, name, q string, args []any, index string, sorted bool) {
	t.Helper()
	explain := `EXPLAIN QUERY PLAN `
	if db.Dialect() == store.Postgres {
		explain = `EXPLAIN (COSTS OFF) `
	}
	checkPlanText(t, name, q, index, sorted, explainLines(t, db, nil, explain+q, args))
}

// explainLines returns the lines of a plan: SQLite's details, PostgreSQL's lines.
func explainLines(t *testing.T, db *store.DB, conn *sql.Conn, q string, args []any) string {
	t.Helper()
	var rows *sql.Rows
	var err error
	if conn != nil {
		rows, err = conn.QueryContext(context.Background(), q)
	} else {
		rows, err = db.SQL().Query(db.Rebind(q), args...)
	}
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var plan []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, asText(vals[len(vals)-1]))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(plan, "\n")
}

func checkPlanText(t *testing.T, name, q, index string, sorted bool, plan string) {
	t.Helper()
	// SQLite: "SEARCH people USING [COVERING] INDEX people_due (until_day<?)";
	// PostgreSQL: "Index [Only] Scan [Backward] using people_due on people", "Bitmap
	// Index Scan on people_region".
	if !regexp.MustCompile(`(INDEX|using|Index Scan on) (` + index + `)\b`).MatchString(plan) {
		t.Errorf("%s: the plan reads no index of %s:\n%s\n%s", name, index, plan, q)
	}
	if sort := regexp.MustCompile(`TEMP B-TREE|(?m)^\s*(->\s*)?(Incremental )?Sort\b`); !sorted && sort.MatchString(plan) {
		t.Errorf("%s: the plan sorts:\n%s\n%s", name, plan, q)
	}
}

func asText(v any) string {
	if b, ok := v.([]byte); ok {
		return string(b)
	}
	s, _ := v.(string)
	return s
}

// planCity writes a city shaped as the scale review's and returns the console's day:
// 20,000 people in 200 villages of 20 towns in 2 districts, nearly all of them due
// within three months (certified or warned), a few pending, suspended and terminated,
// 2 % without a village; the audit trail has their decisions, two citizen logins each,
// a visit for one in twenty, an operator's daily logins and three roster imports. PostgreSQL is told its
// statistics (ANALYZE), as autovacuum would.
func planCity(t *testing.T, db *store.DB) sc.Date {
	today := sc.MustDate("2026-12-07")
	ctx := context.Background()
	// Village i%200 of town (i/200)%20 in district 371002 or 371003; status by i%1000.
	people := `INSERT INTO people (pid, person_id, name, sex, birth_date, hukou_address, region_code, phone, agent_phone,
			last_certified, entitlements, status, until_day, last_method, death_date, health)
		WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
		SELECT i, CAST(370000000000000000 + i AS TEXT), '王秀英', 1, -8000, ?, CASE WHEN i % 50 = 0 THEN ''
			ELSE CAST(371002000000 + (i % 2) * 1000000 + (100 + (i / 10) % 20) * 1000 + 1 + i % 10 AS TEXT) END,
			'13800000000', '', 0, ?, CASE WHEN i % 1000 < 5 THEN 2 WHEN i % 1000 < 7 THEN 3 WHEN i % 1000 < 30 THEN 5
				WHEN i % 1000 < 60 THEN 1 ELSE 0 END, ? - i % 700, 1, ?, i * 7919 % 1001 - 1
		FROM n`
	// Rows as wide as a roster's (the address, the entitlements): the planners weigh
	// reading the table against its indexes by its size.
	address := "山东省威海市环翠区某某镇某某村某某街道某某号某某单元某某室"
	ents := `[{"Benefit":"URBAN_EMPLOYEE","Monthly":312000,"Start":24000,"End":-2147483648},{"Benefit":"SURVIVOR","Monthly":50000,"Start":24100,"End":-2147483648}]`
	if _, err := db.SQL().ExecContext(ctx, db.Rebind(people), address, ents, int64(today), int64(sc.NoDate)); err != nil {
		t.Fatal(err)
	}
	audit := `INSERT INTO audit (kind, day, at, actor, pid, person_id, action, method, evidence, detail, rule, prev, hash)
		SELECT kind, d, '', actor, pid, person_id, action, '', '', '', '', ?, ? FROM (
			SELECT 'decision' AS kind, ? - pid % 180 AS d, 'engine' AS actor, pid, person_id, 'CERTIFIED' AS action, 0 AS k FROM people
			UNION ALL SELECT 'citizen_login', ? - pid % 180, 'citizen', pid, person_id, 'code_sent', 1 FROM people
			UNION ALL SELECT 'citizen_login', ? - pid % 180, 'citizen', pid, person_id, 'login', 2 FROM people
			UNION ALL SELECT 'visit', ? - pid % 180, 'v' || region_code, pid, person_id, 'alive', 3 FROM people WHERE pid % 20 = 0
			UNION ALL SELECT 'login', ? - pid, 'operator', -1, '', 'login', 4 FROM people WHERE pid < 180
			UNION ALL SELECT 'roster', ? - pid * 60, 'operator', -1, '', 'import', 5 FROM people WHERE pid < 4
		) r ORDER BY d, pid, k`
	d := int64(today)
	if db.Dialect() == store.Postgres {
		// The migrations' rows were given their numbers (Append numbers every row from the
		// chain's head): the serial goes on after them.
		if _, err := db.SQL().ExecContext(ctx, `SELECT setval(pg_get_serial_sequence('audit', 'seq'), (SELECT max(seq) FROM audit))`); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.SQL().ExecContext(ctx, db.Rebind(audit), []byte{0}, []byte{1}, d, d, d, d, d, d); err != nil {
		t.Fatal(err)
	}
	if db.Dialect() == store.Postgres {
		if _, err := db.SQL().ExecContext(ctx, `ANALYZE people; ANALYZE audit`); err != nil {
			t.Fatal(err)
		}
	}
	return today
}
