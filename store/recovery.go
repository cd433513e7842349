package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"

	sc "github.com/silentcert/silentcert"
)

// Recovery entry kinds.
const (
	RecoveryRepaid   = "repaid"   // the family paid money back
	RecoveryWaived   = "waived"   // the bureau wrote it off (核销)
	RecoveryRefunded = "refunded" // the bureau paid back to the family what it had repaid beyond what is owed
	RecoveryReversed = "reversed" // an administrator cancelled an entry recorded in error (冲正)
)

// RecoveryEntry is one staff action on money to recover (migration 0016): a repayment, a
// write-off or a refund of one entitlement's overpayment, keyed by its audit row.
type RecoveryEntry struct {
	Seq     int64 // the audit row's
	PID     int64
	Benefit string
	Day     sc.Date // when the money came in or went out (or the write-off was decided)
	Kind    string  // RecoveryRepaid, RecoveryWaived or RecoveryRefunded
	Amount  sc.Fen
	Actor   string
	Note    string
	// Once is the one-time key of the form that recorded the entry ("" for none): a
	// second entry with the same key is the same action sent twice, and not recorded.
	Once string
	// OnceForm is what the form sent with Once held (the console's fingerprint of its
	// fields): the key sent again with other fields is not the same action.
	OnceForm string
	// Reverses is, for a reversal, the entry it cancels (0 otherwise).
	Reverses int64
}

// Settlement is where one entitlement's recovery stands: the ledger's sums and what they
// leave, against what the engine finds owed now (ToRecover).
type Settlement struct {
	Repaid, Waived, Refunded sc.Fen
	// Outstanding is what is left to recover (never below zero); Refund is what the family
	// repaid beyond what is owed and has not had back. A write-off only lowers what is
	// owed: it is never money due back.
	Outstanding, Refund sc.Fen
}

// Settle sums the entries of one person's entitlement against toRecover.
func Settle(entries []RecoveryEntry, benefit string, toRecover sc.Fen) Settlement {
	var s Settlement
	var reversed []int64
	for _, e := range entries {
		if e.Kind == RecoveryReversed {
			reversed = append(reversed, e.Reverses)
		}
	}
	for _, e := range entries {
		// A reversal and the entry it cancels count for nothing.
		if e.Benefit != benefit || e.Kind == RecoveryReversed || slices.Contains(reversed, e.Seq) {
			continue
		}
		switch e.Kind {
		case RecoveryWaived:
			s.Waived += e.Amount
		case RecoveryRefunded:
			s.Refunded += e.Amount
		default:
			s.Repaid += e.Amount
		}
	}
	kept := s.Repaid - s.Refunded // what the bureau holds of the family's money
	s.Outstanding = max(0, toRecover-kept-s.Waived)
	s.Refund = max(0, kept-toRecover)
	return s
}

// TooMuch is why AddRecovery refused an entry: its amount is above what is left (to
// recover, or due back to the family for a refund).
type TooMuch struct {
	Amount, Left sc.Fen
	Refund       bool
}

func (e *TooMuch) Error() string { return fmt.Sprintf("%s is more than the %s left", e.Amount, e.Left) }

