package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
)

// consoleFixture writes five people in two villages of one town, one unassigned, with
// decisions over two months and payments.
func consoleFixture(t *testing.T, db *store.DB) sc.Date {
	ctx := context.Background()
	day := sc.MustDate("2025-03-10")
	tx, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mk := func(pid int64, id, name, region string, st sc.Status, until sc.Date) *store.Person {
		return &store.Person{PID: pid, Rec: sc.Recipient{PersonID: id, Name: name, Sex: 1, BirthDate: 100, RegionCode: region,
			LastCertified: sc.NoDate, Entitlements: []sc.Entitlement{{Benefit: "URBAN_EMPLOYEE", Monthly: 100000, Start: 24000, End: sc.NoMonth}}},
			Status: st, Until: until, NextCheck: sc.NoDate, Baselined: true, State: []byte{1}}
	}
	ps := []*store.Person{
		mk(1, "370000000000000001", "甲", "371002001001", sc.StatusCertified, day.AddMonths(10)),
		mk(2, "370000000000000002", "乙", "371002001001", sc.StatusWarning, day.AddMonths(1)),
		mk(3, "370000000000000003", "丙", "371002001002", sc.StatusPending, day-10),
		mk(4, "370000000000000004", "丁'; DROP TABLE people; --", "371002001002", sc.StatusSuspended, day-50),
		mk(5, "370000000000000005", "戊", "", sc.StatusCertified, day.AddMonths(5)),
	}
	if err := tx.PutPeople(ps); err != nil {
		t.Fatal(err)
	}
	feb := sc.MustDate("2025-02-03")
	rows := []store.AuditRow{
		{Kind: "decision", Day: feb, PID: 1, PersonID: ps[0].Rec.PersonID, Action: "CERTIFIED", Method: "STRONG", Evidence: "HEA:1"},
		{Kind: "decision", Day: feb, PID: 3, PersonID: ps[2].Rec.PersonID, Action: "CERTIFIED", Method: "STRONG", Evidence: "TRN:9"},
		{Kind: "decision", Day: feb + 20, PID: 3, PersonID: ps[2].Rec.PersonID, Action: "PENDING"},
		{Kind: "decision", Day: day, PID: 4, PersonID: ps[3].Rec.PersonID, Action: "SUSPENDED"},
		{Kind: "decision", Day: day, PID: 2, PersonID: ps[1].Rec.PersonID, Action: "CERTIFIED", Method: "COMMUNITY", Evidence: "CMT:5"},
		{Kind: "login", Day: day, PID: -1, Actor: "admin"},
	}
	if err := tx.Append(rows); err != nil {
		t.Fatal(err)
	}
	if err := tx.AddPayments([]store.Payment{
		{PID: 1, Benefit: "URBAN_EMPLOYEE", Month: day.Month(), Kind: "REGULAR", Amount: 100000, PayrollMonth: day.Month()},
		{PID: 4, Benefit: "URBAN_EMPLOYEE", Month: day.Month(), Kind: "WITHHELD:SUSPENDED", Amount: 100000, PayrollMonth: day.Month()},
		{PID: 2, Benefit: "URBAN_EMPLOYEE", Month: day.Month() - 1, Kind: "REGULAR", Amount: 70000, PayrollMonth: day.Month() - 1},
	}); err != nil {
		t.Fatal(err)
	}
	if err := tx.RebuildSummary(day); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return day
}

func TestConsole(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) { testConsole(t, dsn.Open(t)) })
	}
}

