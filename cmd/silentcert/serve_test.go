package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/auth"
	"github.com/silentcert/silentcert/citizen"
	"github.com/silentcert/silentcert/notice"
	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
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
	secret, _, err := auth.New(db, auth.Options{}).CreateAPIKey(context.Background(), "admin", "HEA", "hospital", nil)
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
	// Each day's run logs the trail's head after its commit: an anchor kept apart from
	// the database, for audit verify --expect.
	if m := regexp.MustCompile(`"msg":"daily run".*"audit_head":"([0-9]+:[0-9a-f]{64})"`).FindStringSubmatch(errOut.String()); m == nil {
		t.Errorf("no audit head in the daily run's log: %s", errOut.String())
	} else if code := run(context.Background(), []string{"audit", "verify", "--db", dsn, "--expect", m[1]}, &so, &se); code != 0 {
		t.Errorf("verify against the logged head: %s %s", so.String(), se.String())
	}
	// 张三's reminders are queued without a link (a link is a password until used) and
	// go to him and to his agent each with a sign-in link of its own, made as they are sent
	// (a link signs in once).
	zp, err := db.PersonByID(context.Background(), "371002194003150019")
	if err != nil {
		t.Fatal(err)
	}
	ns, err := db.PersonNotices(context.Background(), zp.PID)
	if err != nil {
		t.Fatal(err)
	}
	slots := 0
	for _, n := range ns {
		if strings.Contains(n.Text, "/c/") {
			t.Errorf("a link stored in a queued notice: %q", n.Text)
		}
		if strings.Contains(n.Text, notice.LinkSlot) {
			slots++
		}
	}
	if slots < 2 {
		t.Fatalf("no reminder to both 张三 and his agent with a sign-in link: %+v", ns)
	}
	smsFile := filepath.Join(dir, "sent.jsonl")
	s := noticeSender(db, &notice.File{Path: smsFile}, notice.DefaultConfig(), slog.New(slog.DiscardHandler), &notice.Metrics{}, "https://rz.example.gov.cn/c/")
	s.Config.QuietStart, s.Config.QuietEnd = 0, 0
	if _, _, err := s.RunOnce(context.Background()); err != nil {
		t.Fatalf("sending: %v", err)
	}
	// serve's own sender may have sent some already (outside quiet hours).
	var b []byte
	for _, f := range []string{smsFile, filepath.Join(dir, "sms.jsonl")} {
		data, _ := os.ReadFile(f)
		b = append(b, data...)
	}
	links := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var n struct{ Text string }
		if err := json.Unmarshal([]byte(line), &n); err != nil {
			t.Fatal(err)
		}
		i := strings.Index(n.Text, "https://rz.example.gov.cn/c/")
		if i < 0 || strings.Contains(n.Text, notice.LinkSlot) {
			t.Fatalf("an SMS without its link: %q", n.Text)
		}
		link := strings.Fields(strings.NewReplacer("人脸", " ", "，", " ").Replace(n.Text[i:]))[0]
		if links[link] {
			t.Errorf("two SMS share the link %s", link)
		}
		links[link] = true
	}
	var stored int
	db.SQL().QueryRow(`SELECT COUNT(*) FROM citizen_links`).Scan(&stored)
	if len(links) < 2 || stored != len(links) {
		t.Fatalf("%d links sent, %d stored", len(links), stored)
	}
}

// TestReadDeadlines: a body trickled slower than its deadline is cut off (the handler's
// read fails), one sent at once is read whole; batches and forms have their own bounds.
func TestReadDeadlines(t *testing.T) {
	got := make(chan string, 4)
	srv := httptest.NewServer(readDeadlines(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "GET" { // a slow page: its context must live past the deadline
			time.Sleep(300 * time.Millisecond)
			fmt.Fprint(w, r.Context().Err())
			return
		}
		b, err := io.ReadAll(r.Body)
		got <- fmt.Sprintf("%s %d %v", r.URL.Path, len(b), err != nil)
	}), 2*time.Second, 100*time.Millisecond))
	defer srv.Close()
	// Two slow pages on one kept-alive connection: neither is cancelled.
	cl := srv.Client()
	for i := range 2 {
		resp, err := cl.Get(srv.URL + "/audit/export")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != "<nil>" {
			t.Fatalf("slow page %d: context %s", i, b)
		}
	}
	send := func(path string, pause time.Duration) string {
		conn, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\nabc", path)
		time.Sleep(pause)
		conn.Write([]byte("def"))
		select {
		case s := <-got:
			return s
		case <-time.After(10 * time.Second):
			t.Fatal("the handler never finished")
		}
		return ""
	}
	for _, c := range []struct {
		path  string
		pause time.Duration
		want  string
	}{
		{"/api/v1/batches", 0, "/api/v1/batches 6 false"},
		{"/api/v1/batches", 300 * time.Millisecond, "/api/v1/batches 6 false"}, // within the upload bound
		{"/c/attempt", 300 * time.Millisecond, "/c/attempt 3 true"},            // not within the form's
		{"/api/v1/batches", 3 * time.Second, "/api/v1/batches 3 true"},
		{"/c/attempt", 0, "/c/attempt 6 false"},
	} {
		if s := send(c.path, c.pause); s != c.want {
			t.Errorf("%s after %v: %s, want %s", c.path, c.pause, s, c.want)
		}
	}
}

