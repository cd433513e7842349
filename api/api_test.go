package api_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/api"
	"github.com/silentcert/silentcert/auth"
	"github.com/silentcert/silentcert/service"
	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
)

const header = "record_id,source,type,person_id,name,birth_date,event_date,reported_date,region_code,detail\n"

func TestBatchesAPI(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			ctx := context.Background()
			db := dsn.Open(t)
			svc, keys, srv, secret, keyID := apiCity(t, db, 4096)
			post := func(key, ctype, body string) (int, map[string]any) {
				req, _ := http.NewRequest("POST", srv.URL+"/api/v1/batches", strings.NewReader(body))
				req.Header.Set("Content-Type", ctype)
				if key != "" {
					req.Header.Set("Authorization", "Bearer "+key)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				var out map[string]any
				json.NewDecoder(resp.Body).Decode(&out)
				return resp.StatusCode, out
			}
			good := header + "h1,HEA,HEA.CHECKUP,371002194003150019,张三,1940-03-15,2024-02-01,2024-02-02,,\n" +
				"h2,PSB,PSB.DEATH_DEREG,371002194003150019,张三,1940-03-15,2024-02-01,2024-02-02,,\n"
			code, out := post(secret, "text/csv", good)
			if code != http.StatusCreated {
				t.Fatalf("good batch: %d %v", code, out)
			}
			rep := out["report"].(map[string]any)
			if rep["applied"].(float64) != 1 || rep["quarantined"].(float64) != 1 {
				t.Fatalf("report %v", rep)
			}
			// Resent: harmless.
			if code, out = post(secret, "text/csv", good); code != http.StatusCreated || out["report"].(map[string]any)["duplicate"].(float64) != 1 {
				t.Fatalf("resend: %d %v", code, out)
			}
			if code, _ = post("sck_wrong", "text/csv", good); code != http.StatusUnauthorized {
				t.Fatalf("wrong key: %d", code)
			}
			// A key limited to face certifications cannot settle a disputed death.
			faceKey, _, err := keys.CreateAPIKey(ctx, "admin", "HRSS", "face app", []string{"HRSS.FACE"})
			if err != nil {
				t.Fatal(err)
			}
			code, out = post(faceKey, "text/csv", header+
				"f1,HRSS,HRSS.FACE,371002194003150019,张三,1940-03-15,2024-02-03,2024-02-03,,\n"+
				"f2,HRSS,HRSS.REVIEW,371002194003150019,张三,1940-03-15,2024-02-03,2024-02-03,,accept=death;ref=PSB:x\n")
			if code != http.StatusCreated || out["report"].(map[string]any)["applied"].(float64) != 1 ||
				!strings.Contains(fmt.Sprint(out["quarantine"]), "type_not_allowed_for_key") {
				t.Fatalf("limited key: %d %v", code, out)
			}
			// It reads its own batch's report, not its department's others'.
			read := func(key string, id any) int {
				req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/v1/batches/%v", srv.URL, id), nil)
				req.Header.Set("Authorization", "Bearer "+key)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return resp.StatusCode
			}
			hrss, _, _ := keys.CreateAPIKey(ctx, "admin", "HRSS", "business system", nil)
			_, mine := post(hrss, "text/csv", header+"f3,HRSS,HRSS.FACE,371002194003150019,张三,1940-03-15,2024-02-04,2024-02-04,,\n")
			if read(faceKey, out["batch_id"]) != http.StatusOK || read(faceKey, mine["batch_id"]) != http.StatusNotFound ||
				read(hrss, out["batch_id"]) != http.StatusOK {
				t.Fatalf("limited key's reads: %v %v", out["batch_id"], mine["batch_id"])
			}
			if code, _ = post("", "text/csv", good); code != http.StatusUnauthorized {
				t.Fatalf("no key: %d", code)
			}
			if code, _ = post(secret, "text/csv", header+strings.Repeat("h9,HEA,HEA.CHECKUP,371002194003150019,张三,1940-03-15,2024-02-01,2024-02-02,,\n", 100)); code != http.StatusRequestEntityTooLarge {
				t.Fatalf("oversized: %d", code)
			}
			if code, _ = post(secret, "application/pdf", good); code != http.StatusBadRequest {
				t.Fatalf("bad type: %d", code)
			}
			// A gzip body under the limit that unpacks past it (a decompression bomb): refused
			// whole, nothing applied.
			var zb bytes.Buffer
			zw := gzip.NewWriter(&zb)
			zw.Write([]byte(header + strings.Repeat("z1,HEA,HEA.CHECKUP,371002194003150019,张三,1940-03-15,2024-02-01,2024-02-02,,\n", 5000)))
			zw.Close()
			if zb.Len() >= 4096 {
				t.Fatalf("the bomb is %d bytes compressed", zb.Len())
			}
			req, _ := http.NewRequest("POST", srv.URL+"/api/v1/batches", bytes.NewReader(zb.Bytes()))
			req.Header.Set("Content-Type", "text/csv")
			req.Header.Set("Content-Encoding", "gzip")
			req.Header.Set("Authorization", "Bearer "+secret)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var bomb map[string]any
			json.NewDecoder(resp.Body).Decode(&bomb)
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(fmt.Sprint(bomb), "decompressed") {
				t.Fatalf("a gzip bomb: %d %v", resp.StatusCode, bomb)
			}
			// The audit trail names the key a batch came with.
			rows, err := svc.DB().Trail(ctx, store.TrailQuery{Kind: "batch", From: sc.NoDate, To: sc.NoDate})
			if err != nil || len(rows) == 0 || rows[0].Actor != fmt.Sprintf("api:HEA#%d", keyID) {
				t.Fatalf("the batches' actor: %+v %v", rows, err)
			}
			// The batch's report and quarantine come back; another source's key sees nothing.
			get := func(key string, id float64) int {
				req, _ := http.NewRequest("GET", srv.URL+"/api/v1/batches/"+strings.TrimSuffix(strings.TrimSuffix(jsonNum(id), ".0"), ".00"), nil)
				req.Header.Set("X-API-Key", key)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return resp.StatusCode
			}
			_, first := post(secret, "text/csv", good)
			id := first["batch_id"].(float64)
			if c := get(secret, id); c != http.StatusOK {
				t.Fatalf("get batch: %d", c)
			}
			other, _, _ := keys.CreateAPIKey(ctx, "admin", "TRN", "transit", nil)
			if c := get(other, id); c != http.StatusNotFound {
				t.Fatalf("another source's batch: %d", c)
			}
			// The key store down: 503, not "revoked".
			down := httptest.NewServer(api.New(api.Options{Service: svc, Keys: brokenKeys{}, MaxBody: 4096}))
			defer down.Close()
			req, _ = http.NewRequest("POST", down.URL+"/api/v1/batches", strings.NewReader(good))
			req.Header.Set("Content-Type", "text/csv")
			req.Header.Set("Authorization", "Bearer "+secret)
			if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusServiceUnavailable {
				t.Fatalf("keys unavailable: %v %v", resp, err)
			} else {
				resp.Body.Close()
			}
			for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
				resp, err := http.Get(srv.URL + p)
				if err != nil || resp.StatusCode != 200 {
					t.Fatalf("%s: %v %v", p, resp, err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				// The wrong key above, and the one sent after it was revoked, are counted.
				if p == "/metrics" && !regexp.MustCompile(`(?m)^silentcert_api_keys_refused_total [1-9]`).Match(b) {
					t.Errorf("refused keys not counted:\n%s", b)
				}
				// The gzip bomb's batch, refused whole, is counted (refused batches were
				// counted nowhere).
				if p == "/metrics" && !regexp.MustCompile(`(?m)^silentcert_batches_refused_total [1-9]`).Match(b) {
					t.Errorf("refused batches not counted:\n%s", b)
				}
			}
			// With a metrics token, /metrics asks for it; the probes stay open.
			tok := httptest.NewServer(api.New(api.Options{Service: svc, Keys: brokenKeys{}, MetricsToken: "m3tr1cs"}))
			defer tok.Close()
			for _, c := range []struct {
				path, auth string
				want       int
			}{
				{"/metrics", "", http.StatusUnauthorized}, {"/metrics", "Bearer wrong", http.StatusUnauthorized},
				{"/metrics", "m3tr1cs", http.StatusUnauthorized}, {"/metrics", "Bearer m3tr1cs", http.StatusOK},
				{"/healthz", "", http.StatusOK}, {"/readyz", "", http.StatusOK},
			} {
				req, _ := http.NewRequest("GET", tok.URL+c.path, nil)
				if c.auth != "" {
					req.Header.Set("Authorization", c.auth)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil || resp.StatusCode != c.want {
					t.Fatalf("%s with %q: %v %v, want %d", c.path, c.auth, resp, err, c.want)
				}
				resp.Body.Close()
			}
		})
	}
}

