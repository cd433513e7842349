package service

import (
	"context"
	"io"
	"slices"
	"strings"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/engine"
	"github.com/silentcert/silentcert/exchange"
	"github.com/silentcert/silentcert/store"
)

// WritePayroll writes the payment system's input for one payroll month: one row per
// entitlement and month settled at that payroll — PAY (the month's regular amount),
// BACK_PAY (a month held earlier, released now) or WITHHOLD (not paid, with the status
// that stopped it) — sorted by person_id, benefit_type, month, so that the payment system
// stops, resumes and back-pays from the file alone.
func (s *Service) WritePayroll(ctx context.Context, m sc.Month, w io.Writer) (rows int, err error) {
	type row struct {
		personID, benefit string
		month             sc.Month
		action, reason    string
		amount            sc.Fen
	}
	var out []row
	s.mu.Lock()
	err = s.db.Payments(ctx, m, func(p *store.Payment) error {
		r := row{personID: s.ppl[p.PID].Rec.PersonID, benefit: p.Benefit, month: p.Month, amount: p.Amount}
		switch {
		case p.Kind == sc.PayRegular.String():
			r.action = "PAY"
		case p.Kind == sc.PayBack.String():
			r.action = "BACK_PAY"
		default:
			r.action, r.reason = "WITHHOLD", strings.TrimPrefix(p.Kind, "WITHHELD:")
		}
		out = append(out, r)
		return nil
	})
	s.mu.Unlock()
	if err != nil {
		return 0, err
	}
	slices.SortFunc(out, func(a, b row) int {
		if c := strings.Compare(a.personID, b.personID); c != 0 {
			return c
		}
		if c := strings.Compare(a.benefit, b.benefit); c != 0 {
			return c
		}
		return int(a.month - b.month)
	})
	cw := exchange.NewCSVWriter(w)
	if err := cw.Row("payroll_month", "person_id", "benefit_type", "month", "action", "amount", "reason"); err != nil {
		return 0, err
	}
	pm := m.String()
	for _, r := range out {
		if err := cw.Row(pm, r.personID, r.benefit, r.month.String(), r.action, r.amount.String(), r.reason); err != nil {
			return 0, err
		}
	}
	return len(out), cw.Flush()
}

// RecoveryCase is one entitlement's money paid for months not due (after an accepted
// death, or covered by a late LOSS), as the engine has it now: the months, the amount,
// what the offset capacity covers (抵顶) and what is left to recover (追回). What the
// family has repaid since, or the bureau has written off, is kept by the store
// (store.RecoveryEntry), not here.
type RecoveryCase struct {
	PID                       int64
	PersonID, Name            string
	RegionCode                string
	Phone, AgentPhone         string
	Benefit                   string
	Status                    sc.Status
	DeathDate                 sc.Date
	Months                    int
	Amount, Offset, ToRecover sc.Fen
}

// Recovery is a recovery case with what the console recorded against it since (its
// entries in the ledger, store.RecoveryEntry) and what that leaves outstanding (negative
// when more was repaid or written off than the engine now says is owed).
type Recovery struct {
	RecoveryCase
	Entries []store.RecoveryEntry
	store.Settlement
}

// Recoveries returns the recovery cases of the people whose region code starts with prefix
// ("" for everyone), by person_id and then entitlement, joined with the ledger. An
// entitlement the ledger holds entries for that the engine no longer finds overpaid (a
// death reviewed away after the family repaid) is a case of nothing owed, so that what
// was repaid shows, as due back. While a death is disputed (CONFLICT) the case counts as
// if the death stood, until the review decides.
func (s *Service) Recoveries(ctx context.Context, prefix string) ([]Recovery, error) {
	ledger, err := s.db.RecoveryLedger(ctx)
	if err != nil {
		return nil, err
	}
	cases, err := s.recoveryCases(ctx, prefix, ledger)
	return joinLedger(cases, ledger), err
}

