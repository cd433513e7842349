package exchange

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"

	"github.com/silentcert/silentcert"
	"golang.org/x/text/encoding/simplifiedchinese"
)

type readResult struct {
	rows     []silentcert.Record
	lines    []int64
	probs    []Problem
	err      error // the error that ended the file (not io.EOF)
	encoding string
	warnings []Warning
}

func readRecords(t testing.TB, name string, data []byte, format Format, gz bool, opt Options) readResult {
	t.Helper()
	r, err := NewRecordReader(name, bytes.NewReader(data), format, gz, silentcert.DefaultCatalogue(), opt)
	if err != nil {
		return readResult{err: err}
	}
	defer r.Close()
	var res readResult
	for {
		row, p, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			res.err = err
			break
		}
		if p != nil {
			res.probs = append(res.probs, *p)
			continue
		}
		res.rows = append(res.rows, row.Record())
		res.lines = append(res.lines, row.Line)
	}
	res.encoding = r.Encoding()
	res.warnings = r.Warnings()
	return res
}

const recHeader = "record_id,source,type,person_id,name,birth_date,event_date,reported_date,region_code,detail\n"

func TestRecordValidation(t *testing.T) {
	for _, c := range []struct {
		row           string
		field, reason string // "" = good
	}{
		{"r,MED,MED.OUTPATIENT,371001198010082394,,,2024-01-02,2024-01-03,,", "", ""},
		{"r,MED,MED.OUTPATIENT,,张三,1950-01-01,2024-01-02,,,", "", ""},     // name + birth instead of ID
		{"r,MED,MED.OUTPATIENT,123,,,2024-01-02,,,", "", ""},              // an invalid ID is linkage's business
		{"r,MED,MED.OUTPATIENT,1,,,2024-01-02T23:59:59+08:00,,,", "", ""}, // datetime
		{",MED,MED.OUTPATIENT,1,,,2024-01-02,,,", "record_id", ReasonMissingField},
		{"r, ,MED.OUTPATIENT,1,,,2024-01-02,,,", "source", ReasonMissingField},
		{"r,MED,,1,,,2024-01-02,,,", "type", ReasonMissingField},
		{"r,MED,MED.OUTPATIENT,1,,,,,,", "event_date", ReasonMissingField},
		{"r,MED,MED.OUTPATIENT,,张三,,2024-01-02,,,", "person_id", ReasonMissingField},
		{"r,MED,MED.OUTPATIENT,,,1950-01-01,2024-01-02,,,", "person_id", ReasonMissingField},
		{"r,MED,MED.NOPE,1,,,2024-01-02,,,", "type", ReasonUnknownType},
		{"r,med,MED.OUTPATIENT,1,,,2024-01-02,,,", "type", ReasonTypeNotAllowed},
		{"r,PSB,MED.OUTPATIENT,1,,,2024-01-02,,,", "type", ReasonTypeNotAllowed},
		{"r,MED,MED.OUTPATIENT,1,,,2024-02-30,,,", "event_date", ReasonBadDate},
		{"r,MED,MED.OUTPATIENT,1,,,2024/01/02,,,", "event_date", ReasonBadDate},
		{"r,MED,MED.OUTPATIENT,1,,,2024-01-02,20240103,,", "reported_date", ReasonBadDate},
		{"r,MED,MED.OUTPATIENT,1,,19500101,2024-01-02,,,", "birth_date", ReasonBadDate},
		{"r,MED,MED.OUTPATIENT,1,,,2024-01-03,2024-01-02,,", "event_date", ReasonEventAfterReported},
		{"r,MED,MED.OUTPATIENT,1,,,2024-01-02T16:00:00Z,2024-01-02,,", "event_date", ReasonEventAfterReported}, // 00:00 on the 3rd in Shanghai
		{"r,HRSS,HRSS.REVIEW,1,,,2024-01-02,,,accept=maybe", "detail", ReasonBadDetail},
		{"r,HRSS,HRSS.REVIEW,1,,,2024-01-02,,,accept=death;ref=PSB", "detail", ReasonBadDetail},
		{"r,MED,MED.OUTPATIENT,1,,,2024-01-02,,,", "", ""},
		{"r,MED,MED.OUTPATIENT,1,,,2024-01-02,,", "", ReasonMalformed},         // 9 fields
		{"r,MED,MED.OUTPATIENT,1,,,2024-01-02,,,,", "", ReasonMalformed},       // 11 fields
		{`r,MED,MED.OUTPATIENT,1,a"b,,2024-01-02,,,`, "name", ReasonMalformed}, // bare quote
		{"r,MED,MED.OUTPATIENT,1,\xff,,2024-01-02,,,", "", ReasonEncoding},
		{"\"r\xff\",MED,MED.OUTPATIENT,1,,,2024-01-02,,,", "", ReasonEncoding},          // in a quoted field before plain ones
		{"\"r\n\xe5\",MED,MED.OUTPATIENT,1,,,2024-01-02,,,", "", ReasonEncoding},        // on the first line of a multi-line row
		{"r,MED,MED.OUTPATIENT,1,张三丰张三丰张三丰\xe5\xbc,,2024-01-02,,,", "", ReasonEncoding}, // cut character (and not clean GBK either)
		{"r,MED,MED.OUTPATIENT,1,张三丰张三丰张三丰,,2024-01-02,,,", "", ""},
		{"r,MED,MED.OUTPATIENT,1,,,2024-01-02,,3710,", "", ""},                                      // a prefix
		{"r,PSB,PSB.HUKOU_MOVE,1,,,2024-01-02,,371002001001,", "", ""},                              // a village
		{"r,PSB,PSB.HUKOU_MOVE,1,,,2024-01-02,,x<b>,", "region_code", ReasonBadRegionCode},          // no division
		{"r,PSB,PSB.HUKOU_MOVE,1,,,2024-01-02,,37100200100:,", "region_code", ReasonBadRegionCode},  // beside a village in the ranges
		{"r,PSB,PSB.HUKOU_MOVE,1,,,2024-01-02,,3710020010011,", "region_code", ReasonBadRegionCode}, // 13 digits
		{"r,PSB,PSB.HUKOU_MOVE,1,,,2024-01-02,,３７１０,", "region_code", ReasonBadRegionCode},          // full-width digits
		{"r,MED,MED.OUTPATIENT,1,张\x00三,,2024-01-02,,,", "name", ReasonMalformed},                   // a NUL no PostgreSQL text keeps
		{"r,PSB,PSB.HUKOU_MOVE,1,,,2024-01-02,,3710,", "region_code", ReasonBadRegionCode},          // a move to no village
	} {
		res := readRecords(t, "t.csv", []byte(recHeader+c.row+"\n"), FormatCSV, false, Options{})
		if res.err != nil {
			t.Fatalf("%q: %v", c.row, res.err)
		}
		if c.reason == "" {
			if len(res.rows) != 1 || len(res.probs) != 0 {
				t.Errorf("%q: want a good row, got %+v", c.row, res.probs)
			}
			continue
		}
		if len(res.probs) != 1 || res.probs[0].Reason != c.reason || res.probs[0].Field != c.field || res.probs[0].Line != 2 || res.probs[0].File != "t.csv" {
			t.Errorf("%q: got %+v, want %s %s at line 2", c.row, res.probs, c.field, c.reason)
		}
	}
}

