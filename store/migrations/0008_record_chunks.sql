-- Records, compact (see store/chunk.go): the wide records table of 0001 becomes
--   record_keys    (source, record_id) hashed to 128 bits → id and content hash: dedupe;
--   record_people  a person's records by event date: timelines;
--   record_chunks  the records themselves, up to 128 of consecutive ids encoded per row;
--   record_aside   the few records held for review or linked to no one;
--   deliveries     the (type, reported day) pairs delivered, for the models' delivery gaps.
-- The rows of records are moved by the migration's Go step (store.moveRecords), then the
-- old table is dropped.
CREATE TABLE record_keys (
  k1      {{bigint}} NOT NULL,
  k2      {{bigint}} NOT NULL,
  id      {{bigint}} NOT NULL,
  content {{bigint}} NOT NULL,
  PRIMARY KEY (k1, k2)
){{without_rowid}};
CREATE TABLE record_people (
  pid        {{bigint}} NOT NULL,
  event_date INTEGER NOT NULL,
  id         {{bigint}} NOT NULL,
  PRIMARY KEY (pid, event_date, id)
){{without_rowid}};
CREATE TABLE record_chunks (
  first {{bigint}} PRIMARY KEY,
  last  {{bigint}} NOT NULL,
  data  {{blob}} NOT NULL
);
CREATE TABLE record_aside (
  id   {{bigint}} PRIMARY KEY,
  type TEXT NOT NULL,
  link INTEGER NOT NULL,
  held INTEGER NOT NULL
);
CREATE TABLE deliveries (
  type TEXT NOT NULL,
  day  INTEGER NOT NULL,
  PRIMARY KEY (type, day)
){{without_rowid}};
