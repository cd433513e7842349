package web_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/auth"
	"github.com/silentcert/silentcert/idcard"
	"github.com/silentcert/silentcert/service"
	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
	"github.com/silentcert/silentcert/web"
)

func TestSecurity(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) { testSecurity(t, newCity(t, dsn.Open(t))) })
	}
}

func testSecurity(t *testing.T, c *city) {
	ctx := context.Background()
	zp, _ := c.db.PersonByID(ctx, zhang)
	zURL := fmt.Sprintf("/person/%d", zp.PID)

	// CSRF: every POST without the token, or with another's, is refused and changes nothing.
	op := c.client(t)
	op.login("operator")
	other := c.client(t)
	other.login("admin")
	// The wrong token differs from the right one in its first character, whatever that is.
	wrong := "x" + op.csrf[1:]
	if op.csrf[0] == 'x' {
		wrong = "y" + op.csrf[1:]
	}
	for _, path := range []string{zURL + "/visit", zURL + "/review", "/admin/users", "/admin/keys", "/logout", "/lang"} {
		for name, tok := range map[string]string{"missing": "", "wrong": wrong, "another session's": other.csrf} {
			form := url.Values{"outcome": {"death"}, "op": {"create"}, "name": {"csrfuser"}, "password": {pw}, "role": {"admin"}, "lang": {"en"}}
			if tok != "" {
				form.Set("csrf", tok)
			}
			if st, _, _ := op.post(path, form); st != http.StatusForbidden {
				t.Errorf("POST %s with the CSRF token %s: %d, want 403", path, name, st)
			}
		}
	}
	if p, _ := c.db.PersonByID(ctx, zhang); p.Status != zp.Status {
		t.Fatalf("a POST without its token changed 张三")
	}
	anon := c.client(t)
	if st, _, _ := anon.post("/login", url.Values{"name": {"admin"}, "password": {pw}}); st != http.StatusForbidden {
		t.Errorf("login without the form's token: %d", st)
	}

	// Session fixation: a session id planted before login is never the one after it.
	fix := c.client(t)
	u, _ := url.Parse(c.srv.URL)
	fix.c.Jar.SetCookies(u, []*http.Cookie{{Name: "sc_session", Value: "planted-by-attacker", Path: "/"}})
	fix.login("operator")
	var after string
	for _, ck := range fix.c.Jar.Cookies(u) {
		if ck.Name == "sc_session" {
			after = ck.Value
		}
	}
	if after == "" || after == "planted-by-attacker" {
		t.Fatalf("the session cookie after login is %q", after)
	}
	// A stolen token dies with logout.
	fix.get("/")
	if st, _, _ := fix.post("/logout", url.Values{"csrf": {fix.csrf}}); st != http.StatusSeeOther {
		t.Fatalf("logout: %d", st)
	}
	replay := c.client(t)
	replay.c.Jar.SetCookies(u, []*http.Cookie{{Name: "sc_session", Value: after, Path: "/"}})
	if st, _ := replay.get("/"); st != http.StatusSeeOther {
		t.Fatalf("a logged-out token still opens the dashboard: %d", st)
	}

	// Cookies: HttpOnly and SameSite on every one set.
	res, err := http.Get(c.srv.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	for _, h := range res.Header.Values("Set-Cookie") {
		if !strings.Contains(h, "HttpOnly") || !strings.Contains(h, "SameSite=Lax") {
			t.Errorf("cookie %q", h)
		}
	}
	// The session's cookie is Strict: another site's link or form never carries it.
	lc := c.client(t)
	lc.get("/login")
	if res, err = lc.c.PostForm(lc.base+"/login", url.Values{"csrf": {lc.csrf}, "name": {"operator"}, "password": {pw}}); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if h := res.Header.Values("Set-Cookie"); len(h) != 1 || !strings.Contains(h[0], "SameSite=Strict") || !strings.Contains(h[0], "HttpOnly") {
		t.Errorf("the session's cookie: %q", h)
	}
	if res.Header.Get("Content-Security-Policy") == "" || res.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("security headers missing")
	}

	// Lockout: after five wrong passwords the right one is refused too.
	lk := c.client(t)
	for i := 0; i < 5; i++ {
		lk.get("/login")
		if st, _, _ := lk.post("/login", url.Values{"csrf": {lk.csrf}, "name": {"town"}, "password": {"wrong password " + fmt.Sprint(i)}}); st != http.StatusUnauthorized {
			t.Fatalf("wrong password: %d", st)
		}
	}
	lk.get("/login")
	if st, _, _ := lk.post("/login", url.Values{"csrf": {lk.csrf}, "name": {"town"}, "password": {pw}}); st == http.StatusSeeOther {
		t.Fatalf("a locked account logs in")
	}

	// Scope by URL: a district account sees neither another district's person nor its figures.
	qian, _ := c.db.PersonByID(ctx, "371082194701010090")
	dis := c.client(t)
	dis.login("district")
	for path, want := range map[string]int{
		fmt.Sprintf("/person/%d", qian.PID): http.StatusNotFound,
		zURL:                                http.StatusOK,
		"/?region=371082":                   http.StatusForbidden,
		"/?region=37":                       http.StatusForbidden,
		"/work/warning?region=371082100201": http.StatusForbidden,
		"/work/unassigned":                  http.StatusOK,
		"/work/suspended/export?format=xlsx&region=3710": http.StatusForbidden,
		"/work/risk?region=371082100201":                 http.StatusForbidden,
		"/work/risk/export?format=csv&region=3710":       http.StatusForbidden,
		"/work/risk": http.StatusOK,
	} {
		if st, _ := dis.get(path); st != want {
			t.Errorf("district %s: %d, want %d", path, st, want)
		}
	}
	if _, body := dis.get("/work/unassigned"); strings.Contains(body, "/person/") {
		t.Errorf("a district account sees unassigned people")
	}

	// Injection: SQL and script in every query parameter and path value are inert.
	payloads := []string{`' OR '1'='1`, `1; DROP TABLE people; --`, `<script>alert(1)</script>`, `"><img src=x onerror=alert(1)>`, `%`, `_`, `37%`, `../../etc/passwd`}
	var before int64
	c.db.SQL().QueryRow(`SELECT count(*) FROM people`).Scan(&before)
	for _, p := range payloads {
		q := url.QueryEscape(p)
		for _, path := range []string{
			"/search?q=" + q, "/?region=" + q, "/work/warning?region=" + q, "/work/pending?months=" + q, "/work/warning?months=" + q,
			"/work/pending?from=" + q, "/work/pending?to=" + q, "/work/pending?page=" + q, "/work/" + url.PathEscape(p),
			"/work/pending/export?format=" + q, "/person/" + url.PathEscape(p), "/batches/" + url.PathEscape(p),
			"/village?region=" + q, "/login?next=" + q,
			"/work/risk?region=" + q, "/work/risk?from=" + q, "/work/risk?to=" + q, "/work/risk?page=" + q, "/work/risk/export?format=" + q,
		} {
			st, body := op.get(path)
			if st >= 500 {
				t.Errorf("%s: %d", path, st)
			}
			if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") {
				t.Errorf("%s reflects the payload unescaped", path)
			}
		}
		// Forms: the payload in every field of the visit, review, user and key forms.
		op.get(zURL)
		for path, form := range map[string]url.Values{
			zURL + "/visit":  {"outcome": {p}, "date": {p}, "region_code": {p}, "agent": {p}},
			zURL + "/review": {"accept": {"alive"}, "ref": {p}, "reason": {p}},
			"/admin/users":   {"op": {p}, "name": {p}, "password": {p}, "role": {p}, "region": {p}},
			"/admin/keys":    {"op": {"create"}, "source": {p}, "name": {p}},
		} {
			form.Set("csrf", op.csrf)
			st, _, body := op.post(path, form)
			if st >= 500 || strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") {
				t.Errorf("POST %s with %q: %d", path, p, st)
			}
		}
	}
	var n int64
	if err := c.db.SQL().QueryRow(`SELECT count(*) FROM people`).Scan(&n); err != nil || n != before {
		t.Fatalf("people after the injections: %d, %v (before %d)", n, err, before)
	}

	// Stored script: a review reason and a user name come back escaped.
	ad := c.client(t)
	ad.login("admin")
	ad.get("/admin/users")
	ad.post("/admin/users", url.Values{"csrf": {ad.csrf}, "op": {"create"}, "name": {`<b>x</b>`}, "password": {pw}, "role": {"auditor"}})
	if _, body := ad.get("/admin/users"); strings.Contains(body, "<b>x</b>") {
		t.Errorf("a user name is shown unescaped")
	}
}

