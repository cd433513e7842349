// Package web is the staff console: server-rendered pages for the bureau's operators,
// auditors, district and town staff and village assistants, with their own scoped views,
// worklists and exports, and the forms that turn a visit or a review into a record. It
// reads through store, writes only through an Ingester (the same path as any department's
// data) and auth; it must never change a person's state itself, never show a person
// outside the user's region, and never answer a POST without a valid CSRF token.
package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/auth"
	"github.com/silentcert/silentcert/divisions"
	"github.com/silentcert/silentcert/internal/form"
	"github.com/silentcert/silentcert/store"
)

// Submission is a small exchange-v1 records file the console hands to ingestion: a visit
// outcome or a conflict review, written by a staff member.
type Submission struct {
	Source string  // "CMT" or "HRSS"
	Actor  string  // the user's name
	Day    sc.Date // the console's day
	Name   string  // the file's name in the batch report
	Body   []byte  // an exchange-v1 records CSV with its header
	// Audit, when set, is the staff action's audit row, written in the batch's own
	// transaction (the record and the action both, or neither) with the batch's number
	// and counts added to its Detail.
	Audit *store.AuditRow
	// Key, when set, makes the submission once: sent again (a double tap, however close
	// together), it does nothing and its Receipt is the first's batch, Repeat.
	Key string
	// KeyForm is stored with Key: the form's fingerprint and what it recorded (formPrint),
	// to tell the form sent twice from a changed one sent with the same key.
	KeyForm string
	// Check, when set, is called in the batch's transaction before anything of it is
	// stored, to decide from what the transaction sees rather than from the page the
	// form was read with (a batch, a day's run or another staff member's form may have
	// changed the person since): an error refuses the submission, nothing stored. It is
	// not called for a submission whose Key is stored already (a repeat, which does
	// nothing).
	Check func(tx *store.Tx) error
}

// Receipt is what ingestion reports about a Submission.
type Receipt struct {
	BatchID                                         int64
	Applied, Duplicate, Quarantined, Held, Unlinked int64
	Problems                                        []string // each quarantined row: file, line, field, reason
	Repeat                                          bool     // the Key's batch was stored before: nothing done
}

// Ingester applies a Submission as a batch, so that the console writes through the same
// pipeline as the departments; the service implements it, tests fake it.
type Ingester interface {
	Ingest(ctx context.Context, s Submission) (*Receipt, error)
}

// Options are what the console is built from.
type Options struct {
	DB     *store.DB
	Auth   *auth.Service
	Ingest Ingester
	Secure bool // served over TLS: cookies get the Secure attribute, whatever the request
	// BehindProxy: one reverse proxy fronts the console and appends the client's address
	// to X-Forwarded-For; login throttling counts by that address, not the proxy's. Its
	// X-Forwarded-Proto: https marks the request's cookies Secure.
	BehindProxy bool
	Log         *slog.Logger
	Now         func() time.Time
	// Today is the console's day (the service's, which in the demo is the last simulated
	// day); by default the date of Now in UTC+8.
	Today func() sc.Date
	// Divisions names the codes; the embedded NBS table by default.
	Divisions *divisions.Table
	// Faces is the face certification flow (FromCitizen): the review queue and the visit
	// list; nil leaves those pages out.
	Faces FaceReviews
	// Benefits names the entitlement codes (the configuration's); spec §5's by default.
	Benefits []sc.Benefit
	// Catalogue names the record types (the configuration's); the default catalogue's by
	// default.
	Catalogue *sc.Catalogue
	// Recoveries is the money to recover (the service); nil leaves the recovery pages out.
	Recoveries Recoveries
	// WarningMonths is the policy's warning window (spec §6, 2 by default): the dashboard's
	// "expiring" figure counts the people in it, and its list shows them by default.
	WarningMonths int
	// WriteWait bounds how long a staff action's own write (an export's audit row, a
	// recovery entry, a held record's review) waits for the database's writers' turn, which
	// a large batch or a payroll day holds for minutes: then the action is refused, busy,
	// having done nothing (store.StaffWait by default).
	WriteWait time.Duration
}

