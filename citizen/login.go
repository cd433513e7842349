package citizen

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"database/sql"
	"encoding/base32"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"time"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/auth"
	"github.com/silentcert/silentcert/idcard"
	"github.com/silentcert/silentcert/store"
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// LinkBase is the start of every link NewLink returns; serve may set the public host
// before notices are sent (e.g. "https://rs.example.gov.cn/c/").
var LinkBase = "/c/"

// NewLink makes the one-time link of one reminder for person pid, made at now (the
// caller's clock) and valid until expires, and returns its URL (LinkBase and the token).
// Only the token's hash is stored: the link in the SMS is the only copy.
func NewLink(ctx context.Context, db *store.DB, pid int64, now, expires time.Time) (string, error) {
	return NewLinkUnder(ctx, db, LinkBase, pid, now, expires)
}

// NewLinkUnder is NewLink under base instead of LinkBase.
func NewLinkUnder(ctx context.Context, db *store.DB, base string, pid int64, now, expires time.Time) (string, error) {
	tok, hash := newToken(10)
	if _, err := db.SQL().ExecContext(ctx, db.Rebind(`INSERT INTO citizen_links (hash, pid, created, expires, used, failures)
		VALUES (?, ?, ?, ?, 0, 0)`), hash, pid, now.UnixNano(), expires.UnixNano()); err != nil {
		return "", fmt.Errorf("%s: citizen link: %w", db, err)
	}
	return base + tok, nil
}

// WithdrawLink makes a link NewLink returned, and that was never sent, unknown: it no
// longer signs anyone in nor counts among the person's open sign-ins. A link already used
// is left as it is (it is the trace of a sign-in).
func WithdrawLink(ctx context.Context, db *store.DB, link string) error {
	tok := link[strings.LastIndexByte(link, '/')+1:]
	if _, err := db.SQL().ExecContext(ctx, db.Rebind(`DELETE FROM citizen_links WHERE hash = ? AND used = 0`), hashOf(tok)); err != nil {
		return fmt.Errorf("%s: withdrawing a citizen link: %w", db, err)
	}
	return nil
}

// Cookie names: the challenge between the login form and the code, the reminder link the
// login came through (so that asking for a new code goes back to it), and the session.
const (
	challengeCookie = "sc_cc"
	linkCookie      = "sc_cl"
	sessionCookie   = "sc_cs"
	langCookie      = "sc_lang"
)

// setCookie sets a cookie of the pensioner's pages, Secure as the console's are: always
// (Options.Secure), over TLS, or behind a proxy (TrustProxy) that says the request came by
// https (auth.OverTLS).
func (h *handler) setCookie(w http.ResponseWriter, r *http.Request, name, value string, ttl time.Duration) {
	secure := h.opt.Secure || auth.OverTLS(r, h.opt.TrustProxy)
	c := &http.Cookie{Name: name, Value: value, Path: "/c/", HttpOnly: true, Secure: secure, SameSite: http.SameSiteStrictMode}
	if ttl < 0 {
		c.MaxAge = -1
	} else if ttl > 0 {
		c.MaxAge = int(ttl / time.Second)
	}
	http.SetCookie(w, c)
}

// link is a stored reminder link.
type link struct {
	hash     string
	pid      int64
	expires  int64
	used     int64
	failures int
}

func (h *handler) loadLink(q querier, token string) (*link, error) {
	l := &link{hash: hashOf(token)}
	err := q.QueryRow(`SELECT pid, expires, used, failures FROM citizen_links WHERE hash = ?`, l.hash).
		Scan(&l.pid, &l.expires, &l.used, &l.failures)
	if err != nil {
		return nil, err
	}
	return l, nil
}

// who is the little of a person the citizen pages need, read in the caller's transaction
// (SQLite has one connection: a read outside the transaction would wait for it forever).
type who struct {
	PID                    int64
	PersonID, Name, Region string
	Phone, AgentPhone      string
	BirthDate              sc.Date
}

// querier is a transaction or the database: what reads a row.
type querier interface {
	QueryRow(string, ...any) *sql.Row
}

// personBy reads one person by "pid" or "person_id".
func personBy(q querier, col string, v any) (*who, error) {
	p := &who{}
	var birth int64
	err := q.QueryRow(`SELECT pid, person_id, name, region_code, phone, agent_phone, birth_date FROM people WHERE `+col+` = ?`, v).
		Scan(&p.PID, &p.PersonID, &p.Name, &p.Region, &p.Phone, &p.AgentPhone, &birth)
	if err != nil {
		return nil, err
	}
	p.BirthDate = sc.Date(birth)
	return p, nil
}

