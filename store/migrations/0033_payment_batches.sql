-- Every payment row belongs to a batch that one audit row of kind 'payments' covers (its
-- count, sum and SHA-256, store/payments_audit.go), so that audit verify finds a payment
-- changed, deleted or inserted outside the service: "to recover" is computed from what
-- payments says was paid, and an UPDATE of one amount multiplied it tenfold unseen. The
-- rows written before become batch 0, covered by the row this migration's part in Go
-- writes; the default, -1, is no batch (a row inserted by hand is named as covered by none).
ALTER TABLE payments ADD COLUMN pay_batch {{bigint}} NOT NULL DEFAULT -1;
CREATE INDEX payments_batch ON payments (pay_batch);
