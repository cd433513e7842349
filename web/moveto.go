package web

import (
	"fmt"
	"net/http"
	"strings"
	"unicode"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/divisions"
	"github.com/silentcert/silentcert/store"
)

// A move (已迁出) is recorded with the 12-digit code of the village or community the
// person moved to: exchange refuses a CMT.MOVED whose region_code is anything else,
// because the person's registered place would then be no village's, and they would fall
// off every village's list and every scoped view. An assistant knows the place by name
// ("her son's, in 济南历下区"), not by code, so the form takes the name and the server
// reads it with the divisions resolver: a unique village is recorded; a county or a town
// is drilled into, its towns or villages offered to choose from; names that fit several
// places list them by their full names. Where the assistant knows no more than a county
// (or nothing), the move is recorded without a place: the person stays on this village's
// list, and the audit row keeps what was known (moved_to=).

// moveAsk is the page that asks where a person moved to: nothing is recorded yet.
type moveAsk struct {
	P       *store.Person
	Place   string       // what the assistant typed
	Problem string       // message key of what is asked, with Place or Within's path as its argument
	Within  string       // the division the place was found in ("" when none)
	Choices []moveChoice // the places to choose from
	// The visit form's other fields, sent again with the choice.
	Date, Agent, Back, Once string
}

type moveChoice struct {
	Code, Name string
	Village    bool // a choice above village level is drilled into when chosen
}

// Return is the page the assistant came from.
func (a *moveAsk) Return() string {
	if a.Back == "village" {
		return fmt.Sprintf("/village#p-%d", a.P.PID)
	}
	return fmt.Sprintf("/person/%d#h-visit", a.P.PID)
}

// problemArg is the ask message's argument: what was typed, or where it was found.
func (a *moveAsk) problemArg(c *console) string {
	if a.Problem == "move.pick_below" {
		return c.regionPath(a.Within)
	}
	return a.Place
}

// moveTo reads where a moved person went: the new region code to record ("" for a move
// whose village is not known), the audit detail to add, or the question to ask instead.
func (c *console) moveTo(r *http.Request, p *store.Person) (region, audit string, ask *moveAsk, err error) {
	if r.PostFormValue("unknown") == "1" {
		known := "unknown"
		if w := strings.TrimSpace(r.PostFormValue("within")); w != "" && store.ValidPrefix(w) {
			if _, ok := c.div.Lookup(w); ok {
				known = w
			}
		}
		return "", ";moved_to=" + known, nil, nil
	}
	code := digitsOnly(r.PostFormValue("region_code"))
	place := strings.TrimSpace(r.PostFormValue("place"))
	if code == "" {
		if d := digitsOnly(place); d != "" && store.ValidPrefix(d) {
			code, place = d, ""
		}
	}
	ask = &moveAsk{P: p, Place: place, Date: r.PostFormValue("date"), Agent: r.PostFormValue("agent"),
		Back: r.PostFormValue("back"), Once: r.PostFormValue("once")}
	if code != "" {
		if !store.ValidPrefix(code) || divisions.LevelOf(code) == divisions.LevelNone {
			return "", "", nil, said(sc.EInvalid, "form.region_digits", code)
		}
		if _, ok := c.div.Lookup(code); !ok {
			return "", "", nil, said(sc.EInvalid, "form.region_unknown", code)
		}
		if len(code) < 12 { // a county's or a town's code: which of its villages?
			ask.Within, ask.Problem = code, "move.pick_below"
			ask.Choices = c.childChoices(code)
			return "", "", ask, nil
		}
		if code == p.Rec.RegionCode {
			return "", "", nil, said(sc.EInvalid, "form.region_same", code)
		}
		return code, ";moved_to=" + code, nil, nil
	}
	if place == "" {
		ask.Problem = "move.missing"
		return "", "", ask, nil
	}
	res := c.places().Resolve(place)
	switch {
	case res.Level == divisions.LevelVillage && !res.Ambiguous && res.Confidence >= divisions.DefaultMinConfidence:
		if res.Code == p.Rec.RegionCode {
			return "", "", nil, said(sc.EInvalid, "form.region_same", res.Code)
		}
		return res.Code, ";moved_to=" + res.Code, nil, nil
	case res.Ambiguous && len(res.Candidates) > 0:
		ask.Problem, ask.Within = "move.pick_one", res.Code
		for _, cd := range res.Candidates {
			ask.Choices = append(ask.Choices, moveChoice{Code: cd, Name: c.regionPath(cd), Village: len(cd) == 12})
		}
	case res.Level == divisions.LevelVillage:
		// Found with a character wrong or names left out: the assistant confirms it.
		ask.Problem = "move.confirm"
		ask.Choices = []moveChoice{{Code: res.Code, Name: c.regionPath(res.Code), Village: true}}
	case res.Code != "":
		ask.Within, ask.Problem = res.Code, "move.pick_below"
		ask.Choices = c.childChoices(res.Code)
	default:
		ask.Problem = "move.not_found"
	}
	return "", "", ask, nil
}

// childChoices are the divisions right under code, by their names.
func (c *console) childChoices(code string) []moveChoice {
	var out []moveChoice
	for _, d := range c.div.Children(code) {
		out = append(out, moveChoice{Code: d.Code, Name: d.Name, Village: d.Level == divisions.LevelVillage})
	}
	return out
}

// askMove shows the question: 200 with places to choose from, 400 when the place was
// not found or not given.
func (c *console) askMove(w http.ResponseWriter, r *http.Request, p *store.Person, a *moveAsk) {
	status := http.StatusOK
	if len(a.Choices) == 0 {
		status = http.StatusBadRequest
	}
	c.render(w, r, status, "moveto", struct {
		*moveAsk
		Said string
	}{a, c.wordsOf(r).T(a.Problem, a.problemArg(c))})
}

// digitsOnly is s as ASCII digits when it holds nothing else but spaces (full-width
// digits, typed with a Chinese input method, count); else "".
func digitsOnly(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r >= '０' && r <= '９':
			b.WriteRune('0' + r - '０')
		case unicode.IsSpace(r):
		default:
			return ""
		}
	}
	return b.String()
}
