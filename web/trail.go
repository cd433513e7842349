package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/auth"
	"github.com/silentcert/silentcert/store"
)

// trailKinds are offered in the audit page's kind filter (others may be typed).
// The payroll is an export (action payroll), as are backups.
var trailKinds = []string{"login", "login_code", "user", "api_key", "batch", "roster", "run", "visit", "review", "recovery", "held",
	"export", "notice", "model", "config", "build", "citizen_login", "citizen_signin", "citizen_face", "citizen_review", "citizen_visit",
	"citizen_reference", "migration", "payments", "decision"}

// decisionActions are offered in the audit page's action filter: the decisions' (spec §7).
var decisionActions = []string{"CERTIFIED", "WARNING", "PENDING", "SUSPENDED", "RESUMED", "TERMINATED", "LOSS", "RESTORED", "CONFLICT", "RISK"}

// DecisionActions are the actions the audit page's filter offers.
func (p *Page) DecisionActions() []string { return decisionActions }

type trailData struct {
	Kind, Actor, Action, From, To string
	Rows                          []store.AuditRow
	Older                         string // the next page's link ("": none)
	Export                        string // the CSV export of the filters' rows
	ExportXLSX                    string // the same as .xlsx, ID numbers as text
	Kinds                         []string
}

// trailPageSize is the rows of one page of the audit page.
const trailPageSize = 100

// trail is the auditor's view of the audit trail: every staff and system action (logins,
// accounts, batches, daily runs, visits, reviews, exports, model and program changes, the
// citizen's logins and attempts), newest first, by kind, actor and days; the engine's
// decisions are on each person's page. For administrators and auditors; one with a region
// reads only the rows about the people of its region.
func (c *console) trail(w http.ResponseWriter, r *http.Request) {
	u := reqOf(r).user
	if u.Role != auth.RoleAdmin && u.Role != auth.RoleAuditor {
		c.fail(w, r, sc.Errorf(eForbidden, "the audit trail is shown to administrators and auditors"))
		return
	}
	qs := r.URL.Query()
	d := &trailData{Kind: strings.TrimSpace(qs.Get("kind")), Actor: strings.TrimSpace(qs.Get("actor")), Action: strings.TrimSpace(qs.Get("action")),
		From: qs.Get("from"), To: qs.Get("to"), Kinds: trailKinds}
	// A scoped account reads the rows about its own region's people, no other. Decisions
	// are read a month at most (store.DecisionDays), to sample: every stop in November.
	q := store.TrailQuery{Kind: d.Kind, Actor: d.Actor, Action: d.Action, From: sc.NoDate, To: sc.NoDate, Limit: trailPageSize, Region: u.Region}
	for _, f := range []struct {
		s string
		d *sc.Date
	}{{d.From, &q.From}, {d.To, &q.To}} {
		if f.s == "" {
			continue
		}
		day, err := sc.ParseDate(f.s)
		if err != nil {
			c.fail(w, r, sc.Errorf(sc.EInvalid, "date %q: want YYYY-MM-DD", f.s))
			return
		}
		*f.d = day
	}
	if b := qs.Get("before"); b != "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n <= 0 {
			c.fail(w, r, sc.Errorf(sc.EInvalid, "before %q: a sequence number", b))
			return
		}
		q.Before = n
	}
	if q.Bounded() != nil {
		c.fail(w, r, said(sc.EInvalid, "audit.decision_days", store.DecisionDays))
		return
	}
	if f := qs.Get("format"); f != "" {
		if err := exportFormat(f); err != nil {
			c.fail(w, r, err)
			return
		}
		c.trailExport(w, r, q, d, f)
		return
	}
	rows, err := c.db.Trail(r.Context(), q)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d.Rows = rows
	csvq := d.filters()
	csvq.Set("format", "csv")
	d.Export = "/audit?" + csvq.Encode()
	csvq.Set("format", "xlsx")
	d.ExportXLSX = "/audit?" + csvq.Encode()
	if len(rows) == trailPageSize {
		v := d.filters()
		v.Set("before", strconv.FormatInt(rows[len(rows)-1].Seq, 10))
		d.Older = "/audit?" + v.Encode()
	}
	c.render(w, r, http.StatusOK, "audit", d)
}

