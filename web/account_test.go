package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	sc "github.com/silentcert/silentcert"
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

// TestOwnPasswordRenewsSession: a staff member's own password change, the forced first
// one of an account an administrator made too, replaces the session's token: the cookie
// set before it (taken by someone) opens nothing after it, the new cookie has the
// sign-in's attributes, and forms take the new session's CSRF token, not the old one's.
// The form sent again with the old cookie (a double tap) is answered as the first was;
// the old cookie with another new password is not.
func TestOwnPasswordRenewsSession(t *testing.T) {
	c := newCity(t, storetest.Open(t, "sqlite:"+filepath.Join(t.TempDir(), "t.db")))
	ad := c.client(t)
	ad.login("admin")
	ad.get("/admin/users")
	if st, _, body := ad.post("/admin/users", url.Values{"csrf": {ad.csrf}, "op": {"create"}, "name": {"v3"}, "password": {pw},
		"role": {"village"}, "region": {"371002001001"}}); st != http.StatusOK {
		t.Fatalf("a village account: %d\n%s", st, body)
	}
	for _, name := range []string{"v3", "operator"} { // forced, then by choice
		cl := c.client(t)
		cl.get("/login")
		res := cl.postRes("/login", url.Values{"csrf": {cl.csrf}, "name": {name}, "password": {pw}})
		signIn := sessionSet(t, res)
		if signIn == nil {
			t.Fatalf("%s: no session cookie at sign-in", name)
		}
		thief := c.client(t)
		thief.c.Jar.SetCookies(thief.url(), []*http.Cookie{{Name: signIn.Name, Value: signIn.Value}})
		if st, _ := thief.get("/account"); st != http.StatusOK {
			t.Fatalf("%s: the copied cookie before the change: %d", name, st)
		}
		cl.get("/account")
		old := cl.csrf
		form := url.Values{"csrf": {old}, "current": {pw}, "new": {ownPW}, "repeat": {ownPW}}
		res = cl.postRes("/account", form)
		changed := sessionSet(t, res)
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/account?changed=1" || changed == nil {
			t.Fatalf("%s: the change: %d %s, session cookie %v", name, res.StatusCode, res.Header.Get("Location"), changed)
		}
		if changed.Value == signIn.Value || changed.Value == "" {
			t.Errorf("%s: the change kept the session's token", name)
		}
		a, b := *signIn, *changed
		a.Value, b.Value, a.Raw, b.Raw = "", "", "", ""
		if fmt.Sprintf("%+v", a) != fmt.Sprintf("%+v", b) {
			t.Errorf("%s: the new cookie's attributes differ from the sign-in's:\n%+v\n%+v", name, b, a)
		}
		// The token from before the change opens nothing, nor changes the password again.
		if st, _ := thief.get("/account"); st != http.StatusSeeOther {
			t.Errorf("%s: the cookie from before the change still opens the account page: %d", name, st)
		}
		thief.c.Jar.SetCookies(thief.url(), []*http.Cookie{{Name: signIn.Name, Value: signIn.Value}})
		if st, _, body := thief.post("/account", url.Values{"csrf": {old}, "current": {ownPW}, "new": {"the thief's own words"}, "repeat": {"the thief's own words"}}); st != http.StatusUnauthorized || !strings.Contains(body, `action="/login"`) {
			t.Errorf("%s: the old cookie changing the password again: %d", name, st)
		}
		// The new session is the one that opens, and its forms take its own CSRF token.
		if st, body := cl.get("/account?changed=1"); st != http.StatusOK || !strings.Contains(body, "密码已修改") {
			t.Fatalf("%s: after the change: %d", name, st)
		}
		if cl.csrf == old {
			t.Errorf("%s: the new session has the old session's CSRF token", name)
		}
		if st, _, _ := cl.post("/lang", url.Values{"csrf": {old}, "lang": {"zh-CN"}, "back": {"/account"}}); st != http.StatusForbidden {
			t.Errorf("%s: a form with the old session's CSRF token: %d, want 403", name, st)
		}
		if st, loc, _ := cl.post("/lang", url.Values{"csrf": {cl.csrf}, "lang": {"zh-CN"}, "back": {"/account"}}); st != http.StatusSeeOther || loc != "/account" {
			t.Errorf("%s: a form with the new session's CSRF token: %d %s", name, st, loc)
		}
		// A double tap: the same form, with the cookie it was sent with, after the first
		// replaced the session, is answered with the new session.
		tap := c.client(t)
		tap.c.Jar.SetCookies(tap.url(), []*http.Cookie{{Name: signIn.Name, Value: signIn.Value}})
		res = tap.postRes("/account", form)
		if again := sessionSet(t, res); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/account?changed=1" || again == nil || again.Value != changed.Value {
			t.Errorf("%s: the form sent twice: %d %s, cookie %v", name, res.StatusCode, res.Header.Get("Location"), again)
		}
		if st, _ := tap.get("/account?changed=1"); st != http.StatusOK {
			t.Errorf("%s: the double tap's page: %d", name, st)
		}
		if st, _ := cl.get("/"); st != http.StatusOK && st != http.StatusSeeOther {
			t.Errorf("%s: home after the change: %d", name, st)
		}
	}
}

