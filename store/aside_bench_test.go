package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/silentcert/silentcert/idcard"
	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
)

// BenchmarkUnlinkedRecords: a roster import enrolling one person looks for the stored
// deaths naming them among 100,000 unlinked deaths (a city's deaths of people on no
// roster, a few years of them): by the packed ID's index (keyed), against rows without a
// key, read whole as before migration 0022 (unkeyed: the same rows, their pkey cleared).
func BenchmarkUnlinkedRecords(b *testing.B) {
	ctx := context.Background()
	db := storetest.Open(b, "sqlite:"+filepath.Join(b.TempDir(), "u.db"))
	const n = 100000
	ids := make([]string, n)
	tx, err := db.Begin(ctx)
	if err != nil {
		b.Fatal(err)
	}
	rs := make([]*store.Record, n)
	for i := range rs {
		first := "371002" + time.Date(1940, 1, 1+i/900, 0, 0, 0, 0, time.UTC).Format("20060102") + fmt.Sprintf("%03d", 100+i%900)
		ids[i] = first + string(idcard.CheckChar([]byte(first)))
		rs[i] = &store.Record{Source: "PSB", RecordID: fmt.Sprint(i), Type: "PSB.DEATH_DEREG", PID: -1, Link: 2, PersonID: ids[i],
			Name: "某", BirthDate: 100, EventDate: 20000, ReportedDate: 20001, Content: uint64(i), Batch: 1}
	}
	if _, _, _, err := tx.InsertRecords(rs); err != nil {
		b.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	var keyed int
	if err := db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM record_aside WHERE pkey IS NOT NULL`).Scan(&keyed); err != nil || keyed != n {
		b.Fatalf("%d rows keyed of %d (%v)", keyed, n, err)
	}
	find := func(b *testing.B) {
		for b.Loop() {
			tx, err := db.Begin(ctx)
			if err != nil {
				b.Fatal(err)
			}
			got, err := tx.UnlinkedRecords([]string{"PSB.DEATH_DEREG"}, []string{ids[n/2]})
			tx.Rollback()
			if err != nil || len(got) == 0 {
				b.Fatalf("%d found, %v", len(got), err)
			}
		}
	}
	b.Run("keyed", find)
	if _, err := db.SQL().ExecContext(ctx, `UPDATE record_aside SET pkey = NULL`); err != nil {
		b.Fatal(err)
	}
	b.Run("unkeyed", find)
}
