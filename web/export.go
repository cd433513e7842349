package web

import (
	"archive/zip"
	"bufio"
	"encoding/csv"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/xuri/excelize/v2"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/store"
)

// table is an export: a header, then rows of cells. A string cell is text — in .xlsx a
// text cell, so that an 18-digit ID number stays whole (Excel keeps 15 digits of a
// number) and no text is ever a formula; in CSV defused by safeCell. An int64 or an
// sc.Fen cell is a number (yuan with two decimals for Fen: in .xlsx a number shown with
// the format 0.00).
type table struct {
	header []string
	// rows hands count, when not nil, the number of rows before the first, then each
	// row's cells to row, in order, as it reads them from the store (WorkEach, TrailEach):
	// an export of 200,000 rows is never all in memory. It returns the first error of
	// count, row or the store. A row's cells are row's only until it returns.
	rows func(count func(n int) error, row func([]any) error) error
}

// sendTable writes t as format ("csv": UTF-8 with a byte-order mark, which Excel needs to
// read it as UTF-8; "xlsx"), audits the export with a (its detail then says the format and
// the rows: an export takes personal data out of the system) before its first byte
// leaves, and sends it as name.format. An error before that byte is answered with an
// error page; after it, the connection is cut (http.ErrAbortHandler), so that the browser
// reports a failed download rather than keeping a file that ends early and looks whole.
func (c *console) sendTable(w http.ResponseWriter, r *http.Request, t *table, format, name string, a store.AuditRow) {
	// A streamed export holds one of the store's few reading connections for as long as
	// its browser takes the file: a few at once, no more, so that pages go on answering.
	wait := time.NewTimer(exportWait)
	defer wait.Stop()
	select {
	case c.exports <- struct{}{}:
		defer func() { <-c.exports }()
	case <-wait.C:
		c.fail(w, r, said(sc.EBusy, "err.exports_busy", maxExports))
		return
	case <-r.Context().Done():
		return
	}
	// exportWriter sets a deadline at each write; the connection may serve other
	// requests after this one (the server sets none of its own).
	defer http.NewResponseController(w).SetWriteDeadline(time.Time{})
	a.Actor, a.PID = reqOf(r).user.Name, -1
	a.Detail += ";format=" + format
	out := &exportWriter{w: w, typ: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", file: name + "." + format}
	var written int
	var err error
	if format == "csv" {
		out.typ = "text/csv; charset=utf-8"
		written, err = c.sendCSV(out, r, t, a)
	} else {
		written, err = c.sendXLSX(out, r, t, a)
	}
	if err == nil {
		return
	}
	if !out.started {
		c.fail(w, r, err)
		return
	}
	// The client hanging up mid-download is theirs; the store failing is ours.
	level := slog.LevelError
	if out.err != nil || r.Context().Err() != nil {
		level = slog.LevelWarn
	}
	c.log.Log(r.Context(), level, "console export cut off", "user", a.Actor, "export", a.Action, "format", format, "rows_written", written, "err", err)
	panic(http.ErrAbortHandler)
}

// sendCSV audits the export once the store has counted its rows, then writes them as it
// reads them (one that then fails before its first byte leaves keeps its audit row: the
// row says what was asked for). It returns the rows written.
func (c *console) sendCSV(out *exportWriter, r *http.Request, t *table, a store.AuditRow) (int, error) {
	// Bytes leave 64 kB at a time: an export that fails within its first 64 kB (a
	// village's whole list) is still answered with an error page.
	buf := bufio.NewWriterSize(out, 64<<10)
	buf.WriteString("\ufeff")
	cw := csv.NewWriter(buf)
	cw.Write(t.header)
	var line []string
	n := 0
	err := t.rows(func(rows int) error {
		a.Detail += ";rows=" + strconv.Itoa(rows)
		return c.audit(r, a)
	}, func(row []any) error {
		line = line[:0]
		for _, v := range row {
			switch v := v.(type) {
			case string:
				line = append(line, safeCell(v))
			case int64:
				line = append(line, strconv.FormatInt(v, 10))
			case sc.Fen:
				line = append(line, v.String())
			}
		}
		n++
		return cw.Write(line) // the client's error, once it stopped reading
	})
	if err != nil {
		return n, err
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return n, err
	}
	return n, buf.Flush()
}

// sendXLSX writes the rows into a sheet as it reads them (excelize's stream writer keeps
// 16 MB of it in memory and the rest in a temporary file), audits the export, then writes
// the workbook's zip straight to the client. It returns the rows written.
func (c *console) sendXLSX(out *exportWriter, r *http.Request, t *table, a store.AuditRow) (int, error) {
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		return 0, err
	}
	// Money with two decimals, as the CSV and the pages write it (1,000.00 is 1000.00,
	// not 1000): Excel's built-in number format 2, "0.00"; the cell stays a number. The
	// style is made with the first amount: a file without money is as it was.
	money := -1
	put := func(n int, vals []any) error {
		cell, _ := excelize.CoordinatesToCellName(1, n)
		return sw.SetRow(cell, vals)
	}
	head := make([]any, len(t.header))
	for i, h := range t.header {
		head[i] = h
	}
	if err := put(1, head); err != nil {
		return 0, err
	}
	vals := make([]any, len(t.header))
	n := 0
	// No count: the sheet is whole before its first byte leaves, so the audit row is
	// written after the rows are read, with their number, as before exports streamed.
	if err := t.rows(nil, func(row []any) error {
		vals = vals[:0]
		for _, v := range row {
			if fen, ok := v.(sc.Fen); ok {
				if money < 0 {
					if money, err = f.NewStyle(&excelize.Style{NumFmt: 2}); err != nil {
						return err
					}
				}
				v = excelize.Cell{StyleID: money, Value: float64(fen) / 100}
			}
			vals = append(vals, v)
		}
		n++
		return put(n+1, vals)
	}); err != nil {
		return 0, err
	}
	if err := sw.Flush(); err != nil {
		return 0, err
	}
	a.Detail += ";rows=" + strconv.Itoa(n)
	if err := c.audit(r, a); err != nil {
		return 0, err
	}
	// File.Write zips the workbook into a buffer of its own (the whole file) and copies
	// that: its zip writer, given the client instead, leaves the buffer empty. (excelize
	// patches the buffer's zip headers only for a part above 4 GiB, which 200,000 rows
	// are far from.)
	f.SetZipWriter(func(io.Writer) excelize.ZipWriter { return zip.NewWriter(out) })
	if err := f.Write(io.Discard); err != nil {
		return n, err
	}
	return n, nil
}

