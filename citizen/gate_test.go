package citizen

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/service"
	"github.com/silentcert/silentcert/store/storetest"
)

// file sends one record of type typ (source the part before the dot) about personID,
// dated event, through the service.
func (c *city) file(t testing.TB, typ, personID, event string) {
	t.Helper()
	p, err := personBy(dbq{context.Background(), c.db}, "person_id", personID)
	if err != nil {
		t.Fatal(err)
	}
	source, _, _ := strings.Cut(typ, ".")
	csv := "record_id,source,type,person_id,name,birth_date,event_date,reported_date,region_code,detail\n" +
		typ + "-" + personID + "," + source + "," + typ + "," + p.PersonID + "," + p.Name + "," + p.BirthDate.String() + "," + event + "," + today.String() + "," + p.Region + ",\n"
	res, err := c.svc.Ingest(context.Background(), service.Batch{Origin: "file", Source: source, Actor: "test", Day: today,
		Files: []service.File{{Name: "records.csv", Body: strings.NewReader(csv)}}})
	if err != nil || res.Report.Applied != 1 {
		t.Fatalf("%s of %s: %v %+v", typ, personID, err, res)
	}
}

// countAudit counts a person's audit rows of kind and action whose detail holds detail.
func (c *city) countAudit(t testing.TB, pid int64, kind, action, detail string) int {
	t.Helper()
	n := 0
	for _, a := range c.audited(t, pid, kind, action) {
		if strings.Contains(a.Detail, detail) {
			n++
		}
	}
	return n
}

