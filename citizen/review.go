package citizen

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/engine"
	"github.com/silentcert/silentcert/service"
	"github.com/silentcert/silentcert/store"
)

// Review is one borderline attempt waiting for staff: the console shows the selfie beside
// the ID-card photo and accepts it or sends the person to a visit.
type Review struct {
	ID       int64
	PID      int64
	PersonID string
	Name     string
	Region   string
	Created  time.Time
	Agent    bool
	Distance float64 // to the closest reference; -1 when the person has none
	Reason   string  // "borderline", "few_frames", "no_reference"
	Selfie   []byte  // the sharpest frame (JPEG)
	IDPhoto  []byte  // the ID-card photo, when imported and still kept (JPEG), else empty
	// IDCard: an ID-card photo was imported (its template is on file), even when the photo
	// itself is not kept. With no IDPhoto there is nothing to compare the selfie with, and
	// Decide wants the reviewer's other check.
	IDCard bool
}

// ReviewQuery selects one page of the open reviews.
type ReviewQuery struct {
	// Region is a region-code prefix: only the reviews of people whose code starts with it
	// ("" : everyone, including people with no code).
	Region string
	// After is the last review of the previous page: only reviews with a larger id.
	After int64
	// Limit is the page's size (0: every review, photos and all: only for small queues).
	Limit int
}

// ReviewPage is one page of the queue, oldest first.
type ReviewPage struct {
	Reviews []Review
	Total   int  // open reviews in the region, on every page
	More    bool // there is a page after this one
}

const reviewCols = `r.id, r.pid, p.person_id, p.name, p.region_code, r.created, r.agent,
		r.distance, r.reason, r.photo, COALESCE(f.photo, ?), CASE WHEN f.pid IS NULL THEN 0 ELSE 1 END
		FROM citizen_reviews r JOIN people p ON p.pid = r.pid
		LEFT JOIN citizen_refs f ON f.pid = r.pid AND f.kind = 'idcard'`

// Reviews returns one page of the open reviews of a region, oldest first, with their
// photos: a page, not the whole queue, since every review carries up to two JPEGs.
func Reviews(ctx context.Context, db *store.DB, q ReviewQuery) (ReviewPage, error) {
	var pg ReviewPage
	where, args := `r.status = 'open'`, []any{}
	if q.Region != "" {
		where += ` AND p.region_code LIKE ?`
		args = append(args, q.Region+"%")
	}
	if err := db.Reader().QueryRowContext(ctx, db.Rebind(`SELECT count(*) FROM citizen_reviews r JOIN people p ON p.pid = r.pid WHERE `+where),
		args...).Scan(&pg.Total); err != nil {
		return pg, fmt.Errorf("%s: reviews: %w", db, err)
	}
	query := `SELECT ` + reviewCols + ` WHERE ` + where + ` AND r.id > ? ORDER BY r.id`
	args = append([]any{[]byte{}}, append(args, q.After)...)
	if q.Limit > 0 {
		query += fmt.Sprintf(` LIMIT %d`, q.Limit+1)
	}
	rs, err := scanReviews(ctx, db, query, args...)
	if err != nil {
		return pg, err
	}
	if q.Limit > 0 && len(rs) > q.Limit {
		rs, pg.More = rs[:q.Limit], true
	}
	pg.Reviews = rs
	return pg, nil
}

// OpenReview returns one open review; a decided or unknown one is "not found".
func OpenReview(ctx context.Context, db *store.DB, id int64) (*Review, error) {
	rs, err := scanReviews(ctx, db, `SELECT `+reviewCols+` WHERE r.status = 'open' AND r.id = ?`, []byte{}, id)
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, sc.Errorf(sc.ENotFound, "no open review %d", id)
	}
	return &rs[0], nil
}

func scanReviews(ctx context.Context, db *store.DB, query string, args ...any) ([]Review, error) {
	rows, err := db.Reader().QueryContext(ctx, db.Rebind(query), args...)
	if err != nil {
		return nil, fmt.Errorf("%s: reviews: %w", db, err)
	}
	defer rows.Close()
	var out []Review
	for rows.Next() {
		var v Review
		var created int64
		var agent, idcard int
		if err := rows.Scan(&v.ID, &v.PID, &v.PersonID, &v.Name, &v.Region, &created, &agent, &v.Distance, &v.Reason,
			&v.Selfie, &v.IDPhoto, &idcard); err != nil {
			return nil, err
		}
		v.Created, v.Agent, v.IDCard = time.Unix(0, created), agent != 0, idcard != 0
		out = append(out, v)
	}
	return out, rows.Err()
}

