package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/service"
	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
)

// TestVisitForm: the village assistant's visit form carries a one-time key, so that the
// form sent twice (a double tap, a resend after a timeout) records one visit; no outcome
// and no date are given beforehand; a death needs its date and not one before the birth;
// a move to the village the person lives in is refused; a success message says only a
// batch's number, never words from the address.
func TestVisitForm(t *testing.T) {
	c := newCity(t, storetest.Open(t, "sqlite:"+t.TempDir()+"/w.db"))
	ctx := context.Background()
	zp, _ := c.db.PersonByID(ctx, zhang)
	zURL := fmt.Sprintf("/person/%d", zp.PID)
	v1 := c.clientAs(t, "v1")
	_, body := v1.get(zURL)
	m := regexp.MustCompile(`<form method="post" action="` + zURL + `/visit"[^>]*>\s*<input type="hidden" name="csrf" value="[^"]*">\s*<input type="hidden" name="once" value="([0-9a-f]{24})">`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("the visit form has no one-time key:\n%s", body)
	}
	if strings.Contains(body, "checked") || regexp.MustCompile(`name="date" type="date" value=`).MatchString(body) {
		t.Error("the visit form chooses an outcome or a date beforehand")
	}
	if _, village := v1.get("/village"); strings.Contains(village, "checked") || !strings.Contains(village, `name="once"`) {
		t.Error("the village page's forms choose an outcome beforehand, or carry no one-time key")
	}
	post := func(form url.Values) (int, string, string) {
		form.Set("csrf", v1.csrf)
		return v1.post(zURL+"/visit", form)
	}
	for _, bad := range []url.Values{
		{"outcome": {"death"}},
		{"outcome": {"death"}, "date": {"1939-12-31"}},
		{"outcome": {"moved"}, "region_code": {zp.Rec.RegionCode}},
		{"outcome": {"alive"}, "once": {"../../etc"}},
	} {
		if st, _, body := post(bad); st != http.StatusBadRequest {
			t.Errorf("%v: %d, want 400\n%s", bad, st, body)
		}
	}
	// The answer is in the assistant's words, with the way back to the form.
	if _, _, body := post(url.Values{"outcome": {"death"}}); !strings.Contains(body, "请填写死亡日期") || !strings.Contains(body, `<a href="`+zURL+`#h-visit">返回重填</a>`) {
		t.Errorf("a death without its date is not answered in Chinese with the way back:\n%s", body)
	}
	if _, _, body := post(url.Values{"outcome": {"alive"}, "date": {"08/05/2024"}}); !strings.Contains(body, "请按 年-月-日 填写") {
		t.Errorf("a date in another order is not explained:\n%s", body)
	}
	before, _ := c.db.PersonRecords(ctx, zp.PID)
	// A date typed by hand on a phone without a date picker.
	if st, _, body := post(url.Values{"outcome": {"notfound"}, "date": {"2024年5月8日"}}); st != http.StatusSeeOther {
		t.Fatalf("a date typed 2024年5月8日: %d\n%s", st, body)
	}
	if rs, _ := c.db.PersonRecords(ctx, zp.PID); len(rs) != len(before)+1 || rs[len(rs)-1].EventDate.String() != "2024-05-08" {
		t.Errorf("the visit typed 2024年5月8日 was not dated 2024-05-08")
	}
	before, _ = c.db.PersonRecords(ctx, zp.PID)
	st, loc, body := post(url.Values{"outcome": {"alive"}, "once": {m[1]}})
	if st != http.StatusSeeOther {
		t.Fatalf("the visit: %d %s", st, body)
	}
	st2, loc2, _ := post(url.Values{"outcome": {"alive"}, "once": {m[1]}})
	if st2 != http.StatusSeeOther || loc2 != loc {
		t.Errorf("the visit sent again: %d %s, first %s", st2, loc2, loc)
	}
	after, _ := c.db.PersonRecords(ctx, zp.PID)
	if len(after) != len(before)+1 || after[len(after)-1].RecordID != "WEB-"+m[1] {
		t.Errorf("%d records after the visit sent twice, %d before; want one more, named by the form's key", len(after), len(before))
	}
	// A move recorded from the village's list: the card leaves it, and the page says the
	// visit was recorded.
	_, page := v1.get(zURL)
	once := regexp.MustCompile(`name="once" value="([0-9a-f]{24})"`).FindStringSubmatch(page)
	if once == nil {
		t.Fatal("no one-time key on the person page")
	}
	st, loc, _ = post(url.Values{"outcome": {"moved"}, "region_code": {"371002001003"}, "back": {"village"}, "once": {once[1]}})
	if st != http.StatusSeeOther || !strings.HasPrefix(loc, "/village?done=") {
		t.Fatalf("the move from the village's list: %d %s", st, loc)
	}
	if _, body := v1.get(loc); !strings.Contains(body, `id="gone"`) || strings.Contains(body, `id="p-`+fmt.Sprint(zp.PID)+`"`) {
		t.Errorf("after a move the village's page does not say it was recorded, or still shows the card:\n%s", body)
	}
	if _, body := c.clientAs(t, "operator").get(zURL + "?done=已核销"); strings.Contains(body, "已核销") {
		t.Error("the person page shows words from its address as a success message")
	}
}

