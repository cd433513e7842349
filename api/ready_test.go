package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
)

// TestReadyWhileWritersWait: on PostgreSQL, a long batch's transaction open and more
// writers waiting for it (staff exports) than the writers' pool has connections, /readyz
// answers ready and a department reads its batch's report. With one pool for readers and
// writers, seven such exports made /readyz answer 503 and every read wait.
func TestReadyWhileWritersWait(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t, storetest.PostgresDSN(t))
	svc, _, srv, secret, _ := apiCity(t, db, 4096)
	req, _ := http.NewRequest("POST", srv.URL+"/api/v1/batches", strings.NewReader(header+
		"h1,HEA,HEA.CHECKUP,371002194003150019,张三,1940-03-15,2024-02-01,2024-02-02,,\n"))
	req.Header.Set("Content-Type", "text/csv")
	req.Header.Set("Authorization", "Bearer "+secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var posted struct {
		ID int64 `json:"batch_id"`
	}
	json.NewDecoder(resp.Body).Decode(&posted)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || posted.ID == 0 {
		t.Fatalf("the batch: %d %+v", resp.StatusCode, posted)
	}

	batch, err := svc.DB().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer batch.Rollback()
	n := db.SQL().Stats().MaxOpenConnections + 4
	done := make(chan error, n)
	for i := range n {
		go func() {
			tx, err := db.Begin(ctx)
			if err != nil {
				done <- err
				return
			}
			defer tx.Rollback()
			if err := tx.Append([]store.AuditRow{{Kind: "export", Day: sc.MustDate("2024-05-10"), At: "2024-05-10T01:00:00Z",
				Actor: fmt.Sprintf("staff%d", i), PID: -1, Action: "worklist"}}); err != nil {
				done <- err
				return
			}
			done <- tx.Commit()
		}()
	}
	time.Sleep(300 * time.Millisecond) // for them to reach their wait (the assertions hold either way)
	cl := &http.Client{Timeout: 10 * time.Second}
	get := func(path string, key string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := cl.Do(req)
		if err != nil {
			t.Fatalf("%s while writers wait: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if st, body := get("/readyz", ""); st != http.StatusOK {
		t.Fatalf("/readyz while writers wait: %d %s", st, body)
	}
	if st, body := get(fmt.Sprintf("/api/v1/batches/%d", posted.ID), secret); st != http.StatusOK {
		t.Fatalf("a batch's report while writers wait: %d %s", st, body)
	}
	if err := batch.Commit(); err != nil {
		t.Fatal(err)
	}
	for range n {
		if err := <-done; err != nil {
			t.Fatalf("a waiting writer, after the batch: %v", err)
		}
	}
}
