package service_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/silentcert/silentcert/idcard"
	"github.com/silentcert/silentcert/store/storetest"
)

// TestRosterWarningsStored: ingest --roster printed 20 warnings and "… and 21 more
// warnings (the console's page of batch 1)", but the roster's batch report kept only
// their count: the page had none of them. It lists them now as a record batch's report
// does (warnings, warnings_total), the phones dropped still masked.
func TestRosterWarningsStored(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t, "sqlite:"+t.TempDir()+"/t.db")
	s := newCity(t, db)
	var b strings.Builder
	b.WriteString(rosterCols)
	const n = 41
	for i := range n {
		id17 := fmt.Sprintf("37100219400101%03d", i+100)
		id := id17 + string(idcard.CheckChar([]byte(id17)))
		// 23812345678: 11 digits, not a mobile number (it starts with 2): dropped.
		fmt.Fprintf(&b, "%s,某%d,,,某街1号,371002001001,23812345678,,RES_PENSION,150.00,2000-04,,,2024-01-10\n", id, i)
	}
	path := filepath.Join(t.TempDir(), "roster.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := s.ImportRoster(ctx, path, "", "test")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Roster.Warnings) != n {
		t.Fatalf("%d warnings read, want %d: %v", len(res.Roster.Warnings), n, res.Roster.Warnings)
	}
	bt, err := db.Batch(ctx, res.BatchID)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(bt.Report, "23812345678") || strings.Contains(bt.Report, "2381234") {
		t.Errorf("the report shows a phone dropped: %s", bt.Report)
	}
	var rep struct {
		Warnings []struct {
			File    string `json:"file"`
			Line    int64  `json:"line"`
			Field   string `json:"field"`
			Message string `json:"message"`
		} `json:"warnings"`
		Total int `json:"warnings_total"`
	}
	if err := json.Unmarshal([]byte(bt.Report), &rep); err != nil {
		t.Fatalf("the roster's report: %v: %s", err, bt.Report)
	}
	if rep.Total != n || len(rep.Warnings) != n {
		t.Fatalf("the roster's report lists %d warnings of %d, want %d of %d: %s", len(rep.Warnings), rep.Total, n, n, bt.Report)
	}
	if w := rep.Warnings[n-1]; w.File != path || w.Line != n+1 || w.Field != "phone" || !strings.Contains(w.Message, "dropped") {
		t.Errorf("the last warning listed: %+v", w)
	}
}
