-- The console's summaries, so that the dashboard of a city of a million reads a few
-- hundred rows by key instead of scanning people, audit and payments. Rebuilt whole by
-- RebuildSummary, kept current by RefreshSummary after each daily run. Every figure is
-- stored for each level of the person's current village code: '' (everyone), the city
-- (4 digits), the district (6), the town (9) and the village (12); people with no village
-- count in '' and in '~' (unassigned), whose parent is ''.

-- console_now: people by region, status and latest method, as of the last refresh.
CREATE TABLE console_now (
  region TEXT NOT NULL,
  parent TEXT NOT NULL,
  status INTEGER NOT NULL,
  method INTEGER NOT NULL,
  n      {{bigint}} NOT NULL,
  PRIMARY KEY (region, status, method)
);
CREATE INDEX console_now_parent ON console_now (parent);

-- console_stock: people by region and status at the end of each month.
CREATE TABLE console_stock (
  region TEXT NOT NULL,
  month  INTEGER NOT NULL,
  status INTEGER NOT NULL,
  n      {{bigint}} NOT NULL,
  PRIMARY KEY (region, month, status)
);

-- console_flow: decisions by region, month, action, method and evidence source.
CREATE TABLE console_flow (
  region TEXT NOT NULL,
  month  INTEGER NOT NULL,
  action TEXT NOT NULL,
  method TEXT NOT NULL,
  source TEXT NOT NULL,
  n      {{bigint}} NOT NULL,
  PRIMARY KEY (region, month, action, method, source)
);

-- console_money: payments by region, payroll month and kind (REGULAR, BACK_PAY, WITHHELD).
CREATE TABLE console_money (
  region TEXT NOT NULL,
  month  INTEGER NOT NULL,
  kind   TEXT NOT NULL,
  amount {{bigint}} NOT NULL,
  PRIMARY KEY (region, month, kind)
);

CREATE INDEX people_name ON people (name);
CREATE INDEX people_until ON people (until_day, pid);
CREATE INDEX people_status_until ON people (status, until_day, pid);
