package web

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"time"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/auth"
	"github.com/silentcert/silentcert/citizen"
	"github.com/silentcert/silentcert/idcard"
	"github.com/silentcert/silentcert/service"
	"github.com/silentcert/silentcert/store"
)

// FaceReviews is the face certification flow as the console sees it: the borderline
// attempts waiting for staff, a page at a time, their decision, the people sent to a visit
// and the visit that takes them off the list; serve adapts citizen with FromCitizen,
// tests fake it, nil hides the pages. now is the console's clock.
type FaceReviews interface {
	Reviews(ctx context.Context, q citizen.ReviewQuery, now time.Time) (citizen.ReviewPage, error)
	// Recover finishes the accepts an error or a crash interrupted, so that their reviews
	// are back in the queue (or decided): the console does it before showing the queue to
	// someone who may decide, never for a reader (an auditor's look writes nothing).
	Recover(ctx context.Context, now time.Time) error
	Review(ctx context.Context, id int64) (*citizen.Review, error)
	// Decide accepts a review or sends it to a visit; an accept with no ID-card photo to
	// compare needs the other check the reviewer made (citizen.ReviewDecision).
	Decide(ctx context.Context, id int64, actor string, d citizen.ReviewDecision, now time.Time) error
	NeedsVisit(ctx context.Context) ([]citizen.Visit, error)
	Visited(ctx context.Context, pid int64, actor, evidence string, now time.Time) (bool, error)
	// SignIns counts a person's open ways into the pensioner's pages; EndSignIns ends them
	// all (a lost phone, a relative who may no longer act), audited with its reason.
	SignIns(ctx context.Context, pid int64, now time.Time) (citizen.SignIns, error)
	EndSignIns(ctx context.Context, pid int64, actor, reason string, now time.Time) (citizen.SignIns, error)
}

// citizenFaces calls package citizen over the service's database and ingestion.
type citizenFaces struct {
	db  *store.DB
	svc *service.Service
}

// FromCitizen adapts package citizen to the console's FaceReviews, so that an accepted
// review goes through the service as an HRSS.FACE record like any other.
func FromCitizen(db *store.DB, svc *service.Service) FaceReviews { return citizenFaces{db, svc} }

func (f citizenFaces) Reviews(ctx context.Context, q citizen.ReviewQuery, _ time.Time) (citizen.ReviewPage, error) {
	return citizen.Reviews(ctx, f.db, q)
}

func (f citizenFaces) Recover(ctx context.Context, now time.Time) error {
	_, err := citizen.Recover(ctx, f.db, f.svc, now)
	return err
}

func (f citizenFaces) Review(ctx context.Context, id int64) (*citizen.Review, error) {
	return citizen.OpenReview(ctx, f.db, id)
}

func (f citizenFaces) Decide(ctx context.Context, id int64, actor string, d citizen.ReviewDecision, now time.Time) error {
	return citizen.Decide(ctx, f.db, f.svc, id, actor, d, now)
}

func (f citizenFaces) NeedsVisit(ctx context.Context) ([]citizen.Visit, error) {
	return citizen.NeedsVisit(ctx, f.db)
}

func (f citizenFaces) Visited(ctx context.Context, pid int64, actor, evidence string, now time.Time) (bool, error) {
	return citizen.Visited(ctx, f.db, f.svc, pid, actor, evidence, now)
}

func (f citizenFaces) SignIns(ctx context.Context, pid int64, now time.Time) (citizen.SignIns, error) {
	return citizen.PersonSignIns(ctx, f.db, pid, now)
}

func (f citizenFaces) EndSignIns(ctx context.Context, pid int64, actor, reason string, now time.Time) (citizen.SignIns, error) {
	return citizen.EndSignIns(ctx, f.db, pid, actor, reason, now, f.svc.Location())
}