// An accept takes two transactions, because the service ingests a batch in its own: the
// HRSS.FACE record (service.Ingest), then the selfie's template as the person's reference,
// their attempt bookkeeping and the audit row (complete). Between the two, the attempt is
// a row of citizen_reviews in status "deciding" that names the record it sends
// (record = "HRSS:FACE-…", chosen before the ingestion). complete finishes such a row
// from what the store holds: the record applied → accepted; no record → the review back in
// the queue (an attempt accepted on the spot: "failed", the person was told to try
// again). It is idempotent, so Recover can run it again after a crash or an error.
const (
	// claimTimeout is how long an accept may take before Recover treats it as interrupted.
	claimTimeout = 2 * time.Minute
	// autoPrefix marks the reason of an attempt accepted on the spot (not a staff review);
	// the attempt's measurements follow it, for the audit row.
	autoPrefix = "auto:"
)

// fault, set by tests, is called at "ingest" (an error: the ingestion fails), at
// "ingested" (an error: the process stops between the two transactions) and at "analyse"
// (an error: a burst's analysis fails).
var fault func(point string) error

func faultAt(point string) error {
	if fault != nil {
		return fault(point)
	}
	return nil
}

// OtherChecks are the ways a reviewer may have made sure of the person when there is no
// ID-card photo on the review to compare the selfie with (none imported, or not kept):
// they saw the person on a video call, at the bureau's counter, or through the village's
// staff. Decide takes one of them, or none when the photo is there.
var OtherChecks = []string{"video", "counter", "village"}

// ReviewDecision is a reviewer's decision on one review.
type ReviewDecision struct {
	Accept bool // accept (an HRSS.FACE record); otherwise a village visit
	// Check is the other check (one of OtherChecks) the reviewer made before accepting a
	// review with no ID-card photo to compare with; such an accept needs one. Audited.
	Check string
}

