package citizen

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/engine"
	"github.com/silentcert/silentcert/service"
	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
)

// withFault sets the package's fault hook for the rest of the test.
func withFault(t *testing.T, at string) {
	fault = func(point string) error {
		if point == at {
			return errors.New("injected at " + point)
		}
		return nil
	}
	t.Cleanup(func() { fault = nil })
}

// faces counts a person's stored HRSS.FACE records.
func (c *city) faces(t testing.TB, pid int64) int {
	t.Helper()
	recs, err := c.db.PersonRecords(context.Background(), pid)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range recs {
		if r.Source == "HRSS" && r.Type == "HRSS.FACE" {
			n++
		}
	}
	return n
}

// audited returns a person's audit rows of kind and action.
func (c *city) audited(t testing.TB, pid int64, kind, action string) []store.AuditRow {
	t.Helper()
	rows, err := c.db.PersonAudit(context.Background(), pid)
	if err != nil {
		t.Fatal(err)
	}
	var out []store.AuditRow
	for _, a := range rows {
		if a.Kind == kind && a.Action == action {
			out = append(out, a)
		}
	}
	return out
}

// reviewStatus is a review's status column.
func (c *city) reviewStatus(t testing.TB, id int64) string {
	t.Helper()
	var s string
	if err := c.db.SQL().QueryRow(c.db.Rebind(`SELECT status FROM citizen_reviews WHERE id = ?`), id).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// hasSelfieRef reports whether a person has a selfie reference.
func (c *city) hasSelfieRef(t testing.TB, pid int64) bool {
	refs, err := allRefs(context.Background(), c.db, pid)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range refs {
		if r.kind == RefSelfie {
			return true
		}
	}
	return false
}

// queueOne puts one borderline attempt of personID in the review queue and returns it.
func (c *city) queueOne(t *testing.T, personID string) Review {
	t.Helper()
	ctx := context.Background()
	p, err := personBy(dbq{ctx, c.db}, "person_id", personID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.h.settle(ctx, p, true, "citizen:agent", verdict{Outcome: "review", Reason: reasonBorderline, Distance: 0.55}); err != nil {
		t.Fatal(err)
	}
	pg, err := Reviews(ctx, c.db, ReviewQuery{})
	if err != nil || len(pg.Reviews) != 1 {
		t.Fatalf("queue: %+v %v", pg, err)
	}
	return pg.Reviews[0]
}

// TestDecideFailureReturnsToQueue: an accept whose ingestion fails leaves the review in
// the queue (not "deciding"), audited, with nothing sent to the engine; deciding it again
// then works, and the decision carries the caller's clock.
func TestDecideFailureReturnsToQueue(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			ctx := context.Background()
			c := newCity(t, dsn.Open(t), nil)
			rv := c.queueOne(t, zhang)
			withFault(t, "ingest")
			if err := Decide(ctx, c.db, c.svc, rv.ID, "reviewer", ReviewDecision{Accept: true, Check: "video"}, c.clock.Now()); err == nil || !strings.Contains(err.Error(), "injected") {
				t.Fatalf("a failed ingestion: %v", err)
			}
			if st := c.reviewStatus(t, rv.ID); st != "open" {
				t.Fatalf("after the failure the review is %q, want open", st)
			}
			if pg, _ := Reviews(ctx, c.db, ReviewQuery{}); pg.Total != 1 || pg.Reviews[0].ID != rv.ID {
				t.Fatalf("the review is not back in the queue: %+v", pg)
			}
			if n := c.faces(t, rv.PID); n != 0 || c.hasSelfieRef(t, rv.PID) {
				t.Fatalf("a failed accept left %d records or a reference", n)
			}
			if len(c.audited(t, rv.PID, "citizen_review", "review_reopen")) != 1 {
				t.Fatal("the return to the queue is not audited")
			}
			fault = nil
			c.clock.Add(90 * time.Second)
			if err := Decide(ctx, c.db, c.svc, rv.ID, "reviewer", ReviewDecision{Accept: true, Check: "video"}, c.clock.Now()); err != nil {
				t.Fatal(err)
			}
			if s, m, _ := c.person(t, zhang); s != sc.StatusCertified || m != sc.MethodFace || c.faces(t, rv.PID) != 1 || c.hasSelfieRef(t, rv.PID) {
				t.Fatalf("after the second decision: %s by %s", s, m)
			}
			acc := c.audited(t, rv.PID, "citizen_review", "review_accept")
			if len(acc) != 1 || acc[0].Actor != "reviewer" || acc[0].At != c.clock.Now().UTC().Format(time.RFC3339) {
				t.Fatalf("the accept's audit row %+v, want at the test clock's %s", acc, c.clock.Now().UTC().Format(time.RFC3339))
			}
		})
	}
}

