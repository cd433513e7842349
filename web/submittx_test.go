package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/service"
	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
	"github.com/silentcert/silentcert/web"
)

// onceHook holds a function for the next call that takes it to run, once.
type onceHook struct {
	mu sync.Mutex
	f  func()
}

// set has f run at the next take.
func (h *onceHook) set(f func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.f = f
}

// take runs the function set, if any, and forgets it.
func (h *onceHook) take() {
	h.mu.Lock()
	f := h.f
	h.f = nil
	h.mu.Unlock()
	if f != nil {
		f()
	}
}

// landsFirst is the console's ingester with a batch of its own applied first: what
// another staff member's form, or a department's push, does between the moment a form's
// handler read the person and the moment its batch is applied.
type landsFirst struct {
	web.Ingester
	onceHook
}

func (l *landsFirst) Ingest(ctx context.Context, sub web.Submission) (*web.Receipt, error) {
	l.take()
	return l.Ingester.Ingest(ctx, sub)
}

// newLandsFirstCity is a city whose console's batches land after landsFirst's.
func newLandsFirstCity(t *testing.T, db *store.DB) (*city, *landsFirst) {
	var lf *landsFirst
	c := newCityIngest(t, db, service.Options{}, func(_ *service.Service, in web.Ingester) web.Ingester {
		lf = &landsFirst{Ingester: in}
		return lf
	})
	return c, lf
}

// TestFormDecidedInItsBatch: a form decides from the person as its batch's transaction
// sees them, not as its handler read them a moment before, on both stores.
//
// A review of 李秀英's disputed death (accept=death) lands after another review found her
// alive: the dispute is over, and the review is refused, nothing recorded (before, it was
// stored and applied to change nothing, and the trail said the death was accepted). A
// village assistant's visit to 张三 lands after a move took him out of her village: it is
// refused as for anyone she does not see (before, recorded in her name, the row stamped
// with her village where he no longer lives).
func TestFormDecidedInItsBatch(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			ctx := context.Background()
			c, lf := newLandsFirstCity(t, dsn.Open(t))
			ingest := func(origin, rows string) {
				t.Helper()
				if _, err := c.svc.Ingest(ctx, service.Batch{Origin: origin, Actor: "test", Day: today, Files: []service.File{{Name: "r.csv",
					Body: strings.NewReader("record_id,source,type,person_id,event_date,reported_date,region_code,detail\n" + rows)}}}); err != nil {
					t.Fatal(err)
				}
			}
			trail := func(pid int64, kind string) []string {
				t.Helper()
				rows, err := c.db.PersonAudit(ctx, pid)
				if err != nil {
					t.Fatal(err)
				}
				var out []string
				for _, a := range rows {
					if a.Kind == kind {
						out = append(out, a.Action+" "+a.Region)
					}
				}
				return out
			}

			// 李秀英: a death, then a vaccination after it: disputed.
			ingest("test", "D1,PSB,PSB.DEATH_DEREG,"+li+",2024-04-01,2024-05-01,,\n")
			ingest("test", "V1,HEA,HEA.VACCINATION,"+li+",2024-05-02,2024-05-09,,\n")
			lp, _ := c.db.PersonByID(ctx, li)
			if lp.Status != sc.StatusConflict {
				t.Fatalf("李秀英 is %s, want CONFLICT", lp.Status)
			}
			lURL := fmt.Sprintf("/person/%d", lp.PID)
			op := c.clientAs(t, "operator")
			op.get(lURL)
			lf.set(func() {
				ingest("console", "R1,HRSS,HRSS.REVIEW,"+li+",2024-05-10,2024-05-10,,accept=alive;ref=HEA:V1\n")
			})
			st, _, body := op.post(lURL+"/review", url.Values{"csrf": {op.csrf}, "accept": {"death"}, "ref": {"PSB:D1"}, "reason": {"the certificate"},
				"once": {"aabbccddeeff001122334455"}})
			if st != http.StatusConflict {
				t.Errorf("a review of a dispute settled meanwhile: %d, want %d\n%s", st, http.StatusConflict, body)
			}
			if rows := trail(lp.PID, "review"); len(rows) != 0 {
				t.Errorf("review rows %q, want none", rows)
			}
			if p, _ := c.db.PersonByID(ctx, li); p.Status == sc.StatusTerminated || p.Status == sc.StatusConflict {
				t.Errorf("李秀英 is %s after the review that found her alive", p.Status)
			}
			recs, _ := c.db.PersonRecords(ctx, lp.PID)
			for _, r := range recs {
				if r.Source == "HRSS" && r.RecordID != "R1" {
					t.Errorf("the refused review's record was stored: %+v", r)
				}
			}

			// 张三 moves to the next village while his assistant's visit form is on its way.
			zp, _ := c.db.PersonByID(ctx, zhang)
			zURL := fmt.Sprintf("/person/%d", zp.PID)
			v1 := c.clientAs(t, "v1")
			v1.get(zURL)
			before := trail(zp.PID, "visit")
			lf.set(func() { ingest("test", "M1,PSB,PSB.HUKOU_MOVE,"+zhang+",2024-05-09,2024-05-10,371002001002,\n") })
			st, _, body = v1.post(zURL+"/visit", url.Values{"csrf": {v1.csrf}, "outcome": {"alive"}, "once": {"5566778899aabbccddeeff00"}})
			if st != http.StatusNotFound {
				t.Errorf("a visit to someone who moved out of the village meanwhile: %d, want %d\n%s", st, http.StatusNotFound, body)
			}
			if rows := trail(zp.PID, "visit"); len(rows) != len(before) {
				t.Errorf("visit rows %q, want %q", rows, before)
			}
		})
	}
}

