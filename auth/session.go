package auth

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/store"
)

// Session is one login: what a session cookie stands for.
type Session struct {
	ID      string // the hex SHA-256 of the token: safe to show and log, useless as a cookie
	UserID  int64
	Created time.Time
	Expires time.Time
	CSRF    string // the token forms must send back (CheckCSRF)
}

// ErrThrottled is wrapped by the Login error when the caller's address is blocked (too
// many failures from it), so that the console can answer 429 instead of 401; it says
// nothing about the account.
var ErrThrottled = errors.New("too many failed logins from this address")

// Login checks a name and password and, when they are right, starts a new session and
// returns its token (for the cookie; the database keeps only its hash). Each login makes
// a new token, so a token planted before login never becomes valid. Guessing is slowed
// per account (MaxFailures wrong passwords in a row lock it for LockFor, even against the
// right password) and per address (IPMaxFailures in IPWindow). Every failure is the same
// EUnauthorized error, whether the name exists or not, and takes as long.
func (a *Service) Login(ctx context.Context, name, password, remoteIP string) (string, *User, error) {
	ip := AddrKey(remoteIP)
	if !a.ips.allow(ip, a.now(), a.opt.IPWindow, a.opt.IPMaxFailures) {
		return "", nil, &sc.Error{Code: sc.EUnauthorized, Message: unauthorized().Error(), Err: ErrThrottled}
	}
	// The attempt is booked against the address until it is known to have failed (failed
	// below), or given back when it did not: a burst sent at once counts in full.
	booked := true
	defer func() {
		if booked {
			a.ips.release(ip)
		}
	}()
	var tripped bool
	failed := func(now time.Time) {
		if booked {
			tripped = a.ips.fail(ip, now, a.opt.IPWindow, a.opt.IPMaxFailures)
			booked = false
		}
	}
	name = strings.TrimSpace(name)
	var encoded string
	var id int64
	err := a.db.Reader().QueryRowContext(ctx, a.db.Rebind(`SELECT id, password FROM users WHERE name = ?`), name).Scan(&id, &encoded)
	known := err == nil
	if err != nil && err != sql.ErrNoRows {
		return "", nil, fmt.Errorf("%s: login: %w", a.db, err)
	}
	if !known {
		encoded = a.dummyHash(ctx)
	}
	ok, stale, err := a.verifyPassword(ctx, encoded, password)
	if err != nil {
		return "", nil, err
	}
	if a.afterVerify != nil {
		a.afterVerify()
	}
	if len(password) > maxPasswordLen {
		ok = false
	}
	var rehash string
	if ok && stale {
		if rehash, err = a.hashPassword(ctx, password); err != nil {
			return "", nil, err
		}
	}

	var token string
	var user *User
	err = a.write(ctx, func(tx *store.Tx) error {
		now := a.now()
		detail := "ip=" + ip
		if !known {
			failed(now)
			// What was typed is not kept: a name no account has may be a password typed
			// into the wrong field.
			return tx.Append([]store.AuditRow{a.auditRow(now, "login", unknownName, "failed", detail+";reason=unknown_name")})
		}
		// The account as it is now: another login may have changed its failures meanwhile.
		var failures int
		var u *User
		var stored string
		row := tx.QueryRow(`SELECT `+userCols+`, failures, password FROM users WHERE id = ?`, id)
		u, err := scanUser(scanWith{row: row, after: []any{&failures, &stored}})
		if err != nil {
			return err
		}
		if ok && stored != encoded {
			// The password was changed (an administrator's reset, its holder's own) between
			// the check above and this transaction: the check was against one no longer in
			// use, and a stale hash written back below would undo the change.
			return sc.Errorf(sc.EConflict, "the password was changed meanwhile: sign in again")
		}
		switch {
		case u.LockedUntil.After(now):
			failed(now)
			return tx.Append([]store.AuditRow{a.auditRow(now, "login", name, "failed", detail+";reason=locked")})
		case !ok:
			failed(now)
			_, err := a.wrongPassword(tx, now, u, failures+1, false, func(n int) store.AuditRow {
				return a.auditRow(now, "login", name, "failed", fmt.Sprintf("%s;reason=wrong_password;failures=%d", detail, n))
			}, detail)
			return err
		case u.Disabled:
			return tx.Append([]store.AuditRow{a.auditRow(now, "login", name, "failed", detail+";reason=disabled")})
		}
		if err := tx.Exec(`UPDATE users SET failures = 0, locked_until = 0 WHERE id = ?`, id); err != nil {
			return err
		}
		if rehash != "" {
			if err := tx.Exec(`UPDATE users SET password = ? WHERE id = ?`, rehash, id); err != nil {
				return err
			}
		}
		// Sessions that ran out are dropped here, where a write happens anyway.
		if err := tx.Exec(`DELETE FROM sessions WHERE expires <= ?`, now.UnixNano()); err != nil {
			return err
		}
		token = randomToken(32)
		if err := tx.Exec(`INSERT INTO sessions (hash, user_id, created, expires, csrf, ip) VALUES (?, ?, ?, ?, ?, ?)`,
			tokenHash(token), id, now.UnixNano(), now.Add(a.opt.SessionTTL).UnixNano(), randomToken(32), ip); err != nil {
			return err
		}
		u.LockedUntil = time.Time{}
		user = u
		if rehash != "" {
			// The password's hash made again with today's parameters: its print, for
			// audit verify (store.SecretPrint).
			detail += fmt.Sprintf(";id=%d;rehashed=1;pw=%s", id, store.SecretPrint(rehash))
		}
		return tx.Append([]store.AuditRow{a.auditRow(now, "login", name, "ok", detail)})
	})
	if err != nil {
		return "", nil, err
	}
	if user == nil {
		if tripped {
			if err := a.write(ctx, func(tx *store.Tx) error {
				now := a.now()
				return tx.Append([]store.AuditRow{a.auditRow(now, "login", "system", "ip_blocked",
					"ip="+ip+";until="+now.Add(a.opt.IPWindow).UTC().Format(time.RFC3339))})
			}); err != nil {
				return "", nil, err
			}
		}
		return "", nil, unauthorized()
	}
	return token, user, nil
}

