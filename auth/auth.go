// Package auth keeps the console's staff accounts and the departments' API keys: argon2id
// passwords, login sessions with their CSRF tokens, throttling and lockout of password
// guessing, roles scoped to a division code prefix, and per-source keys for the ingestion
// API. Every staff action it performs is appended to the audit trail in the transaction
// that makes it. It must never store or log a password, a session token or an API key in
// clear, and never tell a caller whether a name it was given belongs to an account.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"runtime"
	"sync"
	"time"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/store"
)

// Options tunes a Service; a zero field takes its default, so that Options{} is fit for
// production and tests change only what they need (a fake clock, cheap hashing).
type Options struct {
	Now         func() time.Time // the clock; time.Now by default
	MaxFailures int              // wrong passwords in a row before an account is locked (5)
	LockFor     time.Duration    // how long a locked account stays locked (15m)
	SessionTTL  time.Duration    // how long a session lasts after login (12h)
	SessionIdle time.Duration    // a session unused this long ends before its TTL (1h)

	// IPMaxFailures failed logins from one address within IPWindow block that address
	// until the window ends (20 in 15m): guessing across many accounts is slowed too.
	IPMaxFailures int
	IPWindow      time.Duration

	// Hash is the argon2id cost for new passwords (DefaultHash); stored hashes keep their
	// own parameters and are upgraded at the next successful login.
	Hash HashParams

	// Location is where the audit rows' Day falls (UTC+8 by default, the agencies' time).
	Location *time.Location
	// Today, when set, is the audit rows' business day instead of the clock's date (the
	// demo's day is its last simulated one, while sessions keep the wall clock).
	Today func() sc.Date

	// WriteWait bounds how long a login, a logout or a change of an account or key waits
	// for the database's writers' turn, which a large batch or a payroll day holds for
	// minutes, before it fails with sc.EBusy having done nothing (store.StaffWait).
	WriteWait time.Duration
}

// Service is the accounts and keys of one database; it is safe for concurrent use.
type Service struct {
	db  *store.DB
	opt Options

	ips     ipLimiter
	hashing chan struct{} // at most this many argon2 computations at once (memory bound)

	dummyOnce sync.Once
	dummy     string // a hash verified for unknown names, so that they take as long

	used sync.Map // session hash → time.Time of its last use not yet written (see Session)

	changes sync.Map // session hash → ownChange: its own password change of the last minute

	afterVerify func() // tests: called between a login's password check and its transaction
}

// New returns the Service over db, whose schema must include migration 0003.
func New(db *store.DB, opt Options) *Service {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.MaxFailures <= 0 {
		opt.MaxFailures = 5
	}
	if opt.LockFor <= 0 {
		opt.LockFor = 15 * time.Minute
	}
	if opt.SessionTTL <= 0 {
		opt.SessionTTL = 12 * time.Hour
	}
	if opt.SessionIdle <= 0 {
		opt.SessionIdle = time.Hour
	}
	if opt.IPMaxFailures <= 0 {
		opt.IPMaxFailures = 20
	}
	if opt.IPWindow <= 0 {
		opt.IPWindow = 15 * time.Minute
	}
	if opt.Hash == (HashParams{}) {
		opt.Hash = DefaultHash
	}
	if opt.Location == nil {
		opt.Location = time.FixedZone("UTC+8", 8*3600)
	}
	if opt.WriteWait <= 0 {
		opt.WriteWait = store.StaffWait
	}
	return &Service{
		db:      db,
		opt:     opt,
		ips:     ipLimiter{m: map[string]*ipState{}},
		hashing: make(chan struct{}, max(runtime.GOMAXPROCS(0), 1)),
	}
}

// now returns the clock's time.
func (a *Service) now() time.Time { return a.opt.Now() }

// auditRow is a staff action's audit row at the current time.
func (a *Service) auditRow(now time.Time, kind, actor, action, detail string) store.AuditRow {
	y, m, d := now.In(a.opt.Location).Date()
	day := sc.MakeDate(y, int(m), d)
	if a.opt.Today != nil {
		day = a.opt.Today()
	}
	return store.AuditRow{Kind: kind, Day: day, At: now.UTC().Format(time.RFC3339),
		Actor: clip(actor, 64), PID: -1, Action: action, Detail: detail}
}

// write runs fn in a write transaction and commits it; it waits at most WriteWait for the
// transaction's turn.
func (a *Service) write(ctx context.Context, fn func(tx *store.Tx) error) error {
	tx, err := a.db.BeginWithin(ctx, a.opt.WriteWait)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// randomToken returns n random bytes in unpadded base64url.
func randomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand panics rather than return a short read)
	return base64.RawURLEncoding.EncodeToString(b)
}

// tokenHash is the hex SHA-256 of a token: what the database keeps. Tokens carry 256
// random bits, so a fast hash is enough; no salt is needed, and the hash is the lookup key.
func tokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// clip cuts s to at most n runes, so that a name typed at the login form cannot fill the
// audit trail.
func clip(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}

// unauthorized is the one answer to a failed login: it never says whether the name exists.
func unauthorized() error {
	return sc.Errorf(sc.EUnauthorized, "wrong name or password, or too many attempts: try again later")
}