func testConsole(t *testing.T, db *store.DB) {
	ctx := context.Background()
	day := consoleFixture(t, db)
	defer testHealth(t, db, day)
	if d, err := db.SummaryDay(ctx); err != nil || d != day {
		t.Fatalf("summary day %v %v", d, err)
	}
	// Regions: two villages under the town; the unassigned person only at the top.
	rs, err := db.Regions(ctx, "371002001")
	if err != nil || len(rs) != 2 || rs[0].Code != "371002001001" || rs[0].Total != 2 || rs[0].Certified() != 2 ||
		rs[1].ByStatus[sc.StatusPending] != 1 || rs[1].ByStatus[sc.StatusSuspended] != 1 || rs[1].Rate() != 0 {
		t.Fatalf("regions %+v %v", rs, err)
	}
	top, err := db.Regions(ctx, "")
	if err != nil || len(top) != 2 || top[0].Code != "" || top[1].Code != "3710" || top[1].Total != 4 {
		t.Fatalf("top regions %+v %v", top, err)
	}
	if one, err := db.Region(ctx, "371002"); err != nil || one.Total != 4 || one.ByStatus[sc.StatusPending] != 1 {
		t.Fatalf("district %+v %v", one, err)
	}
	if all, err := db.Region(ctx, ""); err != nil || all.Total != 5 {
		t.Fatalf("everyone %+v %v", all, err)
	}
	if _, err := db.Regions(ctx, "37%"); sc.ErrorCode(err) != sc.EInvalid {
		t.Fatalf("a wildcard prefix: %v", err)
	}
	snap, err := db.Snapshot(ctx, "371002001002")
	if err != nil || len(snap) != 2 {
		t.Fatalf("snapshot %+v %v", snap, err)
	}
	// Stock: February ends with person 1 certified and person 3 pending.
	stock, err := db.StockTrend(ctx, "3710")
	if err != nil {
		t.Fatal(err)
	}
	feb := map[string]int64{}
	for _, c := range stock {
		if c.Month == day.Month()-1 {
			feb[c.Key] = c.N
		}
	}
	if feb["CERTIFIED"] != 1 || feb["PENDING"] != 1 || len(feb) != 2 {
		t.Fatalf("February stock %v (all %+v)", feb, stock)
	}
	src, err := db.FlowTrend(ctx, "", "source")
	if err != nil || len(src) != 5 || src[0].Key != "CERTIFIED/HEA" || src[3].Key != "CERTIFIED/CMT" {
		t.Fatalf("by source %+v %v", src, err)
	}
	money, err := db.MoneyTrend(ctx, "371002001002")
	if err != nil || len(money) != 1 || money[0].Key != "WITHHELD" || money[0].N != 100000 {
		t.Fatalf("money %+v %v", money, err)
	}
	// Worklists, scoped.
	for _, c := range []struct {
		q     store.WorkQuery
		total int64
		first string
	}{
		{store.WorkQuery{List: store.WorkWarning, Today: day, Months: 1, From: sc.NoDate, To: sc.NoDate}, 1, "370000000000000002"},
		{store.WorkQuery{List: store.WorkWarning, Today: day, Months: 3, Prefix: "371002001002", From: sc.NoDate, To: sc.NoDate}, 0, ""},
		{store.WorkQuery{List: store.WorkPending, Today: day, From: sc.NoDate, To: sc.NoDate}, 1, "370000000000000003"},
		{store.WorkQuery{List: store.WorkSuspended, Prefix: "3710", Today: day, From: sc.NoDate, To: sc.NoDate}, 1, "370000000000000004"},
		{store.WorkQuery{List: store.WorkSuspended, Prefix: "371002001001", Today: day, From: sc.NoDate, To: sc.NoDate}, 0, ""},
		{store.WorkQuery{List: store.WorkUnassigned, Today: day, From: sc.NoDate, To: sc.NoDate}, 1, "370000000000000005"},
		{store.WorkQuery{List: store.WorkUnassigned, Prefix: "3710", Today: day, From: sc.NoDate, To: sc.NoDate}, 0, ""},
		{store.WorkQuery{List: store.WorkVillage, Prefix: "371002001002", Today: day, From: sc.NoDate, To: sc.NoDate, Limit: 1}, 2, "370000000000000004"},
		{store.WorkQuery{List: store.WorkVillage, Prefix: "371002001", Today: day, From: day, To: sc.NoDate}, 2, "370000000000000002"},
	} {
		rows, total, err := db.Work(ctx, c.q)
		if err != nil || total != c.total || (c.first != "" && (len(rows) == 0 || rows[0].PersonID != c.first)) {
			t.Errorf("%+v: %d rows of %d, %+v, %v", c.q, len(rows), total, rows, err)
		}
	}
	if _, _, err := db.Work(ctx, store.WorkQuery{List: "x' OR 1=1 --", From: sc.NoDate, To: sc.NoDate}); sc.ErrorCode(err) != sc.ENotFound {
		t.Errorf("unknown list: %v", err)
	}
	// Search and person scope: a name with SQL in it is matched as text.
	got, err := db.Search(ctx, "3710", "丁'; DROP TABLE people; --", 10)
	if err != nil || len(got) != 1 || got[0].PID != 4 {
		t.Fatalf("search %+v %v", got, err)
	}
	if got, err := db.Search(ctx, "371002001001", "丙", 10); err != nil || len(got) != 0 {
		t.Fatalf("search outside scope %+v %v", got, err)
	}
	if _, err := db.PersonInRegion(ctx, "371002001001", 3); sc.ErrorCode(err) != sc.ENotFound {
		t.Fatalf("a person of another village: %v", err)
	}
	if p, err := db.PersonInRegion(ctx, "371002001002", 3); err != nil || p.PID != 3 {
		t.Fatalf("own village: %v %v", p, err)
	}
	if pays, err := db.PersonPayments(ctx, 4); err != nil || len(pays) != 1 {
		t.Fatalf("payments %v %v", pays, err)
	}
	if tx, err := db.Begin(ctx); err != nil {
		t.Fatal(err)
	} else {
		spans, err := tx.PayrollSpans([]int64{4, 5})
		tx.Rollback()
		if err != nil || len(spans) != 1 || spans[4].From != pays4(t, db)[0].PayrollMonth || spans[4].To != spans[4].From {
			t.Fatalf("payroll spans %v %v", spans, err)
		}
	}
	if v, err := db.AnyVillage(ctx, "3710", sc.StatusPending); err != nil || v != "371002001002" {
		t.Fatalf("any village %q %v", v, err)
	}
	// Money is summed again on payroll day only.
	refresh := func(d sc.Date, pay []store.Payment, roll *store.Payroll) int64 {
		tx, err := db.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.AddPayments(pay); err != nil {
			t.Fatal(err)
		}
		if roll != nil {
			if err := tx.PutPayroll(roll); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.RefreshSummary(d); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		ms, _ := db.MoneyTrend(ctx, "371002001001")
		var sum int64
		for _, m := range ms {
			if m.Month == day.Month() {
				sum += m.N
			}
		}
		return sum
	}
	extra := []store.Payment{{PID: 2, Benefit: "URBAN_EMPLOYEE", Month: day.Month(), Kind: "REGULAR", Amount: 5000, PayrollMonth: day.Month()}}
	if got := refresh(day+1, extra, nil); got != 100000 {
		t.Fatalf("money of a day without payroll: %d", got)
	}
	if got := refresh(day+2, nil, &store.Payroll{Month: day.Month(), Day: day + 2, Snapshot: []byte{0}}); got != 105000 {
		t.Fatalf("money on payroll day: %d", got)
	}
}

// testHealth: PutStates writes the health index of the people who moved (not of those
// Unmoved), LoadPeople and the worklists read it back, a village's equally urgent people
// come frailest first, and Frailest puts the frailest first on any list.
func testHealth(t *testing.T, db *store.DB, day sc.Date) {
	ctx := context.Background()
	var ps []*store.Person
	if err := db.LoadPeople(ctx, func(p *store.Person) error {
		if p.Health != -1 {
			t.Errorf("person %d: health %d before any was written, want -1", p.PID, p.Health)
		}
		ps = append(ps, p)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	ps[0].Status, ps[0].Health = sc.StatusCertified, 400                                               // person 1: certified for ten months
	ps[1].Status, ps[1].Health = sc.StatusCertified, 50                                                // person 2: certified for one
	ps[4].Health, ps[4].Unmoved = 900, true                                                            // not HealthMoved: not written
	ps[2].Health, ps[2].Unmoved, ps[2].HealthMoved, ps[2].Status = 700, true, true, sc.StatusCertified // health alone
	tx, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.PutStates([]*store.Person{ps[0], ps[1], ps[2], ps[4]}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	got := map[int64]int{}
	var status3 sc.Status
	if err := db.LoadPeople(ctx, func(p *store.Person) error {
		got[p.PID] = p.Health
		if p.PID == 3 {
			status3 = p.Status
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got[1] != 400 || got[2] != 50 || got[3] != 700 || got[5] != -1 || status3 != sc.StatusPending {
		t.Errorf("health read back %v (person 3 %s), want 1:400 2:50 3:700 with its status unwritten, and 5 unwritten (-1)", got, status3)
	}
	first := func(q store.WorkQuery) (int64, int) {
		q.Today, q.From, q.To = day, sc.NoDate, sc.NoDate
		rows, _, err := db.Work(ctx, q)
		if err != nil || len(rows) == 0 {
			t.Fatalf("%+v: %v %v", q, rows, err)
		}
		return rows[0].PID, rows[0].Health
	}
	if pid, h := first(store.WorkQuery{List: store.WorkVillage, Prefix: "371002001001"}); pid != 1 || h != 400 {
		t.Errorf("village of two certified: %d (health %d) first, want the frailer 1 before the period ending sooner", pid, h)
	}
	if pid, _ := first(store.WorkQuery{List: store.WorkVillage, Prefix: "371002001"}); pid != 4 {
		t.Errorf("town: %d first, want the suspended 4", pid)
	}
	if pid, _ := first(store.WorkQuery{List: store.WorkVillage, Prefix: "371002001", Frailest: true}); pid != 3 {
		t.Errorf("town, frailest first: %d first, want 3 (700)", pid)
	}
}

func TestRiskList(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) { testRiskList(t, dsn.Open(t)) })
	}
}

// testRiskList: open RISK flags, one per person (the latest), closed by a later
// certification, ordered by day then score, scoped by region, bounded by the flag's day,
// kept by the daily refresh and a rebuild alike, and moved at once by RefreshPerson.
func testRiskList(t *testing.T, db *store.DB) {
	ctx := context.Background()
	day := consoleFixture(t, db)
	feb := sc.MustDate("2025-02-03")
	risk := func(pid int64, d sc.Date, score string) store.AuditRow {
		return store.AuditRow{Kind: "decision", Day: d, PID: pid, PersonID: fmt.Sprintf("37000000000000000%d", pid), Action: "RISK",
			Evidence: "BANK:" + score, Detail: "score=" + score + ";p_dead=" + score + "1;reasons=in_person_gap_200d|age_88"}
	}
	tx, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Append([]store.AuditRow{
		risk(1, feb+5, "0.40"),
		{Kind: "decision", Day: feb + 30, PID: 1, PersonID: "370000000000000001", Action: "CERTIFIED", Method: "STRONG", Evidence: "HEA:7"},
		risk(4, feb, "0.90"),
		risk(2, day-2, "0.12"),
		risk(3, day-2, "0.50"),
		risk(4, day-30, "0.20"),
		risk(5, day-1, "0.30"),
		{Kind: "export", Day: day, PID: -1, Actor: "op", Action: "RISK"}, // not a decision
	}); err != nil {
		t.Fatal(err)
	}
	if err := tx.RefreshSummary(day); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	list := func(q store.WorkQuery) (string, int64) {
		t.Helper()
		q.List = store.WorkRisk
		if q.From == 0 && q.To == 0 {
			q.From, q.To = sc.NoDate, sc.NoDate
		}
		rows, total, err := db.Work(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var b []string
		for _, r := range rows {
			b = append(b, fmt.Sprintf("%d@%s/%.2f", r.PID, r.Flagged, r.Score))
			if !strings.Contains(r.RiskDetail, "reasons=in_person_gap_200d") || r.Name == "" {
				t.Errorf("row %+v", r)
			}
		}
		return strings.Join(b, " "), total
	}
	check := func(q store.WorkQuery, want string, total int64) {
		t.Helper()
		if got, n := list(q); got != want || n != total {
			t.Errorf("%+v: %q (%d), want %q (%d)", q, got, n, want, total)
		}
	}
	d := func(x sc.Date) string { return x.String() }
	all := fmt.Sprintf("5@%s/0.30 3@%s/0.50 2@%s/0.12 4@%s/0.20", d(day-1), d(day-2), d(day-2), d(day-30))
	check(store.WorkQuery{}, all, 4)
	check(store.WorkQuery{Prefix: "3710"}, fmt.Sprintf("3@%s/0.50 2@%s/0.12 4@%s/0.20", d(day-2), d(day-2), d(day-30)), 3)
	check(store.WorkQuery{Prefix: "371002001001"}, fmt.Sprintf("2@%s/0.12", d(day-2)), 1)
	check(store.WorkQuery{Prefix: "371002001002", Limit: 1, Offset: 1}, fmt.Sprintf("4@%s/0.20", d(day-30)), 2)
	check(store.WorkQuery{From: day - 5, To: day - 2}, fmt.Sprintf("3@%s/0.50 2@%s/0.12", d(day-2), d(day-2)), 2)
	check(store.WorkQuery{Prefix: "3711"}, "", 0)
	// 乙 (person 2) moves to the other village: the old village stops seeing the flag at
	// once, the new one sees it from the next refresh.
	p2, err := db.PersonInRegion(ctx, "", 2)
	if err != nil {
		t.Fatal(err)
	}
	p2.Rec.RegionCode = "371002001002"
	tx, _ = db.Begin(ctx)
	if err := tx.PutPeople([]*store.Person{p2}); err != nil {
		t.Fatal(err)
	}
	tx.Commit()
	check(store.WorkQuery{Prefix: "371002001001"}, "", 0)
	tx, _ = db.Begin(ctx)
	if err := tx.RefreshSummary(day); err != nil {
		t.Fatal(err)
	}
	tx.Commit()
	check(store.WorkQuery{Prefix: "371002001002"}, fmt.Sprintf("3@%s/0.50 2@%s/0.12 4@%s/0.20", d(day-2), d(day-2), d(day-30)), 3)
	p2.Rec.RegionCode = "371002001001"
	tx, _ = db.Begin(ctx)
	if err := tx.PutPeople([]*store.Person{p2}); err != nil {
		t.Fatal(err)
	}
	tx.Commit()
	// A rebuild reads the whole trail and finds the same.
	tx, _ = db.Begin(ctx)
	if err := tx.RebuildSummary(day); err != nil {
		t.Fatal(err)
	}
	tx.Commit()
	check(store.WorkQuery{}, all, 4)

	// A visit certifies 丙 (person 3, pending): RefreshPerson closes the flag and moves the
	// counts at once, as a rebuild would.
	nowRows := func() string {
		rows, err := db.SQL().Query(`SELECT region, parent, status, method, n FROM console_now ORDER BY 1, 3, 4`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var b strings.Builder
		for rows.Next() {
			var r, p string
			var s, m, n int64
			rows.Scan(&r, &p, &s, &m, &n)
			fmt.Fprintln(&b, r, p, s, m, n)
		}
		return b.String()
	}
	p3, err := db.PersonInRegion(ctx, "", 3)
	if err != nil {
		t.Fatal(err)
	}
	was := store.CountedOf(p3)
	tx, _ = db.Begin(ctx)
	moved := *p3
	moved.Status, moved.Method, moved.Until = sc.StatusCertified, sc.MethodCommunity, day.AddMonths(12)
	if err := tx.PutStates([]*store.Person{&moved}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Append([]store.AuditRow{{Kind: "decision", Day: day, PID: 3, PersonID: p3.Rec.PersonID, Action: "CERTIFIED", Method: "COMMUNITY", Evidence: "CMT:9"}}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	before := nowRows()
	if err := db.RefreshPerson(ctx, 3, was); err != nil {
		t.Fatal(err)
	}
	after := nowRows()
	if v, err := db.Region(ctx, "371002001002"); err != nil || v.ByStatus[sc.StatusPending] != 0 || v.Certified() != 1 {
		t.Errorf("village after the visit: %+v %v", v, err)
	}
	check(store.WorkQuery{Prefix: "371002001002"}, fmt.Sprintf("4@%s/0.20", d(day-30)), 1)
	tx, _ = db.Begin(ctx)
	if err := tx.RebuildSummary(day); err != nil {
		t.Fatal(err)
	}
	tx.Commit()
	if rebuilt := nowRows(); after != rebuilt || before == after {
		t.Errorf("snapshot moved by RefreshPerson:\n%s\nrebuilt:\n%s\nbefore:\n%s", after, rebuilt, before)
	}
	check(store.WorkQuery{Prefix: "371002001002"}, fmt.Sprintf("4@%s/0.20", d(day-30)), 1)
	// Nothing changed: RefreshPerson moves nothing.
	if err := db.RefreshPerson(ctx, 3, store.CountedOf(&moved)); err != nil || nowRows() != after {
		t.Errorf("a second refresh moved the counts: %v", err)
	}
}

func TestDetailField(t *testing.T) {
	d := "score=0.12;p_dead=0.118;reasons=a|b;health=0.07"
	if v, ok := store.DetailField(d, "reasons"); !ok || v != "a|b" {
		t.Errorf("reasons %q", v)
	}
	if _, ok := store.DetailField(d, "age"); ok {
		t.Error("a key not there")
	}
	if s := store.RiskScore(d); s != 0.12 {
		t.Errorf("score %v", s)
	}
}

func pays4(t *testing.T, db *store.DB) []store.Payment {
	t.Helper()
	pays, err := db.PersonPayments(context.Background(), 4)
	if err != nil || len(pays) == 0 {
		t.Fatalf("payments %v %v", pays, err)
	}
	return pays
}