// maxExports is how many exports are sent at once (the rest wait exportWait, then are
// answered busy): half of SQLite's four reading connections; PostgreSQL has eight.
const maxExports = 2

// exportWait is how long an export waits for another to end; exportStall how long a
// client may take no bytes before its export is cut (a stalled browser must not hold a
// reading connection for good).
var (
	exportWait  = 15 * time.Second
	exportStall = 2 * time.Minute
)

// exportWriter is an export's way to the client: it sets the file's headers with the
// first byte, so that an error before it gets an error page, not an attachment, and
// keeps the client's error apart from the store's.
type exportWriter struct {
	w         http.ResponseWriter
	typ, file string
	started   bool
	err       error // the client's
}

func (e *exportWriter) Write(p []byte) (int, error) {
	if !e.started {
		e.started = true
		h := e.w.Header()
		h.Set("Content-Type", e.typ)
		h.Set("Content-Disposition", `attachment; filename="`+e.file+`"`)
		h.Set("Cache-Control", "no-store")
	}
	// Not supported by a test's recorder, and then not needed.
	_ = http.NewResponseController(e.w).SetWriteDeadline(time.Now().Add(exportStall))
	n, err := e.w.Write(p)
	if err != nil && e.err == nil {
		e.err = err
	}
	return n, err
}

// safeCell stops a spreadsheet from reading a CSV cell as a formula (CSV injection): a
// value starting with = + - @, a tab or a CR gets a leading apostrophe.
func safeCell(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r') {
		return "'" + s
	}
	return s
}

// exportFormat checks an export's format= (csv or xlsx), before its rows are read.
func exportFormat(f string) error {
	if f != "csv" && f != "xlsx" {
		return sc.Errorf(sc.EInvalid, "format %q: want csv or xlsx", f)
	}
	return nil
}