// TestDetailTolerated: the detail is optional (spec §3), so a record is not lost for a
// note: a part that is not key=value, or a known key with a bad value, is dropped with a
// warning naming the line, and the record read without it. A police death whose note
// column holds free text stops the payment.
func TestDetailTolerated(t *testing.T) {
	for _, c := range []struct {
		detail string
		check  func(d silentcert.Detail) bool
	}{
		{"死亡原因:病故", func(d silentcert.Detail) bool { return d == silentcert.Detail{} }},
		// A critical flag written another way is read as critical: it never certifies alone.
		{"critical=2;icd10=I21", func(d silentcert.Detail) bool { return d.Critical && d.ICD10 != "" }},
		{"critical=true", func(d silentcert.Detail) bool { return d.Critical }},
		{"critical=是", func(d silentcert.Detail) bool { return d.Critical }},
		{"critical=0", nil},
		{"agent=yes", func(d silentcert.Detail) bool { return !d.Agent }},
		{"count=0", func(d silentcert.Detail) bool { return d.Count == 0 }},
		{"count=-1;critical=1", func(d silentcert.Detail) bool { return d.Count == 0 && d.Critical }},
		{"amount=1.234", func(d silentcert.Detail) bool { return !d.HasAmt }},
		{"amount=-5", func(d silentcert.Detail) bool { return !d.HasAmt }},
		{"icd10", func(d silentcert.Detail) bool { return d.ICD10 == "" }},
		{"icd10=", func(d silentcert.Detail) bool { return d.ICD10 == "" }},
	} {
		row := "r,PSB,PSB.DEATH_DEREG,371001198010082394,,,2024-01-02,2024-01-03,,\"" + c.detail + "\""
		res := readRecords(t, "t.csv", []byte(recHeader+row+"\n"), FormatCSV, false, Options{})
		if res.err != nil || len(res.probs) != 0 || len(res.rows) != 1 {
			t.Errorf("%q: %v %+v %d rows: want the record kept", c.detail, res.err, res.probs, len(res.rows))
			continue
		}
		if c.check != nil && !c.check(res.rows[0].Detail) {
			t.Errorf("%q: read as %+v", c.detail, res.rows[0].Detail)
		}
		if c.check == nil {
			if len(res.warnings) != 0 || res.rows[0].Detail.Critical {
				t.Errorf("%q: %+v %+v", c.detail, res.rows[0].Detail, res.warnings)
			}
			continue
		}
		if len(res.warnings) != 1 || res.warnings[0].Field != "detail" || res.warnings[0].Line != 2 || res.warnings[0].File != "t.csv" {
			t.Errorf("%q: warnings %+v, want one on detail at t.csv line 2", c.detail, res.warnings)
		}
	}
	// A key given twice in one JSON line: which was meant is not guessed.
	res2 := readRecords(t, "d.jsonl", []byte(`{"record_id":"J15","source":"HEA","type":"HEA.CHECKUP","person_id":"1","event_date":"2024-01-02","Record_ID":"J16"}`+"\n"), FormatJSONL, false, Options{})
	if len(res2.rows) != 0 || len(res2.probs) != 1 || res2.probs[0].Field != "record_id" || res2.probs[0].Reason != ReasonMalformed {
		t.Errorf("a key twice: rows %+v problems %+v", res2.rows, res2.probs)
	}
	// In JSON Lines alike; a review's accept or ref that cannot be read still refuses it.
	data := `{"record_id":"d","source":"PSB","type":"PSB.DEATH_DEREG","person_id":"1","event_date":"2024-01-02","detail":{"note":"病故;在家","critical":1,"x":{"y":"z"}}}` + "\n" +
		`{"record_id":"v","source":"HRSS","type":"HRSS.REVIEW","person_id":"1","event_date":"2024-01-02","detail":{"accept":"death","ref":"PSB:a;b"}}` + "\n"
	res := readRecords(t, "j.jsonl", []byte(data), FormatJSONL, false, Options{})
	if res.err != nil || len(res.rows) != 1 || len(res.probs) != 1 || res.probs[0].Line != 2 || res.probs[0].Reason != ReasonBadDetail || len(res.warnings) != 2 || !res.rows[0].Detail.Critical {
		t.Fatalf("jsonl: %v rows %d problems %+v warnings %+v", res.err, len(res.rows), res.probs, res.warnings)
	}
}

func TestRecordFields(t *testing.T) {
	data := "\uFEFFRecord_ID, Source ,TYPE,person_id,NAME,birth_date,event_date,reported_date,region_code,detail,extra,more\r\n" +
		"r1,MED,MED.INPATIENT,37100119801008239x, 张三 ,1980-10-08,2024-01-02,2024-01-03,371001,\"critical=1; icd10 = I21 ;count=3;amount=12.5;agent=0;future=x\",e,m\r\n" +
		"\r\n" +
		"\"r\n2\",HRSS,HRSS.REVIEW,1,\"李\"\"四\",,2024-01-02T23:30:00Z,,,accept=alive;ref=MED:r1,e,m\r\n" +
		"r3,MED,MED.OUTPATIENT,1,,,2024-01-02,,,,e,m"
	res := readRecords(t, "f.csv", []byte(data), FormatCSV, false, Options{})
	if res.err != nil || len(res.probs) != 0 || len(res.rows) != 3 {
		t.Fatalf("%v %+v %d rows", res.err, res.probs, len(res.rows))
	}
	if res.lines[0] != 2 || res.lines[1] != 4 || res.lines[2] != 6 {
		t.Errorf("lines %v, want 2 4 6", res.lines)
	}
	r := res.rows[0]
	cat := silentcert.DefaultCatalogue()
	if r.RecordID != "r1" || r.Source != "MED" || cat.Type(r.Type).Code != "MED.INPATIENT" || r.PersonID != "37100119801008239x" ||
		r.Name != "张三" || r.BirthDate != silentcert.MustDate("1980-10-08") || r.EventDate != silentcert.MustDate("2024-01-02") ||
		r.ReportedDate != silentcert.MustDate("2024-01-03") || r.RegionCode != "371001" {
		t.Errorf("row 1 = %+v", r)
	}
	d := r.Detail
	if !d.Critical || d.ICD10 != "I21" || d.Count != 3 || d.Amount != 1250 || !d.HasAmt || d.Agent {
		t.Errorf("detail = %+v", d)
	}
	r = res.rows[1]
	if r.RecordID != "r\n2" || r.Name != `李"四` || r.EventDate != silentcert.MustDate("2024-01-03") || r.ReportedDate != silentcert.NoDate ||
		r.Detail.Accept != "alive" || r.Detail.Ref != "MED:r1" {
		t.Errorf("row 2 = %+v", r)
	}
	if len(res.warnings) != 2 || res.warnings[0].Field != "extra" || res.warnings[1].Field != "more" || res.warnings[0].Line != 1 {
		t.Errorf("warnings %+v, want one per unknown column", res.warnings)
	}
}

