-- Portable SQL: the same file runs on PostgreSQL and SQLite. Times are milliseconds.

-- How many paid orders held both products (each pair stored both ways, so a product's
-- companions are one indexed read).
CREATE TABLE co_purchases (
    product_id TEXT NOT NULL,
    other_id TEXT NOT NULL,
    orders BIGINT NOT NULL,
    PRIMARY KEY (product_id, other_id)
);
CREATE INDEX co_purchases_ranked ON co_purchases (product_id, orders);

-- What each customer bought (paid orders).
CREATE TABLE purchases (
    customer_id TEXT NOT NULL,
    product_id TEXT NOT NULL,
    orders BIGINT NOT NULL,
    last_at BIGINT NOT NULL,
    PRIMARY KEY (customer_id, product_id)
);

-- Products the catalog says are not for sale (from `product.changed`, the latest by event time).
CREATE TABLE product_status (
    product_id TEXT PRIMARY KEY,
    active INTEGER NOT NULL CHECK (active IN (0, 1)),
    changed_at BIGINT NOT NULL
);
