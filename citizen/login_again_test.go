package citizen

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/silentcert/silentcert/store/storetest"
)

// TestLinkUsersKeepTheirLink: a pensioner who came by the SMS's link is never sent to the
// login by the whole ID number while their link still works: "get a new code" and an
// expired code lead back to the link (the last four again); once signed in, the link
// again (the back button) opens their page, not "this link has expired"; the code page
// with nothing waiting does too. Someone else's link still opens its own login, and a
// login by ID number starts over by ID number.
func TestLinkUsersKeepTheirLink(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			c := newCity(t, dsn.Open(t), nil)
			cl := c.browser(t)
			u := c.link(t, zhang, 72*time.Hour)
			last4 := url.Values{"last4": {zhang[14:]}}
			if st, loc, _ := post(t, cl, c.srv.URL+u, last4); st != http.StatusSeeOther || loc != "/c/code" {
				t.Fatalf("last4: %d %s", st, loc)
			}
			code, _ := c.code(t)
			if _, body := get(t, cl, c.srv.URL+"/c/code"); !strings.Contains(body, `id="code-again" href="`+u+`"`) {
				t.Fatalf("the code page's new code does not lead back to the link:\n%s", body)
			}
			c.clock.Add(6 * time.Minute)
			_, _, body := post(t, cl, c.srv.URL+"/c/code", url.Values{"code": {code}})
			if !strings.Contains(body, msg(langZH, "msg_code_expired")) || !strings.Contains(body, `href="`+u+`"`) {
				t.Fatalf("an expired code does not lead back to the link:\n%s", body)
			}
			if st, body := get(t, cl, c.srv.URL+u); st != http.StatusOK || !strings.Contains(body, `name="last4"`) {
				t.Fatalf("the link after an expired code: %d", st)
			}
			post(t, cl, c.srv.URL+u, last4)
			code, _ = c.code(t)
			if st, loc, _ := post(t, cl, c.srv.URL+"/c/code", url.Values{"code": {code}}); st != http.StatusSeeOther || loc != "/c/me" {
				t.Fatalf("code: %d %s", st, loc)
			}

			// Signed in: back to the used link, or to the code page.
			for _, path := range []string{u, "/c/code"} {
				resp, err := cl.Get(c.srv.URL + path)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/c/me" {
					t.Errorf("%s with a session: %d %s, want their page", path, resp.StatusCode, resp.Header.Get("Location"))
				}
			}
			// Another person's link is theirs to use.
			if _, body := get(t, cl, c.srv.URL+c.link(t, li, time.Hour)); !strings.Contains(body, `name="last4"`) {
				t.Error("with 张三 signed in, 李秀英's link does not open")
			}
			// Without the session, the used link says so.
			if _, body := get(t, c.browser(t), c.srv.URL+u); !strings.Contains(body, msg(langZH, "msg_link_invalid")) {
				t.Error("a used link opens for a phone with no session")
			}
			// A login by ID number starts over by ID number.
			post(t, cl, c.srv.URL+"/c/login", url.Values{"id": {zhang}})
			c.code(t)
			if _, body := get(t, cl, c.srv.URL+"/c/code"); !strings.Contains(body, `id="code-again" href="/c/login"`) {
				t.Fatalf("after a login by ID number the new code leads to:\n%s", body)
			}
		})
	}
}
