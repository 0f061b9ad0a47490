-- +goose Up
-- Per-tenant rate limits and quotas. A row holds the operator's overrides;
-- a NULL column follows the server's default (KALCIFER_RATE_LIMIT_*,
-- KALCIFER_QUOTA_*), 0 is unlimited.
CREATE TABLE tenant_limits (
    tenant_id         TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    events_per_second BIGINT,
    api_per_minute    BIGINT,
    active_instances  BIGINT,
    journeys          BIGINT,
    uploads_per_day   BIGINT,
    updated_at        BIGINT NOT NULL
);

-- Daily counts per tenant: uploads (the uploads-per-day quota) and entries
-- the active-instance quota refused. day is days since 1970-01-01, UTC.
CREATE TABLE tenant_usage (
    tenant_id       TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    day             BIGINT NOT NULL,
    uploads         BIGINT NOT NULL DEFAULT 0,
    skipped_entries BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, day)
);

-- The active-instance quota counts a tenant's instances that have not ended.
CREATE INDEX instances_tenant_status ON instances (tenant_id, status);

-- +goose Down
DROP INDEX instances_tenant_status;
DROP TABLE tenant_usage;
DROP TABLE tenant_limits;