// Decide settles a review: accept sends the HRSS.FACE record through the service (dated
// the day of the attempt, with agent=1 when an agent helped); refuse routes the person to
// a visit. An accepted review's selfie never becomes a reference. now is the time of the
// decision (the console's clock). Deciding a review twice is an error; every decision is
// audited with its actor. An accept that fails leaves the review in the queue, or, when
// its record did reach the engine, finishes it (see complete).
func Decide(ctx context.Context, db *store.DB, svc *service.Service, id int64, actor string, d ReviewDecision, now time.Time) error {
	if _, err := Recover(ctx, db, svc, now); err != nil {
		return err
	}
	if !d.Accept {
		return refuse(ctx, db, svc, id, actor, now)
	}
	var st, photo int
	var personID string
	err := db.Reader().QueryRowContext(ctx, db.Rebind(`SELECT p.status, p.person_id, COALESCE(length(f.photo), 0)
		FROM citizen_reviews r JOIN people p ON p.pid = r.pid LEFT JOIN citizen_refs f ON f.pid = r.pid AND f.kind = 'idcard'
		WHERE r.id = ?`), id).Scan(&st, &personID, &photo)
	switch {
	case isNoRows(err):
		return sc.Errorf(sc.ENotFound, "no review %d", id)
	case err != nil:
		return fmt.Errorf("%s: review %d: %w", db, id, err)
	case closedToFace(sc.Status(st)):
		// A face does not certify someone whose death is on file (or disputed): it would
		// dispute the death (CONFLICT) on a reviewer's look at a selfie. A quick answer;
		// the record's batch decides (certify), as the person stands then.
		return closedReview(id, sc.Status(st))
	case d.Check != "" && !slices.Contains(OtherChecks, d.Check):
		return sc.Errorf(sc.EInvalid, "review %d: unknown check %q (want one of %s)", id, d.Check, strings.Join(OtherChecks, ", "))
	case photo == 0 && d.Check == "":
		// Nothing on the page to compare the selfie with: a click alone is no check.
		return sc.Errorf(sc.EInvalid, "review %d: there is no ID-card photo to compare the selfie with: say how else the person was checked (%s)", id, strings.Join(OtherChecks, ", "))
	}
	rid := faceRID(svc.Today())
	key := "HRSS:" + rid
	var pid, created int64
	var agent int
	tx, err := db.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	err = tx.QueryRow(`UPDATE citizen_reviews SET status = 'deciding', decided_by = ?, decided_at = ?, record = ?
		WHERE id = ? AND status = 'open' RETURNING pid, created, agent`, actor, now.UnixNano(), key, id).Scan(&pid, &created, &agent)
	if isNoRows(err) {
		return sc.Errorf(sc.EConflict, "review %d is not open", id)
	}
	if err == nil && d.Check != "" {
		// With the claim: the accept's own row is written when it completes, maybe by
		// Recover after a crash, which knows nothing of the check.
		err = tx.Append([]store.AuditRow{{Kind: "citizen_review", Day: dayIn(now, svc.Location()), At: now.UTC().Format(time.RFC3339),
			Actor: actor, PID: pid, PersonID: personID, Action: "review_check", Rule: "citizen",
			Detail: fmt.Sprintf("review=%d;check=%s;photo=%d", id, d.Check, b2i(photo > 0))}})
	}
	if err == nil {
		err = tx.Commit()
	}
	if err != nil {
		return fmt.Errorf("%s: review %d: %w", db, id, err)
	}
	err = faultAt("ingest")
	if err == nil {
		var p *who
		if p, err = personBy(dbq{ctx, db}, "pid", pid); err == nil {
			_, err = certify(ctx, svc, p, agent != 0, actor, dayIn(time.Unix(0, created), svc.Location()), rid)
		}
	}
	if ferr := faultAt("ingested"); ferr != nil {
		return ferr
	}
	applied, cerr := complete(context.WithoutCancel(ctx), db, svc, id, key, errors.As(err, new(notApplied)), now)
	switch {
	case cerr != nil:
		return errors.Join(err, cerr)
	case !applied && err == nil:
		return fmt.Errorf("review %d: the HRSS.FACE record %s is not in the store", id, key)
	case !applied:
		if cn := closedNow(0); errors.As(err, &cn) {
			return closedReview(id, sc.Status(cn))
		}
		return err
	}
	return nil
}

// closedReview is Decide's refusal of an accept for a person a face does not certify.
func closedReview(id int64, st sc.Status) error {
	return sc.Errorf(sc.EConflict, "review %d: the person is %s: a face cannot certify them; send the review to a visit or settle the case at the bureau", id, st)
}

// refuse sends a review's person to a visit, in one transaction.
func refuse(ctx context.Context, db *store.DB, svc *service.Service, id int64, actor string, now time.Time) error {
	tx, err := db.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var pid int64
	var agent int
	var dist float64
	err = tx.QueryRow(`UPDATE citizen_reviews SET status = 'visit', decided_by = ?, decided_at = ?, photo = `+keptPhoto+`
		WHERE id = ? AND status = 'open' RETURNING pid, agent, distance`, actor, now.UnixNano(), keep(), []byte{}, id).Scan(&pid, &agent, &dist)
	if isNoRows(err) {
		return sc.Errorf(sc.EConflict, "review %d is not open", id)
	}
	if err != nil {
		return fmt.Errorf("%s: review %d: %w", db, id, err)
	}
	p, err := personBy(tx, "pid", pid)
	if err != nil {
		return err
	}
	var failures int
	if err := tx.QueryRow(`SELECT failures FROM citizen_people WHERE pid = ?`, pid).Scan(&failures); err != nil && !isNoRows(err) {
		return err
	}
	if err := setOutcome(tx, pid, now, "review:visit", true, failures); err != nil {
		return err
	}
	if err := tx.Append([]store.AuditRow{{Kind: "citizen_review", Day: dayIn(now, svc.Location()), At: now.UTC().Format(time.RFC3339),
		Actor: actor, PID: pid, PersonID: p.PersonID, Action: "review_visit", Rule: "citizen",
		Detail: fmt.Sprintf("review=%d;agent=%d;distance=%.4f", id, agent, dist)}}); err != nil {
		return err
	}
	return tx.Commit()
}