// postRes posts a form and returns the response, its body read and closed.
func (cl *client) postRes(path string, form url.Values) *http.Response {
	cl.t.Helper()
	res, err := cl.c.PostForm(cl.base+path, form)
	if err != nil {
		cl.t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res
}

// url is the console's address, for the client's cookie jar.
func (cl *client) url() *url.URL {
	u, err := url.Parse(cl.base)
	if err != nil {
		cl.t.Fatal(err)
	}
	return u
}

// sessionSet is the session cookie res sets (nil for none).
func sessionSet(t *testing.T, res *http.Response) *http.Cookie {
	t.Helper()
	var out *http.Cookie
	for _, ck := range res.Cookies() {
		if ck.Name == "sc_session" {
			if out != nil {
				t.Errorf("the session cookie set twice in one answer")
			}
			out = ck
		}
	}
	return out
}

// TestFormKeptOverForcedPassword: a visit sent after an administrator reset the
// assistant's password (which ended the session) is kept over the sign-in with the
// temporary password and over the forced choice of the assistant's own (a refused try
// too), then shown filled to be sent with a tap in the new session: never sent by
// itself, never lost.
func TestFormKeptOverForcedPassword(t *testing.T) {
	c := newCity(t, storetest.Open(t, "sqlite:"+filepath.Join(t.TempDir(), "t.db")))
	ctx := context.Background()
	zp, _ := c.db.PersonByID(ctx, zhang)
	zURL := fmt.Sprintf("/person/%d", zp.PID)
	v1 := c.clientAs(t, "v1")
	v1.get(zURL)
	ad := c.clientAs(t, "admin")
	_, body := ad.get("/admin/users")
	const temporary = "words the administrator chose"
	if st, _, body := ad.post("/admin/users", url.Values{"csrf": {ad.csrf}, "op": {"password"}, "id": {idOfAccount(t, body, "v1")}, "password": {temporary}}); st != http.StatusOK {
		t.Fatalf("the reset: %d\n%s", st, body)
	}
	st, _, body := v1.post(zURL+"/visit", url.Values{"csrf": {v1.csrf}, "once": {"55555555555555555555eeee"}, "outcome": {"death"}, "date": {"2024-02-20"}})
	if st != http.StatusUnauthorized || !strings.Contains(body, `name="carry.outcome" value="death"`) {
		t.Fatalf("the visit after the reset: %d, its fields not kept over the sign-in\n%s", st, body)
	}
	form := url.Values{"csrf": {csrfRE.FindStringSubmatch(body)[1]}, "name": {"v1"}, "password": {temporary}, "next": {zURL + "#h-visit"}}
	for _, m := range regexp.MustCompile(`name="(carry[._][a-z_]+)" value="([^"]*)"`).FindAllStringSubmatch(body, -1) {
		form.Add(m[1], m[2])
	}
	st, _, body = v1.post("/login", form)
	if st != http.StatusOK || !strings.Contains(body, `action="/account"`) || !strings.Contains(body, "临时密码") || !strings.Contains(body, "设置密码后可以再提交") {
		t.Fatalf("signed in with the temporary password: %d, want the password form saying the visit is kept\n%s", st, body)
	}
	// The password form carries the visit; a refused try keeps it.
	for try, repeat := range []string{ownPW + "x", ownPW} {
		m := csrfRE.FindStringSubmatch(body)
		change := url.Values{"csrf": {m[1]}, "current": {temporary}, "new": {ownPW}, "repeat": {repeat}}
		for _, m := range regexp.MustCompile(`<input type="hidden" name="((?:carry[._]|next)[a-z_]*)" value="([^"]*)">`).FindAllStringSubmatch(body, -1) {
			change.Add(m[1], m[2])
		}
		if change.Get("carry.outcome") != "death" || change.Get("carry_to") != zURL+"/visit" || change.Get("next") != zURL+"#h-visit" {
			t.Fatalf("try %d: the password form does not carry the visit: %v", try, change)
		}
		if p, _ := c.db.PersonByID(ctx, zhang); p.DeathDate != sc.NoDate {
			t.Fatal("the carried form was sent by itself")
		}
		st, _, body = v1.post("/account", change)
		if try == 0 && st != http.StatusBadRequest {
			t.Fatalf("the two new passwords differ: %d", st)
		}
	}
	if st != http.StatusOK || !strings.Contains(body, "密码已修改") || !strings.Contains(body, `<form method="post" action="`+zURL+`/visit"`) ||
		!strings.Contains(body, "提交刚才填写的内容") || !strings.Contains(body, `name="outcome" value="death"`) || !strings.Contains(body, `href="`+zURL+`#h-visit"`) {
		t.Fatalf("the password chosen: %d, want the visit's form filled with its button\n%s", st, body)
	}
	if p, _ := c.db.PersonByID(ctx, zhang); p.DeathDate != sc.NoDate {
		t.Fatal("the carried form was sent by itself")
	}
	resend := url.Values{}
	for _, m := range regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`).FindAllStringSubmatch(body, -1) {
		resend.Add(m[1], m[2])
	}
	st, loc, body := v1.post(zURL+"/visit", resend)
	if st != http.StatusSeeOther || !strings.HasPrefix(loc, zURL+"?done=") {
		t.Fatalf("the carried visit sent: %d %s\n%s", st, loc, body)
	}
	if p, _ := c.db.PersonByID(ctx, zhang); p.DeathDate.String() != "2024-02-20" {
		t.Errorf("the carried death was not recorded: %v", p.DeathDate)
	}
}
