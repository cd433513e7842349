package store

import (
	"context"
	"database/sql"
	"fmt"

	sc "github.com/silentcert/silentcert"
)

// Notice statuses. A notice moves pending → sending → sent, or back to pending for a
// retry, or to failed; pending notices can be cancelled. Sent, failed and cancelled are
// final.
const (
	NoticePending   = "pending"   // queued, waiting for NextAttempt
	NoticeSending   = "sending"   // claimed by a sender until LeaseUntil
	NoticeSent      = "sent"      // the gateway accepted it
	NoticeFailed    = "failed"    // given up: a permanent error, too many attempts, or an unknown outcome
	NoticeCancelled = "cancelled" // never to be sent (a death accepted, certified since, expired)
)

// Notice is one SMS in the outbox (短信通知): to one phone, about one person, of one kind,
// for one deadline. (PID, Kind, Deadline, Phone) identifies it, so that a day run twice
// never queues it twice.
type Notice struct {
	ID          int64
	PID         int64
	PersonID    string
	Phone       string
	Kind        string  // "warning", "pending", "suspended", "certified"
	Deadline    sc.Date // the day the notice is about (for warning and pending: the last day to certify)
	Template    string  // the template key the text was rendered from
	Text        string  // the rendered text, as sent
	Created     sc.Date // the day of the decision that queued it
	Status      string
	Attempts    int
	NextAttempt int64 // Unix seconds: not sent before
	LeaseUntil  int64 // Unix seconds: while sending, the claim holds until then
	LastError   string
	SentAt      int64 // Unix seconds, 0 until sent
	GatewayID   string

	// PersonStatus is the person's status in people when the notice was claimed, and
	// PersonKnown whether the person was found; only ClaimNotices fills them, so that the
	// sender can refuse to write to a person whose death was accepted since.
	PersonStatus sc.Status
	PersonKnown  bool
	// PersonPhones are the person's phone and agent's phone in people at the claim, as
	// the roster gives them, so that a number changed since the notice was queued (numbers
	// are given to someone else) is not written to.
	PersonPhones [2]string
}

const noticeCols = `id, pid, person_id, phone, kind, deadline, template, text, created, status, attempts,
	next_attempt, lease_until, last_error, sent_at, gateway_id`

// EnqueueNotices queues notices in the transaction of the decision behind them and returns
// how many were new; a notice whose (PID, Kind, Deadline, Phone) is already queued, in
// whatever status, is left as it is. Status, attempts and the sending fields start afresh.
func (t *Tx) EnqueueNotices(ns []Notice) (int, error) {
	s, err := t.stmt(`INSERT INTO notices (pid, person_id, phone, kind, deadline, template, text, created, status,
		attempts, next_attempt, lease_until, last_error, sent_at, gateway_id)
		VALUES (?,?,?,?,?,?,?,?,'pending',0,?,0,'',0,'') ON CONFLICT (pid, kind, deadline, phone) DO NOTHING`)
	if err != nil {
		return 0, err
	}
	added := 0
	for i := range ns {
		n := &ns[i]
		res, err := s.ExecContext(t.ctx, n.PID, n.PersonID, n.Phone, n.Kind, int64(n.Deadline), n.Template, n.Text,
			int64(n.Created), n.NextAttempt)
		if err != nil {
			return added, fmt.Errorf("%s: notice for person %d: %w", t.db, n.PID, err)
		}
		if k, err := res.RowsAffected(); err == nil && k > 0 {
			added++
		}
	}
	return added, nil
}

// CancelNotices cancels every pending notice of a person, recording why; the service calls
// it in the transaction that terminates the person, so that no notice queued before the
// death is sent after it. A notice already being sent is not touched (see ClaimNotices).
func (t *Tx) CancelNotices(pid int64, reason string) (int, error) {
	s, err := t.stmt(`UPDATE notices SET status = 'cancelled', last_error = ? WHERE pid = ? AND status = 'pending'`)
	if err != nil {
		return 0, err
	}
	res, err := s.ExecContext(t.ctx, reason, pid)
	if err != nil {
		return 0, fmt.Errorf("%s: cancel notices of person %d: %w", t.db, pid, err)
	}
	k, err := res.RowsAffected()
	return int(k), err
}

// LastNotice returns the kind and status of the person's latest notice not cancelled, or
// two empty strings when there is none: whether the person was last told to certify (and
// may now be told they need not) or has already been told it is done.
func (t *Tx) LastNotice(pid int64) (kind, status string, err error) {
	err = t.QueryRow(`SELECT kind, status FROM notices WHERE pid = ? AND status <> 'cancelled' ORDER BY id DESC LIMIT 1`, pid).Scan(&kind, &status)
	if err == sql.ErrNoRows {
		return "", "", nil
	}
	if err != nil {
		return "", "", fmt.Errorf("%s: notices of person %d: %w", t.db, pid, err)
	}
	return kind, status, nil
}

