package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"fmt"
	"time"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/store"
)

// ChangeOwnPassword is a staff member choosing their own password, signed in with the
// session s: the current password must be given (a screen left signed in must not let a
// passer-by take the account over), the new one pass CheckPassword and differ from it.
// Every session of the account ends, s too, and a new one starts in place of s, as a
// sign-in starts one (a new token and CSRF token, SessionTTL from now): its token is
// returned, for the cookie. A token taken before the change (a cookie stolen, a
// computer shared) so opens nothing after it, however the holder came to change the
// password. A wrong current password counts as a failed login: MaxFailures in a row
// lock the account and end all its sessions, s too, so that a stolen session cannot be
// used to guess the password.
func (a *Service) ChangeOwnPassword(ctx context.Context, s *Session, current, next string) (string, error) {
	if s == nil {
		return "", sc.Errorf(sc.EUnauthorized, "not logged in")
	}
	var encoded string
	u, err := scanUser(scanWith{row: a.db.Reader().QueryRowContext(ctx, a.db.Rebind(`SELECT `+userCols+`, password FROM users WHERE id = ?`), s.UserID),
		after: []any{&encoded}})
	if err == sql.ErrNoRows {
		return "", sc.Errorf(sc.EUnauthorized, "not logged in")
	}
	if err != nil {
		return "", fmt.Errorf("%s: account %d: %w", a.db, s.UserID, err)
	}
	ok, _, err := a.verifyPassword(ctx, encoded, current)
	if err != nil {
		return "", err
	}
	if len(current) > maxPasswordLen {
		ok = false
	}
	var hash, token string
	switch {
	case !ok:
		if c, found := a.changedHere(s.ID, next); found {
			// The form sent twice (a double tap on a slow line): this session made next
			// the password a moment ago, and the second is answered as the first was,
			// with the session that replaced this one. Only the session's own change is
			// remembered: no one learns here what the password is.
			return c.token, nil
		}
	default:
		if current == next {
			return "", sc.Errorf(sc.EInvalid, "the new password is the one in use: choose another")
		}
		if err := CheckPassword(u.Name, next); err != nil {
			return "", err
		}
		if hash, err = a.hashPassword(ctx, next); err != nil {
			return "", err
		}
		// Remembered before the write, so that the same form sent again at once finds it
		// (see above) and both name one new session; forgotten if the write fails.
		token = a.rememberChange(s, next)
	}
	var locked, raced bool
	err = a.write(ctx, func(tx *store.Tx) error {
		now := a.now()
		var failures int
		var stored string
		u, err := scanUser(scanWith{row: tx.QueryRow(`SELECT `+userCols+`, failures, password FROM users WHERE id = ?`, s.UserID), after: []any{&failures, &stored}})
		if err != nil {
			return err
		}
		if stored != encoded && ok {
			// Changed meanwhile by this form sent twice at once (both checked the old
			// password before either wrote), when the other's write started the session
			// both were to name: it ended s already.
			var n int
			if err := tx.QueryRow(`SELECT count(*) FROM sessions WHERE hash = ?`, tokenHash(token)).Scan(&n); err != nil {
				return err
			}
			if raced = n > 0; raced {
				return nil
			}
		}
		var ip string
		err = tx.QueryRow(`SELECT ip FROM sessions WHERE hash = ?`, s.ID).Scan(&ip)
		if err == sql.ErrNoRows {
			return sc.Errorf(sc.EUnauthorized, "not logged in")
		}
		if err != nil {
			return err
		}
		if u.Disabled {
			return sc.Errorf(sc.EUnauthorized, "not logged in")
		}
		detail := fmt.Sprintf("user=%s;id=%d", u.Name, u.ID)
		if u.LockedUntil.After(now) {
			return sc.Errorf(sc.EUnauthorized, "the account is locked after wrong passwords: ask an administrator")
		}
		if stored != encoded {
			// Changed meanwhile by another of the holder's sessions or an administrator,
			// when the check above was against a password no longer in use.
			return sc.Errorf(sc.EConflict, "the password was changed meanwhile: sign in again")
		}
		if !ok {
			locked, err = a.wrongPassword(tx, now, u, failures+1, true, func(n int) store.AuditRow {
				return a.auditRow(now, "user", u.Name, "password_own_failed", fmt.Sprintf("%s;failures=%d", detail, n))
			}, "")
			return err
		}
		if err := tx.Exec(`UPDATE users SET password = ?, must_change = 0, failures = 0, changed = ? WHERE id = ?`,
			hash, now.UTC().Format(time.RFC3339), u.ID); err != nil {
			return err
		}
		n, err := revoke(tx, u.ID)
		if err != nil {
			return err
		}
		if err := tx.Exec(`INSERT INTO sessions (hash, user_id, created, expires, csrf, ip) VALUES (?, ?, ?, ?, ?, ?)`,
			tokenHash(token), u.ID, now.UnixNano(), now.Add(a.opt.SessionTTL).UnixNano(), randomToken(32), ip); err != nil {
			return err
		}
		// sessions_revoked counts the others: s is replaced, not ended.
		return tx.Append([]store.AuditRow{a.auditRow(now, "user", u.Name, "password_own", fmt.Sprintf("%s;sessions_revoked=%d;pw=%s", detail, n-1, store.SecretPrint(hash)))})
	})
	if err != nil {
		if ok {
			a.forgetChange(s.ID)
		}
		return "", err
	}
	if !ok {
		if locked {
			a.used.Delete(s.ID)
			return "", sc.Errorf(sc.EUnauthorized, "the current password was wrong too many times: the account is locked, ask an administrator")
		}
		return "", sc.Errorf(sc.EInvalid, "the current password is wrong")
	}
	a.used.Delete(s.ID) // ended, by this change or (raced) its twin's
	return token, nil
}

