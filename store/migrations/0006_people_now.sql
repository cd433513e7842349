-- The console's live counts group people by region, status and latest method: with the
-- method in the region index, that is a scan of the index, not of every person's state.
DROP INDEX people_region;
CREATE INDEX people_region ON people (region_code, status, last_method);