// TestInterruptedAcceptFinishedOnRestart: the process stops after the HRSS.FACE record is
// ingested and before the second transaction; the review is out of the queue with its
// record in the engine. A restart (citizen.New) after the claim's time-out finishes it
// (reference, bookkeeping, audit) exactly once; an on-the-spot accept interrupted the
// same way is finished too, and one whose ingestion failed is marked failed, not queued.
func TestInterruptedAcceptFinishedOnRestart(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			ctx := context.Background()
			c := newCity(t, dsn.Open(t), nil)
			restart := func() {
				t.Helper()
				if _, err := New(Options{DB: c.db, Service: c.svc, Now: c.clock.Now}); err != nil {
					t.Fatal(err)
				}
			}
			rv := c.queueOne(t, zhang)
			withFault(t, "ingested")
			if err := Decide(ctx, c.db, c.svc, rv.ID, "reviewer", ReviewDecision{Accept: true, Check: "video"}, c.clock.Now()); err == nil {
				t.Fatal("the interruption was not reported")
			}
			if st := c.reviewStatus(t, rv.ID); st != "deciding" || c.faces(t, rv.PID) != 1 || c.hasSelfieRef(t, rv.PID) {
				t.Fatalf("interrupted: review %q, %d records", st, c.faces(t, rv.PID))
			}
			fault = nil
			// A restart within the claim's time-out leaves it to the decision under way.
			restart()
			if st := c.reviewStatus(t, rv.ID); st != "deciding" {
				t.Fatalf("a fresh claim was touched: %q", st)
			}
			c.clock.Add(claimTimeout + time.Second)
			restart()
			if st := c.reviewStatus(t, rv.ID); st != "accepted" || c.hasSelfieRef(t, rv.PID) {
				t.Fatalf("after the restart: review %q, selfie reference %v", st, c.hasSelfieRef(t, rv.PID))
			}
			if acc := c.audited(t, rv.PID, "citizen_review", "review_accept"); len(acc) != 1 || acc[0].Actor != "reviewer" || !strings.HasPrefix(acc[0].Evidence, "HRSS:FACE-") {
				t.Fatalf("the finished accept's audit: %+v", acc)
			}
			// Again: nothing more.
			restart()
			if n, err := Recover(ctx, c.db, c.svc, c.clock.Now().Add(time.Hour)); err != nil || n != 0 {
				t.Fatalf("recover again: %d %v", n, err)
			}
			if len(c.audited(t, rv.PID, "citizen_review", "review_accept")) != 1 || c.faces(t, rv.PID) != 1 {
				t.Fatal("finishing twice wrote twice")
			}
			if s, m, _ := c.person(t, zhang); s != sc.StatusCertified || m != sc.MethodFace {
				t.Fatalf("张三 is %s by %s", s, m)
			}

			// On the spot: 李秀英's good attempt, interrupted after its record.
			q, err := personBy(dbq{ctx, c.db}, "person_id", li)
			if err != nil {
				t.Fatal(err)
			}
			good := verdict{Outcome: "accept", Frames: 5, Distance: 0.2, Movement: 0.3, RefKind: RefIDCard}
			withFault(t, "ingested")
			if _, err := c.h.settle(ctx, q, false, "citizen", good); err == nil {
				t.Fatal("the interruption was not reported")
			}
			fault = nil
			if c.faces(t, q.PID) != 1 || c.hasSelfieRef(t, q.PID) {
				t.Fatal("the on-the-spot accept is not half done")
			}
			c.clock.Add(claimTimeout + time.Second)
			restart()
			if !c.hasSelfieRef(t, q.PID) || len(c.audited(t, q.PID, "citizen_face", "accept")) != 1 {
				t.Fatal("the on-the-spot accept was not finished on restart")
			}
			// And one whose ingestion failed: the person was told to try again; nothing is queued.
			withFault(t, "ingest")
			if _, err := c.h.settle(ctx, q, false, "citizen", good); err == nil {
				t.Fatal("a failed ingestion was not reported")
			}
			fault = nil
			if c.faces(t, q.PID) != 1 || len(c.audited(t, q.PID, "citizen_face", "accept_failed")) != 1 {
				t.Fatal("the failed on-the-spot accept is not recorded as failed")
			}
			if pg, _ := Reviews(ctx, c.db, ReviewQuery{}); pg.Total != 0 {
				t.Fatalf("a failed on-the-spot accept is in the review queue: %+v", pg)
			}
			if _, err := c.db.VerifyAudit(ctx, nil); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestReviewsPaging: the queue a page at a time, oldest first, scoped by region, and a
// decided review gone from OpenReview.
func TestReviewsPaging(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			ctx := context.Background()
			c := newCity(t, dsn.Open(t), nil)
			for _, id := range []string{zhang, li, zhang, li, zhang} {
				p, _ := personBy(dbq{ctx, c.db}, "person_id", id)
				if _, err := c.h.settle(ctx, p, false, "citizen", verdict{Outcome: "review", Reason: reasonFewFrames, Distance: 0.3}); err != nil {
					t.Fatal(err)
				}
			}
			var ids []int64
			after := int64(0)
			for range 3 {
				pg, err := Reviews(ctx, c.db, ReviewQuery{After: after, Limit: 2})
				if err != nil || pg.Total != 5 {
					t.Fatalf("page after %d: %+v %v", after, pg, err)
				}
				for _, r := range pg.Reviews {
					ids = append(ids, r.ID)
				}
				if pg.More != (len(ids) < 5) {
					t.Fatalf("More %v after %d reviews", pg.More, len(ids))
				}
				if len(pg.Reviews) > 0 {
					after = pg.Reviews[len(pg.Reviews)-1].ID
				}
			}
			if len(ids) != 5 || ids[0] >= ids[1] || ids[3] >= ids[4] {
				t.Fatalf("pages gave %v", ids)
			}
			// 张三 lives in 371002001001, 李秀英 in 371002001002.
			pg, err := Reviews(ctx, c.db, ReviewQuery{Region: "371002001001"})
			if err != nil || pg.Total != 3 || len(pg.Reviews) != 3 || pg.More {
				t.Fatalf("张三's village: %+v %v", pg, err)
			}
			for _, r := range pg.Reviews {
				if r.PersonID != zhang {
					t.Fatalf("another village's review: %+v", r)
				}
			}
			if err := Decide(ctx, c.db, c.svc, ids[0], "reviewer", ReviewDecision{}, c.clock.Now()); err != nil {
				t.Fatal(err)
			}
			if _, err := OpenReview(ctx, c.db, ids[0]); sc.ErrorCode(err) != sc.ENotFound {
				t.Fatalf("a decided review is open: %v", err)
			}
			if r, err := OpenReview(ctx, c.db, ids[1]); err != nil || r.ID != ids[1] {
				t.Fatalf("open review %d: %v", ids[1], err)
			}
		})
	}
}