// TestReview: a death and a later hospital stay put 李秀英 in conflict; the operator
// accepts the later record with a reason, through an HRSS.REVIEW record, audited; a town
// account may not review.
func TestReview(t *testing.T) {
	c := newCity(t, storetest.Open(t, "sqlite:"+t.TempDir()+"/r.db"))
	ctx := context.Background()
	const h = "record_id,source,type,person_id,name,birth_date,event_date,reported_date,region_code,detail\n"
	for _, b := range []struct{ src, body string }{
		{"PSB", h + "D1,PSB,PSB.DEATH_DEREG," + li + ",李秀英,,2024-05-02,2024-05-09,,\n"},
		{"HEA", h + "V1,HEA,HEA.VACCINATION," + li + ",李秀英,,2024-05-08,2024-05-10,,\n"},
	} {
		if _, err := c.svc.Ingest(ctx, service.Batch{Origin: "api", Source: b.src, Actor: "test", Day: today,
			Files: []service.File{{Name: "b.csv", Body: strings.NewReader(b.body)}}}); err != nil {
			t.Fatal(err)
		}
	}
	p, _ := c.db.PersonByID(ctx, li)
	if p.Status != sc.StatusConflict {
		t.Fatalf("李秀英 is %v, not in conflict: the test proves nothing", p.Status)
	}
	path := fmt.Sprintf("/person/%d", p.PID)
	town := c.client(t)
	town.login("town")
	town.get(path)
	if st, _, _ := town.post(path+"/review", url.Values{"csrf": {town.csrf}, "accept": {"alive"}, "ref": {"HEA:V1"}, "reason": {"seen"}}); st != http.StatusForbidden {
		t.Errorf("a town account reviews: %d", st)
	}
	op := c.client(t)
	op.login("operator")
	if _, body := op.get(path); !strings.Contains(body, `action="`+path+`/review"`) || !strings.Contains(body, "HEA:V1") {
		t.Fatalf("no review form for the conflict")
	}
	if st, _, _ := op.post(path+"/review", url.Values{"csrf": {op.csrf}, "accept": {"alive"}, "ref": {"HEA:V1"}, "reason": {""}}); st != http.StatusBadRequest {
		t.Errorf("a review without a reason: %d", st)
	}
	st, loc, body := op.post(path+"/review", url.Values{"csrf": {op.csrf}, "accept": {"alive"}, "ref": {"HEA:V1"}, "reason": {"<script>alert(1)</script> seen at the clinic;death_date=2020-01-01;record=HRSS:FAKE"}})
	if st != http.StatusSeeOther {
		t.Fatalf("review: %d %s", st, body)
	}
	p, _ = c.db.PersonByID(ctx, li)
	if p.Status == sc.StatusConflict || p.Status == sc.StatusTerminated {
		t.Fatalf("after accept=alive: %v", p.Status)
	}
	// Reviewed again, now that nothing is disputed: refused (it was taken, 303, and its
	// record changed nothing), nothing recorded.
	before, _ := c.db.PersonRecords(ctx, p.PID)
	if st, _, body := op.post(path+"/review", url.Values{"csrf": {op.csrf}, "accept": {"death"}, "ref": {"PSB:D1"}, "reason": {"again"}}); st != http.StatusConflict ||
		!strings.Contains(body, "本人没有待复核的死亡争议") {
		t.Errorf("a review with no conflict: %d\n%s", st, body)
	}
	if after, _ := c.db.PersonRecords(ctx, p.PID); len(after) != len(before) {
		t.Errorf("a review with no conflict recorded something")
	}
	_, body = op.get(loc)
	if strings.Contains(body, "<script>alert") || !strings.Contains(body, "&lt;script&gt;") {
		t.Fatalf("the reason is not on the timeline, escaped")
	}
	// The reason cannot plant keys in the audit row's detail (a death date the village
	// assistant's page would show, a second record).
	var detail string
	if err := c.db.SQL().QueryRow(`SELECT detail FROM audit WHERE kind = 'review'`).Scan(&detail); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(detail, "death_date=") || strings.Count(detail, "record=") != 1 {
		t.Errorf("the reason planted keys in the audit row: %s", detail)
	}
}

