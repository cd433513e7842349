package exchange

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run go test -update to rewrite):\n%s", name, got)
	}
}

func sampleReport() *BatchReport {
	var b BatchReport
	b.AddFile("records/b.csv", EncodingGB18030)
	b.AddFile("records/a.jsonl.gz", EncodingUTF8)
	b.Read, b.Applied, b.Duplicate, b.DuplicateConflict = 10, 5, 2, 1
	for _, r := range []string{ReasonBadDate, ReasonEncoding, ReasonBadDate} {
		b.AddProblem(Problem{Reason: r})
	}
	b.Unlinked, b.Held, b.ReportedDateDefaulted = 1, 1, 3
	b.AddWarnings([]Warning{{File: "records/b.csv", Line: 1, Field: "extra", Message: `unknown column "extra" ignored`}})
	return &b
}

func TestBatchReport(t *testing.T) {
	var out bytes.Buffer
	if err := sampleReport().WriteJSON(&out); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.golden.json", out.Bytes())
	// Same counts, same bytes, whatever order the maps were filled in.
	var again bytes.Buffer
	sampleReport().WriteJSON(&again)
	if !bytes.Equal(out.Bytes(), again.Bytes()) {
		t.Error("report not deterministic")
	}
	var empty bytes.Buffer
	if err := (&BatchReport{}).WriteJSON(&empty); err != nil || !bytes.Contains(empty.Bytes(), []byte(`"files": []`)) {
		t.Errorf("empty report: %v %s", err, empty.Bytes())
	}
}

func TestWriteQuarantine(t *testing.T) {
	ps := []Problem{
		{File: "b.csv", Line: 9, Field: "type", Reason: ReasonUnknownType},
		{File: "a,\"odd\".csv", Line: 2, Field: "", Reason: ReasonMalformed},
		{File: "b.csv", Line: 3, Field: "event_date", Reason: ReasonBadDate},
	}
	SortProblems(ps)
	var out bytes.Buffer
	if err := WriteQuarantine(&out, ps); err != nil {
		t.Fatal(err)
	}
	golden(t, "quarantine.golden.csv", out.Bytes())
}

func TestProblemError(t *testing.T) {
	p := Problem{File: "f.csv", Line: 12, Field: "type", Reason: ReasonUnknownType, Message: "type \"X\" is not in the catalogue"}
	if got := p.Error(); got != `f.csv:12: type: type "X" is not in the catalogue (unknown_type)` {
		t.Error(got)
	}
}