// RecoveriesOf returns one person's recoveries, as Recoveries has them.
func (s *Service) RecoveriesOf(ctx context.Context, pid int64) ([]Recovery, error) {
	ledger, err := s.db.RecoveryEntries(ctx, []int64{pid})
	if err != nil {
		return nil, err
	}
	pub := s.published()
	var ins []*caseInput
	if in := pub.get(pid); in != nil {
		ins = append(ins, in)
	}
	cases, err := s.cases(ctx, pub, "", ins, ledger)
	return joinLedger(cases, ledger), err
}

// ToRecoverIn returns what is to recover on pid's entitlement benefit (RecoveryCase's
// ToRecover, 0 when the engine finds nothing overpaid) as tx sees the person and their
// payments: what a ledger entry recorded in tx is checked against. RecoveriesOf's figures
// are the last commit's, read before the entry's transaction; a batch, a review or a
// payroll committed in between may have changed them (a death disputed again: nothing is
// due back to the family until its review).
func (s *Service) ToRecoverIn(tx *store.Tx, pid int64, benefit string) (sc.Fen, error) {
	sp, err := tx.Person(pid)
	if err != nil {
		return 0, err
	}
	p, err := s.fromStore(sp)
	if err != nil {
		return 0, err
	}
	paid, err := tx.PaidAmountsOf(pid)
	if err != nil {
		return 0, err
	}
	for _, k := range s.casesOf(nil, &caseInput{pid: pid, rec: *p.Rec, state: p.State}, nil, paid) {
		if k.Benefit == benefit {
			return k.ToRecover, nil
		}
	}
	return 0, nil
}

// recoveryCases returns the cases of the people whose region code starts with prefix, the
// engine's and the ledger's (casesOf), in sortCases' order.
func (s *Service) recoveryCases(ctx context.Context, prefix string, ledger map[int64][]store.RecoveryEntry) ([]RecoveryCase, error) {
	pub := s.published()
	var ins []*caseInput
	for in := range pub.all() {
		if strings.HasPrefix(in.rec.RegionCode, prefix) {
			ins = append(ins, in)
		}
	}
	return s.cases(ctx, pub, prefix, ins, ledger)
}

// cases returns the recovery cases (casesOf) of the people ins, from the publication pub,
// and of the ledger's people it holds no input of whose region code starts with prefix, in
// sortCases' order, counting each overpaid month what the payments table says was paid
// for it (an amount the roster changed since counts what was paid then). No lock: the
// inputs are the last commit's (publish), and the payments are read after it (a month
// paid by a commit since counts the roster's amount).
func (s *Service) cases(ctx context.Context, pub *caseInputs, prefix string, ins []*caseInput, ledger map[int64][]store.RecoveryEntry) ([]RecoveryCase, error) {
	// The ledger's people without an input (nothing overpaid now: a death reviewed away
	// after the family repaid) are their cases of nothing owed, named as the store has
	// them (a few; the store is at least as recent as pub).
	var others []int64
	for pid := range ledger {
		if pub.get(pid) == nil {
			others = append(others, pid)
		}
	}
	if len(others) > 0 {
		slices.Sort(others)
		ps, err := s.db.PeopleOf(ctx, others)
		if err != nil {
			return nil, err
		}
		for _, pid := range others {
			if sp := ps[pid]; sp != nil && strings.HasPrefix(sp.Rec.RegionCode, prefix) {
				ins = append(ins, &caseInput{pid: pid, rec: sp.Rec, state: engine.State{Status: sp.Status, DeathDate: sp.DeathDate}})
			}
		}
	}
	var pids []int64
	for _, in := range ins {
		if len(s.eng.OverpaymentsDisputed(&in.rec, &in.state, nil)) > 0 {
			pids = append(pids, in.pid)
		}
	}
	paid, err := s.db.PaidAmounts(ctx, pids)
	if err != nil {
		return nil, err
	}
	var out []RecoveryCase
	for _, in := range ins {
		out = s.casesOf(out, in, ledger[in.pid], paid)
	}
	return sortCases(out), nil
}

