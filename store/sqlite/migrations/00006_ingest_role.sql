-- +goose Up
-- The ingest role: a key that may only send events, batches and webhook
-- entries. SQLite cannot change a CHECK constraint, so the table is rebuilt.
-- No table references api_keys, so dropping it breaks no foreign key.
CREATE TABLE api_keys_new (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    role       TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'admin', 'ingest')),
    prefix     TEXT NOT NULL,
    hash       TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
) STRICT;
INSERT INTO api_keys_new (id, tenant_id, name, role, prefix, hash, created_at, revoked_at)
SELECT id, tenant_id, name, role, prefix, hash, created_at, revoked_at FROM api_keys;
DROP TABLE api_keys;
ALTER TABLE api_keys_new RENAME TO api_keys;
CREATE INDEX api_keys_tenant ON api_keys (tenant_id, id);

-- +goose Down
-- Ingest keys cannot be kept under the old constraint: they are deleted.
CREATE TABLE api_keys_old (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    role       TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
    prefix     TEXT NOT NULL,
    hash       TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
) STRICT;
INSERT INTO api_keys_old (id, tenant_id, name, role, prefix, hash, created_at, revoked_at)
SELECT id, tenant_id, name, role, prefix, hash, created_at, revoked_at FROM api_keys WHERE role <> 'ingest';
DROP TABLE api_keys;
ALTER TABLE api_keys_old RENAME TO api_keys;
CREATE INDEX api_keys_tenant ON api_keys (tenant_id, id);