// ClaimNotices takes at most limit pending notices due at now (NextAttempt ≤ now), oldest
// first, and marks them sending until now+lease, counting the attempt, so that no other
// sender takes them meanwhile. Each comes with its person's current status.
//
// The outbox's own bookkeeping (claims and marks) commits on its own, outside the
// writer's lock of Begin, so that a sender never waits for a long ingest on PostgreSQL;
// on PostgreSQL rows another transaction holds are skipped rather than waited for, so a
// claim can never deadlock with a day's run cancelling notices.
func (db *DB) ClaimNotices(ctx context.Context, now, lease int64, limit int) ([]Notice, error) {
	if limit <= 0 {
		return nil, nil
	}
	tx, err := db.sql.BeginTx(ctx, db.txOptions())
	if err != nil {
		return nil, fmt.Errorf("%s: claim notices: %w", db, err)
	}
	defer tx.Rollback()
	q := `SELECT n.id, n.pid, n.person_id, n.phone, n.kind, n.deadline, n.template, n.text, n.created, n.status,
		n.attempts, n.next_attempt, n.lease_until, n.last_error, n.sent_at, n.gateway_id, p.status, p.phone, p.agent_phone
		FROM notices n LEFT JOIN people p ON p.pid = n.pid
		WHERE n.status = 'pending' AND n.next_attempt <= ? ORDER BY n.next_attempt, n.id LIMIT ?`
	if db.dialect == Postgres {
		q += ` FOR UPDATE OF n SKIP LOCKED`
	}
	rows, err := tx.QueryContext(ctx, db.Rebind(q), now, limit)
	if err != nil {
		return nil, fmt.Errorf("%s: claim notices: %w", db, err)
	}
	var found []Notice
	for rows.Next() {
		var n Notice
		var ps sql.NullInt64
		var phone, agent sql.NullString
		if err := scanNotice(rows, &n, &ps, &phone, &agent); err != nil {
			rows.Close()
			return nil, fmt.Errorf("%s: claim notices: %w", db, err)
		}
		n.PersonStatus, n.PersonKnown = sc.Status(ps.Int64), ps.Valid
		n.PersonPhones = [2]string{phone.String, agent.String}
		found = append(found, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: claim notices: %w", db, err)
	}
	upd, err := tx.PrepareContext(ctx, db.Rebind(`UPDATE notices SET status = 'sending', attempts = attempts + 1,
		lease_until = ? WHERE id = ? AND status = 'pending'`))
	if err != nil {
		return nil, fmt.Errorf("%s: claim notices: %w", db, err)
	}
	defer upd.Close()
	out := found[:0]
	for _, n := range found {
		res, err := upd.ExecContext(ctx, now+lease, n.ID)
		if err != nil {
			return nil, fmt.Errorf("%s: claim notice %d: %w", db, n.ID, err)
		}
		if k, err := res.RowsAffected(); err != nil || k == 0 {
			continue // another sender took it between our read and our write
		}
		n.Status, n.Attempts, n.LeaseUntil = NoticeSending, n.Attempts+1, now+lease
		out = append(out, n)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("%s: claim notices: %w", db, err)
	}
	return out, nil
}

// ReleaseNotices settles the notices whose sender stopped while sending them (their lease
// ran out before now): the gateway may or may not have sent them. With resend they go back
// to pending (the gateway sees the same notice id again and may drop the duplicate);
// without, they fail with an "outcome unknown" error and are never sent again. It returns
// how many it settled.
func (db *DB) ReleaseNotices(ctx context.Context, now int64, resend bool) (int, error) {
	q := `UPDATE notices SET status = 'failed', last_error = 'outcome unknown: the sender stopped while sending; not sent again'
		WHERE status = 'sending' AND lease_until < ?`
	if resend {
		q = `UPDATE notices SET status = 'pending', next_attempt = ?, last_error = 'the sender stopped while sending; sent again'
			WHERE status = 'sending' AND lease_until < ?`
	}
	args := []any{now}
	if resend {
		args = []any{now, now}
	}
	res, err := db.sql.ExecContext(ctx, db.Rebind(q), args...)
	if err != nil {
		return 0, fmt.Errorf("%s: release notices: %w", db, err)
	}
	k, err := res.RowsAffected()
	return int(k), err
}

// MarkNoticeSent records that the gateway accepted a claimed notice at at (Unix seconds).
func (db *DB) MarkNoticeSent(ctx context.Context, id, at int64, gatewayID string) error {
	return db.markNotice(ctx, id, `status = 'sent', sent_at = ?, gateway_id = ?, last_error = ''`, at, gatewayID)
}

// MarkNoticeRetry puts a claimed notice back in the queue, not to be tried before next
// (Unix seconds), with the error of the attempt that failed.
func (db *DB) MarkNoticeRetry(ctx context.Context, id, next int64, msg string) error {
	return db.markNotice(ctx, id, `status = 'pending', next_attempt = ?, last_error = ?`, next, msg)
}

// UnclaimNotice gives a claimed notice that was not tried back to the queue, its attempt
// not counted.
func (db *DB) UnclaimNotice(ctx context.Context, id int64) error {
	return db.markNotice(ctx, id, `status = 'pending', attempts = attempts - 1`)
}

// MarkNoticeFailed gives up on a claimed notice, with the reason.
func (db *DB) MarkNoticeFailed(ctx context.Context, id int64, msg string) error {
	return db.markNotice(ctx, id, `status = 'failed', last_error = ?`, msg)
}

// MarkNoticeCancelled cancels a claimed notice that must not be sent (the sender found the
// person's death accepted, or the notice out of date), with the reason.
func (db *DB) MarkNoticeCancelled(ctx context.Context, id int64, reason string) error {
	return db.markNotice(ctx, id, `status = 'cancelled', last_error = ?`, reason)
}

// NoticeText returns notice id's text as stored now: the sender reads it again after
// making a sign-in link, in case staff ended the person's sign-ins meanwhile.
func (db *DB) NoticeText(ctx context.Context, id int64) (string, error) {
	var text string
	if err := db.rd.QueryRowContext(ctx, db.Rebind(`SELECT text FROM notices WHERE id = ?`), id).Scan(&text); err != nil {
		return "", fmt.Errorf("%s: notice %d: %w", db, id, err)
	}
	return text, nil
}

// markNotice ends a claim: it changes only a notice still sending, so that a sender whose
// lease ran out (and whose notice was settled by ReleaseNotices) is told so.
func (db *DB) markNotice(ctx context.Context, id int64, set string, args ...any) error {
	res, err := db.sql.ExecContext(ctx, db.Rebind(`UPDATE notices SET `+set+` WHERE id = ? AND status = 'sending'`),
		append(args, id)...)
	if err != nil {
		return fmt.Errorf("%s: notice %d: %w", db, id, err)
	}
	if k, err := res.RowsAffected(); err != nil || k == 0 {
		return sc.Errorf(sc.EConflict, "%s: notice %d is no longer being sent (its claim ran out)", db, id)
	}
	return nil
}

// CountNoticesSent returns how many notices were sent at a time in [from, to) (Unix
// seconds), plus those being sent now: what a per-day rate limit counts.
func (db *DB) CountNoticesSent(ctx context.Context, from, to int64) (int, error) {
	var n int
	err := db.rd.QueryRowContext(ctx, db.Rebind(`SELECT count(*) FROM notices
		WHERE (status = 'sent' AND sent_at >= ? AND sent_at < ?) OR status = 'sending'`), from, to).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("%s: count notices: %w", db, err)
	}
	return n, nil
}