// dbq adapts the database to the QueryRow shape Tx has.
type dbq struct {
	ctx context.Context
	db  *store.DB
}

func (d dbq) QueryRow(q string, args ...any) *sql.Row {
	return d.db.Reader().QueryRowContext(d.ctx, d.db.Rebind(q), args...)
}

// linkUsable says why a link cannot be used ("" when it can).
func (h *handler) linkUsable(l *link, err error) string {
	switch {
	case err != nil:
		return "link_invalid"
	case l.used != 0 || h.now().UnixNano() >= l.expires:
		return "link_invalid"
	case l.failures >= h.pol.LinkFailures:
		return "link_locked"
	}
	return ""
}

func (h *handler) linkPage(w http.ResponseWriter, r *http.Request) {
	tok := r.PathValue("token")
	l, err := h.loadLink(dbq{r.Context(), h.db}, tok)
	// Signed in already (the link used a moment ago, the back button): their page, not
	// "this link has expired, log in with the ID number".
	if s := h.sessionOf(r); s != nil && err == nil && l.pid == s.pid {
		http.Redirect(w, r, "/c/me", http.StatusSeeOther)
		return
	}
	if msg := h.linkUsable(l, err); msg != "" {
		h.render(w, r, http.StatusOK, "message", pageData{Msg: msg, Next: "/c/login"})
		return
	}
	h.render(w, r, http.StatusOK, "link", pageData{Token: tok})
}

// linkPost checks the ID's last four characters; right, it sends the code to the phone
// of the role chosen (the person's or the agent's) and asks for it.
func (h *handler) linkPost(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	tok := r.PathValue("token")
	last4 := strings.ToUpper(strings.TrimSpace(r.PostFormValue("last4")))
	agent := r.PostFormValue("role") == "agent"
	tx, err := h.db.Begin(ctx)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	defer tx.Rollback()
	now := h.now()
	if over, err := hit(tx, "ip:"+h.clientIP(r), now, time.Hour, h.pol.LoginsPerIP); err != nil || over > 0 {
		h.limited(w, r, tx, err, over, -1, "logins_per_address_hour")
		return
	}
	l, err := h.loadLink(tx, tok)
	if msg := h.linkUsable(l, err); msg != "" {
		tx.Commit()
		h.render(w, r, http.StatusOK, "message", pageData{Msg: msg, Next: "/c/login"})
		return
	}
	if over, err := hit(tx, "link:"+l.hash, now, 24*time.Hour, h.pol.LoginsPerID); err != nil || over > 0 {
		h.limited(w, r, tx, err, over, l.pid, "logins_per_link_day")
		return
	}
	p, err := personBy(tx, "pid", l.pid)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	id := p.PersonID
	if len(last4) != 4 || subtle.ConstantTimeCompare([]byte(last4), []byte(id[len(id)-4:])) != 1 {
		l.failures++
		if err := tx.Exec(`UPDATE citizen_links SET failures = ? WHERE hash = ?`, l.failures, l.hash); err != nil {
			h.fail(w, r, err)
			return
		}
		detail := fmt.Sprintf("failures=%d", l.failures)
		action := "wrong_digits"
		if l.failures >= h.pol.LinkFailures {
			action = "link_locked"
		}
		if err := tx.Append([]store.AuditRow{h.auditRow("citizen_login", "citizen", p.PID, id, action, "", detail)}); err != nil {
			h.fail(w, r, err)
			return
		}
		if err := tx.Commit(); err != nil {
			h.fail(w, r, err)
			return
		}
		if l.failures >= h.pol.LinkFailures {
			h.render(w, r, http.StatusOK, "message", pageData{Msg: "link_locked", Next: "/c/login"})
			return
		}
		h.render(w, r, http.StatusOK, "link", pageData{Token: tok, Error: "wrong_digits"})
		return
	}
	phone := p.Phone
	if agent {
		phone = p.AgentPhone
	}
	h.setCookie(w, r, linkCookie, tok, h.pol.SessionTTL)
	h.challenge(w, r, tx, p, phone, agent, l.hash)
}

// again is where a login waiting for its code starts over (a code that did not come, or
// expired): the reminder link it came through, which asks only the last four characters
// again, else the login by ID number.
func (h *handler) again(r *http.Request) string {
	if c, err := r.Cookie(linkCookie); err == nil && linkToken(c.Value) {
		return "/c/" + c.Value
	}
	return "/c/login"
}

// linkToken reports whether s has the shape of a link's token (newToken's alphabet), so
// that a cookie never makes another path.
func linkToken(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := range len(s) {
		if (s[i] < 'a' || s[i] > 'z') && (s[i] < '2' || s[i] > '7') {
			return false
		}
	}
	return true
}

