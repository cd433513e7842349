-- people.roster_region: the region_code the roster last gave the person. Linkage by name
-- and birth date narrows by it (spec §3: the roster's region_code), while region_code
-- follows the person's moves (the worklists' village). Before, a restart linked by the
-- moved region and a running service by the roster's, so a resumed replay could differ
-- from backtest. People moved before this migration keep their moved region here.
ALTER TABLE people ADD COLUMN roster_region TEXT NOT NULL DEFAULT '';
UPDATE people SET roster_region = region_code;
