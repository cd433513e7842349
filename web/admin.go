package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/auth"
	"github.com/silentcert/silentcert/store"
)

// cityWide refuses users scoped below the city: batches mix every region's records.
func cityWide(u *auth.User) error {
	if u.Region != "" {
		return sc.Errorf(eForbidden, "batches are shown to city-wide accounts only")
	}
	return nil
}

func (c *console) batches(w http.ResponseWriter, r *http.Request) {
	if err := cityWide(reqOf(r).user); err != nil {
		c.fail(w, r, err)
		return
	}
	bs, err := c.db.Batches(r.Context(), 200)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	rows := make([]batchRow, len(bs))
	for i := range bs {
		rows[i].Batch = bs[i]
		// A report that does not parse (a rejected batch's holds only the reason) leaves
		// the counts unknown.
		rows[i].Known = json.Unmarshal([]byte(bs[i].Report), &rows[i].Counts) == nil && bs[i].Status == "applied"
		if names := strings.Split(bs[i].Files, "\n"); bs[i].Files != "" {
			rows[i].FirstFile, rows[i].MoreFiles = names[0], len(names)-1
		}
	}
	c.render(w, r, http.StatusOK, "batches", rows)
}

// batchRow is a batch on the list with its report's counts: what an operator checks
// first of a department's delivery is how much of it went in and how much was held back.
type batchRow struct {
	store.Batch
	// FirstFile is the first file the batch read ("" for none: a console form), and
	// MoreFiles how many more: the drop folder's batches of one department differ by it.
	FirstFile string
	MoreFiles int
	Known     bool
	Counts    struct {
		Read        int64 `json:"read"`
		Applied     int64 `json:"applied"`
		Quarantined int64 `json:"quarantined"`
		Held        int64 `json:"held"`
		Unlinked    int64 `json:"unlinked"`
		Duplicate   int64 `json:"duplicate"`
	}
}

type batchData struct {
	B               *store.Batch
	Report          string
	Quarantine      []store.Quarantined
	QuarantineTotal int // in all; Quarantine holds the first batchRows
	// The records the batch stored, the first batchRows of RecordsTotal: an auditor
	// follows a delivery to the people it concerned.
	Records      []store.Record
	RecordsTotal int64
}

func (c *console) batch(w http.ResponseWriter, r *http.Request) {
	if err := cityWide(reqOf(r).user); err != nil {
		c.fail(w, r, err)
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		c.fail(w, r, sc.Errorf(sc.ENotFound, "no batch %q", r.PathValue("id")))
		return
	}
	b, err := c.db.Batch(r.Context(), id)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	// The first batchRows of its rejected rows, and how many in all: a department's file of
	// 340,000 bad rows made a 60 MB page (the API pages them all: GET /api/v1/batches/ID).
	qs, total, err := c.db.BatchQuarantinePage(r.Context(), id, 0, batchRows)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, []byte(b.Report), "", "  ") != nil {
		pretty.Reset()
		pretty.WriteString(b.Report)
	}
	recs, stored, err := c.db.BatchRecords(r.Context(), id, batchRows)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.listViewed(r, "batch", "", len(qs)+len(recs), "batch", b.ID)
	c.render(w, r, http.StatusOK, "batch", &batchData{B: b, Report: pretty.String(), Quarantine: qs, QuarantineTotal: total,
		Records: recs, RecordsTotal: stored})
}

// batchRows is how many quarantined rows, and how many records, the batch page shows.
const batchRows = 500

func admin(u *auth.User) error {
	if !u.IsAdmin() {
		return sc.Errorf(eForbidden, "administrators only")
	}
	return nil
}

// cityAdmin allows what reaches beyond any region: API keys (a department's key sends
// records about anyone in the installation) are for administrators of the whole of it.
func cityAdmin(u *auth.User) error {
	if err := admin(u); err != nil {
		return err
	}
	if u.Region != "" {
		return sc.Errorf(eForbidden, "administrators of the whole installation only (this account's region is %s)", u.Region)
	}
	return nil
}

// manages reports whether administrator u may manage an account of role and region: an
// administrator with a region (a district's, in a city's installation) manages the staff
// accounts inside it and no other, so that it can neither widen its own reach, nor reach
// an account that sees more than it does, nor take over another administrator's.
func manages(u *auth.User, role auth.Role, region string) bool {
	if u.Region == "" {
		return true
	}
	return role != auth.RoleAdmin && strings.HasPrefix(region, u.Region)
}

type usersData struct {
	Users   []auth.User
	Roles   []auth.Role
	Message string
	Error   string
}

func (c *console) users(w http.ResponseWriter, r *http.Request) {
	c.usersPage(w, r, http.StatusOK, "", "")
}

