package citizen

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/idcard"
	"github.com/silentcert/silentcert/service"
	"github.com/silentcert/silentcert/store"
)

// MaxFrames is the largest burst an attempt may upload.
const MaxFrames = 5

// analyses bounds the attempts analysed at once in this process: each one keeps both
// cores busy for about a second, and a queue is better than every attempt slowing down.
var analyses = make(chan struct{}, 2)

// capturePage issues the attempt's nonce (single use, NonceTTL) and shows the capture page.
func (h *handler) capturePage(w http.ResponseWriter, r *http.Request) {
	s := h.needSession(w, r)
	if s == nil {
		return
	}
	if m, _ := sharedModels(); m == nil {
		h.render(w, r, http.StatusServiceUnavailable, "message", pageData{Msg: "unavailable", Next: "/c/me"})
		return
	}
	// No nonce for someone the status page offers no capture: the page's button is only
	// guidance, the refusal is here (and at the attempt, for a nonce issued before).
	why, st, err := faceGate(dbq{r.Context(), h.db}, s.pid)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if why != "" {
		if p, err := personBy(dbq{r.Context(), h.db}, "pid", s.pid); err == nil {
			h.auditFirst(context.WithoutCancel(r.Context()), fmt.Sprintf("refused:capture_%s:%d", why, s.pid), 24*time.Hour,
				h.auditRow("citizen_face", actorOf(s.agent), p.PID, p.PersonID, "capture_refused", "", gateDetail(why, st)))
		}
		h.render(w, r, http.StatusForbidden, "message", pageData{Msg: "face_" + why, Next: "/c/me"})
		return
	}
	tok, hash := newToken(16)
	now := h.now()
	if _, err := h.db.SQL().ExecContext(r.Context(), h.db.Rebind(`INSERT INTO citizen_nonces (hash, pid, session, created, expires, used)
		VALUES (?, ?, ?, ?, ?, 0)`), hash, s.pid, s.hash, now.UnixNano(), now.Add(h.pol.NonceTTL).UnixNano()); err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "capture", pageData{CSRF: s.csrf, Nonce: tok, Agent: s.agent,
		Minutes: int((h.pol.NonceTTL + time.Minute - 1) / time.Minute), MaxFrames: MaxFrames})
}

// Why a person may not certify by face now (faceGate).
const (
	// gateStatus: their status is for the bureau to settle (closedToFace).
	gateStatus = "status"
	// gateReview: photos they sent wait for staff; the status page offers no capture
	// meanwhile and says so.
	gateReview = "review"
)

// faceGate says why person pid may not certify by face now ("" when they may), with their
// status: the server's side of the status page's button. The capture page and the attempt
// ask it; settle asks closedStatus again just before an accept's record is sent.
func faceGate(q querier, pid int64) (string, sc.Status, error) {
	st, err := statusNow(q, pid)
	switch {
	case err != nil:
		return "", st, err
	case closedToFace(st):
		return gateStatus, st, nil
	}
	var open int
	if err := q.QueryRow(`SELECT count(*) FROM citizen_reviews WHERE status IN ('open', 'deciding') AND pid = ?`, pid).Scan(&open); err != nil {
		return "", st, err
	}
	if open > 0 {
		return gateReview, st, nil
	}
	return "", st, nil
}

// statusNow reads a person's status as the engine last left it.
func statusNow(q querier, pid int64) (sc.Status, error) {
	var st int
	if err := q.QueryRow(`SELECT status FROM people WHERE pid = ?`, pid).Scan(&st); err != nil {
		return 0, fmt.Errorf("status of %d: %w", pid, err)
	}
	return sc.Status(st), nil
}

// gateDetail is the audit detail of a refusal by faceGate.
func gateDetail(why string, st sc.Status) string {
	return fmt.Sprintf("reason=closed_%s;status=%s", why, st)
}

// closed audits an attempt faceGate refuses and answers it: the words say what to do
// instead (the bureau or the village for a status a face cannot settle; wait for staff).
func (h *handler) closed(ctx context.Context, p *who, actor, why string, st sc.Status) attemptResult {
	h.record(context.WithoutCancel(ctx), []store.AuditRow{h.auditRow("citizen_face", actor, p.PID, p.PersonID, "attempt_refused", "", gateDetail(why, st))})
	return attemptResult{Outcome: "closed", Reason: why}
}

