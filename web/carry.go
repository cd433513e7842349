package web

import (
	"net/http"
	"regexp"
	"strings"
	"unicode/utf8"
)

// A form sent after its session ended (an hour unused on a phone, half a visit typed, a
// password reset by an administrator) is not lost: the sign-in page keeps its fields in
// hidden inputs (carry.NAME), never the CSRF token nor a password, and after signing in
// shows them again as the form, filled, to be sent with a tap (never sent by itself). An
// account that must first choose its own password gets the password form, which keeps
// them the same way until the password is chosen. Sent, the form is checked as any form
// is: the new session's CSRF token, the user's scope, its one-time key.

// carryPrefix names a carried field among the sign-in form's own.
const carryPrefix = "carry."

// carriedForm is a form the sign-in carries: a person page's record forms.
var carriedForm = regexp.MustCompile(`^/person/[0-9]{1,18}/(visit|review|recovery)$`)

// Carried is one field of a carried form.
type Carried struct{ Name, Value string }

// carriedFields are the fields of the form r sent that the sign-in page keeps (nil when
// its form is not one carried): at most 20, each short, no CSRF token, no password.
func carriedFields(r *http.Request, path string) []Carried {
	if !carriedForm.MatchString(path) {
		return nil
	}
	var out []Carried
	for _, k := range sortedKeys(r.PostForm) {
		if k == "csrf" || strings.Contains(strings.ToLower(k), "password") || len(k) > 40 || !utf8.ValidString(k) {
			continue
		}
		for _, v := range r.PostForm[k] {
			if len(out) == 20 || len(v) > 2000 || !utf8.ValidString(v) {
				continue
			}
			out = append(out, Carried{k, v})
		}
	}
	return out
}

// carriedLogin reads the carried form back from the sign-in form: its address and fields
// ("" and nil for none).
func carriedLogin(r *http.Request) (string, []Carried) {
	to := r.PostFormValue("carry_to")
	if !carriedForm.MatchString(to) {
		return "", nil
	}
	var out []Carried
	for _, k := range sortedKeys(r.PostForm) {
		name, ok := strings.CutPrefix(k, carryPrefix)
		if !ok || name == "csrf" || strings.Contains(strings.ToLower(name), "password") {
			continue
		}
		for _, v := range r.PostForm[k] {
			if len(out) < 20 {
				out = append(out, Carried{name, v})
			}
		}
	}
	if len(out) == 0 {
		return "", nil
	}
	return to, out
}

// kept is a carried form on its way: over the sign-in and, for an account that must
// first choose its own password, over the password form too. Back is the page to come
// back to without sending it.
type kept struct {
	To     string
	Fields []Carried
	Back   string
}

// keptForm reads the carried form back from the password form (nil for none).
func keptForm(r *http.Request) *kept {
	to, f := carriedLogin(r)
	if f == nil {
		return nil
	}
	return &kept{To: to, Fields: f, Back: safeNext(r.PostFormValue("next"))}
}

// carryLabels name a carried field and, by field, its value's message prefix, on the page
// that sends the form again.
var carryLabels = map[string][2]string{
	"outcome":     {"visit.outcome", "visit."},
	"date":        {"visit.date", ""},
	"region_code": {"visit.new_region", ""},
	"place":       {"visit.new_region", ""},
	"agent":       {"visit.agent", ""},
	"accept":      {"review.accept", "review."},
	"reason":      {"review.reason", ""},
	"amount":      {"rec.amount_yuan", ""},
	"note":        {"rec.note", ""},
	"kind":        {"rec.kind", "rec.kind_"},
	"benefit":     {"col.benefit", ""},
}

// CarryShown is a carried field as the page shows it: its label and value in the reader's
// words ("" label: not shown, a hidden field of the form).
func (p *Page) CarryShown(f Carried) [2]string {
	l, ok := carryLabels[f.Name]
	switch {
	case !ok || f.Value == "":
		return [2]string{}
	case f.Name == "agent":
		return [2]string{p.T(l[0]), "✓"}
	case f.Name == "benefit":
		return [2]string{p.T(l[0]), p.Benefit(f.Value)}
	case f.Name == "region_code": // the village by its name, not its code
		return [2]string{p.T(l[0]), p.Region(f.Value)}
	case l[1] != "":
		return [2]string{p.T(l[0]), p.Named(l[1], f.Value)}
	}
	return [2]string{p.T(l[0]), f.Value}
}
