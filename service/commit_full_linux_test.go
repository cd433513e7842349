package service

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/internal/fulldisk"
	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
)

// TestCommitOnFullDisk: on SQLite the disk fills as a batch commits (fulldisk, from the
// commit on: SQLite's write of the WAL fails). The service cannot know what was stored: it answers
// unavailable (the API's 503), writes nothing more, and a new service over the database
// (the restarted process) takes the batch sent again.
func TestCommitOnFullDisk(t *testing.T) {
	if !fulldisk.Child(t) {
		return
	}
	ctx := context.Background()
	dsn := "sqlite:" + t.TempDir() + "/full.db"
	var armed atomic.Bool
	restore := func() {}
	db := storetest.Open(t, dsn)
	s, err := Open(ctx, db, Options{Fault: func(point string, _ int) {
		if point == "commit" && armed.Load() {
			restore = fulldisk.Limit(t, 0)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ImportRoster(ctx, "../backtest/testdata/scenario/roster.csv", "", "test"); err != nil {
		t.Fatal(err)
	}
	batch := func() Batch {
		return Batch{Origin: "api", Source: "HEA", Actor: "t", Files: []File{{Name: "b.csv", Body: strings.NewReader(
			"record_id,source,type,person_id,name,birth_date,event_date,reported_date,region_code,detail\n" +
				"s1,HEA,HEA.CHECKUP,371002194003150019,张三,1940-03-15,2024-02-01,2024-02-02,,\n")}}}
	}
	armed.Store(true)
	_, err = s.Ingest(ctx, batch())
	armed.Store(false)
	restore()
	if !errors.Is(err, store.ErrCommitOutcome) || sc.ErrorCode(err) != sc.EUnavailable {
		t.Fatalf("a batch whose commit met a full disk: %v (code %s)", err, sc.ErrorCode(err))
	}
	if s.Broken() == nil {
		t.Fatal("the service did not stop writing")
	}
	if _, err := s.Ingest(ctx, batch()); sc.ErrorCode(err) != sc.EUnavailable || !strings.Contains(err.Error(), "restart") {
		t.Fatalf("a batch after it: %v (code %s)", err, sc.ErrorCode(err))
	}
	db.Close() // the process ends
	s2, err := Open(ctx, storetest.Open(t, dsn), Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s2.Ingest(ctx, batch())
	if err != nil || res.Report.Applied+res.Report.Duplicate != 1 {
		t.Fatalf("the batch sent again after the restart: %+v %v", res, err)
	}
	t.Logf("after the restart: applied %d, duplicate %d", res.Report.Applied, res.Report.Duplicate)
}
