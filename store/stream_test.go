package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
)

func TestWorkEach(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) { testWorkEach(t, dsn.Open(t)) })
	}
}

// testWorkEach: WorkEach hands over Work's rows in Work's order, after their number; the
// number and the rows are of one snapshot, a person put on the list between the two
// counted in neither; an error of the callbacks ends the walk.
func testWorkEach(t *testing.T, db *store.DB) {
	ctx := context.Background()
	day := consoleFixture(t, db)
	for _, q := range []store.WorkQuery{
		{List: store.WorkWarning, Today: day, Months: 3, From: sc.NoDate, To: sc.NoDate},
		{List: store.WorkPending, Today: day, From: sc.NoDate, To: sc.NoDate},
		{List: store.WorkUnassigned, Prefix: "3710", Today: day, From: sc.NoDate, To: sc.NoDate},
		{List: store.WorkVillage, Prefix: "371002001", Today: day, From: sc.NoDate, To: sc.NoDate},
		{List: store.WorkVillage, Prefix: "371002001", Today: day, From: sc.NoDate, To: sc.NoDate, Offset: 1, Limit: 2},
		{List: store.WorkVillage, Prefix: "371002001", Today: day, From: sc.NoDate, To: sc.NoDate, Offset: 9, Limit: 2},
		{List: store.WorkRisk, Today: day, From: sc.NoDate, To: sc.NoDate},
	} {
		want, _, err := db.Work(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var got, plain []store.WorkRow
		n := -1
		if err := db.WorkEach(ctx, q, func(k int) error { n = k; return nil }, func(r *store.WorkRow) error { got = append(got, *r); return nil }); err != nil {
			t.Fatal(err)
		}
		if err := db.WorkEach(ctx, q, nil, func(r *store.WorkRow) error { plain = append(plain, *r); return nil }); err != nil {
			t.Fatal(err)
		}
		if n != len(want) || !slices.Equal(got, want) || !slices.Equal(plain, want) {
			t.Errorf("%+v: count %d, rows %+v (without a count %+v), want %+v", q, n, got, plain, want)
		}
	}
	if err := db.WorkEach(ctx, store.WorkQuery{List: "nope", From: sc.NoDate, To: sc.NoDate}, nil, nil); sc.ErrorCode(err) != sc.ENotFound {
		t.Errorf("unknown list: %v", err)
	}

	// A person becomes pending after the count: the rows are the count's.
	pending := store.WorkQuery{List: store.WorkPending, Today: day, From: sc.NoDate, To: sc.NoDate}
	var rows []string
	n := -1
	err := db.WorkEach(ctx, pending, func(k int) error {
		n = k
		tx, err := db.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		if err := tx.PutPeople([]*store.Person{{PID: 6, Rec: sc.Recipient{PersonID: "370000000000000006", Name: "己", Sex: 1, BirthDate: 100,
			RegionCode: "371002001001", LastCertified: sc.NoDate}, Status: sc.StatusPending, Until: day - 1, NextCheck: sc.NoDate, Baselined: true, State: []byte{1}}}); err != nil {
			return err
		}
		return tx.Commit()
	}, func(r *store.WorkRow) error { rows = append(rows, r.PersonID); return nil })
	if err != nil || n != 1 || !slices.Equal(rows, []string{"370000000000000003"}) {
		t.Errorf("a person put on the list between the count and the rows: count %d, rows %v, %v", n, rows, err)
	}
	if all, _, _ := db.Work(ctx, pending); len(all) != 2 {
		t.Fatalf("the new person is not on the list: %+v", all)
	}

	// An error of either callback ends the walk and comes back.
	stop := errors.New("stop")
	if err := db.WorkEach(ctx, pending, func(int) error { return stop }, func(*store.WorkRow) error { t.Error("a row after the count's error"); return nil }); err != stop {
		t.Errorf("count's error: %v", err)
	}
	calls := 0
	if err := db.WorkEach(ctx, pending, nil, func(*store.WorkRow) error { calls++; return stop }); err != stop || calls != 1 {
		t.Errorf("each's error: %v after %d rows", err, calls)
	}
}

func TestTrailEach(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) { testTrailEach(t, dsn.Open(t)) })
	}
}

// testTrailEach: TrailEach hands over Trail's rows after their number, of one snapshot.
func testTrailEach(t *testing.T, db *store.DB) {
	ctx := context.Background()
	day := consoleFixture(t, db)
	appendRow := func(r store.AuditRow) error {
		tx, err := db.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		if err := tx.Append([]store.AuditRow{r}); err != nil {
			return err
		}
		return tx.Commit()
	}
	for _, r := range []store.AuditRow{{Kind: "visit", Day: day, PID: 4, PersonID: "370000000000000004", Actor: "v1", Action: "ALIVE"},
		{Kind: "export", Day: day, PID: -1, Actor: "op", Action: "pending"}} {
		if err := appendRow(r); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []store.TrailQuery{
		{From: sc.NoDate, To: sc.NoDate, Limit: 1000},
		{From: sc.NoDate, To: sc.NoDate, Limit: 2},
		{Kind: "visit", From: sc.NoDate, To: sc.NoDate},
		{Region: "371002001002", From: sc.NoDate, To: sc.NoDate},
		{Region: "371002001001", From: sc.NoDate, To: sc.NoDate},
	} {
		want, err := db.Trail(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var got []store.AuditRow
		n := -1
		if err := db.TrailEach(ctx, q, func(k int) error { n = k; return nil }, func(r *store.AuditRow) error { got = append(got, *r); return nil }); err != nil {
			t.Fatal(err)
		}
		if n != len(want) || len(got) != len(want) {
			t.Fatalf("%+v: count %d, %d rows, want %d", q, n, len(got), len(want))
		}
		for i := range want {
			if got[i].Seq != want[i].Seq || got[i].Detail != want[i].Detail || got[i].Actor != want[i].Actor {
				t.Errorf("%+v: row %d %+v, want %+v", q, i, got[i], want[i])
			}
		}
	}
	// A row written after the count (an export's own audit row) is in neither.
	q := store.TrailQuery{From: sc.NoDate, To: sc.NoDate, Limit: 1000}
	n, rows := -1, 0
	err := db.TrailEach(ctx, q, func(k int) error {
		n = k
		return appendRow(store.AuditRow{Kind: "export", Day: day, PID: -1, Actor: "op", Action: "audit"})
	}, func(*store.AuditRow) error { rows++; return nil })
	if all, _ := db.Trail(ctx, q); err != nil || n != rows || len(all) != rows+1 {
		t.Errorf("a row written between the count and the rows: count %d, %d rows (%d now), %v", n, rows, len(all), err)
	}
}
