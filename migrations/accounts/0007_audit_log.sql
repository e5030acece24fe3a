-- The audit trail: what staff and partners changed, from `audit.recorded` events (each once, by
-- its id). Nothing in the API edits or deletes a record; only the retention sweep removes
-- records older than `ACCOUNTS_AUDIT_RETENTION_DAYS`.
CREATE TABLE audit_log (
    id TEXT PRIMARY KEY,
    at BIGINT NOT NULL,
    actor_id TEXT NOT NULL,
    actor_kind TEXT NOT NULL,
    permission TEXT,
    action TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    before_json TEXT,
    after_json TEXT,
    client_address TEXT,
    client TEXT,
    trace_id TEXT,
    source TEXT NOT NULL
);
CREATE INDEX audit_log_by_time ON audit_log (at, id);
CREATE INDEX audit_log_by_actor ON audit_log (actor_id, at);
CREATE INDEX audit_log_by_entity ON audit_log (entity_type, entity_id, at);
