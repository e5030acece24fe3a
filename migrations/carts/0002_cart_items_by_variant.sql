-- Cart lines hold a variant (what is sold) and its product. Lines from before variants hold
-- each product's default variant `var_<product id>` (catalog's 0003_variants.sql).
CREATE TABLE cart_items (
    cart_key TEXT NOT NULL REFERENCES carts (cart_key) ON DELETE CASCADE,
    variant_id TEXT NOT NULL,
    product_id TEXT NOT NULL,
    quantity BIGINT NOT NULL CHECK (quantity BETWEEN 1 AND 99),
    added_at BIGINT NOT NULL,
    PRIMARY KEY (cart_key, variant_id)
);
INSERT INTO cart_items (cart_key, variant_id, product_id, quantity, added_at)
SELECT cart_key, 'var_' || product_id, product_id, quantity, added_at FROM cart_lines;
DROP TABLE cart_lines;