// keptPhoto is what a decided review's photo becomes, with the arguments keep(), []byte{}:
// kept for the retention (Purge clears it then), or emptied at once.
const keptPhoto = `CASE WHEN ? = 1 THEN photo ELSE ? END`

func keep() int { return b2i(retentionOf() > 0) }

// complete finishes an accept in status "deciding" whose record is key, in one
// transaction: when the record is in the store and applied, the selfie's template becomes
// the person's reference, their failures and visit are cleared (a pending visit only by a
// staff accept, audited citizen_visit visit_cleared), the row is "accepted" and the accept
// audited; when it is not, the row goes back to the queue ("failed" for an attempt
// accepted on the spot, "closed" for a person who has died meanwhile), audited too; refused says the ingestion answered that the
// record was stored but not applied (held or quarantined). It reports whether the accept
// stood. A row no longer "deciding" with that key was finished before: nothing to do.
func complete(ctx context.Context, db *store.DB, svc *service.Service, id int64, key string, refused bool, now time.Time) (bool, error) {
	tx, err := db.Begin(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	var pid int64
	var agent int
	var tmpl []byte
	var dist float64
	var reason, actor string
	err = tx.QueryRow(`SELECT pid, agent, template, distance, reason, decided_by FROM citizen_reviews
		WHERE id = ? AND status = 'deciding' AND record = ?`, id, key).Scan(&pid, &agent, &tmpl, &dist, &reason, &actor)
	if isNoRows(err) {
		var status string
		if err := tx.QueryRow(`SELECT status FROM citizen_reviews WHERE id = ? AND record = ?`, id, key).Scan(&status); err != nil && !isNoRows(err) {
			return false, err
		}
		return status == "accepted", nil
	}
	if err != nil {
		return false, fmt.Errorf("%s: review %d: %w", db, id, err)
	}
	p, err := personBy(tx, "pid", pid)
	if err != nil {
		return false, err
	}
	source, rid, _ := strings.Cut(key, ":")
	_, stored, err := tx.RecordIDByKey(source, rid)
	if err != nil {
		return false, err
	}
	auto := strings.HasPrefix(reason, autoPrefix)
	row := store.AuditRow{Kind: "citizen_review", Day: dayIn(now, svc.Location()), At: now.UTC().Format(time.RFC3339),
		Actor: actor, PID: pid, PersonID: p.PersonID, Rule: "citizen", Detail: fmt.Sprintf("review=%d;agent=%d;distance=%.4f", id, agent, dist)}
	if auto {
		row.Kind, row.Detail = "citizen_face", strings.TrimPrefix(reason, autoPrefix)
	}
	if !stored || refused {
		// The ingestion failed, or its batch refused, held or quarantined the record:
		// nothing reached the engine.
		var st sc.Status
		if !auto {
			if st, err = statusNow(tx, pid); err != nil {
				return false, err
			}
		}
		switch {
		case auto:
			err = tx.Exec(`UPDATE citizen_reviews SET status = 'failed' WHERE id = ?`, id)
			row.Action = "accept_failed"
		case st == sc.StatusTerminated:
			// Died while the accept was under way (its batch refused the record): closed
			// as the death closes the reviews open then (closeReviews), not queued for a
			// visit the village would pay to a death on file.
			err = tx.Exec(`UPDATE citizen_reviews SET status = 'closed', photo = `+keptPhoto+` WHERE id = ?`, keep(), []byte{}, id)
			row.Action, row.Actor, row.Detail = "closed", "system", row.Detail+";terminated;by="+actor
		default:
			err = tx.Exec(`UPDATE citizen_reviews SET status = 'open', decided_by = '', decided_at = 0, record = '' WHERE id = ?`, id)
			row.Action, row.Actor, row.Detail = "review_reopen", "system", row.Detail+";by="+actor
		}
		if err == nil {
			err = tx.Append([]store.AuditRow{row})
		}
		if err == nil {
			err = tx.Commit()
		}
		return false, err
	}
	// Only a burst the server itself accepted becomes a reference: a staff accept may have
	// had no photo to compare with (no reference, one photo, a borderline distance).
	if auto {
		d, err := decodeTemplate(tmpl)
		if err != nil {
			return false, err
		}
		if err := putRef(tx, pid, RefSelfie, d, now, nil, 0); err != nil {
			return false, err
		}
	}
	// A pending visit is cleared by the visit or by staff, never by an accept on the spot
	// (settle sends a routed person's attempts to review; this one raced the routing).
	var failures, visit int
	if err := tx.QueryRow(`SELECT failures, needs_visit FROM citizen_people WHERE pid = ?`, pid).Scan(&failures, &visit); err != nil && !isNoRows(err) {
		return false, err
	}
	keepVisit := auto && visit != 0
	left := failures
	if !keepVisit {
		left = 0
	}
	if err := setOutcome(tx, pid, now, "accept", keepVisit, left); err != nil {
		return false, err
	}
	if err := tx.Exec(`UPDATE citizen_reviews SET status = 'accepted', photo = `+keptPhoto+` WHERE id = ?`, keep(), []byte{}, id); err != nil {
		return false, err
	}
	row.Action, row.Evidence = "review_accept", key
	if auto {
		row.Action = "accept"
	}
	rows := []store.AuditRow{row}
	if visit != 0 && !keepVisit {
		v := row
		v.Kind, v.Action, v.Detail = "citizen_visit", "visit_cleared", fmt.Sprintf("review=%d;failures=%d", id, failures)
		rows = append(rows, v)
	}
	if err := tx.Append(rows); err != nil {
		return false, err
	}
	return true, tx.Commit()
}

// Recover finishes the accepts interrupted between their two transactions (a crash, a
// failed second step): those claimed more than claimTimeout before now. citizen.New runs
// it at start, Decide before each decision and the console before listing the queue.
func Recover(ctx context.Context, db *store.DB, svc *service.Service, now time.Time) (int, error) {
	rows, err := db.Reader().QueryContext(ctx, db.Rebind(`SELECT id, record FROM citizen_reviews WHERE status = 'deciding' AND decided_at <= ? ORDER BY id`),
		now.Add(-claimTimeout).UnixNano())
	if err != nil {
		return 0, fmt.Errorf("%s: recover reviews: %w", db, err)
	}
	type claim struct {
		id  int64
		key string
	}
	var cs []claim
	for rows.Next() {
		var c claim
		if err := rows.Scan(&c.id, &c.key); err != nil {
			rows.Close()
			return 0, err
		}
		cs = append(cs, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for i, c := range cs {
		if _, err := complete(ctx, db, svc, c.id, c.key, false, now); err != nil {
			return i, fmt.Errorf("recover review %d: %w", c.id, err)
		}
	}
	return len(cs), nil
}

// Visited clears a person's routing to a visit once the village has been (the console's
// visit record), so that they leave the village's list; their failed attempts are
// forgotten too. It reports whether they were on the list; the clearing is audited with
// the record as its evidence.
func Visited(ctx context.Context, db *store.DB, svc *service.Service, pid int64, actor, evidence string, now time.Time) (bool, error) {
	tx, err := db.Begin(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	done, err := visitedTx(tx, pid, actor, evidence, now, svc.Location())
	if err != nil || !done {
		return false, err
	}
	return true, tx.Commit()
}

// visitedTx is Visited inside tx.
func visitedTx(tx *store.Tx, pid int64, actor, evidence string, now time.Time, loc *time.Location) (bool, error) {
	var visit, failures int
	var outcome string
	err := tx.QueryRow(`SELECT needs_visit, failures, last_outcome FROM citizen_people WHERE pid = ?`, pid).Scan(&visit, &failures, &outcome)
	if isNoRows(err) || (err == nil && visit == 0) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("visit of %d: %w", pid, err)
	}
	p, err := personBy(tx, "pid", pid)
	if err != nil {
		return false, err
	}
	if err := tx.Exec(`UPDATE citizen_people SET needs_visit = 0, visit_since = 0, failures = 0, last_outcome = 'visited' WHERE pid = ?`, pid); err != nil {
		return false, err
	}
	if err := tx.Append([]store.AuditRow{{Kind: "citizen_visit", Day: dayIn(now, loc), At: now.UTC().Format(time.RFC3339),
		Actor: actor, PID: pid, PersonID: p.PersonID, Action: "visited", Evidence: evidence, Rule: "citizen",
		Detail: fmt.Sprintf("failures=%d;last=%s", failures, outcome)}}); err != nil {
		return false, err
	}
	return true, nil
}

// VisitDecision takes a person off the face visit list when the engine decides what a
// village's visit settles, whatever brought the record (a department's batch, the API,
// a drop folder): a certification by a community visit (CMT.VISIT) or a termination.
// serve calls it from the service's OnDecision hook, inside the decision's transaction;
// now is the wall clock of the audit row.
func VisitDecision(tx *store.Tx, p *service.Person, d engine.Decision, now time.Time, loc *time.Location) error {
	if d.Action != sc.ActTerminated && (d.Action != sc.ActCertified || d.Method != sc.MethodCommunity) {
		return nil
	}
	evidence := ""
	if d.Evidence != engine.NoRef {
		keys, err := tx.RecordKeys([]int64{int64(d.Evidence)})
		if err != nil {
			return err
		}
		evidence = keys[int64(d.Evidence)]
	}
	if _, err := visitedTx(tx, p.PID, "engine", evidence, now, loc); err != nil {
		return err
	}
	if d.Action == sc.ActTerminated {
		return closeReviews(tx, p, evidence, now, loc)
	}
	return nil
}

// closeReviews closes the open face reviews of a person the engine has terminated: no
// accept could certify them any more, and sending one to a visit would put a person whose
// death is on file on the village's list. Audited, one row a review (kind citizen_review,
// action closed); the photo goes as with any decided review.
func closeReviews(tx *store.Tx, p *service.Person, evidence string, now time.Time, loc *time.Location) error {
	for {
		var id int64
		err := tx.QueryRow(`SELECT id FROM citizen_reviews WHERE pid = ? AND status = 'open' ORDER BY id LIMIT 1`, p.PID).Scan(&id)
		if isNoRows(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("closing the reviews of %d: %w", p.PID, err)
		}
		if err := tx.Exec(`UPDATE citizen_reviews SET status = 'closed', decided_by = 'engine', decided_at = ?, photo = `+keptPhoto+` WHERE id = ?`,
			now.UnixNano(), keep(), []byte{}, id); err != nil {
			return err
		}
		if err := tx.Append([]store.AuditRow{{Kind: "citizen_review", Day: dayIn(now, loc), At: now.UTC().Format(time.RFC3339),
			Actor: "engine", PID: p.PID, PersonID: p.Rec.PersonID, Action: "closed", Evidence: evidence, Rule: "citizen",
			Detail: fmt.Sprintf("review=%d;terminated", id)}}); err != nil {
			return err
		}
	}
}

// Visit is a person whose face attempts failed too often (or whose review was sent to a
// visit): the village's worklist shows them.
type Visit struct {
	PID      int64
	PersonID string
	Name     string
	Region   string
	Since    time.Time
	Failures int
	Last     string // the last outcome, e.g. "reject:mismatch"
}

// NeedsVisit returns the people routed to a visit, longest waiting first.
func NeedsVisit(ctx context.Context, db *store.DB) ([]Visit, error) {
	rows, err := db.Reader().QueryContext(ctx, `SELECT c.pid, p.person_id, p.name, p.region_code, c.visit_since, c.failures, c.last_outcome
		FROM citizen_people c JOIN people p ON p.pid = c.pid WHERE c.needs_visit = 1 ORDER BY c.visit_since, c.pid`)
	if err != nil {
		return nil, fmt.Errorf("%s: visits: %w", db, err)
	}
	defer rows.Close()
	var out []Visit
	for rows.Next() {
		var v Visit
		var since int64
		if err := rows.Scan(&v.PID, &v.PersonID, &v.Name, &v.Region, &since, &v.Failures, &v.Last); err != nil {
			return nil, err
		}
		v.Since = time.Unix(0, since)
		out = append(out, v)
	}
	return out, rows.Err()
}
