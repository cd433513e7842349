package web_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/auth"
	"github.com/silentcert/silentcert/divisions"
	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
	"github.com/silentcert/silentcert/web"
)

// TestPageSpeed measures the console's server time per page over a synthetic city:
// SILENTCERT_CONSOLE_PEOPLE people (e.g. 1000000) spread over Weihai's villages with
// statuses, decisions and two payroll months, in SQLite or, with
// SILENTCERT_CONSOLE_DB=postgres, PostgreSQL. It prints the p50 and p95 of each page,
// warm, and asserts nothing about time (bench/console.sh runs it).
func TestPageSpeed(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("SILENTCERT_CONSOLE_PEOPLE"))
	if n <= 0 {
		t.Skip("set SILENTCERT_CONSOLE_PEOPLE (bench/console.sh)")
	}
	var db *store.DB
	if os.Getenv("SILENTCERT_CONSOLE_DB") == "postgres" {
		db = storetest.Open(t, storetest.PostgresDSN(t))
	} else {
		db = storetest.Open(t, "sqlite:"+filepath.Join(t.TempDir(), "speed.db"))
	}
	ctx := context.Background()
	day := sc.MustDate("2025-12-31")
	start := time.Now()
	villages := synthCity(t, db, n, day)
	fmt.Printf("%s: %d people, %d villages loaded in %.1fs\n", db.Dialect(), n, len(villages), time.Since(start).Seconds())
	start = time.Now()
	tx, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.RebuildSummary(day); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("RebuildSummary %.1fs\n", time.Since(start).Seconds())
	start = time.Now()
	tx, _ = db.Begin(ctx)
	if err := tx.RefreshSummary(day); err != nil {
		t.Fatal(err)
	}
	tx.Commit()
	fmt.Printf("RefreshSummary (the daily cost) %.1fs\n", time.Since(start).Seconds())

	a := auth.New(db, auth.Options{Hash: auth.HashParams{Time: 1, Memory: 64, Threads: 1}})
	if _, err := a.EnsureUser(ctx, "operator", pw, auth.RoleOperator, ""); err != nil {
		t.Fatal(err)
	}
	h, err := web.New(web.Options{DB: db, Auth: a, Today: func() sc.Date { return day }})
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := a.Login(ctx, "operator", pw, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	// The audit trail's page is the auditor's.
	if _, err := a.EnsureUser(ctx, "auditor", pw, auth.RoleAuditor, ""); err != nil {
		t.Fatal(err)
	}
	audTok, _, err := a.Login(ctx, "auditor", pw, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	// A person from the middle of the city, and their village: a village picked from the
	// list may have no one in a small city, and /person/0 is not found.
	var pid int64
	var v string
	if err := db.SQL().QueryRow(db.Rebind(`SELECT pid, region_code FROM people WHERE length(region_code) = 12 ORDER BY pid LIMIT 1 OFFSET ?`),
		n/2).Scan(&pid, &v); err != nil {
		t.Fatalf("no person with a village among %d villages: %v", len(villages), err)
	}
	var name string
	db.SQL().QueryRow(db.Rebind(`SELECT name FROM people WHERE pid = ?`), pid).Scan(&name)
	pages := []string{"/", "/?region=3710", "/?region=" + v[:6], "/?region=" + v[:9], "/?region=" + v,
		"/work/warning", "/work/pending", "/work/suspended", "/work/conflict", "/work/unassigned",
		"/work/pending?region=" + v[:6], "/work/warning?page=20", fmt.Sprintf("/person/%d", pid), "/search?q=" + name, "/village?region=" + v,
		"/work/risk", "/work/risk?region=" + v[:6], "/work/risk?region=" + v, "/work/risk?page=20", "/work/risk?from=2025-10&to=2025-12",
		"/work/warning?order=health", "/work/pending?order=health", "/work/pending?order=health&region=" + v[:6], "/work/risk?order=health",
		"/audit", "/audit?kind=login", "/audit?actor=operator"}
	fmt.Printf("%-40s %8s %8s\n", "page", "p50 ms", "p95 ms")
	for _, p := range pages {
		var ms []float64
		for i := 0; i < 21; i++ {
			req, _ := http.NewRequest("GET", p, nil)
			if strings.HasPrefix(p, "/audit") {
				req.AddCookie(&http.Cookie{Name: "sc_session", Value: audTok})
			} else {
				req.AddCookie(&http.Cookie{Name: "sc_session", Value: tok})
			}
			rec := &discard{h: http.Header{}}
			t0 := time.Now()
			h.ServeHTTP(rec, req)
			if rec.code != 0 && rec.code != http.StatusOK {
				t.Fatalf("%s: %d", p, rec.code)
			}
			if i > 0 { // the first is the cold one
				ms = append(ms, float64(time.Since(t0).Microseconds())/1000)
			}
		}
		sort.Float64s(ms)
		fmt.Printf("%-40s %8.1f %8.1f\n", p, ms[len(ms)/2], ms[len(ms)*95/100])
	}
}

type discard struct {
	h    http.Header
	code int
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(c int)           { d.code = c }

// synthCity writes n people over Weihai's villages (2% unassigned), two decisions each over
// two years (and RISK flags for about 1.2 %), a record each and two payroll months, with
// multi-row inserts.
func synthCity(t testing.TB, db *store.DB, n int, day sc.Date) []string {
	tab, err := divisions.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	var villages []string
	for _, d := range tab.Under("3710", divisions.LevelVillage) {
		villages = append(villages, d.Code)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	ctx := context.Background()
	tx, err := db.SQL().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	type table struct {
		head string
		cols int
		rows []any
	}
	flush := func(tb *table, force bool) {
		if len(tb.rows) == 0 || (!force && len(tb.rows) < tb.cols*400) {
			return
		}
		k := len(tb.rows) / tb.cols
		one := "(" + strings.TrimSuffix(strings.Repeat("?,", tb.cols), ",") + ")"
		q := tb.head + strings.TrimSuffix(strings.Repeat(one+",", k), ",")
		if _, err := tx.ExecContext(ctx, db.Rebind(q), tb.rows...); err != nil {
			t.Fatal(err)
		}
		tb.rows = tb.rows[:0]
	}
	people := &table{head: `INSERT INTO people (pid, person_id, name, sex, birth_date, hukou_address, region_code, phone, agent_phone,
		last_certified, entitlements, status, until_day, last_method, death_date, health) VALUES `, cols: 16}
	states := &table{head: `INSERT INTO people_state (pid, next_check, baselined, state) VALUES `, cols: 4}
	audit := &table{head: `INSERT INTO audit (seq, kind, day, at, actor, pid, person_id, action, method, evidence, detail, rule, prev, hash) VALUES `, cols: 14}
	var recs []*store.Record
	pays := &table{head: `INSERT INTO payments (pid, benefit, month, kind, amount, payroll_month) VALUES `, cols: 6}
	surnames := []rune("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗")
	given := []rune("秀英桂兰玉凤建国志强文华明德淑珍春梅")
	seq := int64(0)
	for i := 0; i < n; i++ {
		pid := int64(i + 1)
		v := villages[rng.IntN(len(villages))]
		if rng.IntN(50) == 0 {
			v = ""
		}
		st := sc.StatusCertified
		switch x := rng.IntN(1000); {
		case x < 3:
			st = sc.StatusPending
		case x < 5:
			st = sc.StatusSuspended
		case x < 6:
			st = sc.StatusConflict
		case x < 60:
			st = sc.StatusTerminated
		case x < 160:
			st = sc.StatusWarning
		}
		until := day + sc.Date(rng.IntN(400)-30)
		id := fmt.Sprintf("3710%014d", i)
		name := string(surnames[rng.IntN(len(surnames))]) + string(given[rng.IntN(len(given))]) + string(given[rng.IntN(len(given))])
		people.rows = append(people.rows, pid, id, name, 1+rng.IntN(2), -8000-rng.IntN(5000), "威海市某村", v, "13800000000", "",
			-1<<31, `[{"Benefit":"EMP_PENSION","Monthly":300000,"Start":24000,"End":-2147483648}]`, int(st), int64(until),
			int(sc.MethodStrong), -1<<31, int(uint64(pid)*2654435761%1001)) // a health index from the pid: the draws stay as they were
		states.rows = append(states.rows, pid, -1<<31, 1, []byte{})
		for k, act := range []string{"CERTIFIED", st.String()} {
			seq++
			d := day - sc.Date(rng.IntN(700))
			if k == 1 {
				d = day - sc.Date(rng.IntN(30))
			}
			audit.rows = append(audit.rows, seq, "decision", int64(d), d.String(), "engine", pid, id, act, "STRONG",
				"HEA:"+strconv.FormatInt(seq, 10), "", "", []byte{0}, []byte{1})
		}
		// RISK flags, as an evidence model writes them: about 1.2 % of people over the two
		// years (the models flag under 1 % of the living a year), a third of them closed
		// by a later certification.
		if st != sc.StatusTerminated && rng.IntN(1000) < 12 {
			seq++
			d := day - sc.Date(rng.IntN(700))
			score := 0.07 + rng.Float64()*0.9
			audit.rows = append(audit.rows, seq, "decision", int64(d), d.String(), "engine", pid, id, "RISK", "",
				"BANK:"+strconv.FormatInt(seq, 10), fmt.Sprintf("score=%.2f;p_dead=%.3f;reasons=in_person_missed_%.1f|in_person_gap_%dd|age_%d",
					score, score, 1+rng.Float64()*5, 60+rng.IntN(300), 75+rng.IntN(25)), "§6", []byte{0}, []byte{1})
			if rng.IntN(3) == 0 {
				seq++
				audit.rows = append(audit.rows, seq, "decision", int64(d+1), (d + 1).String(), "engine", pid, id, "CERTIFIED", "STRONG",
					"HEA:"+strconv.FormatInt(seq, 10), "", "", []byte{0}, []byte{1})
			}
		}
		recs = append(recs, &store.Record{Source: "HEA", RecordID: "R" + strconv.Itoa(i), Type: "HEA.CHECKUP", PID: pid, PersonID: id,
			Name: name, EventDate: day - 10, ReportedDate: day - 5, RegionCode: v, Batch: 1, File: "f.csv", Line: int64(i)})
		for _, m := range []sc.Month{day.Month() - 1, day.Month()} {
			pays.rows = append(pays.rows, pid, "EMP_PENSION", int64(m), "REGULAR", 300000, int64(m))
		}
		for _, tb := range []*table{people, states, audit, pays} {
			flush(tb, false)
		}
	}
	for _, tb := range []*table{people, states, audit, pays} {
		flush(tb, true)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO batches (origin, source, actor, received, day, status, files, report) VALUES ('file','','bench','', 0, 'applied', '', '{}')`); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	stx, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for len(recs) > 0 {
		k := min(len(recs), 50000)
		if _, _, _, err := stx.InsertRecords(recs[:k]); err != nil {
			t.Fatal(err)
		}
		recs = recs[k:]
	}
	if err := stx.Commit(); err != nil {
		t.Fatal(err)
	}
	if db.Dialect() == store.Postgres {
		db.SQL().Exec(`ANALYZE`)
	} else {
		db.SQL().Exec(`ANALYZE`)
	}
	return villages
}