// TestFaceClosedByStatus: a death on file closes face certification on the server, not
// only on the status page: the capture page gives no nonce, an attempt with a nonce issued
// before the death is refused before any analysis, and so is an accept whose analysis
// ended after the death was filed; each says in words to see the bureau or the village,
// and is audited (the capture page's refusal once a day). Staff cannot accept a review of
// that person either. And "certified" is said only when the record certified: 王芳, in
// LOSS (in prison), is told her photos were recorded and that the bureau must check.
func TestFaceClosedByStatus(t *testing.T) {
	m := testModels(t)
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			ctx := context.Background()
			c := newCity(t, dsn.Open(t), m)
			zp, _ := personBy(dbq{ctx, c.db}, "person_id", zhang)
			cl := c.browser(t)
			c.loginByLink(t, cl, zhang, false)
			nonce, csrf := c.capture(t, cl) // before the death is filed
			// A borderline attempt waits for staff; then the village reports the death.
			if _, err := c.h.settle(ctx, zp, false, "citizen", verdict{Outcome: "review", Reason: reasonBorderline, Distance: 0.55}); err != nil {
				t.Fatal(err)
			}
			c.file(t, "CMT.DEATH_REPORT", zhang, "2024-05-01")
			if s, _, _ := c.person(t, zhang); s != sc.StatusTerminated {
				t.Fatalf("after the death report 张三 is %s", s)
			}

			if _, body := get(t, cl, c.srv.URL+"/c/me"); strings.Contains(body, `id="certify"`) {
				t.Error("the status page offers a capture after the death")
			}
			for range 2 {
				st, body := get(t, cl, c.srv.URL+"/c/capture")
				if st != http.StatusForbidden || nonceRe.MatchString(body) || !strings.Contains(body, msg(langZH, "msg_face_status")) {
					t.Fatalf("capture page after the death: %d\n%s", st, body)
				}
			}
			if n := c.countAudit(t, zp.PID, "citizen_face", "capture_refused", "reason=closed_status;status=TERMINATED"); n != 1 {
				t.Errorf("%d capture_refused rows for two refusals, want the first", n)
			}

			st, a := c.upload(t, cl, nonce, csrf, [][]byte{[]byte("not analysed")})
			if st != http.StatusForbidden || a.Outcome != "closed" || a.Message != msg(langZH, "msg_face_status") ||
				strings.Contains(a.Message, "成功") {
				t.Fatalf("attempt with a nonce from before the death: %d %+v", st, a)
			}
			// An analysis that ended after the death was filed.
			a, err := c.h.settle(ctx, zp, false, "citizen", verdict{Outcome: "accept", Distance: 0.1, Frames: 5})
			if err != nil || a.Outcome != "closed" {
				t.Fatalf("an accept settled after the death: %+v %v", a, err)
			}
			if n := c.countAudit(t, zp.PID, "citizen_face", "attempt_refused", "reason=closed_status;status=TERMINATED"); n != 2 {
				t.Errorf("%d attempt_refused rows, want 2", n)
			}
			if n := c.faces(t, zp.PID); n != 0 {
				t.Fatalf("%d HRSS.FACE records for a person whose death is on file", n)
			}
			if s, _, _ := c.person(t, zhang); s != sc.StatusTerminated {
				t.Fatalf("the face attempts made 张三 %s", s)
			}
			pg, _ := Reviews(ctx, c.db, ReviewQuery{})
			if len(pg.Reviews) != 1 {
				t.Fatalf("%d reviews", len(pg.Reviews))
			}
			if err := Decide(ctx, c.db, c.svc, pg.Reviews[0].ID, "reviewer", ReviewDecision{Accept: true, Check: "video"}, c.clock.Now()); sc.ErrorCode(err) != sc.EConflict {
				t.Fatalf("staff accepted the face of a person whose death is on file: %v", err)
			}
			if s, _, _ := c.person(t, zhang); s != sc.StatusTerminated || c.faces(t, zp.PID) != 0 {
				t.Fatalf("after the refused review 张三 is %s", s)
			}

			// 王芳 is in LOSS (收监执行 since February): a face is recorded, but she is not
			// told she is certified.
			wp, _ := personBy(dbq{ctx, c.db}, "person_id", "371002195005200045")
			c.file(t, "JUS.PRISON_IN", wp.PersonID, "2024-02-10")
			if s, _, _ := c.person(t, wp.PersonID); s != sc.StatusLoss {
				t.Fatalf("王芳 is %s, the test needs LOSS", s)
			}
			a, err = c.h.settle(ctx, wp, false, "citizen", verdict{Outcome: "accept", Distance: 0.1, Frames: 5})
			if err != nil || a.Outcome != "recorded" || a.Until != "" || c.faces(t, wp.PID) != 1 {
				t.Fatalf("an accept for a person in LOSS: %+v %v", a, err)
			}
			if s, _, _ := c.person(t, wp.PersonID); s != sc.StatusLoss {
				t.Fatalf("王芳 is %s after the face", s)
			}
			if m := resultMessage(langZH, a); strings.Contains(m, msg(langZH, "r_accept")) || !strings.Contains(m, "社保经办机构") {
				t.Errorf("the answer to a face that did not certify: %q", m)
			}
			if _, err := c.db.VerifyAudit(ctx, nil); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestVisitPendingGoesToStaff: three failures route 张三 to a village visit; he may still
// try, but a burst the server would accept goes to staff (no record, still on the list);
// a staff accept certifies him and cancels the visit, audited. An accept on the spot that
// raced the routing (finished after a crash) leaves the visit pending.
func TestVisitPendingGoesToStaff(t *testing.T) {
	m := testModels(t)
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			ctx := context.Background()
			c := newCity(t, dsn.Open(t), m)
			p, _ := personBy(dbq{ctx, c.db}, "person_id", zhang)
			for range 3 {
				if _, err := c.h.settle(ctx, p, false, "citizen", verdict{Outcome: "reject", Reason: reasonMismatch, Distance: 0.8}); err != nil {
					t.Fatal(err)
				}
			}
			if vs, _ := NeedsVisit(ctx, c.db); len(vs) != 1 {
				t.Fatalf("visits %+v", vs)
			}
			cl := c.browser(t)
			c.loginByLink(t, cl, zhang, false)
			c.capture(t, cl) // attempts are still taken, for staff
			good := verdict{Outcome: "accept", Distance: 0.1, Frames: 5}
			a, err := c.h.settle(ctx, p, false, "citizen", good)
			if err != nil || a.Outcome != "review" {
				t.Fatalf("a good burst while a visit is pending: %+v %v", a, err)
			}
			if vs, _ := NeedsVisit(ctx, c.db); len(vs) != 1 || c.faces(t, p.PID) != 0 {
				t.Fatalf("the attempt took 张三 off the visit list (%+v) or certified him (%d records)", vs, c.faces(t, p.PID))
			}
			pg, _ := Reviews(ctx, c.db, ReviewQuery{})
			if len(pg.Reviews) != 1 || pg.Reviews[0].Reason != reasonVisitPending {
				t.Fatalf("the queue: %+v", pg.Reviews)
			}
			if err := Decide(ctx, c.db, c.svc, pg.Reviews[0].ID, "reviewer", ReviewDecision{Accept: true, Check: "video"}, c.clock.Now()); err != nil {
				t.Fatal(err)
			}
			if vs, _ := NeedsVisit(ctx, c.db); len(vs) != 0 || c.faces(t, p.PID) != 1 {
				t.Fatalf("after staff accepted: visits %+v, %d records", vs, c.faces(t, p.PID))
			}
			if a := c.audited(t, p.PID, "citizen_visit", "visit_cleared"); len(a) != 1 || a[0].Actor != "reviewer" ||
				!strings.Contains(a[0].Detail, "failures=3") {
				t.Fatalf("the visit's cancelling is not audited so: %+v", a)
			}

			// An accept on the spot interrupted between its two transactions, the person
			// routed meanwhile, finished by Recover: the visit stays.
			q, _ := personBy(dbq{ctx, c.db}, "person_id", li)
			withFault(t, "ingested")
			if _, err := c.h.settle(ctx, q, false, "citizen", good); err == nil {
				t.Fatal("the fault did not stop the accept")
			}
			fault = nil
			if _, err := c.db.SQL().Exec(c.db.Rebind(`INSERT INTO citizen_people (pid, failures, needs_visit, visit_since, last_attempt, last_outcome)
				VALUES (?, 3, 1, 1, 1, 'reject:mismatch')`), q.PID); err != nil {
				t.Fatal(err)
			}
			if n, err := Recover(ctx, c.db, c.svc, c.clock.Now().Add(3*time.Minute)); err != nil || n != 1 {
				t.Fatalf("recover: %d %v", n, err)
			}
			if vs, _ := NeedsVisit(ctx, c.db); len(vs) != 1 || vs[0].PersonID != li || c.faces(t, q.PID) != 1 {
				t.Fatalf("an accept on the spot cancelled a pending visit: %+v", vs)
			}
		})
	}
}
