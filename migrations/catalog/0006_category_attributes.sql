-- The attributes a category's products have (a product type): a JSON array of
-- `{name, kind, unit?, choices?}`, inherited by subcategories. Empty: free-form attributes.
ALTER TABLE categories ADD COLUMN attributes TEXT NOT NULL DEFAULT '[]';
