package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"strings"

	sc "github.com/silentcert/silentcert"
)

// AuditRow is one row of the append-only audit trail: a decision of the engine (Kind
// "decision") or a staff, API or system action. Each row names its evidence, its rule and
// its actor.
type AuditRow struct {
	Seq      int64
	Kind     string // "decision", "batch", "run", "export" (a payroll file too), "login", "user", "api_key", "review", …
	Day      sc.Date
	At       string // wall time (RFC 3339) for actions; for decisions the day they were made
	Actor    string // "engine", "system", a user name, "api:SOURCE"
	PID      int64  // -1 when the row concerns no person
	PersonID string
	Action   string
	Method   string
	Evidence string
	Detail   string
	Rule     string
	// Region is the region the row was written in: its person's region_code then, or,
	// for a row about no person, the region of the account named by Actor then ("" when
	// none). Append fills it from the store when the writer leaves it "" (writers of many
	// rows, the engine's decisions and a roster's, give it from memory). A scoped
	// auditor reads the rows written in their region, and the rows about the people in it
	// now; rows written before migration 0034 have "" and are read by the latter alone.
	Region string
	Prev   []byte
	Hash   []byte
}

// DetailValue makes free text (a staff member's note or reason) safe as the last value of
// an audit row's Detail, whose pairs are "key=value" joined by ";": separators become their
// nearest harmless look-alikes and line breaks spaces, so that a note cannot forge a pair
// nor break a line of an export.
func DetailValue(s string) string { return detailValue.Replace(s) }

var detailValue = strings.NewReplacer(";", ",", "=", ":", "\r", " ", "\n", " ")

// rowHash is SHA-256 over the previous hash and every field, each length-prefixed, so that
// no change of one field can be hidden by a change of its neighbour.
func rowHash(prev []byte, r *AuditRow) []byte {
	h := sha256.New()
	var b []byte
	field := func(s string) {
		b = binary.AppendUvarint(b[:0], uint64(len(s)))
		h.Write(b)
		h.Write([]byte(s))
	}
	field(string(prev))
	field(strconv.FormatInt(r.Seq, 10))
	field(r.Kind)
	field(strconv.FormatInt(int64(r.Day), 10))
	field(r.At)
	field(r.Actor)
	field(strconv.FormatInt(r.PID, 10))
	field(r.PersonID)
	field(r.Action)
	field(r.Method)
	field(r.Evidence)
	field(r.Detail)
	field(r.Rule)
	if r.Region != "" {
		// Hashed when set: rows written before it existed keep their hashes, and a
		// region set, changed or cleared afterwards changes the row's.
		field(r.Region)
	}
	return h.Sum(nil)
}

// Append appends rows to the audit trail, chaining each to the one before, and moves the
// chain's head (kept in meta, so that cutting rows off the end is detected too). The chain
// goes on from the head, which must be the last row: when it is not (rows cut off the
// end), Append refuses with ErrAuditBroken rather than give the cut rows' numbers to new
// ones.
func (t *Tx) Append(rows []AuditRow) error {
	if len(rows) == 0 {
		return nil
	}
	if t.last == nil {
		if err := t.chainHead(); err != nil {
			return err
		}
	}
	for i := range rows {
		r := &rows[i]
		// Text either database keeps, hashed as stored: a file name in GBK, a source
		// folder's name, cannot fail the transaction on PostgreSQL (nor the actor's
		// account's lookup below).
		for _, f := range [...]*string{&r.Kind, &r.At, &r.Actor, &r.PersonID, &r.Action, &r.Method, &r.Evidence, &r.Detail, &r.Rule, &r.Region} {
			*f = Storable(*f)
		}
	}
	if !t.auditChecked {
		if err := t.checkRegioned(); err != nil {
			return err
		}
	}
	if !t.auditUnregioned {
		if err := t.stampRegions(rows); err != nil {
			return err
		}
	}
	for i := range rows {
		r := &rows[i]
		t.lastSeq++
		r.Seq = t.lastSeq
		r.Prev = t.last
		r.Hash = rowHash(r.Prev, r)
		t.last = r.Hash
	}
	cols := auditCols
	if t.auditUnregioned {
		cols = slices.DeleteFunc(slices.Clone(cols), func(c string) bool { return c == "region" })
	}
	vals := func(i int, a []any) []any {
		r := &rows[i]
		a = append(a, r.Seq, r.Kind, int64(r.Day), r.At, r.Actor, r.PID, r.PersonID, r.Action, r.Method,
			r.Evidence, r.Detail, r.Rule)
		if !t.auditUnregioned {
			a = append(a, r.Region)
		}
		return append(a, r.Prev, r.Hash)
	}
	var err error
	if t.conn != nil && len(rows) >= copyMin {
		// PostgreSQL, many rows (a first day's baseline): COPY. A sequence number taken
		// already still fails the whole COPY, as it fails an INSERT.
		err = t.copyFrom("audit", cols, len(rows), func(i int) []any { return vals(i, nil) })
	} else {
		err = t.insertMany(`INSERT INTO audit (`+strings.Join(cols, ", ")+`)`, len(cols), ``, len(rows), vals, nil)
	}
	if err != nil {
		return err
	}
	return t.SetMeta("audit_head", AuditAnchor{Seq: t.lastSeq, Hash: t.last}.String())
}

