package backtest

import (
	"path/filepath"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/engine"
	"github.com/silentcert/silentcert/exchange"
	"github.com/silentcert/silentcert/linkage"
)

// Final is what the end-of-run files of spec §7 are made of: the people (entitlements in
// benefit_type order) and their states on --to. backtest fills it from memory; the
// service's replay from its database, so that both write the same bytes.
type Final struct {
	People   []*sc.Recipient // in person_id order
	States   []engine.State
	Eng      *engine.Engine
	From, To sc.Date
	Workers  int
}

// WriteFiles writes status.csv, payroll.csv, overpayments.csv and regions.csv into dir and
// adds their figures (people by status, overpayments) to rep.
func (f *Final) WriteFiles(dir string, rep *Report) error {
	r := &runner{opt: Options{From: f.From, To: f.To, Workers: max(f.Workers, 1)}, eng: f.Eng, people: f.People, states: f.States, rep: rep}
	for _, o := range []struct {
		name  string
		write func(*exchange.CSVWriter) error
	}{
		{"status.csv", r.writeStatus},
		{"payroll.csv", r.writePayroll},
		{"overpayments.csv", r.writeOverpayments},
		{"regions.csv", r.writeRegions},
	} {
		if err := writeCSV(filepath.Join(dir, o.name), o.write); err != nil {
			return err
		}
	}
	return nil
}

// NewReport returns an empty report.
func NewReport() *Report { return newReport() }

// AddRoster adds a roster's figures and warnings to the report.
func (rep *Report) AddRoster(ro *exchange.Roster) { rep.roster(ro) }

// AddUnlinked counts one unlinked record of type t for the reason linkage gave.
func (rep *Report) AddUnlinked(t *sc.RecordType, outcome linkage.Outcome) {
	rep.unlinked(t, uint8(outcome))
}

// FormatWarning formats a warning as report.json lists it.
func FormatWarning(w exchange.Warning) string { return formatWarning(w) }

// WriteQuarantine writes quarantine.csv: every rejected row in the order given.
func WriteQuarantine(path string, ps []exchange.Problem) error {
	r := &runner{problems: ps}
	return writeCSV(path, r.writeQuarantine)
}

// WriteUnlinked writes unlinked.csv from the report's counts by source and type.
func WriteUnlinked(path string, rep *Report) error {
	r := &runner{rep: rep}
	return writeCSV(path, r.writeUnlinked)
}

// HeldRow is a record held for review, as held.csv lists it.
type HeldRow struct{ Source, RecordID, PersonID string }

// WriteHeld writes held.csv from rows already in spec §7's order.
func WriteHeld(path string, rows []HeldRow) error {
	return writeCSV(path, func(cw *exchange.CSVWriter) error {
		if err := cw.Row("source", "record_id", "person_id", "reason"); err != nil {
			return err
		}
		for _, h := range rows {
			if err := cw.Row(h.Source, h.RecordID, h.PersonID, "name_mismatch"); err != nil {
				return err
			}
		}
		return nil
	})
}
