package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/silentcert/silentcert/store/storetest"
)

// TestOwnPassword: an account an administrator made is sent to choose its own password
// before any other page, and can act once it has; every staff member can change theirs;
// an administrator cannot set their own without the current one.
func TestOwnPassword(t *testing.T) {
	c := newCity(t, storetest.Open(t, "sqlite:"+filepath.Join(t.TempDir(), "t.db")))
	ad := c.client(t)
	ad.login("admin")
	ad.get("/admin/users")
	if st, _, body := ad.post("/admin/users", url.Values{"csrf": {ad.csrf}, "op": {"create"}, "name": {"v3"}, "password": {pw},
		"role": {"village"}, "region": {"371002001001"}}); st != http.StatusOK || !strings.Contains(body, "待本人改密码") {
		t.Fatalf("a village account: %d, not marked as waiting for its own password", st)
	}
	v := c.client(t)
	v.get("/login")
	if st, loc, _ := v.post("/login", url.Values{"csrf": {v.csrf}, "name": {"v3"}, "password": {pw}}); st != http.StatusSeeOther || loc != "/village" {
		t.Fatalf("login: %d %s", st, loc)
	}
	for _, path := range []string{"/village", "/", "/search?q=张", "/person/1", "/work/due/export?format=csv"} {
		res, err := v.c.Get(v.base + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/account" {
			t.Errorf("GET %s before choosing a password: %d %s", path, res.StatusCode, res.Header.Get("Location"))
		}
	}
	st, body := v.get("/account")
	if st != http.StatusOK || !strings.Contains(body, "临时密码") || !strings.Contains(body, `autocomplete="current-password"`) {
		t.Fatalf("the account page: %d\n%s", st, body)
	}
	if st, _, _ := v.post("/person/1/visit", url.Values{"csrf": {v.csrf}, "outcome": {"notfound"}, "date": {"2024-05-08"}}); st != http.StatusForbidden {
		t.Errorf("a visit before choosing a password: %d, want 403", st)
	}
	// Refusals keep the page, in Chinese.
	for _, f := range []struct{ current, next, repeat, says string }{
		{pw, ownPW, ownPW + "x", "两次输入的新密码不一致"},
		{"not the password", ownPW, ownPW, "当前密码不正确"},
		{pw, pw, pw, "新密码与当前密码相同"},
	} {
		st, _, body := v.post("/account", url.Values{"csrf": {v.csrf}, "current": {f.current}, "new": {f.next}, "repeat": {f.repeat}})
		if st != http.StatusBadRequest || !strings.Contains(body, f.says) {
			t.Errorf("change %+v: %d, not %q", f, st, f.says)
		}
	}
	if st, loc, body := v.post("/account", url.Values{"csrf": {v.csrf}, "current": {pw}, "new": {ownPW}, "repeat": {ownPW}}); st != http.StatusSeeOther || loc != "/account?changed=1" {
		t.Fatalf("the change: %d %s %s", st, loc, body)
	}
	if st, body := v.get("/account?changed=1"); st != http.StatusOK || !strings.Contains(body, "密码已修改") || strings.Contains(body, "临时密码") {
		t.Errorf("after the change: %d\n%s", st, body)
	}
	if st, _ := v.get("/village"); st != http.StatusOK {
		t.Errorf("the village page after the change: %d", st)
	}
	// The administrator's own password is not set from the accounts page.
	_, body = ad.get("/admin/users")
	adminID := idOfAccount(t, body, "admin")
	if st, _, body := ad.post("/admin/users", url.Values{"csrf": {ad.csrf}, "op": {"password"}, "id": {adminID}, "password": {"a new one for me"}}); st != http.StatusBadRequest || !strings.Contains(body, "我的账户") {
		t.Errorf("an administrator setting their own password on the accounts page: %d", st)
	}
	// Every page links to the account page.
	if _, body := ad.get("/"); !strings.Contains(body, `href="/account"`) {
		t.Error("no link to the account page")
	}
}

// idOfAccount finds the id of account name in the accounts page.
func idOfAccount(t *testing.T, body, name string) string {
	t.Helper()
	i := strings.Index(body, fmt.Sprintf(`<th scope="row">%s</th>`, name))
	if i < 0 {
		t.Fatalf("no account %s on the page", name)
	}
	rest := body[i:]
	j := strings.Index(rest, `name="id" value="`)
	rest = rest[j+len(`name="id" value="`):]
	return rest[:strings.IndexByte(rest, '"')]
}
