package service

import (
	"iter"
	"slices"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/engine"
)

// The console's money to recover (the recovery list, the dashboard's total, the person
// page) is read from what the last commit published, not from the people in memory: those
// are the running batch's or day's, half-applied until it commits and put back if it
// fails, and reading them meant waiting for s.mu, which a payroll day of 250,000 people
// holds for a minute (a scale review: the pages waited 16-77 s). A commit publishes the
// people it changed; the readers take the last publication without a lock.

// caseInput is what the recovery cases need of one person as a commit left them, never
// changed after: the recipient (a copy: a move changes the held one's RegionCode in
// place; its entitlements are shared, which a roster import replaces, never edits) and
// the state (caseState).
type caseInput struct {
	pid   int64
	rec   sc.Recipient
	state engine.State
}

// caseInputOf returns p's caseInput, or nil when the engine finds no month overpaid to p
// (what was paid for a month changes its amount, never whether it counts): a payroll day
// changes everyone alive, and about 1 in 200 people has a case, the only ones copied.
// Someone the ledger holds entries for without a case (a death reviewed away after the
// family repaid) is read from the store (cases).
func (s *Service) caseInputOf(p *Person) *caseInput {
	// Quick for nearly everyone: no death, no LOSS, nothing paid outside an entitlement.
	if len(s.eng.OverpaymentsDisputed(p.Rec, &p.State, nil)) == 0 {
		return nil
	}
	return &caseInput{pid: p.PID, rec: *p.Rec, state: caseState(&p.State)}
}

// caseState copies what overpayments and the cases read of a state, sharing nothing with
// it (the engine changes its slices in place): all but the weak traces and the model's
// memory, the bulk of a state, which they do not read.
func caseState(st *engine.State) engine.State {
	c := *st
	c.Weak, c.Evidence = nil, nil
	return cloneState(&c)
}

// casePage is how many people one page of a publication holds: a commit copies the pages
// of the people it changed, and shares the others with the publication before.
const casePage = 512

// caseInputs is one publication: every person's caseInput by pid (nil for those without),
// as of one commit. Neither it nor its pages change once published.
type caseInputs struct {
	pages []*[casePage]*caseInput
	n     int64 // the people it holds, pids 0…n-1
}

// get returns pid's caseInput, nil when it has none or is not held.
func (ci *caseInputs) get(pid int64) *caseInput {
	if pid < 0 || pid >= ci.n {
		return nil
	}
	return ci.pages[pid/casePage][pid%casePage]
}

// all yields every caseInput held, by pid.
func (ci *caseInputs) all() iter.Seq[*caseInput] {
	return func(yield func(*caseInput) bool) {
		for _, pg := range ci.pages {
			for _, in := range pg {
				if in != nil && !yield(in) {
					return
				}
			}
		}
	}
}

// published returns the last publication (an empty one before Open's).
func (s *Service) published() *caseInputs {
	if ci := s.pub.Load(); ci != nil {
		return ci
	}
	return &caseInputs{}
}

// publish publishes, after a commit, the caseInputs of the people changed (pids) and of
// those added since the last publication (changed nil: those alone). The caller holds s.mu, and calls it only once
// the commit succeeded: readers never see a transaction that may yet roll back.
func (s *Service) publish(changed iter.Seq[int64]) {
	old := s.published()
	n := int64(len(s.ppl))
	next := &caseInputs{pages: slices.Clone(old.pages), n: n}
	own := make([]bool, len(next.pages)) // pages copied for next
	for int64(len(next.pages))*casePage < n {
		next.pages = append(next.pages, new([casePage]*caseInput))
		own = append(own, true)
	}
	set := func(pid int64) {
		in := s.caseInputOf(s.ppl[pid])
		pg, i := pid/casePage, pid%casePage
		if in == nil && next.pages[pg][i] == nil {
			return // the common case: nothing overpaid, before or after
		}
		if !own[pg] {
			cp := *next.pages[pg]
			next.pages[pg], own[pg] = &cp, true
		}
		next.pages[pg][i] = in
	}
	if changed != nil {
		for pid := range changed {
			set(pid)
		}
	}
	for pid := old.n; pid < n; pid++ {
		set(pid)
	}
	s.pub.Store(next)
}
