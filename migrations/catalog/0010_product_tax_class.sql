-- What each product is taxed as (commerce::tax::TaxClass): standard, reduced, zero or exempt.
-- Its variants are taxed as their product is.
ALTER TABLE products ADD COLUMN tax_class TEXT NOT NULL DEFAULT 'standard';
