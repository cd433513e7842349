-- recovery_entries: a third kind, refunded (money the bureau paid back to a family that
-- had repaid more than the engine now finds owed), and once: the one-time key of the form
-- that recorded an entry, so that a form sent twice (a double tap, a resend after a
-- timeout) records one entry.
ALTER TABLE recovery_entries ADD COLUMN once TEXT;
CREATE UNIQUE INDEX recovery_entries_once ON recovery_entries (once) WHERE once IS NOT NULL;