// NoticeCounts returns the number of notices in each status, for metrics and the console.
func (db *DB) NoticeCounts(ctx context.Context) (map[string]int64, error) {
	rows, err := db.rd.QueryContext(ctx, `SELECT status, count(*) FROM notices GROUP BY status`)
	if err != nil {
		return nil, fmt.Errorf("%s: notice counts: %w", db, err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var s string
		var n int64
		if err := rows.Scan(&s, &n); err != nil {
			return nil, err
		}
		out[s] = n
	}
	return out, rows.Err()
}

// PersonNotices returns every notice about one person in the order queued, for the
// console's timeline.
func (db *DB) PersonNotices(ctx context.Context, pid int64) ([]Notice, error) {
	rows, err := db.rd.QueryContext(ctx, db.Rebind(`SELECT `+noticeCols+` FROM notices WHERE pid = ? ORDER BY id`), pid)
	if err != nil {
		return nil, fmt.Errorf("%s: notices of person %d: %w", db, pid, err)
	}
	defer rows.Close()
	var out []Notice
	for rows.Next() {
		var n Notice
		if err := scanNotice(rows, &n); err != nil {
			return nil, fmt.Errorf("%s: notices of person %d: %w", db, pid, err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// scanNotice reads the columns of noticeCols, then extra.
func scanNotice(rows *sql.Rows, n *Notice, extra ...any) error {
	var deadline, created int64
	dest := append([]any{&n.ID, &n.PID, &n.PersonID, &n.Phone, &n.Kind, &deadline, &n.Template, &n.Text, &created,
		&n.Status, &n.Attempts, &n.NextAttempt, &n.LeaseUntil, &n.LastError, &n.SentAt, &n.GatewayID}, extra...)
	if err := rows.Scan(dest...); err != nil {
		return err
	}
	n.Deadline, n.Created = sc.Date(deadline), sc.Date(created)
	return nil
}