// challenge stores a login waiting for its code, sends the code (p nil or no phone: no
// code is sent, and the answer is the same), and shows the code form.
func (h *handler) challenge(w http.ResponseWriter, r *http.Request, tx *store.Tx, p *who, phone string, agent bool, linkHash string) {
	now := h.now()
	tok, hash := newToken(16)
	code := sixDigits()
	pid, personID := int64(-1), ""
	if p != nil && validPhone(phone) {
		pid, personID = p.PID, p.PersonID
	}
	if err := tx.Exec(`INSERT INTO citizen_challenges (hash, pid, agent, link, code, created, expires, attempts, done)
		VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0)`, hash, pid, b2i(agent), linkHash, hashOf(tok+":"+code), now.UnixNano(),
		now.Add(h.pol.CodeTTL).UnixNano()); err != nil {
		h.fail(w, r, err)
		return
	}
	// One audit row either way, so that a login for a number off the roster costs the same.
	row := h.auditRow("citizen_login", "citizen", pid, personID, "code_sent", "", fmt.Sprintf("agent=%d;phone=%s", b2i(agent), idcard.MaskPhone(phone)))
	if pid < 0 {
		row = h.auditRow("citizen_login", "citizen", -1, "", "code_not_sent", "", fmt.Sprintf("agent=%d", b2i(agent)))
	}
	if err := tx.Append([]store.AuditRow{row}); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := tx.Commit(); err != nil {
		h.fail(w, r, err)
		return
	}
	if pid >= 0 {
		text := fmt.Sprintf(msg(langZH, "sms_code"), code, int(h.pol.CodeTTL/time.Minute))
		if agent {
			// The agent's code names whose certification it opens, as the reminders to the
			// agent's phone do: one helping both parents knows which, and a code nobody
			// asked for says who someone is trying to certify.
			text = fmt.Sprintf(msg(langZH, "sms_code_agent"), p.Name, code, int(h.pol.CodeTTL/time.Minute))
		}
		h.sent.Add(1)
		// Sent after the answer, so that the answer takes as long whether or not a code goes out.
		go func() {
			defer h.sent.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := h.opt.Sender.SendSMS(ctx, phone, text); err != nil {
				h.log.Warn("citizen code not sent", "person", idcard.Mask(personID), "phone", idcard.MaskPhone(phone), "err", err)
			}
		}()
	}
	h.setCookie(w, r, challengeCookie, tok, h.pol.CodeTTL)
	http.Redirect(w, r, "/c/code", http.StatusSeeOther)
}

func validPhone(p string) bool {
	if len(p) != 11 || p[0] != '1' {
		return false
	}
	for i := range len(p) {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
	}
	return true
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func sixDigits() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		panic(err)
	}
	return fmt.Sprintf("%06d", n.Int64())
}

func (h *handler) loginPage(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, "login", pageData{})
}

// loginPost starts a login by ID number. Whether the number is on the roster or not, the
// same rows are written and the same page follows; a code goes out only to a phone on file.
func (h *handler) loginPost(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	raw := strings.ToUpper(strings.TrimSpace(r.PostFormValue("id")))
	agent := r.PostFormValue("role") == "agent"
	n, ok := idcard.Normalize([]byte(raw))
	if !ok {
		h.render(w, r, http.StatusOK, "login", pageData{Error: "bad_id"})
		return
	}
	id := string(n[:])
	h.setCookie(w, r, linkCookie, "", -1) // a login by ID number starts over by ID number
	tx, err := h.db.Begin(ctx)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	defer tx.Rollback()
	now := h.now()
	if over, err := hit(tx, "ip:"+h.clientIP(r), now, time.Hour, h.pol.LoginsPerIP); err != nil || over > 0 {
		h.limited(w, r, tx, err, over, -1, "logins_per_address_hour")
		return
	}
	// Not the person: the rows written must not say whether the number is on the roster.
	if over, err := hit(tx, "id:"+hashOf(id), now, 24*time.Hour, h.pol.LoginsPerID); err != nil || over > 0 {
		h.limited(w, r, tx, err, over, -1, "logins_per_id_day")
		return
	}
	var phone string
	p, err := personBy(tx, "person_id", id)
	switch {
	case err == nil:
		phone = p.Phone
		if agent {
			phone = p.AgentPhone
		}
	case isNoRows(err):
		p = nil
	default:
		h.fail(w, r, err)
		return
	}
	h.challenge(w, r, tx, p, phone, agent, "")
}