// auditFirst appends row only the first time key is met in a window, counted in
// citizen_throttle like the rate limits: a refused page reloaded or a script looping must
// not flood the trail.
func (h *handler) auditFirst(ctx context.Context, key string, window time.Duration, row store.AuditRow) {
	tx, err := h.db.Begin(ctx)
	if err == nil {
		defer tx.Rollback()
		var n int
		if n, err = hit(tx, key, h.now(), window, 0); err == nil && n == 1 {
			err = tx.Append([]store.AuditRow{row})
		}
		if err == nil {
			err = tx.Commit()
		}
	}
	if err != nil {
		h.log.Error("citizen audit", "err", err)
	}
}

// attemptResult is the JSON answer to an attempt (the capture script's). Its reason tells
// only what the person can act on: a picture to take again (retry: why), the day's limit
// (refused: too_many), a visit, a closed gate; never which check a reject or a review
// failed, which stays in the audit trail.
type attemptResult struct {
	// accept (certified: Until says until when), recorded (the record was applied but the
	// person is not certified by it: their status is for the bureau), review, reject,
	// retry, refused, closed (faceGate: Reason says why)
	Outcome string `json:"outcome"`
	Reason  string `json:"reason,omitempty"`
	Until   string `json:"certified_until,omitempty"`
	Message string `json:"message"`
}