// wrongPassword records the failures-th wrong password in a row for account u, in tx:
// failed(failures) is its audit row; at MaxFailures the account is locked for LockFor
// (audited with detail; every session ended too when endSessions) and the count starts
// again. It reports whether the account was locked.
func (a *Service) wrongPassword(tx *store.Tx, now time.Time, u *User, failures int, endSessions bool,
	failed func(failures int) store.AuditRow, detail string) (bool, error) {
	rows := []store.AuditRow{failed(failures)}
	var until int64
	if failures >= a.opt.MaxFailures {
		t := now.Add(a.opt.LockFor)
		until, failures = t.UnixNano(), 0
		locked := strings.TrimPrefix(detail+";until="+t.UTC().Format(time.RFC3339), ";")
		if endSessions {
			n, err := revoke(tx, u.ID)
			if err != nil {
				return false, err
			}
			locked += fmt.Sprintf(";sessions_revoked=%d", n)
		}
		rows = append(rows, a.auditRow(now, "login", u.Name, "locked", locked))
	}
	if err := tx.Exec(`UPDATE users SET failures = ?, locked_until = ? WHERE id = ?`, failures, until, u.ID); err != nil {
		return false, err
	}
	return until != 0, tx.Append(rows)
}

// scanWith scans some columns, then userCols, then some more: a user read with its session
// or its failure count.
type scanWith struct {
	row           interface{ Scan(...any) error }
	before, after []any
}

func (s scanWith) Scan(dest ...any) error {
	return s.row.Scan(append(append(append([]any{}, s.before...), dest...), s.after...)...)
}

// dummyHash is a hash of nothing anyone types, verified for unknown names so that they
// cost what a known name costs.
func (a *Service) dummyHash(ctx context.Context) string {
	a.dummyOnce.Do(func() {
		a.dummy, _ = a.hashPassword(ctx, randomToken(16))
	})
	if a.dummy == "" { // the first try was cancelled
		h, _ := a.hashPassword(ctx, randomToken(16))
		return h
	}
	return a.dummy
}