// TestReviewNamesTheOpenDispute: a review must name a record of the dispute open as its
// batch's transaction sees it, on both stores; the engine ignores any other review, which
// the trail would have shown as taken.
//
// 李秀英's first dispute (death D1, vaccination V1) is settled alive while a reviewer's
// page still offers D1; a second death and vaccination open another. The reviewer's
// accept=death naming D1, sent from that page, is refused 409 in her words, nothing
// stored and no audit row (before, it was stored, ignored by the engine, and audited as
// the death accepted); so is a ref naming no record at all. Her page then offers the open
// dispute's records only, and a review naming one of them is taken.
func TestReviewNamesTheOpenDispute(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			ctx := context.Background()
			c, lf := newLandsFirstCity(t, dsn.Open(t))
			ingest := func(rows string) {
				t.Helper()
				if _, err := c.svc.Ingest(ctx, service.Batch{Origin: "test", Actor: "test", Day: today, Files: []service.File{{Name: "r.csv",
					Body: strings.NewReader("record_id,source,type,person_id,event_date,reported_date,region_code,detail\n" + rows)}}}); err != nil {
					t.Fatal(err)
				}
			}
			reviews := func(pid int64) int {
				t.Helper()
				rows, err := c.db.PersonAudit(ctx, pid)
				if err != nil {
					t.Fatal(err)
				}
				n := 0
				for _, a := range rows {
					if a.Kind == "review" {
						n++
					}
				}
				return n
			}
			hrss := func(pid int64) (ids []string) {
				t.Helper()
				recs, err := c.db.PersonRecords(ctx, pid)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range recs {
					if r.Source == "HRSS" {
						ids = append(ids, r.RecordID)
					}
				}
				return ids
			}

			ingest("D1,PSB,PSB.DEATH_DEREG," + li + ",2024-04-01,2024-05-01,,\n")
			ingest("V1,HEA,HEA.VACCINATION," + li + ",2024-05-02,2024-05-09,,\n")
			lp, _ := c.db.PersonByID(ctx, li)
			if lp.Status != sc.StatusConflict {
				t.Fatalf("李秀英 is %s, want CONFLICT", lp.Status)
			}
			lURL := fmt.Sprintf("/person/%d", lp.PID)
			op := c.clientAs(t, "operator")
			if _, body := op.get(lURL); !strings.Contains(body, "<option>PSB:D1</option>") {
				t.Fatalf("the review form does not offer PSB:D1:\n%s", body)
			}
			lf.set(func() {
				ingest("R1,HRSS,HRSS.REVIEW," + li + ",2024-05-10,2024-05-10,,accept=alive;ref=HEA:V1\n")
				ingest("D2,PSB,PSB.DEATH_DEREG," + li + ",2024-05-06,2024-05-10,,\n")
				ingest("V2,HEA,HEA.VACCINATION," + li + ",2024-05-08,2024-05-10,,\n")
				if p, _ := c.db.PersonByID(ctx, li); p.Status != sc.StatusConflict {
					t.Errorf("李秀英 is %s after D2 and V2, want CONFLICT", p.Status)
				}
			})
			st, _, body := op.post(lURL+"/review", url.Values{"csrf": {op.csrf}, "accept": {"death"}, "ref": {"PSB:D1"}, "reason": {"the certificate"},
				"once": {"0123456789abcdef01234567"}})
			if st != http.StatusConflict || !strings.Contains(body, "PSB:D1") {
				t.Errorf("a review naming the settled dispute's death: %d, want %d naming PSB:D1\n%s", st, http.StatusConflict, body)
			}
			if n := reviews(lp.PID); n != 0 {
				t.Errorf("%d review rows, want none", n)
			}
			if ids := hrss(lp.PID); len(ids) != 1 || ids[0] != "R1" {
				t.Errorf("HRSS records %q, want R1 alone", ids)
			}
			if p, _ := c.db.PersonByID(ctx, li); p.Status != sc.StatusConflict {
				t.Errorf("李秀英 is %s, want CONFLICT still", p.Status)
			}
			// Typed: a ref naming no record.
			st, _, body = op.post(lURL+"/review", url.Values{"csrf": {op.csrf}, "accept": {"death"}, "ref": {"PSB:NONE"}, "reason": {"typed"},
				"once": {"1123456789abcdef01234567"}})
			if st != http.StatusConflict || reviews(lp.PID) != 0 {
				t.Errorf("a review naming no record: %d, want %d, and no row\n%s", st, http.StatusConflict, body)
			}

			// The page offers the open dispute's records, not the first's.
			_, body = op.get(lURL)
			if strings.Contains(body, "<option>PSB:D1</option>") || strings.Contains(body, "<option>HEA:V1</option>") ||
				!strings.Contains(body, "<option>PSB:D2</option>") || !strings.Contains(body, "<option>HEA:V2</option>") {
				t.Errorf("the review form offers other records than D2 and V2:\n%s", body)
			}
			st, _, body = op.post(lURL+"/review", url.Values{"csrf": {op.csrf}, "accept": {"death"}, "ref": {"PSB:D2"}, "reason": {"the certificate"},
				"once": {"2123456789abcdef01234567"}})
			if st != http.StatusSeeOther {
				t.Fatalf("a review naming the open dispute's death: %d\n%s", st, body)
			}
			if p, _ := c.db.PersonByID(ctx, li); p.Status != sc.StatusTerminated || reviews(lp.PID) != 1 {
				t.Errorf("after the review: %s, %d review rows; want TERMINATED, 1", p.Status, reviews(lp.PID))
			}
		})
	}
}
