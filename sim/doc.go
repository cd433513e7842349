// Package sim is the city simulator and the evaluator: it writes a whole city's roster and
// department records in the exchange-v1 format, with the ground truth beside them
// (Simulate), and scores a backtest's output against that truth (Evaluate).
//
// The simulator stands in for the data nobody can hand us: real divisions of a prefecture,
// a pensioner population with mortality drawn from the UN WPP 2024 China rates, behaviour
// that drives every source of the evidence catalogue, and the faults real department files
// carry (corrupted IDs, duplicates, GBK files, late batches, unreported deaths, 冒领 fraud).
// Every number it draws from is in Rates, a documented JSON file an analyst can change.
//
// It must never read the wall clock or depend on map order or on the number of workers:
// the same options and seed give byte-identical output. It must never embed data whose
// licence forbids shipping it (see data/SOURCES.md), and it never imports the engine: the
// simulated people are open-loop, so the evaluator judges the engine against a world the
// engine cannot have shaped.
package sim
