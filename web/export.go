package web

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"strconv"

	"github.com/xuri/excelize/v2"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/store"
)

// table is an export: a header, then rows of cells. A string cell is text — in .xlsx a
// text cell, so that an 18-digit ID number stays whole (Excel keeps 15 digits of a
// number) and no text is ever a formula; in CSV defused by safeCell. An int64 or an
// sc.Fen cell is a number (yuan with two decimals for Fen).
type table struct {
	header []string
	rows   [][]any
}

// sendTable writes t as format ("csv": UTF-8 with a byte-order mark, which Excel needs to
// read it as UTF-8; "xlsx"), audits the export with a (its detail then says the format and
// the rows: an export takes personal data out of the system), and sends it as
// name.format.
func (c *console) sendTable(w http.ResponseWriter, r *http.Request, t *table, format, name string, a store.AuditRow) {
	var buf bytes.Buffer
	var err error
	if format == "csv" {
		err = t.csv(&buf)
	} else {
		err = t.xlsx(&buf)
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	a.Actor, a.PID = reqOf(r).user.Name, -1
	a.Detail += ";format=" + format + ";rows=" + strconv.Itoa(len(t.rows))
	if err := c.audit(r, a); err != nil {
		c.fail(w, r, err)
		return
	}
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	} else {
		w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	}
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.`+format+`"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}

func (t *table) csv(buf *bytes.Buffer) error {
	buf.WriteString("\ufeff")
	cw := csv.NewWriter(buf)
	cw.Write(t.header)
	line := make([]string, len(t.header))
	for _, row := range t.rows {
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
		cw.Write(line)
	}
	cw.Flush()
	return cw.Error()
}

func (t *table) xlsx(buf *bytes.Buffer) error {
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		return err
	}
	put := func(n int, vals []any) error {
		cell, _ := excelize.CoordinatesToCellName(1, n)
		return sw.SetRow(cell, vals)
	}
	head := make([]any, len(t.header))
	for i, h := range t.header {
		head[i] = h
	}
	if err := put(1, head); err != nil {
		return err
	}
	vals := make([]any, len(t.header))
	for i, row := range t.rows {
		vals = vals[:0]
		for _, v := range row {
			if f, ok := v.(sc.Fen); ok {
				v = float64(f) / 100
			}
			vals = append(vals, v)
		}
		if err := put(i+2, vals); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	return f.Write(buf)
}

// texts is cells as a row of text cells.
func texts(cells []string) []any {
	out := make([]any, len(cells))
	for i, s := range cells {
		out[i] = s
	}
	return out
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
