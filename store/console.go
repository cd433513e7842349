package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	sc "github.com/silentcert/silentcert"
)

// The console's reads. Every query takes the caller's region prefix (a 0-, 4-, 6-, 9- or
// 12-digit code) and never returns a row outside it: scope is enforced here, in SQL, not
// only in the handlers. Prefixes are checked to be digits, so they never carry a wildcard.

// ValidPrefix reports whether p can scope a query: up to 12 ASCII digits.
func ValidPrefix(p string) bool {
	if len(p) > 12 {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
	}
	return true
}

func prefixArg(p string) (string, error) {
	if !ValidPrefix(p) {
		return "", sc.Errorf(sc.EInvalid, "region %q: want up to 12 digits", p)
	}
	return p + "%", nil
}

// villageDigits is the length of a village's code, the longest region code.
const villageDigits = 12

// unassigned is the summaries' region of the people with no village.
const unassigned = "~"

// levels are the lengths of the region codes the summaries keep.
var levels = [...]int{0, 4, 6, 9, 12}

// regionsOf returns the regions a village's people count in, from the top.
func regionsOf(village string) []string {
	if village == "" {
		return []string{"", unassigned}
	}
	out := make([]string, 0, len(levels))
	for _, l := range levels {
		if l <= len(village) {
			out = append(out, village[:l])
		}
	}
	return out
}

// parentOf returns the region one level up ("" for a city and for the unassigned).
func parentOf(region string) string {
	if region == unassigned {
		return ""
	}
	p := ""
	for _, l := range levels {
		if l < len(region) {
			p = region[:l]
		}
	}
	return p
}

// rollup is a sum by key, where each key names its village; spreading adds a village's
// figure to every region above it.
type rollup[K comparable] struct {
	m map[K]int64
}

func newRollup[K comparable]() *rollup[K] { return &rollup[K]{m: map[K]int64{}} }

func (r *rollup[K]) add(village string, n int64, key func(region string) K) {
	for _, reg := range regionsOf(village) {
		r.m[key(reg)] += n
	}
}

// sorted returns the keys in a fixed order, so that the same data is written the same way.
func (r *rollup[K]) sorted(less func(a, b K) bool) []K {
	keys := make([]K, 0, len(r.m))
	for k := range r.m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return less(keys[i], keys[j]) })
	return keys
}

// inserter writes rows many to a statement: a summary is tens of thousands of rows, and
// one round trip each is what makes PostgreSQL slow at it.
type inserter struct {
	t      *Tx
	head   string
	cols   int
	args   []any
	suffix string // after the VALUES (ON CONFLICT …)
}

func (t *Tx) inserter(head string, cols int) *inserter {
	return &inserter{t: t, head: head, cols: cols}
}

func (in *inserter) add(vals ...any) error {
	in.args = append(in.args, vals...)
	if len(in.args) >= in.cols*500 {
		return in.flush()
	}
	return nil
}

func (in *inserter) flush() error {
	if len(in.args) == 0 {
		return nil
	}
	one := "(" + strings.TrimSuffix(strings.Repeat("?,", in.cols), ",") + ")"
	q := in.head + ` VALUES ` + strings.TrimSuffix(strings.Repeat(one+",", len(in.args)/in.cols), ",") + in.suffix
	_, err := in.t.tx.ExecContext(in.t.ctx, in.t.db.Rebind(q), in.args...)
	in.args = in.args[:0]
	if err != nil {
		return fmt.Errorf("%s: summary: %w", in.t.db, err)
	}
	return nil
}

// regionWhere returns the condition "region_code lies in prefix" as a range over the
// people_region index, and its arguments: codes are digits, so the codes that start with
// p are those from p up to p plus one (3710 → 3711), in any collation. An empty prefix is
// no condition (everyone, the unassigned too). A village's whole code (12 digits, the
// longest there is: exchange refuses any other in a roster or a move) is an equality:
// the range would hold that one code, but only an equality lets an index that goes on
// with a list's sort key (people_village, console_risk_region) give its rows in order,
// where a range has them sorted again.
func regionWhere(p string) (string, []any) { return regionWhereOn("region_code", p) }

// regionWhereOn is regionWhere over the column col (a joined table's, "p.region_code").
func regionWhereOn(col, p string) (string, []any) {
	if p == "" {
		return `1 = 1`, nil
	}
	if len(p) == villageDigits {
		return col + ` = ?`, []any{p}
	}
	b := []byte(p)
	i := len(b) - 1
	for ; i >= 0 && b[i] == '9'; i-- {
		b[i] = '0'
	}
	if i < 0 {
		return col + ` >= ?`, []any{p}
	}
	b[i]++
	return col + ` >= ? AND ` + col + ` < ?`, []any{p, string(b[:i+1])}
}

// RefreshSummary brings the console's summaries up to day: the live snapshot, the stock at
// the end of day's month, and the decisions and payments of day's month. The service calls
// it after each daily run, in the run's transaction or just after.
func (t *Tx) RefreshSummary(day sc.Date) error { return t.RefreshSummaryPaid(day, nil) }

// PaidSums are the sums of the payments a payroll just added in the transaction, by the
// person's village and kind as console_money counts them (WITHHELD for every withheld
// status): the caller has them in memory, and the payments of a million people need not
// be read back, joined with people and grouped to find them again.
type PaidSums struct {
	Month     sc.Month
	Rows      int64 // payments given to AddPayments for the month
	Total     int64 // their amount
	ByVillage map[PaidKey]int64
}

// PaidKey is a village and a kind of payment.
type PaidKey struct{ Region, Kind string }

// MoneyKind is the kind console_money counts a payment's kind as.
func MoneyKind(kind string) string {
	if strings.HasPrefix(kind, "WITHHELD") {
		return "WITHHELD"
	}
	return kind
}

// RefreshSummaryPaid is RefreshSummary told the sums of the payroll that ran in the
// transaction, if one did. They are used when the month's payments stored are exactly
// those given (their count and total agree: none was already stored); otherwise, as
// without them, the month's money is summed from the payments table.
func (t *Tx) RefreshSummaryPaid(day sc.Date, paid *PaidSums) error {
	m := int64(day.Month())
	for _, s := range []struct {
		q    string
		args []any
	}{
		{`DELETE FROM console_now`, nil},
		{`DELETE FROM console_stock WHERE month = ?`, []any{m}},
	} {
		if _, err := t.tx.ExecContext(t.ctx, t.db.Rebind(s.q), s.args...); err != nil {
			return fmt.Errorf("%s: refresh summary: %w", t.db, err)
		}
	}
	if err := t.now(m); err != nil {
		return err
	}
	// Decisions are added to the flow as they come (the rows after the last one counted),
	// instead of the month's being summed again every day.
	var done int64
	if v, ok, err := t.meta("console_flow_seq"); err != nil {
		return err
	} else if ok {
		done, _ = strconv.ParseInt(v, 10, 64)
	}
	var top int64
	if err := t.QueryRow(`SELECT COALESCE(max(seq), 0) FROM audit`).Scan(&top); err != nil {
		return fmt.Errorf("%s: refresh summary: %w", t.db, err)
	}
	if top > done {
		if err := t.flowAdd(`AND a.seq > ? AND a.seq <= ?`, done, top); err != nil {
			return err
		}
		if err := t.SetMeta("console_flow_seq", strconv.FormatInt(top, 10)); err != nil {
			return err
		}
	}
	// Payments change only on payroll day: the month's money is summed again when the
	// payroll ran on day, or when it was never summed.
	var payDay, have int64
	if err := t.QueryRow(`SELECT count(*) FROM console_money WHERE month = ?`, m).Scan(&have); err != nil {
		return fmt.Errorf("%s: refresh summary: %w", t.db, err)
	}
	err := t.QueryRow(`SELECT day FROM payrolls WHERE month = ?`, m).Scan(&payDay)
	if err != nil && err != sql.ErrNoRows {
		return fmt.Errorf("%s: refresh summary: %w", t.db, err)
	}
	if have == 0 || (err == nil && sc.Date(payDay) == day) {
		if _, err := t.tx.ExecContext(t.ctx, t.db.Rebind(`DELETE FROM console_money WHERE month = ?`), m); err != nil {
			return fmt.Errorf("%s: refresh summary: %w", t.db, err)
		}
		if ok, err := t.moneyFrom(paid, m); err != nil {
			return err
		} else if !ok {
			if err := t.money(`WHERE pay.payroll_month = ?`, m); err != nil {
				return err
			}
		}
	}
	if err := t.refreshRisk(); err != nil {
		return err
	}
	return t.SetMeta("console_summary", day.String())
}