// TestVisitedClearsRouting: a person routed to a visit by failures leaves the list when
// the village's visit is recorded, their failures forgotten (the next one does not route
// them again at once); it is audited, and a second call does nothing.
func TestVisitedClearsRouting(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			ctx := context.Background()
			c := newCity(t, dsn.Open(t), nil)
			p, _ := personBy(dbq{ctx, c.db}, "person_id", zhang)
			bad := verdict{Outcome: "reject", Reason: reasonMismatch, Distance: 0.8}
			for range 3 {
				if _, err := c.h.settle(ctx, p, false, "citizen", bad); err != nil {
					t.Fatal(err)
				}
			}
			if vs, _ := NeedsVisit(ctx, c.db); len(vs) != 1 {
				t.Fatalf("visits %+v", vs)
			}
			// A blurry burst while the visit is pending asks for another try (a good one
			// goes to staff), not "the village will visit" with no way to try again.
			blurry := verdict{Outcome: "reject", Reason: reasonBlur}
			if a, err := c.h.settle(ctx, p, false, "citizen", blurry); err != nil || a.Outcome != "retry" || a.Reason != reasonBlur {
				t.Fatalf("a blurry burst while a visit is pending: %+v %v", a, err)
			}
			if vs, _ := NeedsVisit(ctx, c.db); len(vs) != 1 || vs[0].Failures != 3 {
				t.Fatalf("the blurry burst changed the visit: %+v", vs)
			}
			done, err := Visited(ctx, c.db, c.svc, p.PID, "v1", "CMT:WEB-1", c.clock.Now())
			if err != nil || !done {
				t.Fatalf("visited: %v %v", done, err)
			}
			if vs, _ := NeedsVisit(ctx, c.db); len(vs) != 0 {
				t.Fatalf("still on the list: %+v", vs)
			}
			if a := c.audited(t, p.PID, "citizen_visit", "visited"); len(a) != 1 || a[0].Evidence != "CMT:WEB-1" || a[0].Actor != "v1" {
				t.Fatalf("audit %+v", a)
			}
			if done, err := Visited(ctx, c.db, c.svc, p.PID, "v1", "CMT:WEB-2", c.clock.Now()); err != nil || done {
				t.Fatalf("a second visit: %v %v", done, err)
			}
			if a, err := c.h.settle(ctx, p, false, "citizen", bad); err != nil || a.Reason == "visit" {
				t.Fatalf("one failure after the visit routes again: %+v %v", a, err)
			}
		})
	}
}

