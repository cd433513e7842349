package web_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/internal/browsertest"
	"github.com/silentcert/silentcert/service"
	"github.com/silentcert/silentcert/store/storetest"
)

type css = chromedp.CSS

func loginAs(base, name string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(css(`#name`)),
		chromedp.SendKeys(css(`#name`), name),
		chromedp.SendKeys(css(`#password`), pw),
		chromedp.Click(css(`form[action="/login"] button[type=submit]`)),
		// Only a logged-in page has the logout form: the login page's h1 would not wait for the redirect.
		chromedp.WaitReady(css(`form[action="/logout"]`)),
		chromedp.WaitVisible(css(`main h1`)),
	)
}

// text returns an element's text, failing the test on error.
func outer(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.OuterHTML(css(sel)))
	if err != nil {
		t.Fatalf("html of %s: %v", sel, err)
	}
	return s
}

// TestBrowser drives the console as its users do: the operator's dashboard and drill-down,
// an export opened, the village assistant's visit on a phone-sized screen, and another
// village's assistant refused.
func TestBrowser(t *testing.T) {
	exe := browsertest.Chromium(t)
	// The city's service runs a model that flags 李秀英's bank card (risk_test.go), so
	// that the fraud-risk list has a row.
	c := newRiskCity(t, storetest.Open(t, "sqlite:"+filepath.Join(t.TempDir(), "b.db")))
	base := c.srv.URL
	zp, _ := c.db.PersonByID(context.Background(), zhang)

	op := browsertest.New(t, exe, 1280, 900)
	if err := chromedp.Do(op, loginAs(base, "operator"), chromedp.WaitVisible(css(`svg.chart`))); err != nil {
		t.Fatal(err)
	}
	html := outer(t, op, "main")
	if strings.Count(html, "<svg") < 5 {
		t.Fatalf("the dashboard shows %d charts", strings.Count(html, "<svg"))
	}
	browsertest.Screenshot(t, op, "dashboard")
	// Drill down: city → district → town → village, by the links.
	for _, code := range []string{"3710", "371002", "371002001", "371002001001"} {
		if err := chromedp.Do(op, chromedp.Click(css(fmt.Sprintf(`a[href="/?region=%s"]`, code))),
			chromedp.WaitVisible(css(fmt.Sprintf(`.crumbs a[href="/?region=%s"]`, code)))); err != nil {
			t.Fatalf("drill down to %s: %v", code, err)
		}
		if code == "371002" {
			browsertest.Screenshot(t, op, "drilldown-district")
		}
	}
	if h1 := browsertest.Text(t, op, "main h1"); !strings.Contains(h1, "东北村") || !strings.Contains(outer(t, op, "main"), "张三") {
		t.Fatalf("village level: %q", h1)
	}
	browsertest.Screenshot(t, op, "drilldown-village")
	// A worklist and its export, fetched with the browser's session and opened.
	if err := chromedp.Do(op, chromedp.Navigate(base+"/work/suspended"), chromedp.WaitVisible(css(`#export-xlsx`))); err != nil {
		t.Fatalf("worklist: %v", err)
	}
	href, err := chromedp.Run(op, chromedp.AttributeValue(css(`#export-xlsx`), "href"))
	if err != nil || !href.Exists {
		t.Fatalf("export link: %v", err)
	}
	browsertest.Screenshot(t, op, "worklist")
	rows := exportRows(t, op, base, href.Value)
	if len(rows) < 2 || rows[0][0] != "身份证号" {
		t.Fatalf("export rows %v", rows)
	}
	// The fraud-risk list from the menu: 李秀英's flag with its reasons in words, exported,
	// and her page with the RISK decision in the timeline.
	lp, _ := c.db.PersonByID(context.Background(), li)
	if err := chromedp.Do(op, chromedp.Click(css(`nav a[href="/work/risk"]`)), chromedp.WaitVisible(css(`#risk`))); err != nil {
		t.Fatalf("risk worklist: %v", err)
	}
	if txt := browsertest.Text(t, op, "#risk tbody"); !strings.Contains(txt, "李秀英") || !strings.Contains(txt, "距上次本人到场已 140 天") {
		t.Fatalf("the risk list shows %q", txt)
	}
	browsertest.Screenshot(t, op, "worklist-risk")
	href, err = chromedp.Run(op, chromedp.AttributeValue(css(`#export-xlsx`), "href"))
	if err != nil || !href.Exists {
		t.Fatalf("risk export link: %v", err)
	}
	rows = exportRows(t, op, base, href.Value)
	if len(rows) != 2 || rows[0][13] != "风险原因" || rows[1][1] != "李秀英" || !strings.Contains(rows[1][13], "高龄（86 岁）") {
		t.Fatalf("risk export rows %q", rows)
	}
	if err := chromedp.Do(op, chromedp.Click(css(fmt.Sprintf(`#risk a[href="/person/%d"]`, lp.PID))), chromedp.WaitVisible(css(`#status`))); err != nil {
		t.Fatal(err)
	}
	if txt := browsertest.Text(t, op, ".timeline"); !strings.Contains(txt, "RISK") || !strings.Contains(txt, "约 3.0 次应有的本人到场记录未出现") {
		t.Fatalf("the timeline shows %q", txt)
	}
	browsertest.Screenshot(t, op, "person-risk")
	if err := chromedp.Do(op, chromedp.Navigate(fmt.Sprintf("%s/person/%d", base, zp.PID)), chromedp.WaitVisible(css(`#status`))); err != nil {
		t.Fatal(err)
	}
	browsertest.Screenshot(t, op, "person")

	// The village assistant on a 360-px phone records a visit; the person is certified.
	v1 := browsertest.New(t, exe, 1280, 900)
	card := fmt.Sprintf(`#p-%d`, zp.PID)
	if err := chromedp.Do(v1, chromedp.EmulateViewport(360, 740, chromedp.EmulateScale(2)), loginAs(base, "v1"),
		chromedp.WaitVisible(css(card))); err != nil {
		t.Fatal(err)
	}
	browsertest.Screenshot(t, v1, "village-phone")
	if err := chromedp.Do(v1,
		chromedp.Click(css(card+` input[name=outcome][value=alive]`)),
		chromedp.Click(css(card+` button[type=submit]`)),
		chromedp.WaitVisible(css(card+` .ok`))); err != nil {
		t.Fatal(err)
	}
	st, err := chromedp.Run(v1, chromedp.AttributeValue(css(card+` [data-status]`), "data-status"))
	if err != nil || st.Value != "CERTIFIED" {
		t.Fatalf("after the visit the village list shows %q (%v)", st.Value, err)
	}
	browsertest.Screenshot(t, v1, "village-after-visit")

	// Another village's assistant asks for that person by URL and is refused.
	v2 := browsertest.New(t, exe, 1280, 900)
	if err := chromedp.Do(v2, loginAs(base, "v2"), chromedp.Navigate(fmt.Sprintf("%s/person/%d", base, zp.PID)),
		chromedp.WaitVisible(css(`main h1`))); err != nil {
		t.Fatal(err)
	}
	if h1 := browsertest.Text(t, v2, "main h1"); h1 != "未找到" || strings.Contains(outer(t, v2, "main"), "张三") {
		t.Fatalf("another village's assistant sees %q", h1)
	}
	browsertest.Screenshot(t, v2, "refused")

	// Money to recover: 王芳's death of February reported now leaves March to May paid;
	// the operator finds her on the list, records the family's repayment on her page, and
	// the case shows what is left.
	const wang = "371002195005200045"
	if _, err := c.svc.Ingest(context.Background(), service.Batch{Origin: "api", Source: "PSB", Actor: "test", Day: today,
		Files: []service.File{{Name: "d.csv", Body: strings.NewReader("record_id,source,type,person_id,event_date,reported_date\nD9,PSB,PSB.DEATH_DEREG," + wang + ",2024-02-20,2024-05-10\n")}}}); err != nil {
		t.Fatal(err)
	}
	wp, _ := c.db.PersonByID(context.Background(), wang)
	cases, err := c.svc.RecoveriesOf(context.Background(), wp.PID)
	if err != nil || len(cases) != 1 || cases[0].ToRecover <= 1000 {
		t.Fatalf("王芳's recovery cases: %+v", cases)
	}
	if err := chromedp.Do(op, chromedp.Navigate(base+"/"), chromedp.WaitVisible(css(`#to-recover`)),
		chromedp.Click(css(`#to-recover`)), chromedp.WaitVisible(css(`#recoveries`))); err != nil {
		t.Fatal(err)
	}
	browsertest.Screenshot(t, op, "recoveries")
	dialogs := browsertest.AcceptDialogs(op)
	if err := chromedp.Do(op, chromedp.Click(css(fmt.Sprintf(`#recoveries a[href="/person/%d#h-recovery"]`, wp.PID))),
		chromedp.WaitVisible(css(`#rc-amount`)),
		chromedp.Click(css(`input[name=kind][value=repaid]`)), // nothing is chosen beforehand
		chromedp.SendKeys(css(`#rc-amount`), "10.00"),
		chromedp.SendKeys(css(`#rc-note`), "收据 7"),
		chromedp.Click(css(`form.stack[action$="/recovery"] button[type=submit]`)),
		chromedp.WaitVisible(css(`#h-recovery ~ .ok`))); err != nil {
		t.Fatal(err)
	}
	browsertest.Screenshot(t, op, "recovery-recorded")
	if row := browsertest.Text(t, op, "#recovery tbody tr"); !strings.Contains(row, "¥10.00") || !strings.Contains(row, "¥"+yuanText(cases[0].ToRecover-1000)) {
		t.Errorf("王芳's case after ¥10.00 repaid: %q", row)
	}
	// The entry stands once recorded: the page asked first, with the amount typed.
	if ms := dialogs.Messages(); len(ms) != 1 || !strings.Contains(ms[0], "¥10.00") || !strings.Contains(ms[0], "冲正") {
		t.Errorf("the confirmation before the entry: %q", ms)
	}
}

// yuanText writes fen as the console does: yuan grouped by thousands, two decimals.
func yuanText(f sc.Fen) string {
	s := f.String()
	whole, frac, _ := strings.Cut(s, ".")
	for i := len(whole) - 3; i > 0; i -= 3 {
		whole = whole[:i] + "," + whole[i:]
	}
	return whole + "." + frac
}

// exportRows fetches an export with the browser's session cookies and reads its sheet.
func exportRows(t *testing.T, ctx context.Context, base, href string) [][]string {
	t.Helper()
	ck, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{base + "/"}})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", base+href, nil)
	for _, c := range ck.Cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	x, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("the export is no xlsx (%d, %s): %v", res.StatusCode, res.Header.Get("Content-Type"), err)
	}
	rows, err := x.GetRows("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	return rows
}
