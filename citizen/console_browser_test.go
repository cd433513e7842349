package citizen_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/auth"
	"github.com/silentcert/silentcert/citizen"
	"github.com/silentcert/silentcert/internal/browsertest"
	"github.com/silentcert/silentcert/store/storetest"
	"github.com/silentcert/silentcert/web"
)

type css = chromedp.CSS

const (
	pw = "correct horse battery staple"
	// 赵六 of the scenario, given an agent's phone for this test.
	zhao      = "371002194207010050"
	zhaoAgent = "13900000004"
)

// browser is one headless Chromium of the given size with a time limit.
func browser(t *testing.T, exe string, w, h int) context.Context {
	ctx, cancel := context.WithTimeout(browsertest.New(t, exe, w, h), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// agentAttempt is an agent's whole visit on a phone: the SMS link, the pensioner's last
// four ID characters with "代办人", the code (which must go to the agent's phone), the
// burst the capture page takes with a camera that plays the video at camera
// (citizen.BlinkCamera), and the outcome the page then shows.
func agentAttempt(t *testing.T, c *citizen.City, base, personID, agentPhone, camera string, shot string) (outcome string) {
	t.Helper()
	now := c.Now()
	link, err := citizen.NewLink(context.Background(), c.DB, c.PID(t, personID), now, now.Add(72*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	b, cancel := context.WithTimeout(browsertest.New(t, browsertest.Chromium(t), 390, 844, browsertest.Camera(camera)...), 3*time.Minute)
	t.Cleanup(cancel)
	if err := chromedp.Do(b, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)),
		chromedp.Navigate(base+link),
		chromedp.WaitVisible(css(`#last4`)),
		chromedp.SendKeys(css(`#last4`), personID[14:]),
		chromedp.Click(css(`input[name=role][value=agent]`)),
		chromedp.Click(css(`form[action^="/c/"] button[type=submit]`)),
		chromedp.WaitVisible(css(`#code`))); err != nil {
		t.Fatalf("link page: %v", err)
	}
	code, phone := c.Code(t)
	if phone != agentPhone || len(code) != 6 {
		t.Fatalf("code %q sent to %s, want the agent's phone %s", code, phone, agentPhone)
	}
	if err := chromedp.Do(b,
		chromedp.SendKeys(css(`#code`), code),
		chromedp.Click(css(`form[action="/c/code"] button[type=submit]`)),
		chromedp.WaitVisible(css(`#certify`)),
		chromedp.Click(css(`#certify`)),
		chromedp.WaitVisible(css(`#start`))); err != nil {
		t.Fatalf("code and capture page: %v", err)
	}
	browsertest.Screenshot(t, b, shot+"-capture")
	if err := chromedp.Do(b, chromedp.Click(css(`#start`)), chromedp.WaitVisible(css(`#result`))); err != nil {
		t.Fatalf("the camera's burst: %v", err)
	}
	out, err := chromedp.Run(b, chromedp.AttributeValue(css(`#result`), "data-outcome"))
	if err != nil {
		t.Fatal(err)
	}
	browsertest.Screenshot(t, b, shot+"-result")
	return out.Value
}

// faceRecord returns a person's HRSS.FACE records' details.
func faceDetails(t *testing.T, c *citizen.City, personID string) []string {
	t.Helper()
	recs, err := c.DB.PersonRecords(context.Background(), c.PID(t, personID))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range recs {
		if r.Source == "HRSS" && r.Type == "HRSS.FACE" {
			out = append(out, r.Detail)
		}
	}
	return out
}

// TestBrowserAgentAndReview drives, in headless Chromium, what issue 9 asks of an agent
// (代办) and of the review queue: 张三's agent, whose phone is the roster's agent_phone,
// opens the reminder's link, gets the SMS code on that phone, takes the selfie, and 张三
// is CERTIFIED by FACE with agent=1 in the record; 赵六's agent does the same, but 赵六 has
// no reference photo, so the attempt goes to review; an operator of the staff console sees
// the case on /reviews, accepts it, and the console's person page shows 赵六 certified.
func TestBrowserAgentAndReview(t *testing.T) {
	exe := browsertest.Chromium(t)
	m := citizen.Models(t)
	ctx := context.Background()
	c := citizen.NewCity(t, storetest.Open(t, "sqlite:"+filepath.Join(t.TempDir(), "a.db")), m)
	// 赵六 gets an agent: the roster again, with his agent_phone set.
	roster, err := os.ReadFile("../backtest/testdata/scenario/roster.csv")
	if err != nil {
		t.Fatal(err)
	}
	old := zhao + ",赵六,1,1942-07-01,,371002001004,,,"
	if !strings.Contains(string(roster), old) {
		t.Fatalf("the scenario's roster has no line %q", old)
	}
	path := filepath.Join(t.TempDir(), "roster.csv")
	if err := os.WriteFile(path, []byte(strings.Replace(string(roster), old, zhao+",赵六,1,1942-07-01,,371002001004,,"+zhaoAgent+",", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Svc.ImportRoster(ctx, path, "", "test"); err != nil {
		t.Fatal(err)
	}
	// The console beside the citizen's site, as serve mounts them.
	a := auth.New(c.DB, auth.Options{Now: c.Now, Hash: auth.HashParams{Time: 1, Memory: 64, Threads: 1}})
	if _, err := a.EnsureUser(ctx, "operator", pw, auth.RoleOperator, ""); err != nil {
		t.Fatal(err)
	}
	console, err := web.New(web.Options{DB: c.DB, Auth: a, Ingest: web.FromService(c.Svc), Faces: web.FromCitizen(c.DB, c.Svc),
		Now: c.Now, Today: c.Svc.Today})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/c/", c.Handler)
	mux.Handle("/", console)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	base := srv.URL
	status := func(personID string) (sc.Status, sc.Method) {
		p, err := c.DB.PersonByID(ctx, personID)
		if err != nil {
			t.Fatal(err)
		}
		return p.Status, p.Method
	}
	for _, id := range []string{citizen.Zhang, zhao} {
		if s, _ := status(id); s == sc.StatusCertified {
			t.Fatalf("%s is already certified: the test needs people who are not", id)
		}
	}

	// 张三's agent: accepted on the spot, recorded as an agent's.
	c.ImportIDPhoto(t, citizen.Zhang, citizen.Demo(t, "sample2.jpg"))
	if out := agentAttempt(t, c, base, citizen.Zhang, citizen.ZhangAgent, citizen.BlinkCamera(t, m, 0), "agent"); out != "accept" {
		t.Fatalf("张三's agent's attempt: %s", out)
	}
	if d := faceDetails(t, c, citizen.Zhang); len(d) != 1 || d[0] != "agent=1" {
		t.Fatalf("张三's HRSS.FACE records: %q, want one with agent=1", d)
	}
	if s, m := status(citizen.Zhang); s != sc.StatusCertified || m != sc.MethodFace {
		t.Fatalf("after the agent's attempt 张三 is %s by %s", s, m)
	}

	// 赵六's agent: no reference to compare with, so the attempt waits for staff.
	if out := agentAttempt(t, c, base, zhao, zhaoAgent, citizen.BlinkCamera(t, m, 3), "borderline"); out != "review" {
		t.Fatalf("赵六's attempt without a reference: %s", out)
	}
	if s, _ := status(zhao); s == sc.StatusCertified || len(faceDetails(t, c, zhao)) != 0 {
		t.Fatalf("an attempt in review certified 赵六 (%s)", s)
	}
	pg, err := citizen.Reviews(ctx, c.DB, citizen.ReviewQuery{})
	if err != nil || len(pg.Reviews) != 1 || pg.Reviews[0].PersonID != zhao || pg.Reviews[0].Reason != "no_reference" || !pg.Reviews[0].Agent {
		t.Fatalf("the queue: %+v %v", pg.Reviews, err)
	}
	card := fmt.Sprintf("#r-%d", pg.Reviews[0].ID)

	// The operator, at a desk: the case on /reviews, accepted.
	op := browser(t, exe, 1280, 900)
	if err := chromedp.Do(op,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(css(`#name`)),
		chromedp.SendKeys(css(`#name`), "operator"),
		chromedp.SendKeys(css(`#password`), pw),
		chromedp.Click(css(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitReady(css(`form[action="/logout"]`)),
		chromedp.Navigate(base+"/reviews"),
		chromedp.WaitVisible(css(card))); err != nil {
		t.Fatalf("the console's review queue: %v", err)
	}
	text := browsertest.Text(t, op, card)
	if !strings.Contains(text, "赵六") || !strings.Contains(text, "无可比对的参考照片") || !strings.Contains(text, "代办人协助") ||
		!strings.Contains(text, "尚未导入此人的身份证照片") {
		t.Fatalf("the review's card says:\n%s", text)
	}
	if n, err := chromedp.Run(op, chromedp.Evaluate[int](`document.querySelectorAll("`+card+` img").length`)); err != nil || n != 1 {
		t.Fatalf("the card shows %d photos (%v), want the selfie", n, err)
	}
	browsertest.Screenshot(t, op, "console-reviews")
	// No photo to compare: the accept is not one click; the form wants the other check.
	if err := chromedp.Do(op, chromedp.Click(css(card+` button[value=accept]`))); err != nil {
		t.Fatal(err)
	}
	if ok, err := chromedp.Run(op, chromedp.Evaluate[bool](`document.querySelector("`+card+` select[name=check]").validity.valueMissing`)); err != nil || !ok {
		t.Fatalf("the accept went without a check (%v)", err)
	}
	if err := chromedp.Do(op,
		chromedp.SetValue(css(card+` select[name=check]`), "video"),
		chromedp.Click(css(card+` button[value=accept]`)),
		chromedp.WaitVisible(css(`main p.ok[role=status]`))); err != nil {
		t.Fatalf("accept: %v", err)
	}
	if got, want := browsertest.Text(t, op, `main p.ok[role=status]`), fmt.Sprintf("复核 %d 已确认通过", pg.Reviews[0].ID); !strings.HasPrefix(got, want) {
		t.Fatalf("after accept the page says %q", got)
	}
	if n, err := chromedp.Run(op, chromedp.Evaluate[int](`document.querySelectorAll("`+card+`").length`)); err != nil || n != 0 {
		t.Fatalf("the accepted review is still listed (%v)", err)
	}
	browsertest.Screenshot(t, op, "console-accepted")
	if err := chromedp.Do(op, chromedp.Navigate(fmt.Sprintf("%s/person/%d", base, c.PID(t, zhao))), chromedp.WaitVisible(css(`#status`))); err != nil {
		t.Fatal(err)
	}
	st, err := chromedp.Run(op, chromedp.AttributeValue(css(`#status`), "data-status"))
	if err != nil || st.Value != "CERTIFIED" {
		t.Fatalf("the console shows 赵六 %q (%v)", st.Value, err)
	}
	browsertest.Screenshot(t, op, "console-person-certified")
	if s, m := status(zhao); s != sc.StatusCertified || m != sc.MethodFace {
		t.Fatalf("after the review 赵六 is %s by %s", s, m)
	}
	if d := faceDetails(t, c, zhao); len(d) != 1 || d[0] != "agent=1" {
		t.Fatalf("赵六's HRSS.FACE records: %q, want one with agent=1", d)
	}
}
