package web_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/service"
	"github.com/silentcert/silentcert/store/storetest"
)

// TestPagesDoNotWaitForWriters: the dashboard, the recovery list and the person page
// answer while a batch or a day's run holds the service (a scale review: on a payroll
// day they waited 16-77 s for it), with the money to recover of the last commit, not the
// batch's half-applied.
func TestPagesDoNotWaitForWriters(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			var mu sync.Mutex
			var point string // the fault point to hold the writer at, once
			held, release := make(chan struct{}), make(chan struct{})
			var once sync.Once
			let := func() { once.Do(func() { close(release) }) }
			c := newCityOpt(t, dsn.Open(t), service.Options{Fault: func(p string, _ int) {
				mu.Lock()
				hold := p == point
				if hold {
					point = ""
				}
				mu.Unlock()
				if hold {
					close(held)
					<-release
				}
			}})
			t.Cleanup(let) // after the server's Close, which waits for a request held up
			ctx := context.Background()
			death := func(rid, id string) service.Batch {
				return service.Batch{Origin: "api", Source: "PSB", Actor: "test", Day: today, Files: []service.File{{Name: rid + ".csv",
					Body: strings.NewReader("record_id,source,type,person_id,event_date,reported_date\n" + rid + ",PSB,PSB.DEATH_DEREG," + id + ",2024-02-20,2024-05-10\n")}}}
			}
			if _, err := c.svc.Ingest(ctx, death("d1", zhang)); err != nil {
				t.Fatal(err)
			}
			zp, _ := c.db.PersonByID(ctx, zhang)
			lp, _ := c.db.PersonByID(ctx, li)
			op := c.client(t)
			op.login("operator")
			// A request that waited for the writer would wait until the test lets it go.
			op.c.Timeout = 30 * time.Second
			toRecover := regexp.MustCompile(`id="to-recover">[^<]*<`)
			type pages struct{ dashboard, list string }
			look := func(what string) pages {
				t.Helper()
				var ps pages
				for _, p := range []struct {
					path string
					out  *string
				}{{"/", &ps.dashboard}, {"/recoveries", &ps.list}, {fmt.Sprintf("/person/%d", zp.PID), nil}, {fmt.Sprintf("/person/%d", lp.PID), nil}} {
					st, body := op.get(p.path)
					if st != http.StatusOK {
						t.Fatalf("%s: %s: %d %s", what, p.path, st, body)
					}
					if p.out != nil {
						*p.out = body
					}
				}
				ps.dashboard = toRecover.FindString(ps.dashboard)
				return ps
			}
			before := look("before")
			if !strings.Contains(before.list, "张三") || strings.Contains(before.list, "李秀英") || before.dashboard == `id="to-recover">¥0.00<` {
				t.Fatalf("the recoveries after 张三's death: %s\n%s", before.dashboard, before.list)
			}

			// 李秀英's death, applied in memory, its commit held.
			mu.Lock()
			point = "commit"
			mu.Unlock()
			done := make(chan error, 1)
			go func() {
				_, err := c.svc.Ingest(ctx, death("d2", li))
				done <- err
			}()
			<-held
			if got := look("during a batch"); got.dashboard != before.dashboard || strings.Contains(got.list, "李秀英") || !strings.Contains(got.list, "张三") {
				t.Errorf("the pages during a batch show it: %s, want %s", got.dashboard, before.dashboard)
			}
			let()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			after := look("after the batch")
			if after.dashboard == before.dashboard || !strings.Contains(after.list, "李秀英") {
				t.Errorf("the pages after the batch do not show it: %s", after.dashboard)
			}

			// A day's run held after its first person.
			held, release, once = make(chan struct{}), make(chan struct{}), sync.Once{}
			mu.Lock()
			point = "run"
			mu.Unlock()
			go func() { done <- c.svc.RunDay(ctx, sc.MustDate("2024-05-11")) }()
			<-held
			if got := look("during a day's run"); got != after {
				t.Errorf("the pages during a day's run: %s, want %s", got.dashboard, after.dashboard)
			}
			let()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		})
	}
}
