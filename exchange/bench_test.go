package exchange

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"fmt"
	"io"
	"testing"

	"github.com/silentcert/silentcert"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"
)

var benchTypes = [...][2]string{{"MED", "MED.OUTPATIENT"}, {"TRN", "TRN.TRANSIT"}, {"HRSS", "HRSS.FACE"}, {"BANK", "BANK.TXN"}, {"TEL", "TEL.ACTIVITY"}}

// benchCSV returns a record file of n rows of about 100 bytes each, as a department
// exports them (UTF-8, a Chinese name, a region code, a short detail).
func benchCSV(n int) []byte {
	var b bytes.Buffer
	b.WriteString("record_id,source,type,person_id,name,event_date,reported_date,region_code,detail\n")
	for i := 0; i < n; i++ {
		t := benchTypes[i%len(benchTypes)]
		fmt.Fprintf(&b, "R%010d,%s,%s,3710011980%08d,张三丰,2024-03-%02d,2024-03-%02d,371001001001,count=%d\n",
			i, t[0], t[1], i%100000000, 1+i%27, 2+i%27, 1+i%3)
	}
	return b.Bytes()
}

const benchRows = 50000

func readAllRows(b *testing.B, r io.Reader, gz bool) int {
	rr, err := NewRecordReader("bench.csv", r, FormatCSV, gz, benchCat, Options{})
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for {
		_, p, err := rr.Next()
		if err == io.EOF {
			break
		}
		if err != nil || p != nil {
			b.Fatal(err, p)
		}
		n++
	}
	rr.Close()
	return n
}

var benchCat = silentcert.DefaultCatalogue()

func csvBaseline(b *testing.B, r io.Reader) int {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	n := -1
	for {
		_, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		n++
	}
	return n
}

// BenchmarkReadRecords reads the same file with RecordReader.Next (scanning, decoding and
// validating every row) and with encoding/csv (ReuseRecord; splitting only), so the ratio
// is measured in one run on one machine. One op is one pass over the whole file.
func BenchmarkReadRecords(b *testing.B) {
	data := benchCSV(benchRows)
	gbkData, err := simplifiedchinese.GBK.NewEncoder().Bytes(data)
	if err != nil {
		b.Fatal(err)
	}
	var zb bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&zb, gzip.DefaultCompression)
	zw.Write(data)
	zw.Close()
	gzData := zb.Bytes()

	run := func(name string, size int, read func() int) {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			rows := 0
			for b.Loop() {
				rows = read()
			}
			if rows != benchRows {
				b.Fatalf("%d rows", rows)
			}
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(0, "ns/op")
		})
	}
	run("utf8/silentcert", len(data), func() int { return readAllRows(b, bytes.NewReader(data), false) })
	run("utf8/encoding_csv", len(data), func() int { return csvBaseline(b, bytes.NewReader(data)) })
	run("gbk/silentcert", len(gbkData), func() int { return readAllRows(b, bytes.NewReader(gbkData), false) })
	run("gbk/encoding_csv", len(gbkData), func() int {
		return csvBaseline(b, transform.NewReader(bytes.NewReader(gbkData), simplifiedchinese.GB18030.NewDecoder()))
	})
	run("gzip/silentcert", len(data), func() int { return readAllRows(b, bytes.NewReader(gzData), true) })
	run("gzip/encoding_csv", len(data), func() int {
		zr, err := gzip.NewReader(bytes.NewReader(gzData))
		if err != nil {
			b.Fatal(err)
		}
		return csvBaseline(b, zr)
	})
}

// BenchmarkScanCSV is the bare scanner (no validation) against encoding/csv.
func BenchmarkScanCSV(b *testing.B) {
	data := benchCSV(benchRows)
	b.Run("silentcert", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			var t textBuf
			t.initText(bytes.NewReader(data), EncodingUTF8)
			c := csvScanner{t: &t}
			n := 0
			for {
				st, _ := c.next()
				if st != scanRow {
					break
				}
				c.finish()
				n++
			}
			if n != benchRows+1 {
				b.Fatal(n)
			}
		}
	})
	b.Run("encoding_csv", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			csvBaseline(b, bytes.NewReader(data))
		}
	})
}

// TestNextAllocsJSONL asserts the same for JSON Lines rows, with escapes and a detail object.
func TestNextAllocsJSONL(t *testing.T) {
	var b bytes.Buffer
	for i := 0; i < 3000; i++ {
		fmt.Fprintf(&b, `{"record_id":"R%d","source":"MED","type":"MED.INPATIENT","person_id":"371001198010082394","name":"\u5f20\u4e09","event_date":"2024-03-01","detail":{"critical":"1","amount":12.5},"x":1}`+"\n", i)
	}
	r, err := NewRecordReader("a.jsonl", bytes.NewReader(b.Bytes()), FormatJSONL, false, benchCat, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		r.Next()
	}
	allocs := testing.AllocsPerRun(2000, func() {
		if row, p, err := r.Next(); err != nil || p != nil || string(row.Name) != "张三" {
			t.Fatal(err, p)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per good JSON Lines row", allocs)
	}
}

// TestNextAllocs asserts that Next allocates nothing for a good row, in every encoding.
func TestNextAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts are meaningless under -short's race builds")
	}
	data := benchCSV(3000)
	gbkData, _ := simplifiedchinese.GBK.NewEncoder().Bytes(data)
	for name, d := range map[string][]byte{"utf8": data, "gbk": gbkData} {
		r, err := NewRecordReader("a.csv", bytes.NewReader(d), FormatCSV, false, benchCat, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 100; i++ { // warm up the field slices
			r.Next()
		}
		allocs := testing.AllocsPerRun(2000, func() {
			if _, p, err := r.Next(); err != nil || p != nil {
				t.Fatal(err, p)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per good row", name, allocs)
		}
	}
}