func (h *handler) codePage(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(challengeCookie); err != nil || c.Value == "" {
		next := h.again(r)
		if h.sessionOf(r) != nil {
			next = "/c/me"
		}
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	h.render(w, r, http.StatusOK, "code", pageData{Next: h.again(r)})
}

// codePost checks the SMS code; right, the login's link is used up and a session begins.
func (h *handler) codePost(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	c, err := r.Cookie(challengeCookie)
	if err != nil || c.Value == "" {
		http.Redirect(w, r, h.again(r), http.StatusSeeOther)
		return
	}
	code := strings.TrimSpace(r.PostFormValue("code"))
	tx, err := h.db.Begin(ctx)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	defer tx.Rollback()
	now := h.now()
	if over, err := hit(tx, "code-ip:"+h.clientIP(r), now, time.Hour, h.pol.CodesPerIP); err != nil || over > 0 {
		h.limited(w, r, tx, err, over, -1, "codes_per_address_hour")
		return
	}
	hash := hashOf(c.Value)
	var pid, expires int64
	var agent, attempts, done int
	var linkHash, want string
	err = tx.QueryRow(`SELECT pid, agent, link, code, expires, attempts, done FROM citizen_challenges WHERE hash = ?`, hash).
		Scan(&pid, &agent, &linkHash, &want, &expires, &attempts, &done)
	if err != nil || done != 0 || now.UnixNano() >= expires || attempts >= h.pol.CodeAttempts {
		tx.Commit()
		h.setCookie(w, r, challengeCookie, "", -1)
		h.render(w, r, http.StatusOK, "message", pageData{Msg: "code_expired", Next: h.again(r)})
		return
	}
	attempts++
	good := len(code) == 6 && subtle.ConstantTimeCompare([]byte(hashOf(c.Value+":"+code)), []byte(want)) == 1 && pid >= 0
	var linkOK = true
	if good && linkHash != "" {
		// The link is used once: a second login through it is refused even with its code.
		var used int64
		if err := tx.QueryRow(`SELECT used FROM citizen_links WHERE hash = ?`, linkHash).Scan(&used); err != nil || used != 0 {
			linkOK = false
		}
	}
	if !good || !linkOK {
		if err := tx.Exec(`UPDATE citizen_challenges SET attempts = ? WHERE hash = ?`, attempts, hash); err != nil {
			h.fail(w, r, err)
			return
		}
		if err := tx.Append([]store.AuditRow{h.auditRow("citizen_login", "citizen", pid, "", "wrong_code", "",
			fmt.Sprintf("attempts=%d", attempts))}); err != nil {
			h.fail(w, r, err)
			return
		}
		if err := tx.Commit(); err != nil {
			h.fail(w, r, err)
			return
		}
		if attempts >= h.pol.CodeAttempts || !linkOK {
			h.setCookie(w, r, challengeCookie, "", -1)
			h.render(w, r, http.StatusOK, "message", pageData{Msg: "code_expired", Next: h.again(r)})
			return
		}
		h.render(w, r, http.StatusOK, "code", pageData{Error: "wrong_code", Next: h.again(r)})
		return
	}
	if err := tx.Exec(`UPDATE citizen_challenges SET attempts = ?, done = 1 WHERE hash = ?`, attempts, hash); err != nil {
		h.fail(w, r, err)
		return
	}
	if linkHash != "" {
		if err := tx.Exec(`UPDATE citizen_links SET used = ? WHERE hash = ?`, now.UnixNano(), linkHash); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	stok, shash := newToken(20)
	csrf, _ := newToken(16)
	if err := tx.Exec(`INSERT INTO citizen_sessions (hash, pid, agent, created, expires, csrf) VALUES (?, ?, ?, ?, ?, ?)`,
		shash, pid, agent, now.UnixNano(), now.Add(h.pol.SessionTTL).UnixNano(), csrf); err != nil {
		h.fail(w, r, err)
		return
	}
	p, err := personBy(tx, "pid", pid)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	via := "id"
	if linkHash != "" {
		via = "link"
	}
	if err := tx.Append([]store.AuditRow{h.auditRow("citizen_login", actorOf(agent != 0), pid, p.PersonID, "login", "",
		fmt.Sprintf("agent=%d;via=%s", agent, via))}); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := tx.Commit(); err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("citizen login", "person", idcard.Mask(p.PersonID), "agent", agent != 0, "via", via)
	h.setCookie(w, r, challengeCookie, "", -1)
	h.setCookie(w, r, linkCookie, "", -1) // spent
	h.setCookie(w, r, sessionCookie, stok, 0)
	http.Redirect(w, r, "/c/me", http.StatusSeeOther)
}

// actorOf names who acted in the audit trail.
func actorOf(agent bool) string {
	if agent {
		return "citizen:agent"
	}
	return "citizen"
}

// session is a logged-in citizen.
type session struct {
	hash  string
	pid   int64
	agent bool
	csrf  string
}

// sessionOf returns the request's session, or nil.
func (h *handler) sessionOf(r *http.Request) *session {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	s := &session{hash: hashOf(c.Value)}
	var expires int64
	var agent int
	err = h.db.Reader().QueryRowContext(r.Context(), h.db.Rebind(`SELECT pid, agent, expires, csrf FROM citizen_sessions WHERE hash = ?`), s.hash).
		Scan(&s.pid, &agent, &expires, &s.csrf)
	if err != nil || h.now().UnixNano() >= expires {
		return nil
	}
	s.agent = agent != 0
	return s
}

// needSession returns the session or sends the browser to log in.
func (h *handler) needSession(w http.ResponseWriter, r *http.Request) *session {
	s := h.sessionOf(r)
	if s == nil {
		if strings.HasPrefix(r.URL.Path, "/c/api/") || wantsJSON(r) {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "login required"})
		} else {
			http.Redirect(w, r, "/c/login", http.StatusSeeOther)
		}
	}
	return s
}

