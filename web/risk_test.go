package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/engine"
	"github.com/silentcert/silentcert/service"
	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
)

// riskModel is an evidence model that flags every spoofable trace (a bank transaction, a
// phone active) with the reasons the real models write, and certifies nothing: the engine
// writes its RISK rows through the service exactly as it writes a real model's.
type riskModel struct{ cat *sc.Catalogue }

func (m riskModel) Observe(r *sc.Recipient, s *engine.State, in *engine.Input, class sc.Class, d sc.Date) engine.Verdict {
	v := engine.Verdict{Ref: engine.NoRef, RiskRef: engine.NoRef, On: sc.NoDate}
	if class == sc.ClassWeak && m.cat.Type(in.Type).Spoofable {
		v.Risk, v.Score = true, 0.42
		v.RiskNote = "p_dead=0.418;reasons=inconsistent_identity_2|in_person_missed_3.0|in_person_gap_140d|age_86;health=0.21"
	}
	return v
}

// newRiskCity is the test city with riskModel: 李秀英's bank card used on 2024-05-08 raises
// a RISK flag, and the daily refresh puts it on the risk list.
func newRiskCity(t testing.TB, db *store.DB) *city {
	t.Helper()
	c := newCityWith(t, db, riskModel{sc.DefaultCatalogue()})
	ctx := context.Background()
	const h = "record_id,source,type,person_id,name,birth_date,event_date,reported_date,region_code,detail\n"
	if _, err := c.svc.Ingest(ctx, service.Batch{Origin: "api", Source: "BANK", Actor: "test", Day: today,
		Files: []service.File{{Name: "bank.csv", Body: strings.NewReader(h + "B1,BANK,BANK.TXN," + li + ",李秀英,,2024-05-08,2024-05-10,,\n")}}}); err != nil {
		t.Fatal(err)
	}
	tx, err := c.db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.RefreshSummary(today); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRiskWorklist(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) { testRiskWorklist(t, newRiskCity(t, dsn.Open(t))) })
	}
}