// checkRegioned finds whether the audit rows have their region column (migration 0034):
// a database always has it once opened by this binary, which migrates; one opened without
// migrating (a test's older database) may not.
func (t *Tx) checkRegioned() error {
	if !t.db.regioned.Load() {
		ok, err := t.db.migrated(t.ctx, t.tx, auditRegioned)
		if err != nil {
			return err
		}
		if !ok {
			t.auditUnregioned, t.auditChecked = true, true
			return nil
		}
		t.db.regioned.Store(true)
	}
	t.auditUnregioned, t.auditChecked = false, true
	return nil
}

// stampRegions gives each row its writer left without a region the one it is written in
// (AuditRow.Region), read in the transaction: its person's, or for a row about no person
// its actor's account's. Many rows of one person or actor are read once.
func (t *Tx) stampRegions(rows []AuditRow) error {
	var pids []int64
	var actors []string
	seenP, seenA := map[int64]bool{}, map[string]bool{}
	for i := range rows {
		r := &rows[i]
		switch {
		case r.Region != "":
		case r.PID >= 0:
			if !seenP[r.PID] {
				seenP[r.PID] = true
				pids = append(pids, r.PID)
			}
		case r.Actor != "":
			if !seenA[r.Actor] {
				seenA[r.Actor] = true
				actors = append(actors, r.Actor)
			}
		}
	}
	if len(pids) == 0 && len(actors) == 0 {
		return nil
	}
	people, err := keyedRegions(t, `SELECT pid, region_code FROM people WHERE pid IN `, pids)
	if err != nil {
		return err
	}
	users, err := keyedRegions(t, `SELECT name, region FROM users WHERE name IN `, actors)
	if err != nil {
		return err
	}
	for i := range rows {
		r := &rows[i]
		switch {
		case r.Region != "":
		case r.PID >= 0:
			r.Region = people[r.PID]
		default:
			r.Region = users[r.Actor]
		}
	}
	return nil
}

// keyedRegions reads (key, region) rows of query (ending "IN ") for keys, 500 at a time.
func keyedRegions[K comparable](t *Tx, query string, keys []K) (map[K]string, error) {
	out := map[K]string{}
	err := inList(keys, func(in string, args []any) error {
		return t.each(query+in, args, func(rs *sql.Rows) error {
			var k K
			var region string
			if err := rs.Scan(&k, &region); err != nil {
				return err
			}
			out[k] = region
			return nil
		})
	})
	return out, err
}

// auditCols are the audit table's columns, in auditSelect's order.
var auditCols = []string{"seq", "kind", "day", "at", "actor", "pid", "person_id", "action", "method", "evidence", "detail", "rule", "region", "prev", "hash"}

// auditRegioned is the migration that gives each audit row its region (AuditRow.Region).
const auditRegioned = 34

const auditSelect = `SELECT seq, kind, day, at, actor, pid, person_id, action, method, evidence, detail, rule, region, prev, hash FROM audit `

