package service

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/exchange"
)

// spillRows makes n record rows of two files whose values repeat or change at random, as
// the fields of a department's file do.
func spillRows(n int, seed uint64) []exchange.RecordRow {
	rng := rand.New(rand.NewPCG(seed, seed))
	pick := func(opts ...string) []byte { return []byte(opts[rng.IntN(len(opts))]) }
	rows := make([]exchange.RecordRow, n)
	for i := range rows {
		r := &rows[i]
		r.File = string(pick("records/TRN/2024-01.csv", "records/HEA/2024-01.csv.gz"))
		r.Line = int64(i*2 + rng.IntN(2) + 2)
		r.RecordID = []byte(itoa(rng.Int64N(1 << 40)))
		r.Source, r.PersonID, r.Name = pick("TRN", "HEA", ""), pick("370102194501011234", "", "x"), pick("张三", "李四光", "")
		r.RegionCode, r.RawDetail = pick("", "371002001001"), pick("", "amount=1.50", "critical=1;icd10=I21")
		r.Type = sc.TypeID(rng.IntN(40))
		r.BirthDate, r.EventDate, r.ReportedDate = sc.Date(rng.IntN(40000)-20000), sc.Date(rng.IntN(30000)), sc.Date(rng.IntN(30000))
		r.Detail = sc.Detail{ICD10: string(pick("", "I21", "C34.1")), Critical: rng.IntN(2) == 0, Agent: rng.IntN(3) == 0,
			Count: rng.IntN(4), Amount: sc.Fen(rng.Int64N(1<<40) - 1<<39), HasAmt: rng.IntN(2) == 0,
			Accept: string(pick("", "death", "alive")), Ref: string(pick("", "CIV:123"))}
	}
	return rows
}

// encodeSpill encodes rows as spillRecords does (a window per file, every row in window
// w) and returns the spill file's bytes.
func encodeSpill(rows []exchange.RecordRow) []byte {
	var out bytes.Buffer
	var e spillEncoder
	for i := range rows {
		if i > 0 && rows[i].File != rows[i-1].File {
			for j := range e.parts {
				out.Write(e.parts[j].head())
				out.Write(e.parts[j].b)
			}
			e = spillEncoder{}
		}
		e.add(int(rows[i].Line%3), &rows[i])
	}
	for j := range e.parts {
		out.Write(e.parts[j].head())
		out.Write(e.parts[j].b)
	}
	return out.Bytes()
}

// Every field of a row comes back from its spill file as it was read, in the order of
// its file and window.
func TestSpillRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 2, 1000} {
		rows := spillRows(n, uint64(n))
		// Rows as the encoder groups them: each run of one file, by window, in order.
		var want []Row
		for i := 0; i < n; {
			j := i
			for j < n && rows[j].File == rows[i].File {
				j++
			}
			var order []int
			for k := i; k < j; k++ {
				w := int(rows[k].Line % 3)
				if !slices.Contains(order, w) {
					order = append(order, w)
				}
			}
			for _, w := range order {
				for k := i; k < j; k++ {
					if int(rows[k].Line%3) == w {
						want = append(want, rowOf(new(rows[k].Record()), &rows[k].File, rows[k].Line))
					}
				}
			}
			i = j
		}
		var got []Row
		if err := decodeSpill(encodeSpill(rows), func(r *Row) error { got = append(got, *r); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("%d rows: got %d back", len(want), len(got))
		}
		for i := range want {
			if rowView(&got[i]) != rowView(&want[i]) {
				t.Fatalf("row %d:\n got  %+v\n want %+v", i, got[i], want[i])
			}
		}
	}
}

// A damaged spill file is an error, never a panic or a row made up.
func FuzzDecodeSpill(f *testing.F) {
	f.Add(encodeSpill(spillRows(20, 1)))
	f.Add([]byte{})
	f.Add([]byte{5, 0, 1, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		n := 0
		err := decodeSpill(b, func(*Row) error { n++; return nil })
		if err == nil && len(b) == 0 && n != 0 {
			t.Fatal("rows from nothing")
		}
	})
}

// rowView is every field of a row, to compare.
type rowViewed struct {
	strs                   [rowStrings]string
	file                   string
	line                   int64
	birth, event, reported sc.Date
	typ                    sc.TypeID
	critical               bool
}

func rowView(r *Row) rowViewed {
	v := rowViewed{file: r.File(), line: r.Line, birth: r.BirthDate, event: r.EventDate, reported: r.ReportedDate, typ: r.Type, critical: r.Critical}
	for i := range v.strs {
		v.strs[i] = r.str(i)
	}
	return v
}
