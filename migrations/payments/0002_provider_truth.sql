-- Refunds as the provider reported them: each provider refund counts once, whether its webhook or
-- a look at the provider told of it first. A refund made at the provider that the shop never
-- asked for gets a row too (created_by 'provider').
ALTER TABLE refunds ADD COLUMN succeeded_at BIGINT;
UPDATE refunds SET succeeded_at = created_at
    WHERE provider_refund IS NOT NULL
    AND payment_id IN (SELECT id FROM payments WHERE refunded_minor > 0);
CREATE UNIQUE INDEX refunds_by_provider_refund ON refunds (provider_refund);

-- What the provider reported that did not fit what the shop asked for (another amount, currency
-- or charge, a refund beyond the capture): kept for a person, applied to nothing.
CREATE TABLE payment_reviews (
    id TEXT PRIMARY KEY,
    charge TEXT NOT NULL,
    reason TEXT NOT NULL,
    body TEXT NOT NULL,
    received_at BIGINT NOT NULL
);
CREATE INDEX payment_reviews_by_received ON payment_reviews (received_at);