// scanAudit reads one audit row.
func scanAudit(rows *sql.Rows) (AuditRow, error) {
	var r AuditRow
	var day int64
	err := rows.Scan(&r.Seq, &r.Kind, &day, &r.At, &r.Actor, &r.PID, &r.PersonID, &r.Action, &r.Method,
		&r.Evidence, &r.Detail, &r.Rule, &r.Region, &r.Prev, &r.Hash)
	r.Day = sc.Date(day)
	return r, err
}

// AuditProblem is a break in the audit chain.
type AuditProblem struct {
	Seq    int64
	Reason string
}

// VerifyAudit walks the whole trail in order and reports every row whose hash does not
// match its content or whose link to the row before is broken (a change, a deletion, a
// reordering), a head that does not match the last row (rows cut off the end), a trail
// wiped whole (verifyWhole), and a recovery ledger that does not match its rows
// (verifyRecoveries), accounts and API keys the trail does not account for (verifyAccounts),
// people whose roster fields are not what the trail's roster rows say (verifyPeople),
// and payment rows that do not match the audit rows that cover them, or
// that none covers (verifyPayments). It returns the number of rows checked.
//
// A trail rewritten whole, every hash computed again, passes: the chain has no secret.
// VerifyAuditAgainst also checks it against anchors kept outside the database.
func (db *DB) VerifyAudit(ctx context.Context, report func(AuditProblem)) (int64, error) {
	return db.VerifyAuditAgainst(ctx, nil, report)
}

// VerifyAuditAgainst is VerifyAudit that also checks, for each anchor, that row Seq is in
// the chain with that hash: a trail changed, cut or rewritten anywhere up to an anchor
// fails it, whatever was computed again, since the hash of row Seq covers every row before.
func (db *DB) VerifyAuditAgainst(ctx context.Context, anchors []AuditAnchor, report func(AuditProblem)) (int64, error) {
	v, err := db.VerifyTrail(ctx, anchors, report)
	return v.Rows, err
}

// AuditVerified is what a verify checked.
type AuditVerified struct {
	Rows   int64 // the trail's rows
	People int64 // people whose roster fields were checked against the trail's roster rows
	// Unverifiable is how many of them were enrolled before the roster trail (session 17):
	// no row of their enrolment to check against, only the fields an update row named since.
	Unverifiable int64
}

// VerifyTrail is VerifyAuditAgainst, returning what it checked.
func (db *DB) VerifyTrail(ctx context.Context, anchors []AuditAnchor, report func(AuditProblem)) (AuditVerified, error) {
	var v AuditVerified
	n, err := db.verifyTrail(ctx, anchors, report, &v)
	v.Rows = n
	return v, err
}

