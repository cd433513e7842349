-- batches.idem: a batch's idempotency key, when its sender gives one (the drop folder: the
-- source, the file's name and the SHA-256 of its bytes). A file ingested and committed but
-- not yet moved to done/ when the process stopped is found by it on the next scan and
-- only moved, instead of being ingested again (a second batch, its quarantined rows twice).
ALTER TABLE batches ADD COLUMN idem TEXT;
CREATE UNIQUE INDEX batches_idem ON batches (idem) WHERE idem IS NOT NULL;
