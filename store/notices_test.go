package store_test

import (
	"context"
	"testing"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
)

// The notices outbox, in the conformance style: every test on SQLite and PostgreSQL.

func TestNotices(t *testing.T) {
	for _, tc := range []struct {
		name string
		test func(t *testing.T, db *store.DB)
	}{
		{"enqueue is idempotent", testNoticeEnqueue},
		{"claim, mark and count", testNoticeClaim},
		{"cancel on death", testNoticeCancel},
		{"stale claims released", testNoticeRelease},
	} {
		for _, dsn := range storetest.DSNs(t) {
			t.Run(tc.name+"/"+dsn.Name, func(t *testing.T) { tc.test(t, dsn.Open(t)) })
		}
	}
}

func notice(pid int64, phone, kind string, deadline sc.Date, next int64) store.Notice {
	return store.Notice{PID: pid, PersonID: "P" + phone, Phone: phone, Kind: kind, Deadline: deadline,
		Template: kind, Text: "请于" + deadline.String() + "前认证", Created: deadline - 30, NextAttempt: next}
}

func enqueue(t *testing.T, db *store.DB, ns ...store.Notice) int {
	t.Helper()
	tx, err := db.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	k, err := tx.EnqueueNotices(ns)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return k
}

func putPerson(t *testing.T, db *store.DB, pid int64, st sc.Status) {
	t.Helper()
	tx, err := db.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	p := &store.Person{PID: pid, Rec: sc.Recipient{PersonID: "ID" + string(rune('A'+pid))}, Status: st,
		NextCheck: sc.NoDate, State: []byte{}}
	if err := tx.PutPeople([]*store.Person{p}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

func testNoticeEnqueue(t *testing.T, db *store.DB) {
	ctx := context.Background()
	a := notice(1, "13800000001", "warning", 20000, 100)
	b := notice(1, "13900000002", "warning", 20000, 100) // the agent's phone
	if k := enqueue(t, db, a, b, a); k != 2 {
		t.Fatalf("first enqueue added %d, want 2 (the repeat in the same batch dropped)", k)
	}
	a.Text = "changed"
	if k := enqueue(t, db, a, b); k != 0 {
		t.Fatalf("second enqueue added %d, want 0", k)
	}
	if k := enqueue(t, db, notice(1, "13800000001", "warning", 20031, 100)); k != 1 {
		t.Fatalf("a new deadline added %d, want 1", k)
	}
	// A rolled-back enqueue leaves nothing.
	tx, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.EnqueueNotices([]store.Notice{notice(2, "13700000003", "pending", 20000, 100)}); err != nil {
		t.Fatal(err)
	}
	tx.Rollback()
	ns, err := db.PersonNotices(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(ns) != 3 || ns[0].Text == "changed" || ns[0].Status != store.NoticePending || ns[0].Deadline != 20000 ||
		ns[0].Created != 20000-30 || ns[1].Phone != "13900000002" || ns[2].Deadline != 20031 {
		t.Fatalf("notices %+v", ns)
	}
	if ns, _ := db.PersonNotices(ctx, 2); len(ns) != 0 {
		t.Fatalf("rolled back notice kept: %+v", ns)
	}
}

func testNoticeClaim(t *testing.T, db *store.DB) {
	ctx := context.Background()
	putPerson(t, db, 1, sc.StatusWarning)
	enqueue(t, db, notice(1, "13800000001", "warning", 20000, 100), notice(1, "13800000001", "pending", 20000, 200),
		notice(9, "13800000009", "warning", 20000, 150))
	got, err := db.ClaimNotices(ctx, 99, 60, 10)
	if err != nil || len(got) != 0 {
		t.Fatalf("nothing is due at 99: %+v %v", got, err)
	}
	got, err = db.ClaimNotices(ctx, 160, 60, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].NextAttempt != 100 || got[1].PID != 9 || got[0].Status != store.NoticeSending ||
		got[0].Attempts != 1 || got[0].LeaseUntil != 220 {
		t.Fatalf("claimed %+v", got)
	}
	if !got[0].PersonKnown || got[0].PersonStatus != sc.StatusWarning || got[1].PersonKnown {
		t.Fatalf("person status %+v", got)
	}
	// Claimed notices are not claimed again; the limit holds.
	if again, err := db.ClaimNotices(ctx, 1000, 60, 10); err != nil || len(again) != 1 || again[0].Kind != "pending" {
		t.Fatalf("second claim %+v %v", again, err)
	} else if err := db.MarkNoticeRetry(ctx, again[0].ID, 5000, "HTTP 503"); err != nil {
		t.Fatal(err)
	}
	if n, err := db.CountNoticesSent(ctx, 0, 1<<40); err != nil || n != 2 {
		t.Fatalf("in flight counted %d, %v; want 2", n, err)
	}
	if err := db.MarkNoticeSent(ctx, got[0].ID, 170, "gw-1"); err != nil {
		t.Fatal(err)
	}
	if err := db.MarkNoticeFailed(ctx, got[1].ID, "HTTP 400"); err != nil {
		t.Fatal(err)
	}
	if err := db.MarkNoticeSent(ctx, got[0].ID, 171, "gw-2"); sc.ErrorCode(err) != sc.EConflict {
		t.Fatalf("marking a sent notice again: %v", err)
	}
	for _, c := range []struct {
		from, to int64
		want     int
	}{{0, 170, 0}, {170, 171, 1}, {171, 1000, 0}} {
		if n, err := db.CountNoticesSent(ctx, c.from, c.to); err != nil || n != c.want {
			t.Fatalf("sent in [%d,%d): %d %v, want %d", c.from, c.to, n, err, c.want)
		}
	}
	ns, _ := db.PersonNotices(ctx, 1)
	if ns[0].Status != store.NoticeSent || ns[0].SentAt != 170 || ns[0].GatewayID != "gw-1" ||
		ns[1].Status != store.NoticePending || ns[1].NextAttempt != 5000 || ns[1].LastError != "HTTP 503" || ns[1].Attempts != 1 {
		t.Fatalf("after marks %+v", ns)
	}
	if again, err := db.ClaimNotices(ctx, 5000, 60, 10); err != nil || len(again) != 1 || again[0].Attempts != 2 {
		t.Fatalf("retry claim %+v %v", again, err)
	}
	counts, err := db.NoticeCounts(ctx)
	if err != nil || counts[store.NoticeSent] != 1 || counts[store.NoticeFailed] != 1 || counts[store.NoticeSending] != 1 {
		t.Fatalf("counts %v %v", counts, err)
	}
}

func testNoticeCancel(t *testing.T, db *store.DB) {
	ctx := context.Background()
	enqueue(t, db, notice(1, "13800000001", "warning", 20000, 100), notice(1, "13900000002", "warning", 20000, 100),
		notice(1, "13800000001", "pending", 20000, 100), notice(2, "13700000003", "warning", 20000, 100))
	if got, err := db.ClaimNotices(ctx, 100, 60, 1); err != nil || len(got) != 1 {
		t.Fatal(got, err)
	} else if err := db.MarkNoticeSent(ctx, got[0].ID, 100, "x"); err != nil {
		t.Fatal(err)
	}
	tx, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	k, err := tx.CancelNotices(1, "death accepted")
	if err != nil || k != 2 {
		t.Fatalf("cancelled %d %v, want the two pending", k, err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	tx, err = db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		pid          int64
		kind, status string
	}{{1, "warning", "sent"}, {2, "warning", "pending"}, {3, "", ""}} {
		if k, s, err := tx.LastNotice(c.pid); err != nil || k != c.kind || s != c.status {
			t.Errorf("last notice of %d: %q %q %v", c.pid, k, s, err)
		}
	}
	tx.Rollback()
	got, err := db.ClaimNotices(ctx, 1000, 60, 10)
	if err != nil || len(got) != 1 || got[0].PID != 2 {
		t.Fatalf("after cancel claimed %+v %v", got, err)
	}
	ns, _ := db.PersonNotices(ctx, 1)
	if ns[0].Status != store.NoticeSent || ns[1].Status != store.NoticeCancelled || ns[1].LastError != "death accepted" ||
		ns[2].Status != store.NoticeCancelled {
		t.Fatalf("after cancel %+v", ns)
	}
}

func testNoticeRelease(t *testing.T, db *store.DB) {
	ctx := context.Background()
	enqueue(t, db, notice(1, "13800000001", "warning", 20000, 100), notice(2, "13800000002", "warning", 20000, 100))
	got, err := db.ClaimNotices(ctx, 100, 60, 1)
	if err != nil || len(got) != 1 {
		t.Fatal(got, err)
	}
	// The sender "crashes". While the lease holds nothing is released.
	if k, err := db.ReleaseNotices(ctx, 160, false); err != nil || k != 0 {
		t.Fatalf("released %d within the lease, %v", k, err)
	}
	if k, err := db.ReleaseNotices(ctx, 161, false); err != nil || k != 1 {
		t.Fatalf("released %d after the lease, %v", k, err)
	}
	if err := db.MarkNoticeSent(ctx, got[0].ID, 170, "late"); sc.ErrorCode(err) != sc.EConflict {
		t.Fatalf("a late mark after release: %v", err)
	}
	ns, _ := db.PersonNotices(ctx, got[0].PID)
	if ns[0].Status != store.NoticeFailed || ns[0].SentAt != 0 {
		t.Fatalf("at-most-once release %+v", ns[0])
	}
	// With resend, it goes back to the queue, due at once.
	got, err = db.ClaimNotices(ctx, 200, 60, 1)
	if err != nil || len(got) != 1 {
		t.Fatal(got, err)
	}
	if k, err := db.ReleaseNotices(ctx, 300, true); err != nil || k != 1 {
		t.Fatalf("released %d, %v", k, err)
	}
	again, err := db.ClaimNotices(ctx, 300, 60, 1)
	if err != nil || len(again) != 1 || again[0].ID != got[0].ID || again[0].Attempts != 2 {
		t.Fatalf("resend claim %+v %v", again, err)
	}
}
