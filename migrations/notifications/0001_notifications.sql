-- Portable SQL: the same file runs on PostgreSQL and SQLite. Times are milliseconds.

-- Names learnt from `user.registered` (order events carry only the email).
CREATE TABLE recipients (
    user_id TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    name TEXT NOT NULL
);

-- What users chose; without a row: English, marketing messages on.
CREATE TABLE preferences (
    user_id TEXT PRIMARY KEY,
    language TEXT NOT NULL,
    -- 1: no marketing messages (SQLite has no BOOLEAN). Order, shipping and account messages
    -- are always sent.
    marketing_opt_out INTEGER NOT NULL CHECK (marketing_opt_out IN (0, 1)),
    updated_at BIGINT NOT NULL
);

-- Orders as `order.placed` described them, for the events that name only the order.
CREATE TABLE known_orders (
    order_id TEXT PRIMARY KEY,
    number TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    email TEXT NOT NULL
);

-- Every message once: the dedupe key names the fact it tells (an order paid, a shipment
-- delivered), so an event delivered twice, or published twice, makes one message.
CREATE TABLE notifications (
    id TEXT PRIMARY KEY,
    dedupe_key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    user_id TEXT,
    email TEXT NOT NULL,
    language TEXT NOT NULL,
    subject TEXT NOT NULL,
    text_body TEXT NOT NULL,
    html_body TEXT NOT NULL,
    -- pending, sent, failed, or skipped (the recipient opted out).
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    -- A sender holds a message it is sending until then.
    lease_until BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    sent_at BIGINT
);
CREATE INDEX notifications_due ON notifications (status, next_attempt_at);
CREATE INDEX notifications_by_user ON notifications (user_id, created_at);

-- Admins' templates; kinds without one use the built-in English template.
CREATE TABLE templates (
    kind TEXT NOT NULL,
    language TEXT NOT NULL,
    subject TEXT NOT NULL,
    text_body TEXT NOT NULL,
    html_body TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (kind, language)
);
