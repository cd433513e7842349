package notice

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/idcard"
	"github.com/silentcert/silentcert/store"
)

// Metrics counts what senders did since the process started, as Prometheus counters; the
// service's /metrics handler prints them (AppendPrometheus).
type Metrics struct {
	Sent      atomic.Int64 // accepted by the gateway
	Failed    atomic.Int64 // given up: permanent errors, attempts exhausted, outcomes unknown
	Retried   atomic.Int64 // attempts that failed and were put back with backoff
	Cancelled atomic.Int64 // claimed but not to be sent (death accepted, certified since, expired)
}

// AppendPrometheus appends the counters in the Prometheus text format.
func (m *Metrics) AppendPrometheus(b []byte) []byte {
	for _, c := range []struct {
		name, help string
		v          int64
	}{
		{"silentcert_notices_sent_total", "SMS notices accepted by the gateway.", m.Sent.Load()},
		{"silentcert_notices_failed_total", "SMS notices given up.", m.Failed.Load()},
		{"silentcert_notices_retried_total", "SMS attempts that failed and will be retried.", m.Retried.Load()},
		{"silentcert_notices_cancelled_total", "SMS notices cancelled when about to be sent.", m.Cancelled.Load()},
	} {
		b = fmt.Appendf(b, "# HELP %s %s\n# TYPE %s counter\n%s %d\n", c.name, c.help, c.name, c.name, c.v)
	}
	return b
}

// Sender sends the outbox's due notices through a gateway. A notice is claimed (marked
// sending with a lease) before it is sent and marked sent after, so that a restart never
// sends it again: a sender that stops between the two leaves it "sending" until its lease
// runs out, and the next run fails it as "outcome unknown" (or, with
// Config.ResendUnknown, sends it again under the same id). Several senders, in one
// process or several, may share a database.
type Sender struct {
	DB      *store.DB
	Gateway Gateway
	Config  Config
	Now     func() time.Time // time.Now when nil; tests pass a fake clock
	Log     *slog.Logger     // discarded when nil
	Metrics *Metrics         // counted when set; shared with /metrics
	// Links makes the one-time sign-in link a notice queued with Config.SignIn carries
	// (LinkSlot in its text), at the moment it is sent; each try makes a new one. A
	// notice that needs a link fails its try when Links is nil.
	Links func(ctx context.Context, n *store.Notice, now time.Time) (string, error)
	// Withdraw, when set, is given back a link Links made that surely never left: its
	// notice was given back before the try, or the gateway refused the message for good
	// (IsPermanent). A try that may have gone out (a timeout, a temporary error) keeps its
	// link: the person may hold it.
	Withdraw func(ctx context.Context, link string) error
}

func (s *Sender) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Sender) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.New(slog.DiscardHandler)
}

func (s *Sender) count(c func(*Metrics) *atomic.Int64, n int) {
	if s.Metrics != nil && n != 0 {
		c(s.Metrics).Add(int64(n))
	}
}

// Quiet reports whether t falls in the configured quiet hours (Asia/Shanghai).
func (c *Config) Quiet(t time.Time) bool {
	h := t.In(shanghai).Hour()
	switch {
	case c.QuietStart == c.QuietEnd:
		return false
	case c.QuietStart < c.QuietEnd:
		return h >= c.QuietStart && h < c.QuietEnd
	}
	return h >= c.QuietStart || h < c.QuietEnd
}

// backoff returns the wait after the attempts-th failed try: Backoff doubled for each try
// after the first, at most MaxBackoff.
func (c *Config) backoff(attempts int) time.Duration {
	d := c.Backoff
	for i := 1; i < attempts && d < c.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, c.MaxBackoff)
}