// brokenKeys is a key store whose database is down.
type brokenKeys struct{}

func (brokenKeys) APIKey(context.Context, string) (auth.APIKey, error) {
	return auth.APIKey{}, errors.New("connection refused")
}

func jsonNum(f float64) string { b, _ := json.Marshal(f); return string(b) }

// TestQuarantinePages: a batch with more quarantined rows than one answer lists says how
// many there are and where the next ones are; every row can be read, page by page.
func TestQuarantinePages(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t, "sqlite:"+t.TempDir()+"/t.db")
	svc, _, srv, secret, _ := apiCity(t, db, 0)
	do := func(method, path, body string) (int, map[string]any) {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "text/csv")
		req.Header.Set("Authorization", "Bearer "+secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	var b strings.Builder
	b.WriteString(header)
	for i := range 2500 {
		fmt.Fprintf(&b, "q%d,HEA,HEA.CHECKUP,371002194003150019,,,not-a-date,,,\n", i)
	}
	code, out := do("POST", "/api/v1/batches", b.String())
	if code != http.StatusCreated || len(out["quarantine"].([]any)) != 1000 || out["quarantine_total"].(float64) != 2500 {
		t.Fatalf("%d: %d listed of %v", code, len(out["quarantine"].([]any)), out["quarantine_total"])
	}
	lines := map[float64]bool{}
	for next, _ := out["quarantine_next"].(string); next != ""; next, _ = out["quarantine_next"].(string) {
		if code, out = do("GET", next, ""); code != http.StatusOK {
			t.Fatalf("%s: %d %v", next, code, out)
		}
		for _, q := range out["quarantine"].([]any) {
			lines[q.(map[string]any)["line"].(float64)] = true
		}
	}
	if len(lines) != 1500 || !lines[1002] || !lines[2501] {
		t.Errorf("the pages after the first hold %d rows, want 1500 (lines 1002 to 2501)", len(lines))
	}
	// A batch of the key's source that did not come through the API is not the key's.
	res, err := svc.Ingest(ctx, service.Batch{Origin: "console", Source: "HEA", Actor: "operator",
		Files: []service.File{{Name: "console.csv", Body: strings.NewReader(header)}}})
	if err != nil {
		t.Fatal(err)
	}
	if code, _ := do("GET", fmt.Sprintf("/api/v1/batches/%d", res.BatchID), ""); code != http.StatusNotFound {
		t.Errorf("a console batch read with the source's key: %d", code)
	}
	id := fmt.Sprint(out["batch_id"])
	if code, _ := do("GET", "/api/v1/batches/"+id+"?quarantine_from=-1", ""); code != http.StatusBadRequest {
		t.Errorf("a negative start: %d", code)
	}
	if code, out := do("GET", "/api/v1/batches/"+id+"?quarantine_from=9999", ""); code != http.StatusOK || len(out["quarantine"].([]any)) != 0 {
		t.Errorf("past the end: %d %v", code, out["quarantine"])
	}
}

