-- The embedded cart backend (production keeps carts in Redis). Portable SQL; times are Unix
-- milliseconds. A cart past expires_at is gone: reads ignore it, writes replace it.
CREATE TABLE carts (
    cart_key TEXT PRIMARY KEY,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX carts_by_expiry ON carts (expires_at);

CREATE TABLE cart_lines (
    cart_key TEXT NOT NULL REFERENCES carts (cart_key) ON DELETE CASCADE,
    product_id TEXT NOT NULL,
    quantity BIGINT NOT NULL CHECK (quantity BETWEEN 1 AND 99),
    added_at BIGINT NOT NULL,
    PRIMARY KEY (cart_key, product_id)
);
