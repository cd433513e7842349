package notice

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
)

func unix(s int64) time.Time { return time.Unix(s, 0) }

// clock is a fake clock the tests move by hand.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time          { return c.t }
func (c *clock) set(d sc.Date, h, m int) { c.t = unix(DayStart(d) + int64(h)*3600 + int64(m)*60) }
func (c *clock) add(d time.Duration)     { c.t = c.t.Add(d) }

// fakeGateway records what it is asked to send and answers with fail's error, if set.
type fakeGateway struct {
	mu   sync.Mutex
	sent []store.Notice
	fail func(n store.Notice) error
}

func (g *fakeGateway) Send(ctx context.Context, n store.Notice) (string, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.sent = append(g.sent, n)
	if g.fail != nil {
		if err := g.fail(n); err != nil {
			return "", err
		}
	}
	return "gw", nil
}

func (g *fakeGateway) calls() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.sent)
}

// dbCase is a database a test can open twice (a restart).
type dbCase struct {
	name string
	dsn  func(t *testing.T) string
}

func databases() []dbCase {
	return []dbCase{
		{"sqlite", func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "n.db") }},
		{"postgres", func(t *testing.T) string { return storetest.PostgresDSN(t) }},
	}
}

// eachDB runs test on a fresh SQLite and a fresh PostgreSQL schema.
func eachDB(t *testing.T, test func(t *testing.T, dsn string, db *store.DB)) {
	for _, c := range databases() {
		t.Run(c.name, func(t *testing.T) {
			dsn := c.dsn(t)
			test(t, dsn, storetest.Open(t, dsn))
		})
	}
}

var today = sc.MustDate("2025-02-01")

// setup queues a warning for each phone, due on today, to a person whose status in people
// is st (what the sender reads again at the claim).
func setup(t *testing.T, db *store.DB, st sc.Status, phones ...string) {
	t.Helper()
	setupWith(t, db, DefaultConfig(), st, "", phones...)
}

