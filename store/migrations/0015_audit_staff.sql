-- audit_staff: every row of the audit trail but the engine's decisions (a partial index:
-- decisions, nearly all of the trail, never enter it), for the console's audit page, which
-- lists staff and system actions newest first without reading past millions of decisions.
CREATE INDEX audit_staff ON audit (seq) WHERE kind <> 'decision';