// sortCases puts cases in person_id order, each person's by benefit (one case an
// entitlement, benefits unique in a person: a total order).
func sortCases(cs []RecoveryCase) []RecoveryCase {
	slices.SortFunc(cs, func(a, b RecoveryCase) int {
		if c := strings.Compare(a.PersonID, b.PersonID); c != 0 {
			return c
		}
		return strings.Compare(a.Benefit, b.Benefit)
	})
	return cs
}

// casesOf appends p's recovery cases to out: the engine's overpayments, then a case of
// nothing owed for each benefit of p's ledger entries the engine did not give.
func (s *Service) casesOf(out []RecoveryCase, p *caseInput, entries []store.RecoveryEntry, paid map[store.MonthKey]sc.Fen) []RecoveryCase {
	start := len(out)
	add := func(benefit string) *RecoveryCase {
		out = append(out, RecoveryCase{PID: p.pid, PersonID: p.rec.PersonID, Name: p.rec.Name, RegionCode: p.rec.RegionCode,
			Phone: p.rec.Phone, AgentPhone: p.rec.AgentPhone, Benefit: benefit, Status: p.state.Status, DeathDate: p.state.DeathDate})
		return &out[len(out)-1]
	}
	amount := func(ent int, m sc.Month) (sc.Fen, bool) {
		a, ok := paid[store.MonthKey{PID: p.pid, Benefit: p.rec.Entitlements[ent].Benefit, Month: m}]
		return a, ok
	}
	// A disputed death keeps the case's figures until the review: what the family
	// repaid is not due back to it meanwhile (the case's Status says CONFLICT).
	for _, o := range s.eng.OverpaymentsDisputed(&p.rec, &p.state, amount) {
		k := add(p.rec.Entitlements[o.Ent].Benefit)
		k.Months, k.Amount, k.Offset, k.ToRecover = o.Months, o.Amount, o.Offset, o.ToRecover
	}
	for _, e := range entries {
		if !slices.ContainsFunc(out[start:], func(k RecoveryCase) bool { return k.Benefit == e.Benefit }) {
			add(e.Benefit)
		}
	}
	return out
}

// joinLedger gives each case its entries and what they leave outstanding.
func joinLedger(cases []RecoveryCase, ledger map[int64][]store.RecoveryEntry) []Recovery {
	out := make([]Recovery, len(cases))
	for i, k := range cases {
		x := Recovery{RecoveryCase: k}
		for _, e := range ledger[k.PID] {
			if e.Benefit == k.Benefit {
				x.Entries = append(x.Entries, e)
			}
		}
		x.Settlement = store.Settle(x.Entries, k.Benefit, k.ToRecover)
		out[i] = x
	}
	return out
}

// WriteRecoveries writes the recoveries (Recoveries, everyone's) as CSV — backtest's
// overpayments.csv's figures, now, with the status and the date of death, and besides
// them a disputed death's (status CONFLICT), which overpayments.csv leaves out until the
// review — and what
// the console recorded against each since: repaid, written off, the outstanding rest, paid
// back to the family, and what is still due back to it.
func (s *Service) WriteRecoveries(ctx context.Context, w io.Writer) (rows int, err error) {
	recs, err := s.Recoveries(ctx, "")
	if err != nil {
		return 0, err
	}
	cw := exchange.NewCSVWriter(w)
	if err := cw.Row("person_id", "benefit_type", "months", "amount", "offset", "to_recover", "status", "death_date",
		"repaid", "waived", "outstanding", "refunded", "refund_due"); err != nil {
		return 0, err
	}
	for _, o := range recs {
		if err := cw.Row(o.PersonID, o.Benefit, itoa(int64(o.Months)), o.Amount.String(), o.Offset.String(), o.ToRecover.String(),
			o.Status.String(), o.DeathDate.String(), o.Repaid.String(), o.Waived.String(), o.Outstanding.String(),
			o.Refunded.String(), o.Refund.String()); err != nil {
			return rows, err
		}
		rows++
	}
	return rows, cw.Flush()
}
