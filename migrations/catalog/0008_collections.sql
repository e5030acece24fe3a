-- Collections for the home page and partners' feeds: hand-picked products or a rule (a saved
-- search), as JSON: {"products": [ids]} or {"filter": {categoryId?, brandIds?, minPriceMinor?,
-- maxPriceMinor?, attributeValues?, optionValues?}}.
CREATE TABLE collections (
    id TEXT PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    rule TEXT NOT NULL,
    -- manual, newest, price_asc or price_desc
    sort TEXT NOT NULL,
    -- 1 when shown on the storefront and to partners (SQLite has no BOOLEAN).
    published INTEGER NOT NULL CHECK (published IN (0, 1)),
    position BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
