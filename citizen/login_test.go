package citizen

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
)

var codeRe = regexp.MustCompile(`\d{6}`)

func (c *city) pid(t testing.TB, personID string) int64 {
	t.Helper()
	p, err := personBy(dbq{context.Background(), c.db}, "person_id", personID)
	if err != nil {
		t.Fatal(err)
	}
	return p.PID
}

func (c *city) link(t testing.TB, personID string, ttl time.Duration) string {
	t.Helper()
	u, err := NewLink(context.Background(), c.db, c.pid(t, personID), c.clock.Now(), c.clock.Now().Add(ttl))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(u, "/c/") || len(u) < 3+16 {
		t.Fatalf("link %q", u)
	}
	return u
}

// post sends a form and returns the status, the Location and the body.
func post(t testing.TB, cl *http.Client, u string, form url.Values) (int, string, string) {
	t.Helper()
	resp, err := cl.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

func get(t testing.TB, cl *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := cl.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// code waits for the SMS the site sends and returns its code and phone.
func (c *city) code(t testing.TB) (string, string) {
	t.Helper()
	select {
	case m := <-c.sms.ch:
		return codeRe.FindString(m.text), m.phone
	case <-time.After(30 * time.Second):
		t.Fatal("no SMS sent")
	}
	return "", ""
}

// loginByLink logs a browser in through a reminder link, as the person or their agent.
func (c *city) loginByLink(t testing.TB, cl *http.Client, personID string, agent bool) {
	t.Helper()
	u := c.link(t, personID, 72*time.Hour)
	role := "self"
	if agent {
		role = "agent"
	}
	st, loc, _ := post(t, cl, c.srv.URL+u, url.Values{"last4": {personID[14:]}, "role": {role}})
	if st != http.StatusSeeOther || loc != "/c/code" {
		t.Fatalf("last4: %d %s", st, loc)
	}
	code, _ := c.code(t)
	st, loc, _ = post(t, cl, c.srv.URL+"/c/code", url.Values{"code": {code}})
	if st != http.StatusSeeOther || loc != "/c/me" {
		t.Fatalf("code: %d %s", st, loc)
	}
}

// TestLinkLogin: a link, the ID's last four, the SMS code to the right phone, a session;
// the link is single use and expires; wrong digits lock it; wrong codes kill the challenge.
func TestLinkLogin(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			c := newCity(t, dsn.Open(t), nil)
			cl := c.browser(t)
			u := c.link(t, zhang, 72*time.Hour)
			if st, body := get(t, cl, c.srv.URL+u); st != 200 || !strings.Contains(body, `name="last4"`) {
				t.Fatalf("link page %d", st)
			}
			// The agent: the code goes to the agent's phone.
			st, loc, _ := post(t, cl, c.srv.URL+u, url.Values{"last4": {zhang[14:]}, "role": {"agent"}})
			if st != http.StatusSeeOther || loc != "/c/code" {
				t.Fatalf("last4: %d %s", st, loc)
			}
			code, phone := c.code(t)
			if phone != zhangAgent || len(code) != 6 {
				t.Fatalf("code %q to %s, want the agent's phone", code, phone)
			}
			c.sms.mu.Lock()
			text := c.sms.sent[len(c.sms.sent)-1].text
			c.sms.mu.Unlock()
			if !strings.Contains(text, "您代办张三的") || !strings.Contains(text, code) {
				t.Fatalf("the agent's code SMS names no one: %s", text)
			}
			wrong := "000000"
			if code == wrong {
				wrong = "111111"
			}
			if _, _, body := post(t, cl, c.srv.URL+"/c/code", url.Values{"code": {wrong}}); !strings.Contains(body, msg(langZH, "err_wrong_code")) {
				t.Fatal("a wrong code was not refused")
			}
			if _, _, body := post(t, cl, c.srv.URL+"/c/code", url.Values{"code": {wrong}}); !strings.Contains(body, `id="no-code"`) || !strings.Contains(body, `href="`+u+`"`) {
				t.Error("the code page says nothing of a code that did not come")
			}
			st, loc, _ = post(t, cl, c.srv.URL+"/c/code", url.Values{"code": {code}})
			if st != http.StatusSeeOther || loc != "/c/me" {
				t.Fatalf("code: %d %s", st, loc)
			}
			st, body := get(t, cl, c.srv.URL+"/c/me")
			if st != 200 || !strings.Contains(body, "张三") || !strings.Contains(body, msg(langZH, "agent_note")) {
				t.Fatalf("me page %d: %s", st, body)
			}
			// The link is used up: a second browser with the right digits gets nowhere.
			cl2 := c.browser(t)
			if _, body := get(t, cl2, c.srv.URL+u); !strings.Contains(body, msg(langZH, "msg_link_invalid")) {
				t.Fatal("a used link still opens")
			}
			if _, loc, _ := post(t, cl2, c.srv.URL+u, url.Values{"last4": {zhang[14:]}}); loc == "/c/code" {
				t.Fatal("a used link starts a login")
			}
			// An expired link.
			old := c.link(t, zhang, time.Minute)
			c.clock.Add(2 * time.Minute)
			if _, body := get(t, cl2, c.srv.URL+old); !strings.Contains(body, msg(langZH, "msg_link_invalid")) {
				t.Fatal("an expired link still opens")
			}
			// Wrong digits: five lock the link, even for the right ones after.
			l := c.link(t, zhang, time.Hour)
			for i := range 5 {
				_, _, body := post(t, cl2, c.srv.URL+l, url.Values{"last4": {"0000"}})
				if i < 4 && !strings.Contains(body, msg(langZH, "err_wrong_digits")) {
					t.Fatalf("wrong digits %d not refused", i)
				}
				if i == 4 && !strings.Contains(body, msg(langZH, "msg_link_locked")) {
					t.Fatal("five wrong digits did not lock the link")
				}
			}
			if _, loc, _ := post(t, cl2, c.srv.URL+l, url.Values{"last4": {zhang[14:]}}); loc == "/c/code" {
				t.Fatal("a locked link took the right digits")
			}
			// Codes: five wrong answers end the challenge; the right code then fails too.
			cl3 := c.browser(t)
			l = c.link(t, zhang, time.Hour)
			post(t, cl3, c.srv.URL+l, url.Values{"last4": {zhang[14:]}})
			code, phone = c.code(t)
			if phone != zhangPhone {
				t.Fatalf("code to %s, want the person's phone", phone)
			}
			for range 5 {
				post(t, cl3, c.srv.URL+"/c/code", url.Values{"code": {"99999" + string(rune('0'+(code[5]-'0'+1)%10))}})
			}
			if _, loc, _ := post(t, cl3, c.srv.URL+"/c/code", url.Values{"code": {code}}); loc == "/c/me" {
				t.Fatal("the right code worked after five wrong ones")
			}
			// An expired code.
			cl4 := c.browser(t)
			l = c.link(t, zhang, time.Hour)
			post(t, cl4, c.srv.URL+l, url.Values{"last4": {zhang[14:]}})
			code, _ = c.code(t)
			c.clock.Add(6 * time.Minute)
			if _, loc, _ := post(t, cl4, c.srv.URL+"/c/code", url.Values{"code": {code}}); loc == "/c/me" {
				t.Fatal("an expired code worked")
			}
			// Without a session there is no status.
			if st, _ := get(t, c.browser(t), c.srv.URL+"/c/api/status"); st != http.StatusUnauthorized {
				t.Fatalf("status without a session: %d", st)
			}
			// Every login step is in the audit trail.
			var n int
			if err := c.db.SQL().QueryRow(`SELECT count(*) FROM audit WHERE kind = 'citizen_login'`).Scan(&n); err != nil || n < 10 {
				t.Fatalf("%d citizen_login audit rows (%v)", n, err)
			}
			if _, err := c.db.VerifyAudit(context.Background(), func(p store.AuditProblem) { t.Errorf("audit: %+v", p) }); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestSameAnswers: a login by ID number answers the same for a number on the roster and
// one that is not; only the person on the roster gets a code.
func TestSameAnswers(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			c := newCity(t, dsn.Open(t), nil)
			type answer struct {
				st            int
				loc, body     string
				codeSt        int
				codeLoc, code string
			}
			try := func(id string) answer {
				cl := c.browser(t)
				var a answer
				a.st, a.loc, a.body = post(t, cl, c.srv.URL+"/c/login", url.Values{"id": {id}, "role": {"self"}})
				st, body := get(t, cl, c.srv.URL+"/c/code")
				a.body += body
				if st != 200 {
					t.Fatalf("code page %d", st)
				}
				a.codeSt, a.codeLoc, a.code = post(t, cl, c.srv.URL+"/c/code", url.Values{"code": {"123456"}})
				return a
			}
			known, unknown := try(zhang), try(unknownID)
			if known != unknown {
				t.Fatalf("different answers:\nknown   %+v\nunknown %+v", known, unknown)
			}
			if known.st != http.StatusSeeOther || known.loc != "/c/code" {
				t.Fatalf("login answer %d %s", known.st, known.loc)
			}
			if _, phone := c.code(t); phone != zhangPhone {
				t.Fatalf("code sent to %s", phone)
			}
			c.h.sent.Wait()
			if n := len(c.sms.ch); n != 0 {
				t.Fatalf("%d more codes sent: one went to an unknown number", n)
			}
			// Both logins left a challenge row: the same work either way.
			var n int
			if err := c.db.SQL().QueryRow(`SELECT count(*) FROM citizen_challenges`).Scan(&n); err != nil || n != 2 {
				t.Fatalf("%d challenges (%v)", n, err)
			}
			// Rate limit per ID number: the sixth login of the day is refused, known or not.
			for _, id := range []string{zhang, unknownID} {
				var last int
				for range 5 {
					last, _, _ = post(t, c.browser(t), c.srv.URL+"/c/login", url.Values{"id": {id}})
				}
				if last != http.StatusTooManyRequests {
					t.Fatalf("%s: login %d answered %d, want 429", id[:4], 6, last)
				}
			}
			// The first refusal of each is audited, the same for both (no person named),
			// and no later one.
			post(t, c.browser(t), c.srv.URL+"/c/login", url.Values{"id": {zhang}})
			rows, err := c.db.SQL().Query(`SELECT pid, person_id, detail FROM audit WHERE action = 'rate_limited' ORDER BY seq`)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for rows.Next() {
				var pid int64
				var id, detail string
				rows.Scan(&pid, &id, &detail)
				got = append(got, fmt.Sprint(pid, " ", id, detail))
			}
			rows.Close()
			if want := "-1 limit=logins_per_id_day"; len(got) != 2 || got[0] != want || got[1] != want {
				t.Fatalf("rate limits audited: %q", got)
			}
			// A malformed number is said to be malformed, which tells nothing of the roster.
			if _, _, body := post(t, c.browser(t), c.srv.URL+"/c/login", url.Values{"id": {"123"}}); !strings.Contains(body, msg(langZH, "err_bad_id")) {
				t.Fatal("a malformed ID number was not refused")
			}
		})
	}
}

