package service

import (
	"fmt"
	"strings"
	"testing"
	"unsafe"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/exchange"
)

// A large batch holds every row it read until it commits: a row is kept in one small
// struct and one allocation for its strings (as an sc.Record with its strings apart, it
// took about 290 bytes in seven allocations, over half of the batch's memory).
func TestRowsKeptCompactly(t *testing.T) {
	if size := unsafe.Sizeof(Row{}); size > 80 {
		t.Errorf("a row takes %d bytes, want at most 80", size)
	}
	// An applied record's item, held with every other and copied once to be put in
	// order, is its person and its place (its engine input is made as it is applied).
	if size := unsafe.Sizeof(applyItem{}); size > 16 {
		t.Errorf("an applied record's item takes %d bytes, want at most 16", size)
	}
	const n = 2000
	var b strings.Builder
	b.WriteString("record_id,source,type,person_id,name,birth_date,event_date,reported_date,region_code,detail\n")
	for i := range n {
		fmt.Fprintf(&b, "MED%08d-1,MED,MED.INPATIENT,3710021952121705%02d,吴凤,1952-12-17,2024-06-13,2024-06-25,371002%03d,icd10=I21;critical=1\n",
			i, i%100, i%1000)
	}
	body := b.String()
	cat := sc.DefaultCatalogue()
	var rows [][]Row
	allocs := testing.AllocsPerRun(3, func() {
		rr, err := exchange.NewRecordReader("a.csv", strings.NewReader(body), exchange.FormatCSV, false, cat, exchange.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var probs []exchange.Problem
		rows, probs, err = readAll(rr, "", cat, nil)
		if err != nil || len(probs) > 0 {
			t.Fatal(err, len(probs), probs[:min(len(probs), 1)])
		}
	})
	if got := len(rows[0]); got == 0 || rows[0][0].File() != "a.csv" || rows[0][0].RegionCode() != "371002000" || !rows[0][0].Critical {
		t.Fatalf("read %d rows, the first %+v", got, rows[0][0])
	}
	if perRow := allocs / n; perRow > 1.2 {
		t.Errorf("%.2f allocations a row read, want about one", perRow)
	}
}
