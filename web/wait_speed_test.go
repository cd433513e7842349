package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/auth"
	"github.com/silentcert/silentcert/divisions"
	"github.com/silentcert/silentcert/service"
	"github.com/silentcert/silentcert/sim"
	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/web"
)

// TestRecoveriesWhileWriting measures the recovery list's server time while the service
// writes: SILENTCERT_WAIT_PEOPLE people of a simulated Weihai (seed 4, January to July
// 2024) replayed into SQLite through June (kept in SILENTCERT_WAIT_DIR and reused; each
// run works on a copy), then the payroll day 2024-07-01 run and July's records ingested as
// one batch, the list (/recoveries, the whole city) requested once the run has evaluated
// a third of the people, and once the batch has stored 1,000 records. It prints the
// list's time idle (p50 of 10), during each, and each writer's time, and asserts nothing
// about time (bench/recoveries.sh runs it).
func TestRecoveriesWhileWriting(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("SILENTCERT_WAIT_PEOPLE"))
	if n <= 0 {
		t.Skip("set SILENTCERT_WAIT_PEOPLE (bench/recoveries.sh)")
	}
	ctx := context.Background()
	dir := os.Getenv("SILENTCERT_WAIT_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	city, base := filepath.Join(dir, "city"), filepath.Join(dir, "base.db")
	var june, july []string
	list := func() {
		june, july = nil, nil
		err := filepath.WalkDir(filepath.Join(city, "records"), func(p string, d os.DirEntry, err error) error {
			switch {
			case err != nil || d.IsDir():
				return err
			case strings.HasPrefix(d.Name(), "2024-07."):
				july = append(july, p)
			default:
				june = append(june, p)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(base + ".ok"); err != nil {
		start := time.Now()
		if _, err := sim.Simulate(ctx, sim.Options{City: "3710", Recipients: n, From: sc.MustDate("2024-01-01"), To: sc.MustDate("2024-07-31"),
			Seed: 4, Out: city, Overwrite: true}); err != nil {
			t.Fatal(err)
		}
		list()
		os.Remove(base)
		db, err := store.Open(ctx, "sqlite:"+base)
		if err != nil {
			t.Fatal(err)
		}
		tbl, err := divisions.Embedded()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := service.Replay(ctx, db, service.ReplayOptions{Roster: filepath.Join(city, "roster.csv"), Records: june,
			From: sc.MustDate("2024-01-01"), To: sc.MustDate("2024-06-30"), SpillDir: dir,
			ResolveRegion: divisions.NewResolver(tbl, divisions.Options{City: "3710"}).RegionFunc(divisions.DefaultMinConfidence)}); err != nil {
			t.Fatal(err)
		}
		db.Close()
		os.WriteFile(base+".ok", nil, 0o644)
		fmt.Printf("city of %d built and replayed through June in %.0fs\n", n, time.Since(start).Seconds())
	}
	list()
	run := filepath.Join(t.TempDir(), "run.db")
	for _, sfx := range []string{"", "-wal"} {
		if b, err := os.ReadFile(base + sfx); err == nil {
			if err := os.WriteFile(run+sfx, b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	db, err := store.Open(ctx, "sqlite:"+run)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// The writer's progress: the fault hook's count at each point, and a signal when it
	// reaches a mark (it does not stop the writer).
	var mu sync.Mutex
	var point string
	var mark int
	var reached chan struct{}
	arm := func(p string, at int) chan struct{} {
		mu.Lock()
		defer mu.Unlock()
		point, mark, reached = p, at, make(chan struct{})
		return reached
	}
	var clock atomic.Int64
	clock.Store(time.Date(2024, 7, 1, 9, 0, 0, 0, time.UTC).Unix())
	start := time.Now()
	svc, err := service.Open(ctx, db, service.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now: func() time.Time { return time.Unix(clock.Load(), 0) },
		Fault: func(p string, c int) {
			mu.Lock()
			defer mu.Unlock()
			if p == point && c >= mark {
				point = ""
				close(reached)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("%d people loaded in %.1fs\n", svc.People(), time.Since(start).Seconds())
	a := auth.New(db, auth.Options{Hash: auth.HashParams{Time: 1, Memory: 64, Threads: 1}})
	if _, err := a.EnsureUser(ctx, "operator", pw, auth.RoleOperator, ""); err != nil {
		t.Fatal(err)
	}
	tok, _, err := a.Login(ctx, "operator", pw, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	h, err := web.New(web.Options{DB: db, Auth: a, Recoveries: svc, Today: func() sc.Date { return sc.MustDate("2024-07-01") }})
	if err != nil {
		t.Fatal(err)
	}
	get := func() float64 {
		req, _ := http.NewRequest("GET", "/recoveries?state=all", nil)
		req.AddCookie(&http.Cookie{Name: "sc_session", Value: tok})
		rec := &discard{h: http.Header{}}
		t0 := time.Now()
		h.ServeHTTP(rec, req)
		if rec.code != 0 && rec.code != http.StatusOK {
			t.Fatalf("/recoveries: %d", rec.code)
		}
		return float64(time.Since(t0).Microseconds()) / 1000
	}
	idle := func() float64 {
		var ms []float64
		for range 10 {
			ms = append(ms, get())
		}
		sort.Float64s(ms)
		return ms[len(ms)/2]
	}
	cases, err := svc.Recoveries(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("%d recovery cases; /recoveries idle: %.1f ms (p50 of 10)\n", len(cases), idle())
	during := func(what, p string, at int, write func() error) {
		reached := arm(p, at)
		done := make(chan error, 1)
		t0 := time.Now()
		go func() { done <- write() }()
		var ms float64
		var asked time.Duration
		select {
		case <-reached:
			asked = time.Since(t0)
			ms = get()
		case err := <-done:
			t.Fatalf("%s ended (%v) before the mark", what, err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		took := time.Since(t0)
		fmt.Printf("%s: %.1fs; /recoveries asked at %.1fs: %.1f ms; idle after: %.1f ms\n", what, took.Seconds(), asked.Seconds(), ms, idle())
	}
	during("payroll day 2024-07-01", "run", svc.People()/3, func() error { return svc.RunDay(ctx, sc.MustDate("2024-07-01")) })
	slices.Sort(july)
	var files []service.File
	for _, p := range july {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		files = append(files, service.File{Name: p, Body: f})
	}
	clock.Store(time.Date(2024, 7, 31, 9, 0, 0, 0, time.UTC).Unix())
	during(fmt.Sprintf("July's batch (%d files)", len(files)), "ingest", 1000, func() error {
		_, err := svc.Ingest(ctx, service.Batch{Origin: "file", Actor: "bench", Day: sc.MustDate("2024-07-31"), Files: files})
		return err
	})
}
