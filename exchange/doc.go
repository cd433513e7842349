// Package exchange reads and writes files of the Certification Data Exchange Standard v1
// (认证数据交换规范, spec/exchange-v1.md §1–§3): rosters and records in CSV or JSON Lines,
// optionally gzipped, in UTF-8 or GBK/GB18030; it validates each row, sends bad rows to
// quarantine with their file, line, field and reason, and keeps the batch report.
//
// It streams with constant memory per file. It never links records to people (that is
// package linkage) and never decides anything about them (package engine).
package exchange
