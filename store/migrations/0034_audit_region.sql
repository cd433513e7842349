-- Each audit row keeps the region it was written in: its person's region then, or, for a
-- row about no person, its actor's account's region then. A scoped auditor read the rows
-- of the people now in the region, so a move took a person's whole history out of the
-- old region's sight (and a village assistant's own visits with it). Rows written before
-- keep '' and are read as before, by the person's or the account's region now; a row's
-- region, when set, is in its hash (store/audit.go rowHash).
ALTER TABLE audit ADD COLUMN region TEXT NOT NULL DEFAULT '';
