package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/idcard"
)

// peopleSeen is what the trail's roster rows (kind roster: add with every field, update
// with each field changed old→new, entitlements_kept; service's rosterTrail) say people's
// roster fields are: each person's name, the region the roster gave (people.roster_region;
// region_code follows moves, which records make, not rosters), phone and agent_phone as
// masked in the rows, last_certified, entitlements and each one's monthly_amount,
// start_month, end_month and offset_capacity. A row's detail is parsed as the walk reads
// it; what is kept is one short string a person.
type peopleSeen struct {
	ps []personSeen // by pid
	// before is the number of people enrolled before the roster trail (the pids below it),
	// read from the first import row written with the trail; -1 before any.
	before int64
}

type personSeen struct {
	seq      int64  // the last row that changed what is checked; 0: no row
	personID string // the row's person_id
	// fields is rosterFields of what the rows say: for a person with an add row every
	// field (one absent: none), for one enrolled before the trail only those an update
	// named since (one absent: unknown; "k=" none).
	fields   string
	added    bool
	conflict string // a row's old value that was not the trail's before it (the first)
}

// rosterKeys are the fields checked, besides an entitlement's (BENEFIT.monthly_amount,
// .start_month, .end_month, .offset_capacity).
var rosterKeys = []string{"name", "region_code", "phone", "agent_phone", "last_certified", "benefit_type"}

var entKeys = []string{".monthly_amount", ".start_month", ".end_month", ".offset_capacity"}

func rosterKey(k string) bool {
	if slices.Contains(rosterKeys, k) {
		return true
	}
	for _, e := range entKeys {
		if strings.HasSuffix(k, e) && len(k) > len(e) {
			return true
		}
	}
	return false
}

func newPeopleSeen() *peopleSeen { return &peopleSeen{before: -1} }

// at returns pid's entry, nil for a pid no person can have.
func (s *peopleSeen) at(pid int64) *personSeen {
	if pid < 0 || pid > 1<<31 {
		return nil
	}
	if pid >= int64(len(s.ps)) {
		s.ps = slices.Grow(s.ps, int(pid)+1-len(s.ps))[:pid+1]
	}
	return &s.ps[pid]
}

// see takes one audit row of the walk.
func (s *peopleSeen) see(r *AuditRow) {
	if r.Kind != "roster" {
		return
	}
	if r.Action == "import" {
		if s.before < 0 {
			// The first import written with the roster trail (its detail counts the people
			// it did not name, absent): the people before it had no rows of their enrolment.
			var c struct{ Updated, Unchanged, Absent *int64 }
			if json.Unmarshal([]byte(r.Detail), &c) == nil && c.Absent != nil && c.Updated != nil && c.Unchanged != nil {
				s.before = *c.Updated + *c.Unchanged + *c.Absent
			}
		}
		return
	}
	p := s.at(r.PID)
	if p == nil {
		return
	}
	switch r.Action {
	case "add":
		f := map[string]string{}
		var benefits []string
		for _, kv := range strings.Split(r.Detail, ";") {
			k, v, _ := strings.Cut(kv, "=")
			if rosterKey(k) {
				f[k] = v
			}
			if b, ok := strings.CutSuffix(k, ".monthly_amount"); ok {
				benefits = append(benefits, b)
			}
		}
		f["benefit_type"] = strings.Join(benefits, "|")
		*p = personSeen{seq: r.Seq, personID: r.PersonID, fields: rosterFields(f, false), added: true}
	case "update", "entitlements_kept":
		if p.seq == 0 {
			p.personID = r.PersonID
		}
		f := parseRosterFields(p.fields)
		kv := strings.Split(r.Detail, ";")
		oldKept := slices.Contains(kv, "entitlements_kept=1") // before session 18: benefit_type was the roster's, not applied
		changed := false
		for _, kv := range kv {
			k, v, _ := strings.Cut(kv, "=")
			if !rosterKey(k) || (oldKept && k == "benefit_type") {
				continue
			}
			// What the trail says the field was: for a person enrolled before it, unknown
			// until a row names it (a field an add row leaves out is none).
			old, known := f[k]
			known = known || p.added
			nv, found := strings.CutPrefix(v, old+"→")
			if !found {
				var was string
				was, nv, found = strings.Cut(v, "→")
				if !found {
					continue
				}
				if known && p.conflict == "" {
					p.conflict = fmt.Sprintf("row %d says its %s was %s, the trail's before it %s: changed outside the service before that row",
						r.Seq, label(k), shown(k, was), shown(k, old))
					if k == "name" {
						p.conflict = fmt.Sprintf("row %d says its name was another than the trail's before it: changed outside the service before that row", r.Seq)
					}
				}
			}
			f[k] = nv
			changed = true
		}
		if changed {
			p.fields, p.seq = rosterFields(f, !p.added), r.Seq
		}
	}
}