// Session returns the account and session a token stands for, or an EUnauthorized error
// when the token is unknown, expired, revoked, or its account disabled.
func (a *Service) Session(ctx context.Context, token string) (*User, *Session, error) {
	if token == "" || len(token) > 128 {
		return nil, nil, sc.Errorf(sc.EUnauthorized, "not logged in")
	}
	s := Session{ID: tokenHash(token)}
	var created, expires, seen int64
	row := a.db.Reader().QueryRowContext(ctx, a.db.Rebind(`SELECT s.user_id, s.created, s.expires, s.seen, s.csrf,
		u.id, u.name, u.role, u.region, u.lang, u.disabled, u.locked_until, u.created, u.must_change
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.hash = ?`), s.ID)
	u, err := scanUser(scanWith{row: row, before: []any{&s.UserID, &created, &expires, &seen, &s.CSRF}})
	if err == sql.ErrNoRows {
		return nil, nil, sc.Errorf(sc.EUnauthorized, "not logged in")
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s: session: %w", a.db, err)
	}
	s.Created, s.Expires = time.Unix(0, created).UTC(), time.Unix(0, expires).UTC()
	now := a.now()
	if !now.Before(s.Expires) {
		return nil, nil, sc.Errorf(sc.EUnauthorized, "the session has expired: log in again")
	}
	written := time.Unix(0, max(created, seen))
	last := written
	if v, ok := a.used.Load(s.ID); ok && v.(time.Time).After(last) {
		last = v.(time.Time)
	}
	if now.Sub(last) >= a.opt.SessionIdle {
		a.used.Delete(s.ID)
		return nil, nil, sc.Errorf(sc.EUnauthorized, "the session ended after %s without use: log in again", a.opt.SessionIdle)
	}
	if u.Disabled {
		return nil, nil, sc.Errorf(sc.EUnauthorized, "the account is disabled")
	}
	a.touch(ctx, s.ID, now, written)
	return u, &s, nil
}

// touchEvery is how stale a session's written last use may grow before a request writes
// it again: one write a minute for a busy session, not one a request.
const touchEvery = time.Minute

// touch records that the session hash was used at now. The time is kept in memory at once
// and written to the session's row when the written one (written) is touchEvery old; the
// write waits at most a moment for the database's writer (a long batch may hold it) and is
// tried again at the next request when it could not be made, so that a page never waits
// on it. The memory bridges the gap: an idle limit is checked against the later of the two.
func (a *Service) touch(ctx context.Context, hash string, now, written time.Time) {
	a.used.Store(hash, now)
	if now.Sub(written) < touchEvery {
		return
	}
	// The turn's wait is bounded by BeginWithin, not by a cancel of the context, which on
	// PostgreSQL would cost the connection; the context bounds the write itself.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 500*time.Millisecond)
	defer cancel()
	tx, err := a.db.BeginWithin(ctx, 250*time.Millisecond)
	if err != nil {
		return
	}
	defer tx.Rollback()
	if tx.Exec(`UPDATE sessions SET seen = ? WHERE hash = ? AND seen < ?`, now.UnixNano(), hash, now.UnixNano()) != nil || tx.Commit() != nil {
		return
	}
	a.used.CompareAndDelete(hash, now)
	// Sessions left idle, logged out or revoked leave their last use behind: dropped here,
	// with own password changes no longer remembered.
	a.used.Range(func(k, v any) bool {
		if now.Sub(v.(time.Time)) >= a.opt.SessionIdle {
			a.used.CompareAndDelete(k, v)
		}
		return true
	})
	a.dropOldChanges(now)
}

// Logout ends the session token stands for; an unknown token is no error.
func (a *Service) Logout(ctx context.Context, token, remoteIP string) error {
	h := tokenHash(token)
	a.used.Delete(h)
	return a.write(ctx, func(tx *store.Tx) error {
		var name string
		err := tx.QueryRow(`SELECT u.name FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.hash = ?`, h).Scan(&name)
		if err == sql.ErrNoRows {
			return nil
		}
		if err != nil {
			return err
		}
		if err := tx.Exec(`DELETE FROM sessions WHERE hash = ?`, h); err != nil {
			return err
		}
		return tx.Append([]store.AuditRow{a.auditRow(a.now(), "login", name, "logout", "ip="+AddrKey(remoteIP))})
	})
}

// CheckCSRF reports whether token is the session's CSRF token, in constant time so that
// the answer's timing gives the token away byte by byte to no one.
func (a *Service) CheckCSRF(s *Session, token string) bool {
	if s == nil || s.CSRF == "" || token == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(s.CSRF), []byte(token)) == 1
}

