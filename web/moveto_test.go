package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/silentcert/silentcert/divisions"
	"github.com/silentcert/silentcert/store/storetest"
)

// TestMoveByName: a village assistant records a move by the place's name, as they know it
// ("moved to her son's in 济南市历下区"), without JavaScript: a county is drilled into,
// town by town, down to the village; a full address is recorded at once; a name several
// places bear lists them by their full names; a place not found says how to write it; a
// move whose village nobody knows is recorded without one, the person left on this
// village's list; a typed 12-digit code (full-width digits too) is still taken.
func TestMoveByName(t *testing.T) {
	c := newCity(t, storetest.Open(t, "sqlite:"+t.TempDir()+"/w.db"))
	ctx := context.Background()
	tbl, err := divisions.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	// Real names: the first town of 济南市历下区 and its first village.
	towns := tbl.Children("370102")
	if len(towns) < 2 {
		t.Fatalf("历下区 has %d towns", len(towns))
	}
	town := towns[0]
	vill := tbl.Children(town.Code)[0]

	zp, _ := c.db.PersonByID(ctx, zhang)
	zURL := fmt.Sprintf("/person/%d", zp.PID)
	v1 := c.clientAs(t, "v1")
	_, page := v1.get(zURL)
	if !strings.Contains(page, `id="v-region" name="place"`) || strings.Contains(page, `pattern="[0-9]{12}"`) {
		t.Fatalf("the visit form does not take the place by name:\n%s", page)
	}
	once := regexp.MustCompile(`name="once" value="([0-9a-f]{24})"`).FindStringSubmatch(page)[1]
	post := func(cl *client, u string, form url.Values) (int, string, string) {
		form.Set("csrf", cl.csrf)
		form.Set("outcome", "moved")
		return cl.post(u+"/visit", form)
	}
	hidden := func(body, name, value string) bool {
		return strings.Contains(body, `<input type="hidden" name="`+name+`" value="`+value+`">`)
	}
	records := func(pid int64) int { rs, _ := c.db.PersonRecords(ctx, pid); return len(rs) }
	before := records(zp.PID)

	// The county: its towns to choose from, the form's fields kept, nothing recorded.
	st, _, body := post(v1, zURL, url.Values{"place": {"济南市历下区"}, "date": {"2024-05-01"}, "agent": {"1"}, "back": {"village"}, "once": {once}})
	if st != http.StatusOK || !strings.Contains(body, "已找到 济南市 › 历下区") ||
		!strings.Contains(body, `name="region_code" value="`+town.Code+`" required> `+town.Name) ||
		!hidden(body, "once", once) || !hidden(body, "date", "2024-05-01") || !hidden(body, "agent", "1") || !hidden(body, "back", "village") ||
		!hidden(body, "within", "370102") || !strings.Contains(body, "只知道迁往历下区") {
		t.Fatalf("济南市历下区: %d\n%s", st, body)
	}
	// The town chosen: its villages.
	st, _, body = post(v1, zURL, url.Values{"region_code": {town.Code}, "once": {once}, "back": {"village"}})
	if st != http.StatusOK || !strings.Contains(body, `name="region_code" value="`+vill.Code+`" required> `+vill.Name+`</label>`) {
		t.Fatalf("the town %s chosen: %d\n%s", town.Name, st, body)
	}
	if records(zp.PID) != before {
		t.Fatal("a move was recorded before its village was chosen")
	}
	// The village chosen: recorded, and the card leaves the assistant's list.
	st, loc, body := post(v1, zURL, url.Values{"region_code": {vill.Code}, "once": {once}, "back": {"village"}, "date": {"2024-05-01"}})
	if st != http.StatusSeeOther || !strings.HasPrefix(loc, "/village?done=") {
		t.Fatalf("the village %s chosen: %d %s\n%s", vill.Name, st, loc, body)
	}
	if p, _ := c.db.PersonByID(ctx, zhang); p.Rec.RegionCode != vill.Code {
		t.Errorf("moved to %s, want %s", p.Rec.RegionCode, vill.Code)
	}
	// The visit's row is the village's where it was recorded, not the destination's: its
	// auditors read the moves their assistant recorded (it was stamped with the
	// destination, read after the move in the batch's transaction).
	var region string
	if err := c.db.SQL().QueryRow(`SELECT region FROM audit WHERE actor = 'v1' AND kind = 'visit' ORDER BY seq DESC LIMIT 1`).Scan(&region); err != nil ||
		region != zp.Rec.RegionCode {
		t.Errorf("the move's visit row is stamped %q (%v), want the village's %s", region, err, zp.Rec.RegionCode)
	}

	// The operator types whole addresses; each record is one person's move.
	op := c.clientAs(t, "operator")
	person := func(id string) (int64, string) {
		p, _ := c.db.PersonByID(ctx, id)
		return p.PID, fmt.Sprintf("/person/%d", p.PID)
	}
	wPID, wURL := person("371002195005200045") // 王芳
	op.get(wURL)
	addr := "山东省济南市历下区" + town.Name + vill.Name
	if st, _, body := post(op, wURL, url.Values{"place": {addr}}); st != http.StatusSeeOther {
		t.Fatalf("%s: %d\n%s", addr, st, body)
	}
	if p, _ := c.db.PersonByID(ctx, "371002195005200045"); p.Rec.RegionCode != vill.Code {
		t.Errorf("%s: moved to %s, want %s", addr, p.Rec.RegionCode, vill.Code)
	}
	_ = wPID

	// A name four districts bear: each by its full name.
	_, sURL := person("37100219450909005X") // 孙七
	st, _, body = post(op, sURL, url.Values{"place": {"鼓楼区"}})
	for _, want := range []string{"南京市 › 鼓楼区", "徐州市 › 鼓楼区", "福州市 › 鼓楼区", "开封市 › 鼓楼区", "“鼓楼区”不止一处"} {
		if st != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("鼓楼区: %d, no %s\n%s", st, want, body)
		}
	}
	// A province alone: its prefectures.
	if st, _, body := post(op, sURL, url.Values{"place": {"山东省"}}); st != http.StatusOK || !strings.Contains(body, `value="3701" required> 济南市 ›`) {
		t.Errorf("山东省: %d\n%s", st, body)
	}
	// Not found, and nothing given: asked again, with the way to say "unknown".
	for place, want := range map[string]string{"火星市奥林匹斯山": "没有找到“火星市奥林匹斯山”", "": "请填写本人迁往何处"} {
		st, _, body := post(op, sURL, url.Values{"place": {place}})
		if st != http.StatusBadRequest || !strings.Contains(body, want) || !strings.Contains(body, `name="unknown" value="1"`) {
			t.Errorf("%q: %d\n%s", place, st, body)
		}
	}
	// Unknown beyond the county: recorded without a place; the person stays where they were.
	sPID, _ := person("37100219450909005X")
	n := records(sPID)
	if st, _, body := post(op, sURL, url.Values{"unknown": {"1"}, "within": {"370102"}}); st != http.StatusSeeOther {
		t.Fatalf("moved, village unknown: %d\n%s", st, body)
	}
	if p, _ := c.db.PersonByID(ctx, "37100219450909005X"); p.Rec.RegionCode != "371002001005" || records(sPID) != n+1 {
		t.Errorf("moved with the village unknown: region %s, %d records (was %d)", p.Rec.RegionCode, records(sPID), n)
	}
	if rows, _ := c.db.PersonAudit(ctx, sPID); len(rows) == 0 || !strings.Contains(rows[len(rows)-1].Detail, "moved_to=370102") {
		t.Errorf("the audit does not keep the county the person moved to: %+v", rows)
	}
	// A code typed with a Chinese input method's full-width digits.
	_, zURL2 := person("371002194207010050") // 赵六
	full := strings.Map(func(r rune) rune { return r - '0' + '０' }, vill.Code)
	if st, _, body := post(op, zURL2, url.Values{"place": {full}}); st != http.StatusSeeOther {
		t.Errorf("a full-width code: %d\n%s", st, body)
	}
	if p, _ := c.db.PersonByID(ctx, "371002194207010050"); p.Rec.RegionCode != vill.Code {
		t.Errorf("a full-width code: moved to %s", p.Rec.RegionCode)
	}
}
