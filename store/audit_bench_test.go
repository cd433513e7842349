package store_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
)

// BenchmarkAppend: a staff action's transaction (one audit row: a login, a review) and a
// batch's (a thousand rows), each begun, appended to a trail of 10,000 rows or more and
// committed (or one row rolled back: the append alone), on both stores: what reading
// where the chain goes on costs every write.
func BenchmarkAppend(b *testing.B) {
	ctx := context.Background()
	for _, dsn := range storetest.DSNs(b) {
		b.Run(dsn.Name, func(b *testing.B) {
			db := dsn.Open(b)
			appendRows := func(n int, commit bool) error {
				tx, err := db.Begin(ctx)
				if err != nil {
					return err
				}
				defer tx.Rollback()
				rows := make([]store.AuditRow, n)
				for i := range rows {
					rows[i] = store.AuditRow{Kind: "login", Day: 20000, At: "2024-10-04T01:02:03Z", Actor: "admin", PID: -1,
						Action: "ok", Detail: "ip=192.0.2." + strconv.Itoa(i%250)}
				}
				if err := tx.Append(rows); err != nil || !commit {
					return err
				}
				return tx.Commit()
			}
			if err := appendRows(10000, true); err != nil {
				b.Fatal(err)
			}
			// Rolled back: the append alone, without the commit's own cost and noise (the
			// trail does not grow from one run to the next).
			b.Run("1row-rolledback", func(b *testing.B) {
				for b.Loop() {
					if err := appendRows(1, false); err != nil {
						b.Fatal(err)
					}
				}
			})
			for _, n := range []int{1, 1000} {
				b.Run(strconv.Itoa(n)+"rows", func(b *testing.B) {
					for b.Loop() {
						if err := appendRows(n, true); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}
