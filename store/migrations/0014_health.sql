-- health: the evidence model's health index (健康指数, the probability of death within a
-- year) in thousandths, as of the person's latest record the model saw; -1 when no model
-- has scored the person. The service writes it with the state; worklists show it and can
-- put the frailest first, and a village's list puts them first among equally urgent.
-- ADD COLUMN with a constant default is the same statement in SQLite and PostgreSQL, and
-- neither rewrites the table for it. No index: "frailest first" sorts the list it is
-- given (the planners keep the status index for the filter either way; measured).
ALTER TABLE people ADD COLUMN health INTEGER NOT NULL DEFAULT -1;
