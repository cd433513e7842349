// Command worklists times the console's worklists and audit filters on a store as it is
// (bench/worklists.sh runs it before and after a change, on the same store): a village's
// due list and page, the due list of a town, a district and the city, first and deep
// pages, by period end and frailest first, the pending list, and the audit page's actor
// and kind filters. With -prepare it first adds six months of citizen logins, village
// visits and an operator's daily login to the audit trail, as a city's service writes
// them (a replay writes decisions alone). Opening the store applies the migrations this
// build knows; the time that took is printed first.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sort"
	"time"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/store"
)

func main() {
	dsn := flag.String("db", "", "store DSN")
	prepare := flag.Bool("prepare", false, "add the audit rows of a running service first")
	today := flag.String("today", "", "the console's day (none: open the store and stop)")
	runs := flag.Int("runs", 11, "runs of each case (the first is not counted)")
	flag.Parse()
	ctx := context.Background()
	start := time.Now()
	db, err := store.Open(ctx, *dsn)
	if err != nil {
		fail(err)
	}
	defer db.Close()
	fmt.Printf("%-44s %9.1f ms\n", "open (migrations)", ms(time.Since(start)))
	if *prepare {
		start = time.Now()
		if err := addTrail(ctx, db); err != nil {
			fail(err)
		}
		fmt.Printf("%-44s %9.1f ms\n", "prepare (audit rows)", ms(time.Since(start)))
	}
	if *today == "" {
		return // the schema alone
	}
	day, err := sc.ParseDate(*today)
	if err != nil {
		fail(err)
	}
	v, err := db.AnyVillage(ctx, "", sc.StatusCertified, sc.StatusWarning)
	if err != nil || v == "" {
		fail(fmt.Errorf("no village: %v", err))
	}
	work := func(list store.Worklist, prefix string, frail bool, page, limit int) func() (int, error) {
		return func() (int, error) {
			rows, _, err := db.Work(ctx, store.WorkQuery{List: list, Prefix: prefix, Today: day, Months: 3, From: sc.NoDate, To: sc.NoDate,
				Frailest: frail, Offset: (page - 1) * limit, Limit: limit})
			return len(rows), err
		}
	}
	trail := func(q store.TrailQuery) func() (int, error) {
		return func() (int, error) {
			q.From, q.To, q.Limit = sc.NoDate, sc.NoDate, 100
			rows, err := db.Trail(ctx, q)
			return len(rows), err
		}
	}
	cases := []struct {
		name string
		fn   func() (int, error)
	}{
		{"village due list", work(store.WorkWarning, v, false, 1, 50)},
		{"village due list, frailest", work(store.WorkWarning, v, true, 1, 50)},
		{"village page (500)", work(store.WorkVillage, v, false, 1, 500)},
		{"town due list", work(store.WorkWarning, v[:9], false, 1, 50)},
		{"district due list page 200", work(store.WorkWarning, v[:6], false, 200, 50)},
		{"district due list, frailest, page 200", work(store.WorkWarning, v[:6], true, 200, 50)},
		{"city due list", work(store.WorkWarning, "", false, 1, 50)},
		{"city due list page 200", work(store.WorkWarning, "", false, 200, 50)},
		{"city due list, frailest", work(store.WorkWarning, "", true, 1, 50)},
		{"city due list, frailest, page 200", work(store.WorkWarning, "", true, 200, 50)},
		{"city pending list", work(store.WorkPending, "", false, 1, 50)},
		{"city pending list, frailest", work(store.WorkPending, "", true, 1, 50)},
		{"audit: a village assistant's rows", trail(store.TrailQuery{Actor: "v" + v})},
		{"audit: the operator's rows", trail(store.TrailQuery{Actor: "operator"})},
		{"audit: the operator's logins", trail(store.TrailQuery{Actor: "operator", Kind: "login"})},
		{"audit: visits", trail(store.TrailQuery{Kind: "visit"})},
		{"audit: citizen logins", trail(store.TrailQuery{Kind: "citizen_login"})},
		{"audit: newest", trail(store.TrailQuery{})},
		// What the indexes cost the writes of a day: one person in ten's health index or
		// period end moved, in a transaction rolled back.
		{"write: 10 % of health indexes", write(ctx, db, `UPDATE people SET health = (health + 7) % 1000 WHERE pid % 10 = 0`)},
		{"write: 10 % of period ends", write(ctx, db, `UPDATE people SET until_day = until_day + 30 WHERE pid % 10 = 0`)},
	}
	for _, c := range cases {
		var t []float64
		n := 0
		for i := 0; i < *runs; i++ {
			s := time.Now()
			k, err := c.fn()
			if err != nil {
				fail(fmt.Errorf("%s: %w", c.name, err))
			}
			if i > 0 {
				t = append(t, ms(time.Since(s)))
			}
			n = k
		}
		sort.Float64s(t)
		fmt.Printf("%-44s %9.1f ms  (%d rows)\n", c.name, t[len(t)/2], n)
	}
}

// write returns a case that runs q in a transaction and rolls it back.
func write(ctx context.Context, db *store.DB, q string) func() (int, error) {
	return func() (int, error) {
		tx, err := db.SQL().BeginTx(ctx, nil)
		if err != nil {
			return 0, err
		}
		defer tx.Rollback()
		res, err := tx.ExecContext(ctx, q)
		if err != nil {
			return 0, err
		}
		n, err := res.RowsAffected()
		return int(n), err
	}
}

// addTrail writes, in day order, two citizen logins for every person, a village visit for
// one person in twenty (by an account named v and the village's code) and the operator's
// login each day, over the six months before July 2024.
func addTrail(ctx context.Context, db *store.DB) error {
	const day = `19723 + (pid * 7919) % 182` // 2024-01-01 and the 181 days after
	q := `INSERT INTO audit (kind, day, at, actor, pid, person_id, action, method, evidence, detail, rule, prev, hash)
		SELECT kind, d, '', actor, pid, person_id, action, '', '', '', '', ?, ? FROM (
			SELECT 'citizen_login' AS kind, ` + day + ` AS d, 'citizen' AS actor, pid, person_id, 'code_sent' AS action, 0 AS k FROM people
			UNION ALL SELECT 'citizen_login', ` + day + `, 'citizen', pid, person_id, 'login', 1 FROM people
			UNION ALL SELECT 'visit', ` + day + `, 'v' || region_code, pid, person_id, 'alive', 2 FROM people WHERE pid % 20 = 0 AND region_code <> ''
			UNION ALL SELECT 'login', 19723 + pid, 'operator', -1, '', 'login', 3 FROM people WHERE pid < 182
		) r ORDER BY d, pid, k`
	_, err := db.SQL().ExecContext(ctx, db.Rebind(q), []byte{0}, []byte{1})
	return err
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func fail(err error) {
	fmt.Fprintln(os.Stderr, "worklists:", err)
	os.Exit(1)
}
