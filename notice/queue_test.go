package notice

import (
	"context"
	"testing"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/engine"
	"github.com/silentcert/silentcert/store"
)

// TestQueue drives the outbox as the service's decision hook does: a warning queued once
// however often the day runs, a death cancelling, a confirmation only after a reminder
// went out, and only once.
func TestQueue(t *testing.T) {
	eachDB(t, func(t *testing.T, _ string, db *store.DB) {
		ctx := context.Background()
		cfg := DefaultConfig()
		cfg.Confirm = true
		until := sc.MustDate("2025-03-31")
		warn := &engine.State{Status: sc.StatusWarning, Until: until, SuspendFrom: until.AddMonths(1) + 1}
		rec := &sc.Recipient{PersonID: "37100219400101001X", Name: "王秀英", Phone: "13800000001", AgentPhone: "13900000001"}
		queue := func(pid int64, st *engine.State, d engine.Decision) int {
			t.Helper()
			tx, err := db.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			n, err := Queue(tx, pid, rec, st, d, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			return n
		}
		day := until.AddMonths(-2)
		if n := queue(1, warn, engine.Decision{Day: day, Action: sc.ActWarning, Until: until}); n != 2 {
			t.Fatalf("warning queued %d, want 2", n)
		}
		if n := queue(1, warn, engine.Decision{Day: day, Action: sc.ActWarning, Until: until}); n != 0 {
			t.Fatalf("the day run again queued %d", n)
		}
		ns, _ := db.PersonNotices(ctx, 1)
		if ns[0].Deadline != sc.MustDate("2025-04-30") || ns[1].Template != "warning_agent" {
			t.Fatalf("%+v", ns)
		}
		dead := &engine.State{Status: sc.StatusTerminated, Until: until, SuspendFrom: warn.SuspendFrom}
		queue(1, dead, engine.Decision{Day: day + 3, Action: sc.ActTerminated})
		if got := statuses(t, db, 1); len(got) != 2 || got[0] != "cancelled" || got[1] != "cancelled" {
			t.Fatalf("after the death %v", got)
		}

		// Person 2: warned, the warning sent, then certified silently twice.
		queue(2, warn, engine.Decision{Day: day, Action: sc.ActWarning, Until: until})
		cert := &engine.State{Status: sc.StatusCertified, Until: until.AddMonths(12), SuspendFrom: until.AddMonths(13) + 1}
		strong := engine.Decision{Day: day + 5, Action: sc.ActCertified, Method: sc.MethodStrong, Until: cert.Until}
		if n := queue(2, cert, strong); n != 0 {
			t.Fatalf("confirmation queued %d before the warning went out", n)
		}
		tx, err := db.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.PutPeople([]*store.Person{{PID: 2, Rec: *rec, Status: sc.StatusWarning, NextCheck: sc.NoDate, State: []byte{}}}); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		g, c := &fakeGateway{}, &clock{}
		c.set(day, 9, 0)
		run(t, sender(db, g, c, nil), 2, 0)
		if n := queue(2, cert, engine.Decision{Day: day + 5, Action: sc.ActCertified, Method: sc.MethodFace, Until: cert.Until}); n != 0 {
			t.Fatalf("confirmation of a certification in person: %d", n)
		}
		if n := queue(2, cert, strong); n != 2 {
			t.Fatalf("confirmation queued %d, want 2", n)
		}
		cert.Until = cert.Until.AddMonths(1)
		strong.Day, strong.Until = strong.Day+1, cert.Until
		if n := queue(2, cert, strong); n != 0 {
			t.Fatalf("a second confirmation queued %d", n)
		}
		ns, _ = db.PersonNotices(ctx, 2)
		if len(ns) != 4 || ns[2].Kind != KindCertified || ns[2].Deadline != until.AddMonths(12) {
			t.Fatalf("%+v", ns)
		}
	})
}