// TestRecordMissingColumn: a required column missing from the header is a warning naming
// it, and each row is quarantined missing_field with its line and field (spec §3), as a
// JSON Lines row without the key is; the file's other rows are counted read.
func TestRecordMissingColumn(t *testing.T) {
	for _, c := range []struct{ data, field string }{
		{"record_id,source,type,person_id\nr1,MED,MED.OUTPATIENT,1\nr2,MED,MED.OUTPATIENT,1\n", "event_date"},
		{"record_id,source,type,event_date,name\nr1,MED,MED.OUTPATIENT,2024-01-02,张三\nr2,MED,MED.OUTPATIENT,2024-01-02,李四\n", "person_id"},
	} {
		res := readRecords(t, "h.csv", []byte(c.data), FormatCSV, false, Options{})
		if res.err != nil || len(res.rows) != 0 || len(res.probs) != 2 {
			t.Fatalf("%q: %d rows, problems %+v, %v", c.data, len(res.rows), res.probs, res.err)
		}
		for i, p := range res.probs {
			if p.Field != c.field || p.Reason != ReasonMissingField || p.Line != int64(i+2) || p.File != "h.csv" {
				t.Errorf("%q: problem %+v", c.data, p)
			}
		}
		if len(res.warnings) != 1 || !strings.Contains(res.warnings[0].Message, c.field) || !strings.Contains(res.warnings[0].Message, "missing from the header") {
			t.Errorf("%q: warnings %+v", c.data, res.warnings)
		}
	}
}

// TestRecordHeaderWarnings: a file whose header is in Chinese names no required column.
// Its warnings name the file once ("dmg/hdr_zh.csv: dmg/hdr_zh.csv: line 1: …" printed it
// twice, the reader's text carrying the name and line Warning.String prefixes again), the
// required columns missing come first (the root cause of every row quarantined, before
// the unknown columns merely ignored), and all of them are marked Header: the command
// line prints them before the rows' problems, never cut off.
func TestRecordHeaderWarnings(t *testing.T) {
	data := "record_id,来源,类型,身份证号,事件日期\nr1,PSB,PSB.DEATH_DEREG,371002194003150019,2024-02-02\n"
	res := readRecords(t, "dmg/hdr_zh.csv", []byte(data), FormatCSV, false, Options{})
	if res.err != nil || len(res.probs) != 1 {
		t.Fatalf("problems %+v, %v", res.probs, res.err)
	}
	want := []string{
		"dmg/hdr_zh.csv:1: required column source is missing from the header: every row is quarantined (missing_field)",
		"dmg/hdr_zh.csv:1: person_id: required column person_id (or both name and birth_date) is missing from the header: every row is quarantined (missing_field)",
		`dmg/hdr_zh.csv:1: 来源: unknown column "来源" ignored`,
	}
	if len(res.warnings) != 6 {
		t.Fatalf("warnings %+v, want 2 of columns missing and 4 unknown", res.warnings)
	}
	for i, w := range want {
		if got := res.warnings[i].String(); got != w {
			t.Errorf("warning %d: %s\nwant %s", i, got, w)
		}
	}
	for _, w := range res.warnings {
		if !w.Header {
			t.Errorf("%s: not marked Header", w)
		}
	}
	// A row's warning is not.
	res = readRecords(t, "r.csv", []byte("record_id,source,type,person_id,event_date,region_code\nr1,HEA,HEA.CHECKUP,371002194003150019,2024-02-02,12x\n"), FormatCSV, false, Options{})
	if len(res.warnings) != 1 || res.warnings[0].Header {
		t.Errorf("a row's warning: %+v", res.warnings)
	}
}

// TestShapeRefused: a UTF-16 file, JSON Lines too, and a file of lines ended by CR alone
// longer than a row may be, are refused naming the cause (the JSON Lines were quarantined
// line by line, the long CR file called "malformed").
func TestShapeRefused(t *testing.T) {
	u16 := []byte{0xFF, 0xFE}
	for _, c := range `{"record_id":"a","source":"HEA"}` + "\n" {
		u16 = append(u16, byte(c), 0)
	}
	long := []byte(recHeader[:len(recHeader)-1])
	for len(long) < 5<<20 {
		long = append(long, "\rR1,HEA,HEA.CHECKUP,1,,,2024-01-05,,,"...)
	}
	for _, c := range []struct {
		name   string
		data   []byte
		format Format
		want   string
	}{
		{"u.jsonl", u16, FormatJSONL, "UTF-16"},
		{"cr.csv", long, FormatCSV, "CR alone"},
	} {
		res := readRecords(t, c.name, c.data, c.format, false, Options{})
		if res.err == nil || !strings.Contains(res.err.Error(), c.name) || !strings.Contains(res.err.Error(), c.want) || len(res.rows) != 0 {
			t.Errorf("%s: %v, %d rows %d problems", c.name, res.err, len(res.rows), len(res.probs))
		}
	}
}

func TestRecordHeaderErrors(t *testing.T) {
	for _, c := range []struct{ data, want string }{
		{"record_id,source,type,event_date,person_id,Type\n", "column type appears twice"},
		{"record_id,\"source\n", "header row is malformed"},
		// Lines ended by CR alone: the whole file read as one header row, every row lost.
		{"record_id,source,type,person_id,event_date\rR1,HEA,HEA.CHECKUP,1,2024-01-05\rR2,HEA,HEA.CHECKUP,1,2024-01-05\r", "line 1: the header row holds a carriage return"},
		// Excel's "Unicode text", with its byte-order mark and without.
		{"\xff\xfer\x00e\x00c\x00\t\x00s\x00\r\x00\n\x00", "UTF-16"},
		{"r\x00e\x00c\x00,\x00s\x00\n\x00", "UTF-16"},
	} {
		res := readRecords(t, "h.csv", []byte(c.data), FormatCSV, false, Options{})
		if res.err == nil || !strings.Contains(res.err.Error(), "h.csv") || !strings.Contains(res.err.Error(), c.want) {
			t.Errorf("%q: error %v, want one naming h.csv and %q", c.data, res.err, c.want)
		}
		if silentcert.ErrorCode(res.err) != silentcert.EInvalid {
			t.Errorf("%q: code %s", c.data, silentcert.ErrorCode(res.err))
		}
	}
	// name and birth_date columns stand in for person_id.
	res := readRecords(t, "h.csv", []byte("record_id,source,type,event_date,name,birth_date\n"), FormatCSV, false, Options{})
	if res.err != nil {
		t.Error(res.err)
	}
	// An empty file has no rows, and says so.
	res = readRecords(t, "e.csv", nil, FormatCSV, false, Options{})
	if res.err != nil || len(res.warnings) != 1 {
		t.Errorf("empty file: %v %+v", res.err, res.warnings)
	}
	if _, err := NewRecordReader("x.csv", strings.NewReader(recHeader), FormatCSV, false, nil, Options{Encoding: "latin1"}); err == nil {
		t.Error("encoding latin1 accepted")
	}
}

