-- coverage: how many records of each type a batch brought, by reported day and event
-- date, for the evidence models' coverage (backtest.CoverageAware): the service counts
-- them as batches come and reads them back at start. counts is a list of uvarint pairs
-- (reported day less the event date, ascending, as a difference from the previous; the
-- count), one row per batch, type and reported day.
CREATE TABLE coverage (
  batch  {{bigint}} NOT NULL,
  type   TEXT NOT NULL,
  day    INTEGER NOT NULL,
  counts {{blob}} NOT NULL,
  PRIMARY KEY (batch, type, day)
);
