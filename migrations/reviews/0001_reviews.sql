-- Portable SQL: the same file runs on PostgreSQL and SQLite. Times are milliseconds.

-- Who received what, from shipping's `shipment.updated` (delivered): the right to review.
CREATE TABLE deliveries (
    customer_id TEXT NOT NULL,
    product_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    delivered_at BIGINT NOT NULL,
    PRIMARY KEY (customer_id, product_id, order_id)
);

CREATE TABLE reviews (
    id TEXT PRIMARY KEY,
    product_id TEXT NOT NULL,
    author_id TEXT NOT NULL,
    rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    -- pending, published or rejected; why it waits (long, links, reported) while pending.
    status TEXT NOT NULL,
    hold_reason TEXT,
    -- 1 when the author had received the product when writing (SQLite has no BOOLEAN).
    verified INTEGER NOT NULL CHECK (verified IN (0, 1)),
    helpful_count BIGINT NOT NULL DEFAULT 0,
    report_count BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    -- One review per customer and product (edits change it).
    UNIQUE (product_id, author_id)
);
CREATE INDEX reviews_by_product ON reviews (product_id, status, created_at);
CREATE INDEX reviews_by_author ON reviews (author_id, created_at);
CREATE INDEX reviews_by_status ON reviews (status, created_at);

-- One helpful vote and one report per reader and review.
CREATE TABLE review_votes (
    review_id TEXT NOT NULL REFERENCES reviews (id),
    user_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (review_id, user_id)
);
CREATE TABLE review_reports (
    review_id TEXT NOT NULL REFERENCES reviews (id),
    user_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (review_id, user_id)
);

-- Each product's published ratings, changed with every review change in its transaction.
CREATE TABLE rating_summaries (
    product_id TEXT PRIMARY KEY,
    stars_1 BIGINT NOT NULL DEFAULT 0,
    stars_2 BIGINT NOT NULL DEFAULT 0,
    stars_3 BIGINT NOT NULL DEFAULT 0,
    stars_4 BIGINT NOT NULL DEFAULT 0,
    stars_5 BIGINT NOT NULL DEFAULT 0
);