func gbk(t testing.TB, s string) []byte {
	t.Helper()
	b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEncodings(t *testing.T) {
	row := "r%d,MED,MED.OUTPATIENT,,张三丰,1950-01-01,2024-01-02,,,\n"
	good := recHeader + strings.ReplaceAll(row, "%d", "1")
	// Detected GBK (read as GB18030, of which GBK is a subset).
	res := readRecords(t, "g.csv", gbk(t, good), FormatCSV, false, Options{})
	if res.err != nil || res.encoding != EncodingGB18030 || len(res.rows) != 1 || res.rows[0].Name != "张三丰" {
		t.Fatalf("detected: %v %s %+v %+v", res.err, res.encoding, res.rows, res.probs)
	}
	// Forced.
	for _, enc := range []string{"gbk", "GB18030"} {
		res = readRecords(t, "g.csv", gbk(t, good), FormatCSV, false, Options{Encoding: enc})
		if res.err != nil || res.encoding != strings.ToLower(enc) || len(res.rows) != 1 || res.rows[0].Name != "张三丰" {
			t.Errorf("forced %s: %v %s %+v", enc, res.err, res.encoding, res.rows)
		}
	}
	// Forced UTF-8 on GBK bytes: every row with Chinese is quarantined, the file still loads.
	res = readRecords(t, "g.csv", gbk(t, good), FormatCSV, false, Options{Encoding: "utf-8"})
	if res.err != nil || len(res.probs) != 1 || res.probs[0].Reason != ReasonEncoding {
		t.Errorf("forced utf-8 on gbk: %v %+v", res.err, res.probs)
	}

	// A UTF-8 file whose first 64 KiB are clean, with a GBK line later: that line alone
	// is quarantined.
	var b bytes.Buffer
	b.WriteString(recHeader)
	n := 0
	for b.Len() < 70<<10 {
		n++
		b.WriteString(strings.ReplaceAll(row, "%d", "u"))
	}
	badLine := n + 2
	b.Write(gbk(t, strings.ReplaceAll(row, "%d", "g")))
	b.WriteString(strings.ReplaceAll(row, "%d", "z"))
	res = readRecords(t, "late.csv", b.Bytes(), FormatCSV, false, Options{})
	if res.err != nil || res.encoding != EncodingUTF8 || len(res.rows) != n+1 || len(res.probs) != 1 ||
		res.probs[0].Reason != ReasonEncoding || res.probs[0].Line != int64(badLine) {
		t.Errorf("late GBK line in UTF-8: %v %s rows %d probs %+v (want line %d)", res.err, res.encoding, len(res.rows), res.probs, badLine)
	} else if !strings.Contains(res.probs[0].Message, "--encoding gbk") {
		t.Errorf("the late GBK line's problem does not name the remedy: %q", res.probs[0].Message)
	}
	// Forced UTF-8, the same line: no remedy to name (the operator chose).
	if res = readRecords(t, "late.csv", b.Bytes(), FormatCSV, false, Options{Encoding: "utf-8"}); len(res.probs) != 1 || strings.Contains(res.probs[0].Message, "--encoding") {
		t.Errorf("a forced UTF-8 file's bad line: %+v", res.probs)
	}

	// A GBK file with an undecodable line later (a lone lead byte, 0xFF).
	b.Reset()
	b.Write(gbk(t, recHeader))
	n = 0
	for b.Len() < 70<<10 {
		n++
		b.Write(gbk(t, strings.ReplaceAll(row, "%d", "u")))
	}
	b.Write([]byte("r\xff,MED,MED.OUTPATIENT,,\x81,1950-01-01,2024-01-02,,,\n"))
	b.Write(gbk(t, strings.ReplaceAll(row, "%d", "z")))
	res = readRecords(t, "lategbk.csv", b.Bytes(), FormatCSV, false, Options{})
	if res.err != nil || res.encoding != EncodingGB18030 || len(res.rows) != n+1 || len(res.probs) != 1 || res.probs[0].Reason != ReasonEncoding {
		t.Errorf("late bad line in GBK: %v %s rows %d probs %+v", res.err, res.encoding, len(res.rows), res.probs)
	}
	if last := res.rows[len(res.rows)-1]; last.RecordID != "rz" || last.Name != "张三丰" {
		t.Errorf("row after the bad line: %+v", last)
	}
}

// TestDetectBoundary puts a multi-byte character across the 64 KiB detection boundary:
// the name starts k bytes before it.
func TestDetectBoundary(t *testing.T) {
	for _, enc := range []string{EncodingUTF8, EncodingGB18030} {
		for k := 1; k <= 4; k++ {
			var b bytes.Buffer
			b.WriteString(recHeader)
			filler := "r,MED,MED.OUTPATIENT,1,,,2024-01-02,,,\n"
			for b.Len() < detectSize-200 {
				b.WriteString(filler)
			}
			prefix := "r,MED,MED.OUTPATIENT,1,"
			b.WriteString(prefix + strings.Repeat("x", detectSize-k-b.Len()-len(prefix)))
			name := "张三丰张三丰"
			if enc == EncodingUTF8 {
				b.WriteString(name)
			} else {
				b.Write(gbk(t, name))
			}
			b.WriteString(",,2024-01-02,,,\n")
			want := enc
			if k == 1 {
				// One lead byte alone says nothing: the head is ASCII, so UTF-8 (and the
				// GBK row is then quarantined: spec §1 decides on the first 64 KiB).
				want = EncodingUTF8
			}
			res := readRecords(t, "b.csv", b.Bytes(), FormatCSV, false, Options{})
			if res.err != nil || res.encoding != want {
				t.Errorf("%s k=%d: %v %s", enc, k, res.err, res.encoding)
				continue
			}
			if want != enc {
				continue
			}
			if len(res.probs) != 0 {
				t.Errorf("%s k=%d: %+v", enc, k, res.probs)
			} else if got := res.rows[len(res.rows)-1].Name; !strings.HasSuffix(got, name) {
				t.Errorf("%s k=%d: name %q", enc, k, got)
			}
		}
	}
	if detectEncoding([]byte("abc\xe5\xbc"), false) != EncodingUTF8 {
		t.Error("a UTF-8 character cut at the boundary decided the encoding")
	}
	if detectEncoding([]byte("abc\xe5\xbc"), true) != EncodingGB18030 {
		t.Error("at the end of a file a cut UTF-8 character is invalid UTF-8 (and here valid GB18030)")
	}
}

func gzipped(t testing.TB, data []byte) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write(data)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestGzip(t *testing.T) {
	var b bytes.Buffer
	b.WriteString(recHeader)
	for i := 0; i < 5000; i++ {
		b.WriteString("r,MED,MED.OUTPATIENT,1,,,2024-01-02,,,\n")
	}
	z := gzipped(t, b.Bytes())
	res := readRecords(t, "a.csv.gz", z, FormatCSV, true, Options{})
	if res.err != nil || len(res.rows) != 5000 {
		t.Fatalf("gzip csv: %v %d rows", res.err, len(res.rows))
	}
	jz := gzipped(t, []byte(`{"record_id":"r","source":"MED","type":"MED.OUTPATIENT","person_id":"1","event_date":"2024-01-02"}`+"\n"))
	res = readRecords(t, "a.jsonl.gz", jz, FormatJSONL, true, Options{})
	if res.err != nil || len(res.rows) != 1 {
		t.Fatalf("gzip jsonl: %v %d rows", res.err, len(res.rows))
	}
	// Truncated: an error from Next, never a panic; rows read before it stay.
	res = readRecords(t, "t.csv.gz", z[:len(z)/2], FormatCSV, true, Options{})
	if res.err == nil || !strings.Contains(res.err.Error(), "t.csv.gz") || silentcert.ErrorCode(res.err) != silentcert.EInvalid {
		t.Fatalf("truncated gzip: err %v", res.err)
	}
	if len(res.rows) == 0 || len(res.rows) >= 5000 || len(res.probs) != 0 {
		t.Errorf("truncated gzip: %d rows, %d problems before the error", len(res.rows), len(res.probs))
	}
	// Not gzip at all: the constructor fails.
	if _, err := NewRecordReader("n.csv.gz", bytes.NewReader(b.Bytes()), FormatCSV, true, nil, Options{}); err == nil {
		t.Error("plain text read as gzip")
	}
}

func TestJSONLRecords(t *testing.T) {
	data := `{"record_id":"r1","source":"MED","type":"MED.INPATIENT","person_id":"1","event_date":"2024-01-02","detail":{"critical":"1","amount":12.5,"icd10":"C34"},"extra":[1,2],"Name":"张\u4e09"}` + "\n" +
		"\n" +
		`{"record_id":"r2","source":"MED","type":"MED.INPATIENT","person_id":"1","event_date":"2024-01-02","detail":"count=2","extra":"again","other":null}` + "\r\n" +
		`{"record_id":"r3","source":"MED","type":"MED.INPATIENT","person_id":1,"event_date":"2024-01-02"}` + "\n" +
		`{"record_id":"r4","source":"MED"` + "\n" +
		`{"record_id":"r5","source":"MED","type":"MED.INPATIENT","person_id":"1","event_date":"2024-01-02","detail":{"critical":1}}` + "\n" +
		`{"record_id":"r6","source":"MED","type":"MED.INPATIENT","person_id":"1"}` + "\n" +
		`{"record_id":"r7","source":"MED","type":"MED.INPATIENT","person_id":"1","event_date":"2024-01-02","detail":{"amount":"1;2"}}` + "\n" +
		`["not an object"]`
	res := readRecords(t, "j.jsonl", []byte(data), FormatJSONL, false, Options{})
	if res.err != nil || len(res.rows) != 4 {
		t.Fatalf("%v rows %+v probs %+v", res.err, res.rows, res.probs)
	}
	// r5's critical given as the number 1 is critical (a flag never weakens to strong);
	// r7's ';' is dropped from the detail, with a warning: the records stay.
	if res.rows[2].RecordID != "r5" || !res.rows[2].Detail.Critical || res.rows[3].RecordID != "r7" || res.rows[3].Detail.HasAmt {
		t.Errorf("rows 3 and 4 %+v %+v", res.rows[2], res.rows[3])
	}
	r := res.rows[0]
	if !r.Detail.Critical || r.Detail.Amount != 1250 || r.Detail.ICD10 != "C34" || r.Name != "张三" || res.lines[0] != 1 {
		t.Errorf("row 1 %+v", r)
	}
	if r.RawDetail != "critical=1;amount=12.5;icd10=C34" {
		t.Errorf("raw detail %q", r.RawDetail)
	}
	if res.rows[1].Detail.Count != 2 || res.lines[1] != 3 {
		t.Errorf("row 2 %+v line %d", res.rows[1], res.lines[1])
	}
	want := []struct {
		line          int64
		field, reason string
	}{{4, "person_id", ReasonMalformed}, {5, "", ReasonMalformed}, {7, "event_date", ReasonMissingField}, {9, "", ReasonMalformed}}
	if len(res.probs) != len(want) {
		t.Fatalf("problems %+v", res.probs)
	}
	for i, w := range want {
		if p := res.probs[i]; p.Line != w.line || p.Field != w.field || p.Reason != w.reason {
			t.Errorf("problem %d = %+v, want %+v", i, p, w)
		}
	}
	if len(res.warnings) != 3 || res.warnings[0].Field != "extra" || res.warnings[1].Field != "other" || res.warnings[2].Field != "detail" || res.warnings[2].Line != 8 {
		t.Errorf("warnings %+v (one per unknown key)", res.warnings)
	}
}

func TestOpenRecords(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "Day1.CSV.GZ")
	if err := os.WriteFile(p, gzipped(t, []byte(recHeader+"r,MED,MED.OUTPATIENT,1,,,2024-01-02,,,\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := OpenRecords(p, silentcert.DefaultCatalogue(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	row, _, err := r.Next()
	if err != nil || row.File != p {
		t.Errorf("%v %+v", err, row)
	}
	if err := r.Close(); err != nil {
		t.Error(err)
	}
	if _, err := OpenRecords(filepath.Join(dir, "x.txt"), nil, Options{}); err == nil {
		t.Error(".txt opened")
	}
	if _, err := OpenRecords(filepath.Join(dir, "missing.csv"), nil, Options{}); err == nil {
		t.Error("missing file opened")
	}
}

func TestFormatOf(t *testing.T) {
	for _, c := range []struct {
		path   string
		f      Format
		gz, ok bool
	}{{"a.csv", FormatCSV, false, true}, {"a.JSONL", FormatJSONL, false, true}, {"d/a.csv.GZ", FormatCSV, true, true},
		{"a.jsonl.gz", FormatJSONL, true, true}, {"a.gz", 0, false, false}, {"a.txt", 0, false, false}, {"csv", 0, false, false}} {
		f, gz, ok := FormatOf(c.path)
		if f != c.f || gz != c.gz || ok != c.ok {
			t.Errorf("FormatOf(%q) = %v %v %v", c.path, f, gz, ok)
		}
	}
}

func TestListRecordFiles(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"a/b.csv", "a.csv", "a-b.jsonl.gz", "z/notes.txt", "B.csv"} {
		full := filepath.Join(dir, filepath.FromSlash(p))
		os.MkdirAll(filepath.Dir(full), 0o755)
		os.WriteFile(full, nil, 0o644)
	}
	files, warnings, err := ListRecordFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	var rel []string
	for _, f := range files {
		r, _ := filepath.Rel(dir, f)
		rel = append(rel, filepath.ToSlash(r))
	}
	// Byte order of relative paths: "B" < "a-" < "a." < "a/".
	if strings.Join(rel, " ") != "B.csv a-b.jsonl.gz a.csv a/b.csv" || len(warnings) != 1 {
		t.Errorf("files %v warnings %+v", rel, warnings)
	}
}

// FuzzRecordReader feeds arbitrary bytes (as CSV after a good header, and as JSON Lines)
// in random chunks: the reader must never panic, never loop, and account for every line.
func FuzzRecordReader(f *testing.F) {
	f.Add([]byte("r,MED,MED.OUTPATIENT,1,,,2024-01-02,,,critical=1\n\"a\nb\",x"), uint8(1))
	f.Add([]byte(`{"record_id":"r","source":"MED","type":"MED.OUTPATIENT","person_id":"1","event_date":"2024-01-02","detail":{"amount":1}}`), uint8(2))
	f.Add([]byte("\xff\xfe\x81\n\"\"\"\n"), uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, seed uint8) {
		// As gzip: arbitrary bytes, and a real stream cut short, fail cleanly.
		z := gzipped(t, data)
		for _, z := range [][]byte{data, z[:len(z)/2]} {
			if r, err := NewRecordReader("f.gz", bytes.NewReader(z), FormatCSV, true, nil, Options{}); err == nil {
				for i := 0; i <= len(data)+1; i++ {
					if _, _, err := r.Next(); err != nil {
						break
					}
				}
			}
		}
		for _, format := range []Format{FormatCSV, FormatJSONL} {
			in := data
			if format == FormatCSV {
				in = append([]byte(recHeader), data...)
			}
			for _, enc := range []string{"", "gbk"} {
				src := &chunkReader{data: in, rnd: rand.New(rand.NewPCG(uint64(seed), 2)), max: int(seed)%13 + 1}
				r, err := NewRecordReader("f", src, format, false, nil, Options{Encoding: enc})
				if err != nil {
					continue
				}
				var last int64
				for i := 0; ; i++ {
					row, p, err := r.Next()
					if errors.Is(err, io.EOF) {
						break
					}
					if err != nil && i == 0 && silentcert.ErrorCode(err) == silentcert.EInvalid {
						break // refused whole at its first line (UTF-16, lines ended by CR alone)
					}
					if err != nil || i > len(in)+1 {
						t.Fatalf("%v after %d rows", err, i)
					}
					line := int64(0)
					if row != nil {
						line = row.Line
					} else {
						line = p.Line
					}
					if line <= last || line > int64(bytes.Count(in, []byte{'\n'})+1) {
						t.Fatalf("line %d after %d", line, last)
					}
					last = line
				}
			}
		}
	})
}

// FuzzDateMemo asserts that the reader's date memo parses every text of a sequence as
// silentcert.ParseDateTimeBytes does, whatever months it has met before.
func FuzzDateMemo(f *testing.F) {
	for _, s := range []string{
		"2024-01-31,2024-01-32,2024-01-00,2024-01-3x,2024-02-29,2023-02-29,2023-02-28,2024-01-05",
		"2024-01-05T12:19:40,2024-01-05T23:59:60Z,2024-01-01T00:00:00+14:00,2024-12-31T23:00:00-12:30,2024-01-05 01:02:03.5Z",
		"2024-01-05T12:19:40.,2024-01-05T24:00:00,2024-01-05T12:19:40+08:0,2024-13-01,0000-01-01,9999-12-31,2024-01-5",
		"2024-03-01,2025-03-01,2026-03-01,2024-03-31,2025-03-31T16:00:00Z,2100-02-29,2000-02-29",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, seq string) {
		var m dateMemo
		for part := range strings.SplitSeq(seq, ",") {
			wd, wok := silentcert.ParseDateTimeBytes([]byte(part))
			if d, ok := m.parse([]byte(part)); d != wd || ok != wok {
				t.Fatalf("parse(%q) = %v, %v; ParseDateTimeBytes says %v, %v", part, d, ok, wd, wok)
			}
		}
	})
}

