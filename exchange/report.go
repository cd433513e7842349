package exchange

import (
	"encoding/json"
	"io"
	"strconv"
)

// BatchReport counts what happened to the rows of one ingestion batch (one backtest run,
// one delivery): the exchange half of report.json (spec §7). The fields are counted by the
// callers as rows move through reading, linking and applying; WriteJSON writes them with
// keys sorted, so the same counts always give the same bytes.
type BatchReport struct {
	Files     []string          // files read, in reading order
	Encodings map[string]string // file → the encoding it was read in
	// Read counts every data row read, good or quarantined.
	Read int64
	// Applied counts records applied to a person's state.
	Applied int64
	// Duplicate counts repeats of a (source, record_id) already seen; DuplicateConflict
	// those of them whose content differs.
	Duplicate, DuplicateConflict int64
	// Quarantined counts rejected rows; QuarantinedByReason splits them by reason.
	Quarantined         int64
	QuarantinedByReason map[string]int64
	// Unlinked counts records that matched no recipient; Held those held for review.
	Unlinked, Held int64
	// ReportedDateDefaulted counts records without a reported_date (spec §7).
	ReportedDateDefaulted int64
	Warnings              []Warning
}

// AddFile records a file read and its encoding.
func (b *BatchReport) AddFile(name, encoding string) {
	b.Files = append(b.Files, name)
	if b.Encodings == nil {
		b.Encodings = map[string]string{}
	}
	b.Encodings[name] = encoding
}

// AddProblem counts a quarantined row (not in Read: count the row there yourself).
func (b *BatchReport) AddProblem(p Problem) {
	b.Quarantined++
	if b.QuarantinedByReason == nil {
		b.QuarantinedByReason = map[string]int64{}
	}
	b.QuarantinedByReason[p.Reason]++
}

// AddWarnings appends warnings.
func (b *BatchReport) AddWarnings(ws []Warning) { b.Warnings = append(b.Warnings, ws...) }

// Map returns the report as JSON-ready values with the spec's snake_case keys, for a
// caller that merges it into a larger report.
func (b *BatchReport) Map() map[string]any {
	files := b.Files
	if files == nil {
		files = []string{}
	}
	enc := b.Encodings
	if enc == nil {
		enc = map[string]string{}
	}
	byReason := b.QuarantinedByReason
	if byReason == nil {
		byReason = map[string]int64{}
	}
	return map[string]any{
		"files":                   files,
		"encodings":               enc,
		"read":                    b.Read,
		"applied":                 b.Applied,
		"duplicate":               b.Duplicate,
		"duplicate_conflict":      b.DuplicateConflict,
		"quarantined":             b.Quarantined,
		"quarantined_by_reason":   byReason,
		"unlinked":                b.Unlinked,
		"held":                    b.Held,
		"reported_date_defaulted": b.ReportedDateDefaulted,
		"warnings":                ListWarnings(b.Warnings),
		"warnings_total":          len(b.Warnings),
	}
}

// ListWarnings returns the warnings a stored report lists under "warnings" (beside
// "warnings_total", their count): the first maxListedWarnings, each as file, line, field
// and message. A file whose every row warns alike must not make a report larger than
// itself. A batch's report and a roster import's list theirs alike.
func ListWarnings(ws []Warning) []map[string]any {
	listed := ws[:min(len(ws), maxListedWarnings)]
	out := make([]map[string]any, len(listed))
	for i, w := range listed {
		out[i] = map[string]any{"file": w.File, "line": w.Line, "field": w.Field, "message": w.Message}
	}
	return out
}

// maxListedWarnings caps the warnings a batch report lists.
const maxListedWarnings = 1000

// WriteJSON writes the report as indented JSON with keys sorted (encoding/json sorts map
// keys), ending in a newline.
func (b *BatchReport) WriteJSON(w io.Writer) error {
	data, err := json.MarshalIndent(b.Map(), "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(data, '\n'))
	return err
}

// WriteQuarantine writes quarantine.csv (spec §7): the header file,line,field,reason and
// one row per problem, in the order given (see SortProblems).
func WriteQuarantine(w io.Writer, ps []Problem) error {
	cw := NewCSVWriter(w)
	if err := cw.Row("file", "line", "field", "reason"); err != nil {
		return err
	}
	var num []byte
	for i := range ps {
		p := &ps[i]
		cw.String(p.File)
		num = strconv.AppendInt(num[:0], p.Line, 10)
		cw.Raw(num)
		cw.String(p.Field)
		cw.String(p.Reason)
		if err := cw.End(); err != nil {
			return err
		}
	}
	return cw.Flush()
}
