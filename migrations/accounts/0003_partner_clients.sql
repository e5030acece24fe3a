-- API clients are internal services or partners (partners' tokens carry the `partner` role and
-- may only run operations published for them). A revoked client gets no more tokens and the
-- tokens it holds stop working (user.access_changed).
ALTER TABLE api_clients ADD COLUMN kind TEXT NOT NULL DEFAULT 'service';
ALTER TABLE api_clients ADD COLUMN revoked_at BIGINT;
