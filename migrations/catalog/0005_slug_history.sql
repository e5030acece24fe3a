-- Slugs a product had before: links shared with an old slug still find the product (the
-- storefront then shows its current address). A slug another product takes later belongs to
-- that product; the live slug always wins.
CREATE TABLE product_slug_history (
    slug TEXT PRIMARY KEY,
    product_id TEXT NOT NULL REFERENCES products (id),
    replaced_at BIGINT NOT NULL
);
CREATE INDEX product_slug_history_by_product ON product_slug_history (product_id);