// attemptPost takes a burst of frames and decides on it on the server.
func (h *handler) attemptPost(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	s := h.needSession(w, r)
	if s == nil {
		return
	}
	p, err := personBy(dbq{ctx, h.db}, "pid", s.pid)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	actor := actorOf(s.agent)
	// Refused before its nonce is spent: audited, the first of a day for each reason (a
	// stale page or a script looping on one must not flood the trail).
	earlyAs := func(status int, action, outcome, reason string) {
		h.auditFirst(context.WithoutCancel(ctx), fmt.Sprintf("refused:%s:%d", reason, p.PID), 24*time.Hour,
			h.auditRow("citizen_face", actor, p.PID, p.PersonID, action, "", "reason="+reason))
		h.answer(w, r, status, attemptResult{Outcome: outcome, Reason: reason})
	}
	early := func(status int, action, reason string) { earlyAs(status, action, "refused", reason) }
	// Photos too large are answered in words of their own, before the nonce and the day's
	// attempts are spent: the person can try again at once, with the camera's burst or a
	// smaller photo.
	r.Body = http.MaxBytesReader(w, r.Body, int64(MaxFrames)*h.pol.MaxFrameBytes+64<<10)
	if err := r.ParseMultipartForm(8 << 20); err != nil {
		if errors.As(err, new(*http.MaxBytesError)) {
			earlyAs(http.StatusRequestEntityTooLarge, "attempt_refused", "retry", "too_large")
		} else {
			earlyAs(http.StatusBadRequest, "attempt_refused", "retry", "frames")
		}
		return
	}
	defer r.MultipartForm.RemoveAll()
	if !h.checkCSRF(r, s) {
		early(http.StatusForbidden, "attempt_refused", "csrf")
		return
	}
	now := h.now()
	files := r.MultipartForm.File["frame"]
	for _, fh := range files {
		if fh.Size > h.pol.MaxFrameBytes {
			h.record(ctx, []store.AuditRow{h.auditRow("citizen_face", actor, p.PID, p.PersonID, "attempt_refused", "", "reason=too_large")})
			h.answer(w, r, http.StatusRequestEntityTooLarge, attemptResult{Outcome: "retry", Reason: "too_large"})
			return
		}
	}
	// The nonce: this session's, not used, in time. Used up here, before anything else, so
	// that the same upload sent again is never judged twice, even while the first is being
	// analysed.
	nonce := hashOf(r.FormValue("nonce"))
	res, err := h.db.SQL().ExecContext(ctx, h.db.Rebind(`UPDATE citizen_nonces SET used = ?
		WHERE hash = ? AND pid = ? AND session = ? AND used = 0 AND expires > ?`),
		now.UnixNano(), nonce, s.pid, s.hash, now.UnixNano())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if n, _ := res.RowsAffected(); n != 1 {
		// The same page's upload sent again (a second tap on a slow line: its answer
		// arrives last and is the one the person sees) is answered as the first was, once
		// the first is judged; it is still refused, audited as such, and judges nothing.
		if code, a, ok := h.repeated(ctx, nonce, s); ok {
			h.auditFirst(context.WithoutCancel(ctx), fmt.Sprintf("refused:nonce_repeat:%d", p.PID), 24*time.Hour,
				h.auditRow("citizen_face", actor, p.PID, p.PersonID, "nonce_refused", "", "reason=nonce_repeat;answered="+cmp.Or(a.Outcome, "error")))
			if a.Outcome == "" {
				h.failWith(w, r, code)
				return
			}
			h.answer(w, r, code, a)
			return
		}
		early(http.StatusConflict, "nonce_refused", "nonce")
		return
	}
	// From here the nonce is spent, and every answer is kept with it (repeated), within
	// attemptLimit. An attempt that fails is audited too (the person was answered "try
	// later", and their nonce is gone).
	ctx, cancel := context.WithTimeout(ctx, attemptLimit)
	defer cancel()
	keep := func(code int, a attemptResult) {
		b, _ := json.Marshal(keptAnswer{code, a})
		if _, err := h.db.SQL().ExecContext(context.WithoutCancel(ctx), h.db.Rebind(`UPDATE citizen_nonces SET answer = ? WHERE hash = ?`),
			string(b), nonce); err != nil {
			h.log.Error("citizen nonce answer", "err", err)
		}
	}
	reply := func(code int, a attemptResult) {
		keep(code, a)
		h.answer(w, r, code, a)
	}
	failed := func(stage string, err error) {
		h.record(context.WithoutCancel(ctx), []store.AuditRow{h.auditRow("citizen_face", actor, p.PID, p.PersonID, "attempt_failed", "", "stage="+stage)})
		keep(failCode(err), attemptResult{})
		h.fail(w, r, err)
	}
	tx, err := h.db.Begin(ctx)
	if err != nil {
		failed("count", err)
		return
	}
	over, err := hit(tx, fmt.Sprintf("attempt:%d", p.PID), now, 24*time.Hour, h.pol.AttemptsPerDay)
	if err == nil {
		err = tx.Commit()
	}
	tx.Rollback()
	if err != nil {
		failed("count", err)
		return
	}
	// From here the attempt's nonce is spent: a refusal is audited like a decision — over
	// the day's limit, only the first (a nonce is one page away: a flood of refusals must
	// not flood the trail).
	refuse := func(status int, outcome, reason string, audit bool) {
		if audit {
			h.record(ctx, []store.AuditRow{h.auditRow("citizen_face", actor, p.PID, p.PersonID, "attempt_refused", "", "reason="+reason)})
		}
		reply(status, attemptResult{Outcome: outcome, Reason: reason})
	}
	if over > 0 {
		refuse(http.StatusTooManyRequests, "refused", "too_many", over == 1)
		return
	}
	// A nonce issued before the status closed (or before photos went to review).
	if why, st, err := faceGate(dbq{ctx, h.db}, p.PID); err != nil {
		failed("gate", err)
		return
	} else if why != "" {
		reply(http.StatusForbidden, h.closed(ctx, p, actor, why, st))
		return
	}
	if len(files) == 0 || len(files) > MaxFrames {
		refuse(http.StatusBadRequest, "retry", "frames", true)
		return
	}
	var frames [][]byte
	for _, fh := range files {
		f, err := fh.Open()
		if err != nil {
			failed("read", err)
			return
		}
		b, err := io.ReadAll(io.LimitReader(f, h.pol.MaxFrameBytes+1))
		f.Close()
		if err != nil {
			failed("read", err)
			return
		}
		frames = append(frames, b)
	}
	v, err := h.judgeBurst(ctx, p.PID, frames, fromCamera(r.PostFormValue("source"), frames))
	if err != nil {
		failed("analysis", err)
		return
	}
	out, err := h.settle(ctx, p, s.agent, actor, v)
	if err != nil {
		failed("settle", err)
		return
	}
	h.log.Info("citizen face attempt", "person", idcard.Mask(p.PersonID), "agent", s.agent, "outcome", v.Outcome,
		"reason", v.Reason, "distance", v.Distance, "frames", v.Frames, "movement", v.Movement, "mirror", v.Mirror)
	reply(http.StatusOK, out)
}

