-- Taxes and discounts on orders. Every amount is integer minor units of the order's currency.
-- An order's total is what was charged: the lines, less their discounts, plus shipping less its
-- discount, plus the tax when prices do not include it (prices_include_tax = 0, US shops).
-- Orders from before taxes have none: their columns read 0 and their total is unchanged.
ALTER TABLE orders ADD COLUMN discount_minor BIGINT NOT NULL DEFAULT 0 CHECK (discount_minor >= 0);
ALTER TABLE orders ADD COLUMN shipping_discount_minor BIGINT NOT NULL DEFAULT 0 CHECK (shipping_discount_minor >= 0);
ALTER TABLE orders ADD COLUMN tax_minor BIGINT NOT NULL DEFAULT 0 CHECK (tax_minor >= 0);
ALTER TABLE orders ADD COLUMN shipping_tax_minor BIGINT NOT NULL DEFAULT 0 CHECK (shipping_tax_minor >= 0);
-- 1: prices (and so the lines) hold their tax, as EU shops show them (SQLite has no BOOLEAN).
ALTER TABLE orders ADD COLUMN prices_include_tax BIGINT NOT NULL DEFAULT 0;

-- A line's share of the order's discounts and its tax at its rate (none: untaxed).
ALTER TABLE order_lines ADD COLUMN discount_minor BIGINT NOT NULL DEFAULT 0 CHECK (discount_minor >= 0);
ALTER TABLE order_lines ADD COLUMN tax_minor BIGINT NOT NULL DEFAULT 0 CHECK (tax_minor >= 0);
ALTER TABLE order_lines ADD COLUMN tax_rate_ppm BIGINT;
ALTER TABLE order_lines ADD COLUMN tax_name TEXT;

-- The order's tax per rate (goods and shipping together), as its receipt shows them.
CREATE TABLE order_tax_lines (
    order_id TEXT NOT NULL REFERENCES orders (id),
    position BIGINT NOT NULL,
    name TEXT NOT NULL,
    rate_ppm BIGINT NOT NULL CHECK (rate_ppm >= 0 AND rate_ppm <= 1000000),
    tax_minor BIGINT NOT NULL CHECK (tax_minor >= 0),
    -- What the rate was charged on, without tax.
    net_minor BIGINT NOT NULL CHECK (net_minor >= 0),
    PRIMARY KEY (order_id, position)
);

-- The shop's tax settings: one row. Without it, the configuration's defaults apply.
CREATE TABLE tax_settings (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    -- 'tax' (prices hold their tax) or 'no_tax' (tax comes on top).
    prices_include TEXT NOT NULL,
    -- 'per_line' or 'per_total'.
    rounding TEXT NOT NULL,
    -- The class shipping is taxed as (commerce::tax::TaxClass).
    shipping_class TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Tax rates set by admins, by country, region ('' for the whole country) and class. They add to
-- (and for the same place and class replace) the rates from configuration.
CREATE TABLE tax_rates (
    country_code TEXT NOT NULL,
    region TEXT NOT NULL,
    class TEXT NOT NULL,
    rate_ppm BIGINT NOT NULL CHECK (rate_ppm >= 0 AND rate_ppm <= 1000000),
    name TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (country_code, region, class)
);
