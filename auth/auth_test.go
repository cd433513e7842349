package auth_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/auth"
	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
)

// Every test runs against SQLite and PostgreSQL.

type clock struct{ t time.Time }

func (c *clock) Now() time.Time          { return c.t }
func (c *clock) Advance(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock                   { return &clock{time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)} }
func code(err error) string              { return sc.ErrorCode(err) }
func must[T any](v T, err error) func(*testing.T) T {
	return func(t *testing.T) T { t.Helper(); mustOK(t, err); return v }
}

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// cheap is an argon2id cost for tests: the format and the code path are the same.
var cheap = auth.HashParams{Time: 1, Memory: 64, Threads: 1}

type env struct {
	db  *store.DB
	a   *auth.Service
	clk *clock
}

func TestAuth(t *testing.T) {
	for _, tc := range []struct {
		name string
		test func(t *testing.T, e env)
	}{
		{"password round trip", testPassword},
		{"lockout", testLockout},
		{"session fixation", testFixation},
		{"logout and revoke", testLogoutRevoke},
		{"expiry", testExpiry},
		{"idle", testIdle},
		{"disabled", testDisabled},
		{"csrf", testCSRF},
		{"ip throttle", testIPThrottle},
		{"ip throttle against a burst", testIPThrottleBurst},
		{"accounts", testAccounts},
		{"names that read as one", testNamesReadAsOne},
		{"last administrator of the whole installation", testLastCityAdmin},
		{"api keys", testAPIKeys},
		{"audit", testAudit},
		{"an address that is no address", testForgedAddress},
		{"rehash", testRehash},
		{"concurrent logins", testConcurrent},
		{"own password", testOwnPassword},
		{"own password renews the session", testOwnPasswordRenews},
		{"accounts changed outside the service", testAccountsVerified},
		{"a login racing a password reset", testLoginRacesReset},
	} {
		for _, dsn := range storetest.DSNs(t) {
			t.Run(tc.name+"/"+dsn.Name, func(t *testing.T) {
				clk := newClock()
				db := dsn.Open(t)
				tc.test(t, env{db, auth.New(db, auth.Options{Now: clk.Now, Hash: cheap, IPMaxFailures: 1000}), clk})
			})
		}
	}
}

const pw = "correct horse battery"

func testPassword(t *testing.T, e env) {
	ctx := context.Background()
	u := must(e.a.CreateUser(ctx, "root", "wang.li", pw, auth.RoleVillage, "371002001001"))(t)
	if u.ID == 0 || u.Name != "wang.li" || u.Role != auth.RoleVillage || u.Region != "371002001001" || u.Lang != "zh-CN" {
		t.Fatalf("created %+v", u)
	}
	var stored string
	mustOK(t, e.db.SQL().QueryRow(e.db.Rebind(`SELECT password FROM users WHERE id = ?`), u.ID).Scan(&stored))
	if !strings.HasPrefix(stored, "$argon2id$v=19$m=64,t=1,p=1$") || strings.Contains(stored, pw) || len(strings.Split(stored, "$")) != 6 {
		t.Fatalf("stored %q", stored)
	}
	tok, got, err := e.a.Login(ctx, "wang.li", pw, "10.0.0.1")
	if err != nil || tok == "" || got.ID != u.ID {
		t.Fatalf("login: %q %+v %v", tok, got, err)
	}
	_, _, wrong := e.a.Login(ctx, "wang.li", pw+"!", "10.0.0.1")
	_, _, unknown := e.a.Login(ctx, "nobody", pw, "10.0.0.1")
	if code(wrong) != sc.EUnauthorized || code(unknown) != sc.EUnauthorized {
		t.Fatalf("wrong password %v, unknown name %v", wrong, unknown)
	}
	if wrong.Error() != unknown.Error() {
		t.Fatalf("the messages tell the name exists: %q vs %q", wrong, unknown)
	}
	// Another account with the same password gets another salt.
	u2 := must(e.a.CreateUser(ctx, "root", "zhao.min", pw, auth.RoleAuditor, ""))(t)
	var stored2 string
	mustOK(t, e.db.SQL().QueryRow(e.db.Rebind(`SELECT password FROM users WHERE id = ?`), u2.ID).Scan(&stored2))
	if stored2 == stored {
		t.Fatal("two accounts with one password share a hash: no salt")
	}
}

