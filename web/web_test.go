package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/auth"
	"github.com/silentcert/silentcert/engine"
	"github.com/silentcert/silentcert/service"
	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
	"github.com/silentcert/silentcert/web"
)

// The golden scenario's people: 张三 lives in 371002001001, 李秀英 in 371002001002.
const (
	zhang = "371002194003150019"
	li    = "371002193802100021"
	pw    = "correct horse battery"
)

var today = sc.MustDate("2024-05-10")

// city is a console over a real service: the golden roster, days run up to today, the
// summaries built, and one account per role.
type city struct {
	db  *store.DB
	svc *service.Service
	srv *httptest.Server
}

func newCity(t testing.TB, db *store.DB) *city { return newCityWith(t, db, nil) }

// newCityWith is newCity with an evidence model in the service (nil: none), so that
// records can raise RISK flags.
func newCityWith(t testing.TB, db *store.DB, model engine.Model) *city {
	return newCityOpt(t, db, service.Options{Model: model})
}

// newCityOpt is newCity with the service's options (its clock is the city's).
func newCityOpt(t testing.TB, db *store.DB, opt service.Options) *city {
	t.Helper()
	return newCityIngest(t, db, opt, nil)
}

// newCityIngest is newCityOpt with the console's submissions handed to wrap's ingester
// (nil: the service's), which a test puts between the console and the service.
func newCityIngest(t testing.TB, db *store.DB, opt service.Options, wrap func(*service.Service, web.Ingester) web.Ingester) *city {
	t.Helper()
	ctx := context.Background()
	clock := func() time.Time { return time.Date(2024, 5, 10, 9, 0, 0, 0, time.UTC) }
	opt.Now = clock
	s, err := service.Open(ctx, db, opt)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ImportRoster(ctx, "../backtest/testdata/scenario/roster.csv", "", "test"); err != nil {
		t.Fatal(err)
	}
	for d := sc.MustDate("2024-03-01"); d <= today; d++ {
		if err := s.RunDay(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	tx, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.RebuildSummary(today); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	a := auth.New(db, auth.Options{Now: clock, Hash: auth.HashParams{Time: 1, Memory: 64, Threads: 1}})
	for _, u := range []struct {
		name   string
		role   auth.Role
		region string
	}{
		{"admin", auth.RoleAdmin, ""}, {"operator", auth.RoleOperator, ""}, {"auditor", auth.RoleAuditor, ""},
		{"district", auth.RoleDistrict, "371002"}, {"town", auth.RoleTown, "371002001"},
		{"v1", auth.RoleVillage, "371002001001"}, {"v2", auth.RoleVillage, "371002001002"},
	} {
		if _, err := a.EnsureUser(ctx, u.name, pw, u.role, u.region); err != nil {
			t.Fatal(err)
		}
	}
	in := web.FromService(s)
	if wrap != nil {
		in = wrap(s, in)
	}
	h, err := web.New(web.Options{DB: db, Auth: a, Ingest: in, Recoveries: s, Now: clock, Today: func() sc.Date { return today }})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &city{db: db, svc: s, srv: srv}
}

// client is one browser: a cookie jar, no automatic redirects.
type client struct {
	t    testing.TB
	c    *http.Client
	base string
	csrf string
}

func (c *city) client(t testing.TB) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: c.srv.URL, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (cl *client) get(path string) (int, string) {
	cl.t.Helper()
	res, err := cl.c.Get(cl.base + path)
	if err != nil {
		cl.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if m := csrfRE.FindSubmatch(b); m != nil {
		cl.csrf = string(m[1])
	}
	return res.StatusCode, string(b)
}

func (cl *client) post(path string, form url.Values) (int, string, string) {
	cl.t.Helper()
	res, err := cl.c.PostForm(cl.base+path, form)
	if err != nil {
		cl.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header.Get("Location"), string(b)
}

func (cl *client) login(name string) {
	cl.t.Helper()
	cl.get("/login")
	st, loc, body := cl.post("/login", url.Values{"csrf": {cl.csrf}, "name": {name}, "password": {pw}})
	if st != http.StatusSeeOther {
		cl.t.Fatalf("login %s: %d %s", name, st, body)
	}
	cl.get(loc)
}

// ownPW is the password an account made in the console (with pw, temporary) chooses at
// its first sign-in (firstLogin).
const ownPW = "my own chosen words"

// firstLogin signs in name and, when its password is a temporary one an administrator
// set (the console sends it to /account), chooses ownPW as its own.
func (cl *client) firstLogin(name string) {
	cl.t.Helper()
	cl.get("/login")
	st, loc, body := cl.post("/login", url.Values{"csrf": {cl.csrf}, "name": {name}, "password": {pw}})
	if st != http.StatusSeeOther {
		cl.t.Fatalf("login %s: %d %s", name, st, body)
	}
	res, err := cl.c.Get(cl.base + loc)
	if err != nil {
		cl.t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/account" {
		cl.get(loc)
		return // not sent to choose a password
	}
	if _, body := cl.get("/account"); !strings.Contains(body, "临时密码") {
		cl.t.Fatalf("%s sent to /account without saying why:\n%s", name, body)
	}
	if st, loc, body := cl.post("/account", url.Values{"csrf": {cl.csrf}, "current": {pw}, "new": {ownPW}, "repeat": {ownPW}}); st != http.StatusSeeOther || loc != "/account?changed=1" {
		cl.t.Fatalf("%s choosing a password: %d %s %s", name, st, loc, body)
	}
}

func TestConsole(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) { testConsole(t, newCity(t, dsn.Open(t))) })
	}
}

func testConsole(t *testing.T, c *city) {
	ctx := context.Background()
	anon := c.client(t)
	if st, _ := anon.get("/"); st != http.StatusSeeOther {
		t.Fatalf("anonymous dashboard: %d", st)
	}
	zp, _ := c.db.PersonByID(ctx, zhang)
	lp, _ := c.db.PersonByID(ctx, li)
	zURL, lURL := fmt.Sprintf("/person/%d", zp.PID), fmt.Sprintf("/person/%d", lp.PID)
	op := c.client(t)
	op.login("operator")
	for _, path := range []string{"/", "/?region=3710", "/?region=371002", "/?region=371002001", "/?region=371002001001",
		"/work/warning", "/work/pending", "/work/suspended", "/work/conflict", "/work/unassigned", "/work/warning?months=1&from=2024-01&to=2025-12",
		"/work/suspended?order=health", zURL, "/search?q=" + url.QueryEscape("张三"), "/batches", "/village?region=371002001001"} {
		st, body := op.get(path)
		if st != http.StatusOK {
			t.Fatalf("%s: %d\n%s", path, st, body)
		}
		if path == "/" && (!strings.Contains(body, "<svg") || !strings.Contains(body, "威海市")) {
			t.Fatalf("dashboard without charts or districts:\n%s", body)
		}
		if strings.HasPrefix(path, "/person/") && !strings.Contains(body, zhang) {
			t.Fatalf("an operator sees the full ID number")
		}
		// Entitlements by name (code beside), the method in words.
		if strings.HasPrefix(path, "/person/") && (!strings.Contains(body, `企业职工基本养老金 <span class="code">EMP_PENSION</span>`) ||
			!strings.Contains(body, `高龄津贴 <span class="code">ELDERLY_ALLOWANCE</span>`) || !regexp.MustCompile(`<dd>(强数据 \(STRONG\)|弱数据组合 \(WEAK\)|迁移 \(MIGRATED\)|—)</dd>`).MatchString(body)) {
			t.Fatalf("the person page names entitlements and the method by code:\n%s", body)
		}
	}
	// The timeline by kind: all by default with the counts, one kind on asking, an unknown
	// kind refused (records named as the catalogue names them: the risk test).
	_, all := op.get(zURL)
	if !strings.Contains(all, `aria-current="page">全部 (`) || !strings.Contains(all, `class="ev ev-decision"`) || !strings.Contains(all, `class="ev ev-payment"`) {
		t.Fatalf("the timeline's filter or record names:\n%s", all)
	}
	if st, body := op.get(zURL + "?kind=decision"); st != http.StatusOK || !strings.Contains(body, `class="ev ev-decision"`) ||
		strings.Contains(body, `class="ev ev-payment"`) || !strings.Contains(body, `aria-current="page">决定 (`) {
		t.Fatalf("the timeline's decisions alone: %d\n%s", st, body)
	}
	if _, body := op.get("/work/conflict"); !strings.Contains(body, "第 1 / 1 页") {
		t.Errorf("an empty list's pages: %s", regexp.MustCompile(`第 \d+ / \d+ 页`).FindString(body))
	}
	// A district's staff: the crumbs start at their district, once.
	ds := c.client(t)
	ds.login("district")
	if _, body := ds.get("/?region=371002001001"); !regexp.MustCompile(`<li><a href="/">环翠区</a></li><li><a href="/\?region=371002001">[^<]+</a></li><li><a href="/\?region=371002001001">`).MatchString(strings.ReplaceAll(body, "\n    ", "")) {
		t.Errorf("a district's crumbs:\n%s", regexp.MustCompile(`(?s)<nav class="crumbs".*?</nav>`).FindString(body))
	}
	if st, _ := op.get(zURL + "?kind=bogus"); st != http.StatusBadRequest {
		t.Fatalf("an unknown kind: %d", st)
	}
	// Frailest first: the choice is kept in the pages' and exports' links; an unknown order
	// is refused.
	if _, body := op.get("/work/suspended?order=health"); !strings.Contains(body, `id="f-order" name="order" value="health" checked`) ||
		!strings.Contains(body, "/work/suspended/export?format=csv&amp;order=health") {
		t.Fatalf("frailest first not kept:\n%s", body)
	}
	if st, _ := op.get("/work/suspended?order=name"); st != http.StatusBadRequest {
		t.Fatalf("an unknown order: %d", st)
	}
	// Languages: English by the switch, kept with the account; back to Chinese.
	if st, loc, _ := op.post("/lang", url.Values{"csrf": {op.csrf}, "lang": {"en"}, "back": {"//evil.example/"}}); st != http.StatusSeeOther || loc != "/" {
		t.Fatalf("language switch: %d %q", st, loc)
	}
	if _, body := op.get("/"); !strings.Contains(body, "Certification rate") || !strings.Contains(body, `lang="en"`) {
		t.Fatalf("no English after the switch")
	}
	op.post("/lang", url.Values{"csrf": {op.csrf}, "lang": {"zh-CN"}, "back": {"/"}})
	// An export: a CSV with a header and the people of the list, audited.
	st, body := op.get("/work/suspended/export?format=csv")
	if st != http.StatusOK || !strings.HasPrefix(body, "\ufeff身份证号,") || strings.Count(body, "\n") < 2 || !strings.Contains(body, ",健康指数\r\n") && !strings.Contains(body, ",健康指数\n") {
		t.Fatalf("csv export: %d %q", st, body)
	}
	var exports int
	c.db.SQL().QueryRow(`SELECT count(*) FROM audit WHERE kind = 'export' AND actor = 'operator'`).Scan(&exports)
	if exports != 1 {
		t.Fatalf("%d export audit rows", exports)
	}
	// The village assistant: their list, a visit recorded, the person certified at once.
	v1 := c.client(t)
	v1.login("v1")
	st, body = v1.get("/village")
	if st != http.StatusOK || !strings.Contains(body, "张三") || strings.Contains(body, "李秀英") {
		t.Fatalf("village list: %d\n%s", st, body)
	}
	p, _ := c.db.PersonByID(ctx, zhang)
	if p.Status == sc.StatusCertified {
		t.Fatalf("张三 is already certified: the test proves nothing")
	}
	if _, body := v1.get(zURL); strings.Contains(body, zhang) {
		t.Fatalf("a village assistant sees the full ID number")
	}
	// Found no one at home: the card stays, saying so, so that the next visit is not made
	// as if no one had been.
	if st, _, body := v1.post(zURL+"/visit", url.Values{"csrf": {v1.csrf}, "outcome": {"notfound"}, "date": {"2024-05-08"}, "back": {"village"}}); st != http.StatusSeeOther {
		t.Fatalf("visit, not found: %d %s", st, body)
	}
	if _, body := v1.get("/village"); !strings.Contains(body, "上次走访 2024-05-08：未找到本人") {
		t.Fatalf("the village list does not show the visit that found no one:\n%s", body)
	}
	st, loc, body := v1.post(zURL+"/visit", url.Values{"csrf": {v1.csrf}, "outcome": {"alive"}, "date": {"2024-05-09"}, "back": {"village"}})
	if st != http.StatusSeeOther || !strings.HasPrefix(loc, "/village") {
		t.Fatalf("visit: %d %s %s", st, loc, body)
	}
	p, _ = c.db.PersonByID(ctx, zhang)
	if p.Status != sc.StatusCertified || p.Method != sc.MethodCommunity {
		t.Fatalf("after the visit: %v %v", p.Status, p.Method)
	}
	if _, body := v1.get(loc); !strings.Contains(body, "已认证") {
		t.Fatalf("the village list does not show the new status")
	}
	audit, _ := c.db.PersonAudit(ctx, p.PID)
	found := false
	for _, a := range audit {
		found = found || (a.Kind == "visit" && a.Actor == "v1")
	}
	if !found {
		t.Fatalf("the visit is not audited: %+v", audit)
	}
	// The visit's batch, with its report, on the batches page.
	bs, _ := c.db.Batches(ctx, 1)
	if st, body := op.get(fmt.Sprintf("/batches/%d", bs[0].ID)); st != http.StatusOK || !strings.Contains(body, "console") || !strings.Contains(body, "v1") {
		t.Fatalf("batch page: %d", st)
	}
	// A batch of many quarantined rows shows the first 500 and says how many in all (a
	// 340,000-row refusal made a 60 MB page).
	for i := range 501 {
		if _, err := c.db.SQL().ExecContext(ctx, c.db.Rebind(`INSERT INTO quarantine (batch, seq, file, line, field, reason, message) VALUES (?, ?, 'bad.csv', ?, 'event_date', 'bad_date', 'x')`),
			bs[0].ID, 1000+i, i+2); err != nil {
			t.Fatal(err)
		}
	}
	if _, body := op.get(fmt.Sprintf("/batches/%d", bs[0].ID)); strings.Count(body, "<td>bad.csv</td>") != 500 || !strings.Contains(body, "仅显示前 500 行，共 501 行") {
		t.Errorf("the batch page of 501 quarantined rows shows %d, or not how many in all", strings.Count(body, "<td>bad.csv</td>"))
	}
	// The list: the origin and status in words, what went in and what was held back.
	if _, body := op.get("/batches"); !regexp.MustCompile(fmt.Sprintf(`<a href="/batches/%d">%d</a></th><td>[0-9-]+</td><td>控制台</td><td>[A-Z]*</td><td class="code">[^<]*</td><td>v1</td><td>已入库</td><td class="n">1</td><td class="n">0</td>`, bs[0].ID, bs[0].ID)).MatchString(body) {
		t.Fatalf("the batches list:\n%s", body)
	}
	// Accounts and keys, by the administrator.
	ad := c.client(t)
	ad.login("admin")
	ad.get("/admin/users")
	if st, _, body := ad.post("/admin/users", url.Values{"csrf": {ad.csrf}, "op": {"create"}, "name": {"newtown"}, "password": {pw},
		"role": {"town"}, "region": {"371002001"}}); st != http.StatusOK || !strings.Contains(body, "newtown") {
		t.Fatalf("create user: %d", st)
	}
	if st, _, body := ad.post("/admin/users", url.Values{"csrf": {ad.csrf}, "op": {"create"}, "name": {"badvillage"}, "password": {pw},
		"role": {"village"}, "region": {"3710"}}); st != http.StatusBadRequest || strings.Contains(body, ">badvillage<") {
		t.Fatalf("a village account with a city's code: %d", st)
	}
	ad.get("/admin/keys")
	if st, _, body := ad.post("/admin/keys", url.Values{"csrf": {ad.csrf}, "op": {"create"}, "source": {"PSB"}, "name": {"nightly"}}); st != http.StatusOK || !strings.Contains(body, `id="secret"`) {
		t.Fatalf("create key: %d", st)
	}
	// A department the catalogue does not know, or a key without a name, is refused.
	for _, f := range []url.Values{{"source": {"NOPE"}, "name": {"x"}}, {"source": {"PSB"}, "name": {" "}}} {
		f.Set("csrf", ad.csrf)
		f.Set("op", "create")
		if st, _, body := ad.post("/admin/keys", f); st != http.StatusBadRequest || strings.Contains(body, `id="secret"`) {
			t.Errorf("a key for %v: %d", f, st)
		}
	}
	// A key limited to some of its source's types; a type of another source is refused.
	if st, _, body := ad.post("/admin/keys", url.Values{"csrf": {ad.csrf}, "op": {"create"}, "source": {"HRSS"}, "name": {"face app"},
		"types": {"HRSS.FACE, HEA.VACCINATION"}}); st != http.StatusBadRequest || !strings.Contains(body, "HEA.VACCINATION") || strings.Contains(body, `id="secret"`) {
		t.Fatalf("a key with another source's type: %d", st)
	}
	if st, _, body := ad.post("/admin/keys", url.Values{"csrf": {ad.csrf}, "op": {"create"}, "source": {"HRSS"}, "name": {"face app"},
		"types": {"HRSS.FACE，HRSS.COUNTER"}}); st != http.StatusOK || !strings.Contains(body, `id="secret"`) ||
		!strings.Contains(body, "<code>HRSS.COUNTER</code>, <code>HRSS.FACE</code>") {
		t.Fatalf("a limited key: %d", st)
	}
	if st, _ := op.get("/admin/keys"); st != http.StatusForbidden {
		t.Fatalf("an operator manages keys: %d", st)
	}
	// Another village's assistant is refused that person, by any URL.
	v2 := c.client(t)
	v2.login("v2")
	for path, want := range map[string]int{
		zURL:                                http.StatusNotFound,
		lURL:                                http.StatusOK,
		"/village?region=371002001001":      http.StatusForbidden,
		"/work/pending?region=371002001001": http.StatusForbidden,
		"/work/pending?region=3710":         http.StatusForbidden,
		"/?region=371002001":                http.StatusForbidden,
		"/work/pending/export?format=csv&region=37": http.StatusForbidden,
		"/batches":           http.StatusForbidden,
		"/admin/users":       http.StatusForbidden,
		"/search?q=" + zhang: http.StatusOK,
		"/work/pending?region=371002001002%27%20OR%20%271%27%3D%271": http.StatusForbidden,
	} {
		st, body := v2.get(path)
		if st != want {
			t.Errorf("v2 %s: %d, want %d", path, st, want)
		}
		if strings.HasPrefix(path, "/search") && strings.Contains(body, "张三") {
			t.Errorf("v2 finds 张三 by search")
		}
	}
	if st, _, _ := v2.post(zURL+"/visit", url.Values{"csrf": {v2.csrf}, "outcome": {"death"}}); st != http.StatusNotFound {
		t.Errorf("v2 records a visit in another village: %d", st)
	}
	// The auditor reads but never writes.
	au := c.client(t)
	au.login("auditor")
	if st, _, _ := au.post(lURL+"/visit", url.Values{"csrf": {au.csrf}, "outcome": {"alive"}}); st != http.StatusForbidden {
		t.Errorf("auditor writes: %d", st)
	}
	if _, body := au.get(lURL); strings.Contains(body, li) || strings.Contains(body, `action="/person/`) {
		t.Errorf("auditor sees the full ID or a form")
	}
	// The audit trail page: staff and system actions, newest first, no decisions, IDs
	// masked for the auditor; by kind; older by sequence number; for administrators and
	// auditors only.
	st, body = au.get("/audit")
	if st != http.StatusOK || !strings.Contains(body, `href="/audit"`) || !strings.Contains(body, "<td>上门走访</td><td>v1</td>") ||
		!strings.Contains(body, "<td>导出</td><td>operator</td>") || !strings.Contains(body, "<td>登录</td>") ||
		strings.Contains(body, "<td>认证决定</td>") || strings.Contains(body, zhang) || !strings.Contains(body, "3710**********0019") {
		t.Fatalf("the audit page: %d\n%s", st, body)
	}
	seqs := regexp.MustCompile(`<tr><td class="n">(\d+)</td>`).FindAllStringSubmatch(body, -1)
	for i := 1; i < len(seqs); i++ {
		a, _ := strconv.Atoi(seqs[i-1][1])
		b, _ := strconv.Atoi(seqs[i][1])
		if a <= b {
			t.Fatalf("the audit page is not newest first: %s then %s", seqs[i-1][1], seqs[i][1])
		}
	}
	if _, body := au.get("/audit?kind=export"); strings.Contains(body, "<td>上门走访</td>") || !strings.Contains(body, "<td>导出</td>") {
		t.Errorf("the audit page by kind shows other kinds")
	}
	// A batch's row leads to the batch's page, which the auditor may read.
	if _, body := au.get("/audit?kind=batch"); !regexp.MustCompile(`<td class="code"><a href="/batches/(\d+)">batch:\d+</a></td>`).MatchString(body) {
		t.Errorf("a batch's audit row does not link its batch:\n%s", regexp.MustCompile(`<td class="code">[^\n]*?</td>`).FindAllString(body, 3))
	}
	if _, body := au.get("/audit?before=" + seqs[0][1]); strings.Contains(body, `<tr><td class="n">`+seqs[0][1]+`</td>`) || !strings.Contains(body, `<tr><td class="n">`+seqs[1][1]+`</td>`) {
		t.Errorf("the audit page before %s", seqs[0][1])
	}
	for path, want := range map[string]int{"/audit?kind=decision": http.StatusBadRequest, "/audit?from=2024-13-01": http.StatusBadRequest, "/audit?before=x": http.StatusBadRequest,
		"/audit?kind=decision&from=2024-01-01&to=2024-02-01": http.StatusBadRequest, "/audit?kind=decision&from=2024-01-01&format=csv": http.StatusBadRequest} {
		if st, _ := au.get(path); st != want {
			t.Errorf("%s: %d, want %d", path, st, want)
		}
	}
	// Decisions to sample, a month at most: one action of them, in the page and the CSV.
	nAll, nSus := 0, 0
	for _, action := range []string{"", "SUSPENDED"} {
		st, body := au.get("/audit?kind=decision&from=2024-04-11&to=2024-05-10&action=" + action)
		n := strings.Count(body, `<tr><td class="n">`)
		if st != http.StatusOK || n == 0 || (action != "" && strings.Count(body, "<td>暂停发放</td>") != n) {
			t.Errorf("decisions %q: %d, %d rows", action, st, n)
		}
		if action == "" {
			nAll = n
		} else {
			nSus = n
		}
		if _, csv := au.get("/audit?kind=decision&from=2024-04-11&to=2024-05-10&format=csv&action=" + action); strings.Count(csv, "\n")-1 != n {
			t.Errorf("decisions %q in the CSV: %d lines, the page %d rows", action, strings.Count(csv, "\n")-1, n)
		}
	}
	if nSus >= nAll {
		t.Errorf("the action filter kept %d of %d decisions", nSus, nAll)
	}
	st, body = au.get("/audit?kind=visit&format=csv")
	if st != http.StatusOK || !strings.HasPrefix(body, "\ufeff序号,业务日期,") || !strings.Contains(body, ",上门走访,v1,") || strings.Contains(body, ",导出,") ||
		strings.Contains(body, zhang) {
		t.Fatalf("the audit export: %d\n%s", st, body)
	}
	if _, body := au.get("/audit?kind=export"); !strings.Contains(body, "<td>导出</td><td>auditor</td><td>审计记录</td>") {
		t.Errorf("the audit export is not itself audited")
	}
	if st, _ := op.get("/audit"); st != http.StatusForbidden {
		t.Errorf("an operator reads the audit page: %d", st)
	}
	if st, body := ad.get("/audit"); st != http.StatusOK || !strings.Contains(body, zhang) {
		t.Errorf("the administrator's audit page: %d (full ID numbers: %v)", st, strings.Contains(body, zhang))
	}
	// Each record says how it came: reported when, in which batch (linked for a city-wide
	// account), from which file and line.
	if _, err := c.svc.Ingest(ctx, service.Batch{Origin: "test", Actor: "test", Day: today, Files: []service.File{{Name: "r.csv",
		Body: strings.NewReader("record_id,source,type,person_id,event_date,reported_date\nV1,HEA,HEA.VACCINATION," + zhang + ",2024-05-02,2024-05-09\n")}}}); err != nil {
		t.Fatal(err)
	}
	_, all = op.get(zURL)
	m := regexp.MustCompile(`报送：报送日期 \d{4}-\d\d-\d\d；<a href="(/batches/\d+)">批次 \d+</a> <span class="code">[^<]+\.csv:\d+</span>`).FindStringSubmatch(all)
	if m == nil {
		t.Fatalf("a record's delivery is not shown:\n%s", regexp.MustCompile(`(?s)<li class="ev ev-record.*?</li>`).FindAllString(all, -1))
	}
	// The batch's page lists the records it stored, each to its person.
	if _, body := op.get(m[1]); !regexp.MustCompile(`<td class="code">[A-Z]+:[^<]+</td>`).MatchString(body) || !strings.Contains(body, fmt.Sprintf(`<a href="/person/%d">`, zp.PID)) {
		t.Errorf("the batch's page does not list its record:\n%s", regexp.MustCompile(`(?s)<table class="data" id="records">.*?</table>`).FindString(body))
	}
	dz := c.client(t)
	dz.login("district")
	if _, body := dz.get(zURL); !strings.Contains(body, "报送：") || strings.Contains(body, `href="/batches/`) {
		t.Errorf("a district's page links the city's batches, or shows no delivery")
	}
}
