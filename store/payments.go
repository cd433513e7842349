package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"

	sc "github.com/silentcert/silentcert"
)

// Payment is one monthly amount of one entitlement, released or withheld at a payroll.
type Payment struct {
	PID          int64
	Benefit      string
	Month        sc.Month
	Kind         string // "REGULAR", "BACK_PAY", or "WITHHELD:" and the status
	Amount       sc.Fen
	PayrollMonth sc.Month
}

// AddPayments stores payments; one already stored under the same key is left as it was
// (a payroll run twice pays nothing twice).
//
// The rows are of the transaction's batch, which the audit row SealPayments (or Commit)
// appends covers.
func (t *Tx) AddPayments(ps []Payment) error {
	if len(ps) == 0 {
		return nil
	}
	batch, err := t.payBatchNumber()
	if err != nil {
		return err
	}
	vals := func(i int, a []any) []any {
		p := &ps[i]
		return append(a, p.PID, p.Benefit, int64(p.Month), p.Kind, int64(p.Amount), int64(p.PayrollMonth), batch)
	}
	if t.conn != nil && len(ps) >= copyMin {
		// PostgreSQL, a payroll: COPY straight into payments, in a savepoint; when a key
		// is stored already (which a payroll run once does not meet) that COPY fails
		// whole, and the payments go the slower way: COPY into a temporary table, then
		// one INSERT … SELECT that skips the keys already stored.
		cols := []string{"pid", "benefit", "month", "kind", "amount", "payroll_month", "pay_batch"}
		if done, err := t.copyNew("payments", cols, len(ps), func(i int) []any { return vals(i, nil) }); done || err != nil {
			return err
		}
		if err := t.execRaw(`CREATE TEMP TABLE IF NOT EXISTS stage_payments (LIKE payments) ON COMMIT DELETE ROWS`); err != nil {
			return err
		}
		if err := t.execRaw(`TRUNCATE stage_payments`); err != nil {
			return err
		}
		if err := t.copyFrom("stage_payments", cols, len(ps), func(i int) []any { return vals(i, nil) }); err != nil {
			return err
		}
		return t.execRaw(`INSERT INTO payments (pid, benefit, month, kind, amount, payroll_month, pay_batch)
			SELECT pid, benefit, month, kind, amount, payroll_month, pay_batch FROM stage_payments ON CONFLICT (pid, benefit, month, kind) DO NOTHING`)
	}
	if t.db.dialect == SQLite {
		// OR IGNORE skips the same keys as ON CONFLICT DO NOTHING; no constraint is left
		// that could abort the statement halfway, so SQLite keeps no statement journal.
		return t.insertMany(`INSERT OR IGNORE INTO payments (pid, benefit, month, kind, amount, payroll_month, pay_batch)`, 7, ``, len(ps), vals, nil)
	}
	return t.insertMany(`INSERT INTO payments (pid, benefit, month, kind, amount, payroll_month, pay_batch)`, 7,
		`ON CONFLICT (pid, benefit, month, kind) DO NOTHING`, len(ps), vals, nil)
}

// Payroll is one month's payroll run.
type Payroll struct {
	Month                   sc.Month
	Day                     sc.Date
	Paid, BackPay, Withheld sc.Fen
	Rows                    int64
	Snapshot                []byte // gzipped CSV: the statuses and evidence it was computed from
}

// PutPayroll records a payroll run, once per month.
func (t *Tx) PutPayroll(p *Payroll) error {
	return t.exec(`INSERT INTO payrolls (month, day, paid, back_pay, withheld, rows, snapshot) VALUES (?,?,?,?,?,?,?)
		ON CONFLICT (month) DO NOTHING`, int64(p.Month), int64(p.Day), int64(p.Paid), int64(p.BackPay), int64(p.Withheld), p.Rows, p.Snapshot)
}

