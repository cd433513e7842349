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

// WriteRecoveries writes the recovery cases (追回): for every person with money paid for
// months not due (after an accepted death, or covered by a late LOSS), per entitlement,
// the months, the amount, what the offset capacity covers (抵顶) and what is left to
// recover — the same figures as backtest's overpayments.csv, now.
func (s *Service) WriteRecoveries(w io.Writer) (rows int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	order := slices.Clone(s.ppl)
	slices.SortFunc(order, func(a, b *Person) int { return strings.Compare(a.Rec.PersonID, b.Rec.PersonID) })
	cw := exchange.NewCSVWriter(w)
	if err := cw.Row("person_id", "benefit_type", "months", "amount", "offset", "to_recover", "status", "death_date"); err != nil {
		return 0, err
	}
	for _, p := range order {
		if p.State.Rare == nil {
			continue
		}
		for _, o := range s.eng.Overpayments(p.Rec, &p.State) {
			if err := cw.Row(p.Rec.PersonID, p.Rec.Entitlements[o.Ent].Benefit, itoa(int64(o.Months)), o.Amount.String(),
				o.Offset.String(), o.ToRecover.String(), p.State.Status.String(), p.State.DeathDate.String()); err != nil {
				return rows, err
			}
			rows++
		}
	}
	return rows, cw.Flush()
}
