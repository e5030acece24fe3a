-- The billing address given at checkout (JSON, as shipping_address), and the customer's note
-- to the shop. Orders from before have none: their billing address reads as their shipping
-- address, their note as empty.
ALTER TABLE orders ADD COLUMN billing_address TEXT;
ALTER TABLE orders ADD COLUMN note TEXT NOT NULL DEFAULT '';
