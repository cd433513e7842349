package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/auth"
	"github.com/silentcert/silentcert/idcard"
	"github.com/silentcert/silentcert/service"
	"github.com/silentcert/silentcert/store"
)

// Recoveries is the money paid for months not due as the engine has it now, with the
// ledger's entries (the service implements it over the people as its last commit left
// them, without waiting for a batch or a day's run); nil hides the recovery pages.
type Recoveries interface {
	Recoveries(ctx context.Context, prefix string) ([]service.Recovery, error)
	RecoveriesOf(ctx context.Context, pid int64) ([]service.Recovery, error)
	// ToRecoverIn is a case's ToRecover as tx sees the person: what a ledger entry is
	// checked against in its own transaction.
	ToRecoverIn(tx *store.Tx, pid int64, benefit string) (sc.Fen, error)
}

// RecoveryRow is one recovery as the pages show it.
type RecoveryRow struct {
	service.Recovery
	// State: "open" (nothing recorded), "part" (some repaid or waived, more left),
	// "settled" (nothing left) or "over" (more recorded than the engine now says is owed —
	// a corrected date of death, a death disputed or reviewed away: the difference is due
	// back to the family).
	State string
	// Reversed: the entries a reversal cancelled (shown struck through).
	Reversed map[int64]bool
}

// recoveryStates are the list's filters, in order: open (something left to recover),
// over (a refund due to the family), settled, all.
var recoveryStates = []string{"open", "over", "settled", "all"}

type recoveriesData struct {
	Region string // the division shown (the user's, or one inside it)
	State  string
	States []string
	Rows   []RecoveryRow
	Cases  int
	Total  RecoveryRow // the sums of the rows shown
	Refund sc.Fen      // what the rows shown owe back to families
	Export string
}

// query returns the list's query for state, in the same division.
func (d *recoveriesData) query(state string) string {
	v := url.Values{"state": {state}}
	if d.Region != "" {
		v.Set("region", d.Region)
	}
	return v.Encode()
}

// Query is query for the template's filter links: a URL's query already encoded, which
// the template must not escape again (it wrote state%3dall, and every filter link showed
// the open list).
func (d *recoveriesData) Query(state string) template.URL { return template.URL(d.query(state)) }

// seesMoney reports whether u is shown money (payments, amounts withheld, recoveries):
// everyone who may read the recovery list; the village assistant is not (a village's
// totals would tell its neighbours' pensions).
func seesMoney(u *auth.User) bool { return recoveryAccess(u, false) == nil }

// recoveryAccess: the city bureau records (operators and administrators; a write-off,
// administrators alone); auditors, district and town staff read, in their region; the
// village assistant does not see money.
func recoveryAccess(u *auth.User, write bool) error {
	switch {
	case u.Disabled:
		return sc.Errorf(eForbidden, "account disabled")
	case u.Role == auth.RoleAdmin || u.Role == auth.RoleOperator:
		return nil
	case !write && (u.Role == auth.RoleAuditor || u.Role == auth.RoleDistrict || u.Role == auth.RoleTown):
		return nil
	}
	return sc.Errorf(eForbidden, "money to recover is handled by the city bureau")
}

// recoveryRows names each recovery's state.
func recoveryRows(recs []service.Recovery, err error) ([]RecoveryRow, error) {
	out := make([]RecoveryRow, len(recs))
	for i, x := range recs {
		out[i].Recovery = x
		for _, e := range x.Entries {
			if e.Kind == store.RecoveryReversed {
				if out[i].Reversed == nil {
					out[i].Reversed = map[int64]bool{}
				}
				out[i].Reversed[e.Reverses] = true
			}
		}
		switch {
		case x.Status == sc.StatusConflict:
			// The death is disputed: the figures are those of the death, until the review.
			out[i].State = "disputed"
		case x.Refund > 0:
			out[i].State = "over"
		case x.Outstanding == 0:
			out[i].State = "settled"
		case x.Repaid-x.Refunded > 0 || x.Waived > 0:
			// Something stands against it (a reversed entry, and its reversal, do not).
			out[i].State = "part"
		default:
			out[i].State = "open"
		}
	}
	return out, err
}

