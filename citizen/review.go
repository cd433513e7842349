package citizen

import (
	"context"
	"fmt"
	"time"

	sc "github.com/silentcert/silentcert"
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
}

// Reviews returns the open reviews, oldest first.
func Reviews(ctx context.Context, db *store.DB) ([]Review, error) {
	rows, err := db.SQL().QueryContext(ctx, db.Rebind(`SELECT r.id, r.pid, p.person_id, p.name, p.region_code, r.created, r.agent,
		r.distance, r.reason, r.photo, COALESCE(f.photo, ?)
		FROM citizen_reviews r JOIN people p ON p.pid = r.pid
		LEFT JOIN citizen_refs f ON f.pid = r.pid AND f.kind = 'idcard'
		WHERE r.status = 'open' ORDER BY r.id`), []byte{})
	if err != nil {
		return nil, fmt.Errorf("%s: reviews: %w", db, err)
	}
	defer rows.Close()
	var out []Review
	for rows.Next() {
		var v Review
		var created int64
		var agent int
		if err := rows.Scan(&v.ID, &v.PID, &v.PersonID, &v.Name, &v.Region, &created, &agent, &v.Distance, &v.Reason,
			&v.Selfie, &v.IDPhoto); err != nil {
			return nil, err
		}
		v.Created, v.Agent = time.Unix(0, created), agent != 0
		out = append(out, v)
	}
	return out, rows.Err()
}

// Decide settles a review: accept sends the HRSS.FACE record through the service (dated
// the day of the attempt, with agent=1 when an agent helped) and keeps the selfie's
// template as the person's reference; refuse routes the person to a visit. Deciding a
// review twice is an error; every decision is audited with its actor.
func Decide(ctx context.Context, db *store.DB, svc *service.Service, id int64, actor string, accept bool) error {
	now := time.Now()
	res, err := db.SQL().ExecContext(ctx, db.Rebind(`UPDATE citizen_reviews SET status = 'deciding' WHERE id = ? AND status = 'open'`), id)
	if err != nil {
		return fmt.Errorf("%s: review %d: %w", db, id, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return sc.Errorf(sc.EConflict, "review %d is not open", id)
	}
	reopen := func() {
		db.SQL().ExecContext(context.WithoutCancel(ctx), db.Rebind(`UPDATE citizen_reviews SET status = 'open' WHERE id = ? AND status = 'deciding'`), id)
	}
	var pid, created int64
	var agent int
	var tmpl []byte
	var dist float64
	if err := db.SQL().QueryRowContext(ctx, db.Rebind(`SELECT pid, created, agent, template, distance FROM citizen_reviews WHERE id = ?`), id).
		Scan(&pid, &created, &agent, &tmpl, &dist); err != nil {
		reopen()
		return err
	}
	p, err := personBy(dbq{ctx, db}, "pid", pid)
	if err != nil {
		reopen()
		return err
	}
	key := ""
	if accept {
		if key, err = certify(ctx, svc, p, agent != 0, actor, dayIn(time.Unix(0, created), svc.Location())); err != nil {
			reopen()
			return err
		}
	}
	tx, err := db.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	status, action := "visit", "review_visit"
	if accept {
		status, action = "accepted", "review_accept"
		d, err := decodeTemplate(tmpl)
		if err != nil {
			return err
		}
		if err := putRef(tx, pid, RefSelfie, d, now, nil, 0); err != nil {
			return err
		}
		if err := setOutcome(tx, pid, now, "accept", false, 0); err != nil {
			return err
		}
	} else {
		var failures int
		if err := tx.QueryRow(`SELECT failures FROM citizen_people WHERE pid = ?`, pid).Scan(&failures); err != nil && !isNoRows(err) {
			return err
		}
		if err := setOutcome(tx, pid, now, "review:visit", true, failures); err != nil {
			return err
		}
	}
	// The selfie stays only as long as the retention allows (Purge clears it then).
	photo := "photo"
	if retentionOf() <= 0 {
		photo = "?"
	}
	args := []any{status, actor, now.UnixNano(), key}
	if photo == "?" {
		args = append(args, []byte{})
	}
	args = append(args, id)
	if err := tx.Exec(`UPDATE citizen_reviews SET status = ?, decided_by = ?, decided_at = ?, record = ?, photo = `+photo+` WHERE id = ?`, args...); err != nil {
		return err
	}
	if err := tx.Append([]store.AuditRow{{Kind: "citizen_review", Day: svc.Today(), At: now.UTC().Format(time.RFC3339), Actor: actor,
		PID: pid, PersonID: p.PersonID, Action: action, Evidence: key, Rule: "citizen",
		Detail: fmt.Sprintf("review=%d;agent=%d;distance=%.4f", id, agent, dist)}}); err != nil {
		return err
	}
	return tx.Commit()
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
	rows, err := db.SQL().QueryContext(ctx, `SELECT c.pid, p.person_id, p.name, p.region_code, c.visit_since, c.failures, c.last_outcome
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