// TestRevokedWhileArriving: a key revoked while its batch's body is still arriving gets
// no record of it applied (the key was checked when the request began): 401, nothing
// stored; the key's next request is refused at once.
func TestRevokedWhileArriving(t *testing.T) {
	// A body applied, and one refused whole (its header holds a CR): neither is stored.
	bodies := [][2]string{
		{header, "late1,HEA,HEA.CHECKUP,371002194003150019,张三,1940-03-15,2024-02-01,2024-02-02,,\n"},
		{"record_id,source,type,person_id,event_date", "\rlate2,HEA,HEA.CHECKUP,371002194003150019,2024-02-01\r"},
	}
	for _, dsn := range storetest.DSNs(t) {
		for i, body := range bodies {
			t.Run(fmt.Sprintf("%s/%d", dsn.Name, i), func(t *testing.T) {
				ctx := context.Background()
				db := dsn.Open(t)
				_, keys, srv, secret, keyID := apiCity(t, db, 1<<20)
				pr, pw := io.Pipe()
				req, _ := http.NewRequest("POST", srv.URL+"/api/v1/batches", pr)
				req.Header.Set("Content-Type", "text/csv")
				req.Header.Set("Authorization", "Bearer "+secret)
				done := make(chan *http.Response, 1)
				go func() {
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Error(err)
					}
					done <- resp
				}()
				io.WriteString(pw, body[0])
				// The head is through (the key checked): revoke, then send the rest.
				time.Sleep(200 * time.Millisecond)
				if err := keys.RevokeAPIKey(ctx, "admin", keyID); err != nil {
					t.Fatal(err)
				}
				io.WriteString(pw, body[1])
				pw.Close()
				resp := <-done
				if resp == nil {
					return
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusUnauthorized {
					t.Errorf("a batch whose key was revoked while it arrived: %d", resp.StatusCode)
				}
				var n int
				if err := db.Reader().QueryRow(`SELECT count(*) FROM batches WHERE origin = 'api'`).Scan(&n); err != nil || n != 0 {
					t.Errorf("%d batches of it stored (%v)", n, err)
				}
			})
		}
	}
}

