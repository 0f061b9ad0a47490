-- +goose Up
-- Tenants' provider accounts: the driver (type), the channel served, the
-- config without its credentials, and the credentials as one sealed value
-- (the JSON of the secret fields, sealed by the store's keyring: see
-- store/secrets.go). At most one default account per tenant and channel.
CREATE TABLE provider_accounts (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    type        TEXT NOT NULL,
    channel     TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'whatsapp', 'push')),
    config      TEXT NOT NULL CHECK (json_valid(config)),
    secrets     TEXT NOT NULL,
    secrets_set TEXT NOT NULL CHECK (json_valid(secrets_set)),
    is_default  INTEGER NOT NULL CHECK (is_default IN (0, 1)),
    revision    INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (tenant_id, name)
) STRICT;
CREATE INDEX provider_accounts_tenant ON provider_accounts (tenant_id, id);
CREATE UNIQUE INDEX provider_accounts_default ON provider_accounts (tenant_id, channel) WHERE is_default = 1;

-- +goose Down
DROP TABLE provider_accounts;
