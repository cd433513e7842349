package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/silentcert/silentcert/auth"
	"github.com/silentcert/silentcert/internal/fulldisk"
	"github.com/silentcert/silentcert/store"
)

// TestServeExitsOnUnknownCommit: the disk fills for a moment as serve commits a batch
// (SQLite; fulldisk, from the commit on: the WAL's write fails). The batch, and every
// write after it, is answered 503 with what to do, and serve exits with an error for its
// supervisor to start it again, which reads the truth from the database and takes the
// batch sent again. Before, serve stayed up refusing every write with 500 "send it again"
// until a person restarted it.
func TestServeExitsOnUnknownCommit(t *testing.T) {
	if !fulldisk.Child(t) {
		return
	}
	_, dsn := rosterDB(t)
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	secret, _, err := auth.New(db, auth.Options{}).CreateAPIKey(context.Background(), "admin", "HEA", "hospital", nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	var armed, inBatch atomic.Bool
	restore := make(chan func(), 1)
	serveFault = func(point string, _ int) {
		// The batch's own commit: the next after its rows are applied (it holds the
		// service's lock meanwhile), not a daily run's or another that came first.
		if point == "ingest" && armed.CompareAndSwap(true, false) {
			inBatch.Store(true)
		}
		if point == "commit" && inBatch.CompareAndSwap(true, false) {
			r, err := fulldisk.Set(0) // on the handler's goroutine: no t.Fatal
			if err != nil {
				r = func() {}
			}
			restore <- r
		}
	}
	defer func() { serveFault = nil }()
	// serve starts serve and returns its address and its exit.
	serve := func() (string, <-chan int, *syncBuffer) {
		out, errOut := &syncBuffer{}, &syncBuffer{}
		exit := make(chan int, 1)
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		go func() {
			exit <- run(ctx, []string{"serve", "--db", dsn, "--addr", "127.0.0.1:0"}, out, errOut)
		}()
		for i := 0; i < 400; i++ {
			if _, rest, ok := strings.Cut(out.String(), " on http://"); ok {
				return "http://" + strings.TrimSuffix(strings.Fields(rest)[0], "/"), exit, errOut
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("serve did not announce itself: %s %s", out.String(), errOut.String())
		return "", nil, nil
	}
	post := func(base string) (int, string, http.Header) {
		req, _ := http.NewRequest("POST", base+"/api/v1/batches", strings.NewReader(
			"record_id,source,type,person_id,name,birth_date,event_date,reported_date,region_code,detail\n"+
				"s1,HEA,HEA.CHECKUP,371002194003150019,张三,1940-03-15,2024-02-01,2024-02-02,,\n"))
		req.Header.Set("Content-Type", "text/csv")
		req.Header.Set("Authorization", "Bearer "+secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	base, exit, errOut := serve()
	armed.Store(true)
	code, body, h := post(base)
	select {
	case r := <-restore:
		r() // the disk has room again
	default:
		t.Fatal("no commit met the full disk")
	}
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "whether the batch was stored is unknown") || h.Get("Retry-After") == "" {
		t.Fatalf("the batch whose commit failed: %d %s %v", code, body, h)
	}
	if code, body, _ := post(base); code != http.StatusServiceUnavailable || !strings.Contains(body, "nothing of the batch was applied") {
		t.Fatalf("a batch after it: %d %s", code, body)
	}
	if resp, err := http.Get(base + "/readyz"); err != nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("readyz: %v %v", resp, err)
	}
	select {
	case c := <-exit:
		if c == 0 || !strings.Contains(errOut.String(), "outcome is unknown") || !strings.Contains(errOut.String(), "supervisor") {
			t.Fatalf("serve exited %d: %s", c, errOut.String())
		}
	case <-time.After(time.Minute):
		t.Fatalf("serve still runs a minute after a commit of unknown outcome: %s", errOut.String())
	}
	// Its supervisor starts it again: the batch sent again is taken.
	base, _, _ = serve()
	code, body, _ = post(base)
	var res struct{ Report map[string]int }
	json.Unmarshal([]byte(body), &res)
	if code != http.StatusCreated || res.Report["applied"]+res.Report["duplicate"] != 1 {
		t.Fatalf("the batch sent again after the restart: %d %s", code, body)
	}
}
