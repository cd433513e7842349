package service

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"strings"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/engine"
	"github.com/silentcert/silentcert/exchange"
	"github.com/silentcert/silentcert/linkage"
	"github.com/silentcert/silentcert/store"
)

// RosterResult is what a roster import did.
type RosterResult struct {
	BatchID         int64
	Added, Updated  int
	Unchanged       int
	Roster          *exchange.Roster
	EntitlementKept int // people whose entitlements changed shape: kept as they were (see ImportRoster)
	LinkedLate      int // stored records of a death, a loss or its end found to name a person enrolled now
}

// ImportRoster reads a roster file (spec §2) and enrols its people: new people are added
// with a fresh state (their first day's status row comes with the next daily run);
// people already known get their contact details, address and amounts updated. A change
// in the set of a person's entitlements is not applied to a person already enrolled (the
// state's payment history is per entitlement): it is reported, for an operator to handle.
// Records of a death, a loss of eligibility or its end that arrived before a new person's
// enrolment, naming no one then, are applied to them (linkEnrolled).
func (s *Service) ImportRoster(ctx context.Context, path, encoding, actor string) (*RosterResult, error) {
	return s.importRoster(ctx, path, encoding, actor, s.Today())
}

// importRoster is ImportRoster reading a last_certified later than by as by (a replay's
// is its last day, as backtest's).
func (s *Service) importRoster(ctx context.Context, path, encoding, actor string, by sc.Date) (*RosterResult, error) {
	ro, err := s.readRoster(path, encoding, by)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	res := &RosterResult{Roster: ro}
	tx, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	rep := func() string {
		b, _ := json.Marshal(map[string]any{"rows": ro.Rows, "recipients": len(ro.Recipients), "quarantined": len(ro.Problems),
			"warnings": len(ro.Warnings), "encoding": ro.Encoding, "linked_late": res.LinkedLate})
		return string(b)
	}
	b := &store.Batch{Origin: "roster", Actor: actor, Received: s.wallTime(), Day: s.Today(), Status: "applied", Files: path, Report: rep()}
	if _, err := tx.NewBatch(b); err != nil {
		return nil, err
	}
	res.BatchID = b.ID
	if err := tx.Quarantine(b.ID, problemsToStore(ro.Problems)); err != nil {
		return nil, err
	}
	var added []*Person
	var changed []*store.Person
	for _, rec := range ro.Recipients {
		r := *rec
		r.Entitlements = slices.Clone(rec.Entitlements)
		// Entitlements in benefit_type order: the order of payroll and overpayment rows.
		slices.SortStableFunc(r.Entitlements, func(a, b sc.Entitlement) int { return bytes.Compare([]byte(a.Benefit), []byte(b.Benefit)) })
		if pid, ok := s.byID[r.PersonID]; ok {
			p := s.ppl[pid]
			if !sameBenefits(p.Rec.Entitlements, r.Entitlements) {
				res.EntitlementKept++
				r.Entitlements = p.Rec.Entitlements
			}
			rosterRegion := r.RegionCode
			r.RegionCode = p.Rec.RegionCode // moves recorded since the roster was written stand
			if recipientEqual(p.Rec, &r) && rosterRegion == p.RosterRegion {
				res.Unchanged++
				continue
			}
			res.Updated++
			np := *p
			np.Rec = &r
			np.RosterRegion = rosterRegion
			sp, err := s.toStore(&np)
			if err != nil {
				return nil, err
			}
			changed = append(changed, sp)
			continue
		}
		p := &Person{PID: int64(len(s.ppl) + len(added)), Rec: &r, NextCheck: sc.NoDate, Health: -1, RosterRegion: r.RegionCode}
		p.State = s.eng.EnrolWith(p.Rec, make([]engine.EntState, len(r.Entitlements)))
		added = append(added, p)
		res.Added++
	}
	if res.LinkedLate, err = s.linkEnrolled(tx, added, s.Today()); err != nil {
		return nil, err
	}
	for _, p := range added {
		sp, err := s.toStore(p)
		if err != nil {
			return nil, err
		}
		changed = append(changed, sp)
	}
	for i := 0; i < len(changed); i += 512 {
		if err := tx.PutPeople(changed[i:min(i+512, len(changed))]); err != nil {
			return nil, err
		}
	}
	if err := tx.FinishBatch(b.ID, "applied", rep()); err != nil {
		return nil, err
	}
	if err := tx.Append([]store.AuditRow{{Kind: "roster", Day: s.Today(), At: s.wallTime(), Actor: actor, PID: -1,
		Action: "import", Evidence: path, Detail: rep()}}); err != nil {
		return nil, err
	}
	if err := s.commit(tx); err != nil {
		return nil, err
	}
	for _, sp := range changed {
		if pid, ok := s.byID[sp.Rec.PersonID]; ok {
			rec := sp.Rec
			s.ppl[pid].Rec = &rec
			s.ppl[pid].RosterRegion = sp.RosterRegion
		}
	}
	for _, p := range added {
		s.ppl = append(s.ppl, p)
		s.byID[p.Rec.PersonID] = p.PID
	}
	s.reindex()
	s.publish(func(yield func(int64) bool) {
		for _, sp := range changed {
			if !yield(sp.PID) {
				return
			}
		}
	})
	return res, nil
}

