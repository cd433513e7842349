package exchange

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"

	"github.com/silentcert/silentcert"
)

// The fields of a record file (spec §3), in the order rows are checked.
const (
	rRecordID = iota
	rSource
	rType
	rPersonID
	rName
	rBirthDate
	rEventDate
	rReportedDate
	rRegionCode
	rDetail
)

var recordFields = newFieldSet([]string{"record_id", "source", "type", "person_id", "name", "birth_date",
	"event_date", "reported_date", "region_code", "detail"}, nil, "detail")

// RecordRow is one validated record row (spec §3). Its byte slices are views into the
// reader's buffer, valid until the next call of Next: copy what you keep.
type RecordRow struct {
	File string
	Line int64 // 1-based physical line where the row starts (JSON Lines: its line)

	RecordID, Source []byte
	PersonID         []byte // as given, trimmed, possibly invalid: linkage decides
	Name             []byte
	RegionCode       []byte
	RawDetail        []byte // the detail as key=value;… (a JSON object is rewritten so)

	Type                               silentcert.TypeID
	BirthDate, EventDate, ReportedDate silentcert.Date // NoDate when absent
	Detail                             silentcert.Detail
}

// Record returns the row as a silentcert.Record, copying every value it keeps.
func (r *RecordRow) Record() silentcert.Record {
	return silentcert.Record{
		RecordID: string(r.RecordID), Source: string(r.Source), Type: r.Type,
		PersonID: string(r.PersonID), Name: string(r.Name), BirthDate: r.BirthDate,
		EventDate: r.EventDate, ReportedDate: r.ReportedDate, RegionCode: string(r.RegionCode),
		Detail: r.Detail, RawDetail: string(r.RawDetail),
	}
}

// RecordReader reads and validates one record file, row by row, in constant memory. Bad
// rows come back as Problems to quarantine; the rest of the file keeps loading.
type RecordReader struct {
	src    rowSource
	cat    *silentcert.Catalogue
	row    RecordRow
	file   *os.File
	intern map[string]string // detail icd10 codes seen, so that a row does not allocate
	// One memo per date field: rows of one file repeat their dates (a day's export has one
	// reported_date), and a repeated date is a 10-byte compare instead of a parse.
	eventMemo, reportedMemo, birthMemo dateMemo
	// types caches catalogue lookups: a file holds few types, and a hit is one compare
	// where the catalogue's map hashes the code.
	types [64]typeSlot
}

type typeSlot struct {
	code string
	id   silentcert.TypeID
}

// lookupType finds a type code in the catalogue through the cache.
func (r *RecordReader) lookupType(code []byte) (silentcert.TypeID, bool) {
	if len(code) == 0 {
		return 0, false
	}
	h := (uint(len(code))*31 + uint(code[len(code)-1])*7 + uint(code[len(code)/2])) & 63
	if sl := &r.types[h]; sl.code == string(code) && sl.code != "" {
		return sl.id, true
	}
	id, ok := r.cat.LookupBytes(code)
	if ok {
		r.types[h] = typeSlot{code: r.cat.Type(id).Code, id: id}
	}
	return id, ok
}

// dateMemo parses dates as silentcert.ParseDateTimeBytes does, remembering the months it
// has met: the dates of one file fall in a few months, and a date of a known month is its
// first day plus the day number, without calendar arithmetic. A datetime is its date
// plus the day its time and offset move it by, parsed here for the same reason.
type dateMemo struct {
	months [16]monthSlot
}

// monthSlot is a month met: the first 8 bytes of its dates ("YYYY-MM-") as a
// little-endian number (never 0), its first day and its number of days.
type monthSlot struct {
	key   uint64
	first silentcert.Date
	dim   int
}

func (m *dateMemo) parse(b []byte) (silentcert.Date, bool) {
	switch {
	case len(b) == 10:
		return m.date(b)
	case len(b) >= 19:
		// ParseDateTimeBytes's result is the date of b[:10] moved by what b[10:] says,
		// and it is valid when both parts are.
		shift, ok := silentcert.DateTimeShift(b[10:])
		if !ok {
			return silentcert.NoDate, false
		}
		d, ok := m.date(b[:10])
		if !ok {
			return silentcert.NoDate, false
		}
		return d + silentcert.Date(shift), true
	}
	return silentcert.ParseDateTimeBytes(b)
}

