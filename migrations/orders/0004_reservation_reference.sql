-- The reference the checkout's stock is held under: the order's id, or a second one when the
-- first hold ran out before the payment was captured and the stock could be reserved again.
ALTER TABLE checkouts ADD COLUMN reservation TEXT;
