-- What is sold: a product's variants, one per combination of its option values (Size M, Colour
-- Blue), each with its own SKU and price. A product without options has exactly one, its
-- default variant (no option values), which follows the product's SKU, price, weight and status.
CREATE TABLE product_variants (
    id TEXT PRIMARY KEY,
    product_id TEXT NOT NULL REFERENCES products (id),
    position BIGINT NOT NULL,
    sku TEXT NOT NULL UNIQUE,
    -- JSON array of {"name": ..., "value": ...} in the product's option order; [] for the default.
    option_values TEXT NOT NULL,
    price_minor BIGINT NOT NULL CHECK (price_minor >= 0),
    -- The "was" price, above the price when set.
    compare_at_minor BIGINT CHECK (compare_at_minor IS NULL OR compare_at_minor > price_minor),
    currency TEXT NOT NULL,
    weight_grams BIGINT,
    barcode TEXT,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX product_variants_by_product ON product_variants (product_id, position);

-- Today's products become single-variant products: product `P` gets variant `var_P` with its
-- SKU, price, weight and status, so every id, slug and SKU keeps working.
INSERT INTO product_variants (id, product_id, position, sku, option_values, price_minor,
    compare_at_minor, currency, weight_grams, barcode, status, created_at, updated_at)
SELECT 'var_' || id, id, 0, sku, '[]', price_minor, NULL, currency, weight_grams,
    NULL, status, created_at, updated_at
FROM products;
