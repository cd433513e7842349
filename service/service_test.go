package service_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/exchange"
	"github.com/silentcert/silentcert/models"
	"github.com/silentcert/silentcert/service"
	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
)

// newCity opens a service over db with the golden scenario's roster imported.
func newCity(t *testing.T, db *store.DB) *service.Service {
	t.Helper()
	ctx := context.Background()
	s, err := service.Open(ctx, db, service.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ImportRoster(ctx, "../backtest/testdata/scenario/roster.csv", "", "test"); err != nil {
		t.Fatal(err)
	}
	return s
}

func csvBatch(source, body string) service.Batch {
	return service.Batch{Origin: "api", Source: source, Actor: "test", Day: sc.MustDate("2024-03-01"),
		Files: []service.File{{Name: "b.csv", Body: strings.NewReader(body)}}}
}

const header = "record_id,source,type,person_id,name,birth_date,event_date,reported_date,region_code,detail\n"

// TestIngestBadInput: a source sending another's types, a malformed row and a truncated
// gzip; nothing is half-applied and every bad row is named.
func TestIngestBadInput(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			ctx := context.Background()
			s := newCity(t, dsn.Open(t))
			res, err := s.Ingest(ctx, csvBatch("HEA", header+
				"x1,PSB,PSB.DEATH_DEREG,371002194003150019,张三,1940-01-01,2024-02-01,2024-02-02,,\n"+
				"x2,HEA,HEA.CHECKUP,371002194003150019,张三,1940-03-15,not-a-date,2024-02-02,,\n"))
			if err != nil {
				t.Fatal(err)
			}
			if res.Report.Quarantined != 2 || res.Report.Applied != 0 {
				t.Fatalf("report %+v", res.Report)
			}
			reasons := res.Problems[0].Reason + "," + res.Problems[1].Reason
			if !strings.Contains(reasons, "source_not_allowed") || res.Problems[1].Line != 3 {
				t.Fatalf("problems %+v", res.Problems)
			}
			// A truncated gzip refuses the batch whole.
			res, err = s.Ingest(ctx, service.Batch{Origin: "api", Source: "HEA", Day: sc.MustDate("2024-03-01"),
				Files: []service.File{{Name: "t.csv.gz", Body: strings.NewReader("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xffabc")}}})
			if err != nil {
				t.Fatal(err)
			}
			if res.Rejected == "" || res.Report.Applied != 0 {
				t.Fatalf("truncated gzip: %+v", res)
			}
			b, err := s.DB().Batch(ctx, res.BatchID)
			if err != nil || b.Status != "rejected" {
				t.Fatalf("stored batch %+v %v", b, err)
			}
		})
	}
}

// TestLiveReportedDate: a batch arriving now (spec §3): a record without reported_date
// was reported on the day it is ingested, and one dated after that day (a mistyped year)
// is quarantined with its line and field, not applied to certify someone decades ahead,
// whatever its reported_date says. History keeps spec §7's default (event_date).
func TestLiveReportedDate(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			ctx := context.Background()
			s := newCity(t, dsn.Open(t))
			const h = "record_id,source,type,person_id,event_date,reported_date\n"
			res, err := s.Ingest(ctx, csvBatch("HEA", h+
				"f1,HEA,HEA.CHECKUP,371002194003150019,2099-01-01,\n"+
				"f2,HEA,HEA.CHECKUP,371002194003150019,2099-01-01,2099-01-01\n"+
				"ok,HEA,HEA.CHECKUP,371002194003150019,2024-02-10,\n"))
			if err != nil {
				t.Fatal(err)
			}
			if res.Report.Applied != 1 || res.Report.Quarantined != 2 || res.Report.ReportedDateDefaulted != 1 {
				t.Fatalf("report %+v", res.Report)
			}
			if p := res.Problems[0]; p.Line != 2 || p.Field != "event_date" || p.Reason != "event_after_reported" {
				t.Errorf("the future event without reported_date: %+v", p)
			}
			if p := res.Problems[1]; p.Line != 3 || p.Field != "event_date" || p.Reason != "event_after_ingestion" {
				t.Errorf("the future event with a future reported_date: %+v", p)
			}
			zp, _ := s.DB().PersonByID(ctx, "371002194003150019")
			pid := zp.PID
			recs, err := s.DB().PersonRecords(ctx, pid)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range recs {
				got = append(got, r.RecordID+":"+r.ReportedDate.String())
			}
			if !slices.Contains(got, "ok:2024-03-01") {
				t.Errorf("the record without reported_date was not reported on the batch's day: %v", got)
			}
			q, err := s.DB().BatchQuarantine(ctx, res.BatchID)
			if err != nil || len(q) != 2 {
				t.Errorf("quarantine stored: %+v %v", q, err)
			}
			// History: the event date, as backtest does.
			hb := csvBatch("HEA", h+"old,HEA,HEA.CHECKUP,371002193802100021,2023-11-05,\n")
			hb.History = true
			if res, err := s.Ingest(ctx, hb); err != nil || res.Report.Applied != 1 {
				t.Fatalf("history: %+v %v", res, err)
			}
			lp, _ := s.DB().PersonByID(ctx, "371002193802100021")
			recs, _ = s.DB().PersonRecords(ctx, lp.PID)
			if !slices.ContainsFunc(recs, func(r store.Record) bool { return r.RecordID == "old" && r.ReportedDate == sc.MustDate("2023-11-05") }) {
				t.Errorf("a history record without reported_date is not reported on its event_date: %+v", recs)
			}
			// Once a day has run, history (no decision rows) is refused: a death loaded so
			// would stop a person with nothing in the trail.
			if err := s.RunDay(ctx, sc.MustDate("2024-03-01")); err != nil {
				t.Fatal(err)
			}
			late := csvBatch("PSB", header+"late,PSB,PSB.DEATH_DEREG,371002193802100021,,,2024-02-20,2024-02-25,,\n")
			late.History = true
			if res, err := s.Ingest(ctx, late); err == nil || sc.ErrorCode(err) != sc.EConflict {
				t.Fatalf("history after a day has run: %+v %v", res, err)
			}
			if lp, _ := s.DB().PersonByID(ctx, "371002193802100021"); lp.Status == sc.StatusTerminated {
				t.Fatal("a death loaded as history after the first day stopped the person")
			}
		})
	}
}

