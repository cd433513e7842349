package exchange

import (
	"bytes"
	"encoding/binary"
	"math/bits"
)

// csvScanner splits decoded text into CSV rows (RFC 4180, as encoding/csv reads it with
// its defaults: optional quoting, "" for a quote, CR LF or LF line ends, CR LF inside a
// quoted field read as LF, a final CR before the end of the file dropped, blank lines
// skipped). It is written by hand because it is the hot path of ingestion: fields are views
// into the text buffer, unescaped in place, and a row without quotes costs two byte scans.
//
// A row whose quoting is broken is reported, and scanning resumes at the physical line
// after the one it started on, so one stray quote costs one row, not the rest of the file.
type csvScanner struct {
	t     *textBuf
	line  int64  // physical lines consumed so far
	start int64  // the line the last row started on
	row   []byte // the last row's text as read (before unescaping)
	spans []span // its fields as offsets into row (no pointers: cheap to store)
	esc   []int  // fields quoted with "" or CR LF inside: unescaped by finish
	// hiFrom:hiTo bounds the row's bytes >= 0x80, widened to whole characters (the bytes
	// around are ASCII): only they need an encoding check. hiTo < 0 means check the row.
	hiFrom, hiTo int
}

type span struct{ s, e int32 }

// field returns field i of the last row.
func (c *csvScanner) field(i int) []byte { return c.row[c.spans[i].s:c.spans[i].e] }

type scanStatus uint8

const (
	scanRow      scanStatus = iota // a row: check row's encoding, then call finish
	scanBadQuote                   // broken quoting; row holds its first line
	scanTooLong                    // longer than maxRowBytes; row holds what is left of it (maybe nothing)
	scanEOF                        // no more rows
	scanErr                        // the source failed (textBuf.err)
)

type parseStatus uint8

const (
	parseOK parseStatus = iota
	parseNeedMore
	parseBadQuote
)

// next reads the next row. For scanBadQuote, bad is the index of the field where the
// quoting broke.
func (c *csvScanner) next() (st scanStatus, bad int) {
	t := c.t
	for {
		b := t.window()
		if len(b) == 0 {
			if t.more() {
				continue
			}
			return c.end(), 0
		}
		if b[0] == '\n' {
			t.consume(1)
			c.line++
			continue
		}
		if b[0] == '\r' {
			if len(b) == 1 {
				if t.more() {
					continue
				}
				if t.done() {
					t.consume(1)
					continue
				}
				return c.end(), 0
			}
			if b[1] == '\n' {
				t.consume(2)
				c.line++
				continue
			}
		}
		n, nl, ps, badField := c.parse(b, t.done())
		switch ps {
		case parseOK:
			if n > maxRowBytes {
				// Whether a long row fits the buffer depends on how reads fell: reject
				// every row past the limit, as if it had not fitted.
				if k := bytes.IndexByte(b, '\n'); k >= 0 && k+1 < n {
					c.firstLine(b)
				} else {
					c.start = c.line + 1
					c.row = nil
					c.line += int64(nl)
					t.consume(n)
				}
				return scanTooLong, 0
			}
			c.row = b[:n]
			c.start = c.line + 1
			c.line += int64(nl)
			t.consume(n)
			return scanRow, 0
		case parseBadQuote:
			c.firstLine(b)
			return scanBadQuote, badField
		}
		if t.more() || t.done() {
			continue // parse again with more text, or knowing it is the end
		}
		if t.err != nil {
			return scanErr, 0
		}
		// The window is full and the row has not ended.
		if bytes.IndexByte(b, '\n') >= 0 {
			c.firstLine(b) // a quoted field running on: drop the first line only
		} else {
			c.start = c.line + 1
			c.row = nil
			if t.discardLine() {
				c.line++
			}
		}
		return scanTooLong, 0
	}
}

// firstLine consumes the first physical line of b as a bad row.
func (c *csvScanner) firstLine(b []byte) {
	c.start = c.line + 1
	n := len(b)
	if k := bytes.IndexByte(b, '\n'); k >= 0 {
		n = k + 1
		c.line++
	}
	c.row = b[:n]
	c.t.consume(n)
}

func (c *csvScanner) end() scanStatus {
	if c.t.err != nil {
		return scanErr
	}
	return scanEOF
}