// keptAnswer is an attempt's answer as its nonce keeps it (citizen_nonces.answer): the
// HTTP status and the result, without the words (said again in the repeat's language);
// an attempt that failed has no outcome.
type keptAnswer struct {
	Code int `json:"code"`
	attemptResult
}

// repeatWait bounds how long the same upload sent again waits for the first's answer.
var repeatWait = time.Minute

// attemptLimit bounds an attempt from the spending of its nonce to its answer (the queue
// for the analysis, the analysis, the record): one still unanswered after it was stopped
// with its process, and will never be answered.
const attemptLimit = 2 * time.Minute

// repeated finds whether nonce (hashed) is one the session s spent already, and returns
// the answer its attempt was given: at once when it is kept, else once the attempt still
// being judged keeps it. When none comes within repeatWait (the first is still queued),
// the answer is "pending": the photos were received, look at the status page later. A
// first attempt past attemptLimit without an answer had its process stopped: the repeat
// is answered as a failure (try again), not told that photos no one will judge arrived.
func (h *handler) repeated(ctx context.Context, nonce string, s *session) (int, attemptResult, bool) {
	deadline := time.NewTimer(repeatWait)
	defer deadline.Stop()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		var answer string
		var used int64
		err := h.db.Reader().QueryRowContext(ctx, h.db.Rebind(`SELECT answer, used FROM citizen_nonces WHERE hash = ? AND pid = ? AND session = ? AND used > 0`),
			nonce, s.pid, s.hash).Scan(&answer, &used)
		if err != nil {
			return 0, attemptResult{}, false // not this session's, or not spent; or the database failed: refused
		}
		if answer != "" {
			var k keptAnswer
			if json.Unmarshal([]byte(answer), &k) != nil || k.Code == 0 {
				return 0, attemptResult{}, false
			}
			return k.Code, k.attemptResult, true
		}
		// A margin past the limit: the answer is kept just after the attempt's commit.
		if h.now().Sub(time.Unix(0, used)) > attemptLimit+30*time.Second {
			return http.StatusServiceUnavailable, attemptResult{}, true
		}
		select {
		case <-tick.C:
		case <-deadline.C:
			return http.StatusAccepted, attemptResult{Outcome: "pending"}, true
		case <-ctx.Done():
			return 0, attemptResult{}, false
		}
	}
}

// judgeBurst analyses the frames on the server and decides.
func (h *handler) judgeBurst(ctx context.Context, pid int64, frames [][]byte, camera bool) (verdict, error) {
	if err := faultAt("analyse"); err != nil {
		return verdict{}, err
	}
	m, _ := sharedModels()
	if m == nil {
		return verdict{}, errors.New("no face models loaded")
	}
	select {
	case analyses <- struct{}{}:
	case <-ctx.Done():
		return verdict{}, ctx.Err()
	}
	fs := make([]*frame, len(frames))
	for i, b := range frames {
		fs[i] = analyse(m, b, h.pol)
	}
	<-analyses
	refs, err := refsOf(ctx, h.db, pid)
	if err != nil {
		return verdict{}, err
	}
	v := judge(fs, refs, h.pol, camera)
	// Frames sent before, or the same face as a burst accepted before: a replay (replay.go).
	seen, err := keepFrames(ctx, h.db, pid, frames, h.now().UnixNano())
	if err != nil {
		return verdict{}, err
	}
	near, id := -1.0, int64(0)
	if v.Frames > 0 {
		if near, id, err = nearestAccepted(ctx, h.db, pid, v.mean); err != nil {
			return verdict{}, err
		}
	}
	return replayed(v, seen, near, id, h.pol), nil
}