// TestRecordNULInJSON: JSON's "\u0000" is a NUL like any other: the row is quarantined,
// naming its field, and the next row loads.
func TestRecordNULInJSON(t *testing.T) {
	data := `{"record_id":"r1","source":"MED","type":"MED.OUTPATIENT","person_id":"1","name":"张\u0000三","event_date":"2024-01-02"}` + "\n" +
		`{"record_id":"r2","source":"MED","type":"MED.OUTPATIENT","person_id":"1","event_date":"2024-01-02"}` + "\n"
	res := readRecords(t, "t.jsonl", []byte(data), FormatJSONL, false, Options{})
	if res.err != nil || len(res.rows) != 1 || len(res.probs) != 1 || res.probs[0].Field != "name" || res.probs[0].Reason != ReasonMalformed || res.probs[0].Line != 1 {
		t.Fatalf("rows %d, problems %+v, %v", len(res.rows), res.probs, res.err)
	}
}

// TestLongLineReadsAlike: rows at the length limit, and one byte either side, are taken or
// quarantined the same whether the file arrives whole, in halves or a byte at a time (an
// API body arrives in network-sized pieces); the row after each is read.
func TestLongLineReadsAlike(t *testing.T) {
	prefix := `{"record_id":"r1","source":"HEA","type":"HEA.CHECKUP","person_id":"371002194003150019","event_date":"2024-01-02","name":"`
	next := `{"record_id":"r2","source":"HEA","type":"HEA.CHECKUP","person_id":"371002194003150019","event_date":"2024-01-02"}` + "\n"
	for _, n := range []int{maxRowBytes - 2, maxRowBytes - 1, maxRowBytes, maxRowBytes + 1} {
		line := prefix + strings.Repeat("a", n-len(prefix)-2) + `"}`
		body := []byte(line + "\n" + next)
		var got []string
		for _, wrap := range []func(io.Reader) io.Reader{
			func(r io.Reader) io.Reader { return r }, iotest.HalfReader, iotest.OneByteReader,
		} {
			r, err := NewRecordReader("t.jsonl", wrap(bytes.NewReader(body)), FormatJSONL, false, silentcert.DefaultCatalogue(), Options{})
			if err != nil {
				t.Fatal(err)
			}
			good, bad := 0, 0
			for {
				row, p, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("%d bytes: %v", n, err)
				}
				if p != nil {
					bad++
				} else if row != nil {
					good++
				}
			}
			got = append(got, strconv.Itoa(good)+"/"+strconv.Itoa(bad))
		}
		want := "2/0"
		if n+1 > maxRowBytes { // the line and its end
			want = "1/1"
		}
		for _, g := range got {
			if g != want {
				t.Errorf("a line of %d bytes (limit %d): good/quarantined %v by read size, want %s each", n, maxRowBytes, got, want)
				break
			}
		}
	}
}