// setupWith is setup with a configuration and an agent's phone for everyone.
func setupWith(t *testing.T, db *store.DB, cfg Config, st sc.Status, agent string, phones ...string) {
	t.Helper()
	tx, err := db.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for i, ph := range phones {
		pid := int64(i + 1)
		rec := sc.Recipient{PersonID: "3710021940010100" + string(rune('1'+i)) + "X", Name: "张三", Phone: ph, AgentPhone: agent}
		if err := tx.PutPeople([]*store.Person{{PID: pid, Rec: rec, Status: st, NextCheck: sc.NoDate, State: []byte{}}}); err != nil {
			t.Fatal(err)
		}
		ns := Plan(&rec, pid, Decision{Day: today, Action: sc.ActWarning, Until: today + 40, Status: sc.StatusWarning}, cfg)
		if _, err := tx.EnqueueNotices(ns); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

func sender(db *store.DB, g Gateway, c *clock, edit func(*Config)) *Sender {
	cfg := DefaultConfig()
	if edit != nil {
		edit(&cfg)
	}
	return &Sender{DB: db, Gateway: g, Config: cfg, Now: c.Now, Metrics: &Metrics{}}
}

func statuses(t *testing.T, db *store.DB, pid int64) []string {
	t.Helper()
	ns, err := db.PersonNotices(context.Background(), pid)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, n := range ns {
		out = append(out, n.Status)
	}
	return out
}

func run(t *testing.T, s *Sender, wantSent, wantFailed int) {
	t.Helper()
	sent, failed, err := s.RunOnce(context.Background())
	if err != nil || sent != wantSent || failed != wantFailed {
		t.Fatalf("RunOnce at %s: sent %d failed %d err %v; want %d, %d", s.Now().In(shanghai).Format(time.DateTime), sent, failed, err, wantSent, wantFailed)
	}
}

func TestQuietHours(t *testing.T) {
	eachDB(t, func(t *testing.T, _ string, db *store.DB) {
		setup(t, db, sc.StatusWarning, "13800000001")
		g, c := &fakeGateway{}, &clock{}
		s := sender(db, g, c, nil)
		c.set(today-1, 23, 0) // queued for today: not due yet
		run(t, s, 0, 0)
		c.set(today, 0, 0) // due, but quiet until 08:00
		run(t, s, 0, 0)
		c.set(today, 7, 59)
		run(t, s, 0, 0)
		if g.calls() != 0 {
			t.Fatal("sent during quiet hours")
		}
		c.set(today, 8, 0)
		run(t, s, 1, 0)
		run(t, s, 0, 0)
		if g.calls() != 1 || s.Metrics.Sent.Load() != 1 {
			t.Fatalf("calls %d", g.calls())
		}
		ns, _ := db.PersonNotices(context.Background(), 1)
		if ns[0].Status != store.NoticeSent || ns[0].SentAt != c.t.Unix() || ns[0].GatewayID != "gw" {
			t.Fatalf("%+v", ns[0])
		}
	})
}

func TestRateLimit(t *testing.T) {
	eachDB(t, func(t *testing.T, _ string, db *store.DB) {
		setup(t, db, sc.StatusWarning, "13800000001", "13800000002", "13800000003", "13800000004", "13800000005")
		g, c := &fakeGateway{}, &clock{}
		s := sender(db, g, c, func(cfg *Config) { cfg.PerDayLimit, cfg.Batch = 3, 2 })
		c.set(today, 9, 0)
		run(t, s, 3, 0)
		c.set(today, 20, 59)
		run(t, s, 0, 0)
		c.set(today+1, 8, 0) // a new day
		run(t, s, 2, 0)
		var order []int64
		for _, n := range g.sent {
			order = append(order, n.PID)
		}
		if g.calls() != 5 || order[0] != 1 || order[4] != 5 {
			t.Fatalf("sent in order %v", order)
		}
	})
}

func TestBackoffThenFailure(t *testing.T) {
	eachDB(t, func(t *testing.T, _ string, db *store.DB) {
		setup(t, db, sc.StatusWarning, "13800000001")
		g := &fakeGateway{fail: func(store.Notice) error { return errors.New("HTTP 503") }}
		c := &clock{}
		s := sender(db, g, c, func(cfg *Config) { cfg.MaxAttempts, cfg.Backoff = 3, time.Minute })
		c.set(today, 9, 0)
		run(t, s, 0, 0) // try 1; next in 1 min
		c.add(59 * time.Second)
		run(t, s, 0, 0)
		c.add(time.Second)
		run(t, s, 0, 0) // try 2; next in 2 min
		c.add(time.Minute + 59*time.Second)
		run(t, s, 0, 0)
		c.add(time.Second)
		run(t, s, 0, 1) // try 3: given up
		c.add(24 * time.Hour)
		run(t, s, 0, 0)
		ns, _ := db.PersonNotices(context.Background(), 1)
		if g.calls() != 3 || ns[0].Status != store.NoticeFailed || ns[0].Attempts != 3 ||
			ns[0].LastError != "gave up after 3 attempts: HTTP 503" || s.Metrics.Retried.Load() != 2 || s.Metrics.Failed.Load() != 1 {
			t.Fatalf("calls %d, %+v", g.calls(), ns[0])
		}
	})
}

func TestPermanentFailure(t *testing.T) {
	eachDB(t, func(t *testing.T, _ string, db *store.DB) {
		setup(t, db, sc.StatusWarning, "13800000001", "13800000002")
		g := &fakeGateway{fail: func(n store.Notice) error {
			if n.PID == 1 {
				return Permanent(errors.New("HTTP 400: bad number"))
			}
			return nil
		}}
		c := &clock{}
		s := sender(db, g, c, nil)
		c.set(today, 9, 0)
		run(t, s, 1, 1)
		ns, _ := db.PersonNotices(context.Background(), 1)
		if ns[0].Status != store.NoticeFailed || ns[0].Attempts != 1 || !strings.Contains(ns[0].LastError, "bad number") {
			t.Fatalf("%+v", ns[0])
		}
	})
}

func TestRestartDoesNotResend(t *testing.T) {
	eachDB(t, func(t *testing.T, dsn string, db *store.DB) {
		setup(t, db, sc.StatusWarning, "13800000001", "13800000002", "13800000003")
		g, c := &fakeGateway{}, &clock{}
		c.set(today, 9, 0)
		// The first process sends notice 1, then "crashes" after the gateway accepted
		// notice 2 and before marking it: its database goes away under it.
		var s *Sender
		g.fail = func(n store.Notice) error {
			if n.PID == 2 {
				s.DB.Close()
			}
			return nil
		}
		s = sender(db, g, c, func(cfg *Config) { cfg.Batch = 1 })
		if sent, _, err := s.RunOnce(context.Background()); err == nil || sent != 1 {
			t.Fatalf("the crashing run: sent %d, err %v", sent, err)
		}
		g.fail = nil
		// A new process over the same database, while the dead one's lease still holds:
		// notice 1 is sent, notice 2 is not touched, notice 3 goes out.
		db2 := storetest.Open(t, dsn)
		s2 := sender(db2, g, c, nil)
		c.add(time.Minute)
		run(t, s2, 1, 0)
		// After the lease: notice 2's outcome is unknown; it fails and is never resent.
		c.add(s2.Config.Lease)
		run(t, s2, 0, 1)
		c.add(24 * time.Hour)
		run(t, s2, 0, 0)
		count := map[int64]int{}
		for _, n := range g.sent {
			count[n.PID]++
		}
		if count[1] != 1 || count[2] != 1 || count[3] != 1 {
			t.Fatalf("sends per notice %v", count)
		}
		ns, _ := db2.PersonNotices(context.Background(), 2)
		if ns[0].Status != store.NoticeFailed || !strings.Contains(ns[0].LastError, "outcome unknown") {
			t.Fatalf("%+v", ns[0])
		}
	})
}

func TestRestartResendUnknown(t *testing.T) {
	eachDB(t, func(t *testing.T, dsn string, db *store.DB) {
		setup(t, db, sc.StatusWarning, "13800000001")
		c := &clock{}
		c.set(today, 9, 0)
		// Claimed, then the process died before the gateway answered.
		if got, err := db.ClaimNotices(context.Background(), c.t.Unix(), 600, 1); err != nil || len(got) != 1 {
			t.Fatal(got, err)
		}
		g := &fakeGateway{}
		s := sender(db, g, c, func(cfg *Config) { cfg.ResendUnknown = true })
		run(t, s, 0, 0) // the lease holds
		c.add(601 * time.Second)
		run(t, s, 1, 0)
		if g.calls() != 1 || g.sent[0].Attempts != 2 {
			t.Fatalf("resent %+v", g.sent)
		}
	})
}

func TestCancelOnDeath(t *testing.T) {
	eachDB(t, func(t *testing.T, _ string, db *store.DB) {
		ctx := context.Background()
		setup(t, db, sc.StatusWarning, "13800000001", "13800000002", "13800000003")
		// Person 1: the service terminates them and cancels their notices in one transaction.
		tx, err := db.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.PutPeople([]*store.Person{{PID: 1, Rec: sc.Recipient{PersonID: "3710021940010100" + "1X"},
			Status: sc.StatusTerminated, NextCheck: sc.NoDate, State: []byte{}}}); err != nil {
			t.Fatal(err)
		}
		if k, err := tx.CancelNotices(1, "death accepted"); err != nil || k != 1 {
			t.Fatal(k, err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		// Person 2: terminated without the cancel; the sender's own check stops it.
		if _, err := db.SQL().Exec(db.Rebind(`UPDATE people SET status = ? WHERE pid = 2`), int(sc.StatusTerminated)); err != nil {
			t.Fatal(err)
		}
		g, c := &fakeGateway{}, &clock{}
		s := sender(db, g, c, nil)
		c.set(today, 9, 0)
		run(t, s, 1, 0)
		if g.calls() != 1 || g.sent[0].PID != 3 {
			t.Fatalf("sent %+v", g.sent)
		}
		for pid, want := range map[int64]string{1: "cancelled", 2: "cancelled", 3: "sent"} {
			if got := statuses(t, db, pid); len(got) != 1 || got[0] != want {
				t.Errorf("person %d: %v, want %s", pid, got, want)
			}
		}
		ns, _ := db.PersonNotices(ctx, 2)
		if !strings.Contains(ns[0].LastError, "TERMINATED") || s.Metrics.Cancelled.Load() != 1 {
			t.Fatalf("%+v", ns[0])
		}
	})
}

func TestStaleReminders(t *testing.T) {
	eachDB(t, func(t *testing.T, _ string, db *store.DB) {
		setup(t, db, sc.StatusCertified, "13800000001") // certified since the warning
		setup2 := func() {
			tx, _ := db.Begin(context.Background())
			defer tx.Rollback()
			rec := sc.Recipient{PersonID: "371002194001010099", Phone: "13800000009"}
			if err := tx.PutPeople([]*store.Person{{PID: 9, Rec: rec, Status: sc.StatusPending, NextCheck: sc.NoDate, State: []byte{}}}); err != nil {
				t.Fatal(err)
			}
			ns := Plan(&rec, 9, Decision{Day: today, Action: sc.ActPending, Until: today - 1, Status: sc.StatusPending}, DefaultConfig())
			if _, err := tx.EnqueueNotices(ns); err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
		}
		setup2()
		g, c := &fakeGateway{}, &clock{}
		s := sender(db, g, c, nil)
		c.set(today+40, 9, 0) // after the pending notice's deadline (today-1 plus a month)
		run(t, s, 0, 0)
		ns1, _ := db.PersonNotices(context.Background(), 1)
		ns9, _ := db.PersonNotices(context.Background(), 9)
		if g.calls() != 0 || ns1[0].LastError != "the person was certified since" || !strings.HasPrefix(ns9[0].LastError, "expired") {
			t.Fatalf("%+v %+v", ns1, ns9)
		}
	})
}

func TestWebhook(t *testing.T) {
	var mu sync.Mutex
	var got []map[string]any
	var headers []http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		json.NewDecoder(r.Body).Decode(&m)
		mu.Lock()
		got = append(got, m)
		headers = append(headers, r.Header.Clone())
		mu.Unlock()
		switch m["phone"] {
		case "13800000001":
			io.WriteString(w, `{"id":"sms-77"}`)
		case "13800000002":
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, "invalid number\nmore")
		case "13800000003":
			w.WriteHeader(http.StatusServiceUnavailable)
		case "13800000004":
			w.WriteHeader(http.StatusTooManyRequests)
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	defer srv.Close()
	wh := &Webhook{URL: srv.URL, Token: "s3cret"}
	ctx := context.Background()
	for _, c := range []struct {
		phone     string
		id        string
		permanent bool
		err       string
	}{
		{"13800000001", "sms-77", false, ""},
		{"13800000002", "", true, "HTTP 400: body withheld (19 bytes)"},
		{"13800000003", "", false, "HTTP 503"},
		{"13800000004", "", false, "HTTP 429"},
		{"13800000005", "", false, ""},
	} {
		id, err := wh.Send(ctx, store.Notice{ID: 5, Phone: c.phone, Text: "请认证"})
		if id != c.id || IsPermanent(err) != c.permanent || (c.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("%s: id %q err %v", c.phone, id, err)
		}
	}
	if got[0]["id"] != float64(5) || got[0]["text"] != "请认证" || len(got[0]) != 3 ||
		headers[0].Get("Authorization") != "Bearer s3cret" || headers[0].Get("Idempotency-Key") != "notice-5" {
		t.Errorf("request %v %v", got[0], headers[0])
	}
	// A server that is gone: a network error, retried.
	srv.Close()
	if _, err := wh.Send(ctx, store.Notice{ID: 6, Phone: "13800000001"}); err == nil || IsPermanent(err) {
		t.Errorf("network error: %v", err)
	}
}

// TestWebhookSender runs the sender against an HTTP gateway: one notice accepted, one
// refused for good, one retried until the server recovers.
func TestWebhookSender(t *testing.T) {
	eachDB(t, func(t *testing.T, _ string, db *store.DB) {
		var mu sync.Mutex
		down := true
		hits := map[string]int{}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var m struct{ Phone string }
			json.NewDecoder(r.Body).Decode(&m)
			mu.Lock()
			defer mu.Unlock()
			hits[m.Phone]++
			switch {
			case m.Phone == "13800000002":
				w.WriteHeader(http.StatusForbidden)
			case m.Phone == "13800000003" && down:
				w.WriteHeader(http.StatusBadGateway)
			}
		}))
		defer srv.Close()
		setup(t, db, sc.StatusWarning, "13800000001", "13800000002", "13800000003")
		c := &clock{}
		var logs bytes.Buffer
		s := sender(db, &Webhook{URL: srv.URL}, c, nil)
		s.Log = slog.New(slog.NewTextHandler(&logs, nil))
		c.set(today, 9, 0)
		run(t, s, 1, 1)
		mu.Lock()
		down = false
		mu.Unlock()
		c.add(time.Minute)
		run(t, s, 1, 0)
		if hits["13800000001"] != 1 || hits["13800000002"] != 1 || hits["13800000003"] != 2 {
			t.Fatalf("hits %v", hits)
		}
		if strings.Contains(logs.String(), "13800000001") || !strings.Contains(logs.String(), "138****0001") ||
			strings.Contains(logs.String(), "37100219400101001X") || strings.Contains(logs.String(), "张三") {
			t.Fatalf("logs leak personal data:\n%s", logs.String())
		}
		b := s.Metrics.AppendPrometheus(nil)
		for _, want := range []string{"silentcert_notices_sent_total 2\n", "silentcert_notices_failed_total 1\n",
			"silentcert_notices_retried_total 1\n", "# TYPE silentcert_notices_sent_total counter\n"} {
			if !bytes.Contains(b, []byte(want)) {
				t.Errorf("metrics lack %q:\n%s", want, b)
			}
		}
	})
}

func TestFileGateway(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sms.jsonl")
	f := &File{Path: path}
	for i := int64(1); i <= 2; i++ {
		id, err := f.Send(context.Background(), store.Notice{ID: i, Phone: "13800000001", Text: "第" + string(rune('0'+i)) + "条"})
		if err != nil || id != "file:"+string(rune('0'+i)) {
			t.Fatal(id, err)
		}
	}
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var lines []message
	scan := bufio.NewScanner(fh)
	for scan.Scan() {
		var m message
		if err := json.Unmarshal(scan.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, m)
	}
	if len(lines) != 2 || lines[1].ID != 2 || lines[1].Text != "第2条" || lines[0].Phone != "13800000001" {
		t.Fatalf("%+v", lines)
	}
}

// TestRun checks that Run sends at once and stops when its context ends.
func TestRun(t *testing.T) {
	db := storetest.Open(t, "sqlite:"+filepath.Join(t.TempDir(), "n.db"))
	setup(t, db, sc.StatusWarning, "13800000001")
	ctx, cancel := context.WithCancel(context.Background())
	c := &clock{}
	c.set(today, 9, 0)
	g := &fakeGateway{fail: func(store.Notice) error { cancel(); return nil }}
	s := sender(db, g, c, nil)
	if err := s.Run(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	if got := statuses(t, db, 1); g.calls() != 1 || got[0] != store.NoticeSent {
		t.Fatalf("calls %d, %v", g.calls(), got)
	}
}

// TestTwoSenders runs two senders, each with its own database handle (two processes), at
// once over one outbox: every notice goes out exactly once.
func TestTwoSenders(t *testing.T) {
	eachDB(t, func(t *testing.T, dsn string, db *store.DB) {
		var phones []string
		for i := range 40 {
			phones = append(phones, "138000001"+string(rune('0'+i/10))+string(rune('0'+i%10)))
		}
		setup(t, db, sc.StatusWarning, phones...)
		g, c := &fakeGateway{}, &clock{}
		c.set(today, 9, 0)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range 2 {
			s := sender(storetest.Open(t, dsn), g, c, func(cfg *Config) { cfg.Batch = 3 })
			wg.Go(func() { _, _, errs[i] = s.RunOnce(context.Background()) })
		}
		wg.Wait()
		if errs[0] != nil || errs[1] != nil {
			t.Fatal(errs)
		}
		count := map[int64]int{}
		for _, n := range g.sent {
			count[n.PID]++
		}
		if len(count) != 40 || g.calls() != 40 {
			t.Fatalf("%d calls for %d notices", g.calls(), len(count))
		}
	})
}

// TestMarkFailureGivesClaimsBack: when the outcome of one notice cannot be marked (here
// its row was settled meanwhile), the round stops with the error and the notices claimed
// with it and not yet tried go back to the queue, sent at the next round, not failed as
// "outcome unknown" once their lease runs out.
func TestMarkFailureGivesClaimsBack(t *testing.T) {
	eachDB(t, func(t *testing.T, _ string, db *store.DB) {
		setup(t, db, sc.StatusWarning, "13800000001", "13800000002", "13800000003")
		c := &clock{}
		g := &fakeGateway{}
		g.fail = func(n store.Notice) error {
			if len(g.sent) == 1 { // the first: its row changes under the sender
				if _, err := db.SQL().Exec(db.Rebind(`UPDATE notices SET status = 'failed' WHERE id = ?`), n.ID); err != nil {
					t.Error(err)
				}
			}
			return nil
		}
		s := sender(db, g, c, nil)
		c.set(today, 9, 0)
		if _, _, err := s.RunOnce(context.Background()); err == nil {
			t.Fatal("a notice whose outcome could not be marked: no error")
		}
		first := g.sent[0].PID
		for pid := int64(1); pid <= 3; pid++ {
			if want := "pending"; pid != first && statuses(t, db, pid)[0] != want {
				t.Errorf("person %d's notice after the failed round: %v, want %s", pid, statuses(t, db, pid), want)
			}
		}
		c.add(time.Minute)
		run(t, s, 2, 0)
		for pid := int64(1); pid <= 3; pid++ {
			if ns, _ := db.PersonNotices(context.Background(), pid); pid != first && (ns[0].Status != "sent" || ns[0].Attempts != 1) {
				t.Errorf("person %d's notice: %+v", pid, ns[0])
			}
		}
	})
}

// TestSignInLinks: a reminder queued with sign-in links is stored without one; each try
// to send it makes a link of its own (the person's and the agent's differ); a sender that
// makes none does not send the placeholder, and a link that cannot be made gives the
// claim back untried.
func TestSignInLinks(t *testing.T) {
	eachDB(t, func(t *testing.T, _ string, db *store.DB) {
		cfg := DefaultConfig()
		cfg.SignIn = true
		setupWith(t, db, cfg, sc.StatusWarning, "13900000009", "13800000001")
		c := &clock{}
		g := &fakeGateway{}
		s := sender(db, g, c, nil)
		c.set(today, 9, 0)
		run(t, s, 0, 0) // no Links: both tries fail, to be retried
		if g.calls() != 0 {
			t.Fatalf("a notice needing a link was sent without one: %+v", g.sent)
		}
		ns, _ := db.PersonNotices(context.Background(), 1)
		if len(ns) != 2 || ns[0].Status != store.NoticePending || !strings.Contains(ns[0].LastError, "--public-url") {
			t.Fatalf("without Links: %+v", ns)
		}
		s.Links = func(context.Context, *store.Notice, time.Time) (string, error) { return "", errors.New("disk full") }
		c.add(time.Hour)
		if _, _, err := s.RunOnce(context.Background()); err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Fatalf("a link that cannot be made: %v", err)
		}
		made := 0
		s.Links = func(_ context.Context, n *store.Notice, now time.Time) (string, error) {
			made++
			if n.PID != 1 || !now.Equal(c.Now()) {
				t.Errorf("link for %d at %v", n.PID, now)
			}
			return "https://rz.example.gov.cn/c/tok" + strings.Repeat("x", made), nil
		}
		// A gateway that echoes the request in its error: the link is not kept.
		g.fail = func(n store.Notice) error { return errors.New("HTTP 500: bad request " + n.Text) }
		run(t, s, 0, 0)
		ns, _ = db.PersonNotices(context.Background(), 1)
		if strings.Contains(ns[0].LastError, "/c/tok") || !strings.Contains(ns[0].LastError, "HTTP 500: bad request") {
			t.Fatalf("last_error: %q", ns[0].LastError)
		}
		g.fail, g.sent, made = nil, nil, 0
		c.add(time.Hour)
		run(t, s, 2, 0)
		if made != 2 || len(g.sent) != 2 || g.sent[0].Text == g.sent[1].Text ||
			!strings.Contains(g.sent[0].Text, "/c/tokx") || !strings.Contains(g.sent[1].Text, "/c/tokxx") {
			t.Fatalf("sent: %+v", g.sent)
		}
		ns, _ = db.PersonNotices(context.Background(), 1)
		for _, n := range ns {
			// Three tries each: the one without Links, the echoing gateway's and this
			// one (the failed link's claim was given back).
			if n.Status != store.NoticeSent || n.Attempts != 3 || !strings.Contains(n.Text, LinkSlot) || strings.Contains(n.Text, "/c/tok") {
				t.Errorf("stored: %+v", n)
			}
		}
	})
}

// TestPhoneChangedSinceQueued: a number changed in the roster after the notice was queued
// (numbers are given to others) is not written to: the notice is cancelled at the claim.
func TestPhoneChangedSinceQueued(t *testing.T) {
	eachDB(t, func(t *testing.T, _ string, db *store.DB) {
		setup(t, db, sc.StatusWarning, "13800000001", "13800000002")
		if _, err := db.SQL().Exec(db.Rebind(`UPDATE people SET phone = ? WHERE pid = 1`), "13900000009"); err != nil {
			t.Fatal(err)
		}
		g, c := &fakeGateway{}, &clock{}
		s := sender(db, g, c, nil)
		c.set(today, 9, 0)
		run(t, s, 1, 0)
		ns, _ := db.PersonNotices(context.Background(), 1)
		if g.calls() != 1 || g.sent[0].PID != 2 || ns[0].Status != "cancelled" || !strings.Contains(ns[0].LastError, "no longer") {
			t.Fatalf("sent %+v, person 1's notice %+v", g.sent, ns[0])
		}
	})
}

// TestCancelledAtClaim: a warning already queued is cancelled at the claim, not sent, to a
// person whose eligibility is suspended (LOSS, e.g. in prison), and to one who has become
// PENDING since (a gateway down for a day, quiet hours, the day's limit): the pending
// notice says what is now true.
func TestCancelledAtClaim(t *testing.T) {
	for _, c := range []struct {
		status sc.Status
		reason string
	}{{sc.StatusLoss, "the person's eligibility is suspended (LOSS)"}, {sc.StatusPending, "superseded: the person is PENDING"}} {
		eachDB(t, func(t *testing.T, _ string, db *store.DB) {
			setup(t, db, c.status, "13800000001")
			g, clk := &fakeGateway{}, &clock{}
			s := sender(db, g, clk, nil)
			clk.set(today, 9, 0)
			run(t, s, 0, 0)
			ns, _ := db.PersonNotices(context.Background(), 1)
			if g.calls() != 0 || len(ns) != 1 || ns[0].Status != "cancelled" || !strings.HasPrefix(ns[0].LastError, c.reason) {
				t.Fatalf("%s: sent %d, notices %+v", c.status, g.calls(), ns)
			}
		})
	}
}

// TestSignInsEndedWhileSending: staff end the person's sign-ins after the sender claimed
// the reminder (the text then names the login page): the SMS carries that text, not a
// link made after it.
func TestSignInsEndedWhileSending(t *testing.T) {
	eachDB(t, func(t *testing.T, _ string, db *store.DB) {
		cfg := DefaultConfig()
		cfg.SignIn = true
		setupWith(t, db, cfg, sc.StatusWarning, "", "13800000001")
		c := &clock{}
		g := &fakeGateway{}
		s := sender(db, g, c, nil)
		s.Links = func(_ context.Context, n *store.Notice, _ time.Time) (string, error) {
			// What EndSignIns does to a claimed notice, between the claim and the send.
			if _, err := db.SQL().Exec(db.Rebind(`UPDATE notices SET text = REPLACE(text, ?, ?) WHERE id = ?`), LinkSlot, "https://rz.example.gov.cn/c/login", n.ID); err != nil {
				t.Error(err)
			}
			return "https://rz.example.gov.cn/c/tok123", nil
		}
		c.set(today, 9, 0)
		run(t, s, 1, 0)
		if len(g.sent) != 1 || strings.Contains(g.sent[0].Text, "tok123") || !strings.Contains(g.sent[0].Text, "/c/login") {
			t.Fatalf("sent: %+v", g.sent)
		}
	})
}

// TestRefusedLinksWithdrawn: the link of a try the gateway refused for good is given back
// (that SMS never left); a try that may have gone out keeps its link.
func TestRefusedLinksWithdrawn(t *testing.T) {
	eachDB(t, func(t *testing.T, _ string, db *store.DB) {
		cfg := DefaultConfig()
		cfg.SignIn = true
		setupWith(t, db, cfg, sc.StatusWarning, "", "13800000001")
		c := &clock{}
		g := &fakeGateway{}
		s := sender(db, g, c, nil)
		made := 0
		s.Links = func(context.Context, *store.Notice, time.Time) (string, error) {
			made++
			return "https://rz.example.gov.cn/c/tok" + strconv.Itoa(made), nil
		}
		var withdrawn []string
		s.Withdraw = func(_ context.Context, link string) error {
			withdrawn = append(withdrawn, link)
			return nil
		}
		g.fail = func(store.Notice) error { return errors.New("timeout") }
		c.set(today, 9, 0)
		run(t, s, 0, 0)
		if made != 1 || len(withdrawn) != 0 {
			t.Fatalf("a try that may have gone out: %d made, withdrawn %v", made, withdrawn)
		}
		g.fail = func(store.Notice) error { return Permanent(errors.New("number refused")) }
		c.add(time.Hour)
		run(t, s, 0, 1)
		if made != 2 || len(withdrawn) != 1 || withdrawn[0] != "https://rz.example.gov.cn/c/tok2" {
			t.Fatalf("a refused try: %d made, withdrawn %v", made, withdrawn)
		}
	})
}
