package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/models"
)

// scores.csv says which traces the fortnight clock sampled: evaluate fits the ROC and the
// calibration to those alone, not to the traces kept because their RISK score was high.
func TestScoresClockColumn(t *testing.T) {
	day := func(s string) sc.Date {
		d, err := sc.ParseDate(s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	col := models.NewCollector(models.Default(), day("2024-01-01"))
	col.Trace(&models.Observation{Person: "A", Day: day("2024-02-01"), Event: day("2024-02-01"), Spoofable: true, PDead: 0.1, Risk: 0.001, Clock: true}, true)
	col.Trace(&models.Observation{Person: "A", Day: day("2024-02-05"), Event: day("2024-02-05"), Spoofable: true, PDead: 0.5, Risk: 0.9, Clock: false}, true)
	dir := t.TempDir()
	if err := writeModelOutputs(dir, col); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "scores.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 3 {
		t.Fatalf("scores.csv has %d lines, want 3:\n%s", len(lines), b)
	}
	if !strings.HasSuffix(lines[0], ",clock") || !strings.HasPrefix(lines[0], "person_id,day,event_date,spoofable,p_dead,risk,") {
		t.Errorf("header %q: want clock last, the old columns first", lines[0])
	}
	if !strings.HasSuffix(lines[1], ",1") || !strings.HasPrefix(lines[1], "A,2024-02-01,") {
		t.Errorf("clock trace %q: want clock 1", lines[1])
	}
	if !strings.HasSuffix(lines[2], ",0") || !strings.HasPrefix(lines[2], "A,2024-02-05,") {
		t.Errorf("risk-only trace %q: want clock 0", lines[2])
	}
}
