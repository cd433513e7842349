package web_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
	"github.com/silentcert/silentcert/web"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestExportsGolden pins every export, byte for byte, as each role gets it: the worklists
// (the operator's with every column, a village assistant's of their own village, IDs
// masked and no health), the fraud-risk list, the recovery cases and the audit trail, in
// CSV and .xlsx, with its headers. A name with a comma and a quote and an address a
// spreadsheet would read as a formula are written into the city first, so that CSV's
// quoting and safeCell are in the files. The files are the console's before exports were
// streamed (session 17): a change of a byte is a change of what the bureau's spreadsheets
// read. `go test ./web -run TestExportsGolden -update` rewrites them.
func TestExportsGolden(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) { testExportsGolden(t, newRiskCity(t, dsn.Open(t))) })
	}
}

func testExportsGolden(t *testing.T, c *city) {
	ctx := context.Background()
	if _, err := c.db.SQL().ExecContext(ctx, c.db.Rebind(`UPDATE people SET name = ?, hukou_address = ? WHERE person_id = ?`),
		`王"小",二`, `=HYPERLINK("http://evil.example"),村`, li); err != nil {
		t.Fatal(err)
	}
	op := c.client(t)
	op.login("operator")
	v2 := c.client(t)
	v2.login("v2")
	au := c.client(t)
	au.login("auditor")
	// The trail before the death's visit, whose record is named at random, up to the
	// city's day: the migrations' rows are dated by the wall clock, when they ran.
	golden(t, au, "auditor-trail", "/audit?to=2024-05-10")
	// A late death: months paid after it to recover.
	zp, _ := c.db.PersonByID(ctx, zhang)
	v1 := c.client(t)
	v1.login("v1")
	v1.get(fmt.Sprintf("/person/%d", zp.PID))
	if st, _, body := v1.post(fmt.Sprintf("/person/%d/visit", zp.PID), url.Values{"csrf": {v1.csrf}, "outcome": {"death"}, "date": {"2024-02-20"}}); st != http.StatusSeeOther {
		t.Fatalf("death visit: %d %s", st, body)
	}
	for _, e := range []struct {
		name string
		cl   *client
		path string
	}{
		{"operator-warning", op, "/work/warning/export?months=3"},
		{"operator-pending", op, "/work/pending/export"},
		{"operator-suspended-frailest", op, "/work/suspended/export?order=health"},
		{"operator-conflict", op, "/work/conflict/export"},
		{"operator-risk", op, "/work/risk/export"},
		{"operator-unassigned", op, "/work/unassigned/export"},
		{"v2-warning", v2, "/work/warning/export?months=3"},
		{"v2-risk", v2, "/work/risk/export"},
		{"operator-recoveries", op, "/recoveries?state=all"},
		{"auditor-exports", au, "/audit?kind=export"}, // the exports' own audit rows
	} {
		golden(t, e.cl, e.name, e.path)
	}
}

// golden compares the CSV and .xlsx exports of path, with their headers, with
// testdata/exports/NAME.csv and NAME.xlsx.
func golden(t *testing.T, cl *client, name, path string) {
	t.Helper()
	for _, format := range []string{"csv", "xlsx"} {
		sep := "&"
		if !strings.Contains(path, "?") {
			sep = "?"
		}
		res, err := cl.c.Get(cl.base + path + sep + "format=" + format)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s.%s: %d %s", name, format, res.StatusCode, body)
		}
		var got bytes.Buffer
		for _, k := range []string{"Content-Type", "Content-Disposition", "Cache-Control"} {
			fmt.Fprintf(&got, "%s: %s\n", k, res.Header.Get(k))
		}
		got.WriteString("\n")
		got.Write(body)
		file := filepath.Join("testdata", "exports", name+"."+format)
		if *update {
			if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(file, got.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Errorf("%s.%s differs from %s (%d bytes, want %d)", name, format, file, got.Len(), len(want))
		}
	}
}

// TestExportsRefuseWhatTheyCannotHold: a selection larger than an export holds is refused
// before its first byte, with a message, and leaves no export row; one that fits is
// whole. Before session 18 the file was cut at the bound and looked whole.
func TestExportsRefuseWhatTheyCannotHold(t *testing.T) {
	c := newRiskCity(t, storetest.Open(t, "sqlite:"+filepath.Join(t.TempDir(), "b.db")))
	op := c.client(t)
	op.login("operator")
	au := c.client(t)
	au.login("auditor")
	countRows := func(cl *client, path string) (int, int) {
		t.Helper()
		st, body := cl.get(path)
		return st, strings.Count(body, "\n") - 1 // the header's line
	}
	_, pending := countRows(op, "/work/warning/export?months=3&format=csv")
	_, logins := countRows(au, "/audit?kind=login&format=csv")
	if pending < 2 || logins < 2 {
		t.Fatalf("the city's lists: %d pending, %d logins; want a few of each", pending, logins)
	}
	exported := func() int {
		t.Helper()
		rows, err := c.db.Trail(context.Background(), store.TrailQuery{Kind: "export", From: sc.NoDate, To: sc.NoDate, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		return len(rows)
	}
	for _, bound := range []struct {
		work, trail int
		fits        bool
	}{{pending, logins, true}, {pending - 1, logins - 1, false}} {
		restore := web.SetExportBounds(bound.work, bound.trail)
		before := exported()
		for _, e := range []struct {
			cl   *client
			path string
			rows int
		}{{op, "/work/warning/export?months=3&format=csv", pending}, {au, "/audit?kind=login&format=csv", logins}, {op, "/work/warning/export?months=3&format=xlsx", -1}} {
			st, body := e.cl.get(e.path)
			switch {
			case bound.fits && st != http.StatusOK:
				t.Errorf("%s at a bound it fits: %d", e.path, st)
			case bound.fits && e.rows >= 0 && strings.Count(body, "\n")-1 != e.rows:
				t.Errorf("%s at a bound it fits: %d rows, want %d", e.path, strings.Count(body, "\n")-1, e.rows)
			case !bound.fits && (st != http.StatusBadRequest || !strings.Contains(body, "一次导出放不下")):
				t.Errorf("%s past its bound: %d, want 400 saying it cannot hold the selection", e.path, st)
			}
		}
		if n := exported() - before; bound.fits != (n == 3) || !bound.fits && n != 0 {
			t.Errorf("bound %+v: %d export rows written", bound, n)
		}
		restore()
	}
}
