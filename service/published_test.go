package service_test

import (
	"context"
	"reflect"
	"sync"
	"testing"
	"time"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/service"
	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
)

// holder holds a service's writer at a fault point until the test lets it go, so that a
// read can be made while a batch or a day's run is half-way (its people changed in
// memory, not committed).
type holder struct {
	mu      sync.Mutex
	point   string        // the point to hold at ("" none), once
	held    chan struct{} // closed when the writer is held
	release chan struct{} // closed by the test to let it go
}

func (h *holder) fault(point string, _ int) {
	h.mu.Lock()
	if point != h.point {
		h.mu.Unlock()
		return
	}
	h.point = ""
	held, release := h.held, h.release
	h.mu.Unlock()
	close(held)
	<-release
}

// hold arms h at point; release lets the writer go, and is called when the test ends,
// whatever happened.
func (h *holder) hold(t *testing.T, point string) (held chan struct{}, release func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.point, h.held, h.release = point, make(chan struct{}), make(chan struct{})
	var once sync.Once
	let := h.release
	release = func() { once.Do(func() { close(let) }) }
	t.Cleanup(release)
	return h.held, release
}

// within returns what read returns, failing the test when read has not returned in half
// a minute: the writer it would wait for is held until the test lets it go, so a read
// that takes the writer's lock waits for ever (a guard against a hang, not a timing).
func within[T any](t *testing.T, what string, read func() (T, error)) T {
	t.Helper()
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		v, err := read()
		ch <- result{v, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatalf("%s: %v", what, r.err)
		}
		return r.v
	case <-time.After(30 * time.Second):
		t.Fatalf("%s waited for the batch or day being written", what)
	}
	panic("unreachable")
}

// TestRecoveriesDoNotWaitForWriters: the money to recover (the console's recovery list,
// the dashboard's total, the person page) is read while a batch or a day's run holds the
// service, without waiting for it (a scale review: the pages waited 16-77 s on a payroll
// day), and shows what the last commit left: neither the batch half-applied in memory,
// nor one that fails and is rolled back.
func TestRecoveriesDoNotWaitForWriters(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) { testRecoveriesDoNotWait(t, dsn.Open(t)) })
	}
}

func testRecoveriesDoNotWait(t *testing.T, db *store.DB) {
	ctx := context.Background()
	h := &holder{}
	s, err := service.Open(ctx, db, service.Options{Fault: h.fault,
		Now: func() time.Time { return time.Date(2024, 6, 1, 9, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ImportRoster(ctx, "../backtest/testdata/scenario/roster.csv", "", "test"); err != nil {
		t.Fatal(err)
	}
	for d := sc.MustDate("2024-01-01"); d <= sc.MustDate("2024-06-01"); d++ {
		if err := s.RunDay(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	pidOf := func(id string) int64 {
		p, err := db.PersonByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return p.PID
	}
	const zhang, li, wang = "371002194003150019", "371002193802100021", "371002195005200045"
	death := func(rid, id, date string) service.Batch {
		b := csvBatch("PSB", header+rid+",PSB,PSB.DEATH_DEREG,"+id+",,,"+date+",2024-06-01,,\n")
		b.Day = sc.MustDate("2024-06-01")
		return b
	}
	if _, err := s.Ingest(ctx, death("d1", zhang, "2024-02-20")); err != nil {
		t.Fatal(err)
	}
	type reads struct{ all, region, li, zhang []service.Recovery }
	read := func(what string) reads {
		t.Helper()
		return reads{
			all:    within(t, what+": Recoveries", func() ([]service.Recovery, error) { return s.Recoveries(ctx, "") }),
			region: within(t, what+": Recoveries of 李秀英's village", func() ([]service.Recovery, error) { return s.Recoveries(ctx, "371002001002") }),
			li:     within(t, what+": RecoveriesOf 李秀英", func() ([]service.Recovery, error) { return s.RecoveriesOf(ctx, pidOf(li)) }),
			zhang:  within(t, what+": RecoveriesOf 张三", func() ([]service.Recovery, error) { return s.RecoveriesOf(ctx, pidOf(zhang)) }),
		}
	}
	before := read("before")
	if len(before.all) != 2 || before.all[0].PersonID != zhang || len(before.region) != 0 || len(before.li) != 0 ||
		!reflect.DeepEqual(before.zhang, before.all) {
		t.Fatalf("张三's cases after his late death: %+v", before)
	}

	// A batch held just before its commit: 李秀英's death is applied in memory.
	held, release := h.hold(t, "commit")
	done := make(chan error, 1)
	go func() {
		_, err := s.Ingest(ctx, death("d2", li, "2024-03-10"))
		done <- err
	}()
	<-held
	if got := read("during a batch"); !reflect.DeepEqual(got, before) {
		t.Errorf("read during a batch: %+v\nwant the last commit's: %+v", got, before)
	}
	release()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	after := read("after the batch")
	if len(after.all) != 3 || len(after.li) != 1 || after.li[0].PersonID != li || !reflect.DeepEqual(after.region, after.li) ||
		!reflect.DeepEqual(after.zhang, before.zhang) {
		t.Fatalf("the cases after 李秀英's death: %+v", after)
	}

	// A day's run held half-way: the payroll of 2024-07-01 (the longest a city's is held).
	for d := sc.MustDate("2024-06-02"); d <= sc.MustDate("2024-06-30"); d++ {
		if err := s.RunDay(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	after = read("before the payroll")
	held, release = h.hold(t, "run")
	go func() { done <- s.RunDay(ctx, sc.MustDate("2024-07-01")) }()
	<-held
	if got := read("during a payroll day"); !reflect.DeepEqual(got, after) {
		t.Errorf("read during a payroll day: %+v\nwant the last commit's: %+v", got, after)
	}
	release()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	after = read("after the payroll")

	// A batch that fails at its commit (its client hung up): held first, read, then rolled
	// back; 王芳's death is never shown.
	held, release = h.hold(t, "commit")
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		_, err := s.Ingest(bctx, death("d3", wang, "2024-03-10"))
		done <- err
	}()
	<-held
	if got := read("during a batch that fails"); !reflect.DeepEqual(got, after) {
		t.Errorf("read during a batch that fails: %+v\nwant the last commit's: %+v", got, after)
	}
	cancel()
	release()
	if err := <-done; err == nil {
		t.Fatal("the batch cancelled before its commit was stored")
	}
	if got := read("after a failed batch"); !reflect.DeepEqual(got, after) {
		t.Errorf("read after a failed batch: %+v\nwant the one before it: %+v", got, after)
	}
	if got := within(t, "RecoveriesOf 王芳", func() ([]service.Recovery, error) { return s.RecoveriesOf(ctx, pidOf(wang)) }); len(got) != 0 {
		t.Errorf("王芳's cases after her death's batch failed: %+v", got)
	}
	// The same batch sent again goes in, and shows.
	if _, err := s.Ingest(ctx, death("d3", wang, "2024-03-10")); err != nil {
		t.Fatal(err)
	}
	if got := within(t, "RecoveriesOf 王芳", func() ([]service.Recovery, error) { return s.RecoveriesOf(ctx, pidOf(wang)) }); len(got) == 0 {
		t.Error("王芳's death sent again shows no case")
	}
}