// console is the handler: its pages, assets and catalogs.
type console struct {
	opt    Options
	db     *store.DB
	auth   *auth.Service
	log    *slog.Logger
	pages  *pages
	assets *assets
	cat    catalogs
	div    *divisions.Table
	places func() *divisions.Resolver // the whole country's address resolver, built at its first use
	mux    *http.ServeMux
	// exports holds a token for each export being sent (maxExports).
	exports chan struct{}
}

// New checks its templates, catalogs and assets and returns the console's handler.
func New(opt Options) (http.Handler, error) {
	c, err := newConsole(opt)
	if err != nil {
		return nil, err
	}
	return Compress(c), nil
}

func newConsole(opt Options) (*console, error) {
	if opt.DB == nil || opt.Auth == nil {
		return nil, errors.New("web: Options.DB and Options.Auth are required")
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Today == nil {
		now := opt.Now
		opt.Today = func() sc.Date {
			t := now().In(time.FixedZone("CST", 8*3600))
			return sc.MakeDate(t.Year(), int(t.Month()), t.Day())
		}
	}
	if opt.Benefits == nil {
		opt.Benefits = sc.DefaultBenefits()
	}
	if opt.Catalogue == nil {
		opt.Catalogue = sc.DefaultCatalogue()
	}
	if opt.WarningMonths <= 0 {
		opt.WarningMonths = sc.DefaultPolicy().WarningMonths
	}
	if opt.WriteWait <= 0 {
		opt.WriteWait = store.StaffWait
	}
	c := &console{opt: opt, db: opt.DB, auth: opt.Auth, log: opt.Log, div: opt.Divisions, exports: make(chan struct{}, maxExports)}
	if c.div == nil {
		t, err := divisions.Embedded()
		if err != nil {
			return nil, fmt.Errorf("web: divisions: %w", err)
		}
		c.div = t
	}
	c.places = sync.OnceValue(func() *divisions.Resolver { return divisions.NewResolver(c.div, divisions.Options{}) })
	var err error
	if c.cat, err = loadCatalogs(); err != nil {
		return nil, err
	}
	if c.assets, err = loadAssets(); err != nil {
		return nil, err
	}
	if c.pages, err = loadPages(c.assets); err != nil {
		return nil, err
	}
	c.routes()
	return c, nil
}

func (c *console) routes() {
	m := http.NewServeMux()
	m.Handle("GET /static/", http.HandlerFunc(c.assets.serve))
	m.HandleFunc("GET /login", c.loginPage)
	m.HandleFunc("POST /login", c.loginPost)
	m.HandleFunc("POST /lang", c.langPost)
	m.HandleFunc("POST /logout", c.need(c.logoutPost))
	m.HandleFunc("GET /{$}", c.need(c.dashboard))
	m.HandleFunc("GET /work/{list}", c.need(c.worklist))
	m.HandleFunc("GET /work/{list}/export", c.need(c.export))
	m.HandleFunc("GET /village", c.need(c.village))
	m.HandleFunc("GET /search", c.need(c.search))
	m.HandleFunc("GET /person/{id}", c.need(c.person))
	m.HandleFunc("POST /person/{id}/visit", c.need(c.visitPost))
	m.HandleFunc("POST /person/{id}/review", c.need(c.reviewPost))
	m.HandleFunc("GET /batches", c.need(c.batches))
	m.HandleFunc("GET /batches/{id}", c.need(c.batch))
	m.HandleFunc("GET /held", c.need(c.held))
	m.HandleFunc("POST /held/{id}", c.need(c.heldReviewed))
	m.HandleFunc("GET /audit", c.need(c.trail))
	m.HandleFunc("GET /account", c.need(c.account))
	m.HandleFunc("POST /account", c.need(c.accountPost))
	m.HandleFunc("GET /admin/users", c.need(c.users))
	m.HandleFunc("POST /admin/users", c.need(c.usersPost))
	m.HandleFunc("GET /admin/keys", c.need(c.keys))
	m.HandleFunc("POST /admin/keys", c.need(c.keysPost))
	if c.opt.Faces != nil {
		m.HandleFunc("GET /reviews", c.need(c.reviews))
		m.HandleFunc("POST /reviews/{id}", c.need(c.reviewDecide))
		m.HandleFunc("GET /visits", c.need(c.visits))
		m.HandleFunc("POST /person/{id}/signins", c.need(c.signInsPost))
	}
	if c.opt.Recoveries != nil {
		m.HandleFunc("GET /recoveries", c.need(c.recoveries))
		m.HandleFunc("POST /person/{id}/recovery", c.need(c.recoveryPost))
	}
	c.mux = m
}

// ServeHTTP sets the security headers every answer carries, checks the CSRF token of
// every POST, then routes.
func (c *console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	req := &request{}
	r = r.WithContext(context.WithValue(r.Context(), reqKey{}, req))
	if tok, err := r.Cookie(sessionCookie); err == nil && tok.Value != "" {
		if u, s, err := c.auth.Session(r.Context(), tok.Value); err == nil {
			req.user, req.sess = u, s
		}
	}
	req.lang = c.pickLang(r, req.user)
	if r.Method == http.MethodPost {
		if err := readForm(w, r); err != nil {
			c.fail(w, r, err)
			return
		}
	}
	if r.Method == http.MethodPost && !c.csrfOK(r, req) {
		ck, err := r.Cookie(sessionCookie)
		dead := err == nil && ck.Value != "" && req.user == nil
		if dead && r.URL.Path == "/account" {
			// The password form sent twice (a double tap), the second after the first
			// had replaced the session: answered as the first was, with the new session,
			// when it carries the ended session's CSRF token and the new password.
			if tok := c.auth.RenewedSession(ck.Value, r.PostFormValue("csrf"), r.PostFormValue("new")); tok != "" {
				c.passwordChanged(w, r, tok)
				return
			}
		}
		if dead {
			// The session ended under an open page (its 12 hours, an hour unused, a
			// logout elsewhere): the dead cookie goes.
			http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: c.secure(r), SameSite: http.SameSiteStrictMode})
		}
		switch {
		case req.user == nil && (r.URL.Path == "/logout" || (dead && r.URL.Path == "/lang")):
			// Signing out with no session (or choosing a language with a dead one) has
			// nothing to do: the sign-in page.
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		case dead && r.URL.Path != "/login":
			// A form: say so, and come back to its page after signing in again.
			// Its fields are kept in the sign-in form, to be shown filled after it.
			data := map[string]any{"Next": c.formPage(r), "Error": "login.expired"}
			if f := carriedFields(r, r.URL.Path); f != nil {
				data["CarryTo"], data["Carry"], data["Error"] = r.URL.Path, f, "login.expired_kept"
			}
			c.render(w, r, http.StatusUnauthorized, "login", data)
			return
		}
		c.fail(w, r, sc.Errorf(eForbidden, "CSRF token missing or wrong"))
		return
	}
	c.mux.ServeHTTP(w, r)
}

