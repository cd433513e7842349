// Package engine is the certification state machine of spec §6: per-person state, records
// applied as of a day, the daily evaluation, payroll, back pay and overpayments.
//
// It is pure. It does no I/O, reads no clock (the day is an argument), keeps no global
// state and never depends on map iteration order. backtest drives it over history in
// memory; serve drives the same code over persisted state. Every rule reads one person's
// state only, so people can be processed in any order, or in parallel.
package engine
