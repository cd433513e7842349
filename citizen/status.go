package citizen

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/idcard"
	"github.com/silentcert/silentcert/store"
)

// Status is what a citizen may see of their own case: the page shows it in words and
// /c/api/status gives it as JSON to 12333-style apps.
type Status struct {
	PersonID       string    `json:"person_id"` // masked
	Name           string    `json:"name"`
	Status         string    `json:"status"`          // CERTIFIED, WARNING, PENDING, SUSPENDED, …
	Method         string    `json:"method"`          // how the last certification was made
	CertifiedUntil string    `json:"certified_until"` // YYYY-MM-DD, "" when never certified
	Deadline       string    `json:"deadline"`        // the day to certify by to keep being paid
	Evidence       *Evidence `json:"last_evidence,omitempty"`
	Payable        bool      `json:"payable"`
	BackPayMonths  int       `json:"back_pay_months"`
	BackPayDue     string    `json:"back_pay_due"` // yuan, paid at the first payroll after resumption
	LastPaidMonth  string    `json:"last_paid_month,omitempty"`
	NeedsVisit     bool      `json:"needs_visit"`
	// ReviewOpen: photos the person sent wait for a member of staff (the page says so,
	// and offers no new capture meanwhile).
	ReviewOpen bool `json:"review_open"`
	Agent      bool `json:"agent"` // the session is an agent's
	CanCertify bool `json:"can_certify"`
}

// Evidence is the record behind the last certification, in plain words.
type Evidence struct {
	Type string `json:"type"`
	Name string `json:"name"` // the catalogue's name, e.g. "医保 住院结算"
	Date string `json:"date"` // the event's day
}

// statusOf reads a person's status from the store (the engine's columns, the audit
// trail's last certification and its record, the payments).
func (h *handler) statusOf(ctx context.Context, pid int64, agent bool) (*Status, error) {
	p, err := h.db.PersonInRegion(ctx, "", pid)
	if err != nil {
		return nil, err
	}
	st := &Status{PersonID: idcard.Mask(p.Rec.PersonID), Name: p.Rec.Name, Status: p.Status.String(), Agent: agent,
		Payable: p.Status.Payable()}
	if p.Method != 0 || p.Until != sc.NoDate {
		st.Method = p.Method.String()
	}
	if p.Until != sc.NoDate && p.Until > 0 {
		st.CertifiedUntil = p.Until.String()
		// The day to certify by to keep being paid is the reminders' deadline: the last day
		// before suspension (until plus the grace months, spec §6), so that the page and
		// the SMS name the same day; past it, the page says to certify now.
		if d := p.Until.AddMonths(h.svc.Config().Policy.GraceMonths); d >= h.svc.Today() {
			st.Deadline = d.String()
		}
	}
	st.CanCertify = !closedToFace(p.Status)
	// The last certification in the audit trail names its evidence (SOURCE:RECORD_ID).
	var evidence string
	err = h.db.Reader().QueryRowContext(ctx, h.db.Rebind(`SELECT evidence FROM audit WHERE pid = ? AND kind = 'decision'
		AND action = 'CERTIFIED' ORDER BY seq DESC LIMIT 1`), pid).Scan(&evidence)
	if err == nil {
		if i := strings.IndexByte(evidence, ':'); i > 0 {
			if rec, ok, err := h.db.RecordByKey(ctx, evidence[:i], evidence[i+1:]); err != nil {
				return nil, err
			} else if ok {
				typ := rec.Type
				st.Evidence = &Evidence{Type: typ, Name: typ, Date: rec.EventDate.String()}
				if cat := h.svc.Config().Catalogue; cat != nil {
					if id, ok := cat.Lookup(typ); ok && cat.Type(id).Name != "" {
						st.Evidence.Name = cat.Type(id).Name
					}
				}
			}
		}
	} else if !isNoRows(err) {
		return nil, err
	}
	pays, err := h.db.PersonPayments(ctx, pid)
	if err != nil {
		return nil, err
	}
	st.BackPayMonths, st.BackPayDue, st.LastPaidMonth = backPay(pays)
	var visit int
	if err := h.db.Reader().QueryRowContext(ctx, h.db.Rebind(`SELECT needs_visit FROM citizen_people WHERE pid = ?`), pid).Scan(&visit); err != nil && !isNoRows(err) {
		return nil, err
	}
	st.NeedsVisit = visit != 0
	var open int
	if err := h.db.Reader().QueryRowContext(ctx, h.db.Rebind(`SELECT count(*) FROM citizen_reviews WHERE status IN ('open', 'deciding') AND pid = ?`), pid).Scan(&open); err != nil {
		return nil, err
	}
	st.ReviewOpen = open > 0
	return st, nil
}

// closedToFace reports a status that the bureau settles, not a face: a death on file
// (TERMINATED) or a dispute over one (CONFLICT). An HRSS.FACE record would not certify such
// a person, it would dispute the death; the status page offers no capture and the server
// refuses one (faceGate).
func closedToFace(s sc.Status) bool {
	return s == sc.StatusTerminated || s == sc.StatusConflict
}

// backPay sums the months withheld and not yet back-paid (what resuming would release),
// and names the last month paid.
func backPay(ps []store.Payment) (months int, due string, lastPaid string) {
	type key struct {
		b string
		m sc.Month
	}
	held := map[key]sc.Fen{}
	paid := map[key]bool{}
	var last sc.Month = -1
	for _, p := range ps {
		k := key{p.Benefit, p.Month}
		switch {
		case strings.HasPrefix(p.Kind, "WITHHELD"):
			held[k] += p.Amount
		case p.Kind == "BACK_PAY":
			paid[k] = true
			last = max(last, p.Month)
		case p.Kind == "REGULAR":
			last = max(last, p.Month)
		}
	}
	var sum sc.Fen
	seen := map[sc.Month]bool{}
	for k, a := range held {
		if !paid[k] {
			sum += a
			seen[k.m] = true
		}
	}
	if last >= 0 {
		lastPaid = last.String()
	}
	return len(seen), sum.String(), lastPaid
}

func (h *handler) apiStatus(w http.ResponseWriter, r *http.Request) {
	s := h.sessionOf(r)
	if s == nil {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "login required"})
		return
	}
	st, err := h.statusOf(r.Context(), s.pid, s.agent)
	if err != nil {
		h.log.Error("citizen status", "err", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "internal error"})
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (h *handler) mePage(w http.ResponseWriter, r *http.Request) {
	s := h.needSession(w, r)
	if s == nil {
		return
	}
	st, err := h.statusOf(r.Context(), s.pid, s.agent)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "me", pageData{Status: st, CSRF: s.csrf, Agent: s.agent})
}

func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	enc.Encode(v)
}