// TestSessionEndedUnderForm: a form sent after its session ended (its 12 hours, a logout
// elsewhere) is answered with the sign-in page saying so, which leads back to the form's
// page; nothing is recorded.
func TestSessionEndedUnderForm(t *testing.T) {
	c := newCity(t, storetest.Open(t, "sqlite:"+t.TempDir()+"/w.db"))
	ctx := context.Background()
	zp, _ := c.db.PersonByID(ctx, zhang)
	zURL := fmt.Sprintf("/person/%d", zp.PID)
	v1 := c.clientAs(t, "v1")
	v1.get(zURL)
	before, _ := c.db.PersonRecords(ctx, zp.PID)
	if _, err := c.db.SQL().ExecContext(ctx, `DELETE FROM sessions`); err != nil {
		t.Fatal(err)
	}
	st, _, body := v1.post(zURL+"/visit", url.Values{"csrf": {v1.csrf}, "outcome": {"alive"}})
	if st != http.StatusUnauthorized || !strings.Contains(body, "登录已过期") || !strings.Contains(body, `name="next" value="`+zURL+`#h-visit"`) { // at the form again
		t.Errorf("a visit sent after the session ended: %d\n%s", st, body)
	}
	if after, _ := c.db.PersonRecords(ctx, zp.PID); len(after) != len(before) {
		t.Error("a visit was recorded without a session")
	}
	// Signing out with the dead session leads to the sign-in page.
	if st, loc, _ := v1.post("/logout", url.Values{"csrf": {v1.csrf}}); st != http.StatusSeeOther || loc != "/login" {
		t.Errorf("sign out after the session ended: %d %s", st, loc)
	}
	anon := c.client(t)
	if st, _, body := anon.post(zURL+"/visit", url.Values{"outcome": {"alive"}}); st != http.StatusForbidden {
		t.Errorf("a form sent with no session at all: %d %s", st, body)
	}
}

