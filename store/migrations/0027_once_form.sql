-- batches.idem_form and recovery_entries.once_form: what the form sent with a one-time
-- key held (the console's fingerprint of its fields and a word for what it recorded).
-- A form sent again with the same key and the same fields is a double tap, answered as
-- the first sending was; with other fields it is a correction made on a page brought
-- back (the back button), refused in words instead of answered "recorded" while nothing
-- was (a death lost, the pension paid on).
ALTER TABLE batches ADD COLUMN idem_form TEXT;
ALTER TABLE recovery_entries ADD COLUMN once_form TEXT;
