package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/auth"
	"github.com/silentcert/silentcert/citizen"
	"github.com/silentcert/silentcert/idcard"
	"github.com/silentcert/silentcert/service"
	"github.com/silentcert/silentcert/store"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

//go:embed messages/*.json
var messageFiles embed.FS

// catalogs maps a language to its messages.
type catalogs map[string]map[string]string

// loadCatalogs reads every catalog and checks that each has the keys of zh-CN, the
// default, so that no page shows a key instead of words.
func loadCatalogs() (catalogs, error) {
	out := catalogs{}
	for _, lang := range auth.Languages {
		b, err := messageFiles.ReadFile("messages/" + lang + ".json")
		if err != nil {
			return nil, fmt.Errorf("web: catalog %s: %w", lang, err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("web: messages/%s.json: %w", lang, err)
		}
		out[lang] = m
	}
	def := out["zh-CN"]
	for lang, m := range out {
		for k := range def {
			if _, ok := m[k]; !ok {
				return nil, fmt.Errorf("web: messages/%s.json lacks %q", lang, k)
			}
		}
		for k := range m {
			if _, ok := def[k]; !ok {
				return nil, fmt.Errorf("web: messages/%s.json has %q, which zh-CN lacks", lang, k)
			}
		}
	}
	return out, nil
}

// assets are the static files with their checksum URLs.
type assets struct {
	byURL map[string][]byte
	url   map[string]string // name → /static/HASH/name
}

func loadAssets() (*assets, error) {
	a := &assets{byURL: map[string][]byte{}, url: map[string]string{}}
	err := fs.WalkDir(staticFiles, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFiles.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		name := strings.TrimPrefix(p, "static/")
		u := "/static/" + hex.EncodeToString(sum[:6]) + "/" + name
		a.byURL[u], a.url[name] = b, u
		return nil
	})
	return a, err
}

func (a *assets) serve(w http.ResponseWriter, r *http.Request) {
	b, ok := a.byURL[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", mime.TypeByExtension(path.Ext(r.URL.Path)))
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Write(b)
}

// pageNames lists every page; each is parsed with the layout at start, so that a broken
// template stops New instead of a request.
var pageNames = []string{"login", "error", "dashboard", "worklist", "village", "person", "search", "batches", "batch", "held", "users", "keys", "reviews", "visits", "audit", "recoveries", "account", "moveto", "resend"}

type pages struct{ t map[string]*template.Template }

func loadPages(a *assets) (*pages, error) {
	funcs := template.FuncMap{
		"asset": func(name string) (string, error) {
			if u, ok := a.url[name]; ok {
				return u, nil
			}
			return "", fmt.Errorf("no asset %q", name)
		},
		"date": func(d sc.Date) string {
			if d == sc.NoDate {
				return "—"
			}
			return d.String()
		},
		"month": func(m sc.Month) string { return m.String() },
		"yuan":  yuan,
		"pct": func(x float64) string {
			return fmt.Sprintf("%.1f%%", x*100)
		},
		"add": func(a, b int) int { return a + b },
		"num": func(n int64) string { return groupDigits(n) },
	}
	p := &pages{t: map[string]*template.Template{}}
	for _, name := range pageNames {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", name, err)
		}
		if t.Lookup("content") == nil {
			return nil, fmt.Errorf("web: template %s defines no content", name)
		}
		p.t[name] = t
	}
	return p, nil
}

// yuan writes an amount with grouped digits: 1,046,961,854.00.
func yuan(f sc.Fen) string {
	if f < 0 { // "-0.50" would lose its sign in the grouping below
		return "-" + yuan(-f)
	}
	s := f.String()
	whole, frac, _ := strings.Cut(s, ".")
	n, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return s
	}
	if frac != "" {
		return groupDigits(n) + "." + frac
	}
	return groupDigits(n)
}

