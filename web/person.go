package web

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/auth"
	"github.com/silentcert/silentcert/citizen"
	"github.com/silentcert/silentcert/idcard"
	"github.com/silentcert/silentcert/notice"
	"github.com/silentcert/silentcert/service"
	"github.com/silentcert/silentcert/store"
)

// personFor returns the person of the URL when the user may see them; anyone else is
// "not found", the same answer as for an ID that does not exist.
func (c *console) personFor(r *http.Request) (*store.Person, error) {
	u := reqOf(r).user
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 0 {
		return nil, sc.Errorf(sc.ENotFound, "no such recipient")
	}
	p, err := c.db.PersonInRegion(r.Context(), u.Region, id)
	if err != nil {
		if sc.ErrorCode(err) == sc.ENotFound {
			return nil, sc.Errorf(sc.ENotFound, "no such recipient")
		}
		return nil, err
	}
	if !u.Sees(p.Rec.RegionCode) && !(u.Region == "" && p.Rec.RegionCode == "") {
		return nil, sc.Errorf(sc.ENotFound, "no such recipient")
	}
	return p, nil
}

// Event is one line of a person's timeline.
type Event struct {
	Date   sc.Date
	Kind   string // "record", "decision", "action", "payment"
	Title  string
	Detail string
	Method string
	Rule   string
	Ref    string
	Actor  string
	// AKind and AAction are an action's audit kind and action (Title holds both, codes):
	// the page names them in the reader's words.
	AKind, AAction string
	// A record's delivery: the day it was reported, its batch, and the file and line it
	// came on (an auditor follows a decision to who sent its record, and how).
	Reported string
	Batch    int64
	From     string
}

type personData struct {
	P        *store.Person
	Region   string
	Events   []Event
	Refs     []string
	Done     string
	Problems []string
	Outcomes []string
	Back     string
	Flagged  string         // the day of an open RISK flag ("": none): a visit must see the person
	Kind     string         // the timeline's kind shown ("": all)
	Kinds    map[string]int // the timeline's events by kind
	// Money: amounts are shown (seesMoney: not to the village assistant).
	Money bool
	// Recoveries: the person's money to recover, for those who may see it (recoveryAccess);
	// Recovered: the entry just recorded (its audit sequence number).
	Recoveries []RecoveryRow
	Recovered  string
	// SignIns: the person's open ways into the pensioner's pages (nil without face
	// certification); SignInsEnded: they were just ended.
	SignIns      *citizen.SignIns
	SignInsEnded bool
}

// Recoverable reports whether something is left to recover, or due back to the family,
// on one of the person's cases (the form is offered then).
func (d *personData) Recoverable() bool {
	for _, x := range d.Recoveries {
		if x.Outstanding > 0 || x.Refund > 0 {
			return true
		}
	}
	return false
}

// eventKinds are the timeline's kinds, in the order of its filter.
var eventKinds = []string{"decision", "record", "held", "notice", "payment", "action"}

// EventKinds returns the timeline's kinds in order.
func (d *personData) EventKinds() []string { return eventKinds }

// EventTotal counts the whole timeline.
func (d *personData) EventTotal() int {
	n := 0
	for _, v := range d.Kinds {
		n += v
	}
	return n
}

// outcomes are the visit results a village assistant records, with their record types.
var outcomes = map[string]string{
	"alive":    "CMT.VISIT",
	"death":    "CMT.DEATH_REPORT",
	"moved":    "CMT.MOVED",
	"notfound": "CMT.NOT_FOUND",
	"refused":  "CMT.REFUSED",
}

var outcomeOrder = []string{"alive", "death", "moved", "notfound", "refused"}

