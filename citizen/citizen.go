// Package citizen is the pensioner's side of face certification (issue 9): the short link
// of a reminder, the login by ID digits and SMS code (the person or their agent, 代办),
// the capture page and the server's checks of a selfie burst, the HRSS.FACE record that a
// good attempt sends through the service's ordinary ingestion, the review queue for
// borderline attempts, and the citizen's own status page and JSON API.
//
// It must never decide a status itself (only the engine does, from the record it is
// sent), never trust what the browser computed, never tell anyone whether an ID number is
// on the roster, and never keep a selfie longer than the retention setting. Its checks are
// not certified presentation-attack detection (ISO/IEC 30107-3): they raise the cost of a
// photo or a replay, they do not rule one out.
package citizen

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/auth"
	"github.com/silentcert/silentcert/face"
	"github.com/silentcert/silentcert/internal/form"
	"github.com/silentcert/silentcert/service"
	"github.com/silentcert/silentcert/store"
)

// Sender delivers one SMS (the login code) at once, outside the notice outbox's quiet hours:
// the person is waiting for it. serve adapts its notice gateway with FromGateway.
type Sender interface {
	SendSMS(ctx context.Context, phone, text string) error
}

// Options configure the citizen handler; DB and Service are required.
type Options struct {
	DB      *store.DB
	Service *service.Service
	Sender  Sender
	// Face are the loaded face models (face.Load); nil: the capture page says the service
	// is unavailable and ImportPhoto fails.
	Face *face.Models
	// Now is the wall clock (tests pass their own).
	Now func() time.Time
	// Secure marks cookies Secure always (serve behind HTTPS); without it they are Secure
	// over TLS, or behind a proxy (TrustProxy) that sends X-Forwarded-Proto: https.
	Secure bool
	Log    *slog.Logger
	// Limits and lifetimes; zero values take the defaults of DefaultPolicy.
	Policy Policy
	// TrustProxy takes the client's address from X-Forwarded-For's last entry, and whether
	// the request came by https from X-Forwarded-Proto (behind one proxy).
	TrustProxy bool
}

// Policy holds the time limits, rate limits and lockouts, so that an agency can tune them
// without changing code; DefaultPolicy gives the values the tests assume.
type Policy struct {
	SessionTTL      time.Duration // a citizen's session (30 min)
	CodeTTL         time.Duration // an SMS code (5 min)
	NonceTTL        time.Duration // a capture attempt (3 min)
	CodeAttempts    int           // wrong codes before the challenge is dead (5)
	LinkFailures    int           // wrong ID digits before the link is locked for good (5)
	LoginsPerIP     int           // logins started per address per hour (20)
	LoginsPerID     int           // logins started per ID number (or link) per day (5)
	CodesPerIP      int           // codes tried per address per hour (30)
	AttemptsPerDay  int           // capture attempts per person per day (6)
	MaxFailures     int           // rejected attempts before the person is routed to a visit (3)
	PhotoRetention  time.Duration // how long ID-card photos and review selfies are kept (0: templates only)
	MinFrames       int           // usable frames for an accept (3); fewer only goes to review
	MinEyeMovement  float64       // change of the eye regions (1 − correlation) under which a burst is frozen (0.12)
	MinBlur         float64       // Laplacian variance on the aligned crop under which a frame is blurred
	MinLight        float64       // mean brightness of the aligned crop, 0..255
	MaxLight        float64
	MinFaceSide     float64 // aligned box side in pixels under which the face is too small
	MaxBurstSpread  float64 // largest descriptor distance between two frames of one burst
	ReplayDistance  float64 // distance to a burst accepted before under which a burst is those pictures again (0.05)
	MaxFrameBytes   int64   // one uploaded frame (8 MB: a phone camera's 12–13 MP photo is 3–6 MB)
	MaxFramePixels  int     // width × height of one frame, read before it is decoded (50 million)
	AnalyseMaxWidth int     // frames wider than this are scaled down before analysis (1024)
}

// DefaultPolicy returns the defaults.
func DefaultPolicy() Policy {
	return Policy{
		SessionTTL: 30 * time.Minute, CodeTTL: 5 * time.Minute, NonceTTL: 3 * time.Minute,
		CodeAttempts: 5, LinkFailures: 5, LoginsPerIP: 20, LoginsPerID: 5, CodesPerIP: 30,
		AttemptsPerDay: 6, MaxFailures: 3, MinFrames: 3, MinEyeMovement: 0.12, MinBlur: 15,
		MinLight: 45, MaxLight: 215, MinFaceSide: 80, MaxBurstSpread: face.Threshold, ReplayDistance: 0.05,
		MaxFrameBytes: 8 << 20, MaxFramePixels: 50_000_000, AnalyseMaxWidth: 1024,
	}
}

