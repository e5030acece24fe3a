-- An order line holds the variant sold and its options as they read at checkout ("M / Blue";
-- empty for a product's default variant). Lines from before variants sold each product's
-- default variant `var_<product id>` (catalog's 0003_variants.sql).
ALTER TABLE order_lines ADD COLUMN variant_id TEXT NOT NULL DEFAULT '';
ALTER TABLE order_lines ADD COLUMN variant_title TEXT NOT NULL DEFAULT '';
UPDATE order_lines SET variant_id = 'var_' || product_id;
