-- Portable SQL: the same file runs on PostgreSQL and SQLite. Money is integer minor units.
CREATE TABLE orders (
    id TEXT PRIMARY KEY,
    -- Human-readable, e.g. SO-261201-7K3QJ9M2.
    number TEXT NOT NULL UNIQUE,
    customer_id TEXT NOT NULL,
    email TEXT NOT NULL,
    currency TEXT NOT NULL,
    subtotal_minor BIGINT NOT NULL CHECK (subtotal_minor >= 0),
    shipping_minor BIGINT NOT NULL CHECK (shipping_minor >= 0),
    total_minor BIGINT NOT NULL CHECK (total_minor >= 0),
    -- The shipping address as it was at checkout (JSON).
    shipping_address TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX orders_by_customer ON orders (customer_id, created_at);
CREATE INDEX orders_by_status ON orders (status, created_at);
CREATE INDEX orders_by_created ON orders (created_at);

-- The lines as they were sold: the catalog may change afterwards.
CREATE TABLE order_lines (
    order_id TEXT NOT NULL REFERENCES orders (id),
    position BIGINT NOT NULL,
    product_id TEXT NOT NULL,
    sku TEXT NOT NULL,
    name TEXT NOT NULL,
    unit_price_minor BIGINT NOT NULL CHECK (unit_price_minor >= 0),
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    line_total_minor BIGINT NOT NULL CHECK (line_total_minor >= 0),
    PRIMARY KEY (order_id, position)
);

CREATE TABLE order_status_history (
    order_id TEXT NOT NULL REFERENCES orders (id),
    position BIGINT NOT NULL,
    status TEXT NOT NULL,
    actor TEXT NOT NULL,
    -- The user id of a customer or admin; null for the system.
    actor_id TEXT,
    reason TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (order_id, position)
);

-- The checkout saga of each order: which step is next, and who is working on it (a lease, so
-- another process completes or compensates a checkout whose process died).
CREATE TABLE checkouts (
    order_id TEXT PRIMARY KEY REFERENCES orders (id),
    cart_id TEXT NOT NULL,
    -- The provider's token for the card, kept until the charge is made.
    payment_token TEXT,
    step TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    -- Why the checkout failed (JSON), once it has.
    failure TEXT,
    lease_owner TEXT,
    lease_until BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX checkouts_due ON checkouts (step, lease_until);
