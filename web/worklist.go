package web

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/store"
)

const pageSize = 50

type worklistData struct {
	List        string
	Region      string
	Months      int
	From, To    string
	Frailest    bool // order=health: the highest health index first
	Rows        []store.WorkRow
	Total       int64
	More        bool // more than Total: the count stopped there
	Page, Pages int
	Prev, Next  string
	ExportCSV   string
	ExportXLSX  string
}

// workQuery reads a worklist's filters from the URL; a region outside the user's, a
// malformed month or an unknown list is refused before any query runs.
func (c *console) workQuery(r *http.Request) (store.WorkQuery, *worklistData, error) {
	u := reqOf(r).user
	v := r.URL.Query()
	list := r.PathValue("list")
	ok := false
	for _, l := range store.Worklists() {
		ok = ok || string(l) == list
	}
	if !ok {
		return store.WorkQuery{}, nil, sc.Errorf(sc.ENotFound, "no worklist %q", list)
	}
	region, err := scope(u, v.Get("region"))
	if err != nil {
		return store.WorkQuery{}, nil, err
	}
	q := store.WorkQuery{List: store.Worklist(list), Prefix: region, Today: c.opt.Today(), From: sc.NoDate, To: sc.NoDate, Limit: pageSize}
	d := &worklistData{List: list, Region: region, From: v.Get("from"), To: v.Get("to")}
	if s := v.Get("months"); s != "" {
		m, err := strconv.Atoi(s)
		if err != nil || m < 1 || m > 3 {
			return q, nil, sc.Errorf(sc.EInvalid, "months %q: want 1, 2 or 3", s)
		}
		q.Months = m
	} else {
		// The policy's warning window by default: the list the dashboard's figure counts.
		q.Months = min(max(c.opt.WarningMonths, 1), 3)
	}
	d.Months = q.Months
	switch o := v.Get("order"); o {
	case "":
	case "health":
		q.Frailest, d.Frailest = true, true
	default:
		return q, nil, sc.Errorf(sc.EInvalid, "order %q: want health or nothing", o)
	}
	if d.From != "" {
		m, err := sc.ParseMonth(d.From)
		if err != nil {
			return q, nil, sc.Errorf(sc.EInvalid, "from %q: want YYYY-MM", d.From)
		}
		q.From = m.First()
	}
	if d.To != "" {
		m, err := sc.ParseMonth(d.To)
		if err != nil {
			return q, nil, sc.Errorf(sc.EInvalid, "to %q: want YYYY-MM", d.To)
		}
		q.To = m.Last()
	}
	page := 1
	if s := v.Get("page"); s != "" {
		if page, err = strconv.Atoi(s); err != nil || page < 1 || page > 1_000_000 {
			return q, nil, sc.Errorf(sc.EInvalid, "page %q", s)
		}
	}
	d.Page = page
	q.Offset = (page - 1) * pageSize
	return q, d, nil
}

