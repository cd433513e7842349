package web

import (
	"cmp"
	"net/http"
	"slices"

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
	recs, err := c.db.HeldRecords(r.Context())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	rows := make([]heldRow, len(recs))
	for i, x := range recs {
		rows[i] = heldRow{Record: x, Class: sc.ClassWeak}
		if id, ok := c.opt.Catalogue.Lookup(x.Type); ok {
			rows[i].Class = c.opt.Catalogue.Type(id).Class
		}
		if x.PID >= 0 {
			if p, err := c.db.PersonInRegion(r.Context(), "", x.PID); err == nil {
				rows[i].Person = p
			} else if sc.ErrorCode(err) != sc.ENotFound {
				c.fail(w, r, err)
				return
			}
		}
	}
	rank := func(k sc.Class) int {
		switch k {
		case sc.ClassDeath:
			return 0
		case sc.ClassLoss:
			return 1
		case sc.ClassRestore:
			return 2
		}
		return 3
	}
	slices.SortStableFunc(rows, func(a, b heldRow) int {
		return cmp.Or(cmp.Compare(rank(a.Class), rank(b.Class)), cmp.Compare(b.ReportedDate, a.ReportedDate), cmp.Compare(a.ID, b.ID))
	})
	c.render(w, r, http.StatusOK, "held", rows)
}
