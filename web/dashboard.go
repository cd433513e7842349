package web

import (
	"html/template"
	"net/http"
	"sort"
	"strings"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/auth"
	"github.com/silentcert/silentcert/store"
)

// levels are the code lengths of the drill-down: city, district, town, village.
var levels = []int{0, 4, 6, 9, 12}

// scope returns the region a request may look at: the region parameter when it lies in
// the user's region, the user's region when none is given; anything else is refused.
func scope(u *auth.User, region string) (string, error) {
	if region == "" {
		return u.Region, nil
	}
	ok := store.ValidPrefix(region) && strings.HasPrefix(region, u.Region)
	if ok {
		ok = false
		for _, l := range levels {
			ok = ok || len(region) == l
		}
	}
	if !ok || u.Disabled {
		return "", sc.Errorf(eForbidden, "region %q is outside your region", region)
	}
	return region, nil
}

// Crumb is one step of the drill-down path.
type Crumb struct{ Code, Name string }

// ChildRow is one division of a drill-down table.
type ChildRow struct {
	store.RegionStat
	Name  string
	Link  string
	Rate  float64
	Share float64
}

type dashboardData struct {
	Region                             string
	Crumbs                             []Crumb
	Summary                            store.RegionStat
	Rate                               float64
	Children                           []ChildRow
	People                             []store.WorkRow
	RateChart, StockChart, MethodChart template.HTML
	SourceChart, MethodShare           template.HTML
	MoneyChart                         template.HTML
	Paid, BackPay, Withheld, ToRecover sc.Fen
	// MoneySince is the first month the money figures count (they add every payroll
	// since; NoMonth: none yet).
	MoneySince             sc.Month
	ShowMoney, ShowRecover bool // the money figures (not for the village assistant, seesMoney)
	RecoverCases           int  // open recovery cases in the region
	SummaryDay             sc.Date
	Months                 []sc.Month
	RateRows               []rateRow
}

type rateRow struct {
	Month                        sc.Month
	Rate                         float64
	Pending, Suspended, Conflict int64
}

func (c *console) crumbs(u *auth.User, region string) []Crumb {
	var out []Crumb
	for _, l := range levels[1:] {
		if l > len(region) {
			break
		}
		if l <= len(u.Region) {
			continue // the first crumb, "/", is the user's own region
		}
		out = append(out, Crumb{region[:l], c.regionName(region[:l])})
	}
	return out
}