// TestCharset: Content-Type's charset= forces the body's encoding. A GBK body whose first
// 64 KiB are ASCII is not detected as GBK, and its later Chinese rows were quarantined as
// undecodable; an unknown charset is refused.
func TestCharset(t *testing.T) {
	db := storetest.Open(t, "sqlite:"+t.TempDir()+"/t.db")
	_, _, srv, secret, _ := apiCity(t, db, 0)
	var b bytes.Buffer
	b.WriteString(header)
	for i := 0; b.Len() < 70_000; i++ {
		fmt.Fprintf(&b, "a%d,HEA,HEA.CHECKUP,371002194003150019,,,2024-01-02,,,\n", i)
	}
	gbk, _ := simplifiedchinese.GBK.NewEncoder().String("z1,HEA,HEA.CHECKUP,371002194003150019,张三,,2024-01-02,,,\n")
	b.WriteString(gbk)
	body := b.Bytes()
	post := func(ctype string) (int, map[string]any) {
		req, _ := http.NewRequest("POST", srv.URL+"/api/v1/batches", bytes.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		req.Header.Set("Authorization", "Bearer "+secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	code, out := post("text/csv; charset=GBK")
	if code != http.StatusCreated || out["report"].(map[string]any)["quarantined"].(float64) != 0 {
		t.Fatalf("charset=GBK: %d %v", code, out["report"])
	}
	if code, _ := post("text/csv; charset=US-ASCII"); code != http.StatusCreated {
		t.Errorf("charset=US-ASCII (a client's default): %d", code)
	}
	if code, _ := post("text/csv; charset=latin1"); code != http.StatusBadRequest {
		t.Errorf("charset=latin1: %d", code)
	}
	// A UTF-8 body holding Chinese sent as charset=gbk is read as the UTF-8 it is (as GBK
	// its names were garbage, and its records held as name mismatches), with a warning.
	body = []byte(header + "u1,HEA,HEA.CHECKUP,371002194003150019,张三,,2024-01-02,,,\n")
	code, out = post("text/csv; charset=gbk")
	rep, _ := out["report"].(map[string]any)
	if code != http.StatusCreated || rep["held"] != 0.0 || rep["applied"] != 1.0 ||
		!strings.Contains(fmt.Sprint(rep["warnings"]), "forced encoding gbk not applied") || fmt.Sprint(rep["encodings"]) != "map[api-HEA:utf-8]" {
		t.Errorf("utf-8 body, charset=gbk: %d %v", code, rep)
	}
}

// apiCity serves the API over a service on db holding the scenario's roster, with a
// hospital's key (its secret and id).
func apiCity(t *testing.T, db *store.DB, maxBody int64) (*service.Service, *auth.Service, *httptest.Server, string, int64) {
	t.Helper()
	ctx := context.Background()
	svc, err := service.Open(ctx, db, service.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ImportRoster(ctx, "../backtest/testdata/scenario/roster.csv", "", "test"); err != nil {
		t.Fatal(err)
	}
	keys := auth.New(db, auth.Options{})
	secret, keyID, err := keys.CreateAPIKey(ctx, "admin", "HEA", "hospital feed", nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.New(api.Options{Service: svc, Keys: keys, MaxBody: maxBody}))
	t.Cleanup(srv.Close)
	return svc, keys, srv, secret, keyID
}

// TestIdempotencyKey: a batch sent again with its Idempotency-Key (a retry after a lost
// answer) is answered with the batch it made, and stores nothing new — not its quarantined
// rows again; the key used for another body is refused (422) without applying it; another
// API key's same value is its own; a malformed key is refused before the body is read.
func TestIdempotencyKey(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			ctx := context.Background()
			db := dsn.Open(t)
			_, keys, srv, secret, _ := apiCity(t, db, 0)
			other, _, err := keys.CreateAPIKey(ctx, "admin", "HEA", "second system", nil)
			if err != nil {
				t.Fatal(err)
			}
			post := func(key, idem, body string) (*http.Response, map[string]any) {
				req, _ := http.NewRequest("POST", srv.URL+"/api/v1/batches", strings.NewReader(body))
				req.Header.Set("Content-Type", "text/csv")
				req.Header.Set("Authorization", "Bearer "+key)
				req.Header.Set("Idempotency-Key", idem)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				var out map[string]any
				json.NewDecoder(resp.Body).Decode(&out)
				return resp, out
			}
			count := func(table string) (n int) {
				if err := db.SQL().QueryRowContext(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			body := header + "i1,HEA,HEA.CHECKUP,371002194003150019,,,2024-02-01,2024-02-02,,\n" +
				"i2,HEA,HEA.CHECKUP,371002194003150019,,,not-a-date,,,\n"
			first, out := post(secret, "3f2b9c1e-0001", body)
			if first.StatusCode != http.StatusCreated || first.Header.Get("Idempotent-Replayed") != "" {
				t.Fatalf("first sending: %d %v", first.StatusCode, out)
			}
			id := out["batch_id"]
			batches, quarantined := count("batches"), count("quarantine")
			again, out := post(secret, "3f2b9c1e-0001", body)
			if again.StatusCode != http.StatusCreated || again.Header.Get("Idempotent-Replayed") != "true" || out["batch_id"] != id ||
				again.Header.Get("Location") != first.Header.Get("Location") || out["quarantine_total"].(float64) != 1 {
				t.Fatalf("sent again: %d %v %v", again.StatusCode, again.Header, out)
			}
			if count("batches") != batches || count("quarantine") != quarantined {
				t.Fatalf("sent again: %d batches, %d quarantined rows; want %d, %d", count("batches"), count("quarantine"), batches, quarantined)
			}
			changed := strings.Replace(body, "2024-02-01", "2024-02-03", 1)
			if resp, out := post(secret, "3f2b9c1e-0001", changed); resp.StatusCode != http.StatusUnprocessableEntity ||
				!strings.Contains(fmt.Sprint(out["error"]), fmt.Sprintf("batch %v", id)) || count("batches") != batches {
				t.Fatalf("the key reused for another body: %d %v (%d batches)", resp.StatusCode, out, count("batches"))
			}
			if resp, out := post(other, "3f2b9c1e-0001", body); resp.StatusCode != http.StatusCreated || out["batch_id"] == id ||
				resp.Header.Get("Idempotent-Replayed") != "" {
				t.Fatalf("another API key's same value: %d %v", resp.StatusCode, out)
			}
			// A refused batch sent again is answered with its refusal, as the first time.
			bad := "record_id,source,type,person_id,event_date\r\rx"
			r1, o1 := post(secret, "3f2b9c1e-0002", bad)
			r2, o2 := post(secret, "3f2b9c1e-0002", bad)
			if r1.StatusCode != http.StatusUnprocessableEntity || r2.StatusCode != http.StatusUnprocessableEntity ||
				o1["batch_id"] != o2["batch_id"] || o2["error"] != o1["error"] || r2.Header.Get("Idempotent-Replayed") != "true" {
				t.Fatalf("a refused batch sent again: %d %v / %d %v", r1.StatusCode, o1, r2.StatusCode, o2)
			}
			for _, k := range []string{"has space", strings.Repeat("k", 129), "键"} {
				if resp, _ := post(secret, k, body); resp.StatusCode != http.StatusBadRequest {
					t.Errorf("Idempotency-Key %q: %d", k, resp.StatusCode)
				}
			}
		})
	}
}
