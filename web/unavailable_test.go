package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/auth"
	"github.com/silentcert/silentcert/store/storetest"
	"github.com/silentcert/silentcert/web"
)

// restarting is ingestion as the service answers once a commit's outcome was unknown:
// it writes nothing until its process is restarted (serve exits for its supervisor).
type restarting struct{}

func (restarting) Ingest(context.Context, web.Submission) (*web.Receipt, error) {
	return nil, sc.Errorf(sc.EUnavailable, "%s: the service stopped writing after a commit of unknown outcome (%v): restart it to read the people again from the database", "sqlite:city.db", "disk full")
}

// TestServiceRestarting: a form sent while the service waits to be restarted is answered
// 503 with what to do, in the reader's words, not 500 "something went wrong" (which a
// sending again never cured, before serve exited on it).
func TestServiceRestarting(t *testing.T) {
	c := newCity(t, storetest.Open(t, "sqlite:"+t.TempDir()+"/w.db"))
	clock := func() time.Time { return time.Date(2024, 5, 10, 9, 0, 0, 0, time.UTC) }
	a := auth.New(c.db, auth.Options{Now: clock, Hash: auth.HashParams{Time: 1, Memory: 64, Threads: 1}})
	h, err := web.New(web.Options{DB: c.db, Auth: a, Ingest: restarting{}, Now: clock, Today: func() sc.Date { return today }})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	c.srv = srv
	zp, _ := c.db.PersonByID(context.Background(), zhang)
	v1 := c.clientAs(t, "v1")
	st, _, body := v1.post(fmt.Sprintf("/person/%d/visit", zp.PID), url.Values{"csrf": {v1.csrf}, "outcome": {"alive"}})
	if st != http.StatusServiceUnavailable || !strings.Contains(body, "系统正在重启") || strings.Contains(body, "commit") {
		t.Fatalf("a visit while the service restarts: %d\n%s", st, body)
	}
}