// TestNewLinkClock: a link is made at the caller's time, not the machine's.
func TestNewLinkClock(t *testing.T) {
	c := newCity(t, storetest.Open(t, "sqlite:"+t.TempDir()+"/l.db"), nil)
	now := c.clock.Now()
	if _, err := NewLink(context.Background(), c.db, c.pid(t, zhang), now, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	var created int64
	if err := c.db.SQL().QueryRow(`SELECT created FROM citizen_links`).Scan(&created); err != nil || created != now.UnixNano() {
		t.Fatalf("link made at %v (%v), want the test clock's %v", time.Unix(0, created).UTC(), err, now)
	}
}

// TestVisitFromABatch: a village's visit that arrives in a department's batch (not the
// console's form) takes the person off the face visit list, as does a death report; any
// other decision leaves the list alone.
func TestVisitFromABatch(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			ctx := context.Background()
			db := dsn.Open(t)
			clock := &clock{t: time.Date(2024, 5, 10, 9, 0, 0, 0, time.UTC)}
			cst := time.FixedZone("CST", 8*3600)
			s := scenarioService(t, db, service.Options{Now: clock.Now, Location: cst,
				OnDecision: func(tx *store.Tx, p *service.Person, d engine.Decision) error {
					return VisitDecision(tx, p, d, clock.Now(), cst)
				}})
			const wang, zhao = "371002195005200045", "371002194207010050"
			route := func(ids ...string) {
				for _, id := range ids {
					var pid int64
					if err := db.SQL().QueryRow(db.Rebind(`SELECT pid FROM people WHERE person_id = ?`), id).Scan(&pid); err != nil {
						t.Fatal(err)
					}
					if _, err := db.SQL().Exec(db.Rebind(`INSERT INTO citizen_people (pid, failures, needs_visit, visit_since, last_attempt, last_outcome)
						VALUES (?, 3, 1, ?, ?, 'reject:mismatch')`), pid, clock.Now().UnixNano(), clock.Now().UnixNano()); err != nil {
						t.Fatal(err)
					}
				}
			}
			route(zhang, wang, zhao)
			// 王芳 and 赵六 each have a face review waiting.
			for _, id := range []string{wang, zhao} {
				if _, err := db.SQL().Exec(db.Rebind(`INSERT INTO citizen_reviews (pid, created, agent, distance, reason, template, photo, status, decided_by, decided_at, record)
					SELECT pid, ?, 0, 0.55, 'borderline', ?, ?, 'open', '', 0, '' FROM people WHERE person_id = ?`), clock.Now().UnixNano(), []byte{}, []byte{}, id); err != nil {
					t.Fatal(err)
				}
			}
			csv := "record_id,source,type,person_id,name,birth_date,event_date,reported_date,region_code,detail\n" +
				"V-1,CMT,CMT.VISIT," + zhang + ",张三,,2024-05-10,2024-05-10,,\n" +
				"V-2,CMT,CMT.DEATH_REPORT," + wang + ",王芳,,2024-05-08,2024-05-10,,\n" +
				"V-3,CMT,CMT.REFUSED," + zhao + ",赵六,,2024-05-10,2024-05-10,,\n"
			res, err := s.Ingest(ctx, service.Batch{Origin: "api", Source: "CMT", Actor: "village-app", Day: today,
				Files: []service.File{{Name: "visits.csv", Body: strings.NewReader(csv)}}})
			if err != nil || res.Rejected != "" || len(res.Problems) != 0 {
				t.Fatalf("%v %+v", err, res)
			}
			vs, err := NeedsVisit(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			if len(vs) != 1 || vs[0].PersonID != zhao {
				t.Fatalf("on the visit list after the batch: %+v, want only the one who refused", vs)
			}
			var n int
			db.SQL().QueryRow(`SELECT count(*) FROM audit WHERE action = 'visited' AND actor = 'engine' AND evidence IN ('CMT:V-1', 'CMT:V-2')`).Scan(&n)
			if n != 2 {
				t.Fatalf("%d audit rows for the two visits taken off the list", n)
			}
			// The death closes 王芳's waiting review (no accept could certify her, a visit
			// would send the village to a death on file); 赵六's stays open.
			pg, err := Reviews(ctx, db, ReviewQuery{})
			if err != nil || len(pg.Reviews) != 1 || pg.Reviews[0].PersonID != zhao {
				t.Fatalf("open reviews after the batch: %+v %v, want 赵六's alone", pg.Reviews, err)
			}
			db.SQL().QueryRow(`SELECT count(*) FROM audit WHERE kind = 'citizen_review' AND action = 'closed' AND actor = 'engine' AND evidence = 'CMT:V-2'`).Scan(&n)
			if n != 1 {
				t.Fatalf("%d audit rows for the review closed by the death", n)
			}
		})
	}
}