func testLockout(t *testing.T, e env) {
	ctx := context.Background()
	must(e.a.CreateUser(ctx, "root", "li.na", pw, auth.RoleOperator, ""))(t)
	// Failures that a success interrupts do not add up.
	for range 4 {
		if _, _, err := e.a.Login(ctx, "li.na", "wrong password", "10.0.0.2"); code(err) != sc.EUnauthorized {
			t.Fatal(err)
		}
	}
	must(login(e, "li.na", pw))(t)
	for i := range 5 {
		if _, _, err := e.a.Login(ctx, "li.na", "wrong password", "10.0.0.2"); code(err) != sc.EUnauthorized {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	_, _, err := e.a.Login(ctx, "li.na", pw, "10.0.0.3")
	if code(err) != sc.EUnauthorized {
		t.Fatalf("the right password opened a locked account: %v", err)
	}
	us := must(e.a.Users(ctx))(t)
	if want := e.clk.t.Add(15 * time.Minute); !us[0].LockedUntil.Equal(want) {
		t.Fatalf("locked until %v, want %v", us[0].LockedUntil, want)
	}
	e.clk.Advance(15*time.Minute - time.Second)
	if _, _, err := e.a.Login(ctx, "li.na", pw, "10.0.0.3"); code(err) != sc.EUnauthorized {
		t.Fatalf("unlocked a second early: %v", err)
	}
	e.clk.Advance(time.Second)
	must(login(e, "li.na", pw))(t)
	if us := must(e.a.Users(ctx))(t); !us[0].LockedUntil.IsZero() {
		t.Fatalf("still locked until %v", us[0].LockedUntil)
	}
	// An administrator lifts a lockout early.
	for range 5 {
		e.a.Login(ctx, "li.na", "wrong password", "10.0.0.2")
	}
	mustOK(t, e.a.Unlock(ctx, "root", us[0].ID))
	must(login(e, "li.na", pw))(t)
}

func login(e env, name, password string) (string, error) {
	tok, _, err := e.a.Login(context.Background(), name, password, "192.0.2.1")
	return tok, err
}

func testFixation(t *testing.T, e env) {
	ctx := context.Background()
	must(e.a.CreateUser(ctx, "root", "sun.wei", pw, auth.RoleTown, "371002001"))(t)
	planted := "attacker-chosen-session-value"
	if _, _, err := e.a.Session(ctx, planted); code(err) != sc.EUnauthorized {
		t.Fatalf("planted token before login: %v", err)
	}
	tok := must(login(e, "sun.wei", pw))(t)
	if tok == planted || len(tok) != 43 {
		t.Fatalf("token %q", tok)
	}
	if _, _, err := e.a.Session(ctx, planted); code(err) != sc.EUnauthorized {
		t.Fatalf("planted token after login: %v", err)
	}
	u, s, err := e.a.Session(ctx, tok)
	if err != nil || u.Name != "sun.wei" || s.UserID != u.ID || s.CSRF == "" || s.ID == tok || strings.Contains(s.ID, tok) {
		t.Fatalf("session %+v %+v %v", u, s, err)
	}
	if !s.Expires.Equal(e.clk.t.Add(12 * time.Hour)) {
		t.Fatalf("expires %v", s.Expires)
	}
	tok2 := must(login(e, "sun.wei", pw))(t)
	_, s2, err := e.a.Session(ctx, tok2)
	if tok2 == tok || err != nil || s2.ID == s.ID || s2.CSRF == s.CSRF {
		t.Fatalf("a second login reused the first session: %v", err)
	}
	// Only the hash is stored.
	var n int
	mustOK(t, e.db.SQL().QueryRow(e.db.Rebind(`SELECT count(*) FROM sessions WHERE hash = ? OR hash = ?`), tok, tok2).Scan(&n))
	if n != 0 {
		t.Fatal("a session token is stored in clear")
	}
}

func testLogoutRevoke(t *testing.T, e env) {
	ctx := context.Background()
	u := must(e.a.CreateUser(ctx, "root", "zhou.jie", pw, auth.RoleDistrict, "371002"))(t)
	t1 := must(login(e, "zhou.jie", pw))(t)
	t2 := must(login(e, "zhou.jie", pw))(t)
	mustOK(t, e.a.Logout(ctx, t1, "10.1.1.1"))
	if _, _, err := e.a.Session(ctx, t1); code(err) != sc.EUnauthorized {
		t.Fatalf("after logout: %v", err)
	}
	if _, _, err := e.a.Session(ctx, t2); err != nil {
		t.Fatalf("logout ended the other session: %v", err)
	}
	mustOK(t, e.a.Logout(ctx, t1, "10.1.1.1")) // twice: harmless
	mustOK(t, e.a.RevokeSessions(ctx, "root", u.ID))
	if _, _, err := e.a.Session(ctx, t2); code(err) != sc.EUnauthorized {
		t.Fatalf("after revoke: %v", err)
	}
	// A new password ends the sessions and replaces the old one.
	t3 := must(login(e, "zhou.jie", pw))(t)
	mustOK(t, e.a.SetPassword(ctx, "root", u.ID, "a new long passphrase"))
	if _, _, err := e.a.Session(ctx, t3); code(err) != sc.EUnauthorized {
		t.Fatalf("after a new password: %v", err)
	}
	if _, err := login(e, "zhou.jie", pw); code(err) != sc.EUnauthorized {
		t.Fatalf("old password: %v", err)
	}
	must(login(e, "zhou.jie", "a new long passphrase"))(t)
	if err := e.a.SetPassword(ctx, "root", u.ID, "short"); code(err) != sc.EInvalid {
		t.Fatalf("short password: %v", err)
	}
	// A new role ends the sessions too: pages must not keep the old scope.
	t4 := must(login(e, "zhou.jie", "a new long passphrase"))(t)
	mustOK(t, e.a.SetRole(ctx, "root", u.ID, auth.RoleTown, "371002001"))
	if _, _, err := e.a.Session(ctx, t4); code(err) != sc.EUnauthorized {
		t.Fatalf("after a role change: %v", err)
	}
	if err := e.a.SetRole(ctx, "root", u.ID, auth.RoleTown, "371002"); code(err) != sc.EInvalid {
		t.Fatalf("town with a district code: %v", err)
	}
}

// testIdle: a session unused for an hour ends; its last use survives a restart, and a use
// the database could not record at once (its writer held by a batch) still counts.
func testIdle(t *testing.T, e env) {
	ctx := context.Background()
	must(e.a.CreateUser(ctx, "root", "sun.li", pw, auth.RoleOperator, ""))(t)
	tok := must(login(e, "sun.li", pw))(t)
	for range 3 {
		e.clk.Advance(59 * time.Minute)
		if _, _, err := e.a.Session(ctx, tok); err != nil {
			t.Fatalf("used within the hour: %v", err)
		}
	}
	// A restart: a new Service reads the last use from the row.
	restarted := auth.New(e.db, auth.Options{Now: e.clk.Now, Hash: cheap})
	e.clk.Advance(59 * time.Minute)
	if _, _, err := restarted.Session(ctx, tok); err != nil {
		t.Fatalf("after a restart, used within the hour: %v", err)
	}
	// The writer held: the use is remembered, not written.
	tx, err := e.db.Begin(ctx)
	mustOK(t, err)
	e.clk.Advance(50 * time.Minute)
	if _, _, err := restarted.Session(ctx, tok); err != nil {
		t.Fatalf("writer held: %v", err)
	}
	tx.Rollback()
	e.clk.Advance(50 * time.Minute)
	if _, _, err := restarted.Session(ctx, tok); err != nil {
		t.Fatalf("a use not yet written: %v", err)
	}
	e.clk.Advance(time.Hour)
	_, _, err = restarted.Session(ctx, tok)
	if code(err) != sc.EUnauthorized || !strings.Contains(err.Error(), "without use") {
		t.Fatalf("an hour unused: %v", err)
	}
	// Idle is not revived by a later use.
	if _, _, err := restarted.Session(ctx, tok); code(err) != sc.EUnauthorized {
		t.Fatalf("used again after ending: %v", err)
	}
	// A session never used after login ends an hour after it.
	tok2 := must(login(e, "sun.li", pw))(t)
	e.clk.Advance(time.Hour)
	if _, _, err := e.a.Session(ctx, tok2); code(err) != sc.EUnauthorized {
		t.Fatalf("unused since login: %v", err)
	}
}

func testExpiry(t *testing.T, e env) {
	ctx := context.Background()
	must(e.a.CreateUser(ctx, "root", "qian.yu", pw, auth.RoleOperator, ""))(t)
	tok := must(login(e, "qian.yu", pw))(t)
	// Used every 50 minutes, it lasts its 12 hours and no more.
	for range 14 {
		e.clk.Advance(50 * time.Minute)
		if _, _, err := e.a.Session(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	e.clk.Advance(12*time.Hour - 14*50*time.Minute - time.Second)
	if _, _, err := e.a.Session(ctx, tok); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(time.Second)
	if _, _, err := e.a.Session(ctx, tok); code(err) != sc.EUnauthorized {
		t.Fatalf("expired session: %v", err)
	}
	// The next login drops it from the table.
	must(login(e, "qian.yu", pw))(t)
	var n int
	mustOK(t, e.db.SQL().QueryRow(`SELECT count(*) FROM sessions`).Scan(&n))
	if n != 1 {
		t.Fatalf("%d sessions kept, want 1", n)
	}
}

func testDisabled(t *testing.T, e env) {
	ctx := context.Background()
	admin := must(e.a.CreateUser(ctx, "system", "admin", pw, auth.RoleAdmin, ""))(t)
	u := must(e.a.CreateUser(ctx, "admin", "chen.hao", pw, auth.RoleVillage, "371002001002"))(t)
	tok := must(login(e, "chen.hao", pw))(t)
	mustOK(t, e.a.SetDisabled(ctx, "admin", u.ID, true))
	if _, _, err := e.a.Session(ctx, tok); code(err) != sc.EUnauthorized {
		t.Fatalf("disabled user's session: %v", err)
	}
	var n int
	mustOK(t, e.db.SQL().QueryRow(e.db.Rebind(`SELECT count(*) FROM sessions WHERE user_id = ?`), u.ID).Scan(&n))
	if n != 0 {
		t.Fatalf("disabling kept %d sessions", n)
	}
	_, _, err := e.a.Login(ctx, "chen.hao", pw, "10.0.0.9")
	if code(err) != sc.EUnauthorized {
		t.Fatalf("disabled user logged in: %v", err)
	}
	if _, _, unknown := e.a.Login(ctx, "nobody", pw, "10.0.0.9"); err.Error() != unknown.Error() {
		t.Fatalf("a disabled account is told apart: %q", err)
	}
	got := must(e.a.User(ctx, u.ID))(t)
	if !got.Disabled || got.Sees("371002001002") || got.CanWrite() {
		t.Fatalf("disabled %+v", got)
	}
	mustOK(t, e.a.SetDisabled(ctx, "admin", u.ID, false))
	tok = must(login(e, "chen.hao", pw))(t)
	// A session is refused once its account is disabled, even if its row is still there
	// (the flag set by hand in the database).
	_, err = e.db.SQL().Exec(e.db.Rebind(`UPDATE users SET disabled = 1 WHERE id = ?`), u.ID)
	mustOK(t, err)
	if _, _, err := e.a.Session(ctx, tok); code(err) != sc.EUnauthorized {
		t.Fatalf("disabled by hand: %v", err)
	}
	// The last administrator stays.
	if err := e.a.SetDisabled(ctx, "admin", admin.ID, true); code(err) != sc.EConflict {
		t.Fatalf("disabled the last administrator: %v", err)
	}
	if err := e.a.SetRole(ctx, "admin", admin.ID, auth.RoleOperator, ""); code(err) != sc.EConflict {
		t.Fatalf("demoted the last administrator: %v", err)
	}
}

func testCSRF(t *testing.T, e env) {
	ctx := context.Background()
	must(e.a.CreateUser(ctx, "root", "he.xin", pw, auth.RoleOperator, ""))(t)
	_, s, err := e.a.Session(ctx, must(login(e, "he.xin", pw))(t))
	mustOK(t, err)
	if len(s.CSRF) < 40 || !e.a.CheckCSRF(s, s.CSRF) {
		t.Fatalf("csrf %q", s.CSRF)
	}
	for _, bad := range []string{"", s.CSRF[:len(s.CSRF)-1], s.CSRF + "x", strings.ToUpper(s.CSRF), s.ID} {
		if e.a.CheckCSRF(s, bad) {
			t.Fatalf("accepted %q", bad)
		}
	}
	if e.a.CheckCSRF(&auth.Session{}, "") || e.a.CheckCSRF(nil, s.CSRF) {
		t.Fatal("accepted an empty token")
	}
}

func testIPThrottle(t *testing.T, e env) {
	ctx := context.Background()
	a := auth.New(e.db, auth.Options{Now: e.clk.Now, Hash: cheap, IPMaxFailures: 3, IPWindow: 10 * time.Minute})
	must(a.CreateUser(ctx, "root", "lin.feng", pw, auth.RoleOperator, ""))(t)
	// Guessing across accounts from one address: three failures, on three names.
	for _, name := range []string{"lin.feng", "nobody", "someone"} {
		a.Login(ctx, name, "guess guess guess", "203.0.113.7:51234")
	}
	_, _, err := a.Login(ctx, "lin.feng", pw, "203.0.113.7:40000")
	if code(err) != sc.EUnauthorized || !errors.Is(err, auth.ErrThrottled) {
		t.Fatalf("blocked address logged in: %v", err)
	}
	if _, _, err := a.Login(ctx, "lin.feng", pw, "198.51.100.1"); err != nil {
		t.Fatalf("another address: %v", err)
	}
	// IPv6: the /64 is one client.
	for i := range 3 {
		a.Login(ctx, "lin.feng", "guess guess guess", "[2001:db8::"+string(rune('1'+i))+"]:443")
	}
	if _, _, err := a.Login(ctx, "lin.feng", pw, "2001:db8::ff"); !errors.Is(err, auth.ErrThrottled) {
		t.Fatalf("same /64: %v", err)
	}
	e.clk.Advance(10 * time.Minute)
	if _, _, err := a.Login(ctx, "lin.feng", pw, "203.0.113.7"); err != nil {
		t.Fatalf("after the window: %v", err)
	}
	rows := must(e.db.PersonAudit(ctx, -1))(t)
	if !hasRow(rows, "login", "system", "ip_blocked", "ip=203.0.113.7;") {
		t.Fatal("no audit row for the blocked address")
	}
}

// testIPThrottleBurst: a burst of wrong passwords from one address, sent at once, had
// every guess checked: the address's limit was read before any failure of the burst was
// counted. Now each attempt is booked against the limit before its password is checked.
func testIPThrottleBurst(t *testing.T, e env) {
	ctx := context.Background()
	a := auth.New(e.db, auth.Options{Now: e.clk.Now, Hash: cheap, IPMaxFailures: 3, IPWindow: time.Hour})
	const n = 12
	for i := range n {
		must(a.CreateUser(ctx, "root", fmt.Sprintf("user%02d", i), pw, auth.RoleOperator, ""))(t)
	}
	// Every attempt let through waits after its check until all n have been checked, or
	// for a while when fewer are let through (as they should be).
	var arrived sync.WaitGroup
	arrived.Add(n)
	release := make(chan struct{})
	go func() { arrived.Wait(); close(release) }()
	auth.SetAfterVerify(a, func() {
		arrived.Done()
		select {
		case <-release:
		case <-time.After(3 * time.Second):
		}
	})
	var wg sync.WaitGroup
	var checked atomic.Int32
	for i := range n {
		wg.Go(func() {
			_, _, err := a.Login(ctx, fmt.Sprintf("user%02d", i), "a wrong guess", "203.0.113.9")
			if !errors.Is(err, auth.ErrThrottled) {
				checked.Add(1)
			}
		})
	}
	wg.Wait()
	if c := checked.Load(); c > 3 {
		t.Errorf("%d guesses from one address checked in a burst; the limit is 3", c)
	}
	auth.SetAfterVerify(a, nil)
	// A right password given back its booking: an address that signs in is not counted.
	b := auth.New(e.db, auth.Options{Now: e.clk.Now, Hash: cheap, IPMaxFailures: 1, IPWindow: time.Hour})
	for range 3 {
		if _, _, err := b.Login(ctx, "user00", pw, "198.51.100.4"); err != nil {
			t.Fatalf("a right password, again: %v", err)
		}
	}
}

func testAccounts(t *testing.T, e env) {
	ctx := context.Background()
	for _, c := range []struct {
		name, password, region string
		role                   auth.Role
		want                   string
	}{
		{"ok.user", pw, "", auth.RoleAdmin, ""},
		{"ok.user", pw, "", auth.RoleAdmin, sc.EConflict},
		{"x", pw, "", auth.RoleAdmin, sc.EInvalid},
		{"has space", pw, "", auth.RoleAdmin, sc.EInvalid},
		{"<script>", pw, "", auth.RoleAdmin, sc.EInvalid},
		{"王村长", pw, "371002001001", auth.RoleVillage, ""},
		{"v1", pw, "37100200100", auth.RoleVillage, sc.EInvalid},
		{"v2", pw, "", auth.RoleVillage, sc.EInvalid},
		{"t1", pw, "371002001001", auth.RoleTown, sc.EInvalid},
		{"d1", pw, "37100a", auth.RoleDistrict, sc.EInvalid},
		{"o1", pw, "3710", auth.RoleOperator, ""},
		{"o2", pw, "37100", auth.RoleOperator, sc.EInvalid},
		{"r1", pw, "", "root", sc.EInvalid},
		{"p1", "short", "", auth.RoleAuditor, sc.EInvalid},
	} {
		_, err := e.a.CreateUser(ctx, "root", c.name, c.password, c.role, c.region)
		if code(err) != c.want {
			t.Errorf("%s %s %q: %v, want %q", c.name, c.role, c.region, err, c.want)
		}
	}
	us := must(e.a.Users(ctx))(t)
	if len(us) != 3 || us[0].Name != "ok.user" || us[1].Name != "王村长" || us[2].Region != "3710" {
		t.Fatalf("users %+v", us)
	}
	// EnsureUser is idempotent and leaves an existing account alone.
	u1 := must(e.a.EnsureUser(ctx, "demo.village", pw, auth.RoleVillage, "371002001001"))(t)
	u2 := must(e.a.EnsureUser(ctx, "demo.village", "another password", auth.RoleAdmin, ""))(t)
	if u1.ID != u2.ID || u2.Role != auth.RoleVillage {
		t.Fatalf("ensure %+v %+v", u1, u2)
	}
	must(login(e, "demo.village", pw))(t)
	mustOK(t, e.a.SetLang(ctx, "root", u1.ID, "en"))
	if got := must(e.a.User(ctx, u1.ID))(t); got.Lang != "en" {
		t.Fatalf("lang %q", got.Lang)
	}
	if err := e.a.SetLang(ctx, "root", u1.ID, "fr"); code(err) != sc.EInvalid {
		t.Fatal(err)
	}
	if _, err := e.a.User(ctx, 999); code(err) != sc.ENotFound {
		t.Fatal(err)
	}
	if err := e.a.SetPassword(ctx, "root", 999, pw); code(err) != sc.ENotFound {
		t.Fatal(err)
	}
}

func testAPIKeys(t *testing.T, e env) {
	ctx := context.Background()
	secret, id := mustKey(t, e, "PSB", "nightly export")
	if !strings.HasPrefix(secret, "sck_") || len(secret) != 47 {
		t.Fatalf("secret %q", secret)
	}
	other, _ := mustKey(t, e, "HEA", "")
	k, err := e.a.APIKey(ctx, secret)
	if err != nil || k.Source != "PSB" || k.ID != id || k.Types != nil {
		t.Fatalf("use: %+v %v", k, err)
	}
	if k, _ := e.a.APIKey(ctx, other); k.Source != "HEA" {
		t.Fatalf("other key's source %q", k.Source)
	}
	for _, bad := range []string{"", "sck_", secret + "x", secret[:len(secret)-1], strings.Repeat("a", 10000)} {
		if _, err := e.a.APIKey(ctx, bad); code(err) != sc.EUnauthorized {
			t.Fatalf("%q: %v", bad, err)
		}
	}
	// Only the hash is stored: the row holds SHA-256(secret) and no field holds the secret.
	var hash []byte
	var source, name, prefix, created, revoked string
	mustOK(t, e.db.SQL().QueryRow(e.db.Rebind(`SELECT source, name, prefix, hash, created, revoked FROM api_keys WHERE id = ?`), id).
		Scan(&source, &name, &prefix, &hash, &created, &revoked))
	sum := sha256.Sum256([]byte(secret))
	if !bytes.Equal(hash, sum[:]) || !strings.HasPrefix(secret, prefix) || len(prefix) > 12 {
		t.Fatalf("stored hash %x prefix %q", hash, prefix)
	}
	for _, f := range []string{source, name, prefix, string(hash), created, revoked} {
		if strings.Contains(f, secret[len(prefix):]) {
			t.Fatalf("the secret is stored: %q", f)
		}
	}
	mustOK(t, e.a.RevokeAPIKey(ctx, "root", id))
	mustOK(t, e.a.RevokeAPIKey(ctx, "root", id)) // twice: harmless
	if _, err := e.a.APIKey(ctx, secret); code(err) != sc.EUnauthorized {
		t.Fatalf("revoked key: %v", err)
	}
	if _, err := e.a.APIKey(ctx, other); err != nil {
		t.Fatalf("revoking one key broke another: %v", err)
	}
	keys := must(e.a.APIKeys(ctx))(t)
	if len(keys) != 2 || keys[0].ID != id || keys[0].Revoked.IsZero() || !keys[1].Revoked.IsZero() ||
		keys[0].Name != "nightly export" || keys[0].Prefix != prefix || !keys[0].Created.Equal(e.clk.t) {
		t.Fatalf("keys %+v", keys)
	}
	if err := e.a.RevokeAPIKey(ctx, "root", 999); code(err) != sc.ENotFound {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "psb", "P-S", "1AB", strings.Repeat("A", 33)} {
		if _, _, err := e.a.CreateAPIKey(ctx, "root", bad, "", nil); code(err) != sc.EInvalid {
			t.Fatalf("source %q: %v", bad, err)
		}
	}
	// A key limited to some types keeps them, in order and once each, and lists them.
	limited, lid, err := e.a.CreateAPIKey(ctx, "root", "HRSS", "face app", []string{"HRSS.VISIT", "HRSS.FACE", "HRSS.VISIT"})
	mustOK(t, err)
	if k, err := e.a.APIKey(ctx, limited); err != nil || strings.Join(k.Types, ",") != "HRSS.FACE,HRSS.VISIT" {
		t.Fatalf("limited key: %+v %v", k, err)
	}
	if keys := must(e.a.APIKeys(ctx))(t); keys[len(keys)-1].ID != lid || len(keys[len(keys)-1].Types) != 2 {
		t.Fatalf("limited key listed: %+v", keys[len(keys)-1])
	}
	for _, bad := range []string{"", "HRSS,FACE", "HRSS FACE", "HRSS\tFACE", strings.Repeat("A", 65), "\xff"} {
		if _, _, err := e.a.CreateAPIKey(ctx, "root", "HRSS", "", []string{bad}); code(err) != sc.EInvalid {
			t.Fatalf("type %q: %v", bad, err)
		}
	}
}

func mustKey(t *testing.T, e env, source, name string) (string, int64) {
	t.Helper()
	s, id, err := e.a.CreateAPIKey(context.Background(), "root", source, name, nil)
	mustOK(t, err)
	return s, id
}

// testForgedAddress: a login's and a logout's rows named their address as given, so that
// text passed for one (a forged X-Forwarded-For entry) wrote pairs into the row's detail,
// the id and password print audit verify reads from a login. Now what is no address is
// written as "unknown".
func testForgedAddress(t *testing.T, e env) {
	ctx := context.Background()
	u := must(e.a.CreateUser(ctx, "root", "he.ping", pw, auth.RoleOperator, ""))(t)
	forged := fmt.Sprintf("6.6.6.6;id=%d;pw=0123456789abcdef", u.ID)
	e.a.Login(ctx, "he.ping", "not the password", forged)
	tok, _, err := e.a.Login(ctx, "he.ping", pw, forged)
	mustOK(t, err)
	mustOK(t, e.a.Logout(ctx, tok, forged))
	rows := must(e.db.PersonAudit(ctx, -1))(t)
	n := 0
	for _, r := range rows {
		if r.Kind != "login" {
			continue
		}
		n++
		if !strings.HasPrefix(r.Detail, "ip=unknown") || strings.Contains(r.Detail, "6.6.6.6") {
			t.Errorf("%s row: %q", r.Action, r.Detail)
		}
	}
	if n != 3 {
		t.Errorf("%d login rows, want 3", n)
	}
}

// testAudit checks that each staff action leaves its row, that no row holds a password,
// token or key, and that the chain verifies.
func testAudit(t *testing.T, e env) {
	ctx := context.Background()
	u := must(e.a.CreateUser(ctx, "root", "guo.ming", pw, auth.RoleVillage, "371002001001"))(t)
	e.a.Login(ctx, "guo.ming", "not the password", "10.1.1.1")
	e.a.Login(ctx, pw, "guo.ming", "10.1.1.2") // the password typed into the name field
	tok := must(login(e, "guo.ming", pw))(t)
	mustOK(t, e.a.Logout(ctx, tok, "10.1.1.1"))
	mustOK(t, e.a.SetPassword(ctx, "root", u.ID, "second passphrase"))
	mustOK(t, e.a.SetDisabled(ctx, "root", u.ID, true))
	mustOK(t, e.a.SetDisabled(ctx, "root", u.ID, false))
	mustOK(t, e.a.RevokeSessions(ctx, "root", u.ID))
	secret, id := mustKey(t, e, "CMT", "village app")
	mustOK(t, e.a.RevokeAPIKey(ctx, "root", id))

	rows := must(e.db.PersonAudit(ctx, -1))(t)
	migrations := len(rows)
	rows = slices.DeleteFunc(rows, func(r store.AuditRow) bool { return r.Kind == "migration" }) // the trail's first rows
	migrations -= len(rows)
	want := []struct{ kind, actor, action, detail string }{
		{"user", "root", "create", "user=guo.ming;id=1;role=village;region=371002001001;pw=P"},
		{"login", "guo.ming", "failed", "ip=10.1.1.1;reason=wrong_password;failures=1"},
		{"login", "(unknown)", "failed", "ip=10.1.1.2;reason=unknown_name"},
		{"login", "guo.ming", "ok", "ip=192.0.2.1"},
		{"login", "guo.ming", "logout", "ip=10.1.1.1"},
		{"user", "root", "password", "user=guo.ming;id=1;sessions_revoked=0;pw=P"},
		{"user", "root", "disable", "user=guo.ming;id=1;sessions_revoked=0"},
		{"user", "root", "enable", "user=guo.ming;id=1"},
		{"user", "root", "revoke_sessions", "user=guo.ming;id=1;sessions_revoked=0"},
		{"api_key", "root", "create", "id=1;source=CMT;prefix=" + secret[:10] + ";pw=P;name=village app"},
		{"api_key", "root", "revoke", "id=1;source=CMT;prefix=" + secret[:10]},
	}
	if len(rows) != len(want) {
		t.Fatalf("%d audit rows, want %d: %+v", len(rows), len(want), rows)
	}
	for i, w := range want {
		r := rows[i]
		// A stored hash's print (store.SecretPrint) is of a salted hash: P here.
		if r.Kind != w.kind || r.Actor != w.actor || r.Action != w.action || printRE.ReplaceAllString(r.Detail, "pw=P") != w.detail || r.PID != -1 ||
			r.At != "2025-03-01T09:00:00Z" || r.Day != sc.MustDate("2025-03-01") {
			t.Errorf("row %d: %+v, want %+v", i, r, w)
		}
		for _, s := range []string{pw, "second passphrase", "not the password", tok, secret} {
			if strings.Contains(r.Detail+r.Actor+r.Action, s) {
				t.Errorf("row %d holds a secret: %+v", i, r)
			}
		}
	}
	n, err := e.db.VerifyAudit(ctx, func(p store.AuditProblem) { t.Errorf("audit: %+v", p) })
	if err != nil || n != int64(migrations+len(want)) {
		t.Fatalf("verify: %d %v", n, err)
	}
	// A business day of its own (the demo's): the rows take it, the time stays the clock's.
	b := auth.New(e.db, auth.Options{Now: e.clk.Now, Hash: cheap, Today: func() sc.Date { return sc.MustDate("2024-12-31") }})
	b.Login(ctx, "guo.ming", "not the password", "10.1.1.3")
	rows = must(e.db.PersonAudit(ctx, -1))(t)
	if r := rows[len(rows)-1]; r.Day != sc.MustDate("2024-12-31") || r.At != "2025-03-01T09:00:00Z" {
		t.Errorf("with a business day of its own: day %s at %s", r.Day, r.At)
	}
}

// testRehash: a password hashed at an older cost is rehashed at the current one on login.
func testRehash(t *testing.T, e env) {
	ctx := context.Background()
	u := must(e.a.CreateUser(ctx, "root", "xu.lan", pw, auth.RoleOperator, ""))(t)
	b := auth.New(e.db, auth.Options{Now: e.clk.Now, Hash: auth.HashParams{Time: 2, Memory: 128, Threads: 1}})
	if _, _, err := b.Login(ctx, "xu.lan", pw, "10.0.0.1"); err != nil {
		t.Fatal(err)
	}
	var stored string
	mustOK(t, e.db.SQL().QueryRow(e.db.Rebind(`SELECT password FROM users WHERE id = ?`), u.ID).Scan(&stored))
	if !strings.HasPrefix(stored, "$argon2id$v=19$m=128,t=2,p=1$") {
		t.Fatalf("not rehashed: %q", stored)
	}
	if _, _, err := e.a.Login(ctx, "xu.lan", pw, "10.0.0.1"); err != nil {
		t.Fatal(err)
	}
}

// testConcurrent: logins at once each get their own session, and wrong passwords at once
// are each counted (the count is read and written in one transaction).
func testConcurrent(t *testing.T, e env) {
	ctx := context.Background()
	u := must(e.a.CreateUser(ctx, "root", "ma.tao", pw, auth.RoleOperator, ""))(t)
	const n = 8
	toks := make(chan string, n)
	errs := make(chan error, 2*n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			tok, _, err := e.a.Login(ctx, "ma.tao", pw, "10.0.0.5")
			errs <- err
			toks <- tok
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for range n {
		mustOK(t, <-errs)
		seen[<-toks] = true
	}
	if len(seen) != n {
		t.Fatalf("%d distinct tokens of %d", len(seen), n)
	}
	for range 4 {
		wg.Go(func() { _, _, err := e.a.Login(ctx, "ma.tao", "wrong wrong wrong", "10.0.0.5"); errs <- err })
	}
	wg.Wait()
	var failures int
	mustOK(t, e.db.SQL().QueryRow(e.db.Rebind(`SELECT failures FROM users WHERE id = ?`), u.ID).Scan(&failures))
	if failures != 4 {
		t.Fatalf("%d failures counted of 4", failures)
	}
}

func hasRow(rows []store.AuditRow, kind, actor, action, detailPrefix string) bool {
	for _, r := range rows {
		if r.Kind == kind && r.Actor == actor && r.Action == action && strings.HasPrefix(r.Detail, detailPrefix) {
			return true
		}
	}
	return false
}

func TestSees(t *testing.T) {
	village := &auth.User{Role: auth.RoleVillage, Region: "371002001001"}
	town := &auth.User{Role: auth.RoleTown, Region: "371002001"}
	district := &auth.User{Role: auth.RoleDistrict, Region: "371002"}
	operator := &auth.User{Role: auth.RoleOperator}
	cityOperator := &auth.User{Role: auth.RoleOperator, Region: "3710"}
	auditor := &auth.User{Role: auth.RoleAuditor}
	admin := &auth.User{Role: auth.RoleAdmin}
	noRegionVillage := &auth.User{Role: auth.RoleVillage}
	disabled := &auth.User{Role: auth.RoleAdmin, Disabled: true}
	for _, c := range []struct {
		name string
		u    *auth.User
		code string
		want bool
	}{
		{"village: own village", village, "371002001001", true},
		{"village: 13 digits", village, "3710020010010", false},
		{"village: trailing letter", village, "371002001001x", false},
		{"village: neighbour village", village, "371002001002", false},
		{"village: its town", village, "371002001", false},
		{"village: its town padded", village, "371002001000", false},
		{"village: unassigned", village, "", false},
		{"village: another city's same suffix", village, "111002001001", false},
		{"town: its village", town, "371002001001", true},
		{"town: its last village", town, "371002001999", true},
		{"town: itself", town, "371002001", true},
		{"town: the next town's village", town, "371002002001", false},
		{"town: a village of 3710020010 (10th digit)", town, "371002001101", true},
		{"town: its district", town, "371002", false},
		{"town: a lookalike 37100200", town, "37100200", false},
		{"district: its village", district, "371002001001", true},
		{"district: its district padded", district, "371002000000", true},
		{"district: another district", district, "371003001001", false},
		{"district: space-padded", district, " 371002001001", false},
		{"district: sign", district, "+371002001001", false},
		{"operator: anything", operator, "371102001001", true},
		{"operator: unassigned", operator, "", true},
		{"operator: junk", operator, "abc", false},
		{"city operator: own city", cityOperator, "371002001001", true},
		{"city operator: other city", cityOperator, "370102001001", false},
		{"city operator: unassigned", cityOperator, "", false},
		{"auditor: anything", auditor, "371002001001", true},
		{"admin: anything", admin, "371002001001", true},
		{"village without a code", noRegionVillage, "371002001001", false},
		{"disabled admin", disabled, "371002001001", false},
	} {
		if got := c.u.Sees(c.code); got != c.want {
			t.Errorf("%s: Sees(%q) = %v, want %v", c.name, c.code, got, c.want)
		}
	}
	var nobody *auth.User
	if nobody.Sees("") || nobody.CanWrite() || nobody.IsAdmin() {
		t.Error("a nil user may do something")
	}
	for _, c := range []struct {
		u              *auth.User
		write, isAdmin bool
	}{
		{admin, true, true}, {operator, true, false}, {auditor, false, false}, {district, true, false},
		{town, true, false}, {village, true, false}, {disabled, false, false},
	} {
		if c.u.CanWrite() != c.write || c.u.IsAdmin() != c.isAdmin {
			t.Errorf("%s: CanWrite %v IsAdmin %v", c.u.Role, c.u.CanWrite(), c.u.IsAdmin())
		}
	}
}

func TestCheckPassword(t *testing.T) {
	for _, c := range []struct {
		name, password string
		ok             bool
	}{
		{"wang", "correct horse battery", true},
		{"wang", "老张家的三只猫咪和狗", true}, // ten characters, thirty bytes
		{"wang", "老张家的三只猫咪", false},
		{"wang", "123456789", false},
		{"wang", "1234567890", false},
		{"wang", "Password12", false},
		{"wang", "aaaaaaaaaaaa", false},
		{"wang", "猫猫猫猫猫猫猫猫猫猫", false},
		{"wang.wei.admin", "wang.wei.admin1", false},
		{"wang", "wang-is-my-friend", true},
		{"wang", strings.Repeat("long enough ", 22), false}, // 264 bytes
		{"wang", "tab\tinside password", false},
		{"wang", "bad utf8 \xff\xfe here", false},
	} {
		err := auth.CheckPassword(c.name, c.password)
		if (err == nil) != c.ok {
			t.Errorf("%q for %s: %v, want ok=%v", c.password, c.name, err, c.ok)
		}
	}
}

// BenchmarkLoginFailed measures a failed login at the production cost (DefaultHash): one
// argon2id verification and one write transaction with its audit row.
func BenchmarkLoginFailed(b *testing.B) {
	db := storetest.Open(b, "sqlite:"+b.TempDir()+"/bench.db")
	ctx := context.Background()
	a := auth.New(db, auth.Options{})
	if _, err := a.CreateUser(ctx, "root", "bench.user", pw, auth.RoleOperator, ""); err != nil {
		b.Fatal(err)
	}
	c := auth.New(db, auth.Options{IPMaxFailures: 1 << 30})
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := c.Login(ctx, "bench.user", "wrong wrong wrong", "10.0.0.1"); code(err) != sc.EUnauthorized {
			b.Fatal(err)
		}
	}
}

// testLastCityAdmin: an administrator with a region cannot manage the others nor API keys,
// so the last enabled administrator of the whole installation cannot be disabled nor
// scoped while only scoped ones would remain.
func testLastCityAdmin(t *testing.T, e env) {
	ctx := context.Background()
	root := must(e.a.CreateUser(ctx, "cli", "root", "a long enough password", auth.RoleAdmin, ""))(t)
	must(e.a.CreateUser(ctx, "root", "dadmin", "a long enough password", auth.RoleAdmin, "371002"))(t)
	if err := e.a.SetDisabled(ctx, "root", root.ID, true); code(err) != sc.EConflict || !errors.Is(err, auth.ErrLastAdmin) {
		t.Fatalf("disabling the last city-wide administrator beside a scoped one: %v", err)
	}
	if err := e.a.SetRole(ctx, "root", root.ID, auth.RoleAdmin, "371002"); code(err) != sc.EConflict || !errors.Is(err, auth.ErrLastAdmin) {
		t.Fatalf("scoping the last city-wide administrator: %v", err)
	}
	// The console audits the refusal in a row of its own, which audit verify reads past.
	mustOK(t, e.a.Refused(ctx, "root", "user", fmt.Sprintf("op=disable;user=root;id=%d;reason=last_admin", root.ID)))
	if rows := must(e.db.PersonAudit(ctx, -1))(t); !hasRow(rows, "user", "root", "refused", "op=disable;user=root;id=") {
		t.Error("the refusal is not in the trail")
	}
	if _, err := e.db.VerifyAudit(ctx, func(p store.AuditProblem) { t.Errorf("audit: %+v", p) }); err != nil {
		t.Fatal(err)
	}
	second := must(e.a.CreateUser(ctx, "root", "root2", "a long enough password", auth.RoleAdmin, ""))(t)
	mustOK(t, e.a.SetDisabled(ctx, "root", root.ID, true))
	if err := e.a.SetDisabled(ctx, "root2", second.ID, true); code(err) != sc.EConflict {
		t.Fatalf("disabling the other: %v", err)
	}
}

// testOwnPassword: a password an administrator chose is temporary until its holder
// chooses their own, with the current one; the change ends the holder's other sessions
// and replaces the one it was made in (testOwnPasswordRenews); wrong current passwords
// count towards the lockout, which ends every session; a form sent twice is answered as
// done; an administrator's reset ends every session.
func testOwnPassword(t *testing.T, e env) {
	ctx := context.Background()
	u := must(e.a.CreateUserTemporary(ctx, "root", "fang.li", pw, auth.RoleVillage, "371002001001"))(t)
	session := func(tok string) (*auth.User, *auth.Session) {
		t.Helper()
		u, s, err := e.a.Session(ctx, tok)
		if err != nil {
			t.Fatalf("session: %v", err)
		}
		return u, s
	}
	phone := must(login(e, "fang.li", pw))(t)
	desk := must(login(e, "fang.li", pw))(t)
	me, s := session(desk)
	if !me.MustChange {
		t.Fatal("an account made with an administrator's password need not choose its own")
	}
	const mine = "a sentence of my own"
	for _, c := range []struct {
		current, next, code string
	}{
		{pw, pw, sc.EInvalid},      // the same
		{pw, "short", sc.EInvalid}, // too short
		{"wrong words here", mine, sc.EInvalid},
	} {
		if _, err := e.a.ChangeOwnPassword(ctx, s, c.current, c.next); code(err) != c.code {
			t.Errorf("change %q → %q: %v, want %s", c.current, c.next, err, c.code)
		}
	}
	renewed := must(e.a.ChangeOwnPassword(ctx, s, pw, mine))(t)
	if again := must(e.a.ChangeOwnPassword(ctx, s, pw, mine))(t); again != renewed { // sent twice
		t.Error("the form sent twice is answered with another session")
	}
	if me, _ := session(renewed); me.MustChange {
		t.Error("still must change after choosing a password")
	}
	if _, _, err := e.a.Session(ctx, phone); code(err) != sc.EUnauthorized {
		t.Errorf("the other session outlived the change: %v", err)
	}
	if _, err := login(e, "fang.li", pw); code(err) != sc.EUnauthorized {
		t.Errorf("the old password still opens: %v", err)
	}
	must(login(e, "fang.li", mine))(t)
	rows := must(e.db.PersonAudit(ctx, -1))(t)
	if !hasRow(rows, "user", "fang.li", "password_own", "user=fang.li;id=") || !hasRow(rows, "user", "fang.li", "password_own_failed", "user=fang.li;id=") ||
		!hasRow(rows, "user", "root", "create", "user=fang.li;id=") {
		t.Errorf("audit rows of the change missing: %+v", rows)
	}
	// An administrator's reset is temporary again, and ends every session.
	mustOK(t, e.a.SetTemporaryPassword(ctx, "root", u.ID, pw))
	if _, _, err := e.a.Session(ctx, renewed); code(err) != sc.EUnauthorized {
		t.Errorf("a session outlived an administrator's reset: %v", err)
	}
	tok := must(login(e, "fang.li", pw))(t)
	if me, _ := session(tok); !me.MustChange {
		t.Error("a reset password need not be changed")
	}
	// Guessing from a stolen session: the fifth wrong one (the first was above, but a
	// sign-in since cleared it) locks the account and ends every session.
	_, s = session(tok)
	for i := range 5 {
		_, err := e.a.ChangeOwnPassword(ctx, s, fmt.Sprintf("guess number %d", i), "another sentence here")
		if want := map[bool]string{false: sc.EInvalid, true: sc.EUnauthorized}[i == 4]; code(err) != want {
			t.Fatalf("guess %d: %v, want %s", i+1, err, want)
		}
	}
	if _, _, err := e.a.Session(ctx, tok); code(err) != sc.EUnauthorized {
		t.Errorf("the guessing session outlived the lockout: %v", err)
	}
	if _, err := login(e, "fang.li", pw); code(err) != sc.EUnauthorized {
		t.Errorf("a locked account opened: %v", err)
	}
	e.clk.Advance(time.Hour)

	// No oracle: a session that did not make the change, giving a wrong current password
	// and the right one as the new, learns nothing: a wrong guess like any other.
	tok = must(login(e, "fang.li", pw))(t)
	_, s = session(tok)
	if _, err := e.a.ChangeOwnPassword(ctx, s, "a wrong guess here", pw); code(err) != sc.EInvalid {
		t.Errorf("the password in use given as the new one: %v, want a wrong guess", err)
	}
	if got := e.a.RenewedSession(tok, s.CSRF, pw); got != "" {
		t.Error("a session that changed nothing is renewed")
	}
	// The form sent twice at once: both answered as done, with one new session.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	toks := make([]string, 2)
	for i := range errs {
		wg.Go(func() { toks[i], errs[i] = e.a.ChangeOwnPassword(ctx, s, pw, mine) })
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil || toks[0] != toks[1] {
		t.Errorf("the same change sent twice at once: %v, %v (one session: %v)", errs[0], errs[1], toks[0] == toks[1])
	}
	if _, _, err := e.a.Session(ctx, toks[0]); err != nil {
		t.Errorf("the session both were answered with: %v", err)
	}
	if _, _, err := e.a.Session(ctx, tok); code(err) != sc.EUnauthorized {
		t.Errorf("the session the form was sent in outlived the change: %v", err)
	}
	must(login(e, "fang.li", mine))(t)
}

// testOwnPasswordRenews: a staff member's own password change replaces the session it is
// made in, as a sign-in makes one (a new token and CSRF token, the whole lifetime), so
// that a token taken before the change opens nothing after it, the forced first change
// of a temporary password too; the form sent again with the ended session's token, its
// CSRF token and the new password, within a minute, is answered with the new session,
// and nothing else is.
func testOwnPasswordRenews(t *testing.T, e env) {
	ctx := context.Background()
	const mine = "a sentence of my own"
	for _, temporary := range []bool{true, false} {
		name := map[bool]string{true: "new.hire", false: "old.hand"}[temporary]
		create := e.a.CreateUser
		if temporary {
			create = e.a.CreateUserTemporary
		}
		u := must(create(ctx, "root", name, pw, auth.RoleTown, "371002001"))(t)
		stolen := must(login(e, name, pw))(t) // the holder's token, taken by someone
		other := must(login(e, name, pw))(t)
		e.clk.Advance(30 * time.Minute)
		_, s, err := e.a.Session(ctx, stolen)
		mustOK(t, err)
		renewed := must(e.a.ChangeOwnPassword(ctx, s, pw, mine))(t)
		if renewed == "" || renewed == stolen || len(renewed) != 43 {
			t.Fatalf("temporary=%v: the change's session token %q", temporary, renewed)
		}
		for _, old := range []string{stolen, other} {
			if _, _, err := e.a.Session(ctx, old); code(err) != sc.EUnauthorized {
				t.Errorf("temporary=%v: a token from before the change still opens: %v", temporary, err)
			}
		}
		me, ns, err := e.a.Session(ctx, renewed)
		if err != nil {
			t.Fatalf("temporary=%v: the change's session: %v", temporary, err)
		}
		if me.ID != u.ID || me.MustChange || ns.ID == s.ID || ns.CSRF == "" || ns.CSRF == s.CSRF ||
			!ns.Created.Equal(e.clk.t) || !ns.Expires.Equal(e.clk.t.Add(12*time.Hour)) {
			t.Errorf("temporary=%v: the new session %+v of %+v", temporary, ns, me)
		}
		if e.a.CheckCSRF(ns, s.CSRF) {
			t.Errorf("temporary=%v: the ended session's CSRF token passes in the new one", temporary)
		}
		var n int
		mustOK(t, e.db.SQL().QueryRow(e.db.Rebind(`SELECT count(*) FROM sessions WHERE user_id = ?`), u.ID).Scan(&n))
		if n != 1 {
			t.Errorf("temporary=%v: %d sessions after the change, want the new one alone", temporary, n)
		}
		// The form sent again after the first ended its session (a double tap).
		for _, c := range []struct {
			token, csrf, next, want string
		}{
			{stolen, s.CSRF, mine, renewed},
			{stolen, "", mine, ""},
			{stolen, s.CSRF + "x", mine, ""},
			{stolen, s.CSRF, "another sentence", ""},
			{other, s.CSRF, mine, ""},
			{renewed, ns.CSRF, mine, ""},
			{"", s.CSRF, mine, ""},
		} {
			if got := e.a.RenewedSession(c.token, c.csrf, c.next); got != c.want {
				t.Errorf("temporary=%v: RenewedSession(%.6s…, %.6s…, %q) = %.6q…, want %.6q…", temporary, c.token, c.csrf, c.next, got, c.want)
			}
		}
		e.clk.Advance(time.Minute)
		if got := e.a.RenewedSession(stolen, s.CSRF, mine); got != "" {
			t.Errorf("temporary=%v: renewed a minute after the change", temporary)
		}
		rows := must(e.db.PersonAudit(ctx, -1))(t)
		if !hasRow(rows, "user", name, "password_own", fmt.Sprintf("user=%s;id=%d;sessions_revoked=1", name, u.ID)) {
			t.Errorf("temporary=%v: the change's audit row: %+v", temporary, rows[len(rows)-1])
		}
	}
}

// testAccountsVerified: audit verify replays the accounts' and keys' rows and finds an
// account or key made, deleted or changed by writing the database (an operator's role
// raised, a password hash swapped for one the writer knows, a revoked key revived), which
// the hash chain alone cannot see.
func testAccountsVerified(t *testing.T, e env) {
	ctx := context.Background()
	v := must(e.a.CreateUser(ctx, "root", "guo.ming", pw, auth.RoleVillage, "371002001001"))(t)
	op := must(e.a.CreateUser(ctx, "root", "xu.lan", pw, auth.RoleOperator, ""))(t)
	mustOK(t, e.a.SetRole(ctx, "root", v.ID, auth.RoleTown, "371002001"))
	mustOK(t, e.a.SetTemporaryPassword(ctx, "root", op.ID, "another long password"))
	mustOK(t, e.a.SetDisabled(ctx, "root", op.ID, true))
	mustOK(t, e.a.SetDisabled(ctx, "root", op.ID, false))
	_, kid := mustKey(t, e, "HEA", "hospital feed")
	_, gone := mustKey(t, e, "PSB", "police")
	mustOK(t, e.a.RevokeAPIKey(ctx, "root", gone))
	// A sign-in that hashes the password again with new parameters keeps its print.
	b := auth.New(e.db, auth.Options{Now: e.clk.Now, Hash: auth.HashParams{Time: 2, Memory: 128, Threads: 1}})
	if _, _, err := b.Login(ctx, "guo.ming", pw, "10.0.0.1"); err != nil {
		t.Fatal(err)
	}
	verify := func() string {
		t.Helper()
		var got []string
		if _, err := e.db.VerifyAudit(ctx, func(p store.AuditProblem) { got = append(got, p.Reason) }); err != nil {
			t.Fatal(err)
		}
		return strings.Join(got, "\n")
	}
	if p := verify(); p != "" {
		t.Fatalf("accounts made and changed by the service: %s", p)
	}
	var hash string
	mustOK(t, e.db.SQL().QueryRow(e.db.Rebind(`SELECT password FROM users WHERE id = ?`), v.ID).Scan(&hash))
	for _, c := range []struct {
		do, undo, want string
	}{
		{fmt.Sprintf(`UPDATE users SET role = 'admin', region = '' WHERE id = %d`, v.ID), fmt.Sprintf(`UPDATE users SET role = 'town', region = '371002001' WHERE id = %d`, v.ID),
			"account guo.ming (id " + fmt.Sprint(v.ID) + ") was changed outside the service: its role and region are admin \"\", the trail's town \"371002001\""},
		{fmt.Sprintf(`UPDATE users SET password = (SELECT password FROM users WHERE id = %d) WHERE id = %d`, op.ID, v.ID), fmt.Sprintf(`UPDATE users SET password = '%s' WHERE id = %d`, hash, v.ID),
			"its password is not the one its last row set"},
		{fmt.Sprintf(`UPDATE users SET disabled = 1 WHERE id = %d`, op.ID), fmt.Sprintf(`UPDATE users SET disabled = 0 WHERE id = %d`, op.ID),
			"disabled is true, the trail's false"},
		{`INSERT INTO users (name, role, region, lang, password, disabled, failures, locked_until, created, changed, must_change) VALUES ('backdoor', 'admin', '', 'zh-CN', 'x', 0, 0, 0, '', '', 0)`,
			`DELETE FROM users WHERE name = 'backdoor'`, "account backdoor (id"},
		{fmt.Sprintf(`UPDATE api_keys SET revoked = '' WHERE id = %d`, gone), fmt.Sprintf(`UPDATE api_keys SET revoked = 'x' WHERE id = %d`, gone),
			fmt.Sprintf("API key %d was changed outside the service: revoked is false, the trail's true", gone)},
		// A key's hash swapped for that of a secret the writer knows.
		{fmt.Sprintf(`UPDATE api_keys SET hash = %s WHERE id = %d`, hexBlob(e.db, sha256.Sum256([]byte("known to the writer"))), kid), "",
			"its secret is not the one it was made with"},
	} {
		_, err := e.db.SQL().Exec(c.do)
		mustOK(t, err)
		if p := verify(); !strings.Contains(p, c.want) {
			t.Errorf("%s: verify says %q, want %q", c.do, p, c.want)
		}
		if c.undo != "" {
			_, err = e.db.SQL().Exec(c.undo)
			mustOK(t, err)
			if p := verify(); p != "" {
				t.Fatalf("undone %s: %s", c.do, p)
			}
		}
	}
}

var printRE = regexp.MustCompile(`pw=[0-9a-f]{16}`)

// hexBlob is a byte string's SQL literal on the database's dialect.
func hexBlob(db *store.DB, b [32]byte) string {
	if db.Dialect() == store.Postgres {
		return fmt.Sprintf(`'\\x%x'::bytea`, b[:])
	}
	return fmt.Sprintf(`X'%x'`, b[:])
}

// testLoginRacesReset: a sign-in whose password was checked against the hash an
// administrator's reset replaced before the sign-in's transaction got no session after
// the reset had ended them all, and its rehash (old parameters) wrote the old password
// back over the reset. Now it is refused, and the reset stands.
func testLoginRacesReset(t *testing.T, e env) {
	ctx := context.Background()
	u := must(e.a.CreateUser(ctx, "root", "xu.lan", pw, auth.RoleOperator, ""))(t)
	b := auth.New(e.db, auth.Options{Now: e.clk.Now, Hash: auth.HashParams{Time: 2, Memory: 128, Threads: 1}}) // rehashes on sign-in
	auth.SetAfterVerify(b, func() {
		mustOK(t, e.a.SetTemporaryPassword(ctx, "root", u.ID, "the reset password"))
	})
	if _, _, err := b.Login(ctx, "xu.lan", pw, "10.0.0.1"); code(err) != sc.EConflict {
		t.Fatalf("a sign-in with the password a reset just replaced: %v, want a conflict", err)
	}
	auth.SetAfterVerify(b, nil)
	if _, _, err := e.a.Login(ctx, "xu.lan", pw, "10.0.0.1"); err == nil {
		t.Error("the old password signs in after the reset: written back over it")
	}
	if _, _, err := e.a.Login(ctx, "xu.lan", "the reset password", "10.0.0.1"); err != nil {
		t.Errorf("the reset password: %v", err)
	}
}

// TestClientAddr: behind a proxy, the address is the last entry of every X-Forwarded-For
// line: a proxy that adds a line of its own (HAProxy's option forwardfor) leaves the
// client's forged line first, and that line was believed. A last entry that is no address
// gives the peer's, never the header's text; without a proxy the header is not read.
func TestClientAddr(t *testing.T) {
	for _, c := range []struct {
		name   string
		lines  []string
		behind bool
		want   string
	}{
		{"the proxy's own line after the client's", []string{"6.6.6.6;id=1;pw=0123456789abcdef", "198.51.100.7"}, true, "198.51.100.7"},
		{"entries in one line", []string{"6.6.6.6, 198.51.100.7"}, true, "198.51.100.7"},
		{"entries across lines", []string{"6.6.6.6", "203.0.113.1, 198.51.100.7"}, true, "198.51.100.7"},
		{"IPv6", []string{"2001:db8::7"}, true, "2001:db8::7"},
		{"a last entry that is no address", []string{"198.51.100.7", "6.6.6.6;id=1"}, true, "10.0.0.1"},
		{"a zone forged onto an address", []string{"fe80::1%;id=1;pw=0123456789abcdef"}, true, "fe80::1"},
		{"an empty last entry", []string{"198.51.100.7,"}, true, "10.0.0.1"},
		{"no header", nil, true, "10.0.0.1"},
		{"not behind a proxy", []string{"198.51.100.7"}, false, "10.0.0.1"},
	} {
		r := httptest.NewRequest("POST", "/login", nil)
		r.RemoteAddr = "10.0.0.1:5555" // the proxy
		for _, l := range c.lines {
			r.Header.Add("X-Forwarded-For", l)
		}
		if got := auth.ClientAddr(r, c.behind); got != c.want {
			t.Errorf("%s: ClientAddr = %q, want %q", c.name, got, c.want)
		}
	}
}

// testNamesReadAsOne: an account whose name equals another's but for case or width is
// refused (session 21, a security review: an administrator could make "Admin" beside
// "admin", or "ｗａｎｇ.ｌｉ" beside "wang.li", and the trail would read as the first's);
// a name that merely begins like another's is its own.
func testNamesReadAsOne(t *testing.T, e env) {
	ctx := context.Background()
	must(e.a.CreateUser(ctx, "root", "wang.li", pw, auth.RoleOperator, ""))(t)
	must(e.a.CreateUser(ctx, "root", "王芳", pw, auth.RoleOperator, ""))(t)
	for _, name := range []string{"wang.li", "Wang.Li", "WANG.LI", "ｗａｎｇ.ｌｉ"} {
		if _, err := e.a.CreateUser(ctx, "root", name, pw, auth.RoleAdmin, ""); code(err) != sc.EConflict || !strings.Contains(err.Error(), "is taken") {
			t.Errorf("%s beside wang.li: %v, want refused as taken", name, err)
		}
	}
	for _, name := range []string{"wang.li2", "王芳芳"} {
		must(e.a.CreateUser(ctx, "root", name, pw, auth.RoleOperator, ""))(t)
	}
	if err := auth.TakenName("WANG.li", []string{"zhao", "wang.li"}); err == nil || !strings.Contains(err.Error(), `"wang.li"`) {
		t.Errorf("TakenName: %v, want it to name wang.li", err)
	}
}
