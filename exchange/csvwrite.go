package exchange

import (
	"bufio"
	"io"
)

// CSVWriter writes CSV the way spec §7 fixes it: UTF-8, no byte-order mark, LF line ends,
// a field quoted only when it holds a comma, a double quote, CR or LF. It buffers; call
// Flush at the end and check its error.
type CSVWriter struct {
	w   *bufio.Writer
	row []byte
	n   int // fields in the current row
}

// NewCSVWriter returns a writer over w.
func NewCSVWriter(w io.Writer) *CSVWriter {
	return &CSVWriter{w: bufio.NewWriterSize(w, 256<<10), row: make([]byte, 0, 512)}
}

// AppendCSVField appends one field to dst, quoted only if it must be.
func AppendCSVField(dst []byte, f []byte) []byte {
	quote := false
	for _, c := range f {
		if c == ',' || c == '"' || c == '\r' || c == '\n' {
			quote = true
			break
		}
	}
	if !quote {
		return append(dst, f...)
	}
	dst = append(dst, '"')
	for _, c := range f {
		if c == '"' {
			dst = append(dst, '"')
		}
		dst = append(dst, c)
	}
	return append(dst, '"')
}

// Field adds a field to the current row.
func (c *CSVWriter) Field(f []byte) {
	if c.n > 0 {
		c.row = append(c.row, ',')
	}
	c.row = AppendCSVField(c.row, f)
	c.n++
}

// String adds a string field to the current row.
func (c *CSVWriter) String(s string) {
	if c.n > 0 {
		c.row = append(c.row, ',')
	}
	// Strings are appended through the byte path without a copy where possible.
	c.row = AppendCSVString(c.row, s)
	c.n++
}

// Raw adds a field that the caller has already made safe (digits, dates, codes): it is
// written as is, with no quoting check.
func (c *CSVWriter) Raw(f []byte) {
	if c.n > 0 {
		c.row = append(c.row, ',')
	}
	c.row = append(c.row, f...)
	c.n++
}

// Scratch returns the row buffer for appending a raw field in place: call it, append to
// the returned slice, and pass the result to EndRaw. It avoids a copy for formatted
// numbers and dates.
func (c *CSVWriter) Scratch() []byte {
	if c.n > 0 {
		c.row = append(c.row, ',')
	}
	c.n++
	return c.row
}

// EndRaw stores the row buffer returned by Scratch after the caller appended to it.
func (c *CSVWriter) EndRaw(b []byte) { c.row = b }

// End ends the current row.
func (c *CSVWriter) End() error {
	c.row = append(c.row, '\n')
	_, err := c.w.Write(c.row)
	c.row = c.row[:0]
	c.n = 0
	return err
}

// Row writes a whole row of string fields.
func (c *CSVWriter) Row(fields ...string) error {
	for _, f := range fields {
		c.String(f)
	}
	return c.End()
}

// Write writes b, rows already formatted, after any row in progress was ended.
func (c *CSVWriter) Write(b []byte) error {
	_, err := c.w.Write(b)
	return err
}

// Flush writes any buffered data.
func (c *CSVWriter) Flush() error { return c.w.Flush() }

// AppendCSVString appends one string field to dst, quoted only if it must be.
func AppendCSVString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ',', '"', '\r', '\n':
			return AppendCSVField(dst, []byte(s))
		}
	}
	return append(dst, s...)
}