// TestLogoutEndsSession: logging out ends the session on the server even when the form's
// token is missing: a copy of the cookie no longer signs anyone in.
func TestLogoutEndsSession(t *testing.T) {
	c := newCity(t, storetest.Open(t, "sqlite:"+filepath.Join(t.TempDir(), "l.db")), nil)
	cl := c.browser(t)
	c.loginByLink(t, cl, zhang, false)
	base, _ := url.Parse(c.srv.URL + "/c/")
	var copied *http.Cookie
	for _, k := range cl.Jar.Cookies(base) {
		if k.Name == sessionCookie {
			copied = k
		}
	}
	if copied == nil {
		t.Fatal("no session cookie after login")
	}
	post(t, cl, c.srv.URL+"/c/logout", url.Values{}) // no token
	var n int
	if err := c.db.SQL().QueryRow(`SELECT count(*) FROM audit WHERE kind = 'citizen_login' AND action = 'logout' AND actor = 'citizen'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("logouts audited: %d %v", n, err)
	}
	other := c.browser(t)
	other.Jar.SetCookies(base, []*http.Cookie{copied})
	if st, body := get(t, other, c.srv.URL+"/c/me"); st == http.StatusOK && strings.Contains(body, "张三") {
		t.Error("the session outlived the logout")
	}
}

// TestCrossSite: a browser's Sec-Fetch-Site decides; without it, Origin must be the host
// asked for, or the public address behind a proxy that rewrites Host.
func TestCrossSite(t *testing.T) {
	defer func(b string) { LinkBase = b }(LinkBase)
	LinkBase = "https://rz.example.gov.cn/c/"
	for _, c := range []struct {
		host, site, origin string
		cross              bool
	}{
		{"rz.example.gov.cn", "same-origin", "https://rz.example.gov.cn", false},
		{"127.0.0.1:8080", "same-origin", "https://rz.example.gov.cn", false}, // a proxy rewrote Host
		{"rz.example.gov.cn", "cross-site", "https://evil.example", true},
		{"rz.example.gov.cn", "same-site", "https://x.example.gov.cn", true},
		{"rz.example.gov.cn", "", "https://evil.example", true}, // an old browser
		{"127.0.0.1:8080", "", "https://rz.example.gov.cn", false},
		{"rz.example.gov.cn", "", "https://rz.example.gov.cn", false},
		{"rz.example.gov.cn", "", "", false}, // neither (a very old browser): let through
	} {
		r := httptest.NewRequest("POST", "http://"+c.host+"/c/login", nil)
		if c.site != "" {
			r.Header.Set("Sec-Fetch-Site", c.site)
		}
		if c.origin != "" {
			r.Header.Set("Origin", c.origin)
		}
		if got := crossSite(r); got != c.cross {
			t.Errorf("%+v: cross-site %v", c, got)
		}
	}
}

// TestWithdrawLink: a link withdrawn (its SMS never left) opens nothing and no longer counts
// among the person's sign-ins; another link of the same person is untouched.
func TestWithdrawLink(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			c := newCity(t, dsn.Open(t), nil)
			ctx := context.Background()
			cl := c.browser(t)
			kept, gone := c.link(t, zhang, 72*time.Hour), c.link(t, zhang, 72*time.Hour)
			if err := WithdrawLink(ctx, c.db, "https://rz.example.gov.cn"+gone); err != nil {
				t.Fatal(err)
			}
			if _, body := get(t, cl, c.srv.URL+gone); !strings.Contains(body, msg(langZH, "msg_link_invalid")) {
				t.Fatal("a withdrawn link still opens")
			}
			if st, body := get(t, cl, c.srv.URL+kept); st != 200 || !strings.Contains(body, `name="last4"`) {
				t.Fatalf("the other link: %d", st)
			}
			s, err := PersonSignIns(ctx, c.db, c.pid(t, zhang), c.clock.Now())
			if err != nil || s.Links != 1 {
				t.Fatalf("sign-ins after withdrawing one of two links: %+v %v", s, err)
			}
		})
	}
}

// TestRateLimitClockBack: a window that starts after now (the clock went back: the demo's
// day restarted at midnight, a server clock corrected) starts again instead of refusing
// until the clock catches up with it.
func TestRateLimitClockBack(t *testing.T) {
	c := newCity(t, storetest.Open(t, "sqlite:"+filepath.Join(t.TempDir(), "r.db")), nil)
	var last int
	for range 6 {
		last, _, _ = post(t, c.browser(t), c.srv.URL+"/c/login", url.Values{"id": {unknownID}})
	}
	if last != http.StatusTooManyRequests {
		t.Fatalf("sixth login answered %d, want 429", last)
	}
	c.clock.Add(-2 * time.Hour)
	if st, loc, _ := post(t, c.browser(t), c.srv.URL+"/c/login", url.Values{"id": {unknownID}}); st != http.StatusSeeOther || loc != "/c/code" {
		t.Fatalf("after the clock went back: %d %s, want 303 to /c/code", st, loc)
	}
}

// TestFormBodyBounded: the pages' POSTs take a few fields. A file part to the sign-in
// page, sent by anyone, was spooled to disk for as long as its sender kept the request
// open (PostFormValue parses multipart); now it is refused unread, and a body past
// maxFormBody is refused too. The burst's own form (/c/attempt) keeps its bound.
func TestFormBodyBounded(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	c := newCity(t, storetest.Open(t, "sqlite:"+filepath.Join(t.TempDir(), "c.db")), nil)
	cl := c.browser(t)
	for _, path := range []string{"/c/login", "/c/code", "/c/logout", "/c/sometoken"} {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		fw, _ := mw.CreateFormFile("f", "big.bin")
		fw.Write(bytes.Repeat([]byte("x"), 3<<20))
		mw.WriteField("id", "371002194003150019")
		mw.Close()
		res, err := cl.Post(c.srv.URL+path, mw.FormDataContentType(), &body)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnsupportedMediaType {
			t.Errorf("multipart to %s: %d, want 415", path, res.StatusCode)
		}
		big := url.Values{"id": {strings.Repeat("1", maxFormBody)}}.Encode()
		res, err = cl.Post(c.srv.URL+path, "application/x-www-form-urlencoded", strings.NewReader(big))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("a %d-byte form to %s: %d, want 413", len(big), path, res.StatusCode)
		}
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("files left in the temporary folder: %v", left)
	}
	// An ordinary sign-in form is read as before.
	if st, _, body := post(t, cl, c.srv.URL+"/c/login", url.Values{"id": {"371002194003150019"}}); st >= 400 && st != http.StatusTooManyRequests {
		t.Errorf("an ordinary sign-in form: %d %s", st, body)
	}
}

// TestCookiesSecureBehindProxy: the pensioner's pages' cookies were Secure only with
// Options.Secure (serve --secure-cookies): behind a TLS proxy without it, the session went
// without. Now they are Secure as the console's: always with Secure, over TLS, or behind
// a proxy (TrustProxy) that says https in X-Forwarded-Proto; not on that header's word alone.
func TestCookiesSecureBehindProxy(t *testing.T) {
	for _, c := range []struct {
		opt   Options
		proto string
		tls   bool
		want  bool
	}{
		{Options{TrustProxy: true}, "https", false, true},
		{Options{TrustProxy: true}, "http", false, false},
		{Options{TrustProxy: true}, "", false, false},
		{Options{}, "https", false, false},
		{Options{}, "", true, true},
		{Options{Secure: true}, "", false, true},
	} {
		target := "/c/"
		if c.tls {
			target = "https://example.org/c/" // httptest gives it a TLS state
		}
		r := httptest.NewRequest("GET", target, nil)
		if c.proto != "" {
			r.Header.Set("X-Forwarded-Proto", c.proto)
		}
		w := httptest.NewRecorder()
		(&handler{opt: c.opt}).setCookie(w, r, sessionCookie, "x", 0)
		if ck := w.Result().Cookies(); len(ck) != 1 || ck[0].Secure != c.want {
			t.Errorf("secure %v, proxy %v, X-Forwarded-Proto %q, TLS %v: cookies %v, want Secure %v",
				c.opt.Secure, c.opt.TrustProxy, c.proto, c.tls, ck, c.want)
		}
	}
}

// TestLimitsCountAClientsNetwork: the sign-in limits count an IPv6 client by its /64, as
// the console's do: counted by the whole address, a client escaped them by taking the
// next address of its own network. IPv4 addresses count one by one; what is no address
// counts as the peer's.
func TestLimitsCountAClientsNetwork(t *testing.T) {
	h := &handler{opt: Options{TrustProxy: true}}
	key := func(peer, forwarded string) string {
		r := httptest.NewRequest("GET", "/c/", nil)
		r.RemoteAddr = peer
		if forwarded != "" {
			r.Header.Set("X-Forwarded-For", forwarded)
		}
		return h.clientIP(r)
	}
	proxy := "10.0.0.1:40000"
	if a, b := key(proxy, "2001:db8:1:2::1"), key(proxy, "2001:db8:1:2:ffff::9"); a != b {
		t.Errorf("two addresses of one /64 counted apart: %q, %q", a, b)
	}
	if a, b := key(proxy, "2001:db8:1:2::1"), key(proxy, "2001:db8:1:3::1"); a == b {
		t.Errorf("two /64s counted as one: %q", a)
	}
	if a, b := key(proxy, "203.0.113.9"), key(proxy, "203.0.113.10"); a == b {
		t.Errorf("two IPv4 addresses counted as one: %q", a)
	}
	if a, b := key("[2001:db8:9::1]:5000", ""), key("[2001:db8:9::2]:5001", ""); a != b {
		t.Errorf("without a proxy, two peers of one /64 counted apart: %q, %q", a, b)
	}
}
