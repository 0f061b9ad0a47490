-- +goose Up
-- The ingest role: a key that may only send events, batches and webhook
-- entries. The constraint has PostgreSQL's default name for the column CHECK.
ALTER TABLE api_keys DROP CONSTRAINT api_keys_role_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_role_check CHECK (role IN ('viewer', 'editor', 'admin', 'ingest'));

-- +goose Down
-- Ingest keys cannot be kept under the old constraint: they are deleted.
DELETE FROM api_keys WHERE role = 'ingest';
ALTER TABLE api_keys DROP CONSTRAINT api_keys_role_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_role_check CHECK (role IN ('viewer', 'editor', 'admin'));
