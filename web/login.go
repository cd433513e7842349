package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/auth"
)

// safeNext keeps a post-login redirect on this site: a local path, never "//host" nor
// anything a browser could read as one. Browsers drop tabs and line breaks from a URL and
// read "\\" as "/", so "/\t/evil.example" would leave the site: no control character and
// no backslash pass, and what is left must parse as a path with neither scheme nor host.
func safeNext(s string) string {
	if !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") || strings.ContainsRune(s, '\\') ||
		strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "/"
	}
	if u, err := url.Parse(s); err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") {
		return "/"
	}
	return s
}

func (c *console) loginPage(w http.ResponseWriter, r *http.Request) {
	if reqOf(r).user != nil {
		http.Redirect(w, r, c.home(reqOf(r).user), http.StatusSeeOther)
		return
	}
	c.render(w, r, http.StatusOK, "login", map[string]any{"Next": safeNext(r.URL.Query().Get("next"))})
}

func (c *console) home(u *auth.User) string {
	if u.Role == auth.RoleVillage {
		return "/village"
	}
	return "/"
}

// remoteIP is the address login throttling counts by (auth.ClientAddr; behind a reverse
// proxy with Options.BehindProxy).
func (c *console) remoteIP(r *http.Request) string { return auth.ClientAddr(r, c.opt.BehindProxy) }

func (c *console) loginPost(w http.ResponseWriter, r *http.Request) {
	name, pw := strings.TrimSpace(r.PostFormValue("name")), r.PostFormValue("password")
	next := safeNext(r.PostFormValue("next"))
	tok, u, err := c.auth.Login(r.Context(), name, pw, c.remoteIP(r))
	if err != nil {
		status, key := http.StatusUnauthorized, "login.failed"
		if errors.Is(err, auth.ErrThrottled) {
			status, key = http.StatusTooManyRequests, "login.throttled"
		} else if sc.ErrorCode(err) == sc.EBusy {
			status, key = http.StatusServiceUnavailable, "err.busy"
		} else if sc.ErrorCode(err) != sc.EUnauthorized {
			c.fail(w, r, err)
			return
		}
		data := map[string]any{"Next": next, "Error": key, "Name": name}
		if to, f := carriedLogin(r); f != nil { // kept for the next try
			data["CarryTo"], data["Carry"] = to, f
		}
		c.render(w, r, status, "login", data)
		return
	}
	// A new token on every login, replacing whatever cookie came in: a session id planted
	// before login never becomes a logged-in one.
	if old, err := r.Cookie(sessionCookie); err == nil && old.Value != "" {
		c.auth.Logout(r.Context(), old.Value, c.remoteIP(r))
	}
	c.setSession(w, r, tok)
	if next == "/" {
		next = c.home(u)
	}
	// A form whose session ended under it: shown again filled, to be sent with a tap, in
	// the new session (its CSRF token). An account that must first choose its own
	// password is shown the password form, which keeps the form until it is sent.
	if to, f := carriedLogin(r); f != nil {
		if c.signedIn(r, tok) {
			if reqOf(r).user.MustChange {
				c.accountPage(w, r, http.StatusOK, false, "", &kept{To: to, Fields: f, Back: next})
				return
			}
			c.render(w, r, http.StatusOK, "resend", map[string]any{"Action": to, "Fields": f, "Back": next})
			return
		}
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// setSession gives the browser the session token tok: the one cookie a sign-in and an
// own password change (which replaces the session) set alike.
func (c *console) setSession(w http.ResponseWriter, r *http.Request, tok string) {
	// Strict: a link from another site (a mail, a chat) opens the console logged out, so
	// that no page of it, an export (a GET that writes its audit row) above all, is
	// requested in the staff member's name by another site.
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: tok, Path: "/", HttpOnly: true, Secure: c.secure(r), SameSite: http.SameSiteStrictMode})
}

// signedIn makes the rest of request r, a page answering the form that started the
// session tok, run in that session (its account, language and CSRF token); false when
// tok opens no session.
func (c *console) signedIn(r *http.Request, tok string) bool {
	u, s, err := c.auth.Session(r.Context(), tok)
	if err != nil {
		return false
	}
	q := reqOf(r)
	q.user, q.sess, q.lang = u, s, c.pickLang(r, u)
	return true
}

func (c *console) logoutPost(w http.ResponseWriter, r *http.Request) {
	if ck, err := r.Cookie(sessionCookie); err == nil {
		c.auth.Logout(r.Context(), ck.Value, c.remoteIP(r))
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: c.secure(r), SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// langPost switches the language: the account's setting when logged in, a cookie before.
func (c *console) langPost(w http.ResponseWriter, r *http.Request) {
	lang := r.PostFormValue("lang")
	if c.cat[lang] == nil {
		c.fail(w, r, sc.Errorf(sc.EInvalid, "no language %q", lang))
		return
	}
	q := reqOf(r)
	if q.user != nil {
		if err := c.auth.SetLang(r.Context(), q.user.Name, q.user.ID, lang); err != nil {
			c.fail(w, r, err)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: lang, Path: "/", MaxAge: 365 * 86400, HttpOnly: true, Secure: c.secure(r), SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, safeNext(r.PostFormValue("back")), http.StatusSeeOther)
}
