package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/silentcert/silentcert/store/storetest"
)

// TestPersonRosterTrail: a roster import that changes a person's amount and puts an
// agent's phone on the roster shows on their page, old→new, by whom, as their enrolment
// does; the village assistant, who sees no money, sees neither row. Before, the page
// showed the new values with no history.
func TestPersonRosterTrail(t *testing.T) {
	c := newCity(t, storetest.Open(t, "sqlite:"+t.TempDir()+"/r.db"))
	ctx := context.Background()
	golden, err := os.ReadFile("../backtest/testdata/scenario/roster.csv")
	if err != nil {
		t.Fatal(err)
	}
	old := "371002194003150019,张三,1,1940-03-15,山东省威海市环翠区环翠楼街道古寨社区,371002001001,13800000001,,EMP_PENSION,3000.00,"
	if !strings.Contains(string(golden), old) {
		t.Fatal("the golden roster's 张三 has changed")
	}
	changed := strings.Replace(string(golden), old, "371002194003150019,张三,1,1940-03-15,山东省威海市环翠区环翠楼街道古寨社区,371002001001,13800000001,13912345678,EMP_PENSION,9000.00,", 1)
	path := filepath.Join(t.TempDir(), "r3.csv")
	if err := os.WriteFile(path, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := c.svc.ImportRoster(ctx, path, "", "cli:zhao"); err != nil {
		t.Fatal(err)
	}
	zp, _ := c.db.PersonByID(ctx, zhang)
	zURL := fmt.Sprintf("/person/%d", zp.PID)
	_, body := c.clientAs(t, "operator").get(zURL)
	// The first row's agent_phone wins over the second's (spec §2): the agent's phone
	// changes, masked on the row.
	for _, want := range []string{"名册导入 · 变更", "agent_phone=139****0001→139****5678;EMP_PENSION.monthly_amount=3000.00→9000.00",
		"名册导入 · 新增", "cli:zhao"} {
		if !strings.Contains(body, want) {
			t.Errorf("the operator's person page lacks %q", want)
		}
	}
	_, body = c.clientAs(t, "v1").get(zURL)
	if strings.Contains(body, "名册导入") || strings.Contains(body, "9000") {
		t.Errorf("the village assistant's page shows the roster's rows")
	}
}

// TestTrailConfig: the audit page shows a configuration's row with its print and the
// rules it recorded folded beneath, indented; the export keeps the detail as written.
// (The city ran days before: the first record says their rules are not known.)
func TestTrailConfig(t *testing.T) {
	c := newCity(t, storetest.Open(t, "sqlite:"+t.TempDir()+"/c.db"))
	if err := c.svc.CheckConfig(context.Background(), "", "cli:zhao"); err != nil {
		t.Fatal(err)
	}
	au := c.client(t)
	au.login("auditor")
	_, page := au.get("/audit?kind=config")
	for _, want := range []string{";first=1;unrecorded_through=2024-05-10<details><summary>JSON</summary><pre class=\"detail\">{\n  &#34;policy&#34;: {", "&#34;grace_months&#34;: 1,"} {
		if !strings.Contains(page, want) {
			t.Errorf("the audit page lacks %q", want)
		}
	}
	if _, csv := au.get("/audit?format=csv&kind=config"); !strings.Contains(csv, `;config={""policy"":{""max_period_months"":24,`) {
		t.Errorf("the export's config row:\n%s", csv)
	}
}
