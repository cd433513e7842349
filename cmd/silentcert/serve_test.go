package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/silentcert/silentcert/auth"
	"github.com/silentcert/silentcert/store"
)

// syncBuffer is a bytes.Buffer safe for the server goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestServe runs the real serve wiring on a free port: the roster ingested by the
// command line, a batch pushed through the API with a source's key, the console's login
// page, health and metrics, the daily run caught up at start, and the audit trail intact.
func TestServe(t *testing.T) {
	dir := t.TempDir()
	dsn := "sqlite:" + filepath.Join(dir, "s.db")
	scn := filepath.Join("..", "..", "backtest", "testdata", "scenario")
	var so, se bytes.Buffer
	if code := run(context.Background(), []string{"ingest", "--db", dsn, "--roster", filepath.Join(scn, "roster.csv")}, &so, &se); code != 0 {
		t.Fatalf("ingest: %s", se.String())
	}
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	secret, _, err := auth.New(db, auth.Options{}).CreateAPIKey(context.Background(), "admin", "HEA", "hospital")
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	ctx, cancel := context.WithCancel(context.Background())
	out, errOut := &syncBuffer{}, &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--db", dsn, "--addr", "127.0.0.1:0", "--sms-file", filepath.Join(dir, "sms.jsonl"),
			"--public-url", "https://rz.example.gov.cn"}, out, errOut)
	}()
	var base string
	for i := 0; i < 200 && base == ""; i++ {
		if _, rest, ok := strings.Cut(out.String(), " on http://"); ok {
			base = "http://" + strings.Fields(rest)[0]
			base = strings.TrimSuffix(base, "/")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if base == "" {
		cancel()
		t.Fatalf("serve did not announce itself: %s %s", out.String(), errOut.String())
	}
	get := func(path string) (int, string) {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/healthz"); code != 200 || !strings.Contains(body, "ok") {
		t.Fatalf("healthz: %d %s", code, body)
	}
	if code, _ := get("/readyz"); code != 200 {
		t.Fatalf("readyz: %d", code)
	}
	if code, body := get("/login"); code != 200 || !strings.Contains(body, "<form") {
		t.Fatalf("console login page: %d", code)
	}
	if code, body := get("/c/login"); code != 200 || !strings.Contains(body, "<form") {
		t.Fatalf("citizen login page: %d", code)
	}
	req, _ := http.NewRequest("POST", base+"/api/v1/batches", strings.NewReader(
		"record_id,source,type,person_id,name,birth_date,event_date,reported_date,region_code,detail\n"+
			"s1,HEA,HEA.CHECKUP,371002194003150019,张三,1940-03-15,2024-02-01,2024-02-02,,\n"))
	req.Header.Set("Content-Type", "text/csv")
	req.Header.Set("Authorization", "Bearer "+secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var res map[string]any
	json.NewDecoder(resp.Body).Decode(&res)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || res["report"].(map[string]any)["applied"].(float64) != 1 {
		t.Fatalf("batch: %d %v", resp.StatusCode, res)
	}
	if code, body := get("/metrics"); code != 200 || !strings.Contains(body, "silentcert_records_ingested_total 1") {
		t.Fatalf("metrics: %d %s", code, body)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exit %d: %s", code, errOut.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
	so.Reset()
	if code := run(context.Background(), []string{"audit", "verify", "--db", dsn}, &so, &se); code != 0 || !strings.Contains(so.String(), "intact") {
		t.Fatalf("audit verify: %s %s", so.String(), se.String())
	}
	db, _ = store.Open(context.Background(), dsn)
	defer db.Close()
	if last, _ := db.LastRun(context.Background()); last == -1<<31 {
		t.Fatal("serve ran no day at start")
	}
	// 张三's reminders went to him and to his agent, each with a sign-in link of its own
	// (a link signs in once).
	zp, err := db.PersonByID(context.Background(), "371002194003150019")
	if err != nil {
		t.Fatal(err)
	}
	ns, err := db.PersonNotices(context.Background(), zp.PID)
	if err != nil {
		t.Fatal(err)
	}
	links := map[string]string{} // kind and deadline → the person's link
	pairs := 0
	for _, n := range ns {
		i := strings.Index(n.Text, "https://rz.example.gov.cn/c/")
		if i < 0 {
			continue
		}
		link := strings.Fields(strings.NewReplacer("人脸", " ", "，", " ").Replace(n.Text[i:]))[0]
		k := n.Kind + n.Deadline.String()
		if other, ok := links[k]; ok {
			pairs++
			if other == link {
				t.Errorf("the %s reminder's two SMS share the link %s", n.Kind, link)
			}
		}
		links[k] = link
	}
	if pairs == 0 {
		t.Fatalf("no reminder went to both 张三 and his agent with a link: %+v", ns)
	}
}