// RebuildSummary recomputes every summary from people, audit and payments: after a replay
// or a restore, when the month-by-month history must be rebuilt from the decisions.
func (t *Tx) RebuildSummary(day sc.Date) error {
	for _, q := range []string{`DELETE FROM console_stock`, `DELETE FROM console_flow`, `DELETE FROM console_money`, `DELETE FROM console_risk`} {
		if _, err := t.tx.ExecContext(t.ctx, q); err != nil {
			return fmt.Errorf("%s: rebuild summary: %w", t.db, err)
		}
	}
	if err := t.flow(``); err != nil {
		return err
	}
	var top int64
	if err := t.QueryRow(`SELECT COALESCE(max(seq), 0) FROM audit`).Scan(&top); err != nil {
		return fmt.Errorf("%s: rebuild summary: %w", t.db, err)
	}
	if err := t.SetMeta("console_flow_seq", strconv.FormatInt(top, 10)); err != nil {
		return err
	}
	// The risk list is read again from the whole trail by RefreshSummary below.
	if err := t.SetMeta("console_risk_seq", "0"); err != nil {
		return err
	}
	if err := t.money(``); err != nil {
		return err
	}
	if err := t.stockHistory(day.Month()); err != nil {
		return err
	}
	if err := t.RefreshSummary(day); err != nil {
		return err
	}
	if t.db.dialect == Postgres {
		// The tables were refilled whole: their statistics are refreshed now, not at
		// autovacuum's next pass, or the planner joins a risk list it thinks empty by
		// hashing every person (the list's city page took 140 ms instead of 30).
		for _, tb := range []string{`console_stock`, `console_flow`, `console_money`, `console_risk`} {
			if err := t.execRaw(`ANALYZE ` + tb); err != nil {
				return err
			}
		}
	}
	return nil
}

