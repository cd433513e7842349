// Package backtest is the in-memory driver of spec §7 (历史回放): it reads a roster and
// record files, links and de-duplicates the records, replays them day by day through the
// engine and writes decisions, statuses, payroll, overpayments, quarantine, held and
// unlinked files and the report.
//
// Memory is bounded by the number of recipients plus a compact entry per record (see
// entry); files are read in parallel and the engine runs on several goroutines, each over
// its own range of people, which the rules allow because no rule reads two people.
// Outputs are byte-identical for the same inputs whatever the number of goroutines.
package backtest