// formPage is the page a form came from: the Referer the browser sent, when it is one of
// ours (a list with its query, /village?region=…) and a GET opens it; else the village's
// list the form says it came back to, or the path less its last step (/person/7/visit:
// /person/7). A Referer that is a form's own address (the sign-in page shown as the
// answer to a form whose session had ended, sent from there) is taken less its last step.
func (c *console) formPage(r *http.Request) string {
	if ref, err := url.Parse(r.Referer()); err == nil && ref.Host == r.Host && ref.Path != "" && ref.Path != "/login" {
		if !c.opens(ref.Path) {
			if i := strings.LastIndexByte(ref.Path, '/'); i > 0 {
				ref.Path, ref.RawQuery = ref.Path[:i], ""
			}
		}
		next := ref.Path
		if ref.RawQuery != "" {
			next += "?" + ref.RawQuery
		}
		if safe := safeNext(next); safe == next {
			// A Referer carries no fragment: the form's own section of the page, so that
			// the user lands at the form again, not at the page's top.
			if strings.HasPrefix(ref.Path, "/person/") {
				safe += formSection(r)
			} else if ref.Path == "/village" {
				safe += villageCard(r)
			}
			return safe
		}
	}
	if r.PostFormValue("back") == "village" {
		return "/village" + villageCard(r)
	}
	if i := strings.LastIndexByte(r.URL.Path, '/'); i > 0 {
		page := safeNext(r.URL.Path[:i])
		if strings.HasPrefix(page, "/person/") {
			page += formSection(r)
		}
		return page
	}
	return "/"
}