// TestBadRegionOutsideMoves: a bad region_code on a record that moves no one (a death, say)
// does not lose the record: it is read without it, with a warning naming the line.
func TestBadRegionOutsideMoves(t *testing.T) {
	res := readRecords(t, "t.csv", []byte(recHeader+"r,PSB,PSB.DEATH_DEREG,1,,,2024-01-02,,x<b>,\n"), FormatCSV, false, Options{})
	if res.err != nil || len(res.rows) != 1 || len(res.probs) != 0 || res.rows[0].RegionCode != "" {
		t.Fatalf("rows %+v, problems %+v, %v", res.rows, res.probs, res.err)
	}
	if len(res.warnings) != 1 || res.warnings[0].Field != "region_code" || res.warnings[0].Line != 2 {
		t.Errorf("warnings %+v", res.warnings)
	}
}

// TestWarningsCapped: a file whose every row warns alike keeps the first thousand of that
// field's warnings and one saying how many more; a batch report lists at most a thousand
// and counts them all.
func TestWarningsCapped(t *testing.T) {
	var b strings.Builder
	b.WriteString(recHeader)
	for i := range 3000 {
		fmt.Fprintf(&b, "d%d,PSB,PSB.DEATH_DEREG,1,,,2024-01-02,,济南,\n", i)
	}
	res := readRecords(t, "t.csv", []byte(b.String()), FormatCSV, false, Options{})
	if res.err != nil || len(res.rows) != 3000 || len(res.warnings) != maxWarnings+1 ||
		!strings.Contains(res.warnings[maxWarnings].Message, "2000 more warnings") || res.warnings[maxWarnings].Field != "region_code" {
		t.Fatalf("%d rows, %d warnings, %v", len(res.rows), len(res.warnings), res.err)
	}
	var rep BatchReport
	for range 3 {
		rep.AddWarnings(res.warnings)
	}
	m := rep.Map()
	if n := len(m["warnings"].([]map[string]any)); n != maxListedWarnings || m["warnings_total"] != 3*(maxWarnings+1) {
		t.Errorf("the report lists %d warnings of %v", n, m["warnings_total"])
	}
}

