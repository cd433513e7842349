package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

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
		var url string
		var out []string
		for sc.Scan() {
			out = append(out, sc.Text())
			if m := regexp.MustCompile(`console: (http://\S+)`).FindStringSubmatch(sc.Text()); m != nil {
				url = m[1]
			}
			if strings.Contains(sc.Text(), "village ") {
				break
			}
		}
		go io.Copy(io.Discard, pr)
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
		text := strings.Join(out, "\n")
		for _, role := range []string{"admin", "operator", "auditor", "district", "town", "village"} {
			if !strings.Contains(text, role) {
				t.Errorf("round %d: no %s login printed:\n%s", round, role, text)
			}
		}
		cancel()
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
