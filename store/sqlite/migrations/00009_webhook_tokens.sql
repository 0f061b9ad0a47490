-- +goose Up
-- Per-journey webhook tokens: each lets an outside system enrol customers
-- through one journey's webhook_entry. Only the secret's SHA-256 is kept.
-- A token goes with its journey.
CREATE TABLE webhook_tokens (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    journey_id TEXT NOT NULL REFERENCES journeys (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    prefix     TEXT NOT NULL,
    hash       TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
) STRICT;
CREATE INDEX webhook_tokens_journey ON webhook_tokens (tenant_id, journey_id, id);

-- +goose Down
DROP TABLE webhook_tokens;