// TestGzipLimitExact: a gzip file that unpacks to exactly the limit is read whole (the
// end of the stream came in a read of its own, and was taken for a byte too many); a
// byte more is refused.
func TestGzipLimitExact(t *testing.T) {
	var data []byte
	data = append(data, recHeader...)
	for len(data) < 131072 {
		data = append(data, "r,MED,MED.OUTPATIENT,1,,,2024-01-02,,,\n"...)
	}
	data = data[:131072]
	data[len(data)-1] = '\n'
	for _, c := range []struct {
		max  int64
		fail bool
	}{{131072, false}, {131071, true}} {
		r, err := NewRecordReader("x.csv.gz", bytes.NewReader(gzipped(t, data)), FormatCSV, true, nil, Options{MaxDecompressed: c.max})
		if err != nil {
			t.Fatal(err)
		}
		var last error
		for {
			if _, _, err := r.Next(); err != nil {
				last = err
				break
			}
		}
		if failed := last != io.EOF; failed != c.fail {
			t.Errorf("limit %d: %v", c.max, last)
		}
	}
}

// TestForcedEncodingUTF8File: a forced gbk or gb18030 (the operator's --encoding, meant for
// the departments' exports) is not applied to a file that is evidently UTF-8 — the
// agency's own roster beside them — whose names it would turn to garbage (every record
// naming them then held as a name mismatch). The file is read as UTF-8 and a warning
// names it. A file whose head is ASCII keeps the forced encoding: its GBK may come later.
func TestForcedEncodingUTF8File(t *testing.T) {
	row := "r%d,MED,MED.OUTPATIENT,,张三丰,1950-01-01,2024-01-02,,,\n"
	utf := recHeader + strings.ReplaceAll(row, "%d", "1")
	overruled := func(ws []Warning) bool {
		for _, w := range ws {
			if w.File == "u.csv" && w.Line == 0 && strings.Contains(w.Message, "not applied") {
				return true
			}
		}
		return false
	}
	for _, enc := range []string{"gbk", "gb18030"} {
		for name, data := range map[string][]byte{
			"utf-8":          []byte(utf),
			"utf-8 with BOM": []byte("\xEF\xBB\xBF" + utf),
		} {
			res := readRecords(t, "u.csv", data, FormatCSV, false, Options{Encoding: enc})
			if res.err != nil || res.encoding != EncodingUTF8 || len(res.rows) != 1 || res.rows[0].Name != "张三丰" || len(res.probs) != 0 {
				t.Errorf("%s forced %s: %v %s %+v %+v", name, enc, res.err, res.encoding, res.rows, res.probs)
			}
			if !overruled(res.warnings) {
				t.Errorf("%s forced %s: no warning naming the file: %+v", name, enc, res.warnings)
			}
		}
		// Gzipped: the text inside decides.
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		zw.Write([]byte(utf))
		zw.Close()
		res := readRecords(t, "u.csv", z.Bytes(), FormatCSV, true, Options{Encoding: enc})
		if res.err != nil || res.encoding != EncodingUTF8 || len(res.rows) != 1 || res.rows[0].Name != "张三丰" || !overruled(res.warnings) {
			t.Errorf("gzip forced %s: %v %s %+v %+v", enc, res.err, res.encoding, res.rows, res.warnings)
		}

		// The GBK file itself is read as GBK, without the warning.
		res = readRecords(t, "u.csv", gbk(t, utf), FormatCSV, false, Options{Encoding: enc})
		if res.err != nil || res.encoding != enc || len(res.rows) != 1 || res.rows[0].Name != "张三丰" || overruled(res.warnings) {
			t.Errorf("gbk forced %s: %v %s %+v %+v", enc, res.err, res.encoding, res.rows, res.warnings)
		}
		// An ASCII head, GBK after 64 KiB: forced, the late rows decode (detection would
		// have settled on UTF-8 and quarantined them).
		var b bytes.Buffer
		b.WriteString(recHeader)
		n := 0
		for b.Len() < 70<<10 {
			n++
			b.WriteString("r,MED,MED.OUTPATIENT,1,,,2024-01-02,,,\n")
		}
		b.Write(gbk(t, strings.ReplaceAll(row, "%d", "g")))
		res = readRecords(t, "u.csv", b.Bytes(), FormatCSV, false, Options{Encoding: enc})
		if res.err != nil || res.encoding != enc || len(res.rows) != n+1 || res.rows[n].Name != "张三丰" || overruled(res.warnings) {
			t.Errorf("ascii head, late gbk, forced %s: %v %s rows %d %+v", enc, res.err, res.encoding, len(res.rows), res.probs)
		}
	}
	// Forced utf-8 stays as it was: no warning.
	if res := readRecords(t, "u.csv", []byte(utf), FormatCSV, false, Options{Encoding: "utf-8"}); overruled(res.warnings) || res.encoding != EncodingUTF8 {
		t.Errorf("forced utf-8: %s %+v", res.encoding, res.warnings)
	}
	// The roster, through the same reader: its people keep their names.
	roster := "person_id,name,region_code,benefit_type,monthly_amount,start_month\n" +
		mkID("1940-01-01", "001") + ",张三,370102001001,EMP_PENSION,1000,2010-01\n"
	ro, err := ReadRosterFrom("u.csv", strings.NewReader(roster), FormatCSV, false, RosterOptions{Encoding: "gbk"})
	if err != nil || len(ro.Problems) != 0 || len(ro.Recipients) != 1 || ro.Recipients[0].Name != "张三" || ro.Encoding != EncodingUTF8 || !overruled(ro.Warnings) {
		t.Fatalf("roster: %v %s %+v %+v %+v", err, ro.Encoding, ro.Problems, ro.Recipients, ro.Warnings)
	}
}

