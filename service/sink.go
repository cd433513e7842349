package service

import (
	"slices"
	"strconv"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/engine"
	"github.com/silentcert/silentcert/store"
)

// pending is one decision waiting for its evidence's names.
type pending struct {
	p      *Person
	d      engine.Decision
	region string // the person's region when it was made (a move's own decision: the old one)
}

// sink collects what the engine decides during one transaction: decisions (turned into
// audit rows once their records' names are known), payments and counts.
type sink struct {
	p        *Person
	quiet    bool // history: decisions are not rows (as in backtest)
	payroll  sc.Month
	decs     []pending
	pays     []store.Payment
	sent     int // pays[:sent] are written already (the 1st's run writes them as it goes)
	counters map[string]int64
	// backs are the back pay released, at the roster's amount, until flush pays each
	// month the amount withheld for it (backPayWithheld) and moves them to pays.
	backs []store.Payment
}

func newSink() *sink { return &sink{counters: map[string]int64{}} }

func (k *sink) Decide(d engine.Decision) {
	if k.quiet {
		return
	}
	k.counters["decisions."+d.Action.String()]++
	if d.Action == sc.ActCertified {
		k.counters["certifications."+d.Method.String()]++
	}
	k.decs = append(k.decs, pending{p: k.p, d: d, region: k.p.Rec.RegionCode})
}

func (k *sink) Pay(p engine.Payment) {
	e := &k.p.Rec.Entitlements[p.Ent]
	row := store.Payment{PID: k.p.PID, Benefit: e.Benefit, Month: p.Month, Kind: p.Kind.String(), Amount: p.Amount, PayrollMonth: k.payroll}
	if p.Kind == sc.PayBack {
		k.backs = append(k.backs, row) // counted once its amount is known
		return
	}
	k.counters["money.paid_regular"] += int64(p.Amount)
	k.pays = append(k.pays, row)
}

// backPayWithheld pays each month of back pay released the amount withheld for it (its
// WITHHELD row), not the roster's amount on the day it is released (which the engine,
// whose roster in backtest is fixed, gives): a raise or a cut the roster brought since
// does not change what was owed for a month held before it, as it does not for the
// months paid on time (and money to recover counts what was paid). A month no payroll
// withheld keeps the roster's amount. The rows then
// join pays, after those of the run (the 1st's run writes pays as it goes, and the
// transaction is free for the lookup only once it ends), so that the payment rows, the
// payroll's sums, the counters and the console's sums all say what is paid.
func (k *sink) backPayWithheld(tx *store.Tx) error {
	if len(k.backs) == 0 {
		return nil
	}
	keys := make([]store.MonthKey, len(k.backs))
	for i, b := range k.backs {
		keys[i] = store.MonthKey{PID: b.PID, Benefit: b.Benefit, Month: b.Month}
	}
	held, err := tx.WithheldAmounts(keys)
	if err != nil {
		return err
	}
	for i := range k.backs {
		b := &k.backs[i]
		if a, ok := held[keys[i]]; ok {
			b.Amount = a
		}
		k.counters["money.paid_back_pay"] += int64(b.Amount)
	}
	k.pays = append(k.pays, k.backs...)
	k.backs = k.backs[:0]
	return nil
}

func (k *sink) Withhold(w engine.Withholding) {
	e := &k.p.Rec.Entitlements[w.Ent]
	k.counters["money.withheld"] += int64(w.Amount)
	k.counters["money.withheld_by_status."+w.Reason.String()] += int64(w.Amount)
	k.pays = append(k.pays, store.Payment{PID: k.p.PID, Benefit: e.Benefit, Month: w.Month, Kind: "WITHHELD:" + w.Reason.String(),
		Amount: w.Amount, PayrollMonth: k.payroll})
}

func (k *sink) Count(c engine.Counter) { k.counters["counters."+c.String()]++ }

