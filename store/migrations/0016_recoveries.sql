-- recovery_entries: what has been done about money to recover (追回) since the engine
-- found it: a repayment by the family (repaid), or a write-off (核销) by an administrator
-- (waived). What is owed is the engine's (service.RecoveryCase: paid for months not due,
-- less the offset capacity); what is outstanding is that less these rows. One row per
-- staff action, keyed by the audit row that records it (seq), so that the ledger is
-- covered by the trail's hash chain. amount is in fen.
CREATE TABLE recovery_entries (
  seq     {{bigint}} PRIMARY KEY,
  pid     {{bigint}} NOT NULL,
  benefit TEXT NOT NULL,
  day     INTEGER NOT NULL,
  kind    TEXT NOT NULL,
  amount  {{bigint}} NOT NULL,
  actor   TEXT NOT NULL,
  note    TEXT NOT NULL
);
CREATE INDEX recovery_entries_pid ON recovery_entries (pid, seq);
