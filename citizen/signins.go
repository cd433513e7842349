package citizen

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/silentcert/silentcert/notice"
	"github.com/silentcert/silentcert/store"
)

// SignIns is where a person's ways into the pensioner's pages stand: the sessions signed
// in now (the person's and their agent's), the reminder links neither used nor expired,
// the logins waiting for their SMS code, and the reminders queued to be sent with a link
// of their own (made as they are sent).
type SignIns struct {
	Sessions, AgentSessions, Links, Challenges, Reminders int
}

// Any reports whether anything is open.
func (s SignIns) Any() bool { return s.Sessions+s.AgentSessions+s.Links+s.Challenges+s.Reminders > 0 }

func (s SignIns) String() string {
	return fmt.Sprintf("sessions=%d;agent_sessions=%d;links=%d;challenges=%d;reminders=%d", s.Sessions, s.AgentSessions, s.Links, s.Challenges, s.Reminders)
}

// slotted matches the notices of a person that will get a sign-in link when sent: those
// waiting, and those a sender has claimed (a failed try puts them back to wait; the
// sender reads the text again once it has made the link).
const slotted = `pid = ? AND status IN ('pending', 'sending') AND text LIKE ?`

// PersonSignIns counts what is open for person pid at now.
func PersonSignIns(ctx context.Context, db *store.DB, pid int64, now time.Time) (SignIns, error) {
	var s SignIns
	t := now.UnixNano()
	q := db.Reader()
	for _, c := range []struct {
		n     *int
		query string
	}{
		{&s.Sessions, `SELECT COUNT(*) FROM citizen_sessions WHERE pid = ? AND agent = 0 AND expires > ?`},
		{&s.AgentSessions, `SELECT COUNT(*) FROM citizen_sessions WHERE pid = ? AND agent <> 0 AND expires > ?`},
		{&s.Links, `SELECT COUNT(*) FROM citizen_links WHERE pid = ? AND used = 0 AND expires > ?`},
		{&s.Challenges, `SELECT COUNT(*) FROM citizen_challenges WHERE pid = ? AND done = 0 AND expires > ?`},
	} {
		if err := q.QueryRowContext(ctx, db.Rebind(c.query), pid, t).Scan(c.n); err != nil {
			return SignIns{}, fmt.Errorf("%s: sign-ins of %d: %w", db, pid, err)
		}
	}
	if err := q.QueryRowContext(ctx, db.Rebind(`SELECT COUNT(*) FROM notices WHERE `+slotted), pid, "%"+notice.LinkSlot+"%").Scan(&s.Reminders); err != nil {
		return SignIns{}, fmt.Errorf("%s: sign-ins of %d: %w", db, pid, err)
	}
	return s, nil
}

// EndSignIns ends every way into the pensioner's pages person pid has open at now —
// sessions (the person's and the agent's), unused reminder links, logins waiting for a
// code — when a phone is lost or a relative may no longer act for them: a new reminder
// or a login by ID number and SMS code lets them in again. Reminders queued and not yet
// sent, which would get a sign-in link as they are sent (to the lost phone, say), are
// given the login page's address instead (it asks for the whole ID number). The action is audited (kind
// citizen_signin) with the member of staff, their reason and what was ended, in the same
// transaction; it returns what was ended.
func EndSignIns(ctx context.Context, db *store.DB, pid int64, actor, reason string, now time.Time, loc *time.Location) (SignIns, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return SignIns{}, fmt.Errorf("ending sign-ins: a reason is required")
	}
	tx, err := db.Begin(ctx)
	if err != nil {
		return SignIns{}, err
	}
	defer tx.Rollback()
	p, err := personBy(tx, "pid", pid)
	if err != nil {
		return SignIns{}, fmt.Errorf("ending sign-ins of %d: %w", pid, err)
	}
	t := now.UnixNano()
	var s SignIns
	for _, c := range []struct {
		n    *int
		stmt string
		args []any
	}{
		{&s.Sessions, `DELETE FROM citizen_sessions WHERE pid = ? AND agent = 0 AND expires > ?`, []any{pid, t}},
		{&s.AgentSessions, `DELETE FROM citizen_sessions WHERE pid = ? AND agent <> 0 AND expires > ?`, []any{pid, t}},
		// A link ended is expired now, not deleted: opening it says it is no longer valid.
		{&s.Links, `UPDATE citizen_links SET expires = ? WHERE pid = ? AND used = 0 AND expires > ?`, []any{t, pid, t}},
		{&s.Challenges, `DELETE FROM citizen_challenges WHERE pid = ? AND done = 0 AND expires > ?`, []any{pid, t}},
		{&s.Reminders, `UPDATE notices SET text = REPLACE(text, ?, ?) WHERE ` + slotted,
			[]any{notice.LinkSlot, LinkBase + "login", pid, "%" + notice.LinkSlot + "%"}},
	} {
		n, err := tx.ExecN(c.stmt, c.args...)
		if err != nil {
			return SignIns{}, fmt.Errorf("ending sign-ins of %d: %w", pid, err)
		}
		*c.n = int(n)
	}
	note := store.DetailValue(reason)
	if err := tx.Append([]store.AuditRow{{Kind: "citizen_signin", Day: dayIn(now, loc), At: now.UTC().Format(time.RFC3339),
		Actor: actor, PID: pid, PersonID: p.PersonID, Action: "ended", Rule: "citizen",
		Detail: s.String() + ";reason=" + note}}); err != nil {
		return SignIns{}, err
	}
	return s, tx.Commit()
}