// date parses a YYYY-MM-DD of 10 bytes.
func (m *dateMemo) date(b []byte) (silentcert.Date, bool) {
	key := binary.LittleEndian.Uint64(b)
	// The year's last digit and the month pick the slot: sixteen months in a row have
	// sixteen slots.
	sl := &m.months[(int(b[3]&15)*12+int(b[5]&1)*10+int(b[6]&15))&15]
	if sl.key == key {
		// The first 8 bytes are those of a valid date: this one is valid when its day is
		// two digits naming a day of the month.
		d1, d2 := b[8], b[9]
		if d1 >= '0' && d1 <= '9' && d2 >= '0' && d2 <= '9' {
			if day := int(d1-'0')*10 + int(d2-'0'); day >= 1 && day <= sl.dim {
				return sl.first + silentcert.Date(day-1), true
			}
		}
		return silentcert.NoDate, false
	}
	d, ok := silentcert.ParseDateBytes(b)
	if ok {
		y, mo, day := d.Civil()
		*sl = monthSlot{key: key, first: d - silentcert.Date(day-1), dim: silentcert.DaysIn(y, mo)}
	}
	return d, ok
}

// dateForms names the dates and datetimes a record's dates may be written in (spec §1,
// silentcert.ParseDateTimeBytes), for the message of a bad_date.
const dateForms = "YYYY-MM-DD, or YYYY-MM-DDTHH:MM:SS with an optional .fraction and an optional offset: Z, ±HH:MM, ±HHMM or ±HH"

// maxInterned bounds the icd10 codes a reader keeps for reuse.
const maxInterned = 1 << 14

