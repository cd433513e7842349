package web_test

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/silentcert/silentcert/auth"
	"github.com/silentcert/silentcert/store/storetest"
	"github.com/silentcert/silentcert/web"
)

// TestFormBodyBounded: a POST's body is read only as a console form: a multipart body
// (with a file part over the megabyte that net/http spools to the temp folder) is
// refused unread, whoever sends it, to whatever address, so that no file is left in the
// temp folder; a body larger than any form is refused (413) with words saying so; and
// the largest form, one carried over the sign-in page and sent again, still goes.
func TestFormBodyBounded(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t, "sqlite:"+t.TempDir()+"/w.db")
	a := auth.New(db, auth.Options{Hash: auth.HashParams{Time: 1, Memory: 64, Threads: 1}})
	if _, err := a.EnsureUser(ctx, "admin", pw, auth.RoleAdmin, ""); err != nil {
		t.Fatal(err)
	}
	h, err := web.New(web.Options{DB: db, Auth: a})
	if err != nil {
		t.Fatal(err)
	}
	spool := t.TempDir()
	t.Setenv("TMPDIR", spool) // os.TempDir: where multipart file parts are spooled
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c := &city{db: db, srv: srv}

	multipartPost := func(cl *client, path, csrf string) (int, string) {
		t.Helper()
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		if csrf != "" {
			mw.WriteField("csrf", csrf)
		}
		fw, _ := mw.CreateFormFile("photo", "big.jpg")
		fw.Write(bytes.Repeat([]byte{0xff}, 3<<20))
		mw.Close()
		req, _ := http.NewRequest(http.MethodPost, srv.URL+path, &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		res, err := cl.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	anon := c.client(t)
	anon.get("/login")
	admin := c.client(t)
	admin.login("admin")
	for _, s := range []struct {
		who        *client
		path, csrf string
	}{
		{anon, "/login", ""}, {anon, "/login", anon.csrf}, {anon, "/no/such/page", ""}, {anon, "/admin/keys", anon.csrf},
		{admin, "/admin/keys", admin.csrf}, {admin, "/no/such/page", admin.csrf},
	} {
		st, body := multipartPost(s.who, s.path, s.csrf)
		if st != http.StatusUnsupportedMediaType || !strings.Contains(body, "本系统的表单不上传文件") {
			t.Errorf("multipart POST %s (token %t): %d, want 415 with its words\n%s", s.path, s.csrf != "", st, body)
		}
	}
	if left, _ := os.ReadDir(spool); len(left) > 0 {
		var names []string
		for _, e := range left {
			names = append(names, e.Name())
		}
		t.Errorf("multipart POSTs left files in the temp folder: %v", names)
	}

	// A body larger than any form: refused, saying so, before its token is looked at.
	for _, path := range []string{"/login", "/no/such/page"} {
		st, _, body := anon.post(path, url.Values{"csrf": {anon.csrf}, "name": {"admin"}, "password": {pw}, "note": {strings.Repeat("x", 300<<10)}})
		if st != http.StatusRequestEntityTooLarge || !strings.Contains(body, "超过 256 KB") {
			t.Errorf("a form of 300 KB to %s: %d, want 413 with its words\n%s", path, st, body)
		}
	}

	// The largest form: 20 fields of 2000 bytes (Chinese: 6000 URL-encoded), carried over
	// the sign-in page, its token last in the body.
	long := strings.Repeat("长", 2000/len("长"))
	form := url.Values{"csrf": {anon.csrf}, "name": {"admin"}, "password": {pw}, "carry_to": {"/person/1/visit"}}
	for i := range 20 {
		form.Set("carry.f"+string(rune('a'+i)), long)
	}
	if n := len(form.Encode()); n < 120_000 {
		t.Fatalf("the largest form is %d bytes, want 120 kB", n)
	}
	st, _, body := anon.post("/login", form)
	if st != http.StatusOK || !strings.Contains(body, `id="resend"`) || strings.Count(body, long) < 20 {
		t.Fatalf("sign-in carrying the largest form: %d, want the form to send again\n%.2000s", st, body)
	}
	resend := url.Values{}
	for _, m := range regexp.MustCompile(`<input type="hidden" name="([a-z_.]+)" value="([^"]*)">`).FindAllStringSubmatch(body, -1) {
		resend.Add(m[1], m[2])
	}
	// Read whole (its token, after the fields, checked): answered by the visit's handler,
	// which has no intake here (409).
	if st, _, body := anon.post("/person/1/visit", resend); st != http.StatusConflict || !strings.Contains(body, "数据接收当前不可用") {
		t.Errorf("the largest form sent again: %d, want the visit's answer (409, no intake)\n%s", st, body)
	}
}
