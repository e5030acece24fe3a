-- Stock is counted per variant (what is sold) in each warehouse; a product's availability sums
-- its variants, so every row keeps its product. Rows from before variants belong to each
-- product's default variant `var_<product id>` (catalog's 0003_variants.sql made them).
CREATE TABLE stock_levels (
    variant_id TEXT NOT NULL,
    product_id TEXT NOT NULL,
    warehouse_id TEXT NOT NULL REFERENCES warehouses (id),
    on_hand BIGINT NOT NULL CHECK (on_hand >= 0),
    reserved BIGINT NOT NULL CHECK (reserved >= 0 AND reserved <= on_hand),
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (variant_id, warehouse_id)
);
CREATE INDEX stock_levels_by_product ON stock_levels (product_id);
INSERT INTO stock_levels (variant_id, product_id, warehouse_id, on_hand, reserved, updated_at)
SELECT 'var_' || product_id, product_id, warehouse_id, on_hand, reserved, updated_at FROM stock;
DROP TABLE stock;

-- Append-only: every change of on_hand, with who made it and why.
CREATE TABLE stock_moves (
    id TEXT PRIMARY KEY,
    variant_id TEXT NOT NULL,
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
CREATE INDEX stock_moves_by_variant ON stock_moves (variant_id, id);
CREATE INDEX stock_moves_by_product ON stock_moves (product_id, id);
INSERT INTO stock_moves (id, variant_id, product_id, warehouse_id, kind, delta, on_hand_after,
    reason, actor, idempotency_key, created_at)
SELECT id, 'var_' || product_id, product_id, warehouse_id, kind, delta, on_hand_after, reason,
    actor, idempotency_key, created_at FROM stock_ledger;
DROP TABLE stock_ledger;

-- Low stock is watched per variant (a size runs out, not a T-shirt).
CREATE TABLE stock_thresholds (
    variant_id TEXT PRIMARY KEY,
    threshold BIGINT NOT NULL CHECK (threshold >= 0)
);
INSERT INTO stock_thresholds (variant_id, threshold)
SELECT 'var_' || product_id, threshold FROM low_stock_thresholds;
DROP TABLE low_stock_thresholds;

-- Whether a variant is below its threshold, so StockLow fires once per crossing.
CREATE TABLE stock_alerts (
    variant_id TEXT PRIMARY KEY,
    low BIGINT NOT NULL CHECK (low IN (0, 1)),
    changed_at BIGINT NOT NULL
);
INSERT INTO stock_alerts (variant_id, low, changed_at)
SELECT 'var_' || product_id, low, changed_at FROM low_stock_alerts;
DROP TABLE low_stock_alerts;

CREATE TABLE reserved_units (
    order_reference TEXT NOT NULL REFERENCES reservations (order_reference),
    variant_id TEXT NOT NULL,
    warehouse_id TEXT NOT NULL REFERENCES warehouses (id),
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (order_reference, variant_id, warehouse_id)
);
INSERT INTO reserved_units (order_reference, variant_id, warehouse_id, quantity)
SELECT order_reference, 'var_' || product_id, warehouse_id, quantity FROM reservation_lines;
DROP TABLE reservation_lines;
