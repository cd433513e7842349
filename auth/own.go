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
// Every other session of the account ends; s goes on. A wrong current password counts
// as a failed login: MaxFailures in a row lock the account and end all its sessions, s
// too, so that a stolen session cannot be used to guess the password.
func (a *Service) ChangeOwnPassword(ctx context.Context, s *Session, current, next string) error {
	if s == nil {
		return sc.Errorf(sc.EUnauthorized, "not logged in")
	}
	var encoded string
	u, err := scanUser(scanWith{row: a.db.Reader().QueryRowContext(ctx, a.db.Rebind(`SELECT `+userCols+`, password FROM users WHERE id = ?`), s.UserID),
		after: []any{&encoded}})
	if err == sql.ErrNoRows {
		return sc.Errorf(sc.EUnauthorized, "not logged in")
	}
	if err != nil {
		return fmt.Errorf("%s: account %d: %w", a.db, s.UserID, err)
	}
	ok, _, err := a.verifyPassword(ctx, encoded, current)
	if err != nil {
		return err
	}
	if len(current) > maxPasswordLen {
		ok = false
	}
	var hash string
	switch {
	case !ok && a.changedHere(s.ID, next):
		// The form sent twice (a double tap on a slow line): this session made next the
		// password a moment ago, and the second is answered as the first was. Only the
		// session's own change is remembered: no one learns here what the password is.
		return nil
	case ok:
		if current == next {
			return sc.Errorf(sc.EInvalid, "the new password is the one in use: choose another")
		}
		if err := CheckPassword(u.Name, next); err != nil {
			return err
		}
		if hash, err = a.hashPassword(ctx, next); err != nil {
			return err
		}
		// Remembered before the write, so that the same form sent again at once finds it
		// (see above); forgotten if the write fails.
		a.rememberChange(s.ID, next)
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
		var n int
		if err := tx.QueryRow(`SELECT count(*) FROM sessions WHERE hash = ?`, s.ID).Scan(&n); err != nil {
			return err
		}
		if n == 0 || u.Disabled {
			return sc.Errorf(sc.EUnauthorized, "not logged in")
		}
		detail := fmt.Sprintf("user=%s id=%d", u.Name, u.ID)
		if u.LockedUntil.After(now) {
			return sc.Errorf(sc.EUnauthorized, "the account is locked after wrong passwords: ask an administrator")
		}
		if stored != encoded {
			// Changed meanwhile: by this form sent twice at once (both checked the old
			// password before either wrote), or by another of the holder's sessions or an
			// administrator, when the check above was against a password no longer in use.
			if ok && a.changedHere(s.ID, next) {
				raced = true
				return nil
			}
			return sc.Errorf(sc.EConflict, "the password was changed meanwhile: sign in again")
		}
		if !ok {
			locked, err = a.wrongPassword(tx, now, u, failures+1, true, func(n int) store.AuditRow {
				return a.auditRow(now, "user", u.Name, "password_own_failed", fmt.Sprintf("%s failures=%d", detail, n))
			}, "")
			return err
		}
		if err := tx.Exec(`UPDATE users SET password = ?, must_change = 0, failures = 0, changed = ? WHERE id = ?`,
			hash, now.UTC().Format(time.RFC3339), u.ID); err != nil {
			return err
		}
		if err := tx.QueryRow(`SELECT count(*) FROM sessions WHERE user_id = ? AND hash <> ?`, u.ID, s.ID).Scan(&n); err != nil {
			return err
		}
		if err := tx.Exec(`DELETE FROM sessions WHERE user_id = ? AND hash <> ?`, u.ID, s.ID); err != nil {
			return err
		}
		return tx.Append([]store.AuditRow{a.auditRow(now, "user", u.Name, "password_own", fmt.Sprintf("%s sessions_revoked=%d", detail, n))})
	})
	if err != nil {
		if ok {
			a.forgetChange(s.ID)
		}
		return err
	}
	if raced {
		return nil
	}
	if !ok {
		if locked {
			a.used.Delete(s.ID)
			return sc.Errorf(sc.EUnauthorized, "the current password was wrong too many times: the account is locked, ask an administrator")
		}
		return sc.Errorf(sc.EInvalid, "the current password is wrong")
	}
	return nil
}

// changeMemory is how long a session's own password change answers the same form sent
// again as done.
const changeMemory = time.Minute

type ownChange struct {
	sum [32]byte // SHA-256 of the new password: its hash proper is argon2id, in the table
	at  time.Time
}

// rememberChange notes that session sid is making next its account's password.
func (a *Service) rememberChange(sid, next string) {
	a.changes.Store(sid, ownChange{sum: sha256.Sum256([]byte(next)), at: a.now()})
}

func (a *Service) forgetChange(sid string) { a.changes.Delete(sid) }

// changedHere reports whether session sid made next its password within changeMemory.
// Old entries are dropped as they are met.
func (a *Service) changedHere(sid, next string) bool {
	v, found := a.changes.Load(sid)
	if !found {
		return false
	}
	c := v.(ownChange)
	if a.now().Sub(c.at) >= changeMemory {
		a.changes.CompareAndDelete(sid, v)
		return false
	}
	sum := sha256.Sum256([]byte(next))
	return subtle.ConstantTimeCompare(sum[:], c.sum[:]) == 1
}