// settle acts on a verdict: an accept is sent to the engine as an HRSS.FACE record, a
// borderline case is queued for review, a failure counted (too many route the person to
// a visit). Quality problems only ask for another try.
func (h *handler) settle(ctx context.Context, p *who, agent bool, actor string, v verdict) (attemptResult, error) {
	now := h.now()
	detail := fmt.Sprintf("agent=%d;frames=%d;distance=%.4f;movement=%.4f;mirror=%.4f;spread=%.4f;ref=%s", b2i(agent), v.Frames,
		v.Distance, v.Movement, v.Mirror, v.Spread, v.RefKind)
	if v.Replay != "" {
		detail += ";replay=1;" + v.Replay
	}
	// Again after the analysis, which takes a while: a death filed meanwhile must not be
	// disputed by a face.
	if st, err := statusNow(dbq{ctx, h.db}, p.PID); err != nil {
		return attemptResult{}, err
	} else if closedToFace(st) {
		return h.closed(ctx, p, actor, gateStatus, st), nil
	}
	if v.Outcome == "accept" {
		// Routed to a village visit (failures, or staff): a face that now passes is for
		// staff to weigh against those failures, not a reason to drop the visit unseen.
		var visit int
		err := h.db.Reader().QueryRowContext(ctx, h.db.Rebind(`SELECT needs_visit FROM citizen_people WHERE pid = ?`), p.PID).Scan(&visit)
		if err != nil && !isNoRows(err) {
			return attemptResult{}, err
		}
		if visit != 0 {
			v.Outcome, v.Reason = "review", reasonVisitPending
		}
	}
	switch v.Outcome {
	case "accept":
		// Two transactions (see complete): the attempt is written as an accept under way
		// that names its record, then the record is ingested, then complete finishes it.
		rid := faceRID(h.svc.Today())
		key := "HRSS:" + rid
		tx, err := h.db.Begin(ctx)
		if err != nil {
			return attemptResult{}, err
		}
		defer tx.Rollback()
		var id int64
		if err := tx.QueryRow(`INSERT INTO citizen_reviews (pid, created, agent, distance, reason, template, photo, status, decided_by, decided_at, record)
			VALUES (?, ?, ?, ?, ?, ?, ?, 'deciding', ?, ?, ?) RETURNING id`, p.PID, now.UnixNano(), b2i(agent), v.Distance, autoPrefix+detail,
			encodeTemplate(v.mean), []byte{}, actor, now.UnixNano(), key).Scan(&id); err != nil {
			return attemptResult{}, err
		}
		if err := tx.Commit(); err != nil {
			return attemptResult{}, err
		}
		err = faultAt("ingest")
		if err == nil {
			_, err = certify(ctx, h.svc, p, agent, actor, h.svc.Today(), rid)
		}
		if ferr := faultAt("ingested"); ferr != nil {
			return attemptResult{}, ferr
		}
		applied, cerr := complete(context.WithoutCancel(ctx), h.db, h.svc, id, key, errors.As(err, new(notApplied)), now)
		switch {
		case cerr != nil:
			return attemptResult{}, errors.Join(err, cerr)
		case !applied && err == nil:
			return attemptResult{}, fmt.Errorf("the HRSS.FACE record %s is not in the store", key)
		case !applied:
			if cn := closedNow(0); errors.As(err, &cn) {
				// A death filed after the check above: answered as that check answers.
				return h.closed(ctx, p, actor, gateStatus, sc.Status(cn)), nil
			}
			return attemptResult{}, err
		}
		// "Certified" only when the record did certify: a LOSS keeps its status, and the
		// person is told to see the bureau.
		var st int
		var u int64
		if err := h.db.Reader().QueryRowContext(ctx, h.db.Rebind(`SELECT status, until_day FROM people WHERE pid = ?`), p.PID).Scan(&st, &u); err != nil {
			return attemptResult{}, err
		}
		if sc.Status(st) != sc.StatusCertified {
			return attemptResult{Outcome: "recorded"}, nil
		}
		return attemptResult{Outcome: "accept", Until: sc.Date(u).String()}, nil
	case "review":
		tx, err := h.db.Begin(ctx)
		if err != nil {
			return attemptResult{}, err
		}
		defer tx.Rollback()
		var photo []byte
		if v.best != nil {
			photo = v.best.jpeg
		} else {
			photo = []byte{}
		}
		if err := tx.Exec(`INSERT INTO citizen_reviews (pid, created, agent, distance, reason, template, photo, status, decided_by, decided_at, record)
			VALUES (?, ?, ?, ?, ?, ?, ?, 'open', '', 0, '')`, p.PID, now.UnixNano(), b2i(agent), v.Distance, v.Reason,
			encodeTemplate(v.mean), photo); err != nil {
			return attemptResult{}, err
		}
		if err := setOutcome(tx, p.PID, now, "review", false, 0); err != nil {
			return attemptResult{}, err
		}
		rows := []store.AuditRow{h.auditRow("citizen_face", actor, p.PID, p.PersonID, "review", "", detail+";reason="+v.Reason)}
		if v.Reason == reasonReplay {
			rows = append(rows, h.auditRow("citizen_face", actor, p.PID, p.PersonID, "replay", "", detail))
		}
		if err := tx.Append(rows); err != nil {
			return attemptResult{}, err
		}
		return attemptResult{Outcome: "review"}, tx.Commit()
	}
	// Rejected. Only what says "not this person" or "not live" counts towards a visit; a
	// second face in the picture or poor pictures only ask for another try.
	counts := v.Reason == reasonMismatch || v.Reason == reasonFrozen || v.Reason == reasonMixed || v.Reason == reasonMirrored
	tx, err := h.db.Begin(ctx)
	if err != nil {
		return attemptResult{}, err
	}
	defer tx.Rollback()
	var failures, visit int
	err = tx.QueryRow(`SELECT failures, needs_visit FROM citizen_people WHERE pid = ?`, p.PID).Scan(&failures, &visit)
	if err != nil && !isNoRows(err) {
		return attemptResult{}, err
	}
	rows := []store.AuditRow{h.auditRow("citizen_face", actor, p.PID, p.PersonID, "reject", "", detail+";reason="+v.Reason)}
	if counts {
		failures++
	}
	routed := visit != 0
	if counts && failures >= h.pol.MaxFailures && !routed {
		routed = true
		rows = append(rows, h.auditRow("citizen_visit", "system", p.PID, p.PersonID, "needs_visit", "", fmt.Sprintf("failures=%d", failures)))
	}
	if err := setOutcome(tx, p.PID, now, "reject:"+v.Reason, routed, failures); err != nil {
		return attemptResult{}, err
	}
	if err := tx.Append(rows); err != nil {
		return attemptResult{}, err
	}
	if err := tx.Commit(); err != nil {
		return attemptResult{}, err
	}
	// The answer does not name the check that failed (a still picture, another face, two
	// people): that would tell a replay what to change. The audit row above does.
	// Poor pictures ask for another try even while a visit is pending: a good burst then
	// goes to staff (visit_pending), who may settle it before the village comes.
	switch {
	case !counts:
		return attemptResult{Outcome: "retry", Reason: v.Reason}, nil
	case routed:
		return attemptResult{Outcome: "reject", Reason: "visit"}, nil
	}
	return attemptResult{Outcome: "reject"}, nil
}

