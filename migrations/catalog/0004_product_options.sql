-- A product's options: JSON array of {"name": ..., "values": [...]} in display order
-- (Size: S, M, L). Products made before options have none.
ALTER TABLE products ADD COLUMN options TEXT NOT NULL DEFAULT '[]';

-- No two live variants of a product share their option values (the default variant of a product
-- with options is archived). Option values are stored in the product's option order, so equal
-- combinations are equal strings.
CREATE UNIQUE INDEX product_variants_option_values_unique
    ON product_variants (product_id, option_values) WHERE status <> 'archived';