func (c *console) usersPage(w http.ResponseWriter, r *http.Request, status int, msg, errMsg string) {
	if err := admin(reqOf(r).user); err != nil {
		c.fail(w, r, err)
		return
	}
	all, err := c.auth.Users(r.Context())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	u := reqOf(r).user
	us := all[:0]
	for _, x := range all {
		if x.ID == u.ID || manages(u, x.Role, x.Region) {
			us = append(us, x)
		}
	}
	c.render(w, r, status, "users", &usersData{Users: us, Roles: auth.Roles, Message: msg, Error: errMsg})
}

// usersPost makes an account, sets a password or another role and region, disables or
// enables, or ends sessions; auth audits each.
func (c *console) usersPost(w http.ResponseWriter, r *http.Request) {
	u := reqOf(r).user
	op := r.PostFormValue("op")
	if err := admin(u); err != nil {
		c.refused(r, "user", op, "", "not_admin")
		c.fail(w, r, err)
		return
	}
	ctx := r.Context()
	var err error
	msg := "admin.done"
	id, _ := strconv.ParseInt(r.PostFormValue("id"), 10, 64)
	var target *auth.User
	if op != "create" {
		// The account acted on must be one this administrator manages; one it does not
		// is answered as one that does not exist.
		var terr error
		target, terr = c.auth.User(ctx, id)
		switch {
		case terr != nil && sc.ErrorCode(terr) != sc.ENotFound:
			c.fail(w, r, terr)
			return
		case terr != nil:
			c.fail(w, r, sc.Errorf(sc.ENotFound, "no such account"))
			return
		case target.ID != u.ID && !manages(u, target.Role, target.Region):
			c.refused(r, "user", op, accountDetail(target), "not_managed")
			c.fail(w, r, sc.Errorf(sc.ENotFound, "no such account"))
			return
		}
	}
	switch op {
	case "create":
		region, role := strings.TrimSpace(r.PostFormValue("region")), auth.Role(r.PostFormValue("role"))
		if !manages(u, role, region) {
			c.refused(r, "user", op, "user="+store.DetailValue(strings.TrimSpace(r.PostFormValue("name")))+
				";role="+store.DetailValue(string(role))+";region="+store.DetailValue(region), "not_managed")
			err = sc.Errorf(sc.EInvalid, "an administrator of %s makes staff accounts inside it, not administrators", u.Region)
			break
		}
		// The administrator chose the password: the holder chooses their own at sign-in.
		_, err = c.auth.CreateUserTemporary(ctx, u.Name, strings.TrimSpace(r.PostFormValue("name")), r.PostFormValue("password"), role, region)
	case "password":
		if id == u.ID {
			// One's own is changed with the current one (/account), not here.
			err = sc.Errorf(sc.EInvalid, "your own password is changed on your account page")
			break
		}
		err = c.auth.SetTemporaryPassword(ctx, u.Name, id, r.PostFormValue("password"))
	case "role":
		// Another role or region for an account (a village assistant moved to another
		// village, a clerk made an auditor): the holder's sessions end, and the change is
		// audited with the new role and region. Not one's own: another administrator's.
		region, role := strings.TrimSpace(r.PostFormValue("region")), auth.Role(r.PostFormValue("role"))
		switch {
		case id == u.ID:
			err = said(sc.EInvalid, "admin.own_role")
		case !manages(u, role, region):
			c.refused(r, "user", op, accountDetail(target)+";role="+store.DetailValue(string(role))+";region="+store.DetailValue(region), "not_managed")
			err = sc.Errorf(sc.EInvalid, "an administrator of %s makes staff accounts inside it, not administrators", u.Region)
		default:
			err = c.auth.SetRole(ctx, u.Name, id, role, region)
		}
	case "disable":
		err = c.auth.SetDisabled(ctx, u.Name, id, true)
	case "enable":
		err = c.auth.SetDisabled(ctx, u.Name, id, false)
	case "revoke":
		err = c.auth.RevokeSessions(ctx, u.Name, id)
	case "unlock":
		err = c.auth.Unlock(ctx, u.Name, id)
	default:
		err = sc.Errorf(sc.EInvalid, "unknown operation")
	}
	if err != nil {
		code := sc.ErrorCode(err)
		if code == sc.EInternal {
			c.fail(w, r, err)
			return
		}
		if errors.Is(err, auth.ErrLastAdmin) {
			c.refused(r, "user", op, accountDetail(target), "last_admin")
		}
		c.usersPage(w, r, refusedStatus(err), "", c.words(r, err))
		return
	}
	c.usersPage(w, r, http.StatusOK, msg, "")
}

