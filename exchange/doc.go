// Package exchange reads and writes files of the Certification Data Exchange Standard v1
// (认证数据交换规范, spec/exchange-v1.md §1–§3): rosters and records in CSV or JSON Lines,
// optionally gzipped, in UTF-8 or GBK/GB18030; it validates each row, sends bad rows to
// quarantine with their file, line, field and reason, and keeps the batch report.
//
// It streams with constant memory per file. It never links records to people (that is
// package linkage) and never decides anything about them (package engine).
//
// # Reading
//
// RecordReader reads one record file row by row (OpenRecords, NewRecordReader, Next);
// ReadRoster reads and merges a whole roster into Recipients. Both share the same layers:
//
//   - bytes, through gzip when the name ends in .gz;
//   - an encoding, forced by Options.Encoding or detected on the first 64 KiB (UTF-8 unless
//     they are not valid UTF-8 and decode as GB18030 without a replacement character; a
//     character cut by the 64 KiB boundary counts neither way; a UTF-8 byte-order mark
//     settles it). A forced gbk or gb18030 is not applied to a file that starts with a
//     UTF-8 byte-order mark, or whose first 64 KiB are valid UTF-8 holding a Chinese
//     character: the agency's own UTF-8 roster beside GBK department files; it is read as
//     UTF-8 with a warning naming it. gbk is read as GB18030, its superset (rare name
//     characters take GB18030's four-byte form). Decoding never fails a file: a row holding bytes that do not decode is
//     quarantined with reason "encoding" and the rest loads;
//   - rows: a hand-written RFC 4180 scanner that reads exactly what encoding/csv reads (it
//     is fuzzed against it), or a flat JSON object parser that accepts exactly what
//     encoding/json accepts for such a line (fuzzed too);
//   - validation (spec §2, §3): the first rule a row breaks names its problem.
//
// Values are trimmed of white space. An empty value is an absent one. Header names and
// JSON keys are matched without regard to letter case; unknown ones are warned about once
// per file and ignored; a JSON null is an absent value. A missing required column is an
// error for the whole file, naming it and the column (JSON Lines have no header, so there
// a missing value is a row's missing_field).
//
// # Decisions the standard leaves open
//
//   - A row with broken quoting (a quote inside an unquoted field, text after a closing
//     quote, a quote never closed) is quarantined as malformed and reading resumes at the
//     physical line after the one the row started on, so one stray quote costs one row. A
//     row with the wrong number of fields was read correctly, so reading resumes after it.
//   - A row, with all its physical lines, longer than 4 MiB is quarantined as malformed:
//     that bounds the memory a file can take.
//   - The detail column: pairs key=value separated by ';', keys without regard to case,
//     empty pairs skipped, unknown keys ignored; critical and agent must be 0 or 1, count a
//     whole number from 1 to 1,000,000, amount yuan of spec §1, accept death or alive, ref
//     SOURCE:RECORD_ID. The detail is optional: a part that is not key=value (a note in
//     free text) or a known key with another value is dropped with a warning and the
//     record kept (a death is not lost for its note), except critical, which is then read
//     as 1 (fail safe: a critical admission never certifies on its own); only a bad accept or ref, without
//     which a review decides nothing, is bad_detail. In JSON Lines an object of strings is
//     rewritten as key=value;… (amount may be a number); a value of another kind, or a key
//     or value holding '=' or ';', is dropped alike (bad_detail or malformed for accept
//     and ref).
//   - Datetimes (spec §1: YYYY-MM-DDTHH:MM:SS "with or without an offset", no standard
//     named): the T in either case or a space, an optional fraction, and no offset
//     (Shanghai time), Z or z, ±HH:MM, ±HHMM or ±HH (silentcert.ParseDateTimeBytes). A
//     time without seconds, 24:00:00 and one-digit offsets are bad_date, whose message
//     names these forms.
//   - Records: person_id is kept as given; whether it is a valid number is linkage's
//     business, so it is never a reason to quarantine. region_code is kept as given.
//   - Rosters: sex or birth_date contradicting person_id is quarantined with reason
//     disagrees_with_id; name and last_certified are compared as trimmed text and parsed
//     date; a row that leaves last_certified out agrees with any (another agency's
//     entitlement need not repeat it), before or after the row that gives it; a row that
//     gives another date than an earlier row is quarantined.
//     A quarantined row defines nothing: the person's first accepted row does. Each row
//     keeps its own offset_capacity (spec §6 sums them); a different one is a warning.
//     People without a region code are resolved through RosterOptions.ResolveRegion once,
//     in PersonID order, after the whole file is read.
//
// Problems and warnings never carry ID numbers, names or phone numbers unmasked.
package exchange