// reasonVisitPending is the review reason of a burst the server would have accepted from a
// person routed to a visit: while the visit is pending, only staff or the visit settle it.
const reasonVisitPending = "visit_pending"

// setOutcome keeps a person's attempt bookkeeping: a review leaves failures and the visit
// as they are; any other outcome sets them as given.
func setOutcome(tx *store.Tx, pid int64, now time.Time, outcome string, visit bool, failures int) error {
	since := int64(0)
	if visit {
		since = now.UnixNano()
	}
	if outcome == "review" {
		return tx.Exec(`INSERT INTO citizen_people (pid, failures, needs_visit, visit_since, last_attempt, last_outcome)
			VALUES (?, 0, 0, 0, ?, ?) ON CONFLICT (pid) DO UPDATE SET last_attempt = excluded.last_attempt,
			last_outcome = excluded.last_outcome`, pid, now.UnixNano(), outcome)
	}
	return tx.Exec(`INSERT INTO citizen_people (pid, failures, needs_visit, visit_since, last_attempt, last_outcome)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (pid) DO UPDATE SET failures = excluded.failures,
		needs_visit = excluded.needs_visit,
		visit_since = CASE WHEN excluded.needs_visit = 0 THEN 0 WHEN citizen_people.visit_since > 0 THEN citizen_people.visit_since ELSE excluded.visit_since END,
		last_attempt = excluded.last_attempt, last_outcome = excluded.last_outcome`,
		pid, failures, b2i(visit), since, now.UnixNano(), outcome)
}

