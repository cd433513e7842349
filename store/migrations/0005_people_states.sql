-- The service finds the people a day's run must evaluate in memory; the index on
-- next_check only slowed every state written.
DROP INDEX people_next;
