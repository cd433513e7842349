-- users: must_change, 1 when the account's password was set by an administrator (a new
-- account, a reset): its holder chooses their own at the next sign-in before anything
-- else, so that no administrator keeps knowing a staff member's password.
ALTER TABLE users ADD COLUMN must_change INTEGER NOT NULL DEFAULT 0;
