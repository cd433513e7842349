package web

import (
	"bytes"
	"context"
	"fmt"

	"github.com/silentcert/silentcert/exchange"
	"github.com/silentcert/silentcert/service"
	"github.com/silentcert/silentcert/store"
)

// serviceIngester hands the console's submissions to the service's ingestion, as a batch
// of origin "console".
type serviceIngester struct{ s *service.Service }

// FromService adapts the service to the console's Ingester.
func FromService(s *service.Service) Ingester { return serviceIngester{s} }

func (si serviceIngester) Ingest(ctx context.Context, sub Submission) (*Receipt, error) {
	b := service.Batch{Origin: "console", Source: sub.Source, Actor: sub.Actor, Day: sub.Day, Key: sub.Key, KeyForm: sub.KeyForm,
		Files: []service.File{{Name: sub.Name, Body: bytes.NewReader(sub.Body)}}}
	if sub.Check != nil {
		b.Stands = func(tx *store.Tx) error {
			if sub.Key != "" {
				// A repeat is answered as one (Receipt.Repeat), whatever the person is now.
				if _, ok, err := tx.BatchKeyed(sub.Key); ok || err != nil {
					return err
				}
			}
			return sub.Check(tx)
		}
	}
	if sub.Audit != nil {
		b.Audit = func(id int64, rep *exchange.BatchReport) []store.AuditRow {
			a := *sub.Audit
			a.Detail += fmt.Sprintf(";batch=%d;applied=%d;quarantined=%d", id, rep.Applied, rep.Quarantined)
			return []store.AuditRow{a}
		}
	}
	res, err := si.s.Ingest(ctx, b)
	if err != nil {
		return nil, err
	}
	rc := &Receipt{BatchID: res.BatchID, Applied: res.Report.Applied, Duplicate: res.Report.Duplicate,
		Quarantined: res.Report.Quarantined, Held: res.Report.Held, Unlinked: res.Report.Unlinked, Repeat: res.Repeat}
	if res.Repeat {
		return rc, nil
	}
	for _, p := range res.Problems {
		rc.Problems = append(rc.Problems, p.Error())
	}
	if res.Rejected != "" {
		rc.Quarantined++
		rc.Problems = append(rc.Problems, res.Rejected)
	}
	return rc, nil
}