// recoveries lists the money to recover (追回) in the user's region: each dead person's
// (or late LOSS's) entitlement paid for months not due, the offset, what is left, what the
// family has repaid and what was written off; open cases first by default.
func (c *console) recoveries(w http.ResponseWriter, r *http.Request) {
	u := reqOf(r).user
	if err := recoveryAccess(u, false); err != nil {
		c.fail(w, r, err)
		return
	}
	d := &recoveriesData{State: r.URL.Query().Get("state"), States: recoveryStates}
	if d.State == "" {
		d.State = "open"
	}
	if !slices.Contains(recoveryStates, d.State) {
		c.fail(w, r, sc.Errorf(sc.EInvalid, "state %q: want open, over, settled or all", d.State))
		return
	}
	format := r.URL.Query().Get("format")
	if format != "" {
		if err := exportFormat(format); err != nil {
			c.fail(w, r, err)
			return
		}
	}
	region, err := scope(u, r.URL.Query().Get("region"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d.Region = region
	rows, err := recoveryRows(c.opt.Recoveries.Recoveries(r.Context(), region))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	for _, x := range rows {
		switch {
		case d.State == "open" && x.Outstanding == 0, d.State == "over" && x.Refund == 0, d.State == "settled" && (x.Outstanding != 0 || x.Refund != 0):
			continue
		}
		d.Rows = append(d.Rows, x)
		d.Total.Amount += x.Amount
		d.Total.Offset += x.Offset
		d.Total.ToRecover += x.ToRecover
		d.Total.Repaid += x.Repaid
		d.Total.Waived += x.Waived
		d.Total.Refunded += x.Refunded
		d.Total.Outstanding += x.Outstanding
		d.Refund += x.Refund
	}
	d.Cases = len(d.Rows)
	d.Export = "/recoveries?" + d.query(d.State) + "&format="
	if format != "" {
		c.recoveriesExport(w, r, d, format)
		return
	}
	c.listViewed(r, "recoveries:"+d.State, d.Region, len(d.Rows))
	c.render(w, r, http.StatusOK, "recoveries", d)
}

// recoveriesExport writes the list as CSV or .xlsx (finance opens it in Excel: ID numbers
// text, amounts numbers), IDs masked as on the page; the export is audited.
func (c *console) recoveriesExport(w http.ResponseWriter, r *http.Request, d *recoveriesData, format string) {
	p := c.wordsOf(r)
	// The cases are in memory already: the page's totals are summed over them all.
	t := &table{header: []string{p.T("col.person_id"), p.T("col.name"), p.T("col.region"), p.T("rec.contact"), p.T("col.benefit"),
		p.T("col.death"), p.T("rec.months"), p.T("rec.amount"), p.T("rec.offset"), p.T("rec.to_recover"), p.T("rec.repaid"),
		p.T("rec.waived"), p.T("rec.outstanding"), p.T("rec.refunded"), p.T("rec.refund_due"), p.T("rec.state")}}
	t.rows = func(count func(int) error, row func([]any) error) error {
		if count != nil {
			if err := count(len(d.Rows)); err != nil {
				return err
			}
		}
		for _, x := range d.Rows {
			contact := x.AgentPhone
			if contact == "" {
				contact = x.Phone
			}
			death := ""
			if x.DeathDate != sc.NoDate {
				death = x.DeathDate.String()
			}
			if err := row([]any{p.MaskID(x.PersonID), x.Name, x.RegionCode, contact, p.BenefitCoded(x.Benefit), death, int64(x.Months),
				x.Amount, x.Offset, x.ToRecover, x.Repaid, x.Waived, x.Outstanding, x.Refunded, x.Refund, p.T("rec.state_" + x.State)}); err != nil {
				return err
			}
		}
		return nil
	}
	c.sendTable(w, r, t, format, "recoveries-"+c.opt.Today().String(), store.AuditRow{Kind: "export", Action: "recoveries",
		Detail: fmt.Sprintf("state=%s;region=%s", d.State, d.Region)})
}

// personRecoveries returns the person page's recovery cases for a user who may see them
// (nil otherwise).
func (c *console) personRecoveries(r *http.Request, p *store.Person) ([]RecoveryRow, error) {
	if c.opt.Recoveries == nil || recoveryAccess(reqOf(r).user, false) != nil {
		return nil, nil
	}
	return recoveryRows(c.opt.Recoveries.RecoveriesOf(r.Context(), p.PID))
}

// recoveryPost records, on the person page, a repayment by the family, a write-off
// (administrators) of one entitlement's money to recover, or a refund (administrators) of
// what the family repaid beyond what is owed, with its audit row, in one transaction; more
// than is left (or due back) is refused. The form's one-time key makes a form sent twice
// (a double tap, a resend after a timeout) record once.
func (c *console) recoveryPost(w http.ResponseWriter, r *http.Request) {
	u := reqOf(r).user
	kind := r.PostFormValue("kind")
	if err := recoveryAccess(u, true); err != nil {
		c.fail(w, r, err)
		return
	}
	if (kind == store.RecoveryWaived || kind == store.RecoveryRefunded || kind == store.RecoveryReversed) && u.Role != auth.RoleAdmin {
		c.fail(w, r, sc.Errorf(eForbidden, "a write-off, a refund or a reversal is decided by an administrator"))
		return
	}
	if kind != store.RecoveryRepaid && kind != store.RecoveryWaived && kind != store.RecoveryRefunded && kind != store.RecoveryReversed {
		c.fail(w, r, said(sc.EInvalid, "form.kind"))
		return
	}
	once, err := formOnce(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	p, err := c.personFor(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	// Sent again (a double tap, a resend after a timeout): answered as the first was,
	// before the checks of what is owed, which the first sending has changed.
	if once != "" {
		seq, pid, form, ok, err := c.db.RecoveryByOnce(r.Context(), once)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		if ok && (pid != p.PID || !samePrint(form, formPrint(r, ""))) {
			// The key recorded another entry (a page brought back and changed).
			c.fail(w, r, c.usedOnce(r, form))
			return
		}
		if ok {
			http.Redirect(w, r, fmt.Sprintf("/person/%d?recovered=%d#h-recovery", p.PID, seq), http.StatusSeeOther)
			return
		}
	}
	if kind == store.RecoveryReversed {
		c.reversalPost(w, r, p, once)
		return
	}
	benefit := r.PostFormValue("benefit")
	if !slices.ContainsFunc(p.Rec.Entitlements, func(e sc.Entitlement) bool { return e.Benefit == benefit }) {
		c.fail(w, r, said(sc.EInvalid, "form.entitlement"))
		return
	}
	// What is owed, read before the transaction, as of the service's last commit: for a
	// quick answer and the date of death. The entry is checked in its transaction against
	// what is owed there (addEntry).
	cases, err := c.opt.Recoveries.RecoveriesOf(r.Context(), p.PID)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	var owed *service.Recovery
	for _, k := range cases {
		if k.Benefit == benefit {
			owed = &k
		}
	}
	switch {
	case kind == store.RecoveryRefunded && (owed == nil || owed.Refund <= 0):
		c.fail(w, r, said(sc.EConflict, "form.nothing_due_back", benefit))
		return
	case kind != store.RecoveryRefunded && (owed == nil || owed.ToRecover <= 0):
		c.fail(w, r, said(sc.EConflict, "form.nothing_to_recover", benefit))
		return
	}
	amount, ok := sc.ParseYuan(strings.TrimSpace(r.PostFormValue("amount")))
	if !ok || amount <= 0 {
		c.fail(w, r, said(sc.EInvalid, "form.amount", r.PostFormValue("amount")))
		return
	}
	today := c.opt.Today()
	day, err := formDate(r.PostFormValue("date"), today, today)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if owed.DeathDate != sc.NoDate && day < owed.DeathDate {
		c.fail(w, r, said(sc.EInvalid, "form.before_death", day, owed.DeathDate))
		return
	}
	note := strings.TrimSpace(r.PostFormValue("note"))
	if utf8.RuneCountInString(note) > 500 || (kind == store.RecoveryWaived && note == "") {
		c.fail(w, r, said(sc.EInvalid, "form.note"))
		return
	}
	c.addEntry(w, r, p, &store.RecoveryEntry{PID: p.PID, Benefit: benefit, Day: day, Kind: kind, Amount: amount, Actor: u.Name,
		Note: note, Once: once, OnceForm: formPrint(r, "rec.kind_"+kind)})
}

// addEntry records e against what is owed with its audit row (the entry's figures, that
// audit verify checks the ledger against), in one transaction, and shows the person's
// money again; more than is left, or due back, is refused in the user's words. What is
// owed is read in that transaction, where the writers take turns: a batch, a review or a
// payroll committed since the form's handler read it (a death disputed again, whose
// repayment is then not due back; one reviewed away, which leaves nothing to recover)
// has changed it, and a refund or repayment checked against the figures read before would
// pay the family money it may owe, or take money not owed.
func (c *console) addEntry(w http.ResponseWriter, r *http.Request, p *store.Person, e *store.RecoveryEntry) {
	tx, err := c.db.BeginWithin(r.Context(), c.opt.WriteWait)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	defer tx.Rollback()
	owed, err := c.opt.Recoveries.ToRecoverIn(tx, p.PID, e.Benefit)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	detail := fmt.Sprintf("benefit=%s;amount=%s;date=%s;owed=%s;note=%s", e.Benefit, e.Amount, e.Day, owed, store.DetailValue(e.Note))
	if e.Reverses > 0 {
		detail += fmt.Sprintf(";reverses=%d", e.Reverses)
	}
	a := store.AuditRow{Kind: "recovery", Day: c.opt.Today(), At: c.opt.Now().UTC().Format(time.RFC3339), Actor: e.Actor, PID: p.PID,
		PersonID: p.Rec.PersonID, Action: e.Kind, Detail: detail}
	recorded, err := tx.AddRecovery(e, owed, a)
	var tm *store.TooMuch
	if errors.As(err, &tm) {
		key := "form.too_much"
		if tm.Refund {
			key = "form.refund_too_much"
		}
		err = said(sc.EConflict, key, tm.Amount, tm.Left)
	}
	var used *store.OnceUsed
	if errors.As(err, &used) {
		err = c.usedOnce(r, used.Form)
	}
	if err == nil {
		err = tx.Commit()
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if recorded {
		c.log.Info("console recovery", "user", e.Actor, "person", idcard.Mask(p.Rec.PersonID), "kind", e.Kind, "amount", e.Amount.String(),
			"reverses", e.Reverses)
	}
	http.Redirect(w, r, fmt.Sprintf("/person/%d?recovered=%d#h-recovery", p.PID, e.Seq), http.StatusSeeOther)
}

// reversalPost records, for an administrator, the reversal (冲正) of a ledger entry
// recorded in error — a repayment typed with the wrong amount or on the wrong person, a
// write-off or refund that should not have been — with its reason: both then count for
// nothing, and the entry can be recorded again rightly. Entries are never changed; the
// reversal is audited like them.
func (c *console) reversalPost(w http.ResponseWriter, r *http.Request, p *store.Person, once string) {
	seq, err := strconv.ParseInt(r.PostFormValue("entry"), 10, 64)
	if err != nil {
		c.fail(w, r, said(sc.EInvalid, "form.entry"))
		return
	}
	reason, err := formReason(r, "note")
	if err != nil {
		c.fail(w, r, err)
		return
	}
	cases, err := c.opt.Recoveries.RecoveriesOf(r.Context(), p.PID)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	var target *store.RecoveryEntry
	for _, k := range cases {
		for i := range k.Entries {
			if k.Entries[i].Seq == seq {
				target = &k.Entries[i]
			}
		}
	}
	if target == nil {
		c.fail(w, r, said(sc.EInvalid, "form.entry"))
		return
	}
	c.addEntry(w, r, p, &store.RecoveryEntry{PID: p.PID, Benefit: target.Benefit, Day: c.opt.Today(), Kind: store.RecoveryReversed,
		Amount: target.Amount, Actor: reqOf(r).user.Name, Note: reason, Once: once, OnceForm: formPrint(r, "rec.kind_reversed"), Reverses: seq})
}
