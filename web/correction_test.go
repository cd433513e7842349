package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/internal/browsertest"
	"github.com/silentcert/silentcert/service"
	"github.com/silentcert/silentcert/store/storetest"
)

// TestCorrectionAfterBack: a form brought back (the back button restores the page with
// its used one-time key) and changed is refused in words, with the way to open the page
// anew, instead of being answered "recorded" while nothing was: the reviewer's refusal
// then death, whose death was lost and the pension paid on. The same form sent again (a
// double tap) is still answered as the first was, and the key used on another person's
// card of the village's list, or for a repayment of another amount, is refused as well.
func TestCorrectionAfterBack(t *testing.T) {
	c := newCity(t, storetest.Open(t, "sqlite:"+t.TempDir()+"/w.db"))
	ctx := context.Background()
	zp, _ := c.db.PersonByID(ctx, zhang)
	lp, _ := c.db.PersonByID(ctx, li)
	zURL := fmt.Sprintf("/person/%d", zp.PID)
	v1 := c.clientAs(t, "v1")
	v1.get(zURL)
	once := "0123456789abcdef01234567"
	refused := url.Values{"csrf": {v1.csrf}, "once": {once}, "outcome": {"refused"}, "date": {""}}
	st, loc, body := v1.post(zURL+"/visit", refused)
	if st != http.StatusSeeOther {
		t.Fatalf("the refusal: %d %s", st, body)
	}
	if st2, loc2, body := v1.post(zURL+"/visit", refused); st2 != http.StatusSeeOther || loc2 != loc {
		t.Errorf("the refusal sent twice: %d %s (first %s)\n%s", st2, loc2, loc, body)
	}
	death := url.Values{"csrf": {v1.csrf}, "once": {once}, "outcome": {"death"}, "date": {"2024-02-20"}}
	st, _, body = v1.post(zURL+"/visit", death)
	if st != http.StatusConflict || !strings.Contains(body, "这张表已经提交过（拒绝配合）。如需更正，请重新打开本页再登记。") ||
		!strings.Contains(body, `<a href="`+zURL+`#h-visit">重新打开本页</a>`) {
		t.Errorf("the death sent with the refusal's key: %d, want 409 saying the form was sent as a refusal, with the page to open again\n%s", st, body)
	}
	if p, _ := c.db.PersonByID(ctx, zhang); p.DeathDate != sc.NoDate {
		t.Errorf("the refused death was recorded: %v", p.DeathDate)
	}
	// The page opened again gives a new key: the correction is recorded.
	death.Set("once", "11111111111111111111aaaa")
	if st, _, body := v1.post(zURL+"/visit", death); st != http.StatusSeeOther {
		t.Fatalf("the death with a new key: %d %s", st, body)
	}
	if p, _ := c.db.PersonByID(ctx, zhang); p.DeathDate.String() != "2024-02-20" {
		t.Errorf("the corrected death was not recorded: %v", p.DeathDate)
	}
	// The village's list: every card's form carries the page's key; the key used for one
	// person and sent again from another's card is refused, not answered as recorded.
	op := c.clientAs(t, "operator")
	op.get(zURL)
	key := "22222222222222222222bbbb"
	lURL := fmt.Sprintf("/person/%d", lp.PID)
	if st, _, body := op.post(lURL+"/visit", url.Values{"csrf": {op.csrf}, "once": {key}, "outcome": {"notfound"}, "back": {"village"}}); st != http.StatusSeeOther {
		t.Fatalf("a visit from the list: %d %s", st, body)
	}
	before, _ := c.db.PersonRecords(ctx, zp.PID)
	if st, _, body := op.post(zURL+"/visit", url.Values{"csrf": {op.csrf}, "once": {key}, "outcome": {"notfound"}, "back": {"village"}}); st != http.StatusConflict ||
		!strings.Contains(body, "这张表已经提交过（未找到本人）") {
		t.Errorf("another card sent with a used key: %d, want 409\n%s", st, body)
	}
	if after, _ := c.db.PersonRecords(ctx, zp.PID); len(after) != len(before) {
		t.Errorf("another card sent with a used key recorded something")
	}
	// A review sent with the visit's key (one page's forms share it).
	if st, _, body := op.post(lURL+"/review", url.Values{"csrf": {op.csrf}, "once": {key}, "accept": {"alive"}, "ref": {"HEA:V1"}, "reason": {"seen"}}); st != http.StatusConflict ||
		!strings.Contains(body, "这张表已经提交过（未找到本人）") {
		t.Errorf("a review sent with a visit's key: %d, want 409\n%s", st, body)
	}

	// A repayment brought back and its amount changed.
	rk := "33333333333333333333cccc"
	pay := url.Values{"csrf": {op.csrf}, "once": {rk}, "benefit": {"EMP_PENSION"}, "kind": {"repaid"}, "amount": {"100"}, "date": {"2024-05-09"}, "note": {""}}
	st, loc, body = op.post(zURL+"/recovery", pay)
	if st != http.StatusSeeOther {
		t.Fatalf("the repayment: %d %s", st, body)
	}
	if st2, loc2, _ := op.post(zURL+"/recovery", pay); st2 != http.StatusSeeOther || loc2 != loc {
		t.Errorf("the repayment sent twice: %d %s (first %s)", st2, loc2, loc)
	}
	pay.Set("amount", "200")
	if st, _, body := op.post(zURL+"/recovery", pay); st != http.StatusConflict || !strings.Contains(body, "这张表已经提交过（家属退回）") {
		t.Errorf("the repayment changed and sent with its key: %d, want 409\n%s", st, body)
	}
	if cs, _ := c.svc.RecoveriesOf(ctx, zp.PID); len(cs) < 2 || len(cs[1].Entries) != 1 {
		t.Errorf("the changed repayment was recorded: %+v", cs)
	}
}

