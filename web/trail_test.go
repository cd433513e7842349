package web_test

import (
	"context"
	"strings"
	"testing"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
)

// TestTrailTimes: the audit trail's times read in one zone, the console's (UTC+8), on
// the page and in the CSV, though the console and the accounts store them in UTC and the
// service with the agency's offset; a time that is not RFC 3339 is shown as stored, and
// the stored rows and their chain are as they were.
func TestTrailTimes(t *testing.T) {
	c := newCity(t, storetest.DSNs(t)[0].Open(t))
	ctx := context.Background()
	tx, err := c.db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Append([]store.AuditRow{{Kind: "note", Day: today, At: "yesterday noon", Actor: "system", PID: -1, Action: "x"}}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	au := c.client(t)
	au.login("auditor")
	// The clock is 09:00 UTC: the login is stored so, the roster import at 17:00+08:00.
	stored := map[string]string{"login": "2024-05-10T09:00:00Z", "roster": "2024-05-10T17:00:00+08:00", "note": "yesterday noon"}
	shown := map[string]string{"login": "2024-05-10 17:00:00", "roster": "2024-05-10 17:00:00", "note": "yesterday noon"}
	for kind, at := range stored {
		rows, err := c.db.Trail(ctx, store.TrailQuery{Kind: kind, From: sc.NoDate, To: sc.NoDate})
		if err != nil || len(rows) == 0 || rows[0].At != at {
			t.Fatalf("the stored %s rows: %+v %v", kind, rows, err)
		}
		_, page := au.get("/audit?kind=" + kind)
		if !strings.Contains(page, `<td class="nowrap">`+shown[kind]+`</td>`) || (kind != "note" && strings.Contains(page, at)) {
			t.Errorf("the %s row's time on the page: want %s, not %s", kind, shown[kind], at)
		}
		_, csv := au.get("/audit?format=csv&kind=" + kind)
		if !strings.Contains(csv, ","+shown[kind]+","+kind+",") || (kind != "note" && strings.Contains(csv, at)) {
			t.Errorf("the %s row's time in the CSV: want %s, not %s\n%s", kind, shown[kind], at, csv)
		}
	}
	if _, err := c.db.VerifyAudit(ctx, func(p store.AuditProblem) { t.Errorf("audit verify: %+v", p) }); err != nil {
		t.Fatal(err)
	}
}
