package backtest

import (
	"slices"

	sc "github.com/silentcert/silentcert"
)

// DeliveryAware is implemented by an evidence model that wants to know on which days each
// record type was delivered (any row with that reported_date was read), so that a
// department that stopped sending is not taken for people going silent. The days are
// known before the replay, and a model must only ask about days up to the one it is
// evaluating, as the service would know them.
type DeliveryAware interface {
	SetDeliveries(days [][]sc.Date) // per TypeID: the distinct reported days, ascending
}

// feedModel gives the model, when it asks, the days each type was delivered.
func (r *runner) feedModel() {
	m, ok := r.opt.Model.(DeliveryAware)
	if !ok {
		return
	}
	days := make([][]sc.Date, r.cat.Len())
	for i := 0; i < r.entries.len(); i++ {
		e := r.entries.at(uint32(i))
		if int(e.typ) >= len(days) {
			continue
		}
		ds := days[e.typ]
		if n := len(ds); n == 0 || ds[n-1] != e.reported {
			days[e.typ] = append(ds, e.reported)
		}
	}
	for i := range days {
		slices.Sort(days[i])
		days[i] = slices.Compact(days[i])
	}
	m.SetDeliveries(days)
}
