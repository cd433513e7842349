package backtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/engine"
	"github.com/silentcert/silentcert/exchange"
	"github.com/silentcert/silentcert/linkage"
)

// Report is what a run counts; report.json is its JSON form with keys sorted.
type Report struct {
	Files                 int64
	FilesRejected         int64
	Encodings             map[string]int64 // files by the encoding used
	Read                  int64
	Applied               int64
	Duplicate             int64
	DuplicateConflict     int64
	Quarantined           int64
	QuarantinedByReason   map[string]int64
	Unlinked              int64
	UnlinkedByReason      map[string]int64
	Held                  int64
	ReportedDateDefaulted int64
	ReportedAfterTo       int64
	Warnings              []string

	RosterRows        int64
	RosterQuarantined int64
	RosterWarnings    int64
	Recipients        int64
	Unassigned        int64 // recipients with no village code: given none, and the address did not resolve
	RosterEncoding    string

	Certifications map[string]int64 // CERTIFIED rows by method
	Decisions      map[string]int64 // rows by action
	People         map[string]int64 // people by status on --to
	Counters       map[string]int64 // the engine's counters

	PaidRegular, PaidBack, Withheld sc.Fen
	WithheldBy                      map[string]sc.Fen
	Overpaid, Offset, ToRecover     sc.Fen

	unlinkedBy map[[2]string]int64 // (source, type)
}

func newReport() *Report {
	return &Report{
		Encodings: map[string]int64{}, QuarantinedByReason: map[string]int64{}, UnlinkedByReason: map[string]int64{},
		Certifications: map[string]int64{}, Decisions: map[string]int64{}, People: map[string]int64{},
		Counters: map[string]int64{}, WithheldBy: map[string]sc.Fen{}, unlinkedBy: map[[2]string]int64{},
	}
}

func (rep *Report) roster(ro *exchange.Roster) {
	rep.RosterRows = int64(ro.Rows)
	rep.RosterQuarantined = int64(len(ro.Problems))
	rep.RosterWarnings = int64(len(ro.Warnings))
	rep.Recipients = int64(len(ro.Recipients))
	rep.RosterEncoding = ro.Encoding
	for _, p := range ro.Recipients {
		if p.RegionCode == "" {
			rep.Unassigned++
		}
	}
	for _, w := range ro.Warnings {
		rep.Warnings = append(rep.Warnings, formatWarning(w))
	}
}

func formatWarning(w exchange.Warning) string {
	s := w.File
	if w.Line > 0 {
		s += fmt.Sprintf(":%d", w.Line)
	}
	if w.Field != "" {
		s += ": " + w.Field
	}
	return s + ": " + w.Message
}

func (rep *Report) unlinked(t *sc.RecordType, outcome uint8) {
	rep.unlinkedBy[[2]string{t.Source, t.Code}]++
	rep.UnlinkedByReason[linkage.Outcome(outcome).String()]++
}

func (rep *Report) add(s *sink) {
	rep.PaidRegular += s.paidRegular
	rep.PaidBack += s.paidBack
	rep.Withheld += s.withheld
	for st, f := range s.withheldBy {
		if f != 0 {
			rep.WithheldBy[sc.Status(st).String()] += f
		}
	}
	for m, n := range s.certs {
		if n != 0 {
			rep.Certifications[sc.Method(m).String()] += n
		}
	}
	for a, n := range s.actions {
		if n != 0 {
			rep.Decisions[sc.Action(a).String()] += n
		}
	}
	for c, n := range s.counts {
		if n != 0 {
			rep.Counters[engine.Counter(c).String()] += n
		}
	}
}

// maxWarnings caps the warnings listed in report.json; warnings_total counts them all.
const maxWarnings = 1000

func money(f sc.Fen) json.Number { return json.Number(f.String()) }

// WriteJSON writes the report as report.json: keys sorted, amounts in yuan with two
// decimals, deterministic.
func (rep *Report) WriteJSON(w io.Writer) error {
	withheldBy := map[string]json.Number{}
	for k, v := range rep.WithheldBy {
		withheldBy[k] = money(v)
	}
	warnings := rep.Warnings
	if warnings == nil {
		warnings = []string{}
	}
	if len(warnings) > maxWarnings { // a roster full of bad phones must not bury the rest
		warnings = warnings[:maxWarnings]
	}
	m := map[string]any{
		"files": map[string]any{"read": rep.Files, "rejected": rep.FilesRejected, "encodings": rep.Encodings},
		"records": map[string]any{
			"read": rep.Read, "applied": rep.Applied, "duplicate": rep.Duplicate,
			"duplicate_conflict": rep.DuplicateConflict, "quarantined": rep.Quarantined,
			"quarantined_by_reason": rep.QuarantinedByReason, "unlinked": rep.Unlinked,
			"unlinked_by_reason": rep.UnlinkedByReason, "held": rep.Held,
			"reported_date_defaulted": rep.ReportedDateDefaulted, "reported_after_to": rep.ReportedAfterTo,
		},
		"roster": map[string]any{
			"rows": rep.RosterRows, "quarantined": rep.RosterQuarantined, "warnings": rep.RosterWarnings,
			"recipients": rep.Recipients, "encoding": rep.RosterEncoding, "unassigned": rep.Unassigned,
		},
		"certifications": rep.Certifications,
		"decisions":      rep.Decisions,
		"people":         rep.People,
		"counters":       rep.Counters,
		"money": map[string]any{
			"paid_regular": money(rep.PaidRegular), "paid_back_pay": money(rep.PaidBack),
			"withheld": money(rep.Withheld), "withheld_by_status": withheldBy,
			"overpaid": money(rep.Overpaid), "offset": money(rep.Offset), "to_recover": money(rep.ToRecover),
		},
		"warnings":       warnings,
		"warnings_total": len(rep.Warnings),
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}
