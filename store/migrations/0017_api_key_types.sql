-- api_keys.types: the record types a key may send, comma-separated and sorted; empty:
-- every type the catalogue gives its source (keys made before this, and the default). A
-- department's system that should only report, say, hospital stays gets a key that cannot
-- send anything else of its source (HRSS.REVIEW, which settles a disputed death, above all).
ALTER TABLE api_keys ADD COLUMN types TEXT NOT NULL DEFAULT '';
