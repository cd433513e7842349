package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/auth"
	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
)

// lockedLog is a log the server's goroutines write and the test reads.
type lockedLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// exportRig serves sendTable over a table that the test writes: rows rows, the store
// failing at row failAt (-1: never), wait called before row waitAt.
type exportRig struct {
	c   *console
	db  *store.DB
	log *lockedLog
	srv *httptest.Server
	// set by each case
	rows, failAt, waitAt int
	wait                 func(ctx context.Context) error
}

var errDisk = errors.New("disk I/O error")

func newExportRig(t *testing.T) *exportRig {
	db := storetest.Open(t, "sqlite:"+filepath.Join(t.TempDir(), "x.db"))
	x := &exportRig{db: db, log: &lockedLog{}, failAt: -1, waitAt: -1}
	clock := func() time.Time { return time.Date(2024, 5, 10, 9, 0, 0, 0, time.UTC) }
	c, err := newConsole(Options{DB: db, Auth: auth.New(db, auth.Options{Now: clock}), Now: clock, Log: slog.New(slog.NewTextHandler(x.log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	x.c = c
	x.srv = httptest.NewServer(Compress(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = r.WithContext(context.WithValue(r.Context(), reqKey{}, &request{user: &auth.User{Name: "op", Role: auth.RoleOperator}, lang: "zh-CN"}))
		t := &table{header: []string{"身份证号", "姓名", "月数", "金额"}, rows: func(count func(int) error, row func([]any) error) error {
			if count != nil {
				if err := count(x.rows); err != nil {
					return err
				}
			}
			for i := 0; i < x.rows; i++ {
				if i == x.waitAt {
					if err := x.wait(r.Context()); err != nil {
						return err
					}
				}
				if i == x.failAt {
					return errDisk
				}
				if err := r.Context().Err(); err != nil { // as the store's query would
					return err
				}
				if err := row([]any{fmt.Sprintf("3710%014d", i), "王秀英", int64(i), sc.Fen(i)}); err != nil {
					return err
				}
			}
			return nil
		}}
		c.sendTable(w, r, t, r.URL.Query().Get("format"), "x", store.AuditRow{Kind: "export", Action: "test"})
	})))
	t.Cleanup(x.srv.Close)
	return x
}

// get asks for the export, gzipped when gz (the body then left compressed), and returns
// the response with its whole body and the error of reading it.
func (x *exportRig) get(t *testing.T, format string, gz bool) (*http.Response, []byte, error) {
	t.Helper()
	req, _ := http.NewRequest("GET", x.srv.URL+"/?format="+format, nil)
	if gz {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return res, body, err
}

func (x *exportRig) audits(t *testing.T) []string {
	t.Helper()
	rows, err := x.db.Trail(context.Background(), store.TrailQuery{Kind: "export", From: sc.NoDate, To: sc.NoDate})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rows {
		out = append(out, r.Detail)
	}
	return out
}

// TestExportCutOff: an export whose store fails once bytes have left ends without the
// end of a whole response (the connection cut: the browser reports a failed download),
// is logged, and was audited before its first byte; one that fails before any byte left
// is answered with an error page, not an attachment; a client that hangs up is logged as
// such.
func TestExportCutOff(t *testing.T) {
	x := newExportRig(t)
	x.rows, x.failAt = 100_000, 50_000
	for _, gz := range []bool{false, true} {
		res, body, err := x.get(t, "csv", gz)
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Disposition") != `attachment; filename="x.csv"` || len(body) < 64<<10 {
			t.Fatalf("gzip %v: %d %v, %d bytes", gz, res.StatusCode, res.Header, len(body))
		}
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("gzip %v: a CSV cut off at row 50,000 of 100,000 reads as a whole response: %v", gz, err)
		}
	}
	if log := x.log.String(); strings.Count(log, `level=ERROR msg="console export cut off" user=op export=test format=csv rows_written=50000 err="disk I/O error"`) != 2 {
		t.Errorf("the log:\n%s", log)
	}
	if got := x.audits(t); len(got) != 2 || got[0] != ";format=csv;rows=100000" {
		t.Errorf("the audit rows: %q", got)
	}

	// Before the first byte: an error page. The CSV's audit row is written (its count came
	// first); the .xlsx, whole before its first byte, is audited only once read.
	x.failAt = 10
	for _, format := range []string{"csv", "xlsx"} {
		if format == "xlsx" {
			x.failAt = 50_000
		}
		res, body, err := x.get(t, format, false)
		if err != nil || res.StatusCode != http.StatusInternalServerError || res.Header.Get("Content-Disposition") != "" ||
			!strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
			t.Errorf("%s failing before its first byte: %d %v %v\n%.300s", format, res.StatusCode, res.Header, err, body)
		}
	}
	if got := x.audits(t); len(got) != 3 {
		t.Errorf("the audit rows: %q", got)
	}

	// A client that hangs up mid-download.
	x.failAt, x.waitAt = -1, 20_000
	x.wait = func(ctx context.Context) error {
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Second):
			t.Error("the server did not see the client leave")
		}
		return ctx.Err()
	}
	req, _ := http.NewRequest("GET", x.srv.URL+"/?format=csv", nil)
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Read(make([]byte, 100))
	res.Body.Close()
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(x.log.String(), "level=WARN"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no warning of a client gone:\n%s", x.log.String())
		}
	}
	if log := x.log.String(); !strings.Contains(log, `level=WARN msg="console export cut off" user=op export=test format=csv rows_written=`) {
		t.Errorf("the log:\n%s", log)
	}
}