func groupDigits(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Page is what every template gets: the caller, the words of their language, the CSRF
// token for forms, and the page's own data.
type Page struct {
	User  *auth.User
	Lang  string
	CSRF  string
	Path  string
	Today sc.Date
	Data  any
	msgs  map[string]string
	c     *console
}

// T returns the message key in the page's language, formatted with args.
func (p *Page) T(key string, args ...any) string {
	m, ok := p.msgs[key]
	if !ok {
		m = key
	}
	if len(args) > 0 {
		return fmt.Sprintf(m, args...)
	}
	return m
}

// MaskID shows a citizen ID number in full to the bureau's operators and administrators
// only; everyone else sees it masked.
func (p *Page) MaskID(id string) string {
	if p.User != nil && (p.User.Role == auth.RoleAdmin || p.User.Role == auth.RoleOperator) {
		return id
	}
	return idcard.Mask(id)
}

// Once is a fresh one-time key for a form of the page (see formRecordID).
func (p *Page) Once() string { return newOnce() }

// SeesHealth reports whether the page may show what medical and bank records say of a
// person: health indexes, a fraud-risk flag's reasons and score, diagnoses. A village
// assistant gets the order of their list and the flag, not what lies behind them.
func (p *Page) SeesHealth() bool { return p.User == nil || p.User.Role != auth.RoleVillage }

// villageKeys are the only detail keys a page that may not SeesHealth shows: what a visit
// needs (the period, a death's date, the visit's own outcome, the batch it made). Any
// other key — a health index, a flag's score and reasons, the traces behind a WEAK
// certification, a department's diagnosis or amount, whatever a department adds — is
// left out.
var villageKeys = []string{"until", "certified_on", "back_pay_months", "death_date", "outcome",
	"event_date", "date", "agent", "deadline", "batch", "applied", "quarantined"}

// ShownDetail is a decision's or record's detail as the page may show it: only
// villageKeys where SeesHealth says no, and those in words, not key=value codes (the
// batch's number and counts, a code to the assistant, left out).
func (p *Page) ShownDetail(detail string) string {
	detail = withoutPrints(detail)
	if p.SeesHealth() {
		return detail
	}
	var out []string
	for _, kv := range strings.Split(detail, ";") {
		k, v, _ := strings.Cut(kv, "=")
		k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
		if !slices.Contains(villageKeys, k) || v == "" {
			continue
		}
		switch k {
		case "batch", "applied", "quarantined":
			continue
		case "agent":
			if v == "1" {
				out = append(out, p.T("visit.agent"))
			}
			continue
		case "outcome":
			v = p.Named("visit.", v)
		}
		out = append(out, p.T("detail.pair", p.T("detail."+k), v))
	}
	return strings.Join(out, p.T("detail.sep"))
}

// withoutPrints is an account or key row's detail without its secret's print (pw=,
// store.SecretPrint): sixteen hex digits that audit verify reads and no one else needs.
func withoutPrints(detail string) string {
	if !strings.Contains(detail, "pw=") {
		return detail
	}
	parts := strings.Split(detail, ";")
	return strings.Join(slices.DeleteFunc(parts, func(kv string) bool { return strings.HasPrefix(kv, "pw=") }), ";")
}

// SeesCodes reports whether the page shows codes beside their names (a method's, a
// benefit's, a record type's, a record's reference): the bureau's staff find records by
// them; to the village assistant they are noise.
func (p *Page) SeesCodes() bool { return p.User == nil || p.User.Role != auth.RoleVillage }

// CityWide reports whether the page's reader sees the city's batches (cityWide).
func (p *Page) CityWide() bool { return p.User != nil && cityWide(p.User) == nil }

// BatchOf is the batch an audit row's evidence names ("batch:12"), for a reader who sees
// the city's batches; 0 otherwise.
func (p *Page) BatchOf(evidence string) int64 {
	s, ok := strings.CutPrefix(evidence, "batch:")
	if !ok || !p.CityWide() {
		return 0
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0
	}
	return id
}

// RuleName names the rule behind a decision (service's ruleOf: spec §6's, or the
// fraud-risk model's) in the page's language; a rule the catalogue does not name is shown
// as written.
func (p *Page) RuleName(rule string) string {
	switch rule {
	case service.RiskRule:
		return p.T("rule.risk")
	case citizen.Rule: // the rows the pensioner's own pages write
		return p.T("rule.citizen")
	}
	r, ok := strings.CutPrefix(rule, "§6 ")
	if !ok {
		return rule
	}
	if m, ok := strings.CutPrefix(r, "certification: "); ok {
		return p.T("rule.certification", p.Named("method.", m))
	}
	if k, ok := ruleKeys[r]; ok {
		return p.T(k)
	}
	return rule
}

// ruleKeys are the message keys of the rules ruleOf names.
var ruleKeys = map[string]string{
	"warning window":                 "rule.warning",
	"service period ended":           "rule.pending",
	"grace ended: payment suspended": "rule.suspended",
	"resumption with back pay":       "rule.resumed",
	"death":                          "rule.death",
	"loss of eligibility":            "rule.loss",
	"restore":                        "rule.restore",
	"conflict held for review":       "rule.conflict",
}

// ActorName names who acted: the engine and the system in the page's language, a staff
// member or a department by their name.
func (p *Page) ActorName(a string) string { return p.Named("actor.", a) }

// Named returns the message prefix+v in the page's language, or v itself when there is
// none (a value newer than the messages).
func (p *Page) Named(prefix, v string) string {
	if m, ok := p.msgs[prefix+v]; ok {
		return m
	}
	return v
}

// Method names a certification method in the page's language, with its code for the
// bureau's staff ("—": none).
func (p *Page) Method(m sc.Method) string {
	if m == sc.MethodNone {
		return "—"
	}
	if !p.SeesCodes() {
		return p.T("method." + m.String())
	}
	return p.T("method."+m.String()) + " (" + m.String() + ")"
}

// AuditAction names an audit row's action in the page's language, by its kind: a
// decision's action, a visit's record type, an export's list, the rest from the
// catalogue's audit.act keys; the code where none names it. A face attempt taken for a
// replayed photo or video is a fraud risk's reason, which the village assistant does not
// see (SeesHealth): to them it is only waiting for review.
func (p *Page) AuditAction(kind, action string) string {
	switch kind {
	case "citizen_face":
		if action == "replay" && !p.SeesHealth() {
			return p.T("audit.village.replay")
		}
	case "decision":
		return p.Named("action.", action)
	case "visit":
		if n := p.TypeName(action); n != "" {
			return n
		}
	case "export":
		if m, ok := p.msgs["work."+action]; ok {
			return m
		}
	case "batch":
		if m, ok := p.msgs["batch.origin."+action]; ok {
			return m
		}
	}
	return p.Named("audit.act.", action)
}

// PaymentKind names a payment row's kind: REGULAR, BACK_PAY, or WITHHELD:STATUS (the
// status that withheld it).
func (p *Page) PaymentKind(kind string) string {
	k, why, ok := strings.Cut(kind, ":")
	if !ok {
		return p.Named("money.", kind)
	}
	return p.Named("money.", k) + "(" + p.Named("status.", why) + ")"
}

// Benefit names an entitlement code as the configuration does (the code if it has no name).
func (p *Page) Benefit(code string) string { return p.c.benefitName(code) }

// BenefitCoded is Benefit with the code beside the name, for exports read by people and
// machines alike.
func (p *Page) BenefitCoded(code string) string {
	if n := p.c.benefitName(code); n != code {
		return n + " (" + code + ")"
	}
	return code
}

func (c *console) benefitName(code string) string {
	for _, b := range c.opt.Benefits {
		if b.Code == code && b.Name != "" {
			return b.Name
		}
	}
	return code
}

// TypeName names a record type as the catalogue does ("": not in it, or no name), in
// the Chinese page with its punctuation.
func (p *Page) TypeName(code string) string {
	if id, ok := p.c.opt.Catalogue.Lookup(code); ok {
		name := p.c.opt.Catalogue.Type(id).Name
		if p.Lang == "zh-CN" {
			return zhPunct.Replace(name)
		}
		return name
	}
	return ""
}

// zhPunct writes a catalogue name's ASCII brackets and colon as the Chinese page writes
// its own words (村(社区)上门核实 beside 村（社区）核实): the catalogue keeps exchange-v1
// §4's names, which files and outputs carry.
var zhPunct = strings.NewReplacer("(", "（", ")", "）", ": ", "：", ":", "：")

// Status names a status in the page's language.
func (p *Page) Status(s sc.Status) string { return p.T("status." + s.String()) }

// Region names a division code ("" is the unassigned).
func (p *Page) Region(code string) string { return p.c.regionName(code) }

// RegionPath names a code with its parents below the province.
func (p *Page) RegionPath(code string) string { return p.c.regionPath(code) }

// Recoveries reports whether the user sees the money to recover (recoveryAccess).
func (p *Page) Recoveries() bool {
	return p.c.opt.Recoveries != nil && p.User != nil && recoveryAccess(p.User, false) == nil
}

// Faces reports whether the face certification pages are there (Options.Faces).
func (p *Page) Faces() bool { return p.c.opt.Faces != nil }

// Langs lists the languages for the switch.
func (p *Page) Langs() []string { return auth.Languages }

// Worklists lists the worklists for the menu.
func (p *Page) Worklists() []string {
	out := make([]string, 0, 6)
	for _, l := range store.Worklists() {
		out = append(out, string(l))
	}
	return out
}

func (c *console) regionName(code string) string {
	if code == "" {
		return "—"
	}
	if d, ok := c.div.Lookup(code); ok {
		return d.Name
	}
	return code
}

func (c *console) regionPath(code string) string {
	if code == "" {
		return "—"
	}
	var parts []string
	for _, d := range c.div.Path(code) {
		if len(d.Code) >= 4 {
			parts = append(parts, d.Name)
		}
	}
	if len(parts) == 0 {
		return code
	}
	return strings.Join(parts, " › ")
}

// wordsOf is a page of r's reader outside a template: its T, Named and the like for an
// export or a message built in Go.
func (c *console) wordsOf(r *http.Request) *Page {
	q := reqOf(r)
	return &Page{User: q.user, Lang: q.lang, msgs: c.cat[q.lang], c: c}
}

// render writes a page; a template error becomes a 500 without half a page sent.
func (c *console) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	q := reqOf(r)
	p := &Page{User: q.user, Lang: q.lang, Path: r.URL.Path, Today: c.opt.Today(), Data: data, msgs: c.cat[q.lang], c: c}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		// The answer to a form: the language switch comes back to the form's page, which a
		// GET can open, not to the address the form was sent to (a 405).
		p.Path = c.formPage(r)
	}
	if q.sess != nil {
		p.CSRF = q.sess.CSRF
	} else {
		p.CSRF = c.preToken(w, r)
	}
	t := c.pages.t[name]
	if t == nil {
		panic("web: no page " + name + " (pageNames)") // a programming error, caught by every test of the page
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, p); err != nil {
		c.log.Error("template", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// pickLang chooses the language: the account's, else the cookie's, else zh-CN.
func (c *console) pickLang(r *http.Request, u *auth.User) string {
	if u != nil && c.cat[u.Lang] != nil {
		return u.Lang
	}
	if ck, err := r.Cookie(langCookie); err == nil && c.cat[ck.Value] != nil {
		return ck.Value
	}
	return "zh-CN"
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
