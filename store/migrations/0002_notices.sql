-- notices: the outbox of SMS notices (issue 5). The service queues a notice in the same
-- transaction as the decision behind it; the sender claims, sends and marks them. Days are
-- days since 1970-01-01; next_attempt, lease_until and sent_at are Unix seconds (0: never).
-- (pid, kind, deadline, phone) is the idempotency key: the same notice is never queued twice,
-- whatever the number of runs of the same day.
CREATE TABLE notices (
  id           {{id}},
  pid          {{bigint}} NOT NULL,
  person_id    TEXT NOT NULL,
  phone        TEXT NOT NULL,
  kind         TEXT NOT NULL,
  deadline     INTEGER NOT NULL,
  template     TEXT NOT NULL,
  text         TEXT NOT NULL,
  created      INTEGER NOT NULL,
  status       TEXT NOT NULL,
  attempts     INTEGER NOT NULL,
  next_attempt {{bigint}} NOT NULL,
  lease_until  {{bigint}} NOT NULL,
  last_error   TEXT NOT NULL,
  sent_at      {{bigint}} NOT NULL,
  gateway_id   TEXT NOT NULL,
  UNIQUE (pid, kind, deadline, phone)
);
CREATE INDEX notices_due ON notices (status, next_attempt);
CREATE INDEX notices_person ON notices (pid, id);
CREATE INDEX notices_sent ON notices (sent_at);