// refused records in the audit trail that the signed-in administrator was refused op (a
// form's, checked by its CSRF token) on the accounts page (kind "user") or the keys page
// (kind "api_key"): a delegated administrator reaching beyond its region, one of a region
// asking for API keys, the last administrator of the whole installation disabled. target
// names what it was about (client text through store.DetailValue), reason why. The row is
// written in a transaction of its own (the refused change wrote nothing); were it not
// written, the refusal stands, and the failure is logged.
func (c *console) refused(r *http.Request, kind, op, target, reason string) {
	detail := "op=" + store.DetailValue(op)
	if target != "" {
		detail += ";" + target
	}
	detail += ";reason=" + reason
	if err := c.auth.Refused(context.WithoutCancel(r.Context()), reqOf(r).user.Name, kind, detail); err != nil {
		c.log.Error("console: a refusal not audited", "user", reqOf(r).user.Name, "kind", kind, "detail", detail, "err", err)
	}
}

// accountDetail names account u in an audit row's detail, as auth's own rows do.
func accountDetail(u *auth.User) string {
	return "user=" + u.Name + ";id=" + strconv.FormatInt(u.ID, 10)
}

// refusedStatus is the status of a form's page shown again with the refusal's words: 503
// when the database was busy (nothing was done: the same form may be sent again later).
func refusedStatus(err error) int {
	if sc.ErrorCode(err) == sc.EBusy {
		return http.StatusServiceUnavailable
	}
	return http.StatusBadRequest
}

type keysData struct {
	Keys    []auth.APIKey
	Secret  string
	Error   string
	Sources []string
	Types   map[string][]string // the catalogue's type codes by source, for the form's help
}

// keyTypes reads the types a new key is limited to (codes separated by spaces or commas;
// none: every type of its source): each must be one of the source's in the catalogue.
func (c *console) keyTypes(source, field string) ([]string, error) {
	codes := strings.FieldsFunc(field, func(r rune) bool { return r == ',' || r == '，' || unicode.IsSpace(r) })
	for _, code := range codes {
		id, ok := c.opt.Catalogue.Lookup(code)
		if !ok || c.opt.Catalogue.Type(id).Source != source {
			if r := []rune(code); len(r) > 40 {
				code = string(r[:40]) + "…"
			}
			return nil, sc.Errorf(sc.EInvalid, "type %q is not one of %s's record types", code, source)
		}
	}
	return codes, nil
}

func (c *console) keys(w http.ResponseWriter, r *http.Request) {
	c.keysPage(w, r, http.StatusOK, "", "")
}

func (c *console) keysPage(w http.ResponseWriter, r *http.Request, status int, secret, errMsg string) {
	if err := cityAdmin(reqOf(r).user); err != nil {
		c.fail(w, r, err)
		return
	}
	ks, err := c.auth.APIKeys(r.Context())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	types := map[string][]string{}
	for _, t := range c.opt.Catalogue.Types() {
		types[t.Source] = append(types[t.Source], t.Code)
	}
	c.render(w, r, status, "keys", &keysData{Keys: ks, Secret: secret, Error: errMsg, Sources: c.opt.Catalogue.Sources(), Types: types})
}

func (c *console) keysPost(w http.ResponseWriter, r *http.Request) {
	u := reqOf(r).user
	if err := cityAdmin(u); err != nil {
		c.refused(r, "api_key", r.PostFormValue("op"), "", "not_city_admin")
		c.fail(w, r, err)
		return
	}
	ctx := r.Context()
	switch r.PostFormValue("op") {
	case "create":
		source := r.PostFormValue("source")
		if !slices.Contains(c.opt.Catalogue.Sources(), source) {
			// A key for a department the catalogue does not know could send nothing.
			c.keysPage(w, r, http.StatusBadRequest, "", c.words(r, sc.Errorf(sc.EInvalid, "source %q is not a department of the catalogue", source)))
			return
		}
		if strings.TrimSpace(r.PostFormValue("name")) == "" {
			c.keysPage(w, r, http.StatusBadRequest, "", c.words(r, sc.Errorf(sc.EInvalid, "a key needs a name (the system that will use it)")))
			return
		}
		types, err := c.keyTypes(source, r.PostFormValue("types"))
		if err != nil {
			c.keysPage(w, r, http.StatusBadRequest, "", c.words(r, err))
			return
		}
		secret, _, err := c.auth.CreateAPIKey(ctx, u.Name, source, strings.TrimSpace(r.PostFormValue("name")), types)
		if err != nil {
			if sc.ErrorCode(err) != sc.EInternal {
				c.keysPage(w, r, refusedStatus(err), "", c.words(r, err))
				return
			}
			c.fail(w, r, err)
			return
		}
		c.keysPage(w, r, http.StatusOK, secret, "")
	case "revoke":
		id, err := strconv.ParseInt(r.PostFormValue("id"), 10, 64)
		if err == nil {
			err = c.auth.RevokeAPIKey(ctx, u.Name, id)
		}
		if err != nil {
			c.fail(w, r, err)
			return
		}
		c.keysPage(w, r, http.StatusOK, "", "")
	default:
		c.fail(w, r, sc.Errorf(sc.EInvalid, "unknown operation"))
	}
}
