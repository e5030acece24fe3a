-- Portable SQL: the same file runs on PostgreSQL and SQLite. Times are milliseconds.

-- Paid orders, as `order.paid` described them: what there is to ship, where, and how.
CREATE TABLE shippable_orders (
    order_id TEXT PRIMARY KEY,
    number TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    email TEXT NOT NULL,
    -- JSON: the shipping address, and [{productId, quantity}].
    address TEXT NOT NULL,
    lines TEXT NOT NULL,
    carrier TEXT NOT NULL,
    service TEXT NOT NULL,
    paid_at BIGINT NOT NULL
);
CREATE INDEX shippable_orders_by_customer ON shippable_orders (customer_id);

CREATE TABLE shipments (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES shippable_orders (order_id),
    -- 1, 2, ... within the order: creating shipment n twice is impossible.
    position INTEGER NOT NULL,
    carrier TEXT NOT NULL,
    service TEXT NOT NULL,
    tracking_number TEXT NOT NULL UNIQUE,
    lines TEXT NOT NULL,
    -- The status of the latest tracking event by when it happened, and when that was.
    status TEXT NOT NULL,
    status_at BIGINT NOT NULL,
    -- `system` or the admin who fulfilled the order by hand.
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (order_id, position)
);
CREATE INDEX shipments_by_status ON shipments (status, created_at, id);

-- Every tracking event once: the id is the carrier's event id (scoped by carrier) or ours.
CREATE TABLE tracking_events (
    id TEXT PRIMARY KEY,
    shipment_id TEXT NOT NULL REFERENCES shipments (id),
    status TEXT NOT NULL,
    description TEXT NOT NULL,
    location TEXT,
    occurred_at BIGINT NOT NULL,
    received_at BIGINT NOT NULL
);
CREATE INDEX tracking_events_by_shipment ON tracking_events (shipment_id, occurred_at);
