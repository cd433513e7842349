package store

import (
	"context"
	"database/sql"
	"fmt"

	sc "github.com/silentcert/silentcert"
)

// Recovery entry kinds.
const (
	RecoveryRepaid = "repaid" // the family paid money back
	RecoveryWaived = "waived" // the bureau wrote it off (核销)
)

// RecoveryEntry is one staff action on money to recover (migration 0016): a repayment or
// a write-off of one entitlement's overpayment, keyed by its audit row.
type RecoveryEntry struct {
	Seq     int64 // the audit row's
	PID     int64
	Benefit string
	Day     sc.Date // when the money came in (or the write-off was decided)
	Kind    string  // RecoveryRepaid or RecoveryWaived
	Amount  sc.Fen
	Actor   string
	Note    string
}

// Recovered returns what the entries of one person's entitlement take off what is owed.
func Recovered(entries []RecoveryEntry, benefit string) (repaid, waived sc.Fen) {
	for _, e := range entries {
		if e.Benefit != benefit {
			continue
		}
		if e.Kind == RecoveryWaived {
			waived += e.Amount
		} else {
			repaid += e.Amount
		}
	}
	return repaid, waived
}

// AddRecovery records e with its audit row a, in the transaction: the row is appended to
// the trail first and the entry takes its sequence number. owed is what the engine says is
// left to recover on the entitlement; an entry that would take more off it than the
// entries before it left is refused, read inside the transaction (writers take turns).
func (t *Tx) AddRecovery(e *RecoveryEntry, owed sc.Fen, a AuditRow) error {
	if e.Amount <= 0 || (e.Kind != RecoveryRepaid && e.Kind != RecoveryWaived) {
		return sc.Errorf(sc.EInvalid, "recovery entry: kind %q, amount %s", e.Kind, e.Amount)
	}
	var done int64
	if err := t.QueryRow(`SELECT COALESCE(SUM(amount), 0) FROM recovery_entries WHERE pid = ? AND benefit = ?`, e.PID, e.Benefit).Scan(&done); err != nil {
		return fmt.Errorf("%s: recovery entries: %w", t.db, err)
	}
	if left := owed - sc.Fen(done); e.Amount > left {
		return sc.Errorf(sc.EConflict, "%s is more than the %s left to recover", e.Amount, max(left, 0))
	}
	rows := []AuditRow{a}
	if err := t.Append(rows); err != nil {
		return err
	}
	e.Seq = rows[0].Seq
	return t.exec(`INSERT INTO recovery_entries (seq, pid, benefit, day, kind, amount, actor, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Seq, e.PID, e.Benefit, int64(e.Day), e.Kind, int64(e.Amount), e.Actor, e.Note)
}

// RecoveryLedger returns the whole ledger by person, each person's entries in the order
// recorded (one row a staff action: small beside the people).
func (db *DB) RecoveryLedger(ctx context.Context) (map[int64][]RecoveryEntry, error) {
	out := map[int64][]RecoveryEntry{}
	return out, db.recoveryEntries(ctx, out, ``)
}

// RecoveryEntries returns the entries of pids, each person's in the order recorded.
func (db *DB) RecoveryEntries(ctx context.Context, pids []int64) (map[int64][]RecoveryEntry, error) {
	out := map[int64][]RecoveryEntry{}
	err := inPIDs(pids, func(in string, args []any) error {
		return db.recoveryEntries(ctx, out, `WHERE pid IN `+in, args...)
	})
	return out, err
}

// recoveryEntries adds the entries where selects to out, by person, in seq order.
func (db *DB) recoveryEntries(ctx context.Context, out map[int64][]RecoveryEntry, where string, args ...any) error {
	rows, err := db.rd.QueryContext(ctx, db.Rebind(`SELECT seq, pid, benefit, day, kind, amount, actor, note FROM recovery_entries `+
		where+` ORDER BY seq`), args...)
	if err != nil {
		return fmt.Errorf("%s: recovery entries: %w", db, err)
	}
	defer rows.Close()
	for rows.Next() {
		var e RecoveryEntry
		var day, amount int64
		if err := rows.Scan(&e.Seq, &e.PID, &e.Benefit, &day, &e.Kind, &amount, &e.Actor, &e.Note); err != nil {
			return fmt.Errorf("%s: recovery entries: %w", db, err)
		}
		e.Day, e.Amount = sc.Date(day), sc.Fen(amount)
		out[e.PID] = append(out[e.PID], e)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: recovery entries: %w", db, err)
	}
	return nil
}

// verifyRecoveries reports every ledger entry that does not match the audit row it is
// keyed by (its kind, person, actor, entitlement, amount and date as the row recorded
// them), and every recovery audit row without its entry: the chain covers the rows, this
// covers the ledger.
func (db *DB) verifyRecoveries(ctx context.Context, q querier, report func(AuditProblem)) error {
	rows, err := q.QueryContext(ctx, `SELECT e.seq, e.pid, e.benefit, e.day, e.kind, e.amount, e.actor,
		a.seq, a.kind, a.pid, a.actor, a.action, a.detail
		FROM recovery_entries e LEFT JOIN audit a ON a.seq = e.seq ORDER BY e.seq`)
	if err != nil {
		return fmt.Errorf("%s: recovery entries: %w", db, err)
	}
	defer rows.Close()
	for rows.Next() {
		var e RecoveryEntry
		var day, amount int64
		var aSeq, aPID sql.NullInt64
		var aKind, aActor, aAction, aDetail sql.NullString
		if err := rows.Scan(&e.Seq, &e.PID, &e.Benefit, &day, &e.Kind, &amount, &e.Actor, &aSeq, &aKind, &aPID, &aActor, &aAction, &aDetail); err != nil {
			return fmt.Errorf("%s: recovery entries: %w", db, err)
		}
		e.Day, e.Amount = sc.Date(day), sc.Fen(amount)
		want := map[string]string{"benefit": e.Benefit, "amount": e.Amount.String(), "date": e.Day.String()}
		ok := aSeq.Valid && aKind.String == "recovery" && aPID.Int64 == e.PID && aActor.String == e.Actor && aAction.String == e.Kind
		for k, v := range want {
			if got, _ := DetailField(aDetail.String, k); got != v {
				ok = false
			}
		}
		if !ok {
			report(AuditProblem{e.Seq, "the recovery ledger's entry does not match its audit row (changed, or its row is not a recovery)"})
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	var missing []int64
	r2, err := db.rd.QueryContext(ctx, `SELECT a.seq FROM audit a LEFT JOIN recovery_entries e ON e.seq = a.seq
		WHERE a.kind <> 'decision' AND a.kind = 'recovery' AND e.seq IS NULL ORDER BY a.seq`)
	if err != nil {
		return fmt.Errorf("%s: recovery entries: %w", db, err)
	}
	defer r2.Close()
	for r2.Next() {
		var seq int64
		if err := r2.Scan(&seq); err != nil {
			return err
		}
		missing = append(missing, seq)
	}
	for _, seq := range missing {
		report(AuditProblem{seq, "a recovery audit row has no entry in the ledger (deleted)"})
	}
	return r2.Err()
}
