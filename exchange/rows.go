package exchange

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/silentcert/silentcert"
)

// fieldSet is the list of fields a kind of file knows (records, roster).
type fieldSet struct {
	names  []string
	index  map[string]int
	amount []bool // a JSON number is accepted (spec §1: amounts)
	detail int    // the field that may be a JSON object of strings, or -1
}

func newFieldSet(names []string, amounts []string, detail string) *fieldSet {
	if len(names) > 64 {
		panic("exchange: more than 64 fields") // nextJSON's mask of the fields seen
	}
	fs := &fieldSet{names: names, index: map[string]int{}, amount: make([]bool, len(names)), detail: -1}
	for i, n := range names {
		fs.index[n] = i
	}
	for _, a := range amounts {
		fs.amount[fs.index[a]] = true
	}
	if detail != "" {
		fs.detail = fs.index[detail]
	}
	return fs
}

// lookup finds a field by name, ignoring ASCII letter case, without allocating.
func (fs *fieldSet) lookup(name []byte) int {
	if i, ok := fs.index[string(name)]; ok {
		return i
	}
	var low [64]byte
	if len(name) > len(low) {
		return -1
	}
	for i, c := range name {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		low[i] = c
	}
	if i, ok := fs.index[string(low[:len(name)])]; ok {
		return i
	}
	return -1
}

// maxUnknownKeys bounds the distinct unknown JSON keys remembered per file (each is
// warned about once), so that memory stays constant on hostile input.
const maxUnknownKeys = 64

// rowSource reads the rows of one exchange file, CSV or JSON Lines, into one value per
// known field. Values are trimmed views into the text, valid until the next call.
type rowSource struct {
	name     string
	format   Format
	fs       *fieldSet
	t        textBuf
	csv      csvScanner
	gz       *gzip.Reader
	cols     []int  // CSV: the known field of each column, -1 when unknown
	hasCol   []bool // CSV: which known fields have a column
	vals     [][]byte
	line     int64 // where the current row starts
	lineNo   int64 // JSONL: lines consumed
	rows     int64 // data rows read (good or bad)
	warnings []Warning
	warned   map[string]int // row warnings by field, kept or not (maxWarnings)
	unknown  map[string]struct{}
	jo       jsonObj
	detail   []byte // JSONL: a detail object rewritten as key=value;…
	err      error  // sticky: io.EOF or the error that ended the file
}

// open prepares a row source over r: gzip, encoding, byte-order mark, CSV header.
func (s *rowSource) open(name string, r io.Reader, format Format, gz bool, opt Options, fs *fieldSet) error {
	s.name, s.format, s.fs = name, format, fs
	s.vals = make([][]byte, len(fs.names))
	forced, err := encodingOption(opt.Encoding)
	if err != nil {
		return silentcert.Errorf(silentcert.EInvalid, "%s: %v", name, err)
	}
	if gz {
		// The decompressor reads a byte at a time: through a large buffer, so that a
		// system call brings 64 KiB, not the 4 KiB of the buffer it would add itself.
		if _, ok := r.(io.ByteReader); !ok {
			r = bufio.NewReaderSize(r, 64<<10)
		}
		zr, err := gzip.NewReader(r)
		if err != nil {
			return silentcert.Errorf(silentcert.EInvalid, "%s: not a readable gzip file: %w", name, err)
		}
		s.gz = zr
		r = zr
		if opt.MaxDecompressed > 0 {
			r = NewCapped(zr, opt.MaxDecompressed, &TooLargeError{Limit: opt.MaxDecompressed})
		}
	}
	s.t.initText(r, forced)
	s.csv.t = &s.t
	if s.t.overruled != "" {
		s.warnings = append(s.warnings, Warning{File: s.name, Message: fmt.Sprintf(
			"the file is UTF-8 (valid UTF-8 holding Chinese text, or a UTF-8 byte-order mark): read as UTF-8, the forced encoding %s not applied to it", s.t.overruled)})
	}
	// A byte-order mark (U+FEFF, whatever the encoding wrote it as) is not text.
	for len(s.t.window()) < 3 && s.t.more() {
	}
	if bytes.HasPrefix(s.t.window(), utf8BOM) {
		s.t.consume(3)
	}
	if format == FormatCSV {
		return s.header()
	}
	return nil
}

// TooLargeError is the error of a gzip file that unpacks past Options.MaxDecompressed.
type TooLargeError struct{ Limit int64 }

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("decompressed, the file is larger than the limit of %d bytes", e.Limit)
}

