package citizen

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
)

// TestEndSignIns: staff end a person's sessions (the person's and the agent's), their
// unused links and a login waiting for its code; nothing of another person's is touched;
// the person can sign in again by a new link; the action is audited with its reason.
func TestEndSignIns(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			c := newCity(t, dsn.Open(t), nil)
			ctx := context.Background()
			self, agent := c.browser(t), c.browser(t)
			c.loginByLink(t, self, zhang, false)
			c.loginByLink(t, agent, zhang, true)
			// Another person's session and link (李秀英 has no mobile to sign in with).
			liPID := c.pid(t, li)
			if _, err := c.db.SQL().Exec(c.db.Rebind(`INSERT INTO citizen_sessions (hash, pid, agent, created, expires, csrf) VALUES ('x', ?, 0, 0, ?, 'c')`),
				liPID, c.clock.Now().Add(time.Hour).UnixNano()); err != nil {
				t.Fatal(err)
			}
			c.link(t, li, 72*time.Hour)
			spare := c.link(t, zhang, 72*time.Hour)
			waiting := c.browser(t)
			if st, loc, _ := post(t, waiting, c.srv.URL+c.link(t, zhang, 72*time.Hour), url.Values{"last4": {zhang[14:]}, "role": {"self"}}); st != http.StatusSeeOther || loc != "/c/code" {
				t.Fatalf("last4: %d %s", st, loc)
			}
			code, _ := c.code(t)
			pid := c.pid(t, zhang)
			// A reminder of each waiting to be sent with a link of its own, and one sent.
			tx, err := c.db.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.EnqueueNotices([]store.Notice{
				{PID: pid, PersonID: zhang, Phone: zhangPhone, Kind: "warning", Deadline: today + 30, Template: "warning", Text: "请认证 {link}人脸", Created: today},
				{PID: pid, PersonID: zhang, Phone: zhangPhone, Kind: "pending", Deadline: today + 30, Template: "pending", Text: "已到期 {link}人脸", Created: today},
				{PID: liPID, PersonID: li, Phone: "13800000002", Kind: "warning", Deadline: today + 30, Template: "warning", Text: "请认证 {link}人脸", Created: today},
			}); err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			// The pending one already sent; the warning claimed by a sender, not yet sent.
			if _, err := c.db.SQL().Exec(c.db.Rebind(`UPDATE notices SET status = CASE kind WHEN 'pending' THEN 'sent' ELSE 'sending' END WHERE pid = ?`), pid); err != nil {
				t.Fatal(err)
			}
			before, err := PersonSignIns(ctx, c.db, pid, c.clock.Now())
			if err != nil || before != (SignIns{Sessions: 1, AgentSessions: 1, Links: 2, Challenges: 1, Reminders: 1}) {
				t.Fatalf("before: %+v %v", before, err)
			}
			if _, err := EndSignIns(ctx, c.db, pid, "op1", "  ", c.clock.Now(), time.UTC); err == nil {
				t.Fatal("ended without a reason")
			}
			ended, err := EndSignIns(ctx, c.db, pid, "op1", "phone lost; reported by daughter", c.clock.Now(), time.UTC)
			if err != nil || ended != before {
				t.Fatalf("ended %+v %v, want %+v", ended, err, before)
			}
			if after, _ := PersonSignIns(ctx, c.db, pid, c.clock.Now()); after.Any() {
				t.Fatalf("after: %+v", after)
			}
			for name, cl := range map[string]*http.Client{"person": self, "agent": agent} {
				if st, body := get(t, cl, c.srv.URL+"/c/me"); st == http.StatusOK && strings.Contains(body, "张三") {
					t.Errorf("the %s's session outlived its end", name)
				}
			}
			if o, _ := PersonSignIns(ctx, c.db, liPID, c.clock.Now()); o != (SignIns{Sessions: 1, Links: 1, Reminders: 1}) {
				t.Errorf("another person's sign-ins: %+v", o)
			}
			// The waiting reminder names the login page; the one sent is as it was.
			ns, _ := c.db.PersonNotices(ctx, pid)
			for _, n := range ns {
				if want := map[string]string{"warning": "请认证 " + LinkBase + "login人脸", "pending": "已到期 {link}人脸"}[n.Kind]; n.Text != want {
					t.Errorf("%s notice: %q, want %q", n.Kind, n.Text, want)
				}
			}
			if _, body := get(t, c.browser(t), c.srv.URL+spare); strings.Contains(body, `name="last4"`) {
				t.Error("an unused link still signs in")
			}
			if st, loc, _ := post(t, waiting, c.srv.URL+"/c/code", url.Values{"code": {code}}); st == http.StatusSeeOther && loc == "/c/me" {
				t.Error("a login waiting for its code went through")
			}
			c.loginByLink(t, c.browser(t), zhang, false) // a new reminder's link lets them in
			rows, _ := c.db.PersonAudit(ctx, pid)
			var last store.AuditRow
			for _, r := range rows {
				if r.Kind == "citizen_signin" {
					last = r
				}
			}
			if last.Kind != "citizen_signin" || last.Actor != "op1" || last.Action != "ended" ||
				last.Detail != "sessions=1;agent_sessions=1;links=2;challenges=1;reminders=1;reason=phone lost, reported by daughter" {
				t.Errorf("audit: %+v", last)
			}
		})
	}
}

// TestAttemptRefusalsAudited: an attempt refused (over the day's limit — the first time —,
// a frame too large, no frame) leaves an audit row naming the reason.
func TestAttemptRefusalsAudited(t *testing.T) {
	c := newCity(t, storetest.Open(t, "sqlite:"+t.TempDir()+"/a.db"), testModels(t))
	c.h.pol.AttemptsPerDay = 0
	cl := c.browser(t)
	c.loginByLink(t, cl, zhang, false)
	nonce, csrf := c.capture(t, cl)
	for range 2 { // the second refusal of the day is not audited
		if st, a := c.upload(t, cl, nonce, csrf, [][]byte{[]byte("x")}); st != http.StatusTooManyRequests || a.Reason != "too_many" {
			t.Fatalf("over the limit: %d %+v", st, a)
		}
		nonce, csrf = c.capture(t, cl)
	}
	c.h.pol.AttemptsPerDay = 6
	if st, a := c.upload(t, cl, nonce, csrf, [][]byte{make([]byte, c.h.pol.MaxFrameBytes+1)}); st != http.StatusRequestEntityTooLarge {
		t.Fatalf("a frame too large: %d %+v", st, a)
	}
	// (refused before the nonce is spent: the same page may send again)
	if st, a := c.upload(t, cl, nonce, csrf, nil); st != http.StatusBadRequest || a.Outcome != "retry" {
		t.Fatalf("no frame: %d %+v", st, a)
	}
	var got []string
	rows, _ := c.db.PersonAudit(context.Background(), c.pid(t, zhang))
	for _, r := range rows {
		if r.Action == "attempt_refused" {
			got = append(got, r.Actor+" "+r.Detail)
		}
	}
	if strings.Join(got, "|") != "citizen reason=too_many|citizen reason=too_large|citizen reason=frames" {
		t.Fatalf("refusals audited: %q", got)
	}
}
