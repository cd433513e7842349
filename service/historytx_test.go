package service_test

import (
	"context"
	"io"
	"strings"
	"sync"
	"testing"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/store/storetest"
)

// readsAfter is a file body that calls first before its first byte is read: what happens
// in the process while a batch's files are read, before it takes the service's lock.
type readsAfter struct {
	io.Reader
	first func()
	once  sync.Once
}

func (r *readsAfter) Read(p []byte) (int, error) {
	r.once.Do(r.first)
	return r.Reader.Read(p)
}

// TestHistoryRefusedWhenADayRunsMeanwhile: a batch of history (a death reported before
// the service's first day) whose file is still being read when the first day runs. The
// check that no day has run was made before the files were read, outside the batch's
// transaction: the death used to be applied after the day, as history (no decision row),
// stopping the person with nothing in the audit trail. The batch's transaction now checks
// again, and refuses it, on both stores.
func TestHistoryRefusedWhenADayRunsMeanwhile(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			ctx := context.Background()
			db := dsn.Open(t)
			s := newCity(t, db)
			const li = "371002193802100021"
			var runErr error
			b := csvBatch("PSB", "")
			b.History = true
			b.Files[0].Body = &readsAfter{Reader: strings.NewReader(header + "late,PSB,PSB.DEATH_DEREG," + li + ",,,2024-02-20,2024-02-25,,\n"),
				first: func() { runErr = s.RunDay(ctx, sc.MustDate("2024-03-01")) }}
			res, err := s.Ingest(ctx, b)
			if runErr != nil {
				t.Fatal(runErr)
			}
			if sc.ErrorCode(err) != sc.EConflict {
				t.Errorf("history with a day run while its file was read: %+v %v, want refused", res, err)
			}
			if p, _ := db.PersonByID(ctx, li); p.Status == sc.StatusTerminated {
				t.Error("a death loaded as history after the first day stopped the person")
			}
			bs, err := db.Batches(ctx, 100)
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range bs {
				if x.Origin == "api" && x.Status == "applied" {
					t.Errorf("the history batch was applied: %+v", x)
				}
			}
		})
	}
}
