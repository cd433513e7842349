package web_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/auth"
	"github.com/silentcert/silentcert/citizen"
	"github.com/silentcert/silentcert/store/storetest"
	"github.com/silentcert/silentcert/web"
)

// fakeFaces is a review queue in memory that records every decision and visit.
type fakeFaces struct {
	mu        sync.Mutex
	reviews   []citizen.Review // by id
	visits    []citizen.Visit
	decided   []string // "id actor accept"
	visited   []string // "pid actor evidence"
	recovered int      // calls of Recover
	signIns   map[int64]citizen.SignIns
	ended     []string // "pid actor reason"
}

func (f *fakeFaces) SignIns(_ context.Context, pid int64, _ time.Time) (citizen.SignIns, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.signIns[pid], nil
}

func (f *fakeFaces) EndSignIns(_ context.Context, pid int64, actor, reason string, _ time.Time) (citizen.SignIns, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.signIns[pid]
	delete(f.signIns, pid)
	f.ended = append(f.ended, fmt.Sprintf("%d %s %s", pid, actor, reason))
	return s, nil
}

func (f *fakeFaces) Recover(context.Context, time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.recovered++
	return nil
}

func (f *fakeFaces) Reviews(_ context.Context, q citizen.ReviewQuery, _ time.Time) (citizen.ReviewPage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var pg citizen.ReviewPage
	for _, r := range f.reviews {
		if !strings.HasPrefix(r.Region, q.Region) {
			continue
		}
		pg.Total++
		if r.ID <= q.After {
			continue
		}
		if q.Limit > 0 && len(pg.Reviews) == q.Limit {
			pg.More = true
			continue
		}
		pg.Reviews = append(pg.Reviews, r)
	}
	return pg, nil
}

func (f *fakeFaces) Review(_ context.Context, id int64) (*citizen.Review, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.reviews {
		if r.ID == id {
			return &r, nil
		}
	}
	return nil, sc.Errorf(sc.ENotFound, "no open review %d", id)
}

func (f *fakeFaces) Decide(_ context.Context, id int64, actor string, d citizen.ReviewDecision, _ time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, r := range f.reviews {
		if r.ID == id {
			f.reviews = append(f.reviews[:i], f.reviews[i+1:]...)
			f.decided = append(f.decided, strings.TrimSpace(fmt.Sprintf("%d %s %v %s", id, actor, d.Accept, d.Check)))
			return nil
		}
	}
	return sc.Errorf(sc.EConflict, "review %d is not open", id)
}

func (f *fakeFaces) NeedsVisit(context.Context) ([]citizen.Visit, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]citizen.Visit(nil), f.visits...), nil
}

func (f *fakeFaces) Visited(_ context.Context, pid int64, actor, evidence string, _ time.Time) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, v := range f.visits {
		if v.PID == pid {
			f.visits = append(f.visits[:i], f.visits[i+1:]...)
			f.visited = append(f.visited, fmt.Sprintf("%d %s %s", pid, actor, evidence))
			return true, nil
		}
	}
	return false, nil
}

// faceConsole is a second console over the city's database with faces set, and one more
// account: an operator scoped to another district.
func faceConsole(t *testing.T, c *city, faces web.FaceReviews) *city {
	t.Helper()
	return faceConsoleLog(t, c, faces, nil)
}

