-- sessions: seen, when the session was last used (Unix nanoseconds; 0: not since its
-- login). A session unused for the console's idle limit ends, as the rules for a
-- government system's consoles ask (a screen left signed in on a shared desk).
ALTER TABLE sessions ADD COLUMN seen {{bigint}} NOT NULL DEFAULT 0;
