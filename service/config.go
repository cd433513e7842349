package service

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/store"
)

// CheckConfig makes sure that a database's decisions keep coming from one configuration
// (the rules of spec §4–§6: grace months, service periods, each record type's class…),
// as CheckModel does for the evidence model: the first time, it records the service's
// (meta "config": its print, configPrint; and an audit row of kind config whose detail
// holds the whole canonical JSON, a file that brings the rules back); later, a service
// under another configuration is refused, naming both prints and what differs, unless
// change gives the reason for the switch, which is then written to the audit trail with
// both prints, what differs, the new rules and who made it. A grace_months set to 0 or a
// spoofable trace made STRONG stops or keeps payments as surely as a model does, and
// used to leave no trace. Commands that make decisions call it before the first.
func (s *Service) CheckConfig(ctx context.Context, change, actor string) error {
	canon := s.cfg.CanonicalJSON()
	id := printOf(canon)
	stored, ok, err := s.db.Meta(ctx, "config")
	if err != nil || (ok && stored == id) {
		return err
	}
	detail := "to=" + id
	switch {
	case !ok:
		detail += ";first=1"
		// A database that decided before it recorded its configuration: the rules of
		// those days are not known, and the row says so.
		last, err := s.db.LastRun(ctx)
		if err != nil {
			return err
		}
		if last != sc.NoDate {
			detail += ";unrecorded_through=" + last.String()
		}
	default:
		old, err := s.lastConfig(ctx)
		if err != nil {
			return err
		}
		if moved := typesMoved(old, canon); moved != "" {
			return sc.Errorf(sc.EInvalid, "%s: this run's configuration %s: the people's states name the record types of the traces they keep by their place in the catalogue, so a type moved or removed would read those traces as other types: keep the types in the order of `silentcert config` and add new ones at the end (switch one off with \"off\": true instead of removing it)",
				s.db, moved)
		}
		diff := configDiff(old, canon)
		if change == "" {
			return sc.Errorf(sc.EConflict, "%s: its decisions come from configuration %s; this run's is %s (%s): give the same --config, or --config-change REASON to switch (written to the audit trail)",
				s.db, stored, id, orUnknown(diff))
		}
		detail = "from=" + stored + ";" + detail + ";changed=" + store.DetailValue(diff) + ";reason=" + store.DetailValue(change)
	}
	return s.setNoted(ctx, "config", id, actor, detail+";config="+detailJSON(canon))
}

func orUnknown(diff string) string {
	if diff == "" {
		return "the earlier configuration's rules are not in the audit trail"
	}
	return diff
}

// detailJSON makes JSON the last value of an audit row's detail: the pairs' separators,
// which JSON has only inside its strings, become escapes that read back as themselves.
func detailJSON(b []byte) string { return jsonDetail.Replace(string(b)) }

var jsonDetail = strings.NewReplacer(";", `\u003b`, "=", `\u003d`)

// configDiff names what differs between the configuration last recorded in the audit
// trail and canon ("" when none is recorded there): "policy.grace_months 1→0,
// catalogue.TEL.ACTIVITY.class WEAK→STRONG", for the refusal and the switch's row.
func configDiff(old, canon []byte) string {
	var a, b any
	if old == nil || json.Unmarshal(old, &a) != nil || json.Unmarshal(canon, &b) != nil {
		return ""
	}
	var out []string
	diffJSON("", a, b, &out)
	if len(out) > 20 { // a catalogue replaced: the JSON says the rest
		out = append(out[:20], fmt.Sprintf("and %d more", len(out)-20))
	}
	return strings.Join(out, ", ")
}

// lastConfig returns the canonical JSON of the configuration last recorded in the audit
// trail (nil when none is recorded there).
func (s *Service) lastConfig(ctx context.Context) ([]byte, error) {
	rows, err := s.db.Trail(ctx, store.TrailQuery{Kind: "config", From: sc.NoDate, To: sc.NoDate, Limit: 1})
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	_, old, ok := strings.Cut(rows[0].Detail, ";config=")
	if !ok {
		return nil, nil
	}
	return []byte(old), nil
}

// typesMoved names the first record type of old (a configuration's canonical JSON) that
// canon does not have at the same place in its catalogue ("" when none, or when old is
// not known): a type inserted before others or removed.
func typesMoved(old, canon []byte) string {
	codes := func(b []byte) ([]string, bool) {
		var f struct {
			Catalogue struct {
				Types []struct {
					Code string `json:"code"`
				} `json:"types"`
			} `json:"catalogue"`
		}
		if json.Unmarshal(b, &f) != nil {
			return nil, false
		}
		out := make([]string, len(f.Catalogue.Types))
		for i, t := range f.Catalogue.Types {
			out[i] = t.Code
		}
		return out, true
	}
	o, ok := codes(old)
	n, ok2 := codes(canon)
	if old == nil || !ok || !ok2 {
		return ""
	}
	for i, c := range o {
		switch {
		case i >= len(n) || !slices.Contains(n, c):
			return fmt.Sprintf("removes record type %s", c)
		case n[i] != c:
			return fmt.Sprintf("puts record type %s at place %d, %s's", n[i], i+1, c)
		}
	}
	return ""
}

// diffJSON lists the values that differ between two canonical configurations, by path;
// the catalogue's types and the benefits are matched by their code.
func diffJSON(path string, a, b any, out *[]string) {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok && bok {
		keys := make([]string, 0, len(am)+len(bm))
		for k := range am {
			keys = append(keys, k)
		}
		for k := range bm {
			if _, ok := am[k]; !ok {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			diffJSON(join(path, k), am[k], bm[k], out)
		}
		return
	}
	al, aok := a.([]any)
	bl, bok := b.([]any)
	if aok && bok {
		byCode := func(l []any) (map[string]any, []string) {
			m := map[string]any{}
			var order []string
			for _, x := range l {
				if o, ok := x.(map[string]any); ok {
					if c, ok := o["code"].(string); ok {
						if _, dup := m[c]; !dup {
							order = append(order, c)
						}
						m[c] = x
					}
				}
			}
			return m, order
		}
		ac, ao := byCode(al)
		bc, bo := byCode(bl)
		if len(ac) == len(al) && len(bc) == len(bl) {
			n := len(*out)
			for _, c := range ao {
				diffJSON(join(path, c), ac[c], bc[c], out)
			}
			for _, c := range bo {
				if _, ok := ac[c]; !ok {
					diffJSON(join(path, c), nil, bc[c], out)
				}
			}
			if len(*out) == n && !slices.Equal(ao, bo) {
				*out = append(*out, path+" reordered")
			}
			return
		}
	}
	as, bs := jsonText(a), jsonText(b)
	if as != bs {
		*out = append(*out, fmt.Sprintf("%s %s→%s", path, as, bs))
	}
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

// jsonText writes a value of a diff: nothing for a value absent on one side.
func jsonText(v any) string {
	if v == nil {
		return ""
	}
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// ConfigPrint names a configuration as a database records it (meta "config", the rows
// of kind config and each daily run's): the first 16 hex digits of the SHA-256 of its
// canonical JSON.
func ConfigPrint(cfg *sc.Config) string { return configPrint(cfg) }