// faceConsoleLog is faceConsole writing the console's log to log (nil: discarded).
func faceConsoleLog(t *testing.T, c *city, faces web.FaceReviews, log *slog.Logger) *city {
	t.Helper()
	clock := func() time.Time { return time.Date(2024, 5, 10, 9, 0, 0, 0, time.UTC) }
	a := auth.New(c.db, auth.Options{Now: clock, Hash: auth.HashParams{Time: 1, Memory: 64, Threads: 1}})
	if _, err := a.EnsureUser(context.Background(), "op-other", pw, auth.RoleOperator, "371099"); err != nil {
		t.Fatal(err)
	}
	h, err := web.New(web.Options{DB: c.db, Auth: a, Ingest: web.FromService(c.svc), Faces: faces, Now: clock,
		Today: func() sc.Date { return today }, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &city{db: c.db, svc: c.svc, srv: srv}
}

// jpeg is enough of a JPEG for the page to embed it.
var jpeg = []byte{0xff, 0xd8, 0xff, 0xe0, 'f', 'a', 'k', 'e'}

func TestFaceReviews(t *testing.T) {
	base := newCity(t, storetest.Open(t, "sqlite:"+t.TempDir()+"/f.db"))
	ctx := context.Background()
	zp, _ := base.db.PersonByID(ctx, zhang)
	lp, _ := base.db.PersonByID(ctx, li)
	created := time.Date(2024, 5, 9, 2, 0, 0, 0, time.UTC)
	f := &fakeFaces{
		reviews: []citizen.Review{
			{ID: 7, PID: zp.PID, PersonID: zhang, Name: "张三", Region: "371002001001", Created: created, Distance: 0.4512,
				Reason: "borderline", Selfie: jpeg, IDPhoto: jpeg},
			{ID: 8, PID: lp.PID, PersonID: li, Name: "李秀英", Region: "371002001002", Created: created, Distance: -1,
				Reason: "no_reference", Agent: true},
			{ID: 9, PID: 999999, PersonID: "371099194001010011", Name: "王外区", Region: "371099001001", Created: created,
				Distance: 0.5, Reason: "borderline"},
		},
		visits: []citizen.Visit{
			{PID: zp.PID, PersonID: zhang, Name: "张三", Region: "371002001001", Since: created, Failures: 3, Last: "reject:mismatch"},
			{PID: 999999, PersonID: "371099194001010011", Name: "王外区", Region: "371099001001", Since: created, Failures: 4, Last: "reject:frozen"},
		},
	}
	var logged syncBuf
	c := faceConsoleLog(t, base, f, slog.New(slog.NewJSONHandler(&logged, nil)))
	defer func() {
		// Who looked at the ID photos and selfies, and whose: a log line a page.
		if !strings.Contains(logged.String(), `"msg":"console face reviews view","user":"auditor","reviews":[7,8,9]`) || strings.Contains(logged.String(), zhang) {
			t.Errorf("the reviews' views are not logged so:\n%s", logged.String())
		}
	}()

	// Without Faces the pages are not there.
	plain := base.client(t)
	plain.login("operator")
	if st, _ := plain.get("/reviews"); st != http.StatusNotFound {
		t.Errorf("/reviews without Faces: %d", st)
	}

	// Who may see the queue: the city bureau; district, town and village staff may not.
	for _, name := range []string{"district", "town", "v1"} {
		cl := c.client(t)
		cl.login(name)
		if st, _ := cl.get("/reviews"); st != http.StatusForbidden {
			t.Errorf("%s opens /reviews: %d", name, st)
		}
		if st, _, _ := cl.post("/reviews/7", url.Values{"csrf": {cl.csrf}, "op": {"accept"}}); st != http.StatusForbidden {
			t.Errorf("%s decides a review: %d", name, st)
		}
	}

	// The auditor reads, with the photos side by side, but has no buttons and cannot decide.
	aud := c.client(t)
	aud.login("auditor")
	st, body := aud.get("/reviews")
	if st != http.StatusOK || !strings.Contains(body, "张三") || !strings.Contains(body, "王外区") ||
		strings.Count(body, `src="data:image/jpeg;base64,`) != 2 || !strings.Contains(body, "0.4512") {
		t.Fatalf("auditor's /reviews: %d\n%s", st, body)
	}
	if strings.Contains(body, `action="/reviews/7"`) {
		t.Errorf("the auditor gets the decision buttons")
	}
	if !strings.Contains(body, "data-nophotos") || !strings.Contains(body, "无参考照片") {
		t.Errorf("a review without photos does not say so, or a distance of -1 is shown as a number")
	}
	if strings.Contains(body, zhang) {
		t.Errorf("the auditor sees the ID number in full")
	}
	if f.recovered != 0 {
		t.Errorf("the auditor's look at the queue finished interrupted accepts (it writes, as no one)")
	}
	if st, _, _ := aud.post("/reviews/7", url.Values{"csrf": {aud.csrf}, "op": {"accept"}}); st != http.StatusForbidden {
		t.Errorf("the auditor decides: %d", st)
	}

	// An operator scoped to another district sees only its review, and the others are "not found".
	other := c.client(t)
	other.login("op-other")
	_, body = other.get("/reviews")
	if strings.Contains(body, "张三") || !strings.Contains(body, "王外区") {
		t.Errorf("op-other's queue is not its region's:\n%s", body)
	}
	if st, _, _ := other.post("/reviews/7", url.Values{"csrf": {other.csrf}, "op": {"accept"}}); st != http.StatusNotFound {
		t.Errorf("op-other decides a review outside its region: %d", st)
	}

	// CSRF: without the token, or with another session's, nothing is decided.
	op := c.client(t)
	op.login("operator")
	for name, tok := range map[string]string{"missing": "", "another session's": other.csrf} {
		form := url.Values{"op": {"accept"}}
		if tok != "" {
			form.Set("csrf", tok)
		}
		if st, _, _ := op.post("/reviews/7", form); st != http.StatusForbidden {
			t.Errorf("%s CSRF token: %d", name, st)
		}
	}
	if st, _, _ := op.post("/reviews/7", url.Values{"csrf": {op.csrf}, "op": {"maybe"}}); st != http.StatusBadRequest {
		t.Errorf("an unknown op: %d", st)
	}
	if len(f.decided) != 0 {
		t.Fatalf("refused requests decided: %v", f.decided)
	}

	// Accept: Decide gets the review, the user's name and accept; the queue no longer lists it.
	_, body = op.get("/reviews")
	if !strings.Contains(body, `action="/reviews/7"`) || !strings.Contains(body, zhang) {
		t.Fatalf("the operator has no buttons or a masked ID")
	}
	if f.recovered == 0 {
		t.Errorf("the queue was shown to an operator without finishing interrupted accepts first")
	}
	// With no ID photo on the page the card says so plainly, and its accept asks how else
	// the person was checked; with the photo, a click does.
	card := func(id string) string {
		i := strings.Index(body, `id="r-`+id+`"`)
		if i < 0 {
			t.Fatalf("no card r-%s", id)
		}
		j := strings.Index(body[i:], "</article>")
		return body[i : i+j]
	}
	if c7 := card("7"); strings.Contains(c7, "data-nocompare") || strings.Contains(c7, `name="check"`) {
		t.Errorf("a review with the ID photo asks for another check:\n%s", c7)
	}
	for _, k := range []struct{ id, says string }{{"8", "尚未导入此人的身份证照片"}, {"9", "尚未导入此人的身份证照片"}} {
		if c := card(k.id); !strings.Contains(c, "data-nocompare") || !strings.Contains(c, k.says) ||
			!strings.Contains(c, `<select id="check-`+k.id+`" name="check" required>`) || !strings.Contains(c, `value="video"`) ||
			!strings.Contains(c, "视频通话见到本人") || !strings.Contains(c, `value="visit" formnovalidate`) {
			t.Errorf("review %s, no ID photo to compare:\n%s", k.id, c)
		}
	}
	st, loc, body := op.post("/reviews/7", url.Values{"csrf": {op.csrf}, "op": {"accept"}})
	if st != http.StatusSeeOther || loc != "/reviews?done=accept&id=7" {
		t.Fatalf("accept: %d %q %s", st, loc, body)
	}
	if len(f.decided) != 1 || f.decided[0] != "7 operator true" {
		t.Fatalf("decisions: %v", f.decided)
	}
	_, body = op.get(loc)
	if strings.Contains(body, `id="r-7"`) || !strings.Contains(body, "复核 7 已确认通过") {
		t.Errorf("after accept the page still lists review 7 or says nothing")
	}
	// Deciding twice is a conflict (here: no longer open, so not found on the page's list).
	if st, _, _ := op.post("/reviews/7", url.Values{"csrf": {op.csrf}, "op": {"visit"}}); st != http.StatusNotFound {
		t.Errorf("a decided review decided again: %d", st)
	}
	if st, loc, _ := op.post("/reviews/8", url.Values{"csrf": {op.csrf}, "op": {"visit"}}); st != http.StatusSeeOther || loc != "/reviews?done=visit&id=8" {
		t.Errorf("visit: %d %q", st, loc)
	}
	if len(f.decided) != 2 || f.decided[1] != "8 operator false" {
		t.Fatalf("decisions: %v", f.decided)
	}
	// The other check goes with the accept (citizen.Decide refuses one without it).
	if st, loc, _ := op.post("/reviews/9", url.Values{"csrf": {op.csrf}, "op": {"accept"}, "check": {"village"}}); st != http.StatusSeeOther || loc != "/reviews?done=accept&id=9" {
		t.Errorf("accept with a check: %d %q", st, loc)
	}
	if len(f.decided) != 3 || f.decided[2] != "9 operator true village" {
		t.Fatalf("decisions: %v", f.decided)
	}

	// The visit list: the village's page shows its own people in the section, the city's
	// worklist everyone, a district's only its own.
	v1 := c.client(t)
	v1.login("v1")
	_, body = v1.get("/village")
	if !strings.Contains(body, "需上门核实（人脸认证多次未通过）") || !strings.Contains(body, fmt.Sprintf(`id="fv-%d"`, zp.PID)) ||
		strings.Contains(body, "王外区") {
		t.Errorf("v1's village page lacks its face visits or shows another's:\n%s", body)
	}
	v2 := c.client(t)
	v2.login("v2")
	if _, body = v2.get("/village"); strings.Contains(body, "需上门核实") {
		t.Errorf("v2's village shows a section for nobody of theirs")
	}
	_, body = op.get("/visits")
	if !strings.Contains(body, "张三") || !strings.Contains(body, "王外区") || !strings.Contains(body, `data-total="2"`) {
		t.Errorf("the city's visit list: %s", body)
	}
	dist := c.client(t)
	dist.login("district")
	_, body = dist.get("/visits")
	if !strings.Contains(body, "张三") || strings.Contains(body, "王外区") {
		t.Errorf("the district's visit list is not its own")
	}
	if st, _ := dist.get("/visits?region=371099"); st != http.StatusForbidden {
		t.Errorf("a district asks for another's visits: %d", st)
	}

	// The village records its visit: 张三 leaves the face visit list, the visit's record
	// named as the evidence.
	st, loc, body = v1.post(fmt.Sprintf("/person/%d/visit", zp.PID), url.Values{"csrf": {v1.csrf}, "outcome": {"alive"}, "back": {"village"}})
	if st != http.StatusSeeOther {
		t.Fatalf("visit: %d %s", st, body)
	}
	if len(f.visited) != 1 || !strings.HasPrefix(f.visited[0], fmt.Sprintf("%d v1 CMT:WEB-", zp.PID)) {
		t.Fatalf("the visit did not clear the face routing: %v", f.visited)
	}
	if _, body = v1.get(loc); strings.Contains(body, fmt.Sprintf(`id="fv-%d"`, zp.PID)) {
		t.Errorf("after the visit 张三 is still on the face visit list")
	}
}

// TestFaceReviewsPaging: the queue is shown a page at a time (each review embeds its
// photos), oldest first, with the count over every page, a link to the next page and
// back to the first; a scoped operator's count is its region's.
func TestFaceReviewsPaging(t *testing.T) {
	base := newCity(t, storetest.Open(t, "sqlite:"+t.TempDir()+"/p.db"))
	zp, _ := base.db.PersonByID(context.Background(), zhang)
	created := time.Date(2024, 5, 9, 2, 0, 0, 0, time.UTC)
	f := &fakeFaces{}
	const n = 2*web.ReviewsPerPage + 5
	for i := 1; i <= n; i++ {
		f.reviews = append(f.reviews, citizen.Review{ID: int64(i), PID: zp.PID, PersonID: zhang, Name: "张三", Region: "371002001001",
			Created: created, Distance: 0.55, Reason: "borderline", Selfie: jpeg, IDPhoto: jpeg})
	}
	f.reviews = append(f.reviews, citizen.Review{ID: n + 1, PID: 999999, PersonID: "371099194001010011", Name: "王外区",
		Region: "371099001001", Created: created, Distance: 0.5, Reason: "borderline"})
	c := faceConsole(t, base, f)
	op := c.client(t)
	op.login("operator")
	page := func(u string) (ids []string, body string) {
		t.Helper()
		st, body := op.get(u)
		if st != http.StatusOK {
			t.Fatalf("%s: %d", u, st)
		}
		for _, part := range strings.Split(body, `id="r-`)[1:] {
			ids = append(ids, part[:strings.IndexByte(part, '"')])
		}
		return ids, body
	}
	ids, body := page("/reviews")
	next := fmt.Sprintf(`href="/reviews?after=%d&amp;n=%d"`, web.ReviewsPerPage, web.ReviewsPerPage+1)
	if len(ids) != web.ReviewsPerPage || ids[0] != "1" || !strings.Contains(body, `data-total="46"`) || !strings.Contains(body, next) ||
		strings.Contains(body, `id="reviews-first"`) || strings.Count(body, `src="data:image/jpeg;base64,`) != 2*web.ReviewsPerPage {
		t.Fatalf("first page: %v\n%s", ids, body)
	}
	if !strings.Contains(body, "第 1–20 条，共 46 条待复核") {
		t.Errorf("the first page does not say which reviews it shows")
	}
	ids, _ = page(fmt.Sprintf("/reviews?after=%d&n=%d", web.ReviewsPerPage, web.ReviewsPerPage+1))
	if len(ids) != web.ReviewsPerPage || ids[0] != fmt.Sprint(web.ReviewsPerPage+1) {
		t.Fatalf("second page: %v", ids)
	}
	ids, body = page(fmt.Sprintf("/reviews?after=%d&n=%d", 2*web.ReviewsPerPage, 2*web.ReviewsPerPage+1))
	if len(ids) != 6 || ids[5] != fmt.Sprint(n+1) || strings.Contains(body, `id="reviews-next"`) || !strings.Contains(body, `id="reviews-first"`) ||
		!strings.Contains(body, "第 41–46 条，共 46 条待复核") {
		t.Fatalf("last page: %v\n%s", ids, body)
	}
	// The operator of another district: one review, one page.
	other := c.client(t)
	other.login("op-other")
	st, body := other.get("/reviews")
	if st != http.StatusOK || strings.Count(body, `id="r-`) != 1 || !strings.Contains(body, `data-total="1"`) || strings.Contains(body, `id="reviews-next"`) {
		t.Fatalf("op-other's queue: %d\n%s", st, body)
	}
}

// TestFaceReviewsCitizen runs the pages over package citizen itself: a review stored as
// citizen stores it is listed, and sending it to a visit is audited and puts the person on
// the village's list.
func TestFaceReviewsCitizen(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			base := newCity(t, dsn.Open(t))
			ctx := context.Background()
			zp, _ := base.db.PersonByID(ctx, zhang)
			db := base.db
			if _, err := db.SQL().ExecContext(ctx, db.Rebind(`INSERT INTO citizen_reviews (pid, created, agent, distance, reason, template, photo, status, decided_by, decided_at, record)
				VALUES (?, ?, 0, 0.47, 'borderline', ?, ?, 'open', '', 0, '')`), zp.PID, time.Date(2024, 5, 9, 2, 0, 0, 0, time.UTC).UnixNano(), []byte{}, jpeg); err != nil {
				t.Fatal(err)
			}
			var id int64
			if err := db.SQL().QueryRowContext(ctx, `SELECT MAX(id) FROM citizen_reviews`).Scan(&id); err != nil {
				t.Fatal(err)
			}
			c := faceConsole(t, base, web.FromCitizen(db, base.svc))
			op := c.client(t)
			op.login("operator")
			_, body := op.get("/reviews")
			if !strings.Contains(body, fmt.Sprintf(`action="/reviews/%d"`, id)) || !strings.Contains(body, "0.4700") {
				t.Fatalf("the stored review is not listed:\n%s", body)
			}
			if st, _, body := op.post(fmt.Sprintf("/reviews/%d", id), url.Values{"csrf": {op.csrf}, "op": {"visit"}}); st != http.StatusSeeOther {
				t.Fatalf("visit: %d %s", st, body)
			}
			audit, err := db.PersonAudit(ctx, zp.PID)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, a := range audit {
				found = found || (a.Kind == "citizen_review" && a.Action == "review_visit" && a.Actor == "operator")
			}
			if !found {
				t.Errorf("the decision is not audited with its actor: %+v", audit)
			}
			v1 := c.client(t)
			v1.login("v1")
			if _, body := v1.get("/village"); !strings.Contains(body, fmt.Sprintf(`id="fv-%d"`, zp.PID)) {
				t.Errorf("the person sent to a visit is not on the village's list:\n%s", body)
			}
			// The village visits and records it (CMT.VISIT): the person leaves the list,
			// audited with the visit's record.
			if st, _, body := v1.post(fmt.Sprintf("/person/%d/visit", zp.PID), url.Values{"csrf": {v1.csrf}, "outcome": {"alive"}, "back": {"village"}}); st != http.StatusSeeOther {
				t.Fatalf("visit: %d %s", st, body)
			}
			if vs, err := citizen.NeedsVisit(ctx, db); err != nil || len(vs) != 0 {
				t.Fatalf("after the village's visit: %+v %v", vs, err)
			}
			if _, body := v1.get("/village"); strings.Contains(body, fmt.Sprintf(`id="fv-%d"`, zp.PID)) {
				t.Errorf("the visited person is still on the village's face list")
			}
			audit, err = db.PersonAudit(ctx, zp.PID)
			if err != nil {
				t.Fatal(err)
			}
			found = false
			for _, a := range audit {
				found = found || (a.Kind == "citizen_visit" && a.Action == "visited" && a.Actor == "v1" && strings.HasPrefix(a.Evidence, "CMT:WEB-"))
			}
			if !found {
				t.Errorf("the visit's clearing is not audited: %+v", audit)
			}
		})
	}
}