// opens reports whether a GET of path opens one of the console's pages (not a form's
// address, which only takes POST).
func (c *console) opens(path string) bool {
	_, pattern := c.mux.Handler(&http.Request{Method: http.MethodGet, URL: &url.URL{Path: path}})
	return pattern != ""
}

// villageCard is the village list's card of the person whose form r was sent from ("":
// not a person's form), where the assistant was.
func villageCard(r *http.Request) string {
	if m := personForm.FindStringSubmatch(r.URL.Path); m != nil {
		return "#p-" + m[1]
	}
	return ""
}

// personForm is the address of a person's form: /person/ID/visit.
var personForm = regexp.MustCompile(`^/person/([0-9]{1,18})/[a-z]+$`)

// formSection is the person page's section of the form r was sent from ("" for none).
func formSection(r *http.Request) string {
	return formSections[r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]]
}

// formSections are the person page's sections of its forms, by the form's last path
// segment.
var formSections = map[string]string{"recovery": "#h-recovery", "review": "#h-review", "visit": "#h-visit", "signins": "#h-signin"}

type reqKey struct{}

// request is what the console knows about the caller of one request.
type request struct {
	user *auth.User
	sess *auth.Session
	lang string
}

func reqOf(r *http.Request) *request {
	if q, ok := r.Context().Value(reqKey{}).(*request); ok {
		return q
	}
	return &request{lang: "zh-CN"}
}

const (
	sessionCookie = "sc_session"
	preCookie     = "sc_pre" // the CSRF token of forms shown before login (login, language)
	langCookie    = "sc_lang"
)

// maxFormBody bounds the body of every console POST. The largest form is a form whose
// session ended, carried over the sign-in page, the password form and the resend page
// (carriedFields): 20 fields of at most 2000 bytes each, URL-encoded to at most three
// times that (a Chinese character's three bytes as %XX each), 120 kB with the page's own
// fields; the others (a reason of 500 characters, an API key's 2000 characters of record
// types) are a few kB. No console form sends a file.
const maxFormBody = 256 << 10

// readForm reads a POST's form, before anything else reads its body, refusing a body
// over maxFormBody (413) and a multipart one (415), unread. r is the console's copy of the
// server's request: were multipart parsed on it, the file parts spooled to the temp
// folder would never be removed (the server removes only its own request's).
func readForm(w http.ResponseWriter, r *http.Request) error {
	switch err := form.Read(w, r, maxFormBody); {
	case errors.Is(err, form.ErrMultipart):
		return said(eUnsupported, "err.multipart")
	case errors.As(err, new(*http.MaxBytesError)):
		return said(eTooLarge, "err.form_too_large", maxFormBody>>10)
	}
	// A malformed body has no CSRF token to read: csrfOK refuses it.
	return nil
}

// csrfOK checks a POST's token (its form read by readForm): the session's when logged
// in, else the pre-login cookie's (double submit).
func (c *console) csrfOK(r *http.Request, q *request) bool {
	tok := r.PostFormValue("csrf")
	if tok == "" {
		return false
	}
	if q.sess != nil {
		return c.auth.CheckCSRF(q.sess, tok)
	}
	ck, err := r.Cookie(preCookie)
	return err == nil && len(ck.Value) == 32 && constEq(ck.Value, tok)
}

