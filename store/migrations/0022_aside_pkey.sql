-- record_aside.pkey: for a record linked to no one, the ID number it names, packed
-- (idcard.Key; NULL without a valid one), so that a roster import finds the stored
-- records of the people it enrols by an index (service.linkEnrolled) instead of reading
-- every unlinked death ever stored. The Go step (store.keyAside) keys the unlinked
-- deaths, losses and releases stored before it.
ALTER TABLE record_aside ADD COLUMN pkey {{bigint}};
CREATE INDEX record_aside_idkey ON record_aside (pkey) WHERE pkey IS NOT NULL;
CREATE INDEX record_aside_nokey ON record_aside (type) WHERE pkey IS NULL AND link > 0 AND held = 0;