// parse reads one row at the start of b, which is not a blank line. It returns the bytes
// the row takes (through its final LF) and how many LFs that is. eof says no text follows b.
// It does not change b, so that a row with broken quoting can be read again line by line.
func (c *csvScanner) parse(b []byte, eof bool) (n, nl int, st parseStatus, bad int) {
	sp, esc := c.spans[:0], c.esc[:0]
	defer func() { c.spans, c.esc = sp, esc }()
	c.hiFrom, c.hiTo = 0, -1
	quoted := false // the row has quotes: its encoding is checked whole
	i := 0
	for {
		// i is at the start of a field; find the end of its physical line.
		var ce, next, ended int
		if le := bytes.IndexByte(b[i:], '\n'); le >= 0 {
			ce, next, ended = i+le, i+le+1, 1
		} else {
			if !eof {
				return 0, 0, parseNeedMore, 0
			}
			ce, next = len(b), len(b)
		}
		if ce > i && b[ce-1] == '\r' {
			ce-- // CR LF, or a CR at the very end of the file
		}
		if bytes.IndexByte(b[i:ce], '"') < 0 {
			// No quote on the rest of the line: plain comma splitting. Fields are short,
			// so a loop beats a call to IndexByte per field.
			line := b[:ce]
			hiFrom, hiTo := len(line), 0
			j := i
			for ; j+8 <= len(line); j += 8 {
				w := binary.LittleEndian.Uint64(line[j:])
				if w&0x8080808080808080 != 0 {
					// A word with non-ASCII bytes. The word before it had none, so it
					// starts on a character; the word after has none, so its last
					// character ends in it.
					hiFrom, hiTo = min(hiFrom, j), j+8
				}
				x := w ^ 0x2C2C2C2C2C2C2C2C // zero bytes where the commas are
				m := (x - 0x0101010101010101) &^ x & 0x8080808080808080
				for m != 0 {
					k := j + bits.TrailingZeros64(m)>>3
					m &= m - 1
					if line[k] == ',' { // the bit trick can flag a byte after a true one
						sp = append(sp, span{int32(i), int32(k)})
						i = k + 1
					}
				}
			}
			for ; j < len(line); j++ {
				ch := line[j]
				if ch >= 0x80 {
					hiFrom, hiTo = min(hiFrom, j), len(line)
				}
				if ch == ',' {
					sp = append(sp, span{int32(i), int32(j)})
					i = j + 1
				}
			}
			sp = append(sp, span{int32(i), int32(len(line))})
			if !quoted {
				c.hiFrom, c.hiTo = hiFrom, max(hiTo, hiFrom)
			}
			return next, nl + ended, parseOK, 0
		}
		quoted = true
		for i >= ce || b[i] != '"' {
			k := bytes.IndexByte(b[i:ce], ',')
			fe := ce
			if k >= 0 {
				fe = i + k
			}
			if bytes.IndexByte(b[i:fe], '"') >= 0 {
				return 0, 0, parseBadQuote, len(sp) // a quote inside an unquoted field
			}
			sp = append(sp, span{int32(i), int32(fe)})
			if k < 0 {
				return next, nl + ended, parseOK, 0
			}
			i = fe + 1
		}
		// A quoted field opens at i; it may run over several lines.
		j, quoteEsc := i+1, false
		var q int
		for {
			k := bytes.IndexByte(b[j:], '"')
			if k < 0 {
				if !eof {
					return 0, 0, parseNeedMore, 0
				}
				return 0, 0, parseBadQuote, len(sp) // never closed
			}
			q = j + k
			if q+1 < len(b) && b[q+1] == '"' {
				quoteEsc, j = true, q+2
				continue
			}
			if q+1 == len(b) && !eof {
				return 0, 0, parseNeedMore, 0 // a doubled quote may follow
			}
			break
		}
		if m := bytes.Count(b[i+1:q], lf); m > 0 {
			nl += m
			if !quoteEsc && bytes.Contains(b[i+1:q], crlf) {
				quoteEsc = true
			}
		}
		if quoteEsc {
			esc = append(esc, len(sp))
		}
		sp = append(sp, span{int32(i + 1), int32(q)})
		a := q + 1
		switch {
		case a == len(b):
			return a, nl, parseOK, 0
		case b[a] == ',':
			i = a + 1
		case b[a] == '\n':
			return a + 1, nl + 1, parseOK, 0
		case b[a] == '\r' && a+1 < len(b) && b[a+1] == '\n':
			return a + 2, nl + 1, parseOK, 0
		case b[a] == '\r' && a+1 == len(b):
			if !eof {
				return 0, 0, parseNeedMore, 0
			}
			return a + 1, nl, parseOK, 0
		default:
			return 0, 0, parseBadQuote, len(sp) - 1 // text after a closing quote
		}
	}
}

var (
	lf   = []byte{'\n'}
	crlf = []byte{'\r', '\n'}
)

// valid reports whether the last row decoded cleanly.
func (c *csvScanner) valid() bool {
	if c.hiTo < 0 {
		return c.t.valid(c.row)
	}
	return c.t.valid(c.row[c.hiFrom:c.hiTo])
}

// finish unescapes the last row's quoted fields in place. It runs only after the row's
// encoding is checked, because unescaping drops bytes.
func (c *csvScanner) finish() {
	for _, i := range c.esc {
		f := unescapeQuoted(c.field(i))
		c.spans[i].e = c.spans[i].s + int32(len(f))
	}
}

// unescapeQuoted turns "" into " and CR LF into LF, in place.
func unescapeQuoted(f []byte) []byte {
	w := 0
	for r := 0; r < len(f); r++ {
		ch := f[r]
		if ch == '"' && r+1 < len(f) && f[r+1] == '"' {
			r++
		} else if ch == '\r' && r+1 < len(f) && f[r+1] == '\n' {
			continue
		}
		f[w] = ch
		w++
	}
	return f[:w]
}