func (db *DB) verifyTrail(ctx context.Context, anchors []AuditAnchor, report func(AuditProblem), v *AuditVerified) (int64, error) {
	// One snapshot for the rows, the head and the ledger: a service writing meanwhile
	// (serve beside this command) adds rows and moves the head in one commit, and a head
	// read after the rows would be ahead of them, a chain broken that is not.
	snap, err := db.snapshot(ctx)
	if err != nil {
		return 0, err
	}
	defer snap.Rollback()
	// A database not yet migrated past 0034 (the migration refused on a broken trail, and
	// verify run to find the break) has no region column: its rows have none.
	sel := auditSelect
	regioned, err := db.migrated(ctx, snap, auditRegioned)
	if err != nil {
		return 0, err
	}
	if !regioned {
		sel = strings.Replace(sel, "rule, region,", "rule, '' AS region,", 1)
	}
	rows, err := snap.QueryContext(ctx, sel+`ORDER BY seq`)
	if err != nil {
		return 0, fmt.Errorf("%s: audit: %w", db, err)
	}
	defer rows.Close()
	expect := map[int64][]AuditAnchor{}
	for _, a := range anchors {
		expect[a.Seq] = append(expect[a.Seq], a)
	}
	migrated := map[string]bool{}     // the versions of the migration rows
	payCovers := map[int64]AuditRow{} // the payments rows, by the batch they cover
	accounts := newAccountsSeen()
	people := newPeopleSeen()
	prev := []byte{}
	var n, lastSeq int64
	for rows.Next() {
		r, err := scanAudit(rows)
		if err != nil {
			return n, err
		}
		n++
		if r.Seq != lastSeq+1 {
			report(AuditProblem{r.Seq, fmt.Sprintf("rows %d to %d are missing", lastSeq+1, r.Seq-1)})
		}
		if !bytes.Equal(r.Prev, prev) {
			report(AuditProblem{r.Seq, "its link to the row before does not match (a row deleted, inserted or moved)"})
		}
		if !bytes.Equal(rowHash(r.Prev, &r), r.Hash) {
			report(AuditProblem{r.Seq, "its content does not match its hash (changed)"})
		}
		for _, a := range expect[r.Seq] {
			if !bytes.Equal(a.Hash, r.Hash) {
				report(AuditProblem{r.Seq, fmt.Sprintf("its hash is not the anchor's %s: the trail up to it was changed and its hashes computed again, or replaced", a)})
			}
		}
		delete(expect, r.Seq)
		accounts.see(&r)
		people.see(&r)
		switch r.Kind {
		case "migration":
			migrated[migrationVersion(r.Detail)] = true
		case PaymentsKind:
			if b, ok := parsePaymentBatch(r.Detail); ok {
				if _, dup := payCovers[b.Batch]; dup {
					report(AuditProblem{r.Seq, fmt.Sprintf("a second payments row for batch %d", b.Batch)})
				}
				payCovers[b.Batch] = r
			} else {
				report(AuditProblem{r.Seq, "a payments audit row's detail cannot be read"})
			}
		}
		prev, lastSeq = r.Hash, r.Seq
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	rows.Close()
	for _, as := range expect {
		for _, a := range as {
			report(AuditProblem{a.Seq, fmt.Sprintf("the anchor %s names a row the trail does not have (it ends at %d): rows cut off the end, or the trail replaced", a, lastSeq)})
		}
	}
	var head string
	ok := true
	if err := snap.QueryRowContext(ctx, db.Rebind(`SELECT value FROM meta WHERE key = ?`), "audit_head").Scan(&head); err == sql.ErrNoRows {
		ok = false
	} else if err != nil {
		return n, fmt.Errorf("%s: meta audit_head: %w", db, err)
	}
	want := AuditAnchor{Seq: lastSeq, Hash: prev}.String()
	switch {
	case !ok && n > 0:
		report(AuditProblem{lastSeq, fmt.Sprintf("the chain has no head in meta, though the last row gives %q (the head deleted)", want)})
	case ok && head != want:
		report(AuditProblem{lastSeq, fmt.Sprintf("the chain's head is %q but the last row gives %q (rows cut off the end, or the head changed)", head, want)})
	}
	if err := db.verifyWhole(ctx, snap, n, migrated, report); err != nil {
		return n, err
	}
	if err := db.verifyRecoveries(ctx, snap, report); err != nil {
		return n, err
	}
	if err := db.verifyAccounts(ctx, snap, accounts, report); err != nil {
		return n, err
	}
	if v.People, v.Unverifiable, err = db.verifyPeople(ctx, snap, people, report); err != nil {
		return n, err
	}
	return n, db.verifyPayments(ctx, snap, payCovers, migrated[strconv.Itoa(paymentsAudited)], report)
}

// verifyWhole reports a trail wiped whole, rows and head, which the chain alone calls
// intact: an empty trail on a database that holds people, batches, runs, payments or
// accounts (each written with its audit row), and, once migrations are audited (0032),
// a migration applied without its row.
func (db *DB) verifyWhole(ctx context.Context, snap *sql.Tx, n int64, migrated map[string]bool, report func(AuditProblem)) error {
	if n == 0 {
		var held []string
		for _, table := range []string{"people", "batches", "runs", "payments", "users"} {
			var has bool
			if err := snap.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM `+table+`)`).Scan(&has); err != nil {
				return fmt.Errorf("%s: %s: %w", db, table, err)
			}
			if has {
				held = append(held, table)
			}
		}
		if len(held) > 0 {
			report(AuditProblem{0, fmt.Sprintf("the trail is empty but the database holds %s, each written with its audit row: the trail was wiped", strings.Join(held, ", "))})
		}
	}
	rows, err := snap.QueryContext(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		return fmt.Errorf("%s: schema_migrations: %w", db, err)
	}
	defer rows.Close()
	var missing []string
	audited := false
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return err
		}
		audited = audited || v == migrationsAudited
		if !migrated[strconv.Itoa(v)] {
			missing = append(missing, fmt.Sprintf("%04d", v))
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if audited && len(missing) > 0 {
		report(AuditProblem{0, fmt.Sprintf("migrations %s are applied but have no row in the trail (rows deleted, or the trail wiped)", strings.Join(missing, ", "))})
	}
	return nil
}

// PersonAudit returns the audit rows about one person, in order.
func (db *DB) PersonAudit(ctx context.Context, pid int64) ([]AuditRow, error) {
	return db.audit(ctx, `WHERE pid = ? ORDER BY seq`, pid)
}

// TrailQuery selects rows of the audit trail other than the engine's decisions (those are
// on each person's page): of one kind and one actor when given, made on days From to To
// when given, before sequence number Before when given, newest first, at most Limit.
type TrailQuery struct {
	Kind, Actor string
	// Action, when set, keeps the rows of that action (a decision's status: SUSPENDED).
	Action   string
	From, To sc.Date // NoDate: open; both set, at most DecisionDays apart, for decisions
	Before   int64   // 0: from the newest
	Limit    int
	// Region, when set, keeps only the rows about a person whose region lies in it, and
	// of the rows about no person those of the region's accounts: a scoped account's trail.
	Region string
}

// DecisionDays is the widest span of days a TrailQuery of decisions reads: a city's
// decisions are millions, read by day (audit_day), and an auditor samples a month.
const DecisionDays = 31

// Trail returns the rows q selects, through the partial indexes of the rows that are not
// decisions: audit_staff (migration 0015), audit_actor and audit_kind for one actor's or
// one kind's (0030); decisions by audit_day. It is TrailEach's walk, kept.
func (db *DB) Trail(ctx context.Context, q TrailQuery) ([]AuditRow, error) {
	var out []AuditRow
	err := db.TrailEach(ctx, q, nil, func(r *AuditRow) error { out = append(out, *r); return nil })
	return out, err
}

// Bounded refuses a query of decisions without both days, or over more than DecisionDays.
func (q TrailQuery) Bounded() error {
	if q.Kind == "decision" && (q.From == sc.NoDate || q.To == sc.NoDate || q.To < q.From || int(q.To-q.From) >= DecisionDays) {
		return sc.Errorf(sc.EInvalid, "decisions are read %d days at most: give from and to", DecisionDays)
	}
	return nil
}

// trailWhere is the WHERE clause of the rows q selects, and its arguments. Every
// condition goes with kind <> 'decision', word for word the partial indexes' WHERE.
func trailWhere(q TrailQuery) (string, []any) {
	where, args := []string{`kind <> 'decision'`}, []any{}
	switch q.Kind {
	case "decision":
		// By their days (audit_day: kind, day), which the caller bounds (DecisionDays).
		where = []string{`kind = 'decision'`}
	case "":
	default:
		where, args = append(where, `kind = ?`), append(args, q.Kind)
	}
	if q.Action != "" {
		where, args = append(where, `action = ?`), append(args, q.Action)
	}
	if q.Actor != "" {
		where, args = append(where, `actor = ?`), append(args, q.Actor)
	}
	if q.From != sc.NoDate {
		where, args = append(where, `day >= ?`), append(args, int64(q.From))
	}
	if q.To != sc.NoDate {
		where, args = append(where, `day <= ?`), append(args, int64(q.To))
	}
	if q.Before > 0 {
		where, args = append(where, `seq < ?`), append(args, q.Before)
	}
	if q.Region != "" {
		// A row about one of the region's people, or one about no person (a sign-in, an
		// export, an account made) by an account of the region: a town's auditor reads
		// what the town's and its villages' staff did, not only what concerns its people.
		// A row written in the region (AuditRow.Region) stays in its sight when its person
		// moves away or its account is moved; the rows about the people in it now are in
		// its sight whatever their region then (the person is the region's now); a row
		// about no person written before migration 0034 is read by its account's region now.
		rcond, ra := regionWhereOn("audit.region", q.Region)
		cond, a := regionWhereOn("p.region_code", q.Region)
		ucond, ua := regionWhereOn("u.region", q.Region)
		where = append(where, `((audit.region <> '' AND `+rcond+`) OR EXISTS (SELECT 1 FROM people p WHERE p.pid = audit.pid AND `+cond+`) OR (audit.pid = -1 AND audit.region = '' AND EXISTS (SELECT 1 FROM users u WHERE u.name = audit.actor AND `+ucond+`)))`)
		args = append(append(append(args, ra...), a...), ua...)
	}
	return `WHERE ` + strings.Join(where, ` AND `), args
}

// trailLimit is the most rows a TrailQuery of Limit n returns.
func trailLimit(n int) int {
	if n <= 0 || n > 100000 {
		return 100
	}
	return n
}

// LastVisit is the latest visit a village assistant recorded for a person in the console.
type LastVisit struct {
	Day     sc.Date // the day it was recorded
	Event   sc.Date // the day of the visit (the form's date)
	Outcome string  // alive, death, moved, notfound, refused
	Actor   string
}

// LastVisits returns the latest visit recorded in the console for each of pids that has
// one, so that a village's list shows who was visited and found no one, or refused,
// before someone goes again.
func (db *DB) LastVisits(ctx context.Context, pids []int64) (map[int64]*LastVisit, error) {
	out := map[int64]*LastVisit{}
	err := inPIDs(pids, func(in string, args []any) error {
		rows, err := db.audit(ctx, `WHERE kind = 'visit' AND pid IN `+in+` ORDER BY seq`, args...)
		if err != nil {
			return err
		}
		for _, r := range rows {
			v := &LastVisit{Day: r.Day, Event: r.Day, Actor: r.Actor}
			v.Outcome, _ = DetailField(r.Detail, "outcome")
			if e, ok := DetailField(r.Detail, "event_date"); ok {
				if d, err := sc.ParseDate(e); err == nil {
					v.Event = d
				}
			}
			out[r.PID] = v
		}
		return nil
	})
	return out, err
}

// inPIDs calls fn with pids in parts of at most 500, each as an SQL list of placeholders
// ("(?,?,…)") and its arguments.
func inPIDs(pids []int64, fn func(in string, args []any) error) error { return inList(pids, fn) }

// inList is inPIDs for any values.
func inList[T any](vals []T, fn func(in string, args []any) error) error {
	for len(vals) > 0 {
		part := vals[:min(len(vals), 500)]
		vals = vals[len(part):]
		args := make([]any, len(part))
		for i, p := range part {
			args[i] = p
		}
		if err := fn(`(?`+strings.Repeat(",?", len(part)-1)+`)`, args); err != nil {
			return err
		}
	}
	return nil
}

// Decisions calls fn for every decision row, in (day, person_id, seq) order: the order of
// decisions.csv.
func (db *DB) Decisions(ctx context.Context, fn func(*AuditRow) error) error {
	rows, err := db.rd.QueryContext(ctx, auditSelect+`WHERE kind = 'decision' ORDER BY day, person_id, seq`)
	if err != nil {
		return fmt.Errorf("%s: decisions: %w", db, err)
	}
	return eachAudit(rows, fn)
}

// eachAudit hands each audit row of rows to fn, in their order, and closes them.
func eachAudit(rows *sql.Rows, fn func(*AuditRow) error) error {
	defer rows.Close()
	for rows.Next() {
		r, err := scanAudit(rows)
		if err != nil {
			return err
		}
		if err := fn(&r); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (db *DB) audit(ctx context.Context, where string, args ...any) ([]AuditRow, error) {
	var out []AuditRow
	rows, err := db.rd.QueryContext(ctx, db.Rebind(auditSelect+where), args...)
	if err != nil {
		return nil, fmt.Errorf("%s: audit: %w", db, err)
	}
	err = eachAudit(rows, func(r *AuditRow) error { out = append(out, *r); return nil })
	return out, err
}