// RunOnce settles the claims of senders that stopped, then, outside quiet hours and within
// the day's limit, sends every notice due now. It returns the notices sent and failed; an
// error is a database's (a gateway's errors are the notices' own, kept in last_error).
func (s *Sender) RunOnce(ctx context.Context) (sent, failed int, err error) {
	log := s.log()
	settle := context.WithoutCancel(ctx) // a shutdown must not strand a claim half marked
	released, err := s.DB.ReleaseNotices(settle, s.now().Unix(), s.Config.ResendUnknown)
	if err != nil {
		return 0, 0, err
	}
	if released > 0 {
		log.Warn("notices whose sender stopped while sending", "count", released, "resent", s.Config.ResendUnknown)
		if !s.Config.ResendUnknown {
			failed += released
			s.count(func(m *Metrics) *atomic.Int64 { return &m.Failed }, released)
		}
	}
	for ctx.Err() == nil {
		now := s.now()
		if s.Config.Quiet(now) {
			return sent, failed, nil
		}
		want := s.Config.Batch
		if s.Config.PerDayLimit > 0 {
			day := DayOf(now)
			n, err := s.DB.CountNoticesSent(ctx, DayStart(day), DayStart(day+1))
			if err != nil {
				return sent, failed, err
			}
			if left := s.Config.PerDayLimit - n; left < want {
				want = left
			}
			if want <= 0 {
				log.Info("notices: the day's limit is reached", "limit", s.Config.PerDayLimit)
				return sent, failed, nil
			}
		}
		batch, err := s.DB.ClaimNotices(ctx, now.Unix(), int64(s.Config.Lease/time.Second), want)
		if err != nil {
			return sent, failed, err
		}
		for i := range batch {
			ok, bad, err := s.one(ctx, settle, &batch[i])
			if err != nil {
				// The notices claimed and not yet tried go back to the queue, not to a
				// lease that would run out as "outcome unknown".
				for j := i + 1; j < len(batch); j++ {
					if uerr := s.DB.UnclaimNotice(settle, batch[j].ID); uerr != nil {
						log.Error("notices: a claim could not be given back", "notice_id", batch[j].ID, "error", uerr)
					}
				}
				return sent, failed, err
			}
			sent, failed = sent+ok, failed+bad
		}
		if len(batch) < want {
			break
		}
	}
	return sent, failed, nil
}

// one handles one claimed notice: cancels it when it must not be sent, sends it otherwise
// and marks the outcome.
func (s *Sender) one(ctx, settle context.Context, n *store.Notice) (sent, failed int, err error) {
	log := s.log().With("notice_id", n.ID, "kind", n.Kind, "person_id", idcard.Mask(n.PersonID), "phone", idcard.MaskPhone(n.Phone))
	if reason := s.refuse(n); reason != "" {
		if err := s.DB.MarkNoticeCancelled(settle, n.ID, reason); err != nil {
			return 0, 0, err
		}
		s.count(func(m *Metrics) *atomic.Int64 { return &m.Cancelled }, 1)
		log.Info("notice cancelled", "reason", reason)
		return 0, 0, nil
	}
	out := *n
	if strings.Contains(n.Text, LinkSlot) {
		if s.Links == nil {
			return s.outcome(settle, log, n, "", errors.New("the notice carries a sign-in link and this sender makes none (serve --public-url)"))
		}
		link, err := s.Links(ctx, n, s.now())
		var text string
		if err == nil {
			// Read again once the link exists: staff may have ended the person's sign-ins
			// since the claim (the text then names the login page, and a link made before
			// that was expired with the rest).
			text, err = s.DB.NoticeText(ctx, n.ID)
		}
		if err != nil {
			// Nothing was sent: the notice goes back to the queue, not to "outcome unknown".
			if uerr := s.DB.UnclaimNotice(settle, n.ID); uerr != nil {
				log.Error("notices: a claim could not be given back", "error", uerr)
			}
			if link != "" {
				s.withdraw(settle, log, link)
			}
			return 0, 0, fmt.Errorf("notice %d: sign-in link: %w", n.ID, err)
		}
		out.Text = strings.ReplaceAll(text, LinkSlot, link)
		id, sendErr := s.Gateway.Send(ctx, out)
		// A gateway that echoes the request must not put the link's token in last_error,
		// however it encodes the address around it.
		if tok := link[strings.LastIndexByte(link, '/')+1:]; sendErr != nil && tok != "" && strings.Contains(sendErr.Error(), tok) {
			sendErr = scrubbed{sendErr, tok}
		}
		if sendErr != nil && IsPermanent(sendErr) {
			s.withdraw(settle, log, link)
		}
		return s.outcome(settle, log, n, id, sendErr)
	}
	id, sendErr := s.Gateway.Send(ctx, out)
	return s.outcome(settle, log, n, id, sendErr)
}

// withdraw gives back a link that never left, when the sender can; a link it cannot give
// back stays valid until it expires, unknown to anyone, so the failure is only logged.
func (s *Sender) withdraw(ctx context.Context, log *slog.Logger, link string) {
	if s.Withdraw == nil {
		return
	}
	if err := s.Withdraw(ctx, link); err != nil {
		log.Error("notices: a sign-in link that was not sent could not be withdrawn", "error", err)
	}
}

