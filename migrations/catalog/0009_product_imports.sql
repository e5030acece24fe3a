-- Imports started by admins: the file until it is applied, where the import is, and its
-- outcome. Any catalog process answers the progress query; a process that dies mid-import
-- leaves its heartbeat (updated_at) to go stale, and another one takes the import over
-- (importing is idempotent, so it starts the file again).
CREATE TABLE product_imports (
    id TEXT PRIMARY KEY,
    -- running, done, rejected (the file has errors: nothing imported) or failed
    status TEXT NOT NULL,
    format TEXT NOT NULL,
    -- The file's text; emptied once the import ends.
    file TEXT NOT NULL,
    started_by TEXT NOT NULL,
    products_total BIGINT,
    products_done BIGINT NOT NULL,
    products_created BIGINT NOT NULL,
    products_updated BIGINT NOT NULL,
    variants_created BIGINT NOT NULL,
    variants_updated BIGINT NOT NULL,
    variants_unchanged BIGINT NOT NULL,
    -- The rows and columns at fault, as JSON [{row, column, message}], the first 1,000.
    errors TEXT NOT NULL,
    error_count BIGINT NOT NULL,
    -- Why a failed import failed.
    failure TEXT,
    attempts BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    finished_at BIGINT
);
CREATE INDEX product_imports_running ON product_imports (status, updated_at);
