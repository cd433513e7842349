-- The engine's state moves out of people into a narrow table of its own: a payroll day
-- rewrites every person's state, and rewriting the whole wide row (names, address,
-- entitlements) each time wrote five times the bytes, and on PostgreSQL a new version of
-- the row with an entry in each of people's indexes. people keeps what the console filters
-- on (status, until_day, last_method, death_date), written only when it changes.
CREATE TABLE people_state (
  pid        {{bigint}} PRIMARY KEY,
  next_check INTEGER NOT NULL,
  baselined  INTEGER NOT NULL,
  state      {{blob}} NOT NULL
);
INSERT INTO people_state (pid, next_check, baselined, state) SELECT pid, next_check, baselined, state FROM people;
ALTER TABLE people DROP COLUMN next_check;
ALTER TABLE people DROP COLUMN baselined;
ALTER TABLE people DROP COLUMN state;