func constEq(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	var v byte
	for i := 0; i < len(a); i++ {
		v |= a[i] ^ b[i]
	}
	return v == 0
}

// preToken returns the pre-login CSRF token, setting its cookie when there is none.
func (c *console) preToken(w http.ResponseWriter, r *http.Request) string {
	if ck, err := r.Cookie(preCookie); err == nil && len(ck.Value) == 32 {
		return ck.Value
	}
	b := make([]byte, 16)
	rand.Read(b)
	v := hex.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: preCookie, Value: v, Path: "/", HttpOnly: true, Secure: c.secure(r), SameSite: http.SameSiteLaxMode})
	return v
}

// need wraps a handler that requires a logged-in user.
func (c *console) need(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if reqOf(r).user == nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			c.fail(w, r, sc.Errorf(sc.EUnauthorized, "not logged in"))
			return
		}
		if reqOf(r).user.MustChange && r.URL.Path != "/account" && r.URL.Path != "/logout" {
			// A password an administrator chose: its holder chooses their own first.
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/account", http.StatusSeeOther)
				return
			}
			c.fail(w, r, sc.Errorf(eForbidden, "choose your own password first"))
			return
		}
		h(w, r)
	}
}

// fail answers with the error page: codes map to statuses here, in one place; only
// internal errors are logged with their detail.
func (c *console) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := sc.ErrorCode(err)
	status := http.StatusInternalServerError
	key := "err.internal"
	switch code {
	case sc.EInvalid:
		status, key = http.StatusBadRequest, "err.invalid"
	case sc.ENotFound:
		status, key = http.StatusNotFound, "err.notfound"
	case eForbidden:
		status, key = http.StatusForbidden, "err.forbidden"
	case sc.EUnauthorized:
		status, key = http.StatusUnauthorized, "err.unauthorized"
		if reqOf(r).user != nil {
			status, key = http.StatusForbidden, "err.forbidden"
		}
	case sc.EConflict:
		status, key = http.StatusConflict, "err.conflict"
	case sc.EUnavailable:
		// The service stopped writing (a commit of unknown outcome) and its process is
		// restarting: the form sent again in a minute goes through, or is found sent.
		status, key = http.StatusServiceUnavailable, "err.unavailable"
		err = said(code, "err.restarting")
	case sc.EBusy:
		status, key = http.StatusServiceUnavailable, "err.busy"
		w.Header().Set("Retry-After", "120")
	case eTooLarge:
		status, key = http.StatusRequestEntityTooLarge, "err.too_large"
	case eUnsupported:
		status, key = http.StatusUnsupportedMediaType, "err.unsupported"
	default:
		c.log.Error("console", "method", r.Method, "pattern", r.Pattern, "err", err)
	}
	msg := ""
	if status != http.StatusInternalServerError {
		msg = c.words(r, err)
	}
	data := map[string]any{"Key": key, "Message": msg}
	if r.Method == http.MethodPost && reqOf(r).user != nil {
		data["Back"] = c.formPage(r) // the form's page, to send it again
		var se *saidError
		if errors.As(err, &se) && strings.HasPrefix(se.key, "form.sent_before") {
			data["Reopen"] = true // the page anew, with a new one-time key: not "fill again"
		}
	}
	c.render(w, r, status, "error", data)
}

// eForbidden is the console's own error code: logged in, but not allowed (403).
const eForbidden = "forbidden"

// eTooLarge and eUnsupported are the console's codes for a POST body it does not read:
// over maxFormBody (413), or multipart (415).
const (
	eTooLarge    = "too_large"
	eUnsupported = "unsupported"
)

// secure reports whether cookies must carry Secure: the console is served over TLS,
// directly, or behind a proxy that ends it: always (Options.Secure), or when the proxy
// (BehindProxy) says the request came by https (auth.OverTLS).
func (c *console) secure(r *http.Request) bool {
	return c.opt.Secure || auth.OverTLS(r, c.opt.BehindProxy)
}
