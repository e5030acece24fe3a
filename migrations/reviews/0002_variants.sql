-- Which variant was delivered, and which one a review's author bought (absent for deliveries
-- and reviews from before variants: the product's default variant).
ALTER TABLE deliveries ADD COLUMN variant_id TEXT;
ALTER TABLE reviews ADD COLUMN variant_id TEXT;