// now writes the live snapshot and, from it, the stock of month m.
func (t *Tx) now(m int64) error {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT region_code, status, last_method, count(*) FROM people GROUP BY region_code, status, last_method`)
	if err != nil {
		return fmt.Errorf("%s: summary now: %w", t.db, err)
	}
	type key struct {
		region         string
		status, method int
	}
	now := newRollup[key]()
	for rows.Next() {
		var v string
		var st, me int
		var n int64
		if err := rows.Scan(&v, &st, &me, &n); err != nil {
			rows.Close()
			return err
		}
		now.add(v, n, func(r string) key { return key{r, st, me} })
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	stock := map[key]int64{}
	ins := t.inserter(`INSERT INTO console_now (region, parent, status, method, n)`, 5)
	for _, k := range now.sorted(func(a, b key) bool {
		return a.region < b.region || a.region == b.region && (a.status < b.status || a.status == b.status && a.method < b.method)
	}) {
		if err := ins.add(k.region, parentOf(k.region), k.status, k.method, now.m[k]); err != nil {
			return err
		}
		stock[key{k.region, k.status, 0}] += now.m[k]
	}
	if err := ins.flush(); err != nil {
		return err
	}
	keys := make([]key, 0, len(stock))
	for k := range stock {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i].region < keys[j].region || keys[i].region == keys[j].region && keys[i].status < keys[j].status
	})
	ins = t.inserter(`INSERT INTO console_stock (region, month, status, n)`, 4)
	for _, k := range keys {
		if err := ins.add(k.region, m, k.status, stock[k]); err != nil {
			return err
		}
	}
	return ins.flush()
}

// flow sums decision rows (optionally of a day range) by region, month, action, method
// and the evidence's source.
func (t *Tx) flow(where string, args ...any) error { return t.flowInto(false, where, args...) }

// flowAdd adds the decision rows that where selects to the flow already summed.
func (t *Tx) flowAdd(where string, args ...any) error { return t.flowInto(true, where, args...) }

func (t *Tx) flowInto(add bool, where string, args ...any) error {
	rows, err := t.tx.QueryContext(t.ctx, t.db.Rebind(`SELECT a.day, p.region_code, a.action, a.method, a.evidence
		FROM audit a JOIN people p ON p.pid = a.pid WHERE a.kind = 'decision' `+where), args...)
	if err != nil {
		return fmt.Errorf("%s: summary flow: %w", t.db, err)
	}
	type key struct {
		month                           int64
		village, action, method, source string
	}
	byVillage := map[key]int64{}
	for rows.Next() {
		var day int64
		var k key
		var ev string
		if err := rows.Scan(&day, &k.village, &k.action, &k.method, &ev); err != nil {
			rows.Close()
			return err
		}
		k.month = int64(sc.Date(day).Month())
		if i := strings.IndexByte(ev, ':'); i > 0 {
			k.source = ev[:i]
		}
		byVillage[k]++
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	all := newRollup[key]()
	for k, n := range byVillage {
		all.add(k.village, n, func(r string) key { k2 := k; k2.village = r; return k2 })
	}
	ins := t.inserter(`INSERT INTO console_flow (region, month, action, method, source, n)`, 6)
	if add {
		ins.suffix = ` ON CONFLICT (region, month, action, method, source) DO UPDATE SET n = console_flow.n + excluded.n`
	}
	for _, k := range all.sorted(func(a, b key) bool {
		if a.village != b.village {
			return a.village < b.village
		}
		if a.month != b.month {
			return a.month < b.month
		}
		return a.action+"\x00"+a.method+"\x00"+a.source < b.action+"\x00"+b.method+"\x00"+b.source
	}) {
		if err := ins.add(k.village, k.month, k.action, k.method, k.source, all.m[k]); err != nil {
			return err
		}
	}
	return ins.flush()
}

// money sums payments by region, payroll month and kind; WITHHELD:STATUS kinds are summed
// as WITHHELD.
func (t *Tx) money(where string, args ...any) error {
	kind := `CASE WHEN pay.kind LIKE 'WITHHELD%' THEN 'WITHHELD' ELSE pay.kind END`
	rows, err := t.tx.QueryContext(t.ctx, t.db.Rebind(`SELECT p.region_code, pay.payroll_month, `+kind+`, CAST(sum(pay.amount) AS BIGINT)
		FROM payments pay JOIN people p ON p.pid = pay.pid `+where+`
		GROUP BY p.region_code, pay.payroll_month, `+kind), args...)
	if err != nil {
		return fmt.Errorf("%s: summary money: %w", t.db, err)
	}
	all := newRollup[moneyKey]()
	for rows.Next() {
		var v, k string
		var m, n int64
		if err := rows.Scan(&v, &m, &k, &n); err != nil {
			rows.Close()
			return err
		}
		all.add(v, n, func(r string) moneyKey { return moneyKey{r, m, k} })
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	return t.writeMoney(all)
}

// moneyFrom writes month m's money from paid when paid holds exactly the payments stored
// for m, and tells whether it did.
func (t *Tx) moneyFrom(paid *PaidSums, m int64) (bool, error) {
	if paid == nil || int64(paid.Month) != m {
		return false, nil
	}
	var rows, total int64
	if err := t.QueryRow(`SELECT count(*), COALESCE(sum(amount), 0) FROM payments WHERE payroll_month = ?`, m).Scan(&rows, &total); err != nil {
		return false, fmt.Errorf("%s: summary money: %w", t.db, err)
	}
	if rows != paid.Rows || total != paid.Total {
		return false, nil
	}
	all := newRollup[moneyKey]()
	for k, n := range paid.ByVillage {
		all.add(k.Region, n, func(r string) moneyKey { return moneyKey{r, m, k.Kind} })
	}
	return true, t.writeMoney(all)
}

// moneyKey is a row of console_money.
type moneyKey struct {
	region string
	month  int64
	kind   string
}

// writeMoney inserts the rows of console_money, in order.
func (t *Tx) writeMoney(all *rollup[moneyKey]) error {
	ins := t.inserter(`INSERT INTO console_money (region, month, kind, amount)`, 4)
	for _, k := range all.sorted(func(a, b moneyKey) bool {
		return a.region < b.region || a.region == b.region && (a.month < b.month || a.month == b.month && a.kind < b.kind)
	}) {
		if err := ins.add(k.region, k.month, k.kind, all.m[k]); err != nil {
			return err
		}
	}
	return ins.flush()
}

// actionStatus is the status a decision row leaves its person in, or -1 when it leaves
// the status as it was (RISK).
func actionStatus(a string) int {
	switch a {
	case "CERTIFIED", "RESUMED", "RESTORED":
		return int(sc.StatusCertified)
	case "WARNING":
		return int(sc.StatusWarning)
	case "PENDING":
		return int(sc.StatusPending)
	case "SUSPENDED":
		return int(sc.StatusSuspended)
	case "TERMINATED":
		return int(sc.StatusTerminated)
	case "LOSS":
		return int(sc.StatusLoss)
	case "CONFLICT":
		return int(sc.StatusConflict)
	}
	return -1
}

// stockHistory rebuilds the month-end status counts before month upTo from each person's
// decisions, in their order: the status a person was left in at the end of each month.
func (t *Tx) stockHistory(upTo sc.Month) error {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT a.pid, a.day, a.action, p.region_code
		FROM audit a JOIN people p ON p.pid = a.pid WHERE a.kind = 'decision' ORDER BY a.pid, a.seq`)
	if err != nil {
		return fmt.Errorf("%s: summary stock: %w", t.db, err)
	}
	type key struct {
		month   int64
		village string
		status  int
	}
	byVillage := map[key]int64{}
	curPID, status := int64(-1), -1
	var village string
	var month sc.Month
	flush := func(until sc.Month) { // the person's status at the end of month..until-1
		if curPID < 0 || status < 0 {
			return
		}
		for m := month; m < until; m++ {
			byVillage[key{int64(m), village, status}]++
		}
	}
	for rows.Next() {
		var pid, day int64
		var action, v string
		if err := rows.Scan(&pid, &day, &action, &v); err != nil {
			rows.Close()
			return err
		}
		dm := sc.Date(day).Month()
		if pid != curPID {
			flush(upTo)
			curPID, status, village, month = pid, -1, v, dm
		}
		if dm > month {
			flush(min(dm, upTo))
			month = dm
		}
		if s := actionStatus(action); s >= 0 {
			status = s
		}
	}
	flush(upTo)
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	all := newRollup[key]()
	for k, n := range byVillage {
		all.add(k.village, n, func(r string) key { return key{k.month, r, k.status} })
	}
	ins := t.inserter(`INSERT INTO console_stock (region, month, status, n)`, 4)
	for _, k := range all.sorted(func(a, b key) bool {
		return a.village < b.village || a.village == b.village && (a.month < b.month || a.month == b.month && a.status < b.status)
	}) {
		if err := ins.add(k.village, k.month, k.status, all.m[k]); err != nil {
			return err
		}
	}
	return ins.flush()
}

// SummaryDay returns the day the console's summaries were last refreshed, or NoDate.
func (db *DB) SummaryDay(ctx context.Context) (sc.Date, error) {
	v, ok, err := db.Meta(ctx, "console_summary")
	if err != nil || !ok {
		return sc.NoDate, err
	}
	return sc.ParseDate(v)
}

// StatusCount is a number of people in one status with one latest method.
type StatusCount struct {
	Status sc.Status
	Method sc.Method
	N      int64
}

// Snapshot returns the people of a region by status and latest method, as of the last
// refresh.
func (db *DB) Snapshot(ctx context.Context, prefix string) ([]StatusCount, error) {
	if _, err := prefixArg(prefix); err != nil {
		return nil, err
	}
	rows, err := db.rd.QueryContext(ctx, db.Rebind(`SELECT status, method, n FROM console_now
		WHERE region = ? ORDER BY status, method`), prefix)
	if err != nil {
		return nil, fmt.Errorf("%s: snapshot: %w", db, err)
	}
	defer rows.Close()
	var out []StatusCount
	for rows.Next() {
		var s, m int
		var c StatusCount
		if err := rows.Scan(&s, &m, &c.N); err != nil {
			return nil, err
		}
		c.Status, c.Method = sc.Status(s), sc.Method(m)
		out = append(out, c)
	}
	return out, rows.Err()
}

// RegionStat is one division's people by status, as of the last refresh.
type RegionStat struct {
	Code     string
	ByStatus [7]int64
	Total    int64
}

// Certified returns the number of people whose period runs (CERTIFIED or WARNING).
func (r *RegionStat) Certified() int64 {
	return r.ByStatus[sc.StatusCertified] + r.ByStatus[sc.StatusWarning]
}

// Living returns the number of people not terminated: the base of the certification rate.
func (r *RegionStat) Living() int64 { return r.Total - r.ByStatus[sc.StatusTerminated] }

// Rate returns the certification rate: certified over living, or 0.
func (r *RegionStat) Rate() float64 {
	if l := r.Living(); l > 0 {
		return float64(r.Certified()) / float64(l)
	}
	return 0
}

// Region returns one division's people by status (prefix "" is everyone).
func (db *DB) Region(ctx context.Context, prefix string) (RegionStat, error) {
	out := RegionStat{Code: prefix}
	cs, err := db.Snapshot(ctx, prefix)
	for _, c := range cs {
		if int(c.Status) < len(out.ByStatus) {
			out.ByStatus[c.Status] += c.N
		}
		out.Total += c.N
	}
	return out, err
}

