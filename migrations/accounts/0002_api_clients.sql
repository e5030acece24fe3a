-- API clients: internal services and partners authenticate with the OAuth2 client_credentials
-- grant. Secrets are 256 random bits, stored as SHA-256 hashes.
CREATE TABLE api_clients (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    secret_hash TEXT NOT NULL,
    scopes TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
