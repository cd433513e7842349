package notice

import (
	"strings"
	"time"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/store"
)

// Config is everything an operator sets about notices: what is sent (templates, link,
// confirmations) and how (quiet hours, limits, retries). Build it from DefaultConfig.
type Config struct {
	Templates Templates
	// GraceMonths is the policy's grace_months (spec §6): a reminder's deadline is the
	// last day before suspension, until plus GraceMonths.
	GraceMonths int
	// Link, when set, is the certification web address the how-to text names ({link}).
	Link string
	// SignIn, instead, gives each reminder a one-time sign-in link of its own, made by the
	// Sender (Sender.Links) when the notice is sent: the queued text keeps the {link}
	// placeholder, so that the database never holds a usable link (a link is a password
	// until it is used), and the pensioner and the agent who helps them each get one.
	SignIn bool
	// Confirm sends a "certified" notice when a person who had been reminded (WARNING,
	// PENDING or SUSPENDED) is certified silently (STRONG or WEAK): off by default.
	Confirm bool

	// PerDayLimit caps the notices sent per Asia/Shanghai day (0: no cap); the rest wait
	// for the next day, oldest first.
	PerDayLimit int
	// QuietStart and QuietEnd are the hours (0–23, Asia/Shanghai) between which nothing is
	// sent: from QuietStart:00 up to QuietEnd:00, across midnight when QuietStart >
	// QuietEnd; equal hours mean no quiet time.
	QuietStart, QuietEnd int
	// MaxAttempts is the number of tries before a notice fails for good.
	MaxAttempts int
	// Backoff is the wait after the first failed try; it doubles after each (capped at
	// MaxBackoff).
	Backoff, MaxBackoff time.Duration
	// Batch is the number of notices claimed at a time, and Lease how long a claim holds:
	// Lease must exceed Batch times the gateway's timeout, or a slow batch's last notices
	// would be settled as "outcome unknown" while still being sent.
	Batch int
	Lease time.Duration
	// ResendUnknown chooses, for a notice whose sender stopped between claiming and
	// marking it, a possible duplicate (resend it; the gateway sees the same id) over a
	// possible loss (fail it, the default: no notice is ever sent twice).
	ResendUnknown bool
}

// DefaultConfig returns the defaults: zh-CN templates, a grace of one month (spec §6),
// quiet from 21:00 to 08:00, 10,000 notices a day, 12 tries a minute apart doubling to six
// hours (the last about 20 hours after the first), so that a gateway down for hours loses
// no reminder (5 tries gave up after a quarter of an hour).
func DefaultConfig() Config {
	return Config{Templates: DefaultTemplates(), GraceMonths: 1, PerDayLimit: 10000, QuietStart: 21, QuietEnd: 8,
		MaxAttempts: 12, Backoff: time.Minute, MaxBackoff: 6 * time.Hour, Batch: 20, Lease: 10 * time.Minute}
}

// Validate reports the first setting out of range.
func (c *Config) Validate() error {
	switch {
	case c.GraceMonths < 0 || c.GraceMonths > 24:
		return sc.Errorf(sc.EInvalid, "notices: grace_months must be from 0 to 24")
	case c.PerDayLimit < 0:
		return sc.Errorf(sc.EInvalid, "notices: the per-day limit must not be negative")
	case c.QuietStart < 0 || c.QuietStart > 23 || c.QuietEnd < 0 || c.QuietEnd > 23:
		return sc.Errorf(sc.EInvalid, "notices: quiet hours must be from 0 to 23")
	case c.MaxAttempts < 1:
		return sc.Errorf(sc.EInvalid, "notices: max attempts must be at least 1")
	case c.Backoff <= 0 || c.MaxBackoff < c.Backoff:
		return sc.Errorf(sc.EInvalid, "notices: backoff must be positive and at most the maximum backoff")
	case c.Batch < 1:
		return sc.Errorf(sc.EInvalid, "notices: the batch must be at least 1")
	case c.Lease < time.Second:
		return sc.Errorf(sc.EInvalid, "notices: the lease must be at least a second")
	}
	if err := c.Templates.Validate(); err != nil {
		return sc.Errorf(sc.EInvalid, "notices: %v", err)
	}
	return nil
}

// Decision is what Plan needs to know of one engine decision (engine.Decision) and of the
// person's state around it; Queue fills it from the engine's types.
type Decision struct {
	Day    sc.Date
	Action sc.Action
	Method sc.Method // CERTIFIED: how
	// Until is the person's State.Until after the decision (engine.Decision.Until is set
	// only for CERTIFIED and WARNING; PENDING and SUSPENDED need it too).
	Until sc.Date
	// SuspendFrom, when after Until, is the engine's State.SuspendFrom (the first day of
	// suspension); otherwise it is computed as Until plus Config.GraceMonths, plus a day.
	SuspendFrom sc.Date
	// Status is the person's status once the transaction's decisions are applied: no
	// reminder goes to a person terminated, in conflict or in LOSS by then, nor to one
	// certified again by then.
	Status sc.Status
	// Reminded says the person's latest notice is a reminder (warning, pending or
	// suspended) that went out: only then does a silent certification earn a confirmation.
	Reminded bool
}

