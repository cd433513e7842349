// Package models holds the evidence models of the platform's "A": the weak-evidence score
// (is this person alive and present, from traces no single one of which certifies), the
// fraud-risk flag (RISK: a death hidden behind a relative's use of the card, bank account
// and phone) and the health index (mortality risk, to order visits), with their training.
//
// It is pure: no I/O, no clock, no global state, no map iteration order; the same
// parameters and records give the same verdicts. It must never let spoofable traces alone
// certify anyone, never certify a person whose traces look like a hidden death, and never
// stop a payment: a RISK row only puts a person on the worklist.
package models