// TestEndSignInsPage: the person page shows a person's open sign-ins to everyone who
// sees the person; operators and administrators end them with a reason; others, and
// anyone outside the person's region, cannot.
func TestEndSignInsPage(t *testing.T) {
	base := newCity(t, storetest.Open(t, "sqlite:"+t.TempDir()+"/s.db"))
	zp, _ := base.db.PersonByID(context.Background(), zhang)
	f := &fakeFaces{signIns: map[int64]citizen.SignIns{zp.PID: {Sessions: 1, AgentSessions: 1, Links: 2}}}
	c := faceConsole(t, base, f)
	page := fmt.Sprintf("/person/%d", zp.PID)
	for _, name := range []string{"auditor", "v1", "town"} {
		cl := c.client(t)
		cl.login(name)
		st, body := cl.get(page)
		if st != http.StatusOK || !strings.Contains(body, `data-open="true"`) || strings.Contains(body, "/signins") {
			t.Errorf("%s: %d, or the form is offered", name, st)
		}
		if st, _, _ := cl.post(page+"/signins", url.Values{"csrf": {cl.csrf}, "reason": {"x"}}); st != http.StatusForbidden {
			t.Errorf("%s ends sign-ins: %d", name, st)
		}
	}
	other := c.client(t)
	other.login("op-other")
	if st, _, _ := other.post(page+"/signins", url.Values{"csrf": {other.csrf}, "reason": {"x"}}); st != http.StatusNotFound {
		t.Errorf("an operator of another district ends sign-ins: %d", st)
	}
	op := c.client(t)
	op.login("operator")
	if _, body := op.get(page); !strings.Contains(body, `action="/person/`+fmt.Sprint(zp.PID)+`/signins"`) {
		t.Fatal("the operator is not offered the form")
	}
	if st, _, _ := op.post(page+"/signins", url.Values{"csrf": {op.csrf}, "reason": {"  "}}); st != http.StatusBadRequest {
		t.Errorf("ended without a reason: %d", st)
	}
	if st, _, _ := op.post(page+"/signins", url.Values{"reason": {"lost phone"}}); st != http.StatusForbidden {
		t.Errorf("ended without the form's token: %d", st)
	}
	st, loc, _ := op.post(page+"/signins", url.Values{"csrf": {op.csrf}, "reason": {"lost phone"}})
	if st != http.StatusSeeOther || !strings.Contains(loc, "signins=ended") || len(f.ended) != 1 || f.ended[0] != fmt.Sprint(zp.PID, " operator lost phone") {
		t.Fatalf("ending: %d %s %v", st, loc, f.ended)
	}
	if _, body := op.get(page + "?signins=ended"); !strings.Contains(body, `data-open="false"`) || strings.Contains(body, "/signins") {
		t.Error("after ending: still open, or the form still offered")
	}
}
