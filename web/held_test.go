package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/silentcert/silentcert/service"
	"github.com/silentcert/silentcert/store/storetest"
)

// TestHeld: a death whose name disagrees with the roster's is held (spec §3) and stops no
// payment; the city's operator finds it on the list of held records, the person beside
// it (nothing listed them: the batches page only counted them); staff of a region do not.
func TestHeld(t *testing.T) {
	c := newCity(t, storetest.Open(t, "sqlite:"+filepath.Join(t.TempDir(), "h.db")))
	if _, err := c.svc.Ingest(context.Background(), service.Batch{Origin: "api", Source: "PSB", Actor: "test", Day: today,
		Files: []service.File{{Name: "d.csv", Body: strings.NewReader("record_id,source,type,person_id,name,event_date,reported_date\nDX1,PSB,PSB.DEATH_DEREG," + zhang + ",张山,2024-05-01,2024-05-09\n")}}}); err != nil {
		t.Fatal(err)
	}
	op := c.clientAs(t, "operator")
	st, body := op.get("/held")
	if st != http.StatusOK || !strings.Contains(body, "PSB:DX1") || !strings.Contains(body, "张山") || !strings.Contains(body, "张三") || !strings.Contains(body, `class="bad"`) {
		t.Fatalf("the held records: %d\n%s", st, body)
	}
	if _, body := op.get("/batches"); !strings.Contains(body, `<a href="/held">1</a>`) {
		t.Error("the batches page does not link its held count to the list")
	}
	if st, _ := c.clientAs(t, "town").get("/held"); st != http.StatusForbidden {
		t.Errorf("a town's look at the held records: %d", st)
	}
	// Checked, with what was found: off the list, in the audit trail; the record stays
	// held. The auditor reads, and may not.
	m := regexp.MustCompile(`action="/held/(\d+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no form to mark the held record checked")
	}
	au := c.clientAs(t, "auditor")
	if _, ab := au.get("/held"); strings.Contains(ab, `action="/held/`) {
		t.Error("the auditor is offered the form")
	}
	if st, _, _ := au.post("/held/"+m[1], url.Values{"csrf": {au.csrf}, "note": {"x"}}); st != http.StatusForbidden {
		t.Errorf("the auditor marks a held record: %d", st)
	}
	if st, _, _ := op.post("/held/"+m[1], url.Values{"csrf": {op.csrf}, "note": {" "}}); st != http.StatusBadRequest {
		t.Errorf("checked without a note: %d", st)
	}
	if st, _, _ := op.post("/held/"+m[1], url.Values{"csrf": {op.csrf}, "note": {"电话核实:户籍姓名录入错误,本人健在"}}); st != http.StatusSeeOther {
		t.Fatalf("checked: %d", st)
	}
	if _, body := op.get("/held"); strings.Contains(body, "PSB:DX1") {
		t.Error("the checked record is still listed")
	}
	var n int
	if err := c.db.SQL().QueryRow(`SELECT count(*) FROM audit WHERE kind = 'held' AND action = 'reviewed' AND evidence = 'PSB:DX1' AND actor = 'operator'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("%d audit rows of the check (%v)", n, err)
	}
	held, _ := c.db.HeldRecords(context.Background())
	if len(held) != 1 {
		t.Errorf("%d records held after the check, want the one still held", len(held))
	}
	// Many held (name typos a department repeats): the page lists 500, the death first,
	// and says how many there are (it listed every one, a query each).
	var b strings.Builder
	b.WriteString("record_id,source,type,person_id,name,event_date,reported_date\n")
	for i := range 510 {
		fmt.Fprintf(&b, "OP%d,MED,MED.OUTPATIENT,%s,张山,2024-05-01,2024-05-10\n", i, zhang)
	}
	if _, err := c.svc.Ingest(context.Background(), service.Batch{Origin: "api", Source: "MED", Actor: "test", Day: today,
		Files: []service.File{{Name: "m.csv", Body: strings.NewReader(b.String())}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.svc.Ingest(context.Background(), service.Batch{Origin: "api", Source: "CIV", Actor: "test", Day: today,
		Files: []service.File{{Name: "c.csv", Body: strings.NewReader("record_id,source,type,person_id,name,event_date,reported_date\nCX1,CIV,CIV.CREMATION," + zhang + ",张山,2024-04-01,2024-04-02\n")}}}); err != nil {
		t.Fatal(err)
	}
	_, body = op.get("/held")
	if n := strings.Count(body, "<tr"); n != 501 || !strings.Contains(body, "仅显示前 500 条（共 511 条）") {
		t.Errorf("%d rows (header included), want 501 and the note", n)
	}
	if i, j := strings.Index(body, "CIV:CX1"), strings.Index(body, "MED:OP509"); i < 0 || j < 0 || i > j || strings.Contains(body, "MED:OP0<") {
		t.Error("the held death is not first, then the latest")
	}
}

// TestBatchFiles: the batches list names each batch's file, the first and how many more
// (the drop folder's batches of one department read "PSB drop:PSB" alike).
func TestBatchFiles(t *testing.T) {
	c := newCity(t, storetest.Open(t, "sqlite:"+t.TempDir()+"/w.db"))
	ctx := context.Background()
	body := "record_id,source,type,person_id,event_date,reported_date\n"
	for _, files := range [][]string{{"PSB/deaths-0301.csv"}, {"PSB/deaths-0302.csv", "PSB/deaths-0302b.csv", "PSB/deaths-0302c.csv"}} {
		b := service.Batch{Origin: "drop", Source: "PSB", Actor: "drop:PSB", Day: today}
		for _, f := range files {
			b.Files = append(b.Files, service.File{Name: f, Body: strings.NewReader(body)})
		}
		if _, err := c.svc.Ingest(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	_, page := c.clientAs(t, "operator").get("/batches")
	for _, want := range []string{`<td class="code">PSB/deaths-0301.csv</td>`,
		`<td class="code" title="PSB/deaths-0302.csv
PSB/deaths-0302b.csv
PSB/deaths-0302c.csv">PSB/deaths-0302.csv 等 2 个</td>`} {
		if !strings.Contains(page, want) {
			t.Errorf("the batches list lacks %s:\n%s", want, page)
		}
	}
}
