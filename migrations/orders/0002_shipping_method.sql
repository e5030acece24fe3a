-- The carrier service chosen at checkout (priced by shipping). Orders placed before shipping
-- quoted rates paid a flat fee and have none.
ALTER TABLE orders ADD COLUMN shipping_carrier TEXT;
ALTER TABLE orders ADD COLUMN shipping_service TEXT;
