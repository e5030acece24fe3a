-- One checkout of a cart at a time: a second tab checking out the same cart while the first is
-- reserving, charging or confirming is refused, so a cart is never charged twice. Compensation
-- (release, refund) and cancellation hold nothing: the cart may be checked out again meanwhile.
CREATE UNIQUE INDEX checkouts_one_running_per_cart ON checkouts (cart_id)
    WHERE step IN ('reserve', 'charge', 'confirm', 'clear_cart');