// filters returns the page's filters as a query.
func (d *trailData) filters() url.Values {
	v := url.Values{}
	for k, x := range map[string]string{"kind": d.Kind, "actor": d.Actor, "action": d.Action, "from": d.From, "to": d.To} {
		if x != "" {
			v.Set(k, x)
		}
	}
	return v
}

// trailExportRows bounds an export of the audit trail.
var trailExportRows = 100000 // a var: tests lower it (SetExportBounds)

// trailExport writes the rows the filters select (from Before, newest first; more than
// trailExportRows are refused: narrow the days) as CSV (UTF-8 with a BOM, for machines) or .xlsx (for Excel, which
// reads an 18-digit ID number in a CSV as a number and keeps 15 of its digits: here every
// cell but the sequence number is text), IDs masked and times shown as on the page; the
// export is itself audited.
func (c *console) trailExport(w http.ResponseWriter, r *http.Request, q store.TrailQuery, d *trailData, format string) {
	q.Limit = trailExportRows + 1 // one more, to know a selection the export cannot hold
	p := c.wordsOf(r)
	header := []string{p.T("audit.seq"), p.T("audit.day"), p.T("audit.at"), p.T("audit.kind"), p.T("audit.actor"), p.T("audit.action"),
		p.T("audit.person"), p.T("audit.evidence"), p.T("audit.detail")}
	cells := make([]any, len(header))
	t := &table{header: header, rows: func(count func(int) error, row func([]any) error) error {
		count, row = exportBound(count, row, trailExportRows)
		return c.db.TrailEach(r.Context(), q, count, func(x *store.AuditRow) error {
			id := ""
			if x.PID >= 0 {
				id = p.MaskID(x.PersonID)
			}
			cells = append(cells[:0], x.Seq, x.Day.String(), shownAt(x.At), p.Named("audit.kind.", x.Kind), x.Actor, p.AuditAction(x.Kind, x.Action), id, x.Evidence, p.ShownDetail(x.Detail))
			return row(cells)
		})
	}}
	c.sendTable(w, r, t, format, "audit-"+c.opt.Today().String(), store.AuditRow{Kind: "export", Action: "audit",
		Detail: "filters=" + url.QueryEscape(d.filters().Encode())})
}

// shownAt is an audit row's wall time as staff read it. Stored as RFC 3339 — in UTC by
// the console, the accounts and the citizen pages, with the agency's offset by the
// service's batches and runs — it is shown in the console's zone (cst, the agency's UTC+8,
// as its days and the face pages' times) as 2006-01-02 15:04:05, so that one column reads
// in one zone. A value that is not RFC 3339 is shown as stored; the stored rows, and
// their hash chain, are untouched.
func shownAt(at string) string {
	t, err := time.Parse(time.RFC3339, at)
	if err != nil {
		return at
	}
	return t.In(cst).Format(time.DateTime)
}

// ShownAt is shownAt for the audit page.
func (p *Page) ShownAt(at string) string { return shownAt(at) }

// DetailHead is a row's detail without the configuration it may end with (a config row's
// canonical JSON, kilobytes long): the page shows that apart, folded (ConfigJSON).
func (p *Page) DetailHead(detail string) string {
	head, _, _ := strings.Cut(detail, ";config={")
	return head
}

// ConfigJSON is the configuration a config row's detail ends with, indented for reading
// ("" for any other row); the export keeps the detail as written.
func (p *Page) ConfigJSON(detail string) string {
	i := strings.Index(detail, ";config={")
	if i < 0 {
		return ""
	}
	var b bytes.Buffer
	if json.Indent(&b, []byte(detail[i+len(";config="):]), "", "  ") != nil {
		return detail[i+len(";config="):]
	}
	return b.String()
}