// faceRID makes the record_id of one HRSS.FACE record: the day and random bits.
func faceRID(today sc.Date) string {
	b := make([]byte, 6)
	rand.Read(b)
	return "FACE-" + strings.ReplaceAll(today.String(), "-", "") + "-" + hex.EncodeToString(b)
}

// certify sends one HRSS.FACE record, rid, through the service's ordinary ingestion
// (Origin "citizen", Source "HRSS"), the path of every department's data, and returns its
// key.
func certify(ctx context.Context, svc *service.Service, p *who, agent bool, actor string, event sc.Date, rid string) (string, error) {
	today := svc.Today()
	detail := ""
	if agent {
		detail = "agent=1"
	}
	var body bytes.Buffer
	cw := csv.NewWriter(&body)
	cw.Write([]string{"record_id", "source", "type", "person_id", "name", "birth_date", "event_date", "reported_date", "region_code", "detail"})
	cw.Write([]string{rid, "HRSS", "HRSS.FACE", p.PersonID, p.Name, p.BirthDate.String(), event.String(), today.String(), p.Region, detail})
	cw.Flush()
	res, err := svc.Ingest(ctx, service.Batch{Origin: "citizen", Source: "HRSS", Actor: actor, Day: today,
		Files: []service.File{{Name: "citizen-face.csv", Body: &body}},
		// Decided as the record's batch sees the person: a death filed since the status
		// was read (during the analysis, or a reviewer's look) would be disputed by the
		// face (CONFLICT) rather than refused.
		Stands: func(tx *store.Tx) error {
			st, err := statusNow(tx, p.PID)
			if err == nil && closedToFace(st) {
				err = closedNow(st)
			}
			return err
		}})
	if err != nil {
		return "", err
	}
	if res.Rejected != "" || res.Report.Quarantined > 0 || res.Report.Applied != 1 {
		var why []string
		for _, pr := range res.Problems {
			why = append(why, pr.Field+": "+pr.Reason)
		}
		return "", notApplied(fmt.Sprintf("the HRSS.FACE record of %s was not applied (batch %d: %s %s)", idcard.Mask(p.PersonID), res.BatchID,
			res.Rejected, strings.Join(why, "; ")))
	}
	return "HRSS:" + rid, nil
}

// notApplied is certify's answer when the batch went through but its record was refused,
// held or quarantined: the record did not reach the engine, even if it is stored.
type notApplied string

func (e notApplied) Error() string { return string(e) }

// closedNow is certify's refusal when the person, as the record's batch sees them, is one
// a face does not certify (closedToFace): nothing of the batch is stored.
type closedNow sc.Status

func (e closedNow) Error() string {
	return fmt.Sprintf("the person is %s: a face cannot certify them", sc.Status(e))
}

// record appends audit rows in their own transaction (an action with nothing else to write).
func (h *handler) record(ctx context.Context, rows []store.AuditRow) {
	tx, err := h.db.Begin(ctx)
	if err == nil {
		defer tx.Rollback()
		if err = tx.Append(rows); err == nil {
			err = tx.Commit()
		}
	}
	if err != nil {
		h.log.Error("citizen audit", "err", err)
	}
}

// answer writes an attempt's result: JSON for the capture script, a page for a plain form.
func (h *handler) answer(w http.ResponseWriter, r *http.Request, code int, a attemptResult) {
	lang := langOf(r)
	a.Message = resultMessage(lang, a)
	if wantsJSON(r) {
		writeJSON(w, code, a)
		return
	}
	h.render(w, r, code, "result", pageData{Result: &a})
}
