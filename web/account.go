package web

import (
	"net/http"

	sc "github.com/silentcert/silentcert"
)

// account is the signed-in staff member's own page: who they are, and their password.
// An account whose password an administrator chose is sent here before anything else.
func (c *console) account(w http.ResponseWriter, r *http.Request) {
	c.accountPage(w, r, http.StatusOK, r.URL.Query().Get("changed") == "1", "", nil)
}

// accountPage shows the account page; k is a form kept over the sign-in (nil for none),
// carried in the password form to be shown once the password is chosen.
func (c *console) accountPage(w http.ResponseWriter, r *http.Request, status int, changed bool, errMsg string, k *kept) {
	c.render(w, r, status, "account", map[string]any{"Changed": changed, "Error": errMsg, "Home": c.home(reqOf(r).user), "Kept": k})
}

// accountPost changes the staff member's own password: the current one, the new one
// twice. The change replaces the session (a token taken before it opens nothing after):
// the answer sets the new one's cookie.
func (c *console) accountPost(w http.ResponseWriter, r *http.Request) {
	q := reqOf(r)
	next := r.PostFormValue("new")
	var tok string
	var err error
	if next != r.PostFormValue("repeat") {
		err = sc.Errorf(sc.EInvalid, "the two new passwords differ")
	} else {
		tok, err = c.auth.ChangeOwnPassword(r.Context(), q.sess, r.PostFormValue("current"), next)
	}
	switch code := sc.ErrorCode(err); {
	case err == nil:
		c.passwordChanged(w, r, tok)
	case code == sc.EInvalid:
		c.accountPage(w, r, http.StatusBadRequest, false, c.words(r, err), keptForm(r))
	default:
		c.fail(w, r, err)
	}
}

// passwordChanged answers a password form whose change started the session tok in place
// of the form's: its cookie, then the form kept over the sign-in when the form carried
// one (shown filled, to be sent with a tap in the new session, as after a sign-in), else
// a redirect to the account page, so that reloading the page sends nothing again.
func (c *console) passwordChanged(w http.ResponseWriter, r *http.Request, tok string) {
	c.setSession(w, r, tok)
	if k := keptForm(r); k != nil && c.signedIn(r, tok) {
		if k.Back == "/" {
			k.Back = c.home(reqOf(r).user)
		}
		c.render(w, r, http.StatusOK, "resend", map[string]any{"Action": k.To, "Fields": k.Fields, "Back": k.Back, "Changed": true})
		return
	}
	http.Redirect(w, r, "/account?changed=1", http.StatusSeeOther)
}