// AddRecovery records e with its audit row a, in the transaction: the row is appended to
// the trail first and the entry takes its sequence number. owed is what the engine says is
// to recover on the entitlement; a repayment or write-off above what the entries before
// it leave outstanding is refused, and so is a refund above what they leave due back,
// read inside the transaction (writers take turns). An entry whose Once key is recorded
// already is not recorded again: e takes that entry's sequence number and AddRecovery
// reports it (recorded is false).
func (t *Tx) AddRecovery(e *RecoveryEntry, owed sc.Fen, a AuditRow) (recorded bool, err error) {
	if sent, err := t.sentBefore(e); sent || err != nil {
		return false, err
	}
	if e.Kind == RecoveryReversed {
		return t.addReversal(e, a)
	}
	if e.Amount <= 0 || (e.Kind != RecoveryRepaid && e.Kind != RecoveryWaived && e.Kind != RecoveryRefunded) {
		return false, sc.Errorf(sc.EInvalid, "recovery entry: kind %q, amount %s", e.Kind, e.Amount)
	}
	before, err := t.recoveryEntries(e.PID, e.Benefit)
	if err != nil {
		return false, err
	}
	st := Settle(before, e.Benefit, owed)
	if e.Kind == RecoveryRefunded {
		if e.Amount > st.Refund {
			return false, &sc.Error{Code: sc.EConflict, Message: fmt.Sprintf("%s is more than the %s due back to the family", e.Amount, st.Refund),
				Err: &TooMuch{Amount: e.Amount, Left: st.Refund, Refund: true}}
		}
	} else if e.Amount > st.Outstanding {
		return false, &sc.Error{Code: sc.EConflict, Message: fmt.Sprintf("%s is more than the %s left to recover", e.Amount, st.Outstanding),
			Err: &TooMuch{Amount: e.Amount, Left: st.Outstanding}}
	}
	return true, t.insertRecovery(e, a)
}

// sentBefore reports whether e's one-time key recorded an entry already (a form sent
// twice), giving e that entry's sequence number. The key recorded with other fields (a
// form brought back and changed, or another person's) is refused with OnceUsed.
func (t *Tx) sentBefore(e *RecoveryEntry) (bool, error) {
	if e.Once == "" {
		return false, nil
	}
	var seq, pid int64
	var form string
	err := t.QueryRow(`SELECT seq, pid, COALESCE(once_form, '') FROM recovery_entries WHERE once = ?`, e.Once).Scan(&seq, &pid, &form)
	if err == sql.ErrNoRows {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("%s: recovery entries: %w", t.db, err)
	}
	if pid != e.PID || form != e.OnceForm {
		return false, &sc.Error{Code: sc.EConflict, Message: "the form was sent before with other fields", Err: &OnceUsed{Form: form}}
	}
	e.Seq = seq
	return true, nil
}

// OnceUsed is the refusal of a one-time key sent again with other fields: Form is what
// the first sending held.
type OnceUsed struct{ Form string }

func (e *OnceUsed) Error() string { return "one-time key used by another form" }

