package web

import (
	"net/http"
	"strconv"
	"time"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/store"
)

// heldRow is a record held for review (its name disagrees with the roster's for its ID
// number, spec §3) beside the person it names.
type heldRow struct {
	store.Record
	Class  sc.Class
	Person *store.Person // nil when the person is gone from the roster
}

// Death reports whether the record held is a death: payment goes on meanwhile.
func (h heldRow) Death() bool { return h.Class == sc.ClassDeath }

// held lists the records held for review, deaths and losses of eligibility first, then
// the latest reported: a held death stops no payment (spec §3), so someone must look at
// it — the batches page only counted them, and nothing listed them. The operator checks
// the person (a call, a visit), and a death found true is recorded as any death is (a
// visit's, a department's corrected resend). City-wide accounts, as the batches.
func (c *console) held(w http.ResponseWriter, r *http.Request) {
	if err := cityWide(reqOf(r).user); err != nil {
		c.fail(w, r, err)
		return
	}
	classOf := func(typ string) sc.Class {
		if id, ok := c.opt.Catalogue.Lookup(typ); ok {
			return c.opt.Catalogue.Type(id).Class
		}
		return sc.ClassWeak
	}
	rank := func(typ string) int {
		switch classOf(typ) {
		case sc.ClassDeath:
			return 0
		case sc.ClassLoss:
			return 1
		case sc.ClassRestore:
			return 2
		}
		return 3
	}
	recs, total, err := c.db.HeldPage(r.Context(), rank, heldShown)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	var pids []int64
	for _, x := range recs {
		if x.PID >= 0 {
			pids = append(pids, x.PID)
		}
	}
	people, err := c.db.PeopleOf(r.Context(), pids)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d := &heldData{Total: total}
	for _, x := range recs {
		d.Rows = append(d.Rows, heldRow{Record: x, Class: classOf(x.Type), Person: people[x.PID]})
	}
	c.listViewed(r, "held", "", len(d.Rows))
	c.render(w, r, http.StatusOK, "held", d)
}

// heldShown is the most held records the page lists (deaths first): what one sitting
// can check; the total says how many more wait.
const heldShown = 500

type heldData struct {
	Rows  []heldRow
	Total int
}

// heldReviewed takes a held record off the list once checked (a call, a visit: the name
// was a typo and the record of no consequence, or the death was recorded as deaths are),
// with a note, in the audit trail; the record stays held. Operators and administrators
// of the whole city, as the list.
func (c *console) heldReviewed(w http.ResponseWriter, r *http.Request) {
	u := reqOf(r).user
	if err := cityWide(u); err != nil {
		c.fail(w, r, err)
		return
	}
	if err := c.canWrite(u); err != nil {
		c.fail(w, r, err)
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		c.fail(w, r, sc.Errorf(sc.ENotFound, "no held record %q", r.PathValue("id")))
		return
	}
	note, err := formReason(r, "note")
	if err != nil {
		c.fail(w, r, err)
		return
	}
	x, ok, err := c.db.HeldRecord(r.Context(), id)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if !ok {
		c.fail(w, r, sc.Errorf(sc.ENotFound, "no held record %q", r.PathValue("id")))
		return
	}
	a := store.AuditRow{Kind: "held", Day: c.opt.Today(), At: c.opt.Now().UTC().Format(time.RFC3339), Actor: u.Name, PID: x.PID,
		Action: "reviewed", Evidence: x.Source + ":" + x.RecordID, Detail: "type=" + x.Type + ";note=" + store.DetailValue(note)}
	if x.PID >= 0 { // -1: the record names no one on the roster
		if p, err := c.db.PersonInRegion(r.Context(), "", x.PID); err == nil {
			a.PersonID = p.Rec.PersonID
		}
	}
	tx, err := c.db.BeginWithin(r.Context(), c.opt.WriteWait)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	defer tx.Rollback()
	if _, err := tx.ReviewHeld(id, a); err != nil {
		c.fail(w, r, err)
		return
	}
	if err := tx.Commit(); err != nil {
		c.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/held", http.StatusSeeOther)
}