func (p Policy) withDefaults() Policy {
	d := DefaultPolicy()
	fill := func(v *int, def int) {
		if *v == 0 {
			*v = def
		}
	}
	fillD := func(v *time.Duration, def time.Duration) {
		if *v == 0 {
			*v = def
		}
	}
	fillF := func(v *float64, def float64) {
		if *v == 0 {
			*v = def
		}
	}
	fillD(&p.SessionTTL, d.SessionTTL)
	fillD(&p.CodeTTL, d.CodeTTL)
	fillD(&p.NonceTTL, d.NonceTTL)
	fill(&p.CodeAttempts, d.CodeAttempts)
	fill(&p.LinkFailures, d.LinkFailures)
	fill(&p.LoginsPerIP, d.LoginsPerIP)
	fill(&p.LoginsPerID, d.LoginsPerID)
	fill(&p.CodesPerIP, d.CodesPerIP)
	fill(&p.AttemptsPerDay, d.AttemptsPerDay)
	fill(&p.MaxFailures, d.MaxFailures)
	fill(&p.MinFrames, d.MinFrames)
	fillF(&p.MinEyeMovement, d.MinEyeMovement)
	fillF(&p.MinBlur, d.MinBlur)
	fillF(&p.MinLight, d.MinLight)
	fillF(&p.MaxLight, d.MaxLight)
	fillF(&p.MinFaceSide, d.MinFaceSide)
	fillF(&p.MaxBurstSpread, d.MaxBurstSpread)
	fillF(&p.ReplayDistance, d.ReplayDistance)
	if p.MaxFrameBytes == 0 {
		p.MaxFrameBytes = d.MaxFrameBytes
	}
	fill(&p.MaxFramePixels, d.MaxFramePixels)
	fill(&p.AnalyseMaxWidth, d.AnalyseMaxWidth)
	return p
}

// shared holds what the package-level functions (ImportPhoto, Purge) need and the
// handler sets: the face models and the retention of photos.
var shared struct {
	sync.Mutex
	models    *face.Models
	retention time.Duration
}

// SetFaceModels gives ImportPhoto its models when no handler was made (an import job);
// New sets them too.
func SetFaceModels(m *face.Models, photoRetention time.Duration) {
	shared.Lock()
	defer shared.Unlock()
	shared.models, shared.retention = m, photoRetention
}

func sharedModels() (*face.Models, time.Duration) {
	shared.Lock()
	defer shared.Unlock()
	return shared.models, shared.retention
}

// handler is the citizen's site, mounted at /c/.
type handler struct {
	opt  Options
	pol  Policy
	db   *store.DB
	svc  *service.Service
	log  *slog.Logger
	mux  *http.ServeMux
	sent sync.WaitGroup // SMS sends in flight (Close waits for them in tests)
}

// New returns the citizen's site, to be mounted at /c/ (mux.Handle("/c/", h)).
func New(opt Options) (http.Handler, error) {
	if opt.DB == nil || opt.Service == nil {
		return nil, errors.New("citizen: DB and Service are required")
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opt.Sender == nil {
		opt.Sender = noSender{}
	}
	h := &handler{opt: opt, pol: opt.Policy.withDefaults(), db: opt.DB, svc: opt.Service, log: opt.Log, mux: http.NewServeMux()}
	if opt.Face != nil {
		SetFaceModels(opt.Face, h.pol.PhotoRetention)
	}
	if err := parseTemplates(); err != nil {
		return nil, err
	}
	// Accepts that a crash or an error left between their two transactions are finished
	// (or their reviews put back in the queue) before anything else.
	if _, err := Recover(context.Background(), h.db, h.svc, h.now()); err != nil {
		return nil, err
	}
	h.routes()
	return h, nil
}

// noSender refuses: without a gateway no code can be sent.
type noSender struct{}

func (noSender) SendSMS(context.Context, string, string) error {
	return errors.New("citizen: no SMS gateway configured")
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'")
	w.Header().Set("Cache-Control", "no-store")
	if r.Method == http.MethodPost && crossSite(r) {
		http.Error(w, "cross-site request refused", http.StatusForbidden)
		return
	}
	if r.Method == http.MethodPost && r.URL.Path != "/c/attempt" {
		// The pages' forms are a few fields: a body bounded, and no file part (a
		// multipart body spooled to disk while anyone keeps the request open). The
		// burst's own form (/c/attempt) is bounded by its frames.
		switch err := form.Read(w, r, maxFormBody); {
		case errors.Is(err, form.ErrMultipart):
			http.Error(w, "unsupported form", http.StatusUnsupportedMediaType)
			return
		case err != nil:
			http.Error(w, "form too large or unreadable", http.StatusRequestEntityTooLarge)
			return
		}
	}
	h.mux.ServeHTTP(w, r)
}

// maxFormBody bounds the body of the pages' forms (sign-in, code, link, sign-out).
const maxFormBody = 64 << 10

// crossSite reports a POST that a browser says came from another site: forms of this site
// never do. A browser's Sec-Fetch-Site decides (no page can forge it); a browser too old to
// send it is judged by Origin against the host asked for or, behind a proxy that rewrites
// Host, the public address links are made with (LinkBase).
func crossSite(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "cross-site", "same-site":
		return true
	case "same-origin", "none":
		return false
	}
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		o = strings.TrimPrefix(strings.TrimPrefix(o, "https://"), "http://")
		public := strings.TrimPrefix(strings.TrimPrefix(LinkBase, "https://"), "http://")
		public, _, _ = strings.Cut(public, "/")
		return o != r.Host && (public == "" || o != public)
	}
	return false
}

