-- The core: recipients with their engine state, records, batches, quarantine, the audit
-- trail (decisions and every staff or API action, hash-chained), payments, payrolls,
-- daily runs, API keys. Days are days since 1970-01-01; months are months since 1970-01.

CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

-- people: one row per recipient (spec §2, merged), with the engine's state as a blob and
-- the few values the console filters on copied out of it.
CREATE TABLE people (
  pid            {{bigint}} PRIMARY KEY,
  person_id      TEXT NOT NULL UNIQUE,
  name           TEXT NOT NULL,
  sex            INTEGER NOT NULL,
  birth_date     INTEGER NOT NULL,
  hukou_address  TEXT NOT NULL,
  region_code    TEXT NOT NULL,
  phone          TEXT NOT NULL,
  agent_phone    TEXT NOT NULL,
  last_certified INTEGER NOT NULL,
  entitlements   TEXT NOT NULL,
  status         INTEGER NOT NULL,
  until_day      INTEGER NOT NULL,
  last_method    INTEGER NOT NULL,
  death_date     INTEGER NOT NULL,
  next_check     INTEGER NOT NULL,
  baselined      INTEGER NOT NULL,
  state          {{blob}} NOT NULL
);
CREATE INDEX people_region ON people (region_code, status);
CREATE INDEX people_status ON people (status, until_day);
CREATE INDEX people_next ON people (next_check);

-- batches: every ingestion, whatever way it came, with its report (JSON).
CREATE TABLE batches (
  id        {{id}},
  origin    TEXT NOT NULL,
  source    TEXT NOT NULL,
  actor     TEXT NOT NULL,
  received  TEXT NOT NULL,
  day       INTEGER NOT NULL,
  status    TEXT NOT NULL,
  files     TEXT NOT NULL,
  report    TEXT NOT NULL
);

CREATE TABLE quarantine (
  batch   {{bigint}} NOT NULL REFERENCES batches (id),
  seq     INTEGER NOT NULL,
  file    TEXT NOT NULL,
  line    {{bigint}} NOT NULL,
  field   TEXT NOT NULL,
  reason  TEXT NOT NULL,
  message TEXT NOT NULL,
  PRIMARY KEY (batch, seq)
);

-- records: every row read and not quarantined, once per (source, record_id): applied,
-- held for review (name mismatch) or linked to no one (link > 0).
CREATE TABLE records (
  id            {{id}},
  source        TEXT NOT NULL,
  record_id     TEXT NOT NULL,
  type          TEXT NOT NULL,
  pid           {{bigint}},
  link          INTEGER NOT NULL,
  held          INTEGER NOT NULL,
  person_id     TEXT NOT NULL,
  name          TEXT NOT NULL,
  birth_date    INTEGER NOT NULL,
  event_date    INTEGER NOT NULL,
  reported_date INTEGER NOT NULL,
  region_code   TEXT NOT NULL,
  detail        TEXT NOT NULL,
  content       {{bigint}} NOT NULL,
  batch         {{bigint}} NOT NULL,
  file          TEXT NOT NULL,
  line          {{bigint}} NOT NULL,
  UNIQUE (source, record_id)
);
CREATE INDEX records_person ON records (pid, event_date);

-- audit: the append-only trail. Decisions (kind 'decision', one per engine row) and every
-- staff or API action; each row's hash covers the previous row's hash.
CREATE TABLE audit (
  seq       {{id}},
  kind      TEXT NOT NULL,
  day       INTEGER NOT NULL,
  at        TEXT NOT NULL,
  actor     TEXT NOT NULL,
  pid       {{bigint}} NOT NULL,
  person_id TEXT NOT NULL,
  action    TEXT NOT NULL,
  method    TEXT NOT NULL,
  evidence  TEXT NOT NULL,
  detail    TEXT NOT NULL,
  rule      TEXT NOT NULL,
  prev      {{blob}} NOT NULL,
  hash      {{blob}} NOT NULL
);
CREATE INDEX audit_person ON audit (pid, seq);
CREATE INDEX audit_day ON audit (kind, day, person_id);

-- payments: every monthly amount released (REGULAR or BACK_PAY) or withheld, per
-- entitlement; (pid, benefit, month, kind) is the idempotency key.
CREATE TABLE payments (
  pid           {{bigint}} NOT NULL,
  benefit       TEXT NOT NULL,
  month         INTEGER NOT NULL,
  kind          TEXT NOT NULL,
  amount        {{bigint}} NOT NULL,
  payroll_month INTEGER NOT NULL,
  PRIMARY KEY (pid, benefit, month, kind)
);
CREATE INDEX payments_payroll ON payments (payroll_month);

-- payrolls: one per month run, with the snapshot of the statuses and evidence it was
-- computed from (gzipped CSV), so that every amount can be reproduced.
CREATE TABLE payrolls (
  month    INTEGER PRIMARY KEY,
  day      INTEGER NOT NULL,
  paid     {{bigint}} NOT NULL,
  back_pay {{bigint}} NOT NULL,
  withheld {{bigint}} NOT NULL,
  rows     {{bigint}} NOT NULL,
  snapshot {{blob}} NOT NULL
);

-- runs: each day evaluated, once.
CREATE TABLE runs (
  day       INTEGER PRIMARY KEY,
  at        TEXT NOT NULL,
  evaluated {{bigint}} NOT NULL,
  decisions {{bigint}} NOT NULL
);

-- counters: the engine's counters and the run's money, cumulative (report.json).
CREATE TABLE counters (
  name TEXT PRIMARY KEY,
  n    {{bigint}} NOT NULL
);

-- api_keys: per-source keys for POST /api/v1/batches, stored as SHA-256 of the secret.
CREATE TABLE api_keys (
  id      {{id}},
  source  TEXT NOT NULL,
  name    TEXT NOT NULL,
  prefix  TEXT NOT NULL,
  hash    {{blob}} NOT NULL UNIQUE,
  created TEXT NOT NULL,
  revoked TEXT NOT NULL
);
