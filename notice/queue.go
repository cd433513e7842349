package notice

import (
	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/engine"
	"github.com/silentcert/silentcert/store"
)

// Queue does, in tx (the transaction that writes the decision), what one decision means for
// the outbox, so that a notice exists exactly when its decision does; it is what the
// service's decision hook calls, with the person's state as the transaction leaves it.
//
//   - TERMINATED or CONFLICT: every pending notice of the person is cancelled.
//   - CERTIFIED leaving the person CERTIFIED: a confirmation is queued when Config.Confirm
//     asks for one and the person's latest notice is a reminder that went out. Pending reminders are
//     left to the sender, which cancels them when it finds the person CERTIFIED: a query
//     per certification would slow ingestion for no gain.
//   - WARNING, PENDING, SUSPENDED: the notices Plan returns are queued (none twice).
//
// It returns the number of notices queued.
func Queue(tx *store.Tx, pid int64, rec *sc.Recipient, st *engine.State, d engine.Decision, cfg Config) (int, error) {
	switch d.Action {
	case sc.ActTerminated, sc.ActConflict:
		_, err := tx.CancelNotices(pid, "the person's status became "+d.Action.String()+" on "+d.Day.String())
		return 0, err
	case sc.ActWarning, sc.ActPending, sc.ActSuspended, sc.ActCertified:
	default:
		return 0, nil
	}
	in := Decision{Day: d.Day, Action: d.Action, Method: d.Method, Until: st.Until, SuspendFrom: st.SuspendFrom, Status: st.Status}
	if d.Action == sc.ActCertified {
		if !cfg.Confirm || st.Status != sc.StatusCertified || (d.Method != sc.MethodStrong && d.Method != sc.MethodWeak) {
			return 0, nil
		}
		kind, status, err := tx.LastNotice(pid)
		if err != nil {
			return 0, err
		}
		// Reminded: the latest notice is a reminder that went out. A reminder still queued
		// will be cancelled by the sender (the person is CERTIFIED now), and a confirmation
		// already queued or sent is not repeated for a second certification.
		in.Reminded = (kind == KindWarning || kind == KindPending || kind == KindSuspended) &&
			(status == store.NoticeSent || status == store.NoticeSending)
	}
	ns := Plan(rec, pid, in, cfg)
	if len(ns) == 0 {
		return 0, nil
	}
	return tx.EnqueueNotices(ns)
}