// scrubbed is a gateway's error with the sign-in link's token it echoed masked.
type scrubbed struct {
	err   error
	token string
}

func (e scrubbed) Error() string { return strings.ReplaceAll(e.err.Error(), e.token, "…") }
func (e scrubbed) Unwrap() error { return e.err }

// outcome marks the outcome of one try at n: sent (id is the gateway's), failed for good,
// or to be retried.
func (s *Sender) outcome(settle context.Context, log *slog.Logger, n *store.Notice, id string, sendErr error) (sent, failed int, err error) {
	now := s.now()
	switch {
	case sendErr == nil:
		if err := s.DB.MarkNoticeSent(settle, n.ID, now.Unix(), id); err != nil {
			return 0, 0, err
		}
		s.count(func(m *Metrics) *atomic.Int64 { return &m.Sent }, 1)
		log.Info("notice sent", "gateway_id", id, "attempt", n.Attempts)
		return 1, 0, nil
	case IsPermanent(sendErr) || n.Attempts >= s.Config.MaxAttempts:
		msg := sendErr.Error()
		if !IsPermanent(sendErr) {
			msg = "gave up after " + strconv.Itoa(n.Attempts) + " attempts: " + msg
		}
		if err := s.DB.MarkNoticeFailed(settle, n.ID, msg); err != nil {
			return 0, 0, err
		}
		s.count(func(m *Metrics) *atomic.Int64 { return &m.Failed }, 1)
		log.Warn("notice failed", "attempt", n.Attempts, "error", sendErr)
		return 0, 1, nil
	default:
		next := now.Add(s.Config.backoff(n.Attempts))
		if err := s.DB.MarkNoticeRetry(settle, n.ID, next.Unix(), sendErr.Error()); err != nil {
			return 0, 0, err
		}
		s.count(func(m *Metrics) *atomic.Int64 { return &m.Retried }, 1)
		log.Info("notice to be retried", "attempt", n.Attempts, "next_attempt", next.UTC().Format(time.RFC3339), "error", sendErr)
		return 0, 0, nil
	}
}

// refuse returns why a claimed notice must not be sent, or "": the person's status is read
// again at the claim, so that a death accepted after the notice was queued stops it even if
// the service's cancel was missed, and a reminder the person has answered since (or whose
// deadline has passed) is not sent late.
func (s *Sender) refuse(n *store.Notice) string {
	switch {
	case !n.PersonKnown:
		return "the person is not in the roster"
	case n.PersonStatus == sc.StatusTerminated:
		return "the person's death is accepted (TERMINATED)"
	case n.PersonStatus == sc.StatusConflict:
		return "the person's death is disputed (CONFLICT)"
	case n.PersonStatus == sc.StatusLoss:
		return "the person's eligibility is suspended (LOSS): no reminder goes to them"
	case n.Phone != NormalizePhone(n.PersonPhones[0]) && n.Phone != NormalizePhone(n.PersonPhones[1]):
		return "the phone number is no longer the person's nor their agent's (changed since the notice was queued)"
	case n.Kind != KindCertified && n.PersonStatus == sc.StatusCertified:
		return "the person was certified since"
	case (n.Kind == KindWarning || n.Kind == KindPending) && n.Deadline < DayOf(s.now()):
		return "expired: the deadline " + n.Deadline.String() + " has passed"
	case n.Kind == KindWarning && (n.PersonStatus == sc.StatusPending || n.PersonStatus == sc.StatusSuspended),
		n.Kind == KindPending && n.PersonStatus == sc.StatusSuspended:
		// A reminder sent late, after the next one's decision: that one says what is now
		// true (a "pending" notice beside a "suspended" one would say payment continues).
		return "superseded: the person is " + n.PersonStatus.String() + " since"
	}
	return ""
}

// Run calls RunOnce now and then every interval until ctx ends; errors are logged and the
// next round tries again. It returns ctx's error.
func (s *Sender) Run(ctx context.Context, every time.Duration) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		sent, failed, err := s.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			s.log().Error("notices: a round failed", "error", err)
		} else if sent+failed > 0 {
			s.log().Info("notices: a round", "sent", sent, "failed", failed)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