// rosterFields is f in a canonical form: "k=v" between ";" in key order, those with an
// empty value left out unless keepEmpty.
func rosterFields(f map[string]string, keepEmpty bool) string {
	keys := make([]string, 0, len(f))
	for k, v := range f {
		if v != "" || keepEmpty {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(';')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(f[k])
	}
	return b.String()
}

func parseRosterFields(s string) map[string]string {
	f := map[string]string{}
	if s == "" {
		return f
	}
	for _, kv := range strings.Split(s, ";") {
		k, v, _ := strings.Cut(kv, "=")
		f[k] = v
	}
	return f
}

// storedFields is a stored person's roster fields as the roster rows write them.
func storedFields(name, rosterRegion, phone, agent string, last sc.Date, ents []sc.Entitlement) map[string]string {
	f := map[string]string{"name": DetailValue(name), "region_code": rosterRegion, "phone": idcard.MaskPhone(phone),
		"agent_phone": idcard.MaskPhone(agent), "last_certified": last.String()}
	codes := make([]string, len(ents))
	for i := range ents {
		e := &ents[i]
		codes[i] = e.Benefit
		f[e.Benefit+".monthly_amount"] = e.Monthly.String()
		f[e.Benefit+".start_month"] = e.Start.String()
		f[e.Benefit+".end_month"] = e.End.String()
		if e.CapacityKnown {
			f[e.Benefit+".offset_capacity"] = e.Capacity.String()
		}
	}
	f["benefit_type"] = strings.Join(codes, "|")
	return f
}

// shown is a field's value as a report shows it: a name is personal data and not shown
// (phones are masked in the rows already), "none" for empty.
func shown(k, v string) string {
	switch {
	case k == "name":
		return "(not shown)"
	case v == "":
		return "none"
	}
	return v
}

// label names field k in a report: the region checked is the roster's (people.roster_region).
func label(k string) string {
	if k == "region_code" {
		return "roster region_code"
	}
	return k
}

// againstID names what of a person's sex and birth date is not what their ID number says
// (a roster's sex and birth_date must agree with it, spec §2, and are derived from it
// when absent, so the service never stores others): a birth date made later outside the
// service makes a person younger to the health index and the RISK model. The values are
// not shown: they are personal data.
func againstID(personID string, sex int, birth sc.Date) []string {
	id, ok := idcard.Normalize([]byte(personID))
	if !ok || !idcard.Valid(id[:]) {
		// Not one the roster takes: the trail's rows tell whether it was changed.
		return nil
	}
	var diff []string
	if idcard.Sex(id) != sex {
		diff = append(diff, "its sex is not its ID number's")
	}
	if idcard.BirthDate(id) != birth {
		diff = append(diff, "its birth date is not its ID number's")
	}
	return diff
}

// verifyPeople reports people whose roster fields are not what the trail's roster rows
// say (changed outside the service: an UPDATE that triples an amount or puts another
// phone, one that receives sign-in links, on a person), people with no row of their
// enrolment (inserted outside the service) and people the rows enrol who are not stored
// (deleted). People enrolled before the roster trail have no row of their enrolment:
// they are counted (unverifiable) and only the fields an update row named since checked.
// It returns the number of people checked and of those enrolled before the trail.
func (db *DB) verifyPeople(ctx context.Context, snap *sql.Tx, seen *peopleSeen, report func(AuditProblem)) (checked, before int64, err error) {
	rows, err := snap.QueryContext(ctx, `SELECT pid, person_id, name, sex, birth_date, roster_region, phone, agent_phone, last_certified, entitlements FROM people ORDER BY pid`)
	if err != nil {
		return 0, 0, fmt.Errorf("%s: people: %w", db, err)
	}
	defer rows.Close()
	found := make([]bool, len(seen.ps))
	var ents []sc.Entitlement
	for rows.Next() {
		var pid, last, sex, birth int64
		var personID, name, region, phone, agent, entsJSON string
		if err := rows.Scan(&pid, &personID, &name, &sex, &birth, &region, &phone, &agent, &last, &entsJSON); err != nil {
			return checked, before, fmt.Errorf("%s: people: %w", db, err)
		}
		checked++
		var p personSeen
		if pid >= 0 && pid < int64(len(seen.ps)) {
			p, found[pid] = seen.ps[pid], true
		}
		who := fmt.Sprintf("person %s (pid %d)", idcard.Mask(personID), pid)
		if !p.added {
			if seen.before < 0 || pid < seen.before {
				before++
			} else {
				report(AuditProblem{0, who + " has no row of their enrolment in the trail: enrolled outside the service"})
				continue
			}
		}
		ents = ents[:0]
		if err := json.Unmarshal([]byte(entsJSON), &ents); err != nil {
			report(AuditProblem{p.seq, fmt.Sprintf("%s: the entitlements stored cannot be read: %v", who, err)})
			continue
		}
		var diff []string
		if p.seq > 0 && p.personID != personID {
			diff = append(diff, fmt.Sprintf("its ID number is not the trail's %s", idcard.Mask(p.personID)))
		}
		diff = append(diff, againstID(personID, int(sex), sc.Date(birth))...)
		if p.fields != "" || p.added {
			stored := storedFields(name, region, phone, agent, sc.Date(last), ents)
			if !p.added || rosterFields(stored, false) != p.fields {
				trail := parseRosterFields(p.fields)
				keys := make([]string, 0, len(stored)+len(trail))
				for k := range trail {
					keys = append(keys, k)
				}
				if p.added {
					for k := range stored {
						keys = append(keys, k)
					}
				}
				slices.Sort(keys)
				for _, k := range slices.Compact(keys) {
					if stored[k] != trail[k] {
						if k == "name" {
							diff = append(diff, "its name is not the trail's")
						} else {
							diff = append(diff, fmt.Sprintf("its %s is %s, the trail's %s", label(k), shown(k, stored[k]), shown(k, trail[k])))
						}
					}
				}
			}
		}
		if p.conflict != "" {
			diff = append(diff, p.conflict)
		}
		if len(diff) > 0 {
			report(AuditProblem{p.seq, fmt.Sprintf("%s was changed outside the service: %s", who, strings.Join(diff, "; "))})
		}
	}
	if err := rows.Err(); err != nil {
		return checked, before, fmt.Errorf("%s: people: %w", db, err)
	}
	for pid := range seen.ps {
		if p := &seen.ps[pid]; p.added && !found[pid] {
			report(AuditProblem{p.seq, fmt.Sprintf("person %s (pid %d) is enrolled in the trail but not in people: deleted outside the service", idcard.Mask(p.personID), pid)})
		}
	}
	return checked, before, nil
}