// Regions returns, for each division directly under prefix, its people by status.
// Unassigned people appear, with Code "", only under the empty prefix.
func (db *DB) Regions(ctx context.Context, prefix string) ([]RegionStat, error) {
	if _, err := prefixArg(prefix); err != nil {
		return nil, err
	}
	rows, err := db.rd.QueryContext(ctx, db.Rebind(`SELECT region, status, CAST(sum(n) AS BIGINT) FROM console_now
		WHERE parent = ? AND region <> '' GROUP BY region, status ORDER BY 1, 2`), prefix)
	if err != nil {
		return nil, fmt.Errorf("%s: regions: %w", db, err)
	}
	defer rows.Close()
	var out []RegionStat
	for rows.Next() {
		var code string
		var s int
		var n int64
		if err := rows.Scan(&code, &s, &n); err != nil {
			return nil, err
		}
		if code == unassigned {
			code = ""
		}
		if len(out) == 0 || out[len(out)-1].Code != code {
			out = append(out, RegionStat{Code: code})
		}
		r := &out[len(out)-1]
		if s >= 0 && s < len(r.ByStatus) {
			r.ByStatus[s] += n
		}
		r.Total += n
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out, rows.Err()
}

// MonthCount is one month's figure in a trend.
type MonthCount struct {
	Month sc.Month
	Key   string
	N     int64
}

// StockTrend returns people by status at the end of each month, for a region.
func (db *DB) StockTrend(ctx context.Context, prefix string) ([]MonthCount, error) {
	return db.monthly(ctx, prefix, `SELECT month, CAST(status AS TEXT), n FROM console_stock WHERE region = ?
		ORDER BY month, status`, func(k string) string {
		s, _ := strconv.Atoi(k)
		return sc.Status(s).String()
	})
}

// FlowTrend returns a region's decisions by month: key "ACTION" when by is "action",
// "ACTION/METHOD" when "method", "ACTION/SOURCE" when "source".
func (db *DB) FlowTrend(ctx context.Context, prefix, by string) ([]MonthCount, error) {
	col := map[string]string{"action": `action`, "method": `action || '/' || method`, "source": `action || '/' || source`}[by]
	if col == "" {
		return nil, sc.Errorf(sc.EInvalid, "flow by %q", by)
	}
	return db.monthly(ctx, prefix, `SELECT month, `+col+`, CAST(sum(n) AS BIGINT) FROM console_flow WHERE region = ?
		GROUP BY month, `+col+` ORDER BY 1, 2`, nil)
}

// MoneyTrend returns a region's payments by payroll month and kind, in fen.
func (db *DB) MoneyTrend(ctx context.Context, prefix string) ([]MonthCount, error) {
	return db.monthly(ctx, prefix, `SELECT month, kind, amount FROM console_money WHERE region = ? ORDER BY month, kind`, nil)
}

func (db *DB) monthly(ctx context.Context, prefix, q string, name func(string) string) ([]MonthCount, error) {
	if _, err := prefixArg(prefix); err != nil {
		return nil, err
	}
	rows, err := db.rd.QueryContext(ctx, db.Rebind(q), prefix)
	if err != nil {
		return nil, fmt.Errorf("%s: trend: %w", db, err)
	}
	defer rows.Close()
	var out []MonthCount
	for rows.Next() {
		var m int64
		var k string
		var c MonthCount
		if err := rows.Scan(&m, &k, &c.N); err != nil {
			return nil, err
		}
		c.Month, c.Key = sc.Month(m), k
		if name != nil {
			c.Key = name(k)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Worklist names a console worklist.
type Worklist string

// The worklists: who needs work, by the status that puts them there.
const (
	WorkWarning    Worklist = "warning"    // certified, period ending within the window
	WorkPending    Worklist = "pending"    // period ended, still paid during grace
	WorkSuspended  Worklist = "suspended"  // payment stopped
	WorkConflict   Worklist = "conflict"   // a death and a later sign of life: review
	WorkUnassigned Worklist = "unassigned" // no village: the address did not resolve
	WorkRisk       Worklist = "risk"       // an open RISK flag of an evidence model: a death may be hidden
	WorkVillage    Worklist = "village"    // everyone of a village, most urgent first
)

// Worklists lists the worklists in the console's order.
func Worklists() []Worklist {
	return []Worklist{WorkWarning, WorkPending, WorkSuspended, WorkConflict, WorkRisk, WorkUnassigned}
}

// WorkQuery selects a page of a worklist.
type WorkQuery struct {
	List   Worklist
	Prefix string  // the region: the user's scope, or a division inside it
	Today  sc.Date // the console's day
	Months int     // warning: period ending within this many months (1–3); others: 0
	From   sc.Date // period end (until_day) on or after, or NoDate; risk: the flag's day
	To     sc.Date // period end on or before, or NoDate; risk: the flag's day
	// Frailest puts the highest health index first (people not scored last), then the
	// list's own order: whom to visit first when a visit may find a hidden death.
	Frailest bool
	Offset   int
	Limit    int // 0: no limit (exports)
}

// WorkRow is one person on a worklist: what a list shows, without the engine state.
type WorkRow struct {
	PID        int64
	PersonID   string
	Name       string
	Sex        int
	BirthDate  sc.Date
	Address    string
	RegionCode string
	Phone      string
	AgentPhone string
	Status     sc.Status
	Until      sc.Date
	Method     sc.Method
	DeathDate  sc.Date
	Health     int // the health index in thousandths (-1: not scored)
	// The risk list's: the day of the open RISK flag, its score and its detail (the
	// model's reasons); NoDate and empty on the other lists.
	Flagged    sc.Date
	Score      float64
	RiskDetail string
}

const workCols = `pid, person_id, name, sex, birth_date, hukou_address, region_code, phone, agent_phone, status, until_day, last_method, death_date, health`

// WorkCountCap is where Work stops counting a list: a total above it means "more than".
const WorkCountCap = 10000

// Work returns a page of a worklist, most urgent first (the earliest period end), and the
// number of rows in the whole list, counted up to WorkCountCap+1.
func (db *DB) Work(ctx context.Context, q WorkQuery) ([]WorkRow, int64, error) {
	var out []WorkRow
	var total int64
	err := db.work(ctx, db.rd, q, WorkCountCap+1, func(n int64) error { total = n; return nil }, func(r *WorkRow) error {
		out = append(out, *r)
		return nil
	})
	return out, total, err
}

// work is Work's query and WorkEach's, read through rd (the pool, or one snapshot): it
// counts the list, up to count rows (0: it does not count), and hands the number to
// counted, then hands each row of q's page to each, in the list's order.
func (db *DB) work(ctx context.Context, rd reader, q WorkQuery, count int, counted func(int64) error, each func(*WorkRow) error) error {
	if _, err := prefixArg(q.Prefix); err != nil {
		return err
	}
	switch {
	case q.List == WorkRisk:
		return db.workRisk(ctx, rd, q, count, counted, each)
	case q.List == WorkUnassigned && q.Prefix != "":
		if count > 0 { // unassigned people belong to no region below the city
			return counted(0)
		}
		return nil
	}
	page, countSQL, args, err := db.workSQL(q, count)
	if err != nil {
		return err
	}
	if count > 0 {
		var total int64
		if err := rd.QueryRowContext(ctx, db.Rebind(countSQL), args...).Scan(&total); err != nil {
			return fmt.Errorf("%s: worklist %s: %w", db, q.List, err)
		}
		if err := counted(total); err != nil {
			return err
		}
	}
	rows, err := rd.QueryContext(ctx, db.Rebind(page), args...)
	if err != nil {
		return fmt.Errorf("%s: worklist %s: %w", db, q.List, err)
	}
	return eachWork(rows, each)
}

// workSQL returns the statements of a page of a worklist (not the risk list's) and of its
// count, which stops at upTo rows (Work's past WorkCountCap: a city's "due within three
// months" is a quarter of everyone, and counting it exactly is what made the page slow,
// not reading it). Both take args.
//
// Each list is read in its own order from an index, so that a page reads its fifty rows
// and those before it, never the whole list to sort it (a scale review, 250,000 people
// nearly all due: a village's due list read the city's due by the status index and
// sorted them, 0.94 s on SQLite; "frailest first" and deep pages sorted the whole list
// for every page):
//   - a village's lists by people_village (region_code, until_day, pid, status), with the
//     village's code as an equality (regionWhere);
//   - the due list of a wider region, or of the city, by people_due (until_day, pid, …)
//     and, frailest first, people_frailest (health DESC, until_day, pid, …): both hold the
//     certified and warned alone (their WHERE is the list's status IN (0, 1), word for
//     word, which is how the planners know they may use them), with the status and the
//     region code, so that every filter is checked in the index and a deep page skips
//     index entries, not people's rows (pages keep their OFFSET: they are links by number);
//   - the other statuses' lists by people_status_until (status, until_day, pid): a small
//     share of the city each, sorted when frailest first;
//   - the village's page (WorkVillage) by the village's index, sorted: a few hundred people.
//
// SQLite has no statistics here, and an IN of two statuses looks narrow to it: left to
// itself it reads the due list through people_status_until and sorts it. It is named
// the index (INDEXED BY, which fails the statement rather than plan it otherwise, if a
// later migration ever drops the index). PostgreSQL chooses from its statistics, the
// same but for a town's or a district's list, which it may read by the region and sort.
// TestWorkPlans pins the plans of both.
func (db *DB) workSQL(q WorkQuery, upTo int) (page, count string, args []any, err error) {
	// Statuses and days are written into the SQL, not passed as parameters: PostgreSQL
	// plans a statement once it has run it five times (pgx caches statements), and one
	// plan for "status = $1" serves the pending list (0.3 % of people) as it would the
	// certified (85 %): through the until_day index, reading most of the city for fifty
	// rows; one for "until_day <= $1" guesses a third of the city due and counts the due
	// list by reading every person (250,000 people, 3,700 due: 50-110 ms instead of 1-6).
	// The due list's status IN (0, 1) must also be the partial indexes' WHERE, word for
	// word.
	st := func(s sc.Status) string { return strconv.Itoa(int(s)) }
	day := func(d sc.Date) string { return strconv.FormatInt(int64(d), 10) }
	var where []string
	from, order := ` FROM people`, `until_day, pid`
	pageFrom := ``
	switch q.List {
	case WorkWarning:
		m := q.Months
		if m < 1 || m > 3 {
			m = 3
		}
		where = append(where, `status IN (`+st(sc.StatusCertified)+`, `+st(sc.StatusWarning)+`)`, `until_day <= `+day(q.Today.AddMonths(m)))
		if db.dialect == SQLite && len(q.Prefix) != villageDigits {
			// The count by period end, whatever the page's order: read frailest first, a
			// short list would be looked for through every certified person.
			from = ` FROM people INDEXED BY people_due`
			if q.Frailest {
				pageFrom = ` FROM people INDEXED BY people_frailest`
			}
		}
	case WorkPending:
		where = append(where, `status = `+st(sc.StatusPending))
	case WorkSuspended:
		where = append(where, `status = `+st(sc.StatusSuspended))
	case WorkConflict:
		where = append(where, `status = `+st(sc.StatusConflict))
	case WorkUnassigned:
		where = append(where, `region_code = ''`, `status <> `+st(sc.StatusTerminated))
	case WorkVillage:
		where = append(where, `status <> `+st(sc.StatusTerminated))
		// The most urgent first; among the equally urgent, the frailest (a visit there is
		// likeliest to find a death no one reported), then the earliest period end.
		order = `CASE status WHEN 6 THEN 0 WHEN 3 THEN 1 WHEN 2 THEN 2 WHEN 1 THEN 3 ELSE 4 END, health DESC, until_day, pid`
	default:
		return "", "", nil, sc.Errorf(sc.ENotFound, "no worklist %q", q.List)
	}
	if q.Prefix != "" {
		cond, cargs := regionWhere(q.Prefix)
		where, args = append(where, cond), append(args, cargs...)
	}
	if q.From != sc.NoDate {
		where = append(where, `until_day >= `+day(q.From))
	}
	if q.To != sc.NoDate {
		where = append(where, `until_day <= `+day(q.To))
	}
	w := ` WHERE ` + strings.Join(where, ` AND `)
	count = `SELECT count(*) FROM (SELECT 1` + from + w + ` LIMIT ` + strconv.Itoa(upTo) + `) c`
	if q.Frailest {
		order = `health DESC, ` + order
	}
	if pageFrom == `` {
		pageFrom = from
	}
	page = `SELECT ` + workCols + pageFrom + w + ` ORDER BY ` + order
	if q.Limit > 0 {
		page += ` LIMIT ` + strconv.Itoa(q.Limit) + ` OFFSET ` + strconv.Itoa(max(q.Offset, 0))
	}
	return page, count, args, nil
}

func scanWork(rows *sql.Rows) ([]WorkRow, error) {
	var out []WorkRow
	err := eachWork(rows, func(r *WorkRow) error {
		out = append(out, *r)
		return nil
	})
	return out, err
}

// eachWork hands each row of rows to each, and closes them.
func eachWork(rows *sql.Rows, each func(*WorkRow) error) error {
	defer rows.Close()
	for rows.Next() {
		var r WorkRow
		var birth, until, death int64
		var status, method int
		if err := rows.Scan(&r.PID, &r.PersonID, &r.Name, &r.Sex, &birth, &r.Address, &r.RegionCode, &r.Phone,
			&r.AgentPhone, &status, &until, &method, &death, &r.Health); err != nil {
			return err
		}
		r.BirthDate, r.Until, r.DeathDate, r.Flagged = sc.Date(birth), sc.Date(until), sc.Date(death), sc.NoDate
		r.Status, r.Method = sc.Status(status), sc.Method(method)
		if err := each(&r); err != nil {
			return err
		}
	}
	return rows.Err()
}

// nameDots are the dots written between the parts of a Uyghur or foreign name
// (祖丽菲亚·阿不都热合曼): rosters store whichever the clerk typed, and users type another.
var nameDots = []string{"·", "•", "・", "．", ".", "‧", "･"}

// Search finds people of a region by ID number (whole) or by the start of their name (张三;
// 祖丽菲亚 finds 祖丽菲亚·阿不都热合曼, the dot typed and stored as any dot), at most limit,
// ordered by name, then ID number (the database's order of text: code points on SQLite,
// the collation's on PostgreSQL). Ask for one more than is shown to learn that there are
// more.
func (db *DB) Search(ctx context.Context, prefix, text string, limit int) ([]WorkRow, error) {
	if _, err := prefixArg(prefix); err != nil {
		return nil, err
	}
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, nil
	}
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	// The region's index must not be chosen over the name's or the ID's for a wide region:
	// a city-wide search would scan the city. SQLite, without statistics, is told so (a
	// unary + on the column); PostgreSQL's planner knows.
	col, order := "region_code", "name, person_id"
	if db.dialect == SQLite {
		if len(prefix) < 12 {
			col = "+region_code"
		} else {
			// A village's few hundred people are best read by region: ordered by the
			// name's column, SQLite would read the city's 王 by the name index instead.
			order = "+name, person_id"
		}
	}
	cond, cargs := regionWhereOn(col, prefix)
	var where string
	var args []any
	if looksLikeID(text) {
		where, args = `person_id = ?`, []any{strings.ToUpper(text)}
	} else {
		// Every spelling of the dots the text has, each a range of the name index.
		spellings := []string{text}
		for _, d := range nameDots {
			if strings.Contains(text, d) {
				for _, to := range nameDots {
					spellings = append(spellings, strings.ReplaceAll(text, d, to))
				}
			}
		}
		slices.Sort(spellings)
		spellings = slices.Compact(spellings)
		var or []string
		for _, n := range spellings {
			or = append(or, `(name >= ? AND name < ?)`)
			args = append(args, n, n+"\U0010FFFF")
		}
		where = `(` + strings.Join(or, ` OR `) + `)`
	}
	rows, err := db.rd.QueryContext(ctx, db.Rebind(`SELECT `+workCols+` FROM people
		WHERE `+where+` AND `+cond+` ORDER BY `+order+` LIMIT `+strconv.Itoa(limit)), append(args, cargs...)...)
	if err != nil {
		return nil, fmt.Errorf("%s: search: %w", db, err)
	}
	return scanWork(rows)
}

// looksLikeID reports whether a search is for an ID number: 18 characters (or an old
// 15), digits but for a final X. Names never look so; the check digit is not asked for.
func looksLikeID(s string) bool {
	if len(s) != 18 && len(s) != 15 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9') && !(i == len(s)-1 && (c == 'X' || c == 'x')) {
			return false
		}
	}
	return true
}

// PersonInRegion returns one person by pid when their village is within prefix; a person
// outside it is reported as not found, so that a scoped user learns nothing of people
// beyond their region. URLs carry the pid, not the ID number, which not every role may see.
func (db *DB) PersonInRegion(ctx context.Context, prefix string, pid int64) (*Person, error) {
	if _, err := prefixArg(prefix); err != nil {
		return nil, err
	}
	var out *Person
	cond, cargs := regionWhere(prefix)
	err := db.queryPeople(ctx, `SELECT `+personSelect+` FROM people p JOIN people_state s ON s.pid = p.pid WHERE p.pid = ? AND `+cond, append([]any{pid}, cargs...), func(p *Person) error {
		out = p
		return nil
	})
	if err == nil && out == nil {
		err = sc.Errorf(sc.ENotFound, "no recipient %d in region %q", pid, prefix)
	}
	return out, err
}

// PeopleOf returns the people of pids (those that exist), by pid, in one query a 500.
func (db *DB) PeopleOf(ctx context.Context, pids []int64) (map[int64]*Person, error) {
	out := make(map[int64]*Person, len(pids))
	err := inPIDs(pids, func(in string, args []any) error {
		return db.queryPeople(ctx, `SELECT `+personSelect+` FROM people p JOIN people_state s ON s.pid = p.pid WHERE p.pid IN `+in, args, func(p *Person) error {
			out[p.PID] = p
			return nil
		})
	})
	return out, err
}

// PersonPayments returns one person's payments, oldest month first.
func (db *DB) PersonPayments(ctx context.Context, pid int64) ([]Payment, error) {
	rows, err := db.rd.QueryContext(ctx, db.Rebind(`SELECT pid, benefit, month, kind, amount, payroll_month FROM payments
		WHERE pid = ? ORDER BY month, benefit, kind`), pid)
	if err != nil {
		return nil, fmt.Errorf("%s: payments: %w", db, err)
	}
	defer rows.Close()
	var out []Payment
	for rows.Next() {
		var p Payment
		var month, amount, pm int64
		if err := rows.Scan(&p.PID, &p.Benefit, &month, &p.Kind, &amount, &pm); err != nil {
			return nil, err
		}
		p.Month, p.Amount, p.PayrollMonth = sc.Month(month), sc.Fen(amount), sc.Month(pm)
		out = append(out, p)
	}
	return out, rows.Err()
}

// AnyVillage returns the village code (within prefix) that holds the most people in the
// given statuses, or "" when none: the demo's choice of a village account.
func (db *DB) AnyVillage(ctx context.Context, prefix string, statuses ...sc.Status) (string, error) {
	like, err := prefixArg(prefix)
	if err != nil {
		return "", err
	}
	in, args := []string{}, []any{like}
	for _, s := range statuses {
		in = append(in, "?")
		args = append(args, int(s))
	}
	cond := ``
	if len(in) > 0 {
		cond = ` AND status IN (` + strings.Join(in, ",") + `)`
	}
	var v string
	err = db.rd.QueryRowContext(ctx, db.Rebind(`SELECT region_code FROM people WHERE region_code LIKE ? AND region_code <> ''`+cond+`
		GROUP BY region_code ORDER BY count(*) DESC, region_code LIMIT 1`), args...).Scan(&v)
	if err == sql.ErrNoRows {
		return "", nil
	}
	return v, err
}

// The fraud-risk worklist. The engine writes a RISK decision when an evidence model finds
// a person's traces look like a hidden death (detail "score=0.12;p_dead=…;reasons=a|b");
// the flag stays open until a certification (the person was found alive, by any means) or a
// termination is decided after it. console_risk holds the open flags, one per person.

// OpenRisk returns the day of the person's open RISK flag, as of the last refresh of the
// risk list (a visit's finding refreshes it at once), or NoDate.
func (db *DB) OpenRisk(ctx context.Context, pid int64) (sc.Date, error) {
	var day int64
	err := db.rd.QueryRowContext(ctx, db.Rebind(`SELECT day FROM console_risk WHERE pid = ?`), pid).Scan(&day)
	if errors.Is(err, sql.ErrNoRows) {
		return sc.NoDate, nil
	}
	if err != nil {
		return sc.NoDate, fmt.Errorf("%s: risk flag: %w", db, err)
	}
	return sc.Date(day), nil
}

// riskClosing are the decisions that close a RISK flag decided before them.
const riskClosing = `'CERTIFIED', 'RESUMED', 'RESTORED', 'TERMINATED'`

// refreshRisk brings console_risk up to the audit trail: the RISK rows written since
// console_risk_seq (read through the partial index audit_risk), the flags a later decision
// closed, and each flag's village as people has it now.
func (t *Tx) refreshRisk() error {
	var done int64
	if v, ok, err := t.meta("console_risk_seq"); err != nil {
		return err
	} else if ok {
		done, _ = strconv.ParseInt(v, 10, 64)
	}
	var top int64
	if err := t.QueryRow(`SELECT COALESCE(max(seq), 0) FROM audit`).Scan(&top); err != nil {
		return fmt.Errorf("%s: refresh risk: %w", t.db, err)
	}
	if top > done {
		if err := t.riskSince(done, top); err != nil {
			return err
		}
	}
	if _, err := t.tx.ExecContext(t.ctx, `UPDATE console_risk SET region_code = (SELECT p.region_code FROM people p WHERE p.pid = console_risk.pid)
		WHERE region_code <> (SELECT p.region_code FROM people p WHERE p.pid = console_risk.pid)`); err != nil {
		return fmt.Errorf("%s: refresh risk: %w", t.db, err)
	}
	return t.SetMeta("console_risk_seq", strconv.FormatInt(max(top, done), 10))
}

// riskSince adds the RISK rows among audit rows (done, top] and removes the flags that a
// decision among them closed (every flag is checked when done is 0).
func (t *Tx) riskSince(done, top int64) error {
	// kind is checked here, not in SQL: SQLite would rather read every decision through
	// audit_day than the few RISK rows through audit_risk.
	rows, err := t.tx.QueryContext(t.ctx, t.db.Rebind(`SELECT pid, seq, day, detail, kind FROM audit
		WHERE action = 'RISK' AND seq > ? AND seq <= ? ORDER BY seq`), done, top)
	if err != nil {
		return fmt.Errorf("%s: refresh risk: %w", t.db, err)
	}
	type flag struct {
		seq, day int64
		detail   string
	}
	latest := map[int64]flag{}
	for rows.Next() {
		var pid int64
		var f flag
		var kind string
		if err := rows.Scan(&pid, &f.seq, &f.day, &f.detail, &kind); err != nil {
			rows.Close()
			return err
		}
		if kind == "decision" {
			latest[pid] = f
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: refresh risk: %w", t.db, err)
	}
	pids := make([]int64, 0, len(latest))
	for pid := range latest {
		pids = append(pids, pid)
	}
	sort.Slice(pids, func(i, j int) bool { return pids[i] < pids[j] })
	ins := t.inserter(`INSERT INTO console_risk (pid, seq, day, score, region_code, detail)`, 6)
	ins.suffix = ` ON CONFLICT (pid) DO UPDATE SET seq = excluded.seq, day = excluded.day, score = excluded.score,
		detail = excluded.detail WHERE console_risk.seq < excluded.seq`
	for _, pid := range pids {
		f := latest[pid]
		if err := ins.add(pid, f.seq, f.day, RiskScore(f.detail), "", f.detail); err != nil {
			return err
		}
	}
	if err := ins.flush(); err != nil {
		return err
	}
	// Closed flags: a certification or a termination decided after the flag. The first time
	// (done 0) every flag is checked; then only the people decided about since.
	closing := `EXISTS (SELECT 1 FROM audit c WHERE c.pid = console_risk.pid AND c.seq > console_risk.seq
		AND c.kind = 'decision' AND c.action IN (` + riskClosing + `))`
	args := []any{}
	if done > 0 {
		closing += ` AND pid IN (SELECT pid FROM audit WHERE seq > ? AND seq <= ? AND action IN (` + riskClosing + `))`
		args = append(args, done, top)
	}
	if _, err := t.tx.ExecContext(t.ctx, t.db.Rebind(`DELETE FROM console_risk WHERE `+closing), args...); err != nil {
		return fmt.Errorf("%s: refresh risk: %w", t.db, err)
	}
	return nil
}

// RiskScore reads a RISK row's score= (the first key of its detail), or 0.
func RiskScore(detail string) float64 {
	v, _ := DetailField(detail, "score")
	f, _ := strconv.ParseFloat(v, 64)
	return f
}

// DetailField returns one key of an audit row's detail, written key=value;… (a RISK row's
// "score", "p_dead", "reasons", "health"; a visit's "outcome", "event_date").
func DetailField(detail, key string) (string, bool) {
	for _, kv := range strings.Split(detail, ";") {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return v, true
		}
	}
	return "", false
}

// Counted is how the live snapshot (console_now) counts a person: village, status and
// latest method.
type Counted struct {
	Region string
	Status sc.Status
	Method sc.Method
}

// CountedOf returns how a stored person is counted.
func CountedOf(p *Person) Counted {
	return Counted{Region: p.Rec.RegionCode, Status: p.Status, Method: p.Method}
}

// CountedMove is one person counted as Was before a change and as Now after it.
type CountedMove struct{ Was, Now Counted }

// MoveCounted moves people in the live snapshot (console_now) and the stock of the
// summary's month at once, without waiting for the next daily refresh: a batch's deaths
// and certifications show on the dashboard when it commits, as a staff action's do. The
// moves are summed by region, status and method first, so that a batch that changes
// thousands of people writes a few rows per village. Like RefreshPerson, exact when the
// people had not changed since the last refresh unmoved. day is the batch's: the stock of
// the summary's month does not move for a batch of a later month (one on the 1st before
// that day's run must not rewrite the month closed the day before, which no refresh
// recounts; the run recounts the new month); NoDate moves it whatever the day.
func (t *Tx) MoveCounted(day sc.Date, moves []CountedMove) error {
	type nowKey struct {
		region string
		status sc.Status
		method sc.Method
	}
	type stockKey struct {
		region string
		status sc.Status
	}
	dn, ds := map[nowKey]int64{}, map[stockKey]int64{}
	for _, m := range moves {
		if m.Was == m.Now {
			continue
		}
		for _, r := range regionsOf(m.Was.Region) {
			dn[nowKey{r, m.Was.Status, m.Was.Method}]--
			ds[stockKey{r, m.Was.Status}]--
		}
		for _, r := range regionsOf(m.Now.Region) {
			dn[nowKey{r, m.Now.Status, m.Now.Method}]++
			ds[stockKey{r, m.Now.Status}]++
		}
	}
	if len(dn) == 0 {
		return nil
	}
	month := int64(-1)
	if v, ok, err := t.meta("console_summary"); err != nil {
		return err
	} else if ok {
		if d, err := sc.ParseDate(v); err == nil {
			month = int64(d.Month())
		}
	}
	// In key order: the same batch writes the same statements.
	nk := slices.SortedFunc(maps.Keys(dn), func(a, b nowKey) int {
		return cmp.Or(strings.Compare(a.region, b.region), cmp.Compare(a.status, b.status), cmp.Compare(a.method, b.method))
	})
	for _, k := range nk {
		d := dn[k]
		switch {
		case d > 0:
			if err := t.exec(`INSERT INTO console_now (region, parent, status, method, n) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (region, status, method) DO UPDATE SET n = console_now.n + excluded.n`, k.region, parentOf(k.region), int(k.status), int(k.method), d); err != nil {
				return err
			}
		case d < 0:
			if err := t.exec(`UPDATE console_now SET n = CASE WHEN n > ? THEN n - ? ELSE 0 END WHERE region = ? AND status = ? AND method = ?`, -d, -d, k.region, int(k.status), int(k.method)); err != nil {
				return err
			}
			if err := t.exec(`DELETE FROM console_now WHERE region = ? AND status = ? AND method = ? AND n = 0`, k.region, int(k.status), int(k.method)); err != nil {
				return err
			}
		}
	}
	if month < 0 || (day != sc.NoDate && int64(day.Month()) > month) {
		return nil
	}
	sk := slices.SortedFunc(maps.Keys(ds), func(a, b stockKey) int {
		return cmp.Or(strings.Compare(a.region, b.region), cmp.Compare(a.status, b.status))
	})
	for _, k := range sk {
		d := ds[k]
		switch {
		case d > 0:
			if err := t.exec(`INSERT INTO console_stock (region, month, status, n) VALUES (?, ?, ?, ?)
				ON CONFLICT (region, month, status) DO UPDATE SET n = console_stock.n + excluded.n`, k.region, month, int(k.status), d); err != nil {
				return err
			}
		case d < 0:
			if err := t.exec(`UPDATE console_stock SET n = CASE WHEN n > ? THEN n - ? ELSE 0 END WHERE region = ? AND month = ? AND status = ?`, -d, -d, k.region, month, int(k.status)); err != nil {
				return err
			}
			if err := t.exec(`DELETE FROM console_stock WHERE region = ? AND month = ? AND status = ? AND n = 0`, k.region, month, int(k.status)); err != nil {
				return err
			}
		}
	}
	return nil
}

// RefreshPerson moves one person in the console's summaries at once, without waiting for
// the next daily refresh: from was (as they were before a staff action) to how they are
// now, in the live snapshot and the stock of the summary's month, and their fraud-risk
// flag. The daily refresh recounts everything; until then the figures are exact when the
// person had not changed since the last refresh, and off by one otherwise. The decisions
// themselves are added to the monthly flow by the next refresh. A batch moves its people's
// counts itself (MoveCounted): after one, was is how the person is now, and only the flag
// moves.
func (db *DB) RefreshPerson(ctx context.Context, pid int64, was Counted) error {
	tx, err := db.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := tx.refreshPerson(pid, was); err != nil {
		return err
	}
	return tx.Commit()
}

// RefreshRisk moves one person's fraud-risk flag at once (RefreshPerson for a person
// whose counts their batch has moved already, MoveCounted).
func (db *DB) RefreshRisk(ctx context.Context, pid int64) error {
	tx, err := db.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	now, err := tx.countedNow(pid)
	if err != nil {
		return err
	}
	if err := tx.riskOf(pid, now.Region); err != nil {
		return err
	}
	return tx.Commit()
}

// countedNow reads how the person is counted now (CountedOf, from the people table).
func (t *Tx) countedNow(pid int64) (Counted, error) {
	var now Counted
	var st, me int
	if err := t.QueryRow(`SELECT region_code, status, last_method FROM people WHERE pid = ?`, pid).Scan(&now.Region, &st, &me); err != nil {
		return now, fmt.Errorf("%s: refresh person %d: %w", t.db, pid, err)
	}
	now.Status, now.Method = sc.Status(st), sc.Method(me)
	return now, nil
}

func (t *Tx) refreshPerson(pid int64, was Counted) error {
	now, err := t.countedNow(pid)
	if err != nil {
		return err
	}
	if err := t.MoveCounted(sc.NoDate, []CountedMove{{Was: was, Now: now}}); err != nil {
		return err
	}
	return t.riskOf(pid, now.Region)
}

// riskOf moves the person's fraud-risk flag (console_risk), region the person's
// village now.
func (t *Tx) riskOf(pid int64, region string) error {
	// The person's fraud-risk flag: their latest RISK row, unless closed after it.
	// The person's rows after their latest RISK decision, through audit_person (kind is
	// checked here, not in SQL, for the same reason as in refreshRisk).
	rows, err := t.tx.QueryContext(t.ctx, t.db.Rebind(`SELECT seq, day, kind, action, detail FROM audit
		WHERE pid = ? AND action IN ('RISK', `+riskClosing+`) ORDER BY seq DESC`), pid)
	if err != nil {
		return fmt.Errorf("%s: refresh person %d: %w", t.db, pid, err)
	}
	var seq, day int64
	var detail string
	closed, found := false, false
	for rows.Next() && !found {
		var s, d int64
		var kind, action, det string
		if err := rows.Scan(&s, &d, &kind, &action, &det); err != nil {
			rows.Close()
			return err
		}
		switch {
		case kind != "decision":
		case action == "RISK":
			seq, day, detail, found = s, d, det, true
		default:
			closed = true
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: refresh person %d: %w", t.db, pid, err)
	}
	if !found || closed {
		return t.exec(`DELETE FROM console_risk WHERE pid = ?`, pid)
	}
	return t.exec(`INSERT INTO console_risk (pid, seq, day, score, region_code, detail) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (pid) DO UPDATE SET seq = excluded.seq, day = excluded.day, score = excluded.score,
		region_code = excluded.region_code, detail = excluded.detail`, pid, seq, day, RiskScore(detail), region, detail)
}

// workRisk is work for the open fraud-risk flags, the most recent first and, on one day,
// the highest score first; From and To bound the flag's day.
func (db *DB) workRisk(ctx context.Context, rd reader, q WorkQuery, count int, counted func(int64) error, each func(*WorkRow) error) error {
	where := []string{`p.status <> ` + strconv.Itoa(int(sc.StatusTerminated))}
	var args []any
	if q.Prefix != "" {
		// The flag's village (indexed, as of the last refresh) and the person's now: a
		// person who moved out since is not shown to their old village. The second is
		// written so that no index serves it: the planner must start from the few flags,
		// not from the region's people.
		c1, a1 := regionWhereOn("r.region_code", q.Prefix)
		where, args = append(where, c1, `substr(p.region_code, 1, `+strconv.Itoa(len(q.Prefix))+`) = ?`), append(args, append(a1, q.Prefix)...)
	}
	if q.From != sc.NoDate {
		where, args = append(where, `r.day >= ?`), append(args, int64(q.From))
	}
	if q.To != sc.NoDate {
		where, args = append(where, `r.day <= ?`), append(args, int64(q.To))
	}
	// CROSS JOIN: SQLite keeps the tables in this order (PostgreSQL plans it as any join).
	from := ` FROM console_risk r CROSS JOIN people p WHERE p.pid = r.pid AND ` + strings.Join(where, ` AND `)
	if count > 0 {
		var total int64
		if err := rd.QueryRowContext(ctx, db.Rebind(`SELECT count(*) FROM (SELECT 1`+from+` LIMIT `+strconv.Itoa(count)+`) c`), args...).Scan(&total); err != nil {
			return fmt.Errorf("%s: worklist risk: %w", db, err)
		}
		if err := counted(total); err != nil {
			return err
		}
	}
	page := ` ORDER BY r.day DESC, r.score DESC, r.pid DESC`
	if q.Frailest {
		page = ` ORDER BY p.health DESC, r.day DESC, r.score DESC, r.pid DESC`
	}
	if q.Limit > 0 {
		page += ` LIMIT ` + strconv.Itoa(q.Limit) + ` OFFSET ` + strconv.Itoa(max(q.Offset, 0))
	}
	cols := `p.` + strings.ReplaceAll(workCols, `, `, `, p.`) + `, r.day, r.score, r.detail`
	rows, err := rd.QueryContext(ctx, db.Rebind(`SELECT `+cols+from+page), args...)
	if err != nil {
		return fmt.Errorf("%s: worklist risk: %w", db, err)
	}
	defer rows.Close()
	for rows.Next() {
		var r WorkRow
		var birth, until, death, flagged int64
		var status, method int
		if err := rows.Scan(&r.PID, &r.PersonID, &r.Name, &r.Sex, &birth, &r.Address, &r.RegionCode, &r.Phone,
			&r.AgentPhone, &status, &until, &method, &death, &r.Health, &flagged, &r.Score, &r.RiskDetail); err != nil {
			return err
		}
		r.BirthDate, r.Until, r.DeathDate, r.Flagged = sc.Date(birth), sc.Date(until), sc.Date(death), sc.Date(flagged)
		r.Status, r.Method = sc.Status(status), sc.Method(method)
		if err := each(&r); err != nil {
			return err
		}
	}
	return rows.Err()
}
