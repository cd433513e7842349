package service

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/store/storetest"
)

// TestRowsLetGo: once a batch's records are built to be stored, the rows read are let go
// before the engine's work: a Row is a few hundred bytes and a large batch holds one a
// record; kept to the end of the batch they were a third of its memory.
func TestRowsLetGo(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.DSNs(t)[0]
	var freed atomic.Bool
	checked := false
	s, err := Open(ctx, dsn.Open(t), Options{Fault: func(point string, n int) {
		if point != "ingest" || n != 1 {
			return
		}
		// Applying the first record: the rows' block is garbage by now.
		checked = true
		for i := 0; i < 100 && !freed.Load(); i++ {
			runtime.GC()
			runtime.Gosched()
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ImportRoster(ctx, "../backtest/testdata/scenario/roster.csv", "", "test"); err != nil {
		t.Fatal(err)
	}
	typ, _ := s.cat.Lookup("TRN.TRANSIT")
	rows := make([]Row, 100)
	file := "b.csv"
	for i := range rows {
		rows[i] = rowOf(&sc.Record{RecordID: fmt.Sprint("r", i), Source: "TRN", Type: typ, PersonID: "371002194003150019", Name: "张三",
			BirthDate: sc.NoDate, EventDate: sc.MustDate("2024-02-01"), ReportedDate: sc.MustDate("2024-02-02"), RawDetail: "count=1"},
			&file, int64(i+2))
	}
	runtime.SetFinalizer(&rows[0], func(*Row) { freed.Store(true) })
	res := &Result{}
	if err := s.applyParts(ctx, Batch{Origin: "api", Actor: "test", Day: sc.MustDate("2024-03-01")}, [][]Row{rows}, res, nil); err != nil {
		t.Fatal(err)
	}
	if res.Report.Applied != 100 || !checked {
		t.Fatalf("applied %d (checked %v)", res.Report.Applied, checked)
	}
	if !freed.Load() {
		t.Error("the rows read were kept while the batch's records were applied")
	}
}