func (c *console) dashboard(w http.ResponseWriter, r *http.Request) {
	q := reqOf(r)
	u := q.user
	if u.Role == auth.RoleVillage && r.URL.Query().Get("region") == "" {
		http.Redirect(w, r, "/village", http.StatusSeeOther)
		return
	}
	region, err := scope(u, r.URL.Query().Get("region"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	ctx := r.Context()
	msgs := c.cat[q.lang]
	tr := func(k string) string {
		if m, ok := msgs[k]; ok {
			return m
		}
		return k
	}
	d := &dashboardData{Region: region, Crumbs: c.crumbs(u, region)}
	d.SummaryDay, _ = c.db.SummaryDay(ctx)
	if len(region) == 12 {
		d.People, _, err = c.db.Work(ctx, store.WorkQuery{List: store.WorkVillage, Prefix: region, Today: c.opt.Today(), From: sc.NoDate, To: sc.NoDate, Limit: 200})
		if err != nil {
			c.fail(w, r, err)
			return
		}
	}
	// Totals and the next level down.
	d.Summary, err = c.db.Region(ctx, region)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d.Rate = d.Summary.Rate()
	if len(region) < 12 {
		kids, err := c.db.Regions(ctx, region)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		for _, k := range kids {
			row := ChildRow{RegionStat: k, Name: c.regionName(k.Code), Rate: k.Rate()}
			if k.Code != "" {
				row.Link = "/?region=" + k.Code
			}
			if d.Summary.Total > 0 {
				row.Share = float64(k.Total) / float64(d.Summary.Total)
			}
			d.Children = append(d.Children, row)
		}
	}
	// Trends.
	stock, err := c.db.StockTrend(ctx, region)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	byMonth := map[sc.Month]map[string]int64{}
	for _, s := range stock {
		if byMonth[s.Month] == nil {
			byMonth[s.Month] = map[string]int64{}
		}
		byMonth[s.Month][s.Key] += s.N
	}
	months := make([]sc.Month, 0, len(byMonth))
	for m := range byMonth {
		months = append(months, m)
	}
	sort.Slice(months, func(i, j int) bool { return months[i] < months[j] })
	if len(months) > 24 {
		months = months[len(months)-24:]
	}
	d.Months = months
	labels := make([]string, len(months))
	rate := Series{Name: tr("dash.rate")}
	pend := Series{Name: tr("status.PENDING"), Color: "#d0561b"}
	susp := Series{Name: tr("status.SUSPENDED"), Color: "#c62828"}
	conf := Series{Name: tr("status.CONFLICT"), Color: "#6a1b9a"}
	for i, m := range months {
		labels[i] = m.String()
		b := byMonth[m]
		var total int64
		for _, n := range b {
			total += n
		}
		living := total - b["TERMINATED"]
		rt := 0.0
		if living > 0 {
			rt = float64(b["CERTIFIED"]+b["WARNING"]) / float64(living)
		}
		rate.Values = append(rate.Values, rt)
		pend.Values = append(pend.Values, float64(b["PENDING"]))
		susp.Values = append(susp.Values, float64(b["SUSPENDED"]))
		conf.Values = append(conf.Values, float64(b["CONFLICT"]))
		d.RateRows = append(d.RateRows, rateRow{m, rt, b["PENDING"], b["SUSPENDED"], b["CONFLICT"]})
	}
	d.RateChart = LineChart(tr("dash.rate_chart"), labels, []Series{rate}, true)
	d.StockChart = LineChart(tr("dash.stock_chart"), labels, []Series{pend, susp, conf}, false)

	flows, err := c.db.FlowTrend(ctx, region, "method")
	if err != nil {
		c.fail(w, r, err)
		return
	}
	idx := map[sc.Month]int{}
	for i, m := range months {
		idx[m] = i
	}
	methods := []string{"STRONG", "WEAK", "FACE", "COUNTER", "COMMUNITY", "MIGRATED"}
	mseries := make([]Series, len(methods))
	for i, m := range methods {
		mseries[i] = Series{Name: tr("method." + m), Values: make([]float64, len(months))}
	}
	for _, f := range flows {
		i, ok := idx[f.Month]
		if !ok || !strings.HasPrefix(f.Key, "CERTIFIED/") {
			continue
		}
		for j, m := range methods {
			if f.Key == "CERTIFIED/"+m {
				mseries[j].Values[i] += float64(f.N)
			}
		}
	}
	d.MethodChart = BarChart(tr("dash.method_chart"), labels, mseries)

	srcs, err := c.db.FlowTrend(ctx, region, "source")
	if err != nil {
		c.fail(w, r, err)
		return
	}
	bySrc := map[string]int64{}
	for _, f := range srcs {
		if _, ok := idx[f.Month]; ok && strings.HasPrefix(f.Key, "CERTIFIED/") {
			src := strings.TrimPrefix(f.Key, "CERTIFIED/")
			if src == "" {
				src = "—"
			}
			bySrc[src] += f.N
		}
	}
	var shares []Share
	for _, k := range sortedKeys(bySrc) {
		shares = append(shares, Share{k + " " + tr("source."+k), bySrc[k]})
	}
	sort.SliceStable(shares, func(i, j int) bool { return shares[i].N > shares[j].N })
	d.SourceChart = ShareBars(tr("dash.source_chart"), tr("dash.no_data"), shares)

	snap, err := c.db.Snapshot(ctx, region)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	byMethod := map[string]int64{}
	for _, s := range snap {
		if s.Status == sc.StatusCertified || s.Status == sc.StatusWarning {
			byMethod[s.Method.String()] += s.N
		}
	}
	var mshares []Share
	for _, m := range methods {
		if byMethod[m] > 0 {
			mshares = append(mshares, Share{tr("method." + m), byMethod[m]})
		}
	}
	d.MethodShare = ShareBars(tr("dash.method_share"), tr("dash.no_data"), mshares)

	money, err := c.db.MoneyTrend(ctx, region)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	kinds := []string{"REGULAR", "BACK_PAY", "WITHHELD"}
	mon := make([]Series, len(kinds))
	for i, k := range kinds {
		mon[i] = Series{Name: tr("money." + k), Values: make([]float64, len(months)), Color: []string{"#1f5fa8", "#2e7d32", "#c62828"}[i], Tip: yuanTip}
	}
	d.MoneySince = sc.NoMonth
	for _, m := range money {
		if d.MoneySince == sc.NoMonth || m.Month < d.MoneySince {
			d.MoneySince = m.Month
		}
		switch m.Key {
		case "REGULAR":
			d.Paid += sc.Fen(m.N)
		case "BACK_PAY":
			d.BackPay += sc.Fen(m.N)
		case "WITHHELD":
			d.Withheld += sc.Fen(m.N)
		}
		if i, ok := idx[m.Month]; ok {
			for j, k := range kinds {
				if k == m.Key {
					mon[j].Values[i] += float64(m.N) / 100
				}
			}
		}
	}
	d.MoneyChart = BarChart(tr("dash.money_chart"), labels, mon)
	d.ShowMoney = seesMoney(u)
	if !d.ShowMoney {
		d.Paid, d.BackPay, d.Withheld, d.MoneyChart = 0, 0, 0, ""
	}
	if c.opt.Recoveries != nil && d.ShowMoney {
		// What is left to recover in the region now (the recovery list's open total).
		rows, err := c.opt.Recoveries.Recoveries(r.Context(), region)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		for _, x := range rows {
			if x.Outstanding > 0 {
				d.ToRecover += x.Outstanding
				d.RecoverCases++
			}
		}
		d.ShowRecover = true
	}
	c.render(w, r, http.StatusOK, "dashboard", d)
}
