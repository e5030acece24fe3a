-- Promotions: discount codes (code set, upper case) and automatic promotions (no code).
-- Amounts are minor units of `currency`; rates parts per million.
CREATE TABLE promotions (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    code TEXT UNIQUE,
    -- percent_off, amount_off, free_shipping or buy_x_get_y.
    kind TEXT NOT NULL,
    percent_ppm BIGINT CHECK (percent_ppm > 0 AND percent_ppm <= 1000000),
    amount_minor BIGINT CHECK (amount_minor > 0),
    buy_quantity BIGINT CHECK (buy_quantity > 0),
    get_quantity BIGINT CHECK (get_quantity > 0),
    -- order, products, collections or categories; target_ids a JSON array of ids.
    target TEXT NOT NULL,
    target_ids TEXT NOT NULL,
    currency TEXT NOT NULL,
    min_subtotal_minor BIGINT CHECK (min_subtotal_minor >= 0),
    starts_at BIGINT,
    ends_at BIGINT,
    usage_limit BIGINT CHECK (usage_limit > 0),
    per_customer_limit BIGINT CHECK (per_customer_limit > 0),
    -- Orders holding a use: paid, or still checking out (a failed, cancelled or withdrawn
    -- checkout gives its use back). Never above usage_limit: a use is taken by a conditional
    -- update in the transaction that creates the order.
    uses BIGINT NOT NULL DEFAULT 0 CHECK (uses >= 0),
    -- 1: applies together with other promotions that combine; 0: only alone.
    combines BIGINT NOT NULL,
    active BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CHECK (usage_limit IS NULL OR uses <= usage_limit)
);
CREATE INDEX promotions_automatic ON promotions (active, code);

-- Uses of a promotion by one customer, for its per-customer limit (taken and given back with
-- the promotion's own uses).
CREATE TABLE promotion_customer_uses (
    promotion_id TEXT NOT NULL REFERENCES promotions (id),
    customer_id TEXT NOT NULL,
    uses BIGINT NOT NULL CHECK (uses >= 0),
    PRIMARY KEY (promotion_id, customer_id)
);

-- Each order's use of each promotion: held while it checks out, redeemed once paid, released
-- when the checkout fails or the order is cancelled.
CREATE TABLE promotion_redemptions (
    promotion_id TEXT NOT NULL REFERENCES promotions (id),
    order_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    status TEXT NOT NULL,
    amount_minor BIGINT NOT NULL CHECK (amount_minor >= 0),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (promotion_id, order_id)
);
CREATE INDEX promotion_redemptions_by_order ON promotion_redemptions (order_id);

-- Codes a customer applied to their cart (carts live in Redis, owned by carts; the codes are
-- orders' business).
CREATE TABLE cart_promotion_codes (
    cart_id TEXT NOT NULL,
    code TEXT NOT NULL,
    added_at BIGINT NOT NULL,
    PRIMARY KEY (cart_id, code)
);

-- What each promotion took off an order, as its receipt shows it.
CREATE TABLE order_discounts (
    order_id TEXT NOT NULL REFERENCES orders (id),
    position BIGINT NOT NULL,
    promotion_id TEXT NOT NULL,
    name TEXT NOT NULL,
    code TEXT,
    amount_minor BIGINT NOT NULL CHECK (amount_minor >= 0),
    PRIMARY KEY (order_id, position)
);
