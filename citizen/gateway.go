package citizen

import (
	"context"
	"crypto/rand"
	"encoding/binary"

	"github.com/silentcert/silentcert/notice"
	"github.com/silentcert/silentcert/store"
)

// FromGateway sends login codes through the notice gateway serve already has (its
// --sms-webhook or --sms-file), directly: a code cannot wait for the outbox's quiet hours
// or daily limit. Each code gets a fresh negative notice ID, so that the provider's
// idempotency key never matches an outbox notice's nor another code's.
func FromGateway(g notice.Gateway) Sender { return gatewaySender{g} }

type gatewaySender struct{ g notice.Gateway }

func (s gatewaySender) SendSMS(ctx context.Context, phone, text string) error {
	var b [8]byte
	rand.Read(b[:])
	id := -int64(binary.LittleEndian.Uint64(b[:])>>2) - 1
	_, err := s.g.Send(ctx, store.Notice{ID: id, Phone: phone, Kind: "login_code", Text: text})
	return err
}
