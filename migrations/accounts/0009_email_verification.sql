-- When the account's address was confirmed (none: not yet, or never asked: accounts from before
-- verification existed stay unconfirmed until their holder asks for a link).
ALTER TABLE users ADD COLUMN email_verified_at BIGINT;

-- Links that confirm an address: the one signed up with, or (`is_change` = 1) a new one that
-- replaces the account's once confirmed. By the token's hash only; each works once.
CREATE TABLE email_verifications (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    is_change BIGINT NOT NULL CHECK (is_change IN (0, 1)),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX email_verifications_by_user ON email_verifications (user_id);
