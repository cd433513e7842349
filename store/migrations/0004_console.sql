-- The console's summaries, so that the dashboard of a city of a million reads a few
-- thousand rows instead of scanning people, audit and payments. Rebuilt whole by
-- RebuildSummary, kept current by RefreshSummary after each daily run. Keyed by the
-- person's current village code ('' when unassigned); every level above is a prefix.

-- console_now: people by village, status and latest method, as of the last refresh.
CREATE TABLE console_now (
  village TEXT NOT NULL,
  status  INTEGER NOT NULL,
  method  INTEGER NOT NULL,
  n       {{bigint}} NOT NULL,
  PRIMARY KEY (village, status, method)
);

-- console_stock: people by village and status at the end of each month.
CREATE TABLE console_stock (
  month   INTEGER NOT NULL,
  village TEXT NOT NULL,
  status  INTEGER NOT NULL,
  n       {{bigint}} NOT NULL,
  PRIMARY KEY (month, village, status)
);

-- console_flow: decisions by month, village, action, method and evidence source.
CREATE TABLE console_flow (
  month   INTEGER NOT NULL,
  village TEXT NOT NULL,
  action  TEXT NOT NULL,
  method  TEXT NOT NULL,
  source  TEXT NOT NULL,
  n       {{bigint}} NOT NULL,
  PRIMARY KEY (month, village, action, method, source)
);

-- console_money: payments by payroll month, village and kind (REGULAR, BACK_PAY, WITHHELD).
CREATE TABLE console_money (
  month   INTEGER NOT NULL,
  village TEXT NOT NULL,
  kind    TEXT NOT NULL,
  amount  {{bigint}} NOT NULL,
  PRIMARY KEY (month, village, kind)
);

CREATE INDEX people_name ON people (name);
CREATE INDEX people_until ON people (until_day);