// signInsPost ends every sign-in of a person to the pensioner's pages (operators and
// administrators, with a reason).
func (c *console) signInsPost(w http.ResponseWriter, r *http.Request) {
	u := reqOf(r).user
	if u.Disabled || (u.Role != auth.RoleAdmin && u.Role != auth.RoleOperator) {
		c.fail(w, r, sc.Errorf(eForbidden, "sign-ins are ended by the city bureau"))
		return
	}
	p, err := c.personFor(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	reason, err := formReason(r, "reason")
	if err != nil {
		c.fail(w, r, err)
		return
	}
	ended, err := c.opt.Faces.EndSignIns(r.Context(), p.PID, u.Name, reason, c.opt.Now())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.log.Info("console sign-ins ended", "user", u.Name, "person", idcard.Mask(p.Rec.PersonID), "ended", ended.String())
	http.Redirect(w, r, fmt.Sprintf("/person/%d?signins=ended#h-signin", p.PID), http.StatusSeeOther)
}

// sees reports whether u may see a person of region code: inside their region, and the
// unassigned ("") only for unscoped accounts, as personFor decides.
func sees(u *auth.User, code string) bool {
	return u.Sees(code) || (u != nil && !u.Disabled && u.Region == "" && code == "")
}

// reviewer refuses everyone but the city bureau: operators and administrators decide,
// auditors read.
func reviewer(u *auth.User, write bool) error {
	switch {
	case u.Disabled:
		return sc.Errorf(eForbidden, "account disabled")
	case u.Role == auth.RoleAdmin || u.Role == auth.RoleOperator:
		return nil
	case u.Role == auth.RoleAuditor && !write:
		return nil
	}
	return sc.Errorf(eForbidden, "face reviews are decided by the city bureau")
}

// FaceReview is one review as the page shows it: the photos as data URLs (empty when
// not kept) beside the scores.
type FaceReview struct {
	citizen.Review
	SelfieURL  template.URL
	IDPhotoURL template.URL
	Day        string // the attempt's day, UTC+8
}

type reviewsData struct {
	Reviews []FaceReview
	Checks  []string // citizen.OtherChecks: the form asks for one when there is no ID photo to compare
	Done    string   // "accept" or "visit" after a decision
	DoneID  int64
	Total   int    // open reviews the user may see, on every page
	First   int    // the position of this page's first review (1-based)
	Last    int    // and of its last
	Next    string // the next page's URL, "" on the last
	Paged   bool   // not the first page: offers the way back to it
}

// ReviewsPerPage is how many reviews a page of /reviews shows: each carries up to two
// photos embedded in the page, so the whole queue on one page could be megabytes.
const ReviewsPerPage = 20

// cst is the console's time zone for days shown from instants.
var cst = time.FixedZone("CST", 8*3600)

// jpegURL embeds a JPEG as a data URL (the CSP allows img-src data:); anything that is not
// a JPEG is not shown.
func jpegURL(b []byte) template.URL {
	if !bytes.HasPrefix(b, []byte{0xff, 0xd8, 0xff}) {
		return ""
	}
	return template.URL("data:image/jpeg;base64," + base64.StdEncoding.EncodeToString(b))
}

// reviewRegion is the region whose reviews u may see: the account's own ("" for the
// unscoped city bureau, which sees everyone).
func reviewRegion(u *auth.User) string { return u.Region }

// reviews shows one page of the queue: ?after=ID continues after review ID, ?n= is the
// position of the page's first review (only for the "n–m of total" line).
func (c *console) reviews(w http.ResponseWriter, r *http.Request) {
	u := reqOf(r).user
	if err := reviewer(u, false); err != nil {
		c.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	after, _ := strconv.ParseInt(q.Get("after"), 10, 64)
	first, _ := strconv.Atoi(q.Get("n"))
	if after < 0 {
		after = 0
	}
	if first < 1 || after == 0 {
		first = 1
	}
	if reviewer(u, true) == nil {
		if err := c.opt.Faces.Recover(r.Context(), c.opt.Now()); err != nil {
			c.fail(w, r, err)
			return
		}
	}
	pg, err := c.opt.Faces.Reviews(r.Context(), citizen.ReviewQuery{Region: reviewRegion(u), After: after, Limit: ReviewsPerPage}, c.opt.Now())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d := &reviewsData{Total: pg.Total, First: first, Paged: after > 0, Checks: citizen.OtherChecks}
	if v := q.Get("done"); v == "accept" || v == "visit" {
		d.Done = v
		d.DoneID, _ = strconv.ParseInt(q.Get("id"), 10, 64)
	}
	for _, v := range pg.Reviews {
		if !sees(u, v.Region) {
			continue
		}
		d.Reviews = append(d.Reviews, FaceReview{Review: v, SelfieURL: jpegURL(v.Selfie), IDPhotoURL: jpegURL(v.IDPhoto),
			Day: v.Created.In(cst).Format("2006-01-02 15:04")})
	}
	d.Last = first + len(d.Reviews) - 1
	// ID photos and selfies shown: who looked, at whose (as the person page logs its views).
	ids := make([]int64, len(d.Reviews))
	for i, v := range d.Reviews {
		ids[i] = v.ID
	}
	c.log.Info("console face reviews view", "user", u.Name, "reviews", ids)
	if pg.More && len(pg.Reviews) > 0 {
		d.Next = fmt.Sprintf("/reviews?after=%d&n=%d", pg.Reviews[len(pg.Reviews)-1].ID, first+len(pg.Reviews))
	}
	c.render(w, r, http.StatusOK, "reviews", d)
}

// reviewDecide accepts a review (an HRSS.FACE record through the service) or sends the
// person to a visit; citizen.Decide audits the decision with the user's name, and the
// other check the form names when there was no ID photo to compare (it refuses an accept
// without one). A review outside the user's region is "not found", as for one that does
// not exist.
func (c *console) reviewDecide(w http.ResponseWriter, r *http.Request) {
	u := reqOf(r).user
	if err := reviewer(u, true); err != nil {
		c.fail(w, r, err)
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		c.fail(w, r, sc.Errorf(sc.ENotFound, "no such review"))
		return
	}
	op := r.PostFormValue("op")
	if op != "accept" && op != "visit" {
		c.fail(w, r, sc.Errorf(sc.EInvalid, "op %q: want accept or visit", op))
		return
	}
	rv, err := c.opt.Faces.Review(r.Context(), id)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if !sees(u, rv.Region) {
		c.fail(w, r, sc.Errorf(sc.ENotFound, "no open review %d", id))
		return
	}
	d := citizen.ReviewDecision{Accept: op == "accept"}
	if d.Accept {
		d.Check = r.PostFormValue("check")
	}
	if err := c.opt.Faces.Decide(r.Context(), id, u.Name, d, c.opt.Now()); err != nil {
		c.fail(w, r, err)
		return
	}
	c.log.Info("console face review", "user", u.Name, "person", idcard.Mask(rv.PersonID), "review", id, "op", op)
	http.Redirect(w, r, fmt.Sprintf("/reviews?done=%s&id=%d", op, id), http.StatusSeeOther)
}

// visited takes a person off the face visit list once the village's visit record is in:
// any outcome (alive, death, moved, not found, refused) means the village has been, and
// the engine goes on from the record.
func (c *console) visited(r *http.Request, p *store.Person, evidence string) error {
	if c.opt.Faces == nil {
		return nil
	}
	u := reqOf(r).user
	done, err := c.opt.Faces.Visited(r.Context(), p.PID, u.Name, evidence, c.opt.Now())
	if err == nil && done {
		c.log.Info("console face visit done", "user", u.Name, "person", idcard.Mask(p.Rec.PersonID), "evidence", evidence)
	}
	return err
}

// FaceVisit is one person sent to a visit, as the lists show them.
type FaceVisit struct {
	citizen.Visit
	Day string // since, UTC+8
}

type visitsData struct {
	Region string
	Rows   []FaceVisit
}

// faceVisits returns the people sent to a visit whose code starts with prefix and whom u
// may see.
func (c *console) faceVisits(ctx context.Context, u *auth.User, prefix string) ([]FaceVisit, error) {
	if c.opt.Faces == nil {
		return nil, nil
	}
	all, err := c.opt.Faces.NeedsVisit(ctx)
	if err != nil {
		return nil, err
	}
	var out []FaceVisit
	for _, v := range all {
		if sees(u, v.Region) && len(v.Region) >= len(prefix) && v.Region[:len(prefix)] == prefix {
			out = append(out, FaceVisit{Visit: v, Day: v.Since.In(cst).Format("2006-01-02")})
		}
	}
	return out, nil
}

// visits is the worklist of people whose face attempts failed too often, for staff above
// the village (the village's own page lists its people).
func (c *console) visits(w http.ResponseWriter, r *http.Request) {
	u := reqOf(r).user
	region, err := scope(u, r.URL.Query().Get("region"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	rows, err := c.faceVisits(r.Context(), u, region)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "visits", &visitsData{Region: region, Rows: rows})
}