// OpenRecords opens a record file, taking its format from its extension (FormatOf). The
// file name in problems and warnings is path as given.
func OpenRecords(path string, cat *silentcert.Catalogue, opt Options) (*RecordReader, error) {
	format, gz, ok := FormatOf(path)
	if !ok {
		return nil, silentcert.Errorf(silentcert.EInvalid, "%s: not a record file (.csv or .jsonl, optionally .gz)", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, silentcert.Errorf(silentcert.EInvalid, "%w", err)
	}
	r, err := NewRecordReader(path, f, format, gz, cat, opt)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.file = f
	return r, nil
}

// NewRecordReader reads records from r; name is the file name problems carry. It reads
// the start of the file at once (to settle the encoding and, for CSV, the header) and
// fails when the header is unreadable. A required column missing from the header is a
// warning naming it, and each row is quarantined missing_field as spec §3 says of a
// record without a required value (as a JSON Lines row without the key is).
func NewRecordReader(name string, r io.Reader, format Format, gz bool, cat *silentcert.Catalogue, opt Options) (*RecordReader, error) {
	if cat == nil {
		cat = silentcert.DefaultCatalogue()
	}
	rr := &RecordReader{cat: cat, intern: map[string]string{}}
	if err := rr.src.open(name, r, format, gz, opt, recordFields); err != nil {
		rr.src.close()
		return nil, err
	}
	at := 0
	if n := rr.src.missingColumn("record_id", "source", "type", "event_date"); n != "" {
		rr.src.headerWarn(at, "", "required column "+n+" is missing from the header: every row is quarantined (missing_field)")
		at++
	}
	if rr.src.cols != nil && !rr.src.hasCol[rPersonID] && !(rr.src.hasCol[rName] && rr.src.hasCol[rBirthDate]) {
		rr.src.headerWarn(at, "person_id", "required column person_id (or both name and birth_date) is missing from the header: every row is quarantined (missing_field)")
	}
	return rr, nil
}

// Encoding returns the encoding the file is read in: "utf-8", "gbk" or "gb18030".
func (r *RecordReader) Encoding() string { return r.src.t.enc }

// Warnings returns what the reader noticed without rejecting a row (unknown columns).
func (r *RecordReader) Warnings() []Warning { return r.src.allWarnings() }

// Rows returns the number of data rows read so far, good or quarantined.
func (r *RecordReader) Rows() int64 { return r.src.rows }

// Close releases the file (when OpenRecords opened it) and the decompressor.
func (r *RecordReader) Close() error {
	err := r.src.close()
	if r.file != nil {
		if e := r.file.Close(); err == nil {
			err = e
		}
		r.file = nil
	}
	return err
}

// Next returns the next good row; or a Problem for a row to quarantine (row nil); or io.EOF
// at the end; or another error when the file itself cannot be read further (a truncated
// gzip stream, say), after which every row returned before stays valid and Next returns
// the same error again. It does not allocate for a good row.
func (r *RecordReader) Next() (*RecordRow, *Problem, error) {
	p, err := r.src.next()
	if err != nil {
		return nil, nil, err
	}
	if p != nil {
		return nil, p, nil
	}
	if p := r.validate(); p != nil {
		return nil, p, nil
	}
	return &r.row, nil, nil
}

// validate checks the row in vals against spec §3 and fills r.row. The first rule broken
// names the problem, in this order: required values, type, dates, region, detail.
func (r *RecordReader) validate() *Problem {
	v := r.src.vals
	s := &r.src
	row := &r.row
	row.File, row.Line = s.name, s.line
	row.RecordID, row.Source, row.PersonID, row.Name = v[rRecordID], v[rSource], v[rPersonID], v[rName]
	row.RegionCode, row.RawDetail = v[rRegionCode], v[rDetail]
	row.Type = silentcert.NoType
	row.BirthDate, row.EventDate, row.ReportedDate = silentcert.NoDate, silentcert.NoDate, silentcert.NoDate
	if row.Detail != (silentcert.Detail{}) {
		row.Detail = silentcert.Detail{}
	}
	for _, f := range [...]int{rRecordID, rSource, rType, rEventDate} {
		if len(v[f]) == 0 {
			return s.problem(recordFields.names[f], ReasonMissingField, recordFields.names[f]+" is required")
		}
	}
	if len(v[rPersonID]) == 0 && (len(v[rName]) == 0 || len(v[rBirthDate]) == 0) {
		return s.problem("person_id", ReasonMissingField, "person_id is required unless both name and birth_date are given")
	}
	id, ok := r.lookupType(v[rType])
	if !ok {
		return s.problem("type", ReasonUnknownType, fmt.Sprintf("type %s is not in the catalogue", quoteClip(v[rType])))
	}
	if t := r.cat.Type(id); t.Source != string(v[rSource]) {
		return s.problem("type", ReasonTypeNotAllowed, fmt.Sprintf("type %s comes only from source %s, not %s", t.Code, t.Source, quoteClip(v[rSource])))
	}
	row.Type = id
	if row.EventDate, ok = r.eventMemo.parse(v[rEventDate]); !ok {
		return s.problem("event_date", ReasonBadDate, fmt.Sprintf("event_date %s is not a date (%s)", quoteClip(v[rEventDate]), dateForms))
	}
	if len(v[rReportedDate]) > 0 {
		if row.ReportedDate, ok = r.reportedMemo.parse(v[rReportedDate]); !ok {
			return s.problem("reported_date", ReasonBadDate, fmt.Sprintf("reported_date %s is not a date (%s)", quoteClip(v[rReportedDate]), dateForms))
		}
		if row.EventDate > row.ReportedDate {
			return s.problem("event_date", ReasonEventAfterReported, fmt.Sprintf("event_date %s is later than reported_date %s", row.EventDate, row.ReportedDate))
		}
	}
	if len(v[rBirthDate]) > 0 {
		if row.BirthDate, ok = r.birthMemo.parse(v[rBirthDate]); !ok {
			// The value is personal data: the message does not repeat it.
			return s.problem("birth_date", ReasonBadDate, "birth_date is not a date (YYYY-MM-DD)")
		}
	}
	if rc := v[rRegionCode]; len(rc) > 0 {
		switch moves := r.cat.Type(id).Moves; {
		case moves && !isDigits(rc, 12):
			// A move sets the person's registered village from it: anything but a village's
			// code would take them off every village's list and every scoped view.
			return s.problem("region_code", ReasonBadRegionCode, fmt.Sprintf("region_code %s of a move is not a village's 12-digit code", quoteClip(rc)))
		case len(rc) > 12 || !isDigits(rc, len(rc)):
			// Elsewhere it only narrows linkage and places a trace: the record (a death,
			// perhaps) is too important to lose for it. It is read without it.
			s.warn("region_code", fmt.Sprintf("region_code %s is not a division code (12 digits, or the first digits of one): read as absent", quoteClip(rc)))
			row.RegionCode = nil
		}
	}
	if len(v[rDetail]) > 0 {
		if msg := r.parseDetail(v[rDetail], &row.Detail, func(msg string) { s.warn("detail", msg) }); msg != "" {
			return s.problem("detail", ReasonBadDetail, msg)
		}
	}
	return nil
}

// parseDetail reads key=value pairs separated by ';' (spec §3). Keys are matched without
// regard to letter case, white space around keys and values is dropped, empty pairs are
// skipped, unknown keys are ignored. The detail is optional, and a record (a death, a
// release) is too important to lose for a note: a part that is not key=value (free text)
// or a known key with a bad value is dropped and warned of, and the record read without
// it. Only a review's accept and ref, without which it decides nothing, refuse the
// record: the message returned says why.
func (r *RecordReader) parseDetail(raw []byte, d *silentcert.Detail, warn func(string)) string {
	for len(raw) > 0 {
		pair := raw
		if k := bytes.IndexByte(raw, ';'); k >= 0 {
			pair, raw = raw[:k], raw[k+1:]
		} else {
			raw = nil
		}
		pair = trimSpace(pair)
		if len(pair) == 0 {
			continue
		}
		eq := bytes.IndexByte(pair, '=')
		if eq <= 0 {
			warn(fmt.Sprintf("detail part %s is not key=value: ignored", quoteClip(pair)))
			continue
		}
		key, val := trimSpace(pair[:eq]), trimSpace(pair[eq+1:])
		switch detailKey(key) {
		case keyICD10:
			if len(val) == 0 {
				warn("detail icd10 is empty: ignored")
				continue
			}
			d.ICD10 = r.internICD(val)
		case keyCritical, keyAgent:
			if len(val) != 1 || (val[0] != '0' && val[0] != '1') {
				if detailKey(key) == keyCritical {
					// Fail safe: a critical admission never certifies on its own (spec
					// §4: a dying patient's bill is settled by the family), and a flag
					// written another way (true, Y, 是) must not make it strong.
					warn(fmt.Sprintf("detail critical must be 0 or 1, not %s: read as 1", quoteClip(val)))
					d.Critical = true
					continue
				}
				warn(fmt.Sprintf("detail %s must be 0 or 1, not %s: ignored", key, quoteClip(val)))
				continue
			}
			if detailKey(key) == keyCritical {
				d.Critical = val[0] == '1'
			} else {
				d.Agent = val[0] == '1'
			}
		case keyCount:
			n := 0
			for _, c := range val {
				if c < '0' || c > '9' || n > 1_000_000 {
					n = -1
					break
				}
				n = n*10 + int(c-'0')
			}
			if n < 1 || n > 1_000_000 {
				warn(fmt.Sprintf("detail count must be a whole number from 1 to 1000000, not %s: ignored", quoteClip(val)))
				continue
			}
			d.Count = n
		case keyAmount:
			a, ok := silentcert.ParseYuanBytes(val)
			if !ok {
				warn(fmt.Sprintf("detail amount %s is not yuan (digits, optional . and one or two decimals): ignored", quoteClip(val)))
				continue
			}
			d.Amount, d.HasAmt = a, true
		case keyAccept:
			switch string(val) {
			case "death":
				d.Accept = "death"
			case "alive":
				d.Accept = "alive"
			default:
				return fmt.Sprintf("detail accept must be death or alive, not %s", quoteClip(val))
			}
		case keyRef:
			c := bytes.IndexByte(val, ':')
			if c <= 0 || c == len(val)-1 {
				return fmt.Sprintf("detail ref %s is not SOURCE:RECORD_ID", quoteClip(val))
			}
			d.Ref = string(val)
		}
	}
	return ""
}

// The known detail keys (spec §3).
const (
	keyUnknown = iota
	keyICD10
	keyCritical
	keyAgent
	keyCount
	keyAmount
	keyAccept
	keyRef
)

// detailKey names a detail key, ignoring ASCII letter case.
func detailKey(k []byte) int {
	var low [8]byte
	if len(k) > len(low) {
		return keyUnknown
	}
	for i, c := range k {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		low[i] = c
	}
	switch string(low[:len(k)]) {
	case "icd10":
		return keyICD10
	case "critical":
		return keyCritical
	case "agent":
		return keyAgent
	case "count":
		return keyCount
	case "amount":
		return keyAmount
	case "accept":
		return keyAccept
	case "ref":
		return keyRef
	}
	return keyUnknown
}

func (r *RecordReader) internICD(b []byte) string {
	if s, ok := r.intern[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(r.intern) < maxInterned {
		r.intern[s] = s
	}
	return s
}
