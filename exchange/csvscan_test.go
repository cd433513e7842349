package exchange

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// chunkReader returns its data in pieces of random size, so that rows straddle reads.
type chunkReader struct {
	data []byte
	rnd  *rand.Rand
	max  int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := 1 + c.rnd.IntN(c.max)
	n = min(n, len(p), len(c.data))
	copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

type scanned struct {
	status scanStatus
	line   int64
	fields []string
}

// scanAll runs the scanner over data (read in random chunks) and returns every row.
func scanAll(data []byte, seed uint64, maxChunk int) []scanned {
	var t textBuf
	t.initText(&chunkReader{data: data, rnd: rand.New(rand.NewPCG(seed, 1)), max: maxChunk}, EncodingUTF8)
	c := csvScanner{t: &t}
	var out []scanned
	for {
		st, _ := c.next()
		if st == scanEOF || st == scanErr {
			return out
		}
		r := scanned{status: st, line: c.start}
		if st == scanRow && c.valid() != utf8.Valid(c.row) {
			panic(fmt.Sprintf("valid() = %v for row %q", c.valid(), c.row))
		}
		if st == scanRow {
			c.finish()
			for i := range c.spans {
				r.fields = append(r.fields, string(c.field(i)))
			}
		}
		out = append(out, r)
	}
}

func TestCSVScanner(t *testing.T) {
	for _, c := range []struct {
		name, in string
		want     []scanned
	}{
		{"simple", "a,b\nc,d\n", []scanned{{scanRow, 1, []string{"a", "b"}}, {scanRow, 2, []string{"c", "d"}}}},
		{"no final newline", "a,b\nc,d", []scanned{{scanRow, 1, []string{"a", "b"}}, {scanRow, 2, []string{"c", "d"}}}},
		{"crlf", "a,b\r\nc,\r\n", []scanned{{scanRow, 1, []string{"a", "b"}}, {scanRow, 2, []string{"c", ""}}}},
		{"final cr dropped", "a,b\r", []scanned{{scanRow, 1, []string{"a", "b"}}}},
		{"blank lines", "\n\r\na\n\n\nb\n\r", []scanned{{scanRow, 3, []string{"a"}}, {scanRow, 6, []string{"b"}}}},
		{"quoted", `"a,b","c""d",""` + "\n", []scanned{{scanRow, 1, []string{"a,b", `c"d`, ""}}}},
		{"quoted newline", "\"a\nb\",c\r\n\"x\r\ny\"\nz\n", []scanned{{scanRow, 1, []string{"a\nb", "c"}}, {scanRow, 3, []string{"x\ny"}}, {scanRow, 5, []string{"z"}}}},
		{"lone cr kept", "a\rb,c\n", []scanned{{scanRow, 1, []string{"a\rb", "c"}}}},
		{"bare quote", "a,b\"c\nd\n", []scanned{{scanBadQuote, 1, nil}, {scanRow, 2, []string{"d"}}}},
		{"text after quote", "\"a\"b,c\nd\n", []scanned{{scanBadQuote, 1, nil}, {scanRow, 2, []string{"d"}}}},
		{"never closed", "x\n\"a,b\nc\nd\n", []scanned{{scanRow, 1, []string{"x"}}, {scanBadQuote, 2, nil}, {scanRow, 3, []string{"c"}}, {scanRow, 4, []string{"d"}}}},
		{"empty fields", ",,\n", []scanned{{scanRow, 1, []string{"", "", ""}}}},
		{"quoted at eof", `a,"b"`, []scanned{{scanRow, 1, []string{"a", "b"}}}},
		{"quoted then cr at eof", "a,\"b\"\r", []scanned{{scanRow, 1, []string{"a", "b"}}}},
		{"utf8", "张三,\"李,四\"\n", []scanned{{scanRow, 1, []string{"张三", "李,四"}}}},
	} {
		for _, chunk := range []int{1, 3, 1 << 20} {
			got := scanAll([]byte(c.in), 1, chunk)
			if len(got) != len(c.want) {
				t.Errorf("%s (chunk %d): %d rows %+v, want %+v", c.name, chunk, len(got), got, c.want)
				continue
			}
			for i := range got {
				if got[i].status != c.want[i].status || got[i].line != c.want[i].line || strings.Join(got[i].fields, "|") != strings.Join(c.want[i].fields, "|") || len(got[i].fields) != len(c.want[i].fields) {
					t.Errorf("%s (chunk %d): row %d = %+v, want %+v", c.name, chunk, i, got[i], c.want[i])
				}
			}
		}
	}
}

// TestCSVLongRow checks that a row longer than maxRowBytes is quarantined alone and that
// the buffer moves and grows correctly across many reads.
func TestCSVLongRow(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("a,b\n")
	b.WriteString("x,\"" + strings.Repeat("y", maxRowBytes) + "\n") // a quote never closed
	b.WriteString("c,d\n")
	b.WriteString(strings.Repeat("z", maxRowBytes+10) + "\n") // one huge physical line
	for i := 0; i < 20000; i++ {
		b.WriteString("e,\"f\nf\"\n")
	}
	got := scanAll(b.Bytes(), 7, 1<<16)
	want := []scanned{{scanRow, 1, nil}, {scanTooLong, 2, nil}, {scanRow, 3, nil}, {scanTooLong, 4, nil}}
	if len(got) != 4+20000 {
		t.Fatalf("%d rows, want %d", len(got), 4+20000)
	}
	for i, w := range want {
		if got[i].status != w.status || got[i].line != w.line {
			t.Errorf("row %d: %v line %d, want %v line %d", i, got[i].status, got[i].line, w.status, w.line)
		}
	}
	last := got[len(got)-1]
	if last.line != 5+2*19999 || strings.Join(last.fields, "|") != "e|f\nf" {
		t.Errorf("last row %+v", last)
	}
}

// FuzzCSVScanner checks the hand-written scanner against encoding/csv: where encoding/csv
// reads the whole input without error, the scanner gives the same rows, fields and start
// lines; where encoding/csv reports a quoting error, the scanner reports a bad row too.
func FuzzCSVScanner(f *testing.F) {
	for _, s := range []string{"张三丰张三丰,\xe5\xbc,x\n", "\"r\xff\",a,b\n", "a,\"x\n\xe5\",b,c\n", "\"a\nb\",c\r\n", `"a""b",c`, "a\rb\r\n\r\n", "a,\"b\"\r", "\"\"\n,", "a\"b\n", "\"a\"b", "\n\n\"x\ny\"\n", "a,\"b\r\nc\"\r\n\r"} {
		f.Add([]byte(s), uint8(3))
	}
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8) {
		got := scanAll(data, uint64(chunk), int(chunk)%17+1)
		r := csv.NewReader(bytes.NewReader(data))
		r.FieldsPerRecord = -1
		var want []scanned
		var csvErr error
		for {
			rec, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				csvErr = err
				break
			}
			line, _ := r.FieldPos(0)
			want = append(want, scanned{scanRow, int64(line), rec})
		}
		bad := 0
		for _, g := range got {
			if g.status != scanRow {
				bad++
			}
		}
		if csvErr == nil {
			if bad > 0 || len(got) != len(want) {
				t.Fatalf("encoding/csv reads %q as %+v; scanner %+v", data, want, got)
			}
			for i := range got {
				if got[i].line != want[i].line || len(got[i].fields) != len(want[i].fields) {
					t.Fatalf("%q row %d: scanner %+v, encoding/csv %+v", data, i, got[i], want[i])
				}
				for j := range got[i].fields {
					if got[i].fields[j] != want[i].fields[j] {
						t.Fatalf("%q row %d field %d: scanner %q, encoding/csv %q", data, i, j, got[i].fields[j], want[i].fields[j])
					}
				}
			}
			return
		}
		var pe *csv.ParseError
		if errors.As(csvErr, &pe) && (errors.Is(pe.Err, csv.ErrQuote) || errors.Is(pe.Err, csv.ErrBareQuote)) {
			// Rows before the error agree, and the scanner finds a bad row.
			if bad == 0 {
				t.Fatalf("encoding/csv fails on %q (%v); the scanner finds no bad row: %+v", data, csvErr, got)
			}
			for i := range want {
				if i >= len(got) || got[i].status != scanRow || strings.Join(got[i].fields, "\x00") != strings.Join(want[i].fields, "\x00") {
					t.Fatalf("%q: rows before the error differ: scanner %+v, encoding/csv %+v", data, got, want)
				}
			}
		}
	})
}