func TestParseHours(t *testing.T) {
	for in, want := range map[string][2]int{"21-8": {21, 8}, "0-0": {0, 0}, "8-20": {8, 20}} {
		if f, to, err := parseHours(in); err != nil || f != want[0] || to != want[1] {
			t.Errorf("%s: %d %d %v", in, f, to, err)
		}
	}
	for _, in := range []string{"", "21", "24-8", "21-", "-1-8", "a-b", "21-8-3"} {
		if _, _, err := parseHours(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
	var so, se bytes.Buffer
	if code := run(context.Background(), []string{"serve", "--db", "sqlite:" + filepath.Join(t.TempDir(), "x.db"), "--sms-quiet", "22-25"}, &so, &se); code != 2 || !strings.Contains(se.String(), "--sms-quiet") {
		t.Errorf("serve --sms-quiet 22-25: exit %d: %s", code, se.String())
	}
}

// FuzzParseHours: whatever is given, an accepted value is two hours of the day that
// write back to the same text when it had no sign, space or leading zero.
func FuzzParseHours(f *testing.F) {
	for _, s := range []string{"21-8", "0-0", "24-8", "-1-8", "8--1", "07-09", " 1-2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		from, to, err := parseHours(s)
		if err != nil {
			return
		}
		if from < 0 || from > 23 || to < 0 || to > 23 {
			t.Fatalf("%q: %d-%d accepted", s, from, to)
		}
		if canon := fmt.Sprintf("%d-%d", from, to); canon != s && !strings.ContainsAny(s, "+0") {
			t.Fatalf("%q read as %s", s, canon)
		}
	})
}

// rosterDB is a new SQLite database in a temporary directory with the golden scenario's
// roster ingested.
func rosterDB(t *testing.T) (dir, dsn string) {
	t.Helper()
	dir = t.TempDir()
	dsn = "sqlite:" + filepath.Join(dir, "live.db")
	var so, se bytes.Buffer
	if code := run(context.Background(), []string{"ingest", "--db", dsn, "--roster", filepath.Join("..", "..", "backtest", "testdata", "scenario", "roster.csv")}, &so, &se); code != 0 {
		t.Fatalf("ingest: %s", se.String())
	}
	return dir, dsn
}

// TestServeSendsWaitingNotices: reminders queued by one run of serve and sent by the next,
// at its start, carry links under the public address (the sender used to start before
// the address was set, and sent "/c/TOKEN").
func TestServeSendsWaitingNotices(t *testing.T) {
	dir, dsn := rosterDB(t)
	sms := filepath.Join(dir, "sms.jsonl")
	// serve runs serve until done says so (slow machines, the race detector: a minute).
	serve := func(done func() bool, extra ...string) {
		ctx, cancel := context.WithCancel(context.Background())
		out, errOut := &syncBuffer{}, &syncBuffer{}
		exit := make(chan int, 1)
		go func() {
			exit <- run(ctx, append([]string{"serve", "--db", dsn, "--addr", "127.0.0.1:0", "--public-url", "https://rz.example.gov.cn"}, extra...), out, errOut)
		}()
		for i := 0; i < 1200 && !done(); i++ {
			time.Sleep(50 * time.Millisecond)
		}
		cancel()
		if code := <-exit; code != 0 {
			t.Fatalf("serve %v: exit %d: %s", extra, code, errOut.String())
		}
	}
	db, err := store.OpenNoMigrate(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// No gateway: the day's reminders wait.
	serve(func() bool {
		var n int
		db.SQL().QueryRow(`SELECT count(*) FROM notices WHERE status = 'pending'`).Scan(&n)
		return n >= 2
	})
	// A new process (LinkBase is the package's, set by the first run).
	defer func(b string) { citizen.LinkBase = b }(citizen.LinkBase)
	citizen.LinkBase = "/c/"
	// The next start sends them.
	serve(func() bool { b, _ := os.ReadFile(sms); return bytes.Count(b, []byte("\n")) >= 2 }, "--sms-file", sms, "--sms-quiet", "0-0")
	b, _ := os.ReadFile(sms)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) < 2 {
		t.Fatalf("sent: %q", b)
	}
	for _, l := range lines {
		if !strings.Contains(l, "https://rz.example.gov.cn/c/") || strings.Contains(l, notice.LinkSlot) {
			t.Errorf("an SMS without its public link: %s", l)
		}
	}
}

// TestServeExitsOnLostClaim: on PostgreSQL, a serve whose session is ended under it (a
// server restart, a failover) has lost its writer's claim; it exits with an error so that
// its supervisor starts it again (it stayed up and "ready", writing nothing, for ever).
func TestServeExitsOnLostClaim(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	scn := filepath.Join("..", "..", "backtest", "testdata", "scenario")
	var so, se bytes.Buffer
	if code := run(context.Background(), []string{"ingest", "--db", dsn, "--roster", filepath.Join(scn, "roster.csv")}, &so, &se); code != 0 {
		t.Fatalf("ingest: %s", se.String())
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, errOut := &syncBuffer{}, &syncBuffer{}
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"serve", "--db", dsn, "--addr", "127.0.0.1:0"}, out, errOut) }()
	for i := 0; i < 400 && !strings.Contains(out.String(), " on http://"); i++ {
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(out.String(), " on http://") {
		t.Fatalf("serve did not announce itself: %s %s", out.String(), errOut.String())
	}
	_, schema, _ := strings.Cut(dsn, "search_path=")
	admin := storetest.Session(t, dsn)
	if _, err := admin.Exec(`SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted
		AND classid = 7341003 AND objsubid = 2 AND objid = hashtext($1)::oid`, schema); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		if code == 0 || !strings.Contains(errOut.String(), "lost") {
			t.Errorf("serve exited %d: %s", code, errOut.String())
		}
	case <-time.After(2 * time.Minute):
		t.Fatalf("serve still runs after its claim was lost: %s", errOut.String())
	}
}