// insertRecovery appends e's audit row a, then e keyed by it.
func (t *Tx) insertRecovery(e *RecoveryEntry, a AuditRow) error {
	e.Note = Storable(e.Note)
	as := []AuditRow{a}
	if err := t.Append(as); err != nil {
		return err
	}
	e.Seq = as[0].Seq
	var once, form, reverses any
	if e.Once != "" {
		once = e.Once
	}
	if e.OnceForm != "" {
		form = Storable(e.OnceForm)
	}
	if e.Reverses > 0 {
		reverses = e.Reverses
	}
	return t.exec(`INSERT INTO recovery_entries (seq, pid, benefit, day, kind, amount, actor, note, once, once_form, reverses) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Seq, e.PID, e.Benefit, int64(e.Day), e.Kind, int64(e.Amount), e.Actor, e.Note, once, form, reverses)
}

// recoveryEntries reads one entitlement's entries inside the transaction (writers take
// turns: what it reads stands until the commit).
func (t *Tx) recoveryEntries(pid int64, benefit string) ([]RecoveryEntry, error) {
	rows, err := t.tx.QueryContext(t.ctx, t.db.Rebind(`SELECT seq, kind, amount, reverses FROM recovery_entries WHERE pid = ? AND benefit = ? ORDER BY seq`), pid, benefit)
	if err != nil {
		return nil, fmt.Errorf("%s: recovery entries: %w", t.db, err)
	}
	defer rows.Close()
	var out []RecoveryEntry
	for rows.Next() {
		x := RecoveryEntry{PID: pid, Benefit: benefit}
		var amount int64
		var reverses sql.NullInt64
		if err := rows.Scan(&x.Seq, &x.Kind, &amount, &reverses); err != nil {
			return nil, err
		}
		x.Amount, x.Reverses = sc.Fen(amount), reverses.Int64
		out = append(out, x)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: recovery entries: %w", t.db, err)
	}
	return out, nil
}

// addReversal records e, a reversal of entry e.Reverses of the same person and
// entitlement: of its amount, once, and never of a reversal (an entry recorded again is
// recorded anew). The reason is e.Note; a note is required.
func (t *Tx) addReversal(e *RecoveryEntry, a AuditRow) (bool, error) {
	if e.Note == "" {
		return false, sc.Errorf(sc.EInvalid, "a reversal needs its reason")
	}
	before, err := t.recoveryEntries(e.PID, e.Benefit)
	if err != nil {
		return false, err
	}
	i := slices.IndexFunc(before, func(x RecoveryEntry) bool { return x.Seq == e.Reverses })
	switch {
	case i < 0:
		return false, sc.Errorf(sc.ENotFound, "no entry %d of this entitlement", e.Reverses)
	case before[i].Kind == RecoveryReversed:
		return false, sc.Errorf(sc.EConflict, "entry %d is a reversal: record the entry again instead", e.Reverses)
	case slices.ContainsFunc(before, func(x RecoveryEntry) bool { return x.Reverses == e.Reverses }):
		return false, sc.Errorf(sc.EConflict, "entry %d is reversed already", e.Reverses)
	}
	e.Amount = before[i].Amount
	return true, t.insertRecovery(e, a)
}

// RecoveryByOnce returns the sequence number, person and form (OnceForm) of the entry a
// form's one-time key recorded, and whether one did.
func (db *DB) RecoveryByOnce(ctx context.Context, once string) (seq, pid int64, form string, ok bool, err error) {
	err = db.rd.QueryRowContext(ctx, db.Rebind(`SELECT seq, pid, COALESCE(once_form, '') FROM recovery_entries WHERE once = ?`), once).Scan(&seq, &pid, &form)
	if err == sql.ErrNoRows {
		return 0, 0, "", false, nil
	}
	if err != nil {
		return 0, 0, "", false, fmt.Errorf("%s: recovery entries: %w", db, err)
	}
	return seq, pid, form, true, nil
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
	rows, err := db.rd.QueryContext(ctx, db.Rebind(`SELECT seq, pid, benefit, day, kind, amount, actor, note, reverses FROM recovery_entries `+
		where+` ORDER BY seq`), args...)
	if err != nil {
		return fmt.Errorf("%s: recovery entries: %w", db, err)
	}
	defer rows.Close()
	for rows.Next() {
		var e RecoveryEntry
		var day, amount int64
		var reverses sql.NullInt64
		if err := rows.Scan(&e.Seq, &e.PID, &e.Benefit, &day, &e.Kind, &amount, &e.Actor, &e.Note, &reverses); err != nil {
			return fmt.Errorf("%s: recovery entries: %w", db, err)
		}
		e.Day, e.Amount, e.Reverses = sc.Date(day), sc.Fen(amount), reverses.Int64
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
	rows, err := q.QueryContext(ctx, `SELECT e.seq, e.pid, e.benefit, e.day, e.kind, e.amount, e.actor, e.note, e.reverses,
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
		var reverses sql.NullInt64
		if err := rows.Scan(&e.Seq, &e.PID, &e.Benefit, &day, &e.Kind, &amount, &e.Actor, &e.Note, &reverses, &aSeq, &aKind, &aPID, &aActor, &aAction, &aDetail); err != nil {
			return fmt.Errorf("%s: recovery entries: %w", db, err)
		}
		e.Day, e.Amount = sc.Date(day), sc.Fen(amount)
		want := map[string]string{"benefit": e.Benefit, "amount": e.Amount.String(), "date": e.Day.String(), "note": DetailValue(e.Note)}
		if reverses.Valid || e.Kind == RecoveryReversed {
			want["reverses"] = strconv.FormatInt(reverses.Int64, 10)
		}
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
	r2, err := q.QueryContext(ctx, `SELECT a.seq FROM audit a LEFT JOIN recovery_entries e ON e.seq = a.seq
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