func (c *console) person(w http.ResponseWriter, r *http.Request) {
	p, err := c.personFor(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	// Who looked at whom, in the log (the person by number, not by ID): a view writes no
	// audit row, which would wait for the writer during a large batch.
	c.log.Info("console view", "user", reqOf(r).user.Name, "pid", p.PID)
	ctx := r.Context()
	d := &personData{P: p, Region: p.Rec.RegionCode, Outcomes: outcomeOrder}
	if n, err := strconv.ParseInt(r.URL.Query().Get("done"), 10, 64); err == nil && n > 0 {
		d.Done = strconv.FormatInt(n, 10) // a batch's number, never words from the address
	}
	if f, err := c.db.OpenRisk(ctx, p.PID); err != nil {
		c.fail(w, r, err)
		return
	} else if f != sc.NoDate {
		d.Flagged = f.String()
	}
	recs, err := c.db.PersonRecords(ctx, p.PID)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	// The village assistant sees the community's own records (visits, reports) and no
	// other department's: hospital stays, pharmacy, bank and card use by date would tell
	// a neighbour's health and habits, and the traces a WEAK certification or a RISK flag
	// rests on; nor the evidence such a decision names.
	village := reqOf(r).user.Role == auth.RoleVillage
	ownRef := func(ref string) bool { return !village || strings.HasPrefix(ref, "CMT:") }
	// The review form offers the records a review of the open dispute may name, as the
	// engine has them (a death an earlier review voided, a record of a dispute settled
	// before, would be ignored).
	var dispute *service.Dispute
	if p.Status == sc.StatusConflict {
		if dispute, err = service.DisputeOf(p); err != nil {
			c.fail(w, r, err)
			return
		}
	}
	for _, x := range recs {
		if village && x.Source != "CMT" {
			continue
		}
		ev := Event{Date: x.EventDate, Kind: "record", Title: x.Type, Detail: x.Detail, Ref: x.Source + ":" + x.RecordID,
			Batch: x.Batch}
		if x.ReportedDate != sc.NoDate {
			ev.Reported = x.ReportedDate.String()
		}
		if x.File != "" {
			ev.From = x.File + ":" + strconv.FormatInt(x.Line, 10)
		}
		if x.Held {
			ev.Kind = "held"
		}
		d.Events = append(d.Events, ev)
		if dispute != nil && !x.Held && dispute.Names(x.ID) {
			d.Refs = append(d.Refs, ev.Ref)
		}
	}
	audit, err := c.db.PersonAudit(ctx, p.PID)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	money := seesMoney(reqOf(r).user)
	d.Money = money
	for _, a := range audit {
		// A roster's rows carry amounts, as a recovery's: not for those who see no money
		// (the village assistant, who would see the change's row with its detail empty).
		if (a.Kind == "recovery" || a.Kind == "roster") && !money {
			continue
		}
		ev := Event{Date: a.Day, Kind: "action", Title: a.Action, Detail: a.Detail, Method: a.Method, Rule: a.Rule, Ref: a.Evidence, Actor: a.Actor,
			AKind: a.Kind, AAction: a.Action}
		if !ownRef(ev.Ref) {
			ev.Ref = "" // a decision's evidence, the record a review chose: another department's
		}
		if a.Kind == "decision" {
			ev.Kind = "decision"
		} else {
			ev.Title = a.Kind + " " + a.Action
		}
		d.Events = append(d.Events, ev)
	}
	pays, err := c.db.PersonPayments(ctx, p.PID)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	for _, x := range pays {
		// The village assistant sees that a month was paid or withheld, not how much.
		detail := fmt.Sprintf("%s (%s) %s", c.benefitName(x.Benefit), x.Benefit, x.Month)
		if village { // no codes: the benefit's name
			detail = fmt.Sprintf("%s %s", c.benefitName(x.Benefit), x.Month)
		}
		if money {
			detail += " ¥" + yuan(x.Amount)
		}
		d.Events = append(d.Events, Event{Date: x.PayrollMonth.First(), Kind: "payment", Title: x.Kind, Detail: detail})
	}
	notes, err := c.db.PersonNotices(ctx, p.PID)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	for _, n := range notes {
		d.Events = append(d.Events, Event{Date: n.Created, Kind: "notice", Title: n.Kind + " · " + n.Status, AKind: n.Kind, AAction: n.Status,
			Detail: n.Phone + ": " + citizenLink.ReplaceAllString(strings.ReplaceAll(n.Text, notice.LinkSlot, "/c/…"), "/c/…")})
	}
	sort.SliceStable(d.Events, func(i, j int) bool { return d.Events[i].Date > d.Events[j].Date })
	// The timeline by kind (?kind=): hundreds of records a year bury a person's few
	// decisions; the counts are of the whole timeline.
	d.Kinds = map[string]int{}
	for _, e := range d.Events {
		d.Kinds[e.Kind]++
	}
	if k := r.URL.Query().Get("kind"); k != "" {
		if !slices.Contains(eventKinds, k) {
			c.fail(w, r, sc.Errorf(sc.EInvalid, "no event kind %q", k))
			return
		}
		d.Kind = k
		d.Events = slices.DeleteFunc(d.Events, func(e Event) bool { return e.Kind != k })
	}
	if b := r.URL.Query().Get("back"); b == "village" {
		d.Back = "/village"
	}
	if d.Recoveries, err = c.personRecoveries(r, p); err != nil {
		c.fail(w, r, err)
		return
	}
	if n, err := strconv.ParseInt(r.URL.Query().Get("recovered"), 10, 64); err == nil && n > 0 {
		d.Recovered = strconv.FormatInt(n, 10)
	}
	if c.opt.Faces != nil {
		s, err := c.opt.Faces.SignIns(ctx, p.PID, c.opt.Now())
		if err != nil {
			c.fail(w, r, err)
			return
		}
		d.SignIns, d.SignInsEnded = &s, r.URL.Query().Get("signins") == "ended"
	}
	c.render(w, r, http.StatusOK, "person", d)
}

// citizenLink finds the pensioner's sign-in link in a notice's text: the token is a
// password until it is used, and staff reading the timeline must not be able to sign in
// as the person with it.
// Notices queued since session 11 hold notice.LinkSlot instead: the link is made as the
// SMS is sent.
var citizenLink = regexp.MustCompile(`/c/[A-Za-z0-9_-]{6,}`)

// newRecordID makes a record_id no one else will use: the console's prefix, the day and
// random bits.
func newRecordID(day sc.Date) string {
	b := make([]byte, 6)
	rand.Read(b)
	return "WEB-" + strings.ReplaceAll(day.String(), "-", "") + "-" + hex.EncodeToString(b)
}

// newOnce makes a form's one-time key: sent back with the form, it makes a form sent
// twice (a double tap, a resend after a timeout, the back button) act once.
func newOnce() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// validOnce checks a one-time key sent back with a form.
func validOnce(s string) bool {
	if len(s) != 24 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// recordCSV writes one exchange-v1 record row with its header.
func recordCSV(recordID, source, typ string, p *store.Person, event, reported sc.Date, region, detail string) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write([]string{"record_id", "source", "type", "person_id", "name", "birth_date", "event_date", "reported_date", "region_code", "detail"})
	w.Write([]string{recordID, source, typ, p.Rec.PersonID, p.Rec.Name, p.Rec.BirthDate.String(), event.String(), reported.String(), region, detail})
	w.Flush()
	return b.Bytes()
}

// formDate reads a date field: empty gives def; a date after today or before 1900 is
// refused.
func formDate(s string, def, today sc.Date) (sc.Date, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return def, nil
	}
	d, err := sc.ParseDate(s)
	if err != nil {
		// A browser without a date picker (an old phone's) sends what was typed:
		// 2024/5/8, 2024.05.08, 2024年5月8日 or 20240508 are read as well.
		if m := typedDate.FindStringSubmatch(s); m != nil {
			y, _ := strconv.Atoi(m[1])
			mo, _ := strconv.Atoi(m[2] + m[4])
			da, _ := strconv.Atoi(m[3] + m[5])
			if mo >= 1 && mo <= 12 && da >= 1 && da <= 31 {
				d, err = sc.ParseDate(fmt.Sprintf("%04d-%02d-%02d", y, mo, da))
			}
		}
	}
	if err != nil || d > today || d < sc.MakeDate(1900, 1, 1) {
		return 0, said(sc.EInvalid, "form.date", s, today)
	}
	return d, nil
}