func (h *handler) routes() {
	m := h.mux
	m.HandleFunc("GET /c/{token}", h.linkPage)
	m.HandleFunc("POST /c/{token}", h.linkPost)
	m.HandleFunc("GET /c/login", h.loginPage)
	m.HandleFunc("POST /c/login", h.loginPost)
	m.HandleFunc("GET /c/code", h.codePage)
	m.HandleFunc("POST /c/code", h.codePost)
	m.HandleFunc("GET /c/me", h.mePage)
	m.HandleFunc("GET /c/capture", h.capturePage)
	m.HandleFunc("POST /c/attempt", h.attemptPost)
	m.HandleFunc("POST /c/logout", h.logoutPost)
	m.HandleFunc("GET /c/api/status", h.apiStatus)
	m.HandleFunc("GET /c/static/{file}", h.static)
	m.HandleFunc("GET /c/{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/c/login", http.StatusSeeOther)
	})
}

// Timing and ids.

func (h *handler) now() time.Time { return h.opt.Now() }

// today is the agency's day, as the service counts it.
func (h *handler) today() sc.Date { return dayIn(h.now(), h.svc.Location()) }

func dayIn(t time.Time, loc *time.Location) sc.Date {
	y, m, d := t.In(loc).Date()
	return sc.MakeDate(y, int(m), d)
}

// newToken returns n random bytes as URL-safe hex-free base32-like text and its hash.
func newToken(n int) (tok, hash string) {
	b := make([]byte, n)
	rand.Read(b)
	tok = strings.ToLower(strings.TrimRight(b32.EncodeToString(b), "="))
	return tok, hashOf(tok)
}

// hashOf is how tokens, codes and nonces are stored: SHA-256 in hex.
func hashOf(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// clientIP is the address rate limits count by (auth.ClientAddr), an IPv6 client's /64 as
// the console's (auth.AddrKey): counted by the whole address, a client went past the
// limits by taking the next address of its own /64.
func (h *handler) clientIP(r *http.Request) string {
	return auth.AddrKey(auth.ClientAddr(r, h.opt.TrustProxy))
}

// Rule is the rule the pensioner's pages' audit rows name.
const Rule = "citizen"

// audit appends one action to the audit trail in tx, dated by the agency's day.
func (h *handler) auditRow(kind, actor string, pid int64, personID, action, evidence, detail string) store.AuditRow {
	return store.AuditRow{Kind: kind, Day: h.today(), At: h.now().UTC().Format(time.RFC3339), Actor: actor,
		PID: pid, PersonID: personID, Action: action, Evidence: evidence, Detail: detail, Rule: Rule}
}

// hit counts one event against key in a fixed window and returns by how many the window's
// count is over limit (0 or less: within it; 1: the first refused). It runs in tx, so the
// count and the action it guards commit together. A window that starts after now (the
// clock went back) starts again, else it would refuse until the clock caught up.
func hit(tx *store.Tx, key string, now time.Time, window time.Duration, limit int) (int, error) {
	var start int64
	var count int
	err := tx.QueryRow(`SELECT start, count FROM citizen_throttle WHERE key = ?`, key).Scan(&start, &count)
	n := now.UnixNano()
	switch {
	case err != nil && !isNoRows(err):
		return 0, fmt.Errorf("throttle: %w", err)
	case err != nil || n-start >= int64(window) || n < start: // n < start: the clock went back (demo's restart past midnight, a corrected server clock)
		start, count = n, 0
	}
	count++
	if err := tx.Exec(`INSERT INTO citizen_throttle (key, start, count) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET start = excluded.start, count = excluded.count`, key, start, count); err != nil {
		return 0, err
	}
	return count - limit, nil
}
