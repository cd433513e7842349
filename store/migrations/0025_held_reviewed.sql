-- record_aside.reviewed: the audit row (its seq) of the staff member who checked a record
-- held for a name mismatch and took it off the list of held records (NULL: not yet).
-- The record stays held — it is never applied — but the list shows what is left to do.
ALTER TABLE record_aside ADD COLUMN reviewed {{bigint}};
-- The list reads the held records not yet checked alone (a city's unlinked records are many).
CREATE INDEX record_aside_held ON record_aside (id) WHERE held = 1 AND reviewed IS NULL;
