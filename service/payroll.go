package service

import (
	"context"
	"io"
	"slices"
	"strings"

	sc "github.com/silentcert/silentcert"
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

// RecoveryCases returns the recovery cases of the people whose region code starts with
// prefix ("" for everyone), by person_id and then entitlement order. recorded names, by
// person, the entitlements the ledger holds entries for (store.DB.RecoveryKeys): one the
// engine no longer finds overpaid (a death disputed or reviewed away after the family
// repaid) is a case of nothing owed, so that what was repaid shows, as due back.
func (s *Service) RecoveryCases(prefix string, recorded map[int64][]string) []RecoveryCase {
	var out []RecoveryCase
	s.mu.Lock()
	for _, p := range s.ppl {
		if (p.State.Rare == nil && recorded[p.PID] == nil) || !strings.HasPrefix(p.Rec.RegionCode, prefix) {
			continue
		}
		out = s.casesOf(out, p, recorded[p.PID])
	}
	s.mu.Unlock()
	// Sorted outside the lock: ingestion waits for the scan alone.
	slices.SortFunc(out, func(a, b RecoveryCase) int {
		if c := strings.Compare(a.PersonID, b.PersonID); c != 0 {
			return c
		}
		return strings.Compare(a.Benefit, b.Benefit) // one case per entitlement, benefits unique in a person
	})
	return out
}

// RecoveryCasesOf returns one person's recovery cases, in entitlement order, with those of
// recorded (the entitlements the ledger holds entries for) as RecoveryCases has them.
func (s *Service) RecoveryCasesOf(pid int64, recorded []string) []RecoveryCase {
	s.mu.Lock()
	defer s.mu.Unlock()
	if pid < 0 || pid >= int64(len(s.ppl)) || (s.ppl[pid].State.Rare == nil && len(recorded) == 0) {
		return nil
	}
	out := s.casesOf(nil, s.ppl[pid], recorded)
	slices.SortFunc(out, func(a, b RecoveryCase) int { return strings.Compare(a.Benefit, b.Benefit) })
	return out
}

// casesOf appends p's recovery cases to out: the engine's overpayments, then a case of
// nothing owed for each benefit of recorded the engine did not give.
func (s *Service) casesOf(out []RecoveryCase, p *Person, recorded []string) []RecoveryCase {
	start := len(out)
	add := func(benefit string) *RecoveryCase {
		out = append(out, RecoveryCase{PID: p.PID, PersonID: p.Rec.PersonID, Name: p.Rec.Name, RegionCode: p.Rec.RegionCode,
			Phone: p.Rec.Phone, AgentPhone: p.Rec.AgentPhone, Benefit: benefit, Status: p.State.Status, DeathDate: p.State.DeathDate})
		return &out[len(out)-1]
	}
	if p.State.Rare != nil {
		for _, o := range s.eng.Overpayments(p.Rec, &p.State) {
			k := add(p.Rec.Entitlements[o.Ent].Benefit)
			k.Months, k.Amount, k.Offset, k.ToRecover = o.Months, o.Amount, o.Offset, o.ToRecover
		}
	}
	for _, b := range recorded {
		if !slices.ContainsFunc(out[start:], func(k RecoveryCase) bool { return k.Benefit == b }) {
			add(b)
		}
	}
	return out
}

// WriteRecoveries writes the recovery cases (RecoveryCases, everyone's) as CSV — the same
// figures as backtest's overpayments.csv, now, with the status and the date of death —
// and what the console recorded against each since (store.RecoveryEntry): repaid, written
// off, and the outstanding rest (negative when more was repaid than is owed now).
func (s *Service) WriteRecoveries(ctx context.Context, w io.Writer) (rows int, err error) {
	recorded, err := s.db.RecoveryKeys(ctx)
	if err != nil {
		return 0, err
	}
	cases := s.RecoveryCases("", recorded)
	pids := make([]int64, 0, len(cases))
	for i := range cases {
		if i == 0 || cases[i].PID != cases[i-1].PID {
			pids = append(pids, cases[i].PID)
		}
	}
	entries, err := s.db.RecoveryEntries(ctx, pids)
	if err != nil {
		return 0, err
	}
	cw := exchange.NewCSVWriter(w)
	if err := cw.Row("person_id", "benefit_type", "months", "amount", "offset", "to_recover", "status", "death_date",
		"repaid", "waived", "outstanding"); err != nil {
		return 0, err
	}
	for _, o := range cases {
		repaid, waived := store.Recovered(entries[o.PID], o.Benefit)
		if err := cw.Row(o.PersonID, o.Benefit, itoa(int64(o.Months)), o.Amount.String(), o.Offset.String(), o.ToRecover.String(),
			o.Status.String(), o.DeathDate.String(), repaid.String(), waived.String(), (o.ToRecover - repaid - waived).String()); err != nil {
			return rows, err
		}
		rows++
	}
	return rows, cw.Flush()
}