// ruleOf names the rule behind a decision (spec §6, or the fraud-risk model for RISK), for
// the audit trail.
func ruleOf(d *engine.Decision) string {
	switch d.Action {
	case sc.ActCertified:
		return "§6 certification: " + d.Method.String()
	case sc.ActWarning:
		return "§6 warning window"
	case sc.ActPending:
		return "§6 service period ended"
	case sc.ActSuspended:
		return "§6 grace ended: payment suspended"
	case sc.ActResumed:
		return "§6 resumption with back pay"
	case sc.ActTerminated:
		return "§6 death"
	case sc.ActLoss:
		return "§6 loss of eligibility"
	case sc.ActRestored:
		return "§6 restore"
	case sc.ActConflict:
		return "§6 conflict held for review"
	case sc.ActRisk:
		// Not a rule of §6: the evidence model's fraud-risk flag (§7's RISK row), which
		// asks for a look and stops nothing; its reasons are in the detail.
		return RiskRule
	}
	return "§6"
}

// RiskRule is the rule a RISK decision's audit row names.
const RiskRule = "fraud-risk model: flagged for a look, no status change"

// flush turns the collected decisions into audit rows, names their evidence (keys holds
// the names already known; the rest are read from the store), and writes them with the
// payments and counters.
func (k *sink) flush(tx *store.Tx, keys map[int64]string, actor string, onDecision func(*Person, engine.Decision) error) (int64, error) {
	var missing []int64
	need := func(r engine.Ref) {
		if r == engine.NoRef {
			return
		}
		if _, ok := keys[int64(r)]; !ok {
			missing = append(missing, int64(r))
			keys[int64(r)] = ""
		}
	}
	for i := range k.decs {
		need(k.decs[i].d.Evidence)
		if k.decs[i].d.Action == sc.ActConflict {
			need(k.decs[i].d.Other)
		}
		for _, r := range k.decs[i].d.Records {
			need(r)
		}
	}
	if len(missing) > 0 {
		got, err := tx.RecordKeys(missing)
		if err != nil {
			return 0, err
		}
		for id, key := range got {
			keys[id] = key
		}
	}
	refName := func(b []byte, r engine.Ref) []byte { return append(b, keys[int64(r)]...) }
	rows := make([]store.AuditRow, 0, len(k.decs))
	var detail []byte
	for i := range k.decs {
		pd := &k.decs[i]
		d := &pd.d
		row := store.AuditRow{Kind: "decision", Day: d.Day, At: d.Day.String(), Actor: actor, PID: pd.p.PID,
			PersonID: pd.p.Rec.PersonID, Action: d.Action.String(), Rule: ruleOf(d), Region: pd.region}
		if d.Action == sc.ActCertified {
			row.Method = d.Method.String()
		}
		if d.Evidence != engine.NoRef {
			row.Evidence = keys[int64(d.Evidence)]
		}
		detail = d.AppendDetail(detail[:0], refName)
		row.Detail = string(detail)
		rows = append(rows, row)
		if onDecision != nil {
			if err := onDecision(pd.p, *d); err != nil {
				return 0, err
			}
		}
	}
	if err := tx.Append(rows); err != nil {
		return 0, err
	}
	if err := k.backPayWithheld(tx); err != nil {
		return 0, err
	}
	if err := tx.AddPayments(k.pays[k.sent:]); err != nil {
		return 0, err
	}
	k.sent = len(k.pays)
	names := make([]string, 0, len(k.counters))
	ns := make([]int64, 0, len(k.counters))
	for _, name := range sortedKeys(k.counters) {
		names = append(names, name)
		ns = append(ns, k.counters[name])
	}
	if err := tx.AddCounters(names, ns); err != nil {
		return 0, err
	}
	return int64(len(rows)), nil
}

func sortedKeys(m map[string]int64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sortStrings(out)
	return out
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func sortStrings(s []string) { slices.Sort(s) }