// typedDate is a date typed by hand: year, month and day with any separators, or eight
// digits.
var typedDate = regexp.MustCompile(`^(\d{4})(?:[^\d]+(\d{1,2})[^\d]+(\d{1,2})[^\d]*|(\d{2})(\d{2}))$`)

func (c *console) canWrite(u *auth.User) error {
	if !u.CanWrite() {
		return sc.Errorf(eForbidden, "this account may not change anything")
	}
	if c.opt.Ingest == nil {
		return sc.Errorf(sc.EConflict, "ingestion is not available")
	}
	return nil
}

func (c *console) visitPost(w http.ResponseWriter, r *http.Request) {
	u := reqOf(r).user
	if err := c.canWrite(u); err != nil {
		c.fail(w, r, err)
		return
	}
	once, err := formOnce(r)
	if err != nil || c.sentBefore(w, r, once) {
		if err != nil {
			c.fail(w, r, err)
		}
		return
	}
	p, err := c.personFor(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	today := c.opt.Today()
	outcome := r.PostFormValue("outcome")
	typ, ok := outcomes[outcome]
	if !ok {
		c.fail(w, r, said(sc.EInvalid, "form.outcome"))
		return
	}
	date := strings.TrimSpace(r.PostFormValue("date"))
	if outcome == "death" && date == "" {
		// The form gives no date beforehand: a death dated by default would be dated the
		// visit's day, and every month paid since would go unrecovered.
		c.fail(w, r, said(sc.EInvalid, "form.death_date"))
		return
	}
	event, err := formDate(date, today, today)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if outcome == "death" && p.Rec.BirthDate != sc.NoDate && event < p.Rec.BirthDate {
		c.fail(w, r, said(sc.EInvalid, "form.death_before_birth", event, p.Rec.BirthDate))
		return
	}
	rid := formRecordID(once, today)
	region := p.Rec.RegionCode
	moved := ""
	if outcome == "moved" {
		var ask *moveAsk
		region, moved, ask, err = c.moveTo(r, p)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		if ask != nil { // the place needs a choice or another try: nothing is recorded yet
			c.askMove(w, r, p, ask)
			return
		}
	}
	detail := ""
	if r.PostFormValue("agent") == "1" {
		detail = "agent=1"
	}
	body := recordCSV(rid, "CMT", typ, p, event, today, region, detail)
	c.submit(w, r, p, Submission{Source: "CMT", Actor: u.Name, Day: today, Name: "console-visit.csv", Body: body, Key: onceKey(once),
		KeyForm: formPrint(r, "visit."+outcome)},
		store.AuditRow{Kind: "visit", Action: typ, Evidence: "CMT:" + rid, Detail: "outcome=" + outcome + ";event_date=" + event.String() + moved}, nil)
}

func (c *console) reviewPost(w http.ResponseWriter, r *http.Request) {
	u := reqOf(r).user
	if err := c.canWrite(u); err != nil {
		c.fail(w, r, err)
		return
	}
	if len(u.Region) > 0 && u.Role != auth.RoleAdmin && u.Role != auth.RoleOperator {
		c.fail(w, r, sc.Errorf(eForbidden, "conflicts are reviewed by the city bureau"))
		return
	}
	once, err := formOnce(r)
	if err != nil || c.sentBefore(w, r, once) {
		if err != nil {
			c.fail(w, r, err)
		}
		return
	}
	p, err := c.personFor(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if p.Status != sc.StatusConflict {
		// Only a disputed death is reviewed (spec §6): the record would change nothing,
		// and the page would read as though the review was taken.
		c.fail(w, r, said(sc.EConflict, "form.no_conflict"))
		return
	}
	accept := r.PostFormValue("accept")
	if accept != "death" && accept != "alive" {
		c.fail(w, r, said(sc.EInvalid, "form.accept"))
		return
	}
	ref := strings.TrimSpace(r.PostFormValue("ref"))
	if i := strings.IndexByte(ref, ':'); i <= 0 || i == len(ref)-1 || strings.ContainsAny(ref, ";=\r\n,\"") {
		c.fail(w, r, said(sc.EInvalid, "form.ref"))
		return
	}
	reason, err := formReason(r, "reason")
	if err != nil {
		c.fail(w, r, err)
		return
	}
	today := c.opt.Today()
	rid := formRecordID(once, today)
	body := recordCSV(rid, "HRSS", "HRSS.REVIEW", p, today, today, p.Rec.RegionCode, "accept="+accept+";ref="+ref)
	c.submit(w, r, p, Submission{Source: "HRSS", Actor: u.Name, Day: today, Name: "console-review.csv", Body: body, Key: onceKey(once),
		KeyForm: formPrint(r, "review."+accept)},
		store.AuditRow{Kind: "review", Action: "accept=" + accept, Evidence: ref, Detail: "record=HRSS:" + rid + ";reason=" + store.DetailValue(reason)},
		func(tx *store.Tx, q *store.Person) error {
			// Disputed still as the review's batch sees them, and ref a record of that
			// dispute: another review (or a record) that settled the dispute since the
			// page was read leaves nothing to review, and a record of a dispute settled
			// before (a page read then, a ref typed) is one the engine ignores
			// (resolve_ignored). Either review would be in the trail as taken though it
			// changed nothing.
			d, err := service.DisputeOf(q)
			if err != nil {
				return err
			}
			if q.Status != sc.StatusConflict || d == nil {
				return said(sc.EConflict, "form.no_conflict")
			}
			if ok, err := d.NamesKey(tx, ref); err != nil {
				return err
			} else if !ok {
				return said(sc.EConflict, "form.ref_not_disputed", ref)
			}
			return nil
		})
}

// audit appends one staff action to the audit trail, dated by the console's day. It waits
// at most WriteWait for the writers' turn: an export refused busy sends nothing, as none
// leaves without its row.
func (c *console) audit(r *http.Request, a store.AuditRow) error {
	tx, err := c.db.BeginWithin(r.Context(), c.opt.WriteWait)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	a.Day, a.At = c.opt.Today(), c.opt.Now().UTC().Format(time.RFC3339)
	if err := tx.Append([]store.AuditRow{a}); err != nil {
		return err
	}
	return tx.Commit()
}

// submit hands a record to ingestion, audits the staff action with its batch, and shows
// the person again, whose status the batch has already changed. The person p the form
// was read with is read again in the batch's transaction, before the batch is applied
// (Submission.Check): the action is refused if the user no longer sees them, or if
// stands, when set, refuses them as they are there.
func (c *console) submit(w http.ResponseWriter, r *http.Request, p *store.Person, s Submission, a store.AuditRow, stands func(*store.Tx, *store.Person) error) {
	u := reqOf(r).user
	// The action's audit row goes in with the record, in the batch's transaction.
	a.Actor, a.PID, a.PersonID = u.Name, p.PID, p.Rec.PersonID
	// The region the action was taken in: the person's before the batch (Check reads it
	// in the batch's transaction; read after, a move the batch records would stamp the
	// row with the destination, out of this region's sight).
	a.Region = p.Rec.RegionCode
	a.Day, a.At = c.opt.Today(), c.opt.Now().UTC().Format(time.RFC3339)
	s.Audit = &a
	s.Check = func(tx *store.Tx) error {
		q, err := tx.Person(p.PID)
		if sc.ErrorCode(err) == sc.ENotFound || (err == nil && !u.Sees(q.Rec.RegionCode) && !(u.Region == "" && q.Rec.RegionCode == "")) {
			return sc.Errorf(sc.ENotFound, "no such recipient")
		}
		if err != nil {
			return err
		}
		if stands != nil {
			if err := stands(tx, q); err != nil {
				return err
			}
		}
		a.Region = q.Rec.RegionCode
		return nil
	}
	rc, err := c.opt.Ingest.Ingest(r.Context(), s)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if rc.Repeat { // sent twice at once: the other sending took it
		if b, err := c.db.BatchByKey(r.Context(), s.Key); err != nil {
			c.fail(w, r, err)
			return
		} else if b != nil && !samePrint(b.KeyForm, s.KeyForm) {
			c.fail(w, r, c.usedOnce(r, b.KeyForm))
			return
		} else if b != nil && !batchApplied(b) {
			c.fail(w, r, said(sc.EInvalid, "form.reload")) // the other sending was refused
			return
		}
		c.afterSubmit(w, r, p, rc.BatchID, nil)
		return
	}
	// The risk list moves now, not at the next daily refresh (the dashboard's counts moved
	// with the batch). A failure here loses nothing: that refresh counts everyone again.
	if rc.Applied > 0 {
		if err := c.db.RefreshRisk(r.Context(), p.PID); err != nil {
			c.log.Error("console summary", "person", idcard.Mask(p.Rec.PersonID), "err", err)
		}
	}
	c.log.Info("console record", "user", u.Name, "person", idcard.Mask(p.Rec.PersonID), "kind", a.Kind, "batch", rc.BatchID)
	if rc.Quarantined > 0 {
		c.fail(w, r, said(sc.EInvalid, "form.rejected", strings.Join(rc.Problems, "; ")))
		return
	}
	// A visit recorded here is the visit the failed face attempts asked for.
	if a.Kind == "visit" && rc.Applied > 0 {
		if err := c.visited(r, p, a.Evidence); err != nil {
			c.fail(w, r, err)
			return
		}
	}
	c.afterSubmit(w, r, p, rc.BatchID, nil)
}

// formOnce is a form's one-time key ("" from a page made before forms had one).
func formOnce(r *http.Request) (string, error) {
	once := r.PostFormValue("once")
	if once != "" && !validOnce(once) {
		return "", said(sc.EInvalid, "form.reload")
	}
	return once, nil
}

// onceKey is the batch key of a form's submission: the form sent twice (a double tap, a
// resend after a timeout, the back button), however close together, is one batch.
func onceKey(once string) string {
	if once == "" {
		return ""
	}
	return "console:" + once
}

// formRecordID names the record a form sends: by its one-time key, or anew for a form
// without one.
func formRecordID(once string, today sc.Date) string {
	if once == "" {
		return newRecordID(today)
	}
	return "WEB-" + once
}

// sentBefore answers a form whose one-time key's batch is stored already — sent again by
// the same user with the same fields — as the first sending was answered, and reports
// whether it did. It runs before the person's scope is checked: after a move the person is
// outside the assistant's village, and the resend must still say "recorded", not "not
// found". The key sent with other fields (a page brought back with the back button and
// corrected, another card of the village's list) is refused in words: answering it
// "recorded" would lose the correction, a death among them.
func (c *console) sentBefore(w http.ResponseWriter, r *http.Request, once string) bool {
	if once == "" {
		return false
	}
	u := reqOf(r).user
	b, err := c.db.BatchByKey(r.Context(), onceKey(once))
	if err != nil {
		c.fail(w, r, err)
		return true
	}
	if b == nil || b.Actor != u.Name {
		return false
	}
	if !batchApplied(b) {
		c.fail(w, r, said(sc.EInvalid, "form.reload")) // the first sending was refused
		return true
	}
	if !samePrint(b.KeyForm, formPrint(r, "")) {
		c.fail(w, r, c.usedOnce(r, b.KeyForm))
		return true
	}
	pid, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	next := fmt.Sprintf("/person/%d?done=%d", pid, b.ID)
	if r.PostFormValue("back") == "village" {
		next = fmt.Sprintf("/village?done=%d#p-%d", pid, pid)
		if len(u.Region) != 12 { // staff above a village: the village page they came from
			next = c.formPage(r)
		}
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return true
}

// batchApplied reports whether batch b applied its record (its report says so): a form
// whose sending was refused is not answered "recorded" when it comes again.
func batchApplied(b *store.Batch) bool {
	var rep struct {
		Applied int64 `json:"applied"`
	}
	return json.Unmarshal([]byte(b.Report), &rep) == nil && rep.Applied > 0
}

// formPrint is what a form sent with a one-time key is known by: a fingerprint of its
// address and fields (all but the CSRF token, which a new sign-in changes, and the key),
// then, after a space, the message key of what it records (what, "" for none), to name
// it when the key comes back with other fields.
func formPrint(r *http.Request, what string) string {
	h := sha256.New()
	io.WriteString(h, r.URL.Path)
	for _, k := range sortedKeys(r.PostForm) {
		if k == "csrf" || k == "once" {
			continue
		}
		for _, v := range r.PostForm[k] {
			fmt.Fprintf(h, "\x00%q=%q", k, v)
		}
	}
	sum := hex.EncodeToString(h.Sum(nil)[:16])
	if what == "" {
		return sum
	}
	return sum + " " + what
}

// samePrint reports whether two formPrints are of the same fields; a sending stored
// before forms had one ("") is taken as the same, as it was before.
func samePrint(stored, sent string) bool {
	if stored == "" {
		return true
	}
	a, _, _ := strings.Cut(stored, " ")
	b, _, _ := strings.Cut(sent, " ")
	return a == b
}

// usedOnce is the refusal of a form whose one-time key recorded other fields (stored:
// their formPrint): what was recorded, named, and to open the page again to correct it.
func (c *console) usedOnce(r *http.Request, stored string) error {
	_, what, _ := strings.Cut(stored, " ")
	if what == "" {
		return said(sc.EConflict, "form.sent_before")
	}
	return said(sc.EConflict, "form.sent_before_as", c.cat[reqOf(r).lang][what])
}

// afterSubmit answers a form that sent a record (batch: the batch that took it): the
// person's page, or the village's list it came from, saying it is done.
func (c *console) afterSubmit(w http.ResponseWriter, r *http.Request, p *store.Person, batch int64, err error) {
	if err != nil {
		c.fail(w, r, err)
		return
	}
	u := reqOf(r).user
	next := fmt.Sprintf("/person/%d?done=%d", p.PID, batch)
	if r.PostFormValue("back") == "village" {
		next = fmt.Sprintf("/village?done=%d#p-%d", p.PID, p.PID)
		if len(u.Region) != 12 {
			next = fmt.Sprintf("/village?region=%s&done=%d#p-%d", p.Rec.RegionCode, p.PID, p.PID)
		}
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

type villageData struct {
	Region   string
	Rows     []store.WorkRow // people to visit: not certified, or certified but due soon
	Fine     []store.WorkRow // certified and not due: a short list under the cards
	Total    int64
	Outcomes []string
	Done     int64
	Gone     bool        // Done's visit took the person off the village's list (a death, a move)
	Shown    int64       // people on the page: Total unless the list was cut at its 500
	Faces    []FaceVisit // sent to a visit by failed face attempts
	// Risks: the village's open RISK flags (a death may be hidden), the oldest first; Risk
	// holds their flag days by person, whose cards stay among Rows with the form open.
	// No reasons: they come from medical and bank records the assistant does not see.
	Risks []store.WorkRow
	Risk  map[int64]string
	// Last: the latest visit recorded here for each person on the cards, so that someone
	// found absent or refusing is not visited again as if no one had been.
	Last map[int64]*store.LastVisit
}

// village is the assistant's phone view: their village's people, the most urgent first,
// each with the visit form.
func (c *console) village(w http.ResponseWriter, r *http.Request) {
	u := reqOf(r).user
	region := u.Region
	if v := r.URL.Query().Get("region"); v != "" {
		region = v
	}
	if len(region) != 12 {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	region, err := scope(u, region)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	rows, total, err := c.db.Work(r.Context(), store.WorkQuery{List: store.WorkVillage, Prefix: region, Today: c.opt.Today(),
		From: sc.NoDate, To: sc.NoDate, Limit: 500})
	if err != nil {
		c.fail(w, r, err)
		return
	}
	done, _ := strconv.ParseInt(r.URL.Query().Get("done"), 10, 64)
	d := &villageData{Region: region, Total: total, Outcomes: outcomeOrder, Done: done}
	if d.Faces, err = c.faceVisits(r.Context(), u, region); err != nil {
		c.fail(w, r, err)
		return
	}
	if d.Risks, _, err = c.db.Work(r.Context(), store.WorkQuery{List: store.WorkRisk, Prefix: region, Today: c.opt.Today(),
		From: sc.NoDate, To: sc.NoDate, Limit: 500}); err != nil {
		c.fail(w, r, err)
		return
	}
	sort.SliceStable(d.Risks, func(i, j int) bool { return d.Risks[i].Flagged < d.Risks[j].Flagged })
	d.Risk = map[int64]string{}
	for _, x := range d.Risks {
		d.Risk[x.PID] = x.Flagged.String()
	}
	var pids []int64
	for _, x := range rows {
		// The person just visited stays among the cards, to show their new status; so
		// does a certified person with an open RISK flag, to be visited.
		if x.Status == sc.StatusCertified && x.PID != done && d.Risk[x.PID] == "" {
			d.Fine = append(d.Fine, x)
		} else {
			d.Rows = append(d.Rows, x)
			pids = append(pids, x.PID)
		}
	}
	// A death or a move recorded takes the person off the list: say it was recorded (not
	// who: done comes from the address, and names no one).
	// (When the list is cut at its 500, a person past it is not gone: nothing is said.)
	d.Shown = int64(len(rows))
	d.Gone = done != 0 && int64(len(rows)) == total && !slices.ContainsFunc(rows, func(x store.WorkRow) bool { return x.PID == done })
	if d.Last, err = c.db.LastVisits(r.Context(), pids); err != nil {
		c.fail(w, r, err)
		return
	}
	c.listViewed(r, "village", d.Region, len(d.Rows)+len(d.Fine))
	c.render(w, r, http.StatusOK, "village", d)
}

type searchData struct {
	Q    string
	Rows []store.WorkRow
	More bool // more people match than the searchShown shown
}

// searchShown is the most people a search shows, by name then ID number: a surname alone
// finds thousands in a city, and a fuller name or the ID number finds the one sought.
const searchShown = 100

func (c *console) search(w http.ResponseWriter, r *http.Request) {
	u := reqOf(r).user
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if utf8.RuneCountInString(q) > 64 {
		c.fail(w, r, sc.Errorf(sc.EInvalid, "search text too long"))
		return
	}
	// One more than is shown, to say when there are more.
	rows, err := c.db.Search(r.Context(), u.Region, q, searchShown+1)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	more := len(rows) > searchShown
	rows = rows[:min(len(rows), searchShown)]
	// Who looked for whom, as for a page viewed: the people found by their numbers, never
	// the ID number or name searched for.
	pids := make([]int64, 0, min(len(rows), 20))
	for _, x := range rows[:min(len(rows), 20)] {
		pids = append(pids, x.PID)
	}
	by := "name"
	if strings.IndexFunc(q, unicode.IsDigit) >= 0 {
		by = "id"
	}
	c.log.Info("console search", "user", u.Name, "by", by, "found", len(rows), "pids", pids, "more", more)
	c.render(w, r, http.StatusOK, "search", &searchData{Q: q, Rows: rows, More: more})
}
