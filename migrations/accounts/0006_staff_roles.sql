-- Staff roles replace the single `admin` role: each role grants permissions (their scopes,
-- sorted, space-separated), and a staff member holds any number of roles.
CREATE TABLE staff_roles (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    permissions TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE staff_members (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role_id TEXT NOT NULL REFERENCES staff_roles (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, role_id)
);
CREATE INDEX staff_members_by_role ON staff_members (role_id);

-- Existing admins keep every permission: the Administrator role holds them all.
INSERT INTO staff_roles (id, name, permissions, created_at, updated_at)
VALUES (
    'srole_administrator',
    'Administrator',
    'catalog:write inventory:read inventory:write orders:read orders:write orders:refund promotions:write reviews:moderate customers:read customers:write staff:manage api-clients:manage settings:write',
    0,
    0
);
INSERT INTO staff_members (user_id, role_id)
SELECT id, 'srole_administrator' FROM users WHERE (' ' || roles || ' ') LIKE '% admin %';
UPDATE users SET roles = 'customer' WHERE (' ' || roles || ' ') LIKE '% admin %';
