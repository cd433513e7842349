package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/store"
	"golang.org/x/text/width"
)

const userCols = `id, name, role, region, lang, disabled, locked_until, created, must_change`

// scanUser reads a row of userCols.
func scanUser(row interface{ Scan(...any) error }) (*User, error) {
	var u User
	var role, created string
	var disabled, mustChange int
	var locked int64
	if err := row.Scan(&u.ID, &u.Name, &role, &u.Region, &u.Lang, &disabled, &locked, &created, &mustChange); err != nil {
		return nil, err
	}
	u.Role = Role(role)
	u.Disabled = disabled != 0
	u.MustChange = mustChange != 0
	if locked > 0 {
		u.LockedUntil = time.Unix(0, locked).UTC()
	}
	u.Created, _ = time.Parse(time.RFC3339, created)
	return &u, nil
}

// checkName says whether name is fit for an account: 2 to 64 letters (of any script),
// digits and . _ - @, so that a name is never mistaken for markup, a path or another name
// with spaces around it.
func checkName(name string) error {
	n := utf8.RuneCountInString(name)
	if n < 2 || n > 64 || !utf8.ValidString(name) {
		return sc.Errorf(sc.EInvalid, "account name %q: 2 to 64 characters", clip(name, 64))
	}
	for _, r := range name {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune("._-@", r) {
			return sc.Errorf(sc.EInvalid, "account name %q: letters, digits and . _ - @ only", clip(name, 64))
		}
	}
	return nil
}

// SameName says whether two account names are one to a reader: equal but for case or
// width (Admin and admin, ａｄｍｉｎ and admin). Such a second account is refused: in the
// audit trail and the console's lists it would pass for the first.
func SameName(a, b string) bool {
	return strings.EqualFold(width.Fold.String(a), width.Fold.String(b))
}

// takenName is the refusal of name, which an account named like reads as.
func takenName(name, like string) error {
	if name == like {
		return sc.Errorf(sc.EConflict, "account name %q is taken", name)
	}
	return sc.Errorf(sc.EConflict, "account name %q is taken: it reads as the account %q (names equal but for case or width are one)", name, like)
}

// TakenName is the refusal of an account named name when an account of the names given
// reads as it (SameName), or nil: a command line checks before it asks for the password.
func TakenName(name string, names []string) error {
	for _, n := range names {
		if SameName(n, name) {
			return takenName(name, n)
		}
	}
	return nil
}

// CheckAccount says whether an account of this name, role and region could be made
// (the password aside): a command line checks before it asks for the password.
func CheckAccount(name string, role Role, region string) error {
	if err := checkName(name); err != nil {
		return err
	}
	return checkScope(role, region)
}

// CreateUser makes an account whose password its holder chose (the first administrator
// at the command line, the demo's accounts); actor is who makes it. The name must be new,
// the password pass CheckPassword, and the region fit the role (a village account needs
// its 12-digit code). The account's language is zh-CN.
func (a *Service) CreateUser(ctx context.Context, actor, name, password string, role Role, region string) (*User, error) {
	return a.createUser(ctx, actor, name, password, role, region, false)
}

// CreateUserTemporary is CreateUser with a password the administrator chose for the
// holder: the holder must choose their own at their first sign-in (ChangeOwnPassword)
// before the console shows them anything.
func (a *Service) CreateUserTemporary(ctx context.Context, actor, name, password string, role Role, region string) (*User, error) {
	return a.createUser(ctx, actor, name, password, role, region, true)
}

