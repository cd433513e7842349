package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/auth"
	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
	"github.com/silentcert/silentcert/web"
)

// TestBusyStaffActions: while a batch's transaction holds the database's writers' turn
// (on PostgreSQL its advisory lock too), a staff action that must write — an export,
// whose audit row goes in before the file leaves, and a login — waits a moment, then is
// refused busy (503) in the reader's words, having done nothing: no file left, no row was
// written. The pages that only read answer meanwhile. Once the batch commits, the same
// export is sent, audited, and the trail verifies.
func TestBusyStaffActions(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			ctx := context.Background()
			c := newCity(t, dsn.Open(t))
			// The console again, waiting a moment for the turn rather than store.StaffWait.
			const wait = 100 * time.Millisecond
			clock := func() time.Time { return time.Date(2024, 5, 10, 9, 0, 0, 0, time.UTC) }
			a := auth.New(c.db, auth.Options{Now: clock, Hash: auth.HashParams{Time: 1, Memory: 64, Threads: 1}, WriteWait: wait})
			h, err := web.New(web.Options{DB: c.db, Auth: a, Ingest: web.FromService(c.svc), Recoveries: c.svc, Now: clock,
				Today: func() sc.Date { return today }, WriteWait: wait})
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(h)
			t.Cleanup(srv.Close)
			busy := &city{db: c.db, svc: c.svc, srv: srv}
			op := busy.client(t)
			op.c.Timeout = 20 * time.Second // a request that hangs behind the batch fails the test
			op.login("operator")
			exports := func() (n int) {
				t.Helper()
				if err := c.db.Reader().QueryRow(`SELECT count(*) FROM audit WHERE kind = 'export'`).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}

			batch, err := c.db.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer batch.Rollback()
			st, body := op.get("/work/suspended/export?format=csv")
			if st != http.StatusServiceUnavailable || strings.HasPrefix(body, "\ufeff") || !strings.Contains(body, "系统繁忙") ||
				!strings.Contains(body, "本次操作未执行") {
				t.Fatalf("an export during a batch: %d\n%s", st, body)
			}
			if st, body := op.get("/work/suspended"); st != http.StatusOK {
				t.Fatalf("a page during a batch: %d\n%s", st, body)
			}
			other := busy.client(t)
			other.c.Timeout = 20 * time.Second
			other.get("/login")
			if st, _, body := other.post("/login", url.Values{"csrf": {other.csrf}, "name": {"auditor"}, "password": {pw}}); st != http.StatusServiceUnavailable ||
				!strings.Contains(body, "系统繁忙") {
				t.Fatalf("a login during a batch: %d\n%s", st, body)
			}
			if n := exports(); n != 0 {
				t.Fatalf("%d export rows written during the batch", n)
			}

			if err := batch.Commit(); err != nil {
				t.Fatal(err)
			}
			if st, body := op.get("/work/suspended/export?format=csv"); st != http.StatusOK || !strings.HasPrefix(body, "\ufeff身份证号,") {
				t.Fatalf("the export after the batch: %d\n%s", st, body)
			}
			if n := exports(); n != 1 {
				t.Fatalf("%d export rows after the batch, want 1", n)
			}
			if _, err := c.db.VerifyAudit(ctx, func(p store.AuditProblem) { t.Errorf("audit: %+v", p) }); err != nil {
				t.Fatal(err)
			}
		})
	}
}