func sameBenefits(a, b []sc.Entitlement) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Benefit != b[i].Benefit {
			return false
		}
	}
	return true
}

func recipientEqual(a, b *sc.Recipient) bool {
	if a.PersonID != b.PersonID || a.Name != b.Name || a.Sex != b.Sex || a.BirthDate != b.BirthDate ||
		a.HukouAddress != b.HukouAddress || a.RegionCode != b.RegionCode || a.Phone != b.Phone ||
		a.AgentPhone != b.AgentPhone || a.LastCertified != b.LastCertified || a.NameConflicts != b.NameConflicts {
		return false
	}
	return slices.Equal(a.Entitlements, b.Entitlements)
}

func problemsToStore(ps []exchange.Problem) []store.Quarantined {
	out := make([]store.Quarantined, len(ps))
	for i, p := range ps {
		out[i] = store.Quarantined{File: p.File, Line: p.Line, Field: p.Field, Reason: p.Reason, Message: p.Message}
	}
	return out
}

func problemsFromStore(qs []store.Quarantined) []exchange.Problem {
	out := make([]exchange.Problem, len(qs))
	for i, q := range qs {
		out[i] = exchange.Problem{File: q.File, Line: q.Line, Field: q.Field, Reason: q.Reason, Message: q.Message}
	}
	return out
}

// readRoster reads a roster file with the service's configuration and address resolver:
// what ImportRoster imports, and a resumed replay reports.
func (s *Service) readRoster(path, encoding string, by sc.Date) (*exchange.Roster, error) {
	return exchange.ReadRoster(path, exchange.RosterOptions{Encoding: encoding, Config: s.cfg, ResolveRegion: s.opt.ResolveRegion, CertifiedBy: by})
}

// linkEnrolled applies to people a roster import enrols the stored records of a death, a
// loss of eligibility or its end that named no one on the roster when they arrived: a death
// the police reported before the pension system enrolled the person stops them on their
// first day, as backtest (which links against the whole roster) stops them, instead of
// paying them until their service period runs out. Other classes wait for the person's
// own records from now on: the roster's last_certified stands for what came before. The
// records are linked as a batch would link them now, against everyone (a name and birth
// date shared with someone enrolled before stays unlinked, ambiguous), and applied on day
// in spec §7's order; one whose name disagrees is held for review as on arrival.
func (s *Service) linkEnrolled(tx *store.Tx, added []*Person, day sc.Date) (int, error) {
	if len(added) == 0 {
		return 0, nil
	}
	var types []string
	for _, t := range s.cat.Types() {
		if t.Class == sc.ClassDeath || t.Class == sc.ClassLoss || t.Class == sc.ClassRestore {
			types = append(types, t.Code)
		}
	}
	ids := make([]string, len(added))
	for i, p := range added {
		ids[i] = p.Rec.PersonID
	}
	recs, err := tx.UnlinkedRecords(types, ids)
	if err != nil || len(recs) == 0 {
		return 0, err
	}
	ix, ixOf := indexOf(append(slices.Clip(s.ppl), added...))
	first := int64(len(s.ppl))
	var late []store.Record
	var scratch linkage.Scratch
	for _, r := range recs {
		pos, out := ix.Link([]byte(r.PersonID), []byte(r.Name), r.BirthDate, []byte(r.RegionCode), &scratch)
		if (out != linkage.Linked && out != linkage.HeldName) || ixOf[pos] < first {
			continue
		}
		r.PID, r.Held, r.Link = ixOf[pos], out == linkage.HeldName, 0
		late = append(late, r)
	}
	if len(late) == 0 {
		return 0, nil
	}
	if err := tx.LinkLate(late); err != nil {
		return 0, err
	}
	slices.SortStableFunc(late, func(a, b store.Record) int {
		return cmp.Or(cmp.Compare(a.PID, b.PID), cmp.Compare(a.ReportedDate, b.ReportedDate), cmp.Compare(a.EventDate, b.EventDate),
			strings.Compare(a.Source, b.Source), strings.Compare(a.RecordID, b.RecordID), cmp.Compare(a.ID, b.ID))
	})
	k := newSink()
	keys := map[int64]string{}
	for _, r := range late {
		if r.Held {
			continue
		}
		typ, ok := s.cat.Lookup(r.Type)
		if !ok {
			continue // a type the catalogue no longer knows
		}
		p := added[r.PID-first]
		in := engine.Input{Type: typ, Event: r.EventDate, Ref: engine.Ref(r.ID), Target: engine.NoRef}
		if s.opt.Model != nil {
			in.Place = sc.PlaceOf(r.RegionCode)
		}
		k.p = p
		s.eng.Apply(p.Rec, &p.State, &in, day, k)
		p.NextCheck = day
		markBaselined(p, day)
		keys[r.ID] = r.Source + ":" + r.RecordID
	}
	if _, err := k.flush(tx, keys, "engine", s.hook(tx)); err != nil {
		return 0, err
	}
	return len(late), nil
}
