-- The console's fraud-risk worklist (issue 6). Numbered 0009 on purpose: 0008 is taken by
-- a concurrent change to record storage; migrations apply by number, so either order works.

-- audit_risk: the RISK decisions only (a partial index: the other rows never enter it,
-- so writing decisions costs nothing more), for finding the flags written since the last
-- refresh without reading the whole trail.
CREATE INDEX audit_risk ON audit (seq) WHERE action = 'RISK';

-- console_risk: the open RISK flags, one per person: their latest RISK decision, as long
-- as no certification (CERTIFIED, RESUMED, RESTORED) nor termination was decided after it.
-- Kept by RefreshSummary (the flags and closings since console_risk_seq), by
-- RefreshPerson after a visit or a review, and rebuilt whole by RebuildSummary.
-- region_code is the person's village as of the last refresh (the list's index; the page
-- checks people.region_code as well). score is the RISK row's score= (P(dead)).
CREATE TABLE console_risk (
  pid         {{bigint}} PRIMARY KEY,
  seq         {{bigint}} NOT NULL,
  day         INTEGER NOT NULL,
  score       DOUBLE PRECISION NOT NULL,
  region_code TEXT NOT NULL,
  detail      TEXT NOT NULL
);
CREATE INDEX console_risk_day ON console_risk (day, score, pid);
CREATE INDEX console_risk_region ON console_risk (region_code, day, score, pid);
