-- Portable SQL: the same file runs on PostgreSQL and SQLite. Timestamps are Unix milliseconds;
-- flags are 0/1 integers (sqlx's Any driver reads no SQLite booleans).
CREATE TABLE warehouses (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    active BIGINT NOT NULL CHECK (active IN (0, 1)),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Stock of a product in a warehouse. Reserved units are held for orders; what can be sold is
-- on_hand - reserved. The checks make overselling impossible whatever the code does.
CREATE TABLE stock (
    product_id TEXT NOT NULL,
    warehouse_id TEXT NOT NULL REFERENCES warehouses (id),
    on_hand BIGINT NOT NULL CHECK (on_hand >= 0),
    reserved BIGINT NOT NULL CHECK (reserved >= 0 AND reserved <= on_hand),
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (product_id, warehouse_id)
);

-- Append-only: every change of on_hand, with who made it and why.
CREATE TABLE stock_ledger (
    id TEXT PRIMARY KEY,
    product_id TEXT NOT NULL,
    warehouse_id TEXT NOT NULL REFERENCES warehouses (id),
    kind TEXT NOT NULL,
    delta BIGINT NOT NULL,
    on_hand_after BIGINT NOT NULL,
    reason TEXT NOT NULL,
    actor TEXT NOT NULL,
    idempotency_key TEXT UNIQUE,
    created_at BIGINT NOT NULL
);
CREATE INDEX stock_ledger_by_product ON stock_ledger (product_id, id);

CREATE TABLE low_stock_thresholds (
    product_id TEXT PRIMARY KEY,
    threshold BIGINT NOT NULL CHECK (threshold >= 0)
);

-- Whether a product is below its threshold, so StockLow fires once per crossing.
CREATE TABLE low_stock_alerts (
    product_id TEXT PRIMARY KEY,
    low BIGINT NOT NULL CHECK (low IN (0, 1)),
    changed_at BIGINT NOT NULL
);

CREATE TABLE reservations (
    order_reference TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX reservations_due ON reservations (status, expires_at);

CREATE TABLE reservation_lines (
    order_reference TEXT NOT NULL REFERENCES reservations (order_reference),
    product_id TEXT NOT NULL,
    warehouse_id TEXT NOT NULL REFERENCES warehouses (id),
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (order_reference, product_id, warehouse_id)
);
