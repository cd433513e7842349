package web_test

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/silentcert/silentcert/store/storetest"
	"github.com/silentcert/silentcert/web"
)

// TestCompress: pages, style and CSV go gzipped to a client that accepts it, the same
// bytes once unpacked, with Vary set; a client that does not, a q=0, a range and a
// spreadsheet get them plain.
func TestCompress(t *testing.T) {
	c := newCity(t, storetest.Open(t, "sqlite:"+t.TempDir()+"/w.db"))
	ctx := context.Background()
	zp, _ := c.db.PersonByID(ctx, zhang)
	op := c.clientAs(t, "operator")
	raw := &http.Client{Jar: op.c.Jar, Transport: &http.Transport{DisableCompression: true}}
	fetch := func(path, accept string, extra ...string) (*http.Response, []byte) {
		req, _ := http.NewRequest("GET", c.srv.URL+path, nil)
		if accept != "" {
			req.Header.Set("Accept-Encoding", accept)
		}
		for i := 0; i+1 < len(extra); i += 2 {
			req.Header.Set(extra[i], extra[i+1])
		}
		res, err := raw.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, b
	}
	unzip := func(b []byte) string {
		zr, err := gzip.NewReader(strings.NewReader(string(b)))
		if err != nil {
			t.Fatal(err)
		}
		out, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	person := fmt.Sprintf("/person/%d", zp.PID)
	plainRes, plain := fetch(person, "")
	zres, zbody := fetch(person, "br, gzip;q=0.8")
	if plainRes.Header.Get("Content-Encoding") != "" || zres.Header.Get("Content-Encoding") != "gzip" ||
		!strings.Contains(zres.Header.Get("Vary"), "Accept-Encoding") || len(zbody) >= len(plain) {
		t.Fatalf("the person page: plain %q, gzip %q (%d bytes against %d), Vary %q", plainRes.Header.Get("Content-Encoding"),
			zres.Header.Get("Content-Encoding"), len(zbody), len(plain), zres.Header.Get("Vary"))
	}
	// The page carries one-time keys, fresh each time: compare it without them.
	strip := func(s string) string {
		for {
			i := strings.Index(s, `name="once" value="`)
			if i < 0 {
				return s
			}
			s = s[:i] + s[i+len(`name="once" value="`)+24:]
		}
	}
	if got := unzip(zbody); strip(got) != strip(string(plain)) {
		t.Error("the page unpacked differs from the plain one")
	}
	css := regexp.MustCompile(`href="(/static/[^"]+\.css)"`).FindStringSubmatch(string(plain))
	if css == nil {
		t.Fatal("no style sheet on the page")
	}
	for _, path := range []string{css[1], "/work/pending/export?format=csv"} {
		if res, b := fetch(path, "gzip"); res.StatusCode != http.StatusOK || res.Header.Get("Content-Encoding") != "gzip" {
			t.Errorf("%s: %d, not compressed (%d bytes, %s)", path, res.StatusCode, len(b), res.Header.Get("Content-Type"))
		}
	}
	if res, _ := fetch(person, "gzip;q=0"); res.Header.Get("Content-Encoding") != "" {
		t.Error("gzip;q=0 was answered gzipped")
	}
	if res, _ := fetch(css[1], "gzip", "Range", "bytes=0-9"); res.Header.Get("Content-Encoding") != "" {
		t.Error("a range was answered gzipped")
	}
	// A flush before the first byte: the headers it sends say gzip when the body is.
	flushing := httptest.NewServer(web.Compress(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/csv")
		http.NewResponseController(w).Flush()
		io.WriteString(w, "a,b\n1,2\n")
	})))
	defer flushing.Close()
	req0, _ := http.NewRequest("GET", flushing.URL, nil)
	req0.Header.Set("Accept-Encoding", "gzip")
	res0, err := (&http.Client{Transport: &http.Transport{DisableCompression: true}}).Do(req0)
	if err != nil {
		t.Fatal(err)
	}
	b0, _ := io.ReadAll(res0.Body)
	res0.Body.Close()
	if res0.Header.Get("Content-Encoding") != "gzip" || unzip(b0) != "a,b\n1,2\n" {
		t.Errorf("flushed first: Content-Encoding %q, body %q", res0.Header.Get("Content-Encoding"), b0)
	}
	h := web.Compress(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
		w.Write([]byte("PK\x03\x04 already compressed"))
	}))
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/x.xlsx", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	h.ServeHTTP(rec, req)
	if rec.Header().Get("Content-Encoding") != "" || !strings.HasPrefix(rec.Body.String(), "PK") {
		t.Error("a spreadsheet was gzipped")
	}
}
