package store_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
)

// TestInsertKeyedFillsNoMoreOnceReturned: fill is never called once InsertKeyed returns.
// When the write of the chunks failed (here the transaction's context cancelled), the
// goroutine encoding them went on calling fill for up to chunksAhead chunks more, reading
// what the caller may reuse after the error (session 21's review: 384 calls on SQLite,
// 128 on PostgreSQL).
func TestInsertKeyedFillsNoMoreOnceReturned(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			db := dsn.Open(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			tx, err := db.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			const n = 600 * 128 // more chunks than one INSERT (500) and chunksAhead (64) together
			keys := make([]store.Key, n)
			for i := range keys {
				keys[i].K1, keys[i].K2 = store.RecordKey("HEA", fmt.Sprintf("r%d", i))
				keys[i].Content, keys[i].I = uint64(i), int32(i)
			}
			store.SortKeys(keys)
			var returned atomic.Bool
			var after atomic.Int64
			var calls atomic.Int64
			fill := func(i int, r *store.Record) {
				if calls.Add(1) == 1 {
					cancel() // the write of the records fails from here
				}
				if returned.Load() {
					after.Add(1)
				}
				*r = store.Record{Source: "HEA", RecordID: fmt.Sprintf("r%d", i), Type: "HEA.CHECKUP", PID: -1, Link: 1,
					EventDate: sc.MustDate("2024-05-01"), ReportedDate: sc.MustDate("2024-05-02"), Content: uint64(i), Line: int64(i)}
			}
			_, _, _, err = tx.InsertKeyed(n, fill, keys)
			returned.Store(true)
			if err == nil {
				t.Fatal("no error though the context was cancelled")
			}
			time.Sleep(500 * time.Millisecond)
			if a := after.Load(); a > 0 {
				t.Errorf("fill called %d times after InsertKeyed returned (%v)", a, err)
			}
		})
	}
}