// TestForcedGBKShortNames: GBK text is valid UTF-8 by chance in short runs (a one-row file
// whose name is two common characters, once in thirty); such a file must still be read as
// the GBK the operator says it is. Every character of GB2312's first level, alone and in
// pairs (a deterministic sample), in a one-row file: those valid as UTF-8 are read.
func TestForcedGBKShortNames(t *testing.T) {
	var chars []string
	for l := 0xB0; l <= 0xD7; l++ {
		for tr := 0xA1; tr <= 0xFE; tr++ {
			if l == 0xD7 && tr > 0xF9 {
				continue
			}
			c, err := simplifiedchinese.GBK.NewDecoder().Bytes([]byte{byte(l), byte(tr)})
			if err != nil {
				t.Fatal(err)
			}
			chars = append(chars, string(c))
		}
	}
	names := chars
	rnd := rand.New(rand.NewPCG(7, 11))
	for range 20000 {
		names = append(names, chars[rnd.IntN(len(chars))]+chars[rnd.IntN(len(chars))])
	}
	validUTF8 := 0
	for i, name := range names {
		data := gbk(t, recHeader+"r,MED,MED.OUTPATIENT,,"+name+",1950-01-01,2024-01-02,,,\n")
		if utf8.Valid(data) {
			validUTF8++
		} else if i%64 != 0 {
			continue // not UTF-8: no doubt, and a few of them read suffice
		}
		res := readRecords(t, "g.csv", data, FormatCSV, false, Options{Encoding: "gbk"})
		if res.err != nil || res.encoding != EncodingGBK || len(res.rows) != 1 || res.rows[0].Name != name {
			t.Fatalf("%s: %v %s %+v %+v", name, res.err, res.encoding, res.rows, res.probs)
		}
	}
	if validUTF8 == 0 {
		t.Errorf("no name of the sample is valid UTF-8 in GBK: the test tests nothing")
	}
	t.Logf("%d of %d one-row GBK files are valid UTF-8", validUTF8, len(names))
}

// TestForcedGBKFourByte: --encoding gbk reads GB18030's four-byte characters (rare name
// characters, 生僻字, e.g. 𠮷 U+20BB7), which the GBK decoder turned into replacement
// characters — the row quarantined as encoding, and on a roster the pensioner dropped.
func TestForcedGBKFourByte(t *testing.T) {
	name := "吉𠮷"
	enc, err := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(recHeader + "r,MED,MED.OUTPATIENT,,吉𠮷,1950-01-01,2024-01-02,,,\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(enc, []byte{0x95, 0x34, 0xB2, 0x35}) {
		t.Fatalf("𠮷 is not written in four bytes: % x", enc)
	}
	for _, forced := range []string{"gbk", "gb18030", ""} {
		res := readRecords(t, "g.csv", enc, FormatCSV, false, Options{Encoding: forced})
		if res.err != nil || len(res.probs) != 0 || len(res.rows) != 1 || res.rows[0].Name != name {
			t.Errorf("forced %q: %v %+v %+v", forced, res.err, res.rows, res.probs)
		}
	}
	// The roster too (the same reader).
	roster, err := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte("person_id,name,region_code,benefit_type,monthly_amount,start_month\n" +
		mkID("1940-01-01", "001") + ",吉𠮷,370102001001,EMP_PENSION,1000,2010-01\n"))
	if err != nil {
		t.Fatal(err)
	}
	ro, err := ReadRosterFrom("r.csv", bytes.NewReader(roster), FormatCSV, false, RosterOptions{Encoding: "gbk"})
	if err != nil || len(ro.Problems) != 0 || len(ro.Recipients) != 1 || ro.Recipients[0].Name != name || ro.Encoding != EncodingGBK {
		t.Fatalf("roster: %v %+v %+v", err, ro.Problems, ro.Recipients)
	}
}

// TestRecordDateTimeForms: spec §1 gives a datetime "with or without an offset" and names
// no standard: +0800 (Java's and many exporters' form), +08 and RFC 3339's lower-case t
// and z were quarantined as bad_date. A form still refused names the accepted ones.
func TestRecordDateTimeForms(t *testing.T) {
	for _, c := range []struct{ event, want string }{
		{"2024-01-10T23:30:00+0800", "2024-01-10"},
		{"2024-01-10T23:30:00+08", "2024-01-10"},
		{"2024-01-10t23:30:00z", "2024-01-11"},
		{"2024-01-10T23:30:00-0130", "2024-01-11"},
	} {
		res := readRecords(t, "t.csv", []byte(recHeader+"r,MED,MED.OUTPATIENT,1,,,"+c.event+",2024-01-20,,\n"), FormatCSV, false, Options{})
		if res.err != nil || len(res.probs) != 0 || len(res.rows) != 1 || res.rows[0].EventDate.String() != c.want {
			t.Errorf("%s: %v %+v %+v, want %s", c.event, res.err, res.probs, res.rows, c.want)
		}
	}
	res := readRecords(t, "t.csv", []byte(recHeader+"r,MED,MED.OUTPATIENT,1,,,2024-01-10T10:00,2024-01-20,,\n"), FormatCSV, false, Options{})
	if len(res.probs) != 1 || res.probs[0].Reason != ReasonBadDate || !strings.Contains(res.probs[0].Message, "±HHMM") {
		t.Errorf("%+v", res.probs)
	}
}
