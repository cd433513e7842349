-- record_aside.pkey: for a record linked to no one, the ID number it names, packed
-- (idcard.Key; NULL without a valid one, and for rows stored before this migration), so
-- that a roster import finds the stored records of the people it enrols by an index
-- (service.linkEnrolled) instead of reading every unlinked death ever stored.
ALTER TABLE record_aside ADD COLUMN pkey {{bigint}};
CREATE INDEX record_aside_idkey ON record_aside (pkey) WHERE pkey IS NOT NULL;
CREATE INDEX record_aside_nokey ON record_aside (type) WHERE pkey IS NULL AND link > 0 AND held = 0;