// TestBackReloads: a person page brought back from the back-forward cache after its
// visit was recorded gets a new one-time key for its form (app.js, on pageshow), so that
// a correction made there is recorded, not refused.
func TestBackReloads(t *testing.T) {
	exe := browsertest.Chromium(t)
	c := newCity(t, storetest.Open(t, "sqlite:"+filepath.Join(t.TempDir(), "b.db")))
	base := c.srv.URL
	zp, _ := c.db.PersonByID(context.Background(), zhang)
	v := browsertest.New(t, exe, 360, 740)
	zURL := fmt.Sprintf("%s/person/%d", base, zp.PID)
	if err := chromedp.Do(v, loginAs(base, "v1"), chromedp.Navigate(zURL), chromedp.WaitReady(css(`#h-visit`))); err != nil {
		t.Fatal(err)
	}
	first, err := chromedp.Run(v, chromedp.Value(css(`form.visit input[name=once]`)))
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(v, chromedp.Click(css(`form.visit input[value=refused]`)), chromedp.Click(css(`form.visit button[type=submit]`)),
		chromedp.WaitVisible(css(`p.ok[role=status]`))); err != nil {
		t.Fatal(err)
	}
	// history.back(): NavigateBack waits for a load that a page restored from the cache
	// does not make.
	if _, err := chromedp.Run(v, chromedp.Evaluate[any](`(setTimeout(() => history.back(), 50), 1)`)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	again, err := chromedp.Run(v, chromedp.Evaluate[string](`(document.querySelector("form.visit input[name=once]")||{}).value||""`))
	if err != nil {
		t.Fatal(err)
	}
	if again == "" || again == first {
		t.Errorf("the page brought back by the back button keeps its used one-time key %q", first)
	}
}

// TestVillageAnswers: the village's list names a death's visit by the day it was
// recorded with the death's date beside it (it showed the death's date as the visit's);
// a death report that other departments' data contradicts (CONFLICT) is answered as sent
// to the city bureau, not only "status updated"; the assistant's answer names no batch.
func TestVillageAnswers(t *testing.T) {
	c := newCity(t, storetest.Open(t, "sqlite:"+t.TempDir()+"/w.db"))
	ctx := context.Background()
	zp, _ := c.db.PersonByID(ctx, zhang)
	zURL := fmt.Sprintf("/person/%d", zp.PID)
	// A vaccination after the death the assistant will report.
	if _, err := c.svc.Ingest(ctx, service.Batch{Origin: "test", Actor: "test", Day: today, Files: []service.File{{Name: "r.csv",
		Body: strings.NewReader("record_id,source,type,person_id,event_date,reported_date\nV1,HEA,HEA.VACCINATION," + zhang + ",2024-05-02,2024-05-09\n")}}}); err != nil {
		t.Fatal(err)
	}
	v1 := c.clientAs(t, "v1")
	v1.get(zURL)
	st, loc, body := v1.post(zURL+"/visit", url.Values{"csrf": {v1.csrf}, "outcome": {"death"}, "date": {"2024-03-01"}, "back": {"village"}})
	if st != http.StatusSeeOther {
		t.Fatalf("the death: %d %s", st, body)
	}
	if p, _ := c.db.PersonByID(ctx, zhang); p.Status != sc.StatusConflict {
		t.Fatalf("a death before a vaccination: %v, want CONFLICT", p.Status)
	}
	_, body = v1.get(loc)
	if !strings.Contains(body, "与其他部门数据不一致，已交市局复核") {
		t.Errorf("the village's list does not say the conflicting death went to the city bureau:\n%s", body)
	}
	if !strings.Contains(body, "上次走访 2024-05-10：已死亡（死亡日期 2024-03-01）") {
		t.Errorf("the last visit is not named by its day with the death's date:\n%s", body)
	}
	_, body = v1.get(zURL + "?done=1")
	if !strings.Contains(body, "与其他部门数据不一致，已交市局复核") || strings.Contains(body, "批次") {
		t.Errorf("the person page's answer to the assistant: no conflict said, or a batch named:\n%s", body)
	}
	if _, body := c.clientAs(t, "operator").get(zURL + "?done=1"); !strings.Contains(body, "已提交（批次 1）。与其他部门数据不一致") {
		t.Errorf("the operator's answer does not name the batch and the conflict:\n%s", body)
	}
}

// TestFormKeptOverSignIn: a visit sent after the session ended (an hour unused) keeps its
// fields in the sign-in form (never the CSRF token nor a password); signed in again, the
// assistant gets the form filled with a button to send it, not sent by itself; sent, it
// is checked as a new form (the new session's token) and recorded once.
func TestFormKeptOverSignIn(t *testing.T) {
	c := newCity(t, storetest.Open(t, "sqlite:"+t.TempDir()+"/w.db"))
	ctx := context.Background()
	zp, _ := c.db.PersonByID(ctx, zhang)
	zURL := fmt.Sprintf("/person/%d", zp.PID)
	v1 := c.clientAs(t, "v1")
	v1.get(zURL)
	w1 := c.clientAs(t, "v1") // on the village's list
	w1.get("/village")
	if _, err := c.db.SQL().ExecContext(ctx, `DELETE FROM sessions`); err != nil {
		t.Fatal(err)
	}
	old := v1.csrf
	st, _, body := v1.post(zURL+"/visit", url.Values{"csrf": {old}, "once": {"44444444444444444444dddd"}, "outcome": {"death"}, "date": {"2024-02-20"}, "password": {"x"}})
	if lst, _, lbody := w1.post(zURL+"/visit", url.Values{"csrf": {w1.csrf}, "outcome": {"alive"}, "back": {"village"}}); lst != http.StatusUnauthorized ||
		!strings.Contains(lbody, `name="next" value="/village#p-`+fmt.Sprint(zp.PID)+`"`) {
		t.Errorf("a form of the village's list sent after the session ended does not lead back to its card: %d\n%s", lst, lbody)
	}
	if st != http.StatusUnauthorized || !strings.Contains(body, `name="carry.outcome" value="death"`) || !strings.Contains(body, `name="carry.date" value="2024-02-20"`) ||
		!strings.Contains(body, `name="carry_to" value="`+zURL+`/visit"`) || strings.Contains(body, "carry.csrf") || strings.Contains(body, "carry.password") ||
		!strings.Contains(body, "还没有提交") {
		t.Fatalf("the sign-in page after the session ended does not keep the visit's fields (or keeps the token):\n%s", body)
	}
	// Its language switch comes back to a page a GET opens, not to the form's address (405).
	if strings.Contains(body, `name="back" value="`+zURL+`/visit"`) || !strings.Contains(body, `name="back" value="`+zURL) {
		t.Errorf("the language switch of the sign-in page leads back to the form's address, or nowhere near the person")
	}
	form := url.Values{"csrf": {csrfRE.FindStringSubmatch(body)[1]}, "name": {"v1"}, "password": {pw}, "next": {zURL + "#h-visit"}}
	for _, m := range regexp.MustCompile(`name="(carry[._][a-z_]+)" value="([^"]*)"`).FindAllStringSubmatch(body, -1) {
		form.Add(m[1], m[2])
	}
	// Sent from the sign-in page the browser shows at the form's address (its Referer).
	req, _ := http.NewRequest(http.MethodPost, v1.base+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Referer", v1.base+zURL+"/visit")
	res, err := v1.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	st, body = res.StatusCode, string(b)
	// The resend page's language switch comes back to the person's page, not to the
	// form's address the Referer names (a 405 that lost the kept form).
	if strings.Contains(body, `name="back" value="`+zURL+`/visit"`) || !strings.Contains(body, `name="back" value="`+zURL) {
		t.Errorf("the resend page's language switch leads back to the form's address, or nowhere near the person")
	}
	if st != http.StatusOK || !strings.Contains(body, `<form method="post" action="`+zURL+`/visit"`) || !strings.Contains(body, "提交刚才填写的内容") ||
		!strings.Contains(body, `name="outcome" value="death"`) || !strings.Contains(body, "已死亡") || strings.Contains(body, old) {
		t.Fatalf("after signing in: %d, want the visit's form filled with its button, under a new token\n%s", st, body)
	}
	if p, _ := c.db.PersonByID(ctx, zhang); p.DeathDate != sc.NoDate {
		t.Fatal("the carried form was sent by itself")
	}
	resend := url.Values{}
	for _, m := range regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`).FindAllStringSubmatch(body, -1) {
		resend.Add(m[1], m[2])
	}
	if resend.Get("csrf") == old || resend.Get("password") != "" {
		t.Errorf("the form shown again carries the old token or a password: %v", resend)
	}
	st, loc, body := v1.post(zURL+"/visit", resend)
	if st != http.StatusSeeOther || !strings.HasPrefix(loc, zURL+"?done=") {
		t.Fatalf("the carried visit sent: %d %s\n%s", st, loc, body)
	}
	if p, _ := c.db.PersonByID(ctx, zhang); p.DeathDate.String() != "2024-02-20" {
		t.Errorf("the carried death was not recorded: %v", p.DeathDate)
	}
}

// TestVillagePersonWords: the village assistant's person page shows no codes nor
// key=value strings: no method or benefit code, no record type or reference, no audit
// kind and action codes, no batch, the rule and the actor in words; the bureau's staff
// keep the codes beside the words.
func TestVillagePersonWords(t *testing.T) {
	c := newCity(t, storetest.Open(t, "sqlite:"+t.TempDir()+"/w.db"))
	ctx := context.Background()
	zp, _ := c.db.PersonByID(ctx, zhang)
	zURL := fmt.Sprintf("/person/%d", zp.PID)
	v1 := c.clientAs(t, "v1")
	v1.get(zURL)
	st, loc, body := v1.post(zURL+"/visit", url.Values{"csrf": {v1.csrf}, "outcome": {"notfound"}, "date": {"2024-05-08"}})
	if st != http.StatusSeeOther {
		t.Fatalf("the visit: %d %s", st, body)
	}
	_, body = v1.get(loc)
	main := body[strings.Index(body, "<main"):]
	for _, bad := range []string{"(COUNTER)", "(COMMUNITY)", "EMP_PENSION", "CMT.NOT_FOUND", "CMT:WEB-", "visit CMT", "outcome=", "event_date=", "batch=",
		"§6", "engine", "批次", "until=", "certified_on=", `<span class="code">` + zp.Rec.RegionCode} {
		if strings.Contains(main, bad) {
			i := strings.Index(main, bad)
			t.Errorf("the assistant's person page shows %q: …%s…", bad, main[max(0, i-200):min(len(main), i+100)])
		}
	}
	for _, want := range []string{"核实结果：未找到本人", "操作人：系统自动", "上门走访 · "} {
		if !strings.Contains(main, want) {
			t.Errorf("the assistant's person page lacks %q", want)
		}
	}
	_, body = c.clientAs(t, "operator").get(zURL)
	for _, want := range []string{"CMT.NOT_FOUND", "EMP_PENSION", "操作人：系统自动", "上门走访 · "} {
		if !strings.Contains(body, want) {
			t.Errorf("the operator's person page lacks %q", want)
		}
	}
}

// TestBackOffline: a visit sent with no signal (the browser shows its own error page)
// and brought back with the back button keeps its choice and its one-time key, with the
// signal still off (app.js reloaded the page, which failed offline: the choice was lost,
// even once the signal returned) and with the signal back, the page kept by the browser
// or, where it keeps none, loaded anew (the choice from sessionStorage); sent again, it
// is recorded, under its key.
func TestBackOffline(t *testing.T) {
	exe := browsertest.Chromium(t)
	c := newCity(t, storetest.Open(t, "sqlite:"+filepath.Join(t.TempDir(), "b.db")))
	zp, _ := c.db.PersonByID(context.Background(), zhang)
	zURL := fmt.Sprintf("%s/person/%d", c.srv.URL, zp.PID)
	for _, tc := range []struct {
		name       string
		backOnline bool
		more       []chromedp.ExecAllocatorOption
	}{
		{"back offline", false, nil},
		{"back online", true, nil},
		{"back online, no back-forward cache", true, []chromedp.ExecAllocatorOption{chromedp.Flag("disable-features", "BackForwardCache")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := browsertest.New(t, exe, 360, 740, tc.more...)
			signal := func(on bool) {
				t.Helper()
				if _, err := chromedp.Call(v, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
					MatchedNetworkConditions: []*network.Conditions{{Offline: !on}}}); err != nil {
					t.Fatal(err)
				}
				if _, err := chromedp.Call(v, network.OverrideNetworkState, network.OverrideNetworkStateParams{Offline: !on}); err != nil {
					t.Fatal(err)
				}
			}
			// waitAt waits for the tab to show a page whose address starts with prefix.
			waitAt := func(prefix string) {
				t.Helper()
				var loc string
				for range 100 {
					loc, _ = chromedp.Run(v, chromedp.Location())
					if strings.HasPrefix(loc, prefix) {
						ready, _ := chromedp.Run(v, chromedp.Evaluate[string](`document.readyState`))
						if ready == "complete" {
							return
						}
					}
					time.Sleep(100 * time.Millisecond)
				}
				t.Fatalf("at %s, waiting for %s", loc, prefix)
			}
			form := func() (outcome, once string) {
				t.Helper()
				got, err := chromedp.Run(v, chromedp.Evaluate[[]string](`(() => { const f = document.querySelector("form.visit");
				  if (!f) return ["no form", ""]; const e = f.querySelector("input[name=outcome]:checked"); return [e ? e.value : "none", f.elements.once.value]; })()`))
				if err != nil {
					t.Fatal(err)
				}
				return got[0], got[1]
			}
			if err := chromedp.Do(v, loginAs(c.srv.URL, "v1"), chromedp.Navigate(zURL), chromedp.WaitReady(css(`#h-visit`)),
				chromedp.Click(css(`form.visit input[value=alive]`))); err != nil {
				t.Fatal(err)
			}
			_, first := form()
			// A second form sharing the page's key, as the village page's cards do.
			if _, err := chromedp.Run(v, chromedp.Evaluate[any](`(() => { const g = document.querySelector("form.visit").cloneNode(true);
			  g.setAttribute("action", "/person/999999/visit"); g.classList.remove("visit"); document.body.appendChild(g); return 1; })()`)); err != nil {
				t.Fatal(err)
			}
			signal(false)
			if err := chromedp.Do(v, chromedp.Click(css(`form.visit button[type=submit]`))); err != nil {
				t.Fatal(err)
			}
			waitAt("chrome-error:")
			signal(tc.backOnline)
			// history.back(): NavigateBack waits for a load that a page restored from the
			// cache does not make. After the evaluation returns: a navigation begun within
			// it can fail it ("Inspected target navigated or closed", seen in CI).
			if _, err := chromedp.Run(v, chromedp.Evaluate[any](`(setTimeout(() => history.back(), 50), 1)`)); err != nil {
				t.Fatal(err)
			}
			waitAt(zURL)
			time.Sleep(500 * time.Millisecond) // a reload, if any, begins
			waitAt(zURL)
			if outcome, once := form(); outcome != "alive" || once != first {
				t.Fatalf("brought back: outcome %q, key %q; want alive, %q (the form sent with no answer)", outcome, once, first)
			}
			// The page's other forms, which shared its key, have keys of their own now.
			if shared, err := chromedp.Run(v, chromedp.Evaluate[int](`Array.from(document.querySelectorAll("form")).filter(f =>
			  f.elements.once && !f.classList.contains("visit") && f.elements.once.value === `+strconv.Quote(first)+`).length`)); err != nil || shared != 0 {
				t.Errorf("brought back: %d other forms keep the sent form's key (%v)", shared, err)
			}
			signal(true)
			sctx, cancel := context.WithTimeout(v, 30*time.Second)
			defer cancel()
			// A click by script: chromedp's own finds no node in a page restored from the cache.
			if err := chromedp.Do(sctx, chromedp.Evaluate[chromedp.Void](`(document.querySelector("form.visit button[type=submit]").click(), {})`),
				chromedp.WaitVisible(css(`p.ok[role=status]`))); err != nil {
				loc, _ := chromedp.Run(v, chromedp.Location())
				text, _ := chromedp.Run(v, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
				t.Fatalf("sent again: %v; at %s:\n%s", err, loc, text)
			}
			if b, err := c.db.BatchByKey(context.Background(), "console:"+first); err != nil || b == nil {
				t.Errorf("the visit sent again is not recorded under its key: %v %v", b, err)
			}
		})
	}
}
