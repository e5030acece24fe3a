-- Portable SQL: the same file runs on PostgreSQL and SQLite. Money is integer minor units.
CREATE TABLE payments (
    id TEXT PRIMARY KEY,
    -- One payment per order: a repeated charge request for the order finds this one.
    order_id TEXT NOT NULL UNIQUE,
    customer_id TEXT NOT NULL,
    amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
    currency TEXT NOT NULL,
    provider_charge TEXT NOT NULL UNIQUE,
    method_brand TEXT NOT NULL,
    method_last4 TEXT NOT NULL,
    -- What the provider's webhooks reported; the status is derived from these.
    captured_minor BIGINT NOT NULL DEFAULT 0 CHECK (captured_minor >= 0),
    refunded_minor BIGINT NOT NULL DEFAULT 0 CHECK (refunded_minor >= 0),
    failure_code TEXT,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Refunds as requested of the provider; their sum never exceeds what was captured.
CREATE TABLE refunds (
    id TEXT PRIMARY KEY,
    payment_id TEXT NOT NULL REFERENCES payments (id),
    amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
    reason TEXT NOT NULL,
    provider_refund TEXT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX refunds_by_payment ON refunds (payment_id, created_at);
