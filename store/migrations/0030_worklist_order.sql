-- The worklists read in their own order from an index, instead of gathering a list and
-- sorting it for every page (store.workSQL; a scale review of 250,000 people, nearly all
-- of them due: a village's due list read the city's due by the status index and sorted
-- the village's few hundred, 0.94 s on SQLite; "frailest first" and the deep pages
-- sorted the whole list for each page).

-- people_village: a village's people in the lists' order (a village's code is an
-- equality: store.regionWhere), the status in the index to filter without the row.
CREATE INDEX people_village ON people (region_code, until_day, pid, status);

-- people_due, people_frailest: the due list (status IN (0, 1): certified and warned, as
-- store.workSQL writes it, word for word, or the planners would not know they may use
-- them) by period end and frailest first, for the city or a district or town; the region
-- code and the status in the index, so that a page deep in the list skips index entries,
-- not people's rows. The terminated, whose periods are long past and would come first in
-- period order, and the other statuses are not in them.
CREATE INDEX people_due ON people (until_day, pid, status, region_code) WHERE status IN (0, 1);
CREATE INDEX people_frailest ON people (health DESC, until_day, pid, status, region_code) WHERE status IN (0, 1);

-- people_until (0004) served the due list alone, now people_due's; people_status (0001)
-- is the first two columns of people_status_until (0004). Every index on people is
-- written on the days people change.
DROP INDEX people_until;
DROP INDEX people_status;

-- audit_actor, audit_kind: the audit page's rows of one actor or of one kind, newest
-- first, among the rows that are not decisions (as audit_staff, 0015; store.trailWhere).
-- Without them an actor's rows were found by reading the staff's and the citizens' rows
-- from the newest until a page was full, and a kind's were all read by audit_day and
-- sorted: the citizens' logins of a city are hundreds of thousands.
CREATE INDEX audit_actor ON audit (actor, seq) WHERE kind <> 'decision';
CREATE INDEX audit_kind ON audit (kind, seq) WHERE kind <> 'decision';
