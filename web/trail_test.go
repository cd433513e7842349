package web_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
)

// TestTrailTimes: the audit trail's times read in one zone, the console's (UTC+8), on
// the page and in the CSV, though the console and the accounts store them in UTC and the
// service with the agency's offset; a time that is not RFC 3339 is shown as stored, and
// the stored rows and their chain are as they were.
func TestTrailTimes(t *testing.T) {
	c := newCity(t, storetest.DSNs(t)[0].Open(t))
	ctx := context.Background()
	tx, err := c.db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Append([]store.AuditRow{{Kind: "note", Day: today, At: "yesterday noon", Actor: "system", PID: -1, Action: "x"}}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	au := c.client(t)
	au.login("auditor")
	// The clock is 09:00 UTC: the login is stored so, the roster import at 17:00+08:00.
	stored := map[string]string{"login": "2024-05-10T09:00:00Z", "roster": "2024-05-10T17:00:00+08:00", "note": "yesterday noon"}
	shown := map[string]string{"login": "2024-05-10 17:00:00", "roster": "2024-05-10 17:00:00", "note": "yesterday noon"}
	for kind, at := range stored {
		rows, err := c.db.Trail(ctx, store.TrailQuery{Kind: kind, From: sc.NoDate, To: sc.NoDate})
		if err != nil || len(rows) == 0 || rows[0].At != at {
			t.Fatalf("the stored %s rows: %+v %v", kind, rows, err)
		}
		_, page := au.get("/audit?kind=" + kind)
		if !strings.Contains(page, `<td class="nowrap">`+shown[kind]+`</td>`) || (kind != "note" && strings.Contains(page, at)) {
			t.Errorf("the %s row's time on the page: want %s, not %s", kind, shown[kind], at)
		}
		_, csv := au.get("/audit?format=csv&kind=" + kind)
		named := map[string]string{"login": "登录", "roster": "名册导入", "note": "备注"}[kind] // the kind in the reader's words
		if !strings.Contains(csv, ","+shown[kind]+","+named+",") || (kind != "note" && strings.Contains(csv, at)) {
			t.Errorf("the %s row's time in the CSV: want %s, not %s\n%s", kind, shown[kind], at, csv)
		}
	}
	if _, err := c.db.VerifyAudit(ctx, func(p store.AuditProblem) { t.Errorf("audit verify: %+v", p) }); err != nil {
		t.Fatal(err)
	}
}

// TestTrailXLSX: the audit trail's export as .xlsx holds the CSV's columns and rows for the
// same filters, the ID number a text cell of all its 18 digits (a CSV's number, Excel
// keeps 15), and is audited as the CSV is.
func TestTrailXLSX(t *testing.T) {
	c := newCity(t, storetest.DSNs(t)[0].Open(t))
	ctx := context.Background()
	visitNotFound(t, c)
	ad := c.client(t)
	ad.login("admin")
	const filters = "actor=v1&from=2024-05-10&kind=visit&to=2024-05-10"
	if _, page := ad.get("/audit?" + filters); !strings.Contains(page, `id="export-xlsx" href="/audit?actor=v1&amp;format=xlsx&amp;from=2024-05-10&amp;kind=visit&amp;to=2024-05-10"`) {
		t.Errorf("the page offers no .xlsx of its filters:\n%s", page)
	}
	x, got := trailXLSX(t, ad, "/audit?"+filters+"&format=xlsx")
	_, text := ad.get("/audit?" + filters + "&format=csv")
	want, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(text, "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !reflect.DeepEqual(got, want) {
		t.Fatalf("the .xlsx rows are not the CSV's (the visit alone):\n%q\n%q", got, want)
	}
	if got[1][6] != zhang || got[1][3] != "上门走访" || got[1][4] != "v1" || !strings.Contains(got[1][8], "outcome=notfound") {
		t.Errorf("the visit's row: %q", got[1])
	}
	if ty, err := x.GetCellType("Sheet1", "G2"); err != nil || (ty != excelize.CellTypeInlineString && ty != excelize.CellTypeSharedString) {
		t.Errorf("the ID number's cell is no text: %v %v", ty, err)
	}
	// Each export is one audit row: its format, the filters and the rows' count.
	rows, err := c.db.Trail(ctx, store.TrailQuery{Kind: "export", Actor: "admin", From: sc.NoDate, To: sc.NoDate})
	if err != nil || len(rows) != 2 || rows[0].Action != "audit" || rows[1].Action != "audit" ||
		rows[0].Detail != "filters="+url.QueryEscape(filters)+";format=csv;rows=1" || rows[1].Detail != "filters="+url.QueryEscape(filters)+";format=xlsx;rows=1" {
		t.Errorf("the exports' audit rows: %+v %v", rows, err)
	}
	if st, _ := ad.get("/audit?format=pdf"); st != http.StatusBadRequest {
		t.Errorf("an unknown format: %d", st)
	}
}

// trailXLSX gets an .xlsx export of the audit trail and returns it with its rows.
func trailXLSX(t *testing.T, cl *client, path string) (*excelize.File, [][]string) {
	t.Helper()
	res, err := cl.c.Get(cl.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" ||
		res.Header.Get("Content-Disposition") != `attachment; filename="audit-2024-05-10.xlsx"` {
		t.Fatalf("the .xlsx export %s: %d %v", path, res.StatusCode, res.Header)
	}
	x, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	rows, err := x.GetRows("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	return x, rows
}