// testRiskWorklist: the flag on the list with its reasons in words, scoped, filtered by
// the flag's month, exported (audited), in the person's timeline; a visit that finds the
// person alive takes them off the list and moves the dashboard's counts at once.
func testRiskWorklist(t *testing.T, c *city) {
	ctx := context.Background()
	lp, _ := c.db.PersonByID(ctx, li)
	row := fmt.Sprintf(`<tr data-pid="%d">`, lp.PID)
	op := c.client(t)
	op.login("operator")
	st, body := op.get("/work/risk")
	if st != http.StatusOK || !strings.Contains(body, row) || !strings.Contains(body, "距上次本人到场已 140 天") ||
		!strings.Contains(body, "约 3.0 次应有的本人到场记录未出现") || !strings.Contains(body, "0.42") ||
		!strings.Contains(body, "该身份证号另有 2 条待遇记录的姓名不一致") ||
		!strings.Contains(body, "21.0%") || !strings.Contains(body, "2024-05-10") || !strings.Contains(body, `href="/work/risk"`) {
		t.Fatalf("risk list: %d\n%s", st, body)
	}
	for path, want := range map[string]bool{"/work/risk?from=2024-05&to=2024-05": true, "/work/risk?to=2024-04": false,
		"/work/risk?region=371002001002": true, "/work/risk?region=371002001001": false} {
		if st, body := op.get(path); st != http.StatusOK || strings.Contains(body, row) != want {
			t.Errorf("%s: %d, shows the flag: %v", path, st, !want)
		}
	}
	if st, _ := op.get("/work/risk?from=2024-13"); st != http.StatusBadRequest {
		t.Errorf("a bad month: %d", st)
	}
	// English.
	op.post("/lang", url.Values{"csrf": {op.csrf}, "lang": {"en"}, "back": {"/"}})
	if _, body := op.get("/work/risk"); !strings.Contains(body, "140 days since last seen in person") || !strings.Contains(body, "aged 86") ||
		!strings.Contains(body, "2 roster rows of this ID number carry another name") {
		t.Errorf("no English reasons")
	}
	op.post("/lang", url.Values{"csrf": {op.csrf}, "lang": {"zh-CN"}, "back": {"/"}})
	// The export carries the flag's day, score and reasons, and is audited.
	st, body = op.get("/work/risk/export?format=csv")
	if st != http.StatusOK || !strings.Contains(body, "标记日期,风险分（死亡概率）,风险原因,健康指数") ||
		!strings.Contains(body, "2024-05-10,0.42,该身份证号另有 2 条待遇记录的姓名不一致；约 3.0 次应有的本人到场记录未出现；距上次本人到场已 140 天；高龄（86 岁）,21.0%") {
		t.Fatalf("risk export: %d %q", st, body)
	}
	var exports int
	c.db.SQL().QueryRow(`SELECT count(*) FROM audit WHERE kind = 'export' AND action = 'risk'`).Scan(&exports)
	if exports != 1 {
		t.Errorf("%d audit rows for the risk export", exports)
	}
	// The person page shows the RISK decision with its reasons.
	if _, body := op.get(fmt.Sprintf("/person/%d", lp.PID)); !strings.Contains(body, `<strong>风险提示</strong> <span class="code">RISK</span>`) || !strings.Contains(body, "高龄（86 岁）") {
		t.Errorf("no RISK in the timeline")
	}
	// Scope: 张三's village sees no flag, 李秀英's does.
	v1 := c.client(t)
	v1.login("v1")
	if _, body := v1.get("/work/risk"); strings.Contains(body, row) || strings.Contains(body, "李秀英") {
		t.Errorf("another village's assistant sees the flag")
	}
	if st, _ := v1.get("/work/risk?region=371002001002"); st != http.StatusForbidden && st != http.StatusNotFound {
		t.Errorf("another village's list by URL: %d", st)
	}
	v2 := c.client(t)
	v2.login("v2")
	if _, body := v2.get("/work/risk"); !strings.Contains(body, row) {
		t.Fatalf("the village's assistant does not see the flag")
	} else if strings.Contains(body, "21.0%") || strings.Contains(body, "140 天") || strings.Contains(body, "高龄") || strings.Contains(body, "0.42") {
		t.Errorf("the village's assistant sees the health index or the flag's reasons, which come from medical and bank records")
	}
	if _, body := v2.get("/work/risk/export?format=csv"); !strings.Contains(body, ",2024-05-10") || strings.Contains(body, "0.42") || strings.Contains(body, "140 天") || strings.Contains(body, "21.0%") {
		t.Errorf("the village's export: the flag without its reasons or health index:\n%s", body)
	}
	if _, body := v2.get(fmt.Sprintf("/person/%d", lp.PID)); !strings.Contains(body, `<strong>风险提示</strong>`) || strings.Contains(body, `<span class="code">RISK</span>`) || strings.Contains(body, "health=") ||
		strings.Contains(body, "reasons=") || strings.Contains(body, "p_dead=") || strings.Contains(body, "高龄") ||
		!strings.Contains(body, `<p class="risk-flag">需上门见到本人（2024-05-10 标记）</p>`) || strings.Contains(body, `value="alive" required checked`) {
		t.Errorf("the assistant's person page: the RISK row and the flag should show with no outcome chosen, the health index not")
	}
	if _, body := op.get(fmt.Sprintf("/person/%d", lp.PID)); !strings.Contains(body, `<strong>金融交易（ATM/转账）</strong> <span class="code">BANK.TXN</span>`) {
		t.Errorf("the timeline does not name the record type as the catalogue does (in the page's brackets)")
	}
	// The assistant sees no other department's records (bank, hospital, card use by date)
	// nor the evidence a decision names, only the community's own.
	if _, body := v2.get(fmt.Sprintf("/person/%d", lp.PID)); strings.Contains(body, "BANK.TXN") || strings.Contains(body, "BANK:") {
		t.Errorf("the assistant's person page shows bank records")
	}
	if _, body := op.get(fmt.Sprintf("/person/%d", lp.PID)); !strings.Contains(body, "health=0.21") {
		t.Errorf("the operator's person page should show the RISK row's health index")
	}
	// The assistant's village page asks for the visit: the flag's day, no reasons, the
	// person's card with the visit form open (a WARNING card's is otherwise closed) and no
	// outcome chosen beforehand (nowhere is one: a tap must not resume a payment).
	if _, body := v2.get("/village"); !strings.Contains(body, `id="h-risk-visits"`) ||
		!strings.Contains(body, fmt.Sprintf(`<li id="rv-%d"><a href="#p-%d">李秀英</a> · 标记日期 2024-05-10</li>`, lp.PID, lp.PID)) ||
		!strings.Contains(body, `<p class="risk-flag">需上门见到本人（2024-05-10 标记）</p>`) ||
		!regexp.MustCompile(`(?s)id="p-`+strconv.FormatInt(lp.PID, 10)+`".*?<details open>`).MatchString(body) ||
		strings.Contains(body, `value="alive" required checked`) || strings.Contains(body, "140 天") || strings.Contains(body, "0.42") {
		t.Fatalf("the assistant's village page does not ask for the visit:\n%s", body)
	}
	if _, body := v1.get("/village"); strings.Contains(body, "h-risk-visits") || strings.Contains(body, "李秀英") {
		t.Errorf("another village's page shows the flag")
	}
	// v2 finds 李秀英 at home: the flag closes and the village's counts move now.
	before, _ := c.db.Region(ctx, "371002001002")
	v2.get(fmt.Sprintf("/person/%d", lp.PID))
	if st, _, body := v2.post(fmt.Sprintf("/person/%d/visit", lp.PID), url.Values{"csrf": {v2.csrf}, "outcome": {"alive"}}); st != http.StatusSeeOther {
		t.Fatalf("visit: %d %s", st, body)
	}
	if st, body := v2.get("/work/risk"); st != http.StatusOK || strings.Contains(body, row) {
		t.Errorf("the flag stays after the visit (%d)", st)
	}
	if _, body := v2.get("/village"); strings.Contains(body, "h-risk-visits") || strings.Contains(body, "risk-flag") {
		t.Errorf("the village page still asks for the visit after it")
	}
	if _, body := v2.get(fmt.Sprintf("/person/%d", lp.PID)); strings.Contains(body, "risk-flag") || strings.Contains(body, "checked") ||
		!strings.Contains(body, "<strong>村（社区）上门核实</strong>") {
		t.Errorf("the person page still asks for the visit after it, chooses an outcome beforehand, or hides the visit")
	}
	after, _ := c.db.Region(ctx, "371002001002")
	if before.ByStatus[sc.StatusWarning] != 1 || after.ByStatus[sc.StatusWarning] != 0 || after.ByStatus[sc.StatusCertified] != 1 || after.Total != 1 {
		t.Errorf("village counts after the visit: before %+v, after %+v", before, after)
	}
	if _, body := op.get("/?region=371002001002"); !strings.Contains(body, `href="/work/warning?region=371002001002">0</a>`) {
		t.Errorf("the village's dashboard does not show the visit")
	}
	// The dashboard's "expiring" figure counts the policy's warning window (2 months);
	// its list shows that window by default (it showed 3 months: twice the people).
	if _, body := op.get("/work/warning"); !strings.Contains(body, `<option value="2" selected>`) {
		t.Errorf("the warning list's window is not the policy's by default")
	}
}
