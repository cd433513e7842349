package store_test

import (
	"context"
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