// TestConcurrentBatches: departments pushing at once while days run: every record stored
// once, none lost, none applied twice (run with -race).
func TestConcurrentBatches(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			ctx := context.Background()
			db := dsn.Open(t)
			s := newCity(t, db)
			const senders, batches, rows = 4, 5, 40
			var wg sync.WaitGroup
			errs := make(chan error, senders*batches+1)
			for w := 0; w < senders; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for b := 0; b < batches; b++ {
						var body strings.Builder
						body.WriteString(header)
						for r := 0; r < rows; r++ {
							// Each row sent twice by two senders: the second is a duplicate.
							id := fmt.Sprintf("c%d-%d", (w/2)*1000+b, r)
							fmt.Fprintf(&body, "%s,TRN,TRN.RAIL,371002194003150019,张三,,2024-02-%02d,2024-02-28,,\n", id, 1+r%27)
						}
						if _, err := s.Ingest(ctx, csvBatch("TRN", body.String())); err != nil {
							errs <- err
						}
					}
				}()
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := s.CatchUp(ctx, sc.MustDate("2024-03-03")); err != nil {
					errs <- err
				}
			}()
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			trn, err := db.RecordsWhere(ctx, func(r *store.Record) bool { return r.Source == "TRN" })
			if err != nil {
				t.Fatal(err)
			}
			n := len(trn)
			if want := senders / 2 * batches * rows; n != want {
				t.Fatalf("%d TRN records stored, want %d", n, want)
			}
			if _, err := db.VerifyAudit(ctx, func(p store.AuditProblem) { t.Error(p) }); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestRunDayTwice: a day run twice does nothing the second time; a gap is refused.
func TestRunDayTwice(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t, "sqlite:"+t.TempDir()+"/t.db")
	s := newCity(t, db)
	d := sc.MustDate("2024-03-01")
	if err := s.RunDay(ctx, d); err != nil {
		t.Fatal(err)
	}
	count := func() int {
		var n int
		db.SQL().QueryRow(`SELECT count(*) FROM audit`).Scan(&n)
		return n
	}
	before := count()
	if err := s.RunDay(ctx, d); err != nil || count() != before {
		t.Fatalf("second run: %v, %d rows then %d", err, before, count())
	}
	if err := s.RunDay(ctx, d+2); sc.ErrorCode(err) != sc.EConflict {
		t.Fatalf("a gap: %v", err)
	}
	if err := s.CatchUp(ctx, d+2); err != nil {
		t.Fatal(err)
	}
	if last, _ := db.LastRun(ctx); last != d+2 {
		t.Fatalf("last run %s", last)
	}
}