func (h *handler) checkCSRF(r *http.Request, s *session) bool {
	v := r.PostFormValue("csrf")
	if v == "" {
		v = r.Header.Get("X-CSRF-Token")
	}
	return len(v) == len(s.csrf) && subtle.ConstantTimeCompare([]byte(v), []byte(s.csrf)) == 1
}

func (h *handler) logoutPost(w http.ResponseWriter, r *http.Request) {
	// The session ends on the server whatever the form's token: the cookie is cleared in
	// any case, and a session left valid behind a cleared cookie could still be used by
	// whoever copied it.
	if s := h.sessionOf(r); s != nil {
		// Not the request's context: a browser that goes away at once must not leave the
		// session ended without its audit row.
		if err := h.logout(context.WithoutCancel(r.Context()), s); err != nil {
			h.log.Error("citizen logout", "err", err)
		}
	}
	h.setCookie(w, r, sessionCookie, "", -1)
	http.Redirect(w, r, "/c/login", http.StatusSeeOther)
}

// logout ends session s, then audits it (kind citizen_login, action logout): the session
// ends even when the audit row cannot be written.
func (h *handler) logout(ctx context.Context, s *session) error {
	res, err := h.db.SQL().ExecContext(ctx, h.db.Rebind(`DELETE FROM citizen_sessions WHERE hash = ?`), s.hash)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	p, err := personBy(dbq{ctx, h.db}, "pid", s.pid)
	if err != nil {
		return err
	}
	h.record(ctx, []store.AuditRow{h.auditRow("citizen_login", actorOf(s.agent), s.pid, p.PersonID, "logout", "", "")})
	return nil
}

// limited answers a rate limit (or the error met while counting), after keeping the count.
// The first refusal of a window is audited (kind citizen_login, action rate_limited, the
// limit named; pid -1 unless a link names the person), not every one: a flood of refused
// requests must not flood the trail.
func (h *handler) limited(w http.ResponseWriter, r *http.Request, tx *store.Tx, err error, over int, pid int64, limit string) {
	if err == nil && over == 1 {
		personID := ""
		if pid >= 0 {
			if p, perr := personBy(tx, "pid", pid); perr == nil {
				personID = p.PersonID
			}
		}
		err = tx.Append([]store.AuditRow{h.auditRow("citizen_login", "citizen", pid, personID, "rate_limited", "", "limit="+limit)})
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := tx.Commit(); err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusTooManyRequests, "message", pageData{Msg: "too_many"})
}

// fail answers an internal error without its details.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	h.log.Error("citizen", "route", r.Pattern, "err", err) // the route, not the path: a link's path is its secret
	// The same words either way ("busy, try again later"); a service about to restart
	// (sc.EUnavailable) says so by its status, as the API and console do.
	h.failWith(w, r, failCode(err))
}

// failCode is the status fail answers err with.
func failCode(err error) int {
	if sc.ErrorCode(err) == sc.EUnavailable {
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// failWith answers "busy, try again later" with status code.
func (h *handler) failWith(w http.ResponseWriter, r *http.Request, code int) {
	if wantsJSON(r) {
		writeJSON(w, code, map[string]string{"error": "internal error"})
		return
	}
	h.render(w, r, code, "message", pageData{Msg: "internal"})
}