// TestServeWarnsOfReadableDB: the database a command makes is its owner's only (0600); one
// that others may read (made before, or so by hand) is served as it is, with a warning.
func TestServeWarnsOfReadableDB(t *testing.T) {
	_, dsn := rosterDB(t)
	path := strings.TrimPrefix(dsn, "sqlite:")
	if fi, err := os.Stat(path); err != nil {
		t.Fatal(err)
	} else if fi.Mode().Perm() != 0o600 {
		t.Fatalf("ingest --roster made its database %v, want 0600", fi.Mode().Perm())
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	out, errOut := &syncBuffer{}, &syncBuffer{}
	exit := make(chan int, 1)
	go func() { exit <- run(ctx, []string{"serve", "--db", dsn, "--addr", "127.0.0.1:0"}, out, errOut) }()
	for i := 0; i < 1200 && !strings.Contains(out.String(), " on http://"); i++ {
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if code := <-exit; code != 0 {
		t.Fatalf("serve: exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(errOut.String(), "may be read by accounts other than its owner") || !strings.Contains(errOut.String(), `"mode":"-rw-r--r--"`) {
		t.Errorf("serve on a database others may read says nothing:\n%s", errOut.String())
	}
	if fi, err := os.Stat(path); err != nil {
		t.Fatal(err)
	} else if fi.Mode().Perm() != 0o644 {
		t.Errorf("serve changed the operator's database's mode to %v", fi.Mode().Perm())
	}
}

// TestParseDropEncodings: --drop-encoding's pairs, and the mistakes it names.
func TestParseDropEncodings(t *testing.T) {
	got, err := parseDropEncodings(" PSB=gbk, HEA=utf-8 ")
	if err != nil || len(got) != 2 || got["PSB"] != "gbk" || got["HEA"] != "utf-8" {
		t.Fatalf("%v %v", got, err)
	}
	for _, bad := range []string{"PSB", "=gbk", "PSB=big5", "../x=gbk"} {
		if _, err := parseDropEncodings(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestServeStopSettlesNotices: a serve stopped while its sender has a batch of notices
// claimed (a restart for an upgrade, a supervisor's stop) settles them before it closes
// the database. It closed the database under the sender: the notices claimed stayed
// "sending" ("could not be given back: database is closed"), and the next start marked
// them failed, "outcome unknown … not sent again": reminders never sent. The gateway here
// is a FIFO that no one reads until serve has been told to stop: the sender waits in its
// first Send meanwhile.
func TestServeStopSettlesNotices(t *testing.T) {
	for _, u := range storetest.URLs(t) {
		t.Run(u.Name, func(t *testing.T) { testServeStopSettlesNotices(t, u.DSN(t)) })
	}
}

func testServeStopSettlesNotices(t *testing.T, dsn string) {
	dir := t.TempDir()
	var so, se bytes.Buffer
	if code := run(context.Background(), []string{"ingest", "--db", dsn, "--roster", filepath.Join("..", "..", "backtest", "testdata", "scenario", "roster.csv")}, &so, &se); code != 0 {
		t.Fatalf("ingest: %s", se.String())
	}
	db, err := store.OpenNoMigrate(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var pid int64
	var phone string
	if err := db.SQL().QueryRow(`SELECT pid, phone FROM people WHERE phone = '13800000001'`).Scan(&pid, &phone); err != nil {
		t.Fatal(err)
	}
	// A batch of confirmations queued before the start (sent whatever the person's
	// status since, but a death).
	ns := make([]store.Notice, notice.DefaultConfig().Batch)
	for i := range ns {
		ns[i] = store.Notice{PID: pid, PersonID: "371002194003150019", Phone: phone, Kind: notice.KindCertified,
			Deadline: 20000 + sc.Date(i), Template: "certified", Text: fmt.Sprintf("确认 %d", i), Created: 19990}
	}
	tx, err := db.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.EnqueueNotices(ns); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "sms.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no FIFO here: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, errOut := &syncBuffer{}, &syncBuffer{}
	exit := make(chan int, 1)
	go func() {
		exit <- run(ctx, []string{"serve", "--db", dsn, "--addr", "127.0.0.1:0", "--sms-file", fifo, "--sms-quiet", "0-0"}, out, errOut)
	}()
	count := func(status string) int {
		var n int
		if err := db.SQL().QueryRow(db.Rebind(`SELECT count(*) FROM notices WHERE status = ? AND pid = ?`), status, pid).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for i := 0; count(store.NoticeSending) < len(ns) || !strings.Contains(out.String(), " on http://"); i++ {
		if i == 1200 {
			cancel()
			t.Fatalf("serve did not start, or claim the notices: %s", errOut.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	code, stopped := 0, false
	select {
	case code = <-exit:
		stopped = true // before the sender could settle its claims
	case <-time.After(2 * time.Second):
	}
	// The gateway comes back: the sender finishes the notice it was sending. The reader
	// reads until serve has exited, then until a read brings nothing (the last writer,
	// below). An empty read before that is a sender's open whose write found no reader
	// (it opened while the previous read was ending): it sends again, and ending the
	// reader then left it waiting in its open for good, and serve with it.
	exited := make(chan struct{})
	read := make(chan struct{})
	go func() {
		defer close(read)
		for {
			b, err := os.ReadFile(fifo)
			if err != nil {
				return
			}
			select {
			case <-exited:
				if len(b) == 0 {
					return
				}
			default:
			}
		}
	}()
	if !stopped {
		code = <-exit
	}
	close(exited)
	if code != 0 {
		t.Fatalf("serve: exit %d: %s", code, errOut.String())
	}
	time.Sleep(500 * time.Millisecond) // a sender outliving serve would act meanwhile
	if n := count(store.NoticeSending); n != 0 {
		t.Errorf("after the stop: %d notices left claimed (sending), for the next start to mark failed unsent", n)
	}
	if s := errOut.String(); strings.Contains(s, "could not be given back") || strings.Contains(s, "database is closed") {
		t.Errorf("the sender outlived the database:\n%s", s)
	}
	for { // the reader's last open waits for a writer: one that writes nothing ends it
		if w, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			w.Close()
		}
		select {
		case <-read:
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
}