// TestFailedBatchLeavesMemoryAsStored: a batch whose transaction fails half-way leaves
// the people in memory exactly as the database has them (the service undoes its changes).
func TestFailedBatchLeavesMemoryAsStored(t *testing.T) {
	dsnPath := "sqlite:" + t.TempDir() + "/t.db"
	db := storetest.Open(t, dsnPath)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := service.Open(ctx, db, service.Options{Fault: func(point string, n int) {
		if point == "ingest" && n == 2 {
			cancel() // the transaction's next statement fails
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ImportRoster(ctx, "../backtest/testdata/scenario/roster.csv", "", "test"); err != nil {
		t.Fatal(err)
	}
	before := s.Snapshot("371002194003150019")
	_, err = s.Ingest(ctx, csvBatch("HEA", header+
		"f1,HEA,HEA.CHECKUP,371002194003150019,张三,1940-03-15,2024-02-01,2024-02-02,,\n"+
		"f2,HEA,HEA.CHECKUP,371002194003150019,张三,1940-03-15,2024-02-03,2024-02-03,,\n"))
	if err == nil {
		t.Fatal("the batch should have failed")
	}
	if after := s.Snapshot("371002194003150019"); after != before {
		t.Fatalf("memory changed by a failed batch:\n%s\n%s", before, after)
	}
	fresh, err := service.Open(context.Background(), db, service.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := fresh.Snapshot("371002194003150019"); got != before {
		t.Fatalf("database and memory disagree:\n%s\n%s", got, before)
	}
}

// deliveryModel is the built-in model, keeping a copy of the delivery days it is told.
type deliveryModel struct {
	*models.Model
	days [][]sc.Date
}

func (m *deliveryModel) SetDeliveries(days [][]sc.Date) {
	m.days = make([][]sc.Date, len(days))
	for i, ds := range days {
		m.days[i] = slices.Clone(ds)
	}
	m.Model.SetDeliveries(days)
}

// TestDeliveriesAsStored: the days each record type was delivered, as a model is told
// them, count a resend's rows (duplicates, as backtest counts them) and not a failed
// batch's, and are the same after a restart.
func TestDeliveriesAsStored(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			db := dsn.Open(t)
			cfg := sc.DefaultConfig()
			newModel := func() *deliveryModel {
				return &deliveryModel{Model: models.New(models.Default(), cfg.Catalogue, false)}
			}
			ctx := context.Background()
			m := newModel()
			s, err := service.Open(ctx, db, service.Options{Model: m})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.ImportRoster(ctx, "../backtest/testdata/scenario/roster.csv", "", "test"); err != nil {
				t.Fatal(err)
			}
			rows := func(reported string) string {
				return header + "t1,TRN,TRN.TRANSIT,371002194003150019,张三,,2024-02-01," + reported + ",,\n" +
					"t2,TRN,TRN.TRANSIT,371002194003150019,张三,,2024-02-02," + reported + ",,\n"
			}
			for _, rep := range []string{"2024-02-05", "2024-02-09"} { // the second: a resend
				if _, err := s.Ingest(ctx, csvBatch("TRN", rows(rep))); err != nil {
					t.Fatal(err)
				}
			}
			trn, _ := cfg.Catalogue.Lookup("TRN.TRANSIT")
			want := []sc.Date{sc.MustDate("2024-02-05"), sc.MustDate("2024-02-09")}
			if got := m.days[trn]; !slices.Equal(got, want) {
				t.Fatalf("delivery days %v, want %v (the resend is a delivery)", got, want)
			}
			// A batch that fails leaves no day behind.
			fctx, fcancel := context.WithCancel(ctx)
			defer fcancel()
			fm := newModel()
			failing, err := service.Open(fctx, db, service.Options{Model: fm, Fault: func(point string, n int) {
				if point == "ingest" && n == 1 {
					fcancel()
				}
			}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := failing.Ingest(fctx, csvBatch("TRN", header+"t3,TRN,TRN.TRANSIT,371002194003150019,张三,,2024-02-10,2024-02-12,,\n")); err == nil {
				t.Fatal("the batch should have failed")
			}
			if got := fm.days[trn]; !slices.Equal(got, want) {
				t.Fatalf("after a failed batch the model is told %v, want %v", got, want)
			}
			// After a restart, the same days.
			m2 := newModel()
			if _, err := service.Open(context.Background(), db, service.Options{Model: m2}); err != nil {
				t.Fatal(err)
			}
			if got := m2.days[trn]; !slices.Equal(got, want) {
				t.Fatalf("after a restart the model is told %v, want %v", got, want)
			}
		})
	}
}

// TestIngestUnstorableText: a file named in GBK (死亡.csv copied from a Windows share as it
// is) and a row holding a NUL: PostgreSQL keeps neither in a text column, and either
// failed the whole batch there. The row is quarantined, the name kept readable, the rest
// applied, on both databases.
func TestIngestUnstorableText(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			ctx := context.Background()
			s := newCity(t, dsn.Open(t))
			res, err := s.Ingest(ctx, service.Batch{Origin: "drop", Source: "HEA", Actor: "t", Day: sc.MustDate("2024-03-01"),
				Files: []service.File{{Name: "HEA/\xcb\xc0\xcd\xf6.csv", Body: strings.NewReader(header +
					"h1,HEA,HEA.CHECKUP,371002194003150019,,,2024-02-01,2024-02-02,,\n" +
					"h2,HEA,HEA.CHECKUP,371002194003150019,张\x00三,,2024-02-01,2024-02-02,,\n")}}})
			if err != nil {
				t.Fatal(err)
			}
			if res.Report.Applied != 1 || res.Report.Quarantined != 1 || res.Problems[0].Field != "name" {
				t.Fatalf("report %+v, problems %+v", res.Report, res.Problems)
			}
			b, err := s.DB().Batch(ctx, res.BatchID)
			if err != nil || b.Files != "HEA/\uFFFD.csv" {
				t.Fatalf("stored batch %+v %v", b, err)
			}
			q, err := s.DB().BatchQuarantine(ctx, res.BatchID)
			if err != nil || len(q) != 1 || !utf8.ValidString(q[0].File) {
				t.Errorf("quarantine stored: %+v %v", q, err)
			}
			// Refused whole (not a .csv): the refusal names the file in the audit trail; a
			// source folder named in GBK is the batch's source and actor.
			res, err = s.Ingest(ctx, service.Batch{Origin: "drop", Source: "\xcb\xc0", Actor: "drop:\xcb\xc0", Day: sc.MustDate("2024-03-01"),
				Files: []service.File{{Name: "\xcb\xc0/\xcb\xc0\xcd\xf6.txt", Body: strings.NewReader(header)}}})
			if err != nil || res.Rejected == "" {
				t.Fatalf("a refused batch with names in GBK: %+v %v", res, err)
			}
		})
	}
}

// TestIngestAcrossMidnight: a batch without a day, read as the clock passes midnight, is
// reported and applied on one day (the clock was read twice: a record reported on the
// 1st was stored by a batch of the 2nd).
func TestIngestAcrossMidnight(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t, "sqlite:"+filepath.Join(t.TempDir(), "t.db"))
	reads := 0
	clock := func() time.Time {
		reads++
		if reads <= 3 { // opening and the roster read it too
			return time.Date(2024, 3, 1, 15, 59, 59, 0, time.UTC) // 23:59:59 in Shanghai
		}
		return time.Date(2024, 3, 1, 16, 0, 1, 0, time.UTC)
	}
	s, err := service.Open(ctx, db, service.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ImportRoster(ctx, "../backtest/testdata/scenario/roster.csv", "", "test"); err != nil {
		t.Fatal(err)
	}
	reads = 2 // the batch's first read of the clock is the last before midnight
	res, err := s.Ingest(ctx, service.Batch{Origin: "api", Source: "HEA", Actor: "test",
		Files: []service.File{{Name: "b.csv", Body: strings.NewReader(header + "m1,HEA,HEA.CHECKUP,371002194003150019,,,2024-02-20,,,\n")}}})
	if err != nil || res.Report.Applied != 1 {
		t.Fatalf("%+v %v", res, err)
	}
	b, _ := db.Batch(ctx, res.BatchID)
	zp, _ := db.PersonByID(ctx, "371002194003150019")
	recs, _ := db.PersonRecords(ctx, zp.PID)
	if len(recs) != 1 || b.Day != recs[0].ReportedDate {
		t.Fatalf("batch of %s, record reported on %v", b.Day, recs)
	}
}

// TestBatchAuditRows: a batch's extra audit rows (a staff action with the record it made)
// are written in its transaction: both are stored, or neither (the connection lost as the
// batch commits).
func TestBatchAuditRows(t *testing.T) {
	ctx := context.Background()
	url := storetest.PostgresDSN(t)
	admin := storetest.Session(t, url)
	kill := false
	db := storetest.Open(t, url)
	s, err := service.Open(ctx, db, service.Options{Fault: func(point string, _ int) {
		if point == "commit" && kill {
			// The session holding this schema's writer transaction lock, no other test's.
			admin.Exec(`SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted
				AND classid = 7341002 AND objid = hashtext(current_schema())::oid AND objsubid = 2`)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ImportRoster(ctx, "../backtest/testdata/scenario/roster.csv", "", "test"); err != nil {
		t.Fatal(err)
	}
	batch := func(rid string) service.Batch {
		b := csvBatch("CMT", header+rid+",CMT,CMT.VISIT,371002194003150019,,,2024-02-01,2024-02-02,,\n")
		b.Audit = func(id int64, rep *exchange.BatchReport) []store.AuditRow {
			return []store.AuditRow{{Kind: "visit", Actor: "v1", PID: -1, Action: "alive", Day: b.Day, Detail: fmt.Sprintf("batch=%d;applied=%d", id, rep.Applied)}}
		}
		return b
	}
	res, err := s.Ingest(ctx, batch("c1"))
	if err != nil {
		t.Fatal(err)
	}
	visits := func() []store.AuditRow {
		rows, err := db.Trail(ctx, store.TrailQuery{Kind: "visit", From: sc.NoDate, To: sc.NoDate})
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}
	if v := visits(); len(v) != 1 || v[0].Detail != fmt.Sprintf("batch=%d;applied=1", res.BatchID) {
		t.Fatalf("the visit's row: %+v", v)
	}
	kill = true
	if _, err := s.Ingest(ctx, batch("c2")); err == nil {
		t.Fatal("a batch on a lost connection was stored")
	}
	if v := visits(); len(v) != 1 {
		t.Errorf("the lost batch's visit row was stored without it: %+v", v)
	}
}

// TestPayrollCoveredByTrail: a payroll day's payments are covered by a row of kind
// payments written just before the run's own row, which stays the head the run prints;
// a payment changed, deleted or inserted by hand is then reported by verify.
func TestPayrollCoveredByTrail(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			ctx := context.Background()
			db := dsn.Open(t)
			s := newCity(t, db)
			if err := s.CatchUp(ctx, sc.MustDate("2024-02-29")); err != nil {
				t.Fatal(err)
			}
			st, err := s.RunDayStats(ctx, sc.MustDate("2024-03-01"))
			if err != nil {
				t.Fatal(err)
			}
			rows, err := db.Trail(ctx, store.TrailQuery{Kind: "payments", Limit: 1, From: sc.NoDate, To: sc.NoDate})
			if err != nil || len(rows) != 1 {
				t.Fatal(rows, err)
			}
			cover := rows[0]
			if cover.Seq != st.AuditHead.Seq-1 || cover.Day != sc.MustDate("2024-03-01") || !strings.Contains(cover.Detail, ";rows=") {
				t.Fatalf("the payroll's payments row %+v, the run's head %s", cover, st.AuditHead)
			}
			verify := func() string {
				var got []string
				if _, err := db.VerifyAuditAgainst(ctx, []store.AuditAnchor{st.AuditHead}, func(p store.AuditProblem) {
					got = append(got, fmt.Sprintf("%d %s", p.Seq, p.Reason))
				}); err != nil {
					t.Fatal(err)
				}
				return strings.Join(got, "\n")
			}
			if got := verify(); got != "" {
				t.Fatalf("untouched: %s", got)
			}
			var pid int64
			if err := db.SQL().QueryRow(`SELECT min(pid) FROM payments WHERE kind = 'REGULAR'`).Scan(&pid); err != nil {
				t.Fatal(err)
			}
			mustExec := func(q string) {
				t.Helper()
				if _, err := db.SQL().Exec(db.Rebind(q), pid); err != nil {
					t.Fatal(err)
				}
			}
			mismatch := fmt.Sprintf("%d the payments of batch", cover.Seq)
			mustExec(`UPDATE payments SET amount = amount * 10 WHERE pid = ? AND kind = 'REGULAR'`)
			if got := verify(); !strings.Contains(got, mismatch) {
				t.Fatalf("an amount multiplied: %q", got)
			}
			mustExec(`DELETE FROM payments WHERE pid = ?`)
			if got := verify(); !strings.Contains(got, mismatch) {
				t.Fatalf("rows deleted: %q", got)
			}
			mustExec(`INSERT INTO payments (pid, benefit, month, kind, amount, payroll_month) VALUES (?, 'EMP_PENSION', 24000, 'BACK_PAY', 100, 24000)`)
			if got := verify(); !strings.Contains(got, fmt.Sprintf("0 payment pid=%d benefit=EMP_PENSION", pid)) {
				t.Fatalf("a row inserted: %q", got)
			}
		})
	}
}
