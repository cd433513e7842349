-- Staff accounts and their sessions (package auth). Passwords are argon2id strings in the
-- PHC format (salt and parameters inside); sessions are keyed by the SHA-256 of their token,
-- so that a copy of the database gives no one a way in. Times that are compared are Unix
-- nanoseconds; times only shown are RFC 3339 text.

-- users: one row per staff account. region is the 12-digit division code prefix the account
-- is scoped to ('' for the whole city). failures and locked_until throttle password guessing.
CREATE TABLE users (
  id           {{id}},
  name         TEXT NOT NULL UNIQUE,
  role         TEXT NOT NULL,
  region       TEXT NOT NULL,
  lang         TEXT NOT NULL,
  password     TEXT NOT NULL,
  disabled     INTEGER NOT NULL,
  failures     INTEGER NOT NULL,
  locked_until {{bigint}} NOT NULL,
  created      TEXT NOT NULL,
  changed      TEXT NOT NULL
);

-- sessions: one row per login; deleting the row is what logout and revocation do.
CREATE TABLE sessions (
  hash    TEXT PRIMARY KEY,
  user_id {{bigint}} NOT NULL REFERENCES users (id),
  created {{bigint}} NOT NULL,
  expires {{bigint}} NOT NULL,
  csrf    TEXT NOT NULL,
  ip      TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires);