// Capped reads a stream and ends it with an error once it has given more than its cap: a
// gzip file unpacking past Options.MaxDecompressed, an API body past its limit.
type Capped struct {
	r    io.Reader
	left int64
	err  error
	over bool
}

// NewCapped returns r capped at n bytes; a read past them returns err.
func NewCapped(r io.Reader, n int64, err error) *Capped { return &Capped{r: r, left: n, err: err} }

// Over tells whether the stream held more than the cap.
func (c *Capped) Over() bool { return c.over }

func (c *Capped) Read(p []byte) (int, error) {
	if c.left <= 0 {
		// Exactly at the cap is within it: only a byte more is too much (the end of the
		// stream may come in a read of its own).
		var one [1]byte
		n, err := io.ReadFull(c.r, one[:])
		if n == 0 && (err == io.EOF || err == io.ErrUnexpectedEOF) {
			return 0, io.EOF
		}
		if n == 0 && err != nil {
			return 0, err
		}
		c.over = true
		return 0, c.err
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

// header reads and maps the CSV header row.
func (s *rowSource) header() error {
	st, _ := s.csv.next()
	switch st {
	case scanEOF:
		s.err = io.EOF
		s.warnings = append(s.warnings, Warning{File: s.name, Message: "empty file: no header row, no rows", Header: true})
		return nil
	case scanErr:
		return s.readError()
	}
	if err := s.headShape(); err != nil {
		return err
	}
	if st == scanBadQuote || st == scanTooLong {
		return silentcert.Errorf(silentcert.EInvalid, "%s: line %d: the header row is malformed", s.name, s.csv.start)
	}
	if !s.csv.valid() {
		return silentcert.Errorf(silentcert.EInvalid, "%s: line %d: the header row is not valid %s", s.name, s.csv.start, s.t.enc)
	}
	s.csv.finish()
	for i := range s.csv.spans {
		if bytes.IndexByte(s.csv.field(i), '\r') >= 0 {
			return s.crError()
		}
	}
	s.cols = make([]int, len(s.csv.spans))
	s.hasCol = make([]bool, len(s.fs.names))
	for i := range s.csv.spans {
		name := trimSpace(s.csv.field(i))
		k := s.fs.lookup(name)
		s.cols[i] = k
		if k < 0 {
			s.warnings = append(s.warnings, Warning{File: s.name, Line: s.csv.start, Field: clip(string(name)),
				Message: fmt.Sprintf("unknown column %s ignored", quoteClip(name)), Header: true})
			continue
		}
		if s.hasCol[k] {
			return silentcert.Errorf(silentcert.EInvalid, "%s: line %d: column %s appears twice", s.name, s.csv.start, s.fs.names[k])
		}
		s.hasCol[k] = true
	}
	return nil
}

// headShape refuses, naming the cause, a file whose head is UTF-16 (Excel's "Unicode
// text", tab-separated besides) or whose lines end in CR alone (read as one long header
// row, or one long JSON line, every row of it would vanish).
func (s *rowSource) headShape() error {
	switch {
	case s.t.utf16:
		return silentcert.Errorf(silentcert.EInvalid, "%s: line 1: the file is UTF-16 text (Excel's \"Unicode text\"?), not UTF-8 or GBK: save it as \"CSV UTF-8\"", s.name)
	case s.t.crOnly:
		return s.crError()
	}
	return nil
}

func (s *rowSource) crError() error {
	return silentcert.Errorf(silentcert.EInvalid, "%s: line 1: the header row holds a carriage return (lines ended by CR alone?): save the file with LF or CR LF line ends", s.name)
}

// requireColumns returns a file-level error naming the first missing column (see
// missingColumn).
func (s *rowSource) requireColumns(need ...string) error {
	if n := s.missingColumn(need...); n != "" {
		return silentcert.Errorf(silentcert.EInvalid, "%s: line %d: required column %s is missing from the header", s.name, s.csv.start, n)
	}
	return nil
}

// missingColumn returns the first of the columns needed that a CSV file's header lacks
// ("" when it has them all, and for JSON Lines). Each entry is a field name or "a|b" for
// "a or b" (returned as "a or b").
func (s *rowSource) missingColumn(need ...string) string {
	if s.format != FormatCSV || s.cols == nil {
		return ""
	}
	for _, n := range need {
		found := false
		for _, alt := range strings.Split(n, "|") {
			if s.hasCol[s.fs.index[alt]] {
				found = true
			}
		}
		if !found {
			return strings.ReplaceAll(n, "|", " or ")
		}
	}
	return ""
}

// headerWarn puts a warning about the header (a required column missing) first among
// the file's warnings, before those of the columns it does not know: the cause of every
// row quarantined comes before what merely was ignored. It carries the header's line;
// its message names neither the file nor the line, which Warning.String prefixes.
func (s *rowSource) headerWarn(at int, field, msg string) {
	s.warnings = slices.Insert(s.warnings, at, Warning{File: s.name, Line: s.csv.start, Field: field, Message: msg, Header: true})
}

// close releases the gzip reader.
func (s *rowSource) close() error {
	if s.gz != nil {
		return s.gz.Close()
	}
	return nil
}

func (s *rowSource) problem(field, reason, msg string) *Problem {
	return &Problem{File: s.name, Line: s.line, Field: field, Reason: reason, Message: msg}
}

func (s *rowSource) warn(field, msg string) {
	if s.warned == nil {
		s.warned = map[string]int{}
	}
	if s.warned[field]++; s.warned[field] > maxWarnings {
		return // counted: allWarnings says how many more
	}
	s.warnings = append(s.warnings, Warning{File: s.name, Line: s.line, Field: field, Message: msg})
}

// maxWarnings caps the row warnings of one field kept for one file: a file whose every
// row warns alike (a department's malformed region on each of a million rows) must not
// fill the memory with them.
const maxWarnings = 1000

// allWarnings returns the warnings kept, then, for each field past the cap (in field
// order), one saying how many more there were.
func (s *rowSource) allWarnings() []Warning {
	var fields []string
	for f, n := range s.warned {
		if n > maxWarnings {
			fields = append(fields, f)
		}
	}
	if len(fields) == 0 {
		return s.warnings
	}
	sort.Strings(fields)
	out := slices.Clone(s.warnings)
	for _, f := range fields {
		out = append(out, Warning{File: s.name, Field: f,
			Message: fmt.Sprintf("%d more warnings of this field in this file, not listed (the first %d are)", s.warned[f]-maxWarnings, maxWarnings)})
	}
	return out
}

// readError wraps the error that stopped reading, naming the file and where.
func (s *rowSource) readError() error {
	err := s.t.err
	line := s.csv.line + 1
	if s.format == FormatJSONL {
		line = s.lineNo + 1
	}
	var ce flate.CorruptInputError
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) || errors.As(err, &ce) {
		return silentcert.Errorf(silentcert.EInvalid, "%s: truncated or corrupt gzip data near line %d (rows before it were read): %w", s.name, line, err)
	}
	return silentcert.Errorf(silentcert.EInternal, "%s: reading near line %d: %w", s.name, line, err)
}

// next reads the next row into vals. It returns a problem for a row to quarantine, or
// io.EOF, or the error that ended the file.
func (s *rowSource) next() (*Problem, error) {
	p, err := s.nextRow()
	// A CSV row is looked at whole (one fast scan); JSON's values, which escapes decode
	// into, one by one.
	if p == nil && err == nil && (s.format == FormatJSONL || bytes.IndexByte(s.csv.row, 0) >= 0) {
		// A NUL is valid UTF-8 and valid JSON ("\u0000"), but no text column of
		// PostgreSQL keeps it: one would fail the whole batch there.
		for k, v := range s.vals {
			if bytes.IndexByte(v, 0) >= 0 {
				return s.problem(s.fs.names[k], ReasonMalformed, s.fs.names[k]+" holds a NUL character (0x00)"), nil
			}
		}
	}
	return p, err
}

// nextRow is next without the check of the values.
func (s *rowSource) nextRow() (*Problem, error) {
	if s.err != nil {
		return nil, s.err
	}
	if s.format == FormatJSONL {
		clear(s.vals)
		return s.nextJSON()
	}
	// CSV needs no clearing: every known column is set on every good row, and a field
	// without a column stays nil.
	st, bad := s.csv.next()
	s.line = s.csv.start
	switch st {
	case scanEOF:
		s.err = io.EOF
		return nil, s.err
	case scanErr:
		s.err = s.readError()
		return nil, s.err
	case scanBadQuote, scanTooLong:
		s.rows++
		if !s.t.valid(s.csv.row) {
			return s.problem("", ReasonEncoding, s.t.invalid("row", s.csv.row)), nil
		}
		if st == scanTooLong {
			return s.problem("", ReasonMalformed, errTooLong.Error()), nil
		}
		return s.problem(s.colName(bad), ReasonMalformed, "bad quoting (a quote inside an unquoted field, text after a closing quote, or a quote never closed)"), nil
	}
	s.rows++
	if !s.csv.valid() {
		return s.problem("", ReasonEncoding, s.t.invalid("row", s.csv.row)), nil
	}
	s.csv.finish()
	if len(s.csv.spans) != len(s.cols) {
		return s.problem("", ReasonMalformed, fmt.Sprintf("the row has %d fields, the header %d", len(s.csv.spans), len(s.cols))), nil
	}
	row, vals := s.csv.row, s.vals
	for i, sp := range s.csv.spans {
		if k := s.cols[i]; k >= 0 {
			vals[k] = trimSpace(row[sp.s:sp.e])
		}
	}
	return nil, nil
}

// colName names CSV column i for a problem: its known field, or its position.
func (s *rowSource) colName(i int) string {
	if i >= 0 && i < len(s.cols) {
		if k := s.cols[i]; k >= 0 {
			return s.fs.names[k]
		}
	}
	return "column " + strconv.Itoa(i+1)
}

// nextLine returns the next non-blank physical line (without its line end).
func (s *rowSource) nextLine() (line []byte, tooLong bool, err error) {
	t := &s.t
	for {
		b := t.window()
		k := bytes.IndexByte(b, '\n')
		if k < 0 {
			if t.more() {
				continue
			}
			switch {
			case t.done():
				if len(b) == 0 {
					return nil, false, io.EOF
				}
				k = len(b)
			case t.err != nil:
				return nil, false, s.readError()
			default: // full
				s.line = s.lineNo + 1
				if t.discardLine() {
					s.lineNo++
				}
				return nil, true, nil
			}
		}
		line = b[:k]
		t.consume(min(k+1, len(b)))
		s.lineNo++
		s.line = s.lineNo
		if k >= maxRowBytes {
			// The line and its end do not fit in maxRowBytes: too long however the reads
			// fell (a window that filled before its end was refused above), as for CSV.
			return nil, true, nil
		}
		if len(trimSpace(line)) == 0 {
			continue
		}
		return bytes.TrimSuffix(line, []byte{'\r'}), false, nil
	}
}

func (s *rowSource) nextJSON() (*Problem, error) {
	line, tooLong, err := s.nextLine()
	if err != nil {
		s.err = err
		return nil, err
	}
	s.rows++
	if s.rows == 1 {
		if err := s.headShape(); err != nil {
			s.err = err
			return nil, err
		}
	}
	if tooLong {
		return s.problem("", ReasonMalformed, errTooLong.Error()), nil
	}
	if !s.t.valid(line) {
		return s.problem("", ReasonEncoding, s.t.invalid("line", line)), nil
	}
	if err := s.jo.open(line); err != nil {
		return s.problem("", ReasonMalformed, err.Error()), nil
	}
	var seen uint64 // the fields given so far (fewer than 64)
	for {
		key, kind, val, done, err := s.jo.next()
		if err != nil {
			field := ""
			if key != nil {
				if k := s.fs.lookup(key); k >= 0 {
					field = s.fs.names[k]
				}
			}
			return s.problem(field, ReasonMalformed, err.Error()), nil
		}
		if done {
			return nil, nil
		}
		k := s.fs.lookup(key)
		if k < 0 {
			s.unknownKey(key)
			continue
		}
		if seen&(1<<k) != 0 {
			// Which one the department meant is not ours to guess (the last silently won).
			return s.problem(s.fs.names[k], ReasonMalformed, fmt.Sprintf("%s is given twice", s.fs.names[k])), nil
		}
		seen |= 1 << k
		switch {
		case kind == jString:
			s.vals[k] = trimSpace(val)
		case kind == jNull:
			s.vals[k] = nil
		case kind == jNumber && s.fs.amount[k]:
			s.vals[k] = val
		case kind == jObject && k == s.fs.detail:
			if p := s.detailObject(val); p != nil {
				return p, nil
			}
			s.vals[k] = s.detail
		default:
			what := "a string"
			if s.fs.amount[k] {
				what = "a string or a number"
			} else if k == s.fs.detail {
				what = "a string or an object of strings"
			}
			return s.problem(s.fs.names[k], ReasonMalformed, s.fs.names[k]+" must be "+what), nil
		}
	}
}

func (s *rowSource) unknownKey(key []byte) {
	if _, seen := s.unknown[string(key)]; seen || len(s.unknown) >= maxUnknownKeys {
		return
	}
	if s.unknown == nil {
		s.unknown = map[string]struct{}{}
	}
	s.unknown[string(key)] = struct{}{}
	s.warn(clip(string(key)), fmt.Sprintf("unknown field %s ignored", quoteClip(key)))
}

// detailObject rewrites a JSON detail object of strings as key=value;… in s.detail.
func (s *rowSource) detailObject(obj []byte) *Problem {
	s.detail = s.detail[:0]
	var o jsonObj
	if err := o.open(obj); err != nil {
		return s.problem("detail", ReasonMalformed, err.Error())
	}
	for {
		key, kind, val, done, err := o.next()
		if err != nil {
			return s.problem("detail", ReasonMalformed, err.Error())
		}
		if done {
			return nil
		}
		// As in the text form (parseDetail): a bad part is dropped with a warning, unless
		// it is a review's accept or ref, without which the review decides nothing.
		k := detailKey(trimSpace(key))
		essential := k == keyAccept || k == keyRef
		if kind != jString && !(kind == jNumber && string(key) == "amount") {
			switch {
			case essential:
				return s.problem("detail", ReasonMalformed, "detail must be a string or an object of strings")
			case k == keyCritical:
				// Its JSON text (1 is 1; true, an object, is read as critical with
				// parseDetail's warning: fail safe).
				if len(val) == 0 || bytes.ContainsAny(val, ";=") {
					val = []byte("?")
				}
			default:
				s.warn("detail", fmt.Sprintf("detail %s is not a string: ignored", quoteClip(key)))
				continue
			}
		}
		if bytes.ContainsAny(key, "=;") || bytes.ContainsAny(val, "=;") {
			if essential {
				return s.problem("detail", ReasonBadDetail, "a detail key or value holds '=' or ';'")
			}
			s.warn("detail", fmt.Sprintf("detail %s holds '=' or ';': ignored", quoteClip(key)))
			continue
		}
		if len(s.detail) > 0 {
			s.detail = append(s.detail, ';')
		}
		s.detail = append(s.detail, trimSpace(key)...)
		s.detail = append(s.detail, '=')
		s.detail = append(s.detail, trimSpace(val)...)
	}
}

// clip shortens s for a message.
func clip(s string) string {
	if len(s) <= 40 {
		return s
	}
	i := 40
	for i > 0 && s[i]&0xC0 == 0x80 {
		i--
	}
	return s[:i] + "…"
}

func quoteClip(b []byte) string { return strconv.Quote(clip(string(b))) }

// trimSpace is bytes.TrimSpace without its slow path for values that merely start or end
// with a non-ASCII character (most Chinese names): only the lead bytes of Unicode white
// space send it to the general rule. Its first test is small enough to be inlined.
func trimSpace(b []byte) []byte {
	if len(b) == 0 || (b[0] > ' ' && b[0] < utf8.RuneSelf && b[len(b)-1] > ' ' && b[len(b)-1] < utf8.RuneSelf) {
		return b
	}
	return trimSpaceSlow(b)
}

func trimSpaceSlow(b []byte) []byte {
	for len(b) > 0 {
		c := b[0]
		if c < utf8.RuneSelf {
			if asciiSpace[c] == 0 {
				break
			}
			b = b[1:]
			continue
		}
		if c != 0xC2 && c != 0xE1 && c != 0xE2 && c != 0xE3 {
			break
		}
		r, n := utf8.DecodeRune(b)
		if !unicode.IsSpace(r) {
			break
		}
		b = b[n:]
	}
	for len(b) > 0 {
		c := b[len(b)-1]
		if c < utf8.RuneSelf {
			if asciiSpace[c] == 0 {
				break
			}
			b = b[:len(b)-1]
			continue
		}
		// Final bytes of U+0085, U+00A0, U+1680, U+2000–U+200A, U+2028, U+2029, U+202F,
		// U+205F and U+3000.
		if !(c >= 0x80 && c <= 0x8A) && c != 0xA0 && c != 0xA8 && c != 0xA9 && c != 0xAF && c != 0x9F {
			break
		}
		// A three-byte character led by E4–EF (most of CJK) is none of those, whose
		// three-byte forms are led by E1, E2 or E3.
		if n := len(b); n >= 3 && b[n-3] >= 0xE4 && b[n-3] <= 0xEF && b[n-2]&0xC0 == 0x80 {
			break
		}
		r, n := utf8.DecodeLastRune(b)
		if !unicode.IsSpace(r) {
			break
		}
		b = b[:len(b)-n]
	}
	return b
}

var asciiSpace = [utf8.RuneSelf]uint8{'\t': 1, '\n': 1, '\v': 1, '\f': 1, '\r': 1, ' ': 1}
