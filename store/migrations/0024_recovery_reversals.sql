-- recovery_entries: reverses, the entry a reversal (冲正) cancels. A repayment typed with
-- the wrong amount, or on the wrong person, settled the case for good: an administrator
-- now records a reversal (kind reversed, the cancelled entry's amount, a reason), audited
-- like every entry, and the ledger's sums leave both out. Entries are never changed.
ALTER TABLE recovery_entries ADD COLUMN reverses {{bigint}};
CREATE UNIQUE INDEX recovery_entries_reverses ON recovery_entries (reverses) WHERE reverses IS NOT NULL;