func (d *worklistData) link(page int, export string) string {
	v := url.Values{}
	if d.Region != "" {
		v.Set("region", d.Region)
	}
	if d.List == "warning" {
		v.Set("months", strconv.Itoa(d.Months))
	}
	if d.From != "" {
		v.Set("from", d.From)
	}
	if d.To != "" {
		v.Set("to", d.To)
	}
	if d.Frailest {
		v.Set("order", "health")
	}
	path := "/work/" + d.List
	if export != "" {
		path += "/export"
		v.Set("format", export)
	} else if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

func (c *console) worklist(w http.ResponseWriter, r *http.Request) {
	q, d, err := c.workQuery(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d.Rows, d.Total, err = c.db.Work(r.Context(), q)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if d.Total > store.WorkCountCap {
		d.More, d.Total = true, store.WorkCountCap
	}
	d.Pages = max(1, int((d.Total+pageSize-1)/pageSize)) // an empty list is one empty page
	if d.Page > 1 {
		d.Prev = d.link(d.Page-1, "")
	}
	if d.Page < d.Pages {
		d.Next = d.link(d.Page+1, "")
	}
	d.ExportCSV, d.ExportXLSX = d.link(0, "csv"), d.link(0, "xlsx")
	c.listViewed(r, "worklist:"+d.List, d.Region, len(d.Rows), "page", d.Page)
	c.render(w, r, http.StatusOK, "worklist", d)
}

// listViewed logs who looked at a list of people and how many rows it showed them (the
// list, its region and page; never a name or an ID number), as the person page logs who
// looked at whom: in the log, not the audit trail, whose rows would wait for the writer
// during a large batch.
func (c *console) listViewed(r *http.Request, list, region string, rows int, attrs ...any) {
	c.log.Info("console list view", append([]any{"user", reqOf(r).user.Name, "list", list, "region", orAll(region), "rows", rows}, attrs...)...)
}

// exportRows is the most a worklist export holds: a city's pending list fits many times.
var exportRows = 200_000 // a var: tests lower it (SetExportBounds)

// exportBound bounds an export's walk to most rows (the store is asked for most+1): a
// selection of more is refused before the file's first byte and its audit row — at the
// count when the export has one (CSV), else at row most+1 (.xlsx, sent only once whole).
// A file cut at the bound looked whole to whoever opened it, and said so only in the
// audit row (session 18).
func exportBound(count func(int) error, row func([]any) error, most int) (func(int) error, func([]any) error) {
	tooMany := said(sc.EInvalid, "err.export_too_many", most)
	if count != nil {
		c := count
		count = func(n int) error {
			if n > most {
				return tooMany
			}
			return c(n)
		}
	}
	n := 0
	return count, func(cells []any) error {
		if n++; n > most {
			return tooMany
		}
		return row(cells)
	}
}

func (c *console) export(w http.ResponseWriter, r *http.Request) {
	q, d, err := c.workQuery(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	format := r.URL.Query().Get("format")
	if err := exportFormat(format); err != nil {
		c.fail(w, r, err)
		return
	}
	q.Offset, q.Limit = 0, exportRows+1 // one more, to know a list the export cannot hold
	p := c.wordsOf(r)
	header := []string{p.T("col.person_id"), p.T("col.name"), p.T("col.birth"), p.T("col.region_code"), p.T("col.region"),
		p.T("col.address"), p.T("col.phone"), p.T("col.agent_phone"), p.T("col.status"), p.T("col.until"), p.T("col.method")}
	risk, health := q.List == store.WorkRisk, p.SeesHealth()
	if risk {
		header = append(header, p.T("col.flagged"))
		if health {
			header = append(header, p.T("col.score"), p.T("col.reasons"))
		}
	}
	if health {
		header = append(header, p.T("col.health"))
	}
	var l []string
	var cells []any
	t := &table{header: header, rows: func(count func(int) error, row func([]any) error) error {
		count, row = exportBound(count, row, exportRows)
		return c.db.WorkEach(r.Context(), q, count, func(x *store.WorkRow) error {
			l = append(l[:0], p.MaskID(x.PersonID), x.Name, x.BirthDate.String(), x.RegionCode, c.regionPath(x.RegionCode),
				x.Address, x.Phone, x.AgentPhone, p.Status(x.Status), dateOr(x.Until), p.Method(x.Method))
			if risk {
				l = append(l, dateOr(x.Flagged))
				if health {
					l = append(l, strconv.FormatFloat(x.Score, 'f', 2, 64), strings.Join(p.RiskReasons(x.RiskDetail), p.T("detail.sep")))
				}
			}
			switch {
			case health && risk:
				l = append(l, p.RiskHealth(x.RiskDetail))
			case health:
				l = append(l, p.Health(x.Health))
			}
			cells = cells[:0]
			for _, s := range l {
				cells = append(cells, s)
			}
			return row(cells)
		})
	}}
	c.sendTable(w, r, t, format, fmt.Sprintf("worklist-%s-%s-%s", d.List, orAll(d.Region), c.opt.Today()),
		store.AuditRow{Kind: "export", Action: d.List, Detail: d.filters()})
}

// filters is an export's audit detail: the list's region and every filter that chose its
// rows (the window of the due list, the months of the period's end, the order), so that
// the trail says which people left, not only from where.
func (d *worklistData) filters() string {
	f := "region=" + d.Region
	if d.List == string(store.WorkWarning) {
		f += ";months=" + strconv.Itoa(d.Months)
	}
	if d.From != "" {
		f += ";from=" + store.DetailValue(d.From)
	}
	if d.To != "" {
		f += ";to=" + store.DetailValue(d.To)
	}
	if d.Frailest {
		f += ";order=health"
	}
	return f
}

func dateOr(d sc.Date) string {
	if d == sc.NoDate {
		return ""
	}
	return d.String()
}

func orAll(region string) string {
	if region == "" {
		return "all"
	}
	return region
}

// RiskReasons says a RISK row's reasons (the model's reasons= key, "a|b|c") in the page's
// language; a reason the catalogs do not know is shown as the model wrote it.
func (p *Page) RiskReasons(detail string) []string {
	v, _ := store.DetailField(detail, "reasons")
	var out []string
	for _, r := range strings.Split(v, "|") {
		if r != "" {
			out = append(out, p.riskReason(r))
		}
	}
	return out
}

// riskReason names one of the reasons models.reasons writes.
func (p *Page) riskReason(r string) string {
	fixed := map[string]string{
		"never_seen_in_person":            "risk.never_seen",
		"critical_admission_then_silence": "risk.critical",
		"hospital_stay_then_silence":      "risk.stay",
		"visit_not_found":                 "risk.not_found",
	}
	if k, ok := fixed[r]; ok {
		return p.T(k)
	}
	if v, ok := strings.CutPrefix(r, "in_person_missed_"); ok {
		return p.T("risk.missed", v)
	}
	if v, ok := strings.CutPrefix(r, "in_person_gap_"); ok && strings.HasSuffix(v, "d") {
		return p.T("risk.gap", strings.TrimSuffix(v, "d"))
	}
	if v, ok := strings.CutPrefix(r, "traces_elsewhere_"); ok && strings.HasSuffix(v, "d") {
		return p.T("risk.elsewhere", strings.TrimSuffix(v, "d"))
	}
	if v, ok := strings.CutPrefix(r, "moved_"); ok && strings.HasSuffix(v, "_types") {
		return p.T("risk.moved", strings.TrimSuffix(v, "_types"))
	}
	if v, ok := strings.CutPrefix(r, "inconsistent_identity_"); ok {
		return p.T("risk.identity", v)
	}
	if v, ok := strings.CutPrefix(r, "age_"); ok {
		return p.T("risk.age", v)
	}
	return r
}

// Health returns a stored health index (thousandths) as a percentage, or "" when the
// person was not scored.
func (p *Page) Health(permille int) string {
	if permille < 0 {
		return ""
	}
	return strconv.FormatFloat(float64(permille)/10, 'f', 1, 64) + "%"
}

// RiskHealth returns the health index a RISK row carries (its health= key, the model's
// probability of death within the year) as a percentage, or "" when the row has none.
func (p *Page) RiskHealth(detail string) string {
	v, ok := store.DetailField(detail, "health")
	if !ok {
		return ""
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return v
	}
	return p.Health(int(math.Round(f * 1000)))
}
