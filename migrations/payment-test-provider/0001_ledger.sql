-- The test card processor's own books (it stands in for an outside service, so they live apart
-- from the shop's databases: a file in the data directory, or a database of its own). Portable
-- SQL: the same file runs on PostgreSQL and SQLite.
CREATE TABLE provider_charges (
    id TEXT PRIMARY KEY,
    amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
    currency TEXT NOT NULL,
    brand TEXT NOT NULL,
    last4 TEXT NOT NULL,
    -- succeeded or failed: the result its webhook reports.
    status TEXT NOT NULL,
    failure_code TEXT,
    refunded_minor BIGINT NOT NULL DEFAULT 0 CHECK (refunded_minor >= 0),
    -- Increases with every change of the charge and its refunds.
    sequence BIGINT NOT NULL,
    -- What the merchant said the charge is for (the shop: its order and customer).
    reference TEXT,
    customer TEXT,
    created_at BIGINT NOT NULL,
    CHECK (refunded_minor <= amount_minor)
);
CREATE INDEX provider_charges_by_created ON provider_charges (created_at, id);

CREATE TABLE provider_refunds (
    id TEXT PRIMARY KEY,
    charge_id TEXT NOT NULL REFERENCES provider_charges (id),
    amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
    reference TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX provider_refunds_by_charge ON provider_refunds (charge_id, created_at);

-- The first answer to each idempotency key, so a repeat (even after a restart) gets it again.
CREATE TABLE provider_answers (
    idempotency_key TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    status BIGINT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
