-- The citizen's side of face certification (package citizen, issue 9): one-time links,
-- login challenges and sessions, attempt nonces, throttles, reference templates, the
-- review queue and each person's failures. Tokens, codes and nonces are stored only as
-- SHA-256 hashes, so that a copy of the database lets no one in. Times are Unix
-- nanoseconds (0: never).

-- citizen_links: one per reminder, the short link /c/{token}. used is when a login through
-- it completed; failures counts wrong ID digits, and 5 lock the link for good.
CREATE TABLE citizen_links (
  hash     TEXT PRIMARY KEY,
  pid      {{bigint}} NOT NULL,
  created  {{bigint}} NOT NULL,
  expires  {{bigint}} NOT NULL,
  used     {{bigint}} NOT NULL,
  failures INTEGER NOT NULL
);
CREATE INDEX citizen_links_pid ON citizen_links (pid);

-- citizen_challenges: a login waiting for its SMS code. pid is -1 when the ID number given
-- is not on the roster (the answer is the same; the code can never match). link is the
-- link's hash ('' for a login by ID number), marked used when the code is right.
CREATE TABLE citizen_challenges (
  hash     TEXT PRIMARY KEY,
  pid      {{bigint}} NOT NULL,
  agent    INTEGER NOT NULL,
  link     TEXT NOT NULL,
  code     TEXT NOT NULL,
  created  {{bigint}} NOT NULL,
  expires  {{bigint}} NOT NULL,
  attempts INTEGER NOT NULL,
  done     INTEGER NOT NULL
);
CREATE INDEX citizen_challenges_expires ON citizen_challenges (expires);

-- citizen_sessions: a citizen (or their agent) logged in; deleting the row logs out.
CREATE TABLE citizen_sessions (
  hash    TEXT PRIMARY KEY,
  pid     {{bigint}} NOT NULL,
  agent   INTEGER NOT NULL,
  created {{bigint}} NOT NULL,
  expires {{bigint}} NOT NULL,
  csrf    TEXT NOT NULL
);
CREATE INDEX citizen_sessions_expires ON citizen_sessions (expires);

-- citizen_nonces: one per capture attempt, single use, with a time limit.
CREATE TABLE citizen_nonces (
  hash    TEXT PRIMARY KEY,
  pid     {{bigint}} NOT NULL,
  session TEXT NOT NULL,
  created {{bigint}} NOT NULL,
  expires {{bigint}} NOT NULL,
  used    {{bigint}} NOT NULL
);
CREATE INDEX citizen_nonces_expires ON citizen_nonces (expires);

-- citizen_throttle: fixed-window counters of the rate limits (per address, per ID number
-- hash, per person), shared by every process over the same database.
CREATE TABLE citizen_throttle (
  key    TEXT PRIMARY KEY,
  start  {{bigint}} NOT NULL,
  count  INTEGER NOT NULL
);

-- citizen_refs: a person's reference templates: 'idcard' (imported ID-card photo) and
-- 'selfie' (the last accepted selfie). photo is kept only until photo_expires (the
-- retention setting; empty when not kept).
CREATE TABLE citizen_refs (
  pid           {{bigint}} NOT NULL,
  kind          TEXT NOT NULL,
  template      {{blob}} NOT NULL,
  created       {{bigint}} NOT NULL,
  photo         {{blob}} NOT NULL,
  photo_expires {{bigint}} NOT NULL,
  PRIMARY KEY (pid, kind)
);

-- citizen_people: each person's failed attempts since their last accepted one, and
-- whether they are routed to a visit by the village (NeedsVisit).
CREATE TABLE citizen_people (
  pid          {{bigint}} PRIMARY KEY,
  failures     INTEGER NOT NULL,
  needs_visit  INTEGER NOT NULL,
  visit_since  {{bigint}} NOT NULL,
  last_attempt {{bigint}} NOT NULL,
  last_outcome TEXT NOT NULL
);
CREATE INDEX citizen_people_visit ON citizen_people (needs_visit);

-- citizen_reviews: borderline attempts waiting for a member of staff: the selfie (the
-- best frame, kept until decided and then only per the retention setting), its template
-- and distance, and the decision.
CREATE TABLE citizen_reviews (
  id          {{id}},
  pid         {{bigint}} NOT NULL,
  created     {{bigint}} NOT NULL,
  agent       INTEGER NOT NULL,
  distance    DOUBLE PRECISION NOT NULL,
  reason      TEXT NOT NULL,
  template    {{blob}} NOT NULL,
  photo       {{blob}} NOT NULL,
  status      TEXT NOT NULL,
  decided_by  TEXT NOT NULL,
  decided_at  {{bigint}} NOT NULL,
  record      TEXT NOT NULL
);
CREATE INDEX citizen_reviews_status ON citizen_reviews (status, id);
