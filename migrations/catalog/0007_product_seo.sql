-- What search engines and shared links show for a product: its name and description unless
-- an admin wrote these.
ALTER TABLE products ADD COLUMN meta_title TEXT;
ALTER TABLE products ADD COLUMN meta_description TEXT;