// TestFailUnavailable: a service about to restart (a lost claim, a commit of unknown
// outcome) answers 503 with the usual "busy, try again" words, page or JSON; any other
// fault 500.
func TestFailUnavailable(t *testing.T) {
	c := newCity(t, storetest.Open(t, "sqlite:"+t.TempDir()+"/u.db"), nil)
	for _, x := range []struct {
		err  error
		code int
	}{{sc.Errorf(sc.EUnavailable, "restarting"), http.StatusServiceUnavailable}, {errors.New("disk"), http.StatusInternalServerError}} {
		for _, accept := range []string{"text/html", "application/json"} {
			r := httptest.NewRequest("POST", "/c/attempt", nil)
			r.Header.Set("Accept", accept)
			w := httptest.NewRecorder()
			c.h.fail(w, r, x.err)
			if w.Code != x.code || (accept == "text/html" && !strings.Contains(w.Body.String(), msg(langZH, "msg_internal"))) {
				t.Errorf("%v (%s): %d %s", x.err, accept, w.Code, w.Body)
			}
		}
	}
}

// TestFaceRefusedInItsBatch: a death filed after a face accept read the person's status
// (a reviewer's accept claimed, an analysis finished) and before its HRSS.FACE record is
// applied — the fault hook at "ingest" files it — refuses the record in its own batch, on
// both stores: the face does not dispute the death (before, it made the person CONFLICT).
// The reviewer is told EConflict and the review, whose person is now dead, is closed, not
// queued for a visit; an accept on the spot is answered "closed" as one refused before.
func TestFaceRefusedInItsBatch(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			ctx := context.Background()
			c := newCity(t, dsn.Open(t), nil)
			deathAt := func(personID string) {
				fault = func(point string) error {
					if point == "ingest" {
						fault = nil
						c.file(t, "CMT.DEATH_REPORT", personID, "2024-05-01")
					}
					return nil
				}
				t.Cleanup(func() { fault = nil })
			}

			rv := c.queueOne(t, zhang)
			deathAt(zhang)
			if err := Decide(ctx, c.db, c.svc, rv.ID, "reviewer", ReviewDecision{Accept: true, Check: "video"}, c.clock.Now()); sc.ErrorCode(err) != sc.EConflict {
				t.Fatalf("an accept with a death filed meanwhile: %v, want %s", err, sc.EConflict)
			}
			if s, _, _ := c.person(t, zhang); s != sc.StatusTerminated || c.faces(t, rv.PID) != 0 {
				t.Fatalf("张三 is %s with %d HRSS.FACE records, want TERMINATED and none", s, c.faces(t, rv.PID))
			}
			if st := c.reviewStatus(t, rv.ID); st != "closed" {
				t.Errorf("the review of a person who died meanwhile is %q, want closed", st)
			}
			if n := len(c.audited(t, rv.PID, "citizen_review", "closed")); n != 1 || len(c.audited(t, rv.PID, "citizen_review", "review_accept")) != 0 {
				t.Errorf("%d closed rows (want 1), or an accept audited", n)
			}

			q, err := personBy(dbq{ctx, c.db}, "person_id", li)
			if err != nil {
				t.Fatal(err)
			}
			deathAt(li)
			a, err := c.h.settle(ctx, q, false, "citizen", verdict{Outcome: "accept", Frames: 5, Distance: 0.2, Movement: 0.3, RefKind: RefIDCard})
			if err != nil || a.Outcome != "closed" {
				t.Fatalf("an accept on the spot with a death filed meanwhile: %+v %v", a, err)
			}
			if s, _, _ := c.person(t, li); s != sc.StatusTerminated || c.faces(t, q.PID) != 0 || c.hasSelfieRef(t, q.PID) {
				t.Fatalf("李秀英 is %s with %d HRSS.FACE records, want TERMINATED and none", s, c.faces(t, q.PID))
			}
			if pg, _ := Reviews(ctx, c.db, ReviewQuery{}); pg.Total != 0 {
				t.Errorf("open reviews: %+v", pg)
			}
			if _, err := c.db.VerifyAudit(ctx, nil); err != nil {
				t.Fatal(err)
			}
		})
	}
}