// TestExportStreams: a CSV export's first bytes reach the client while its rows are
// still being read (before session 17 the whole file was built first: 500 MB and 6.5 s
// for 200,000 rows in .xlsx before the browser heard anything), and a whole export
// arrives whole, in either format.
func TestExportStreams(t *testing.T) {
	x := newExportRig(t)
	x.rows, x.waitAt = 30_000, 20_000
	got := make(chan struct{})
	x.wait = func(ctx context.Context) error {
		select {
		case <-got:
			return nil
		case <-time.After(10 * time.Second):
			return errors.New("no byte reached the client while the rows were read")
		}
	}
	req, _ := http.NewRequest("GET", x.srv.URL+"/?format=csv", nil)
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	first := make([]byte, 3)
	if _, err := io.ReadFull(res.Body, first); err != nil || string(first) != "\ufeff" {
		t.Fatalf("the first bytes: %q %v (%d)", first, err, res.StatusCode)
	}
	close(got)
	rest, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("%d %v", res.StatusCode, err)
	}
	lines := strings.Split(string(rest), "\n")
	if len(lines) != 30_002 || lines[0] != "身份证号,姓名,月数,金额" || lines[30_000] != "371000000000029999,王秀英,29999,299.99" || lines[30_001] != "" {
		t.Errorf("%d lines: %q … %q", len(lines), lines[0], lines[len(lines)-2:])
	}

	x.waitAt = -1
	res, body, err := x.get(t, "xlsx", false)
	if err != nil || res.StatusCode != http.StatusOK || res.Header.Get("Content-Disposition") != `attachment; filename="x.xlsx"` {
		t.Fatalf("xlsx: %d %v %v", res.StatusCode, res.Header, err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows("Sheet1")
	if err != nil || len(rows) != 30_001 || rows[30_000][0] != "371000000000029999" || rows[30_000][3] != "299.99" {
		t.Errorf("xlsx: %d rows, %v, last %q", len(rows), err, rows[len(rows)-1])
	}
	if got := x.audits(t); len(got) != 2 || got[0] != ";format=xlsx;rows=30000" || got[1] != ";format=csv;rows=30000" {
		t.Errorf("the audit rows: %q", got)
	}
}

// TestExportsBounded: while maxExports exports are being sent, another waits and is then
// answered busy (503, in the reader's words), with no attachment; a client that takes no
// bytes for exportStall has its export cut, which frees its place for the next.
func TestExportsBounded(t *testing.T) {
	x := newExportRig(t)
	defer func(w, s time.Duration) { exportWait, exportStall = w, s }(exportWait, exportStall)
	exportWait, exportStall = 200*time.Millisecond, 300*time.Millisecond
	for range maxExports {
		x.c.exports <- struct{}{}
	}
	res, body, _ := x.get(t, "csv", false)
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Content-Disposition") != "" || !strings.Contains(string(body), "正在导出的文件已有 2 个") {
		t.Fatalf("an export beyond the bound: %d %v %.300s", res.StatusCode, res.Header, body)
	}
	for range maxExports {
		<-x.c.exports
	}
	// A client that stops reading: its export is cut once the socket's buffers are full
	// and it has taken nothing for exportStall.
	x.rows = 2_000_000
	req, _ := http.NewRequest("GET", x.srv.URL+"/?format=csv", nil)
	stalled, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Body.Close()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(x.log.String(), "console export cut off") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(x.log.String(), "console export cut off") {
		t.Fatalf("a stalled client's export was not cut:\n%s", x.log.String())
	}
	x.rows = 10
	if res, _, err := x.get(t, "csv", false); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("the export after the stalled one: %v %v", res.StatusCode, err)
	}
}
