package service

import (
	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/exchange"
)

// Row is one record read, with where it came from, as ingestion needs it. A large batch
// holds every row until it commits, so a row is kept compactly: its strings are one
// string cut by offsets (as an sc.Record with its strings apart, a row took about 290
// bytes, over half of a large batch's memory), its file a name shared by the file's rows,
// and of its detail only what applying reads (the stored form is the raw detail).
type Row struct {
	end  [rowStrings - 1]uint32 // where each string but the last ends in text
	seq  int32
	text string  // the row's strings, in rowField order, one after another
	file *string // the file's name, one for all its rows
	Line int64

	BirthDate, EventDate, ReportedDate sc.Date // NoDate when absent
	Type                               sc.TypeID
	Critical                           bool // detail critical=1
}

// The strings of a row, in their order in Row.text.
const (
	fRecordID = iota
	fSource
	fPersonID
	fName
	fRegion
	fRawDetail
	fAccept // detail accept= (RESOLVE)
	fRef    // detail ref= (RESOLVE)
	rowStrings
)

func (r *Row) str(i int) string {
	lo, hi := uint32(0), uint32(len(r.text))
	if i > 0 {
		lo = r.end[i-1]
	}
	if i < len(r.end) {
		hi = r.end[i]
	}
	return r.text[lo:hi]
}

func (r *Row) RecordID() string  { return r.str(fRecordID) }
func (r *Row) Source() string    { return r.str(fSource) }
func (r *Row) PersonID() string  { return r.str(fPersonID) }
func (r *Row) Name() string      { return r.str(fName) }
func (r *Row) RawDetail() string { return r.str(fRawDetail) }
func (r *Row) Accept() string    { return r.str(fAccept) }
func (r *Row) Ref() string       { return r.str(fRef) }

// RegionCode is a substring of the row's text: what keeps it past the batch (a person's
// record, on a move) keeps a copy.
func (r *Row) RegionCode() string { return r.str(fRegion) }

// File names the row's file ("" when none was given).
func (r *Row) File() string {
	if r.file == nil {
		return ""
	}
	return *r.file
}

// setStrings sets the row's text to strs, one allocation, using buf (returned, to be
// reused) to join them.
func setStrings[S ~string | ~[]byte](r *Row, strs *[rowStrings]S, buf []byte) []byte {
	buf = buf[:0]
	for i, s := range strs {
		buf = append(buf, s...)
		if i < len(r.end) {
			r.end[i] = uint32(len(buf))
		}
	}
	r.text = string(buf)
	return buf
}

// rowOfRecord is the row of a record read from file (a name its rows share) at line;
// buf as setStrings's.
func rowOfRecord(rr *exchange.RecordRow, file *string, buf []byte) (Row, []byte) {
	r := Row{file: file, Line: rr.Line, BirthDate: rr.BirthDate, EventDate: rr.EventDate, ReportedDate: rr.ReportedDate,
		Type: rr.Type, Critical: rr.Detail.Critical}
	buf = setStrings(&r, &[rowStrings][]byte{rr.RecordID, rr.Source, rr.PersonID, rr.Name, rr.RegionCode, rr.RawDetail,
		[]byte(rr.Detail.Accept), []byte(rr.Detail.Ref)}, buf)
	return r, buf
}

// rowOf is rec's row, read from file at line.
func rowOf(rec *sc.Record, file *string, line int64) Row {
	r := Row{file: file, Line: line, BirthDate: rec.BirthDate, EventDate: rec.EventDate, ReportedDate: rec.ReportedDate,
		Type: rec.Type, Critical: rec.Detail.Critical}
	setStrings(&r, &[rowStrings]string{rec.RecordID, rec.Source, rec.PersonID, rec.Name, rec.RegionCode, rec.RawDetail,
		rec.Detail.Accept, rec.Detail.Ref}, nil)
	return r
}