// RenewedSession returns the token of the session that replaced the one token stood
// for, when that session's own password change (ChangeOwnPassword) made next the
// password within changeMemory and csrf is its CSRF token; else "". It answers the
// change's form sent twice, the second after the first had ended its session (a double
// tap on a slow line), as the first was answered: with the new session. A token taken
// before the change opens nothing here without the new password.
func (a *Service) RenewedSession(token, csrf, next string) string {
	if token == "" || len(token) > 128 {
		return ""
	}
	c, found := a.changedHere(tokenHash(token), next)
	if !found || c.csrf == "" || subtle.ConstantTimeCompare([]byte(c.csrf), []byte(csrf)) != 1 {
		return ""
	}
	return c.token
}

// changeMemory is how long a session's own password change answers the same form sent
// again as done.
const changeMemory = time.Minute

// ownChange is a session's own password change, remembered for changeMemory. The new
// session's token is held here, in memory only, for that minute: it is handed only to
// whoever sends the form again with the new password.
type ownChange struct {
	sum   [32]byte // SHA-256 of the new password: its hash proper is argon2id, in the table
	at    time.Time
	token string // the session that replaces the one that made the change
	csrf  string // the CSRF token of the one that made the change
}

// rememberChange notes that session s is making next its account's password and
// returns the token of the session that is to replace s: a new one, or the one the same
// form sent at once already holds, so that both name one session.
func (a *Service) rememberChange(s *Session, next string) string {
	c := ownChange{sum: sha256.Sum256([]byte(next)), at: a.now(), token: randomToken(32), csrf: s.CSRF}
	a.dropOldChanges(c.at)
	for {
		v, loaded := a.changes.LoadOrStore(s.ID, c)
		if !loaded {
			return c.token
		}
		if old := v.(ownChange); subtle.ConstantTimeCompare(old.sum[:], c.sum[:]) == 1 && c.at.Sub(old.at) < changeMemory {
			return old.token
		}
		if a.changes.CompareAndSwap(s.ID, v, c) {
			return c.token
		}
	}
}

func (a *Service) forgetChange(sid string) { a.changes.Delete(sid) }

// dropOldChanges forgets the changes older than changeMemory: the session a change
// ended is seldom met again, and its successor's token must not stay in memory.
func (a *Service) dropOldChanges(now time.Time) {
	a.changes.Range(func(k, v any) bool {
		if now.Sub(v.(ownChange).at) >= changeMemory {
			a.changes.CompareAndDelete(k, v)
		}
		return true
	})
}

// changedHere returns session sid's change to next when it was made within
// changeMemory. Old entries are dropped as they are met.
func (a *Service) changedHere(sid, next string) (ownChange, bool) {
	v, found := a.changes.Load(sid)
	if !found {
		return ownChange{}, false
	}
	c := v.(ownChange)
	if a.now().Sub(c.at) >= changeMemory {
		a.changes.CompareAndDelete(sid, v)
		return ownChange{}, false
	}
	sum := sha256.Sum256([]byte(next))
	if subtle.ConstantTimeCompare(sum[:], c.sum[:]) != 1 {
		return ownChange{}, false
	}
	return c, true
}