// AddrKey is the address failures and limits are counted under, and audit rows name: the
// IP without its port, and for IPv6 its /64, which one client usually holds whole (a
// client rotating addresses within it is one client). What is no IP address is
// "unknown", never its text: a login row's detail is read back by audit verify, and an
// address's text could forge its pairs.
func AddrKey(remote string) string {
	if ap, err := netip.ParseAddrPort(remote); err == nil {
		remote = ap.Addr().String()
	}
	addr, err := netip.ParseAddr(remote)
	if err != nil {
		return unknownAddr
	}
	addr = addr.WithZone("")
	addr = addr.Unmap()
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.String()
	}
	return addr.String()
}

// unknownAddr is AddrKey's answer for what is no IP address.
const unknownAddr = "unknown"

// unknownName is the actor of a failed login under a name no account has.
const unknownName = "(unknown)"

// ipLimiter counts failed logins per address in fixed windows, in memory: after a restart
// the count starts again, which the per-account lockout (in the database) does not.
type ipLimiter struct {
	mu sync.Mutex
	m  map[string]*ipState
}

type ipState struct {
	start    time.Time
	failures int // in the window that began at start
	pending  int // attempts allowed and not yet known to have failed or not
}

// allow reports whether ip may try to log in now and, when it may, books the attempt:
// the failures and the attempts still being checked together stay within limit, so that
// a burst of guesses sent at once is not checked before any of them counts. The booking
// ends in fail or release.
func (l *ipLimiter) allow(ip string, now time.Time, window time.Duration, limit int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.state(ip, now, window)
	if s.failures+s.pending >= limit {
		return false
	}
	s.pending++
	return true
}

// fail turns a booked attempt from ip into a failure and reports whether it is the one
// that blocks the address.
func (l *ipLimiter) fail(ip string, now time.Time, window time.Duration, limit int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.state(ip, now, window)
	s.pending = max(s.pending-1, 0)
	s.failures++
	return s.failures == limit
}

// release gives a booked attempt from ip back: it succeeded, or ended in an error before
// its password was found wrong.
func (l *ipLimiter) release(ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.m[ip]
	if s == nil {
		return
	}
	s.pending = max(s.pending-1, 0)
	if s.pending == 0 && s.failures == 0 {
		delete(l.m, ip) // only addresses that failed are remembered
	}
}

// state is ip's count in the window now falls in, under l.mu: a new window forgets the
// failures, not the attempts still being checked.
func (l *ipLimiter) state(ip string, now time.Time, window time.Duration) *ipState {
	s := l.m[ip]
	if s == nil {
		if len(l.m) >= 100_000 {
			for k, v := range l.m {
				if now.Sub(v.start) >= window && v.pending == 0 {
					delete(l.m, k)
				}
			}
		}
		s = &ipState{start: now}
		l.m[ip] = s
	} else if now.Sub(s.start) >= window {
		s.start, s.failures = now, 0
	}
	return s
}

// ClientAddr is the address a request's limits count by: its peer's, or behind one
// reverse proxy (behindProxy) the last entry of X-Forwarded-For, which that proxy appended.
// The entries before it are the client's word, and not believed; so are the header's
// earlier lines, which a proxy that adds a line of its own (HAProxy's option forwardfor)
// leaves first. A last entry that is no IP address is not believed either: the peer's
// address stands, and no client text reaches a limit's key or an audit row.
func ClientAddr(r *http.Request, behindProxy bool) string {
	if behindProxy {
		if lines := r.Header.Values("X-Forwarded-For"); len(lines) > 0 {
			hops := strings.Split(strings.Join(lines, ","), ",")
			if addr, err := netip.ParseAddr(strings.TrimSpace(hops[len(hops)-1])); err == nil {
				return addr.WithZone("").String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// OverTLS reports whether request r reached the service over TLS: directly, or behind one
// reverse proxy (behindProxy) that says so in X-Forwarded-Proto, its last entry being
// "https". Only cookies' Secure attribute is decided by it: a client that forges the header
// makes its own cookies stricter, nothing more.
func OverTLS(r *http.Request, behindProxy bool) bool {
	if r.TLS != nil {
		return true
	}
	if !behindProxy {
		return false
	}
	lines := r.Header.Values("X-Forwarded-Proto")
	if len(lines) == 0 {
		return false
	}
	protos := strings.Split(strings.Join(lines, ","), ",")
	return strings.EqualFold(strings.TrimSpace(protos[len(protos)-1]), "https")
}