// PayrollRun returns one month's payroll run.
func (db *DB) PayrollRun(ctx context.Context, m sc.Month) (*Payroll, error) {
	p := &Payroll{Month: m}
	var day, paid, back, held int64
	err := db.rd.QueryRowContext(ctx, db.Rebind(`SELECT day, paid, back_pay, withheld, rows, snapshot FROM payrolls WHERE month = ?`), int64(m)).
		Scan(&day, &paid, &back, &held, &p.Rows, &p.Snapshot)
	if err == sql.ErrNoRows {
		return nil, sc.Errorf(sc.ENotFound, "no payroll for %s: the 1st of that month has not been run (run-day --day %s)", m, m.First())
	}
	if err != nil {
		return nil, fmt.Errorf("%s: payroll %s: %w", db, m, err)
	}
	p.Day, p.Paid, p.BackPay, p.Withheld = sc.Date(day), sc.Fen(paid), sc.Fen(back), sc.Fen(held)
	return p, nil
}

// Payments calls fn for every payment of a payroll month (or all when m is NoMonth), in
// (payroll_month, pid, benefit, month, kind) order.
func (db *DB) Payments(ctx context.Context, m sc.Month, fn func(*Payment) error) error {
	q, args := `SELECT pid, benefit, month, kind, amount, payroll_month FROM payments`, []any{}
	if m != sc.NoMonth {
		q += ` WHERE payroll_month = ?`
		args = append(args, int64(m))
	}
	rows, err := db.rd.QueryContext(ctx, db.Rebind(q+` ORDER BY payroll_month, pid, benefit, month, kind`), args...)
	if err != nil {
		return fmt.Errorf("%s: payments: %w", db, err)
	}
	defer rows.Close()
	for rows.Next() {
		var p Payment
		var month, amount, pm int64
		if err := rows.Scan(&p.PID, &p.Benefit, &month, &p.Kind, &amount, &pm); err != nil {
			return err
		}
		p.Month, p.Amount, p.PayrollMonth = sc.Month(month), sc.Fen(amount), sc.Month(pm)
		if err := fn(&p); err != nil {
			return err
		}
	}
	return rows.Err()
}

// MonthKey names one month of one entitlement of a person.
type MonthKey struct {
	PID     int64
	Benefit string
	Month   sc.Month
}

// PaidAmounts returns what was paid (regular payments and back pay) to the people pids,
// by entitlement and month.
func (db *DB) PaidAmounts(ctx context.Context, pids []int64) (map[MonthKey]sc.Fen, error) {
	return paidAmounts(ctx, db, db.rd, pids)
}

// PaidAmountsOf is PaidAmounts of one person, read in the transaction: what a ledger
// entry recorded in it is checked against (service.ToRecoverIn).
func (t *Tx) PaidAmountsOf(pid int64) (map[MonthKey]sc.Fen, error) {
	t.sent++
	return paidAmounts(t.ctx, t.db, t.tx, []int64{pid})
}

func paidAmounts(ctx context.Context, db *DB, q querier, pids []int64) (map[MonthKey]sc.Fen, error) {
	out := map[MonthKey]sc.Fen{}
	err := inPIDs(pids, func(in string, args []any) error {
		rows, err := q.QueryContext(ctx, db.Rebind(`SELECT pid, benefit, month, amount FROM payments
			WHERE kind IN ('REGULAR', 'BACK_PAY') AND pid IN `+in), args...)
		if err != nil {
			return fmt.Errorf("%s: payments: %w", db, err)
		}
		defer rows.Close()
		for rows.Next() {
			var k MonthKey
			var month, amount int64
			if err := rows.Scan(&k.PID, &k.Benefit, &month, &amount); err != nil {
				return err
			}
			k.Month = sc.Month(month)
			out[k] += sc.Fen(amount)
		}
		return rows.Err()
	})
	return out, err
}