// TestLoginThrottleBehindProxy: behind a reverse proxy every request comes from the
// proxy's address; with BehindProxy the failed logins count by the client's address the
// proxy appended to X-Forwarded-For, so one guesser does not lock the whole bureau out;
// without it the header is not believed (a client could name any address).
func TestLoginThrottleBehindProxy(t *testing.T) {
	c := newCity(t, storetest.Open(t, "sqlite:"+filepath.Join(t.TempDir(), "p.db")))
	for _, behind := range []bool{true, false} {
		a := auth.New(c.db, auth.Options{IPMaxFailures: 2, Hash: auth.HashParams{Time: 1, Memory: 64, Threads: 1}})
		h, err := web.New(web.Options{DB: c.db, Auth: a, BehindProxy: behind, Today: func() sc.Date { return today }})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(h)
		login := func(from, password string) int {
			cl := &client{t: t, base: srv.URL, c: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
			jar, _ := cookiejar.New(nil)
			cl.c.Jar = jar
			cl.get("/login")
			req, _ := http.NewRequest("POST", srv.URL+"/login", strings.NewReader(url.Values{"csrf": {cl.csrf}, "name": {"operator"}, "password": {password}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Forwarded-For", from)
			res, err := cl.c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			return res.StatusCode
		}
		login("10.0.0.1", "wrong")
		login("10.0.0.1", "wrong")
		if st := login("10.0.0.1", pw); st == http.StatusSeeOther {
			t.Errorf("behind proxy %v: the guesser's address still logs in after its failures", behind)
		}
		if st := login("10.0.0.2", pw); (st == http.StatusSeeOther) != behind {
			t.Errorf("behind proxy %v: another client's login: %d", behind, st)
		}
		srv.Close()
	}
}

// proxied is a console behind a proxy (BehindProxy) over c's database, limited to 2
// failed logins an address; post sends a login with the X-Forwarded-For lines given, the
// client's own first and the proxy's last, as HAProxy's option forwardfor sends them.
func proxied(t *testing.T, c *city) (srv *httptest.Server, post func(password string, xff ...string) (*http.Response, *client)) {
	a := auth.New(c.db, auth.Options{IPMaxFailures: 2, Hash: auth.HashParams{Time: 1, Memory: 64, Threads: 1}})
	h, err := web.New(web.Options{DB: c.db, Auth: a, BehindProxy: true, Today: func() sc.Date { return today }})
	if err != nil {
		t.Fatal(err)
	}
	srv = httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, func(password string, xff ...string) (*http.Response, *client) {
		jar, _ := cookiejar.New(nil)
		cl := &client{t: t, base: srv.URL, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
		cl.get("/login")
		req, _ := http.NewRequest("POST", srv.URL+"/login", strings.NewReader(url.Values{"csrf": {cl.csrf}, "name": {"operator"}, "password": {password}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for _, x := range xff {
			req.Header.Add("X-Forwarded-For", x)
		}
		res, err := cl.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res, cl
	}
}

// TestLoginThrottleProxyLastLine: behind a proxy that adds its own X-Forwarded-For line,
// the client's own line, sent before the proxy's, was believed: a new one on every try
// escaped the address's limit, and its text landed in the login's audit row.
func TestLoginThrottleProxyLastLine(t *testing.T) {
	c := newCity(t, storetest.Open(t, "sqlite:"+filepath.Join(t.TempDir(), "x.db")))
	_, login := proxied(t, c)
	for _, fake := range []string{"1.1.1.1", "1.1.1.2", "1.1.1.3", "1.1.1.4"} {
		login("wrong guess", fake, "203.0.113.9") // the proxy's line says 203.0.113.9 every time
	}
	if res, _ := login(pw, "6.6.6.6;id=1;pw=0000000000000000", "203.0.113.9"); res.StatusCode == http.StatusSeeOther {
		t.Error("203.0.113.9 signed in after 4 failures; the limit is 2")
	}
	rows, _ := c.db.Trail(context.Background(), store.TrailQuery{Kind: "login", Actor: "operator", From: sc.NoDate, To: sc.NoDate})
	if slices.ContainsFunc(rows, func(r store.AuditRow) bool { return strings.Contains(r.Detail, ";id=1;pw=") }) {
		t.Error("the client's text was written into a login row's detail (fields audit verify reads)")
	}
}

// TestForwardedForHidesNoTamper: the same forged line hid a password swapped in the
// database from audit verify: a login row's "ip=" carried the id and the print verify then
// took as the account's.
func TestForwardedForHidesNoTamper(t *testing.T) {
	c := newCity(t, storetest.Open(t, "sqlite:"+filepath.Join(t.TempDir(), "h.db")))
	ctx := context.Background()
	_, login := proxied(t, c)
	var adminID, opHash string
	c.db.SQL().QueryRow(`SELECT id FROM users WHERE name = 'admin'`).Scan(&adminID)
	c.db.SQL().QueryRow(`SELECT password FROM users WHERE name = 'operator'`).Scan(&opHash)
	problems := func() (n int) {
		c.db.VerifyAudit(ctx, func(store.AuditProblem) { n++ })
		return n
	}
	// An insider who can write the database gives admin a hash of a password they know.
	if _, err := c.db.SQL().Exec(`UPDATE users SET password = ? WHERE name = 'admin'`, opHash); err != nil {
		t.Fatal(err)
	}
	if problems() == 0 {
		t.Fatal("control: verify does not see the swapped hash")
	}
	login(pw, "6.6.6.6;id="+adminID+";pw="+store.SecretPrint(opHash), "203.0.113.9")
	if problems() == 0 {
		t.Error("a spoofed X-Forwarded-For line made the swapped password pass audit verify")
	}
}

// TestSecureCookiesBehindProxy: behind a TLS proxy (BehindProxy, the request said https
// by X-Forwarded-Proto) the console's cookies were sent without Secure unless
// --secure-cookies was also given. Over plain http they stay without it.
func TestSecureCookiesBehindProxy(t *testing.T) {
	c := newCity(t, storetest.Open(t, "sqlite:"+filepath.Join(t.TempDir(), "s.db")))
	srv, _ := proxied(t, c)
	for _, proto := range []string{"https", "http", ""} {
		req, _ := http.NewRequest("GET", srv.URL+"/login", nil)
		if proto != "" {
			req.Header.Set("X-Forwarded-Proto", proto)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if len(res.Cookies()) == 0 {
			t.Fatalf("X-Forwarded-Proto %q: no cookie set", proto)
		}
		for _, ck := range res.Cookies() {
			if ck.Secure != (proto == "https") {
				t.Errorf("cookie %s behind the proxy, X-Forwarded-Proto %q: Secure %v", ck.Name, proto, ck.Secure)
			}
		}
	}
}

// TestNoticeLinkMasked: a reminder's sign-in link signs the pensioner in; the person page
// shows the notice's text without its token (notices queued before the links were made at
// sending), and the placeholder of one made at sending as the same mark.
func TestNoticeLinkMasked(t *testing.T) {
	c := newCity(t, storetest.Open(t, "sqlite:"+filepath.Join(t.TempDir(), "n.db")))
	ctx := context.Background()
	zp, _ := c.db.PersonByID(ctx, zhang)
	tx, err := c.db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const token = "qmoip35qmlvgyjl4"
	if _, err := tx.EnqueueNotices([]store.Notice{{PID: zp.PID, PersonID: zhang, Phone: "13800000001", Kind: "warning", Deadline: today + 30,
		Template: "warning", Text: "张三您好：请于2024年6月9日前认证 https://rz.example.gov.cn/c/" + token + " 回复TD退订", Created: today},
		{PID: zp.PID, PersonID: zhang, Phone: "13800000001", Kind: "pending", Deadline: today + 30,
			Template: "pending", Text: "张三您好：已到期 {link}人脸识别认证", Created: today}}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	op := c.client(t)
	op.login("operator")
	if _, body := op.get(fmt.Sprintf("/person/%d", zp.PID)); strings.Contains(body, token) || !strings.Contains(body, "https://rz.example.gov.cn/c/…") {
		t.Error("the person page shows the sign-in link's token, or not the notice")
	} else if strings.Contains(body, "{link}") || !strings.Contains(body, "已到期 /c/…人脸") {
		t.Error("the person page shows the link's placeholder as it is stored")
	}
}

// TestViewsLogged: opening a person's page, or searching for one, leaves a log line naming
// the account and the people's numbers, never an ID number, name or phone.
func TestViewsLogged(t *testing.T) {
	base := newCity(t, storetest.Open(t, "sqlite:"+filepath.Join(t.TempDir(), "v.db")))
	var buf syncBuf
	clock := func() time.Time { return time.Date(2024, 5, 10, 9, 0, 0, 0, time.UTC) }
	a := auth.New(base.db, auth.Options{Now: clock, Hash: auth.HashParams{Time: 1, Memory: 64, Threads: 1}})
	h, err := web.New(web.Options{DB: base.db, Auth: a, Ingest: web.FromService(base.svc), Now: clock,
		Today: func() sc.Date { return today }, Log: slog.New(slog.NewJSONHandler(&buf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	c := &city{db: base.db, svc: base.svc, srv: srv}
	zp, _ := base.db.PersonByID(context.Background(), zhang)
	op := c.client(t)
	op.login("auditor")
	if st, _ := op.get(fmt.Sprintf("/person/%d", zp.PID)); st != http.StatusOK {
		t.Fatal(st)
	}
	for _, q := range []string{zhang, "张三"} {
		if st, body := op.get("/search?q=" + url.QueryEscape(q)); st != http.StatusOK || !strings.Contains(body, fmt.Sprintf("/person/%d", zp.PID)) {
			t.Fatalf("search %s: %d", q, st)
		}
	}
	// Lists of people: which list, its region and page, how many rows.
	for _, path := range []string{"/work/suspended", "/held"} {
		if st, _ := op.get(path); st != http.StatusOK {
			t.Fatalf("%s: %d", path, st)
		}
	}
	log := buf.String()
	if !regexp.MustCompile(`"msg":"console list view","user":"auditor","list":"worklist:suspended","region":"all","rows":\d+,"page":1`).MatchString(log) ||
		!regexp.MustCompile(`"msg":"console list view","user":"auditor","list":"held","region":"all","rows":\d+`).MatchString(log) {
		t.Errorf("no list view lines: %s", log)
	}
	if !strings.Contains(log, `"msg":"console view","user":"auditor","pid":`+fmt.Sprint(zp.PID)) {
		t.Fatalf("no view line: %s", log)
	}
	for _, by := range []string{"id", "name"} {
		if !strings.Contains(log, `"msg":"console search","user":"auditor","by":"`+by+`","found":1,"pids":[`+fmt.Sprint(zp.PID)+`]`) {
			t.Errorf("no search line by %s: %s", by, log)
		}
	}
	for _, secret := range []string{zhang, "张三", "13800000001"} {
		if strings.Contains(log, secret) {
			t.Errorf("the log holds %q", secret)
		}
	}
}

// syncBuf is a buffer the server's goroutines may write to.
type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestScopedAdmin: an administrator with a region manages the accounts inside it and no
// other: it cannot make an account that sees more than it does, nor reach one outside
// (the city's operator), nor make API keys (a key reaches everyone).
func TestScopedAdmin(t *testing.T) {
	c := newCity(t, storetest.Open(t, "sqlite:"+filepath.Join(t.TempDir(), "t.db")))
	ad := c.client(t)
	ad.login("admin")
	ad.get("/admin/users")
	if st, _, body := ad.post("/admin/users", url.Values{"csrf": {ad.csrf}, "op": {"create"}, "name": {"dadmin"}, "password": {pw},
		"role": {"admin"}, "region": {"371002"}}); st != http.StatusOK || !strings.Contains(body, `class="ok"`) {
		t.Fatalf("a district's administrator: %d", st)
	}
	da := c.client(t)
	da.firstLogin("dadmin")
	st, body := da.get("/admin/users")
	if st != http.StatusOK || !strings.Contains(body, ">v1<") || strings.Contains(body, ">operator<") || strings.Contains(body, ">admin<") {
		t.Fatalf("the district administrator's accounts (%d) list ones outside it, or not its own:\n%s", st, body)
	}
	if strings.Contains(body, `href="/admin/keys"`) {
		t.Error("the district administrator is offered the keys page")
	}
	for _, c2 := range [][2]string{{"admin", ""}, {"operator", "37"}, {"district", "371082"}, {"village", "371082001001"}, {"admin", "371002"}, {"admin", "371002001"}} {
		if st, _, _ := da.post("/admin/users", url.Values{"csrf": {da.csrf}, "op": {"create"}, "name": {"x" + c2[1]}, "password": {pw},
			"role": {c2[0]}, "region": {c2[1]}}); st != http.StatusBadRequest {
			t.Errorf("a %s account for region %q made by the 371002 administrator: %d", c2[0], c2[1], st)
		}
	}
	// Refused in the administrator's language (Chinese by default), with the refusal's figures.
	if st, _, body := da.post("/admin/users", url.Values{"csrf": {da.csrf}, "op": {"create"}, "name": {"v8"}, "password": {"short"},
		"role": {"village"}, "region": {"371002001009"}}); st != http.StatusBadRequest || !strings.Contains(body, "密码至少需要 10 个字符") {
		t.Errorf("a short password: %d, not refused in Chinese", st)
	}
	if st, _, body := da.post("/admin/users", url.Values{"csrf": {da.csrf}, "op": {"create"}, "name": {"v9"}, "password": {pw},
		"role": {"village"}, "region": {"371002001009"}}); st != http.StatusOK || !strings.Contains(body, `class="ok"`) {
		t.Errorf("a village account inside the district: %d", st)
	}
	var opID int64
	if err := c.db.SQL().QueryRow(`SELECT id FROM users WHERE name = 'operator'`).Scan(&opID); err != nil {
		t.Fatal(err)
	}
	// Another role and region: a village assistant moved to another village of the
	// district (their sessions end, audited); not to a role or region outside it, not one's
	// own.
	var v9 int64
	if err := c.db.SQL().QueryRow(`SELECT id FROM users WHERE name = 'v9'`).Scan(&v9); err != nil {
		t.Fatal(err)
	}
	roleOf := func(id int64) (role, region string) {
		c.db.SQL().QueryRow(c.db.Rebind(`SELECT role, region FROM users WHERE id = ?`), id).Scan(&role, &region)
		return role, region
	}
	for _, c2 := range [][2]string{{"admin", "371002"}, {"village", "371082001001"}, {"operator", ""}} {
		if st, _, _ := da.post("/admin/users", url.Values{"csrf": {da.csrf}, "op": {"role"}, "id": {strconv.FormatInt(v9, 10)},
			"role": {c2[0]}, "region": {c2[1]}}); st != http.StatusBadRequest {
			t.Errorf("v9 made %s of %q by the district administrator: %d", c2[0], c2[1], st)
		}
	}
	if st, _, body := da.post("/admin/users", url.Values{"csrf": {da.csrf}, "op": {"role"}, "id": {strconv.FormatInt(v9, 10)},
		"role": {"village"}, "region": {"371002001002"}}); st != http.StatusOK || !strings.Contains(body, `class="ok"`) {
		t.Errorf("v9 moved to another village: %d", st)
	}
	if role, region := roleOf(v9); role != "village" || region != "371002001002" {
		t.Errorf("v9 is %s of %s", role, region)
	}
	var daID int64
	c.db.SQL().QueryRow(`SELECT id FROM users WHERE name = 'dadmin'`).Scan(&daID)
	if st, _, body := da.post("/admin/users", url.Values{"csrf": {da.csrf}, "op": {"role"}, "id": {strconv.FormatInt(daID, 10)},
		"role": {"admin"}, "region": {"37"}}); st != http.StatusBadRequest || !strings.Contains(body, "另一位管理员") {
		t.Errorf("the district administrator's own role: %d", st)
	}
	if rows, err := c.db.Trail(context.Background(), store.TrailQuery{Kind: "user", Actor: "dadmin", From: sc.NoDate, To: sc.NoDate}); err != nil ||
		!slices.ContainsFunc(rows, func(r store.AuditRow) bool {
			return r.Action == "role" && strings.Contains(r.Detail, "user=v9;") && strings.Contains(r.Detail, ";role=village;region=371002001002;")
		}) {
		t.Errorf("the role's change is not audited: %+v %v", rows, err)
	}
	for _, op := range []string{"password", "disable", "revoke", "unlock", "role"} {
		if st, _, _ := da.post("/admin/users", url.Values{"csrf": {da.csrf}, "op": {op}, "id": {strconv.FormatInt(opID, 10)},
			"password": {"an attacker's long password"}, "role": {"village"}, "region": {"371002001001"}}); st != http.StatusNotFound {
			t.Errorf("%s on the city's operator by the district administrator: %d", op, st)
		}
	}
	c.client(t).login("operator") // the password is unchanged, the account enabled
	// Another administrator of the same district is not this one's to take over.
	ad.post("/admin/users", url.Values{"csrf": {ad.csrf}, "op": {"create"}, "name": {"dadmin2"}, "password": {pw}, "role": {"admin"}, "region": {"371002"}})
	var peer int64
	if err := c.db.SQL().QueryRow(`SELECT id FROM users WHERE name = 'dadmin2'`).Scan(&peer); err != nil {
		t.Fatal(err)
	}
	if st, _, _ := da.post("/admin/users", url.Values{"csrf": {da.csrf}, "op": {"password"}, "id": {strconv.FormatInt(peer, 10)},
		"password": {"an attacker's long password"}}); st != http.StatusNotFound {
		t.Errorf("a peer administrator's password set by the district administrator: %d", st)
	}
	if st, _ := da.get("/admin/keys"); st != http.StatusForbidden {
		t.Errorf("the keys page for the district administrator: %d", st)
	}
	if st, _, _ := da.post("/admin/keys", url.Values{"csrf": {da.csrf}, "op": {"create"}, "source": {"PSB"}, "name": {"k"}}); st != http.StatusForbidden {
		t.Errorf("a key made by the district administrator: %d", st)
	}
}

// TestRefusalsAudited: refused staff actions left nothing in the audit trail: a
// delegated administrator's attempt to make an administrator of the whole installation,
// to reach an account outside its region (answered "no such account"), to make an API key,
// and the refused disabling of the last administrator of the whole installation. Now each
// refusal is a row of its own (action "refused"), without the password sent, and the trail
// still verifies.
func TestRefusalsAudited(t *testing.T) {
	c := newCity(t, storetest.Open(t, "sqlite:"+filepath.Join(t.TempDir(), "r.db")))
	ctx := context.Background()
	ad := c.client(t)
	ad.login("admin")
	ad.get("/admin/users")
	ad.post("/admin/users", url.Values{"csrf": {ad.csrf}, "op": {"create"}, "name": {"dadmin"}, "password": {pw}, "role": {"admin"}, "region": {"371002"}})
	da := c.client(t)
	da.firstLogin("dadmin")
	da.get("/admin/users")
	const secret = "an attacker's long password"
	if st, _, _ := da.post("/admin/users", url.Values{"csrf": {da.csrf}, "op": {"create"}, "name": {"rogue;id=1"}, "password": {secret}, "role": {"admin"}, "region": {""}}); st != http.StatusBadRequest {
		t.Fatalf("refused: %d", st)
	}
	var adminID, opID string
	c.db.SQL().QueryRow(`SELECT id FROM users WHERE name = 'admin'`).Scan(&adminID)
	c.db.SQL().QueryRow(`SELECT id FROM users WHERE name = 'operator'`).Scan(&opID)
	if st, _, _ := da.post("/admin/users", url.Values{"csrf": {da.csrf}, "op": {"password"}, "id": {opID}, "password": {secret}}); st != http.StatusNotFound {
		t.Fatalf("the city's operator's password set by the district administrator: %d", st)
	}
	if st, _, _ := da.post("/admin/keys", url.Values{"csrf": {da.csrf}, "op": {"create"}, "source": {"PSB"}, "name": {"k"}}); st != http.StatusForbidden {
		t.Fatalf("a key made by the district administrator: %d", st)
	}
	if st, _, _ := ad.post("/admin/users", url.Values{"csrf": {ad.csrf}, "op": {"disable"}, "id": {adminID}}); st == http.StatusOK {
		t.Fatal("the last administrator disabled")
	}
	rows, err := c.db.Trail(ctx, store.TrailQuery{Action: "refused", From: sc.NoDate, To: sc.NoDate})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []struct{ kind, actor, detail string }{
		{"user", "dadmin", "op=create;user=rogue,id:1;role=admin;region=;reason=not_managed"},
		{"user", "dadmin", "op=password;user=operator;id=" + opID + ";reason=not_managed"},
		{"api_key", "dadmin", "op=create;reason=not_city_admin"},
		{"user", "admin", "op=disable;user=admin;id=" + adminID + ";reason=last_admin"},
	} {
		if !slices.ContainsFunc(rows, func(r store.AuditRow) bool {
			return r.Kind == want.kind && r.Actor == want.actor && r.Detail == want.detail
		}) {
			t.Errorf("no %s row by %s %q in %+v", want.kind, want.actor, want.detail, rows)
		}
	}
	for _, r := range rows {
		if strings.Contains(r.Detail, "attacker") {
			t.Errorf("the password sent is in the trail: %q", r.Detail)
		}
	}
	if _, err := c.db.VerifyAudit(ctx, func(p store.AuditProblem) { t.Errorf("audit: %+v", p) }); err != nil {
		t.Fatal(err)
	}
	// The console's trail names the action; a district's auditor reads its administrator's.
	if _, page := ad.get("/audit?action=refused"); !strings.Contains(page, "已拒绝") {
		t.Error("the trail page does not name the refusals")
	}
	if scoped, err := c.db.Trail(ctx, store.TrailQuery{Action: "refused", Region: "371002", From: sc.NoDate, To: sc.NoDate}); err != nil || len(scoped) != 3 {
		t.Errorf("a district auditor reads %d refusals (%v), want dadmin's 3", len(scoped), err)
	}
}

// visitNotFound has the village assistant v1 record that 张三 was not found at home, on
// 2024-05-08: a staff action in the audit trail, about a person of 371002001001.
func visitNotFound(t *testing.T, c *city) {
	t.Helper()
	zp, _ := c.db.PersonByID(context.Background(), zhang)
	v1 := c.client(t)
	v1.login("v1")
	v1.get(fmt.Sprintf("/person/%d", zp.PID))
	if st, _, body := v1.post(fmt.Sprintf("/person/%d/visit", zp.PID), url.Values{"csrf": {v1.csrf}, "outcome": {"notfound"}, "date": {"2024-05-08"}}); st != http.StatusSeeOther {
		t.Fatalf("visit: %d %s", st, body)
	}
}

// TestTrailScoped: an auditor with a region reads the audit rows about its own region's
// people (page and CSV), not another region's, and of the rows about no person those of
// its region's accounts.
func TestTrailScoped(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) { testTrailScoped(t, newCity(t, dsn.Open(t))) })
	}
}

func testTrailScoped(t *testing.T, c *city) {
	ctx := context.Background()
	zp, _ := c.db.PersonByID(ctx, zhang)
	visitNotFound(t, c)
	ad := c.client(t)
	ad.login("admin")
	ad.get("/admin/users")
	for _, a := range [][2]string{{"aud371002", "371002"}, {"aud371082", "371082"}} {
		if st, _, _ := ad.post("/admin/users", url.Values{"csrf": {ad.csrf}, "op": {"create"}, "name": {a[0]}, "password": {pw},
			"role": {"auditor"}, "region": {a[1]}}); st != http.StatusOK {
			t.Fatalf("auditor %s: %d", a[0], st)
		}
	}
	visit := fmt.Sprintf(`href="/person/%d"`, zp.PID)
	clients := map[string]*client{}
	for _, c2 := range []struct {
		name       string
		sees, ours bool
	}{{"auditor", true, false}, {"aud371002", true, true}, {"aud371082", false, true}} {
		au := c.client(t)
		au.firstLogin(c2.name)
		clients[c2.name] = au
		st, body := au.get("/audit?kind=visit")
		if st != http.StatusOK || strings.Contains(body, visit) != c2.sees {
			t.Errorf("%s: the visit to 张三 in the trail: %v, want %v", c2.name, strings.Contains(body, visit), c2.sees)
		}
		if _, csv := au.get("/audit?kind=visit&format=csv"); strings.Contains(csv, "outcome=notfound") != c2.sees {
			t.Errorf("%s: the visit in the CSV: %v, want %v", c2.name, !c2.sees, c2.sees)
		}
		// The .xlsx keeps the scope: the visit, its ID masked for an auditor, or nothing.
		if _, rows := trailXLSX(t, au, "/audit?kind=visit&format=xlsx"); (len(rows) == 2 && rows[1][6] == idcard.Mask(zhang) &&
			strings.Contains(rows[1][8], "outcome=notfound")) != c2.sees || (!c2.sees && len(rows) != 1) {
			t.Errorf("%s: the visit in the .xlsx: %q, want it %v", c2.name, rows, c2.sees)
		}
		if _, rows := trailXLSX(t, au, "/audit?kind=login&format=xlsx"); slices.ContainsFunc(rows, func(r []string) bool { return r[4] == "admin" }) == c2.ours {
			t.Errorf("%s: the administrator's login in the .xlsx: %v", c2.name, !c2.ours)
		}
		// Logins concern no person: a region's auditor reads those of the region's
		// accounts (the village assistant v1, of 371002001001), not the city's.
		_, body = au.get("/audit?kind=login")
		if strings.Contains(body, ">admin<") == c2.ours {
			t.Errorf("%s: the administrator's login in the trail: %v", c2.name, !c2.ours)
		}
		if strings.Contains(body, ">v1<") != c2.sees {
			t.Errorf("%s: the village assistant's login in the trail: %v, want %v", c2.name, !c2.sees, c2.sees)
		}
	}
	// 张三 moves to 371082 and v1's account with him: each row stays in the sight of the
	// region it was written in (the visit, v1's sign-in), and the person's rows come into
	// the new region's, the person being theirs now; v1's sign-in before the move does
	// not (it was not done there).
	tx, err := c.db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.SetRegion(zp.PID, "371082001001"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	_, body := ad.get("/admin/users")
	if st, _, _ := ad.post("/admin/users", url.Values{"csrf": {ad.csrf}, "op": {"role"}, "id": {idOfAccount(t, body, "v1")},
		"role": {"village"}, "region": {"371082001001"}}); st != http.StatusOK {
		t.Fatalf("v1 moved: %d", st)
	}
	for _, c2 := range []struct {
		name               string
		visit, login, move bool
	}{{"aud371002", true, true, false}, {"aud371082", true, false, true}} {
		au := clients[c2.name]
		if _, body := au.get("/audit?kind=visit"); strings.Contains(body, visit) != c2.visit {
			t.Errorf("%s after the move: the visit in the trail: %v, want %v", c2.name, !c2.visit, c2.visit)
		}
		if _, csv := au.get("/audit?kind=visit&format=csv"); strings.Contains(csv, "outcome=notfound") != c2.visit {
			t.Errorf("%s after the move: the visit in the CSV: %v, want %v", c2.name, !c2.visit, c2.visit)
		}
		_, body := au.get("/audit?kind=login")
		if strings.Contains(body, ">v1<") != c2.login {
			t.Errorf("%s after the move: v1's sign-in before it in the trail: %v, want %v", c2.name, !c2.login, c2.login)
		}
		// The account's move is a row about no person by the administrator (the city's).
		if _, body := au.get("/audit?kind=user"); strings.Contains(body, "371082001001") {
			t.Errorf("%s: the city administrator's account change is in a region's trail", c2.name)
		}
	}
}
