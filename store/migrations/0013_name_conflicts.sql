-- name_conflicts: how many roster rows of the person's ID number were quarantined for
-- carrying another name than the first row's (sc.Recipient.NameConflicts), for the
-- evidence model's fraud-risk flag (inconsistent_identity). Each roster import sets it
-- anew; people imported before this migration start at 0 until the next import.
-- ADD COLUMN with a constant default is the same statement in SQLite and PostgreSQL, and
-- neither rewrites the table for it.
ALTER TABLE people ADD COLUMN name_conflicts INTEGER NOT NULL DEFAULT 0;