// TestFormsSentTwice: a visit form tapped four times at once is one record, one batch and
// one audit row, each tap answered as recorded; a move sent again after the person left
// the assistant's village is answered as recorded, not "not found"; a review's chosen
// record of another department is not named to the assistant; a refund sent again is
// answered with its entry, not refused as nothing due.
func TestFormsSentTwice(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			c := newCity(t, dsn.Open(t))
			ctx := context.Background()
			zp, _ := c.db.PersonByID(ctx, zhang)
			zURL := fmt.Sprintf("/person/%d", zp.PID)
			v1 := c.clientAs(t, "v1")
			v1.get(zURL)
			batches := func() int { bs, _ := c.db.Batches(ctx, 1000); return len(bs) }
			before := batches()
			form := url.Values{"csrf": {v1.csrf}, "outcome": {"alive"}, "once": {"00112233445566778899aabb"}}
			var wg sync.WaitGroup
			codes := make([]int, 4)
			for i := range codes {
				wg.Add(1)
				go func() { defer wg.Done(); codes[i], _, _ = v1.post(zURL+"/visit", form) }()
			}
			wg.Wait()
			rows, _ := c.db.Trail(ctx, store.TrailQuery{Kind: "visit", From: sc.NoDate, To: sc.NoDate})
			if n := batches() - before; n != 1 || len(rows) != 1 || slices.ContainsFunc(codes, func(c int) bool { return c != http.StatusSeeOther }) {
				t.Errorf("four taps at once: %d batches, %d audit rows, answers %v; want 1, 1, all 303", n, len(rows), codes)
			}
			move := url.Values{"csrf": {v1.csrf}, "outcome": {"moved"}, "region_code": {"371002001003"}, "back": {"village"}, "once": {"0123456789abcdef01234567"}}
			st, loc, _ := v1.post(zURL+"/visit", move)
			st2, loc2, body := v1.post(zURL+"/visit", move)
			if st != http.StatusSeeOther || st2 != http.StatusSeeOther || loc2 != loc {
				t.Errorf("a move sent again: %d %s, then %d %s\n%s", st, loc, st2, loc2, body)
			}
			// 李秀英: a death and a vaccination after it; the bureau keeps her alive by the
			// vaccination (HEA:V1). Her assistant does not see that record named.
			lp, _ := c.db.PersonByID(ctx, "371002193802100021")
			lURL := fmt.Sprintf("/person/%d", lp.PID)
			for _, b := range []string{"D1,PSB,PSB.DEATH_DEREG,371002193802100021,2024-04-01,2024-05-01\n", "V1,HEA,HEA.VACCINATION,371002193802100021,2024-05-02,2024-05-09\n"} {
				if _, err := c.svc.Ingest(ctx, service.Batch{Origin: "test", Actor: "test", Day: today, Files: []service.File{{Name: "r.csv",
					Body: strings.NewReader("record_id,source,type,person_id,event_date,reported_date\n" + b)}}}); err != nil {
					t.Fatal(err)
				}
			}
			op := c.clientAs(t, "operator")
			op.get(lURL)
			if st, _, body := op.post(lURL+"/review", url.Values{"csrf": {op.csrf}, "accept": {"alive"}, "ref": {"HEA:V1"}, "reason": {"seen at the clinic"}}); st != http.StatusSeeOther {
				t.Fatalf("review: %d %s", st, body)
			}
			if _, body := c.clientAs(t, "v2").get(lURL); strings.Contains(body, "HEA:V1") || strings.Contains(body, "PSB:D1") {
				t.Error("the assistant's person page names another department's record")
			}
		})
	}
}

// TestVillageListCut: a village of more people to visit than the page's 500 says that the
// rest are found by search; a visit to someone past them is not reported as gone.
func TestVillageListCut(t *testing.T) {
	c := newCity(t, storetest.Open(t, "sqlite:"+t.TempDir()+"/w.db"))
	ctx := context.Background()
	tx, err := c.db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ps []*store.Person
	for i := range 505 {
		ps = append(ps, &store.Person{PID: int64(1000 + i), Rec: sc.Recipient{PersonID: fmt.Sprintf("37100219500101%04d", i), Name: fmt.Sprintf("村民%d", i),
			Sex: 1, BirthDate: 100, RegionCode: "371002001001", LastCertified: sc.NoDate}, Status: sc.StatusPending, Until: today - 10,
			NextCheck: sc.NoDate, Baselined: true, State: []byte{1}})
	}
	if err := tx.PutPeople(ps); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	v1 := c.clientAs(t, "v1")
	if _, body := v1.get("/village"); !strings.Contains(body, `id="cut"`) || !strings.Contains(body, "前 500 人") {
		t.Error("a village list cut at 500 does not say so")
	}
	if _, body := v1.get("/village?done=1504"); strings.Contains(body, `id="gone"`) {
		t.Error("a person past the cut is reported gone")
	}
}
