-- A guest's checkout reads and empties the guest cart by its token: kept on the checkout while
-- it runs, dropped when it is done. Guest orders are found by number and email.
ALTER TABLE checkouts ADD COLUMN cart_token TEXT;