// WithheldAmounts returns, for each of keys that a payroll withheld (a WITHHELD row,
// whatever its status), the amount withheld, read in the transaction: what its back pay
// pays. A key no payroll withheld is absent. Only the people of keys are read (back pay
// is rare: a payroll of a million people reads the few it releases, not the table).
func (t *Tx) WithheldAmounts(keys []MonthKey) (map[MonthKey]sc.Fen, error) {
	out := make(map[MonthKey]sc.Fen, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	want := make(map[MonthKey]bool, len(keys))
	var pids []int64
	for _, k := range keys {
		want[k] = true
		pids = append(pids, k.PID)
	}
	slices.Sort(pids)
	pids = slices.Compact(pids)
	latest := make(map[MonthKey]sc.Month, len(keys))
	err := inPIDs(pids, func(in string, args []any) error {
		// One row a withheld month (a payroll runs once a month); were there more, the
		// latest payroll's is taken. No ORDER BY: the primary key's index is read as is.
		return t.each(`SELECT pid, benefit, month, amount, payroll_month FROM payments
			WHERE kind LIKE 'WITHHELD:%' AND pid IN `+in, args, func(rows *sql.Rows) error {
			var k MonthKey
			var month, amount, pm int64
			if err := rows.Scan(&k.PID, &k.Benefit, &month, &amount, &pm); err != nil {
				return err
			}
			k.Month = sc.Month(month)
			if l, seen := latest[k]; want[k] && (!seen || sc.Month(pm) > l) {
				out[k], latest[k] = sc.Fen(amount), sc.Month(pm)
			}
			return nil
		})
	})
	return out, err
}

// MonthSpan is a run of months, From through To.
type MonthSpan struct{ From, To sc.Month }

// PayrollSpans returns, for each of the people pids that any payroll paid or withheld
// something, the first and the last payroll month that did (a roster import's arrears of
// an entitlement it adds: the payrolls that ran with the person on them), as the
// transaction sees them: the import decides from them what it writes.
func (t *Tx) PayrollSpans(pids []int64) (map[int64]MonthSpan, error) {
	out := map[int64]MonthSpan{}
	err := inPIDs(pids, func(in string, args []any) error {
		return t.each(`SELECT pid, min(payroll_month), max(payroll_month) FROM payments
			WHERE pid IN `+in+` GROUP BY pid`, args, func(rows *sql.Rows) error {
			var pid, from, to int64
			if err := rows.Scan(&pid, &from, &to); err != nil {
				return fmt.Errorf("%s: payments: %w", t.db, err)
			}
			out[pid] = MonthSpan{sc.Month(from), sc.Month(to)}
			return nil
		})
	})
	return out, err
}

// LastPayroll returns the last month whose payroll ran, NoMonth when none has, as the
// transaction sees it.
func (t *Tx) LastPayroll() (sc.Month, error) {
	t.sent++
	m, ok, err := maxOf(t.ctx, t.db, t.tx, "payrolls", `SELECT max(month) FROM payrolls`)
	if !ok {
		return sc.NoMonth, err
	}
	return sc.Month(m), nil
}

// rowQuerier is what maxOf reads through: the readers' pool or a transaction.
type rowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// maxOf reads through q the max() that query selects from table, and whether there is
// one (none when the table has no row it counts).
func maxOf(ctx context.Context, db *DB, q rowQuerier, table, query string) (int64, bool, error) {
	var v *int64
	if err := q.QueryRowContext(ctx, query).Scan(&v); err != nil {
		return 0, false, fmt.Errorf("%s: %s: %w", db, table, err)
	}
	if v == nil {
		return 0, false, nil
	}
	return *v, true, nil
}

// MarkRun records that day d was evaluated.
func (t *Tx) MarkRun(d sc.Date, at string, evaluated, decisions int64) error {
	return t.exec(`INSERT INTO runs (day, at, evaluated, decisions) VALUES (?,?,?,?)`, int64(d), at, evaluated, decisions)
}

// LastRun returns the last day evaluated, or NoDate.
func (db *DB) LastRun(ctx context.Context) (sc.Date, error) { return lastRun(ctx, db, db.rd) }

// LastRun is DB.LastRun as the transaction sees it: what a write that depends on it
// (history, which must come before any day) decides from.
func (t *Tx) LastRun() (sc.Date, error) {
	t.sent++
	return lastRun(t.ctx, t.db, t.tx)
}

func lastRun(ctx context.Context, db *DB, q rowQuerier) (sc.Date, error) {
	d, ok, err := maxOf(ctx, db, q, "runs", `SELECT max(day) FROM runs`)
	if !ok {
		return sc.NoDate, err
	}
	return sc.Date(d), nil
}

// LatestBatchDay is the latest day as of which a batch of records was applied (NoDate
// when none was): not the roster's, history's (applied on their reported dates) or a
// replay's, which runs its own days.
func (db *DB) LatestBatchDay(ctx context.Context) (sc.Date, error) {
	d, ok, err := maxOf(ctx, db, db.rd, "batches", `SELECT max(day) FROM batches WHERE status = 'applied' AND origin NOT IN ('roster', 'history', 'replay')`)
	if !ok {
		return sc.NoDate, err
	}
	return sc.Date(d), nil
}