// Plan returns the notices one decision calls for, ready for store.Tx.EnqueueNotices: one
// to the recipient's phone and one to the agent's (代办人) when it is another mobile
// number, none when there is no mobile number, none for a person terminated, in conflict
// or in LOSS, and none for actions that tell nobody anything. It is pure.
//
// The deadline of warning, pending and suspended notices is the last day the person can
// certify before suspension (the day before State.SuspendFrom: until plus grace_months,
// see engine.Derive), which also keys the notice: a day run twice queues nothing new, a
// new period queues anew. A certified notice's deadline is the new until.
func Plan(rec *sc.Recipient, pid int64, d Decision, cfg Config) []store.Notice {
	switch d.Status {
	case sc.StatusTerminated, sc.StatusConflict, sc.StatusLoss:
		return nil
	}
	if d.Until == sc.NoDate {
		return nil
	}
	var kind string
	deadline := d.Until.AddMonths(cfg.GraceMonths)
	if d.SuspendFrom != sc.NoDate && d.SuspendFrom > d.Until {
		deadline = d.SuspendFrom - 1
	}
	switch d.Action {
	case sc.ActWarning:
		kind = KindWarning
	case sc.ActPending:
		kind = KindPending
	case sc.ActSuspended:
		kind = KindSuspended
	case sc.ActCertified:
		silent := d.Method == sc.MethodStrong || d.Method == sc.MethodWeak
		if !cfg.Confirm || !silent || !d.Reminded || d.Status != sc.StatusCertified {
			return nil
		}
		kind, deadline = KindCertified, d.Until
	default:
		return nil
	}
	if kind != KindCertified && d.Status == sc.StatusCertified {
		return nil // answered in the same transaction
	}
	// A name is never a placeholder (render does not scan values), but a roster's name
	// holding the sign-in link's slot would pass for it when the notice is sent.
	name := strings.ReplaceAll(rec.Name, LinkSlot, "｛link｝")
	vals := map[string]string{"name": name, "deadline": FormatDate(deadline), "until": FormatDate(d.Until),
		"day": FormatDate(d.Day)} // and "link" (add)
	var out []store.Notice
	add := func(phone, key string) {
		if phone == "" {
			return
		}
		vals["link"] = cfg.Link
		if cfg.SignIn && kind != KindCertified {
			vals["link"] = LinkSlot
		}
		for i := range out {
			if out[i].Phone == phone {
				return
			}
		}
		out = append(out, store.Notice{PID: pid, PersonID: rec.PersonID, Phone: phone, Kind: kind, Deadline: deadline,
			Template: key, Text: cfg.Templates.render(key, vals), Created: d.Day, NextAttempt: DayStart(d.Day)})
	}
	add(NormalizePhone(rec.Phone), kind)
	add(NormalizePhone(rec.AgentPhone), kind+agentSuffix)
	return out
}

// shanghai is Asia/Shanghai: UTC+8 without daylight saving since 1991 (as in package
// silentcert), fixed so that no time zone database is needed.
var shanghai = time.FixedZone("Asia/Shanghai", 8*3600)

// DayStart returns the Unix time of 00:00 of day d in Asia/Shanghai: a notice queued for
// day d is due from then (and quiet hours hold it until their end).
func DayStart(d sc.Date) int64 { return int64(d)*86400 - 8*3600 }

// DayOf returns the Asia/Shanghai day of a moment.
func DayOf(t time.Time) sc.Date {
	u := t.Unix() + 8*3600
	day := u / 86400
	if u < 0 && u%86400 != 0 {
		day--
	}
	return sc.Date(day)
}

// NormalizePhone returns a mainland mobile number as its 11 digits ("+86 138-0013-8000"
// gives "13800138000"), or "" when p is not one (a landline cannot receive an SMS).
func NormalizePhone(p string) string {
	var b strings.Builder
	for _, r := range p {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '+' || r == '(' || r == ')':
		default:
			return ""
		}
	}
	s := b.String()
	switch {
	case len(s) == 13 && strings.HasPrefix(s, "86"):
		s = s[2:]
	case len(s) == 15 && strings.HasPrefix(s, "0086"):
		s = s[4:]
	}
	if len(s) != 11 || s[0] != '1' || s[1] < '3' {
		return ""
	}
	return s
}
