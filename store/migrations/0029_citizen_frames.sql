-- citizen_frames: the SHA-256 of every frame a capture attempt uploaded (the bytes as
-- sent), with the person and the time of the first attempt that sent it; kept for good (a
-- hash is no picture). The attempt's nonce stops only the same request sent twice: frames
-- sent again in a later attempt, with a fresh nonce, are found here, and that attempt goes
-- to staff as a replay (package citizen).
CREATE TABLE citizen_frames (
  hash    TEXT PRIMARY KEY,
  pid     {{bigint}} NOT NULL,
  created {{bigint}} NOT NULL
);
-- The other half of the check: a burst whose face is all but the same as one accepted
-- before for that person (citizen_reviews' template) is a replay too, re-encoded.
CREATE INDEX citizen_reviews_pid ON citizen_reviews (pid, status);