func (a *Service) createUser(ctx context.Context, actor, name, password string, role Role, region string, temporary bool) (*User, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	if err := checkScope(role, region); err != nil {
		return nil, err
	}
	if err := CheckPassword(name, password); err != nil {
		return nil, err
	}
	hash, err := a.hashPassword(ctx, password)
	if err != nil {
		return nil, err
	}
	var u *User
	err = a.write(ctx, func(tx *store.Tx) error {
		var like string
		if err := tx.Each(`SELECT name FROM users`, nil, func(rows *sql.Rows) error {
			var n string
			if err := rows.Scan(&n); err != nil {
				return err
			}
			if like == "" && SameName(n, name) {
				like = n
			}
			return nil
		}); err != nil {
			return err
		}
		if like != "" {
			return takenName(name, like)
		}
		now := a.now()
		at := now.UTC().Format(time.RFC3339)
		var id int64
		if err := tx.QueryRow(`INSERT INTO users (name, role, region, lang, password, disabled, failures, locked_until, created, changed, must_change)
			VALUES (?, ?, ?, 'zh-CN', ?, 0, 0, 0, ?, ?, ?) RETURNING id`, name, string(role), region, hash, at, at, b2i(temporary)).Scan(&id); err != nil {
			return fmt.Errorf("create account %s: %w", name, err)
		}
		u = &User{ID: id, Name: name, Role: role, Region: region, Lang: "zh-CN", Created: now.UTC().Truncate(time.Second), MustChange: temporary}
		return tx.Append([]store.AuditRow{a.auditRow(now, "user", actor, "create",
			fmt.Sprintf("user=%s;id=%d;role=%s;region=%s;pw=%s", name, id, role, region, store.SecretPrint(hash))+temporaryDetail(temporary))})
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// EnsureUser returns the account named name, making it (as "system") when there is none:
// `demo` calls it on every start. An existing account is returned as it is, its password
// and role untouched.
func (a *Service) EnsureUser(ctx context.Context, name, password string, role Role, region string) (*User, error) {
	u, err := scanUser(a.db.Reader().QueryRowContext(ctx, a.db.Rebind(`SELECT `+userCols+` FROM users WHERE name = ?`), name))
	switch {
	case err == nil:
		return u, nil
	case err != sql.ErrNoRows:
		return nil, fmt.Errorf("%s: account %s: %w", a.db, name, err)
	}
	u, err = a.CreateUser(ctx, "system", name, password, role, region)
	if sc.ErrorCode(err) == sc.EConflict { // made by another process meanwhile
		return a.EnsureUser(ctx, name, password, role, region)
	}
	return u, err
}

// Users returns every account in the order they were made.
func (a *Service) Users(ctx context.Context) ([]User, error) {
	rows, err := a.db.Reader().QueryContext(ctx, `SELECT `+userCols+` FROM users ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("%s: accounts: %w", a.db, err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *u)
	}
	return out, rows.Err()
}

// User returns the account with id, or an ENotFound error.
func (a *Service) User(ctx context.Context, id int64) (*User, error) {
	u, err := scanUser(a.db.Reader().QueryRowContext(ctx, a.db.Rebind(`SELECT `+userCols+` FROM users WHERE id = ?`), id))
	if err == sql.ErrNoRows {
		return nil, sc.Errorf(sc.ENotFound, "no account %d", id)
	}
	return u, err
}

// change runs one administrator's change to account id in a transaction: fn gets the
// account as it is and returns the audit action and detail.
func (a *Service) change(ctx context.Context, actor string, id int64, kind string,
	fn func(tx *store.Tx, u *User, now time.Time) (action, detail string, err error)) error {
	return a.write(ctx, func(tx *store.Tx) error {
		u, err := scanUser(tx.QueryRow(`SELECT `+userCols+` FROM users WHERE id = ?`, id))
		if err == sql.ErrNoRows {
			return sc.Errorf(sc.ENotFound, "no account %d", id)
		}
		if err != nil {
			return err
		}
		now := a.now()
		action, detail, err := fn(tx, u, now)
		if err != nil || action == "" {
			return err
		}
		if err := tx.Exec(`UPDATE users SET changed = ? WHERE id = ?`, now.UTC().Format(time.RFC3339), id); err != nil {
			return err
		}
		return tx.Append([]store.AuditRow{a.auditRow(now, kind, actor, action, fmt.Sprintf("user=%s;id=%d", u.Name, id)+detail)})
	})
}

// revoke deletes every session of account id and returns how many there were.
func revoke(tx *store.Tx, id int64) (int, error) {
	var n int
	if err := tx.QueryRow(`SELECT count(*) FROM sessions WHERE user_id = ?`, id).Scan(&n); err != nil {
		return 0, err
	}
	return n, tx.Exec(`DELETE FROM sessions WHERE user_id = ?`, id)
}

// SetPassword gives account id a new password its holder chose (typed by them at the
// command line) and ends its sessions, so that whoever knew the old one is logged out; it
// also lifts a lockout.
func (a *Service) SetPassword(ctx context.Context, actor string, id int64, password string) error {
	return a.setPassword(ctx, actor, id, password, false)
}

// SetTemporaryPassword is SetPassword with a password an administrator chose for the
// holder (a forgotten one, reset in the console): the holder must choose their own at
// their next sign-in.
func (a *Service) SetTemporaryPassword(ctx context.Context, actor string, id int64, password string) error {
	return a.setPassword(ctx, actor, id, password, true)
}

func (a *Service) setPassword(ctx context.Context, actor string, id int64, password string, temporary bool) error {
	u, err := a.User(ctx, id)
	if err != nil {
		return err
	}
	if err := CheckPassword(u.Name, password); err != nil {
		return err
	}
	hash, err := a.hashPassword(ctx, password)
	if err != nil {
		return err
	}
	return a.change(ctx, actor, id, "user", func(tx *store.Tx, u *User, now time.Time) (string, string, error) {
		if err := tx.Exec(`UPDATE users SET password = ?, failures = 0, locked_until = 0, must_change = ? WHERE id = ?`, hash, b2i(temporary), id); err != nil {
			return "", "", err
		}
		n, err := revoke(tx, id)
		return "password", fmt.Sprintf(";sessions_revoked=%d;pw=%s", n, store.SecretPrint(hash)) + temporaryDetail(temporary), err
	})
}

// SetDisabled disables or enables account id; disabling ends its sessions at once. The
// last enabled administrator cannot be disabled, so that someone can always manage accounts.
func (a *Service) SetDisabled(ctx context.Context, actor string, id int64, disabled bool) error {
	return a.change(ctx, actor, id, "user", func(tx *store.Tx, u *User, now time.Time) (string, string, error) {
		if u.Disabled == disabled {
			return "", "", nil
		}
		if disabled && u.Role == RoleAdmin && u.Region == "" {
			if err := lastAdmin(tx, id); err != nil {
				return "", "", err
			}
		}
		if err := tx.Exec(`UPDATE users SET disabled = ? WHERE id = ?`, b2i(disabled), id); err != nil {
			return "", "", err
		}
		if !disabled {
			return "enable", "", nil
		}
		n, err := revoke(tx, id)
		return "disable", fmt.Sprintf(";sessions_revoked=%d", n), err
	})
}

// SetRole changes account id's role and region and ends its sessions, so that no page
// keeps showing what the account may no longer see.
func (a *Service) SetRole(ctx context.Context, actor string, id int64, role Role, region string) error {
	if err := checkScope(role, region); err != nil {
		return err
	}
	return a.change(ctx, actor, id, "user", func(tx *store.Tx, u *User, now time.Time) (string, string, error) {
		if u.Role == role && u.Region == region {
			return "", "", nil
		}
		if u.Role == RoleAdmin && u.Region == "" && (role != RoleAdmin || region != "") && !u.Disabled {
			if err := lastAdmin(tx, id); err != nil {
				return "", "", err
			}
		}
		if err := tx.Exec(`UPDATE users SET role = ?, region = ? WHERE id = ?`, string(role), region, id); err != nil {
			return "", "", err
		}
		n, err := revoke(tx, id)
		return "role", fmt.Sprintf(";role=%s;region=%s;sessions_revoked=%d", role, region, n), err
	})
}

// SetLang sets account id's console language (one of Languages).
func (a *Service) SetLang(ctx context.Context, actor string, id int64, lang string) error {
	if !slices.Contains(Languages, lang) {
		return sc.Errorf(sc.EInvalid, "language %q: want one of %s", lang, strings.Join(Languages, ", "))
	}
	return a.change(ctx, actor, id, "user", func(tx *store.Tx, u *User, now time.Time) (string, string, error) {
		if u.Lang == lang {
			return "", "", nil
		}
		return "lang", ";lang=" + lang, tx.Exec(`UPDATE users SET lang = ? WHERE id = ?`, lang, id)
	})
}

// Unlock lifts a lockout before it runs out (the user called the administrator).
func (a *Service) Unlock(ctx context.Context, actor string, id int64) error {
	return a.change(ctx, actor, id, "user", func(tx *store.Tx, u *User, now time.Time) (string, string, error) {
		return "unlock", "", tx.Exec(`UPDATE users SET failures = 0, locked_until = 0 WHERE id = ?`, id)
	})
}

// RevokeSessions ends every session of account id (a lost phone).
func (a *Service) RevokeSessions(ctx context.Context, actor string, userID int64) error {
	return a.change(ctx, actor, userID, "user", func(tx *store.Tx, u *User, now time.Time) (string, string, error) {
		n, err := revoke(tx, userID)
		return "revoke_sessions", fmt.Sprintf(";sessions_revoked=%d", n), err
	})
}

// lastAdmin refuses to take away the administrator account id when it is the last enabled one.
// lastAdmin refuses to leave no enabled administrator of the whole installation but id:
// administrators with a region cannot manage the others, nor API keys.
func lastAdmin(tx *store.Tx, id int64) error {
	var n int
	if err := tx.QueryRow(`SELECT count(*) FROM users WHERE role = 'admin' AND region = '' AND disabled = 0 AND id <> ?`, id).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return &sc.Error{Code: sc.EConflict, Message: "this is the last enabled administrator of the whole installation: make another first", Err: ErrLastAdmin}
	}
	return nil
}

// ErrLastAdmin is wrapped by the error refusing to disable, or take the role of, the last
// enabled administrator of the whole installation, so that the console can audit the refusal.
var ErrLastAdmin = errors.New("the last enabled administrator of the whole installation")

// Refused records that actor was refused an action on accounts (kind "user") or API keys
// (kind "api_key"), with detail saying what and why, in a transaction of its own: the
// refused change wrote nothing, and the attempt is still a staff action for the trail.
// detail must hold no password, and client text only through store.DetailValue.
func (a *Service) Refused(ctx context.Context, actor, kind, detail string) error {
	return a.write(ctx, func(tx *store.Tx) error {
		return tx.Append([]store.AuditRow{a.auditRow(a.now(), kind, actor, "refused", detail)})
	})
}

// temporaryDetail marks an audit row's password as one an administrator chose.
func temporaryDetail(temporary bool) string {
	if temporary {
		return ";temporary=1"
	}
	return ""
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
