-- Portable SQL: the same file runs on PostgreSQL and SQLite. Timestamps are Unix milliseconds;
-- IDs are prefixed ULIDs, so ordering by id is ordering by creation.
CREATE TABLE brands (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE categories (
    id TEXT PRIMARY KEY,
    parent_id TEXT REFERENCES categories (id),
    name TEXT NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE products (
    id TEXT PRIMARY KEY,
    sku TEXT NOT NULL UNIQUE,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    brand_id TEXT REFERENCES brands (id),
    category_id TEXT NOT NULL REFERENCES categories (id),
    price_minor BIGINT NOT NULL CHECK (price_minor >= 0),
    currency TEXT NOT NULL,
    -- JSON arrays: [{"name": ..., "value": ...}] and [{"url": ..., "alt": ...}]
    attributes TEXT NOT NULL,
    media TEXT NOT NULL,
    status TEXT NOT NULL,
    weight_grams BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX products_by_status_id ON products (status, id);
CREATE INDEX products_by_status_price ON products (status, price_minor, id);
CREATE INDEX products_by_category ON products (category_id);
CREATE INDEX products_by_brand ON products (brand_id);

-- Facts written in the same transaction as the change they describe. The search indexer
-- follows rows whose indexed_at is NULL.
CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    topic TEXT NOT NULL,
    aggregate_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    indexed_at BIGINT
);
CREATE INDEX outbox_pending ON outbox (indexed_at, id);
