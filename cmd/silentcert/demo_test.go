package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	neturl "net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/store"
)

// TestDemo builds a small demo city, serves it on a free port, and checks that the
// console and the API answer and that a second start reuses the file.
func TestDemo(t *testing.T) {
	path := filepath.Join(t.TempDir(), "demo.db")
	for round := 0; round < 2; round++ {
		ctx, cancel := context.WithCancel(context.Background())
		pr, pw := io.Pipe()
		done := make(chan int, 1)
		var stderr strings.Builder
		go func() {
			done <- run(ctx, []string{"demo", "--db", path, "--addr", "127.0.0.1:0", "--recipients", "300",
				"--from", "2025-10-01", "--to", "2025-12-31", "--quiet"}, pw, &stderr)
			pw.Close()
		}()
		sc := bufio.NewScanner(pr)
		var url, link, last4 string
		var out []string
		for sc.Scan() {
			out = append(out, sc.Text())
			if m := regexp.MustCompile(`console: (http://\S+)`).FindStringSubmatch(sc.Text()); m != nil {
				url = m[1]
			}
			if m := regexp.MustCompile(`reminder link: (http://\S+) \(ID number ending (\w{4})`).FindStringSubmatch(sc.Text()); m != nil {
				link, last4 = m[1], m[2]
			}
			if strings.HasPrefix(sc.Text(), "a pensioner's reminder link") {
				break
			}
		}
		// The rest of the output carries the SMS codes the pensioner's pages send.
		lines := make(chan string, 16)
		go func() {
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		if url == "" {
			cancel()
			t.Fatalf("round %d: no URL printed: %q %s", round, out, stderr.String())
		}
		for _, p := range []string{"login", "healthz"} {
			res, err := http.Get(url + p)
			if err != nil || res.StatusCode != http.StatusOK {
				t.Fatalf("round %d: GET %s: %v %v", round, p, res, err)
			}
			res.Body.Close()
		}
		// The pensioner's side: the printed reminder link, the last four characters of the ID
		// number, the code printed as the SMS, the status page.
		if link == "" {
			t.Fatalf("round %d: no reminder link printed:\n%s", round, strings.Join(out, "\n"))
		}
		demoPensioner(t, link, last4, lines)
		text := strings.Join(out, "\n")
		for _, role := range []string{"admin", "operator", "auditor", "district", "town", "village"} {
			if !strings.Contains(text, role) {
				t.Errorf("round %d: no %s login printed:\n%s", round, role, text)
			}
		}
		cancel()
		go func() {
			for range lines {
			}
		}()
		if code := <-done; code != 0 {
			t.Fatalf("round %d: exit %d: %s", round, code, stderr.String())
		}
	}
	// The dashboard's summaries were built with the city.
	db, err := store.Open(context.Background(), "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if d, err := db.SummaryDay(context.Background()); err != nil || d.String() != "2025-12-31" {
		t.Fatalf("summaries as of %v (%v)", d, err)
	}
	if r, err := db.Region(context.Background(), "3710"); err != nil || r.Total < 250 || r.Total > 300 {
		t.Fatalf("Weihai in the summaries: %+v %v", r, err)
	}
}

// demoPensioner logs in by a reminder link with the code the demo prints, and reads the
// status page.
func demoPensioner(t *testing.T, link, last4 string, lines <-chan string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	cl := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := cl.Get(link)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET the reminder link: %v %v", res, err)
	}
	res.Body.Close()
	res, err = cl.PostForm(link, neturl.Values{"last4": {last4}, "role": {"self"}})
	if err != nil || res.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST the last four: %v %v", res, err)
	}
	res.Body.Close()
	base := strings.TrimSuffix(link, link[strings.LastIndex(link, "/c/"):])
	var code string
	for code == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("the demo ended before printing the code")
			}
			if m := regexp.MustCompile(`^demo SMS to \d{3}\*{4}\d{4}: .*?(\d{6})`).FindStringSubmatch(l); m != nil {
				code = m[1]
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no SMS code printed")
		}
	}
	res, err = cl.PostForm(base+"/c/code", neturl.Values{"code": {code}})
	if err != nil || res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/c/me" {
		t.Fatalf("POST the code: %v %v", res, err)
	}
	res.Body.Close()
	res, err = cl.Get(base + "/c/me")
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET /c/me: %v %v", res, err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(b), `id="payment"`) {
		t.Fatalf("the status page:\n%s", b)
	}
}

// TestDemoClock: the demo's time keeps its day and runs with the wall clock's hours, so
// that codes, sessions and rate-limit windows end (a clock stopped at noon never ended
// them, and a throttled address stayed throttled across restarts).
func TestDemoClock(t *testing.T) {
	day := sc.MustDate("2025-12-31")
	wall := time.Date(2026, 12, 7, 1, 30, 0, 0, time.UTC) // 09:30 in Beijing
	clock := demoClock(day, func() time.Time { return wall })
	first := clock()
	if got := first.Format(time.RFC3339); got != "2025-12-31T09:30:00+08:00" {
		t.Fatalf("demo time %s", got)
	}
	wall = wall.Add(6 * time.Minute)
	if d := clock().Sub(first); d != 6*time.Minute {
		t.Fatalf("demo time moved %s in 6 wall minutes", d)
	}
	wall = time.Date(2026, 12, 7, 16, 30, 0, 0, time.UTC) // 00:30 on the next Beijing day
	if got := clock().Format(time.RFC3339); got != "2025-12-31T00:30:00+08:00" {
		t.Fatalf("past midnight: %s", got)
	}
}
