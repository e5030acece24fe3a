-- What refund emails show of an order: its total, discount and tax per rate (JSON, from
-- order.placed). Orders known from before have none: their refund emails give the amount only.
ALTER TABLE known_orders ADD COLUMN receipt TEXT;
